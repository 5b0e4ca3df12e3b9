"""While tenant A's space DDL is held mid-way, tenant B's nearest-neighbour query and vector
upsert run under `lock_timeout = 500ms` and succeed: A's partition DDL takes no lock that B's
statements wait for (issue 12: B's query took 2.6 s while A dropped a space).

Each case holds one of A's statements mid-way with a third session (a lock on A's own partition,
or an open snapshot) and checks in pg_stat_activity that A's statement is waiting on a lock.
"""

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from django.db import connection, connections, transaction

from recommender import vectorstore
from recommender.models import EmbeddingSpace, Item
from recommender.models.vectors import settings_digest
from tenants.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)

DIM = 8
N_ITEMS = 40
WAIT_S = 30


def _space(tenant: Tenant, status: str = EmbeddingSpace.Status.ACTIVE) -> EmbeddingSpace:
    identity = {"model": f"lock-test-{tenant.slug}"}
    return EmbeddingSpace.objects.for_tenant(tenant).create(
        tenant=tenant,
        settings=identity,
        settings_hash=settings_digest(identity),
        dimension=DIM,
        status=status,
    )


def _items(tenant: Tenant) -> list[int]:
    items = Item.objects.for_tenant(tenant).bulk_create(
        [Item(tenant=tenant, external_id=f"{tenant.slug}-{n}", title="t") for n in range(N_ITEMS)]
    )
    return [item.pk for item in items]


def _vectors(seed: int, n: int = N_ITEMS) -> Any:
    rows = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _fill(space: EmbeddingSpace, item_ids: list[int], seed: int) -> None:
    with transaction.atomic():
        vectorstore.upsert_item_vectors(space, item_ids, ["h"] * len(item_ids), _vectors(seed))


@dataclass
class Held:
    """A's statement, run in a thread of its own (its own connection)."""

    run: Callable[[], None]
    pid: int | None = None
    error: BaseException | None = None
    started: threading.Event = field(default_factory=threading.Event)

    def __call__(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = int(cursor.fetchone()[0])
            self.started.set()
            self.run()
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.started.set()
            connection.close()


@pytest.fixture
def blocker() -> Iterator[Any]:
    """A third session, to hold A's statement mid-way."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def _waiting(pid: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT wait_event FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'",
            [pid],
        )
        row = cursor.fetchone()
    return None if row is None else str(row[0])


def _hold(held: Held) -> threading.Thread:
    thread = threading.Thread(target=held, daemon=True)
    thread.start()
    assert held.started.wait(WAIT_S)
    assert held.pid is not None, held.error
    deadline = time.monotonic() + WAIT_S
    while _waiting(held.pid) is None:
        assert held.error is None, held.error
        assert thread.is_alive(), "A's statement finished: it was not held"
        assert time.monotonic() < deadline, "A's statement never waited"
        time.sleep(0.05)
    return thread


def _b_reads_and_writes_under_lock_timeout(space: EmbeddingSpace, item_ids: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '500ms'")
    try:
        query = _vectors(7, 1)[0]
        found = vectorstore.nearest_items(space, query, k=5, only_available=False)
        assert len(found) == 5
        assert {n.item_id for n in found} <= set(item_ids)
        new = _vectors(8)
        with transaction.atomic():
            vectorstore.upsert_item_vectors(space, item_ids, ["new"] * len(item_ids), new)
        assert vectorstore.vector_counts(space)["items"] == N_ITEMS
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND NOT granted"
            )
            assert cursor.fetchone()[0] == 0
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


@pytest.fixture
def b_space(other_tenant: Tenant) -> tuple[EmbeddingSpace, list[int]]:
    """Tenant B's serving space: vectors and index."""
    space = _space(other_tenant)
    ids = _items(other_tenant)
    vectorstore.space_create(space)
    _fill(space, ids, seed=1)
    return space, ids


def _run_held(
    blocker: Any,
    hold_sql: list[str],
    held: Held,
    b_space: tuple[EmbeddingSpace, list[int]],
) -> None:
    with blocker.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        for sql in hold_sql:
            cursor.execute(sql)
    try:
        thread = _hold(held)
        _b_reads_and_writes_under_lock_timeout(*b_space)
        assert _waiting(held.pid or 0) is not None, "A's statement was no longer held"
    finally:
        with blocker.cursor() as cursor:
            cursor.execute("COMMIT")
    thread.join(WAIT_S)
    assert not thread.is_alive()
    assert held.error is None, held.error


def test_attaching_a_bulk_indexed_partition_never_blocks_another_tenant(
    tenant: Tenant, b_space: tuple[EmbeddingSpace, list[int]], blocker: Any
) -> None:
    """Training's path: vectors into a partition of its own, index built, then attached; held
    at ATTACH (it holds the parent's SHARE UPDATE EXCLUSIVE lock while it waits)."""
    space = _space(tenant, EmbeddingSpace.Status.BUILDING)
    vectorstore.space_create(space, attach=False)
    _fill(space, _items(tenant), seed=2)
    partition = vectorstore.partition_name(vectorstore.ITEM_TABLE, space)
    held = Held(lambda: vectorstore.space_index(space))
    _run_held(blocker, [f"LOCK TABLE {partition} IN ACCESS SHARE MODE"], held, b_space)
    assert vectorstore.index_state(space)["valid"]
    assert vectorstore.vector_counts(space)["items"] == N_ITEMS  # attached: read via the parent


def test_indexing_an_attached_partition_concurrently_never_blocks_another_tenant(
    tenant: Tenant, b_space: tuple[EmbeddingSpace, list[int]], blocker: Any
) -> None:
    """CREATE INDEX CONCURRENTLY on an attached partition without its index (a space made
    before migration 0012), held while it waits for an older snapshot."""
    space = _space(tenant)
    vectorstore.space_create(space)
    _fill(space, _items(tenant), seed=3)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {space.index_name}")
    held = Held(lambda: vectorstore.space_index(space))
    _run_held(blocker, ["SELECT 1"], held, b_space)
    assert vectorstore.index_state(space)["valid"]


def test_dropping_a_space_never_blocks_another_tenant(
    tenant: Tenant, b_space: tuple[EmbeddingSpace, list[int]], blocker: Any
) -> None:
    """DETACH PARTITION CONCURRENTLY, held while a query of A's own space is still open."""
    space = _space(tenant)
    vectorstore.space_create(space)
    _fill(space, _items(tenant), seed=4)
    held = Held(lambda: vectorstore.drop_space(space))
    sql = f"SELECT count(*) FROM recommender_itemvector WHERE space_id = {space.pk}"
    _run_held(blocker, [sql], held, b_space)
    assert vectorstore.vector_counts(space)["items"] == 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relname = %s",
            [vectorstore.partition_name(vectorstore.ITEM_TABLE, space)],
        )
        assert cursor.fetchone()[0] == 0
