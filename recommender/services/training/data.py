"""A tenant's training inputs as arrays: events, the catalog, and content vectors."""

from typing import Any

import numpy as np
import numpy.typing as npt

from recommender import vectorstore
from recommender.engine.data import Events, ItemTable, event_weights
from recommender.models import EmbeddingSpace
from recommender.stores import training_reads


def load_events(*, tenant_id: int, interactions: dict[str, Any]) -> Events:
    """Every interaction with a configured type; weight = type weight x value, scaled and
    clipped as the configuration's `interactions` section says."""
    type_weights: dict[str, float] = interactions["types"]
    columns = training_reads.interaction_columns(tenant_id=tenant_id, types=list(type_weights))
    weight_of = np.array([type_weights[k] for k in columns.types], dtype=np.float64)
    return Events(
        user_ids=columns.user_ids,
        item_ids=columns.item_ids,
        weights=event_weights(
            weight_of,
            np.asarray(columns.values, dtype=np.float64),
            scale=str(interactions.get("value_scale", "linear")),
            max_weight=float(interactions.get("max_weight", 100.0)),
        ),
        timestamps=columns.timestamps,
    )


def load_items(*, tenant_id: int) -> ItemTable:
    return training_reads.item_table(tenant_id=tenant_id)


def load_content_vectors(
    space: EmbeddingSpace | None, items: ItemTable
) -> npt.NDArray[np.float32] | None:
    """Item vectors aligned with `items` (zero rows for items not encoded), or None."""
    if space is None:
        return None
    stored = vectorstore.all_item_vectors(space)
    matrix = np.zeros((len(items), space.dimension), dtype=np.float32)
    positions = {int(item_id): pos for pos, item_id in enumerate(items.ids)}
    for item_id, vector in stored:
        pos = positions.get(item_id)
        if pos is not None:
            matrix[pos] = vector
    return matrix


def data_summary(events: Events, items: ItemTable) -> dict[str, Any]:
    return {
        "interactions": len(events),
        "users": len(np.unique(events.user_ids)) if len(events) else 0,
        "items": len(items),
    }
