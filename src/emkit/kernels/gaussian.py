"""Compiled row-wise passes of the Gaussian E-step.

The E-step's heavy products are BLAS matrix products (see
:mod:`emkit.components.gaussian`); what is left is row-wise work over the
(n, K) and (n, width) arrays. Written as numpy expressions it takes a dozen
passes over memory; here each is one pass that keeps a row in registers.
Serial on purpose, between multi-threaded BLAS products (see
:mod:`emkit.kernels.mixture`). All functions take plain arrays (float32 or float64).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["upper_features", "log_density_from_quadratic"]


@numba.njit(cache=True, nogil=True)
def _upper_features(centered, out):
    n, D = centered.shape
    for row in range(n):
        column = 0
        for i in range(D):
            xi = centered[row, i]
            for j in range(i, D):
                out[row, column] = xi * centered[row, j]
                column += 1
        for i in range(D):
            out[row, column + i] = centered[row, i]


def upper_features(centered, out=None):
    """Upper triangle of ``x x^T`` then ``x`` for every row, shape (n, D(D+1)/2 + D).

    Parameters
    ----------
    centered : ndarray of shape (n, D)
    out : ndarray of shape (n, D(D+1)/2 + D), optional

    Returns
    -------
    features : ndarray, same dtype as ``centered``
    """
    n, D = centered.shape
    if out is None:
        out = np.empty((n, D * (D + 1) // 2 + D), dtype=centered.dtype)
    _upper_features(np.ascontiguousarray(centered), out)
    return out


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
