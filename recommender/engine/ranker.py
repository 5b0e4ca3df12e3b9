"""The learned fusion: a second-stage ranker over the union of the sources' candidates.

Pure numpy + LightGBM (no Django). For one user, every candidate any source proposed becomes a
row of `feature_names(sources)` features, the same at training and at serving:

- per source s (in the ranker's fixed order): `s:score`, the source's score normalised to
  [0, 1] as weighted fusion normalises it (MISSING = -1 when s did not propose the item), and
  `s:rr`, the reciprocal of its rank within the source (0 when not proposed);
- `fused:score`, `fused:rr`, `fused:sources` (how many sources proposed it);
- item statistics at the time the ranker's sources were fitted (`ItemStats`): log1p of its
  event count, a no-events flag, log1p of its age and of the days since its last event;
- `user:category_match`, the share of the user's recent items sharing the candidate's first
  category; `user:category_last`, 1 when it is the first category of the user's newest item;
  `user:history` and `user:recency`, log1p of the history length and of the days since the
  user's last event;
- text similarity (cosine of content vectors, `ItemVectors`): `text:last` to the user's newest
  item, `text:max_recent` the largest to their `RECENT_TEXT_ITEMS` newest items, and
  `text:mean_recent` to the mean of those (a profile of the last items); MISSING when the
  candidate or the user's recent items have no vector (no encoder has run);
- item attributes (`engine.item_attributes`: the few keys most items carry a number or a short
  text for): a number's value and its gap to the mean over the user's recent items, a label's
  share among the user's recent items (NaN where unknown: any number is a value, and LightGBM
  reads NaN as missing).

Reciprocal ranks, not ranks, so a pool of 40 at serving and 50 at training mean the same thing.
The model is LightGBM's lambdarank (small trees), stored as its text model string, which names
its features (and so the attributes it reads).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm
import numpy as np
import numpy.typing as npt

from recommender.engine import item_attributes
from recommender.engine.data import SECONDS_PER_DAY, Events, ItemTable
from recommender.engine.fusion import Fused, normalise

MISSING = -1.0
# Days since an item's last event when it has none: far beyond any half-life.
NO_EVENT_DAYS = 3650.0
ITEM_FEATURES = ("item:events", "item:no_events", "item:age", "item:since_last")
USER_FEATURES = ("user:category_match", "user:category_last", "user:history", "user:recency")
FUSED_FEATURES = ("fused:score", "fused:rr", "fused:sources")
TEXT_FEATURES = ("text:last", "text:max_recent", "text:mean_recent")
# The newest items the text features compare a candidate with.
RECENT_TEXT_ITEMS = 5
DEFAULT_PARAMS: dict[str, Any] = {
    "num_leaves": 15,
    "learning_rate": 0.1,
    "n_estimators": 80,
    "min_data_in_leaf": 20,
}


def feature_names(sources: Sequence[str], attribute_keys: Sequence[str] = ()) -> list[str]:
    """The feature columns of a ranker over `sources` and these item attributes (specs of
    `item_attributes`, "number:price", "label:brand"), in order."""
    per_source = [f"{name}:{part}" for name in sources for part in ("score", "rr")]
    return [
        *per_source,
        *FUSED_FEATURES,
        *ITEM_FEATURES,
        *USER_FEATURES,
        *TEXT_FEATURES,
        *item_attributes.feature_names(attribute_keys),
    ]


class ItemVectors:
    """Unit content vectors by item id: at training the whole catalogue's, at serving those of
    one request's candidates and recent items. Zero rows (no vector) are left out."""

    def __init__(
        self, ids: Sequence[int] | npt.NDArray[np.int64], matrix: npt.NDArray[np.float32]
    ) -> None:
        norms = np.linalg.norm(matrix, axis=1) if len(matrix) else np.zeros(0)
        keep = norms > 0
        self.matrix = (matrix[keep] / norms[keep, None]).astype(np.float32)
        self._index = {int(i): n for n, i in enumerate(np.asarray(ids)[keep])}

    @classmethod
    def from_mapping(cls, vectors: Mapping[int, npt.NDArray[np.float32]]) -> ItemVectors:
        ids = list(vectors)
        if not ids:
            return cls([], np.zeros((0, 1), dtype=np.float32))
        return cls(ids, np.stack([np.asarray(vectors[i], dtype=np.float32) for i in ids]))

    def rows(
        self, item_ids: Sequence[int]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
        """(n, d) unit vectors of `item_ids` (zeros where none) and which have one."""
        pos = np.array([self._index.get(int(i), -1) for i in item_ids], dtype=np.int64)
        has = pos >= 0
        out = np.zeros((len(pos), self.matrix.shape[1]), dtype=np.float32)
        out[has] = self.matrix[pos[has]]
        return out, has


def text_columns(
    items: Sequence[int], recent_items: Sequence[int], vectors: ItemVectors | None
) -> list[npt.NDArray[np.float64]]:
    """The `TEXT_FEATURES` columns of candidates `items` for a user's `recent_items`."""
    n = len(items)
    missing = [np.full(n, MISSING) for _ in TEXT_FEATURES]
    if vectors is None or not n:
        return missing
    seen: list[int] = []
    for item in recent_items:  # newest first; a repeated item counts once
        if int(item) not in seen:
            seen.append(int(item))
    recent, has_recent = vectors.rows(seen)
    recent = recent[has_recent][:RECENT_TEXT_ITEMS]
    if not len(recent):
        return missing
    candidates, has = vectors.rows(items)
    cosines = (candidates @ recent.T).astype(np.float64)
    mean = recent.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    to_mean = (candidates @ (mean / norm)).astype(np.float64) if norm > 0 else np.zeros(n)
    return [
        np.where(has, column, MISSING) for column in (cosines[:, 0], cosines.max(axis=1), to_mean)
    ]


@dataclass(frozen=True)
class ItemStats:
    """Per item, as of `now` (unix s): ids int64 (n,), events float32 (n,) event count,
    last_event float64 (n,) unix s (NaN: none), created float64 (n,) unix s, category int32 (n,)
    code of the first category (-1: none), attributes float64 (n, len(attribute_keys)) per
    attribute spec the number or the label's code (NaN: none). Items not listed count as new:
    no events, age 0."""

    ids: npt.NDArray[np.int64]
    events: npt.NDArray[np.float32]
    last_event: npt.NDArray[np.float64]
    created: npt.NDArray[np.float64]
    category: npt.NDArray[np.int32]
    now: float
    attribute_keys: tuple[str, ...] = ()
    attributes: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    _index: dict[int, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({int(item): pos for pos, item in enumerate(self.ids)})

    @classmethod
    def build(
        cls,
        events: Events,
        items: ItemTable,
        now: float,
        attribute_keys: Sequence[str] | None = None,
    ) -> ItemStats:
        """Statistics of `items` from `events` (those before `now`); the attributes of
        `attribute_keys` (None: those `item_attributes.pick` picks for the catalog)."""
        index = {int(item): pos for pos, item in enumerate(items.ids)}
        past = events.select(events.timestamps < now) if len(events) else events
        cols = np.fromiter(
            (index.get(int(i), -1) for i in past.item_ids), dtype=np.int64, count=len(past)
        )
        known = cols >= 0
        counts = np.bincount(cols[known], minlength=len(items)).astype(np.float32)
        last = np.full(len(items), -np.inf)
        np.maximum.at(last, cols[known], past.timestamps[known])
        last[~np.isfinite(last)] = np.nan
        names: dict[str, int] = {}
        category = np.array(
            [names.setdefault(c[0], len(names)) if c else -1 for c in items.categories],
            dtype=np.int32,
        )
        attrs = items.attributes or tuple({} for _ in range(len(items)))
        if len(attrs) != len(items):
            raise ValueError(f"{len(attrs)} attribute mappings for {len(items)} items")
        keys = item_attributes.pick(attrs) if attribute_keys is None else tuple(attribute_keys)
        return cls(
            items.ids.astype(np.int64),
            counts,
            last,
            items.created,
            category,
            float(now),
            keys,
            item_attributes.attribute_matrix(attrs, keys),
        )

    def positions(self, item_ids: Sequence[int]) -> npt.NDArray[np.int64]:
        """Position of each id in the arrays (-1: unknown)."""
        return np.array([self._index.get(int(i), -1) for i in item_ids], dtype=np.int64)


@dataclass(frozen=True)
class UserContext:
    """A user's recent items, newest first, and the age in days of their newest event."""

    recent_items: Sequence[int]
    newest_age_days: float


def features(
    candidates: Mapping[str, Mapping[int, float]],
    fused: Sequence[Fused],
    sources: Sequence[str],
    stats: ItemStats,
    user: UserContext,
    now: float,
    vectors: ItemVectors | None = None,
) -> npt.NDArray[np.float32]:
    """(len(fused), len(feature_names(sources))) float32 rows, in `fused`'s order; `vectors`
    must hold the candidates' and the user's recent items' content vectors (None: none)."""
    n = len(fused)
    items = [entry.item for entry in fused]
    columns: list[npt.NDArray[np.float64]] = []
    for name in sources:
        proposed = candidates.get(name, {})
        finite = {i: s for i, s in proposed.items() if math.isfinite(s)}
        normed = normalise(finite)
        order = sorted(finite.items(), key=lambda pair: (-pair[1], pair[0]))
        rr = {item: 1.0 / rank for rank, (item, _) in enumerate(order, start=1)}
        columns.append(np.array([normed.get(i, MISSING) for i in items]))
        columns.append(np.array([rr.get(i, 0.0) for i in items]))
    columns.append(np.array([entry.score for entry in fused], dtype=np.float64))
    columns.append(1.0 / np.arange(1, n + 1, dtype=np.float64))
    columns.append(np.array([len(entry.contributions) for entry in fused], dtype=np.float64))

    pos = stats.positions(items)
    known = pos >= 0
    safe = np.where(known, pos, 0)
    counts = np.where(known, stats.events[safe], 0.0)
    last = np.where(known, stats.last_event[safe], np.nan)
    created = np.where(known, stats.created[safe], now)
    since_last = np.where(np.isnan(last), NO_EVENT_DAYS, (now - last) / SECONDS_PER_DAY)
    columns.append(np.log1p(counts))
    columns.append((counts == 0).astype(np.float64))
    columns.append(np.log1p(np.maximum(now - created, 0.0) / SECONDS_PER_DAY))
    columns.append(np.log1p(np.maximum(since_last, 0.0)))

    recent = stats.positions(user.recent_items)
    recent_categories = stats.category[recent[recent >= 0]]
    recent_categories = recent_categories[recent_categories >= 0]
    if len(recent_categories):
        shares = np.bincount(recent_categories) / len(user.recent_items)
        candidate_categories = np.where(known, stats.category[safe], -1)
        inside = (candidate_categories >= 0) & (candidate_categories < len(shares))
        match = np.where(inside, shares[np.clip(candidate_categories, 0, len(shares) - 1)], 0.0)
    else:
        match = np.zeros(n)
    columns.append(match)
    newest = stats.positions(list(user.recent_items[:1]))
    last_category = int(stats.category[newest[0]]) if len(newest) and newest[0] >= 0 else -1
    candidate_category = np.where(known, stats.category[safe], -1)
    columns.append(((candidate_category == last_category) & (last_category >= 0)).astype(float))
    columns.append(np.full(n, math.log1p(len(user.recent_items))))
    columns.append(np.full(n, math.log1p(max(user.newest_age_days, 0.0))))
    columns.extend(text_columns(items, user.recent_items, vectors))
    columns.extend(item_attributes.columns(stats.attributes, stats.attribute_keys, pos, recent))
    if not n:
        return np.zeros((0, len(columns)), dtype=np.float32)
    return np.stack(columns, axis=1).astype(np.float32)


@dataclass(frozen=True)
class Group:
    """One user's candidates in fused order: item ids, feature rows, and relevance labels."""

    items: list[int]
    x: npt.NDArray[np.float32]
    labels: npt.NDArray[np.float32]


class Ranker:
    """A fitted lambdarank model over `sources`' candidates."""

    def __init__(self, model: str, sources: Sequence[str], params: Mapping[str, Any]) -> None:
        self.model = model
        self.sources = list(sources)
        self.params = dict(params)
        self._booster = lightgbm.Booster(model_str=model)
        # A model trained before a feature was added reads the columns it knows, by name; the
        # attribute keys it reads are named there too.
        trained = list(self._booster.feature_name())
        self.attribute_keys = item_attributes.specs_of([n.replace("__", ":") for n in trained])
        layout = feature_names(self.sources, self.attribute_keys)
        names = [_lgb_name(name) for name in layout]
        unknown = sorted(set(trained) - set(names))
        if unknown:
            raise ValueError(f"the ranker reads features this code does not build: {unknown}")
        self._columns = [names.index(name) for name in trained]
        self.features = [layout[n] for n in self._columns]

    @property
    def uses_text(self) -> bool:
        """Whether the model reads the text features (serving then reads candidate vectors)."""
        return any(name in TEXT_FEATURES for name in self.features)

    def top_features(self, count: int = 8) -> dict[str, float]:
        """The `count` features the model gains most from, with their share of its total gain
        (what an operator reads to see what the ranker learned)."""
        gains = np.asarray(self._booster.feature_importance(importance_type="gain"), np.float64)
        total = float(gains.sum())
        if total <= 0:
            return {}
        order = np.argsort(-gains, kind="stable")[:count]
        return {self.features[n]: round(float(gains[n]) / total, 3) for n in order if gains[n] > 0}

    def scores(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """(n,) float64 for rows of all `feature_names(sources)` columns: higher ranks first
        (only order is meaningful)."""
        if not len(x):
            return np.zeros(0)
        return np.asarray(
            self._booster.predict(x[:, self._columns], num_threads=1), dtype=np.float64
        )

    def order(self, group: Group) -> list[int]:
        """The group's items, best first by the model (ties: fused order)."""
        values = self.scores(group.x)
        order = np.lexsort((np.arange(len(values)), -values))
        return [group.items[n] for n in order]


def _lgb_name(name: str) -> str:
    # LightGBM refuses ":" in feature names.
    return name.replace(":", "__")


def fit_ranker(
    groups: Sequence[Group],
    sources: Sequence[str],
    params: Mapping[str, Any] | None = None,
    attribute_keys: Sequence[str] = (),
) -> Ranker:
    """Lambdarank over `groups`; groups without a positive label teach nothing and are dropped.
    Raises ValueError when no group has one."""
    useful = [g for g in groups if len(g.items) and g.labels.max() > 0]
    if not useful:
        raise ValueError("no user has a relevant candidate to learn from")
    settings = {**DEFAULT_PARAMS, **(params or {})}
    dataset = lightgbm.Dataset(
        np.concatenate([g.x for g in useful]),
        label=np.concatenate([g.labels for g in useful]),
        group=[len(g.items) for g in useful],
        feature_name=[_lgb_name(name) for name in feature_names(sources, attribute_keys)],
        free_raw_data=True,
    )
    booster = lightgbm.train(
        {
            "objective": "lambdarank",
            "metric": "ndcg",
            "num_leaves": int(settings["num_leaves"]),
            "learning_rate": float(settings["learning_rate"]),
            "min_data_in_leaf": int(settings["min_data_in_leaf"]),
            "num_threads": 1,
            "deterministic": True,
            "force_row_wise": True,
            "seed": 0,
            "verbose": -1,
        },
        dataset,
        num_boost_round=int(settings["n_estimators"]),
    )
    return Ranker(booster.model_to_string(), sources, settings)
