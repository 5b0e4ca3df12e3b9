"""Candidate sources read side by side on their own connections: the same lists as one after
another, the caller's tenant scope in every thread, errors raised, and no threads inside a
transaction (whose writes other connections could not see)."""

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from recommender.models import Item, ServedList
from recommender.services.serving import side_by_side
from recommender.services.serving.lists import recommend_for_user, similar_items
from recommender.services.training.train import train_tenant
from tenants.models import Tenant
from tenants.scoping import current_tenant_or_none, tenant_scope
from tests.serving.conftest import configure, load_planted

pytestmark = pytest.mark.django_db(transaction=True)


def _thread_of_each(tasks: int) -> list[tuple[str, int | None]]:
    seen: list[tuple[str, int | None]] = []
    lock = threading.Lock()

    def task() -> None:
        tenant = current_tenant_or_none()
        # Each thread reads through its own connection: the backend pid tells them apart.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with lock:
            seen.append((f"{threading.current_thread().name}:{pid}", tenant.pk if tenant else None))

    side_by_side.run_side_by_side([task] * tasks)
    return seen


def test_reads_run_on_several_threads_and_connections_with_the_callers_tenant(
    tenant: Tenant,
) -> None:
    with tenant_scope(tenant):
        seen = _thread_of_each(3)
    assert len(seen) == 3
    assert len({place for place, _ in seen}) == 3
    assert {tenant_id for _, tenant_id in seen} == {tenant.pk}


def test_inside_a_transaction_reads_stay_on_the_callers_connection(tenant: Tenant) -> None:
    with tenant_scope(tenant), transaction.atomic():
        Item.objects.create(tenant=tenant, external_id="only-in-this-transaction")
        seen = _thread_of_each(3)
    assert len({place for place, _ in seen}) == 1


def test_the_first_error_is_raised_after_every_task_ends() -> None:
    finished: list[str] = []

    def fails() -> None:
        raise ValueError("source broke")

    def slow() -> None:
        threading.Event().wait(0.2)
        finished.append("slow")

    with pytest.raises(ValueError, match="source broke"):
        side_by_side.run_side_by_side([slow, fails, slow])
    assert finished == ["slow", "slow"]


def test_side_by_side_serves_the_same_lists_as_one_after_another(
    tenant: Tenant, monkeypatch: Any
) -> None:
    planted = load_planted(tenant, n_users=120, n_items=160, n_groups=4)
    configure(
        tenant,
        sources={"als": {"factors": 8, "iterations": 4}, "trending": {"weight": 0.2}},
        fusion={"ranker": "off"},
        training={"eval_users": 100, "tuning_budget_s": 0},
    )
    train_tenant(tenant=tenant)
    users = list(planted.user_group)[:15]
    items = list(planted.item_group)[:10]

    def lists() -> list[Any]:
        with tenant_scope(tenant):
            served = [
                recommend_for_user(
                    tenant=tenant, user_id=user, params=[("explain", "true")], log=False
                )
                for user in users
            ]
            served += [similar_items(tenant=tenant, item_id=item, params=[]) for item in items]
        return [
            [(row["id"], row["score"], row.get("explanation")) for row in s["items"]]
            for s in served
        ]

    together = lists()
    monkeypatch.setattr(side_by_side, "THREADS", 0)
    assert not side_by_side.can_run_side_by_side()
    apart = lists()
    assert together == apart
    assert all(len(rows) == 10 for rows in together)


def test_a_write_after_the_response_runs_on_a_pool_thread_and_its_failure_is_logged(
    tenant: Tenant, caplog: Any
) -> None:
    done = threading.Event()
    places: list[str] = []

    def write() -> None:
        places.append(threading.current_thread().name)
        done.set()

    side_by_side.run_after(write)
    assert done.wait(10)
    assert places[0] != threading.current_thread().name

    failed = threading.Event()

    def broken() -> None:
        failed.set()
        raise RuntimeError("log write broke")

    with caplog.at_level("ERROR"):
        side_by_side.run_after(broken)  # does not raise into the request
        assert failed.wait(10)
        side_by_side.run_after(lambda: None)
        for _ in range(100):
            if "log write broke" in caplog.text:
                break
            threading.Event().wait(0.05)
    assert "A write after the response failed" in caplog.text
    assert "log write broke" in caplog.text


def test_inside_a_transaction_a_write_after_the_response_runs_at_once(tenant: Tenant) -> None:
    places: list[str] = []
    with transaction.atomic():
        side_by_side.run_after(lambda: places.append(threading.current_thread().name))
        assert places == [threading.current_thread().name]


def test_a_served_list_is_recorded_under_the_recommendation_id_the_response_gives(
    tenant: Tenant,
) -> None:
    planted = load_planted(tenant, n_users=60, n_items=80, n_groups=4)
    configure(
        tenant,
        sources={"als": {"factors": 8, "iterations": 4}},
        fusion={"ranker": "off"},
        training={"tuning_budget_s": 0},
    )
    train_tenant(tenant=tenant)
    user = next(iter(planted.user_group))
    with tenant_scope(tenant):
        body = recommend_for_user(tenant=tenant, user_id=user, params=[])
        for _ in range(200):  # the row is written on a pool thread while the response goes out
            row = ServedList.objects.filter(recommendation_id=body["recommendation_id"]).first()
            if row is not None:
                break
            threading.Event().wait(0.05)
        assert row is not None
        assert row.user is not None
        assert row.user.external_id == user
        assert row.endpoint == "recommendations"
        served = dict(Item.objects.filter(pk__in=row.item_ids).values_list("pk", "external_id"))
        assert [served[pk] for pk in row.item_ids] == [entry["id"] for entry in body["items"]]
