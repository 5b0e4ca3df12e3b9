"""Queueing encoding: debounced after ingestion, and swept periodically for completeness."""

from django.conf import settings

from recommender import vectorstore
from recommender.models import Item, Job
from recommender.services.config import active_config
from recommender.services.encoding.spaces import active_space, space_is_current
from recommender.services.jobs.lifecycle import job_start_once
from recommender.services.jobs.recovery import jobs_recover_stale
from tenants.models import Tenant


def encoding_request(*, tenant: Tenant) -> Job | None:
    """Queue an encode job unless one is already waiting: a burst of batches makes one job.

    The job waits RECSYS_ENCODE_DEBOUNCE_S before it starts, so the batches that follow within
    that time are encoded by it too. A running job does not count: it walks items in id order
    and would miss a changed item behind it, so the batch gets a follow-up job.
    """
    start = job_start_once(
        tenant=tenant,
        kind=Job.Kind.ENCODE,
        countdown=settings.RECSYS_ENCODE_DEBOUNCE_S,
        busy=(Job.Status.QUEUED,),
    )
    return None if start.existing else start.job


def encoding_sweep() -> list[int]:
    """Queue encoding for every active tenant with items lacking vectors and no job under way.

    The periodic guarantee of completeness: whatever a lost task or a crash left behind is
    picked up here. First, jobs of any kind whose worker died (RUNNING, heartbeat stale) go back
    to the queue (`jobs_recover_stale`): until then a dead worker's encode job looks under way,
    and its tenant would be skipped below. Returns the ids of tenants queued.
    """
    jobs_recover_stale()
    queued = []
    for tenant in Tenant.objects.filter(active=True):
        busy = (
            Job.objects.for_tenant(tenant)
            .filter(kind=Job.Kind.ENCODE, status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
            .exists()
        )
        if busy:
            continue
        space = active_space(tenant.pk)
        has_items = space is None and tenant_has_items(tenant)
        # A changed encoder (a new template, model, pooling ...) leaves the serving space
        # complete but stale: the space the configuration asks for is still to be built.
        stale = space is not None and not space_is_current(
            tenant_id=tenant.pk, encoder_config=active_config(tenant)["encoder"]
        )
        if has_items or stale or (space is not None and vectorstore.count_items_to_encode(space)):
            encoding_request(tenant=tenant)
            queued.append(tenant.pk)
    return queued


def tenant_has_items(tenant: Tenant) -> bool:
    return Item.objects.for_tenant(tenant).exists()
