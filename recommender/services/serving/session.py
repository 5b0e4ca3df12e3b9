"""Session-based candidates: what a visitor looks at now (`context_items`) seeds the
item-to-item sources and a content query, as /items/{id}/similar does for one item."""

from collections.abc import Mapping

import numpy as np

from recommender import vectorstore
from recommender.engine.filters import ItemFilter
from recommender.engine.sources import SOURCE_SPECS
from recommender.engine.sources.registry import similar_item_sources
from recommender.services.serving.candidates import Candidates
from recommender.services.serving.source_reads import seeded_neighbours
from recommender.services.serving.state import Serving


def context_seeds(item_ids: list[int]) -> dict[int, float]:
    """Seed weights by position: the first context item (what is on screen) weighs most."""
    return {item: 1.0 / (position + 1) for position, item in enumerate(item_ids)}


def session_candidates(
    *,
    serving: Serving,
    seeds: Mapping[int, float],
    exclude: set[int],
    pool: int,
    item_filter: ItemFilter,
) -> Candidates:
    """Each enabled similar-items source's top `pool` items for the seeds: neighbour lists
    summed over the seeds, and the content neighbours of the seeds' weighted mean vector."""
    found = Candidates()
    skip = exclude | set(seeds)
    for name in similar_item_sources(serving.config):
        artifact = SOURCE_SPECS[name].artifact
        if artifact == "neighbour_lists":
            top, because = seeded_neighbours(serving, name, dict(seeds), pool * 2, skip)
            found.add(name, top)
            if because:
                found.because[name] = because
        elif artifact == "content_vectors" and serving.content_space is not None:
            stored = vectorstore.item_vectors(serving.content_space, list(seeds))
            if not stored:
                continue
            mean = np.sum([seeds[i] * stored[i] for i in stored], axis=0)
            norm = float(np.linalg.norm(mean))
            if norm == 0:
                continue
            hits = vectorstore.nearest_items(
                serving.content_space,
                (mean / norm).astype(np.float32),
                k=pool,
                exclude_item_ids=sorted(skip),
                item_filter=item_filter,
            )
            found.add(name, [(hit.item_id, hit.similarity) for hit in hits])
    return found
