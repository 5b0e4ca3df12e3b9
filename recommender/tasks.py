"""Celery tasks, thin: load ids, call one service. Retry and ack policy sit on the decorators."""

from celery import shared_task

from recommender.models import Job
from recommender.services.encoding import encode as encoding
from recommender.services.encoding.queue import encoding_sweep
from recommender.services.ingest import file_imports as imports
from recommender.services.jobs.lifecycle import DEFAULT_QUEUE, RUN_JOB_TASK, JobService, job_run
from recommender.services.training import train as training
from recommender.services.training.queue import training_sweep

# The service each job kind runs. A new kind adds its line here, and its queue to
# `recommender.services.jobs.lifecycle.JOB_QUEUES` when it needs a GPU worker ("gpu").
JOB_SERVICES: dict[str, JobService] = {
    Job.Kind.IMPORT_ITEMS: imports.import_job_run,
    Job.Kind.IMPORT_USERS: imports.import_job_run,
    Job.Kind.IMPORT_INTERACTIONS: imports.import_job_run,
    Job.Kind.ENCODE: encoding.encode_job_run,
    Job.Kind.TRAIN: training.train_job_run,
}


@shared_task(name=RUN_JOB_TASK, queue=DEFAULT_QUEUE, acks_late=True, reject_on_worker_lost=True)
def run_job(tenant_id: int, job_id: str) -> None:
    """Run one Job. A re-delivered task finds the job finished and does nothing."""
    job_run(tenant_id=tenant_id, job_id=job_id, services=JOB_SERVICES)


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
