"""Numeric item attributes as ranker features (pure numpy, no Django).

A catalog's attributes are free JSON; the ranker reads the few numeric ones most items carry
(price, year, rating, ...): at most MAX_KEYS keys whose value is a number (not a boolean) on
at least MIN_COVERAGE of the items, most covered first. Per key two features:
`item:attr:<key>`, the candidate's value, and `user:attr_gap:<key>`, that value less the mean
over the user's recent items that have one (NaN where unknown: LightGBM reads it as missing),
so "priced like what they take" can be learned as well as "cheap".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

MAX_KEYS = 4
MIN_COVERAGE = 0.5
# Keys that make safe LightGBM feature names (no JSON specials, no "__", which stands for ":").
KEY = re.compile(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$")
MAX_KEY_LENGTH = 40
# Features are float32: a larger magnitude would become infinite there.
MAX_MAGNITUDE = 1e30


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) and abs(value) <= MAX_MAGNITUDE else None


def numeric_keys(attributes: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The attribute keys the ranker reads for this catalog (one mapping per item)."""
    if not attributes:
        return ()
    counts: Counter[str] = Counter()
    for attrs in attributes:
        for key, value in attrs.items():
            if _number(value) is not None:
                counts[key] += 1
    eligible = [
        (count, key)
        for key, count in counts.items()
        if count >= MIN_COVERAGE * len(attributes) and len(key) <= MAX_KEY_LENGTH and KEY.match(key)
    ]
    return tuple(
        key for _, key in sorted(eligible, key=lambda pair: (-pair[0], pair[1]))[:MAX_KEYS]
    )


def attribute_matrix(
    attributes: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> npt.NDArray[np.float64]:
    """(len(attributes), len(keys)) float64 values, NaN where an item has no number."""
    out = np.full((len(attributes), len(keys)), np.nan)
    for row, attrs in enumerate(attributes):
        for col, key in enumerate(keys):
            value = _number(attrs.get(key))
            if value is not None:
                out[row, col] = value
    return out


def feature_names(keys: Sequence[str]) -> list[str]:
    return [name for key in keys for name in (f"item:attr:{key}", f"user:attr_gap:{key}")]


def keys_of(names: Sequence[str]) -> tuple[str, ...]:
    """The attribute keys named by a model's feature names, in order."""
    return tuple(name.split(":", 2)[2] for name in names if name.startswith("item:attr:"))


def columns(
    values: npt.NDArray[np.float64],
    candidate_rows: npt.NDArray[np.int64],
    recent_rows: npt.NDArray[np.int64],
) -> list[npt.NDArray[np.float64]]:
    """The `feature_names(keys)` columns: rows index `values` (n_items, n_keys), -1 unknown."""
    n_keys = values.shape[1]
    if not n_keys:
        return []

    def take(rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        out = np.full((len(rows), n_keys), np.nan)
        known = rows >= 0
        out[known] = values[rows[known]]
        return out

    candidates = take(candidate_rows)
    recent = take(recent_rows)
    with_value = ~np.isnan(recent)
    counts = with_value.sum(axis=0)
    means = np.divide(
        np.where(with_value, recent, 0.0).sum(axis=0),
        counts,
        out=np.full(n_keys, np.nan),
        where=counts > 0,
    )
    out: list[npt.NDArray[np.float64]] = []
    for col in range(n_keys):
        out.append(candidates[:, col])
        out.append(candidates[:, col] - means[col])
    return out
