"""The evaluation harness: oracle and random recommenders, batching, and the tables."""

import math
from collections.abc import Sequence

import numpy as np
import pytest

from recommender.engine.data import Events
from recommender.engine.evaluation import MetricRow, evaluate, format_markdown, format_table
from recommender.engine.metrics import ItemPopularity

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
