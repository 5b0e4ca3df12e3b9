"""Non-personalised sources over raw events: popular (decayed activity) and trending (growth).

The matrix sums time away, so both take the events themselves: `fit(data, events=events)`.
Each event counts with its positive weight (type weight x value; dislikes count 0), so with
unit weights these are event counts. Events after `data.now` (the reference time) and events
on items outside `data.items` are ignored.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from recommender.engine.data import SECONDS_PER_DAY, Events, InteractionMatrix
from recommender.engine.sources.base import NO_OPINION, GlobalSource
from recommender.engine.sources.registry import Setting, SourceSpec


def _events_of(context: dict[str, Any], name: str) -> Events:
    events = context.get("events")
    if not isinstance(events, Events):
        raise TypeError(f"the {name} source is fitted with fit(data, events=Events(...))")
    return events


def item_columns(data: InteractionMatrix, item_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Matrix column of each item id, -1 for ids outside the catalog."""
    ids = data.items.ids
    if len(ids) == 0:
        return np.full(len(item_ids), -1, dtype=np.int64)
    sorter = np.argsort(ids)
    positions = np.minimum(np.searchsorted(ids, item_ids, sorter=sorter), len(ids) - 1)
    cols = sorter[positions]
    return np.where(ids[cols] == item_ids, cols, -1).astype(np.int64)


def _ages_and_weights(
    data: InteractionMatrix, events: Events
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(cols, ages in days, positive weights) of the usable events."""
    cols = item_columns(data, events.item_ids)
    usable = (cols >= 0) & (events.timestamps <= data.now)
    ages = (data.now - events.timestamps[usable]) / SECONDS_PER_DAY
    weights = np.maximum(events.weights[usable].astype(np.float64), 0.0)
    return cols[usable], ages, weights


class PopularSource(GlobalSource):
    """Time-decayed activity: each event weighs weight x 0.5^(age / half_life_days).

    Settings:
    - half_life_days: age at which an event counts half (default 7.0).

    Items without any positive event have no opinion.
    """

    name = "popular"

    def __init__(self, half_life_days: float = 7.0) -> None:
        super().__init__()
        if half_life_days <= 0:
            raise ValueError("half_life_days must be positive")
        self.half_life_days = float(half_life_days)

    def _fit(self, data: InteractionMatrix, **context: Any) -> None:
        cols, ages, weights = _ages_and_weights(data, _events_of(context, self.name))
        decayed = weights * np.power(0.5, ages / self.half_life_days)
        totals = np.bincount(cols, weights=decayed, minlength=data.n_items)
        self._item_scores = np.where(totals > 0, totals, NO_OPINION).astype(np.float32)


class TrendingSource(GlobalSource):
    """Growth of the last window against the window before it.

    With R = activity in (now - window, now] and P = activity in (now - 2·window, now - window]:

        score = log2((R + prior) / (P + prior))   when R >= min_recent and R > P,
        no opinion otherwise.

    A ratio, so a small item that grows fast (50 after 5: 2.46) beats a big one that does not
    (500 after 600: not trending); `prior` damps ratios of tiny counts (12 after 0: 1.77, not
    infinite), and `min_recent` keeps noise off the list.

    Settings:
    - window_days: length of each window (default 7.0).
    - min_recent: least activity in the last window to trend (default 10.0; a view weighs 1
      with the default interaction weights).
    - prior: pseudo-activity added to both windows (default 5.0).
    """

    name = "trending"

    def __init__(
        self, window_days: float = 7.0, min_recent: float = 10.0, prior: float = 5.0
    ) -> None:
        super().__init__()
        if window_days <= 0 or prior <= 0:
            raise ValueError("window_days and prior must be positive")
        self.window_days = float(window_days)
        self.min_recent = float(min_recent)
        self.prior = float(prior)

    def _fit(self, data: InteractionMatrix, **context: Any) -> None:
        cols, ages, weights = _ages_and_weights(data, _events_of(context, self.name))
        recent_mask = ages < self.window_days
        previous_mask = ~recent_mask & (ages < 2 * self.window_days)
        recent = np.bincount(cols[recent_mask], weights[recent_mask], minlength=data.n_items)
        previous = np.bincount(cols[previous_mask], weights[previous_mask], minlength=data.n_items)
        self.recent, self.previous = recent, previous
        growth = np.log2((recent + self.prior) / (previous + self.prior))
        trending = (recent >= self.min_recent) & (recent > previous)
        self._item_scores = np.where(trending, growth, NO_OPINION).astype(np.float32)


POPULAR_SPEC = SourceSpec(
    name="popular",
    factory=PopularSource,
    artifact="ranking",
    settings={
        "half_life_days": Setting(float, 0.01, 3650.0, 7.0, "half-life of an event's weight")
    },
    default_weight=0.1,
    ranking=True,
    always_trained=True,
    # Activity decays with this half-life: the span an explanation names.
    user_phrase="Popular{where} in the last {window}",
    window_setting="half_life_days",
)
TRENDING_SPEC = SourceSpec(
    name="trending",
    factory=TrendingSource,
    artifact="ranking",
    settings={"window_days": Setting(float, 0.01, 365.0, 7.0, "the recent window compared")},
    ranking=True,
    always_trained=True,
    user_phrase="Trending{where} in the last {window}",
    window_setting="window_days",
)
