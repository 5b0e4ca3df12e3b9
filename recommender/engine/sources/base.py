"""The interface every candidate source implements, and the helpers they share.

A source is fitted on an `InteractionMatrix` and then scores every item for a batch of matrix
rows. Conventions, the same for every source:

- Positions, not database ids: `user_rows` index `data.matrix` rows, item results are matrix
  columns (`data.items.ids[col]` is the database id).
- `score` returns float32 (n_users, n_items); higher is better. `NO_OPINION` (-inf) marks an item
  the source has nothing to say about (no vector, no co-occurrence, too little activity), so
  "no opinion" always ranks below every real score, including negative ones. Finite scores are
  comparable within one source only; `fusion` normalises them before mixing sources.
- `recommend` and `similar_items` return (cols int64 (n, k), scores float32 (n, k)), best first,
  padded with column -1 and score -inf when fewer than k items qualify.

Modelled on benfred/implicit's `RecommenderBase`: fit / recommend / similar_items.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recommender.engine.data import InteractionMatrix
from recommender.engine.profiles import Recency, history_rows

NO_OPINION = -np.inf
PAD_COL = -1
# Scores held at once by `recommend` (users x items): 4M float32 is 16 MB, plus top-k temporaries.
_CHUNK_ELEMENTS = 4_000_000

Rows = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float32]


class NotFittedError(RuntimeError):
    """A source was used before `fit`."""


class CandidateSource(ABC):
    """Base class: `fit` once, then `score` / `recommend` / `similar_items` many times.

    Subclasses implement `_fit` and `score`; `fit` times the work into `fit_seconds`.
    """

    name: str = ""

    def __init__(self) -> None:
        self.fit_seconds: float = 0.0
        self._data: InteractionMatrix | None = None

    @property
    def data(self) -> InteractionMatrix:
        if self._data is None:
            raise NotFittedError(f"the {self.name} source is not fitted")
        return self._data

    @property
    def is_fitted(self) -> bool:
        return self._data is not None

    def fit(self, data: InteractionMatrix, **context: Any) -> None:
        """Learn from `data`; `context` carries extra inputs a source documents (e.g. `events`)."""
        started = time.perf_counter()
        self._data = data
        try:
            self._fit(data, **context)
        except BaseException:
            self._data = None
            raise
        self.fit_seconds = time.perf_counter() - started

    @abstractmethod
    def _fit(self, data: InteractionMatrix, **context: Any) -> None: ...

    @abstractmethod
    def score(self, user_rows: Rows) -> Scores:
        """(len(user_rows), n_items) float32 scores; NO_OPINION (-inf) where the source has none."""

    def recommend(
        self, user_rows: Rows, k: int, exclude_seen: bool = True
    ) -> tuple[npt.NDArray[np.int64], Scores]:
        """Top-k columns per user among available items, optionally without the user's own items.

        Items scored NO_OPINION are never returned (the row is padded instead), so a caller can
        tell "nothing to say" from "a weak candidate". Users are scored a chunk at a time, so
        memory stays bounded whatever the batch size.
        """
        rows = np.asarray(user_rows, dtype=np.int64)
        chunk = max(1, _CHUNK_ELEMENTS // max(self.data.n_items, 1))
        parts = [
            self._recommend_chunk(rows[start : start + chunk], k, exclude_seen)
            for start in range(0, len(rows), chunk)
        ]
        if not parts:
            return np.empty((0, k), dtype=np.int64), np.empty((0, k), dtype=np.float32)
        return (
            np.concatenate([cols for cols, _ in parts]),
            np.concatenate([scores for _, scores in parts]),
        )

    def _recommend_chunk(
        self, rows: Rows, k: int, exclude_seen: bool
    ) -> tuple[npt.NDArray[np.int64], Scores]:
        scores = np.array(self.score(rows), dtype=np.float32, copy=True)
        scores[:, ~self.data.items.available] = NO_OPINION
        if exclude_seen:
            seen = self.data.matrix[rows].tocoo()
            scores[seen.row, seen.col] = NO_OPINION
        return top_k(scores, k)

    def similar_items(self, item_cols: Rows, k: int) -> tuple[npt.NDArray[np.int64], Scores]:
        """Top-k other available items per item; only item-to-item-capable sources override it."""
        raise NotImplementedError(f"the {self.name} source has no item-to-item similarity")

    def _similar_from_scores(
        self, item_cols: Rows, scores: Scores, k: int
    ) -> tuple[npt.NDArray[np.int64], Scores]:
        """Mask the items themselves and unavailable items, then take the top k."""
        cols = np.asarray(item_cols, dtype=np.int64)
        scores = np.array(scores, dtype=np.float32, copy=True)
        scores[:, ~self.data.items.available] = NO_OPINION
        scores[np.arange(len(cols)), cols] = NO_OPINION
        return top_k(scores, k)


def top_k(scores: Scores, k: int) -> tuple[npt.NDArray[np.int64], Scores]:
    """Best k columns per row of `scores` (argpartition, then a sort of those k).

    Within the k, equal scores are ordered by column (which of several items tied at the k-th
    place makes the cut is arbitrary). Columns scored NO_OPINION come back as PAD_COL.
    """
    n_rows, n_cols = scores.shape
    if k <= 0 or n_cols == 0:
        return np.full((n_rows, max(k, 0)), PAD_COL, np.int64), np.full(
            (n_rows, max(k, 0)), NO_OPINION, np.float32
        )
    take = min(k, n_cols)
    if take < n_cols:
        part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
    else:
        part = np.broadcast_to(np.arange(n_cols), (n_rows, n_cols)).copy()
    part_scores = np.take_along_axis(scores, part, axis=1)
    # Sort by score descending, then column ascending, so equal scores come out in a fixed order.
    order = np.lexsort((part, -part_scores), axis=1)
    cols = np.take_along_axis(part, order, axis=1).astype(np.int64)
    best = np.take_along_axis(part_scores, order, axis=1).astype(np.float32)
    missing = best == NO_OPINION
    cols[missing] = PAD_COL
    if take < k:
        cols = np.pad(cols, ((0, 0), (0, k - take)), constant_values=PAD_COL)
        best = np.pad(best, ((0, 0), (0, k - take)), constant_values=NO_OPINION)
    return cols, best


def _padded_rows(
    matrix: sp.csr_matrix, top_n: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Each row's entries as dense (n_rows, top_n) arrays, best first (ties: lower column)."""
    n_rows = matrix.shape[0]
    cols = np.full((n_rows, top_n), PAD_COL, dtype=np.int32)
    weights = np.zeros((n_rows, top_n), dtype=np.float32)
    coo = matrix.tocoo()
    order = np.lexsort((coo.col, -coo.data, coo.row))
    rows, entry_cols, values = coo.row[order], coo.col[order], coo.data[order]
    slot = np.arange(len(rows)) - np.searchsorted(rows, rows)
    keep = slot < top_n
    cols[rows[keep], slot[keep]] = entry_cols[keep]
    weights[rows[keep], slot[keep]] = values[keep]
    return cols, weights


def prune_rows(matrix: sp.csr_matrix, top_n: int) -> sp.csr_matrix:
    """Keep each row's top_n largest strictly positive entries (float32 csr).

    Ties go to the lower column. Non-positive weights are dropped: a served neighbour list holds
    items to recommend, not items to avoid.
    """
    coo = matrix.tocoo()
    keep = coo.data > 0
    rows, cols, values = coo.row[keep], coo.col[keep], coo.data[keep]
    order = np.lexsort((cols, -values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
    keep = rank < top_n
    return sp.csr_matrix(
        (values[keep].astype(np.float32), (rows[keep], cols[keep])),
        shape=matrix.shape,
        dtype=np.float32,
    )


class ItemNeighbourSource(CandidateSource):
    """A source defined by a pruned item x item weight matrix S (row i: i's neighbours).

    score = X_u @ S_pruned, computed on exactly the lists `neighbours()` exports, so offline
    evaluation measures what serving computes from the stored lists. Items no neighbour list
    reaches score NO_OPINION.

    X_u is the user's matrix row, or with `recency` (and `events` passed to `fit`) the user's
    seeds as serving weighs them: their newest `seed_items` items, recency-weighted
    (`profiles.Recency`), so offline metrics measure serving's seeds.
    """

    top_n: int

    def __init__(self, top_n: int = 100, recency: Recency | None = None) -> None:
        super().__init__()
        if top_n < 1:
            raise ValueError("top_n must be at least 1")
        self.top_n = int(top_n)
        self.recency = recency
        self._pruned: sp.csr_matrix | None = None
        self._seeds: sp.csr_matrix | None = None

    def fit(self, data: InteractionMatrix, **context: Any) -> None:
        super().fit(data, **context)
        events = context.get("events")
        self._seeds = (
            history_rows(events, data, self.recency).seeds
            if self.recency is not None and events is not None
            else None
        )

    @property
    def pruned(self) -> sp.csr_matrix:
        """The pruned item x item matrix (float32 csr; row i holds item i's neighbours)."""
        if self._pruned is None:
            raise NotFittedError(f"the {self.name} source is not fitted")
        return self._pruned

    def neighbours(
        self, top_n: int | None = None
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
        """(cols int32 (n_items, top_n), weights float32 (n_items, top_n)), best first.

        Padding: column -1, weight 0. `top_n` must be the fitted one (the `top_n` setting):
        `score` uses that pruning, and exporting a different one would serve something else.
        """
        if top_n is not None and top_n != self.top_n:
            raise ValueError(
                f"{self.name} was pruned to top_n={self.top_n}; set the top_n setting and refit "
                "to export a different number of neighbours"
            )
        return _padded_rows(self.pruned, self.top_n)

    def score(self, user_rows: Rows) -> Scores:
        rows = np.asarray(user_rows, dtype=np.int64)
        seeds = self._seeds if self._seeds is not None else self.data.matrix
        product = (seeds[rows] @ self.pruned).tocsr()
        scores = np.full(product.shape, NO_OPINION, dtype=np.float32)
        coo = product.tocoo()
        scores[coo.row, coo.col] = coo.data
        return scores

    def similar_items(self, item_cols: Rows, k: int) -> tuple[npt.NDArray[np.int64], Scores]:
        """The item's own pruned neighbour list (what serving stores), available items only."""
        cols = np.asarray(item_cols, dtype=np.int64)
        block = self.pruned[cols].tocoo()
        scores = np.full((len(cols), self.data.n_items), NO_OPINION, dtype=np.float32)
        scores[block.row, block.col] = block.data
        return self._similar_from_scores(cols, scores, k)


class GlobalSource(CandidateSource):
    """A source that gives every user the same scores (popular, trending, newest).

    Subclasses set `_item_scores` in `_fit`: float32 (n_items,), NO_OPINION where none.
    """

    def __init__(self) -> None:
        super().__init__()
        self._item_scores: Scores | None = None

    @property
    def item_scores(self) -> Scores:
        """(n_items,) float32, the score of every item for every user."""
        if self._item_scores is None:
            raise NotFittedError(f"the {self.name} source is not fitted")
        return self._item_scores

    def score(self, user_rows: Rows) -> Scores:
        return np.tile(self.item_scores, (len(user_rows), 1))

    def top_items(self, n: int) -> tuple[npt.NDArray[np.int64], Scores]:
        """The n best available items (cols, scores), without padding."""
        scores = np.where(self.data.items.available, self.item_scores, NO_OPINION)
        cols, best = top_k(scores[None, :].astype(np.float32), n)
        keep = cols[0] != PAD_COL
        return cols[0][keep], best[0][keep]
