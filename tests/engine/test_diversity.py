"""Diversity re-ranking: maximal marginal relevance and the per-category cap."""

import numpy as np
import pytest

from recommender.engine.diversity import cap_per_category, mmr

E1 = np.array([1.0, 0.0])
E2 = np.array([0.0, 1.0])


def test_lambda_one_keeps_the_relevance_order_exactly() -> None:
    rng = np.random.default_rng(4)
    items = list(range(100, 130))
    scores = rng.integers(0, 8, size=30).astype(float)  # many ties
    vectors = rng.standard_normal((30, 5))
    picked = mmr(items, scores.tolist(), vectors, lambda_=1.0, k=30)
    expected = [items[n] for n in sorted(range(30), key=lambda n: (-scores[n], n))]
    assert picked == expected


def test_low_lambda_picks_a_dissimilar_second_item() -> None:
    items = [1, 2, 3]
    scores = [1.0, 0.9, 0.5]
    vectors = np.stack([E1, E1 * 3, E2])  # 2 duplicates 1 (scale does not matter)
    assert mmr(items, scores, vectors, lambda_=1.0, k=3) == [1, 2, 3]
    assert mmr(items, scores, vectors, lambda_=0.3, k=3) == [1, 3, 2]


def test_mmr_objective_by_hand() -> None:
    # relevance rescaled: 1 → 1.0, 2 → 0.75, 3 → 0.0; cos(1, 2) = 0.6, cos(1, 3) = 0.
    items = [1, 2, 3]
    vectors = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    scores = [5.0, 4.0, 1.0]
    # lambda 0.5: 2 → 0.375 - 0.3 = 0.075 > 3 → 0.0
    assert mmr(items, scores, vectors, lambda_=0.5, k=2) == [1, 2]
    # lambda 0.4: 2 → 0.3 - 0.36 < 0 = 3
    assert mmr(items, scores, vectors, lambda_=0.4, k=2) == [1, 3]


def test_items_without_vectors_are_dissimilar_to_everything() -> None:
    items = ["x", "y", "z"]
    vectors = [E1, E1, None]
    assert mmr(items, [1.0, 0.95, 0.1], vectors, lambda_=0.5, k=3) == ["x", "z", "y"]
    zero_rows = np.stack([E1, E1, np.zeros(2)])
    assert mmr(items, [1.0, 0.95, 0.1], zero_rows, lambda_=0.5, k=3) == ["x", "z", "y"]


def test_mmr_edges() -> None:
    assert mmr([], [], [], lambda_=0.5, k=3) == []
    assert mmr([1, 2], [0.2, 0.8], [None, None], lambda_=0.0, k=5) == [2, 1]
    with pytest.raises(ValueError, match="lambda_"):
        mmr([1], [1.0], [None], lambda_=1.5, k=1)
    with pytest.raises(ValueError, match="length"):
        mmr([1, 2], [1.0], [None, None], lambda_=0.5, k=1)


def test_cap_per_category_is_exact() -> None:
    ranked = [1, 2, 3, 4, 5, 6, 7, 8]
    categories = {
        1: ["shoes"],
        2: ["shoes", "running"],
        3: ["shoes"],  # third shoe: skipped
        4: ["running"],  # running holds only item 2 so far: taken
        5: ["running", "trail"],  # running full → skipped, trail not charged
        6: [],  # no categories: never capped
        7: ["trail"],
    }
    assert cap_per_category(ranked, categories, max_per_category=2, k=10) == [1, 2, 4, 6, 7, 8]
    assert cap_per_category(ranked, categories, max_per_category=2, k=3) == [1, 2, 4]
    assert cap_per_category(ranked, categories, max_per_category=1, k=10) == [1, 4, 6, 7, 8]


def test_cap_zero_means_no_cap() -> None:
    assert cap_per_category([3, 1, 2], {1: ["a"], 2: ["a"], 3: ["a"]}, 0, k=2) == [3, 1]
