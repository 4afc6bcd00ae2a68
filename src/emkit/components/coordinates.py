"""Unconstrained coordinates of constrained parameters (for accelerated steppers).

SQUAREM (see :mod:`emkit._engine.accel`) extrapolates in coordinates where any
vector is a valid parameter: probability rows become log-probabilities
(normalised back by a softmax), rates and variances become logs, covariance
matrices Cholesky factors with a log-diagonal (see
:class:`~emkit.components.gaussian.GaussianComponent`). Every model family
maps its parameters through these.
"""

from __future__ import annotations

import numpy as np

__all__ = ["simplex_to_unconstrained", "simplex_from_unconstrained"]

# log of a zero probability: finite, so extrapolation stays finite; a zero
# entry is restored exactly from the template (EM never revives a zero).
_LOG_TINY = float(np.log(np.finfo(np.float64).tiny))


def simplex_to_unconstrained(probabilities):
    """Log-probabilities of rows on the simplex, flattened.

    Parameters
    ----------
    probabilities : ndarray of shape (..., n)
        Rows summing to 1 along the last axis.

    Returns
    -------
    ndarray of shape (probabilities.size,)
    """
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(probabilities), _LOG_TINY).ravel()


def simplex_from_unconstrained(vector, template):
    """Rows on the simplex from :func:`simplex_to_unconstrained`'s coordinates.

    Parameters
    ----------
    vector : ndarray of shape (template.size,)
    template : ndarray of shape (..., n)
        Current probabilities: their shape, and their exact zeros, which stay zero.

    Returns
    -------
    ndarray of the template's shape, or None when ``vector`` is not finite
    or would make a positive probability of ``template`` zero (below the
    smallest normal float): a zero is a fixed point of EM, so such a step
    would shut a state, transition or component off for good.
    """
    if not np.isfinite(vector).all():
        return None
    template = np.asarray(template)
    logs = vector.reshape(template.shape)
    rows = np.exp(logs - logs.max(axis=-1, keepdims=True))
    free = template > 0
    rows = np.where(free, rows, 0.0)
    total = rows.sum(axis=-1, keepdims=True)
    if not (total > 0).all():
        return None
    rows = rows / total
    if (rows[free] < np.finfo(np.float64).tiny).any():
        return None
    return rows
