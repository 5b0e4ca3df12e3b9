"""SQL of the operator dashboard: a tenant's counts, events per day by type, and served lists per
day and model version with the share of them that earned a click or a conversion.

Raw SQL bypasses the tenant-scoped managers: every read takes the tenant id and repeats it as a
predicate, in the attribution join too (an event never meets another tenant's list).
"""

from datetime import datetime
from typing import NamedTuple

from django.db import connection


class ServedDay(NamedTuple):
    """Lists one model version (None: none) served on one day, and how many of them got an
    attributed click / conversion on an item they showed."""

    day: datetime
    version_id: int | None
    served: int
    clicked: int
    converted: int


def tenant_counts(*, tenant_id: int) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM recommender_item WHERE tenant_id = %s),"
            " (SELECT count(*) FROM recommender_enduser WHERE tenant_id = %s),"
            " (SELECT count(*) FROM recommender_interaction WHERE tenant_id = %s)",
            [tenant_id, tenant_id, tenant_id],
        )
        items, users, events = cursor.fetchone()
    return {"items": int(items), "users": int(users), "events": int(events)}


def events_per_day(*, tenant_id: int, since: datetime) -> list[tuple[datetime, str, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT date_trunc('day', timestamp) AS day, type, count(*)"
            " FROM recommender_interaction WHERE tenant_id = %s AND timestamp >= %s"
            " GROUP BY 1, 2 ORDER BY 1, 2",
            [tenant_id, since],
        )
        return [(day, kind, int(n)) for day, kind, n in cursor.fetchall()]


_ATTRIBUTED = (
    "EXISTS (SELECT 1 FROM recommender_interaction e WHERE e.tenant_id = s.tenant_id"
    " AND e.recommendation_id = s.recommendation_id AND e.type = ANY(%s)"
    " AND e.item_id = ANY(s.item_ids))"
)


def served_per_day(
    *, tenant_id: int, since: datetime, click_types: list[str], conversion_types: list[str]
) -> list[ServedDay]:
    with connection.cursor() as cursor:
        cursor.execute(
            # The attribution predicate is a constant of this module, not input.
            "SELECT date_trunc('day', s.created_at) AS day, s.model_version_id, count(*),"  # noqa: S608
            f" count(*) FILTER (WHERE {_ATTRIBUTED}),"
            f" count(*) FILTER (WHERE {_ATTRIBUTED})"
            " FROM recommender_servedlist s WHERE s.tenant_id = %s AND s.created_at >= %s"
            " GROUP BY 1, 2 ORDER BY 1, 2",
            [click_types, conversion_types, tenant_id, since],
        )
        return [
            ServedDay(day, version_id, int(served), int(clicked), int(converted))
            for day, version_id, served, clicked, converted in cursor.fetchall()
        ]
