"""Fusion: one ranked list from several sources' candidates.

- "weighted": Σ_s weight_s · norm_s(score). Each source's candidate scores are normalised to
  [0, 1] by shifting so the smallest is at least 0 and dividing by the largest:
      norm(x) = (x - m) / (M - m),   m = min(0, min score),  M = max score.
  For non-negative scores (popularity, cosine, co-occurrence) that is x / M, so ratios survive
  (an item half as popular gets half the credit) and the weakest candidate still counts; for
  scores that go negative (ALS, EASE) it is min-max. A source whose scores are all 0 contributes 0.
- "rrf": reciprocal rank fusion, Σ_s weight_s / (rrf_k + rank_s), rank from 1 within the source
  (ties by item id). Scales do not matter, only order.

Sources with weight 0, or not in `weights`, are ignored; non-finite scores (a source's "no
opinion") are dropped before anything else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

FusionMethod = Literal["weighted", "rrf"]


@dataclass(frozen=True)
class Fused:
    """One fused item: total `score` and each proposing source's part of it."""

    item: int
    score: float
    contributions: dict[str, float] = field(default_factory=dict)

    def shares(self) -> dict[str, float]:
        """Each source's share of the score (sums to 1); equal shares when the score is 0."""
        total = sum(self.contributions.values())
        if total <= 0:
            return {name: 1.0 / len(self.contributions) for name in self.contributions}
        return {name: value / total for name, value in self.contributions.items()}


def normalise(scores: Mapping[int, float]) -> dict[int, float]:
    """One source's scores mapped to [0, 1] as described in the module docstring."""
    if not scores:
        return {}
    low = min(0.0, min(scores.values()))
    span = max(scores.values()) - low
    if span <= 0:
        return dict.fromkeys(scores, 0.0)
    return {item: (value - low) / span for item, value in scores.items()}


def _ranks(scores: Mapping[int, float]) -> dict[int, int]:
    ordered = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
    return {item: rank for rank, (item, _) in enumerate(ordered, start=1)}


def fuse(
    candidates: Mapping[str, Mapping[int, float]],
    weights: Mapping[str, float],
    method: FusionMethod = "weighted",
    rrf_k: int = 60,
) -> list[Fused]:
    """Fused candidates, best first (ties by item id).

    candidates: {source name: {item id: score}}; weights: {source name: weight >= 0}.
    """
    if method not in ("weighted", "rrf"):
        raise ValueError(f"unknown fusion method {method!r}; use weighted or rrf")
    if rrf_k < 0:
        raise ValueError("rrf_k must be >= 0")
    contributions: dict[int, dict[str, float]] = {}
    for name, scores in candidates.items():
        weight = float(weights.get(name, 0.0))
        if weight < 0:
            raise ValueError(f"source {name!r} has a negative weight")
        if weight == 0:
            continue
        finite = {int(item): float(s) for item, s in scores.items() if math.isfinite(s)}
        if method == "weighted":
            parts = {item: weight * value for item, value in normalise(finite).items()}
        else:
            parts = {item: weight / (rrf_k + rank) for item, rank in _ranks(finite).items()}
        for item, part in parts.items():
            contributions.setdefault(item, {})[name] = part
    fused = [
        Fused(item=item, score=sum(parts.values()), contributions=parts)
        for item, parts in contributions.items()
    ]
    fused.sort(key=lambda entry: (-entry.score, entry.item))
    return fused
