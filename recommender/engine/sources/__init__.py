"""Candidate sources, declared once in the registry (`registry.SOURCE_SPECS`) and built by name
from a tenant's configuration.

`make_source("als", {"weight": 1.0, "factors": 64})` ignores `weight` (fusion's business) and
refuses settings a source does not know. Inputs that are data rather than settings (the content
source's item vectors) are passed as keyword arguments: `make_source("content", settings,
item_vectors=...)`.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from recommender.engine.sources import (
    als,
    content,
    cooccurrence,
    ease,
    newest,
    popularity,
    text_ease,
)
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
from recommender.engine.sources.registry import (
    SOURCE_SPECS,
    Setting,
    SourceSpec,
    TrainingInputs,
    enabled_sources,
    register,
    source_names,
    trained_sources,
)

# The registration order is the order sources are trained, fused and listed.
register(content.SPEC)
register(als.SPEC)
register(ease.SPEC)
register(text_ease.SPEC)
register(cooccurrence.SPEC)
register(popularity.POPULAR_SPEC)
register(popularity.TRENDING_SPEC)
register(newest.SPEC)


class SourceSettingError(ValueError):
    """A source was configured with a setting (or name) it does not have."""


def make_source(name: str, settings: Mapping[str, Any], **inputs: Any) -> CandidateSource:
    """A new, unfitted source `name` with `settings` (minus `weight`) and data `inputs`."""
    if name not in SOURCE_SPECS:
        raise SourceSettingError(f"unknown source {name!r}; use one of {list(source_names())}")
    factory = SOURCE_SPECS[name].factory
    kwargs = {key: value for key, value in settings.items() if key != "weight"}
    accepted = set(inspect.signature(factory).parameters)
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise SourceSettingError(
            f"source {name!r} has no setting {', '.join(unknown)}; it takes {sorted(accepted)}"
        )
    return factory(**inputs, **kwargs)


__all__ = [
    "NO_OPINION",
    "SOURCE_SPECS",
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
    "Setting",
    "SourceSettingError",
    "SourceSpec",
    "TooManyItems",
    "TrainingInputs",
    "TrendingSource",
    "enabled_sources",
    "make_source",
    "register",
    "source_names",
    "top_k",
    "trained_sources",
]
