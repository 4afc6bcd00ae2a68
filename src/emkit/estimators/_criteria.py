"""Likelihood-based criteria, written once for every estimator: the
(weighted) total log-likelihood, BIC and AIC, and a mixin that derives
``score``, ``bic`` and ``aic`` from ``score_samples`` and ``n_parameters``."""

from __future__ import annotations

import numpy as np

from .._engine.dask_data import is_dask_array, weighted_total
from .._validation import check_sample_weight

__all__ = ["LikelihoodCriteriaMixin", "aic_of", "bic_of", "total_log_prob"]


def total_log_prob(log_prob, sample_weight):
    """``(total, n)``: the log-likelihood of the samples and their number.

    Parameters
    ----------
    log_prob : ndarray or dask array of shape (n_samples,)
        Every sample's log-likelihood (a dask array is summed where its
        blocks live).
    sample_weight : array-like of shape (n_samples,) or None
        Frequency weights (validated here); ``n`` is then their sum.

    Returns
    -------
    total, n : float

    Examples
    --------
    >>> total_log_prob(np.array([-1.0, -3.0]), [1.0, 3.0])
    (-10.0, 4.0)
    """
    if is_dask_array(log_prob):
        return weighted_total(log_prob, sample_weight)
    weights = check_sample_weight(sample_weight, log_prob.shape[0])
    if weights is None:
        return float(log_prob.sum()), float(log_prob.shape[0])
    return float(weights @ log_prob), float(weights.sum())


def bic_of(total, n, n_parameters):
    """Bayesian information criterion ``-2 log L + n_parameters log(n)`` (lower is better)."""
    return -2.0 * total + n_parameters * np.log(n)


def aic_of(total, n_parameters):
    """Akaike information criterion ``-2 log L + 2 n_parameters`` (lower is better)."""
    return -2.0 * total + 2.0 * n_parameters


class LikelihoodCriteriaMixin:
    """``score`` (mean log-likelihood), ``bic`` and ``aic`` from ``score_samples``."""

    def score(self, X, y=None, sample_weight=None):
        """Mean log-likelihood per sample (weighted by ``sample_weight``)."""
        total, n = self._total_log_prob(X, sample_weight)
        return total / n

    def bic(self, X, sample_weight=None):
        """Bayesian information criterion (lower is better)."""
        return bic_of(*self._total_log_prob(X, sample_weight), self.n_parameters())

    def aic(self, X, sample_weight=None):
        """Akaike information criterion (lower is better)."""
        return aic_of(self._total_log_prob(X, sample_weight)[0], self.n_parameters())

    def _total_log_prob(self, X, sample_weight):
        return total_log_prob(self.score_samples(X), sample_weight)
