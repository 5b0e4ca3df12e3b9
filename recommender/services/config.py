"""Tenant configuration versions: the active one, save-as-new-version (active, or a draft),
mark one active (`config_activation` adds the re-encoding and retraining an activation needs)."""

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from recommender.engine.config_schema import ConfigError, default_config, validate_config
from recommender.models import RecommenderConfig
from recsys_platform.errors import ApplicationError
from tenants.locks import TenantLock, tenant_lock
from tenants.models import Tenant


def active_config(tenant: Tenant) -> dict[str, Any]:
    """The active configuration's data, or the defaults when the tenant has saved none."""
    row = (
        RecommenderConfig.objects.for_tenant(tenant)
        .filter(is_active=True)
        .values_list("data", flat=True)
        .first()
    )
    if row is None:
        return validate_config({})
    return with_defaults(row)


def with_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """A stored version with every section: versions saved before a section existed get its
    defaults."""
    try:
        return validate_config(data)
    except ConfigError:
        return dict(data)


def active_config_version(tenant: Tenant) -> RecommenderConfig | None:
    return RecommenderConfig.objects.for_tenant(tenant).filter(is_active=True).first()


def interaction_types(tenant: Tenant) -> dict[str, float]:
    return {str(k): float(v) for k, v in active_config(tenant)["interactions"]["types"].items()}


@transaction.atomic
def config_save(
    *, tenant: Tenant, data: Any, note: str = "", created_by: Any = None, activate: bool = True
) -> RecommenderConfig:
    """Validate and store `data` as the tenant's next version (active unless told otherwise)."""
    try:
        validated = validate_config(data)
    except ConfigError as exc:
        raise ApplicationError(
            "invalid_config", f"The configuration is invalid: {exc}", details=exc.errors
        ) from exc
    # Two operators saving at once get consecutive versions.
    tenant_lock(tenant.pk, TenantLock.CONFIG_VERSION)
    last = RecommenderConfig.objects.for_tenant(tenant).aggregate(v=Max("version"))["v"] or 0
    if activate:
        RecommenderConfig.objects.for_tenant(tenant).filter(is_active=True).update(is_active=False)
    return RecommenderConfig.objects.create(
        tenant=tenant,
        version=last + 1,
        data=validated,
        note=note,
        created_by=created_by,
        is_active=activate,
        activated_at=timezone.now() if activate else None,
    )


@transaction.atomic
def config_mark_active(*, config: RecommenderConfig) -> RecommenderConfig:
    """Make `config` the active version (a rollback when it is an older one). Use
    `config_activation.config_activate`, which also starts the encoding and training needed."""
    tenant_lock(config.tenant_id, TenantLock.CONFIG_VERSION)
    RecommenderConfig.objects.for_tenant(config.tenant).filter(is_active=True).exclude(
        pk=config.pk
    ).update(is_active=False)
    config.is_active = True
    config.activated_at = timezone.now()
    config.save(update_fields=["is_active", "activated_at"])
    return config


__all__ = [
    "active_config",
    "config_mark_active",
    "config_save",
    "default_config",
]
