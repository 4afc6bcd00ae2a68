"""Missing entries in families that are products over features.

When every feature of a sample is independent given the component (Poisson
counts, Bernoulli bits, categorical levels), a missing entry (NaN, missing
at random) integrates out exactly: it drops out of that sample's likelihood,
and each feature's M-step divides by the responsibility of the samples that
*observed* it rather than by the component's total. These helpers are that
bookkeeping, written once for every such family.
"""

from __future__ import annotations

import numpy as np

from .counts import safe_counts

__all__ = ["split_missing", "observed_totals", "safe_feature_totals", "initial_fill",
           "START_PSEUDO_COUNT"]

# Half an observation added to every cell by the first M-step (from starting
# responsibilities) only: a hard start whose members all share a value would
# otherwise put a probability (or rate) at exactly 0 or 1, a point EM can
# never leave (a zero likelihood gets zero responsibility), although the
# likelihood rises inwards. Later M-steps are exact.
START_PSEUDO_COUNT = 0.5


def split_missing(X_chunk):
    """Values with NaN entries zeroed, and the mask of observed entries.

    Parameters
    ----------
    X_chunk : ndarray of shape (n, D)

    Returns
    -------
    values : ndarray of shape (n, D), float64
        ``X_chunk`` itself (as float64) when nothing is missing, else a copy
        with NaN replaced by 0 (so that products with it skip those entries).
    observed : ndarray of shape (n, D), float64, or None
        1 where an entry is observed, 0 where it is missing; None when the
        chunk has no missing entry (the callers' fast path, which then gives
        exactly the complete-data arithmetic).
    """
    values = np.asarray(X_chunk, dtype=np.float64)
    missing = np.isnan(values)
    if not missing.any():
        return values, None
    return np.where(missing, 0.0, values), (~missing).astype(np.float64)


def observed_totals(resp, observed, n_features):
    """Responsibility of the samples that observed each feature, shape (K, D).

    Parameters
    ----------
    resp : ndarray of shape (n, K)
        Responsibilities (already multiplied by any sample weights).
    observed : ndarray of shape (n, D) or None
        :func:`split_missing`'s mask; None means every entry is observed.
    n_features : int
    """
    if observed is None:
        totals = resp.sum(axis=0, dtype=np.float64)
        return np.repeat(totals[:, None], n_features, axis=1)
    return np.asarray(resp.T @ observed, dtype=np.float64)


def safe_feature_totals(totals, counts):
    """Per-feature totals kept away from zero with the guard of
    :func:`~emkit.components.counts.safe_counts` (relative to the total
    weight), so a feature no sample of a component observed divides safely.

    Parameters
    ----------
    totals : ndarray of shape (K, D)
    counts : ndarray of shape (K,)
        The components' total responsibilities (the guard's scale).
    """
    floor = safe_counts(np.append(np.zeros(1), counts))[0]
    return np.maximum(totals, floor)


def initial_fill(X):
    """``X`` with NaN replaced by its column means (0 for an all-missing
    column), for starting strategies that measure distances (k-means++).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples, n_features)
        ``X`` itself when nothing is missing.
    """
    missing = np.isnan(X)
    if not missing.any():
        return X
    observed = (~missing).sum(axis=0)
    means = np.where(observed > 0, np.where(missing, 0.0, X).sum(axis=0) / np.maximum(observed, 1),
                     0.0)
    return np.where(missing, means, X)
