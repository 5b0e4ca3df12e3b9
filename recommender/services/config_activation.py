"""Activating a configuration version: what it needs (re-encoding when the serving space was
built with other encoder settings, retraining when a section training reads changed) is named
before, and started on activation. Rollback activates the version active before."""

from django.db import transaction

from recommender.engine.config_changes import Consequences, activation_consequences
from recommender.models import Interaction, Job, RecommenderConfig
from recommender.services.config import active_config, config_mark_active, with_defaults
from recommender.services.encoding.queue import encoding_request
from recommender.services.encoding.spaces import active_space, space_is_current
from recommender.services.training.queue import training_request
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant


def config_consequences(*, config: RecommenderConfig) -> Consequences:
    """What activating `config` would re-encode and retrain, against what serves now.

    Re-encoding is needed when the serving content space was built with other encoder settings
    (whatever the active version says, so a change a previous activation left unencoded counts).
    """
    tenant = config.tenant
    consequences = activation_consequences(active_config(tenant), with_defaults(config.data))
    encoder = with_defaults(config.data)["encoder"]
    space_stale = active_space(tenant.pk) is not None and not space_is_current(
        tenant_id=tenant.pk, encoder_config=encoder
    )
    if space_stale and not consequences.reencode:
        return Consequences(
            reencode=["encoder (the serving space differs)"], retrain=consequences.retrain
        )
    return consequences


@transaction.atomic
def config_activate(*, config: RecommenderConfig) -> tuple[RecommenderConfig, list[Job]]:
    """Make `config` the active version (a rollback when it is an older one) and start the
    encoding and training it needs; returns the version and the jobs queued."""
    consequences = config_consequences(config=config)
    config_mark_active(config=config)
    jobs: list[Job | None] = []
    # Each request skips a job of its kind already waiting. Encoding is debounced by a few
    # seconds; a training that runs before the new space serves reads the old vectors, and the
    # schedule retrains later.
    if consequences.reencode:
        jobs.append(encoding_request(tenant=config.tenant))
    has_events = Interaction.objects.for_tenant(config.tenant).exists()
    if consequences.retrain and has_events:
        jobs.append(training_request(tenant=config.tenant))
    return config, [job for job in jobs if job is not None]


def config_rollback(*, tenant: Tenant) -> tuple[RecommenderConfig, list[Job]]:
    """Activate the version that was active before the current one."""
    previous = (
        RecommenderConfig.objects.for_tenant(tenant)
        .filter(is_active=False, activated_at__isnull=False)
        .order_by("-activated_at")
        .first()
    )
    if previous is None:
        raise ApplicationError("no_rollback_target", "No earlier version was ever active.")
    return config_activate(config=previous)
