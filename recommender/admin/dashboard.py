"""The console's home page: the per-tenant dashboard (django-unfold's DASHBOARD_CALLBACK), with
charts rendered by unfold's chart components (Chart.js data as JSON)."""

import json
from typing import Any

from django.http import HttpRequest

from recommender.services.console.dashboard import tenant_dashboard
from tenants.admin_base import operable_tenants

PALETTE = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#9333ea", "#0891b2", "#db2777", "#65a30d"]


def _series(label: str, values: list[Any], n: int, **extra: Any) -> dict[str, Any]:
    colour = PALETTE[n % len(PALETTE)]
    return {
        "label": label,
        "data": values,
        "borderColor": colour,
        "backgroundColor": colour,
        **extra,
    }


def _chart(labels: list[str], datasets: list[dict[str, Any]]) -> str:
    return json.dumps({"labels": labels, "datasets": datasets})


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """Adds the chosen tenant's dashboard (?tenant=<id>; default: the first the operator may
    operate). Another tenant's id is treated as no choice, like a missing one."""
    tenants = operable_tenants(request.user)
    chosen = request.GET.get("tenant", "")
    tenant = (tenants.filter(pk=chosen).first() if chosen.isdigit() else None) or tenants.first()
    context["dashboard_tenants"] = tenants
    if tenant is None:
        return context
    data = tenant_dashboard(tenant=tenant)
    labels = data["labels"]
    context["dashboard"] = data
    context["chart_events"] = _chart(
        labels,
        [
            _series(kind, values, n)
            for n, (kind, values) in enumerate(data["events_by_type"].items())
        ],
    )
    context["chart_served"] = _chart(labels, [_series("served lists", data["served_per_day"], 0)])
    context["chart_rates"] = _chart(
        labels,
        [
            _series("click-through", data["ctr_per_day"], 1),
            _series("conversion", data["conversion_per_day"], 2),
        ],
    )
    versions = [row["version"] for row in data["per_version"]]
    context["chart_versions"] = _chart(
        versions,
        [
            _series("click-through", [row["ctr"] for row in data["per_version"]], 1),
            _series("conversion", [row["conversion"] for row in data["per_version"]], 2),
        ],
    )
    offline_labels = [row["version"] for row in data["offline"]]
    k = next((row["k"] for row in data["offline"] if row["k"]), "k")
    context["chart_offline"] = _chart(
        offline_labels,
        [
            _series(f"NDCG@{k}", [row["ndcg"] for row in data["offline"]], 0),
            _series(f"Recall@{k}", [row["recall"] for row in data["offline"]], 4),
        ],
    )
    return context
