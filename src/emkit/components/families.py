"""Pieces that several component families share, written once.

Each mixin works on the family's single fitted parameter, named by its
``param_names[0]`` (``"rates"``, ``"probabilities"``).
"""

from __future__ import annotations

import numpy as np

from .coordinates import simplex_from_unconstrained, simplex_to_unconstrained

__all__ = ["IndependentPriorMixin", "SimplexRowsMixin"]


class IndependentPriorMixin:
    """A conjugate prior on every entry of the parameter (Beta on Bernoulli
    probabilities, Gamma on Poisson rates), and mean-value imputation."""

    def log_prior(self, params):
        """Log-density of the prior at every entry, summed (0 without a prior)."""
        if self.prior is None:
            return 0.0
        return float(np.sum(self.prior.logpdf(params[self.param_names[0]])))

    def impute_values(self, params, resp):
        """Conditional expectation of every feature given a sample's posterior
        ``resp`` (n, K): ``resp @ parameter``, shape (n, D) (for imputation)."""
        return resp @ params[self.param_names[0]]


class SimplexRowsMixin:
    """Unconstrained coordinates of probability rows: log-probabilities,
    normalised back by a softmax; exact zeros (padding, structural zeros)
    stay zero."""

    def to_unconstrained(self, params):
        """Log-probabilities of every row, flattened."""
        return simplex_to_unconstrained(params[self.param_names[0]])

    def from_unconstrained(self, vector, template):
        """Probabilities from log-probabilities (None if invalid)."""
        name = self.param_names[0]
        if name in self.fixed:
            return {name: template[name]}
        probabilities = simplex_from_unconstrained(vector, template[name])
        return None if probabilities is None else {name: probabilities}
