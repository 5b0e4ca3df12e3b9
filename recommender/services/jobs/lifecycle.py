"""The lifecycle of a Job: create and enqueue it, run it in a worker, record progress and outcome.

`job_run` is the one wrapper every job kind runs in: it marks the job running, hands the kind's
service a `report(progress, counts)` callback, beats the job's heartbeat while it runs, and
records success or failure with the error. Each kind's service and queue come from the registry
in `recommender.services.jobs.kinds`. A RUNNING job whose heartbeat stops is re-queued by
`services.jobs.recovery`.
"""

import logging
import math
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from pathlib import PurePath
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, Q, QuerySet
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from recommender.models import Job
from recommender.services.jobs.kinds import DEFAULT_QUEUE, JOB_KINDS, JobService, job_kind
from recommender.services.jobs.kinds import ProgressReport as ProgressReport  # for job services
from recsys_platform.celery import app as celery_app
from recsys_platform.errors import ApplicationError, ServiceUnavailableError
from tenants.models import Tenant
from tenants.scoping import tenant_scope

logger = logging.getLogger(__name__)

RUN_JOB_TASK = "recommender.tasks.run_job"
# A job whose worker died this many times is failed rather than re-run forever (a poison job).
MAX_ATTEMPTS = 3
# Progress writes are throttled: an import reports per chunk, and a row update per chunk would
# cost more than it tells an operator watching a bar that refreshes every two seconds.
PROGRESS_WRITE_INTERVAL_S = 0.5
# Longest gap between two heartbeats of a running job (shorter when RECSYS_JOB_STALE_S is small):
# a beat is a one-row update, and a few of them must fit in the stale threshold.
HEARTBEAT_INTERVAL_S = 5.0

ACTIVE_STATUSES = frozenset({Job.Status.QUEUED, Job.Status.RUNNING})
FINISHED_STATUSES = frozenset({Job.Status.SUCCEEDED, Job.Status.FAILED})


def job_queue(kind: str) -> str:
    registered = job_kind(kind)
    return DEFAULT_QUEUE if registered is None else registered.queue


def job_create(
    *,
    tenant: Tenant,
    kind: str,
    params: Mapping[str, Any] | None = None,
    input_file: File | None = None,
    countdown: float = 0,
) -> Job:
    """Create a queued Job (storing `input_file` under MEDIA_ROOT) and enqueue it on commit."""
    if kind not in JOB_KINDS:
        raise ApplicationError(
            "invalid_kind", f"Unknown job kind {kind!r}; known: {', '.join(JOB_KINDS)}."
        )
    with transaction.atomic():
        job = Job(tenant=tenant, kind=kind, params=dict(params or {}))
        if input_file is not None:
            name = PurePath(input_file.name or "upload").name
            job.input_file.save(name, input_file, save=False)
        job.save()
        # On commit: a worker that picks the task up before the row is visible would find no job.
        job_enqueue(job, countdown)
    return job


def job_enqueue(job: Job, countdown: float = 0) -> None:
    """Send the job's message once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _enqueue(job, countdown))


def _enqueue(job: Job, countdown: float = 0) -> None:
    # By name, not by importing the task: services sit below tasks in the layers.
    try:
        celery_app.send_task(
            RUN_JOB_TASK,
            args=[job.tenant_id, str(job.pk)],
            queue=job_queue(job.kind),
            countdown=countdown or None,
        )
    except KombuOperationalError as exc:
        # A queued job with no message would wait forever (and, for encoding, stop every later
        # batch from queueing one): fail it now, so a retry of the request queues a new one.
        Job.objects.for_tenant(job.tenant).filter(pk=job.pk, status=Job.Status.QUEUED).update(
            status=Job.Status.FAILED,
            error=f"the task broker is unavailable: {exc}"[:500],
            finished_at=timezone.now(),
        )
        raise ServiceUnavailableError("The task queue is unavailable; retry shortly.") from exc


class JobSupersededError(Exception):
    """This runner no longer owns its job: it was re-queued or taken over after its heartbeat
    went stale. The runner stops and writes nothing more; the job's new owner finishes it."""


def _owned(job: Job) -> QuerySet[Job]:
    """The job's row while this runner owns it: RUNNING under the attempt it started.

    `attempts` is the fencing token: a takeover starts a new attempt, and a re-queue leaves the
    job QUEUED, so a runner that lost its job (paused past the stale threshold, cut off from the
    database) matches no row and its writes change nothing.
    """
    return Job.objects.for_tenant(job.tenant).filter(
        pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts
    )


def _stale_threshold(stale_after_s: float | None = None) -> timedelta:
    """How long a running job may go without a heartbeat: RECSYS_JOB_STALE_S unless given."""
    seconds = settings.RECSYS_JOB_STALE_S if stale_after_s is None else stale_after_s
    return timedelta(seconds=seconds)


def jobs_running_stale(stale_after_s: float | None = None) -> QuerySet[Job]:
    """RUNNING jobs, of every tenant, not heard from within the stale threshold.

    Heartbeats are written with the database's clock and compared with it here, so the clocks of
    worker and sweep machines never enter. A job started before heartbeats existed is judged by
    its start time; a running job with neither (none in practice) counts as stale.
    """
    cutoff = ExpressionWrapper(
        Now() - _stale_threshold(stale_after_s), output_field=DateTimeField()
    )
    return (
        Job.objects.unscoped()
        .filter(status=Job.Status.RUNNING)
        .annotate(last_seen=Coalesce("heartbeat_at", "started_at"))
        .filter(Q(last_seen__isnull=True) | Q(last_seen__lt=cutoff))
    )


class _JobProgress:
    """The `report` callback of a running job: writes progress and counts, throttled.

    Each write beats the heartbeat too; a write that finds the job no longer owned raises
    JobSupersededError, which stops the service at its next report.
    """

    def __init__(self, job: Job, heartbeat: "_Heartbeat | None" = None) -> None:
        self.job = job
        self.heartbeat = heartbeat
        self.progress = 0.0
        self.counts: dict[str, Any] = {}
        self._last_write = -math.inf

    def __call__(self, progress: float, counts: Mapping[str, Any]) -> None:
        if self.heartbeat is not None and self.heartbeat.lost.is_set():
            raise JobSupersededError
        self.progress = max(self.progress, min(float(progress), 1.0))
        self.counts = dict(counts)
        now = time.monotonic()
        if self.progress < 1.0 and now - self._last_write < PROGRESS_WRITE_INTERVAL_S:
            return
        self._last_write = now
        written = _owned(self.job).update(
            progress=self.progress, counts=self.counts, heartbeat_at=Now()
        )
        if not written:
            raise JobSupersededError


class _Heartbeat:
    """Beats a running job's heartbeat from a daemon thread, between the service's reports.

    Reports alone are not enough: a chunk can take longer than the stale threshold on a slow
    device, and some steps report nothing (user texts, building an index). The thread dies with
    its process, which is the point: a killed worker's job goes stale. When a beat finds the job
    no longer owned, `lost` is set and the next report raises JobSupersededError.

    Runs only outside a transaction (a worker's case): inside one, the job's row may be
    uncommitted and invisible to the thread's own connection. Then reports carry the heartbeat.
    """

    def __init__(self, job: Job) -> None:
        self.job = job
        self.lost = threading.Event()
        self._stop = threading.Event()
        stale_s = _stale_threshold().total_seconds()
        self.interval_s = max(0.2, min(HEARTBEAT_INTERVAL_S, stale_s / 4))
        self._thread = threading.Thread(
            target=self._run, name=f"job-heartbeat-{job.pk}", daemon=True
        )

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        # A beat blocked on the row (the service holding it in a transaction) ends with it.
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval_s):
                if not _owned(self.job).update(heartbeat_at=Now()):
                    self.lost.set()
                    return
        except Exception:
            # No more beats: the job goes stale and is re-queued, which is the safe side.
            logger.exception("job %s: heartbeat failed", self.job.pk)
        finally:
            connection.close()  # this thread's own connection


def _job_start(tenant: Tenant, job_id: str) -> Job | None:
    """Take the job and mark it running; None when there is nothing for this runner to do.

    This is where double execution is ruled out. The job's row is locked, then:
    - missing, or SUCCEEDED/FAILED: nothing to do (a re-delivered message of a finished job);
    - RUNNING with a fresh heartbeat: a live worker owns it; a duplicate message (re-delivered
      by the broker, or sent by a re-queue) is dropped here, and the job stays with its owner,
      who finishes it or dies, after which its heartbeat goes stale and the sweep re-queues it;
    - QUEUED (new, or re-queued by `job_recovery`), or RUNNING with a stale heartbeat (its worker
      is gone): taken, unless it has had MAX_ATTEMPTS already, then it is failed as a poison job.
    Taking it starts a new attempt, and the attempt number fences the runners: a previous owner
    that was only paused, not dead, finds the job no longer its own at its next heartbeat or
    report and stops without writing (`JobSupersededError`). Two runners can overlap for at most
    that moment, and encoding and imports are idempotent upserts, so even that leaves one vector
    per item. The stale threshold (RECSYS_JOB_STALE_S) must exceed the longest pause of a live
    worker, which the heartbeat thread keeps to a few seconds.
    """
    try:
        pk = uuid.UUID(str(job_id))
    except ValueError:
        return None
    with transaction.atomic():
        job = Job.objects.for_tenant(tenant).select_for_update().filter(pk=pk).first()
        if job is None or job.status in FINISHED_STATUSES:
            logger.info("job %s: missing or already finished, not run", job_id)
            return None
        live = job.status == Job.Status.RUNNING and not jobs_running_stale().filter(pk=pk).exists()
        if live:
            logger.info("job %s: running with a live heartbeat, not run twice", job_id)
            return None
        if job.attempts >= MAX_ATTEMPTS:
            job_give_up(job)
            return None
        job.status = Job.Status.RUNNING
        job.started_at = timezone.now()
        job.attempts += 1
        # The database's clock, as the sweep compares heartbeats with the database's clock.
        job.heartbeat_at = Now()
        job.save(update_fields=["status", "started_at", "attempts", "heartbeat_at"])
        job.refresh_from_db(fields=["heartbeat_at"])
    return job


def job_give_up(job: Job) -> None:
    """Fail a job whose worker was lost MAX_ATTEMPTS times; the caller holds the row's lock."""
    _job_finish(
        job,
        status=Job.Status.FAILED,
        error=f"Gave up after {job.attempts} attempts: the worker stopped each time.",
        owned=False,
    )


def _job_finish(
    job: Job,
    *,
    status: str,
    counts: Mapping[str, Any] | None = None,
    error: str = "",
    error_details: list[dict[str, Any]] | None = None,
    owned: bool = True,
) -> bool:
    """Record the outcome. `owned`: only while this runner still owns the job (see `_owned`);
    False for a caller holding the row's lock. Returns whether the row was written."""
    job.status = status
    if status == Job.Status.SUCCEEDED:
        job.progress = 1.0
    if counts is not None:
        job.counts = dict(counts)
    job.error = error
    job.error_details = error_details or []
    job.finished_at = timezone.now()
    rows = _owned(job) if owned else Job.objects.for_tenant(job.tenant).filter(pk=job.pk)
    written = rows.update(
        status=job.status,
        progress=job.progress,
        counts=job.counts,
        error=job.error,
        error_details=job.error_details,
        finished_at=job.finished_at,
    )
    if not written:
        logger.warning(
            "job %s: superseded by a later attempt; outcome %s not recorded", job.pk, status
        )
    return bool(written)


def _service(kind: str, services: Mapping[str, JobService] | None) -> JobService | None:
    if services is not None:
        return services.get(kind)
    registered = job_kind(kind)
    return None if registered is None else registered.resolve_service()


def job_run(
    *, tenant_id: int, job_id: str, services: Mapping[str, JobService] | None = None
) -> Job | None:
    """Run one job to success or failure; re-delivery safe (see `_job_start`: a finished job, or
    one a live worker is running, is not run again). The kind's service comes from the registry
    (`jobs.kinds`) unless `services` maps kinds to services instead (tests).

    Returns the job as it ended, or None when there was nothing to run.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning("job %s: tenant %s no longer exists", job_id, tenant_id)
        return None
    with tenant_scope(tenant):
        job = _job_start(tenant, job_id)
        if job is None:
            return None
        heartbeat = None if connection.in_atomic_block else _Heartbeat(job)
        report = _JobProgress(job, heartbeat)
        try:
            service = _service(job.kind, services)
            if service is None:
                raise ApplicationError(
                    "unknown_kind", f"No service runs jobs of kind {job.kind!r}."
                )
            if heartbeat is None:
                counts = service(job=job, report=report)
            else:
                with heartbeat:
                    counts = service(job=job, report=report)
        except JobSupersededError:
            logger.warning("job %s: superseded by a later attempt; this runner stops", job.pk)
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
