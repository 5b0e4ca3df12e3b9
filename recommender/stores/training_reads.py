"""SQL of training's reads: a tenant's interactions and catalog, fetched as arrays.

Raw SQL bypasses the tenant-scoped managers: every read takes the tenant id and repeats it as a
predicate.
"""

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from django.db import connection

from recommender.engine.data import ItemTable


class InteractionColumns(NamedTuple):
    """The interactions as parallel columns (one position per event): database ids, the type
    and value as stored, unix-second timestamps."""

    user_ids: npt.NDArray[np.int64]
    item_ids: npt.NDArray[np.int64]
    types: tuple[str, ...]
    values: npt.NDArray[np.float64]
    timestamps: npt.NDArray[np.float64]


def interaction_columns(*, tenant_id: int, types: Sequence[str]) -> InteractionColumns:
    """Every interaction of the tenant whose type is one of `types`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT user_id, item_id, type, value, EXTRACT(EPOCH FROM timestamp)"
            " FROM recommender_interaction WHERE tenant_id = %s AND type = ANY(%s)",
            [tenant_id, list(types)],
        )
        rows = cursor.fetchall()
    users, items, kinds, values, stamps = zip(*rows, strict=True) if rows else ((),) * 5
    return InteractionColumns(
        user_ids=np.asarray(users, dtype=np.int64),
        item_ids=np.asarray(items, dtype=np.int64),
        types=tuple(kinds),
        values=np.asarray(values, dtype=np.float64),
        timestamps=np.asarray(stamps, dtype=np.float64),
    )


def _mapping(value: Any) -> dict[str, Any]:
    # Django leaves jsonb undecoded on raw cursors (its JSONField decodes on read).
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def item_table(*, tenant_id: int) -> ItemTable:
    """The tenant's catalog in id order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, EXTRACT(EPOCH FROM created_at), categories, available, attributes"
            " FROM recommender_item WHERE tenant_id = %s ORDER BY id",
            [tenant_id],
        )
        rows = cursor.fetchall()
    return ItemTable(
        ids=np.asarray([r[0] for r in rows], dtype=np.int64),
        created=np.asarray([float(r[1]) for r in rows], dtype=np.float64),
        categories=tuple(tuple(r[2] or ()) for r in rows),
        available=np.asarray([bool(r[3]) for r in rows], dtype=bool),
        attributes=tuple(_mapping(r[4]) for r in rows),
    )
