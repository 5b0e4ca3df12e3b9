"""The dense inverse of EASE's Gram matrix: the torch path (CUDA in production) and LAPACK's agree,
and the device comes from the environment."""

from collections.abc import Callable

import numpy as np
import pytest
import torch

from recommender.engine.sources.dense_inverse import (
    DEVICE_ENV,
    spd_inverse_in_place,
    spd_inverse_lapack,
    spd_inverse_torch,
    training_device,
)


def _gram(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    events = (rng.random((4 * n, n)) < 0.05).astype(np.float32)
    gram = events.T @ events
    gram[np.diag_indices(n)] += 5.0
    return gram


def test_the_torch_path_and_lapack_give_the_same_inverse() -> None:
    gram = _gram(300)
    expected = np.linalg.inv(gram.astype(np.float64))
    by_lapack = spd_inverse_lapack(gram.copy())
    by_torch = spd_inverse_torch(gram.copy(), torch.device("cpu"))
    assert np.allclose(by_lapack, expected, atol=1e-5)
    assert np.allclose(by_torch, expected, atol=1e-5)
    assert np.allclose(by_torch, by_torch.T)


def test_the_inverse_is_written_into_the_given_buffer() -> None:
    gram = _gram(64, seed=1)
    buffer = gram.copy()
    result = spd_inverse_torch(buffer, torch.device("cpu"))
    assert np.shares_memory(result, buffer)
    assert np.allclose(buffer @ gram, np.eye(64), atol=1e-4)


@pytest.mark.parametrize(
    "invert", [spd_inverse_lapack, lambda m: spd_inverse_torch(m, torch.device("cpu"))]
)
def test_a_matrix_that_is_not_positive_definite_is_refused(
    invert: Callable[[np.ndarray], np.ndarray],
) -> None:
    singular = np.ones((5, 5), dtype=np.float32)
    singular[np.diag_indices(5)] = 0.0
    with pytest.raises(ValueError, match="not positive definite"):
        invert(singular)


def test_the_device_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    has_cuda = torch.cuda.is_available()
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    assert training_device().type == ("cuda" if has_cuda else "cpu")
    monkeypatch.setenv(DEVICE_ENV, "cpu")
    assert training_device().type == "cpu"
    monkeypatch.setenv(DEVICE_ENV, "tpu")
    with pytest.raises(ValueError, match="auto, cpu or cuda"):
        training_device()
    monkeypatch.setenv(DEVICE_ENV, "cuda")
    if has_cuda:
        assert training_device().type == "cuda"
    else:
        with pytest.raises(ValueError, match="no CUDA device"):
            training_device()


def test_the_chosen_path_inverts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    gram = _gram(128, seed=2)
    inverse = spd_inverse_in_place(gram.copy())
    assert np.allclose(inverse @ gram, np.eye(128), atol=1e-4)
