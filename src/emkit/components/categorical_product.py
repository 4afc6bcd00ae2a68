"""Several categorical features per sample, each with its own number of levels.

Given the component, the features are independent, so the family is a
product of one :class:`~emkit.components.categorical.CategoricalComponent`
per feature: the log-density of a sample is the sum of its features'
log-probabilities, the statistics are every feature's weighted level counts,
and each feature's M-step is its own categorical M-step. A missing level
(NaN, with ``allow_missing``) drops out of its sample's sum and of its
feature's counts; each feature's M-step normalises by the weight that
observed it, so missing entries are marginalised exactly.

Parameters are one padded array, ``"probabilities"`` of shape (K, D, L) with
``L = max(n_levels)``: ``probabilities[k, d, l]`` for ``l < n_levels[d]``,
exact zeros beyond (which the simplex coordinates of SQUAREM keep at zero).

Every method is a pure function of its arguments.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_discrete_samples, check_levels_below
from .categorical import CategoricalComponent
from .families import SimplexRowsMixin
from .observed import START_PSEUDO_COUNT

__all__ = ["CategoricalProductComponent", "check_levels"]


def check_levels(X, n_levels=None, name="X", *, n_features=None, allow_nan=False,
                 nan_hint="", owner="the model"):
    """Validate categorical observations: one integer level per feature.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Levels ``0, 1, ..., n_levels[d] - 1`` (integral floats accepted).
    n_levels : ndarray of int of shape (n_features,) or None
        Levels of every feature; every entry must be below its feature's.
    name, n_features, allow_nan, nan_hint, owner
        As in :func:`emkit._validation.check_discrete_samples`, which also
        gives the result (float64, of shape (n_samples, n_features)) and the
        errors: for non-integer or negative levels, or levels outside a
        feature's range, here.
    """
    X = check_discrete_samples(
        X, kind="levels", name=name, n_features=n_features, allow_nan=allow_nan,
        nan_hint=nan_hint, owner=owner,
        integer_hint="Encode categories as 0, 1, ... per feature "
                     "(sklearn.preprocessing.OrdinalEncoder).")
    check_levels_below(X, n_levels, name, kind="level",
                       advice="pass n_levels covering every level when fitting.")
    return X


class CategoricalProductComponent(SimplexRowsMixin):
    """Product of independent categorical features, configured for one fit.

    Parameters
    ----------
    n_levels : sequence of int of shape (n_features,)
        Levels of every feature (each >= 1).
    concentration : float or None
        Symmetric Dirichlet prior on every component's level probabilities of
        every feature (MAP); ``concentration - 1`` pseudo-counts per level.
    fixed, allow_missing
        As in every family (see :mod:`emkit.components.protocol`); a
        missing entry is a missing level.

    Notes
    -----
    Parameters: ``"probabilities"`` (K, D, L), padded with zeros (see the
    module docstring). Statistics: ``"level_counts"`` (K, D, L).
    """

    param_names = ("probabilities",)

    def __init__(self, n_levels, *, concentration=None, fixed=frozenset(),
                 allow_missing=False):
        self.n_levels = np.asarray(n_levels, dtype=np.intp)
        self.n_features = int(self.n_levels.size)
        self.max_levels = int(self.n_levels.max())
        self.concentration = concentration
        self.fixed = frozenset(fixed)
        self.allow_missing = bool(allow_missing)
        self.per_feature = [CategoricalComponent(int(S), concentration=concentration)
                          for S in self.n_levels]

    def _feature_params(self, params, d):
        return {"probabilities": params["probabilities"][:, d, :self.n_levels[d]]}

    # -- E-step ---------------------------------------------------------------
    def features(self, X_chunk):
        """Per feature ``(levels, observed rows or None)``: every missing
        level points at a zero row of the plan, so it adds nothing."""
        values = np.asarray(X_chunk, dtype=np.float64)
        missing = np.isnan(values) if self.allow_missing else None
        out = []
        for d, feature in enumerate(self.per_feature):
            if missing is not None and missing[:, d].any():
                levels = np.where(missing[:, d], self.n_levels[d], values[:, d])
                out.append((feature.features(levels), np.flatnonzero(~missing[:, d])))
            else:
                out.append((feature.features(values[:, d]), None))
        return out

    def plan(self, params):
        """Per feature its log-probabilities (S_d + 1, K), the last row 0 (missing)."""
        plans = []
        for d, feature in enumerate(self.per_feature):
            plan = feature.plan(self._feature_params(params, d))
            plans.append(np.vstack([plan, np.zeros((1, plan.shape[1]))]))
        return plans

    def log_prob(self, plan, features):
        """``log p(x_n | k)``, the sum over the features' log-probabilities, (n, K)."""
        log_prob = None
        for d, feature in enumerate(self.per_feature):
            term = feature.log_prob(plan[d], features[d][0])  # a new array (a gather)
            if log_prob is None:
                log_prob = term
            else:
                log_prob += term
        return log_prob

    def stats(self, resp, features):
        """Weighted level counts of every component and feature, (K, D, L)."""
        K = resp.shape[1]
        counts = np.zeros((K, self.n_features, self.max_levels))
        for d, feature in enumerate(self.per_feature):
            levels, observed = features[d]
            if observed is not None:
                levels, feature_resp = levels[observed], resp[observed]
            else:
                feature_resp = resp
            counts[:, d, :self.n_levels[d]] = feature.stats(feature_resp, levels)["symbol_counts"]
        return {"level_counts": counts}

    # -- M-step ---------------------------------------------------------------
    def m_step(self, counts, stats, params):
        """Every feature's categorical M-step (normalised by the weight that
        observed it), padded back into one array. The first M-step (``params``
        None) adds half an observation to every level (see
        :data:`~emkit.components.observed.START_PSEUDO_COUNT`)."""
        if "probabilities" in self.fixed and params is not None:
            return {"probabilities": params["probabilities"]}
        level_counts = stats["level_counts"]
        if params is None:  # the start: off the zero probabilities EM cannot leave
            level_counts = level_counts + START_PSEUDO_COUNT
        probabilities = np.zeros_like(level_counts)
        for d, feature in enumerate(self.per_feature):
            S = self.n_levels[d]
            probabilities[:, d, :S] = feature.m_step(
                counts, {"symbol_counts": level_counts[:, d, :S]}, None)["probabilities"]
        return {"probabilities": probabilities}

    def log_prior(self, params):
        """Sum of the features' Dirichlet log-densities (0 without a prior)."""
        return float(sum(feature.log_prior(self._feature_params(params, d))
                         for d, feature in enumerate(self.per_feature)))

    def impute_values(self, params, resp):
        """Most probable level of every feature given a sample's posterior
        ``resp`` (n, K): ``argmax_l sum_k r_nk p_kdl``, shape (n, D)."""
        probabilities = params["probabilities"]
        mixed = np.einsum("nk,kdl->ndl", resp, probabilities)
        return mixed.argmax(axis=2).astype(np.float64)

    # -- helpers --------------------------------------------------------------
    def sample(self, params, component, n_samples, rng):
        """``n_samples`` level vectors from ``component``, shape (n_samples, D)."""
        return np.hstack([feature.sample(self._feature_params(params, d), component,
                                         n_samples, rng)
                          for d, feature in enumerate(self.per_feature)])

    def n_free_parameters(self, n_components):
        """Free scalars: ``K sum_d (S_d - 1)`` (0 when fixed)."""
        if "probabilities" in self.fixed:
            return 0
        return int(sum(feature.n_free_parameters(n_components) for feature in self.per_feature))
