"""Guards on summed responsibilities, shared by every component family."""

from __future__ import annotations

import numpy as np

__all__ = ["safe_counts", "too_few_samples", "COUNT_FLOOR"]

# safe_counts' floor, relative to the total weight.
COUNT_FLOOR = 10 * np.finfo(np.float64).eps


def safe_counts(counts):
    """Counts kept away from zero (scikit-learn's guard for empty components),
    as a floor relative to the total so that tiny frequency weights are not
    swamped and non-empty components are not biased.

    Parameters
    ----------
    counts : ndarray of shape (K,)

    Returns
    -------
    ndarray of shape (K,)
    """
    # Array expressions only: numba compiles this very function into the
    # compiled mixture kernels (emkit.kernels.structured_gaussian).
    return np.maximum(counts, COUNT_FLOOR * max(float(np.sum(counts)), 1e-300))


def too_few_samples(counts, weight_unit, min_count):
    """The count rule of a collapse test: components on fewer than ``min_count``
    samples.

    One component on fewer samples than it needs is the data's own limit (no
    re-seed can mend it), so it counts only with several. Array expressions
    only, compiled as they are into the mixture kernels.

    Parameters
    ----------
    counts : ndarray of shape (K,)
        Summed (weighted) responsibilities.
    weight_unit : float
        The weight of one sample (``counts / weight_unit`` are samples).
    min_count : float

    Returns
    -------
    ndarray of bool, shape (K,)
    """
    samples = counts / weight_unit
    if counts.shape[0] == 1:
        return samples < min(min_count, float(samples.sum()))
    return samples < min_count
