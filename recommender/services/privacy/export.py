"""Exporting one end user: everything the registry (user_data) names, as JSON-ready sections.

Vectors and factors are summarised (space, dimension, norm), not dumped: they are derived from the
profile and events, which are exported whole, and mean nothing outside the model that made them.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
from django.contrib.admin.models import LogEntry
from django.db.models import Model

from recommender.models import (
    EmbeddingSpace,
    EndUser,
    Interaction,
    Item,
    ModelVersion,
    ServedList,
    UserItems,
    UserVector,
)
from recommender.selectors import access_user_by_external_id
from recommender.services.privacy.user_data import USER_DATA


def _external_ids(user: EndUser, item_pks: set[int]) -> dict[int, str]:
    rows = Item.objects.unscoped().filter(tenant_id=user.tenant_id, pk__in=item_pks)
    return dict(rows.values_list("pk", "external_id"))


def _version_label(version_id: int | None, numbers: dict[int, int]) -> str | None:
    return f"v{numbers[version_id]}" if version_id in numbers else None


def _interactions(user: EndUser, rows: list[Model]) -> list[dict[str, Any]]:
    events: list[Interaction] = rows  # type: ignore[assignment]
    items = _external_ids(user, {event.item_id for event in events})
    return [
        {
            "item_id": items.get(event.item_id),
            "type": event.type,
            "value": event.value,
            "timestamp": event.timestamp.isoformat(),
            "event_id": event.event_id,
            "recommendation_id": event.recommendation_id,
            "received_at": event.received_at.isoformat(),
        }
        for event in sorted(events, key=lambda event: (event.timestamp, event.pk))
    ]


def _served_lists(user: EndUser, rows: list[Model]) -> list[dict[str, Any]]:
    lists: list[ServedList] = rows  # type: ignore[assignment]
    items = _external_ids(user, {pk for served in lists for pk in served.item_ids})
    numbers = _version_numbers({served.model_version_id for served in lists})
    return [
        {
            "recommendation_id": served.recommendation_id,
            "endpoint": served.endpoint,
            "item_ids": [items.get(pk) for pk in served.item_ids],
            "model_version": _version_label(served.model_version_id, numbers),
            "config_version": served.config_version,
            "created_at": served.created_at.isoformat(),
        }
        for served in sorted(lists, key=lambda served: (served.created_at, served.pk))
    ]


def _vectors(user: EndUser, rows: list[Model]) -> list[dict[str, Any]]:
    vectors: list[UserVector] = rows  # type: ignore[assignment]
    spaces = EmbeddingSpace.objects.unscoped().in_bulk({vector.space_id for vector in vectors})
    out = []
    for vector in sorted(vectors, key=lambda vector: vector.space_id):
        space = spaces[vector.space_id]
        out.append(
            {
                "space": space.pk,
                "purpose": space.purpose,
                "model": space.settings.get("model"),
                "dimension": space.dimension,
                "norm": round(float(np.linalg.norm(np.asarray(vector.embedding))), 6),
                "updated_at": vector.updated_at.isoformat(),
            }
        )
    return out


def _version_numbers(version_ids: set[int | None]) -> dict[int, int]:
    rows = ModelVersion.objects.unscoped().filter(pk__in={v for v in version_ids if v})
    return dict(rows.values_list("pk", "number"))


def _trained_lists(user: EndUser, rows: list[Model]) -> list[dict[str, Any]]:
    lists: list[UserItems] = rows  # type: ignore[assignment]
    items = _external_ids(user, {pk for entry in lists for pk in entry.item_ids})
    numbers = _version_numbers({entry.version_id for entry in lists})
    return [
        {
            "model_version": _version_label(entry.version_id, numbers),
            "source": entry.source,
            "item_ids": [items.get(pk) for pk in entry.item_ids],
            "scores": [round(score, 6) for score in entry.scores],
        }
        for entry in sorted(lists, key=lambda entry: (entry.version_id, entry.source))
    ]


def _admin_changes(user: EndUser, rows: list[Model]) -> list[dict[str, Any]]:
    entries: list[LogEntry] = rows  # type: ignore[assignment]
    return [
        {"action_time": entry.action_time.isoformat(), "change": entry.get_change_message()}
        for entry in sorted(entries, key=lambda entry: (entry.action_time, entry.pk))
    ]


Section = Callable[[EndUser, list[Model]], list[dict[str, Any]]]
# Every model of the registry but EndUser itself (the profile, rendered by the API).
SECTIONS: dict[type[Model], tuple[str, Section]] = {
    Interaction: ("interactions", _interactions),
    ServedList: ("served_lists", _served_lists),
    UserVector: ("vectors", _vectors),
    UserItems: ("trained_lists", _trained_lists),
    LogEntry: ("admin_changes", _admin_changes),
}


def user_export(*, external_id: str) -> tuple[EndUser, dict[str, list[dict[str, Any]]]]:
    """The user and every section of their data. Raises not_found for an unknown (or another
    tenant's) user."""
    user = access_user_by_external_id(external_id)
    sections: dict[str, list[dict[str, Any]]] = {}
    for entry in USER_DATA:
        if entry.model is EndUser:
            continue
        name, render = SECTIONS[entry.model]
        sections[name] = render(user, list(entry.rows(user)))
    return user, sections
