"""Compiled row normalisation shared by every mixture-type E-step.

Adding log-weights, the log-sum-exp over components and the division into
responsibilities are one pass per row here instead of a handful of numpy
passes over the whole (n, K) array. The pass is deliberately serial: it sits
between two multi-threaded BLAS products, and a numba parallel region started
while OpenBLAS's threads still spin after a product waits for them (measured:
0.72 s per iteration instead of 0.15 s on the 200,000 x 16 benchmark). The
BLAS products are the bulk of the work and keep both cores busy.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._fastmath import exp_nonpos

__all__ = ["normalize_rows"]


# Re-association lets LLVM vectorise the row sums; no nnan/ninf flags, since
# the -inf checks must keep IEEE semantics. exp_nonpos is called, not
# inlined at the numba level, so its rounding trick keeps its own flags.
@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract", "nsz", "arcp"})
def _normalize_rows(log_prob, log_weights, sample_weight, use_weights, log_norm):
    n, K = log_prob.shape
    for row in range(n):
        row_max = -np.inf
        for k in range(K):
            value = log_prob[row, k] + log_weights[k]
            log_prob[row, k] = value
            if value > row_max:
                row_max = value
        if row_max == -np.inf:
            # No component gives this sample any density.
            for k in range(K):
                log_prob[row, k] = 0.0
            log_norm[row] = -np.inf
            continue
        total = 0.0
        for k in range(K):
            probability = exp_nonpos(log_prob[row, k] - row_max)
            log_prob[row, k] = probability
            total += probability
        scale = 1.0 / total
        if use_weights:
            scale *= sample_weight[row]
        for k in range(K):
            log_prob[row, k] *= scale
        log_norm[row] = row_max + math.log(total)


def normalize_rows(log_prob, log_weights, sample_weight=None):
    """In place: add log-weights, turn rows into (weighted) responsibilities.

    Parameters
    ----------
    log_prob : ndarray of shape (n, K), C-contiguous
        Component log-densities; overwritten with ``w_n p(k | x_n)``.
    log_weights : ndarray of shape (K,)
    sample_weight : ndarray of shape (n,) or None

    Returns
    -------
    log_norm : ndarray of shape (n,), float64
        ``log p(x_n)``.
    """
    n = log_prob.shape[0]
    log_norm = np.empty(n, dtype=np.float64)
    dtype = log_prob.dtype
    use_weights = sample_weight is not None
    weights = (np.asarray(sample_weight, dtype=dtype) if use_weights
               else np.empty(0, dtype=dtype))
    _normalize_rows(log_prob, np.asarray(log_weights, dtype=dtype), weights, use_weights,
                    log_norm)
    return log_norm
