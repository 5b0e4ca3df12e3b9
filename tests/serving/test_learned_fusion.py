"""The learned fusion through training, the API and serving: the ranker and the tuning are
recorded on the version, the ranker orders served lists, and a small tenant falls back."""

import datetime as dt
import time

import numpy as np
import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from recommender.engine.filters import parse_filter
from recommender.engine.fusion import fuse
from recommender.engine.fusion_learning import recent_items
from recommender.engine.ranker import (
    MISSING,
    TEXT_FEATURES,
    ItemStats,
    ItemVectors,
    UserContext,
    feature_names,
    features,
)
from recommender.engine.sources import enabled_sources
from recommender.models import Interaction, RankerModel
from recommender.services.config import active_config
from recommender.services.encoding.spaces import active_space
from recommender.services.serving.candidates import user_candidates
from recommender.services.serving.history import user_history
from recommender.services.serving.lists import recommend_for_user
from recommender.services.serving.ranking import (
    rerank,
    serving_features,
    user_weights,
    version_ranker,
)
from recommender.services.serving.state import serving_for_user
from recommender.services.training.data import load_content_vectors, load_events, load_items
from recommender.services.training.train import train_tenant
from tenants.models import Tenant
from tenants.scoping import tenant_scope
from tests.api.test_openapi_contract import schema_errors
from tests.serving.conftest import Planted, configure, load_planted

pytestmark = pytest.mark.django_db


def _with_fresh_items(tenant: Tenant) -> Planted:
    """The planted tenant where a fifth of the items had no events until the last days, when
    every user discovered three of their own group's: the answer needs the no-events flag."""
    planted = load_planted(tenant)
    rng = np.random.default_rng(0)
    ids = sorted(planted.item_pk)
    fresh = {int(i) for i in rng.choice(ids, size=len(ids) // 5, replace=False)}
    Interaction.objects.for_tenant(tenant).filter(
        item_id__in=[planted.item_pk[i] for i in fresh]
    ).delete()
    by_group: dict[int, list[int]] = {}
    for item in sorted(fresh):
        by_group.setdefault(planted.item_group[f"i{item}"], []).append(item)
    now = timezone.now()
    Interaction.objects.for_tenant(tenant).bulk_create(
        Interaction(
            tenant=tenant,
            user_id=planted.user_pk[int(user[1:])],
            item_id=planted.item_pk[int(item)],
            type="view",
            timestamp=now - dt.timedelta(days=float(rng.random()) * 8),
        )
        for user, group in planted.user_group.items()
        for item in rng.choice(by_group[group], size=3, replace=False)
    )
    return planted


def test_the_ranker_is_trained_recorded_listed_and_serves(tenant: Tenant, api: APIClient) -> None:
    planted = _with_fresh_items(tenant)
    configure(
        tenant,
        sources={"als": {"factors": 16, "iterations": 8}},
        training={"eval_users": 300, "neighbours": 30, "tuning_budget_s": 3, "tuning_trials": 3},
    )
    version = train_tenant(tenant=tenant)
    ranker, tuning = version.metrics["ranker"], version.metrics["tuning"]
    assert ranker["used"] is True, ranker
    assert ranker["ranker_ndcg"] > ranker["weighted_ndcg"]
    assert RankerModel.objects.filter(version=version).exists()
    # Tuning ran its trials on events before the evaluation cut-off only: at most 3 on the
    # sources' settings, then at most 3 per fusion study.
    assert 1 <= tuning["trials"] <= 9
    assert tuning["sources"]["trials"] <= 3
    assert len(tuning["history"]) == tuning["trials"]
    assert dt.datetime.fromisoformat(tuning["validation_cutoff"]) < dt.datetime.fromisoformat(
        version.metrics["cutoff"]
    )
    # The places for fresh items were measured on the validation users, at most as configured.
    fresh = tuning["fresh"]
    assert fresh["configured"] == 0.2
    assert fresh["chosen"] in (0.0, 0.1, 0.2)
    assert set(fresh["warm_ndcg"]) >= {"0", "0.2"}
    assert version.timings["learn_fusion_s"] > 0

    body = api.get("/api/v1/models").json()
    listed = body["results"][0]
    # Validated strictly: every field of the ranker and tuning reports is documented.
    document = APIClient().get("/api/schema/?format=json").json()
    schema = document["paths"]["/api/v1/models"]["get"]["responses"]["200"]
    assert not schema_errors(
        document, schema["content"]["application/json"]["schema"], body, strict=True
    )
    assert listed["ranker"]["used"] is True
    assert listed["ranker"]["reason"] == ranker["reason"]
    assert listed["tuning"]["trials"] == tuning["trials"]
    assert listed["tuning"]["fresh"]["chosen"] == fresh["chosen"]
    assert "ranker" not in listed["metrics"]
    # What the ranker learned from is listed and on the operator's version page.
    assert ranker["top_features"]
    assert listed["ranker"]["top_features"] == ranker["top_features"]
    operator = User.objects.create_user("operator", password="pw-operator-1", is_staff=True)
    operator.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["tenants", "recommender"])
    )
    tenant.operators.add(operator)
    client = Client()
    client.force_login(operator)
    page = client.get(reverse("admin:recommender_modelversion_change", args=[version.pk]))
    assert page.status_code == 200
    assert "ranker&#x27;s top features" in page.content.decode()
    assert next(iter(ranker["top_features"])) in page.content.decode()

    user = next(iter(planted.user_group))
    with tenant_scope(tenant):
        body = recommend_for_user(tenant=tenant, user_id=user, params=[("count", "10")], log=False)
        serving, user_pk = serving_for_user(tenant, user)
        loaded = version_ranker(serving)
        assert loaded is not None
        assert user_pk is not None
        history = user_history(user_id=user_pk, serving=serving, exclude_types=None)
        sources = enabled_sources(serving.config)
        candidates = user_candidates(
            serving=serving,
            user_id=user_pk,
            history=history,
            pool=40,
            item_filter=parse_filter([]),
            sources=sources,
        )
        fused = fuse(candidates.scores, user_weights(serving, sources))
        reranked = rerank(serving, loaded, candidates, fused, history)
        expected = [f.item for f in reranked][:10]
    by_pk = {pk: f"i{item}" for item, pk in planted.item_pk.items()}
    assert [entry["id"] for entry in body["items"]] == [by_pk[pk] for pk in expected]
    scores = [entry["score"] for entry in body["items"]]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s < 1 for s in scores)


def test_a_stored_ranker_is_served_the_features_training_built(tenant: Tenant) -> None:
    """Parity through the stored path: training's own inputs (its recent items from the events,
    its statistics, its vectors) against the rows serving builds from the stored ranker."""
    planted = _with_fresh_items(tenant)
    user = next(iter(planted.user_group))
    user_pk = planted.user_pk[int(user[1:])]
    # The user's newest event is a dislike: neither side counts it among their recent items.
    Interaction.objects.for_tenant(tenant).create(
        tenant=tenant,
        user_id=user_pk,
        item_id=next(iter(planted.item_pk.values())),
        type="dislike",
        timestamp=timezone.now(),
    )
    configure(
        tenant,
        sources={"als": {"factors": 16, "iterations": 8}},
        training={"eval_users": 300, "neighbours": 30, "tuning_budget_s": 0},
    )
    version = train_tenant(tenant=tenant)
    assert version.metrics["ranker"]["used"] is True, version.metrics["ranker"]
    with tenant_scope(tenant):
        serving, _ = serving_for_user(tenant, user)
        loaded = version_ranker(serving)
        assert loaded is not None
        assert loaded.ranker.uses_text
        # The planted catalog's attributes, a number and a label: stored and read by name.
        assert loaded.ranker.attribute_keys == ("number:price", "label:brand")
        history = user_history(user_id=user_pk, serving=serving, exclude_types=None)
        sources = enabled_sources(serving.config)
        candidates = user_candidates(
            serving=serving,
            user_id=user_pk,
            history=history,
            pool=40,
            item_filter=parse_filter([]),
            sources=sources,
        )
        fused = fuse(candidates.scores, user_weights(serving, sources))
        now = time.time()
        served = serving_features(serving, loaded, candidates, fused, history, now)
        config = active_config(tenant)
        events = load_events(tenant_id=tenant.pk, interactions=config["interactions"])
        items = load_items(tenant_id=tenant.pk)
        matrix = load_content_vectors(active_space(tenant.pk), items)
        assert matrix is not None
        newest = float(events.timestamps[events.user_ids == user_pk].max())
        context = UserContext(
            recent_items(events, int(config["profile"]["max_events"]))[user_pk],
            (now - newest) / 86_400.0,
        )
        trained = features(
            candidates.scores,
            fused,
            loaded.ranker.sources,
            ItemStats.build(events, items, loaded.stats.now, loaded.ranker.attribute_keys),
            context,
            now,
            ItemVectors(items.ids, matrix),
        )
    names = feature_names(loaded.ranker.sources, loaded.ranker.attribute_keys)
    assert served.shape == (len(fused), len(names))
    np.testing.assert_allclose(served, trained, rtol=1e-5, atol=1e-5)
    for name in TEXT_FEATURES:
        assert (served[:, names.index(name)] != MISSING).all(), name
    assert not np.isnan(served[:, names.index("item:attr:price")]).any()
    assert served[:, names.index("user:attr_match:brand")].max() > 0


def test_a_small_tenant_falls_back_to_weighted_fusion_and_says_so(
    tenant: Tenant, api: APIClient
) -> None:
    planted = load_planted(tenant, n_users=30, n_items=60, n_groups=3, events_per_user=10)
    configure(tenant, sources={"als": {"factors": 8, "iterations": 4}})
    version = train_tenant(tenant=tenant)
    ranker, tuning = version.metrics["ranker"], version.metrics["tuning"]
    assert ranker["used"] is False
    assert ranker["reason"].startswith("too few users for a ranker: ")
    assert ranker["reason"].endswith(" < 50")
    assert tuning["trials"] == 0
    assert tuning["skipped"].startswith("too few users for tuning: ")
    assert not RankerModel.objects.filter(version=version).exists()
    listed = api.get("/api/v1/models").json()["results"][0]
    assert listed["ranker"]["reason"] == ranker["reason"]
    user = next(iter(planted.user_group))
    response = api.get(f"/api/v1/users/{user}/recommendations?count=5")
    assert response.status_code == 200, response.content
    assert len(response.json()["items"]) == 5
