"""A request's independent reads run side by side, each thread on its own database connection.

A recommendation asks several candidate sources (two nearest-neighbour index scans, neighbour
lists, rankings); each waits on PostgreSQL, not on Python, so running them on a few threads
brings the request's latency towards its slowest source instead of their sum
(benchmarks/serving_latency.py).

Threads hold their own connections (Django keeps one per thread), which cannot see a
transaction the caller has open: inside an atomic block (tests, an admin action) the reads run
one after another on the caller's connection instead.
"""

import contextvars
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import close_old_connections, connection

from recsys_platform.env import env_int

logger = logging.getLogger(__name__)

# Threads per process besides the request's own; 0 turns side-by-side reads off.
THREADS = env_int("RECSYS_SERVING_THREADS", 3)

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor, _executor_pid
    with _lock:
        # A pool inherited through fork (gunicorn --preload) has no threads in the child.
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="recsys-read")
            _executor_pid = os.getpid()
        return _executor


def _run_in_thread(context: contextvars.Context, task: Callable[[], None]) -> None:
    # What a request's start does for the request thread: drop a connection that is too old
    # or broken, so a restarted database costs one failed read at most.
    close_old_connections()
    context.run(task)


def can_run_side_by_side() -> bool:
    return THREADS > 0 and not connection.in_atomic_block


def run_side_by_side(tasks: Sequence[Callable[[], None]]) -> None:
    """Run the tasks, concurrently where possible; the first error is raised after all end."""
    if len(tasks) < 2 or not can_run_side_by_side():
        for task in tasks:
            task()
        return
    pool = _pool()
    # Each task sees the caller's context variables (the tenant scope among them).
    futures: list[Future[None]] = [
        pool.submit(_run_in_thread, contextvars.copy_context(), task) for task in tasks[1:]
    ]
    error: BaseException | None = None
    try:
        tasks[0]()
    except BaseException as caught:  # re-raised once the other tasks end
        error = caught
    for future in futures:
        failure = future.exception()
        if failure is not None and error is None:
            error = failure
    if error is not None:
        raise error


def run_after(task: Callable[[], None]) -> None:
    """Run a write the response need not wait for (the served-list log) on a pool thread; inside
    an atomic block, now on the caller's connection. A failure is logged, not raised: the
    response it belongs to has been built already."""
    if not can_run_side_by_side():
        task()
        return
    future = _pool().submit(_run_in_thread, contextvars.copy_context(), task)
    future.add_done_callback(_log_failure)


def _log_failure(future: Future[None]) -> None:
    failure = future.exception()
    if failure is not None:
        logger.error("A write after the response failed", exc_info=failure)


def shutdown() -> None:
    """Close every pool thread's database connection and stop the threads (the test suite
    calls this before it drops its database)."""
    global _executor
    with _lock:
        pool, _executor = _executor, None
    if pool is None:
        return
    # One task per thread: each waits at the barrier until all threads hold one, so every
    # thread closes its own connection (a connection may only be closed by its thread).
    barrier = threading.Barrier(THREADS)

    def close_own_connection() -> None:
        barrier.wait(timeout=30)
        connection.close()

    futures = [pool.submit(close_own_connection) for _ in range(THREADS)]
    for future in futures:
        future.result()
    pool.shutdown(wait=True)
