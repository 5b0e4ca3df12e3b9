"""Content source: cosine between a user's profile vector and item vectors.

A user's profile is `profiles.profile_vector` of the vectors of the items in their matrix row,
weighted by the row (already type-weighted and decayed), blended with their text vector. With
`recency` and the `events` passed to `fit`, the row is the user's newest events weighted as
serving weighs them (`profiles.Recency`: by days and by position from the current session).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recommender.engine.data import InteractionMatrix
from recommender.engine.profiles import Recency, Vectors, history_rows, profile_vector
from recommender.engine.sources.base import NO_OPINION, CandidateSource, Rows, Scores
from recommender.engine.sources.registry import SourceSpec

_ZERO = 1e-12


class ContentSource(CandidateSource):
    """Scores items by cosine similarity to the user's profile vector.

    Inputs (not settings; the service builds them):
    - item_vectors: (n_items, d) float32 aligned with `data.items`; zero rows for items without
      a vector, which then have no opinion.
    - user_text_vectors: optional {user database id: (d,) float32} from profile texts.

    Settings:
    - text_weight: share of the text vector in a profile that has both (default 0.3).
    - recency: how a user's events weigh in their profile (the `profile` section); None
      weighs the matrix row.

    Users with neither events on vectorised items nor a text vector have no opinion anywhere.
    """

    name = "content"

    def __init__(
        self,
        item_vectors: Vectors,
        user_text_vectors: Mapping[int, Vectors] | None = None,
        text_weight: float = 0.3,
        recency: Recency | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 <= text_weight <= 1.0:
            raise ValueError("text_weight must be between 0 and 1")
        vectors = np.asarray(item_vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError("item_vectors must be an (n_items, dim) array")
        norms = np.linalg.norm(vectors, axis=1)
        self.has_vector = norms > _ZERO
        # Re-normalised defensively: cosine must not depend on what the encoder promised.
        self.item_vectors = vectors / np.maximum(norms, _ZERO)[:, None]
        self.user_text_vectors = dict(user_text_vectors or {})
        self.text_weight = float(text_weight)
        self.recency = recency
        self._profile_rows: sp.csr_matrix | None = None

    def _fit(self, data: InteractionMatrix, **context: Any) -> None:
        if len(self.item_vectors) != data.n_items:
            raise ValueError(
                f"item_vectors has {len(self.item_vectors)} rows for {data.n_items} items"
            )
        events = context.get("events")
        self._profile_rows = (
            history_rows(events, data, self.recency).profile
            if self.recency is not None and events is not None
            else None
        )

    def profile(
        self,
        item_cols: Rows,
        weights: npt.NDArray[np.float64],
        text_vector: Vectors | None = None,
    ) -> Vectors | None:
        """Unit profile (d,) from items and weights (any user, trained or not), or None."""
        cols = np.asarray(item_cols, dtype=np.int64)
        return profile_vector(
            self.item_vectors[cols], np.asarray(weights, np.float64), text_vector, self.text_weight
        )

    def user_profiles(self, user_rows: Rows) -> tuple[Vectors, npt.NDArray[np.bool_]]:
        """(len(user_rows), d) unit profiles of matrix rows, and which users have one."""
        rows = np.asarray(user_rows, dtype=np.int64)
        matrix = self._profile_rows if self._profile_rows is not None else self.data.matrix
        profiles = np.zeros((len(rows), self.item_vectors.shape[1]), dtype=np.float32)
        has_profile = np.zeros(len(rows), dtype=bool)
        for n, row in enumerate(rows):
            start, stop = matrix.indptr[row], matrix.indptr[row + 1]
            text = self.user_text_vectors.get(int(self.data.user_ids[row]))
            vector = self.profile(matrix.indices[start:stop], matrix.data[start:stop], text)
            if vector is not None:
                profiles[n] = vector
                has_profile[n] = True
        return profiles, has_profile

    def score_profiles(
        self, profiles: Vectors, has_profile: npt.NDArray[np.bool_] | None = None
    ) -> Scores:
        """Cosine of unit profiles against every item; NO_OPINION for missing vectors/profiles."""
        scores = (np.asarray(profiles, dtype=np.float32) @ self.item_vectors.T).astype(np.float32)
        scores[:, ~self.has_vector] = NO_OPINION
        if has_profile is not None:
            scores[~has_profile] = NO_OPINION
        return scores

    def score(self, user_rows: Rows) -> Scores:
        return self.score_profiles(*self.user_profiles(user_rows))

    def similar_items(self, item_cols: Rows, k: int) -> tuple[npt.NDArray[np.int64], Scores]:
        cols = np.asarray(item_cols, dtype=np.int64)
        scores = self.score_profiles(self.item_vectors[cols], self.has_vector[cols])
        return self._similar_from_scores(cols, scores, k)


SPEC = SourceSpec(
    name="content",
    factory=ContentSource,
    artifact="content_vectors",
    default_weight=0.5,
    personal=True,
    similar_items=True,
    user_phrase="Matches your profile",
    item_phrase="Similar in description to {seed}",
    prepare=lambda inputs: (
        None
        if inputs.content_vectors is None
        else {
            "item_vectors": inputs.content_vectors,
            "text_weight": float(inputs.config["profile"]["text_weight"]),
            "recency": Recency.from_config(inputs.config),
        }
    ),
    unavailable="no item vectors yet (encoding has not run)",
)
