"""SQL of the feedback counts: served lists, and the interactions attributed to them through
their recommendation_id, counted per model version.

Raw SQL bypasses the tenant-scoped managers: every read takes the tenant id and repeats it as a
predicate (and in the join, so an event never meets another tenant's list).
"""

from typing import NamedTuple

from django.db import connection


class AttributedCount(NamedTuple):
    """Interactions of one type attributed to lists one model version served (None: lists
    served without one): in all, and those on an item the list showed."""

    version_id: int | None
    type: str
    total: int
    on_served_items: int


def served_list_counts(*, tenant_id: int) -> dict[int | None, int]:
    """Lists served per model version id (None: served without one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT model_version_id, count(*) FROM recommender_servedlist"
            " WHERE tenant_id = %s GROUP BY 1",
            [tenant_id],
        )
        return {version_id: int(served) for version_id, served in cursor.fetchall()}


def attributed_counts(*, tenant_id: int) -> list[AttributedCount]:
    """Per model version and interaction type: the interactions attributed to served lists."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.model_version_id, e.type, count(*),"
            " count(*) FILTER (WHERE e.item_id = ANY(s.item_ids))"
            " FROM recommender_interaction e JOIN recommender_servedlist s"
            " ON s.tenant_id = e.tenant_id AND s.recommendation_id = e.recommendation_id"
            " WHERE e.tenant_id = %s AND e.recommendation_id IS NOT NULL GROUP BY 1, 2",
            [tenant_id],
        )
        return [
            AttributedCount(version_id, kind, int(total), int(on_items))
            for version_id, kind, total, on_items in cursor.fetchall()
        ]
