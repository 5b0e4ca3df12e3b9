"""The one declaration of every candidate source: its settings, how it is built and fitted, what
training stores for it, how serving reads it, its role and its explanation phrases.

A `SourceSpec` is pure data (no Django); the configuration schema, training, serving and the
explanations all read it from `SOURCE_SPECS`. Adding a source is one module with its engine class
and its `SPEC`, plus one `register(SPEC)` line in `recommender.engine.sources`.

What training stores and how serving reads are named by `artifact`, one of `ARTIFACTS`: the
services hold one storer and one reader per artifact kind, so a new source of a known kind needs
no service code at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from recommender.engine.profiles import Recency
from recommender.engine.sources.base import CandidateSource

# What training stores for a source, and so how serving reads its candidates:
# - "content_vectors": nothing (the encoder's item vectors); serving searches the content space
#   near the user's profile vector, and near the item's own vector for similar items.
# - "factors": user and item factors in a collaborative space, each user's top list beside them.
# - "neighbour_lists": one pruned neighbour list per item; a user's candidates come from their
#   history's lists (and name the history item that put them there), an item's from its own.
# - "ranking": one score per item; every user gets the same top.
# - "live": nothing; serving reads the catalogue as it is now (the newest items).
ARTIFACTS = ("content_vectors", "factors", "neighbour_lists", "ranking", "live")


@dataclass(frozen=True)
class Setting:
    """One setting an operator may configure: its type, bounds, default and meaning."""

    kind: type
    low: float
    high: float
    default: float
    help: str = ""

    def __post_init__(self) -> None:
        if self.kind not in (int, float):
            raise TypeError("a source setting is an int or a float")
        if not self.low <= self.default <= self.high:
            raise ValueError(f"default {self.default} lies outside [{self.low}, {self.high}]")


# Fusion's setting, common to every source: a source serves when its weight is above 0.
WEIGHT = Setting(float, 0.0, 100.0, 0.0, "share of this source in the fused list; 0 = off")


@dataclass(frozen=True)
class TrainingInputs:
    """What a source may need besides its settings when training builds it."""

    config: Mapping[str, Any]
    # (n_items, d) float32 aligned with the training items, zero rows where none; None before
    # encoding has run.
    content_vectors: npt.NDArray[np.float32] | None = None


def neighbour_count(inputs: TrainingInputs) -> dict[str, Any]:
    """Item-neighbour sources keep as many neighbours per item as the training section says,
    and seed a user's scores from their history as the profile section weighs it."""
    return {
        "top_n": int(inputs.config["training"]["neighbours"]),
        "recency": Recency.from_config(inputs.config),
    }


@dataclass(frozen=True)
class SourceSpec:
    """A candidate source, declared once.

    - `factory(**settings, **prepare(inputs))` builds the unfitted engine source; `prepare` adds
      what training supplies besides the settings (None: the source cannot run yet, e.g. no vectors,
      and `unavailable` says why).
    - `personal`: its candidates depend on the user's own history (a personal explanation, "Because
      you bought X", may name it); `similar_items`: it also answers /items/{id}/similar;
      `ranking`: every user gets the same list (also its own endpoint when `endpoint`).
    - `always_trained`: trained whatever its weight (its endpoint and the cold-user chain need it).
    - `user_phrase` / `item_phrase`: the sentence when this source explains an item in a user's
      list (`{where}` becomes " in <category>" under a category filter; `{window}` the span of
      days its `window_setting` configures, "7 days") / in an item's similar list (`{seed}`
      becomes the item's title); personal evidence ("Because you ...") wins over `user_phrase`
      when the source names a history item.
    """

    name: str
    factory: Callable[..., CandidateSource]
    artifact: str
    settings: Mapping[str, Setting] = field(default_factory=dict)
    default_weight: float = 0.0
    personal: bool = False
    similar_items: bool = False
    ranking: bool = False
    always_trained: bool = False
    user_phrase: str = "Recommended for you"
    item_phrase: str = "Recently added"
    window_setting: str | None = None
    prepare: Callable[[TrainingInputs], Mapping[str, Any] | None] = lambda inputs: {}
    unavailable: str = ""

    def __post_init__(self) -> None:
        if self.artifact not in ARTIFACTS:
            raise ValueError(f"source {self.name!r}: artifact must be one of {ARTIFACTS}")
        if "weight" in self.settings:
            raise ValueError(f"source {self.name!r}: 'weight' is common to all sources")
        if not WEIGHT.low <= self.default_weight <= WEIGHT.high:
            raise ValueError(f"source {self.name!r}: default weight out of range")

    def phrase(self, settings: Mapping[str, Any], where: str = "") -> str:
        """`user_phrase` with its placeholders filled from the source's `settings`."""
        text = self.user_phrase.replace("{where}", where)
        if self.window_setting is not None:
            days = settings.get(self.window_setting, self.settings[self.window_setting].default)
            text = text.replace("{window}", describe_days(float(days)))
        return text

    def defaults(self) -> dict[str, Any]:
        """The source's section of the default configuration."""
        values: dict[str, Any] = {"weight": self.default_weight}
        values.update({key: setting.default for key, setting in self.settings.items()})
        return values

    def build(self, settings: Mapping[str, Any], inputs: TrainingInputs) -> CandidateSource | None:
        """The unfitted engine source for configured `settings` (weight ignored), or None when it
        cannot run with these inputs."""
        prepared = self.prepare(inputs)
        if prepared is None:
            return None
        own = {key: value for key, value in settings.items() if key != "weight"}
        return self.factory(**own, **prepared)


SOURCE_SPECS: dict[str, SourceSpec] = {}


def register(spec: SourceSpec) -> SourceSpec:
    """Add a source; registration order is the order sources are trained, fused and listed."""
    if spec.name in SOURCE_SPECS:
        raise ValueError(f"a source named {spec.name!r} is registered already")
    if not spec.name.isidentifier():
        raise ValueError(f"source names are identifiers, not {spec.name!r}")
    SOURCE_SPECS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a source (tests that register a toy one clean up with this)."""
    SOURCE_SPECS.pop(name, None)


def source_names() -> tuple[str, ...]:
    return tuple(SOURCE_SPECS)


def spec(name: str) -> SourceSpec:
    return SOURCE_SPECS[name]


def enabled_sources(config: Mapping[str, Any]) -> list[str]:
    """The sources a configuration serves from: weight above 0, in registration order."""
    return [name for name in SOURCE_SPECS if float(config["sources"][name]["weight"]) > 0]


def trained_sources(config: Mapping[str, Any]) -> list[str]:
    """The enabled sources and those always trained, in registration order."""
    enabled = set(enabled_sources(config))
    return [name for name, s in SOURCE_SPECS.items() if name in enabled or s.always_trained]


def similar_item_sources(config: Mapping[str, Any]) -> list[str]:
    """The enabled sources that answer /items/{id}/similar."""
    return [name for name in enabled_sources(config) if SOURCE_SPECS[name].similar_items]


def describe_days(days: float) -> str:
    """A span of days as an explanation says it: "day", "7 days", "12 hours"."""
    if days < 1:
        hours = max(1, round(days * 24))
        return "hour" if hours == 1 else f"{hours} hours"
    whole = round(days, 1)
    if whole == 1:
        return "day"
    return f"{whole:g} days"
