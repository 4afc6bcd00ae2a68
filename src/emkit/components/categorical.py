"""Categorical components: one discrete symbol per sample.

Component ``k`` emits symbol ``s`` with probability ``probabilities[k, s]``.
The sufficient statistic of a component is the weighted count of each symbol,
``sum_n r_nk [x_n = s]``; the M-step normalises the counts (plus Dirichlet
pseudo-counts under a prior). Mixtures and HMMs use the same methods, like
:class:`emkit.components.gaussian.GaussianComponent`.

Every method is a pure function of its arguments.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, xlogy

from .._validation import check_levels_below
from .families import SimplexRowsMixin

__all__ = ["CategoricalComponent", "check_symbols"]


def check_symbols(X, n_symbols=None, name="X"):
    """Validate categorical observations and return them as an int64 column.

    Parameters
    ----------
    X : array-like of shape (n_samples,) or (n_samples, 1)
        Non-negative integer symbols (integral floats are accepted).
    n_symbols : int or None
        Size of the alphabet; every symbol must be below it.

    Returns
    -------
    symbols : ndarray of shape (n_samples, 1), int64

    Raises
    ------
    ValueError
        For NaN, non-integer or negative symbols, symbols outside the
        alphabet, or more than one column; the message names ``name`` and the fix.
    """
    try:
        array = np.asarray(X)
        if array.dtype == object:
            array = array.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must contain integer symbols 0, 1, ..., n_features - 1; "
                         f"encode labels with sklearn.preprocessing.LabelEncoder.") from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] != 1:
        raise ValueError(f"{name} must have shape (n_samples, 1): one symbol per sample; "
                         f"got shape {array.shape}.")
    if array.shape[0] == 0:
        raise ValueError(f"{name} has no samples.")
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.bool_)):
        if not np.issubdtype(array.dtype, np.number):
            raise ValueError(f"{name} must contain integer symbols; got dtype {array.dtype}. "
                             f"Encode labels with sklearn.preprocessing.LabelEncoder.")
        if np.isnan(array).any():
            raise ValueError(f"{name} contains NaN; missing observations are supported only "
                             f"by GaussianHMM. Drop those samples (split the sequence with "
                             f"`lengths`) or impute them.")
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            bad = array[~(np.isfinite(array) & (array == np.round(array)))][:3].tolist()
            raise ValueError(f"{name} must contain integer symbols 0, 1, ..., n_features - 1; "
                             f"got non-integer values such as {bad}. Encode labels with "
                             f"sklearn.preprocessing.LabelEncoder.")
    symbols = array.astype(np.int64)
    if symbols.min() < 0:
        raise ValueError(f"{name} must contain non-negative symbols; got {symbols.min()}.")
    check_levels_below(symbols, n_symbols, name, kind="symbol",
                       advice=f"refit with a larger n_features (now {n_symbols}).")
    return symbols


class CategoricalComponent(SimplexRowsMixin):
    """Categorical emission/component family, configured for one fit.

    Parameters
    ----------
    n_symbols : int
        Size of the alphabet S.
    concentration : float or ndarray of shape (K, S) or (S,) or None
        Dirichlet prior on every component's probability vector (MAP);
        ``concentration - 1`` are pseudo-counts. None (or all ones) is
        maximum likelihood.
    fixed : frozenset of str
        As in every family (see :mod:`emkit.components.protocol`).

    Notes
    -----
    Parameters are a dict with ``"probabilities"`` of shape (K, S), rows on
    the simplex. Statistics: ``"symbol_counts"`` of shape (K, S).
    """

    param_names = ("probabilities",)

    def __init__(self, n_symbols, *, concentration=None, fixed=frozenset()):
        self.n_symbols = int(n_symbols)
        self.concentration = concentration
        self.fixed = frozenset(fixed)

    # -- E-step ---------------------------------------------------------------
    def features(self, X_chunk):
        """The symbols of a chunk as indices, shape (n,)."""
        return np.asarray(X_chunk, dtype=np.intp).reshape(-1)

    def plan(self, params):
        """Log-probabilities transposed, shape (S, K): a gather per sample."""
        with np.errstate(divide="ignore"):
            return np.ascontiguousarray(np.log(params["probabilities"]).T)

    def log_prob(self, plan, features):
        """``log p(x_n | k)`` for every sample and component, shape (n, K)."""
        return plan[features]

    def stats(self, resp, features):
        """Weighted symbol counts of every component, shape (K, S), float64."""
        K = resp.shape[1]
        counts = np.empty((K, self.n_symbols))
        for k in range(K):
            counts[k] = np.bincount(features, weights=resp[:, k], minlength=self.n_symbols)
        return {"symbol_counts": counts}

    # -- M-step ---------------------------------------------------------------
    def _alpha(self, K):
        if self.concentration is None:
            return None
        return np.broadcast_to(np.asarray(self.concentration, dtype=np.float64),
                               (K, self.n_symbols))

    def m_step(self, counts, stats, params):
        """MAP (or maximum-likelihood) probabilities from summed symbol counts."""
        if "probabilities" in self.fixed and params is not None:
            return {"probabilities": params["probabilities"]}
        symbol_counts = stats["symbol_counts"]
        alpha = self._alpha(symbol_counts.shape[0])
        numerators = symbol_counts if alpha is None else symbol_counts + alpha - 1.0
        numerators = np.maximum(numerators, 0.0)
        totals = numerators.sum(axis=1, keepdims=True)
        # An empty component (no weight, flat prior) keeps a uniform vector.
        uniform = np.full_like(numerators, 1.0 / self.n_symbols)
        with np.errstate(invalid="ignore", divide="ignore"):
            probabilities = np.where(totals > 0, numerators / totals, uniform)
        return {"probabilities": probabilities}

    def log_prior(self, params):
        """Dirichlet log-density of every component's probabilities (0 if flat)."""
        probabilities = params["probabilities"]
        alpha = self._alpha(probabilities.shape[0])
        if alpha is None or np.all(alpha == 1.0):
            return 0.0
        log_norm = gammaln(alpha.sum(axis=1)) - gammaln(alpha).sum(axis=1)
        return float((log_norm + xlogy(alpha - 1.0, probabilities).sum(axis=1)).sum())

    # -- helpers --------------------------------------------------------------
    def sample(self, params, component, n_samples, rng):
        """``n_samples`` symbols from ``component``, shape (n_samples, 1)."""
        return rng.choice(self.n_symbols, size=n_samples,
                          p=params["probabilities"][component])[:, None]

    def n_free_parameters(self, n_components):
        """Free scalars: ``K (S - 1)`` (0 when fixed)."""
        return 0 if "probabilities" in self.fixed else n_components * (self.n_symbols - 1)
