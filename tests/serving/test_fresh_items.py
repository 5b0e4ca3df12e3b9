"""Fresh items in served lists: items added after training, with no events, reach the users
whose taste their text matches, in the places `fusion.fresh_share` keeps for them."""

import numpy as np
import pytest

from recommender import vectorstore
from recommender.models import Item
from recommender.services.encoding.spaces import active_space
from recommender.services.serving.lists import recommend_for_user, similar_items
from tenants.scoping import tenant_scope
from tests.serving.conftest import Planted, configure

pytestmark = pytest.mark.django_db

GROUP_SIZE = 6


def _add_fresh_items(planted: Planted, group: int) -> list[str]:
    """Items created after training, with vectors beside their group's and no events."""
    tenant = planted.tenant
    space = active_space(tenant.pk)
    assert space is not None
    source_ids = [i for i, g in planted.item_group.items() if g == group][:GROUP_SIZE]
    source_pks = [planted.item_pk[int(i[1:])] for i in source_ids]
    vectors = vectorstore.item_vectors(space, source_pks)
    fresh = Item.objects.for_tenant(tenant).bulk_create(
        [
            Item(tenant=tenant, external_id=f"new{n}", title=f"New {n}", categories=["new"])
            for n in range(GROUP_SIZE)
        ]
    )
    rng = np.random.default_rng(1)
    stacked = np.stack([vectors[pk] for pk in source_pks])
    stacked = stacked + 0.01 * rng.standard_normal(stacked.shape).astype(np.float32)
    vectorstore.upsert_item_vectors(
        space, [item.pk for item in fresh], ["x"] * len(fresh), stacked.astype(np.float32)
    )
    return [item.external_id for item in fresh]


def _user_of(planted: Planted, group: int) -> str:
    return next(u for u, g in sorted(planted.user_group.items()) if g == group)


def _recommend(planted: Planted, user: str, params: list[tuple[str, str]]) -> list[str]:
    with tenant_scope(planted.tenant):
        body = recommend_for_user(tenant=planted.tenant, user_id=user, params=params)
    return [row["id"] for row in body["items"]]


def test_fresh_items_of_the_users_taste_take_the_kept_places(planted: Planted) -> None:
    new = set(_add_fresh_items(planted, group=0))
    configure(planted.tenant, fusion={"ranker": "off", "fresh_share": 0.2, "fresh_max_loss": 1.0})
    served = _recommend(planted, _user_of(planted, 0), [("count", "10")])
    assert len(served) == 10
    # Two places of ten, at the end: the head of the list stays as ranked.
    assert [item in new for item in served] == [False] * 8 + [True] * 2


def test_fresh_items_do_not_reach_users_of_another_taste(planted: Planted) -> None:
    new = set(_add_fresh_items(planted, group=0))
    configure(planted.tenant, fusion={"ranker": "off", "fresh_share": 0.2, "fresh_max_loss": 1.0})
    # Another group's user: the fresh items are not among their text candidates.
    other = _user_of(planted, 3)
    assert not new & set(_recommend(planted, other, [("count", "10")]))


def test_share_zero_turns_it_off_and_filters_still_apply(planted: Planted) -> None:
    new = set(_add_fresh_items(planted, group=0))
    user = _user_of(planted, 0)
    configure(planted.tenant, fusion={"ranker": "off", "fresh_share": 0.0})
    assert not new & set(_recommend(planted, user, [("count", "10")]))
    configure(planted.tenant, fusion={"ranker": "off", "fresh_share": 0.2, "fresh_max_loss": 1.0})
    assert not new & set(_recommend(planted, user, [("count", "10"), ("exclude_category", "new")]))


def test_warm_items_are_never_counted_fresh(planted: Planted) -> None:
    # No item was added: every candidate had events before training, the list is as ranked.
    user = _user_of(planted, 0)
    configure(planted.tenant, fusion={"ranker": "off", "fresh_share": 0.0})
    ranked = _recommend(planted, user, [("count", "10")])
    configure(planted.tenant, fusion={"ranker": "off", "fresh_share": 0.5, "fresh_max_loss": 1.0})
    assert _recommend(planted, user, [("count", "10")]) == ranked


def test_similar_items_keep_places_for_fresh_neighbours(planted: Planted) -> None:
    new = set(_add_fresh_items(planted, group=0))
    seed = next(i for i, g in sorted(planted.item_group.items()) if g == 0)

    def similar(share: float) -> list[bool]:
        configure(
            planted.tenant,
            fusion={"ranker": "off", "fresh_share": share, "fresh_max_loss": 1.0},
        )
        with tenant_scope(planted.tenant):
            body = similar_items(tenant=planted.tenant, item_id=seed, params=[("count", "10")])
        return [row["id"] in new for row in body["items"]]

    # The co-occurrence lists outrank the fresh neighbours: without places they are not served.
    assert similar(0.0) == [False] * 10
    assert similar(0.2) == [False] * 8 + [True] * 2


def test_under_a_cost_bound_nothing_is_kept_until_tuning_measured_it(planted: Planted) -> None:
    # The planted tenant trains without tuning: the bounded default keeps no places.
    new = set(_add_fresh_items(planted, group=0))
    configure(planted.tenant, fusion={"ranker": "off", "fresh_share": 0.2, "fresh_max_loss": 0.03})
    assert not new & set(_recommend(planted, _user_of(planted, 0), [("count", "10")]))
