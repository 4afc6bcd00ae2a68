"""Compiled assignment pass of Lloyd's k-means.

After one BLAS product of the chunk with the centres, every row needs the
nearest centre, its exact squared distance, and its addition to that
centre's sum: one pass over the rows here instead of several numpy passes
(argmin, gather, scatter-add) over the (n, K) distances and (n, D) rows.
Serial and GIL-free: the engine runs chunks on all cores.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["assign_and_accumulate"]


@numba.njit(cache=True, nogil=True)
def _assign_and_accumulate(X, centers, cross, center_norms, weights, use_weights, labels,
                           distances, sums, counts):
    n, D = X.shape
    K = centers.shape[0]
    for row in range(n):
        best = 0
        best_value = np.inf
        for k in range(K):
            # ||x - c||^2 up to ||x||^2, which is the same for every centre.
            value = center_norms[k] - 2.0 * cross[row, k]
            if value < best_value:
                best_value = value
                best = k
        labels[row] = best
        # The exact squared distance (the expanded form cancels near a centre).
        total = 0.0
        for d in range(D):
            difference = X[row, d] - centers[best, d]
            total += difference * difference
        weight = weights[row] if use_weights else 1.0
        distances[row] = total
        counts[best] += weight
        for d in range(D):
            sums[best, d] += weight * X[row, d]


def assign_and_accumulate(X, centers, sample_weight=None, offset=None):
    """Nearest centre of every row, its squared distance, and per-centre sums.

    The nearest centre minimises ``|c'|^2 + 2 o.c' - 2 x.c'`` with
    ``c' = c - o`` for an offset ``o`` near the data (their mean): the terms
    common to all centres (``|x|^2``, ``|o|^2``, ``x.o``) are dropped, and
    the products are of the size of the data's spread, not of its distance
    from the origin, without a centred copy of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, D), float64, C-contiguous
    centers : ndarray of shape (K, D), float64, C-contiguous
    sample_weight : ndarray of shape (n,) or None
    offset : ndarray of shape (D,) or None
        ``o`` above (None: the origin).

    Returns
    -------
    labels : ndarray of shape (n,), intp
    distances : ndarray of shape (n,)
        Exact squared Euclidean distance to the nearest centre.
    sums : ndarray of shape (K, D)
        Weighted sum of the rows assigned to every centre.
    counts : ndarray of shape (K,)
        Their total weight.
    """
    n = X.shape[0]
    K, D = centers.shape
    shifted = centers if offset is None else centers - offset
    cross = X @ shifted.T
    center_norms = np.einsum("kd,kd->k", shifted, shifted)
    if offset is not None:
        center_norms += 2.0 * shifted @ offset
    use_weights = sample_weight is not None
    weights = (np.ascontiguousarray(sample_weight, dtype=np.float64) if use_weights
               else np.empty(0))
    labels = np.empty(n, dtype=np.intp)
    distances = np.empty(n)
    sums = np.zeros((K, D))
    counts = np.zeros(K)
    _assign_and_accumulate(X, centers, cross, center_norms, weights, use_weights, labels,
                           distances, sums, counts)
    return labels, distances, sums, counts
