"""The served-list purge: each tenant's lists past its retention go, newer ones and other
tenants' stay; the daily beat schedule exists."""

from datetime import timedelta

from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from recommender.models import ServedList
from recommender.tasks import PURGE_SERVED_LISTS_TASK, purge_served_lists
from tenants.models import Tenant


def served(tenant: Tenant, name: str, age_days: float) -> None:
    row = ServedList.objects.create(
        tenant=tenant, recommendation_id=name, endpoint="popular", item_ids=[]
    )
    # created_at is auto_now_add: backdate it afterwards.
    ServedList.objects.unscoped().filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(days=age_days)
    )


def kept(tenant: Tenant) -> set[str]:
    return set(ServedList.objects.for_tenant(tenant).values_list("recommendation_id", flat=True))


def test_purge_keeps_each_tenants_retention(tenant: Tenant, other_tenant: Tenant) -> None:
    # acme: the platform default (90 days); globex: its own 7.
    other_tenant.served_list_retention_days = 7
    other_tenant.save()
    for owner in (tenant, other_tenant):
        for name, age in (("new", 1), ("week", 8), ("quarter", 89), ("old", 91), ("older", 400)):
            served(owner, f"{owner.slug}-{name}", age)

    purged = purge_served_lists()

    assert purged == {"acme": 2, "globex": 4}
    assert kept(tenant) == {"acme-new", "acme-week", "acme-quarter"}
    assert kept(other_tenant) == {"globex-new"}
    assert purge_served_lists() == {}  # nothing left to do


def test_purge_deletes_in_batches_to_the_end(tenant: Tenant) -> None:
    from recommender.services.privacy.retention import served_lists_purge

    for index in range(5):
        served(tenant, f"old-{index}", 100)
    served(tenant, "new", 0)

    assert served_lists_purge(batch=2) == {"acme": 5}
    assert kept(tenant) == {"new"}


def test_the_purge_runs_daily_from_celery_beat(db: object) -> None:
    task = PeriodicTask.objects.get(task=PURGE_SERVED_LISTS_TASK)
    assert task.enabled
    assert task.interval is not None
    assert (task.interval.every, task.interval.period) == (1, "days")
