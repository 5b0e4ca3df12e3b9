"""The experiments admin: a draft's variants are checked and editable, a started one's are
read-only; the results page shows the statistics and starts, stops and promotes."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from recommender.models import Experiment, RecommenderConfig
from recommender.services.config import active_config_version, config_save
from recommender.services.experiments.lifecycle import VariantSpec, experiment_create
from tenants.models import Tenant


@pytest.fixture
def boss(db: Any) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("boss", "b@example.com", "pw-boss-1"))
    return client


def _inline(prefix: str, rows: list[tuple[str, RecommenderConfig, float]]) -> dict[str, Any]:
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for n, (name, config, share) in enumerate(rows):
        data.update(
            {
                f"{prefix}-{n}-position": str(n),
                f"{prefix}-{n}-name": name,
                f"{prefix}-{n}-config": str(config.pk),
                f"{prefix}-{n}-share": str(share),
            }
        )
    return data


def test_a_draft_is_added_with_checked_variants(boss: Client, tenant: Tenant) -> None:
    first = config_save(tenant=tenant, data={})
    second = config_save(tenant=tenant, data={}, activate=False)
    url = reverse("admin:recommender_experiment_add")
    base = {
        "tenant": str(tenant.pk),
        "name": "weights",
        "click_types": '["click"]',
        "conversion_types": '["purchase"]',
    }
    same = boss.post(url, {**base, **_inline("variants", [("A", first, 1), ("B", first, 1)])})
    assert same.status_code == 200
    assert "same configuration" in same.content.decode()
    assert not Experiment.objects.for_tenant(tenant).exists()

    made = boss.post(url, {**base, **_inline("variants", [("A", first, 1), ("B", second, 3)])})
    assert made.status_code == 302, made.content.decode()[:2000]
    experiment = Experiment.objects.for_tenant(tenant).get()
    assert [(v.name, v.share) for v in experiment.variants.all()] == [("A", 1.0), ("B", 3.0)]


def test_results_page_starts_stops_and_promotes(boss: Client, tenant: Tenant) -> None:
    first = config_save(tenant=tenant, data={})
    second = config_save(tenant=tenant, data={}, activate=False)
    experiment = experiment_create(
        tenant=tenant,
        name="weights",
        variants=[VariantSpec("A", first, 1), VariantSpec("B", second, 3)],
    )
    url = reverse("admin:recommender_experiment_results", args=[experiment.pk])

    page = boss.get(url).content.decode()
    assert "0.250" in page  # A's share, normalised: 1 of 1 + 3
    assert "too few" in page
    boss.post(url, {"start": "1"})
    experiment.refresh_from_db()
    assert experiment.status == "running"

    # Started: the variants are read-only on the change page.
    change = boss.get(reverse("admin:recommender_experiment_change", args=[experiment.pk]))
    assert 'name="variants-0-share"' not in change.content.decode()

    boss.post(url, {"promote": "B"})
    experiment.refresh_from_db()
    assert (experiment.status, experiment.winner.name) == ("stopped", "B")  # type: ignore[union-attr]
    assert active_config_version(tenant) == second
    assert "Promote" in boss.get(url).content.decode()
