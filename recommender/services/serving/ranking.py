"""The learned fusion at serving: a version's tuned weights and its second-stage ranker.

The ranker and its item statistics are read once per process per version (a few MB at 100,000
items); a version without one, or whose ranker did not beat weighted fusion, serves fused order.
"""

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from recommender import vectorstore
from recommender.engine.fusion import Fused
from recommender.engine.ranker import ItemStats, ItemVectors, Ranker, UserContext, features
from recommender.models import RankerModel
from recommender.services.serving.candidates import Candidates
from recommender.services.serving.history import History
from recommender.services.serving.process_cache import ProcessCache
from recommender.services.serving.state import Serving


@dataclass(frozen=True)
class LoadedRanker:
    ranker: Ranker
    stats: ItemStats


_rankers: ProcessCache[LoadedRanker | None] = ProcessCache(max_entries=64)


def _load(version_id: int) -> LoadedRanker | None:
    row = RankerModel.objects.filter(version_id=version_id).first()
    if row is None:
        return None
    last = np.asarray(row.item_last_event, dtype=np.float64)
    keys = tuple(row.attribute_keys)
    # Stored per attribute spec (null: none); the features read them per item.
    attributes = np.asarray(row.item_attributes, dtype=np.float64).reshape(
        len(keys), len(row.item_ids)
    )
    stats = ItemStats(
        ids=np.asarray(row.item_ids, dtype=np.int64),
        events=np.asarray(row.item_events, dtype=np.float32),
        last_event=np.where(last < 0, np.nan, last),
        created=np.asarray(row.item_created, dtype=np.float64),
        category=np.asarray(row.item_category, dtype=np.int32),
        now=row.stats_now,
        attribute_keys=keys,
        attributes=attributes.T.copy(),
    )
    return LoadedRanker(Ranker(row.model, row.sources, row.params), stats)


def version_ranker(serving: Serving) -> LoadedRanker | None:
    """The serving version's ranker, when training chose it over weighted fusion."""
    version = serving.version
    if version is None or not version.metrics.get("ranker", {}).get("used"):
        return None
    if serving.config["fusion"].get("ranker") == "off":
        return None
    return _rankers.get_or_compute(version.pk, lambda: _load(version.pk))


def user_weights(serving: Serving, sources: Sequence[str]) -> dict[str, float]:
    """Fusion weights of a user's list: the version's tuned weights while the configuration it
    was trained under serves, else the configured ones."""
    weights = {name: serving.weight(name) for name in sources}
    version = serving.version
    if version is None:
        return weights
    tuning = version.metrics.get("tuning", {})
    tuned = tuning.get("weights", {}).get("serving")
    if tuned and tuning.get("config_version") == serving.config_version:
        weights.update({name: float(tuned[name]) for name in sources if name in tuned})
    return weights


def fresh_share(serving: Serving) -> float:
    """The share of a list kept for fresh items. Under a cost bound (fusion.fresh_max_loss
    below 1), the share the version's tuning chose within it, while the configuration it was
    tuned under serves; none when it was not measured. Without a bound, the configured share."""
    fusion = serving.config["fusion"]
    configured = float(fusion.get("fresh_share", 0.0))
    if configured <= 0 or float(fusion.get("fresh_max_loss", 1.0)) >= 1.0:
        return configured
    version = serving.version
    tuning = version.metrics.get("tuning", {}) if version is not None else {}
    tuned = tuning.get("fresh", {}).get("chosen")
    if tuned is not None and tuning.get("config_version") == serving.config_version:
        return min(float(tuned), configured)
    return 0.0


def ranker_context(serving: Serving, history: History) -> UserContext:
    """The user as the ranker sees them: as training's `fusion_learning.recent_items`, the items
    of their positively weighted events, newest first; the age of their newest event of any
    type (as training's newest event)."""
    types = serving.config["interactions"]["types"]
    recent = history.reading.recent
    return UserContext(
        recent_items=[item for item, kind, _ in recent if float(types.get(kind, 0.0)) > 0],
        newest_age_days=min((age for _, _, age in recent), default=0.0),
    )


def serving_features(
    serving: Serving,
    loaded: LoadedRanker,
    candidates: Candidates,
    fused: list[Fused],
    history: History,
    now: float | None = None,
) -> npt.NDArray[np.float32]:
    """The ranker's feature rows of one request, as training builds them (`ranker.features`):
    the recent items' vectors come with the history, the candidates' in one more query, only
    when the model reads the text features. `now`: the clock (tests fix it)."""
    context = ranker_context(serving, history)
    content_space = serving.content_space
    vectors = None
    if loaded.ranker.uses_text and content_space is not None:
        wanted = [entry.item for entry in fused if entry.item not in history.reading.item_vectors]
        found = {**history.reading.item_vectors, **vectorstore.item_vectors(content_space, wanted)}
        vectors = ItemVectors.from_mapping(found)
    return features(
        candidates.scores,
        fused,
        loaded.ranker.sources,
        loaded.stats,
        context,
        time.time() if now is None else now,
        vectors,
    )


def rerank(
    serving: Serving,
    loaded: LoadedRanker,
    candidates: Candidates,
    fused: list[Fused],
    history: History,
) -> list[Fused]:
    """`fused` in the ranker's order; each score becomes the logistic of the ranker's (in
    (0, 1), so boosts and the padding floor keep their meaning)."""
    if len(fused) < 2:
        return fused
    x = serving_features(serving, loaded, candidates, fused, history)
    values = loaded.ranker.scores(x)
    order = np.lexsort((np.arange(len(values)), -values))
    return [replace(fused[n], score=1.0 / (1.0 + math.exp(-float(values[n])))) for n in order]
