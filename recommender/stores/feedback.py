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


class VariantCounts(NamedTuple):
    """One A/B variant's served lists, the distinct known users they went to, and the lists
    with at least one attributed click / conversion on an item they showed."""

    variant_id: int
    lists: int
    users: int
    clicked: int
    converted: int


def variant_counts(
    *,
    tenant_id: int,
    variant_ids: list[int],
    click_types: list[str],
    conversion_types: list[str],
) -> dict[int, VariantCounts]:
    """Per variant id: served lists and attributed outcomes. An event counts for a list when it
    names the list's recommendation_id and its item was on the list."""
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH lists AS (SELECT id, variant_id, user_id, recommendation_id, item_ids"
            "  FROM recommender_servedlist"
            "  WHERE tenant_id = %(t)s AND variant_id = ANY(%(variants)s::bigint[])),"
            " outcomes AS (SELECT l.id,"
            "  bool_or(e.type = ANY(%(clicks)s::varchar[])) AS clicked,"
            "  bool_or(e.type = ANY(%(conversions)s::varchar[])) AS converted"
            "  FROM lists l JOIN recommender_interaction e"
            "  ON e.tenant_id = %(t)s AND e.recommendation_id = l.recommendation_id"
            "  AND e.item_id = ANY(l.item_ids) GROUP BY l.id)"
            " SELECT l.variant_id, count(*), count(DISTINCT l.user_id),"
            " count(*) FILTER (WHERE o.clicked), count(*) FILTER (WHERE o.converted)"
            " FROM lists l LEFT JOIN outcomes o ON o.id = l.id GROUP BY 1",
            {
                "t": tenant_id,
                "variants": variant_ids,
                "clicks": click_types,
                "conversions": conversion_types,
            },
        )
        found = {row[0]: VariantCounts(*(int(v) for v in row)) for row in cursor.fetchall()}
    return {v: found.get(v, VariantCounts(v, 0, 0, 0, 0)) for v in variant_ids}
