"""Fusion of candidate lists: weighted normalised scores and reciprocal rank fusion."""

import math

import pytest

from recommender.engine.fusion import Fused, fuse, normalise


def test_normalise_divides_non_negative_scores_by_the_max() -> None:
    assert normalise({1: 4.0, 2: 1.0, 3: 0.0}) == {1: 1.0, 2: 0.25, 3: 0.0}


def test_normalise_shifts_negative_scores_to_zero() -> None:
    assert normalise({1: -1.0, 2: 1.0, 3: 3.0}) == {1: 0.0, 2: 0.5, 3: 1.0}


def test_normalise_equal_scores() -> None:
    assert normalise({1: 2.0, 2: 2.0}) == {1: 1.0, 2: 1.0}
    assert normalise({1: 0.0, 2: 0.0}) == {1: 0.0, 2: 0.0}
    assert normalise({}) == {}


def test_weighted_fusion_by_hand() -> None:
    candidates = {"als": {1: 2.0, 2: 1.0}, "popular": {2: 4.0, 3: 2.0}}
    fused = fuse(candidates, {"als": 1.0, "popular": 0.5})
    # als: 1 → 1.0, 2 → 0.5; popular: 2 → 1.0, 3 → 0.5; then weighted.
    assert [(f.item, f.score) for f in fused] == [(1, 1.0), (2, 1.0), (3, 0.25)]
    assert fused[1].contributions == {"als": 0.5, "popular": 0.5}
    assert fused[2].contributions == {"popular": 0.25}


def test_rrf_by_hand() -> None:
    candidates = {"a": {1: 0.9, 2: 0.1}, "b": {2: 50.0, 3: 10.0}}
    fused = fuse(candidates, {"a": 1.0, "b": 2.0}, method="rrf", rrf_k=60)
    scores = {f.item: f.score for f in fused}
    assert scores[1] == pytest.approx(1 / 61)
    assert scores[2] == pytest.approx(1 / 62 + 2 / 61)
    assert scores[3] == pytest.approx(2 / 62)
    assert [f.item for f in fused] == [2, 3, 1]


def test_rrf_ties_within_a_source_rank_by_item_id() -> None:
    fused = fuse({"a": {7: 1.0, 3: 1.0}}, {"a": 1.0}, method="rrf", rrf_k=0)
    assert [(f.item, f.score) for f in fused] == [(3, 1.0), (7, 0.5)]


@pytest.mark.parametrize("method", ["weighted", "rrf"])
def test_zero_weight_or_absent_sources_are_ignored(method: str) -> None:
    candidates = {"a": {1: 1.0, 2: 0.5}, "b": {3: 100.0}, "c": {4: 1.0}}
    fused = fuse(candidates, {"a": 1.0, "b": 0.0}, method=method)  # type: ignore[arg-type]
    assert [f.item for f in fused] == [1, 2]
    assert all(set(f.contributions) == {"a"} for f in fused)


@pytest.mark.parametrize("method", ["weighted", "rrf"])
def test_shares_sum_to_one(method: str) -> None:
    candidates = {"a": {1: 3.0, 2: 1.0, 4: 0.5}, "b": {1: 1.0, 2: 5.0}, "c": {1: 0.2, 3: 0.1}}
    fused = fuse(candidates, {"a": 1.0, "b": 0.7, "c": 0.2}, method=method)  # type: ignore[arg-type]
    for entry in fused:
        shares = entry.shares()
        assert set(shares) == set(entry.contributions)
        assert math.isclose(sum(shares.values()), 1.0)
    first = next(f for f in fused if f.item == 1)
    assert first.shares()["a"] == pytest.approx(first.contributions["a"] / first.score)


def test_shares_of_a_zero_score_are_equal() -> None:
    assert Fused(1, 0.0, {"a": 0.0, "b": 0.0}).shares() == {"a": 0.5, "b": 0.5}


def test_no_opinion_scores_are_dropped() -> None:
    fused = fuse({"a": {1: 2.0, 2: -math.inf, 3: 1.0}}, {"a": 1.0})
    assert [(f.item, f.score) for f in fused] == [(1, 1.0), (3, 0.5)]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        fuse({"a": {1: 1.0}}, {"a": -1.0})
    with pytest.raises(ValueError, match="method"):
        fuse({"a": {1: 1.0}}, {"a": 1.0}, method="borda")  # type: ignore[arg-type]
