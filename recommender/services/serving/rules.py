"""A request's business rules: the configuration's rules, overridden by query parameters.

Parameters every list endpoint takes (besides `count` and `explain`):
- filters: `category`, `exclude_category`, `attr.NAME` (syntax in `recommender.engine.filters`)
- `exclude_seen`: `all`, `none`, or interaction types (`purchase,cart`)
- `max_per_category`: 0 (no cap) to 100
- `diversity`: the MMR lambda, 0 (most diverse) to 1 (relevance only)
An unknown parameter, a malformed value or an attribute no item has is a 400 naming the field.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from recommender.candidate_store import unknown_attributes
from recommender.engine.filters import (
    FilterError,
    ItemFilter,
    is_filter_param,
    parse_filter,
    parse_filter_text,
)
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant

BASE_PARAMS = frozenset({"count", "explain"})
RULE_PARAMS = frozenset({"exclude_seen", "max_per_category", "diversity"})
# The ranges of the rule parameters; recommender/api/schemas.py documents them from these.
PER_CATEGORY_CAP_MAX = 100
DIVERSITY_MIN, DIVERSITY_MAX = 0.0, 1.0


@dataclass(frozen=True)
class Boost:
    when: ItemFilter
    factor: float


@dataclass(frozen=True)
class Rules:
    item_filter: ItemFilter = field(default_factory=ItemFilter)
    # None: every interaction type; () : nothing excluded.
    exclude_seen: tuple[str, ...] | None = None
    max_per_category: int = 0
    mmr_lambda: float = 1.0
    boosts: tuple[Boost, ...] = ()


def _invalid(field_name: str, message: str) -> ApplicationError:
    return ApplicationError(
        "validation_error",
        f"'{field_name}' {message}.",
        details=[{"field": field_name, "message": message}],
    )


def _exclude_seen(raw: Any, types: Mapping[str, Any]) -> tuple[str, ...] | None:
    if raw == "all":
        return None
    if raw in ("none", []):
        return ()
    names = raw if isinstance(raw, list) else [part.strip() for part in str(raw).split(",")]
    unknown = [name for name in names if name not in types]
    if unknown or not names:
        raise _invalid("exclude_seen", f"must be all, none or interaction types of {sorted(types)}")
    return tuple(names)


def _int_in(raw: str, name: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise _invalid(name, f"must be an integer from {low} to {high}") from None
    if not low <= value <= high:
        raise _invalid(name, f"must be an integer from {low} to {high}")
    return value


def _float_in(raw: str, name: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise _invalid(name, f"must be a number from {low:g} to {high:g}") from None
    if not low <= value <= high:  # also refuses nan
        raise _invalid(name, f"must be a number from {low:g} to {high:g}")
    return value


def configured_rules(config: Mapping[str, Any]) -> Rules:
    rules = config["rules"]
    return Rules(
        exclude_seen=_exclude_seen(rules["exclude_seen"], config["interactions"]["types"]),
        max_per_category=int(rules["max_per_category"]),
        mmr_lambda=float(rules["mmr_lambda"]),
        boosts=tuple(
            Boost(parse_filter_text(str(b["when"])), float(b["factor"])) for b in rules["boosts"]
        ),
    )


def parse_rules(
    *,
    tenant: Tenant,
    config: Mapping[str, Any],
    params: Iterable[tuple[str, str]],
    extra_params: frozenset[str] = frozenset(),
) -> Rules:
    """The request's rules from its query parameters (pairs, repeated keys kept)."""
    pairs = list(params)
    allowed = BASE_PARAMS | RULE_PARAMS | extra_params
    for key, _ in pairs:
        if key not in allowed and not is_filter_param(key):
            raise _invalid(key, "is not a known parameter")
    try:
        item_filter = parse_filter((k, v) for k, v in pairs if is_filter_param(k))
    except FilterError as exc:
        raise ApplicationError(
            "validation_error", f"Invalid filter: {exc}", details=exc.details
        ) from exc
    missing = unknown_attributes(tenant_id=tenant.pk, names=item_filter.attribute_names)
    if missing:
        raise ApplicationError(
            "validation_error",
            f"Unknown filter field 'attr.{missing[0]}': no item has that attribute.",
            details=[{"field": f"attr.{name}", "message": "unknown attribute"} for name in missing],
        )
    values = {k: v for k, v in pairs if k in RULE_PARAMS}
    base = configured_rules(config)
    return Rules(
        item_filter=item_filter,
        exclude_seen=(
            _exclude_seen(values["exclude_seen"], config["interactions"]["types"])
            if "exclude_seen" in values
            else base.exclude_seen
        ),
        max_per_category=(
            _int_in(values["max_per_category"], "max_per_category", 0, PER_CATEGORY_CAP_MAX)
            if "max_per_category" in values
            else base.max_per_category
        ),
        mmr_lambda=(
            _float_in(values["diversity"], "diversity", DIVERSITY_MIN, DIVERSITY_MAX)
            if "diversity" in values
            else base.mmr_lambda
        ),
        boosts=base.boosts,
    )
