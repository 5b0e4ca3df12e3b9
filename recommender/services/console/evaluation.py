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
    events = load_events(tenant_id=tenant.pk, type_weights=config["interactions"]["types"])
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


def metrics_table(result: dict[str, Any]) -> str:
    """The result's rows as a fixed-width table (metric names carry @k)."""
    k = result["k"]
    header = ["model"] + [
        f"{name}@{k}" if name in ("recall", "ndcg", "map", "hit_rate") else name
        for name in METRIC_COLUMNS
    ]
    lines = [header]
    for name, row in result["rows"].items():
        cells = ["n/a" if row.get(c) is None else f"{row[c]:.4f}" for c in METRIC_COLUMNS]
        lines.append([name, *cells])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
