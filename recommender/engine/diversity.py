"""Re-ranking for variety: maximal marginal relevance and a per-category cap."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

VectorRow = npt.NDArray[np.floating] | None
Item = TypeVar("Item", bound=Hashable)


def _unit_rows(vectors: Sequence[VectorRow] | npt.NDArray[np.floating], n: int) -> np.ndarray:
    """(n, d) unit rows; missing or zero vectors become zero rows (similarity 0 to anything)."""
    if isinstance(vectors, np.ndarray):
        matrix = vectors.astype(np.float64).reshape(n, -1)
    else:
        dims = {np.asarray(v).shape[-1] for v in vectors if v is not None}
        if len(dims) > 1:
            raise ValueError(f"vectors of different sizes: {sorted(dims)}")
        dim = dims.pop() if dims else 1
        matrix = np.zeros((n, dim))
        for row, vector in enumerate(vectors):
            if vector is not None:
                matrix[row] = np.asarray(vector, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 1e-12)


def mmr(
    item_ids: Sequence[Item],
    scores: Sequence[float],
    vectors: Sequence[VectorRow] | npt.NDArray[np.floating],
    lambda_: float,
    k: int,
) -> list[Item]:
    """Up to k item ids chosen greedily by maximal marginal relevance (Carbonell & Goldstein).

    Each step picks argmax  lambda_ · relevance - (1 - lambda_) · max cosine to the picked items,
    with relevance = scores min-max rescaled to [0, 1] (all equal: 1). Items whose vector is
    None or zero have similarity 0 to everything. Ties go to the more relevant item, then the
    earlier one, so lambda_ = 1 returns the relevance order exactly.
    """
    if not 0.0 <= lambda_ <= 1.0:
        raise ValueError("lambda_ must be between 0 and 1")
    n = len(item_ids)
    if not (len(scores) == len(vectors) == n):
        raise ValueError("item_ids, scores and vectors must have the same length")
    if n == 0 or k <= 0:
        return []
    raw = np.asarray(scores, dtype=np.float64)
    span = raw.max() - raw.min()
    relevance = (raw - raw.min()) / span if span > 0 else np.ones(n)
    unit = _unit_rows(vectors, n)
    # Order of preference among equal objectives: more relevant first, then input order.
    preference = np.lexsort((np.arange(n), -relevance))
    max_similarity = np.zeros(n)
    available = np.ones(n, dtype=bool)
    picked: list[int] = []
    for _ in range(min(k, n)):
        objective = lambda_ * relevance - (1.0 - lambda_) * max_similarity
        objective[~available] = -np.inf
        candidates = preference[objective[preference] == objective.max()]
        choice = int(candidates[0])
        picked.append(choice)
        available[choice] = False
        max_similarity = np.maximum(max_similarity, unit @ unit[choice])
    return [item_ids[index] for index in picked]


def cap_per_category(
    item_ids: Sequence[Item],
    categories: Mapping[Item, Sequence[str]],
    max_per_category: int,
    k: int,
) -> list[Item]:
    """First k items in rank order with at most `max_per_category` items in any category.

    An item counts against each of its categories and is skipped if any of them is full; items
    without categories (or missing from `categories`) are never capped. max_per_category <= 0
    means no cap.
    """
    if max_per_category <= 0:
        return list(item_ids[:k]) if k > 0 else []
    taken: dict[str, int] = {}
    result: list[Item] = []
    for item in item_ids:
        if len(result) >= k:
            break
        item_categories = set(categories.get(item, ()))
        if any(taken.get(category, 0) >= max_per_category for category in item_categories):
            continue
        for category in item_categories:
            taken[category] = taken.get(category, 0) + 1
        result.append(item)
    return result
