"""Model versions as operators and tenant apps read them: status, sources, metrics, timings, and
what their served lists earned (interactions sent back with a recommendation_id)."""

from collections import defaultdict
from typing import Any

from recommender.models import ModelVersion
from recommender.stores import feedback
from tenants.models import Tenant

LISTED_VERSIONS = 50


def attribution_by_version(tenant: Tenant) -> dict[int | None, dict[str, Any]]:
    """Per model version id (None: lists served without one): lists served, and interactions
    attributed to them in total, on items the list showed, and by type."""
    stats: dict[int | None, dict[str, Any]] = defaultdict(
        lambda: {"served_lists": 0, "attributed": 0, "on_served_items": 0, "by_type": {}}
    )
    for version_id, served in feedback.served_list_counts(tenant_id=tenant.pk).items():
        stats[version_id]["served_lists"] = served
    for count in feedback.attributed_counts(tenant_id=tenant.pk):
        entry = stats[count.version_id]
        entry["attributed"] += count.total
        entry["on_served_items"] += count.on_served_items
        entry["by_type"][count.type] = count.total
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
        "metrics": {k: v for k, v in version.metrics.items() if k not in ("ranker", "tuning")},
        "ranker": version.metrics.get("ranker"),
        "tuning": version.metrics.get("tuning"),
        "timings": version.timings,
        "error": version.error or None,
        "feedback": attribution
        or {"served_lists": 0, "attributed": 0, "on_served_items": 0, "by_type": {}},
    }


def model_version_list(tenant: Tenant) -> list[dict[str, Any]]:
    attribution = attribution_by_version(tenant)
    versions = ModelVersion.objects.for_tenant(tenant).select_related("config")[:LISTED_VERSIONS]
    return [version_to_wire(v, attribution.get(v.pk)) for v in versions]
