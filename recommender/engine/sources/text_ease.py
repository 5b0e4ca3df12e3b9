"""Text-aware EASE: the item-item regression pulled toward the language model's item similarity,
so that items without events get collaborative scores through their text neighbours.

After L3AE (EASE regularised toward a language-model item-item matrix) and MARec (metadata
alignment weighted toward cold items):

    B = argmin ||X - XB||² + λ·||B||² + β·||B - T||²   subject to diag(B) = 0,
    T = S·C,  S = the items' text neighbours (cosine of the content vectors, each item's
    `text_neighbours` best, positive only, symmetrised), C = diag(c_j), c_j = m / (m + n_j),

X the binarised user x item matrix, n_j item j's user count, m = `text_users`. Setting the
gradient to zero with one Lagrange multiplier per diagonal entry gives the closed form

    P = (XᵀX + (λ + β)·I)⁻¹,   B = I + β·P·T - P·diag(d),   d_j = (1 + β·(PT)_jj) / P_jj,

which is EASE's B = I - P·diag(1 / P_jj) when β = 0. An item j without events has a zero column
in X, so column j of P is e_j / (λ + β) and B_ij = β·(PT)_ij: j is reached from the history items
whose text is close to it. C is MARec's cold-item weighting: a warm item's own behaviour says
more than its text (c_j → 0 as its users grow), an item without users keeps the whole text
target (c_j = 1), so warm rankings stay close to plain EASE.

Bounded memory (`max_items`): up to `max_items` items P is dense, one float32 n x n matrix
inverted in place (n² x 4 bytes: 1.6 GB at 20,000 items, time ~n³), as EASE. Above it, XᵀX is
replaced by its best rank-`rank` approximation Q·Λ·Qᵀ (a randomised eigensolver on X, never
forming XᵀX), so that P = I/(λ+β) - Q·diag(Λ / ((λ+β)(Λ+λ+β)))·Qᵀ exactly for that Gram matrix;
directions of XᵀX with eigenvalues well below λ barely change P, so a rank of a few hundred keeps
the rankings. Memory is then n x rank floats plus one block of `_BLOCK` rows x n; time grows as
n² x rank. B is computed one row block at a time and each block is pruned to its `top_n` best
before the next, in both regimes, so the dense B never exists beside P.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recommender.engine.data import InteractionMatrix
from recommender.engine.profiles import Recency, Vectors
from recommender.engine.sources.base import ItemNeighbourSource, prune_rows
from recommender.engine.sources.dense_inverse import spd_inverse_in_place
from recommender.engine.sources.ease import _row_candidates
from recommender.engine.sources.registry import (
    Setting,
    SourceSpec,
    TrainingInputs,
    neighbour_count,
)

# Rows of B (and of the text similarity) computed per block before pruning.
_BLOCK = 1024
# Entries of T handled at once when reading (PT)_jj from the low-rank P (entries x rank floats).
_DIAGONAL_CHUNK = 250_000
# Extra directions the randomised eigensolver carries beyond `rank` (Halko et al., 2011).
_OVERSAMPLE = 16
_POWER_ITERATIONS = 3
_ZERO = 1e-12

Dense = npt.NDArray[np.float32]


class TextEASESource(ItemNeighbourSource):
    """EASE with the content vectors' item similarity as side information.

    Inputs (not settings; training supplies them):
    - item_vectors: (n_items, d) float32 aligned with `data.items`; zero rows for items without
      a vector (they have no text neighbours).

    Settings:
    - l2: λ, the L2 penalty, in users as EASE's (default 250.0).
    - text_weight: β, the pull toward the text target, in the same units (default 7.0).
    - text_neighbours: each item's text neighbours kept in S (default 50).
    - text_users: m in c_j = m / (m + n_j); an item with m users keeps half its text target
      (default 3.0).
    - max_items: above this many items the Gram matrix is replaced by its rank-`rank`
      approximation (default 20,000).
    - rank: that approximation's rank (default 256).
    - top_n: neighbours kept per item, for serving and for `score` (default 100).
    """

    name = "text_ease"

    def __init__(
        self,
        item_vectors: Vectors,
        l2: float = 250.0,
        text_weight: float = 7.0,
        text_neighbours: int = 50,
        text_users: float = 3.0,
        max_items: int = 20_000,
        rank: int = 256,
        top_n: int = 100,
        recency: Recency | None = None,
    ) -> None:
        super().__init__(top_n=top_n, recency=recency)
        if l2 <= 0 or text_weight < 0 or text_users <= 0:
            raise ValueError("l2 and text_users must be positive, text_weight not negative")
        if text_neighbours < 1 or rank < 1:
            raise ValueError("text_neighbours and rank must be at least 1")
        vectors = np.asarray(item_vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError("item_vectors must be an (n_items, dim) array")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.item_vectors = vectors / np.maximum(norms, _ZERO)
        self.l2 = float(l2)
        self.text_weight = float(text_weight)
        self.text_neighbours = int(text_neighbours)
        self.text_users = float(text_users)
        self.max_items = int(max_items)
        self.rank = int(rank)
        # Which regime the last fit used: "dense" or "low_rank".
        self.solver = ""

    def _fit(self, data: InteractionMatrix, **context: Any) -> None:
        if len(self.item_vectors) != data.n_items:
            raise ValueError(
                f"item_vectors has {len(self.item_vectors)} rows for {data.n_items} items"
            )
        matrix = data.matrix.astype(np.float32).tocsr()
        matrix.data[:] = 1.0
        users_per_item = np.bincount(matrix.indices, minlength=data.n_items)
        similarity = text_neighbours(self.item_vectors, self.text_neighbours)
        focus = self.text_users / (self.text_users + users_per_item)
        target = (similarity @ sp.diags(self.text_weight * focus)).tocsr().astype(np.float32)
        shift = self.l2 + self.text_weight
        if data.n_items <= self.max_items:
            self.solver = "dense"
            weights = _dense_weights(matrix, shift, target, self.top_n)
        else:
            self.solver = "low_rank"
            weights = _low_rank_weights(matrix, shift, target, self.top_n, self.rank)
        self._pruned = prune_rows(weights, self.top_n)


def text_neighbours(vectors: Dense, k: int) -> sp.csr_matrix:
    """S: each unit row's `k` most cosine-similar other rows, positive only, then symmetrised
    (S = max(S, Sᵀ)) so an item is reached from its own neighbours. (n, n) float32 csr; rows
    of zero vectors are empty."""
    n_items = len(vectors)
    blocks = []
    for start in range(0, n_items, _BLOCK):
        block = vectors[start : start + _BLOCK] @ vectors.T
        block[np.arange(len(block)), np.arange(start, start + len(block))] = -np.inf
        blocks.append(_row_candidates(block, k))
    nearest = prune_rows(sp.vstack(blocks).tocsr(), k)
    return nearest.maximum(nearest.T).tocsr().astype(np.float32)


def _dense_weights(
    matrix: sp.csr_matrix, shift: float, target: sp.csr_matrix, top_n: int
) -> sp.csr_matrix:
    """B's top_n candidates per row from the dense P = (XᵀX + shift·I)⁻¹."""
    n_items = matrix.shape[1]
    gram = np.empty((n_items, n_items), dtype=np.float32)
    columns = matrix.tocsc()
    transposed = matrix.T.tocsr()
    for start in range(0, n_items, _BLOCK):
        stop = min(start + _BLOCK, n_items)
        gram[:, start:stop] = (transposed @ columns[:, start:stop]).toarray()
    gram[np.diag_indices(n_items)] += shift
    inverse = spd_inverse_in_place(gram)
    entries = target.tocoo()
    # (PT)_jj = Σ_k P_jk T_kj over T's entries (k, j).
    through_text = np.bincount(
        entries.col, inverse[entries.col, entries.row] * entries.data, minlength=n_items
    ).astype(np.float64)
    return _blocked_weights(
        lambda start, stop: inverse[start:stop], np.diag(inverse), through_text, target, top_n
    )


def _low_rank_weights(
    matrix: sp.csr_matrix, shift: float, target: sp.csr_matrix, top_n: int, rank: int
) -> sp.csr_matrix:
    """B's top_n candidates per row from P = I/shift - W·Wᵀ, XᵀX ≈ Q·Λ·Qᵀ of rank `rank`."""
    values, basis = _top_eigen(matrix, rank)
    factor = (basis * np.sqrt(values / (shift * (values + shift)))).astype(np.float32)
    diagonal = 1.0 / shift - np.einsum("ij,ij->i", factor, factor)
    entries = target.tocoo()
    through_text = np.zeros(matrix.shape[1], dtype=np.float64)
    # T has no diagonal, so P_jk = -W_j·W_k on every entry.
    for start in range(0, entries.nnz, _DIAGONAL_CHUNK):
        rows = entries.row[start : start + _DIAGONAL_CHUNK]
        cols = entries.col[start : start + _DIAGONAL_CHUNK]
        products = -np.einsum("ij,ij->i", factor[cols], factor[rows])
        through_text += np.bincount(
            cols, products * entries.data[start : start + _DIAGONAL_CHUNK], minlength=len(diagonal)
        )

    def rows_of_p(start: int, stop: int) -> Dense:
        block = -(factor[start:stop] @ factor.T)
        block[np.arange(stop - start), np.arange(start, stop)] += 1.0 / shift
        return block

    return _blocked_weights(rows_of_p, diagonal, through_text, target, top_n)


def _blocked_weights(
    rows_of_p: Callable[[int, int], Dense],
    diagonal: npt.NDArray[np.floating],
    through_text: npt.NDArray[np.floating],
    target: sp.csr_matrix,
    top_n: int,
) -> sp.csr_matrix:
    """B = I + P·T - P·diag(d) a row block at a time, each block cut to its top_n candidates."""
    n_items = len(diagonal)
    multipliers = ((1.0 + through_text) / diagonal).astype(np.float32)
    target_t = target.T.tocsr()
    blocks = []
    for start in range(0, n_items, _BLOCK):
        stop = min(start + _BLOCK, n_items)
        p_block = rows_of_p(start, stop)
        block = np.asarray((target_t @ p_block.T).T, dtype=np.float32)
        block -= p_block * multipliers[None, :]
        # diag(B) = 0 by construction; set it exactly.
        block[np.arange(stop - start), np.arange(start, stop)] = 0.0
        blocks.append(_row_candidates(block, top_n))
    return sp.vstack(blocks).tocsr()


def _top_eigen(
    matrix: sp.csr_matrix, rank: int, seed: int = 0
) -> tuple[npt.NDArray[np.float64], Dense]:
    """XᵀX's `rank` largest eigenvalues (float64, ≥ 0) and unit eigenvectors (n, rank) float32,
    by a randomised range finder with power iterations on X (XᵀX is never formed). Exact when
    rank + oversampling covers every item."""
    n_items = matrix.shape[1]
    width = min(n_items, rank + _OVERSAMPLE)
    transposed = matrix.T.tocsr()
    basis = np.random.default_rng(seed).standard_normal((n_items, width)).astype(np.float32)
    for _ in range(_POWER_ITERATIONS):
        basis, _ = np.linalg.qr(transposed @ (matrix @ basis))
    projected = np.asarray(matrix @ basis, dtype=np.float64)
    values, vectors = np.linalg.eigh(projected.T @ projected)
    order = np.argsort(values)[::-1][: min(rank, width)]
    return np.maximum(values[order], 0.0), (basis @ vectors[:, order]).astype(np.float32)


def _prepare(inputs: TrainingInputs) -> dict[str, Any] | None:
    if inputs.content_vectors is None:
        return None
    return {"item_vectors": inputs.content_vectors, **neighbour_count(inputs)}


SPEC = SourceSpec(
    name="text_ease",
    factory=TextEASESource,
    artifact="neighbour_lists",
    settings={
        "l2": Setting(float, 0.0, 1e7, 250.0, "L2 penalty of the item x item weights"),
        "text_weight": Setting(float, 0.0, 1e7, 7.0, "pull of the weights toward text similarity"),
        "text_neighbours": Setting(int, 1, 500, 50, "text neighbours per item in the target"),
        "text_users": Setting(
            float, 0.01, 1e6, 3.0, "users at which an item's text target has halved"
        ),
        "max_items": Setting(int, 10, 50_000, 20_000, "above this, a low-rank Gram matrix"),
        "rank": Setting(int, 1, 2_000, 256, "rank of the Gram matrix above max_items"),
    },
    personal=True,
    similar_items=True,
    item_phrase="Chosen with items like {seed}",
    prepare=_prepare,
    unavailable="no item vectors yet (encoding has not run)",
)
