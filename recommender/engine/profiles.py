"""User profile vectors: time-decayed, type-weighted means of item vectors, blended with text."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


def decayed_weights(
    type_weights: Sequence[float], ages_days: Sequence[float], half_life_days: float
) -> npt.NDArray[np.float64]:
    """Weight of each event: its type's weight halved every `half_life_days` of age (age ≥ 0)."""
    ages = np.maximum(np.asarray(ages_days, dtype=np.float64), 0.0)
    return np.asarray(type_weights, dtype=np.float64) * np.power(0.5, ages / half_life_days)


def _unit(vector: npt.NDArray[np.floating]) -> Vectors | None:
    norm = float(np.linalg.norm(vector))
    if norm < 1e-12:
        return None
    return (vector / norm).astype(np.float32)


def profile_vector(
    item_vectors: Vectors,
    weights: npt.NDArray[np.float64],
    text_vector: Vectors | None,
    text_weight: float,
) -> Vectors | None:
    """Unit profile vector, or None when there is nothing to build one from.

    item_vectors: (n, dim) float32 of the items the user interacted with (rows may repeat);
    weights: (n,) event weights (negative for dislikes); text_vector: (dim,) or None.
    The event part is normalised before blending so `text_weight` means the same share whatever
    the number of events.
    """
    events = None
    if len(item_vectors):
        events = _unit(weights.astype(np.float64) @ item_vectors.astype(np.float64))
    text = _unit(text_vector.astype(np.float64)) if text_vector is not None else None
    if events is None:
        return text
    if text is None:
        return events
    return _unit((1.0 - text_weight) * events + text_weight * text)


def cosine_matrix(a: Vectors, b: Vectors) -> npt.NDArray[np.float32]:
    """(n, d) x (m, d) → (n, m) cosine similarities."""
    a_unit = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b_unit = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return (a_unit @ b_unit.T).astype(np.float32)
