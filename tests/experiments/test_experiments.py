"""A/B tests of configurations through the API: stable assignment, the variant's configuration
serving and recorded, attributed results, start/stop/promote and frozen shares."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from recommender.engine.config_schema import merge_config
from recommender.engine.experiment_assignment import assign
from recommender.models import Experiment, ModelVersion, RecommenderConfig, ServedList
from recommender.services.config import active_config, active_config_version, config_save
from recommender.services.experiments.lifecycle import (
    VariantSpec,
    experiment_create,
    experiment_promote,
    experiment_start,
    experiment_stop,
    unservable,
    variant_set_share,
)
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant
from tests.factories import EndUserFactory, InteractionFactory, ItemFactory

USERS = [f"u-{n}" for n in range(40)]


@pytest.fixture
def configs(tenant: Tenant) -> tuple[RecommenderConfig, RecommenderConfig]:
    """Four shoes with live popularity; v1 active, v2 caps each category at one item."""
    fan = EndUserFactory(tenant=tenant, external_id="fan")
    for n in range(4):
        item = ItemFactory(tenant=tenant, external_id=f"shoe-{n}", categories=["shoes"])
        for _ in range(4 - n):
            InteractionFactory(tenant=tenant, user=fan, item=item)
    for external_id in USERS:
        EndUserFactory(tenant=tenant, external_id=external_id)
    control = config_save(tenant=tenant, data={})
    capped = config_save(
        tenant=tenant,
        data=merge_config(active_config(tenant), {"rules": {"max_per_category": 1}}),
        activate=False,
    )
    return control, capped


def _two_way(tenant: Tenant, configs: Any, shares: tuple[float, float] = (1, 1)) -> Experiment:
    control, capped = configs
    return experiment_create(
        tenant=tenant,
        name="cap test",
        variants=[VariantSpec("A", control, shares[0]), VariantSpec("B", capped, shares[1])],
    )


def _recommend(api: APIClient, user: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/users/{user}/recommendations?count=4")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def test_assignment_is_stable_and_follows_the_shares() -> None:
    picks = [assign(7, f"user-{n}", [3, 1]) for n in range(4000)]
    assert picks == [assign(7, f"user-{n}", [3, 1]) for n in range(4000)]
    assert 0.72 < picks.count(0) / len(picks) < 0.78
    # Another experiment splits the same users independently.
    other = [assign(8, f"user-{n}", [3, 1]) for n in range(4000)]
    assert other != picks


def test_each_variant_serves_its_configuration_and_is_recorded(
    api: APIClient, tenant: Tenant, configs: Any
) -> None:
    control, capped = configs
    experiment = experiment_start(experiment=_two_way(tenant, configs))

    seen = {}
    for user in USERS:
        body = _recommend(api, user)
        expected = "AB"[assign(experiment.pk, user, [1, 1])]
        assert body["experiment"] == {"id": experiment.pk, "variant": expected}
        seen[user] = body
        if expected == "A":
            assert body["config_version"] == control.version
            assert [i["id"] for i in body["items"]] == [f"shoe-{n}" for n in range(4)]
        else:
            assert body["config_version"] == capped.version
            assert [i["id"] for i in body["items"]] == ["shoe-0"]  # one per category
    assert {b["experiment"]["variant"] for b in seen.values()} == {"A", "B"}
    # The same user gets the same variant again.
    assert _recommend(api, USERS[0])["experiment"] == seen[USERS[0]]["experiment"]
    served = ServedList.objects.for_tenant(tenant).get(
        recommendation_id=seen[USERS[0]]["recommendation_id"]
    )
    assert served.variant is not None
    assert served.variant.name == seen[USERS[0]]["experiment"]["variant"]
    # Other endpoints have no user to assign: the active configuration serves them.
    popular = api.get("/api/v1/popular").json()
    assert popular["experiment"] is None
    assert popular["config_version"] == control.version


def test_results_count_attributed_clicks_per_variant(
    api: APIClient, tenant: Tenant, configs: Any
) -> None:
    experiment = experiment_start(experiment=_two_way(tenant, configs))
    bodies = {user: _recommend(api, user) for user in USERS}
    clicks = []
    for user, body in bodies.items():
        if body["experiment"]["variant"] == "B" or user.endswith(("1", "3")):
            # Every B list is clicked; a fifth of A's (ids ending in 1 or 3).
            clicks.append(
                {
                    "user": user,
                    "item": body["items"][0]["id"],
                    "type": "click",
                    "recommendation_id": body["recommendation_id"],
                }
            )
    # A click on an item the list did not show is not attributed.
    other = next(u for u, b in bodies.items() if b["experiment"]["variant"] == "A")
    clicks.append(
        {
            "user": other,
            "item": "shoe-3" if bodies[other]["items"][0]["id"] != "shoe-3" else "shoe-2",
            "type": "purchase",
            "recommendation_id": "not-a-list",
        }
    )
    response = api.post("/api/v1/interactions/batch", {"interactions": clicks}, format="json")
    assert response.status_code == 200, response.content

    results = api.get(f"/api/v1/experiments/{experiment.pk}/results").json()

    by_name = {v["name"]: v for v in results["variants"]}
    a_users = [u for u, b in bodies.items() if b["experiment"]["variant"] == "A"]
    b_users = [u for u in USERS if u not in a_users]
    a_clicked = sum(u.endswith(("1", "3")) for u in a_users)
    assert (by_name["A"]["lists"], by_name["A"]["users"]) == (len(a_users), len(a_users))
    assert (by_name["A"]["clicked"], by_name["A"]["converted"]) == (a_clicked, 0)
    assert (by_name["B"]["lists"], by_name["B"]["clicked"]) == (len(b_users), len(b_users))
    assert by_name["B"]["click_through"] == 1.0
    assert by_name["A"]["vs_control"] is None
    lift = by_name["B"]["vs_control"]["click_through"]["lift"]
    assert lift == pytest.approx(len(a_users) / a_clicked - 1)
    assert results["sample_ratio"]["users"] == [len(a_users), len(b_users)]
    assert results["sample_ratio"]["expected"] == [20.0, 20.0]
    # 40 lists are far too few: the page says so.
    assert any("too few" in w for w in results["warnings"])
    listed = api.get("/api/v1/experiments").json()["results"]
    assert [(e["id"], e["status"]) for e in listed] == [(experiment.pk, "running")]
    assert [v["share"] for v in listed[0]["variants"]] == [0.5, 0.5]


def test_stop_returns_users_to_the_active_configuration_and_promote_activates_the_winner(
    api: APIClient, tenant: Tenant, configs: Any
) -> None:
    control, capped = configs
    experiment = experiment_start(experiment=_two_way(tenant, configs))
    experiment_stop(experiment=experiment)

    body = _recommend(api, USERS[0])
    assert body["experiment"] is None
    assert body["config_version"] == control.version

    experiment_promote(experiment=experiment, variant_name="B")
    assert active_config_version(tenant) == capped
    experiment.refresh_from_db()
    assert experiment.winner is not None
    assert experiment.winner.name == "B"
    assert _recommend(api, USERS[0])["config_version"] == capped.version
    with pytest.raises(ApplicationError, match="Only a draft"):
        experiment_start(experiment=experiment)


def test_a_started_experiments_shares_cannot_change(tenant: Tenant, configs: Any) -> None:
    experiment = _two_way(tenant, configs)
    variant = experiment.variants.get(name="B")
    variant_set_share(variant=variant, share=3)  # a draft may change
    experiment_start(experiment=experiment)
    with pytest.raises(ApplicationError, match="cannot change"):
        variant_set_share(variant=variant, share=1)
    variant.refresh_from_db()
    assert variant.share == 3


def test_one_experiment_runs_at_a_time(tenant: Tenant, configs: Any) -> None:
    experiment_start(experiment=_two_way(tenant, configs))
    second = _two_way(tenant, configs)
    with pytest.raises(ApplicationError, match="running"):
        experiment_start(experiment=second)
    second.refresh_from_db()
    assert second.status == "draft"


def test_variants_are_checked(tenant: Tenant, other_tenant: Tenant, configs: Any) -> None:
    control, capped = configs
    foreign = config_save(tenant=other_tenant, data={})
    bad = [
        ([VariantSpec("A", control, 1)], "2 to"),
        ([VariantSpec("A", control, 1), VariantSpec("A", capped, 1)], "name of its own"),
        ([VariantSpec("A", control, 1), VariantSpec("B", control, 1)], "same configuration"),
        ([VariantSpec("A", control, 1), VariantSpec("B", capped, 0)], "above 0"),
        ([VariantSpec("A", control, 1), VariantSpec("B", foreign, 1)], "no such configuration"),
    ]
    for variants, message in bad:
        with pytest.raises(ApplicationError, match=message):
            experiment_create(tenant=tenant, name="x", variants=variants)
    assert not Experiment.objects.for_tenant(tenant).exists()


def test_a_variant_needing_other_training_or_encoding_is_refused(tenant: Tenant) -> None:
    active = active_config(tenant)
    version = ModelVersion(
        tenant=tenant,
        number=1,
        sources={name: {"settings": active["sources"][name]} for name in ("als", "cooccurrence")},
    )
    reweighted = merge_config(active, {"sources": {"als": {"weight": 2.0}}})
    assert unservable(config=reweighted, active=active, version=version) == []
    refit = merge_config(active, {"sources": {"als": {"factors": 128}}})
    assert unservable(config=refit, active=active, version=version) == [
        "source 'als' has settings the active model version was not trained with"
    ]
    untrained = merge_config(active, {"sources": {"ease": {"weight": 1.0}}})
    assert unservable(config=untrained, active=active, version=version) == [
        "source 'ease' is not trained in the active model version"
    ]
    encoder = merge_config(active, {"encoder": {"max_length": 64}})
    assert "encoder" in unservable(config=encoder, active=active, version=None)[0]


def test_a_tenant_with_experiments_can_be_deleted(tenant: Tenant, configs: Any) -> None:
    experiment_start(experiment=_two_way(tenant, configs))
    tenant.delete()
    assert not Experiment.objects.unscoped().filter(tenant_id=tenant.pk).exists()
    assert not RecommenderConfig.objects.unscoped().filter(tenant_id=tenant.pk).exists()
