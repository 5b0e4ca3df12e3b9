"""Recency by position and session: the weights as specified, offline equal to online, and on
data whose users switch taste recently, recency beating day decay alone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from recommender.engine.config_schema import ConfigError, default_config, validate_config
from recommender.engine.data import SECONDS_PER_DAY, Events, InteractionMatrix, ItemTable
from recommender.engine.metrics import Hits
from recommender.engine.profiles import Recency, decayed_weights, history_rows
from recommender.engine.sources import SOURCE_SPECS, ContentSource, CooccurrenceSource
from recommender.engine.sources.base import ItemNeighbourSource
from recommender.engine.sources.registry import TrainingInputs

MINUTE = 1.0 / 1440.0  # in days
NOW = 1_767_225_600.0


def test_the_current_session_weighs_as_the_newest_event() -> None:
    # Newest first: three events 10 minutes apart, then a pause of 100 minutes.
    ages = [0.0, 10 * MINUTE, 20 * MINUTE, 120 * MINUTE, 130 * MINUTE, 1.0]
    recency = Recency(half_life_days=1e9, half_life_events=2.0, session_gap_minutes=30.0)
    np.testing.assert_allclose(recency.positions(ages), [0, 0, 0, 3, 4, 5])
    weights = recency.event_weights([1.0, 1.0, 2.0, 1.0, 4.0, 1.0], ages)
    np.testing.assert_allclose(weights, [1.0, 1.0, 2.0, 0.5**1.5, 4.0 * 0.25, 0.5**2.5], rtol=1e-6)


def test_without_a_session_the_newest_event_alone_is_position_zero() -> None:
    ages = [0.0, MINUTE, 2 * MINUTE]
    recency = Recency(half_life_days=30.0, half_life_events=1.0, session_gap_minutes=0.0)
    np.testing.assert_allclose(recency.positions(ages), [0, 1, 2])


def test_no_position_half_life_is_the_day_decay_alone() -> None:
    ages = [0.0, 3.0, 40.0]
    recency = Recency(half_life_days=30.0, half_life_events=0.0, session_gap_minutes=30.0)
    np.testing.assert_allclose(
        recency.event_weights([8.0, 2.0, -4.0], ages),
        decayed_weights([8.0, 2.0, -4.0], ages, 30.0),
    )


def test_seeds_are_the_newest_distinct_positive_items() -> None:
    recency = Recency(seed_items=2)
    # Item 7 twice (its newest event first), item 9 disliked on balance.
    seeds = recency.seeds([7, 9, 7, 9, 3, 5], np.array([1.0, -4.0, 0.5, 1.0, 2.0, 1.0]))
    assert seeds == {7: 1.5, 3: 2.0}


def _events(rows: list[tuple[int, int, float, float]]) -> Events:
    users, items, weights, ages = zip(*rows, strict=True)
    return Events(
        np.array(users, dtype=np.int64),
        np.array(items, dtype=np.int64),
        np.array(weights, dtype=np.float32),
        NOW - np.array(ages, dtype=np.float64) * SECONDS_PER_DAY,
    )


def test_offline_rows_equal_what_serving_computes_per_user() -> None:
    rng = np.random.default_rng(3)
    n = 400
    users = rng.integers(0, 12, n)
    items = rng.integers(100, 130, n)
    weights = rng.choice([1.0, 2.0, 4.0, -4.0], n)
    # Ages in clusters: sessions of minutes inside days.
    ages = rng.integers(0, 20, n) + rng.random(n) * 60 * MINUTE
    events = _events(list(zip(users, items, weights, ages, strict=True)))
    catalog = ItemTable(
        ids=np.arange(100, 130, dtype=np.int64),
        created=np.zeros(30),
        categories=tuple(() for _ in range(30)),
        available=np.ones(30, dtype=bool),
    )
    data = InteractionMatrix.build(events, catalog, half_life_days=30.0, now=NOW)
    recency = Recency(
        half_life_days=30.0,
        half_life_events=3.0,
        session_gap_minutes=30.0,
        max_events=25,
        seed_items=6,
    )
    rows = history_rows(events, data, recency)
    for user, row in data.user_index.items():
        mine = np.flatnonzero(users == user)
        mine = mine[np.argsort(ages[mine], kind="stable")][: recency.max_events]
        online = recency.event_weights(weights[mine].tolist(), ages[mine].tolist())
        profile = dict.fromkeys(range(30), 0.0)
        for item, weight in zip(items[mine], online, strict=True):
            profile[int(item) - 100] += weight
        np.testing.assert_allclose(
            rows.profile[row].toarray()[0], [profile[c] for c in range(30)], atol=1e-5
        )
        seeds = recency.seeds([int(i) for i in items[mine]], online)
        expected = np.zeros(30)
        expected[[item - 100 for item in seeds]] = list(seeds.values())
        np.testing.assert_allclose(rows.seeds[row].toarray()[0], expected, atol=1e-5)


@dataclass(frozen=True)
class SwitchedTaste:
    """Users who liked one group for weeks and switched to another in their latest session."""

    events: Events
    items: ItemTable
    vectors: np.ndarray
    test: dict[int, frozenset[int]]


def switched_taste(seed: int = 0) -> SwitchedTaste:
    n_groups, per_group, n_users = 8, 25, 240
    rng = np.random.default_rng(seed)
    item_groups = np.repeat(np.arange(n_groups), per_group)
    n_items = len(item_groups)
    old_group = rng.integers(0, n_groups, n_users)
    new_group = (old_group + rng.integers(1, n_groups, n_users)) % n_groups
    rows: list[tuple[int, int, float, float]] = []
    test: dict[int, frozenset[int]] = {}
    for user in range(n_users):
        old = rng.choice(np.flatnonzero(item_groups == old_group[user]), 12, replace=False)
        new = rng.choice(np.flatnonzero(item_groups == new_group[user]), 9, replace=False)
        # Weeks of the old taste (one event a day or so), then one session of the new one.
        session = rng.random() * 5.0
        rows += [(user, int(i), 1.0, session + 1.0 + 2.0 * n) for n, i in enumerate(old)]
        rows += [(user, int(i), 1.0, session + 5 * MINUTE * n) for n, i in enumerate(new[:4])]
        test[user] = frozenset(int(i) for i in new[4:])
    centroids = rng.normal(size=(n_groups, 16))
    vectors = centroids[item_groups] + 0.6 * rng.normal(size=(n_items, 16))
    items = ItemTable(
        ids=np.arange(n_items, dtype=np.int64),
        created=np.zeros(n_items),
        categories=tuple(() for _ in range(n_items)),
        available=np.ones(n_items, dtype=bool),
    )
    return SwitchedTaste(_events(rows), items, vectors.astype(np.float32), test)


def _ndcg(source: ContentSource | ItemNeighbourSource, case: SwitchedTaste) -> float:
    data = InteractionMatrix.build(case.events, case.items, half_life_days=30.0, now=NOW)
    source.fit(data, events=case.events)
    users = sorted(case.test)
    cols, _ = source.recommend(np.array([data.user_index[u] for u in users]), 10)
    lists = [[int(data.items.ids[c]) for c in row if c >= 0] for row in cols]
    return float(np.mean(Hits.build(lists, [case.test[u] for u in users], 10).ndcg()))


DEFAULT_RECENCY = Recency.from_config(default_config())
NO_RECENCY = Recency(half_life_days=30.0, max_events=200, seed_items=200)


def test_recency_follows_a_switched_taste_in_the_content_source() -> None:
    case = switched_taste()
    with_recency = _ndcg(ContentSource(case.vectors, recency=DEFAULT_RECENCY), case)
    without = _ndcg(ContentSource(case.vectors, recency=NO_RECENCY), case)
    assert with_recency > without * 1.5


def test_recency_follows_a_switched_taste_in_item_to_item() -> None:
    case = switched_taste()
    with_recency = _ndcg(CooccurrenceSource(top_n=50, recency=DEFAULT_RECENCY), case)
    without = _ndcg(CooccurrenceSource(top_n=50, recency=NO_RECENCY), case)
    assert with_recency > without * 1.5


def test_cooccurrence_min_count_is_a_validated_setting_training_applies() -> None:
    config = validate_config({"sources": {"cooccurrence": {"min_count": 3}}})
    source = SOURCE_SPECS["cooccurrence"].build(
        config["sources"]["cooccurrence"], TrainingInputs(config=config)
    )
    assert isinstance(source, CooccurrenceSource)
    assert source.min_count == 3
    assert default_config()["sources"]["cooccurrence"]["min_count"] == 2
    # Two users share items 0 and 1, three share 0 and 2: min_count 3 keeps only the latter.
    events = _events(
        [(u, i, 1.0, 1.0) for u in range(3) for i in (0, 2)] + [(u, 1, 1.0, 1.0) for u in range(2)]
    )
    catalog = ItemTable(
        ids=np.arange(3, dtype=np.int64),
        created=np.zeros(3),
        categories=((), (), ()),
        available=np.ones(3, dtype=bool),
    )
    source.fit(InteractionMatrix.build(events, catalog, now=NOW), events=events)
    assert source.pruned[0].indices.tolist() == [2]
    with pytest.raises(ConfigError) as raised:
        validate_config({"sources": {"cooccurrence": {"min_count": 0}}})
    assert raised.value.errors == [
        {"field": "sources.cooccurrence.min_count", "message": "must be an integer from 1 to 1000"}
    ]


@pytest.mark.parametrize(
    ("profile", "field", "message"),
    [
        ({"recent_half_life_events": -1}, "profile.recent_half_life_events", "from 0 to 10000"),
        ({"session_gap_minutes": "30"}, "profile.session_gap_minutes", "from 0 to 10080"),
        ({"seed_items": 0}, "profile.seed_items", "an integer from 1 to 10000"),
        ({"seeds": 5}, "profile.seeds", "unknown setting"),
    ],
)
def test_profile_recency_settings_are_validated(
    profile: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        validate_config({"profile": profile})
    assert [e["field"] for e in raised.value.errors] == [field]
    assert message in raised.value.errors[0]["message"]
