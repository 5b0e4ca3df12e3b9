"""Embedding spaces: which one serves, which one is being built, and the switch between them."""

from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from recommender import vectorstore
from recommender.models import Item
from recommender.models.vectors import EmbeddingSpace, settings_digest


def space_identity(encoder_config: dict[str, Any]) -> dict[str, Any]:
    """What makes vectors comparable: model, pooling, length, normalisation and the templates."""
    keys = ("model", "pooling", "max_length", "normalize", "item_template", "user_template")
    return {key: encoder_config[key] for key in keys}


CONTENT = EmbeddingSpace.Purpose.CONTENT


def active_space(tenant_id: int) -> EmbeddingSpace | None:
    """The content (text encoder) space that serves the tenant."""
    return (
        EmbeddingSpace.objects.unscoped()
        .filter(tenant_id=tenant_id, purpose=CONTENT, status=EmbeddingSpace.Status.ACTIVE)
        .first()
    )


def target_space(
    *, tenant_id: int, encoder_config: dict[str, Any], dimension: int
) -> EmbeddingSpace:
    """The space that encoding should fill for the current configuration.

    The active space when its settings match; otherwise the building space for these settings:
    an existing one, a retired one brought back (after a rollback its kept vectors serve again
    once the items changed since are encoded), or a new one. A tenant's first space is active at
    once: there is nothing to switch from. Its partitions are made (idempotently, so a crash in
    between heals on the next run) after the row's transaction: no DDL inside a write
    transaction.
    """
    space = _target_space_row(
        tenant_id=tenant_id, encoder_config=encoder_config, dimension=dimension
    )
    vectorstore.space_create(space)
    return space


@transaction.atomic
def _target_space_row(
    *, tenant_id: int, encoder_config: dict[str, Any], dimension: int
) -> EmbeddingSpace:
    identity = space_identity(encoder_config)
    digest = settings_digest(identity)
    spaces = (
        EmbeddingSpace.objects.unscoped()
        .select_for_update()
        .filter(tenant_id=tenant_id, purpose=CONTENT)
    )
    current = spaces.filter(status=EmbeddingSpace.Status.ACTIVE).first()
    if current is not None and current.settings_hash == digest:
        return current
    building = spaces.filter(status=EmbeddingSpace.Status.BUILDING, settings_hash=digest).first()
    if building is None:
        building = (
            spaces.filter(status=EmbeddingSpace.Status.RETIRED, settings_hash=digest)
            .order_by("-activated_at")
            .first()
        )
        if building is not None:
            building.status = EmbeddingSpace.Status.BUILDING
            # Its partitions, gone when its vectors were dropped, are made again after this
            # transaction (target_space: space_create).
            building.save(update_fields=["status"])
    if building is None:
        first = current is None
        building = EmbeddingSpace.objects.unscoped().create(
            tenant_id=tenant_id,
            settings=identity,
            settings_hash=digest,
            dimension=dimension,
            status=EmbeddingSpace.Status.ACTIVE if first else EmbeddingSpace.Status.BUILDING,
            activated_at=timezone.now() if first else None,
        )
    return building


def space_is_current(*, tenant_id: int, encoder_config: dict[str, Any]) -> bool:
    """Whether the serving content space was built with these encoder settings."""
    current = active_space(tenant_id)
    return current is not None and current.settings_hash == settings_digest(
        space_identity(encoder_config)
    )


@transaction.atomic
def space_activate(*, space: EmbeddingSpace) -> None:
    """Switch serving to a complete space and retire the previous one.

    The space just retired keeps its vectors and index, so rolling back to it (a configuration
    or a model version) re-encodes only what changed since; the one retired before it, which was
    the kept one until now, has its vectors dropped. At most one retired space per purpose holds
    vectors. Drops happen after commit (`vectorstore.drop_space` detaches partitions
    concurrently then).
    """
    others = (
        EmbeddingSpace.objects.unscoped()
        .select_for_update()
        .filter(tenant_id=space.tenant_id, purpose=space.purpose)
        .exclude(pk=space.pk)
    )
    previous_spaces = others.exclude(status=EmbeddingSpace.Status.RETIRED)
    if space.purpose == EmbeddingSpace.Purpose.COLLABORATIVE:
        # Only the serving one: a building CF space belongs to a training still under way.
        previous_spaces = others.filter(status=EmbeddingSpace.Status.ACTIVE)
    previous = list(previous_spaces)
    kept_until_now = (
        others.filter(status=EmbeddingSpace.Status.RETIRED, activated_at__isnull=False)
        .exclude(pk__in=[old.pk for old in previous])
        .order_by("-activated_at")
        .first()
    )
    if kept_until_now is not None and previous:
        space_drop_after_commit(kept_until_now)
    for old in previous:
        old.status = EmbeddingSpace.Status.RETIRED
        old.save(update_fields=["status"])
        if old.activated_at is None:  # a space that never served is not a rollback target
            space_drop_after_commit(old)
    space.status = EmbeddingSpace.Status.ACTIVE
    space.activated_at = timezone.now()
    space.save(update_fields=["status", "activated_at"])


def space_drop_after_commit(space: EmbeddingSpace) -> None:
    """Drop a retired space's partitions once the transaction that retired it commits (at once
    outside a transaction)."""
    transaction.on_commit(partial(vectorstore.drop_space, space))


def space_overview(*, space: EmbeddingSpace) -> dict[str, Any]:
    """What an operator sees of a space: vector counts, catalog coverage, index state."""
    counts = vectorstore.vector_counts(space)
    items = Item.objects.for_tenant(space.tenant).count()
    return {
        "item_vectors": counts["items"],
        "user_vectors": counts["users"],
        "items": items,
        "coverage_pct": round(100.0 * counts["items"] / items, 1) if items else 0.0,
        "index": vectorstore.index_state(space),
        "index_name": space.index_name,
    }


def space_query(*, space: EmbeddingSpace, query: str, count: int) -> list[dict[str, Any]]:
    """Top items of a space for a typed query (the operator's check that a space makes sense)."""
    from recommender.services.config import active_config
    from recommender.services.encoding.encoders import encoder_for, encoder_settings

    runtime = active_config(space.tenant)["encoder"]
    encoder = encoder_for(encoder_settings({**runtime, **space.settings}))
    neighbours = vectorstore.nearest_items(
        space, encoder.encode([query])[0], k=count, only_available=False
    )
    items = {
        pk: (external_id, title)
        for pk, external_id, title in Item.objects.for_tenant(space.tenant)
        .filter(pk__in=[n.item_id for n in neighbours])
        .values_list("pk", "external_id", "title")
    }
    return [
        {"id": items[n.item_id][0], "title": items[n.item_id][1], "similarity": n.similarity}
        for n in neighbours
    ]
