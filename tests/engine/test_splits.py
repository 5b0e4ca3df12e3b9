"""Temporal split: the cut-off, what counts as a test item, and deterministic sampling."""

import numpy as np
import pytest

from recommender.engine.data import Events
from recommender.engine.splits import (
    HoldOut,
    default_cutoff,
    holdout_problem,
    sample_users,
    temporal_split,
)


def _events(rows: list[tuple[int, int, float, float]]) -> Events:
    """rows: (user, item, weight, timestamp)."""
    users, items, weights, timestamps = zip(*rows, strict=True)
    return Events(
        np.array(users, dtype=np.int64),
        np.array(items, dtype=np.int64),
        np.array(weights, dtype=np.float32),
        np.array(timestamps, dtype=np.float64),
    )


def test_default_cutoff_leaves_the_test_fraction_after_it() -> None:
    # 10 events at t = 1..10, 20 % → the newest 2 (t = 9, 10) are on the test side.
    timestamps = np.arange(10, 0, -1, dtype=np.float64)  # unsorted on purpose
    assert default_cutoff(timestamps, 0.2) == 9.0
    # 5 % of 10 rounds up to one event, never zero.
    assert default_cutoff(timestamps, 0.05) == 10.0
    # Ties at the cut-off all go to the test side: cut at 3 takes both events at t = 3.
    assert default_cutoff(np.array([1.0, 2.0, 3.0, 3.0]), 0.25) == 3.0


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_default_cutoff_rejects_bad_fraction(fraction: float) -> None:
    with pytest.raises(ValueError):
        default_cutoff(np.array([1.0, 2.0]), fraction)


def test_split_rules() -> None:
    events = _events(
        [
            # user 1: history 100, 101; after the cut: 100 again (seen), 102 and 103 new.
            (1, 100, 1.0, 1.0),
            (1, 101, -5.0, 2.0),  # disliked in training: seen, so not a test item
            (1, 100, 1.0, 10.0),
            (1, 101, 1.0, 10.0),
            (1, 102, 1.0, 11.0),
            (1, 103, 2.0, 12.0),
            # user 2: no history before the cut → dropped.
            (2, 104, 1.0, 11.0),
            # user 3: history, but after the cut only a view then a dislike of 105 (net < 0).
            (3, 100, 1.0, 3.0),
            (3, 105, 1.0, 10.0),
            (3, 105, -5.0, 11.0),
            # user 4: history and one new item exactly at the cut-off (at/after counts).
            (4, 101, 1.0, 4.0),
            (4, 106, 1.0, 10.0),
        ]
    )
    holdout = temporal_split(events, cutoff=10.0)
    assert holdout.cutoff == 10.0
    assert holdout.test == {1: frozenset({102, 103}), 4: frozenset({106})}
    # Train is exactly the events before the cut, dislikes included.
    assert sorted(holdout.train.timestamps.tolist()) == [1.0, 2.0, 3.0, 4.0]
    assert -5.0 in holdout.train.weights.tolist()


def test_min_train_events_drops_thin_histories() -> None:
    events = _events(
        [
            (1, 100, 1.0, 1.0),
            (1, 101, 1.0, 2.0),
            (1, 102, 1.0, 10.0),
            (2, 100, 1.0, 1.0),
            (2, 102, 1.0, 10.0),
        ]
    )
    assert set(temporal_split(events, cutoff=5.0, min_train_events=1).test) == {1, 2}
    assert set(temporal_split(events, cutoff=5.0, min_train_events=2).test) == {1}


def test_invariants_on_random_events() -> None:
    rng = np.random.default_rng(3)
    n = 5_000
    events = Events(
        rng.integers(1, 300, n).astype(np.int64),
        rng.integers(1_000, 1_400, n).astype(np.int64),
        rng.choice([-1.0, 1.0, 2.0], n).astype(np.float32),
        rng.uniform(0, 1_000, n),
    )
    holdout = temporal_split(events, test_fraction=0.2)
    assert np.all(holdout.train.timestamps < holdout.cutoff)
    assert np.mean(events.timestamps >= holdout.cutoff) == pytest.approx(0.2, abs=1e-3)
    assert holdout.test
    for user, items in holdout.test.items():
        assert items
        train_items = set(holdout.train.item_ids[holdout.train.user_ids == user].tolist())
        assert train_items, "user without history kept"
        assert not items & train_items
        for item in items:
            mask = (
                (events.user_ids == user)
                & (events.item_ids == item)
                & (events.timestamps >= holdout.cutoff)
            )
            assert events.weights[mask].sum() > 0


def _holdout(n_users: int) -> HoldOut:
    train = _events([(u, 1, 1.0, 0.0) for u in range(n_users)])
    return HoldOut(train=train, test={u: frozenset({u + 1000}) for u in range(n_users)}, cutoff=1.0)


def test_sample_users_is_deterministic_and_order_independent() -> None:
    holdout = _holdout(100)
    reordered = HoldOut(
        train=holdout.train, test=dict(reversed(list(holdout.test.items()))), cutoff=1.0
    )
    first = sample_users(holdout, 10, seed=42)
    assert len(first.test) == 10
    assert sample_users(holdout, 10, seed=42).test == first.test
    assert sample_users(reordered, 10, seed=42).test == first.test
    assert sample_users(holdout, 10, seed=43).test != first.test
    assert all(holdout.test[u] == items for u, items in first.test.items())
    # Models still fit on everyone.
    assert first.train is holdout.train
    assert first.cutoff == holdout.cutoff


def test_sample_users_keeps_small_holdouts_whole() -> None:
    holdout = _holdout(5)
    assert sample_users(holdout, 5, seed=0).test == holdout.test
    assert sample_users(holdout, 50, seed=0).test == holdout.test


def test_a_hold_out_too_small_to_rank_models_says_why() -> None:
    # Nothing before the cut-off: every event is at t = 5.
    alike = temporal_split(_events([(1, 100, 1.0, 5.0), (2, 101, 1.0, 5.0)]), test_fraction=0.5)
    assert holdout_problem(alike) == "no interaction falls before the evaluation cut-off"
    # 3 users find something new after the cut-off: fine at 3, too few at 4.
    rows = [(u, 100, 1.0, 1.0) for u in (1, 2, 3)] + [(u, 101, 1.0, 9.0) for u in (1, 2, 3)]
    few = temporal_split(_events(rows), cutoff=5.0)
    assert holdout_problem(few, min_test_users=3) is None
    assert holdout_problem(few, min_test_users=4) == (
        "3 users discovered items after the evaluation cut-off; at least 4 are needed"
    )
