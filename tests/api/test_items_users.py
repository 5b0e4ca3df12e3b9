"""Items and users over HTTP: batch upserts, the detail endpoints and cursor pages."""

import base64
from typing import Any
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from recommender.models import EndUser, Interaction, Item
from tenants.models import Tenant
from tests.api.support import assert_error, parse_time

ITEM_FIELDS = {
    "id",
    "title",
    "description",
    "categories",
    "attributes",
    "available",
    "created_at",
    "updated_at",
}
USER_FIELDS = {"id", "attributes", "profile_text", "created_at", "updated_at"}


def item_row(external_id: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": external_id,
        "title": f"Title of {external_id}",
        "description": "Lightweight and waterproof.",
        "categories": ["shoes", "running"],
        "attributes": {"brand": "Acme", "price": 89.0},
        "available": True,
    }
    row.update(fields)
    return row


def user_row(external_id: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": external_id,
        "attributes": {"age_band": "25-34"},
        "profile_text": "I like trail running.",
    }
    row.update(fields)
    return row


def post_items(api: APIClient, *rows: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/v1/items/batch", {"items": list(rows)}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def post_users(api: APIClient, *rows: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/v1/users/batch", {"users": list(rows)}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def detail(kind: str, external_id: str) -> str:
    return f"/api/v1/{kind}/{quote(external_id, safe='')}"


# --- batch upserts ---------------------------------------------------------------------------


def test_item_batch_reports_created_then_updated(api: APIClient, tenant: Tenant) -> None:
    assert post_items(api, item_row("sku-1"), item_row("sku-2")) == {"created": 2, "updated": 0}
    assert post_items(api, item_row("sku-2"), item_row("sku-3")) == {"created": 1, "updated": 1}
    assert post_items(api, item_row("sku-1"), item_row("sku-3")) == {"created": 0, "updated": 2}
    stored = Item.objects.for_tenant(tenant).values_list("external_id", flat=True)
    assert sorted(stored) == ["sku-1", "sku-2", "sku-3"]


def test_item_batch_second_send_replaces_fields(api: APIClient, tenant: Tenant) -> None:
    post_items(api, item_row("sku-1"))
    first = api.get(detail("items", "sku-1")).json()
    changed = item_row(
        "sku-1",
        title="Trail Runner 3",
        description="New model.",
        categories=["outlet"],
        attributes={"brand": "Acme", "price": 59.0, "colors": ["red", "blue"]},
        available=False,
    )
    assert post_items(api, changed) == {"created": 0, "updated": 1}

    second = api.get(detail("items", "sku-1")).json()
    assert {k: second[k] for k in changed} == changed
    assert second["created_at"] == first["created_at"]
    assert parse_time(second["updated_at"]) >= parse_time(first["updated_at"])
    assert Item.objects.for_tenant(tenant).count() == 1


def test_item_batch_defaults_for_optional_fields(api: APIClient) -> None:
    post_items(api, {"id": "bare"})
    body = api.get(detail("items", "bare")).json()
    assert body["title"] == ""
    assert body["description"] == ""
    assert body["categories"] == []
    assert body["attributes"] == {}
    assert body["available"] is True


def test_item_batch_numeric_id_is_stored_as_text(api: APIClient) -> None:
    assert post_items(api, item_row(42)) == {"created": 1, "updated": 0}  # type: ignore[arg-type]
    assert post_items(api, item_row("42")) == {"created": 0, "updated": 1}
    assert api.get(detail("items", "42")).json()["id"] == "42"


def test_item_batch_content_hash_follows_the_encodable_text(api: APIClient, scoped: Tenant) -> None:
    post_items(api, item_row("sku-1"))
    original = Item.objects.get(external_id="sku-1").content_hash
    assert len(original) == 64
    post_items(api, item_row("sku-1", attributes={"price": 1.0}, available=False))
    assert Item.objects.get(external_id="sku-1").content_hash == original
    post_items(api, item_row("sku-1", title="Renamed"))
    assert Item.objects.get(external_id="sku-1").content_hash != original


def test_user_batch_reports_created_then_updated(api: APIClient, tenant: Tenant) -> None:
    assert post_users(api, user_row("u-1"), user_row("u-2")) == {"created": 2, "updated": 0}
    assert post_users(api, user_row("u-2", profile_text="Changed."), user_row("u-3")) == {
        "created": 1,
        "updated": 1,
    }
    user = EndUser.objects.for_tenant(tenant).get(external_id="u-2")
    assert user.profile_text == "Changed."
    assert EndUser.objects.for_tenant(tenant).count() == 3


def test_user_batch_second_send_replaces_fields(api: APIClient) -> None:
    post_users(api, user_row("u-1"))
    first = api.get(detail("users", "u-1")).json()
    post_users(api, user_row("u-1", attributes={"interests": ["hiking"]}, profile_text="New."))
    second = api.get(detail("users", "u-1")).json()
    assert second["attributes"] == {"interests": ["hiking"]}
    assert second["profile_text"] == "New."
    assert second["created_at"] == first["created_at"]


# --- detail endpoints ------------------------------------------------------------------------


def test_item_get_has_the_wire_shape(api: APIClient) -> None:
    row = item_row("sku-1")
    post_items(api, row)
    response = api.get(detail("items", "sku-1"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == ITEM_FIELDS
    assert {k: body[k] for k in row} == row
    assert parse_time(body["created_at"]) <= parse_time(body["updated_at"])


def test_user_get_has_the_wire_shape(api: APIClient) -> None:
    row = user_row("u-1")
    post_users(api, row)
    response = api.get(detail("users", "u-1"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == USER_FIELDS
    assert {k: body[k] for k in row} == row
    parse_time(body["created_at"])
    parse_time(body["updated_at"])


@pytest.mark.parametrize(
    "external_id", ["sku 1", "sku:1", "SKU-1", "ü-é-1", "a.b", "a%2", "x" * 255, "123"]
)
def test_item_ids_with_unusual_characters_round_trip(api: APIClient, external_id: str) -> None:
    post_items(api, item_row(external_id))
    assert api.get(detail("items", external_id)).json()["id"] == external_id
    response = api.patch(detail("items", external_id), {"title": "t"}, format="json")
    assert response.status_code == 200
    assert api.delete(detail("items", external_id)).status_code == 204


@pytest.mark.parametrize("kind", ["items", "users"])
@pytest.mark.parametrize("external_id", ["a/b", "trailing/", "/leading"])
def test_every_id_a_batch_accepts_is_addressable(
    api: APIClient, kind: str, external_id: str
) -> None:
    """An id the batch stores must be reachable by GET/PATCH/DELETE, or refused by the batch.

    Django decodes %2F before routing and the id converter excludes '/', so today such rows are
    stored but can never be read, changed or deleted through the API.
    """
    api.raise_request_exception = False
    response = api.post(f"/api/v1/{kind}/batch", {kind: [{"id": external_id}]}, format="json")
    if response.status_code == 200:
        assert api.get(detail(kind, external_id)).status_code == 200
        assert api.delete(detail(kind, external_id)).status_code == 204
    else:
        error = assert_error(response, 400, "validation_error")
        assert [(d["row"], d["field"]) for d in error["details"]] == [(1, "id")]


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Only the title"},
        {"description": "Only the description"},
        {"categories": ["new", "cats"]},
        {"attributes": {"brand": "Other"}},
        {"available": False},
        {"title": "Two fields", "available": False},
        {},
    ],
    ids=["title", "description", "categories", "attributes", "available", "two", "empty"],
)
def test_item_patch_changes_only_given_fields(api: APIClient, change: dict[str, Any]) -> None:
    row = item_row("sku-1")
    post_items(api, row, item_row("sku-2"))
    before = api.get(detail("items", "sku-1")).json()
    neighbour = api.get(detail("items", "sku-2")).json()

    response = api.patch(detail("items", "sku-1"), change, format="json")

    assert response.status_code == 200, response.content
    after = response.json()
    assert set(after) == ITEM_FIELDS
    assert after == api.get(detail("items", "sku-1")).json()
    expected = {**before, **change}
    assert {k: after[k] for k in row} == {k: expected[k] for k in row}
    assert after["created_at"] == before["created_at"]
    assert api.get(detail("items", "sku-2")).json() == neighbour


def test_item_patch_with_its_own_id_in_the_body_is_accepted(api: APIClient) -> None:
    post_items(api, item_row("sku-1"))
    response = api.patch(detail("items", "sku-1"), {"id": "sku-1", "title": "X"}, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "X"


def test_item_patch_recomputes_content_hash_only_for_text(api: APIClient, scoped: Tenant) -> None:
    post_items(api, item_row("sku-1"))
    original = Item.objects.get(external_id="sku-1").content_hash
    api.patch(detail("items", "sku-1"), {"attributes": {"x": 1}}, format="json")
    assert Item.objects.get(external_id="sku-1").content_hash == original
    api.patch(detail("items", "sku-1"), {"description": "changed"}, format="json")
    assert Item.objects.get(external_id="sku-1").content_hash != original


@pytest.mark.parametrize(
    "change",
    [{"attributes": {"age_band": "35-44"}}, {"profile_text": "Only the text"}, {}],
    ids=["attributes", "profile_text", "empty"],
)
def test_user_patch_changes_only_given_fields(api: APIClient, change: dict[str, Any]) -> None:
    row = user_row("u-1")
    post_users(api, row)
    before = api.get(detail("users", "u-1")).json()

    response = api.patch(detail("users", "u-1"), change, format="json")

    assert response.status_code == 200, response.content
    after = response.json()
    assert set(after) == USER_FIELDS
    assert after == api.get(detail("users", "u-1")).json()
    expected = {**before, **change}
    assert {k: after[k] for k in row} == {k: expected[k] for k in row}


def test_item_delete_then_get_is_404(api: APIClient, tenant: Tenant) -> None:
    post_items(api, item_row("sku-1"), item_row("sku-2"))
    response = api.delete(detail("items", "sku-1"))
    assert response.status_code == 204
    assert response.content == b""
    assert_error(api.get(detail("items", "sku-1")), 404, "not_found")
    assert_error(api.patch(detail("items", "sku-1"), {"title": "x"}, format="json"), 404)
    assert_error(api.delete(detail("items", "sku-1")), 404, "not_found")
    remaining = Item.objects.for_tenant(tenant).values_list("external_id", flat=True)
    assert list(remaining) == ["sku-2"]


def test_user_delete_then_get_is_404(api: APIClient, tenant: Tenant) -> None:
    post_users(api, user_row("u-1"), user_row("u-2"))
    assert api.delete(detail("users", "u-1")).status_code == 204
    assert_error(api.get(detail("users", "u-1")), 404, "not_found")
    assert_error(api.delete(detail("users", "u-1")), 404, "not_found")
    remaining = EndUser.objects.for_tenant(tenant).values_list("external_id", flat=True)
    assert list(remaining) == ["u-2"]


def test_deleting_an_item_or_user_removes_its_interactions(api: APIClient, tenant: Tenant) -> None:
    post_items(api, item_row("sku-1"), item_row("sku-2"))
    events = [
        {"user": "u-1", "item": "sku-1", "type": "view", "event_id": "e-1"},
        {"user": "u-1", "item": "sku-2", "type": "view", "event_id": "e-2"},
        {"user": "u-2", "item": "sku-2", "type": "view", "event_id": "e-3"},
    ]
    response = api.post("/api/v1/interactions/batch", {"interactions": events}, format="json")
    assert response.status_code == 200
    api.delete(detail("items", "sku-1"))
    assert Interaction.objects.for_tenant(tenant).count() == 2
    api.delete(detail("users", "u-1"))
    assert list(Interaction.objects.for_tenant(tenant).values_list("event_id", flat=True)) == [
        "e-3"
    ]


@pytest.mark.parametrize("kind", ["items", "users"])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_missing_id_is_404_in_the_envelope(api: APIClient, kind: str, method: str) -> None:
    response = getattr(api, method)(detail(kind, "nope"), {}, format="json")
    error = assert_error(response, 404, "not_found")
    assert "nope" in error["message"]


@pytest.mark.parametrize("kind", ["items", "users"])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_an_id_with_a_nul_character_is_404_not_500(api: APIClient, kind: str, method: str) -> None:
    # PostgreSQL text cannot hold NUL, so no such id can exist; it must not reach the query.
    api.raise_request_exception = False
    response = getattr(api, method)(f"/api/v1/{kind}/a%00b", {"title": "x"}, format="json")
    assert_error(response, 404, "not_found")


# --- cursor pages ----------------------------------------------------------------------------


def _seed(api: APIClient, kind: str, count: int) -> set[str]:
    ids = {f"{kind}-{n:03d}" for n in range(count)}
    if kind == "items":
        post_items(api, *(item_row(i) for i in sorted(ids)))
    else:
        post_users(api, *(user_row(i) for i in sorted(ids)))
    return ids


def _walk(api: APIClient, url: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Follow `next` links to the end; return every id seen and every page body."""
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        assert len(pages) < 50, "pagination does not terminate"
        response = api.get(next_url)
        assert response.status_code == 200, response.content
        page = response.json()
        assert set(page) == {"next", "previous", "results"}
        pages.append(page)
        seen.extend(row["id"] for row in page["results"])
        next_url = page["next"]
    return seen, pages


@pytest.mark.parametrize("kind", ["items", "users"])
@pytest.mark.parametrize("limit", [1, 7, 23, 1000])
def test_walking_every_page_returns_each_row_once(api: APIClient, kind: str, limit: int) -> None:
    ids = _seed(api, kind, 23)
    seen, pages = _walk(api, f"/api/v1/{kind}?limit={limit}")
    assert len(seen) == len(set(seen)) == 23
    assert set(seen) == ids
    assert [len(p["results"]) for p in pages[:-1]] == [limit] * (len(pages) - 1)
    assert len(pages) == -(-23 // limit)
    assert pages[0]["previous"] is None
    assert pages[-1]["next"] is None
    fields = ITEM_FIELDS if kind == "items" else USER_FIELDS
    assert all(set(row) == fields for page in pages for row in page["results"])


def test_default_page_size_is_100(api: APIClient) -> None:
    post_items(api, *(item_row(f"sku-{n}") for n in range(101)))
    first = api.get("/api/v1/items").json()
    assert len(first["results"]) == 100
    assert first["next"] is not None
    assert len(api.get(first["next"]).json()["results"]) == 1


def test_previous_link_walks_back(api: APIClient) -> None:
    _seed(api, "items", 9)
    first = api.get("/api/v1/items?limit=4").json()
    second = api.get(first["next"]).json()
    back = api.get(second["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]


def test_rows_added_during_a_walk_are_not_repeated(api: APIClient) -> None:
    ids = _seed(api, "items", 6)
    first = api.get("/api/v1/items?limit=4").json()
    post_items(api, item_row("late-arrival"))
    rest, _ = _walk(api, first["next"])
    seen = [r["id"] for r in first["results"]] + rest
    assert len(seen) == len(set(seen))
    assert set(seen) == ids | {"late-arrival"}


def test_empty_list(api: APIClient) -> None:
    assert api.get("/api/v1/items").json() == {"next": None, "previous": None, "results": []}


def _forged(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


@pytest.mark.parametrize("kind", ["items", "users", "jobs"])
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=%E2%98%83", "cursor"),
        (f"cursor={_forged('o=-1')}", "cursor"),
        # A well-formed cursor whose position is not a key: must not reach the query (was a 500).
        (f"cursor={_forged('p=abc')}", "cursor"),
        (f"cursor={_forged('p=1%27%3B--')}", "cursor"),
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
        ("limit=1001", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("limit=", "limit"),
        ("limit=1.5", "limit"),
    ],
)
def test_bad_page_parameters_are_400(api: APIClient, kind: str, query: str, field: str) -> None:
    _seed(api, "items", 2)
    api.raise_request_exception = False
    error = assert_error(api.get(f"/api/v1/{kind}?{query}"), 400, "validation_error")
    assert error["details"] == [{"field": field, "message": error["details"][0]["message"]}]


def test_limit_at_the_maximum_is_accepted(api: APIClient) -> None:
    assert api.get("/api/v1/items?limit=1000").status_code == 200
