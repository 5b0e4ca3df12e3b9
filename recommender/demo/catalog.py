"""Deterministic demo catalogue, users and interactions for the demo tenant.

Everything is built from a small text grammar: each department and sub-category supplies
pools of options (brands, product types, features, ...) and templates pick from them, so a
few hundred hand-written phrases yield thousands of distinct, plausible products. The phrases,
departments and profile clauses are data, in `phrases.json` next to this module; this module
holds the grammar and the generators.
"""

from __future__ import annotations

import datetime
import itertools
import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

Pools = dict[str, tuple[str, ...]]

DEFAULT_NOW = datetime.datetime(2026, 11, 28, 12, 0, 0, tzinfo=datetime.UTC)
HISTORY_DAYS = 90
FAVOURITE_SHARE = 0.85
EVENT_TYPES = ("view", "click", "cart", "purchase", "like", "rating")


@dataclass(frozen=True)
class _Sub:
    """A sub-category: price band plus the pools that override its department's."""

    slug: str
    price: tuple[float, float]
    pools: Pools
    attrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Department:
    """A top-level department of the demo shop."""

    slug: str
    kind: str
    interests: tuple[str, ...]
    related: tuple[str, ...]
    share: float
    appeal: float
    pools: Pools
    subs: tuple[_Sub, ...]


def _pools(raw: Mapping[str, list[str]]) -> Pools:
    """Option lists as read from JSON, as tuples."""
    return {slot: tuple(options) for slot, options in raw.items()}


def _department(raw: Mapping[str, Any]) -> _Department:
    return _Department(
        slug=raw["slug"],
        kind=raw["kind"],
        interests=tuple(raw["interests"]),
        related=tuple(raw["related"]),
        share=raw["share"],
        appeal=raw["appeal"],
        pools=_pools(raw["pools"]),
        subs=tuple(
            _Sub(
                slug=sub["slug"],
                price=(sub["price"][0], sub["price"][1]),
                pools=_pools(sub["pools"]),
                attrs=tuple(sub.get("attrs", ())),
            )
            for sub in raw["subs"]
        ),
    )


# Order matters everywhere below (departments, pools, options): the generators draw from them
# by position, so the same seed gives the same data only while the file keeps its order.
_PHRASES: dict[str, Any] = json.loads(
    resources.files(__package__).joinpath("phrases.json").read_text(encoding="utf-8")
)
_KIND_POOLS: dict[str, Pools] = {
    kind: _pools(pools) for kind, pools in _PHRASES["kind_pools"].items()
}
_DEPARTMENTS: tuple[_Department, ...] = tuple(_department(d) for d in _PHRASES["departments"])
_PROFILE_CLAUSES: dict[str, tuple[str, ...]] = _pools(_PHRASES["profile_clauses"])
_PROFILE_CLOSERS: tuple[str, ...] = tuple(_PHRASES["profile_closers"])

# Attributes every item of a kind exports, when its pools define the slot.
_KIND_ATTRS: dict[str, tuple[str, ...]] = {
    "goods": ("color", "material"),
    "consumable": (),
    "book": ("author", "format", "pages"),
}

_DEPARTMENT_BY_SLUG: dict[str, _Department] = {dept.slug: dept for dept in _DEPARTMENTS}
_DEPARTMENT_BY_INTEREST: dict[str, str] = {
    interest: dept.slug for dept in _DEPARTMENTS for interest in dept.interests
}

_AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_AGE_WEIGHTS = (14, 30, 24, 16, 10, 6)

# Evening-heavy shopping pattern, indexed by hour of day (UTC).
_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 7, 8, 7, 6, 6, 7, 8, 10, 12, 12, 10, 6, 3)


class _Grammar(dict[str, str]):
    """Expands ``{slot}`` templates, fixing each slot's choice once per item."""

    def __init__(self, pools: Mapping[str, Sequence[str]], rng: random.Random) -> None:
        super().__init__()
        self._pools = pools
        self._rng = rng

    def __missing__(self, key: str) -> str:
        if key.endswith("_cap"):
            text = self[key.removesuffix("_cap")]
            value = text[:1].upper() + text[1:]
        elif key.endswith("_lower"):
            value = self[key.removesuffix("_lower")].lower()
        elif self._pools.get(key):
            value = self._rng.choice(self._pools[key]).format_map(self)
        elif key[-1:].isdigit() and self._pools.get(key[:-1]):
            # Numbered slots ("feature2") must differ from their already chosen siblings.
            base = key[:-1]
            taken = {self.get(base), *(self.get(f"{base}{n}") for n in range(2, 10))}
            options = [opt for opt in self._pools[base] if opt not in taken]
            value = self._rng.choice(options or self._pools[base]).format_map(self)
        else:
            raise KeyError(key)
        self[key] = value
        return value


def _merged_pools(dept: _Department, sub: _Sub) -> Pools:
    """Combine kind defaults, department and sub-category pools (most specific wins)."""
    pools: Pools = {"interest": dept.interests}
    pools.update(_KIND_POOLS[dept.kind])
    pools.update(dept.pools)
    pools.update(sub.pools)
    return pools


def _price(rng: random.Random, low: float, high: float) -> float:
    """Draw a log-uniform price and snap it to a shop-like price point."""
    raw = math.exp(rng.uniform(math.log(low), math.log(high)))
    if raw < 50:
        return round(math.floor(raw) + 0.99, 2)
    if raw < 1000:
        return float(math.floor(raw / 10) * 10 + 9)
    return float(math.floor(raw / 50) * 50 + 49)


def _attribute(value: str) -> object:
    return int(value) if value.isdigit() else value


def _build_item(
    rng: random.Random, dept: _Department, sub: _Sub, pools: Pools
) -> dict[str, object]:
    grammar = _Grammar(pools, rng)
    title = grammar["title"]
    description = grammar["description"]
    attributes: dict[str, object] = {
        "brand": grammar["brand"],
        "price": _price(rng, *sub.price),
    }
    for slot in (*_KIND_ATTRS[dept.kind], *sub.attrs):
        if pools.get(slot):
            attributes[slot] = _attribute(grammar[slot])
    return {
        "title": title,
        "description": description,
        "categories": [dept.slug, sub.slug],
        "attributes": attributes,
    }


def generate_items(count: int = 2400, *, seed: int = 7) -> list[dict[str, object]]:
    """Generate ``count`` catalogue items spread over all demo departments."""
    rng = random.Random(f"demo-items:{seed}")
    cum_shares = list(itertools.accumulate(dept.share for dept in _DEPARTMENTS))
    pools_by_sub = {
        (dept.slug, sub.slug): _merged_pools(dept, sub)
        for dept in _DEPARTMENTS
        for sub in dept.subs
    }
    seen_titles: set[str] = set()
    items: list[dict[str, object]] = []
    for index in range(1, count + 1):
        dept = rng.choices(_DEPARTMENTS, cum_weights=cum_shares)[0]
        sub = rng.choice(dept.subs)
        pools = pools_by_sub[(dept.slug, sub.slug)]
        item = _build_item(rng, dept, sub, pools)
        for _ in range(30):
            if item["title"] not in seen_titles:
                break
            item = _build_item(rng, dept, sub, pools)
        else:
            # The sub-category's combinations are exhausted: mark it as a distinct edition.
            item["title"] = f"{item['title']} (Edition {index})"
        seen_titles.add(str(item["title"]))
        items.append(
            {
                "id": f"sku-{index:05d}",
                **item,
                "available": rng.random() >= 0.03,
            }
        )
    return items


def _pick_weighted_distinct(
    rng: random.Random, options: Sequence[str], weights: Sequence[float], k: int
) -> list[str]:
    chosen: list[str] = []
    candidates = list(zip(options, weights, strict=True))
    for _ in range(min(k, len(candidates))):
        pick = rng.choices(candidates, weights=[w for _, w in candidates])[0]
        chosen.append(pick[0])
        candidates.remove(pick)
    return chosen


def _favourite_departments(rng: random.Random) -> list[str]:
    count = rng.choices((1, 2, 3), weights=(35, 45, 20))[0]
    slugs = [dept.slug for dept in _DEPARTMENTS]
    first = _pick_weighted_distinct(rng, slugs, [dept.appeal for dept in _DEPARTMENTS], 1)[0]
    favourites = [first]
    while len(favourites) < count:
        # Real shoppers cluster (runners buy watches), so lean towards related departments.
        related = [s for s in _DEPARTMENT_BY_SLUG[first].related if s not in favourites]
        if related and rng.random() < 0.6:
            favourites.append(rng.choice(related))
            continue
        rest = [d for d in _DEPARTMENTS if d.slug not in favourites]
        favourites.extend(
            _pick_weighted_distinct(rng, [d.slug for d in rest], [d.appeal for d in rest], 1)
        )
    return favourites


def _profile_text(rng: random.Random, interests: Sequence[str]) -> str:
    clauses = [rng.choice(_PROFILE_CLAUSES[interest]) for interest in interests[:3]]
    sentences: list[str] = []
    while clauses:
        if len(clauses) >= 2 and rng.random() < 0.5:
            text = f"{clauses[0]} and {clauses[1]}"
            clauses = clauses[2:]
        else:
            text = clauses[0]
            clauses = clauses[1:]
        sentences.append(f"{text[:1].upper()}{text[1:]}.")
    if rng.random() < 0.6:
        sentences.append(rng.choice(_PROFILE_CLOSERS))
    return " ".join(sentences)


def generate_users(count: int = 400, *, seed: int = 7) -> list[dict[str, object]]:
    """Generate ``count`` users whose interests reflect 1-3 favourite departments."""
    rng = random.Random(f"demo-users:{seed}")
    users: list[dict[str, object]] = []
    for index in range(1, count + 1):
        interests: list[str] = []
        for slug in _favourite_departments(rng):
            tags = _DEPARTMENT_BY_SLUG[slug].interests
            interests.extend(tags if rng.random() < 0.3 else [rng.choice(tags)])
        user: dict[str, object] = {
            "id": f"u-{index:04d}",
            "attributes": {
                "age_band": rng.choices(_AGE_BANDS, weights=_AGE_WEIGHTS)[0],
                "interests": interests,
            },
        }
        if rng.random() < 0.5:
            user["profile_text"] = _profile_text(rng, interests)
        users.append(user)
    return users


def _as_utc(now: datetime.datetime | None) -> datetime.datetime:
    if now is None:
        return DEFAULT_NOW
    if now.tzinfo is None:
        return now.replace(tzinfo=datetime.UTC)
    return now.astimezone(datetime.UTC)


def _format_ts(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _session_start(rng: random.Random, now: datetime.datetime) -> datetime.datetime:
    """Pick a moment in the history window, favouring evening hours."""
    window_start = now - datetime.timedelta(days=HISTORY_DAYS)
    day = (now - datetime.timedelta(days=rng.randrange(HISTORY_DAYS + 1))).replace(
        hour=rng.choices(range(24), weights=_HOUR_WEIGHTS)[0],
        minute=rng.randrange(60),
        second=rng.randrange(60),
        microsecond=0,
    )
    if window_start < day < now:
        return day
    return now - datetime.timedelta(seconds=rng.randrange(1, HISTORY_DAYS * 86400))


def _user_departments(
    rng: random.Random, user: Mapping[str, object], departments: Sequence[str]
) -> list[str]:
    attributes = user.get("attributes")
    interests = attributes.get("interests", []) if isinstance(attributes, Mapping) else []
    favourites: list[str] = []
    for interest in interests if isinstance(interests, list) else []:
        slug = _DEPARTMENT_BY_INTEREST.get(str(interest))
        if slug is not None and slug in departments and slug not in favourites:
            favourites.append(slug)
    if not favourites:
        favourites = rng.sample(list(departments), k=min(2, len(departments)))
    return favourites


def generate_interactions(
    items: list[dict[str, object]],
    users: list[dict[str, object]],
    *,
    per_user_mean: int = 40,
    seed: int = 7,
    now: datetime.datetime | None = None,
) -> list[dict[str, object]]:
    """Generate funnel-shaped events concentrated in each user's favourite departments."""
    rng = random.Random(f"demo-interactions:{seed}")
    now = _as_utc(now)
    by_department: dict[str, list[dict[str, object]]] = {}
    for item in items:
        categories = item.get("categories")
        slug = str(categories[0]) if isinstance(categories, list) and categories else "other"
        by_department.setdefault(slug, []).append(item)
    if not by_department or not users:
        return []

    # Zipf-like popularity inside each department, over a seeded random ranking.
    popularity: dict[str, tuple[list[dict[str, object]], list[float]]] = {}
    quality: dict[str, float] = {}
    for slug, dept_items in by_department.items():
        ranked = list(dept_items)
        rng.shuffle(ranked)
        weights = [
            (0.3 if item.get("available") is False else 1.0) / (rank + 1) ** 1.05
            for rank, item in enumerate(ranked)
        ]
        popularity[slug] = (ranked, list(itertools.accumulate(weights)))
        for item in ranked:
            quality[str(item["id"])] = rng.betavariate(4, 2)
    departments = list(by_department)

    sigma = 0.6
    mu = math.log(max(per_user_mean, 1)) - sigma**2 / 2
    raw_events: list[tuple[datetime.datetime, str, str, str, float]] = []
    for user in users:
        user_id = str(user["id"])
        favourites = _user_departments(rng, user, departments)
        fav_weights = list(itertools.accumulate([0.55, 0.3, 0.15][: len(favourites)]))
        if len(favourites) > 3:
            fav_weights = list(itertools.accumulate([1.0] * len(favourites)))
        others = [slug for slug in departments if slug not in favourites]
        related = [
            slug
            for fav in favourites
            if fav in _DEPARTMENT_BY_SLUG
            for slug in _DEPARTMENT_BY_SLUG[fav].related
            if slug in others
        ]
        target = max(5, round(rng.lognormvariate(mu, sigma)))
        emitted = 0
        while emitted < target:
            if not others or rng.random() < FAVOURITE_SHARE:
                slug = rng.choices(favourites, cum_weights=fav_weights)[0]
            elif related and rng.random() < 0.5:
                slug = rng.choice(related)
            else:
                slug = rng.choice(others)
            ranked, cum_weights = popularity[slug]
            item = rng.choices(ranked, cum_weights=cum_weights)[0]
            item_id = str(item["id"])
            in_stock = item.get("available") is not False
            moment = _session_start(rng, now)
            funnel: list[tuple[str, float]] = [("view", 1.0)]
            if rng.random() < 0.08:
                funnel.append(("like", 1.0))
            if rng.random() < 0.32:
                funnel.append(("click", 1.0))
                if in_stock and rng.random() < 0.35:
                    funnel.append(("cart", 1.0))
                    if rng.random() < 0.55:
                        funnel.append(("purchase", 1.0))
                        if rng.random() < 0.4:
                            score = 1.2 + 3.6 * quality[item_id] + rng.gauss(0, 0.7)
                            funnel.append(("rating", float(min(5, max(1, round(score))))))
            for event_type, value in funnel:
                if event_type == "rating":
                    step = datetime.timedelta(hours=rng.uniform(24, 240))
                elif event_type in ("cart", "purchase"):
                    step = datetime.timedelta(seconds=rng.randint(30, 1800))
                else:
                    step = datetime.timedelta(seconds=rng.randint(3, 120))
                if event_type != "view":
                    moment += step
                if moment >= now:
                    # The rest of this funnel has not happened yet.
                    break
                raw_events.append((moment, user_id, item_id, event_type, value))
                emitted += 1

    raw_events.sort(key=lambda event: (event[0], event[1], EVENT_TYPES.index(event[3])))
    return [
        {
            "user": user_id,
            "item": item_id,
            "type": event_type,
            "value": value,
            "timestamp": _format_ts(moment),
            "event_id": f"demo-e-{index:06d}",
        }
        for index, (moment, user_id, item_id, event_type, value) in enumerate(raw_events, 1)
    ]
