"""A user's profile vector in a space, computed on read from their recent events and text."""

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.utils import timezone

from recommender import vectorstore
from recommender.engine.profiles import decayed_weights, profile_vector
from recommender.models import EndUser
from recommender.models.vectors import EmbeddingSpace


@dataclass
class UserProfile:
    """The profile vector (None for a cold user) and the evidence behind it."""

    vector: npt.NDArray[np.float32] | None
    seen_item_ids: set[int] = field(default_factory=set)
    # Positively weighted items with vectors: (item_id, interaction type, weight).
    evidence: list[tuple[int, str, float]] = field(default_factory=list)
    evidence_vectors: npt.NDArray[np.float32] | None = None
    has_text: bool = False


def _recent_events(user: EndUser, limit: int) -> list[tuple[int, str, float]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT item_id, type, EXTRACT(EPOCH FROM (%s - timestamp)) / 86400.0"
            " FROM recommender_interaction WHERE user_id = %s"
            " ORDER BY timestamp DESC LIMIT %s",
            [timezone.now(), user.pk, limit],
        )
        return [(int(i), str(t), float(age)) for i, t, age in cursor.fetchall()]


def _seen_items(user: EndUser) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT item_id FROM recommender_interaction WHERE user_id = %s", [user.pk]
        )
        return {int(row[0]) for row in cursor.fetchall()}


def user_profile(
    *,
    user: EndUser,
    space: EmbeddingSpace,
    config: dict,
    recent_events: list[tuple[int, str, float]] | None = None,
    seen_item_ids: set[int] | None = None,
) -> UserProfile:
    """`recent_events` (item, type, age in days; newest first) and `seen_item_ids` spare the
    queries when the caller has read them already."""
    events = (
        recent_events
        if recent_events is not None
        else _recent_events(user, config["profile"]["max_events"])
    )
    types = config["interactions"]["types"]
    events = [e for e in events if e[1] in types]
    vectors = vectorstore.item_vectors(space, list({item for item, _, _ in events}))
    events = [e for e in events if e[0] in vectors]
    weights = decayed_weights(
        [float(types[kind]) for _, kind, _ in events],
        [age for _, _, age in events],
        float(config["interactions"]["half_life_days"]),
    )
    matrix = (
        np.stack([vectors[item] for item, _, _ in events])
        if events
        else np.zeros((0, space.dimension), dtype=np.float32)
    )
    text = vectorstore.user_text_vector(space, user.pk)
    vector = profile_vector(matrix, weights, text, float(config["profile"]["text_weight"]))
    evidence = [
        (item, kind, float(weight))
        for (item, kind, _), weight in zip(events, weights, strict=True)
        if weight > 0
    ]
    evidence_vectors = np.stack([vectors[item] for item, _, _ in evidence]) if evidence else None
    return UserProfile(
        vector=vector,
        seen_item_ids=seen_item_ids if seen_item_ids is not None else _seen_items(user),
        evidence=evidence,
        evidence_vectors=evidence_vectors,
        has_text=text is not None,
    )
