"""Item-to-item co-occurrence: users who interacted with i also interacted with j.

Similarity is the cosine of binarised item columns:
    S_ij = |U_i ∩ U_j| / sqrt(|U_i| · |U_j|),   S_ii = 0,
where U_i is the set of users with a positive interaction with i. Pairs shared by fewer than
`min_count` users are dropped (one shared user makes two rare items look identical). Each item
keeps its `top_n` most similar items, and score(u) = X_u @ S_pruned with the user's weighted row.

Memory-safe for large catalogs: XᵀX is sparse, computed in blocks of items whose output size is
bounded in advance, and each block is pruned before the next is computed. The work and the
block sizes grow with Σ_u n_u², so each user counts with at most `max_items_per_user` items
(their heaviest by weight, which is type-weighted and decayed: the most recent and strongest).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender.engine.data import InteractionMatrix
from recommender.engine.profiles import Recency
from recommender.engine.sources.base import ItemNeighbourSource, prune_rows
from recommender.engine.sources.registry import Setting, SourceSpec, neighbour_count


class CooccurrenceSource(ItemNeighbourSource):
    """Cosine co-occurrence neighbours.

    Settings:
    - top_n: neighbours kept per item, for serving and for `score` (default 100).
    - max_items_per_user: a user's heaviest items counted for co-occurrence (default 200);
      bounds the cost of very heavy users (bots, staff accounts) at Σ_u min(n_u, cap)².
    - min_count: fewest users a pair must share to count (default 2).
    - max_block_entries: co-occurrence entries computed at once before pruning (default 20M,
      about 250 MB of temporaries); not a quality setting.
    """

    name = "cooccurrence"

    def __init__(
        self,
        top_n: int = 100,
        max_items_per_user: int = 200,
        min_count: int = 2,
        max_block_entries: int = 20_000_000,
        recency: Recency | None = None,
    ) -> None:
        super().__init__(top_n=top_n, recency=recency)
        if max_items_per_user < 2:
            raise ValueError("max_items_per_user must be at least 2 (a pair)")
        self.max_items_per_user = int(max_items_per_user)
        if min_count < 1:
            raise ValueError("min_count must be at least 1")
        self.min_count = int(min_count)
        self.max_block_entries = int(max_block_entries)

    def _fit(self, data: InteractionMatrix, **context: Any) -> None:
        users_items = prune_rows(data.matrix, self.max_items_per_user)
        users_items.data[:] = 1.0
        items_users = users_items.T.tocsr()
        item_users = np.diff(items_users.indptr).astype(np.float64)
        # Upper bound of each item's co-occurrence row: the summed item counts of its users.
        row_bound = items_users @ np.diff(users_items.indptr).astype(np.float64)
        blocks = []
        for start, stop in _blocks(row_bound, self.max_block_entries):
            counts = (items_users[start:stop] @ users_items).tocoo()
            rows = counts.row + start
            keep = (counts.col != rows) & (counts.data >= self.min_count)
            rows, cols, shared = rows[keep], counts.col[keep], counts.data[keep]
            cosine = shared / np.sqrt(item_users[rows] * item_users[cols])
            block = sp.csr_matrix(
                (cosine.astype(np.float32), (rows - start, cols)),
                shape=(stop - start, data.n_items),
            )
            blocks.append(prune_rows(block, self.top_n))
        if blocks:
            self._pruned = sp.vstack(blocks, format="csr", dtype=np.float32)
        else:
            self._pruned = sp.csr_matrix((data.n_items, data.n_items), dtype=np.float32)


def _blocks(row_bound: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Contiguous item ranges whose summed row bounds stay within `budget` (at least 1 item)."""
    cumulative = np.cumsum(row_bound)
    ranges = []
    start, done = 0, 0.0
    while start < len(row_bound):
        stop = int(np.searchsorted(cumulative, done + budget, side="right"))
        stop = max(stop, start + 1)
        ranges.append((start, stop))
        done = float(cumulative[stop - 1])
        start = stop
    return ranges


SPEC = SourceSpec(
    name="cooccurrence",
    factory=CooccurrenceSource,
    artifact="neighbour_lists",
    settings={
        "min_count": Setting(int, 1, 1000, 2, "fewest users a pair of items must share"),
        "max_items_per_user": Setting(
            int, 2, 10_000, 200, "a user's heaviest items counted (bounds heavy users' cost)"
        ),
    },
    default_weight=1.0,
    personal=True,
    similar_items=True,
    item_phrase="Often chosen together with {seed}",
    prepare=neighbour_count,
)
