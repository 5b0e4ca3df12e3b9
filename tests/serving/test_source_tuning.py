"""Tuning of the sources' settings through training: it reads only events before the
evaluation cut-off, its report is on the version and in GET /api/v1/models, the version is
fitted with the values it chose, serving weighs history with them, and small tenants say why
it did not run."""

import numpy as np
import pytest
from rest_framework.test import APIClient

from recommender.engine.config_schema import default_config
from recommender.engine.data import Events
from recommender.engine.splits import temporal_split
from recommender.models import ModelVersion
from recommender.services.serving.tuned import with_tuned_settings
from recommender.services.training.train import learn_tenant_fusion, train_tenant
from tenants.models import Tenant
from tests.api.test_openapi_contract import schema_errors
from tests.serving.conftest import configure, load_planted
from tests.support.planted import planted_dataset


def _config() -> dict:
    config = default_config()
    config["sources"]["ease"]["weight"] = 1.0
    config["sources"]["als"].update({"factors": 8, "iterations": 4})
    config["fusion"]["ranker"] = "off"
    config["training"].update({"tuning_budget_s": 600.0, "tuning_trials": 5})
    return config


@pytest.mark.parametrize("dense", [False, True])
def test_tuning_never_reads_the_evaluation_slice(dense: bool) -> None:
    """Whatever happens after the evaluation cut-off, the tuning chooses and measures the same,
    on a single validation cut-off and on the per-user split of a tenant whose last months
    belong to a few users."""
    dataset = planted_dataset(n_users=200, n_items=150, n_groups=4, events_per_user=15, seed=3)
    events = dataset.events
    if dense:
        late = np.isin(events.user_ids, dataset.user_ids[:40])
        shifted = events.timestamps + np.where(late, 90 * 86_400.0, 0.0)
        events = Events(events.user_ids, events.item_ids, events.weights, shifted)
    cutoff = temporal_split(events, test_fraction=0.1).cutoff
    after = events.timestamps >= cutoff
    # The evaluation slice's items shuffled: the same times (so the same cut-offs), other pairs.
    items = events.item_ids.copy()
    items[after] = np.random.default_rng(1).choice(dataset.items.ids, size=int(after.sum()))
    changed = Events(events.user_ids, items, events.weights, events.timestamps)
    assert (changed.item_ids != events.item_ids).any()
    reports = []
    for variant in (events, changed):
        learned, why, effective = learn_tenant_fusion(
            config=_config(), events=variant, items=dataset.items, content_vectors=None
        )
        assert learned is not None, why
        sources = learned.tuning_report["sources"]
        assert sources["trials"] == 5
        validation = learned.tuning_report["validation"]
        assert validation.startswith("per user" if dense else "temporal"), validation
        reports.append(
            (
                [(t["stage"], t.get("value"), t["params"]) for t in learned.trials],
                sources["best"],
                sources["configured_ndcg"],
                effective["sources"],
                effective["interactions"],
                effective["profile"],
            )
        )
    assert reports[0] == reports[1]


def test_a_tuned_setting_serves_only_under_the_configuration_it_was_tuned_under() -> None:
    config = default_config()
    version = ModelVersion(
        metrics={
            "tuning": {
                "config_version": 3,
                "sources": {"applied": {"profile.recent_half_life_events": 2.5}},
            }
        }
    )
    tuned = with_tuned_settings(config, version, 3)
    assert tuned["profile"]["recent_half_life_events"] == 2.5
    assert config["profile"]["recent_half_life_events"] == 10.0
    assert with_tuned_settings(config, version, 4) is config
    assert with_tuned_settings(config, None, 3) is config


@pytest.mark.django_db
def test_the_tuning_is_recorded_listed_and_the_version_is_fitted_with_its_choice(
    tenant: Tenant, api: APIClient
) -> None:
    load_planted(tenant, n_users=200, n_items=200, n_groups=4, events_per_user=15)
    configure(
        tenant,
        sources={"ease": {"weight": 1.0}, "als": {"factors": 8, "iterations": 4}},
        fusion={"ranker": "off"},
        training={"eval_users": 300, "neighbours": 30, "tuning_budget_s": 60, "tuning_trials": 4},
    )
    version = train_tenant(tenant=tenant)
    tuning = version.metrics["tuning"]
    sources = tuning["sources"]
    assert sources["trials"] == 4, sources
    assert sources["budget_s"] == 30.0
    assert tuning["budget_s"] == 60.0
    assert tuning["trials"] == sources["trials"] + tuning["fusion_trials"]
    assert [t["stage"] for t in tuning["history"]][:4] == ["sources"] * 4
    assert sources["best_ndcg"] >= sources["configured_ndcg"]
    assert set(sources["configured"]) >= {
        "sources.ease.l2",
        "sources.als.regularization",
        "sources.als.alpha",
        "interactions.half_life_days",
    }
    # The version is fitted with the best values (the configured ones where none beat them).
    for name, value in sources["best"].items():
        section, source, key = [*name.split("."), ""][:3]
        if section == "sources":
            assert version.sources[source]["settings"][key] == value
    body = api.get("/api/v1/models").json()
    listed = body["results"][0]
    assert listed["tuning"]["sources"] == sources
    # Validated strictly: every field of the tuning report is documented.
    document = APIClient().get("/api/schema/?format=json").json()
    schema = document["paths"]["/api/v1/models"]["get"]["responses"]["200"]
    assert not schema_errors(
        document, schema["content"]["application/json"]["schema"], body, strict=True
    )


@pytest.mark.django_db
def test_a_small_tenant_says_why_its_settings_were_not_tuned(tenant: Tenant) -> None:
    load_planted(tenant, n_users=30, n_items=60, n_groups=3, events_per_user=10)
    configure(tenant, sources={"als": {"factors": 8, "iterations": 4}})
    version = train_tenant(tenant=tenant)
    sources = version.metrics["tuning"]["sources"]
    assert sources["skipped"].startswith("too few users for tuning: ")
    assert version.metrics["tuning"]["trials"] == 0
    assert version.sources["als"]["settings"]["regularization"] == 1.0
