"""Parsers of the parameters every list endpoint takes: `count` and boolean flags."""

from typing import Any

from recsys_platform.errors import ApplicationError

# recommender/api/schemas.py documents `count` from these same constants.
MIN_COUNT = 1
MAX_COUNT = 100
DEFAULT_COUNT = 10


def parse_count(raw: Any, default: int = DEFAULT_COUNT) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError, OverflowError):
        value = -1
    if isinstance(raw, float) and not raw.is_integer():
        value = -1  # int() would truncate 2.5 to 2 without a word
    if isinstance(raw, bool) or not MIN_COUNT <= value <= MAX_COUNT:
        raise ApplicationError(
            "validation_error",
            f"'count' must be an integer from {MIN_COUNT} to {MAX_COUNT}.",
            details=[{"field": "count", "message": "out of range"}],
        )
    return value


def parse_flag(raw: Any, name: str) -> bool:
    if raw is None or raw in ("", "false", "0", False):
        return False
    if raw in ("true", "1", True):
        return True
    raise ApplicationError(
        "validation_error",
        f"'{name}' must be true or false.",
        details=[{"field": name, "message": "not a boolean"}],
    )


# recommender/api/schemas.py documents `context_items` from this same constant.
MAX_CONTEXT_ITEMS = 20


def parse_context_items(raw: str | None) -> list[str]:
    """`context_items=a,b`: the ids of what the visitor looks at now, most relevant first (at
    most MAX_CONTEXT_ITEMS, none empty; a repeated id counts once)."""
    if raw is None:
        return []
    ids = raw.split(",")
    if not raw or any(not i.strip() for i in ids) or len(ids) > MAX_CONTEXT_ITEMS:
        raise ApplicationError(
            "validation_error",
            f"'context_items' must be 1 to {MAX_CONTEXT_ITEMS} comma-separated item ids.",
            details=[{"field": "context_items", "message": "invalid"}],
        )
    return list(dict.fromkeys(ids))
