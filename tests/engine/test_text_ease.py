"""Text-aware EASE: its closed form, cold items reached through text, warm items as EASE, and the
low-rank regime above `max_items`. The shared contract runs in test_sources.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from recommender.engine.config_schema import validate_config
from recommender.engine.data import InteractionMatrix
from recommender.engine.metrics import Hits
from recommender.engine.sources import ContentSource, EASESource, TrainingInputs, make_source
from recommender.engine.sources import text_ease as text_ease_module
from recommender.engine.sources.base import CandidateSource
from recommender.engine.sources.text_ease import SPEC, TextEASESource, text_neighbours
from tests.support.planted import (
    ColdItemSplit,
    PlantedDataset,
    cold_item_split,
    planted_dataset,
    planted_item_vectors,
)

K = 10
# Tuned on this data as training's tuning would: enough pull for cold items to reach lists.
COLD_SETTINGS: dict[str, Any] = {"l2": 100.0, "text_weight": 12.0, "text_users": 3.0, "top_n": 50}


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread() -> Iterator[None]:
    with threadpool_limits(1, "blas"):
        yield


@pytest.fixture(scope="module")
def planted() -> PlantedDataset:
    return planted_dataset(1500, 300, 6, 20, seed=5)


@pytest.fixture(scope="module")
def vectors(planted: PlantedDataset) -> np.ndarray:
    return planted_item_vectors(planted, seed=5)


@pytest.fixture(scope="module")
def split(planted: PlantedDataset) -> ColdItemSplit:
    return cold_item_split(planted, 0.15, seed=6)


@pytest.fixture(scope="module")
def data(planted: PlantedDataset, split: ColdItemSplit) -> InteractionMatrix:
    return InteractionMatrix.build(split.train, planted.items, half_life_days=30.0, now=planted.now)


def _hits(
    source: CandidateSource, data: InteractionMatrix, test: dict[int, frozenset[int]]
) -> Hits:
    users = sorted(u for u in test if u in data.user_index)
    cols, _ = source.recommend(np.array([data.user_index[u] for u in users]), K)
    lists = [[int(data.items.ids[c]) for c in row if c >= 0] for row in cols]
    return Hits.build(lists, [test[u] for u in users], K)


def test_items_without_events_reach_users_of_their_group(
    planted: PlantedDataset, vectors: np.ndarray, split: ColdItemSplit, data: InteractionMatrix
) -> None:
    cold = np.isin(data.items.ids, split.cold_items)
    assert cold.sum() == 45
    assert data.matrix[:, np.flatnonzero(cold)].nnz == 0
    source = TextEASESource(vectors, **COLD_SETTINGS)
    source.fit(data)
    ease = EASESource(l2=COLD_SETTINGS["l2"], top_n=50)
    ease.fit(data)

    cols, _ = source.recommend(np.arange(data.n_users), K)
    groups = planted.group_of_users(data.user_ids)
    cold_slots = (cols >= 0) & cold[np.maximum(cols, 0)]
    # Cold items take slots (they are 15% of the catalogue) and go to their own group's users.
    assert 0.05 < cold_slots.mean() < 0.4
    same_group = (
        planted.item_groups[cols[cold_slots]]
        == np.broadcast_to(groups[:, None], cols.shape)[cold_slots]
    )
    assert same_group.mean() >= 0.9  # chance: 1/6

    # Held-out events on cold items: found by text-aware EASE about as well as by text alone
    # (which ranks every item by text and so loses the warm ones), never by EASE.
    content = ContentSource(vectors)
    content.fit(data)
    cold_recall = _hits(source, data, split.cold_test).recall().mean()
    assert cold_recall >= 0.1
    assert cold_recall >= 0.8 * _hits(content, data, split.cold_test).recall().mean()
    assert _hits(ease, data, split.cold_test).recall().mean() == 0.0
    ease_cols, _ = ease.recommend(np.arange(data.n_users), K)
    assert not cold[ease_cols[ease_cols >= 0]].any()


def test_warm_rankings_stay_close_to_ease(planted: PlantedDataset, vectors: np.ndarray) -> None:
    # No cold items: the text pull only competes with behaviour, and must not spoil it.
    split = cold_item_split(planted, 0.0)
    data = InteractionMatrix.build(split.train, planted.items, half_life_days=30.0, now=planted.now)
    ease = EASESource(l2=COLD_SETTINGS["l2"], top_n=50)
    ease.fit(data)
    source = TextEASESource(vectors, **COLD_SETTINGS)
    source.fit(data)
    ease_ndcg = _hits(ease, data, split.warm_test).ndcg().mean()
    ndcg = _hits(source, data, split.warm_test).ndcg().mean()
    assert ease_ndcg > 0.1
    assert ndcg >= 0.97 * ease_ndcg


def test_the_weights_solve_the_constrained_least_squares(
    planted: PlantedDataset, vectors: np.ndarray, data: InteractionMatrix
) -> None:
    # Keep every positive weight, then check the optimality conditions of
    # min ||X - XB||² + λ||B||² + β||B - T||², diag(B) = 0: (G + (λ+β)I)·B - G - β·T is zero
    # off the diagonal (the multipliers live on it). Only B's negative entries were pruned, so
    # rebuild B from the formula and check it keeps the pruned entries.
    l2, beta, users = 50.0, 20.0, 3.0
    source = TextEASESource(vectors, l2=l2, text_weight=beta, text_users=users, top_n=data.n_items)
    source.fit(data)
    binary = (data.matrix > 0).astype(np.float64).toarray()
    gram = binary.T @ binary
    focus = users / (users + binary.sum(axis=0))
    target = text_neighbours(source.item_vectors, source.text_neighbours).toarray() * focus
    inverse = np.linalg.inv(gram + (l2 + beta) * np.eye(data.n_items))
    through_text = beta * np.einsum("jk,kj->j", inverse, target)
    weights = (
        np.eye(data.n_items)
        + beta * inverse @ target
        - inverse * ((1 + through_text) / np.diag(inverse))
    )
    assert np.abs(np.diag(weights)).max() < 1e-9
    residual = (gram + (l2 + beta) * np.eye(data.n_items)) @ weights - gram - beta * target
    np.fill_diagonal(residual, 0.0)
    assert np.abs(residual).max() < 1e-8 * np.abs(gram).max()
    kept = source.pruned.toarray()
    # Every positive weight is kept (float32: up to rounding near zero), nothing else.
    np.testing.assert_allclose(kept, np.maximum(weights, 0.0), rtol=2e-3, atol=1e-5)
    assert (kept > 0).sum() >= 0.99 * (weights > 1e-5).sum()


def test_text_neighbours_are_symmetric_positive_and_skip_items_without_vectors(
    vectors: np.ndarray,
) -> None:
    some = vectors[:60].copy()
    some[[4, 9]] = 0.0
    similarity = text_neighbours(some, 5)
    dense = similarity.toarray()
    np.testing.assert_array_equal(dense, dense.T)
    assert (dense >= 0).all()
    assert (np.diag(dense) == 0).all()
    assert not dense[[4, 9]].any()
    # Every item with a vector keeps at least its own 5 best.
    assert ((dense > 0).sum(axis=1)[np.linalg.norm(some, axis=1) > 0] >= 5).all()


@pytest.mark.parametrize("rank", [None, 80])
def test_low_rank_regime_agrees_with_the_dense_one(
    vectors: np.ndarray, data: InteractionMatrix, rank: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text_ease_module, "_BLOCK", 64)  # several row blocks
    dense = TextEASESource(vectors, **COLD_SETTINGS)
    dense.fit(data)
    low = TextEASESource(vectors, **COLD_SETTINGS, max_items=10, rank=rank or data.n_items)
    low.fit(data)
    assert (dense.solver, low.solver) == ("dense", "low_rank")
    users = np.arange(0, data.n_users, 3)
    dense_cols, _ = dense.recommend(users, K)
    low_cols, _ = low.recommend(users, K)
    overlap = np.mean([len(set(a) & set(b)) / K for a, b in zip(dense_cols, low_cols, strict=True)])
    if rank is None:  # the full rank: the same matrix, up to float32 rounding
        np.testing.assert_allclose(low.pruned.toarray(), dense.pruned.toarray(), atol=2e-4)
        assert overlap >= 0.99
    else:
        assert overlap >= 0.85


def test_spec_needs_the_content_vectors(vectors: np.ndarray) -> None:
    config = validate_config({"training": {"neighbours": 40}})
    assert SPEC.build({"weight": 0.0}, TrainingInputs(config=config)) is None
    built = SPEC.build({"weight": 1.0, "l2": 10.0}, TrainingInputs(config, vectors))
    assert isinstance(built, TextEASESource)
    assert (built.top_n, built.l2) == (40, 10.0)
    assert SPEC.defaults()["weight"] == 0.0
    made = make_source("text_ease", {"text_weight": 3.0}, item_vectors=vectors)
    assert isinstance(made, TextEASESource)
    assert made.text_weight == 3.0


def test_refuses_misaligned_vectors(vectors: np.ndarray, data: InteractionMatrix) -> None:
    source = TextEASESource(vectors[:-1])
    with pytest.raises(ValueError, match="rows"):
        source.fit(data)
    assert not source.is_fitted
