"""A tenant's training inputs as arrays: events, the catalog, and content vectors."""

from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection

from recommender import vectorstore
from recommender.engine.data import Events, ItemTable
from recommender.models import EmbeddingSpace


def load_events(*, tenant_id: int, type_weights: dict[str, float]) -> Events:
    """Every interaction with a configured type; weight = type weight x value."""
    types = list(type_weights)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT user_id, item_id, type, value, EXTRACT(EPOCH FROM timestamp)"
            " FROM recommender_interaction WHERE tenant_id = %s AND type = ANY(%s)",
            [tenant_id, types],
        )
        rows = cursor.fetchall()
    if not rows:
        return Events(
            np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0)
        )
    users, items, kinds, values, stamps = zip(*rows, strict=True)
    weight_of = np.array([type_weights[k] for k in kinds], dtype=np.float64)
    return Events(
        user_ids=np.asarray(users, dtype=np.int64),
        item_ids=np.asarray(items, dtype=np.int64),
        weights=(weight_of * np.asarray(values, dtype=np.float64)).astype(np.float32),
        timestamps=np.asarray(stamps, dtype=np.float64),
    )


def load_items(*, tenant_id: int) -> ItemTable:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, EXTRACT(EPOCH FROM created_at), categories, available"
            " FROM recommender_item WHERE tenant_id = %s ORDER BY id",
            [tenant_id],
        )
        rows = cursor.fetchall()
    return ItemTable(
        ids=np.asarray([r[0] for r in rows], dtype=np.int64),
        created=np.asarray([float(r[1]) for r in rows], dtype=np.float64),
        categories=tuple(tuple(r[2] or ()) for r in rows),
        available=np.asarray([bool(r[3]) for r in rows], dtype=bool),
    )


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
