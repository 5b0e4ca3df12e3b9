"""Offline evaluation on demand (`manage.py evaluate`): the tenant's data, its configuration,
the temporal hold-out of training; the result can be stored on the active model version."""

from typing import Any

from django.utils import timezone

from recommender.models import ModelVersion
from recommender.services.config import active_config
from recommender.services.encoding.spaces import active_space
from recommender.services.training.data import load_content_vectors, load_events, load_items
from recommender.services.training.train import evaluate_offline
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant


def tenant_evaluate(
    *, tenant: Tenant, k: int | None = None, users: int | None = None, store: bool = False
) -> dict[str, Any]:
    """Metrics of each enabled source, the fused list and popularity (see evaluate_offline).

    `k` and `users` override the configuration's training.k and training.eval_users. With
    `store`, the result is kept on the active model version under "evaluation".
    """
    config = active_config(tenant)
    training = dict(config["training"])
    if k is not None:
        training["k"] = k
    if users is not None:
        training["eval_users"] = users
    config = {**config, "training": training}
    events = load_events(tenant_id=tenant.pk, interactions=config["interactions"])
    items = load_items(tenant_id=tenant.pk)
    if len(events) < 2 or not len(items):
        raise ApplicationError(
            "not_enough_data",
            f"Evaluation needs items and interactions; {tenant.slug} has {len(items)} items and "
            f"{len(events)} interactions.",
        )
    result = evaluate_offline(
        config=config,
        events=events,
        items=items,
        content_vectors=load_content_vectors(active_space(tenant.pk), items),
    )
    result["evaluated_at"] = timezone.now().isoformat()
    if store:
        version = ModelVersion.objects.for_tenant(tenant).filter(status="active").first()
        if version is None:
            raise ApplicationError(
                "no_active_version", f"{tenant.slug} has no active model version to store on."
            )
        version.metrics = {**version.metrics, "evaluation": result}
        version.save(update_fields=["metrics"])
        result["stored_on"] = version.label
    return result


METRIC_COLUMNS = ("recall", "ndcg", "map", "hit_rate", "coverage", "novelty")
SLICE_COLUMNS = ("recall", "ndcg", "map", "hit_rate")
AT_K = ("recall", "ndcg", "map", "hit_rate")


def _cell(row: dict[str, Any], column: str) -> str:
    return "n/a" if row.get(column) is None else f"{row[column]:.4f}"


def _aligned(lines: list[list[str]]) -> str:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def metrics_table(result: dict[str, Any]) -> str:
    """The result's rows as a fixed-width table (metric names carry @k)."""
    k = result["k"]
    header = ["model"] + [f"{name}@{k}" if name in AT_K else name for name in METRIC_COLUMNS]
    lines = [header]
    for name, row in result["rows"].items():
        lines.append([name, *(_cell(row, c) for c in METRIC_COLUMNS)])
    return _aligned(lines)


def slices_table(result: dict[str, Any]) -> str:
    """Each row's slices (warm users, cold users, cold items; `engine.evaluation`) as a
    fixed-width table with the users and targets each slice holds; "" when there are none."""
    k = result["k"]
    header = ["model", "slice", *(f"{name}@{k}" for name in SLICE_COLUMNS), "users", "targets"]
    lines = [header]
    for name, row in result["rows"].items():
        for slice_name, part in row.get("slices", {}).items():
            cells = [_cell(part, c) for c in SLICE_COLUMNS]
            lines.append([name, slice_name, *cells, str(part["users"]), str(part["targets"])])
    return _aligned(lines) if len(lines) > 1 else ""
