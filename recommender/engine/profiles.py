"""User profile vectors: recency-weighted, type-weighted means of item vectors, blended with
text; and the recency weights of a user's history that the content profile and the item-to-item
seeds share, online (one user's recent events) and offline (every user's, from `Events`).

Recency has two parts, multiplied with the event type's weight:
- by days: halved every `half_life_days` of age (`interactions.half_life_days`);
- by position: an event's weight halves every `half_life_events` events newer than it (its
  position: 0 for the newest), except that the current session (the newest event and every
  earlier one reached with no pause longer than `session_gap_minutes` between consecutive
  events) all weighs as the newest event. `half_life_events` 0 turns the position part off;
  `session_gap_minutes` 0 makes the session the newest event alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recommender.engine.data import SECONDS_PER_DAY, Events, InteractionMatrix

Vectors = npt.NDArray[np.float32]
_MINUTES_PER_DAY = 1_440.0


def decayed_weights(
    type_weights: Sequence[float], ages_days: Sequence[float], half_life_days: float
) -> npt.NDArray[np.float64]:
    """Weight of each event: its type's weight halved every `half_life_days` of age (age ≥ 0)."""
    ages = np.maximum(np.asarray(ages_days, dtype=np.float64), 0.0)
    return np.asarray(type_weights, dtype=np.float64) * np.power(0.5, ages / half_life_days)


@dataclass(frozen=True)
class Recency:
    """How a user's history is weighted for their profile and item-to-item seeds.

    half_life_days: day decay (> 0); half_life_events: position decay before the current
    session, in events (0 = off); session_gap_minutes: the longest pause inside a session
    (0 = the session is the newest event); max_events: newest events read per user;
    seed_items: newest distinct positively weighted items that seed item-to-item candidates.
    """

    half_life_days: float = 30.0
    half_life_events: float = 0.0
    session_gap_minutes: float = 0.0
    max_events: int = 200
    seed_items: int = 200

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Recency:
        """From a validated configuration's `interactions` and `profile` sections."""
        profile = config["profile"]
        return cls(
            half_life_days=float(config["interactions"]["half_life_days"]),
            half_life_events=float(profile["recent_half_life_events"]),
            session_gap_minutes=float(profile["session_gap_minutes"]),
            max_events=int(profile["max_events"]),
            seed_items=int(profile["seed_items"]),
        )

    def positions(self, ages_days: Sequence[float]) -> npt.NDArray[np.float64]:
        """Position of each event of one user, given newest first: its index from the newest,
        0 in the current session (float64 (n,))."""
        ages = np.asarray(ages_days, dtype=np.float64)
        if not len(ages):
            return np.zeros(0)
        gaps = np.diff(ages) * _MINUTES_PER_DAY
        in_session = np.concatenate([[True], np.cumsum(gaps > self.session_gap_minutes) == 0])
        return np.where(in_session, 0.0, np.arange(len(ages), dtype=np.float64))

    def position_factor(self, positions: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        if self.half_life_events <= 0:
            return np.ones(len(positions))
        return np.power(0.5, positions / self.half_life_events)

    def event_weights(
        self, type_weights: Sequence[float], ages_days: Sequence[float]
    ) -> npt.NDArray[np.float64]:
        """Weights (n,) of one user's events given newest first (ages in days, ≥ 0)."""
        days = decayed_weights(type_weights, ages_days, self.half_life_days)
        return days * self.position_factor(self.positions(ages_days))

    def seeds(self, items: Sequence[int], weights: npt.NDArray[np.float64]) -> dict[int, float]:
        """item → summed weight of the newest `seed_items` distinct items with a positive sum,
        from one user's events newest first (`weights` from `event_weights`)."""
        totals: dict[int, float] = {}
        for item, weight in zip(items, weights, strict=True):
            totals[item] = totals.get(item, 0.0) + float(weight)
        # dicts keep insertion order: the order of each item's newest event.
        positive = [(item, total) for item, total in totals.items() if total > 0]
        return dict(positive[: self.seed_items])


@dataclass(frozen=True)
class HistoryRows:
    """Every user's history as serving weighs it, aligned with an `InteractionMatrix`.

    profile: (n_users, n_items) float32 csr, summed recency weights of each user's newest
    `max_events` events (negative sums kept: dislikes push a profile away, as online);
    seeds: the same sums, positive only, on each user's newest `seed_items` distinct items.
    """

    profile: sp.csr_matrix
    seeds: sp.csr_matrix


def history_rows(events: Events, data: InteractionMatrix, recency: Recency) -> HistoryRows:
    """`Recency` applied to `events` per user, ages counted to `data.now`; events on items or
    users outside `data` are dropped. Vectorised: one sort of the events."""
    shape = (data.n_users, data.n_items)
    cols = np.fromiter(
        (data.item_index.get(int(i), -1) for i in events.item_ids), np.int64, len(events)
    )
    rows = np.fromiter(
        (data.user_index.get(int(u), -1) for u in events.user_ids), np.int64, len(events)
    )
    known = (cols >= 0) & (rows >= 0)
    if not known.any():
        empty = sp.csr_matrix(shape, dtype=np.float32)
        return HistoryRows(profile=empty, seeds=empty.copy())
    rows, cols = rows[known], cols[known]
    stamps = events.timestamps[known]
    weights = events.weights[known].astype(np.float64)
    # Newest first within each user, as serving reads them.
    order = np.lexsort((-stamps, rows))
    rows, cols, stamps, weights = rows[order], cols[order], stamps[order], weights[order]
    starts = np.searchsorted(rows, rows)
    index = np.arange(len(rows)) - starts
    keep = index < recency.max_events
    rows, cols, stamps, weights, index = (
        rows[keep],
        cols[keep],
        stamps[keep],
        weights[keep],
        index[keep],
    )
    starts = np.searchsorted(rows, rows)
    # The current session: no gap above the limit between the newest event and this one.
    gaps = np.diff(stamps, prepend=stamps[:1]) * -1.0 / 60.0
    breaks = (gaps > recency.session_gap_minutes) & (index > 0)
    broken = np.cumsum(breaks)
    in_session = broken == broken[starts]
    positions = np.where(in_session, 0.0, index.astype(np.float64))
    ages = np.maximum(data.now - stamps, 0.0) / SECONDS_PER_DAY
    weights = (
        weights * np.power(0.5, ages / recency.half_life_days) * recency.position_factor(positions)
    )
    profile = sp.csr_matrix((weights, (rows, cols)), shape=shape, dtype=np.float64)
    profile.sum_duplicates()
    # Seeds: each (user, item)'s newest event orders the user's items; positive sums only.
    pairs = rows * data.n_items + cols
    _, first = np.unique(pairs, return_index=True)
    first = first[profile[rows[first], cols[first]].A1 > 0]
    first.sort()
    seed_rows, seed_cols = rows[first], cols[first]
    rank = np.arange(len(first)) - np.searchsorted(seed_rows, seed_rows)
    take = rank < recency.seed_items
    seed_rows, seed_cols = seed_rows[take], seed_cols[take]
    seeds = sp.csr_matrix(
        (profile[seed_rows, seed_cols].A1, (seed_rows, seed_cols)), shape=shape, dtype=np.float64
    )
    return HistoryRows(profile=profile.astype(np.float32), seeds=seeds.astype(np.float32))


def _unit(vector: npt.NDArray[np.floating]) -> Vectors | None:
    norm = float(np.linalg.norm(vector))
    if norm < 1e-12:
        return None
    return (vector / norm).astype(np.float32)


def profile_vector(
    item_vectors: Vectors,
    weights: npt.NDArray[np.float64],
    text_vector: Vectors | None,
    text_weight: float,
) -> Vectors | None:
    """Unit profile vector, or None when there is nothing to build one from.

    item_vectors: (n, dim) float32 of the items the user interacted with (rows may repeat);
    weights: (n,) event weights (negative for dislikes); text_vector: (dim,) or None.
    The event part is normalised before blending so `text_weight` means the same share whatever
    the number of events.
    """
    events = None
    if len(item_vectors):
        events = _unit(weights.astype(np.float64) @ item_vectors.astype(np.float64))
    text = _unit(text_vector.astype(np.float64)) if text_vector is not None else None
    if events is None:
        return text
    if text is None:
        return events
    return _unit((1.0 - text_weight) * events + text_weight * text)


def cosine_matrix(a: Vectors, b: Vectors) -> npt.NDArray[np.float32]:
    """(n, d) x (m, d) → (n, m) cosine similarities."""
    a_unit = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b_unit = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return (a_unit @ b_unit.T).astype(np.float32)
