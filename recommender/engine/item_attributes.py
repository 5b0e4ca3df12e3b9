"""Item attributes as ranker features (pure numpy, no Django).

A catalog's attributes are free JSON; the ranker reads the few most items carry, named by
specs "number:<key>" and "label:<key>":

- numbers (price, year, rating, ...): at most MAX_KEYS keys whose value is a number (not a
  boolean) on at least MIN_COVERAGE of the items, most covered first; two features each,
  `item:attr:<key>`, the candidate's value, and `user:attr_gap:<key>`, that value less the
  mean over the user's recent items that have one, so "priced like what they take" can be
  learned as well as "cheap";
- labels (brand, colour, genre, ...): at most MAX_KEYS keys whose value is a short text on at
  least MIN_COVERAGE of the items, with 2 to MAX_LABELS distinct values, each on two items on
  average (an identifier is no label); one feature each,
  `user:attr_match:<key>`, the share of the user's recent items with the candidate's value.

NaN where the candidate has no value (LightGBM reads it as missing). A label is stored as its
code (the value's position among the catalog's sorted values), a float like the numbers.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

NUMBER, LABEL = "number", "label"
MAX_KEYS = 4
MIN_COVERAGE = 0.5
MAX_LABELS = 10_000
MAX_LABEL_LENGTH = 200
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


def _label(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_LABEL_LENGTH else None


def _covered(attributes: Sequence[Mapping[str, Any]], counts: Counter[str]) -> list[str]:
    eligible = [
        (count, key)
        for key, count in counts.items()
        if count >= MIN_COVERAGE * len(attributes) and len(key) <= MAX_KEY_LENGTH and KEY.match(key)
    ]
    return [key for _, key in sorted(eligible, key=lambda pair: (-pair[0], pair[1]))]


def numeric_keys(attributes: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The number keys the ranker reads for this catalog (one mapping per item)."""
    counts: Counter[str] = Counter()
    for attrs in attributes:
        counts.update(key for key, value in attrs.items() if _number(value) is not None)
    return tuple(_covered(attributes, counts)[:MAX_KEYS]) if attributes else ()


def label_keys(attributes: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The label keys the ranker reads for this catalog."""
    counts: Counter[str] = Counter()
    values: dict[str, set[str]] = {}
    for attrs in attributes:
        for key, value in attrs.items():
            if (label := _label(value)) is not None:
                counts[key] += 1
                seen = values.setdefault(key, set())
                if len(seen) <= MAX_LABELS:
                    seen.add(label)
    if not attributes:
        return ()
    # One value says nothing, and neither do identifiers: a label's values repeat, on average
    # on two items at least.
    keys = [
        key
        for key in _covered(attributes, counts)
        if 2 <= len(values[key]) <= min(MAX_LABELS, counts[key] / 2)
    ]
    return tuple(keys[:MAX_KEYS])


def pick(attributes: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The attribute specs the ranker reads for this catalog: numbers, then labels."""
    return (
        *(f"{NUMBER}:{key}" for key in numeric_keys(attributes)),
        *(f"{LABEL}:{key}" for key in label_keys(attributes)),
    )


def _split(spec: str) -> tuple[str, str]:
    kind, _, key = spec.partition(":")
    if kind not in (NUMBER, LABEL) or not key:
        raise ValueError(f"not an attribute spec: {spec!r}")
    return kind, key


def attribute_matrix(
    attributes: Sequence[Mapping[str, Any]], specs: Sequence[str]
) -> npt.NDArray[np.float64]:
    """(len(attributes), len(specs)) float64: numbers, label codes; NaN where an item has none."""
    out = np.full((len(attributes), len(specs)), np.nan)
    for col, spec in enumerate(specs):
        kind, key = _split(spec)
        if kind == NUMBER:
            for row, attrs in enumerate(attributes):
                number = _number(attrs.get(key))
                if number is not None:
                    out[row, col] = number
            continue
        labels = [_label(attrs.get(key)) for attrs in attributes]
        codes = {value: n for n, value in enumerate(sorted({v for v in labels if v is not None}))}
        for row, label in enumerate(labels):
            if label is not None:
                out[row, col] = codes[label]
    return out


def feature_names(specs: Sequence[str]) -> list[str]:
    names: list[str] = []
    for spec in specs:
        kind, key = _split(spec)
        if kind == NUMBER:
            names += [f"item:attr:{key}", f"user:attr_gap:{key}"]
        else:
            names.append(f"user:attr_match:{key}")
    return names


def specs_of(names: Sequence[str]) -> tuple[str, ...]:
    """The attribute specs named by a model's feature names, in order."""
    specs: list[str] = []
    for name in names:
        if name.startswith("item:attr:"):
            specs.append(f"{NUMBER}:{name.split(':', 2)[2]}")
        elif name.startswith("user:attr_match:"):
            specs.append(f"{LABEL}:{name.split(':', 2)[2]}")
    return tuple(specs)


def columns(
    values: npt.NDArray[np.float64],
    specs: Sequence[str],
    candidate_rows: npt.NDArray[np.int64],
    recent_rows: npt.NDArray[np.int64],
) -> list[npt.NDArray[np.float64]]:
    """The `feature_names(specs)` columns: rows index `values` (n_items, len(specs)), -1 for an
    item not in the catalog; `recent_rows` are the user's recent items (newest first)."""
    if not specs:
        return []

    def take(rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        out = np.full((len(rows), len(specs)), np.nan)
        known = rows >= 0
        out[known] = values[rows[known]]
        return out

    candidates, recent = take(candidate_rows), take(recent_rows)
    out: list[npt.NDArray[np.float64]] = []
    for col, spec in enumerate(specs):
        kind, _ = _split(spec)
        mine, theirs = candidates[:, col], recent[:, col]
        if kind == NUMBER:
            present = theirs[~np.isnan(theirs)]
            mean = float(present.mean()) if len(present) else np.nan
            out += [mine, mine - mean]
            continue
        # Share of all recent items (as user:category_match), NaN where the candidate has none.
        shares = (mine[:, None] == theirs[None, :]).sum(axis=1) / max(len(recent_rows), 1)
        out.append(np.where(np.isnan(mine), np.nan, shares))
    return out
