"""Candidate sources, built by name from a tenant's configuration.

`make_source("als", {"weight": 1.0, "factors": 64})` ignores `weight` (fusion's business) and
refuses settings a source does not know. Inputs that are data rather than settings (the content
source's item vectors) are passed as keyword arguments: `make_source("content", settings,
item_vectors=...)`.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from recommender.engine.sources.als import ALSSource
from recommender.engine.sources.base import (
    NO_OPINION,
    CandidateSource,
    GlobalSource,
    ItemNeighbourSource,
    NotFittedError,
    top_k,
)
from recommender.engine.sources.content import ContentSource
from recommender.engine.sources.cooccurrence import CooccurrenceSource
from recommender.engine.sources.ease import EASESource, TooManyItems
from recommender.engine.sources.newest import NewestSource
from recommender.engine.sources.popularity import PopularSource, TrendingSource

SOURCES: dict[str, type[CandidateSource]] = {
    "content": ContentSource,
    "als": ALSSource,
    "ease": EASESource,
    "cooccurrence": CooccurrenceSource,
    "popular": PopularSource,
    "trending": TrendingSource,
    "newest": NewestSource,
}
SOURCE_NAMES: tuple[str, ...] = tuple(SOURCES)
# Keys of a configured source that belong to fusion, not to the source.
FUSION_KEYS = frozenset({"weight"})


class SourceSettingError(ValueError):
    """A source was configured with a setting (or name) it does not have."""


def make_source(name: str, settings: Mapping[str, Any], **inputs: Any) -> CandidateSource:
    """A new, unfitted source `name` with `settings` (minus `weight`) and data `inputs`."""
    if name not in SOURCES:
        raise SourceSettingError(f"unknown source {name!r}; use one of {list(SOURCE_NAMES)}")
    source_class = SOURCES[name]
    kwargs = {key: value for key, value in settings.items() if key not in FUSION_KEYS}
    accepted = set(inspect.signature(source_class.__init__).parameters) - {"self"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise SourceSettingError(
            f"source {name!r} has no setting {', '.join(unknown)}; it takes {sorted(accepted)}"
        )
    return source_class(**inputs, **kwargs)


__all__ = [
    "NO_OPINION",
    "SOURCES",
    "SOURCE_NAMES",
    "ALSSource",
    "CandidateSource",
    "ContentSource",
    "CooccurrenceSource",
    "EASESource",
    "GlobalSource",
    "ItemNeighbourSource",
    "NewestSource",
    "NotFittedError",
    "PopularSource",
    "SourceSettingError",
    "TooManyItems",
    "TrendingSource",
    "make_source",
    "top_k",
]
