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

from .._validation import check_discrete_samples
from .counts import safe_counts
from .families import IndependentPriorMixin
from .observed import START_PSEUDO_COUNT, observed_totals, safe_feature_totals, split_missing

__all__ = ["PoissonComponent", "check_counts"]

# log(rate) of a zero rate: finite so that a zero count times it is exactly 0
# in the matrix product (0 * -inf would be NaN), and so negative that any
# positive count makes the component impossible in practice.
_LOG_ZERO_RATE = -1e4


def check_counts(X, n_features=None, name="X", *, allow_nan=False, nan_hint=None,
                 owner="the model"):
    """Validate Poisson observations: a 2-D array of non-negative integers.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Counts (integral floats accepted).
    nan_hint : str or None
        The fix a NaN message names (None: the HMMs' advice, as they take
        no missing counts).
    n_features, name, allow_nan, owner
        As in :func:`emkit._validation.check_discrete_samples`, which also
        gives the result (float64, of shape (n_samples, n_features)) and the
        errors: for negative or non-integer counts here.
    """
    if nan_hint is None:
        nan_hint = ("Missing observations are supported only by GaussianHMM. Drop those "
                    "samples (split the sequence with `lengths`) or impute them.")
    return check_discrete_samples(
        X, kind="counts", name=name, n_features=n_features, allow_nan=allow_nan,
        nan_hint=nan_hint, owner=owner, integer_hint="Round them, or use a Gaussian model for continuous "
                                         "data.")


class PoissonComponent(IndependentPriorMixin):
    """Poisson emission/component family, configured for one fit.

    Parameters
    ----------
    n_features : int
    prior : emkit.priors.Gamma or None
        Gamma(shape, rate) prior on every rate (MAP); None is maximum likelihood.
    fixed, allow_missing
        As in every family (see :mod:`emkit.components.protocol`); a
        missing entry is a missing count.
    start_off_zero : bool
        The first M-step (from starting responsibilities, ``params`` None)
        adds half a count in one observation to every cell, so that no start
        has a zero rate, which EM could never leave (see
        :data:`~emkit.components.observed.START_PSEUDO_COUNT`).

    Notes
    -----
    Parameters are a dict with ``"rates"`` of shape (K, D). Statistics:
    ``"count_sums"`` of shape (K, D), and with ``allow_missing`` also
    ``"observed"`` (K, D), the responsibility that observed each feature.
    """

    param_names = ("rates",)

    def __init__(self, n_features, *, prior=None, fixed=frozenset(), allow_missing=False,
                 start_off_zero=False):
        self.n_features = int(n_features)
        self.prior = prior
        self.fixed = frozenset(fixed)
        self.allow_missing = bool(allow_missing)
        self.start_off_zero = bool(start_off_zero)

    # -- E-step ---------------------------------------------------------------
    def features(self, X_chunk):
        """``(counts, sum_d log(x_d!), observed)`` of a chunk: (n, D) float64,
        (n,) and the observed-entry mask (n, D) or None (nothing missing)."""
        if self.allow_missing:
            counts, observed = split_missing(X_chunk)
        else:
            counts, observed = np.asarray(X_chunk, dtype=np.float64), None
        return counts, gammaln(counts + 1.0).sum(axis=1), observed

    def plan(self, params):
        """``(log rates transposed (D, K), total rate (K,), rates transposed (D, K))``."""
        rates = params["rates"]
        with np.errstate(divide="ignore"):
            log_rates = np.log(rates)
        log_rates = np.maximum(log_rates, _LOG_ZERO_RATE)
        return np.ascontiguousarray(log_rates.T), rates.sum(axis=1), rates.T

    def log_prob(self, plan, features):
        """``log p(x_n | k)`` for every sample and component, shape (n, K);
        missing entries contribute nothing."""
        log_rates_T, total_rate, rates_T = plan
        counts, log_factorials, observed = features
        log_prob = counts @ log_rates_T
        if observed is None:
            log_prob -= total_rate
        else:
            log_prob -= observed @ rates_T
        log_prob -= log_factorials[:, None]
        return log_prob

    def stats(self, resp, features):
        """Weighted count sums of every component, shape (K, D), float64
        (and the observed totals when missing entries are allowed)."""
        counts, _, observed = features
        stats = {"count_sums": np.asarray(resp.T @ counts, dtype=np.float64)}
        if self.allow_missing:
            stats["observed"] = observed_totals(resp, observed, self.n_features)
        return stats

    # -- M-step ---------------------------------------------------------------
    def m_step(self, counts, stats, params):
        """MAP (or maximum-likelihood) rates from summed statistics.

        ``(sum_n r_nk x_nd + shape - 1) / (sum_n r_nk + rate)`` under a
        Gamma(shape, rate) prior, the weighted mean without one; with missing
        entries the sums run over the samples that observed feature ``d``.
        """
        if "rates" in self.fixed and params is not None:
            return {"rates": params["rates"]}
        count_sums = stats["count_sums"]
        observed = stats.get("observed")
        if params is None and self.start_off_zero:
            # The start: off the zero rate EM cannot leave.
            count_sums = count_sums + START_PSEUDO_COUNT
            observed = (counts[:, None] if observed is None else observed) + 1.0
        if self.prior is None:
            numerators = count_sums
            denominators = (safe_counts(counts)[:, None] if observed is None
                            else safe_feature_totals(observed, counts))
        else:
            numerators = np.maximum(count_sums + self.prior.shape - 1.0, 0.0)
            denominators = (counts[:, None] if observed is None else observed) + self.prior.rate
        return {"rates": numerators / denominators}

    # -- unconstrained coordinates (accelerated steppers) -----------------------
    def to_unconstrained(self, params):
        """Log-rates, flattened (a zero rate at a finite stand-in)."""
        with np.errstate(divide="ignore"):
            return np.maximum(np.log(params["rates"]), _LOG_ZERO_RATE).ravel()

    def from_unconstrained(self, vector, template):
        """Rates from log-rates (None when one overflows: an extrapolation past
        any rate the data could give); ``template`` holds fixed rates and the shape."""
        if "rates" in self.fixed:
            return {"rates": template["rates"]}
        with np.errstate(over="ignore"):
            rates = np.exp(vector)
        if not np.isfinite(rates).all():
            return None
        return {"rates": rates.reshape(np.shape(template["rates"]))}

    # -- helpers --------------------------------------------------------------
    def sample(self, params, component, n_samples, rng):
        """``n_samples`` count vectors from ``component``, shape (n_samples, D)."""
        return rng.poisson(params["rates"][component], size=(n_samples, self.n_features))

    def n_free_parameters(self, n_components):
        """Free scalars: ``K D`` (0 when fixed)."""
        return 0 if "rates" in self.fixed else n_components * self.n_features
