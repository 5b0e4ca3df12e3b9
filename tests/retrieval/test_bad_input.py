"""Bad input to similar items, recommendations and search: a clear 4xx in the envelope, never a
500, and nothing written. The tenant is encoded, as in production: what a missing check would let
through reaches the real neighbour queries, not a 409 `not_ready`.
"""

import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api.support import ApiResponse, assert_error, row_counts

SEARCH = "/api/v1/search"
SIMILAR = "/api/v1/items/watch-1/similar"
RECOMMEND = "/api/v1/users/buyer/recommendations"

BAD_COUNTS = ["0", "101", "-1", "abc", "true", "1.5", "1e3"]
BAD_FLAGS = ["maybe", "2", "TRUE!"]


def get(url: str, **params: Any) -> Callable[[APIClient], ApiResponse]:
    return lambda api: api.get(url, params)


def post_json(body: Any) -> Callable[[APIClient], ApiResponse]:
    return lambda api: api.post(SEARCH, body, format="json")


def post_raw(
    data: str, content_type: str = "application/json"
) -> Callable[[APIClient], ApiResponse]:
    return lambda api: api.generic("POST", SEARCH, data, content_type=content_type)


CASES: dict[str, tuple[Callable[[APIClient], ApiResponse], int, str, str | None]] = {
    # similar items: (request, status, code, the field named in the details)
    **{
        f"similar-count-{raw!r}": (get(SIMILAR, count=raw), 400, "validation_error", "count")
        for raw in BAD_COUNTS
    },
    **{
        f"similar-explain-{raw}": (get(SIMILAR, explain=raw), 400, "validation_error", "explain")
        for raw in BAD_FLAGS
    },
    "similar-unknown-item": (get("/api/v1/items/nope/similar"), 404, "not_found", None),
    # recommendations
    **{
        f"recommend-count-{raw!r}": (get(RECOMMEND, count=raw), 400, "validation_error", "count")
        for raw in BAD_COUNTS
    },
    **{
        f"recommend-explain-{raw}": (
            get(RECOMMEND, explain=raw),
            400,
            "validation_error",
            "explain",
        )
        for raw in BAD_FLAGS
    },
    "recommend-empty-context": (
        get(RECOMMEND, context_items=""),
        400,
        "validation_error",
        "context_items",
    ),
    # search: the query
    "search-no-query": (post_json({"count": 3}), 400, "validation_error", "query"),
    "search-empty-query": (post_json({"query": ""}), 400, "validation_error", "query"),
    "search-blank-query": (post_json({"query": " \t\n "}), 400, "validation_error", "query"),
    "search-long-query": (post_json({"query": "a" * 1001}), 400, "validation_error", "query"),
    "search-null-query": (post_json({"query": None}), 400, "validation_error", "query"),
    "search-number-query": (post_json({"query": 42}), 400, "validation_error", "query"),
    "search-list-query": (post_json({"query": ["smart"]}), 400, "validation_error", "query"),
    "search-object-query": (post_json({"query": {"q": "x"}}), 400, "validation_error", "query"),
    # search: the body
    "search-unknown-field": (
        post_json({"query": "smart", "limit": 3}),
        400,
        "validation_error",
        "limit",
    ),
    "search-list-body": (post_json(["smart watch"]), 400, "validation_error", None),
    "search-string-body": (post_json("smart watch"), 400, "validation_error", None),
    "search-number-body": (post_json(7), 400, "validation_error", None),
    "search-empty-body": (post_raw(""), 400, "validation_error", "query"),
    "search-broken-json": (post_raw('{"query": "smart'), 400, "parse_error", None),
    "search-nan-count": (post_raw('{"query": "smart", "count": NaN}'), 400, "parse_error", None),
    "search-infinite-count": (
        post_raw('{"query": "smart", "count": 1e400}'),
        400,
        "parse_error",
        None,
    ),
    "search-form-body": (
        post_raw("query=smart", "application/x-www-form-urlencoded"),
        415,
        "unsupported_media_type",
        None,
    ),
    # search: the user
    **{
        f"search-user-{name}": (
            post_json({"query": "smart", "user": value}),
            400,
            "validation_error",
            "user",
        )
        for name, value in [("number", 5), ("list", ["buyer"]), ("object", {}), ("empty", "")]
    },
    "search-user-false": (
        post_json({"query": "smart", "user": False}),
        400,
        "validation_error",
        "user",
    ),
    "search-unknown-user": (post_json({"query": "smart", "user": "nope"}), 404, "not_found", None),
    "search-user-with-nul": (
        post_json({"query": "smart", "user": "bu\x00yer"}),
        400,
        "validation_error",
        "user",
    ),
    # search: count and explain
    **{
        f"search-count-{raw!r}": (
            post_json({"query": "smart", "count": raw}),
            400,
            "validation_error",
            "count",
        )
        for raw in [0, 101, -3, 10**30, "abc", True, False, 1.5, [3], {"n": 3}]
    },
    **{
        f"search-explain-{raw!r}": (
            post_json({"query": "smart", "explain": raw}),
            400,
            "validation_error",
            "explain",
        )
        for raw in ["maybe", 2, [], {"x": 1}]
    },
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_is_a_clear_4xx(read_only_api: APIClient, case: str) -> None:
    send, status, code, field = CASES[case]
    before = row_counts()
    error = assert_error(send(read_only_api), status, code)
    if field is not None:
        assert [detail["field"] for detail in error["details"]] == [field], error
    assert row_counts() == before


@pytest.mark.parametrize("body", [["smart watch"], "smart watch", 7, None, True])
def test_a_body_that_is_not_an_object_is_named_as_such(read_only_api: APIClient, body: Any) -> None:
    response = read_only_api.generic(
        "POST", SEARCH, json.dumps(body), content_type="application/json"
    )
    error = assert_error(response, 400, "validation_error")
    assert "JSON object" in error["message"]


def test_unknown_ids_name_the_id(read_only_api: APIClient) -> None:
    item = assert_error(read_only_api.get("/api/v1/items/nope/similar"), 404, "not_found")
    assert "'nope'" in item["message"]
    searched = assert_error(
        read_only_api.post(SEARCH, {"query": "x", "user": "nope"}, format="json"), 404, "not_found"
    )
    assert searched["message"] == "No user with id 'nope'."
    # A never-seen user is a visitor to recommend to, not an error (the cold-start list).
    assert read_only_api.get("/api/v1/users/nope/recommendations").status_code == 200


@pytest.mark.parametrize(
    "send",
    [
        get(SIMILAR, count="1"),
        get(SIMILAR, count="100", explain="true"),
        get(RECOMMEND, count="", explain="0"),
        post_json({"query": "a" * 1000, "count": 100, "explain": False}),
        post_json({"query": " smart watch ", "user": "buyer", "count": 1, "explain": True}),
    ],
    ids=["similar-1", "similar-100", "recommend-defaults", "search-longest", "search-user"],
)
def test_the_edges_of_what_is_allowed_are_accepted(
    read_only_api: APIClient, send: Callable[[APIClient], ApiResponse]
) -> None:
    response = send(read_only_api)
    assert response.status_code == 200, response.content
    assert response.json()["items"]


def test_the_same_checks_hold_before_encoding(
    catalog: APIClient, tenant: Any, use_tiny_encoder: Callable[..., None]
) -> None:
    """Without vectors, bad input is still a 400 (not a 409): input is checked first."""
    use_tiny_encoder(tenant)
    assert_error(catalog.get(SIMILAR, {"count": "0"}), 400, "validation_error")
    assert_error(catalog.post(SEARCH, {"query": ""}, format="json"), 400, "validation_error")
    assert_error(catalog.post(SEARCH, {"query": "x", "n": 1}, format="json"), 400)
