"""A source is declared once: registering a toy one is enough for it to be validated in the
configuration, trained and stored, served for users and items, and explained."""

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from django.utils import timezone
from rest_framework.test import APIClient

from recommender.engine.config_schema import ConfigError, default_config, validate_config
from recommender.engine.data import InteractionMatrix
from recommender.engine.profiles import Recency
from recommender.engine.sources import SOURCE_SPECS, Setting, SourceSpec, register
from recommender.engine.sources.base import ItemNeighbourSource, prune_rows
from recommender.engine.sources.registry import ARTIFACTS, neighbour_count, unregister
from recommender.models import EndUser, Interaction, Item, ItemNeighbours
from recommender.services.config import config_save
from recommender.services.serving.source_reads import READERS
from recommender.services.training.artifacts import STORERS
from recommender.services.training.train import train_tenant
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant

pytestmark = pytest.mark.django_db

SHELVES = ("boots", "tents", "stoves")


class ShelfSource(ItemNeighbourSource):
    """Toy item-to-item source: an item's neighbours are the other items of its first category."""

    name = "shelf"

    def __init__(
        self, top_n: int = 100, strength: float = 1.0, recency: Recency | None = None
    ) -> None:
        super().__init__(top_n=top_n, recency=recency)
        self.strength = float(strength)

    def _fit(self, data: InteractionMatrix, **context: Any) -> None:
        first = [cats[0] if cats else None for cats in data.items.categories]
        rows, cols = [], []
        for i, shelf in enumerate(first):
            for j, other in enumerate(first):
                if i != j and shelf is not None and shelf == other:
                    rows.append(i)
                    cols.append(j)
        weights = np.full(len(rows), self.strength, dtype=np.float32)
        n = data.n_items
        self._pruned = prune_rows(sp.csr_matrix((weights, (rows, cols)), shape=(n, n)), self.top_n)


SHELF = SourceSpec(
    name="shelf",
    factory=ShelfSource,
    artifact="neighbour_lists",
    settings={"strength": Setting(float, 0.1, 10.0, 1.0, "weight of a shared shelf")},
    personal=True,
    similar_items=True,
    item_phrase="On the same shelf as {seed}",
    prepare=neighbour_count,
)


@pytest.fixture
def shelf_source() -> Iterator[SourceSpec]:
    register(SHELF)
    try:
        yield SHELF
    finally:
        unregister(SHELF.name)


def _shop(tenant: Tenant) -> None:
    items = Item.objects.for_tenant(tenant).bulk_create(
        [
            Item(
                tenant=tenant, external_id=f"{shelf}-{n}", title=f"{shelf} {n}", categories=[shelf]
            )
            for shelf in SHELVES
            for n in range(4)
        ]
    )
    by_id = {item.external_id: item for item in items}
    users = EndUser.objects.for_tenant(tenant).bulk_create(
        [EndUser(tenant=tenant, external_id=f"u-{shelf}") for shelf in SHELVES]
    )
    Interaction.objects.for_tenant(tenant).bulk_create(
        [
            Interaction(
                tenant=tenant,
                user=user,
                item=by_id[f"{shelf}-0"],
                type="view",
                timestamp=timezone.now(),
            )
            for user, shelf in zip(users, SHELVES, strict=True)
        ]
    )


def _later_shoppers(tenant: Tenant, n: int = 12) -> None:
    """Shoppers who viewed an item of a shelf two days ago and another of it an hour ago: enough
    users with a later discovery for the offline evaluation to run (splits.MIN_TEST_USERS)."""
    items = {item.external_id: item for item in Item.objects.for_tenant(tenant)}
    users = EndUser.objects.for_tenant(tenant).bulk_create(
        [EndUser(tenant=tenant, external_id=f"s-{k}") for k in range(n)]
    )
    now = timezone.now()
    Interaction.objects.for_tenant(tenant).bulk_create(
        [
            Interaction(
                tenant=tenant,
                user=user,
                item=items[f"{SHELVES[k % len(SHELVES)]}-{position}"],
                type="view",
                timestamp=now - ago,
            )
            for k, user in enumerate(users)
            for position, ago in ((0, dt.timedelta(days=2)), (1, dt.timedelta(hours=1)))
        ]
    )


def test_every_registered_source_has_a_reader_and_what_it_stores() -> None:
    for name, spec in SOURCE_SPECS.items():
        assert spec.artifact in ARTIFACTS, name
        assert spec.artifact in READERS, name
        if spec.similar_items:
            assert READERS[spec.artifact].serves_items, name
    # Every kind that keeps a trained artifact has a storer; the two that read live data do not.
    assert set(ARTIFACTS) - set(STORERS) == {"content_vectors", "live"}


def test_a_registered_source_is_part_of_the_configuration(shelf_source: SourceSpec) -> None:
    assert default_config()["sources"]["shelf"] == {"weight": 0.0, "strength": 1.0}
    config = validate_config({"sources": {"shelf": {"weight": 2.0}}})
    assert config["sources"]["shelf"] == {"weight": 2.0, "strength": 1.0}
    with pytest.raises(ConfigError) as caught:
        validate_config({"sources": {"shelf": {"strength": 50, "height": 3}}})
    errors = {e["field"]: e["message"] for e in caught.value.errors}
    assert errors["sources.shelf.strength"] == "must be a number from 0.1 to 10"
    assert errors["sources.shelf.height"] == "unknown setting"


def test_an_unregistered_source_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config({"sources": {"shelf": {"weight": 1.0}}})
    assert "unknown source" in caught.value.errors[0]["message"]


def test_a_registered_source_is_trained_served_and_explained(
    shelf_source: SourceSpec, tenant: Tenant, api: APIClient
) -> None:
    _shop(tenant)
    _later_shoppers(tenant)
    with pytest.raises(ApplicationError):
        config_save(tenant=tenant, data={"sources": {"shelf": {"weight": 1.0, "strength": 0}}})
    off = {name: {"weight": 0.0} for name in SOURCE_SPECS if name != "shelf"}
    config_save(
        tenant=tenant,
        data={
            "sources": {**off, "shelf": {"weight": 1.0, "strength": 2.0}},
            # Half the events on the test side: the shoppers' views of the last hour.
            "training": {"test_fraction": 0.5},
        },
    )

    version = train_tenant(tenant=tenant)
    assert version.sources["shelf"]["settings"] == {"weight": 1.0, "strength": 2.0}
    # 12 items, each with a list of its 3 shelf mates.
    assert version.sources["shelf"]["stored"] == 12
    lists = ItemNeighbours.objects.filter(version=version, source="shelf")
    assert lists.count() == 12
    # Evaluated offline too: each shopper's later view is a shelf mate of the earlier one.
    assert version.metrics["rows"]["shelf"]["users"] == 12
    assert version.metrics["rows"]["shelf"]["hit_rate"] == 1.0

    response = api.get("/api/v1/users/u-tents/recommendations?count=3&explain=true")
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert {entry["id"] for entry in items} == {"tents-1", "tents-2", "tents-3"}
    for entry in items:
        explanation = entry["explanation"]
        assert explanation["sources"] == [{"source": "shelf", "share": 1.0}]
        assert explanation["because_of"] == {"id": "tents-0", "type": "view"}
        assert explanation["text"] == "Because you viewed tents 0"

    response = api.get("/api/v1/items/stoves-2/similar?count=3&explain=true")
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert {entry["id"] for entry in items} == {"stoves-0", "stoves-1", "stoves-3"}
    assert {entry["explanation"]["text"] for entry in items} == {"On the same shelf as stoves 2"}
