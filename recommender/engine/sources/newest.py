"""Newest items first, by `data.items.created`."""

from __future__ import annotations

from typing import Any

import numpy as np

from recommender.engine.data import SECONDS_PER_DAY, InteractionMatrix
from recommender.engine.sources.base import GlobalSource
from recommender.engine.sources.registry import SourceSpec


class NewestSource(GlobalSource):
    """Freshness = 0.5^(age / half_life_days), age = now - created (items from the future: 0).

    Ranks by creation time, newer first (float32 resolves ages to well under a second); the
    half-life only shapes the scores fusion mixes: an item created now scores 1, one a
    half-life old 0.5.

    Settings:
    - half_life_days: age at which freshness halves (default 30.0).
    """

    name = "newest"

    def __init__(self, half_life_days: float = 30.0) -> None:
        super().__init__()
        if half_life_days <= 0:
            raise ValueError("half_life_days must be positive")
        self.half_life_days = float(half_life_days)

    def _fit(self, data: InteractionMatrix, **context: Any) -> None:
        ages = np.maximum(data.now - data.items.created, 0.0) / SECONDS_PER_DAY
        self._item_scores = np.power(0.5, ages / self.half_life_days).astype(np.float32)


SPEC = SourceSpec(
    name="newest",
    factory=NewestSource,
    artifact="live",
    ranking=True,
    user_phrase="New{where}: recently added",
)
