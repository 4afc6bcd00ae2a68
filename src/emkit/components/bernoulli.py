"""Bernoulli components: independent binary features.

Component ``k`` sets feature ``d`` to 1 with probability ``probabilities[k, d]``, so

    log p(x | k) = sum_d x_d logit(p_kd) + sum_d log(1 - p_kd)

is linear in ``x``: the log-densities of all components are one matrix
product ``X @ logit(p).T`` per chunk and the statistics one product
``resp.T @ X``. The M-step divides the weighted successes by the weights
(plus Beta pseudo-counts under a prior). A missing entry (NaN, with
``allow_missing``) drops out of its sample's likelihood and of its feature's
totals (see :mod:`emkit.components.observed`).

Every method is a pure function of its arguments.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from .._validation import check_discrete_samples
from .counts import safe_counts
from .families import IndependentPriorMixin
from .observed import START_PSEUDO_COUNT, observed_totals, safe_feature_totals, split_missing

__all__ = ["BernoulliComponent", "check_binary"]

# log of a zero probability: finite so that a zero entry times it is exactly 0
# in the matrix products (0 * -inf would be NaN), and so negative that the
# impossible outcome has probability 0 in float64 (as Poisson's zero rates).
_LOG_ZERO = -1e4


def check_binary(X, n_features=None, name="X", *, allow_nan=False, nan_hint="",
                 owner="the model"):
    """Validate Bernoulli observations: a 2-D array of 0s and 1s.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        0/1 entries (booleans and integral floats accepted).
    n_features, name, allow_nan, nan_hint, owner
        As in :func:`emkit._validation.check_discrete_samples`, which also
        gives the result (float64, of shape (n_samples, n_features)) and the
        errors: for values other than 0 and 1 here.
    """
    return check_discrete_samples(
        X, kind="binary values", name=name, n_features=n_features, maximum=1,
        allow_nan=allow_nan, nan_hint=nan_hint, owner=owner,
        integer_hint="Binarize them first (sklearn.preprocessing.Binarizer), or use a "
                     "CategoricalMixture for levels or a PoissonMixture for counts.")


def _log_both(probabilities):
    """``(log p, log(1 - p))`` with the finite floor for exact zeros."""
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(probabilities), _LOG_ZERO)
        log_q = np.maximum(np.log1p(-probabilities), _LOG_ZERO)
    return log_p, log_q


class BernoulliComponent(IndependentPriorMixin):
    """Bernoulli component family (independent binary features), configured for one fit.

    Parameters
    ----------
    n_features : int
    prior : emkit.priors.Beta or None
        Beta(a, b) prior on every probability (MAP), ``a - 1`` prior ones and
        ``b - 1`` prior zeros; None is maximum likelihood.
    fixed, allow_missing
        As in every family (see :mod:`emkit.components.protocol`).

    Notes
    -----
    Parameters are a dict with ``"probabilities"`` of shape (K, D), entries in
    [0, 1]. Statistics: ``"successes"`` (K, D), and with ``allow_missing``
    also ``"observed"`` (K, D), the responsibility that observed each feature.
    """

    param_names = ("probabilities",)

    def __init__(self, n_features, *, prior=None, fixed=frozenset(), allow_missing=False):
        self.n_features = int(n_features)
        self.prior = prior
        self.fixed = frozenset(fixed)
        self.allow_missing = bool(allow_missing)

    # -- E-step ---------------------------------------------------------------
    def features(self, X_chunk):
        """``(values, observed)``: (n, D) float64 with missing entries 0, and
        the observed-entry mask (n, D) or None (nothing missing)."""
        if self.allow_missing:
            return split_missing(X_chunk)
        return np.asarray(X_chunk, dtype=np.float64), None

    def plan(self, params):
        """``(logits transposed (D, K), sum_d log(1 - p_kd) (K,), log(1 - p) transposed)``."""
        log_p, log_q = _log_both(params["probabilities"])
        return np.ascontiguousarray((log_p - log_q).T), log_q.sum(axis=1), \
            np.ascontiguousarray(log_q.T)

    def log_prob(self, plan, features):
        """``log p(x_n | k)`` for every sample and component, shape (n, K);
        missing entries contribute nothing."""
        logits_T, total_log_q, log_q_T = plan
        values, observed = features
        log_prob = values @ logits_T
        if observed is None:
            log_prob += total_log_q
        else:
            log_prob += observed @ log_q_T
        return log_prob

    def stats(self, resp, features):
        """Weighted successes of every component and feature, shape (K, D)
        (and the observed totals when missing entries are allowed)."""
        values, observed = features
        stats = {"successes": np.asarray(resp.T @ values, dtype=np.float64)}
        if self.allow_missing:
            stats["observed"] = observed_totals(resp, observed, self.n_features)
        return stats

    # -- M-step ---------------------------------------------------------------
    def m_step(self, counts, stats, params):
        """MAP (or maximum-likelihood) probabilities from summed statistics.

        ``(s_kd + a - 1) / (n_kd + a + b - 2)`` under a Beta(a, b) prior, with
        ``s_kd`` the weighted ones and ``n_kd`` the weight that observed the
        feature; the weighted mean ``s_kd / n_kd`` without one. The first
        M-step (``params`` None) adds half a one and half a zero to every cell
        (see :data:`~emkit.components.observed.START_PSEUDO_COUNT`).
        """
        if "probabilities" in self.fixed and params is not None:
            return {"probabilities": params["probabilities"]}
        successes = stats["successes"]
        observed = stats.get("observed")
        if params is None:  # the start: off the boundary EM cannot leave
            successes = successes + START_PSEUDO_COUNT
            observed = (counts[:, None] if observed is None else observed) \
                + 2 * START_PSEUDO_COUNT
        if self.prior is None:
            totals = (safe_counts(counts)[:, None] if observed is None
                      else safe_feature_totals(observed, counts))
            probabilities = successes / totals
        else:
            totals = counts[:, None] if observed is None else observed
            a, b = self.prior.a - 1.0, self.prior.b - 1.0
            probabilities = (successes + a) / (totals + a + b)
        # Rounding may put s/n a hair outside [0, 1].
        return {"probabilities": np.clip(probabilities, 0.0, 1.0)}

    # -- unconstrained coordinates (accelerated steppers) -----------------------
    def to_unconstrained(self, params):
        """Logits, flattened (exact 0 and 1 at finite stand-ins)."""
        log_p, log_q = _log_both(params["probabilities"])
        return (log_p - log_q).ravel()

    def from_unconstrained(self, vector, template):
        """Probabilities from logits; ``template``'s exact 0s and 1s stay (EM
        never moves them) and it holds fixed probabilities and the shape."""
        current = template["probabilities"]
        if "probabilities" in self.fixed:
            return {"probabilities": current}
        if not np.isfinite(vector).all():
            return None
        probabilities = expit(vector.reshape(np.shape(current)))
        probabilities = np.where((current == 0.0) | (current == 1.0), current, probabilities)
        return {"probabilities": probabilities}

    # -- helpers --------------------------------------------------------------
    def sample(self, params, component, n_samples, rng):
        """``n_samples`` binary vectors from ``component``, shape (n_samples, D)."""
        probabilities = params["probabilities"][component]
        return (rng.uniform(size=(n_samples, self.n_features)) < probabilities).astype(
            np.float64)

    def n_free_parameters(self, n_components):
        """Free scalars: ``K D`` (0 when fixed)."""
        return 0 if "probabilities" in self.fixed else n_components * self.n_features
