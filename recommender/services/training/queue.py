"""Queueing training: a tenant's first model once its catalog is encoded, and periodic
retraining (django-celery-beat runs `training_sweep` hourly; each tenant's configuration says
how often it retrains)."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from recommender.models import Interaction, Job, ModelVersion
from recommender.services.config import active_config
from recommender.services.jobs.lifecycle import job_start_once
from tenants.models import Tenant


def training_request(*, tenant: Tenant) -> Job | None:
    """Queue a train job unless one is queued or running already."""
    start = job_start_once(tenant=tenant, kind=Job.Kind.TRAIN)
    return None if start.existing else start.job


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


def next_training(tenant: Tenant) -> dict[str, Any]:
    """The schedule as the operator reads it: the one source is the configuration's
    `training.retrain_every_hours`; the hourly sweep (a django-celery-beat row, not edited per
    tenant) only checks it. `next` is the earliest time the sweep retrains (when events
    arrived by then), None when the schedule is off or the first model waits for data."""
    hours = float(active_config(tenant)["training"]["retrain_every_hours"])
    active = ModelVersion.objects.for_tenant(tenant).filter(status="active").first()
    last = active.trained_at if active is not None else None
    if hours <= 0 or last is None:
        return {"every_hours": hours, "last": last, "next": None}
    due = last + timedelta(hours=hours)
    # The sweep runs on the hour: due times round up to the next full hour.
    next_run = due.replace(minute=0, second=0, microsecond=0)
    if next_run < due:
        next_run += timedelta(hours=1)
    return {"every_hours": hours, "last": last, "next": next_run}


def training_sweep() -> list[int]:
    """Queue retraining for every active tenant that is due; returns the tenant ids queued."""
    queued = []
    for tenant in Tenant.objects.filter(active=True):
        if training_due(tenant) and training_request(tenant=tenant) is not None:
            queued.append(tenant.pk)
    return queued
