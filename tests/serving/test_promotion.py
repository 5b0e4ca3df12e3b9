"""Promotion by evidence: `if_better` (the default) compares a new version's fused NDCG@k with
the active one's, records the comparison per slice and shows it; a tenant too small to evaluate
still trains, is told why, and follows the documented rule."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from recommender.models import ModelVersion
from recommender.services.training.train import train_tenant
from tenants.models import Tenant
from tests.api.test_openapi_contract import schema_errors
from tests.serving.conftest import configure, load_planted

pytestmark = pytest.mark.django_db

SMALL_ALS = {"factors": 8, "iterations": 4}
SLICES = {"all", "warm_users", "cold_users", "cold_items"}


def _status(tenant: Tenant) -> list[tuple[int, str]]:
    versions = ModelVersion.objects.for_tenant(tenant).order_by("number")
    return [(v.number, v.status) for v in versions]


def test_if_better_keeps_the_active_version_over_a_worse_one_and_says_so(
    tenant: Tenant, api: APIClient
) -> None:
    load_planted(tenant, n_users=120, n_items=160, n_groups=4)
    configure(tenant, sources={"als": SMALL_ALS}, training={"eval_users": 100})
    first = train_tenant(tenant=tenant)
    assert first.metrics["promotion"]["promoted"] is True
    assert first.metrics["promotion"]["reason"] == "no version was active"
    assert first.metrics["promotion"]["policy"] == "if_better"  # the default
    # The store step is broken down: the collaborative space's vectors, its index, the lists.
    parts = ("store_vectors_s", "store_index_s", "store_lists_s")
    assert all(first.timings[part] > 0 for part in parts)
    assert sum(first.timings[part] for part in parts) <= first.timings["store_s"] + 0.01

    # Popularity alone: the fused list loses the planted taste groups.
    only_popular = {"content": {"weight": 0}, "als": {"weight": 0}, "cooccurrence": {"weight": 0}}
    configure(tenant, sources=only_popular, training={"eval_users": 100})
    worse = train_tenant(tenant=tenant)
    promotion = worse.metrics["promotion"]
    assert _status(tenant) == [(1, "active"), (2, "retired")]
    assert promotion["promoted"] is False
    assert promotion["active"] == "v1"
    comparison = promotion["comparison"]
    assert set(comparison) == SLICES
    new, old = comparison["all"]["new"], comparison["all"]["active"]
    assert new == worse.metrics["rows"]["fused"]["ndcg"]
    assert old == first.metrics["rows"]["fused"]["ndcg"]
    assert new < old
    assert promotion["reason"] == f"fused NDCG@10 {new} < {old} of active v1, which stays"
    warm = first.metrics["rows"]["fused"]["slices"]["warm_users"]["ndcg"]
    assert comparison["warm_users"]["active"] == warm

    # The same comparison is what GET /api/v1/models shows.
    body = api.get("/api/v1/models").json()
    # Validated strictly: every metrics field here (rows, slices, promotion) is documented.
    document = APIClient().get("/api/schema/?format=json").json()
    listed = document["paths"]["/api/v1/models"]["get"]["responses"]["200"]
    assert not schema_errors(
        document, listed["content"]["application/json"]["schema"], body, strict=True
    )
    models = body["results"]
    assert [m["version"] for m in models] == ["v2", "v1"]
    assert models[0]["metrics"]["promotion"] == promotion
    assert set(models[1]["metrics"]["rows"]["fused"]["slices"]) == SLICES - {"all"}

    # "always" serves the worse version anyway, and says it was the policy.
    configure(tenant, sources=only_popular, training={"eval_users": 100, "promote": "always"})
    forced = train_tenant(tenant=tenant)
    assert forced.metrics["promotion"]["reason"] == "the policy is always"
    assert _status(tenant) == [(1, "retired"), (2, "retired"), (3, "active")]


def test_a_tenant_too_small_to_evaluate_trains_serves_and_says_why(tenant: Tenant) -> None:
    load_planted(tenant, n_users=6, n_items=20, n_groups=2, events_per_user=5)
    configure(tenant, sources={"als": SMALL_ALS})
    first = train_tenant(tenant=tenant)
    reason = first.metrics["not_evaluated"]
    assert reason.endswith(
        "users discovered items after the evaluation cut-off; at least 10 are needed"
    )
    assert first.metrics["rows"] == {}
    assert first.metrics["promotion"]["promoted"] is True
    assert first.sources  # trained and stored all the same

    # Neither version can be compared: the newer one (it has seen more) serves.
    second = train_tenant(tenant=tenant)
    assert second.metrics["promotion"]["reason"] == (
        "neither this nor active v1 could be evaluated"
    )
    assert _status(tenant) == [(1, "retired"), (2, "active")]

    # An evaluated active version stays in front of one that could not be evaluated.
    evaluated: dict[str, Any] = {"k": 10, "rows": {"fused": {"ndcg": 0.25}}}
    ModelVersion.objects.for_tenant(tenant).filter(number=2).update(metrics=evaluated)
    third = train_tenant(tenant=tenant)
    promotion = third.metrics["promotion"]
    assert promotion["promoted"] is False
    assert promotion["reason"] == f"not evaluated ({reason}); active v2 stays"
    assert promotion["comparison"]["all"] == {"new": None, "active": 0.25}
    assert _status(tenant) == [(1, "retired"), (2, "active"), (3, "retired")]
