"""The database down: 503 with Retry-After in the envelope, never a 500; the broker down: the
writes commit and their jobs' messages are owed (the outbox); and
ingestion retried through a PostgreSQL restart stores every acknowledged event exactly once.

The real embedded servers of RECSYS_DATA_DIR are stopped and started again (skipped where
DATABASE_URL / CELERY_BROKER_URL point at servers this test does not own).
"""

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from recommender.models import Interaction, Item, Job
from recommender.services.serving import side_by_side
from recsys_platform import embedded
from recsys_platform.errors import RETRY_AFTER_S
from tenants.models import Tenant
from tests.api.support import ApiResponse
from tests.factories import ItemFactory

DATA_DIR = Path(settings.RECSYS_DATA_DIR)


def assert_unavailable(response: ApiResponse) -> None:
    assert response.status_code == 503, response.content[:300]
    assert response["Retry-After"] == str(RETRY_AFTER_S)
    assert response.json()["error"]["code"] == "service_unavailable"
    assert set(response.json()["error"]) == {"code", "message", "details"}


@pytest.fixture
def postgres() -> Iterator[Callable[[bool], None]]:
    """switch(False) stops the embedded PostgreSQL, switch(True) starts it again."""
    if os.environ.get("DATABASE_URL"):
        pytest.skip("the database is not the embedded one")

    def switch(up: bool) -> None:
        if up:
            embedded.ensure_postgres(DATA_DIR, connection.settings_dict["NAME"])
        else:
            embedded.stop_postgres(DATA_DIR)
        connection.close()  # the next query connects afresh (or fails to)

    try:
        yield switch
    finally:
        switch(True)
        # The serving pool's threads held connections to the stopped server: start them afresh.
        side_by_side.shutdown()


@pytest.fixture
def redis() -> Iterator[Callable[[bool], None]]:
    if os.environ.get("CELERY_BROKER_URL"):
        pytest.skip("the broker is not the embedded one")
    socket_path = DATA_DIR / "redis" / "redis.sock"

    def switch(up: bool) -> None:
        if up:
            embedded.ensure_redis(DATA_DIR)
            return
        embedded.stop_redis(DATA_DIR)
        deadline = time.monotonic() + 10
        while embedded._redis_alive(socket_path):
            assert time.monotonic() < deadline, "Redis did not stop"
            time.sleep(0.05)

    try:
        yield switch
    finally:
        switch(True)


def _client(api: APIClient) -> APIClient:
    api.raise_request_exception = False
    return api


def test_database_down_is_503_with_retry_after(
    transactional_db: None, api: APIClient, postgres: Callable[[bool], None]
) -> None:
    client = _client(api)
    postgres(False)
    assert_unavailable(client.get("/api/v1/items"))
    batch = {"interactions": [{"user": "u", "item": "i", "type": "view"}]}
    assert_unavailable(client.post("/api/v1/interactions/batch", batch, format="json"))
    postgres(True)
    assert client.get("/api/v1/items").status_code == 200


def test_broker_down_commits_the_writes_and_owes_the_messages(
    transactional_db: None, api: APIClient, tenant: Tenant, redis: Callable[[bool], None]
) -> None:
    # The outbox (services/jobs/dispatch.py): a committed write never fails for the broker;
    # its job's message is owed and the job sweep sends it once the broker is back.
    client = _client(api)
    redis(False)
    started = client.post("/api/v1/jobs", {"kind": "train"}, format="json")
    assert started.status_code == 202, started.content
    batch = {"items": [{"id": "sku-1", "title": "Tea"}]}
    stored = client.post("/api/v1/items/batch", batch, format="json")
    assert stored.status_code == 200, stored.content
    assert stored.json() == {"created": 1, "updated": 0}
    redis(True)
    assert Item.objects.for_tenant(tenant).count() == 1
    owed = Job.objects.for_tenant(tenant).filter(status="queued", dispatch_due_at__isnull=False)
    assert sorted(owed.values_list("kind", flat=True)) == ["encode", "train"]


BATCHES = 24
BATCH_ROWS = 25


def test_postgres_restart_mid_ingestion_stores_each_acknowledged_event_once(
    transactional_db: None, api: APIClient, tenant: Tenant, postgres: Callable[[bool], None]
) -> None:
    ItemFactory(tenant=tenant, external_id="sku-1")
    client = _client(api)
    acknowledged: set[str] = set()
    statuses: list[int] = []
    progress = threading.Event()
    stopped = threading.Event()
    failure: list[BaseException] = []

    def ingest() -> None:
        try:
            for number in range(BATCHES):
                rows = [
                    {
                        "user": f"u{i % 7}",
                        "item": "sku-1",
                        "type": "view",
                        "event_id": f"e{number}-{i}",
                    }
                    for i in range(BATCH_ROWS)
                ]
                while True:  # a client that retries the same event_ids until acknowledged
                    response = client.post(
                        "/api/v1/interactions/batch", {"interactions": rows}, format="json"
                    )
                    statuses.append(response.status_code)
                    if response.status_code == 200:
                        acknowledged.update(row["event_id"] for row in rows)
                        break
                    assert response.status_code == 503, response.content[:300]
                    # What Django does after every request of a real server; its test client
                    # disconnects that signal, so this thread would keep the broken connection.
                    connection.close_if_unusable_or_obsolete()
                    time.sleep(0.2)
                if number == BATCHES // 3:
                    # The next batch goes out with the server going down (or gone): the client
                    # must see the outage, not race past it.
                    progress.set()
                    stopped.wait(60)
        except BaseException as exc:  # handed to the main thread
            failure.append(exc)
        finally:
            progress.set()
            connection.close()

    sender = threading.Thread(target=ingest)
    sender.start()
    progress.wait(60)
    postgres(False)
    stopped.set()
    time.sleep(1.0)
    postgres(True)
    sender.join(120)
    assert not sender.is_alive()
    assert not failure, failure
    assert 503 in statuses  # the outage was seen by the client, and ridden out
    stored = list(Interaction.objects.for_tenant(tenant).values_list("event_id", flat=True))
    assert len(stored) == len(set(stored)) == len(acknowledged) == BATCHES * BATCH_ROWS
    assert set(stored) == acknowledged
