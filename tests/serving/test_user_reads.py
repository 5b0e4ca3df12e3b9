"""What serving reads about a user in one statement, and the ALS lists training stores for
trained users: the same answers as the separate reads and the exact index search they replace."""

import datetime as dt
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from recommender import vectorstore
from recommender.engine.filters import parse_filter
from recommender.models import EndUser, Interaction, Item, UserItems
from recommender.services.serving.candidates import user_candidates
from recommender.services.serving.history import user_history
from recommender.services.serving.state import serving_for
from recommender.services.training.artifacts import USER_ITEMS_STORED
from recommender.stores import user_reads
from tests.retrieval.conftest import stored_user_vector
from tests.serving.conftest import Planted

pytestmark = pytest.mark.django_db


def _first_user(planted: Planted) -> EndUser:
    first = next(iter(planted.user_group))
    return EndUser.objects.for_tenant(planted.tenant).get(external_id=first)


def test_training_stores_each_users_als_items_as_an_exact_index_search_ranks_them(
    planted: Planted,
) -> None:
    version = planted.version
    assert version is not None
    assert version.cf_space is not None
    lists = UserItems.objects.filter(version=version, source="als")
    trained_users = Interaction.objects.for_tenant(planted.tenant).values("user").distinct()
    assert lists.count() == trained_users.count()
    for stored in lists.order_by("user_id")[:8]:
        assert len(stored.item_ids) == USER_ITEMS_STORED
        factor = stored_user_vector(version.cf_space, stored.user_id)
        exact = vectorstore.exact_nearest_items(
            version.cf_space, factor, k=USER_ITEMS_STORED, only_available=False
        )
        assert stored.item_ids[:50] == [n.item_id for n in exact[:50]]
        assert np.allclose(stored.scores, [n.similarity for n in exact], atol=1e-4)


def test_one_read_returns_what_the_separate_reads_return(
    planted: Planted, django_assert_num_queries: Any
) -> None:
    tenant, version = planted.tenant, planted.version
    assert version is not None
    assert version.cf_space is not None
    serving = serving_for(tenant)
    assert serving.content_space is not None
    user = _first_user(planted)
    bought = Item.objects.for_tenant(tenant).exclude(interactions__user=user).first()
    assert bought is not None
    Interaction.objects.for_tenant(tenant).create(
        tenant=tenant, user=user, item=bought, type="purchase", timestamp=timezone.now()
    )
    text = (
        np.random.default_rng(0).standard_normal(serving.content_space.dimension).astype(np.float32)
    )
    vectorstore.upsert_user_vectors(serving.content_space, [user.pk], ["t"], text[None, :])
    now = timezone.now()

    with django_assert_num_queries(1):
        reading = user_reads.read_user(
            user_id=user.pk,
            recent=5,
            exclude_types=("purchase",),
            content_space=serving.content_space,
            cf_space=serving.cf_space,
            version_id=version.pk,
            now=now,
        )

    newest = list(
        Interaction.objects.for_tenant(tenant).filter(user=user).order_by("-timestamp")[:5]
    )
    assert [(item, kind) for item, kind, _ in reading.recent] == [
        (e.item_id, e.type) for e in newest
    ]
    assert reading.recent[0][0] == bought.pk
    for (_, _, age), event in zip(reading.recent, newest, strict=True):
        assert age == pytest.approx((now - event.timestamp) / dt.timedelta(days=1), abs=1e-6)
    assert reading.excluded == {bought.pk}
    separate = vectorstore.item_vectors(serving.content_space, [e.item_id for e in newest])
    assert set(reading.item_vectors) == set(separate)
    for item_id, vector in separate.items():
        assert np.allclose(reading.item_vectors[item_id], vector)
    assert reading.text_vector is not None
    assert np.allclose(reading.text_vector, text, atol=1e-6)
    factor = stored_user_vector(version.cf_space, user.pk)
    assert reading.factor is not None
    assert np.allclose(reading.factor, factor)
    stored = UserItems.objects.get(version=version, source="als", user=user)
    assert reading.als_items == list(zip(stored.item_ids, stored.scores, strict=True))

    everything = user_reads.read_user(
        user_id=user.pk,
        recent=5,
        exclude_types=None,
        content_space=None,
        cf_space=None,
        version_id=None,
        now=now,
    )
    interacted = Interaction.objects.for_tenant(tenant).filter(user=user)
    assert everything.excluded == set(interacted.values_list("item_id", flat=True))
    assert len(everything.excluded) > 1
    assert everything.item_vectors == {}
    assert everything.text_vector is None
    assert everything.factor is None
    assert everything.als_items is None

    # A user with no events and no vectors reads empty (no events aggregate to NULL arrays).
    newcomer = EndUser.objects.for_tenant(tenant).create(tenant=tenant, external_id="newcomer")
    empty = user_reads.read_user(
        user_id=newcomer.pk,
        recent=5,
        exclude_types=None,
        content_space=serving.content_space,
        cf_space=serving.cf_space,
        version_id=version.pk,
        now=now,
    )
    assert (empty.recent, empty.excluded, empty.item_vectors) == ([], set(), {})
    assert (empty.text_vector, empty.factor, empty.als_items) == (None, None, None)


def test_als_candidates_come_from_the_stored_list_and_from_the_index_when_it_runs_short(
    planted: Planted,
) -> None:
    serving = serving_for(planted.tenant)
    assert serving.cf_space is not None
    user = _first_user(planted)
    history = user_history(user_id=user.pk, serving=serving, exclude_types=None)
    assert history.reading.als_items is not None

    def als(pool: int, item_filter: str = "") -> dict[int, float]:
        params = [("category", item_filter)] if item_filter else []
        found = user_candidates(
            serving=serving,
            user_id=user.pk,
            history=history,
            pool=pool,
            item_filter=parse_filter(params),
            sources=["als"],
        )
        return found.scores["als"]

    listed = [pair for pair in history.reading.als_items if pair[0] not in history.excluded]
    assert list(als(40).items()) == listed[:40]
    # The index search the list replaces finds nearly the same items.
    assert history.reading.factor is not None
    searched = vectorstore.nearest_items(
        serving.cf_space, history.reading.factor, k=40, exclude_item_ids=list(history.excluded)
    )
    assert len(set(als(40)) & {n.item_id for n in searched}) >= 36
    # A pool the list cannot fill comes from the index.
    wider = als(USER_ITEMS_STORED + 20)
    assert len(wider) == USER_ITEMS_STORED + 20
    assert not set(wider) & history.excluded
    # So does a filtered request: every item passes the filter.
    some_item = Item.objects.for_tenant(planted.tenant).first()
    assert some_item is not None
    category = some_item.categories[0]
    filtered = als(20, category)
    assert filtered
    categories = dict(
        Item.objects.for_tenant(planted.tenant)
        .filter(pk__in=list(filtered))
        .values_list("pk", "categories")
    )
    assert all(category in categories[pk] for pk in filtered)
