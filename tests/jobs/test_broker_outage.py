"""Fault: the broker (the real embedded Redis) stops while a tenant app writes items, then comes
back. Every write whose data committed answers its normal success, and every item gets its vector
with no manual step: the encode job queued during the outage owes its message in its row, and the
job sweep, sent by a real `celery beat`, hands it to a real worker once Redis is back.
"""

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from rest_framework.test import APIClient

from recommender.models import Item, Job
from recommender.tasks import SWEEP_JOBS_TASK
from tenants.models import Tenant
from tests.jobs.processes import StartCelery, embedded_redis_start, embedded_redis_stop

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT_S = 90


def _wait_for(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.2)


def _vectors_per_item(tenant: Tenant) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT v.item_id, count(*) FROM recommender_itemvector v"
            " JOIN recommender_item i ON i.id = v.item_id WHERE i.tenant_id = %s"
            " GROUP BY v.item_id",
            [tenant.pk],
        )
        return dict(cursor.fetchall())


def _batch(start: int, count: int) -> dict[str, Any]:
    words = ("smart watch", "trail shoes", "cast iron pan", "yoga mat", "camping tent")
    return {
        "items": [
            {"id": f"sku-{n}", "title": words[n % len(words)], "categories": ["item"]}
            for n in range(start, start + count)
        ]
    }


def _job_sweep_every_second() -> None:
    """Beat's schedule holds only the job sweep, every second (the migration's is 30 s)."""
    PeriodicTask.objects.all().delete()
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="job sweep (test)", task=SWEEP_JOBS_TASK, interval=every, queue="default"
    )


def test_items_written_while_the_broker_is_down_all_get_vectors_once_it_is_back(
    tenant: Tenant,
    api: APIClient,
    settings: Any,
    use_tiny_encoder: Callable[[Tenant], None],
    start_celery: StartCelery,
) -> None:
    settings.RECSYS_ENCODE_DEBOUNCE_S = 0
    use_tiny_encoder(tenant)
    _job_sweep_every_second()
    sweep_env = {"RECSYS_JOB_DISPATCH_GRACE_S": "1"}
    start_celery("worker", ["worker", "-Q", "default,gpu", "--pool=solo"], sweep_env)
    start_celery("beat", ["beat", "--pidfile="], sweep_env)

    assert api.post("/api/v1/items/batch", _batch(0, 20), format="json").status_code == 200
    _wait_for("the first batch is encoded", lambda: len(_vectors_per_item(tenant)) == 20)

    embedded_redis_stop()
    try:
        during = [
            api.post("/api/v1/items/batch", _batch(start, 20), format="json") for start in (20, 40)
        ]
        # The data committed, so the writes succeed; the job's message is owed, not lost.
        assert [response.status_code for response in during] == [200, 200], during[0].content
        assert [response.json()["created"] for response in during] == [20, 20]
        owed = Job.objects.for_tenant(tenant).get(kind=Job.Kind.ENCODE, status=Job.Status.QUEUED)
        assert owed.dispatch_due_at is not None
        assert owed.dispatched_at is None
    finally:
        embedded_redis_start()

    _wait_for("every item has a vector", lambda: len(_vectors_per_item(tenant)) == 60)
    per_item = _vectors_per_item(tenant)
    assert set(per_item) == set(Item.objects.for_tenant(tenant).values_list("pk", flat=True))
    assert set(per_item.values()) == {1}
    owed.refresh_from_db()
    _wait_for("the owed job has finished", lambda: _finished(owed))
    assert owed.status == Job.Status.SUCCEEDED, owed.error
    # Sent by the sweep: the send on commit had failed.
    assert owed.dispatch_due_at is None
    assert owed.dispatched_at is not None
    assert owed.counts["items_encoded"] == 40


def _finished(job: Job) -> bool:
    job.refresh_from_db()
    return job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED)
