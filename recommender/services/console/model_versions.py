"""Model versions as operators and tenant apps read them: status, sources, metrics, timings, and
what their served lists earned (interactions sent back with a recommendation_id)."""

from collections import defaultdict
from typing import Any

from django.db import connection

from recommender.models import ModelVersion
from tenants.models import Tenant

LISTED_VERSIONS = 50


def attribution_by_version(tenant: Tenant) -> dict[int | None, dict[str, Any]]:
    """Per model version id (None: lists served without one): lists served, and interactions
    attributed to them in total, on items the list showed, and by type."""
    stats: dict[int | None, dict[str, Any]] = defaultdict(
        lambda: {"served_lists": 0, "attributed": 0, "on_served_items": 0, "by_type": {}}
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT model_version_id, count(*) FROM recommender_servedlist"
            " WHERE tenant_id = %s GROUP BY 1",
            [tenant.pk],
        )
        for version_id, served in cursor.fetchall():
            stats[version_id]["served_lists"] = int(served)
        cursor.execute(
            "SELECT s.model_version_id, e.type, count(*),"
            " count(*) FILTER (WHERE e.item_id = ANY(s.item_ids))"
            " FROM recommender_interaction e JOIN recommender_servedlist s"
            " ON s.tenant_id = e.tenant_id AND s.recommendation_id = e.recommendation_id"
            " WHERE e.tenant_id = %s AND e.recommendation_id IS NOT NULL GROUP BY 1, 2",
            [tenant.pk],
        )
        for version_id, kind, total, on_items in cursor.fetchall():
            entry = stats[version_id]
            entry["attributed"] += int(total)
            entry["on_served_items"] += int(on_items)
            entry["by_type"][kind] = int(total)
    return dict(stats)


def version_to_wire(version: ModelVersion, attribution: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "version": version.label,
        "status": version.status,
        "config_version": version.config.version if version.config else None,
        "created_at": version.created_at,
        "trained_at": version.trained_at,
        "activated_at": version.activated_at,
        "training_data": version.data_summary,
        # Without the ALS Gram matrix: a serving internal, not a figure for people.
        "sources": {
            name: {key: value for key, value in info.items() if key != "gram"}
            for name, info in version.sources.items()
        },
        "metrics": version.metrics,
        "timings": version.timings,
        "error": version.error or None,
        "feedback": attribution
        or {"served_lists": 0, "attributed": 0, "on_served_items": 0, "by_type": {}},
    }


def model_version_list(tenant: Tenant) -> list[dict[str, Any]]:
    attribution = attribution_by_version(tenant)
    versions = ModelVersion.objects.for_tenant(tenant).select_related("config")[:LISTED_VERSIONS]
    return [version_to_wire(v, attribution.get(v.pk)) for v in versions]
