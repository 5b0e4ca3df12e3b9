"""Business rules change the list exactly as specified; count is honoured when enough match."""

from collections import Counter
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from recommender import vectorstore
from recommender.engine.filters import parse_filter
from recommender.models import EmbeddingSpace, EndUser, Interaction, Item
from recommender.services.encoding.spaces import active_space
from recommender.services.serving.candidates import narrow_filter, user_candidates
from recommender.services.serving.history import user_history
from recommender.services.serving.state import serving_for
from tests.api.support import assert_error
from tests.serving.conftest import Planted, configure

pytestmark = pytest.mark.django_db

USER = "u1000000"


def recs(api: APIClient, user: str = USER, **params: Any) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/users/{user}/recommendations", params)
    assert response.status_code == 200, response.content
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [entry["id"] for entry in items]


def catalog(planted: Planted) -> dict[str, Item]:
    return {i.external_id: i for i in Item.objects.for_tenant(planted.tenant)}


def seen_by(planted: Planted, user: str, kinds: tuple[str, ...] | None = None) -> set[str]:
    rows = Interaction.objects.for_tenant(planted.tenant).filter(user__external_id=user)
    if kinds is not None:
        rows = rows.filter(type__in=kinds)
    return set(rows.values_list("item__external_id", flat=True))


def test_seen_items_are_excluded_by_default_and_per_type_on_request(
    planted: Planted, api: APIClient
) -> None:
    viewed = seen_by(planted, USER)
    assert not set(ids(recs(api, count=100))) & viewed
    bought = sorted(viewed)[0]
    Interaction.objects.for_tenant(planted.tenant).create(
        tenant=planted.tenant,
        user=EndUser.objects.for_tenant(planted.tenant).get(external_id=USER),
        item=Item.objects.for_tenant(planted.tenant).get(external_id=bought),
        type="purchase",
        timestamp=Interaction.objects.for_tenant(planted.tenant).latest("timestamp").timestamp,
    )
    only_purchases = set(ids(recs(api, count=100, exclude_seen="purchase")))
    assert bought not in only_purchases
    assert only_purchases & (viewed - {bought})  # viewed items may come back
    assert not set(ids(recs(api, count=100, exclude_seen="all"))) & viewed


@pytest.mark.parametrize(
    "params",
    [
        {"category": "group-2"},
        {"exclude_category": "group-0,group-1"},
        {"attr.price": "10..40"},
        {"attr.brand": "Acme|Zeta", "attr.price": "50.."},
        {"category": "group-3", "attr.brand": "Orbit"},
    ],
)
def test_filters_return_only_matching_items_and_honour_count(
    planted: Planted, api: APIClient, params: dict[str, str]
) -> None:
    item_filter = parse_filter(params.items())
    items = catalog(planted)
    seen = seen_by(planted, USER)
    eligible = {
        key
        for key, item in items.items()
        if item_filter.matches(item.categories, item.attributes) and key not in seen
    }
    got = ids(recs(api, count=10, **params))
    assert set(got) <= eligible
    assert len(got) == min(10, len(eligible))
    assert len(ids(recs(api, count=100, **params))) == min(100, len(eligible))


def test_filtered_index_scans_equal_brute_force(planted: Planted) -> None:
    space = active_space(planted.tenant.pk)
    assert space is not None
    item_filter = parse_filter([("category", "group-1"), ("attr.price", "..60")])
    rng = np.random.default_rng(0)
    for _ in range(5):
        query = rng.standard_normal(space.dimension).astype(np.float32)
        fast = vectorstore.nearest_items(space, query, k=10, item_filter=item_filter)
        exact = vectorstore.exact_nearest_items(space, query, k=10, item_filter=item_filter)
        assert [n.item_id for n in fast] == [n.item_id for n in exact]
        assert len(fast) == 10


def test_unavailable_items_never_appear(planted: Planted, api: APIClient) -> None:
    before = ids(recs(api, count=20))
    hidden = before[:5]
    Item.objects.for_tenant(planted.tenant).filter(external_id__in=hidden).update(available=False)
    assert not set(ids(recs(api, count=100))) & set(hidden)
    assert not set(ids(api.get("/api/v1/popular", {"count": 100}).json()["items"])) & set(hidden)
    similar = api.get(f"/api/v1/items/{before[6]}/similar", {"count": 100}).json()["items"]
    assert not set(ids(similar)) & set(hidden)


# A trailing comma: empty category names in a boost are skipped (configuration versions were
# saved under that rule), though a request's `category=a,` is refused.
@pytest.mark.parametrize("trailing", ["", ","])
def test_a_boost_lifts_matching_items(planted: Planted, api: APIClient, trailing: str) -> None:
    own_group = planted.user_group[USER]
    other = f"group-{(own_group + 1) % 6}"
    plain = ids(recs(api, count=10))
    assert sum(planted.group_of(i) == (own_group + 1) % 6 for i in plain) <= 2
    configure(
        planted.tenant,
        sources={"als": {"factors": 16, "iterations": 8}},
        rules={"boosts": [{"when": f"category={other}{trailing}", "factor": 50}]},
    )
    boosted = recs(api, count=10)
    # Every boosted candidate outranks every other one.
    groups = [planted.group_of(i) for i in ids(boosted)]
    first_other = groups.index(own_group) if own_group in groups else len(groups)
    assert groups[:first_other] == [(own_group + 1) % 6] * first_other
    assert first_other >= 3


def test_a_boost_on_an_attribute_lifts_the_items_that_have_it(
    planted: Planted, api: APIClient
) -> None:
    items = catalog(planted)
    plain = [items[i].attributes["brand"] for i in ids(recs(api, count=10))]
    assert plain.count("Zeta") <= 6
    configure(
        planted.tenant,
        sources={"als": {"factors": 16, "iterations": 8}},
        rules={"boosts": [{"when": "attr.brand=Zeta", "factor": 50}]},
    )
    boosted = [items[i].attributes["brand"] for i in ids(recs(api, count=10))]
    assert boosted == ["Zeta"] * 10


def test_max_per_category_caps_each_category(planted: Planted, api: APIClient) -> None:
    items = catalog(planted)
    plain = ids(recs(api, count=10))
    assert max(Counter(items[i].categories[0] for i in plain).values()) > 2
    capped = ids(recs(api, count=10, max_per_category=2))
    assert len(capped) == 10
    assert max(Counter(items[i].categories[0] for i in capped).values()) <= 2


def test_mmr_diversifies_and_lambda_one_is_the_relevance_order(
    planted: Planted, api: APIClient
) -> None:
    items = catalog(planted)
    plain = ids(recs(api, count=10))
    assert ids(recs(api, count=10, diversity="1")) == plain
    diverse = ids(recs(api, count=10, diversity="0.2"))
    assert diverse != plain
    assert diverse[0] == plain[0]  # the most relevant item is always picked first

    def categories(listed: list[str]) -> int:
        return len({items[i].categories[0] for i in listed})

    assert categories(diverse) > categories(plain)


def test_cold_users_walk_the_fallback_chain(planted: Planted, api: APIClient) -> None:
    tenant = planted.tenant
    EndUser.objects.for_tenant(tenant).create(tenant=tenant, external_id="newcomer")
    cold = recs(api, user="newcomer", count=10, explain="true")
    assert len(cold) == 10
    popular = ids(api.get("/api/v1/popular", {"count": 10}).json()["items"])
    trending = ids(api.get("/api/v1/trending", {"count": 10}).json()["items"])
    # Trending first when anything trends (then newest items fill), else popular.
    chain = trending or popular
    assert chain
    assert ids(cold)[: len(chain)] == chain
    first = "trending" if trending else "popular"
    sources = [entry["explanation"]["sources"][0]["source"] for entry in cold]
    assert sources == [first] * len(chain) + ["newest"] * (10 - len(chain))


def test_a_user_with_only_profile_text_gets_content_results(
    planted: Planted, api: APIClient
) -> None:
    tenant = planted.tenant
    reader = EndUser.objects.for_tenant(tenant).create(
        tenant=tenant, external_id="reader", profile_text="group two things"
    )
    space = active_space(tenant.pk)
    assert space is not None
    group_two = [pk for key, pk in _item_pks(planted).items() if planted.group_of(key) == 2]
    centroid = np.mean(list(vectorstore.item_vectors(space, group_two).values()), axis=0)
    vectorstore.upsert_user_vectors(space, [reader.pk], ["t"], centroid[None, :])
    got = recs(api, user="reader", count=10, explain="true")
    assert {entry["explanation"]["sources"][0]["source"] for entry in got} == {"content"}
    assert sum(planted.group_of(i) == 2 for i in ids(got)) >= 8


def _item_pks(planted: Planted) -> dict[str, int]:
    return {key: item.pk for key, item in catalog(planted).items()}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"attr.price": "10..x"}, "attr.price"),
        ({"attr.price": "50..10"}, "attr.price"),
        ({"attr.weight": "5"}, "attr.weight"),
        ({"count": "0"}, "count"),
        ({"count": "101"}, "count"),
        ({"exclude_seen": "teleport"}, "exclude_seen"),
        ({"diversity": "2"}, "diversity"),
        ({"diversity": "nan"}, "diversity"),
        ({"max_per_category": "-1"}, "max_per_category"),
        ({"category": ","}, "category"),
    ],
)
def test_bad_parameters_are_clear_400s_on_every_list_endpoint(
    planted: Planted, api: APIClient, params: dict[str, str], field: str
) -> None:
    item = next(iter(planted.item_group))
    for url in (
        f"/api/v1/users/{USER}/recommendations",
        f"/api/v1/items/{item}/similar",
        "/api/v1/popular",
        "/api/v1/trending",
    ):
        error = assert_error(api.get(url, params), 400, "validation_error")
        assert field in {detail["field"] for detail in error["details"]}, (url, error)


def test_feedback_with_a_recommendation_id_is_attributed(planted: Planted, api: APIClient) -> None:
    body = api.get(f"/api/v1/users/{USER}/recommendations", {"count": 5}).json()
    clicked = body["items"][0]["id"]
    elsewhere = next(i for i in planted.item_group if i not in ids(body["items"]))
    response = api.post(
        "/api/v1/interactions/batch",
        {
            "interactions": [
                {
                    "user": USER,
                    "item": clicked,
                    "type": "click",
                    "recommendation_id": body["recommendation_id"],
                },
                {
                    "user": USER,
                    "item": elsewhere,
                    "type": "view",
                    "recommendation_id": body["recommendation_id"],
                },
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    models = api.get("/api/v1/models").json()["results"]
    active = next(row for row in models if row["status"] == "active")
    assert active["version"] == body["model_version"]
    feedback = active["feedback"]
    assert feedback["served_lists"] == 1
    assert feedback["attributed"] == 2
    assert feedback["on_served_items"] == 1
    assert feedback["by_type"] == {"click": 1, "view": 1}


# How the captured SQL tells the two neighbour searches apart (vectorstore._neighbour_sql): the
# exact one ranks by the distance function, which no index matches; the index scan orders by the
# operator.
NEIGHBOUR_SEARCH = "AS d FROM recommender_itemvector v"
EXACT_RANKING = ("cosine_distance(", "inner_product(")
INDEX_RANKING = (" <=> ", " <#> ")


def neighbour_searches(
    captured: CaptureQueriesContext, space: EmbeddingSpace
) -> tuple[list[str], list[str]]:
    """The exact and the index neighbour searches `captured` ran in `space`."""
    searches = [
        query["sql"]
        for query in captured.captured_queries
        if NEIGHBOUR_SEARCH in query["sql"] and f"v.space_id = {space.pk} AND" in query["sql"]
    ]
    exact = [sql for sql in searches if any(mark in sql for mark in EXACT_RANKING)]
    index = [sql for sql in searches if any(mark in sql for mark in INDEX_RANKING)]
    return exact, index


def brute_force(
    space: EmbeddingSpace, query: np.ndarray, eligible: set[int], k: int
) -> list[tuple[int, float]]:
    """The k eligible items closest to `query` under the space's metric, ranked in numpy over
    every stored vector."""
    stored = [
        (item, vector) for item, vector in vectorstore.all_item_vectors(space) if item in eligible
    ]
    ids = np.array([item for item, _ in stored])
    vectors = np.stack([vector for _, vector in stored]).astype(np.float64)
    similarity = vectors @ np.asarray(query, dtype=np.float64)
    if space.metric != EmbeddingSpace.Metric.INNER_PRODUCT:
        similarity /= np.linalg.norm(vectors, axis=1) * np.linalg.norm(query)
    order = np.argsort(-similarity)[:k]
    return [(int(ids[n]), float(similarity[n])) for n in order]


def test_a_narrow_filter_is_answered_by_exact_search(planted: Planted) -> None:
    """A filter few items pass skips the index for an exact ranking of those items, in the
    content space and in the collaborative one; an unfiltered request searches the index."""
    tenant = planted.tenant
    item_filter = parse_filter([("category", "group-2")])
    assert narrow_filter(tenant, item_filter)
    assert not narrow_filter(tenant, parse_filter([]))
    serving = serving_for(tenant)
    assert serving.content_space is not None
    assert serving.cf_space is not None
    user = EndUser.objects.for_tenant(tenant).get(external_id=USER)
    history = user_history(user_id=user.pk, serving=serving, exclude_types=None)
    assert history.reading.factor is not None
    pool = 20

    # Inside the test's transaction the sources run one after another on this connection
    # (side_by_side), so every statement they issue is captured here.
    with CaptureQueriesContext(connection) as captured:
        found = user_candidates(
            serving=serving,
            user_id=user.pk,
            history=history,
            pool=pool,
            item_filter=item_filter,
            sources=["content", "als"],
        )
    for space in (serving.content_space, serving.cf_space):
        exact, index = neighbour_searches(captured, space)
        assert len(exact) == 1, space
        assert index == [], space

    eligible = {
        item.pk
        for item in Item.objects.for_tenant(tenant)
        if item.available and item_filter.matches(item.categories, item.attributes)
    } - history.excluded
    assert len(eligible) > pool
    assert found.profile is not None
    assert found.profile.vector is not None
    expected = {
        "content": brute_force(serving.content_space, found.profile.vector, eligible, pool),
        "als": brute_force(serving.cf_space, history.reading.factor, eligible, pool),
    }
    for source, ranked in expected.items():
        got = found.scores[source]
        assert list(got) == [item for item, _ in ranked], source
        np.testing.assert_allclose(list(got.values()), [s for _, s in ranked], atol=1e-5)

    with CaptureQueriesContext(connection) as unfiltered:
        user_candidates(
            serving=serving,
            user_id=user.pk,
            history=history,
            pool=pool,
            item_filter=parse_filter([]),
            sources=["content"],
        )
    exact, index = neighbour_searches(unfiltered, serving.content_space)
    assert exact == []
    assert len(index) == 1


def test_a_filters_size_is_counted_once_per_process(planted: Planted) -> None:
    item_filter = parse_filter([("category", "group-3"), ("attr.price", "..40")])
    with CaptureQueriesContext(connection) as first:
        narrow = narrow_filter(planted.tenant, item_filter)
    with CaptureQueriesContext(connection) as again:
        assert narrow_filter(planted.tenant, item_filter) == narrow
    assert len(first) == 1
    assert len(again) == 0


def test_popular_candidates_skip_items_made_unavailable_after_training(
    planted: Planted, api: APIClient
) -> None:
    configure(
        planted.tenant,
        sources={"content": {"weight": 0}, "als": {"weight": 0}, "cooccurrence": {"weight": 0}},
    )
    top = ids(recs(api, count=10))
    Item.objects.for_tenant(planted.tenant).filter(external_id__in=top).update(available=False)
    after = ids(recs(api, count=10))
    assert len(after) == 10
    assert not set(after) & set(top)


def test_every_session_gets_the_serving_settings() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('jit'), current_setting('hnsw.max_scan_tuples'),"
            " current_setting('hnsw.iterative_scan')"
        )
        row = cursor.fetchone()
    assert row == ("off", str(settings.HNSW_MAX_SCAN_TUPLES), "relaxed_order")


def test_a_tenant_with_nothing_to_serve_answers_empty_lists_under_any_rule(
    api: APIClient,
) -> None:
    # No items, no events, no model: every source is empty, whichever rules reorder the list.
    for url in ("/api/v1/popular", "/api/v1/trending"):
        for params in ({}, {"max_per_category": "1"}, {"diversity": "0.5"}):
            response = api.get(url, params)
            assert response.status_code == 200, (url, params, response.content)
            assert response.json()["items"] == []


def test_the_newest_items_that_fill_a_short_list_respect_the_category_cap(
    planted: Planted, api: APIClient
) -> None:
    items = catalog(planted)
    group = items[ids(recs(api, count=1))[0]].categories[0]
    # Every item passing the filter shares its category: under a cap of one, one item is all
    # that may be served, however short of `count` that leaves the list.
    capped = ids(recs(api, count=5, category=group, max_per_category=1))
    assert len(capped) == 1
    assert items[capped[0]].categories[0] == group
    # Without the filter, newest items of other categories may fill it, one per category.
    spread = ids(recs(api, count=5, max_per_category=1))
    assert len(spread) == 5
    assert max(Counter(c for i in spread for c in items[i].categories).values()) == 1
