"""Similar items, semantic search and recommendations over HTTP, with the tiny model encoded.

Expected rankings are recomputed by brute force from the stored vectors, so the assertions hold
whatever the (random) tiny model thinks is similar.
"""

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from rest_framework.test import APIClient

from recommender.engine.config_schema import validate_config
from recommender.models import Item, ServedList
from recommender.services.config import active_config, config_save
from recommender.services.encoding.encode import encode_tenant
from recommender.services.encoding.encoders import encoder_for, encoder_settings
from tenants.models import Tenant
from tests.api.support import ApiResponse, assert_error
from tests.retrieval.conftest import (
    BUYER_EVENTS,
    ITEM_IDS,
    UNAVAILABLE,
    Encoded,
    stored_item_vectors,
)

AVAILABLE = [i for i in ITEM_IDS if i not in UNAVAILABLE]
SEEN_BY_BUYER = {item_id for item_id, _ in BUYER_EVENTS}
RESULT_KEYS = {
    "recommendation_id",
    "model_version",
    "config_version",
    "content_space",
    "experiment",
    "items",
}

Vector = npt.NDArray[np.float32]


def results(response: ApiResponse, *, explained: bool = False) -> list[dict[str, Any]]:
    """The items of a 200 answer, after checking the shape of the whole body."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == RESULT_KEYS, body
    assert re.fullmatch(r"[0-9a-f]{32}", body["recommendation_id"])
    # Nothing is trained in these tests: content similarity and live counts serve.
    assert body["model_version"] is None
    items: list[dict[str, Any]] = body["items"]
    for entry in items:
        assert set(entry) == ({"id", "score", "explanation"} if explained else {"id", "score"})
        assert isinstance(entry["score"], float)
        if explained:
            assert isinstance(entry["explanation"], dict)
            assert entry["explanation"]["sources"]
            assert entry["explanation"]["text"]
    scores = [entry["score"] for entry in items]
    assert scores == sorted(scores, reverse=True)
    ids = [entry["id"] for entry in items]
    assert len(ids) == len(set(ids))
    return items


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [entry["id"] for entry in items]


def ranked(vectors: dict[str, Vector], query: Vector, candidates: list[str]) -> list[str]:
    """Candidates by cosine to `query`, best first."""
    unit = query / np.linalg.norm(query)
    return sorted(candidates, key=lambda i: -float(vectors[i] @ unit))


def encode_query(tenant: Tenant, text: str) -> Vector:
    encoder = encoder_for(encoder_settings(active_config(tenant)["encoder"]))
    vector: Vector = encoder.encode([text])[0]
    return vector


def similar(api: APIClient, item_id: str, **params: Any) -> ApiResponse:
    return api.get(f"/api/v1/items/{item_id}/similar", params)


def recommendations(api: APIClient, user_id: str, **params: Any) -> ApiResponse:
    return api.get(f"/api/v1/users/{user_id}/recommendations", params)


def search(api: APIClient, **body: Any) -> ApiResponse:
    return api.post("/api/v1/search", body, format="json")


# --- similar items --------------------------------------------------------------------------


@pytest.mark.parametrize("item_id", ["watch-1", "shoe-2", "pan-1", "book-1", "mat-1"])
def test_similar_items_are_the_nearest_available_others(encoded: Encoded, item_id: str) -> None:
    vectors = stored_item_vectors(encoded.tenant, encoded.space)
    response = similar(encoded.api, item_id, count=3)
    items = results(response)
    assert response.json()["content_space"] == encoded.space.pk
    assert len(items) == 3
    assert item_id not in ids(items)
    assert not set(ids(items)) & UNAVAILABLE
    others = [i for i in AVAILABLE if i != item_id]
    assert ids(items) == ranked(vectors, vectors[item_id], others)[:3]
    # Scores are fused: each source's score over its best candidate's, times its weight;
    # content alone serves here, so the top item scores the content weight.
    weight = validate_config({})["sources"]["content"]["weight"]
    top_similarity = float(vectors[items[0]["id"]] @ vectors[item_id])
    for entry in items:
        assert entry["score"] == pytest.approx(
            weight * float(vectors[entry["id"]] @ vectors[item_id]) / top_similarity, abs=1e-4
        )


def test_similar_items_default_count_returns_every_eligible_item(encoded: Encoded) -> None:
    items = results(similar(encoded.api, "watch-1"))
    assert sorted(ids(items)) == sorted(set(AVAILABLE) - {"watch-1"})


def test_explanations_only_when_asked(encoded: Encoded) -> None:
    plain = results(similar(encoded.api, "watch-1", count=3, explain="false"))
    explained = results(similar(encoded.api, "watch-1", count=3, explain="true"), explained=True)
    assert ids(plain) == ids(explained)
    assert explained[0]["explanation"]["sources"] == [{"source": "content", "share": 1.0}]
    assert "smart watch" in explained[0]["explanation"]["text"]


def test_every_answer_has_its_own_recommendation_id(encoded: Encoded) -> None:
    first = similar(encoded.api, "watch-1", count=3).json()
    second = similar(encoded.api, "watch-1", count=3).json()
    assert first["recommendation_id"] != second["recommendation_id"]
    assert first["items"] == second["items"]


# --- search ---------------------------------------------------------------------------------


def test_search_ranks_available_items_by_similarity_to_the_query(encoded: Encoded) -> None:
    vectors = stored_item_vectors(encoded.tenant, encoded.space)
    response = search(encoded.api, query="smart watch", count=5)
    items = results(response)
    assert response.json()["content_space"] == encoded.space.pk
    assert len(items) == 5
    query = encode_query(encoded.tenant, "smart watch")
    assert ids(items) == ranked(vectors, query, AVAILABLE)[:5]
    unit = query / np.linalg.norm(query)
    for entry in items:
        assert entry["score"] == pytest.approx(float(vectors[entry["id"]] @ unit), abs=1e-4)


def test_search_with_a_user_blends_query_and_profile(encoded: Encoded) -> None:
    response = search(encoded.api, query="tea kettle", user="buyer", count=5, explain=True)
    items = results(response, explained=True)
    assert len(items) == 5
    assert not set(ids(items)) & UNAVAILABLE
    for entry in items:
        explanation = entry["explanation"]
        assert {s["source"] for s in explanation["sources"]} == {"query", "profile"}
        shares = {s["source"]: s["share"] for s in explanation["sources"]}
        assert shares["query"] + shares["profile"] == pytest.approx(1.0)
        assert entry["score"] == pytest.approx(
            shares["query"] * explanation["query_similarity"]
            + shares["profile"] * explanation["profile_similarity"],
            abs=1e-4,
        )


def test_a_search_is_recorded_under_its_recommendation_id(encoded: Encoded) -> None:
    body = search(encoded.api, query="tea kettle", user="buyer", count=3).json()
    served = ServedList.objects.for_tenant(encoded.tenant).get(
        recommendation_id=body["recommendation_id"]
    )
    assert served.endpoint == "search"
    assert served.user is not None
    assert served.user.external_id == "buyer"
    assert served.model_version is None
    names = dict(
        Item.objects.for_tenant(encoded.tenant)
        .filter(pk__in=served.item_ids)
        .values_list("pk", "external_id")
    )
    assert [names[pk] for pk in served.item_ids] == ids(body["items"])


def test_search_for_a_user_without_a_profile_is_plain_search(encoded: Encoded) -> None:
    plain = results(search(encoded.api, query="tea kettle", count=5))
    for_cold = results(search(encoded.api, query="tea kettle", user="cold", count=5))
    assert for_cold == plain


def test_search_keeps_serving_from_the_active_space_while_a_new_one_builds(
    encoded: Encoded, tiny_model_dir: str
) -> None:
    before = search(encoded.api, query="running shoes", count=5, explain=True).json()
    config_save(
        tenant=encoded.tenant,
        data={"encoder": {"model": tiny_model_dir, "device": "cpu", "pooling": "cls"}},
    )
    during = search(encoded.api, query="running shoes", count=5, explain=True).json()
    assert during["content_space"] == before["content_space"]
    assert during["items"] == before["items"]

    counts = encode_tenant(tenant=encoded.tenant)
    after = search(encoded.api, query="running shoes", count=5).json()
    assert after["content_space"] == counts["activated_space"]


# --- recommendations ------------------------------------------------------------------------


def test_recommendations_exclude_seen_and_unavailable_items(encoded: Encoded) -> None:
    response = recommendations(encoded.api, "buyer", count=100)
    items = results(response)
    assert response.json()["content_space"] == encoded.space.pk
    assert sorted(ids(items)) == sorted(set(AVAILABLE) - SEEN_BY_BUYER)

    top = results(recommendations(encoded.api, "buyer", count=3))
    assert ids(top) == ids(items)[:3]


def test_recommendations_explain_which_seen_item_they_come_from(encoded: Encoded) -> None:
    vectors = stored_item_vectors(encoded.tenant, encoded.space)
    items = results(recommendations(encoded.api, "buyer", count=5, explain="true"), explained=True)
    assert len(items) == 5
    kinds = dict(BUYER_EVENTS)
    for entry in items:
        because = entry["explanation"]["because_of"]
        assert because["id"] in SEEN_BY_BUYER
        assert because["type"] == kinds[because["id"]]
        # The seen item closest to this result.
        closest = max(SEEN_BY_BUYER, key=lambda seen: float(vectors[seen] @ vectors[entry["id"]]))
        assert because["id"] == closest
        assert because["similarity"] == pytest.approx(
            float(vectors[closest] @ vectors[entry["id"]]), abs=1e-4
        )
        verb = "bought" if because["type"] == "purchase" else "viewed"
        assert entry["explanation"]["text"].startswith(f"Because you {verb} ")


def test_a_cold_user_gets_popular_items(encoded: Encoded) -> None:
    response = recommendations(encoded.api, "cold", count=10, explain="true")
    items = results(response, explained=True)
    # pan-1 (3 events), kettle-1 (2), then one each in catalog order; mat-1 is unavailable.
    assert ids(items)[:5] == ["pan-1", "kettle-1", "watch-1", "shoe-1", "book-1"]
    assert [entry["score"] for entry in items][:5] == pytest.approx(
        [1.0, 2 / 3, 1 / 3, 1 / 3, 1 / 3]
    )
    for entry in items[:5]:
        assert entry["explanation"]["sources"] == [{"source": "popular", "share": 1.0}]
    # The rest of the count: available items nobody touched, newest first.
    assert set(ids(items)) == set(AVAILABLE)
    for entry in items[5:]:
        assert entry["explanation"]["sources"] == [{"source": "newest", "share": 1.0}]
    assert ids(results(recommendations(encoded.api, "cold", count=2))) == ["pan-1", "kettle-1"]


def test_a_user_with_only_profile_text_gets_content_results(encoded: Encoded) -> None:
    vectors = stored_item_vectors(encoded.tenant, encoded.space)
    response = recommendations(encoded.api, "reader", count=4, explain="true")
    items = results(response, explained=True)
    assert response.json()["content_space"] == encoded.space.pk
    assert len(items) == 4
    assert all(e["explanation"]["sources"][0]["source"] == "content" for e in items)
    assert not set(ids(items)) & UNAVAILABLE
    text = encode_query(encoded.tenant, "novel book tea")
    assert ids(items) == ranked(vectors, text, AVAILABLE)[:4]
    assert all("because_of" not in entry["explanation"] for entry in items)


def test_clearing_the_profile_text_makes_the_user_cold_again(encoded: Encoded) -> None:
    response = encoded.api.patch("/api/v1/users/reader", {"profile_text": ""}, format="json")
    assert response.status_code == 200, response.content
    encode_tenant(tenant=encoded.tenant)
    items = results(recommendations(encoded.api, "reader", explain="true"), explained=True)
    assert items[0]["explanation"]["sources"] == [{"source": "popular", "share": 1.0}]


# --- before any encoding --------------------------------------------------------------------


@pytest.fixture
def not_encoded(catalog: APIClient, tenant: Tenant, use_tiny_encoder: Callable[..., None]) -> Any:
    use_tiny_encoder(tenant)
    return catalog


def test_similar_and_search_are_not_ready_before_encoding(not_encoded: APIClient) -> None:
    error = assert_error(similar(not_encoded, "watch-1"), 409, "not_ready")
    assert "encod" in error["message"]
    assert_error(search(not_encoded, query="smart watch"), 409, "not_ready")
    assert_error(search(not_encoded, query="smart watch", user="buyer"), 409, "not_ready")
    # Unknown ids are still unknown, and recommendations fall back to popular items.
    assert_error(similar(not_encoded, "nope"), 404, "not_found")
    assert_error(search(not_encoded, query="smart watch", user="nope"), 404, "not_found")
    response = recommendations(not_encoded, "buyer", explain="true")
    assert response.status_code == 200, response.content
    assert response.json()["content_space"] is None
    sources = {e["explanation"]["sources"][0]["source"] for e in response.json()["items"]}
    assert sources <= {"popular", "newest"}
    assert not set(ids(response.json()["items"])) & (SEEN_BY_BUYER | UNAVAILABLE)
