"""Queueing training: a tenant's first model once its catalog is encoded, and periodic
retraining (django-celery-beat runs `training_sweep` hourly; each tenant's configuration says
how often it retrains)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from recommender.models import Interaction, Job, ModelVersion
from recommender.services.config import active_config
from recommender.services.jobs.lifecycle import job_create
from tenants.locks import TenantLock, tenant_lock
from tenants.models import Tenant


@transaction.atomic
def training_request(*, tenant: Tenant) -> Job | None:
    """Queue a train job unless one is queued or running already."""
    tenant_lock(tenant.pk, TenantLock.TRAIN_REQUEST)
    busy = (
        Job.objects.for_tenant(tenant)
        .filter(kind=Job.Kind.TRAIN, status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
        .exists()
    )
    if busy:
        return None
    return job_create(tenant=tenant, kind=Job.Kind.TRAIN)


def first_model_request(*, tenant: Tenant) -> Job | None:
    """After encoding: a tenant with events and no model version yet gets its first one."""
    if ModelVersion.objects.for_tenant(tenant).exists():
        return None
    if not Interaction.objects.for_tenant(tenant).exists():
        return None
    return training_request(tenant=tenant)


def training_due(tenant: Tenant) -> bool:
    """Retraining is due when the configured interval has passed since the active version was
    trained and events arrived since then (0 hours: never automatically)."""
    hours = float(active_config(tenant)["training"]["retrain_every_hours"])
    if hours <= 0:
        return False
    active = ModelVersion.objects.for_tenant(tenant).filter(status="active").first()
    if active is None or active.trained_at is None:
        return Interaction.objects.for_tenant(tenant).exists()
    if timezone.now() - active.trained_at < timedelta(hours=hours):
        return False
    return Interaction.objects.for_tenant(tenant).filter(received_at__gt=active.trained_at).exists()


def training_sweep() -> list[int]:
    """Queue retraining for every active tenant that is due; returns the tenant ids queued."""
    queued = []
    for tenant in Tenant.objects.filter(active=True):
        if training_due(tenant) and training_request(tenant=tenant) is not None:
            queued.append(tenant.pk)
    return queued
