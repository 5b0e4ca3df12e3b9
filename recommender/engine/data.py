"""Training data for the candidate sources: events as arrays, and the user x item matrix.

Pure numpy/scipy. Services load a tenant's interactions into `Events` (database ids, weights
from the configuration, unix-second timestamps) and build an `InteractionMatrix` from them; every
source fits on that matrix, so rows and columns mean the same thing to all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Events:
    """One row per interaction. `weights` = type weight x value (negative for dislikes)."""

    user_ids: npt.NDArray[np.int64]
    item_ids: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float32]
    timestamps: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        n = len(self.user_ids)
        if not (len(self.item_ids) == len(self.weights) == len(self.timestamps) == n):
            raise ValueError("Events arrays must have equal lengths")
        # A NaN or infinite weight makes every factorisation diverge; refuse it here, by name.
        if not np.isfinite(self.weights).all():
            raise ValueError("Events weights must be finite (see interactions.max_weight)")

    def __len__(self) -> int:
        return len(self.user_ids)

    def select(self, mask: npt.NDArray[np.bool_]) -> Events:
        return Events(
            self.user_ids[mask], self.item_ids[mask], self.weights[mask], self.timestamps[mask]
        )


def event_weights(
    type_weights: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
    *,
    scale: str,
    max_weight: float,
) -> npt.NDArray[np.float32]:
    """Weight of each event: type weight x value (log-scaled for scale "log"), clipped.

    type_weights, values: float64 (n,); returns float32 (n,) within ±max_weight. The clip is
    what keeps one outlier (a value of 1e6 where ratings are 1..5) from owning the fit.
    """
    if scale == "log":
        values = np.sign(values) * np.log1p(np.abs(values))
    elif scale != "linear":
        raise ValueError(f"unknown value scale {scale!r}")
    weights = np.clip(type_weights * values, -max_weight, max_weight)
    return np.nan_to_num(weights, nan=0.0).astype(np.float32)


@dataclass(frozen=True)
class ItemTable:
    """The catalog the sources rank, aligned by position.

    ids: database ids; created: unix seconds; categories: one tuple per item;
    available: items that may be served; attributes: one JSON mapping per item (or none at all:
    those who build a table without them).
    """

    ids: npt.NDArray[np.int64]
    created: npt.NDArray[np.float64]
    categories: tuple[tuple[str, ...], ...]
    available: npt.NDArray[np.bool_]
    attributes: tuple[Mapping[str, Any], ...] = ()

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class InteractionMatrix:
    """users x items, summed positive event weights (optionally time-decayed).

    `user_ids[row]` and `items.ids[col]` map positions back to database ids; `user_index` and
    `item_index` map ids to positions. Events on items outside `items` are dropped.
    """

    matrix: sp.csr_matrix
    user_ids: npt.NDArray[np.int64]
    items: ItemTable
    user_index: dict[int, int]
    item_index: dict[int, int]
    now: float

    @property
    def n_users(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.matrix.shape[1])

    @classmethod
    def build(
        cls,
        events: Events,
        items: ItemTable,
        *,
        half_life_days: float | None = None,
        now: float | None = None,
    ) -> InteractionMatrix:
        """Aggregate events per (user, item); negative totals (dislikes) are dropped.

        With `half_life_days`, each event's weight halves every half-life of age before `now`
        (default: the newest event's time).
        """
        item_index = {int(item_id): pos for pos, item_id in enumerate(items.ids)}
        if now is None:
            now = float(events.timestamps.max()) if len(events) else 0.0
        cols = np.fromiter(
            (item_index.get(int(i), -1) for i in events.item_ids),
            dtype=np.int64,
            count=len(events),
        )
        known = cols >= 0
        user_ids, rows = np.unique(events.user_ids[known], return_inverse=True)
        weights = events.weights[known].astype(np.float64)
        if half_life_days is not None:
            ages = np.maximum(now - events.timestamps[known], 0.0) / SECONDS_PER_DAY
            weights = weights * np.power(0.5, ages / half_life_days)
        matrix = sp.csr_matrix(
            (weights, (rows, cols[known])), shape=(len(user_ids), len(items)), dtype=np.float64
        )
        matrix.sum_duplicates()
        matrix.data[matrix.data < 0] = 0.0
        matrix.eliminate_zeros()
        return cls(
            matrix=matrix.astype(np.float32),
            user_ids=user_ids.astype(np.int64),
            items=items,
            user_index={int(u): pos for pos, u in enumerate(user_ids)},
            item_index=item_index,
            now=now,
        )
