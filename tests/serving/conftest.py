"""A tenant loaded with a planted-structure dataset (users in taste groups), content vectors
for its items, and a trained model version: the ground on which serving is tested."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from recommender.models import EndUser, Interaction, Item, ModelVersion
from recommender.services.config import config_save
from recommender.services.training.train import train_tenant
from tenants.models import Tenant
from tests.support.planted import PlantedDataset, planted_dataset
from tests.support.planted_space import store_planted_vectors

VECTOR_DIM = 32
BRANDS = ("Acme", "Zeta", "Orbit")


@dataclass
class Planted:
    tenant: Tenant
    dataset: PlantedDataset
    # dataset id → database id, and back
    item_pk: dict[int, int]
    user_pk: dict[int, int]
    item_group: dict[str, int]  # external id → planted group
    user_group: dict[str, int]
    version: ModelVersion | None = None

    def group_of(self, external_item_id: str) -> int:
        return self.item_group[external_item_id]


def load_planted(
    tenant: Tenant,
    *,
    n_users: int = 300,
    n_items: int = 400,
    n_groups: int = 6,
    events_per_user: float = 20,
    seed: int = 0,
) -> Planted:
    dataset = planted_dataset(
        n_users=n_users,
        n_items=n_items,
        n_groups=n_groups,
        events_per_user=events_per_user,
        seed=seed,
    )
    shift = timezone.now().timestamp() - dataset.now  # events end now
    items = Item.objects.for_tenant(tenant).bulk_create(
        [
            Item(
                tenant=tenant,
                external_id=f"i{int(item_id)}",
                title=f"Item {int(item_id)} of group {int(group)}",
                description=text,
                categories=list(dataset.items.categories[col]),
                attributes={
                    "brand": BRANDS[col % len(BRANDS)],
                    "price": float(10 + (col * 7) % 90),
                },
                available=True,
            )
            for col, (item_id, group, text) in enumerate(
                zip(dataset.items.ids, dataset.item_groups, dataset.item_texts, strict=True)
            )
        ]
    )
    item_pk = {int(i): item.pk for i, item in zip(dataset.items.ids, items, strict=True)}
    users = EndUser.objects.for_tenant(tenant).bulk_create(
        [EndUser(tenant=tenant, external_id=f"u{int(u)}") for u in dataset.user_ids]
    )
    user_pk = {int(u): user.pk for u, user in zip(dataset.user_ids, users, strict=True)}
    events = dataset.events
    # Every event a view: the planted weights stay as generated (tests add purchases).
    kinds = np.full(len(events), "view")
    Interaction.objects.for_tenant(tenant).bulk_create(
        [
            Interaction(
                tenant=tenant,
                user_id=user_pk[int(u)],
                item_id=item_pk[int(i)],
                type=str(kind),
                timestamp=dt.datetime.fromtimestamp(float(t) + shift, tz=dt.UTC),
            )
            for u, i, t, kind in zip(
                events.user_ids, events.item_ids, events.timestamps, kinds, strict=True
            )
        ]
    )
    store_planted_vectors(
        tenant, dataset, [item_pk[int(i)] for i in dataset.items.ids], dim=VECTOR_DIM
    )
    return Planted(
        tenant=tenant,
        dataset=dataset,
        item_pk=item_pk,
        user_pk=user_pk,
        item_group={
            f"i{int(i)}": int(g)
            for i, g in zip(dataset.items.ids, dataset.item_groups, strict=True)
        },
        user_group={
            f"u{int(u)}": int(g) for u, g in zip(dataset.user_ids, dataset.user_groups, strict=True)
        },
    )


def configure(tenant: Tenant, **sections: Any) -> None:
    config_save(tenant=tenant, data=sections)


@pytest.fixture
def planted(tenant: Tenant) -> Planted:
    """The planted tenant, trained with the default sources (content, ALS, co-occurrence,
    popular) and the training section made small; weighted fusion without tuning (the learned
    fusion has its own tests, and would cost every test using this tenant seconds)."""
    data = load_planted(tenant)
    configure(
        tenant,
        sources={"als": {"factors": 16, "iterations": 8}},
        fusion={"ranker": "off"},
        training={"eval_users": 300, "neighbours": 30, "tuning_budget_s": 0},
    )
    data.version = train_tenant(tenant=tenant)
    return data
