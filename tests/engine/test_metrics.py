"""Ranking metrics at K, coverage and novelty, against values worked out by hand."""

import math

import numpy as np
import pytest

from recommender.engine.data import Events
from recommender.engine.metrics import (
    Hits,
    ItemPopularity,
    coverage,
    hit_rate_at_k,
    map_at_k,
    ndcg_at_k,
    novelty,
    recall_at_k,
)

L3 = math.log2(3)
L5 = math.log2(5)

# Ranked [a, b, c, d] = [1, 2, 3, 4]; relevant {b, d} = {2, 4}: hits at ranks 2 and 4.
RANKED = [[1, 2, 3, 4]]
RELEVANT = [{2, 4}]


def test_recall() -> None:
    # @2: one of two relevant found; @4: both.
    assert recall_at_k(RANKED, RELEVANT, 2) == pytest.approx([0.5])
    assert recall_at_k(RANKED, RELEVANT, 4) == pytest.approx([1.0])


def test_ndcg() -> None:
    # @2: DCG = 1/log2(3); ideal puts both relevant at ranks 1, 2: 1 + 1/log2(3).
    assert ndcg_at_k(RANKED, RELEVANT, 2) == pytest.approx([(1 / L3) / (1 + 1 / L3)])
    # @4: DCG = 1/log2(3) + 1/log2(5); ideal still covers min(2, 4) = 2 ranks.
    assert ndcg_at_k(RANKED, RELEVANT, 4) == pytest.approx([(1 / L3 + 1 / L5) / (1 + 1 / L3)])


def test_average_precision() -> None:
    # @4: P@2 = 1/2 and P@4 = 2/4 at the hits; (1/2 + 1/2) / min(2, 4) = 0.5.
    assert map_at_k(RANKED, RELEVANT, 4) == pytest.approx([0.5])
    # @2: only P@2 = 1/2; / min(2, 2) = 0.25.
    assert map_at_k(RANKED, RELEVANT, 2) == pytest.approx([0.25])
    # Hits at ranks 1 and 3: (1/1 + 2/3) / 2 = 5/6.
    assert map_at_k([[2, 1, 4]], RELEVANT, 3) == pytest.approx([5 / 6])


def test_hit_rate() -> None:
    assert hit_rate_at_k(RANKED, RELEVANT, 1) == pytest.approx([0.0])
    assert hit_rate_at_k(RANKED, RELEVANT, 2) == pytest.approx([1.0])


def test_more_relevant_than_k_normalises_by_k() -> None:
    # [1, 2] with {1, 2, 3} at K=2: a perfect top-2. Recall 2/3, but nDCG and AP use
    # min(|R|, K) = 2 so they reach 1.
    hits = Hits.build([[1, 2]], [{1, 2, 3}], 2)
    assert hits.recall() == pytest.approx([2 / 3])
    assert hits.ndcg() == pytest.approx([1.0])
    assert hits.average_precision() == pytest.approx([1.0])
    # [1, 2, 3] with {1, 3, 5, 6, 7} at K=2: hit at rank 1 only. AP = 1 / min(5, 2) = 0.5,
    # nDCG = 1 / (1 + 1/log2(3)), recall = 1/5.
    hits = Hits.build([[1, 2, 3]], [{1, 3, 5, 6, 7}], 2)
    assert hits.average_precision() == pytest.approx([0.5])
    assert hits.ndcg() == pytest.approx([1 / (1 + 1 / L3)])
    assert hits.recall() == pytest.approx([0.2])


def test_no_relevant_item_in_list_scores_zero() -> None:
    hits = Hits.build([[7, 8, 9]], [{1, 2}], 3)
    for values in (hits.recall(), hits.ndcg(), hits.average_precision(), hits.hit_rate()):
        assert values == pytest.approx([0.0])


def test_fewer_recommendations_than_k_pad_with_misses() -> None:
    # [5] with {5, 6} at K=10: recall 1/2; nDCG = 1 / (1 + 1/log2(3)); AP = (1/1) / 2.
    hits = Hits.build([[5]], [{5, 6}], 10)
    assert hits.matrix.shape == (1, 10)
    assert hits.recall() == pytest.approx([0.5])
    assert hits.ndcg() == pytest.approx([1 / (1 + 1 / L3)])
    assert hits.average_precision() == pytest.approx([0.5])
    assert hits.hit_rate() == pytest.approx([1.0])
    # An empty list is all misses, not an error.
    assert Hits.build([[]], [{5}], 3).recall() == pytest.approx([0.0])


def test_items_after_k_do_not_count() -> None:
    assert recall_at_k([[1, 2, 3, 4]], [{4}], 3) == pytest.approx([0.0])


def test_duplicate_item_is_credited_once() -> None:
    # Without de-duplication [5, 5] would score recall 2/2 against {5, 6}.
    assert recall_at_k([[5, 5]], [{5, 6}], 2) == pytest.approx([0.5])
    # The second 5 is a miss: AP = (1/1) / 2.
    assert map_at_k([[5, 5]], [{5, 6}], 2) == pytest.approx([0.5])


def test_users_are_scored_independently_in_one_batch() -> None:
    recommended = [[1, 2, 3, 4], [9, 8], [3]]
    relevant = [{2, 4}, {8}, {4}]
    # User 2: hit at rank 2 of a single relevant item: nDCG = 1/log2(3) / 1, AP = (1/2) / 1.
    assert recall_at_k(recommended, relevant, 4) == pytest.approx([1.0, 1.0, 0.0])
    assert ndcg_at_k(recommended, relevant, 4) == pytest.approx(
        [(1 / L3 + 1 / L5) / (1 + 1 / L3), 1 / L3, 0.0]
    )
    assert map_at_k(recommended, relevant, 4) == pytest.approx([0.5, 0.5, 0.0])
    assert hit_rate_at_k(recommended, relevant, 4) == pytest.approx([1.0, 1.0, 0.0])


def _reference(ranked: list[int], relevant: set[int], k: int) -> tuple[float, float]:
    """nDCG and AP written as loops straight from the definitions."""
    dcg, found, precision_sum = 0.0, 0, 0.0
    for rank, item in enumerate(ranked[:k], start=1):
        if item in relevant:
            found += 1
            dcg += 1 / math.log2(rank + 1)
            precision_sum += found / rank
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / ideal, precision_sum / min(len(relevant), k)


def test_vectorised_matches_loops_on_random_lists() -> None:
    rng = np.random.default_rng(7)
    recommended = [
        [int(i) for i in rng.choice(30, size=rng.integers(0, 12), replace=False)]
        for _ in range(200)
    ]
    relevant = [
        {int(i) for i in rng.choice(30, size=rng.integers(1, 8), replace=False)} for _ in range(200)
    ]
    hits = Hits.build(recommended, relevant, 10)
    expected = [_reference(r, s, 10) for r, s in zip(recommended, relevant, strict=True)]
    np.testing.assert_allclose(hits.ndcg(), [e[0] for e in expected])
    np.testing.assert_allclose(hits.average_precision(), [e[1] for e in expected])


@pytest.mark.parametrize(
    ("recommended", "relevant", "k"),
    [([[1]], [set()], 5), ([[1]], [{1}], 0), ([[1], [2]], [{1}], 5)],
)
def test_invalid_input_raises(
    recommended: list[list[int]], relevant: list[set[int]], k: int
) -> None:
    with pytest.raises(ValueError):
        Hits.build(recommended, relevant, k)


def test_coverage_counts_distinct_items_over_catalog() -> None:
    # {1, 2, 3} of 10 items.
    assert coverage([[1, 2], [2, 3], []], 10) == pytest.approx(0.3)
    with pytest.raises(ValueError):
        coverage([[1]], 0)


def _events(rows: list[tuple[int, int, float]]) -> Events:
    users, items, weights = zip(*rows, strict=True)
    return Events(
        np.array(users, dtype=np.int64),
        np.array(items, dtype=np.int64),
        np.array(weights, dtype=np.float32),
        np.arange(len(rows), dtype=np.float64),
    )


def test_popularity_counts_distinct_positive_users() -> None:
    popularity = ItemPopularity.from_events(
        _events(
            [
                (1, 10, 1.0), (2, 10, 1.0), (3, 10, 1.0), (4, 10, 1.0),
                (1, 20, 1.0), (1, 20, 3.0), (2, 20, 1.0),  # user 1 twice: counted once
                (3, 20, -5.0),  # a dislike is not an interaction for popularity
                (4, 30, 2.0),
            ]
        )
    )  # fmt: skip
    assert popularity.n_users == 4
    assert popularity.item_ids.tolist() == [10, 20, 30]
    assert popularity.counts.tolist() == [4, 2, 1]
    # 99 was never seen: counted as one user.
    probabilities = popularity.probability(np.array([10, 20, 30, 99], dtype=np.int64))
    assert probabilities == pytest.approx([1.0, 0.5, 0.25, 0.25])
    # Self-information: 0, 1, 2 and 2 bits; the mean over all four slots is 5/4.
    assert novelty([[10, 20], [30, 99]], popularity) == pytest.approx(1.25)


def test_novelty_of_nothing_is_nan() -> None:
    popularity = ItemPopularity.from_events(_events([(1, 10, 1.0)]))
    assert math.isnan(novelty([[], []], popularity))
    # One user total, so an unseen item has p = 1/1 and carries no information.
    assert novelty([[42]], popularity) == pytest.approx(0.0)
