"""Fault: a real worker is killed mid-encoding; after restart every item has exactly one vector.

Two real `celery worker` processes over the test run's broker and test database. The first is
SIGKILLed while it encodes; its job stays RUNNING, partly done. The second runs the periodic
sweep, sent through the broker as beat would send it, which finds the job's heartbeat stale and
re-queues it; the second worker then finishes the job with the items the first did not commit.
"""

import os
import signal
import subprocess
import time
from collections.abc import Callable

import pytest
from django.db import connection

from recommender.models import Item, Job
from recommender.services.ingest.rows import item_content_hash
from recommender.services.jobs.lifecycle import job_create, jobs_running_stale
from recommender.tasks import SWEEP_ENCODING_TASK
from recsys_platform.celery import app as celery_app
from tenants.models import Tenant
from tests.conftest import TINY_WORDS
from tests.jobs.processes import StartCelery

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ITEMS = 400
CHUNK = 8
# The workers' stale threshold: they beat four times within it, and the sweep they run uses it.
STALE_S = 2
TIMEOUT_S = 60


def worker_starter(
    start_celery: StartCelery, stale_s: int
) -> Callable[[str], subprocess.Popen[bytes]]:
    def start(name: str) -> subprocess.Popen[bytes]:
        return start_celery(
            name,
            ["worker", "-Q", "default,gpu", "--pool=solo", "--concurrency=1"],
            {"RECSYS_ENCODE_CHUNK": str(CHUNK), "RECSYS_JOB_STALE_S": str(stale_s)},
        )

    return start


def _vectors_per_item(tenant: Tenant) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT v.item_id, count(*) FROM recommender_itemvector v"
            " JOIN recommender_item i ON i.id = v.item_id WHERE i.tenant_id = %s"
            " GROUP BY v.item_id",
            [tenant.pk],
        )
        return dict(cursor.fetchall())


def _wait_for(what: str, condition: Callable[[], bool], poll_s: float = 0.05) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(poll_s)


def _store_items(tenant: Tenant) -> None:
    """ITEMS items whose texts (words of the tiny model) fill most of its 64 tokens."""
    rows = []
    for n in range(ITEMS):
        words = [TINY_WORDS[(n * 7 + k * 3) % len(TINY_WORDS)] for k in range(40)]
        title, description, categories = " ".join(words[:4]), " ".join(words[4:]), [words[0]]
        rows.append(
            Item(
                tenant=tenant,
                external_id=f"sku-{n}",
                title=title,
                description=description,
                categories=categories,
                content_hash=item_content_hash(title, description, categories),
            )
        )
    Item.objects.for_tenant(tenant).bulk_create(rows)


def test_a_worker_killed_mid_encoding_loses_nothing_and_encodes_each_item_once(
    tenant: Tenant,
    use_tiny_encoder: Callable[[Tenant], None],
    start_celery: StartCelery,
) -> None:
    start_worker = worker_starter(start_celery, STALE_S)
    use_tiny_encoder(tenant)
    _store_items(tenant)
    job = job_create(tenant=tenant, kind=Job.Kind.ENCODE)
    first = start_worker("first")

    # Killed once it has committed some chunks but far from all.
    _wait_for(
        "the first worker has encoded some items",
        lambda: len(_vectors_per_item(tenant)) >= 10 * CHUNK,
        poll_s=0.02,
    )
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    # Starting takes seconds; meanwhile the dead worker's heartbeat goes stale.
    start_worker("second")

    # Dead, and its job still looks under way: RUNNING, part done, on its first attempt.
    _wait_for(
        "the dead worker's heartbeat is stale",
        lambda: jobs_running_stale(STALE_S).filter(pk=job.pk).exists(),
        poll_s=0.2,
    )
    job.refresh_from_db()
    assert (job.status, job.attempts, job.finished_at) == (Job.Status.RUNNING, 1, None)
    done_by_first = len(_vectors_per_item(tenant))
    assert 0 < done_by_first < ITEMS
    assert 0 < job.progress < 1

    # The periodic sweep, as beat would send it, to the fresh worker.
    celery_app.send_task(SWEEP_ENCODING_TASK, queue="default")

    def finished() -> bool:
        job.refresh_from_db()
        return job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED)

    _wait_for("the job has finished", finished, poll_s=0.2)
    assert job.status == Job.Status.SUCCEEDED, job.error
    # Attempt 2 encoded exactly what attempt 1 had not committed: no item was encoded twice.
    assert job.attempts == 2
    assert job.counts["items_total"] == ITEMS - done_by_first
    assert job.counts["items_encoded"] == ITEMS - done_by_first
    assert job.progress == 1.0

    per_item = _vectors_per_item(tenant)
    item_ids = set(Item.objects.for_tenant(tenant).values_list("pk", flat=True))
    assert set(per_item) == item_ids
    assert set(per_item.values()) == {1}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM recommender_itemvector v JOIN recommender_item i"
            " ON i.id = v.item_id WHERE i.tenant_id = %s AND v.content_hash <> i.content_hash",
            [tenant.pk],
        )
        assert cursor.fetchone() == (0,)
