"""Bad input on every write endpoint: one exact 4xx, the envelope, faulty rows named, and nothing
half-written (row counts and every column of both tenants' rows compared before and after)."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from recommender.services.ingest.rows import MAX_ERRORS_REPORTED
from tenants.models import Tenant
from tests.api.support import ApiResponse, assert_error, row_counts, tenant_rows
from tests.factories import EndUserFactory, ItemFactory


@dataclass(frozen=True)
class Batch:
    url: str
    key: str
    valid: Callable[[int], dict[str, Any]]
    unique_field: str


def _item(n: int) -> dict[str, Any]:
    # Row 0 updates an existing item: a half-written batch would show in its columns.
    if n == 0:
        return {"id": "sku-1", "title": "Changed by row 0"}
    return {"id": f"new-{n}", "title": "New", "categories": ["c"], "attributes": {"k": n}}


def _user(n: int) -> dict[str, Any]:
    if n == 0:
        return {"id": "u-1", "profile_text": "Changed by row 0"}
    return {"id": f"new-user-{n}", "attributes": {"k": n}}


def _interaction(n: int) -> dict[str, Any]:
    # New users: a half-written batch would also have created them.
    return {"user": f"new-user-{n}", "item": "sku-1", "type": "view", "event_id": f"ev-{n}"}


BATCHES: dict[str, Batch] = {
    "items": Batch("/api/v1/items/batch", "items", _item, "id"),
    "users": Batch("/api/v1/users/batch", "users", _user, "id"),
    "interactions": Batch("/api/v1/interactions/batch", "interactions", _interaction, "event_id"),
}
PATCHES: dict[str, str] = {"item": "/api/v1/items/sku-1", "user": "/api/v1/users/u-1"}
EVERY_WRITE: list[tuple[str, str]] = [("post", b.url) for b in BATCHES.values()] + [
    ("patch", url) for url in PATCHES.values()
]


@pytest.fixture
def api(api: APIClient) -> APIClient:
    """The tenant's client, answering a server error with a 500 response instead of raising."""
    api.raise_request_exception = False
    return api


@pytest.fixture(autouse=True)
def untouched(tenant: Tenant, other_tenant: Tenant) -> None:
    """Rows of both tenants; each test must leave them exactly as they were unless it says so."""
    for owner in (tenant, other_tenant):
        ItemFactory(tenant=owner, external_id="sku-1", title="Original", attributes={"a": 1})
        EndUserFactory(tenant=owner, external_id="u-1", profile_text="Original")


def snapshot(tenant: Tenant, other_tenant: Tenant) -> tuple[Any, ...]:
    return row_counts(), tenant_rows(tenant), tenant_rows(other_tenant)


def send(api: APIClient, method: str, url: str, body: Any) -> ApiResponse:
    """Send `body` as JSON; bytes are sent as they are (for malformed documents)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    # bytes are what a client sends; the stubs only admit str
    return api.generic(method.upper(), url, raw, content_type="application/json")  # type: ignore[arg-type]


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"n": value}
    return value


# --- the body as a whole ---------------------------------------------------------------------

MALFORMED: list[Any] = [
    pytest.param(b'{"items": [', id="truncated"),
    pytest.param(b'{"items": [],}', id="trailing-comma"),
    pytest.param(b"{'items': []}", id="single-quotes"),
    pytest.param(b'{"items": [{"id": "\xff\xfe"}]}', id="not-utf8"),
    pytest.param(b'{"a": NaN}', id="nan"),
    pytest.param(b'{"a": 1e999}', id="infinity"),
    pytest.param(b"[" * 2000 + b"]" * 2000, id="nested-too-deep"),
    pytest.param(b'"\\ud800"', id="lone-surrogate"),
]

NOT_AN_OBJECT: list[Any] = [
    pytest.param([], id="empty-list"),
    pytest.param([{"id": "x"}], id="list-of-rows"),
    pytest.param("items", id="string"),
    pytest.param(42, id="number"),
    pytest.param(None, id="null"),
    pytest.param(True, id="true"),
]


@pytest.mark.parametrize(("method", "url"), EVERY_WRITE)
@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_json_is_a_parse_error(
    api: APIClient, tenant: Tenant, other_tenant: Tenant, method: str, url: str, body: bytes
) -> None:
    before = snapshot(tenant, other_tenant)
    assert_error(send(api, method, url, body), 400, "parse_error")
    assert snapshot(tenant, other_tenant) == before


@pytest.mark.parametrize(("method", "url"), EVERY_WRITE)
@pytest.mark.parametrize("body", NOT_AN_OBJECT)
def test_a_body_that_is_not_an_object_is_rejected(
    api: APIClient, tenant: Tenant, other_tenant: Tenant, method: str, url: str, body: Any
) -> None:
    before = snapshot(tenant, other_tenant)
    assert_error(send(api, method, url, body), 400, "validation_error")
    assert snapshot(tenant, other_tenant) == before


@pytest.mark.parametrize("name", BATCHES)
@pytest.mark.parametrize(
    ("make_body", "field"),
    [
        pytest.param(lambda key, row: {}, "key", id="missing-list"),
        pytest.param(lambda key, row: {"rows": [row]}, "key", id="wrong-key"),
        pytest.param(lambda key, row: {key: row}, "key", id="object-not-list"),
        pytest.param(lambda key, row: {key: "rows"}, "key", id="string-not-list"),
        pytest.param(lambda key, row: {key: None}, "key", id="null-not-list"),
        pytest.param(lambda key, row: {key: []}, None, id="empty-list"),
        pytest.param(lambda key, row: {key: [row], "extra": 1}, "extra", id="unknown-top-field"),
    ],
)
def test_batch_shape_faults(
    api: APIClient,
    tenant: Tenant,
    other_tenant: Tenant,
    name: str,
    make_body: Callable[[str, dict[str, Any]], Any],
    field: str | None,
) -> None:
    batch = BATCHES[name]
    before = snapshot(tenant, other_tenant)
    body = make_body(batch.key, batch.valid(1))
    error = assert_error(send(api, "post", batch.url, body), 400, "validation_error")
    if field is not None:
        expected = batch.key if field == "key" else field
        assert expected in [d.get("field") for d in error["details"]]
    assert snapshot(tenant, other_tenant) == before


# --- faulty rows -----------------------------------------------------------------------------

ROW_FAULTS: dict[str, list[tuple[str, Any, str | None]]] = {
    "items": [
        ("id-missing", {"title": "x"}, "id"),
        ("id-null", {"id": None}, "id"),
        ("id-empty", {"id": ""}, "id"),
        ("id-surrounding-space", {"id": " sku-9"}, "id"),
        ("id-float", {"id": 1.5}, "id"),
        ("id-bool", {"id": True}, "id"),
        ("id-list", {"id": ["sku-9"]}, "id"),
        ("id-object", {"id": {"v": "sku-9"}}, "id"),
        ("id-256-chars", {"id": "x" * 256}, "id"),
        ("id-nul", {"id": "sku\x009"}, "id"),
        ("title-501-chars", {"id": "sku-9", "title": "x" * 501}, "title"),
        ("title-number", {"id": "sku-9", "title": 5}, "title"),
        ("title-nul", {"id": "sku-9", "title": "a\x00"}, "title"),
        ("description-too-long", {"id": "sku-9", "description": "x" * 20_001}, "description"),
        ("description-list", {"id": "sku-9", "description": ["x"]}, "description"),
        ("categories-string", {"id": "sku-9", "categories": "shoes"}, "categories"),
        ("categories-number-entry", {"id": "sku-9", "categories": [1]}, "categories"),
        ("categories-empty-entry", {"id": "sku-9", "categories": [""]}, "categories"),
        ("categories-51", {"id": "sku-9", "categories": ["c"] * 51}, "categories"),
        ("category-201-chars", {"id": "sku-9", "categories": ["x" * 201]}, "categories"),
        ("category-nul", {"id": "sku-9", "categories": ["a\x00"]}, "categories"),
        ("attributes-list", {"id": "sku-9", "attributes": []}, "attributes"),
        ("attributes-string", {"id": "sku-9", "attributes": "x"}, "attributes"),
        (
            "attributes-101-keys",
            {"id": "sku-9", "attributes": {f"k{n}": n for n in range(101)}},
            "attributes",
        ),
        ("attributes-nul-value", {"id": "sku-9", "attributes": {"a": "\x00"}}, "attributes"),
        ("attributes-nul-key", {"id": "sku-9", "attributes": {"a\x00": 1}}, "attributes"),
        (
            "attributes-nested-nul",
            {"id": "sku-9", "attributes": {"a": {"b": ["ok", "\x00"]}}},
            "attributes",
        ),
        ("attributes-too-deep", {"id": "sku-9", "attributes": nested(900)}, "attributes"),
        ("available-string", {"id": "sku-9", "available": "yes"}, "available"),
        ("available-number", {"id": "sku-9", "available": 1}, "available"),
        ("unknown-field", {"id": "sku-9", "price": 10}, "price"),
        ("user-field-on-item", {"id": "sku-9", "profile_text": "x"}, "profile_text"),
        ("row-string", "sku-9", None),
        ("row-number", 9, None),
        ("row-null", None, None),
        ("row-list", ["sku-9"], None),
    ],
    "users": [
        ("id-missing", {"profile_text": "x"}, "id"),
        ("id-empty", {"id": ""}, "id"),
        ("id-float", {"id": 2.5}, "id"),
        ("id-256-chars", {"id": "x" * 256}, "id"),
        ("id-nul", {"id": "u\x00"}, "id"),
        ("attributes-list", {"id": "u-9", "attributes": ["a"]}, "attributes"),
        ("attributes-nested-nul", {"id": "u-9", "attributes": {"a": ["\x00"]}}, "attributes"),
        ("attributes-too-deep", {"id": "u-9", "attributes": nested(30)}, "attributes"),
        ("profile-text-number", {"id": "u-9", "profile_text": 5}, "profile_text"),
        ("profile-text-too-long", {"id": "u-9", "profile_text": "x" * 20_001}, "profile_text"),
        ("profile-text-nul", {"id": "u-9", "profile_text": "\x00"}, "profile_text"),
        ("item-field-on-user", {"id": "u-9", "title": "x"}, "title"),
        ("row-string", "u-9", None),
        ("row-list", [], None),
    ],
    "interactions": [
        ("user-missing", {"item": "sku-1", "type": "view"}, "user"),
        ("item-missing", {"user": "u-9", "type": "view"}, "item"),
        ("type-missing", {"user": "u-9", "item": "sku-1"}, "type"),
        ("user-null", {"user": None, "item": "sku-1", "type": "view"}, "user"),
        ("user-256-chars", {"user": "x" * 256, "item": "sku-1", "type": "view"}, "user"),
        ("user-list", {"user": ["u"], "item": "sku-1", "type": "view"}, "user"),
        ("user-nul", {"user": "u\x00", "item": "sku-1", "type": "view"}, "user"),
        ("item-bool", {"user": "u-9", "item": False, "type": "view"}, "item"),
        ("item-256-chars", {"user": "u-9", "item": "x" * 256, "type": "view"}, "item"),
        ("item-nul", {"user": "u-9", "item": "sku\x001", "type": "view"}, "item"),
        ("item-unknown", {"user": "u-9", "item": "sku-x", "type": "view"}, "item"),
        ("type-unknown", {"user": "u-9", "item": "sku-1", "type": "teleport"}, "type"),
        ("type-number", {"user": "u-9", "item": "sku-1", "type": 1}, "type"),
        ("type-deep", {"user": "u-9", "item": "sku-1", "type": nested(900)}, "type"),
        ("value-string", {"user": "u-9", "item": "sku-1", "type": "view", "value": "1"}, "value"),
        ("value-bool", {"user": "u-9", "item": "sku-1", "type": "view", "value": True}, "value"),
        ("value-list", {"user": "u-9", "item": "sku-1", "type": "view", "value": [1]}, "value"),
        (
            "timestamp-naive",
            {"user": "u-9", "item": "sku-1", "type": "view", "timestamp": "2026-11-28T10:00:00"},
            "timestamp",
        ),
        (
            "timestamp-number",
            {"user": "u-9", "item": "sku-1", "type": "view", "timestamp": 1764324000},
            "timestamp",
        ),
        (
            "event-id-number",
            {"user": "u-9", "item": "sku-1", "type": "view", "event_id": 7},
            "event_id",
        ),
        (
            "event-id-256-chars",
            {"user": "u-9", "item": "sku-1", "type": "view", "event_id": "e" * 256},
            "event_id",
        ),
        (
            "event-id-nul",
            {"user": "u-9", "item": "sku-1", "type": "view", "event_id": "e\x00"},
            "event_id",
        ),
        (
            "recommendation-id-65-chars",
            {"user": "u-9", "item": "sku-1", "type": "view", "recommendation_id": "r" * 65},
            "recommendation_id",
        ),
        (
            "recommendation-id-object",
            {"user": "u-9", "item": "sku-1", "type": "view", "recommendation_id": {}},
            "recommendation_id",
        ),
        ("unknown-field", {"user": "u-9", "item": "sku-1", "type": "view", "score": 1}, "score"),
        ("row-string", "view", None),
        ("row-null", None, None),
    ],
}


@pytest.mark.parametrize(
    ("name", "bad_row", "field"),
    [
        pytest.param(name, bad_row, field, id=f"{name}-{case}")
        for name, cases in ROW_FAULTS.items()
        for case, bad_row, field in cases
    ],
)
def test_one_faulty_row_rejects_the_whole_batch(
    api: APIClient,
    tenant: Tenant,
    other_tenant: Tenant,
    name: str,
    bad_row: Any,
    field: str | None,
) -> None:
    batch = BATCHES[name]
    before = snapshot(tenant, other_tenant)
    body = {batch.key: [batch.valid(0), bad_row, batch.valid(2)]}

    error = assert_error(send(api, "post", batch.url, body), 400, "validation_error")

    assert error["details"] == [
        {"row": 2, "field": field, "message": error["details"][0]["message"]}
    ]
    assert error["details"][0]["message"]
    assert error["message"].startswith("1 row is invalid")
    assert snapshot(tenant, other_tenant) == before


@pytest.mark.parametrize("name", BATCHES)
def test_every_faulty_row_is_named(
    api: APIClient, tenant: Tenant, other_tenant: Tenant, name: str
) -> None:
    batch = BATCHES[name]
    rows: list[Any] = [batch.valid(n) for n in range(6)]
    rows[1] = "not an object"
    rows[4] = {**batch.valid(4), "unknown": True}
    rows[5] = None
    before = snapshot(tenant, other_tenant)

    error = assert_error(send(api, "post", batch.url, {batch.key: rows}), 400, "validation_error")

    assert [(d["row"], d["field"]) for d in error["details"]] == [
        (2, None),
        (5, "unknown"),
        (6, None),
    ]
    assert error["message"].startswith("3 rows are invalid")
    assert snapshot(tenant, other_tenant) == before


@pytest.mark.parametrize("name", BATCHES)
def test_many_faulty_rows_are_capped_but_counted(
    api: APIClient, tenant: Tenant, other_tenant: Tenant, name: str
) -> None:
    batch = BATCHES[name]
    faulty = MAX_ERRORS_REPORTED + 50
    rows: list[Any] = [batch.valid(0)] + [None] * faulty
    before = snapshot(tenant, other_tenant)

    error = assert_error(send(api, "post", batch.url, {batch.key: rows}), 400, "validation_error")

    assert len(error["details"]) == MAX_ERRORS_REPORTED
    assert [d["row"] for d in error["details"]] == list(range(2, MAX_ERRORS_REPORTED + 2))
    assert error["message"].startswith(f"{faulty} rows are invalid")
    assert f"first {MAX_ERRORS_REPORTED} shown" in error["message"]
    assert snapshot(tenant, other_tenant) == before


@pytest.mark.parametrize(
    ("name", "rows", "duplicate_row"),
    [
        pytest.param("items", [_item(1), _item(2), _item(1)], 3, id="items"),
        pytest.param("items", [{"id": 7}, {"id": "7"}], 2, id="items-number-and-string"),
        pytest.param("users", [_user(0), _user(0)], 2, id="users"),
        pytest.param(
            "interactions",
            [_interaction(1), _interaction(2), {**_interaction(3), "event_id": "ev-1"}],
            3,
            id="interactions-event-id",
        ),
    ],
)
def test_duplicate_ids_inside_one_batch_are_rejected(
    api: APIClient,
    tenant: Tenant,
    other_tenant: Tenant,
    name: str,
    rows: list[dict[str, Any]],
    duplicate_row: int,
) -> None:
    batch = BATCHES[name]
    before = snapshot(tenant, other_tenant)

    error = assert_error(send(api, "post", batch.url, {batch.key: rows}), 400, "validation_error")

    assert [(d["row"], d["field"]) for d in error["details"]] == [
        (duplicate_row, batch.unique_field)
    ]
    assert "duplicate" in error["details"][0]["message"]
    assert snapshot(tenant, other_tenant) == before


def deep_json(depth: int) -> str:
    """A JSON object nested `depth` levels: too deep for json.dumps or repr(), not for orjson."""
    return '{"n":' * (depth - 1) + '{"leaf":1}' + "}" * (depth - 1)


@pytest.mark.parametrize(
    ("method", "url", "template", "field"),
    [
        pytest.param(
            "post",
            "/api/v1/items/batch",
            '{"items":[{"id":"d","attributes":%s}]}',
            "attributes",
            id="items-batch",
        ),
        pytest.param(
            "post",
            "/api/v1/users/batch",
            '{"users":[{"id":"d","attributes":%s}]}',
            "attributes",
            id="users-batch",
        ),
        pytest.param(
            "post",
            "/api/v1/interactions/batch",
            '{"interactions":[{"user":"d","item":"sku-1","type":%s}]}',
            "type",
            id="interactions-batch",
        ),
        pytest.param(
            "patch", "/api/v1/items/sku-1", '{"attributes":%s}', "attributes", id="item-patch"
        ),
        pytest.param(
            "patch", "/api/v1/users/u-1", '{"attributes":%s}', "attributes", id="user-patch"
        ),
    ],
)
def test_values_nested_a_thousand_deep_are_rejected(
    api: APIClient,
    tenant: Tenant,
    other_tenant: Tenant,
    method: str,
    url: str,
    template: str,
    field: str,
) -> None:
    before = snapshot(tenant, other_tenant)
    body = (template % deep_json(1015)).encode()
    error = assert_error(send(api, method, url, body), 400, "validation_error")
    assert [d["field"] for d in error["details"]] == [field]
    assert snapshot(tenant, other_tenant) == before


# --- size limits -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", BATCHES)
def test_batch_over_the_row_limit_is_413(
    api: APIClient, tenant: Tenant, other_tenant: Tenant, settings: Any, name: str
) -> None:
    settings.RECSYS_MAX_BATCH_ROWS = 3
    batch = BATCHES[name]
    before = snapshot(tenant, other_tenant)

    rows = [batch.valid(n) for n in range(4)]
    error = assert_error(send(api, "post", batch.url, {batch.key: rows}), 413, "batch_too_large")
    assert "3" in error["message"]
    assert snapshot(tenant, other_tenant) == before

    response = send(api, "post", batch.url, {batch.key: rows[:3]})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(("method", "url"), EVERY_WRITE)
def test_body_over_the_upload_limit_is_413(
    api: APIClient,
    tenant: Tenant,
    other_tenant: Tenant,
    settings: Any,
    method: str,
    url: str,
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 512
    before = snapshot(tenant, other_tenant)
    if method == "post":
        key = url.split("/")[-2]
        body: Any = {key: [BATCHES[key].valid(n) for n in range(40)]}
    else:
        body = {"attributes": {"padding": "x" * 1000}}
    assert len(json.dumps(body)) > 512

    assert_error(send(api, method, url, body), 413, "request_too_large")
    assert snapshot(tenant, other_tenant) == before


@pytest.mark.parametrize(("method", "url"), EVERY_WRITE)
@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("text/plain", b"items"),
        ("application/x-www-form-urlencoded", b"items=1"),
        ("application/xml", b"<items/>"),
    ],
)
def test_a_body_that_is_not_json_is_415(
    api: APIClient,
    tenant: Tenant,
    other_tenant: Tenant,
    method: str,
    url: str,
    content_type: str,
    payload: bytes,
) -> None:
    before = snapshot(tenant, other_tenant)
    response = api.generic(method.upper(), url, payload.decode(), content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")
    assert snapshot(tenant, other_tenant) == before


# --- PATCH -----------------------------------------------------------------------------------

PATCH_FAULTS: dict[str, list[tuple[str, Any, str | None]]] = {
    "item": [
        ("title-501-chars", {"title": "x" * 501}, "title"),
        ("title-number", {"title": 5}, "title"),
        ("title-list", {"title": ["x"]}, "title"),
        ("title-nul", {"title": "\x00"}, "title"),
        ("description-too-long", {"description": "x" * 20_001}, "description"),
        ("categories-string", {"categories": "shoes"}, "categories"),
        ("categories-number-entry", {"categories": [1]}, "categories"),
        ("category-201-chars", {"categories": ["x" * 201]}, "categories"),
        ("attributes-list", {"attributes": [1]}, "attributes"),
        ("attributes-nested-nul", {"attributes": {"a": {"b": "\x00"}}}, "attributes"),
        ("attributes-too-deep", {"attributes": nested(500)}, "attributes"),
        ("available-string", {"available": "no"}, "available"),
        ("available-number", {"available": 0}, "available"),
        # null is no boolean: it used to fall back to the default and make the item available
        ("available-null", {"available": None}, "available"),
        ("unknown-field", {"title": "ok", "price": 1}, "price"),
        ("user-field-on-item", {"profile_text": "x"}, "profile_text"),
        ("other-id", {"id": "sku-2", "title": "x"}, "id"),
        ("id-number", {"id": 1}, "id"),
    ],
    "user": [
        ("attributes-list", {"attributes": []}, "attributes"),
        ("attributes-string", {"attributes": "x"}, "attributes"),
        ("attributes-nul-key", {"attributes": {"\x00": 1}}, "attributes"),
        ("profile-text-number", {"profile_text": 1}, "profile_text"),
        ("profile-text-too-long", {"profile_text": "x" * 20_001}, "profile_text"),
        ("item-field-on-user", {"title": "x"}, "title"),
        ("unknown-field", {"age": 30}, "age"),
        ("other-id", {"id": "u-2"}, "id"),
    ],
}


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        pytest.param(name, body, field, id=f"{name}-{case}")
        for name, cases in PATCH_FAULTS.items()
        for case, body, field in cases
    ],
)
def test_patch_faults_change_nothing(
    api: APIClient, tenant: Tenant, other_tenant: Tenant, name: str, body: Any, field: str | None
) -> None:
    before = snapshot(tenant, other_tenant)
    error = assert_error(send(api, "patch", PATCHES[name], body), 400, "validation_error")
    assert [d.get("field") for d in error["details"]] == [field]
    assert all("row" not in d for d in error["details"])
    assert snapshot(tenant, other_tenant) == before


@pytest.mark.parametrize("url", PATCHES.values())
@pytest.mark.parametrize("suffix", ["-missing", "x" * 300], ids=["missing", "id-over-255"])
def test_patch_of_a_missing_id_with_a_bad_body_is_404(
    api: APIClient, tenant: Tenant, other_tenant: Tenant, url: str, suffix: str
) -> None:
    before = snapshot(tenant, other_tenant)
    assert_error(send(api, "patch", url + suffix, {"title": 5}), 404, "not_found")
    assert snapshot(tenant, other_tenant) == before
