"""The per-tenant dashboard: counts and vector coverage, events per day by type, served lists per
day, attributed click-through and conversion per day and per model version, offline metrics
across model versions, job health, last and next training.

Click-through of a set of served lists: the share of lists that got at least one click on an
item they showed, sent back with their recommendation_id; conversion likewise with purchases.
"""

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from recommender.models import Job, ModelVersion
from recommender.services.encoding.spaces import active_space, space_overview
from recommender.services.training.queue import next_training
from recommender.stores import dashboard_reads
from tenants.models import Tenant

DAYS = 30
CLICK_TYPES = ["click"]
CONVERSION_TYPES = ["purchase"]
JOB_HEALTH_DAYS = 7
VERSIONS_CHARTED = 12


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _days(since: datetime, now: datetime) -> list[datetime]:
    start = since.replace(hour=0, minute=0, second=0, microsecond=0)
    return [start + timedelta(days=n) for n in range((now - start).days + 1)]


def tenant_dashboard(*, tenant: Tenant, now: datetime | None = None) -> dict[str, Any]:
    """Every figure of the tenant's dashboard, as plain data (charts are labels + series)."""
    now = now or timezone.now()
    since = now - timedelta(days=DAYS)
    days = _days(since, now)
    labels = [day.strftime("%m-%d") for day in days]
    index = {day.date(): n for n, day in enumerate(days)}

    counts = dashboard_reads.tenant_counts(tenant_id=tenant.pk)
    space = active_space(tenant.pk)
    coverage = space_overview(space=space) if space is not None else None

    by_type: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    for day, kind, n in dashboard_reads.events_per_day(tenant_id=tenant.pk, since=since):
        if day.date() in index:
            by_type[kind][index[day.date()]] += n

    served = dashboard_reads.served_per_day(
        tenant_id=tenant.pk,
        since=since,
        click_types=CLICK_TYPES,
        conversion_types=CONVERSION_TYPES,
    )
    per_day = {"served": [0] * len(days), "clicked": [0] * len(days), "converted": [0] * len(days)}
    per_version: dict[int | None, dict[str, int]] = defaultdict(
        lambda: {"served": 0, "clicked": 0, "converted": 0}
    )
    for row in served:
        position = index.get(row.day.date())
        if position is not None:
            per_day["served"][position] += row.served
            per_day["clicked"][position] += row.clicked
            per_day["converted"][position] += row.converted
        totals = per_version[row.version_id]
        totals["served"] += row.served
        totals["clicked"] += row.clicked
        totals["converted"] += row.converted

    versions = list(
        ModelVersion.objects.for_tenant(tenant)
        .exclude(status=ModelVersion.Status.TRAINING)
        .order_by("-number")[:VERSIONS_CHARTED]
    )[::-1]
    labels_by_id = {v.pk: v.label for v in versions}
    version_rows = [
        {
            "version": labels_by_id.get(version_id, "none") if version_id else "none",
            **totals,
            "ctr": _rate(totals["clicked"], totals["served"]),
            "conversion": _rate(totals["converted"], totals["served"]),
        }
        for version_id, totals in per_version.items()
    ]
    offline = []
    for version in versions:
        fused = (version.metrics.get("rows") or {}).get("fused") or {}
        offline.append(
            {
                "version": version.label,
                "status": version.status,
                "ndcg": fused.get("ndcg"),
                "recall": fused.get("recall"),
                "k": version.metrics.get("k"),
            }
        )

    recent_jobs = Job.objects.for_tenant(tenant).filter(
        created_at__gte=now - timedelta(days=JOB_HEALTH_DAYS)
    )
    job_status = dict(
        recent_jobs.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    failed = list(recent_jobs.filter(status=Job.Status.FAILED).order_by("-created_at")[:5])

    return {
        "tenant": tenant,
        "counts": counts,
        "coverage": coverage,
        "labels": labels,
        "events_by_type": dict(sorted(by_type.items())),
        "served_per_day": per_day["served"],
        "ctr_per_day": [
            _rate(c, s) for c, s in zip(per_day["clicked"], per_day["served"], strict=True)
        ],
        "conversion_per_day": [
            _rate(c, s) for c, s in zip(per_day["converted"], per_day["served"], strict=True)
        ],
        "per_version": version_rows,
        "offline": offline,
        "jobs": {
            "by_status": job_status,
            "failed": failed,
            "days": JOB_HEALTH_DAYS,
        },
        "training": next_training(tenant),
    }
