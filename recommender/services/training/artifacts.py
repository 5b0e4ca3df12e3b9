"""What training stores for each kind of source (a source's `artifact` in its registry entry),
so that serving can read its candidates without the engine objects.

One storer per artifact kind: "factors" (each user's top list; its collaborative space is stored
before, outside the artifacts' transaction, by `store_vector_spaces`; one factors source per
version, as a version has one collaborative space), "neighbour_lists" (one
pruned list per item) and "ranking" (one score per item). Sources whose
artifact is "content_vectors" or "live" store nothing: serving reads the encoder's vectors or the
catalogue itself.
"""

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from django.db import transaction

from recommender import candidate_store, vectorstore
from recommender.engine.data import Events, InteractionMatrix, ItemTable
from recommender.engine.fusion_learning import LearnedFusion
from recommender.engine.ranker import ItemStats
from recommender.engine.sources import SOURCE_SPECS, CandidateSource, GlobalSource
from recommender.engine.sources.als import ALSSource, mips_items
from recommender.engine.sources.base import ItemNeighbourSource
from recommender.models import EmbeddingSpace, ModelVersion, RankerModel
from recommender.models.vectors import settings_digest

VECTOR_WRITE_CHUNK = 5_000
# Each trained user's ALS list: room for a count=10 request's pool of 40 after the user's own
# items are excluded (a 100,000-user tenant stores ~100 MB for it).
USER_ITEMS_STORED = 100

Storer = Callable[[ModelVersion, str, Any, InteractionMatrix], Mapping[str, Any]]


def _active_item_cols(als: ALSSource) -> Any:
    # Items nobody interacted with have no factor worth serving.
    return np.flatnonzero(np.abs(als.item_factors).sum(axis=1) > 0)


def _store_factor_space(
    version: ModelVersion, als: ALSSource, data: InteractionMatrix
) -> dict[str, float]:
    """ALS factors into a new collaborative space. Items are stored MIPS-transformed (one extra
    dimension, equal norms) under a cosine index, users with a 0 appended: the index's order is
    exactly the inner product's, and its recall is a cosine graph's (an inner-product HNSW graph
    found 74% of the true top 40 at 100,000 items).

    Outside any transaction: the space's row commits first (its id names its partitions), the
    vectors go into its item partition while that is still a table of its own, one transaction
    per chunk, and `vectorstore.space_index` builds the index in bulk and attaches it. Nothing
    serves the space until its version is activated; a failed run's space is dropped
    (`train._drop_failed`)."""
    identity = {"model_version": version.number, "factors": als.factors, "mips": True}
    space = EmbeddingSpace.objects.for_tenant(version.tenant).create(
        tenant=version.tenant,
        purpose=EmbeddingSpace.Purpose.COLLABORATIVE,
        metric=EmbeddingSpace.Metric.COSINE,
        settings=identity,
        settings_hash=settings_digest(identity),
        dimension=als.factors + 1,
        status=EmbeddingSpace.Status.BUILDING,
    )
    version.cf_space = space
    version.save(update_fields=["cf_space"])
    vectorstore.space_create(space, attach=False)
    started = time.perf_counter()
    item_factors = mips_items(als.item_factors)
    active_cols = _active_item_cols(als)
    for start in range(0, len(active_cols), VECTOR_WRITE_CHUNK):
        cols = active_cols[start : start + VECTOR_WRITE_CHUNK]
        with transaction.atomic():
            vectorstore.upsert_item_vectors(
                space, [int(i) for i in data.items.ids[cols]], [""] * len(cols), item_factors[cols]
            )
    user_factors = als.user_factors
    for start in range(0, data.n_users, VECTOR_WRITE_CHUNK):
        stop = min(start + VECTOR_WRITE_CHUNK, data.n_users)
        with transaction.atomic():
            vectorstore.upsert_user_vectors(
                space,
                [int(u) for u in data.user_ids[start:stop]],
                [""] * (stop - start),
                np.hstack([user_factors[start:stop], np.zeros((stop - start, 1), np.float32)]),
            )
    written = time.perf_counter()
    vectorstore.space_index(space)
    return {"vectors_s": written - started, "index_s": time.perf_counter() - written}


def store_vector_spaces(
    *, version: ModelVersion, sources: Mapping[str, CandidateSource], data: InteractionMatrix
) -> dict[str, float]:
    """The vector spaces of the fitted sources (a version has one collaborative space: that of
    its factors source), stored before the rest of its artifacts (`store_source`); seconds spent
    writing its vectors and building its index."""
    for name, source in sources.items():
        if SOURCE_SPECS[name].artifact == "factors" and isinstance(source, ALSSource):
            return _store_factor_space(version, source, data)
    return {"vectors_s": 0.0, "index_s": 0.0}


def _store_user_items(
    version: ModelVersion, name: str, als: ALSSource, data: InteractionMatrix
) -> int:
    """Each trained user's top USER_ITEMS_STORED items, ranked exactly: serving a trained user
    reads that row instead of searching the index (an index search was a fifth of a request's
    time at 100,000 items); filtered requests, users trained after and lists that run short of
    a request's pool still search the space's index (`store_vector_spaces`)."""
    cols, scores = als.top_items(USER_ITEMS_STORED)
    candidate_store.store_user_items(
        version_id=version.pk,
        source=name,
        user_ids=data.user_ids,
        item_ids=data.items.ids[cols],
        scores=scores,
    )
    return len(_active_item_cols(als))


def _factors(
    version: ModelVersion, name: str, source: ALSSource, data: InteractionMatrix
) -> Mapping[str, Any]:
    # Serving folds in users who arrived after training with the Gram matrix.
    return {
        "stored": _store_user_items(version, name, source, data),
        "gram": source.gram.round(6).tolist(),
    }


def _neighbour_lists(
    version: ModelVersion, name: str, source: ItemNeighbourSource, data: InteractionMatrix
) -> Mapping[str, Any]:
    cols, weights = source.neighbours()
    ids = np.where(cols >= 0, data.items.ids[np.maximum(cols, 0)], -1)
    stored = candidate_store.store_neighbours(
        version_id=version.pk,
        source=name,
        item_ids=data.items.ids,
        neighbour_ids=ids.astype(np.int64),
        weights=weights,
    )
    return {"stored": stored}


def _ranking(
    version: ModelVersion, name: str, source: GlobalSource, data: InteractionMatrix
) -> Mapping[str, Any]:
    scores = np.where(np.isfinite(source.item_scores), source.item_scores, 0.0)
    stored = candidate_store.store_ranking(
        version_id=version.pk,
        ranking=name,
        item_ids=data.items.ids,
        scores=scores.astype(np.float32),
    )
    return {"stored": stored}


STORERS: dict[str, Storer] = {
    "factors": _factors,
    "neighbour_lists": _neighbour_lists,
    "ranking": _ranking,
}


def store_source(
    *, version: ModelVersion, name: str, source: CandidateSource, data: InteractionMatrix
) -> Mapping[str, Any]:
    """Store a fitted source's artifact for `version`; what to record of it on the version."""
    storer = STORERS.get(SOURCE_SPECS[name].artifact)
    if storer is None:
        return {"stored": 0}
    return storer(version, name, source, data)


def store_learned_fusion(
    *,
    version: ModelVersion,
    learned: LearnedFusion | None,
    why_not: str,
    events: Events,
    items: ItemTable,
) -> dict[str, Any]:
    """The ranker (when it beat weighted fusion) with item statistics as of the newest event,
    and the version's "ranker" and "tuning" reports (tuned weights under tuning.weights)."""
    if learned is None:
        return {
            "ranker": {"used": False, "reason": why_not},
            "tuning": {"skipped": why_not, "trials": 0},
        }
    if learned.ranker is not None:
        now = float(events.timestamps.max()) if len(events) else 0.0
        stats = ItemStats.build(events, items, now, learned.ranker.attribute_keys)
        RankerModel.objects.create(
            version=version,
            sources=learned.ranker.sources,
            params=learned.ranker.params,
            model=learned.ranker.model,
            stats_now=now,
            item_ids=stats.ids.tolist(),
            item_events=stats.events.tolist(),
            item_last_event=np.nan_to_num(stats.last_event, nan=-1.0).tolist(),
            item_created=stats.created.tolist(),
            item_category=stats.category.tolist(),
            attribute_keys=list(stats.attribute_keys),
            item_attributes=[
                [None if np.isnan(v) else float(v) for v in column] for column in stats.attributes.T
            ],
        )
    tuning = {**learned.tuning_report, "history": learned.trials}
    # What was tuned serves while the configuration it was tuned under does.
    tuning["config_version"] = version.config.version if version.config else None
    if learned.weights is not None:
        tuning["weights"] = {**tuning.get("weights", {}), "serving": learned.weights}
    return {"ranker": learned.ranker_report, "tuning": tuning}
