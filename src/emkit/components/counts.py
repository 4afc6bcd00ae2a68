"""Guards on summed responsibilities, shared by every component family."""

from __future__ import annotations

import numpy as np

__all__ = ["safe_counts"]


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
    return np.maximum(counts, 10 * np.finfo(np.float64).eps * max(float(np.sum(counts)), 1e-300))
