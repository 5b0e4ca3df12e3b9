"""Candidate generation: each named source's top items for a user or an item, under the
request's filters and exclusions, read side by side by the reader of each source's kind
(`source_reads.READERS`, chosen by the source's registry entry)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from recommender import candidate_store
from recommender.engine.filters import ItemFilter
from recommender.engine.sources import SOURCE_SPECS
from recommender.services.serving.history import History
from recommender.services.serving.process_cache import ProcessCache
from recommender.services.serving.profiles import UserProfile
from recommender.services.serving.side_by_side import run_side_by_side
from recommender.services.serving.source_reads import (
    READERS,
    ItemAsk,
    SourceRead,
    SourceReader,
    UserAsk,
)
from recommender.services.serving.state import Serving
from tenants.models import Tenant

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


@dataclass
class Candidates:
    """Per source: item id → score; and per item the history item that put it there."""

    scores: dict[str, dict[int, float]] = field(default_factory=dict)
    because: dict[str, dict[int, int]] = field(default_factory=dict)
    profile: UserProfile | None = None

    def add(self, source: str, pairs: Sequence[tuple[int, float]]) -> None:
        if pairs:
            self.scores[source] = dict(pairs)

    def take(self, source: str, read: SourceRead) -> None:
        self.add(source, read.pairs)
        if read.because is not None:
            self.because[source] = read.because
        if read.profile is not None:
            self.profile = read.profile


def _gather(sources: Sequence[str], read: Callable[[SourceReader, str], SourceRead]) -> Candidates:
    """Each named source read by its kind's reader, side by side."""
    found = Candidates()

    def task(name: str) -> Callable[[], None]:
        reader = READERS[SOURCE_SPECS[name].artifact]
        return lambda: found.take(name, read(reader, name))

    run_side_by_side([task(name) for name in sources])
    return found


def user_candidates(
    *,
    serving: Serving,
    user_id: int | None,
    history: History,
    pool: int,
    item_filter: ItemFilter,
    sources: Sequence[str],
) -> Candidates:
    """Each named source's top `pool` items for the user."""
    ask = UserAsk(
        serving=serving,
        user_id=user_id,
        history=history,
        pool=pool,
        item_filter=item_filter,
        exact=narrow_filter(serving.tenant, item_filter),
    )
    return _gather(sources, lambda reader, name: reader.for_user(name, ask))


def item_candidates(
    *,
    serving: Serving,
    item_id: int,
    item_vector: npt.NDArray[np.float32] | None,
    pool: int,
    item_filter: ItemFilter,
    sources: Sequence[str],
) -> Candidates:
    """Items like one item, from each named source that answers similar items."""
    ask = ItemAsk(
        serving=serving,
        item_id=item_id,
        item_vector=item_vector,
        pool=pool,
        item_filter=item_filter,
        exact=narrow_filter(serving.tenant, item_filter),
    )
    return _gather(sources, lambda reader, name: reader.for_item(name, ask))
