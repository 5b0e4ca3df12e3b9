"""Retrying a job's service after a transient database error instead of failing the job.

A deadlock, a serialization failure or a lock timeout says nothing about the job's input: the
database rolled back one transaction to let another through, and the same work succeeds when
run again. Services commit in steps that are safe to repeat (an upsert, a new model version),
so the whole service is run again, a bounded number of times with a growing, jittered pause.
"""

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg.errors
from django.db import connection

logger = logging.getLogger(__name__)

T = TypeVar("T")

TRANSIENT_ERRORS = (
    psycopg.errors.DeadlockDetected,  # 40P01
    psycopg.errors.SerializationFailure,  # 40001
    psycopg.errors.LockNotAvailable,  # 55P03: lock_timeout
)
TRANSIENT_RETRIES = 4
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 8.0


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is, or was raised from, a transient database error (Django wraps psycopg's
    errors: the original is the cause)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, TRANSIENT_ERRORS):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def backoff_s(attempt: int) -> float:
    """The pause before retry `attempt` (1, 2, ...): doubling, capped, with full jitter so that
    the two jobs that deadlocked do not collide again."""
    return random.uniform(0, min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (attempt - 1)))  # noqa: S311


def run_retrying(
    run: Callable[[], T],
    *,
    retries: int = TRANSIENT_RETRIES,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`run()`, run again up to `retries` times while it fails on a transient database error.

    Inside a transaction (a caller's, or a test's) nothing is retried: the error has aborted
    that transaction, so the next attempt could only fail on it."""
    attempt = 0
    while True:
        try:
            return run()
        except Exception as exc:
            attempt += 1
            if attempt > retries or connection.in_atomic_block or not is_transient(exc):
                raise
            pause = backoff_s(attempt)
            logger.warning(
                "transient database error (%s); retry %d of %d in %.2f s",
                type(exc).__name__,
                attempt,
                retries,
                pause,
            )
            sleep(pause)
