"""One outlier event cannot poison training: weights are clipped (or log-scaled) per config."""

import numpy as np
import pytest

from recommender.models import EndUser, Item, ModelVersion
from recommender.services.training.data import load_events
from recommender.services.training.train import train_tenant
from tenants.models import Tenant
from tests.factories import InteractionFactory
from tests.serving.conftest import configure, load_planted

pytestmark = pytest.mark.django_db


def _store_outlier(tenant: Tenant, value: float) -> None:
    # Stored past the API's bound on purpose: rows written before the bound existed, or by a
    # file import of another version, must not break training either.
    InteractionFactory(
        tenant=tenant,
        user=EndUser.objects.for_tenant(tenant).order_by("pk").first(),
        item=Item.objects.for_tenant(tenant).order_by("pk").first(),
        type="purchase",
        value=value,
    )


@pytest.mark.parametrize("scale", ["linear", "log"])
def test_training_survives_a_huge_value(tenant: Tenant, scale: str) -> None:
    load_planted(tenant, n_users=60, n_items=80, n_groups=4, events_per_user=12)
    _store_outlier(tenant, 1e12)
    configure(
        tenant,
        interactions={"value_scale": scale, "max_weight": 50.0},
        sources={"als": {"factors": 8, "iterations": 4}},
        fusion={"ranker": "off"},
        training={"eval_users": 60, "neighbours": 10, "tuning_budget_s": 0},
    )
    events = load_events(
        tenant_id=tenant.pk,
        interactions={
            "types": {"view": 1.0, "purchase": 8.0},
            "value_scale": scale,
            "max_weight": 50.0,
        },
    )
    assert np.isfinite(events.weights).all()
    assert float(np.abs(events.weights).max()) <= 50.0
    version = train_tenant(tenant=tenant)
    assert version.status in (ModelVersion.Status.ACTIVE, ModelVersion.Status.READY)
    assert version.sources["als"]["settings"]["factors"] == 8
