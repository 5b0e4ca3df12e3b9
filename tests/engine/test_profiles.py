"""Profile vectors: decay, weighting, blending with text."""

import numpy as np
import pytest

from recommender.engine.profiles import cosine_matrix, decayed_weights, profile_vector

E1 = np.array([1.0, 0.0, 0.0], dtype=np.float32)
E2 = np.array([0.0, 1.0, 0.0], dtype=np.float32)
E3 = np.array([0.0, 0.0, 1.0], dtype=np.float32)


def test_weights_halve_every_half_life() -> None:
    weights = decayed_weights([8.0, 8.0, 8.0, 2.0], [0.0, 30.0, 60.0, -5.0], 30.0)
    np.testing.assert_allclose(weights, [8.0, 4.0, 2.0, 2.0])


def test_profile_is_the_weighted_mean_direction() -> None:
    vector = profile_vector(np.stack([E1, E2]), np.array([3.0, 1.0]), None, 0.3)
    assert vector is not None
    np.testing.assert_allclose(vector, np.array([3.0, 1.0, 0.0]) / np.sqrt(10), atol=1e-6)


def test_dislikes_push_away() -> None:
    vector = profile_vector(np.stack([E1, E2]), np.array([1.0, -1.0]), None, 0.3)
    assert vector is not None
    assert vector @ E2 < 0 < vector @ E1


def test_text_blend_share() -> None:
    vector = profile_vector(np.stack([E1]), np.array([5.0]), E3 * 7, 0.25)
    assert vector is not None
    expected = np.array([0.75, 0.0, 0.25])
    np.testing.assert_allclose(vector, expected / np.linalg.norm(expected), atol=1e-6)


@pytest.mark.parametrize(
    ("vectors", "text", "expected"),
    [
        (np.zeros((0, 3), dtype=np.float32), E3, E3),
        (np.zeros((0, 3), dtype=np.float32), None, None),
    ],
)
def test_text_only_and_nothing(
    vectors: np.ndarray, text: np.ndarray | None, expected: np.ndarray | None
) -> None:
    result = profile_vector(vectors, np.zeros(len(vectors)), text, 0.3)
    if expected is None:
        assert result is None
    else:
        assert result is not None
        np.testing.assert_allclose(result, expected)


def test_cosine_matrix() -> None:
    sims = cosine_matrix(np.stack([E1, E1 + E2]), np.stack([E1, E2 * 5]))
    np.testing.assert_allclose(sims, [[1.0, 0.0], [np.sqrt(0.5), np.sqrt(0.5)]], atol=1e-6)
