"""Offline ranking metrics at K, and catalog-level coverage and novelty.

Pure numpy. Ids are opaque integers (the platform passes database ids); nothing here maps them
to matrix positions. For each user u, `recommended[u]` is a ranked list (best first) and
`relevant[u]` the non-empty set of held-out items; only the first K entries of a list count and a
shorter list is treated as padded with misses. Relevance is binary: h(u, j) = 1 when the item at
rank j (1-based) is relevant and has not already appeared at a higher rank, so a duplicated
item cannot be credited twice.

Per-user functions return a `(n_users,)` float64 array; the aggregate of a metric is its mean
over users (`evaluation.evaluate` does that).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recommender.engine.data import Events

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Hits:
    """Binary relevance of each user's top-K.

    matrix: (n_users, k) bool, h(u, j) above; n_relevant: (n_users,) int64, |R_u| ≥ 1.
    """

    matrix: npt.NDArray[np.bool_]
    n_relevant: npt.NDArray[np.int64]

    @classmethod
    def build(
        cls, recommended: Sequence[Sequence[int]], relevant: Sequence[Collection[int]], k: int
    ) -> Hits:
        """Raises ValueError when k < 1, the lengths differ, or a relevant set is empty
        (recall and the normalisers below are undefined for a user with nothing to find)."""
        if k < 1:
            raise ValueError("k must be at least 1")
        if len(recommended) != len(relevant):
            raise ValueError("recommended and relevant must have one entry per user")
        matrix = np.zeros((len(recommended), k), dtype=np.bool_)
        n_relevant = np.empty(len(relevant), dtype=np.int64)
        # One Python pass of n_users x k set look-ups; everything after it is array arithmetic.
        for row, (items, targets) in enumerate(zip(recommended, relevant, strict=True)):
            if not targets:
                raise ValueError(f"user at position {row} has no relevant items")
            n_relevant[row] = len(targets)
            seen: set[int] = set()
            for col, item in enumerate(items[:k]):
                if item in targets and item not in seen:
                    matrix[row, col] = True
                seen.add(item)
        return cls(matrix=matrix, n_relevant=n_relevant)

    @property
    def k(self) -> int:
        return int(self.matrix.shape[1])

    def recall(self) -> FloatArray:
        """recall@K(u) = Σ_j h(u, j) / |R_u|."""
        return np.asarray(self.matrix.sum(axis=1) / self.n_relevant, dtype=np.float64)

    def ndcg(self) -> FloatArray:
        """nDCG@K(u) = DCG / IDCG, DCG = Σ_j h(u, j) / log2(j + 1),
        IDCG = Σ_{j=1..min(|R_u|, K)} 1 / log2(j + 1) (all relevant items ranked first)."""
        discounts = 1.0 / np.log2(np.arange(2, self.k + 2, dtype=np.float64))
        dcg = self.matrix.astype(np.float64) @ discounts
        ideal = np.cumsum(discounts)[np.minimum(self.n_relevant, self.k) - 1]
        return np.asarray(dcg / ideal, dtype=np.float64)

    def average_precision(self) -> FloatArray:
        """AP@K(u) = Σ_j P@j(u) · h(u, j) / min(|R_u|, K), P@j(u) = Σ_{i≤j} h(u, i) / j.

        Normalising by min(|R_u|, K) rather than |R_u| lets a perfect top-K score 1 when there
        are more relevant items than slots.
        """
        hits = self.matrix.astype(np.float64)
        precision = np.cumsum(hits, axis=1) / np.arange(1, self.k + 1, dtype=np.float64)
        return np.asarray(
            (precision * hits).sum(axis=1) / np.minimum(self.n_relevant, self.k), dtype=np.float64
        )

    def hit_rate(self) -> FloatArray:
        """hit@K(u) = 1 when any of the top K is relevant, else 0."""
        return np.asarray(self.matrix.any(axis=1), dtype=np.float64)


def recall_at_k(
    recommended: Sequence[Sequence[int]], relevant: Sequence[Collection[int]], k: int
) -> FloatArray:
    """Per-user recall@K, (n_users,) float64; see `Hits.recall`."""
    return Hits.build(recommended, relevant, k).recall()


def ndcg_at_k(
    recommended: Sequence[Sequence[int]], relevant: Sequence[Collection[int]], k: int
) -> FloatArray:
    """Per-user nDCG@K, (n_users,) float64; see `Hits.ndcg`."""
    return Hits.build(recommended, relevant, k).ndcg()


def map_at_k(
    recommended: Sequence[Sequence[int]], relevant: Sequence[Collection[int]], k: int
) -> FloatArray:
    """Per-user AP@K, (n_users,) float64 (its mean is MAP@K); see `Hits.average_precision`."""
    return Hits.build(recommended, relevant, k).average_precision()


def hit_rate_at_k(
    recommended: Sequence[Sequence[int]], relevant: Sequence[Collection[int]], k: int
) -> FloatArray:
    """Per-user hit@K, (n_users,) float64 of 0/1; see `Hits.hit_rate`."""
    return Hits.build(recommended, relevant, k).hit_rate()


def coverage(recommended: Sequence[Sequence[int]], n_items: int) -> float:
    """Catalog coverage = |distinct items over all lists| / n_items: the share of the catalog
    recommended to anyone.

    Lists are counted as given (truncate them to K first); `n_items` is the catalog size and the
    lists are assumed to hold catalog items only.
    """
    if n_items < 1:
        raise ValueError("n_items must be at least 1")
    distinct = {item for items in recommended for item in items}
    return len(distinct) / n_items


@dataclass(frozen=True)
class ItemPopularity:
    """How many training users interacted with each item, for novelty.

    item_ids: (n,) int64, sorted and unique; counts: (n,) int64 ≥ 1, distinct users with a
    positive-weight event on the item; n_users: distinct users in the training events.
    """

    item_ids: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int64]
    n_users: int

    @classmethod
    def from_events(cls, events: Events) -> ItemPopularity:
        """Count from the training events (never the test events: that would leak)."""
        positive = events.weights > 0
        pairs = np.unique(
            np.stack([events.item_ids[positive], events.user_ids[positive]], axis=1), axis=0
        )
        item_ids, counts = np.unique(pairs[:, 0], return_counts=True)
        return cls(
            item_ids=item_ids.astype(np.int64),
            counts=counts.astype(np.int64),
            n_users=len(np.unique(events.user_ids)),
        )

    def probability(self, item_ids: npt.NDArray[np.int64]) -> FloatArray:
        """p(i) = count(i) / n_users, with count(i) = 1 for items no training user touched.

        Counting an unseen item as one user keeps -log2 p(i) finite and makes it exactly as novel
        as an item seen by a single user, the most novel evidence the data can show.
        """
        if self.n_users < 1:
            raise ValueError("popularity needs at least one training user")
        counts = np.ones(len(item_ids), dtype=np.int64)
        if len(self.item_ids):
            positions = np.minimum(np.searchsorted(self.item_ids, item_ids), len(self.item_ids) - 1)
            found = self.item_ids[positions] == item_ids
            counts[found] = self.counts[positions[found]]
        return np.asarray(counts / self.n_users, dtype=np.float64)


def novelty(recommended: Sequence[Sequence[int]], item_popularity: ItemPopularity) -> float:
    """Mean self-information -log2 p(i) over every recommended (user, item) slot.

    p(i) is `ItemPopularity.probability`: the share of training users who interacted with i,
    unseen items counted as one user. Higher means less popular items. NaN when nothing was
    recommended.
    """
    flat = np.fromiter(
        (item for items in recommended for item in items),
        dtype=np.int64,
    )
    if not len(flat):
        return math.nan
    return float(np.mean(-np.log2(item_popularity.probability(flat))))
