"""Item filters: the query-parameter syntax, parsed into a value the SQL layer compiles.

Syntax (documented in the README; every recommendation endpoint takes it):
- `category=Running,Trail`          items in any of these categories
- `exclude_category=Kids`           items in none of these categories
- `attr.brand=Acme`                 attribute equals the value
- `attr.brand=Acme|Zeta`            attribute is one of the values
- `attr.price=10..50`, `10..`, `..50`  numeric attribute in the inclusive range
Values `true`/`false` are booleans and numeric text also matches the number (`attr.size=42`
matches 42 and "42"). Pure Python: the same parser serves the API and configured boosts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ATTRIBUTE_PREFIX = "attr."
MAX_VALUES = 100
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
FILTER_PARAMS = frozenset({"category", "exclude_category"})

JsonScalar = str | int | float | bool


class FilterError(ValueError):
    """Every problem found, as API error details: [{"field": ..., "message": ...}]."""

    def __init__(self, details: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{d['field']}: {d['message']}" for d in details))
        self.details = details


@dataclass(frozen=True)
class AttributeCondition:
    """One attribute test: equality/membership (`values`) or a numeric range (`low`..`high`)."""

    name: str
    values: tuple[JsonScalar, ...] = ()
    low: float | None = None
    high: float | None = None

    @property
    def is_range(self) -> bool:
        return not self.values

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        if self.name not in attributes:
            return False
        value = attributes[self.name]
        if self.is_range:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return False
            return (self.low is None or value >= self.low) and (
                self.high is None or value <= self.high
            )
        return any(_same_json(value, wanted) for wanted in self.values)


def _same_json(a: Any, b: Any) -> bool:
    # JSON equality as Postgres sees it: true is not 1, 1 equals 1.0.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


@dataclass(frozen=True)
class ItemFilter:
    include_categories: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()
    attributes: tuple[AttributeCondition, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not (self.include_categories or self.exclude_categories or self.attributes)

    @property
    def attribute_names(self) -> list[str]:
        return sorted({condition.name for condition in self.attributes})

    def matches(self, categories: Sequence[str], attributes: Mapping[str, Any]) -> bool:
        if self.include_categories and not set(categories) & set(self.include_categories):
            return False
        if set(categories) & set(self.exclude_categories):
            return False
        return all(condition.matches(attributes) for condition in self.attributes)


def _split(raw: str, separator: str) -> list[str]:
    return [part.strip() for part in raw.split(separator) if part.strip()]


def _scalar_forms(text: str) -> tuple[JsonScalar, ...]:
    """The JSON values a query-string value stands for."""
    if text in ("true", "false"):
        return (text == "true", text)
    if _NUMBER.match(text):
        number = float(text)
        if math.isfinite(number):
            return (int(number) if number.is_integer() else number, text)
    return (text,)


def _parse_range(name: str, raw: str) -> AttributeCondition:
    low_text, _, high_text = raw.partition("..")
    bounds: list[float | None] = []
    for text in (low_text.strip(), high_text.strip()):
        if not text:
            bounds.append(None)
            continue
        if not _NUMBER.match(text) or not math.isfinite(float(text)):
            raise FilterError(
                [{"field": f"{ATTRIBUTE_PREFIX}{name}", "message": f"malformed range {raw!r}"}]
            )
        bounds.append(float(text))
    low, high = bounds
    if low is None and high is None:
        raise FilterError(
            [{"field": f"{ATTRIBUTE_PREFIX}{name}", "message": "a range needs at least one bound"}]
        )
    if low is not None and high is not None and low > high:
        raise FilterError(
            [{"field": f"{ATTRIBUTE_PREFIX}{name}", "message": f"empty range {raw!r} (low > high)"}]
        )
    return AttributeCondition(name=name, low=low, high=high)


def _parse_attribute(key: str, raw: str) -> AttributeCondition:
    name = key[len(ATTRIBUTE_PREFIX) :]
    if not _ATTRIBUTE_NAME.match(name):
        raise FilterError([{"field": key, "message": "not a valid attribute name"}])
    raw = raw.strip()
    if not raw:
        raise FilterError([{"field": key, "message": "needs a value"}])
    if ".." in raw:
        return _parse_range(name, raw)
    parts = _split(raw, "|")
    if not parts or len(parts) > MAX_VALUES:
        raise FilterError([{"field": key, "message": f"needs 1 to {MAX_VALUES} values"}])
    values: list[JsonScalar] = []
    for part in parts:
        values.extend(_scalar_forms(part))
    return AttributeCondition(name=name, values=tuple(dict.fromkeys(values)))


def _parse_categories(key: str, raw: str, *, skip_empty: bool) -> tuple[str, ...]:
    # A request's empty name between commas is refused, not skipped: the document states each
    # name holds a character, so `a,,b` is as invalid as an empty list.
    parts = [part.strip() for part in raw.split(",")]
    if skip_empty:
        parts = [part for part in parts if part]
    if not parts or not all(parts) or len(parts) > MAX_VALUES:
        raise FilterError(
            [{"field": key, "message": f"needs 1 to {MAX_VALUES} category names, none empty"}]
        )
    return tuple(dict.fromkeys(parts))


def is_filter_param(key: str) -> bool:
    return key in FILTER_PARAMS or key.startswith(ATTRIBUTE_PREFIX)


def parse_filter(
    params: Iterable[tuple[str, str]], *, skip_empty_names: bool = False
) -> ItemFilter:
    """Build a filter from (key, value) pairs; other keys are the caller's. Raises FilterError.

    `skip_empty_names` drops empty category names (`a,,b`, `a,`) instead of refusing them."""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    conditions: dict[str, AttributeCondition] = {}
    errors: list[dict[str, str]] = []
    for key, raw in params:
        try:
            if key == "category":
                include = include + _parse_categories(key, raw, skip_empty=skip_empty_names)
            elif key == "exclude_category":
                exclude = exclude + _parse_categories(key, raw, skip_empty=skip_empty_names)
            elif key.startswith(ATTRIBUTE_PREFIX):
                if key in {f"{ATTRIBUTE_PREFIX}{name}" for name in conditions}:
                    raise FilterError([{"field": key, "message": "given more than once"}])
                condition = _parse_attribute(key, raw)
                conditions[condition.name] = condition
        except FilterError as exc:
            errors.extend(exc.details)
    if errors:
        raise FilterError(errors)
    return ItemFilter(
        include_categories=tuple(dict.fromkeys(include)),
        exclude_categories=tuple(dict.fromkeys(exclude)),
        attributes=tuple(conditions.values()),
    )


def parse_filter_text(text: str) -> ItemFilter:
    """A filter written as a query string (`category=Running&attr.brand=Acme`), for boosts.

    Empty category names are skipped, as they always were here: boosts live in configuration
    versions saved under that rule, and an active version must keep serving as it was saved."""
    pairs = []
    for part in text.split("&"):
        key, sep, value = part.partition("=")
        if not sep or not is_filter_param(key.strip()):
            raise FilterError([{"field": part, "message": "expected category=…, attr.NAME=…"}])
        pairs.append((key.strip(), value))
    return parse_filter(pairs, skip_empty_names=True)
