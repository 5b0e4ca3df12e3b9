"""Training stores a version serving reads; the fused list recovers the planted taste groups."""

from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from recommender.engine.filters import parse_filter
from recommender.models import EndUser, Item, ItemNeighbours, ItemRanking, ModelVersion
from recommender.services.serving.candidates import user_candidates
from recommender.services.serving.history import user_history
from recommender.services.serving.state import serving_for
from tests.serving.conftest import Planted

pytestmark = pytest.mark.django_db


def test_training_stores_an_active_version_with_metrics(planted: Planted) -> None:
    version = planted.version
    assert version is not None
    assert version.status == ModelVersion.Status.ACTIVE
    assert set(version.sources) >= {"content", "als", "cooccurrence", "popular", "trending"}
    rows = version.metrics["rows"]
    assert set(rows) >= {"content", "als", "cooccurrence", "popular", "fused"}
    fused = rows["fused"]["ndcg"]
    assert fused > 2 * rows["popular"]["ndcg"]
    # Fusion beats each single source or comes close to the best one.
    best_single = max(rows[name]["ndcg"] for name in ("content", "als", "cooccurrence"))
    assert fused >= 0.9 * best_single
    assert version.cf_space is not None
    assert ItemNeighbours.objects.filter(version=version, source="cooccurrence").exists()
    assert ItemRanking.objects.filter(version=version, ranking="popular").exists()


def test_recommendations_come_from_the_users_group(planted: Planted, api: APIClient) -> None:
    hits = 0
    total = 0
    for user_id, group in list(planted.user_group.items())[:20]:
        response = api.get(f"/api/v1/users/{user_id}/recommendations?count=10&explain=true")
        assert response.status_code == 200, response.content
        body = response.json()
        assert planted.version is not None
        assert body["model_version"] == planted.version.label
        groups = Counter(planted.group_of(entry["id"]) for entry in body["items"])
        hits += groups[group]
        total += len(body["items"])
        for entry in body["items"]:
            shares = [s["share"] for s in entry["explanation"]["sources"]]
            assert abs(sum(shares) - 1.0) < 0.01
            assert entry["explanation"]["text"]
    assert total == 200
    assert hits / total >= 0.8


def test_a_user_who_arrived_after_training_gets_als_results(
    planted: Planted, api: APIClient
) -> None:
    """ALS folds the newcomer in from their events' item factors (no retraining)."""
    tenant = planted.tenant
    group = 3
    items = [key for key, g in planted.item_group.items() if g == group][:8]
    response = api.post(
        "/api/v1/interactions/batch",
        {"interactions": [{"user": "late-user", "item": i, "type": "view"} for i in items]},
        format="json",
    )
    assert response.status_code == 200, response.content

    late = EndUser.objects.for_tenant(tenant).get(external_id="late-user")
    version = ModelVersion.objects.for_tenant(tenant).get(status="active")
    assert "gram" in version.sources["als"]
    assert "gram" not in api.get("/api/v1/models").json()["results"][0]["sources"]["als"]
    with_scope = serving_for(tenant)
    history = user_history(user_id=late.pk, serving=with_scope, exclude_types=None)
    found = user_candidates(
        serving=with_scope,
        user_id=late.pk,
        history=history,
        pool=20,
        item_filter=parse_filter([]),
        sources=["als"],
    )
    als_items = found.scores["als"]
    assert len(als_items) == 20
    names = dict(
        Item.objects.for_tenant(tenant)
        .filter(pk__in=list(als_items))
        .values_list("pk", "external_id")
    )
    in_group = sum(planted.group_of(names[pk]) == group for pk in als_items)
    assert in_group >= 16


def test_the_planner_knows_the_new_version_as_soon_as_training_stores_it(
    planted: Planted,
) -> None:
    """Statistics taken before a version existed made its id look rare, and the planner walked
    an index through all of its rows for each request until autoanalyze came round."""
    assert planted.version is not None
    with connection.cursor() as cursor:
        for table in ("recommender_itemneighbours", "recommender_useritems"):
            cursor.execute(
                "SELECT most_common_vals::text FROM pg_stats"
                " WHERE tablename = %s AND attname = 'version_id'",
                [table],
            )
            row = cursor.fetchone()
            assert row is not None, table
            assert str(planted.version.pk) in row[0].strip("{}").split(","), table
