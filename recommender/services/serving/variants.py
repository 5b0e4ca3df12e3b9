"""Which A/B variant serves a user: the running experiment's variants, read once per process
(they are frozen while it runs), and the user's stable hash assignment among them."""

from dataclasses import dataclass
from typing import Any

from recommender.engine.experiment_assignment import assign
from recommender.models import ExperimentVariant
from recommender.services.config import with_defaults
from recommender.services.serving.process_cache import ProcessCache
from tenants.models import Tenant


@dataclass(frozen=True)
class Variant:
    """A variant as serving uses it: its configuration, validated with defaults."""

    id: int
    experiment_id: int
    name: str
    share: float
    config: dict[str, Any]
    config_version: int


# By experiment id: a running experiment's variants cannot change, and a stopped one is no
# longer named by the serving state, so an entry is never stale.
_variants: ProcessCache[tuple[Variant, ...]] = ProcessCache(max_entries=64)


def _load(tenant: Tenant, experiment_id: int) -> tuple[Variant, ...]:
    rows = (
        ExperimentVariant.objects.filter(experiment_id=experiment_id, experiment__tenant=tenant)
        .select_related("config")
        .order_by("position", "id")
    )
    return tuple(
        Variant(
            id=row.pk,
            experiment_id=experiment_id,
            name=row.name,
            share=row.share,
            config=with_defaults(row.config.data),
            config_version=row.config.version,
        )
        for row in rows
    )


def variant_for(tenant: Tenant, experiment_id: int, user_external_id: str) -> Variant | None:
    """The variant of the running experiment `experiment_id` that serves this user."""
    variants = _variants.get_or_compute(
        (tenant.pk, experiment_id), lambda: _load(tenant, experiment_id)
    )
    if not variants:
        return None
    return variants[assign(experiment_id, user_external_id, [v.share for v in variants])]
