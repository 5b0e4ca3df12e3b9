"""Candidate generation: each enabled source's top items for a user or an item, under the
request's filters and exclusions.

Every source answers from an index or a precomputed list: pgvector HNSW scans (content, ALS),
one neighbour row per history item (co-occurrence, EASE), a ranking walked from the top
(popular, trending), the creation-time index (newest). Nothing here reads the whole catalog.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db.models import Count
from django.utils import timezone

from recommender import candidate_store, vectorstore
from recommender.engine.filters import ItemFilter
from recommender.engine.profiles import decayed_weights
from recommender.engine.sources.als import fold_in_factor, mips_query
from recommender.models import (
    EmbeddingSpace,
    Interaction,
    ModelVersion,
    RecommenderConfig,
)
from recommender.selectors import unknown_user
from recommender.services.config import active_config, with_defaults
from recommender.services.serving.process_cache import ProcessCache
from recommender.services.serving.profiles import UserProfile, user_profile
from recommender.services.serving.side_by_side import run_side_by_side
from recommender.stores import user_reads
from tenants.models import Tenant

ITEM_TO_ITEM_SOURCES = ("cooccurrence", "ease")
# A filter passed by at most this many items is served by exact search over them. Above it, an
# HNSW iterative scan reading its hnsw.max_scan_tuples (4,000) expects to meet twice a 40-item
# pool of passing items in a 100,000-item catalog; below it, it may find too few. Exact search
# over 1,700 items took 30 ms at 100,000 items, so it is kept for the few (benchmarks/).
EXACT_FILTER_MAX = 2_000


# Whether a filter is narrow, per process for a few minutes: counting its items takes tens of
# milliseconds at 100,000 items, and the answer only picks the faster of two correct searches.
FILTER_SIZE_TTL_S = 300.0
_narrow_filters: ProcessCache[bool] = ProcessCache(max_entries=4_096, ttl_s=FILTER_SIZE_TTL_S)


def narrow_filter(tenant: Tenant, item_filter: ItemFilter) -> bool:
    """True when at most EXACT_FILTER_MAX servable items pass the filter."""
    if item_filter.is_empty:
        return False

    def count_is_narrow() -> bool:
        count = candidate_store.filtered_count(
            tenant_id=tenant.pk, item_filter=item_filter, cap=EXACT_FILTER_MAX
        )
        return count <= EXACT_FILTER_MAX

    return _narrow_filters.get_or_compute((tenant.pk, item_filter), count_is_narrow)


RANKING_SOURCES = ("popular", "trending")


@dataclass
class Serving:
    """What a request serves from: configuration, model version and spaces."""

    tenant: Tenant
    config: dict[str, Any]
    config_version: int | None
    version: ModelVersion | None
    content_space: EmbeddingSpace | None
    cf_space: EmbeddingSpace | None

    def weight(self, source: str) -> float:
        return float(self.config["sources"][source]["weight"])

    def trained(self, source: str) -> bool:
        return self.version is not None and source in self.version.sources


# Serving state by (tenant, config id, version id, space ids): every request reads the ids in one
# query, so a new configuration, version or space serves from the next request on, while the
# validated configuration and model rows are built once per process.
_servings: ProcessCache[Serving] = ProcessCache(max_entries=256)


def _build_serving(tenant: Tenant, state: candidate_store.ServingState) -> Serving:
    config_id, version_id, content_id, cf_id = state[:4]
    config_row = (
        RecommenderConfig.objects.for_tenant(tenant).filter(pk=config_id).first()
        if config_id
        else None
    )
    spaces = {
        s.pk: s
        for s in EmbeddingSpace.objects.for_tenant(tenant).filter(
            pk__in=[pk for pk in (content_id, cf_id) if pk]
        )
    }
    return Serving(
        tenant=tenant,
        config=active_config(tenant) if config_row is None else with_defaults(config_row.data),
        config_version=config_row.version if config_row else None,
        version=ModelVersion.objects.for_tenant(tenant).filter(pk=version_id).first()
        if version_id
        else None,
        content_space=spaces.get(content_id) if content_id else None,
        cf_space=spaces.get(cf_id) if cf_id else None,
    )


def _serving_in_state(
    tenant: Tenant, state: candidate_store.ServingState, config: dict[str, Any] | None
) -> Serving:
    key = (tenant.pk, *state[:4])
    serving = _servings.get_or_compute(key, lambda: _build_serving(tenant, state))
    serving = replace(serving, tenant=tenant)
    if config is not None:
        serving.config = config
    return serving


def serving_for(tenant: Tenant, config: dict[str, Any] | None = None) -> Serving:
    """What serves the tenant now; `config` replaces the active configuration (a draft preview)."""
    return _serving_in_state(tenant, candidate_store.serving_state(tenant.pk), config)


def serving_for_user(
    tenant: Tenant, user_external_id: str, config: dict[str, Any] | None = None
) -> tuple[Serving, int]:
    """serving_for, and the id of the tenant's user, in the same round trip. Another tenant's
    user is as unknown as a missing one (the lookup takes the tenant's id)."""
    state = candidate_store.serving_state(tenant.pk, user_external_id)
    if state.user_id is None:
        raise unknown_user(user_external_id)
    return _serving_in_state(tenant, state, config), state.user_id


@dataclass
class History:
    """A user's recent positive interactions, weighted as the profile weighs them."""

    # The events and vectors it was built from, read in one statement with the serving spaces.
    reading: user_reads.UserReading
    # item id → decayed, type-weighted sum; positive only
    weights: dict[int, float] = field(default_factory=dict)
    # item id → the type of the user's strongest interaction with it (for explanations)
    kinds: dict[int, str] = field(default_factory=dict)

    @property
    def excluded(self) -> set[int]:
        return self.reading.excluded

    @property
    def is_empty(self) -> bool:
        return not self.weights


def user_history(
    *, user_id: int, serving: Serving, exclude_types: tuple[str, ...] | None
) -> History:
    config = serving.config
    types = config["interactions"]["types"]
    reading = user_reads.read_user(
        user_id=user_id,
        recent=config["profile"]["max_events"],
        exclude_types=exclude_types,
        content_space=serving.content_space,
        cf_space=serving.cf_space,
        version_id=serving.version.pk if serving.version is not None else None,
        now=timezone.now(),
    )
    events = [event for event in reading.recent if event[1] in types]
    weights = decayed_weights(
        [float(types[kind]) for _, kind, _ in events],
        [age for _, _, age in events],
        float(config["interactions"]["half_life_days"]),
    )
    totals: dict[int, float] = defaultdict(float)
    strongest: dict[int, tuple[float, str]] = {}
    for (item, kind, _), weight in zip(events, weights, strict=True):
        totals[item] += float(weight)
        if weight > strongest.get(item, (0.0, ""))[0]:
            strongest[item] = (float(weight), kind)
    positive = {item: w for item, w in totals.items() if w > 0}
    return History(
        weights=positive,
        kinds={item: strongest[item][1] for item in positive if item in strongest},
        reading=reading,
    )


@dataclass
class Candidates:
    """Per source: item id → score; and per item the history item that put it there."""

    scores: dict[str, dict[int, float]] = field(default_factory=dict)
    because: dict[str, dict[int, int]] = field(default_factory=dict)
    profile: UserProfile | None = None

    def add(self, source: str, pairs: Sequence[tuple[int, float]]) -> None:
        if pairs:
            self.scores[source] = dict(pairs)


def _item_to_item(
    serving: Serving, source: str, seeds: dict[int, float], k: int, exclude: set[int]
) -> tuple[list[tuple[int, float]], dict[int, int]]:
    """Sum of seed weight x neighbour weight over the seeds' stored neighbour lists."""
    assert serving.version is not None
    lists = candidate_store.neighbour_lists(
        version_id=serving.version.pk, source=source, item_ids=list(seeds)
    )
    totals: dict[int, float] = defaultdict(float)
    best: dict[int, tuple[float, int]] = {}
    for seed, (ids, weights) in lists.items():
        seed_weight = seeds[seed]
        for neighbour, weight in zip(ids, weights, strict=True):
            if neighbour in exclude:
                continue
            contribution = seed_weight * weight
            totals[neighbour] += contribution
            if contribution > best.get(neighbour, (0.0, 0))[0]:
                best[neighbour] = (contribution, seed)
    top = sorted(totals.items(), key=lambda pair: (-pair[1], pair[0]))[:k]
    return top, {item: best[item][1] for item, _ in top}


def _folded_in_factor(serving: Serving, history: History) -> npt.NDArray[np.float32] | None:
    """An ALS factor for a user who arrived after training, from their history's item factors
    (read from pgvector) and the version's YᵀY: implicit's recalculate_user, per request."""
    if serving.cf_space is None or serving.version is None:
        return None
    info = serving.version.sources.get("als", {})
    if history.is_empty or "gram" not in info:
        return None
    factors = vectorstore.item_vectors(serving.cf_space, list(history.weights))
    if not factors:
        return None
    items = list(factors)
    settings = info["settings"]
    # The training matrix held decayed, type-weighted sums: the history's weights are the same.
    # Stored item factors carry the MIPS dimension last; the solve needs the factors alone.
    return fold_in_factor(
        np.stack([factors[i][:-1] for i in items]),
        np.array([history.weights[i] for i in items]),
        np.asarray(info["gram"]),
        float(settings["regularization"]),
        float(settings["alpha"]),
    )


def _neighbours(hits: list[vectorstore.Neighbour]) -> list[tuple[int, float]]:
    return [(n.item_id, n.similarity) for n in hits]


# The unfiltered top of each version's rankings, per process: a version's rankings never
# change, and most requests ask for the same top. Availability is left to the hydrate step.
RANKING_TOP_CACHED = 1_000
_ranking_tops: ProcessCache[list[tuple[int, float]]] = ProcessCache(max_entries=64)


def _ranking_top(version_id: int, ranking: str) -> list[tuple[int, float]]:
    return _ranking_tops.get_or_compute(
        (version_id, ranking),
        lambda: candidate_store.ranking_top(
            version_id=version_id, ranking=ranking, k=RANKING_TOP_CACHED
        ),
    )


def live_popular(
    tenant: Tenant, k: int, exclude: Sequence[int], item_filter: ItemFilter
) -> list[tuple[int, float]]:
    """Interaction counts, for a tenant with no trained version yet (small by definition)."""
    rows = (
        Interaction.objects.for_tenant(tenant)
        .filter(item__available=True)
        .exclude(item_id__in=exclude)
        .values("item_id")
        .annotate(n=Count("id"))
        .order_by("-n", "item_id")[: max(k * 4, 100)]
    )
    ids = [row["item_id"] for row in rows]
    servable = candidate_store.servable_items(
        tenant_id=tenant.pk, item_ids=ids, exclude_item_ids=exclude, item_filter=item_filter
    )
    return [(row["item_id"], float(row["n"])) for row in rows if row["item_id"] in servable][:k]


def ranking_candidates(
    serving: Serving,
    ranking: str,
    k: int,
    exclude: Sequence[int],
    item_filter: ItemFilter,
    *,
    from_cache: bool = False,
) -> list[tuple[int, float]]:
    """A ranking's (popular, trending, newest) top k servable items; `from_cache` may also
    return unavailable ones (for a candidate pool that is hydrated under the rules afterwards)."""
    if ranking == "newest":
        return candidate_store.newest_items(
            tenant_id=serving.tenant.pk, k=k, exclude_item_ids=exclude, item_filter=item_filter
        )
    if serving.trained(ranking):
        assert serving.version is not None
        if from_cache and item_filter.is_empty:
            top = _ranking_top(serving.version.pk, ranking)
            excluded = set(exclude)
            picked = [pair for pair in top if pair[0] not in excluded][:k]
            if len(picked) == k or len(top) < RANKING_TOP_CACHED:
                return picked
        return candidate_store.ranked_items(
            version_id=serving.version.pk,
            ranking=ranking,
            k=k,
            exclude_item_ids=exclude,
            item_filter=item_filter,
        )
    if ranking == "popular":
        return live_popular(serving.tenant, k, exclude, item_filter)
    return []


def user_candidates(
    *,
    serving: Serving,
    user_id: int,
    history: History,
    pool: int,
    item_filter: ItemFilter,
    sources: Sequence[str],
) -> Candidates:
    """Each named source's top `pool` items for the user."""
    exclude = sorted(history.excluded)
    excluded = history.excluded
    found = Candidates()
    exact = narrow_filter(serving.tenant, item_filter)

    def content() -> None:
        if serving.content_space is None:
            return
        profile = user_profile(
            user_id=user_id,
            space=serving.content_space,
            config=serving.config,
            reading=history.reading,
        )
        found.profile = profile
        if profile.vector is None:
            return
        found.add(
            "content",
            _neighbours(
                vectorstore.nearest_items(
                    serving.content_space,
                    profile.vector,
                    k=pool,
                    exclude_item_ids=exclude,
                    item_filter=item_filter,
                    exact=exact,
                )
            ),
        )

    def als() -> None:
        if serving.cf_space is None:
            return
        reading = history.reading
        if reading.als_items is not None and item_filter.is_empty:
            # The list stored at training: unavailable items drop out when the fused list is
            # hydrated, as the item-to-item sources' do.
            stored = [pair for pair in reading.als_items if pair[0] not in excluded][:pool]
            if len(stored) == pool:
                found.add("als", stored)
                return
        # Stored user factors carry the query's 0 already (see training._store_factors).
        factor = reading.factor
        if factor is None:
            folded = _folded_in_factor(serving, history)
            factor = mips_query(folded) if folded is not None else None
        if factor is None:
            return
        found.add(
            "als",
            _neighbours(
                vectorstore.nearest_items(
                    serving.cf_space,
                    factor,
                    k=pool,
                    exclude_item_ids=exclude,
                    item_filter=item_filter,
                    exact=exact,
                )
            ),
        )

    def item_to_item(source: str) -> Callable[[], None]:
        def gather() -> None:
            if not serving.trained(source) or history.is_empty:
                return
            # Unservable neighbours (unavailable, filtered out) are dropped when the fused list
            # is hydrated under the same rules; a wider pool leaves room for them.
            top, because = _item_to_item(serving, source, history.weights, pool * 2, excluded)
            found.add(source, top)
            found.because[source] = because

        return gather

    def ranked(source: str) -> Callable[[], None]:
        return lambda: found.add(
            source,
            ranking_candidates(serving, source, pool, exclude, item_filter, from_cache=True),
        )

    gatherers = {
        "content": content,
        "als": als,
        "cooccurrence": item_to_item("cooccurrence"),
        "ease": item_to_item("ease"),
        "popular": ranked("popular"),
        "trending": ranked("trending"),
        "newest": ranked("newest"),
    }
    run_side_by_side([gatherers[source] for source in sources])
    return found


def item_candidates(
    *,
    serving: Serving,
    item_id: int,
    item_vector: npt.NDArray[np.float32] | None,
    pool: int,
    item_filter: ItemFilter,
    sources: Sequence[str],
) -> Candidates:
    """Items like one item: content neighbours and the item-to-item lists."""
    found = Candidates()
    exclude = [item_id]
    exact = narrow_filter(serving.tenant, item_filter)
    tasks: list[Callable[[], None]] = []
    if "content" in sources and serving.content_space is not None and item_vector is not None:
        space = serving.content_space

        def content() -> None:
            found.add(
                "content",
                _neighbours(
                    vectorstore.nearest_items(
                        space,
                        item_vector,
                        k=pool,
                        exclude_item_ids=exclude,
                        item_filter=item_filter,
                        exact=exact,
                    )
                ),
            )

        tasks.append(content)

    def item_to_item(source: str) -> Callable[[], None]:
        def gather() -> None:
            top, _ = _item_to_item(serving, source, {item_id: 1.0}, pool * 3, set(exclude))
            servable = candidate_store.servable_items(
                tenant_id=serving.tenant.pk,
                item_ids=[item for item, _ in top],
                exclude_item_ids=exclude,
                item_filter=item_filter,
            )
            found.add(source, [(i, s) for i, s in top if i in servable][:pool])

        return gather

    tasks += [
        item_to_item(source)
        for source in ITEM_TO_ITEM_SOURCES
        if source in sources and serving.trained(source)
    ]
    run_side_by_side(tasks)
    return found
