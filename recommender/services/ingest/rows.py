"""Bulk validation of incoming rows (API batches, PATCH bodies and imported files alike).

Plain Python over dicts rather than a serializer per row: a 1,000-row batch validates in a few
milliseconds, and every fault is reported with its row index and field.
"""

import datetime
import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from recommender.models.catalog import EXTERNAL_ID_MAX

# The limits of a row; recommender/api/schemas.py documents them from these same constants.
TITLE_MAX = 500
TEXT_MAX = 20_000
CATEGORY_MAX = 200
CATEGORIES_MAX_COUNT = 50
ATTRIBUTES_MAX_KEYS = 100
# json.dumps (and the stack) give out near 1,000 levels while orjson parses 1,024.
ATTRIBUTES_MAX_DEPTH = 16
RECOMMENDATION_ID_MAX = 64
# An interaction's value (a rating, a quantity, seconds watched) lies within ±this: one event of
# 1e12 once made every later training fit NaN factors. Training clips weights further per config.
INTERACTION_VALUE_MAX = 1e6
MAX_ERRORS_REPORTED = 100
# Integer ids the JSON parser (orjson) reads as integers; a larger one arrives as a float and
# would lose digits, so it is refused.
INTEGER_ID_MIN = -(2**63)
INTEGER_ID_MAX = 2**64 - 1

T = TypeVar("T")


@dataclass
class RowErrors:
    """Collects row-level faults: [{"row": i, "field": f, "message": m}], capped in size."""

    items: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    # Every faulty row, also those past the cap on reported items, so counts stay true.
    faulty_rows: set[int] = field(default_factory=set)

    def add(self, row: int, field_name: str | None, message: str) -> None:
        self.total += 1
        self.faulty_rows.add(row)
        if len(self.items) < MAX_ERRORS_REPORTED:
            self.items.append({"row": row, "field": field_name, "message": message})

    def rows_at_fault(self) -> int:
        return len(self.faulty_rows)

    def __bool__(self) -> bool:
        return self.total > 0


@dataclass(slots=True)
class ItemRow:
    external_id: str
    title: str
    description: str
    categories: list[str]
    attributes: dict[str, Any]
    available: bool

    @property
    def content_hash(self) -> str:
        return item_content_hash(self.title, self.description, self.categories)


@dataclass(slots=True)
class UserRow:
    external_id: str
    attributes: dict[str, Any]
    profile_text: str


@dataclass(slots=True)
class InteractionRow:
    user: str
    item: str
    type: str
    value: float
    timestamp: datetime.datetime
    event_id: str | None
    recommendation_id: str | None


def item_content_hash(title: str, description: str, categories: list[str]) -> str:
    """Hash of the text an encoder reads; unchanged hash means the vector is still valid."""
    text = "\x1f".join([title, description, "\x1e".join(categories)])
    return hashlib.sha256(text.encode()).hexdigest()


class _RowFaultError(Exception):
    def __init__(self, field_name: str, message: str) -> None:
        self.field_name = field_name
        self.message = message


def _external_id(value: Any, name: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # numeric ids are common in CSV exports; store them as text
    if isinstance(value, float):
        raise _RowFaultError(
            name,
            f"'{name}' must be a string, or an integer from {INTEGER_ID_MIN} to {INTEGER_ID_MAX}",
        )
    if not isinstance(value, str):
        raise _RowFaultError(name, f"'{name}' must be a string")
    if not value or value.strip() != value:
        raise _RowFaultError(name, f"'{name}' must be non-empty with no surrounding spaces")
    if len(value) > EXTERNAL_ID_MAX:
        raise _RowFaultError(name, f"'{name}' is longer than {EXTERNAL_ID_MAX} characters")
    if "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise _RowFaultError(name, f"'{name}' contains a NUL character")
    if "/" in value:  # ids are URL path segments (/items/{id}); a '/' could never be addressed
        raise _RowFaultError(name, f"'{name}' must not contain '/'")
    return value


def _text(value: Any, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _RowFaultError(name, f"'{name}' must be a string")
    if len(value) > limit:
        raise _RowFaultError(name, f"'{name}' is longer than {limit} characters")
    if "\x00" in value:
        raise _RowFaultError(name, f"'{name}' contains a NUL character")
    return value


def _optional_id(value: Any, name: str, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _RowFaultError(name, f"'{name}' must be a string")
    if len(value) > limit:
        raise _RowFaultError(name, f"'{name}' is longer than {limit} characters")
    if "\x00" in value:
        raise _RowFaultError(name, f"'{name}' contains a NUL character")
    return value


def _categories(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _RowFaultError("categories", "'categories' must be a list of strings")
    if len(value) > CATEGORIES_MAX_COUNT:
        raise _RowFaultError("categories", f"at most {CATEGORIES_MAX_COUNT} categories")
    for entry in value:
        if not isinstance(entry, str) or not entry or len(entry) > CATEGORY_MAX or "\x00" in entry:
            raise _RowFaultError(
                "categories",
                f"each category must be a non-empty string of ≤{CATEGORY_MAX} characters",
            )
    return value


def _attributes(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _RowFaultError("attributes", "'attributes' must be an object")
    if len(value) > ATTRIBUTES_MAX_KEYS:
        raise _RowFaultError("attributes", f"at most {ATTRIBUTES_MAX_KEYS} attributes")
    # The whole tree, without recursion: jsonb refuses NUL in keys and strings (nested too).
    stack: list[tuple[str, Any, int]] = [(str(key), entry, 1) for key, entry in value.items()]
    while stack:
        key, entry, depth = stack.pop()
        if "\x00" in key:
            raise _RowFaultError("attributes", "attribute names must not contain NUL characters")
        if isinstance(entry, float) and not math.isfinite(entry):
            raise _RowFaultError("attributes", f"attribute '{key}' must be a finite number")
        if isinstance(entry, str) and "\x00" in entry:
            raise _RowFaultError("attributes", f"attribute '{key}' contains a NUL character")
        if isinstance(entry, (dict, list)):
            if depth >= ATTRIBUTES_MAX_DEPTH:
                raise _RowFaultError(
                    "attributes", f"attributes nest at most {ATTRIBUTES_MAX_DEPTH} levels deep"
                )
            children = entry.items() if isinstance(entry, dict) else enumerate(entry)
            stack.extend((f"{key}.{name}", child, depth + 1) for name, child in children)
    return value


def _bool(value: Any, name: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _RowFaultError(name, f"'{name}' must be true or false")
    return value


def _number(value: Any, name: str, default: float, bound: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _RowFaultError(name, f"'{name}' must be a number")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        raise _RowFaultError(name, f"'{name}' must lie within ±{bound:g}") from None
    if not math.isfinite(number):
        raise _RowFaultError(name, f"'{name}' must be a finite number")
    if abs(number) > bound:
        raise _RowFaultError(name, f"'{name}' must lie within ±{bound:g}")
    return number


def parse_timestamp(value: Any, name: str, default: datetime.datetime) -> datetime.datetime:
    if value is None:
        return default
    if not isinstance(value, str):
        raise _RowFaultError(name, f"'{name}' must be an ISO 8601 string with a time zone")
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise _RowFaultError(
            name, f"'{name}' is not an ISO 8601 date-time: {value[:40]!r}"
        ) from None
    if parsed.tzinfo is None:
        raise _RowFaultError(name, f"'{name}' needs a time zone (e.g. 'Z' or '+01:00')")
    try:
        # 0001-01-01T00:00+14:00 is a year-0 instant in UTC: PostgreSQL stores it, but no read of
        # the row could ever turn it back into a datetime. The instant goes on in UTC, since
        # PostgreSQL refuses offsets past ±15:59 that Python reads (up to ±23:59).
        return parsed.astimezone(datetime.UTC)
    except OverflowError:
        raise _RowFaultError(name, f"'{name}' is out of range: {value[:40]!r}") from None


# The fields of each row (an unknown one is refused); the OpenAPI serializers must match them.
ITEM_FIELDS = frozenset({"id", "title", "description", "categories", "attributes", "available"})
USER_FIELDS = frozenset({"id", "attributes", "profile_text"})
INTERACTION_FIELDS = frozenset(
    {"user", "item", "type", "value", "timestamp", "event_id", "recommendation_id"}
)


def _check_fields(raw: Any, allowed: frozenset[str], required: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _RowFaultError("", "each row must be a JSON object")
    unknown = raw.keys() - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise _RowFaultError(name, f"unknown field '{name}'")
    for name in required:
        if raw.get(name) is None:
            raise _RowFaultError(name, f"'{name}' is required")
    return raw


def parse_item(raw: Any) -> ItemRow:
    raw = _check_fields(raw, ITEM_FIELDS, ("id",))
    return ItemRow(
        external_id=_external_id(raw["id"], "id"),
        title=_text(raw.get("title"), "title", TITLE_MAX),
        description=_text(raw.get("description"), "description", TEXT_MAX),
        categories=_categories(raw.get("categories")),
        attributes=_attributes(raw.get("attributes")),
        available=_bool(raw.get("available"), "available", True),
    )


def parse_user(raw: Any) -> UserRow:
    raw = _check_fields(raw, USER_FIELDS, ("id",))
    return UserRow(
        external_id=_external_id(raw["id"], "id"),
        attributes=_attributes(raw.get("attributes")),
        profile_text=_text(raw.get("profile_text"), "profile_text", TEXT_MAX),
    )


def interaction_parser(
    interaction_types: Iterable[str], received_at: datetime.datetime
) -> Callable[[Any], InteractionRow]:
    """A parser bound to the tenant's interaction types and the batch's time of receipt."""
    known_types = frozenset(interaction_types)
    known_list = ", ".join(sorted(known_types))

    def parse(raw: Any) -> InteractionRow:
        raw = _check_fields(raw, INTERACTION_FIELDS, ("user", "item", "type"))
        kind = raw["type"]
        if not isinstance(kind, str):  # never repr() it: a deeply nested value overflows repr
            raise _RowFaultError("type", "'type' must be a string")
        if kind not in known_types:
            raise _RowFaultError(
                "type", f"unknown interaction type {kind[:40]!r}; known: {known_list}"
            )
        return InteractionRow(
            user=_external_id(raw["user"], "user"),
            item=_external_id(raw["item"], "item"),
            type=kind,
            value=_number(raw.get("value"), "value", 1.0, INTERACTION_VALUE_MAX),
            timestamp=parse_timestamp(raw.get("timestamp"), "timestamp", received_at),
            event_id=_optional_id(raw.get("event_id"), "event_id", EXTERNAL_ID_MAX),
            recommendation_id=_optional_id(
                raw.get("recommendation_id"), "recommendation_id", RECOMMENDATION_ID_MAX
            ),
        )

    return parse


def parse_rows(
    rows: list[Any],
    parse: Callable[[Any], T],
    errors: RowErrors,
    *,
    unique_key: Callable[[T], str | None],
    unique_field: str,
    first_row: int = 0,
) -> tuple[list[T], list[int]]:
    """Parse every row; record faults (and duplicate keys inside the batch) in `errors`.

    Returns the rows that parsed and, beside them, their row indexes.
    """
    parsed: list[T] = []
    indexes: list[int] = []
    seen: dict[str, int] = {}
    for offset, raw in enumerate(rows):
        index = first_row + offset
        try:
            row = parse(raw)
        except _RowFaultError as fault:
            errors.add(index, fault.field_name or None, fault.message)
            continue
        key = unique_key(row)
        if key is not None:
            if key in seen:
                errors.add(
                    index,
                    unique_field,
                    f"duplicate {unique_field} {key!r} (also in row {seen[key]})",
                )
                continue
            seen[key] = index
        parsed.append(row)
        indexes.append(index)
    return parsed, indexes


def _patched_bool(value: Any) -> bool:
    # In a PATCH, null is no value to fall back to a default: it would silently set `true`.
    if value is None:
        raise _RowFaultError("available", "'available' must be true or false")
    return _bool(value, "available", True)


def parse_partial_item(raw: Any) -> dict[str, Any]:
    """Validate a PATCH body for an item; return only the fields it sets, as model values."""
    raw = _check_fields(raw, ITEM_FIELDS, ())
    setters: dict[str, Callable[[Any], Any]] = {
        "title": lambda v: _text(v, "title", TITLE_MAX),
        "description": lambda v: _text(v, "description", TEXT_MAX),
        "categories": _categories,
        "attributes": _attributes,
        "available": _patched_bool,
    }
    return {name: setters[name](raw[name]) for name in raw if name in setters}


def parse_partial_user(raw: Any) -> dict[str, Any]:
    raw = _check_fields(raw, USER_FIELDS, ())
    setters: dict[str, Callable[[Any], Any]] = {
        "attributes": _attributes,
        "profile_text": lambda v: _text(v, "profile_text", TEXT_MAX),
    }
    return {name: setters[name](raw[name]) for name in raw if name in setters}


def single_fault(raw: Any, parse: Callable[[Any], Any]) -> tuple[Any, RowErrors]:
    """Parse one object (a PATCH body); errors carry no row index."""
    errors = RowErrors()
    try:
        return parse(raw), errors
    except _RowFaultError as fault:
        errors.items.append({"field": fault.field_name or None, "message": fault.message})
        errors.total = 1
        return None, errors
