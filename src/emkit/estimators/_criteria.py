"""Likelihood-based criteria shared by estimators that have ``score_samples``
and ``n_parameters``."""

from __future__ import annotations

import numpy as np

from .._validation import check_sample_weight

__all__ = ["LikelihoodCriteriaMixin"]


class LikelihoodCriteriaMixin:
    """``score`` (mean log-likelihood), ``bic`` and ``aic`` from ``score_samples``."""

    def score(self, X, y=None, sample_weight=None):
        """Mean log-likelihood per sample (weighted by ``sample_weight``)."""
        total, n = self._total_log_prob(X, sample_weight)
        return total / n

    def bic(self, X, sample_weight=None):
        """Bayesian information criterion (lower is better)."""
        total, n = self._total_log_prob(X, sample_weight)
        return -2.0 * total + self.n_parameters() * np.log(n)

    def aic(self, X, sample_weight=None):
        """Akaike information criterion (lower is better)."""
        total, _ = self._total_log_prob(X, sample_weight)
        return -2.0 * total + 2.0 * self.n_parameters()

    def _total_log_prob(self, X, sample_weight):
        log_prob = self.score_samples(X)
        weights = check_sample_weight(sample_weight, log_prob.shape[0])
        if weights is None:
            return float(log_prob.sum()), float(log_prob.shape[0])
        return float(weights @ log_prob), float(weights.sum())
