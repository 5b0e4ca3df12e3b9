"""Durable dispatch of job messages: an outbox in the Job row itself.

Whoever queues a job marks its message as owed (`dispatch_due_at`) in the same transaction that
saves the job, and the message is sent once that transaction commits; a send that reached the
broker clears the mark and records `dispatched_at`. A send that fails (the broker is away) is
logged and left owed: the caller's data are committed, so its request still succeeds, and the
periodic job sweep (`jobs_dispatch_owed`, every 30 s) sends every owed message whose time has
come. So does a process that died between commit and send.

A message sent twice (the sweep racing a slow send) is harmless: the worker takes a job once
(`lifecycle._job_start`), and the second message finds it taken or finished.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper
from django.db.models.functions import Now

from recommender.models import Job
from recommender.services.jobs.kinds import DEFAULT_QUEUE, job_kind
from recsys_platform.celery import app as celery_app

logger = logging.getLogger(__name__)

RUN_JOB_TASK = "recommender.tasks.run_job"


def job_queue(kind: str) -> str:
    registered = job_kind(kind)
    return DEFAULT_QUEUE if registered is None else registered.queue


def job_dispatch_on_commit(job: Job, countdown: float = 0) -> None:
    """Owe the job's message (written in the caller's transaction, or at once outside one) and
    send it when that transaction commits."""
    countdown = max(0.0, float(countdown))
    Job.objects.for_tenant(job.tenant).filter(pk=job.pk).update(
        dispatch_due_at=ExpressionWrapper(
            Now() + timedelta(seconds=countdown), output_field=DateTimeField()
        )
    )
    # A worker that took the message before the row is visible would find no job: on commit.
    transaction.on_commit(lambda: job_send(job, countdown))


def job_send(job: Job, countdown: float = 0) -> bool:
    """Send the job's message now; on success clear what it owed. Never raises for the broker:
    a failed send stays owed for the sweep. Returns whether the broker took the message."""
    try:
        # By name, not by importing the task: services sit below tasks in the layers.
        celery_app.send_task(
            RUN_JOB_TASK,
            args=[job.tenant_id, str(job.pk)],
            queue=job_queue(job.kind),
            countdown=countdown or None,
        )
    except Exception as exc:
        # Kombu and redis raise their own error types for an unreachable broker; whichever it is,
        # the job is owed and the sweep sends it, so the caller's committed work must not fail.
        logger.warning(
            "job %s: message not sent (%s: %s); the job sweep will send it",
            job.pk,
            type(exc).__name__,
            exc,
        )
        return False
    Job.objects.for_tenant(job.tenant).filter(pk=job.pk).update(
        dispatch_due_at=None, dispatched_at=Now()
    )
    return True


def jobs_owed(grace_s: float | None = None) -> list[Job]:
    """QUEUED jobs, of every tenant, whose message has been owed for longer than `grace_s`
    (RECSYS_JOB_DISPATCH_GRACE_S unless given): the grace leaves a send in flight to finish."""
    grace = settings.RECSYS_JOB_DISPATCH_GRACE_S if grace_s is None else grace_s
    cutoff = ExpressionWrapper(Now() - timedelta(seconds=grace), output_field=DateTimeField())
    return list(
        Job.objects.unscoped()
        .filter(status=Job.Status.QUEUED, dispatch_due_at__lt=cutoff)
        .select_related("tenant")
        .order_by("dispatch_due_at")
    )


def jobs_dispatch_owed(*, grace_s: float | None = None) -> list[Job]:
    """Send every owed message whose time has come; returns the jobs whose message the broker
    took (the others stay owed for the next sweep)."""
    return [job for job in jobs_owed(grace_s) if job_send(job)]
