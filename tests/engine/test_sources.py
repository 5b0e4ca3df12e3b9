"""Candidate sources: one contract every source passes, then what each must recover."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recommender.engine.data import SECONDS_PER_DAY, Events, InteractionMatrix, ItemTable
from recommender.engine.sources import (
    NO_OPINION,
    SOURCE_SPECS,
    ALSSource,
    CandidateSource,
    ContentSource,
    CooccurrenceSource,
    EASESource,
    ItemNeighbourSource,
    NewestSource,
    PopularSource,
    SourceSettingError,
    TooManyItems,
    TrendingSource,
    make_source,
    top_k,
)
from recommender.engine.sources import base as sources_base
from recommender.engine.sources import ease as ease_module
from recommender.engine.sources.als import fold_in_factor
from tests.support.planted import PlantedDataset, planted_dataset, planted_item_vectors

K = 10
UNAVAILABLE = np.array([3, 17, 40, 77, 101])
NO_VECTOR = np.array([5, 60])
# Settings that suit 120 items in 4 groups (the production defaults assume real catalogs).
SMALL_SETTINGS: dict[str, dict[str, Any]] = {
    "als": {"factors": 8, "num_threads": 1},
    "ease": {"top_n": 30},
    "text_ease": {"top_n": 30},
    "cooccurrence": {"top_n": 30},
}


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread() -> Iterator[None]:
    # The test machine's cores are shared: BLAS threads only contend there.
    with threadpool_limits(1, "blas"):
        yield


@pytest.fixture(scope="module")
def planted() -> PlantedDataset:
    return planted_dataset(600, 120, 4, 25, seed=1)


@pytest.fixture(scope="module")
def data(planted: PlantedDataset) -> InteractionMatrix:
    available = np.ones(len(planted.items), dtype=bool)
    available[UNAVAILABLE] = False
    items = dataclasses.replace(planted.items, available=available)
    return InteractionMatrix.build(planted.events, items, half_life_days=30.0, now=planted.now)


@pytest.fixture(scope="module")
def item_vectors(planted: PlantedDataset) -> np.ndarray:
    vectors = planted_item_vectors(planted)
    vectors[NO_VECTOR] = 0.0
    return vectors


@pytest.fixture(scope="module")
def fitted(
    planted: PlantedDataset, data: InteractionMatrix, item_vectors: np.ndarray
) -> dict[str, CandidateSource]:
    sources = {}
    for name in SOURCE_SPECS:
        inputs = {"item_vectors": item_vectors} if name in ("content", "text_ease") else {}
        source = make_source(name, {"weight": 1.0, **SMALL_SETTINGS.get(name, {})}, **inputs)
        source.fit(data, events=planted.events)
        sources[name] = source
    return sources


def _own_group_share(planted: PlantedDataset, data: InteractionMatrix, cols: np.ndarray) -> float:
    groups = planted.group_of_users(data.user_ids)
    found = cols >= 0
    same = planted.item_groups[np.where(found, cols, 0)] == groups[:, None]
    return float(same[found].mean())


# --- the contract -------------------------------------------------------------------------


@pytest.mark.parametrize("name", SOURCE_SPECS)
class TestSourceContract:
    def test_scores_every_item_for_every_user(
        self, fitted: dict[str, CandidateSource], data: InteractionMatrix, name: str
    ) -> None:
        source = fitted[name]
        scores = source.score(np.arange(7))
        assert scores.shape == (7, data.n_items)
        assert scores.dtype == np.float32
        assert not np.isnan(scores).any()
        assert not np.isposinf(scores).any()
        assert source.fit_seconds > 0

    def test_recommend_ranks_unseen_available_items_by_score(
        self, fitted: dict[str, CandidateSource], data: InteractionMatrix, name: str
    ) -> None:
        source = fitted[name]
        rows = np.arange(0, data.n_users, 37, dtype=np.int64)
        cols, scores = source.recommend(rows, K)
        assert cols.shape == scores.shape == (len(rows), K)
        assert cols.dtype == np.int64
        assert scores.dtype == np.float32
        full = source.score(rows)
        for n, row in enumerate(rows):
            returned = cols[n][cols[n] >= 0]
            assert len(returned) > 0
            assert len(set(returned.tolist())) == len(returned)
            assert not set(returned.tolist()) & set(data.matrix[row].indices.tolist())
            assert data.items.available[returned].all()
            np.testing.assert_array_equal(scores[n][: len(returned)], full[n, returned])
            assert (np.diff(scores[n][: len(returned)]) <= 0).all()
            # Nothing better was left out: every eligible item scores at most the k-th.
            eligible = data.items.available.copy()
            eligible[data.matrix[row].indices] = False
            eligible[returned] = False
            if len(returned) == K:
                assert full[n, eligible].max(initial=NO_OPINION) <= scores[n][-1]
            else:  # padded: nothing else had an opinion
                assert (full[n, eligible] == NO_OPINION).all()
                assert (scores[n][len(returned) :] == NO_OPINION).all()

    def test_recommend_in_chunks_gives_the_same_lists(
        self,
        fitted: dict[str, CandidateSource],
        data: InteractionMatrix,
        name: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        rows = np.arange(0, data.n_users, 7, dtype=np.int64)
        whole = fitted[name].recommend(rows, K)
        monkeypatch.setattr(sources_base, "_CHUNK_ELEMENTS", data.n_items * 3)
        chunked = fitted[name].recommend(rows, K)
        np.testing.assert_array_equal(whole[0], chunked[0])
        # BLAS may round a product differently for another batch shape.
        np.testing.assert_allclose(whole[1], chunked[1], rtol=1e-5)
        assert fitted[name].recommend(rows[:0], K)[0].shape == (0, K)

    def test_recommend_may_return_seen_items(
        self, fitted: dict[str, CandidateSource], data: InteractionMatrix, name: str
    ) -> None:
        source = fitted[name]
        cols, _ = source.recommend(np.arange(data.n_users), K, exclude_seen=False)
        seen = [set(data.matrix[row].indices.tolist()) for row in range(data.n_users)]
        assert any(set(cols[row].tolist()) & seen[row] for row in range(data.n_users))
        assert data.items.available[cols[cols >= 0]].all()

    def test_similar_items_or_a_clear_refusal(
        self, fitted: dict[str, CandidateSource], data: InteractionMatrix, name: str
    ) -> None:
        source = fitted[name]
        items = np.array([0, 9, 33], dtype=np.int64)
        if name in ("popular", "trending", "newest"):
            with pytest.raises(NotImplementedError):
                source.similar_items(items, K)
            return
        cols, scores = source.similar_items(items, K)
        assert cols.shape == scores.shape == (3, K)
        for n, item in enumerate(items):
            returned = cols[n][cols[n] >= 0]
            assert item not in returned
            assert data.items.available[returned].all()
            assert (np.diff(scores[n][: len(returned)]) <= 0).all()


def test_make_source_knows_the_configured_names_and_refuses_unknown_settings() -> None:
    assert set(SOURCE_SPECS) == {
        "content",
        "als",
        "ease",
        "text_ease",
        "cooccurrence",
        "popular",
        "trending",
        "newest",
    }
    als = make_source("als", {"weight": 2.0, "factors": 12, "alpha": 3.0})
    assert isinstance(als, ALSSource)
    assert (als.factors, als.alpha) == (12, 3.0)
    ease = make_source("ease", {"weight": 0.0, "l2": 10.0, "max_items": 500})
    assert isinstance(ease, EASESource)
    assert (ease.l2, ease.max_items) == (10.0, 500)
    with pytest.raises(SourceSettingError, match="l3"):
        make_source("ease", {"l3": 1.0})
    with pytest.raises(SourceSettingError, match="unknown source"):
        make_source("magic", {})


def test_top_k_orders_ties_by_column_and_pads() -> None:
    scores = np.array([[1.0, 3.0, 3.0, NO_OPINION, 2.0]], dtype=np.float32)
    cols, best = top_k(scores, 6)
    assert cols.tolist() == [[1, 2, 4, 0, -1, -1]]
    assert best.tolist() == [[3.0, 3.0, 2.0, 1.0, NO_OPINION, NO_OPINION]]


# --- planted structure ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["als", "ease", "text_ease", "cooccurrence", "content"])
def test_personalised_sources_recover_the_users_group(
    fitted: dict[str, CandidateSource], planted: PlantedDataset, data: InteractionMatrix, name: str
) -> None:
    cols, _ = fitted[name].recommend(np.arange(data.n_users), K)
    assert _own_group_share(planted, data, cols) >= 0.8


@pytest.mark.parametrize("name", ["popular", "newest"])
def test_global_sources_do_not_personalise(
    fitted: dict[str, CandidateSource], planted: PlantedDataset, data: InteractionMatrix, name: str
) -> None:
    cols, _ = fitted[name].recommend(np.arange(data.n_users), K)
    assert _own_group_share(planted, data, cols) < 0.6


@pytest.mark.parametrize("name", ["ease", "text_ease", "cooccurrence"])
def test_neighbours_come_from_the_items_group(
    fitted: dict[str, CandidateSource], planted: PlantedDataset, data: InteractionMatrix, name: str
) -> None:
    source = fitted[name]
    assert isinstance(source, ItemNeighbourSource)
    cols, weights = source.neighbours()
    assert cols.shape == weights.shape == (data.n_items, 30)
    assert cols.dtype == np.int32
    assert weights.dtype == np.float32
    top = cols[:, :K]
    found = top >= 0
    assert found.mean() > 0.9
    same = planted.item_groups[np.where(found, top, 0)] == planted.item_groups[:, None]
    assert same[found].mean() >= 0.9
    # Best first, padded with (-1, 0), never the item itself.
    assert (np.diff(weights, axis=1) <= 0).all()
    assert (weights[cols < 0] == 0).all()
    assert (weights[cols >= 0] > 0).all()
    assert not (cols == np.arange(data.n_items)[:, None]).any()


@pytest.mark.parametrize("name", ["ease", "text_ease", "cooccurrence"])
def test_score_uses_exactly_the_exported_neighbours(
    fitted: dict[str, CandidateSource], data: InteractionMatrix, name: str
) -> None:
    source = fitted[name]
    assert isinstance(source, ItemNeighbourSource)
    cols, weights = source.neighbours()
    rows_of, cols_of = np.nonzero(cols >= 0)
    served = sp.csr_matrix(
        (weights[rows_of, cols_of], (rows_of, cols[rows_of, cols_of])),
        shape=(data.n_items, data.n_items),
    )
    users = np.arange(0, data.n_users, 11)
    expected = (data.matrix[users] @ served).toarray()
    scores = source.score(users)
    has_opinion = np.isfinite(scores)
    np.testing.assert_allclose(scores[has_opinion], expected[has_opinion], rtol=1e-5)
    assert (expected[~has_opinion] == 0).all()
    with pytest.raises(ValueError, match="top_n"):
        source.neighbours(top_n=10)


def test_neighbour_similar_items_are_the_stored_list(
    fitted: dict[str, CandidateSource], data: InteractionMatrix
) -> None:
    source = fitted["cooccurrence"]
    assert isinstance(source, ItemNeighbourSource)
    stored, _ = source.neighbours()
    cols, _ = source.similar_items(np.array([8]), 5)
    expected = [c for c in stored[8] if c >= 0 and data.items.available[c]][:5]
    assert cols[0].tolist() == expected


# --- ALS ------------------------------------------------------------------------------------


def test_als_score_is_exactly_the_factor_product(fitted: dict[str, CandidateSource]) -> None:
    als = fitted["als"]
    assert isinstance(als, ALSSource)
    rows = np.array([0, 5, 99], dtype=np.int64)
    assert als.user_factors.dtype == als.item_factors.dtype == np.float32
    assert als.item_factors.shape == (120, 8)
    np.testing.assert_array_equal(als.score(rows), als.user_factors[rows] @ als.item_factors.T)


def _fold_in(als: ALSSource, data: InteractionMatrix, row: int) -> np.ndarray:
    """Training user `row` folded in as serving folds in a new user: from their items' factors,
    their weights and the fitted YᵀY."""
    start, stop = data.matrix.indptr[row], data.matrix.indptr[row + 1]
    cols = data.matrix.indices[start:stop]
    return fold_in_factor(
        als.item_factors[cols],
        data.matrix.data[start:stop],
        als.gram,
        als.regularization,
        als.alpha,
    )


def test_als_fold_in_of_a_training_user_is_close_to_their_factor(
    fitted: dict[str, CandidateSource], data: InteractionMatrix
) -> None:
    als = fitted["als"]
    assert isinstance(als, ALSSource)
    for row in (0, 42, 300):
        folded = _fold_in(als, data, row)
        stored = als.user_factors[row]
        assert folded.dtype == np.float32
        assert np.linalg.norm(folded - stored) <= 0.1 * np.linalg.norm(stored)


def test_als_fold_in_matches_implicits_recalculate_user(
    fitted: dict[str, CandidateSource], data: InteractionMatrix
) -> None:
    import implicit.cpu.als

    als = fitted["als"]
    assert isinstance(als, ALSSource)
    model = implicit.cpu.als.AlternatingLeastSquares(
        factors=als.factors, regularization=als.regularization, alpha=als.alpha
    )
    model.user_factors, model.item_factors = als.user_factors, als.item_factors
    rows = np.array([3, 4], dtype=np.int64)
    theirs = model.recalculate_user(rows, data.matrix[rows])
    for n, row in enumerate(rows):
        ours = _fold_in(als, data, int(row))
        np.testing.assert_allclose(ours, theirs[n], rtol=1e-3, atol=1e-5)


def test_als_applies_alpha_as_implicit_does(data: InteractionMatrix) -> None:
    import implicit.cpu.als

    ours = ALSSource(factors=4, iterations=3, alpha=3.0, regularization=0.1, num_threads=1)
    ours.fit(data)
    theirs = implicit.cpu.als.AlternatingLeastSquares(
        factors=4, iterations=3, alpha=3.0, regularization=0.1, random_state=0, num_threads=1
    )
    theirs.fit(data.matrix, show_progress=False)
    np.testing.assert_allclose(ours.item_factors, theirs.item_factors, rtol=1e-4, atol=1e-6)
    plain = ALSSource(factors=4, iterations=3, alpha=1.0, regularization=0.1, num_threads=1)
    plain.fit(data)
    assert not np.allclose(plain.item_factors, ours.item_factors, atol=1e-3)


# --- EASE -----------------------------------------------------------------------------------


def _tiny_matrix(
    rows: list[list[int]], n_items: int, weights: list[list[float]] | None = None
) -> InteractionMatrix:
    """A matrix from explicit per-user item lists (positions = ids)."""
    users, items, values = [], [], []
    for user, cols in enumerate(rows):
        for n, col in enumerate(cols):
            users.append(user)
            items.append(col)
            values.append(weights[user][n] if weights else 1.0)
    events = Events(
        np.array(users, dtype=np.int64),
        np.array(items, dtype=np.int64),
        np.array(values, dtype=np.float32),
        np.zeros(len(users)),
    )
    table = ItemTable(
        ids=np.arange(n_items, dtype=np.int64),
        created=np.zeros(n_items),
        categories=tuple(() for _ in range(n_items)),
        available=np.ones(n_items, dtype=bool),
    )
    return InteractionMatrix.build(events, table, now=0.0)


@pytest.mark.parametrize("block", [1024, 16])
def test_ease_weights_are_the_closed_form_pruned(
    data: InteractionMatrix, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small block makes the blocked Gram, inverse mirroring and pruning take every path.
    monkeypatch.setattr(ease_module, "_BLOCK", block)
    ease = EASESource(l2=50.0, top_n=data.n_items)
    ease.fit(data)
    binary = (data.matrix > 0).astype(np.float64).toarray()
    inverse = np.linalg.inv(binary.T @ binary + 50.0 * np.eye(data.n_items))
    closed_form = inverse / -np.diag(inverse)
    np.fill_diagonal(closed_form, 0.0)
    kept = ease.pruned.toarray()
    # top_n covers the catalog, so pruning keeps exactly the positive weights.
    assert (kept >= 0).all()
    np.testing.assert_array_equal(kept > 0, closed_form > 1e-6)
    np.testing.assert_allclose(kept[kept > 0], closed_form[kept > 0], rtol=1e-3, atol=1e-6)


def test_ease_keeps_only_top_n_per_item() -> None:
    matrix = _tiny_matrix([[0, 1, 2, 3], [0, 1, 2], [0, 1], [2, 3], [1, 3]], 4)
    ease = EASESource(l2=1.0, top_n=1)
    ease.fit(matrix)
    assert (np.diff(ease.pruned.indptr) <= 1).all()
    full = EASESource(l2=1.0, top_n=3)
    full.fit(matrix)
    best = full.neighbours()[0][:, 0]
    np.testing.assert_array_equal(ease.neighbours()[0][:, 0], best)


def test_ease_refuses_catalogs_over_max_items(data: InteractionMatrix) -> None:
    ease = EASESource(max_items=data.n_items - 1)
    with pytest.raises(TooManyItems, match="max_items") as caught:
        ease.fit(data)
    assert isinstance(caught.value, ValueError)
    assert not ease.is_fitted


# --- co-occurrence --------------------------------------------------------------------------


def test_cooccurrence_is_cosine_of_binarised_columns() -> None:
    # users of a: 1, 2, 3; of b: 1, 2, 4, 5; of c: 4, 5.
    weights = [[5.0, 1.0], [5.0, 1.0], [1.0], [1.0, 1.0], [1.0, 1.0]]  # weights do not count
    matrix = _tiny_matrix([[0, 1], [0, 1], [0], [1, 2], [1, 2]], 3, weights)
    source = CooccurrenceSource(min_count=2)
    source.fit(matrix)
    expected = np.array(
        [
            [0.0, 2 / np.sqrt(12), 0.0],
            [2 / np.sqrt(12), 0.0, 2 / np.sqrt(8)],
            [0.0, 2 / np.sqrt(8), 0.0],
        ]
    )
    np.testing.assert_allclose(source.pruned.toarray(), expected, rtol=1e-6)
    assert source.neighbours()[0][1, :2].tolist() == [2, 0]


def test_cooccurrence_min_count_drops_single_shared_users() -> None:
    matrix = _tiny_matrix([[0, 1], [0, 1], [1, 2]], 3)
    source = CooccurrenceSource(min_count=2)
    source.fit(matrix)
    assert source.pruned[1, 2] == 0
    assert source.pruned[1, 0] > 0


def test_cooccurrence_counts_a_heavy_users_heaviest_items_only() -> None:
    # The user's two heaviest items co-occur; the light one does not.
    matrix = _tiny_matrix([[0, 1, 2]], 3, [[5.0, 3.0, 1.0]])
    source = CooccurrenceSource(min_count=1, max_items_per_user=2)
    source.fit(matrix)
    assert source.pruned[0, 1] > 0
    assert source.pruned[0, 2] == 0
    assert source.pruned[1, 2] == 0


def test_cooccurrence_blocks_do_not_change_the_result(data: InteractionMatrix) -> None:
    whole = CooccurrenceSource(top_n=20)
    whole.fit(data)
    blocked = CooccurrenceSource(top_n=20, max_block_entries=500)
    blocked.fit(data)
    assert (whole.pruned != blocked.pruned).nnz == 0


# --- popular, trending, newest --------------------------------------------------------------

NOW = 1_800_000_000.0


def _events(spec: list[tuple[int, int, float]]) -> Events:
    """(item id, count, age in days) → that many unit-weight events."""
    items = np.concatenate([np.full(count, item) for item, count, _ in spec]).astype(np.int64)
    ages = np.concatenate([np.full(count, age) for _, count, age in spec])
    return Events(
        user_ids=np.arange(len(items), dtype=np.int64),
        item_ids=items,
        weights=np.ones(len(items), dtype=np.float32),
        timestamps=NOW - ages * SECONDS_PER_DAY,
    )


def _catalog(n_items: int, categories: tuple[tuple[str, ...], ...] | None = None) -> ItemTable:
    return ItemTable(
        ids=np.arange(100, 100 + n_items, dtype=np.int64),
        created=(NOW - np.arange(n_items) * SECONDS_PER_DAY).astype(np.float64),
        categories=categories or tuple(() for _ in range(n_items)),
        available=np.ones(n_items, dtype=bool),
    )


def test_popular_decays_old_activity() -> None:
    # 10 events a day old outweigh 30 events a month old with a 7-day half-life.
    events = _events([(100, 10, 1.0), (101, 30, 30.0), (102, 3, 0.0), (103, 2, -1.0)])
    data = InteractionMatrix.build(events, _catalog(5), now=NOW)
    popular = PopularSource(half_life_days=7.0)
    popular.fit(data, events=events)
    expected = [10 * 0.5 ** (1 / 7), 30 * 0.5 ** (30 / 7), 3.0]
    np.testing.assert_allclose(popular.item_scores[:3], expected, rtol=1e-5)
    # Events after `now` do not count; items without events have no opinion.
    assert popular.item_scores[3] == popular.item_scores[4] == NO_OPINION
    assert popular.top_items(5)[0].tolist() == [0, 2, 1]


def test_popular_returns_the_items_with_most_decayed_weight(
    fitted: dict[str, CandidateSource], planted: PlantedDataset, data: InteractionMatrix
) -> None:
    popular = fitted["popular"]
    assert isinstance(popular, PopularSource)
    order = np.argsort(data.items.ids)
    cols = order[np.searchsorted(data.items.ids[order], planted.events.item_ids)]
    ages = (planted.now - planted.events.timestamps) / SECONDS_PER_DAY
    decayed = np.bincount(cols, planted.events.weights * 0.5 ** (ages / 7.0), data.n_items)
    decayed[~data.items.available] = -1
    top, _ = popular.top_items(5)
    np.testing.assert_array_equal(top, np.argsort(-decayed)[:5])


def test_popular_and_trending_need_the_events(data: InteractionMatrix) -> None:
    with pytest.raises(TypeError, match="events"):
        PopularSource().fit(data)
    with pytest.raises(TypeError, match="events"):
        TrendingSource().fit(data)


def test_trending_prefers_growth_over_size() -> None:
    events = _events(
        [
            (100, 50, 1.0),  # rising: 50 recent, 5 before
            (100, 5, 10.0),
            (101, 500, 2.0),  # big and flat: 500 recent, 600 before
            (101, 600, 9.0),
            (102, 60, 3.0),  # big, slow growth: 60 recent, 50 before
            (102, 50, 8.0),
            (103, 8, 1.0),  # rising but too little recent activity
            (104, 30, 20.0),  # old activity only
        ]
    )
    data = InteractionMatrix.build(events, _catalog(5), now=NOW)
    trending = TrendingSource(window_days=7.0, min_recent=10.0)
    trending.fit(data, events=events)
    scores = trending.item_scores
    assert scores[0] > scores[2] > 0
    assert scores[1] == scores[3] == scores[4] == NO_OPINION
    np.testing.assert_allclose(scores[0], np.log2(55 / 10), rtol=1e-6)
    assert trending.top_items(3)[0].tolist() == [0, 2]


def test_newest_ranks_by_creation_time(
    fitted: dict[str, CandidateSource], data: InteractionMatrix
) -> None:
    newest = fitted["newest"]
    assert isinstance(newest, NewestSource)
    created = np.where(data.items.available, data.items.created, -np.inf)
    top, scores = newest.top_items(8)
    np.testing.assert_array_equal(top, np.argsort(-created)[:8])
    assert ((scores > 0) & (scores <= 1)).all()


def test_global_sources_give_everyone_the_same_scores(
    fitted: dict[str, CandidateSource],
) -> None:
    for name in ("popular", "trending", "newest"):
        scores = fitted[name].score(np.array([0, 1, 2]))
        assert (scores == scores[0]).all()


# --- content --------------------------------------------------------------------------------


def test_content_items_without_vectors_have_no_opinion(
    fitted: dict[str, CandidateSource],
) -> None:
    scores = fitted["content"].score(np.arange(4))
    assert (scores[:, NO_VECTOR] == NO_OPINION).all()
    finite = np.delete(scores, NO_VECTOR, axis=1)
    assert (np.abs(finite) <= 1.0 + 1e-5).all()


def test_content_profile_is_the_weighted_mean_of_the_users_items(
    fitted: dict[str, CandidateSource], data: InteractionMatrix, item_vectors: np.ndarray
) -> None:
    content = fitted["content"]
    assert isinstance(content, ContentSource)
    row = 10
    start, stop = data.matrix.indptr[row], data.matrix.indptr[row + 1]
    mean = data.matrix.data[start:stop] @ item_vectors[data.matrix.indices[start:stop]]
    profile = mean / np.linalg.norm(mean)
    expected = item_vectors @ profile
    scores = content.score(np.array([row]))[0]
    has_vector = np.linalg.norm(item_vectors, axis=1) > 0
    np.testing.assert_allclose(scores[has_vector], expected[has_vector], atol=1e-5)


def test_content_blends_the_users_text_vector(
    planted: PlantedDataset, data: InteractionMatrix, item_vectors: np.ndarray
) -> None:
    row = 0
    own_group = int(planted.group_of_users(data.user_ids[[row]])[0])
    other_group = (own_group + 1) % 4
    text = item_vectors[planted.item_groups == other_group].mean(axis=0)
    user_id = int(data.user_ids[row])
    only_text = ContentSource(item_vectors, {user_id: text}, text_weight=1.0)
    only_text.fit(data)
    cols, _ = only_text.recommend(np.array([row]), K)
    assert (planted.item_groups[cols[0]] == other_group).all()
    no_text = ContentSource(item_vectors, {user_id: text}, text_weight=0.0)
    no_text.fit(data)
    cols, _ = no_text.recommend(np.array([row]), K)
    assert (planted.item_groups[cols[0]] == own_group).mean() >= 0.8


def test_content_similar_items_share_the_group(
    fitted: dict[str, CandidateSource], planted: PlantedDataset
) -> None:
    cols, scores = fitted["content"].similar_items(np.array([0, 1, 2]), 5)
    assert (planted.item_groups[cols] == planted.item_groups[[0, 1, 2]][:, None]).all()
    assert (scores <= 1.0 + 1e-5).all()


def test_content_refuses_misaligned_vectors(data: InteractionMatrix) -> None:
    source = ContentSource(np.ones((data.n_items - 1, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="rows"):
        source.fit(data)
