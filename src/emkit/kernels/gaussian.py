"""Compiled row-wise pass of the Gaussian E-step.

The E-step's heavy products are BLAS matrix products (see
:mod:`emkit.components.gaussian`); what is left is row-wise work over the
(n, K) quadratic forms. Written as numpy expressions it takes several passes
over memory; here it is one pass that keeps a row in registers.
Serial on purpose, between multi-threaded BLAS products (see
:mod:`emkit.kernels.mixture`). All functions take plain arrays (float32 or float64).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["log_density_from_quadratic"]


@numba.njit(cache=True, nogil=True)
def _log_density_from_quadratic(quadratic, offsets, log_norm):
    n, K = quadratic.shape
    for row in range(n):
        for k in range(K):
            value = quadratic[row, k] + offsets[k]
            # Rounding in the expanded quadratic can dip below zero at a mean.
            if value < 0.0:
                value = 0.0
            quadratic[row, k] = log_norm[k] - 0.5 * value


def log_density_from_quadratic(quadratic, offsets, log_norm):
    """In place: ``log_norm - 0.5 * max(quadratic + offsets, 0)``.

    Parameters
    ----------
    quadratic : ndarray of shape (n, K), C-contiguous, overwritten
    offsets, log_norm : ndarray of shape (K,)
    """
    dtype = quadratic.dtype
    _log_density_from_quadratic(quadratic, offsets.astype(dtype), log_norm.astype(dtype))
    return quadratic
