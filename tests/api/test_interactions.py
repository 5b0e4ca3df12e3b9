"""POST /api/v1/interactions/batch: counts, created users, row errors and idempotent retries."""

import datetime
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from recommender.models import EndUser, Interaction
from recommender.services.config import config_save
from recommender.services.ingest.rows import INTERACTION_VALUE_MAX
from tenants.models import Tenant
from tests.api.support import assert_error, row_counts
from tests.factories import EndUserFactory, ItemFactory

URL = "/api/v1/interactions/batch"


@pytest.fixture
def catalog(tenant: Tenant) -> None:
    for external_id in ("sku-1", "sku-2", "sku-3"):
        ItemFactory(tenant=tenant, external_id=external_id)


def event(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"user": "u-1", "item": "sku-1", "type": "view"}
    row.update(fields)
    return row


def send(api: APIClient, *rows: Any) -> Any:
    return api.post(URL, {"interactions": list(rows)}, format="json")


def stored(tenant: Tenant) -> list[Interaction]:
    return list(
        Interaction.objects.for_tenant(tenant).select_related("user", "item").order_by("pk")
    )


@pytest.mark.usefixtures("catalog")
def test_full_wire_example_is_stored(api: APIClient, tenant: Tenant) -> None:
    row = {
        "user": "u-1",
        "item": "sku-1",
        "type": "purchase",
        "value": 2.5,
        "timestamp": "2026-11-28T10:00:00Z",
        "event_id": "e-1",
        "recommendation_id": "rec-123",
    }
    response = send(api, row)
    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 1, "duplicates": 0, "users_created": 1}
    (saved,) = stored(tenant)
    assert saved.user.external_id == "u-1"
    assert saved.item.external_id == "sku-1"
    assert saved.type == "purchase"
    assert saved.value == 2.5
    assert saved.timestamp == datetime.datetime(2026, 11, 28, 10, tzinfo=datetime.UTC)
    assert saved.event_id == "e-1"
    assert saved.recommendation_id == "rec-123"
    assert saved.tenant_id == tenant.pk
    assert saved.user.tenant_id == tenant.pk


@pytest.mark.usefixtures("catalog")
def test_counts_and_unknown_users_are_created(api: APIClient, tenant: Tenant) -> None:
    EndUserFactory(tenant=tenant, external_id="known")
    response = send(
        api,
        event(user="known", event_id="e-1"),
        event(user="new-1", event_id="e-2"),
        event(user="new-1", item="sku-2", event_id="e-3"),
        event(user="new-2", item="sku-3"),
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 4, "duplicates": 0, "users_created": 2}
    users = EndUser.objects.for_tenant(tenant).values_list("external_id", flat=True)
    assert sorted(users) == ["known", "new-1", "new-2"]
    created = EndUser.objects.for_tenant(tenant).get(external_id="new-1")
    assert created.attributes == {}
    assert created.profile_text == ""
    assert len(stored(tenant)) == 4


@pytest.mark.usefixtures("catalog")
def test_same_batch_twice_stores_once(api: APIClient, tenant: Tenant) -> None:
    batch = [event(event_id="e-1", value=3.0), event(item="sku-2", event_id="e-2")]
    first = send(api, *batch)
    assert first.json() == {"stored": 2, "duplicates": 0, "users_created": 1}
    second = send(api, *batch)
    assert second.status_code == 200
    assert second.json() == {"stored": 0, "duplicates": 2, "users_created": 0}
    rows = stored(tenant)
    assert len(rows) == 2
    # A retry never accumulates values (unlike an add-on-conflict upsert).
    assert [r.value for r in rows] == [3.0, 1.0]


@pytest.mark.usefixtures("catalog")
def test_retry_with_changed_payload_keeps_the_first_write(api: APIClient, tenant: Tenant) -> None:
    send(api, event(event_id="e-1", value=1.0, type="view"))
    response = send(api, event(event_id="e-1", value=9.0, type="purchase"), event(event_id="e-2"))
    assert response.json() == {"stored": 1, "duplicates": 1, "users_created": 0}
    first = Interaction.objects.for_tenant(tenant).get(event_id="e-1")
    assert (first.type, first.value) == ("view", 1.0)
    assert Interaction.objects.for_tenant(tenant).count() == 2


@pytest.mark.usefixtures("catalog")
def test_events_without_event_id_are_not_deduplicated(api: APIClient, tenant: Tenant) -> None:
    assert send(api, event(), event()).json()["stored"] == 2
    assert send(api, event()).json() == {"stored": 1, "duplicates": 0, "users_created": 0}
    assert Interaction.objects.for_tenant(tenant).count() == 3


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("empty", [None, ""])
def test_empty_event_id_means_none(api: APIClient, tenant: Tenant, empty: str | None) -> None:
    send(api, event(event_id=empty), event(event_id=empty))
    assert Interaction.objects.for_tenant(tenant).filter(event_id__isnull=True).count() == 2


@pytest.mark.usefixtures("catalog")
def test_value_defaults_to_one_and_timestamp_to_receipt(api: APIClient, tenant: Tenant) -> None:
    before = timezone.now()
    assert send(api, event()).status_code == 200
    after = timezone.now()
    (saved,) = stored(tenant)
    assert saved.value == 1.0
    assert before <= saved.timestamp <= after
    assert before <= saved.received_at <= after


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("2026-11-28T10:00:00Z", datetime.datetime(2026, 11, 28, 10, tzinfo=datetime.UTC)),
        ("2026-11-28T12:00:00+02:00", datetime.datetime(2026, 11, 28, 10, tzinfo=datetime.UTC)),
        ("2026-11-28T05:30:00-04:30", datetime.datetime(2026, 11, 28, 10, tzinfo=datetime.UTC)),
        (
            "2026-11-28T10:00:00.123456+00:00",
            datetime.datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=datetime.UTC),
        ),
    ],
)
def test_timestamp_zones_are_honoured(
    api: APIClient, tenant: Tenant, sent: str, expected: datetime.datetime
) -> None:
    assert send(api, event(timestamp=sent)).status_code == 200
    assert stored(tenant)[0].timestamp == expected


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("value", [0, -4, 2.5, INTERACTION_VALUE_MAX, -INTERACTION_VALUE_MAX])
def test_explicit_values_are_stored(api: APIClient, tenant: Tenant, value: float) -> None:
    assert send(api, event(value=value)).status_code == 200
    assert stored(tenant)[0].value == value


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("value", [INTERACTION_VALUE_MAX + 1, 1e12, -1e300])
def test_values_past_the_bound_reject_the_batch_naming_the_row(
    api: APIClient, value: float
) -> None:
    # One such event made every later training fit NaN factors.
    before = row_counts()
    response = send(api, event(event_id="fine"), event(event_id="outlier", value=value))
    error = assert_error(response, 400, "validation_error")
    # Rows count from 1: the outlier is the second row.
    assert error["details"] == [
        {"row": 2, "field": "value", "message": "'value' must lie within ±1e+06"}
    ]
    assert row_counts() == before


@pytest.mark.usefixtures("catalog")
def test_unknown_item_is_a_row_error_and_nothing_is_written(api: APIClient, tenant: Tenant) -> None:
    before = row_counts()
    response = send(api, event(user="brand-new"), event(user="also-new", item="sku-x"))
    error = assert_error(response, 400, "validation_error")
    assert error["details"] == [{"row": 2, "field": "item", "message": "unknown item 'sku-x'"}]
    assert "1 row is invalid" in error["message"]
    # Neither the events nor the users the valid row would have created were written.
    assert row_counts() == before


@pytest.mark.usefixtures("catalog")
def test_every_unknown_item_row_is_reported(api: APIClient) -> None:
    response = send(api, event(item="x-1"), event(), event(item="x-2"), event(item="x-1"))
    error = assert_error(response, 400, "validation_error")
    assert [(d["row"], d["field"]) for d in error["details"]] == [
        (1, "item"),
        (3, "item"),
        (4, "item"),
    ]
    assert "3 rows are invalid" in error["message"]


@pytest.mark.usefixtures("catalog")
def test_unknown_items_are_reported_at_their_own_row_after_parse_faults(api: APIClient) -> None:
    # Rows that fail to parse are skipped before items are resolved; the item faults found later
    # must still name the rows as sent, not their place among the rows that parsed.
    response = send(api, "junk", event(item="x-1"), event(type="nope"), event(), event(item="x-2"))
    error = assert_error(response, 400, "validation_error")
    assert [(d["row"], d["field"]) for d in error["details"]] == [
        (1, None),
        (2, "item"),
        (3, "type"),
        (5, "item"),
    ]


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    "timestamp",
    [
        "2026-11-28T10:00:00",
        "2026-11-28",
        "2026-11-28 10:00:00",
        "yesterday",
        "",
        1764324000,
        ["2026-11-28T10:00:00Z"],
        # Valid ISO 8601, but outside what a datetime can hold once in UTC: stored, such a row
        # could never be read back.
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
    ],
)
def test_timestamp_without_zone_or_malformed_is_rejected(api: APIClient, timestamp: Any) -> None:
    before = row_counts()
    error = assert_error(send(api, event(), event(timestamp=timestamp)), 400, "validation_error")
    assert [(d["row"], d["field"]) for d in error["details"]] == [(2, "timestamp")]
    assert row_counts() == before


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("kind", ["teleport", "VIEW", "", 3, ["view"], {"a": 1}, True])
def test_unknown_type_is_rejected(api: APIClient, kind: Any) -> None:
    before = row_counts()
    error = assert_error(send(api, event(), event(type=kind)), 400, "validation_error")
    assert [(d["row"], d["field"]) for d in error["details"]] == [(2, "type")]
    assert row_counts() == before


@pytest.mark.usefixtures("catalog")
def test_types_come_from_the_active_configuration(api: APIClient, tenant: Tenant) -> None:
    config_save(tenant=tenant, data={"interactions": {"types": {"watch": 1.0, "share": 3.0}}})
    assert send(api, event(type="watch"), event(type="share")).status_code == 200
    error = assert_error(send(api, event(type="view")), 400, "validation_error")
    assert error["details"][0]["field"] == "type"
    assert "share, watch" in error["details"][0]["message"]


@pytest.mark.usefixtures("catalog")
def test_same_event_id_in_another_tenant_is_not_a_duplicate(
    api: APIClient, other_api: APIClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    ItemFactory(tenant=other_tenant, external_id="sku-1")
    assert send(other_api, event(event_id="e-1")).json()["stored"] == 1
    assert send(api, event(event_id="e-1")).json() == {
        "stored": 1,
        "duplicates": 0,
        "users_created": 1,
    }
    assert Interaction.objects.for_tenant(tenant).count() == 1
    assert Interaction.objects.for_tenant(other_tenant).count() == 1


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("offset", ["-21:30", "+23:59"])
def test_any_offset_python_reads_is_stored_as_its_instant(
    api: APIClient, tenant: Tenant, offset: str
) -> None:
    # PostgreSQL refuses offsets past ±15:59 ("time zone displacement out of range", a 500
    # schemathesis found); the instant is stored in UTC instead.
    response = send(api, event(timestamp=f"2026-01-01T00:00:00{offset}"))
    assert response.status_code == 200, response.content
    (saved,) = stored(tenant)
    expected = datetime.datetime.fromisoformat(f"2026-01-01T00:00:00{offset}")
    assert saved.timestamp == expected
