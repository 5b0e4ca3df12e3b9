"""The tenant page's operations: train now, re-encode now."""

from recommender.models import Job
from recommender.services.jobs.lifecycle import job_create
from recommender.services.training.queue import training_request
from tenants.models import Tenant


def tenant_train_now(*, tenant: Tenant) -> Job | None:
    """Queue a training job, unless one is queued or running (then None)."""
    return training_request(tenant=tenant)


def tenant_reencode(*, tenant: Tenant) -> Job:
    """Queue an encode job at once (no debounce): the operator is waiting for it."""
    return job_create(tenant=tenant, kind=Job.Kind.ENCODE)
