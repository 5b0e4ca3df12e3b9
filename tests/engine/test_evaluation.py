"""The evaluation harness: oracle and random recommenders, batching, and the tables."""

import math
from collections.abc import Sequence

import numpy as np
import pytest

from recommender.engine.data import Events
from recommender.engine.evaluation import MetricRow, evaluate, format_markdown, format_table
from recommender.engine.metrics import ItemPopularity
from recommender.engine.splits import HoldOut, holdout_slices, temporal_split

N_ITEMS = 1_000
CATALOG = list(range(5_000, 5_000 + N_ITEMS))  # database ids, not positions


def _test_sets(n_users: int, per_user: int = 3) -> dict[int, frozenset[int]]:
    rng = np.random.default_rng(11)
    return {
        10_000 + u: frozenset(int(i) for i in rng.choice(CATALOG, size=per_user, replace=False))
        for u in range(n_users)
    }


def _popularity() -> ItemPopularity:
    # 4 training users: item 5000 seen by all (0 bits), 5001 by two (1 bit); others unseen (2 bits).
    rows = [(1, 5000), (2, 5000), (3, 5000), (4, 5000), (1, 5001), (2, 5001)]
    return ItemPopularity.from_events(
        Events(
            np.array([u for u, _ in rows], dtype=np.int64),
            np.array([i for _, i in rows], dtype=np.int64),
            np.ones(len(rows), dtype=np.float32),
            np.zeros(len(rows), dtype=np.float64),
        )
    )


def test_oracle_scores_perfectly_and_random_scores_low() -> None:
    test = _test_sets(300)

    def oracle(users: Sequence[int], k: int) -> list[list[int]]:
        return [sorted(test[u])[:k] for u in users]

    rng = np.random.default_rng(5)

    def random(users: Sequence[int], k: int) -> list[list[int]]:
        return [[int(i) for i in rng.choice(CATALOG, size=k, replace=False)] for _ in users]

    rows = evaluate(
        {"oracle": oracle, "random": random},
        test,
        k=10,
        item_popularity=_popularity(),
        n_items=N_ITEMS,
    )
    assert list(rows) == ["oracle", "random"]
    perfect = rows["oracle"]
    assert (perfect.recall, perfect.ndcg, perfect.map, perfect.hit_rate) == pytest.approx(
        (1.0, 1.0, 1.0, 1.0)
    )
    assert perfect.users == 300
    # Random: expected recall = 10 / 1000 = 0.01 per user.
    assert rows["random"].recall < 0.05
    assert rows["random"].ndcg < 0.05
    assert rows["random"].users == 300


def test_coverage_and_novelty_of_a_fixed_list() -> None:
    def constant(users: Sequence[int], k: int) -> list[list[int]]:
        return [[5000, 5001, 5002, 5003] for _ in users]

    row = evaluate(
        {"constant": constant},
        _test_sets(20),
        k=4,
        item_popularity=_popularity(),
        n_items=N_ITEMS,
    )["constant"]
    # 4 distinct items of 1000.
    assert row.coverage == pytest.approx(0.004)
    # 0 + 1 + 2 + 2 bits, every list the same: mean 5/4.
    assert row.novelty == pytest.approx(1.25)


def test_lists_are_cut_to_k_and_users_batched_in_id_order() -> None:
    test = {3: frozenset({7}), 1: frozenset({7}), 2: frozenset({7}), 9: frozenset()}
    calls: list[list[int]] = []

    def late(users: Sequence[int], k: int) -> list[list[int]]:
        calls.append(list(users))
        # The relevant item sits at rank k + 1, so it must not count.
        return [[100 + j for j in range(k)] + [7] for _ in users]

    row = evaluate(
        {"late": late}, test, k=3, item_popularity=_popularity(), n_items=10, batch_size=2
    )["late"]
    # User 9 has nothing to find and is skipped.
    assert calls == [[1, 2], [3]]
    assert row.users == 3
    assert row.recall == 0.0
    assert row.hit_rate == 0.0
    # Only the first 3 items per list: {100, 101, 102} of 10.
    assert row.coverage == pytest.approx(0.3)


def test_wrong_number_of_lists_raises() -> None:
    def short(users: Sequence[int], k: int) -> list[list[int]]:
        return [[1]]

    with pytest.raises(ValueError, match="short"):
        evaluate({"short": short}, _test_sets(3), item_popularity=_popularity(), n_items=10)


def test_no_users_gives_nan_row_and_json_safe_dict() -> None:
    row = evaluate(
        {"any": lambda users, k: [[] for _ in users]},
        {},
        item_popularity=_popularity(),
        n_items=10,
    )["any"]
    assert row.users == 0
    assert math.isnan(row.recall)
    assert row.as_dict()["recall"] is None
    assert row.as_dict()["users"] == 0


def test_as_dict_rounds_to_four_decimals() -> None:
    row = MetricRow(1 / 3, 2 / 3, 0.123456, 1.0, 0.00004, 3.14159, 12)
    assert row.as_dict() == {
        "recall": 0.3333,
        "ndcg": 0.6667,
        "map": 0.1235,
        "hit_rate": 1.0,
        "coverage": 0.0,
        "novelty": 3.1416,
        "users": 12,
    }


ROWS = {
    "popular": MetricRow(0.1, 0.2, 0.05, 0.4, 0.01, 1.5, 300),
    "als|v2": MetricRow(0.25, 0.3125, 0.125, 0.6, 0.25, 4.0, 300),
    "empty": MetricRow(math.nan, math.nan, math.nan, math.nan, 0.0, math.nan, 0),
}


def test_format_table_has_every_row_aligned() -> None:
    text = format_table(ROWS, k=10)
    lines = text.splitlines()
    assert lines[0].split() == [
        "model",
        "recall@10",
        "ndcg@10",
        "map@10",
        "hit_rate@10",
        "coverage",
        "novelty",
        "users",
    ]
    assert len(lines) == 2 + len(ROWS)
    assert lines[2].split() == [
        "popular",
        "0.1000",
        "0.2000",
        "0.0500",
        "0.4000",
        "0.0100",
        "1.5000",
        "300",
    ]
    assert lines[3].split()[0] == "als|v2"
    assert lines[3].split()[2] == "0.3125"
    assert lines[4].split() == ["empty", "n/a", "n/a", "n/a", "n/a", "0.0000", "n/a", "0"]
    # Right-aligned numbers: every line ends at the same column.
    assert len({len(line) for line in lines}) == 1


def test_format_markdown_has_every_row() -> None:
    lines = format_markdown(ROWS).splitlines()
    assert lines[0] == "| model | recall | ndcg | map | hit_rate | coverage | novelty | users |"
    assert lines[1] == "|---|---:|---:|---:|---:|---:|---:|---:|"
    assert lines[2] == "| popular | 0.1000 | 0.2000 | 0.0500 | 0.4000 | 0.0100 | 1.5000 | 300 |"
    # The pipe in a name is escaped, so the row keeps 8 cells.
    assert lines[3].startswith("| als\\|v2 | 0.2500 |")
    assert lines[4] == "| empty | n/a | n/a | n/a | n/a | 0.0000 | n/a | 0 |"
    assert len(lines) == 2 + len(ROWS)


def test_slice_metrics_equal_hand_computed_values() -> None:
    # Before the cut-off (t < 100): user 1 has 3 events (warm), user 2 has 2 and user 3 has 1
    # (cold users); items 20 and 21 have none (cold items).
    before = [(1, 10), (1, 11), (1, 12), (2, 10), (2, 13), (3, 11)]
    after = [(1, 13), (1, 20), (2, 21), (2, 11), (3, 12)]
    rows = [(u, i, 0.0) for u, i in before] + [(u, i, 200.0) for u, i in after]
    events = Events(
        np.array([u for u, _, _ in rows], dtype=np.int64),
        np.array([i for _, i, _ in rows], dtype=np.int64),
        np.ones(len(rows), dtype=np.float32),
        np.array([t for _, _, t in rows], dtype=np.float64),
    )
    holdout = temporal_split(events, cutoff=100.0)
    assert holdout.test == {1: {13, 20}, 2: {21, 11}, 3: {12}}
    slices = holdout_slices(holdout)
    assert (slices.cold_users, slices.cold_items) == ({2, 3}, {20, 21})
    lists = {1: [20, 99], 2: [11, 21], 3: [99, 98]}

    row = evaluate(
        {"fixed": lambda users, k: [lists[u] for u in users]},
        holdout.test,
        k=2,
        item_popularity=ItemPopularity.from_events(holdout.train),
        n_items=10,
        slices=slices,
    )["fixed"]
    d1, d2 = 1.0, 1 / math.log2(3)  # the discounts of ranks 1 and 2
    # user 1: 20 found at rank 1 of {13, 20}; user 2: both found; user 3: nothing.
    assert row.recall == pytest.approx((0.5 + 1 + 0) / 3)
    assert row.ndcg == pytest.approx((d1 / (d1 + d2) + 1 + 0) / 3)
    warm, cold_users, cold_items = (
        row.slices[name] for name in ("warm_users", "cold_users", "cold_items")
    )
    assert (warm.users, warm.targets) == (1, 2)
    assert (warm.recall, warm.ndcg, warm.map, warm.hit_rate) == pytest.approx(
        (0.5, d1 / (d1 + d2), 0.5, 1.0)
    )
    assert (cold_users.users, cold_users.targets) == (2, 3)
    assert (cold_users.recall, cold_users.ndcg, cold_users.map, cold_users.hit_rate) == (
        pytest.approx((0.5, 0.5, 0.5, 0.5))
    )
    # Only the cold targets count: user 1 seeks {20} (rank 1), user 2 seeks {21} (rank 2; 11 is
    # relevant overall but not cold, so rank 1 is a miss here: AP = (1/2) / 1).
    assert (cold_items.users, cold_items.targets) == (2, 2)
    assert (cold_items.recall, cold_items.ndcg, cold_items.map, cold_items.hit_rate) == (
        pytest.approx((1.0, (1 + d2) / 2, (1 + 0.5) / 2, 1.0))
    )
    assert row.as_dict()["slices"]["cold_items"] == {
        "recall": 1.0,
        "ndcg": round((1 + d2) / 2, 4),
        "map": 0.75,
        "hit_rate": 1.0,
        "users": 2,
        "targets": 2,
    }


def test_an_empty_slice_is_none_in_the_dict() -> None:
    # User 1 has 3 training events (warm) and seeks an item that has some: both cold slices
    # are empty.
    train = Events(
        np.array([1, 1, 1], dtype=np.int64),
        np.array([5, 6, 7], dtype=np.int64),
        np.ones(3, dtype=np.float32),
        np.zeros(3, dtype=np.float64),
    )
    test = {1: frozenset({6})}
    row = evaluate(
        {"any": lambda users, k: [[6] for _ in users]},
        test,
        item_popularity=ItemPopularity.from_events(train),
        n_items=10,
        slices=holdout_slices(HoldOut(train=train, test=test, cutoff=1.0)),
    )["any"]
    slices = row.as_dict()["slices"]
    assert slices["warm_users"]["ndcg"] == 1.0
    nothing = {"recall": None, "ndcg": None, "map": None, "hit_rate": None}
    assert slices["cold_users"] == {**nothing, "users": 0, "targets": 0}
    assert slices["cold_items"] == {**nothing, "users": 0, "targets": 0}
