"""The lifecycle of a Job: create and enqueue it, run it in a worker, record progress and outcome.

`job_run` is the one wrapper every job kind runs in: it marks the job running, hands the kind's
service a `report(progress, counts)` callback, and records success or failure with the error.
The kind → service registry lives with the Celery task (`recommender.tasks.JOB_SERVICES`); the
queue each kind goes to is here, because enqueueing happens here.
"""

import logging
import math
import time
import uuid
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, Protocol

from celery.exceptions import SoftTimeLimitExceeded
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from recommender.models import Job
from recsys_platform.celery import app as celery_app
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant
from tenants.scoping import tenant_scope

logger = logging.getLogger(__name__)

RUN_JOB_TASK = "recommender.tasks.run_job"
DEFAULT_QUEUE = "default"
# Kinds that need a GPU worker (encode, train) map to "gpu"; the rest go to DEFAULT_QUEUE.
JOB_QUEUES: dict[str, str] = {Job.Kind.ENCODE: "gpu"}
# A job whose worker died this many times is failed rather than re-run forever (a poison job).
MAX_ATTEMPTS = 3
# Progress writes are throttled: an import reports per chunk, and a row update per chunk would
# cost more than it tells an operator watching a bar that refreshes every two seconds.
PROGRESS_WRITE_INTERVAL_S = 0.5

ACTIVE_STATUSES = frozenset({Job.Status.QUEUED, Job.Status.RUNNING})
FINISHED_STATUSES = frozenset({Job.Status.SUCCEEDED, Job.Status.FAILED})


class ProgressReport(Protocol):
    """What a job's service calls as it goes: progress in [0, 1] and the counts so far."""

    def __call__(self, progress: float, counts: Mapping[str, Any]) -> None: ...


class JobService(Protocol):
    """The service a job kind runs: does the work, reports progress, returns the final counts."""

    def __call__(self, *, job: Job, report: ProgressReport) -> Mapping[str, Any]: ...


def job_queue(kind: str) -> str:
    return JOB_QUEUES.get(kind, DEFAULT_QUEUE)


def job_create(
    *,
    tenant: Tenant,
    kind: str,
    params: Mapping[str, Any] | None = None,
    input_file: File | None = None,
    countdown: float = 0,
) -> Job:
    """Create a queued Job (storing `input_file` under MEDIA_ROOT) and enqueue it on commit."""
    if kind not in Job.Kind.values:
        raise ApplicationError(
            "invalid_kind", f"Unknown job kind {kind!r}; known: {', '.join(Job.Kind.values)}."
        )
    with transaction.atomic():
        job = Job(tenant=tenant, kind=kind, params=dict(params or {}))
        if input_file is not None:
            name = PurePath(input_file.name or "upload").name
            job.input_file.save(name, input_file, save=False)
        job.save()
        # On commit: a worker that picks the task up before the row is visible would find no job.
        transaction.on_commit(lambda: _enqueue(job, countdown))
    return job


def _enqueue(job: Job, countdown: float = 0) -> None:
    # By name, not by importing the task: services sit below tasks in the layers.
    celery_app.send_task(
        RUN_JOB_TASK,
        args=[job.tenant_id, str(job.pk)],
        queue=job_queue(job.kind),
        countdown=countdown or None,
    )


class _JobProgress:
    """The `report` callback of a running job: writes progress and counts, throttled."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.progress = 0.0
        self.counts: dict[str, Any] = {}
        self._last_write = -math.inf

    def __call__(self, progress: float, counts: Mapping[str, Any]) -> None:
        self.progress = max(self.progress, min(float(progress), 1.0))
        self.counts = dict(counts)
        now = time.monotonic()
        if self.progress < 1.0 and now - self._last_write < PROGRESS_WRITE_INTERVAL_S:
            return
        self._last_write = now
        Job.objects.for_tenant(self.job.tenant).filter(pk=self.job.pk).update(
            progress=self.progress, counts=self.counts
        )


def _job_start(tenant: Tenant, job_id: str) -> Job | None:
    """Mark the job running and return it; None when it is missing or already finished."""
    try:
        pk = uuid.UUID(str(job_id))
    except ValueError:
        return None
    with transaction.atomic():
        job = Job.objects.for_tenant(tenant).select_for_update().filter(pk=pk).first()
        if job is None or job.status in FINISHED_STATUSES:
            return None
        if job.attempts >= MAX_ATTEMPTS:
            _job_finish(
                job,
                status=Job.Status.FAILED,
                error=f"Gave up after {job.attempts} attempts: the worker stopped each time.",
            )
            return None
        job.status = Job.Status.RUNNING
        job.started_at = timezone.now()
        job.attempts += 1
        job.save(update_fields=["status", "started_at", "attempts"])
    return job


def _job_finish(
    job: Job,
    *,
    status: str,
    counts: Mapping[str, Any] | None = None,
    error: str = "",
    error_details: list[dict[str, Any]] | None = None,
) -> None:
    job.status = status
    if status == Job.Status.SUCCEEDED:
        job.progress = 1.0
    if counts is not None:
        job.counts = dict(counts)
    job.error = error
    job.error_details = error_details or []
    job.finished_at = timezone.now()
    job.save(
        update_fields=["status", "progress", "counts", "error", "error_details", "finished_at"]
    )


def job_run(*, tenant_id: int, job_id: str, services: Mapping[str, JobService]) -> Job | None:
    """Run one job to success or failure; re-delivery safe (a finished job is not run again).

    Returns the job as it ended, or None when there was nothing to run.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning("job %s: tenant %s no longer exists", job_id, tenant_id)
        return None
    with tenant_scope(tenant):
        job = _job_start(tenant, job_id)
        if job is None:
            logger.info("job %s: missing or already finished, not run", job_id)
            return None
        report = _JobProgress(job)
        try:
            service = services.get(job.kind)
            if service is None:
                raise ApplicationError(
                    "unknown_kind", f"No service runs jobs of kind {job.kind!r}."
                )
            counts = service(job=job, report=report)
        except ApplicationError as exc:
            job.progress = report.progress
            _job_finish(
                job,
                status=Job.Status.FAILED,
                counts=report.counts,
                error=exc.message,
                error_details=exc.details,
            )
        except SoftTimeLimitExceeded:
            job.progress = report.progress
            _job_finish(
                job,
                status=Job.Status.FAILED,
                counts=report.counts,
                error="The job ran past its time limit.",
            )
        except Exception as exc:
            # The message may carry internals (SQL, paths); the tenant's API shows the job's error,
            # so it gets the type only and the worker log gets the traceback.
            logger.exception("job %s (%s) failed", job.pk, job.kind)
            job.progress = report.progress
            _job_finish(
                job,
                status=Job.Status.FAILED,
                counts=report.counts,
                error=f"Unexpected {type(exc).__name__}; the worker log has the details.",
            )
        else:
            _job_finish(job, status=Job.Status.SUCCEEDED, counts=counts)
    return job
