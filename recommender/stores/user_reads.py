"""What a request reads about one user: their recent events, the items to exclude, their vectors
and the list training stored for them, in one statement; and the operator preview's list of
their recent interactions.

Raw SQL bypasses the tenant-scoped managers: every read takes a user id the caller resolved inside
the tenant's scope. The vector subqueries come from `recommender.vectorstore`, the one writer of
vector SQL.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection

from recommender import vectorstore
from recommender.models.vectors import EmbeddingSpace


@dataclass(frozen=True)
class UserReading:
    """What serving needs to know about a user, read in one round trip: their recent events
    (item, type, age in days; newest first), the items to exclude from their lists, the content
    vectors of the recent items, their text vector, their collaborative factor and the top items
    stored for them at training (item, score; best first)."""

    recent: list[tuple[int, str, float]]
    excluded: set[int]
    item_vectors: dict[int, npt.NDArray[np.float32]]
    text_vector: npt.NDArray[np.float32] | None
    factor: npt.NDArray[np.float32] | None
    als_items: list[tuple[int, float]] | None


def _user_reading_sql(content_space: EmbeddingSpace | None, cf_space: EmbeddingSpace | None) -> str:
    # One row. The recent events are aggregated into parallel arrays, each ordered by the
    # event's rank (unique, so the arrays line up); the rest are scalar subqueries and one
    # indexed join, each answering one named column.
    return (
        "SELECT r.items AS recent_items, r.types AS recent_types, r.ages AS recent_ages,"  # noqa: S608
        " r.vectors AS recent_vectors,"
        " ARRAY(SELECT DISTINCT item_id FROM recommender_interaction WHERE user_id = %(user)s"
        "  AND (%(all_types)s OR type = ANY(%(types)s::varchar[]))) AS excluded,"
        f" {vectorstore.sent_user_vector_sql(content_space, '%(user)s')} AS text_vector,"
        f" {vectorstore.sent_user_vector_sql(cf_space, '%(user)s')} AS factor,"
        " l.item_ids AS als_items, l.scores AS als_scores"
        " FROM (SELECT array_agg(e.item_id ORDER BY e.n) AS items,"
        "  array_agg(e.type ORDER BY e.n) AS types, array_agg(e.age ORDER BY e.n) AS ages,"
        f"  array_agg({vectorstore.sent_item_vector_sql(content_space, 'e.item_id')}"
        "  ORDER BY e.n) AS vectors"
        "  FROM (SELECT item_id, type,"
        "   EXTRACT(EPOCH FROM (%(now)s - timestamp)) / 86400.0 AS age,"
        "   row_number() OVER (ORDER BY timestamp DESC) AS n"
        "   FROM recommender_interaction WHERE user_id = %(user)s"
        "   ORDER BY timestamp DESC LIMIT %(recent)s) AS e) AS r"
        " LEFT JOIN recommender_useritems l"
        " ON l.version_id = %(version)s AND l.source = 'als' AND l.user_id = %(user)s"
    )


def read_user(
    *,
    user_id: int,
    recent: int,
    exclude_types: Sequence[str] | None,
    content_space: EmbeddingSpace | None,
    cf_space: EmbeddingSpace | None,
    version_id: int | None,
    now: Any,
) -> UserReading:
    """One statement for a recommendation's reads about the user: the round trips it replaces
    were a third of a request's time (benchmarks/profile_serving.py). `exclude_types` None
    excludes every interacted item; a space or version of None reads nothing from it."""
    with connection.cursor() as cursor:
        cursor.execute(
            _user_reading_sql(content_space, cf_space),
            {
                "now": now,
                "user": user_id,
                "recent": recent,
                "all_types": exclude_types is None,
                "types": list(exclude_types or ()),
                "version": version_id,
            },
        )
        items, types, ages, vectors, excluded, text, factor, als_items, als_scores = (
            cursor.fetchone()
        )
    # array_agg of no events is NULL.
    events = list(zip(items or (), types or (), ages or (), vectors or (), strict=True))
    return UserReading(
        recent=[(int(item), str(kind), float(age)) for item, kind, age, _ in events],
        excluded={int(item) for item in excluded},
        item_vectors={
            int(item): vectorstore.vector_from_sent(sent)
            for item, _, _, sent in events
            if sent is not None
        },
        text_vector=vectorstore.vector_from_sent(text) if text is not None else None,
        factor=vectorstore.vector_from_sent(factor) if factor is not None else None,
        als_items=list(zip(als_items, als_scores, strict=True)) if als_items is not None else None,
    )


def recent_interactions(*, user_id: int, limit: int) -> list[dict[str, Any]]:
    """The user's newest interactions with the items' external ids, titles and categories (the
    operator's preview and user page show them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.external_id, i.title, i.categories, e.type, e.timestamp"
            " FROM recommender_interaction e JOIN recommender_item i ON i.id = e.item_id"
            " WHERE e.user_id = %s ORDER BY e.timestamp DESC LIMIT %s",
            [user_id, limit],
        )
        return [
            {
                "id": row[0],
                "title": row[1],
                "categories": row[2],
                "type": row[3],
                "timestamp": row[4],
            }
            for row in cursor.fetchall()
        ]
