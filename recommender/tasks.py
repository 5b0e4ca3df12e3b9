"""Celery tasks, thin: load ids, call one service. Retry and ack policy sit on the decorators."""

from celery import shared_task

from recommender.services.encoding.queue import encoding_sweep
from recommender.services.jobs.kinds import DEFAULT_QUEUE
from recommender.services.jobs.lifecycle import RUN_JOB_TASK, job_run
from recommender.services.jobs.recovery import jobs_sweep
from recommender.services.privacy.retention import served_lists_purge
from recommender.services.training.queue import training_sweep


@shared_task(name=RUN_JOB_TASK, queue=DEFAULT_QUEUE, acks_late=True, reject_on_worker_lost=True)
def run_job(tenant_id: int, job_id: str) -> None:
    """Run one Job (its kind's service comes from `recommender.services.jobs.kinds`). A
    re-delivered task finds the job finished and does nothing."""
    job_run(tenant_id=tenant_id, job_id=job_id)


SWEEP_JOBS_TASK = "recommender.tasks.sweep_jobs"


@shared_task(name=SWEEP_JOBS_TASK, queue=DEFAULT_QUEUE, acks_late=True)
def sweep_jobs() -> dict[str, list[str]]:
    """Periodic (django-celery-beat, every 30 s): send job messages the broker never got, and
    re-queue jobs whose worker died."""
    swept = jobs_sweep()
    return {
        "requeued": [str(pk) for pk in swept.requeued],
        "failed": [str(pk) for pk in swept.failed],
        "dispatched": [str(pk) for pk in swept.dispatched],
    }


SWEEP_ENCODING_TASK = "recommender.tasks.sweep_encoding"


@shared_task(name=SWEEP_ENCODING_TASK, queue=DEFAULT_QUEUE, acks_late=True)
def sweep_encoding() -> list[int]:
    """Periodic (django-celery-beat): queue encoding wherever items still lack vectors."""
    return encoding_sweep()


SWEEP_TRAINING_TASK = "recommender.tasks.sweep_training"


@shared_task(name=SWEEP_TRAINING_TASK, queue=DEFAULT_QUEUE, acks_late=True)
def sweep_training() -> list[int]:
    """Periodic (django-celery-beat, hourly): queue retraining where the tenant's schedule says."""
    return training_sweep()


PURGE_SERVED_LISTS_TASK = "recommender.tasks.purge_served_lists"


@shared_task(name=PURGE_SERVED_LISTS_TASK, queue=DEFAULT_QUEUE, acks_late=True)
def purge_served_lists() -> dict[str, int]:
    """Periodic (django-celery-beat, daily): delete served lists past their tenant's retention."""
    return served_lists_purge()
