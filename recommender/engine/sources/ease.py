"""EASE: a shallow item-item autoencoder with a closed-form solution (Steck, WWW 2019).

B = argmin ||X - XB||² + l2·||B||² subject to diag(B) = 0, which is
P = (XᵀX + l2·I)⁻¹,  B_ij = -P_ij / P_jj,  B_jj = 0.

Serving cannot hold a dense B, so B is pruned to each item's `top_n` largest positive weights,
and `score` uses that same pruned matrix: score(u) = X_u @ B_pruned.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender.engine.data import InteractionMatrix
from recommender.engine.profiles import Recency
from recommender.engine.sources.base import ItemNeighbourSource, prune_rows
from recommender.engine.sources.dense_inverse import spd_inverse_in_place
from recommender.engine.sources.registry import Setting, SourceSpec, neighbour_count

# Columns of the Gram matrix computed per sparse product, and rows pruned per argpartition:
# bounds the temporary memory next to the dense n x n matrix.
_BLOCK = 1024


class TooManyItems(ValueError):  # noqa: N818 - the name services catch
    """The catalog is larger than EASE's `max_items`: its dense n x n inverse would not fit."""


class EASESource(ItemNeighbourSource):
    """EASE on the weighted user x item matrix.

    Settings:
    - l2: L2 penalty λ added to the Gram diagonal (default 250.0); larger shrinks the weights
      towards plain co-occurrence. With `binarize` it is in units of users (the Gram diagonal
      holds each item's user count).
    - binarize: fit B on 0/1 interactions, as in the paper (default True); a few heavily
      weighted events then cannot dominate the item-item regression. Scores still weight each
      of the user's items by their matrix weight (recency and type).
    - max_items: refuse catalogs larger than this (default 20,000). Memory is about
      n_items² x 4 bytes (one float32 Gram matrix, inverted in place by Cholesky): 1.6 GB at
      20,000 items, plus a few hundred MB of temporaries; time grows as n_items³.
    - top_n: neighbours kept per item, for serving and for `score` (default 100).
    """

    name = "ease"

    def __init__(
        self,
        l2: float = 250.0,
        max_items: int = 20_000,
        top_n: int = 100,
        binarize: bool = True,
        recency: Recency | None = None,
    ) -> None:
        super().__init__(top_n=top_n, recency=recency)
        self.binarize = bool(binarize)
        if l2 <= 0:
            raise ValueError("l2 must be positive (the Gram matrix is singular without it)")
        self.l2 = float(l2)
        self.max_items = int(max_items)

    def _fit(self, data: InteractionMatrix, **context: Any) -> None:
        n_items = data.n_items
        if n_items > self.max_items:
            raise TooManyItems(
                f"EASE refuses {n_items} items (max_items={self.max_items}): it needs a dense "
                f"{n_items} x {n_items} float32 matrix (~{n_items**2 * 4 / 1e9:.1f} GB). Use "
                "co-occurrence or ALS for this catalog, or raise max_items if memory allows."
            )
        matrix = data.matrix.astype(np.float32)
        if self.binarize:
            matrix.data[:] = 1.0
        weights = self._weights(matrix.tocsc())
        self._pruned = prune_rows(weights, self.top_n)

    def _weights(self, matrix: sp.csc_matrix) -> sp.csr_matrix:
        """The dense B, computed in place, returned as its top_n candidates per row (csr)."""
        n_items = matrix.shape[1]
        gram = np.empty((n_items, n_items), dtype=np.float32)
        transposed = matrix.T.tocsr()
        for start in range(0, n_items, _BLOCK):
            stop = min(start + _BLOCK, n_items)
            gram[:, start:stop] = (transposed @ matrix[:, start:stop]).toarray()
        gram[np.diag_indices(n_items)] += self.l2
        inverse = spd_inverse_in_place(gram)
        diagonal = np.diag(inverse).copy()
        inverse /= -diagonal[None, :]
        inverse[np.diag_indices(n_items)] = 0.0
        return _row_candidates(inverse, self.top_n)


def _row_candidates(dense: np.ndarray, top_n: int) -> sp.csr_matrix:
    """Each row's top_n largest entries of a dense matrix (unsorted), as csr."""
    n_rows, n_cols = dense.shape
    take = min(top_n, n_cols)
    rows, cols, values = [], [], []
    for start in range(0, n_rows, _BLOCK):
        block = dense[start : start + _BLOCK]
        if take < n_cols:
            part = np.argpartition(-block, take - 1, axis=1)[:, :take]
        else:
            part = np.broadcast_to(np.arange(n_cols), block.shape)
        rows.append(np.repeat(np.arange(start, start + len(block)), part.shape[1]))
        cols.append(part.ravel())
        values.append(np.take_along_axis(block, part, axis=1).ravel())
    return sp.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
        shape=dense.shape,
        dtype=np.float32,
    )


SPEC = SourceSpec(
    name="ease",
    factory=EASESource,
    artifact="neighbour_lists",
    settings={
        "l2": Setting(float, 0.0, 1e7, 250.0, "L2 penalty of the item x item weights"),
        "max_items": Setting(int, 10, 50_000, 20_000, "larger catalogues skip EASE (n² memory)"),
    },
    personal=True,
    similar_items=True,
    item_phrase="Often chosen together with {seed}",
    prepare=neighbour_count,
)
