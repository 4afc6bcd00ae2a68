"""Poisson components: independent counts in every feature.

Component ``k`` draws feature ``d`` from Poisson(``rates[k, d]``), so

    log p(x | k) = sum_d x_d log rate_kd - sum_d rate_kd - sum_d log(x_d!)

is linear in the features ``x``: the log-densities of all components are one
matrix product ``X @ log(rates).T`` per chunk, and the statistics one product
``resp.T @ X``. The M-step divides the weighted sums by the weights (plus
Gamma pseudo-counts under a prior). Mixtures and HMMs use the same methods,
like :class:`emkit.components.gaussian.GaussianComponent`.

Every method is a pure function of its arguments.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from .counts import safe_counts

__all__ = ["PoissonComponent", "check_counts"]

# log(rate) of a zero rate: finite so that a zero count times it is exactly 0
# in the matrix product (0 * -inf would be NaN), and so negative that any
# positive count makes the component impossible in practice.
_LOG_ZERO_RATE = -1e4


def check_counts(X, n_features=None, name="X"):
    """Validate Poisson observations: a 2-D array of non-negative integers.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64

    Raises
    ------
    ValueError
        For NaN, negative or non-integer counts or a wrong number of features;
        the message names ``name`` and the fix.
    """
    try:
        array = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must contain non-negative integer counts.") from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D of shape (n_samples, n_features); got shape "
                         f"{array.shape}.")
    if array.shape[0] == 0:
        raise ValueError(f"{name} has no samples.")
    if np.isnan(array).any():
        raise ValueError(f"{name} contains NaN; missing observations are supported only by "
                         f"GaussianHMM. Drop those samples (split the sequence with "
                         f"`lengths`) or impute them.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains infinity; counts must be finite.")
    if (array < 0).any():
        raise ValueError(f"{name} contains negative counts (minimum {array.min()}); Poisson "
                         f"observations are counts >= 0.")
    if not np.all(array == np.round(array)):
        raise ValueError(f"{name} must contain integer counts; got non-integer values. "
                         f"Round them, or use a GaussianHMM for continuous data.")
    if n_features is not None and array.shape[1] != n_features:
        raise ValueError(f"{name} has {array.shape[1]} features but the model was fitted "
                         f"with {n_features}.")
    return array


class PoissonComponent:
    """Poisson emission/component family, configured for one fit.

    Parameters
    ----------
    n_features : int
    prior : emkit.priors.Gamma or None
        Gamma(shape, rate) prior on every rate (MAP); None is maximum likelihood.
    fixed : frozenset of str
        ``{"rates"}`` holds them at their current values.

    Notes
    -----
    Parameters are a dict with ``"rates"`` of shape (K, D). Statistics:
    ``"count_sums"`` of shape (K, D).
    """

    param_names = ("rates",)

    def __init__(self, n_features, *, prior=None, fixed=frozenset()):
        self.n_features = int(n_features)
        self.prior = prior
        self.fixed = frozenset(fixed)

    # -- E-step ---------------------------------------------------------------
    def features(self, X_chunk):
        """``(counts, sum_d log(x_d!))`` of a chunk: (n, D) float64 and (n,)."""
        counts = np.asarray(X_chunk, dtype=np.float64)
        return counts, gammaln(counts + 1.0).sum(axis=1)

    def plan(self, params):
        """``(log rates transposed (D, K), total rate (K,))``."""
        rates = params["rates"]
        with np.errstate(divide="ignore"):
            log_rates = np.log(rates)
        log_rates = np.maximum(log_rates, _LOG_ZERO_RATE)
        return np.ascontiguousarray(log_rates.T), rates.sum(axis=1)

    def log_prob(self, plan, features):
        """``log p(x_n | k)`` for every sample and component, shape (n, K)."""
        log_rates_T, total_rate = plan
        counts, log_factorials = features
        log_prob = counts @ log_rates_T
        log_prob -= total_rate
        log_prob -= log_factorials[:, None]
        return log_prob

    def stats(self, resp, features):
        """Weighted count sums of every component, shape (K, D), float64."""
        counts, _ = features
        return {"count_sums": np.asarray(resp.T @ counts, dtype=np.float64)}

    # -- M-step ---------------------------------------------------------------
    def m_step(self, counts, stats, params):
        """MAP (or maximum-likelihood) rates from summed statistics.

        ``(sum_n r_nk x_nd + shape - 1) / (sum_n r_nk + rate)`` under a
        Gamma(shape, rate) prior, the weighted mean without one.
        """
        if "rates" in self.fixed and params is not None:
            return {"rates": params["rates"]}
        count_sums = stats["count_sums"]
        if self.prior is None:
            numerators = count_sums
            denominators = safe_counts(counts)
        else:
            numerators = np.maximum(count_sums + self.prior.shape - 1.0, 0.0)
            denominators = counts + self.prior.rate
        return {"rates": numerators / denominators[:, None]}

    def log_prior(self, params):
        """Gamma log-density of every rate (0 without a prior)."""
        if self.prior is None:
            return 0.0
        return float(np.sum(self.prior.logpdf(params["rates"])))

    # -- unconstrained coordinates (accelerated steppers) -----------------------
    def to_unconstrained(self, params):
        """Log-rates, flattened (a zero rate at a finite stand-in)."""
        with np.errstate(divide="ignore"):
            return np.maximum(np.log(params["rates"]), _LOG_ZERO_RATE).ravel()

    def from_unconstrained(self, vector, template):
        """Rates from log-rates; ``template`` holds fixed rates and the shape."""
        if "rates" in self.fixed:
            return {"rates": template["rates"]}
        return {"rates": np.exp(vector).reshape(np.shape(template["rates"]))}

    # -- helpers --------------------------------------------------------------
    def sample(self, params, component, n_samples, rng):
        """``n_samples`` count vectors from ``component``, shape (n_samples, D)."""
        return rng.poisson(params["rates"][component], size=(n_samples, self.n_features))

    def n_free_parameters(self, n_components):
        """Free scalars: ``K D`` (0 when fixed)."""
        return 0 if "rates" in self.fixed else n_components * self.n_features
