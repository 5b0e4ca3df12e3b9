"""A user's profile vector in a space, computed on read from their recent events and text, the
events weighted by days and by position from the current session (engine.profiles.Recency)."""

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from django.utils import timezone

from recommender.engine.profiles import Recency, profile_vector
from recommender.models.vectors import EmbeddingSpace
from recommender.stores import user_reads


@dataclass
class UserProfile:
    """The profile vector (None for a cold user) and the evidence behind it."""

    vector: npt.NDArray[np.float32] | None
    # Positively weighted items with vectors: (item_id, interaction type, weight).
    evidence: list[tuple[int, str, float]] = field(default_factory=list)
    evidence_vectors: npt.NDArray[np.float32] | None = None
    has_text: bool = False


def user_profile(
    *,
    user_id: int,
    space: EmbeddingSpace,
    config: dict,
    reading: user_reads.UserReading | None = None,
) -> UserProfile:
    """`reading` (the user's events and vectors read with `space` as the content space) spares
    the query when the caller has it already."""
    if reading is None:
        reading = user_reads.read_user(
            user_id=user_id,
            recent=config["profile"]["max_events"],
            exclude_types=(),
            content_space=space,
            cf_space=None,
            version_id=None,
            now=timezone.now(),
        )
    events, vectors, text = reading.recent, reading.item_vectors, reading.text_vector
    types = config["interactions"]["types"]
    events = [e for e in events if e[1] in types and e[0] in vectors]
    weights = Recency.from_config(config).event_weights(
        [float(types[kind]) for _, kind, _ in events], [age for _, _, age in events]
    )
    matrix = (
        np.stack([vectors[item] for item, _, _ in events])
        if events
        else np.zeros((0, space.dimension), dtype=np.float32)
    )
    vector = profile_vector(matrix, weights, text, float(config["profile"]["text_weight"]))
    evidence = [
        (item, kind, float(weight))
        for (item, kind, _), weight in zip(events, weights, strict=True)
        if weight > 0
    ]
    evidence_vectors = np.stack([vectors[item] for item, _, _ in evidence]) if evidence else None
    return UserProfile(
        vector=vector,
        evidence=evidence,
        evidence_vectors=evidence_vectors,
        has_text=text is not None,
    )
