"""Recovering jobs whose worker died: a RUNNING job with a stale heartbeat goes back to the queue.

A worker killed mid-job (OOM, SIGKILL, a lost machine) leaves its job RUNNING. A killed prefork
child's message comes back at once and takes the job over (`lifecycle._job_start`), but a whole
worker lost leaves its message unacknowledged, and the broker re-delivers it only after its
visibility timeout, which is longer than the longest task. The job sweep (`jobs_sweep`, every
30 s) calls `jobs_recover_stale`, which finds RUNNING jobs of every tenant not heard from within
RECSYS_JOB_STALE_S and re-queues each: status QUEUED and a new message on the job's queue, owed
in the outbox (`dispatch`) and sent on commit. `attempts` keeps counting, so a job that kills
its worker every time is failed once it has had MAX_ATTEMPTS. What the dead attempt committed
stays (encoding and imports write in committed chunks), and the next attempt does the rest;
what it left half-done is its kind's to clean up (`job_attempt_abandoned`).

Re-queueing cannot make a job run twice at once: the worker that takes the message checks the
row again under its lock (`jobs._job_start`), and a late re-delivery of the original message
finds the job QUEUED-and-taken, running with a fresh heartbeat, or finished, and is dropped.
"""

import logging
from dataclasses import dataclass, field
from uuid import UUID

from django.db import transaction

from recommender.models import Job
from recommender.services.jobs.dispatch import job_dispatch_on_commit, jobs_dispatch_owed
from recommender.services.jobs.lifecycle import (
    MAX_ATTEMPTS,
    job_attempt_abandoned,
    job_give_up,
    jobs_running_stale,
)

logger = logging.getLogger(__name__)


@dataclass
class Recovery:
    """What one recovery pass did: ids of the jobs re-queued, of those failed, and (in a whole
    sweep) of those whose owed message was sent."""

    requeued: list[UUID] = field(default_factory=list)
    failed: list[UUID] = field(default_factory=list)
    dispatched: list[UUID] = field(default_factory=list)


def jobs_sweep() -> Recovery:
    """The periodic job sweep: re-queue jobs whose worker died, then send every owed message
    (those re-queued just now were sent on commit already)."""
    recovery = jobs_recover_stale()
    recovery.dispatched = [job.pk for job in jobs_dispatch_owed()]
    return recovery


def jobs_recover_stale(*, stale_after_s: float | None = None) -> Recovery:
    """Re-queue every RUNNING job, of any tenant, whose heartbeat is older than the threshold
    (RECSYS_JOB_STALE_S unless given); fail those that have had MAX_ATTEMPTS."""
    recovery = Recovery()
    for pk in list(jobs_running_stale(stale_after_s).values_list("pk", flat=True)):
        outcome = _recover(pk, stale_after_s)
        if outcome == Job.Status.QUEUED:
            recovery.requeued.append(pk)
        elif outcome == Job.Status.FAILED:
            recovery.failed.append(pk)
    return recovery


@transaction.atomic
def _recover(pk: UUID, stale_after_s: float | None) -> str | None:
    # Locked and checked again: between the scan and here the job may have beaten, finished, or
    # been taken by another sweep. A row locked right now is being changed by its runner (or
    # another sweep) and is skipped; the next sweep sees how that ended.
    job = (
        jobs_running_stale(stale_after_s)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("tenant")
        .filter(pk=pk)
        .first()
    )
    if job is None:
        return None
    if job.attempts >= MAX_ATTEMPTS:
        logger.warning("job %s (%s): worker lost on attempt %s; failed", pk, job.kind, job.attempts)
        job_give_up(job)
        return Job.Status.FAILED
    logger.warning("job %s (%s): worker lost on attempt %s; re-queued", pk, job.kind, job.attempts)
    job_attempt_abandoned(job, "its worker stopped")
    job.status = Job.Status.QUEUED
    job.save(update_fields=["status"])
    job_dispatch_on_commit(job)
    return Job.Status.QUEUED
