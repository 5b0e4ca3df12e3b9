"""Single-row changes to items, users and events (PATCH and DELETE of the API)."""

from typing import Any

from django.db import transaction

from recommender.models import EndUser, Interaction, Item
from recommender.selectors import access_item_by_external_id, access_user_by_external_id
from recommender.services.ingest.rows import (
    item_content_hash,
    parse_partial_item,
    parse_partial_user,
    single_fault,
)
from recsys_platform.errors import ApplicationError, NotFoundError


def _check_body(payload: Any, external_id: str, parse: Any) -> dict[str, Any]:
    changes, errors = single_fault(payload, parse)
    if errors:
        raise ApplicationError("validation_error", errors.items[0]["message"], details=errors.items)
    if isinstance(payload, dict) and "id" in payload and payload["id"] != external_id:
        raise ApplicationError(
            "validation_error",
            "The id in the body differs from the id in the URL; ids cannot be changed.",
            details=[{"field": "id", "message": "must equal the id in the URL"}],
        )
    return changes


@transaction.atomic
def item_update(*, external_id: str, payload: Any) -> Item:
    item = access_item_by_external_id(external_id)
    changes = _check_body(payload, external_id, parse_partial_item)
    for name, value in changes.items():
        setattr(item, name, value)
    item.content_hash = item_content_hash(item.title, item.description, item.categories)
    item.save()
    return item


@transaction.atomic
def item_delete(*, external_id: str) -> None:
    access_item_by_external_id(external_id).delete()


@transaction.atomic
def user_update(*, external_id: str, payload: Any) -> EndUser:
    user = access_user_by_external_id(external_id)
    changes = _check_body(payload, external_id, parse_partial_user)
    for name, value in changes.items():
        setattr(user, name, value)
    user.save()
    return user


@transaction.atomic
def interaction_delete(*, event_id: str) -> None:
    """Delete the tenant's event with this `event_id` (a bad event sent by mistake).

    Training reads what is stored, so the next model version no longer sees it.
    """
    deleted, _ = Interaction.objects.filter(event_id=event_id).delete()
    if not deleted:
        raise NotFoundError(f"No interaction with event_id {event_id!r}.")


@transaction.atomic
def user_interactions_delete(*, external_id: str) -> int:
    """Delete every event of the user (the user stays); return how many were deleted."""
    user = access_user_by_external_id(external_id)
    deleted, _ = Interaction.objects.filter(user=user).delete()
    return deleted
