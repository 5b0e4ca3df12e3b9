"""How serving reads each kind of source (a source's `artifact` in its registry entry): one
reader per artifact kind answers a user's candidates and, where the kind can, an item's.

Every reader answers from an index or a precomputed list: pgvector HNSW scans (content vectors,
factors), one neighbour row per history item (neighbour lists), a ranking walked from the top,
the creation-time index (live: newest). Nothing here reads the whole catalog.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from django.db.models import Count

from recommender import candidate_store, vectorstore
from recommender.engine.filters import ItemFilter
from recommender.engine.sources import SOURCE_SPECS
from recommender.engine.sources.als import fold_in_factor, mips_query
from recommender.models import Interaction
from recommender.services.serving.history import History
from recommender.services.serving.process_cache import ProcessCache
from recommender.services.serving.profiles import UserProfile, user_profile
from recommender.services.serving.state import Serving
from tenants.models import Tenant

Pairs = list[tuple[int, float]]


@dataclass
class SourceRead:
    """One source's candidates: (item id, score) best first; for neighbour lists the history
    item that put each there; for the content source the profile it searched with."""

    pairs: Pairs = field(default_factory=list)
    because: dict[int, int] | None = None
    profile: UserProfile | None = None


@dataclass(frozen=True)
class UserAsk:
    """What a reader gets for one user's candidates."""

    serving: Serving
    user_id: int | None  # None: a visitor never seen (no profile to read)
    history: History
    pool: int
    item_filter: ItemFilter
    # Exact search instead of the index: the filter is passed by few items.
    exact: bool


@dataclass(frozen=True)
class ItemAsk:
    """What a reader gets for one item's similar items."""

    serving: Serving
    item_id: int
    item_vector: npt.NDArray[np.float32] | None
    pool: int
    item_filter: ItemFilter
    exact: bool


def _neighbours(hits: list[vectorstore.Neighbour]) -> list[tuple[int, float]]:
    return [(n.item_id, n.similarity) for n in hits]


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


def seeded_neighbours(
    serving: Serving, source: str, seeds: dict[int, float], k: int, exclude: set[int]
) -> tuple[list[tuple[int, float]], dict[int, int]]:
    """A source's neighbours of weighted seed items (a session's context): the top `k` and the
    seed that contributed most to each; nothing when the version did not train the source."""
    if not serving.trained(source):
        return [], {}
    return _item_to_item(serving, source, seeds, k, exclude)


def _folded_in_factor(
    serving: Serving, name: str, history: History
) -> npt.NDArray[np.float32] | None:
    """An ALS factor for a user who arrived after training, from their history's item factors
    (read from pgvector) and the version's YᵀY: implicit's recalculate_user, per request."""
    if serving.cf_space is None or serving.version is None:
        return None
    info = serving.version.sources.get(name, {})
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
    return unavailable ones (for a candidate pool that is hydrated under the rules afterwards).
    A live source (newest) reads the catalogue; an untrained popular counts interactions."""
    if SOURCE_SPECS[ranking].artifact == "live":
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
    # Before the first training, popular is counted live (small by definition).
    if ranking == "popular":
        return live_popular(serving.tenant, k, exclude, item_filter)
    return []


class SourceReader:
    """Reads one kind of source for a user; kinds that answer similar items read for an item."""

    serves_items = False

    def for_user(self, name: str, ask: UserAsk) -> SourceRead:
        raise NotImplementedError

    def for_item(self, name: str, ask: ItemAsk) -> SourceRead:
        raise NotImplementedError(f"{type(self).__name__} sources have no similar items")


class ContentVectors(SourceReader):
    """The user's profile vector (or an item's own vector) searched in the content space."""

    serves_items = True

    def for_user(self, name: str, ask: UserAsk) -> SourceRead:
        serving = ask.serving
        if serving.content_space is None or ask.user_id is None:
            return SourceRead()
        profile = user_profile(
            user_id=ask.user_id,
            space=serving.content_space,
            config=serving.config,
            reading=ask.history.reading,
        )
        if profile.vector is None:
            return SourceRead(profile=profile)
        hits = vectorstore.nearest_items(
            serving.content_space,
            profile.vector,
            k=ask.pool,
            exclude_item_ids=sorted(ask.history.excluded),
            item_filter=ask.item_filter,
            exact=ask.exact,
        )
        return SourceRead(pairs=_neighbours(hits), profile=profile)

    def for_item(self, name: str, ask: ItemAsk) -> SourceRead:
        space = ask.serving.content_space
        if space is None or ask.item_vector is None:
            return SourceRead()
        hits = vectorstore.nearest_items(
            space,
            ask.item_vector,
            k=ask.pool,
            exclude_item_ids=[ask.item_id],
            item_filter=ask.item_filter,
            exact=ask.exact,
        )
        return SourceRead(pairs=_neighbours(hits))


class Factors(SourceReader):
    """The user's stored top list, else their factor (stored or folded in) searched in the
    collaborative space."""

    def for_user(self, name: str, ask: UserAsk) -> SourceRead:
        serving, history = ask.serving, ask.history
        if serving.cf_space is None:
            return SourceRead()
        reading = history.reading
        excluded = history.excluded
        if reading.als_items is not None and ask.item_filter.is_empty:
            # The list stored at training: unavailable items drop out when the fused list is
            # hydrated, as the item-to-item sources' do.
            stored = [pair for pair in reading.als_items if pair[0] not in excluded][: ask.pool]
            if len(stored) == ask.pool:
                return SourceRead(pairs=stored)
        # Stored user factors carry the query's 0 already (see training.artifacts).
        factor = reading.factor
        if factor is None:
            folded = _folded_in_factor(serving, name, history)
            factor = mips_query(folded) if folded is not None else None
        if factor is None:
            return SourceRead()
        hits = vectorstore.nearest_items(
            serving.cf_space,
            factor,
            k=ask.pool,
            exclude_item_ids=sorted(excluded),
            item_filter=ask.item_filter,
            exact=ask.exact,
        )
        return SourceRead(pairs=_neighbours(hits))


class NeighbourLists(SourceReader):
    """The stored neighbour lists of the user's newest history items, weighted by recency
    (`History.seeds`), or of the item itself."""

    serves_items = True

    def for_user(self, name: str, ask: UserAsk) -> SourceRead:
        if not ask.serving.trained(name) or ask.history.is_empty:
            return SourceRead()
        # Unservable neighbours (unavailable, filtered out) are dropped when the fused list
        # is hydrated under the same rules; a wider pool leaves room for them.
        top, because = _item_to_item(
            ask.serving, name, ask.history.seeds, ask.pool * 2, ask.history.excluded
        )
        return SourceRead(pairs=top, because=because)

    def for_item(self, name: str, ask: ItemAsk) -> SourceRead:
        if not ask.serving.trained(name):
            return SourceRead()
        exclude = [ask.item_id]
        top, _ = _item_to_item(ask.serving, name, {ask.item_id: 1.0}, ask.pool * 3, set(exclude))
        servable = candidate_store.servable_items(
            tenant_id=ask.serving.tenant.pk,
            item_ids=[item for item, _ in top],
            exclude_item_ids=exclude,
            item_filter=ask.item_filter,
        )
        return SourceRead(pairs=[(i, s) for i, s in top if i in servable][: ask.pool])


class Ranking(SourceReader):
    """The same top for every user: a trained ranking, or the catalogue itself (live)."""

    def for_user(self, name: str, ask: UserAsk) -> SourceRead:
        pairs = ranking_candidates(
            ask.serving,
            name,
            ask.pool,
            sorted(ask.history.excluded),
            ask.item_filter,
            from_cache=True,
        )
        return SourceRead(pairs=pairs)


READERS: dict[str, SourceReader] = {
    "content_vectors": ContentVectors(),
    "factors": Factors(),
    "neighbour_lists": NeighbourLists(),
    "ranking": Ranking(),
    "live": Ranking(),
}
