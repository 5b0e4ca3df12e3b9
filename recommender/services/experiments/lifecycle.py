"""An experiment's life: drafted with its variants, started (frozen from then on), stopped, and
a winner promoted, which activates its configuration.

A variant serves its configuration over what serves the tenant now: the active model version
and content space, as the operator's preview serves a draft. So a variant may change what is
applied per request (source weights, fusion, rules, diversity, profile and interaction weights)
but not what must be trained or encoded first; `experiment_start` refuses a variant whose
configuration the active model version or content space cannot serve, naming why.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from recommender.engine.sources import SOURCE_SPECS
from recommender.engine.sources.registry import enabled_sources
from recommender.models import Experiment, ExperimentVariant, ModelVersion, RecommenderConfig
from recommender.services.config import active_config, with_defaults
from recommender.services.config_activation import config_activate
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant

MAX_VARIANTS = 8
# Artifacts a model version trains with the source's settings: a variant must match them.
TRAINED_ARTIFACTS = ("factors", "neighbour_lists", "ranking")


@dataclass(frozen=True)
class VariantSpec:
    """A variant to draft: its name, configuration version and relative share."""

    name: str
    config: RecommenderConfig
    share: float


def _refuse(message: str, details: list[dict[str, Any]] | None = None) -> ApplicationError:
    return ApplicationError("invalid_experiment", message, details=details)


def variants_check(*, tenant: Tenant, variants: Sequence[VariantSpec]) -> None:
    """Two to MAX_VARIANTS variants with distinct names and configurations of this tenant, each
    with a positive share. Another tenant's configuration is refused as an unknown one."""
    if not 2 <= len(variants) <= MAX_VARIANTS:
        raise _refuse(f"An experiment needs 2 to {MAX_VARIANTS} variants; it has {len(variants)}.")
    names = [v.name.strip() for v in variants]
    if any(not name for name in names) or len(set(names)) != len(names):
        raise _refuse("Each variant needs a name of its own.")
    for spec in variants:
        if spec.config.tenant_id != tenant.pk:
            raise _refuse(f"Variant {spec.name!r}: no such configuration version.")
        if not spec.share > 0:
            raise _refuse(f"Variant {spec.name!r}: the share must be above 0.")
    if len({spec.config.pk for spec in variants}) != len(variants):
        raise _refuse("Two variants name the same configuration version.")


@transaction.atomic
def experiment_create(
    *,
    tenant: Tenant,
    name: str,
    variants: Sequence[VariantSpec],
    click_types: Sequence[str] = ("click",),
    conversion_types: Sequence[str] = ("purchase",),
) -> Experiment:
    """A draft experiment; the first variant is the control the others are compared with."""
    variants_check(tenant=tenant, variants=variants)
    experiment = Experiment.objects.create(
        tenant=tenant,
        name=name,
        click_types=list(click_types),
        conversion_types=list(conversion_types),
    )
    ExperimentVariant.objects.bulk_create(
        ExperimentVariant(
            experiment=experiment,
            name=spec.name.strip(),
            config=spec.config,
            share=spec.share,
            position=position,
        )
        for position, spec in enumerate(variants)
    )
    return experiment


def _trained_settings(version: ModelVersion | None, name: str) -> dict[str, Any] | None:
    trained = (version.sources.get(name) or {}) if version is not None else {}
    settings = trained.get("settings")
    return None if settings is None else {k: v for k, v in settings.items() if k != "weight"}


def unservable(
    *, config: Mapping[str, Any], active: Mapping[str, Any], version: ModelVersion | None
) -> list[str]:
    """Why a variant's configuration cannot serve over the active version and space (nothing:
    it can)."""
    problems = []
    if config["encoder"] != active["encoder"]:
        problems.append(
            "its encoder differs from the active configuration's (the items have no vectors "
            "of that encoder)"
        )
    if version is None:
        return problems  # nothing trained yet: every configuration serves untrained alike
    for name in enabled_sources(config):
        if SOURCE_SPECS[name].artifact not in TRAINED_ARTIFACTS:
            continue
        trained = _trained_settings(version, name)
        if trained is None:
            if SOURCE_SPECS[name].artifact != "ranking":  # rankings are counted live untrained
                problems.append(f"source {name!r} is not trained in the active model version")
            continue
        wanted = {k: v for k, v in config["sources"][name].items() if k != "weight"}
        if wanted != trained:
            problems.append(
                f"source {name!r} has settings the active model version was not trained with"
            )
    return problems


@transaction.atomic
def experiment_start(*, experiment: Experiment) -> Experiment:
    """Start a draft: at most one experiment runs per tenant, and every variant must serve."""
    tenant = experiment.tenant
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
    experiment.refresh_from_db()
    if experiment.status != Experiment.Status.DRAFT:
        raise _refuse("Only a draft experiment can start; stopped ones stay stopped.")
    rows = list(experiment.variants.select_related("config"))
    variants_check(tenant=tenant, variants=[VariantSpec(v.name, v.config, v.share) for v in rows])
    active = active_config(tenant)
    version = ModelVersion.objects.for_tenant(tenant).filter(status="active").first()
    details = [
        {"field": f"variant {row.name}", "message": problem}
        for row in rows
        for problem in unservable(
            config=with_defaults(row.config.data), active=active, version=version
        )
    ]
    if details:
        raise _refuse(
            "A variant's configuration cannot serve over the active model version: "
            f"{details[0]['field']}: {details[0]['message']}.",
            details,
        )
    experiment.status = Experiment.Status.RUNNING
    experiment.started_at = timezone.now()
    try:
        with transaction.atomic():
            experiment.save(update_fields=["status", "started_at"])
    except IntegrityError:
        raise _refuse("Another experiment of this tenant is running: stop it first.") from None
    return experiment


@transaction.atomic
def experiment_stop(*, experiment: Experiment) -> Experiment:
    """Stop a running experiment: its users get the active configuration again."""
    experiment.refresh_from_db()
    if experiment.status != Experiment.Status.RUNNING:
        raise _refuse("Only a running experiment can stop.")
    experiment.status = Experiment.Status.STOPPED
    experiment.stopped_at = timezone.now()
    experiment.save(update_fields=["status", "stopped_at"])
    return experiment


@transaction.atomic
def experiment_promote(*, experiment: Experiment, variant_name: str) -> Experiment:
    """Make a variant the winner: stop the experiment if running and activate its config."""
    experiment.refresh_from_db()
    if experiment.status == Experiment.Status.DRAFT:
        raise _refuse("A draft experiment has no results to promote from.")
    variant = experiment.variants.select_related("config").filter(name=variant_name).first()
    if variant is None:
        raise _refuse(f"No variant {variant_name!r} in this experiment.")
    if experiment.status == Experiment.Status.RUNNING:
        experiment_stop(experiment=experiment)
    experiment.winner = variant
    experiment.save(update_fields=["winner"])
    config_activate(config=variant.config)
    return experiment


@transaction.atomic
def variant_set_share(*, variant: ExperimentVariant, share: float) -> ExperimentVariant:
    """Change a draft's share; a started experiment's split is fixed (stop it, start anew)."""
    owner = variant.experiment.tenant
    experiment = (
        Experiment.objects.for_tenant(owner).select_for_update().get(pk=variant.experiment_id)
    )
    if experiment.status != Experiment.Status.DRAFT:
        raise _refuse("A started experiment's shares cannot change: stop it and start a new one.")
    if not share > 0:
        raise _refuse(f"Variant {variant.name!r}: the share must be above 0.")
    variant.share = share
    variant.save(update_fields=["share"])
    return variant
