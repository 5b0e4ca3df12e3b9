"""What serves a tenant now: its active configuration, model version and embedding spaces, read
by id in one query per request and built once per process."""

from dataclasses import dataclass, replace
from typing import Any

from recommender import candidate_store
from recommender.models import EmbeddingSpace, ModelVersion, RecommenderConfig
from recommender.services.config import active_config, with_defaults
from recommender.services.serving.process_cache import ProcessCache
from recommender.services.serving.tuned import with_tuned_settings
from recommender.services.serving.variants import Variant, variant_for
from tenants.models import Tenant


@dataclass
class Serving:
    """What a request serves from: configuration, model version and spaces."""

    tenant: Tenant
    config: dict[str, Any]
    config_version: int | None
    version: ModelVersion | None
    content_space: EmbeddingSpace | None
    cf_space: EmbeddingSpace | None
    # The A/B variant whose configuration replaced the active one for this request.
    variant: Variant | None = None

    def weight(self, source: str) -> float:
        return float(self.config["sources"][source]["weight"])

    def trained(self, source: str) -> bool:
        return self.version is not None and source in self.version.sources


# Serving state by (tenant, config id, version id, space ids): every request reads the ids in one
# query, so a new configuration, version or space serves from the next request on, while the
# validated configuration and model rows are built once per process.
_servings: ProcessCache[Serving] = ProcessCache(max_entries=256)


def _build_serving(tenant: Tenant, state: candidate_store.ServingState) -> Serving:
    config_id, version_id, content_id, cf_id = state[:4]
    config_row = (
        RecommenderConfig.objects.for_tenant(tenant).filter(pk=config_id).first()
        if config_id
        else None
    )
    spaces = {
        s.pk: s
        for s in EmbeddingSpace.objects.for_tenant(tenant).filter(
            pk__in=[pk for pk in (content_id, cf_id) if pk]
        )
    }
    version = (
        ModelVersion.objects.for_tenant(tenant).filter(pk=version_id).first()
        if version_id
        else None
    )
    config_version = config_row.version if config_row else None
    config = active_config(tenant) if config_row is None else with_defaults(config_row.data)
    return Serving(
        tenant=tenant,
        config=with_tuned_settings(config, version, config_version),
        config_version=config_version,
        version=version,
        content_space=spaces.get(content_id) if content_id else None,
        cf_space=spaces.get(cf_id) if cf_id else None,
    )


def _serving_in_state(
    tenant: Tenant, state: candidate_store.ServingState, config: dict[str, Any] | None
) -> Serving:
    key = (tenant.pk, *state[:4])
    serving = _servings.get_or_compute(key, lambda: _build_serving(tenant, state))
    serving = replace(serving, tenant=tenant)
    if config is not None:
        serving.config = config
    return serving


def serving_for(tenant: Tenant, config: dict[str, Any] | None = None) -> Serving:
    """What serves the tenant now; `config` replaces the active configuration (a draft preview)."""
    return _serving_in_state(tenant, candidate_store.serving_state(tenant.pk), config)


def serving_for_user(
    tenant: Tenant, user_external_id: str, config: dict[str, Any] | None = None
) -> tuple[Serving, int | None]:
    """serving_for, and the id of the tenant's user (None: a visitor never seen, served as
    anonymous), in the same round trip. Another tenant's user is as unknown as a missing one
    (the lookup takes the tenant's id).

    Under a running experiment the user's variant replaces the active configuration, unless
    `config` (a draft preview) does."""
    state = candidate_store.serving_state(tenant.pk, user_external_id)
    serving = _serving_in_state(tenant, state, config)
    if config is None and state.experiment_id is not None:
        variant = variant_for(tenant, state.experiment_id, user_external_id)
        if variant is not None:
            serving = replace(
                serving,
                config=variant.config,
                config_version=variant.config_version,
                variant=variant,
            )
    return serving, state.user_id
