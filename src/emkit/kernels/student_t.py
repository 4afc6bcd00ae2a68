"""Compiled row-wise passes of the Student-t E-step.

The heavy products (quadratic forms, weighted moments) are BLAS products of
the Gaussian feature kernels (:mod:`emkit.components.gaussian_ops`); what is
left is row-wise work over the (n, K) quadratic forms: the log-densities,
the latent scale weights ``u = (nu + D) / (nu + delta)`` and their
``log u - u``, one logarithm per entry, in one pass. Serial on purpose
(see :mod:`emkit.kernels.mixture`).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["t_log_density_from_quadratic", "t_scale_statistics"]


@numba.njit(cache=True, nogil=True)
def _t_log_density(quadratic, offsets, log_const, dofs, n_features, scale, log_scale):
    n, K = quadratic.shape
    for row in range(n):
        for k in range(K):
            distance = quadratic[row, k] + offsets[k]
            # Rounding in the expanded quadratic can dip below zero at a mean.
            if distance < 0.0:
                distance = 0.0
            nu = dofs[k]
            log_nu_delta = math.log(nu + distance)
            u = (nu + n_features) / (nu + distance)
            scale[row, k] = u
            log_scale[row, k] = math.log(nu + n_features) - log_nu_delta - u
            quadratic[row, k] = log_const[k] - 0.5 * (nu + n_features) * (
                log_nu_delta - math.log(nu))


def t_log_density_from_quadratic(quadratic, offsets, log_const, dofs, n_features):
    """Student-t log-densities from the quadratic forms, in place, with the scale weights.

    Parameters
    ----------
    quadratic : ndarray of shape (n, K), C-contiguous, overwritten
        ``F(x) @ weights`` of :func:`emkit.components.gaussian_ops.quadratic_plan`;
        adding ``offsets`` gives the squared Mahalanobis distances ``delta``.
    offsets, log_const, dofs : ndarray of shape (K,)
        ``log_const`` is ``log t_k`` at ``delta = 0``.
    n_features : int

    Returns
    -------
    log_prob : ndarray of shape (n, K)
        ``log_const - (nu + D)/2 log(1 + delta / nu)`` (``quadratic`` itself).
    scale : ndarray of shape (n, K)
        ``u = (nu + D) / (nu + delta)``, the posterior mean of the latent scale.
    log_scale : ndarray of shape (n, K)
        ``log u - u``.
    """
    dtype = quadratic.dtype
    scale = np.empty_like(quadratic)
    log_scale = np.empty_like(quadratic)
    _t_log_density(quadratic, offsets.astype(dtype), log_const.astype(dtype),
                   dofs.astype(dtype), float(n_features), scale, log_scale)
    return quadratic, scale, log_scale


@numba.njit(cache=True, nogil=True)
def _scale_statistics(resp, scale, log_scale, scaled, scale_counts, log_scale_sums):
    n, K = resp.shape
    for row in range(n):
        for k in range(K):
            r = resp[row, k]
            value = r * scale[row, k]
            scaled[row, k] = value
            scale_counts[k] += value
            log_scale_sums[k] += r * log_scale[row, k]


def t_scale_statistics(resp, scale, log_scale):
    """``r u`` per entry and the per-component sums of ``r u`` and ``r (log u - u)``.

    Parameters
    ----------
    resp, scale, log_scale : ndarray of shape (n, K), same dtype

    Returns
    -------
    scaled : ndarray of shape (n, K), the dtype of ``resp``
    scale_counts, log_scale_sums : ndarray of shape (K,), float64
    """
    K = resp.shape[1]
    scaled = np.empty_like(resp)
    scale_counts = np.zeros(K)
    log_scale_sums = np.zeros(K)
    _scale_statistics(np.ascontiguousarray(resp), np.ascontiguousarray(scale, dtype=resp.dtype),
                      np.ascontiguousarray(log_scale, dtype=resp.dtype), scaled, scale_counts,
                      log_scale_sums)
    return scaled, scale_counts, log_scale_sums
