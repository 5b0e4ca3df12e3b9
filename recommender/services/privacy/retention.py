"""Served lists are kept for the tenant's retention period, then purged (daily, by celery beat)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recommender.models import ServedList
from tenants.models import Tenant

PURGE_BATCH = 5_000


def retention_days(tenant: Tenant) -> int:
    days = tenant.served_list_retention_days
    return settings.RECSYS_SERVED_LIST_RETENTION_DAYS if days is None else days


def served_lists_purge(*, now: datetime | None = None, batch: int = PURGE_BATCH) -> dict[str, int]:
    """Delete every tenant's served lists older than its retention; return deletions per tenant
    slug. Deletes in batches, each its own transaction, so a purge interrupted part way keeps what
    it deleted and the next run goes on from there."""
    now = now or timezone.now()
    purged: dict[str, int] = {}
    for tenant in Tenant.objects.order_by("pk"):
        cutoff = now - timedelta(days=retention_days(tenant))
        old = ServedList.objects.unscoped().filter(tenant=tenant, created_at__lt=cutoff)
        total = 0
        while True:
            with transaction.atomic():
                ids = list(old.order_by("pk").values_list("pk", flat=True)[:batch])
                if not ids:
                    break
                total += ServedList.objects.unscoped().filter(pk__in=ids).delete()[0]
        if total:
            purged[tenant.slug] = total
    return purged
