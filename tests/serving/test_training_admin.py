"""The operator's model-version pages, the retrain action and the preview with a draft."""

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from recommender.models import EndUser, Item, Job, ModelVersion, RecommenderConfig
from tenants.models import Tenant
from tests.serving.conftest import Planted

pytestmark = pytest.mark.django_db

PREVIEW = "admin:recommender_modelversion_preview"


@pytest.fixture
def operator(planted: Planted) -> Client:
    user = User.objects.create_user("operator", password="pw-operator-1", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["tenants", "recommender"])
    )
    planted.tenant.operators.add(user)
    client = Client()
    client.force_login(user)
    return client


def test_the_version_page_shows_sources_and_the_metrics_table(
    planted: Planted, operator: Client
) -> None:
    assert planted.version is not None
    page = operator.get(reverse("admin:recommender_modelversion_change", args=[planted.version.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    for row in ("content", "als", "cooccurrence", "popular", "fused"):
        assert f"<td>{row}</td>" in html
    assert "ndcg@10" in html
    # The slices, and the promotion with its per-slice comparison.
    for part in ("warm_users", "cold_users", "cold_items"):
        assert f"<td>fused</td><td>{part}</td>" in html
    fused = planted.version.metrics["rows"]["fused"]
    assert f"<tr><td>all</td><td>{fused['ndcg']}</td><td>-</td></tr>" in html
    assert "promoted: no version was active (policy if_better)" in html
    listing = operator.get(reverse("admin:recommender_modelversion_changelist"))
    assert "Preview recommendations" in listing.content.decode()


def test_retrain_queues_a_training_job_for_the_tenant(planted: Planted, operator: Client) -> None:
    assert planted.version is not None
    before = Job.objects.for_tenant(planted.tenant).filter(kind="train").count()
    response = operator.post(
        reverse("admin:recommender_modelversion_changelist"),
        {"action": "retrain", "_selected_action": [planted.version.pk]},
    )
    assert response.status_code == 302
    assert Job.objects.for_tenant(planted.tenant).filter(kind="train").count() == before + 1


def _preview(client: Client, tenant: Tenant, user: str, draft: str = "", **extra: Any) -> Any:
    return client.post(
        reverse(PREVIEW), {"tenant": tenant.pk, "user": user, "draft": draft, **extra}
    )


def test_the_preview_shows_interactions_and_the_active_and_draft_lists(
    planted: Planted, operator: Client
) -> None:
    user = next(iter(planted.user_group))
    page = _preview(operator, planted.tenant, user, '{"sources": {"als": {"weight": 0}}}')
    assert page.status_code == 200
    preview = page.context["preview"]
    assert preview["user"] == user
    assert preview["interactions"]
    assert len(preview["active"]["items"]) == 10
    assert preview["active"]["recommendation_id"] is None  # previews are not logged
    draft_sources = {
        s["source"] for e in preview["draft"]["items"] for s in e["explanation"]["sources"]
    }
    assert "als" not in draft_sources
    active_sources = {
        s["source"] for e in preview["active"]["items"] for s in e["explanation"]["sources"]
    }
    assert "als" in active_sources
    # Titles and categories beside the ids, in both lists.
    items = Item.objects.for_tenant(planted.tenant)
    described = {i.external_id: (i.title, i.categories) for i in items}
    for listed in (preview["active"], preview["draft"]):
        for entry in listed["items"]:
            assert (entry["title"], entry["categories"]) == described[entry["id"]]
    html = page.content.decode()
    assert preview["active"]["items"][0]["title"] in html
    assert ", ".join(preview["active"]["items"][0]["categories"]) in html
    assert 'id="draft-list"' in html
    assert 'id="recent-interactions"' in html


def test_an_invalid_draft_shows_its_field_errors(planted: Planted, operator: Client) -> None:
    user = next(iter(planted.user_group))
    page = _preview(operator, planted.tenant, user, '{"sources": {"als": {"weight": -1}}}')
    assert page.status_code == 200
    assert "sources.als.weight" in page.content.decode()
    page = _preview(operator, planted.tenant, user, "{not json")
    assert page.status_code == 200
    assert "Not valid JSON" in page.content.decode()


def test_another_tenants_user_is_as_unknown_as_a_missing_one(
    planted: Planted, operator: Client, other_tenant: Tenant
) -> None:
    EndUser.objects.for_tenant(other_tenant).create(tenant=other_tenant, external_id="theirs")
    foreign = _preview(operator, planted.tenant, "theirs")
    missing = _preview(operator, planted.tenant, "nobody")
    assert (
        foreign.context["preview_error"].replace("theirs", "nobody")
        == (missing.context["preview_error"])
    )
    # and the other tenant cannot be picked at all
    page = _preview(operator, other_tenant, "theirs")
    assert "preview" not in page.context
    assert page.context["form"].errors["tenant"]


def test_saving_the_draft_makes_a_new_configuration_version(
    planted: Planted, operator: Client
) -> None:
    before = RecommenderConfig.objects.for_tenant(planted.tenant).count()
    response = _preview(
        operator,
        planted.tenant,
        next(iter(planted.user_group)),
        '{"rules": {"mmr_lambda": 0.7}}',
        save="1",
    )
    assert response.status_code == 302
    configs = RecommenderConfig.objects.for_tenant(planted.tenant)
    assert configs.count() == before + 1
    active = configs.get(is_active=True)
    assert active.data["rules"]["mmr_lambda"] == 0.7
    assert active.data["sources"]["als"]["factors"] == 16  # the rest is kept
    assert ModelVersion.objects.for_tenant(planted.tenant).filter(status="active").exists()


def test_the_version_page_shows_the_tuned_source_settings(
    planted: Planted, operator: Client
) -> None:
    version = planted.version
    assert version is not None
    # The report as training stores it (tests/serving/test_source_tuning.py trains one).
    version.metrics["tuning"] = {
        "trials": 5,
        "spent_s": 4.2,
        "budget_s": 30.0,
        "sources": {
            "budget_s": 15.0,
            "trials": 5,
            "spent_s": 3.1,
            "configured": {"sources.als.alpha": 40.0},
            "configured_ndcg": 0.12,
            "best": {"sources.als.alpha": 10.0},
            "best_ndcg": 0.15,
            "used": True,
            "applied": {"sources.als.alpha": 10.0},
            "not_finished": {"interactions.half_life_days": "a trial takes about 9.0 s"},
        },
    }
    version.save(update_fields=["metrics"])
    html = operator.get(
        reverse("admin:recommender_modelversion_change", args=[version.pk])
    ).content.decode()
    assert "<th>source settings</th><td>5 trials, 3.1 of 15.0 s; validation NDCG 0.12" in html
    assert "serving {&quot;sources.als.alpha&quot;: 10.0}" in html
    assert "<th>settings not finished</th>" in html
