"""The inverse of EASE's regularised Gram matrix, on the GPU where a worker has one.

The dense inverse is most of the cost of EASE and text EASE (its time grows as n³). A training
worker with CUDA runs it in torch on the GPU; everywhere else LAPACK runs it in place on the CPU.
The device is the worker machine's, not a tenant's, so the environment chooses it:
`RECSYS_TRAINING_DEVICE` = `auto` (CUDA when torch sees it, the default), `cpu` or `cuda`
(refused when CUDA is absent rather than silently slower).
"""

from __future__ import annotations

import logging
import os

import numpy as np
import torch
from scipy.linalg import lapack

logger = logging.getLogger(__name__)

DEVICE_ENV = "RECSYS_TRAINING_DEVICE"
# Rows mirrored per step when LAPACK's triangle is copied to the other half.
_BLOCK = 1024


def training_device() -> torch.device:
    """The device dense training algebra runs on, from `RECSYS_TRAINING_DEVICE`."""
    requested = os.environ.get(DEVICE_ENV, "auto").strip().lower() or "auto"
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested not in ("cpu", "cuda"):
        raise ValueError(f"{DEVICE_ENV} must be auto, cpu or cuda, not {requested!r}")
    if requested == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{DEVICE_ENV}=cuda, but torch sees no CUDA device on this worker")
    return torch.device(requested)


def spd_inverse_in_place(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite float32 matrix, into `matrix` itself.

    On CUDA the matrix is copied to the GPU, inverted there (Cholesky) and copied back into the
    same buffer; a GPU too small for it falls back to the CPU path, logged."""
    device = training_device()
    if device.type == "cuda":
        try:
            return spd_inverse_torch(matrix, device)
        except torch.cuda.OutOfMemoryError:
            logger.warning(
                "GPU memory too small for a %d x %d inverse; inverting on the CPU", *matrix.shape
            )
            torch.cuda.empty_cache()
    return spd_inverse_lapack(matrix)


def spd_inverse_torch(matrix: np.ndarray, device: torch.device) -> np.ndarray:
    """The torch path (any device; CUDA in production, the CPU in this machine's tests)."""
    gram = torch.from_numpy(matrix).to(device)
    factor, info = torch.linalg.cholesky_ex(gram)
    del gram
    if int(info) != 0:
        raise ValueError(f"the regularised Gram matrix is not positive definite (torch {info})")
    inverse = torch.cholesky_inverse(factor)
    del factor
    matrix[...] = inverse.cpu().numpy()
    return matrix


def spd_inverse_lapack(matrix: np.ndarray) -> np.ndarray:
    """The CPU path: Cholesky in place, half the work of a general inverse and no second n x n
    buffer. LAPACK works on the Fortran view of the (symmetric) C array, and only its upper
    triangle is mirrored after."""
    n = matrix.shape[0]
    factor, info = lapack.spotrf(matrix.T, lower=False, clean=False, overwrite_a=True)
    if info == 0:
        factor, info = lapack.spotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise ValueError(f"the regularised Gram matrix is not positive definite (LAPACK {info})")
    # LAPACK filled the upper triangle of the Fortran view, i.e. the lower one of `matrix`.
    inverse = factor.T
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        inverse[start:stop, stop:] = inverse[stop:, start:stop].T
        block = inverse[start:stop, start:stop]
        block[np.triu_indices(stop - start, 1)] = block.T[np.triu_indices(stop - start, 1)]
    return inverse
