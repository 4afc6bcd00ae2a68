"""Mixtures of independent Poisson counts on emkit's EM engine."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.utils.validation import check_is_fitted

from .._engine.accel import ACCELERATIONS
from .._engine.dask_data import (
    DaskSampleData,
    check_dask_samples,
    is_dask_array,
    map_rows,
    weighted_mean,
)
from .._engine.data import SampleData
from .._engine.em import fit_em
from .._engine.init import INIT_METHODS, initial_responsibilities
from .._validation import (
    check_choice,
    check_integer,
    check_parameter_array,
    check_random_state,
    check_real,
    check_sample_weight,
    reject_complex,
)
from ..components.poisson import PoissonComponent, check_counts
from ..models.mixture import MixtureModel
from ._base import EMFitMixin

__all__ = ["PoissonMixture"]

_PARAM_NAMES = ("weights", "rates")


class PoissonMixture(EMFitMixin, DensityMixin, BaseEstimator):
    """Finite mixture of Poisson distributions (independent counts per feature).

    Component ``k`` draws every feature ``d`` of a sample from
    Poisson(``rates_[k, d]``); EM on the engine shared with every emkit model
    (restarts, monitor, SQUAREM).

    Parameters
    ----------
    n_components : int, default=1
    tol : float, default=1e-6
        Convergence threshold on the per-sample log-likelihood (see
        :class:`~emkit._engine.monitor.ConvergenceMonitor`).
    max_iter : int, default=1000
    n_init : int, default=10
        Restarts; the best run is kept.
    init_params : {"k-means++", "kmeans", "random", "random_from_data"}, default="k-means++"
    weights_init : array-like of shape (n_components,), optional
    rates_init : array-like of shape (n_components, n_features), optional
        Both given: one run from them.
    random_state : int, RandomState or None
    prior : emkit.priors.Gamma or None
        Gamma(shape, rate) prior on every rate (MAP).
    weight_concentration : float or None
        Dirichlet prior on the weights (MAP).
    fixed : tuple of {"weights", "rates"}, default=()
        Parameters held at their starting values.
    accelerate : {"none", "squarem"}, default="none"
        The engine's stepper (see :mod:`emkit._engine.accel`).
    verbose : int, default=0

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    rates_ : ndarray of shape (n_components, n_features)
    converged_, n_iter_, n_e_steps_, history_, lower_bound_ : see EMFitMixin

    Examples
    --------
    Hasselblad's (1969) deaths per day, as frequencies (R SQUAREM's example):

    >>> import numpy as np
    >>> from emkit import PoissonMixture
    >>> deaths = np.arange(10).reshape(-1, 1)
    >>> days = [162, 267, 271, 185, 111, 61, 27, 8, 3, 1]
    >>> model = PoissonMixture(2, weights_init=[0.3, 0.7], rates_init=[[1.0], [2.5]],
    ...                        tol=1e-12, accelerate="squarem").fit(deaths, sample_weight=days)
    >>> model.weights_.round(5), model.rates_.ravel().round(4)
    (array([0.35988, 0.64012]), array([1.2561, 2.6634]))
    """

    def __init__(self, n_components=1, *, tol=1e-6, max_iter=1000, n_init=10,
                 init_params="k-means++", weights_init=None, rates_init=None,
                 random_state=None, prior=None, weight_concentration=None, fixed=(),
                 accelerate="none", verbose=0):
        self.n_components = n_components
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.rates_init = rates_init
        self.random_state = random_state
        self.prior = prior
        self.weight_concentration = weight_concentration
        self.fixed = fixed
        self.accelerate = accelerate
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None, sample_weight=None):
        """Estimate weights and rates by EM.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            Non-negative integer counts; or a dask array of them, fitted where its
            blocks live (see :meth:`emkit.GaussianMixture.fit`).
        y : ignored
        sample_weight : array-like or dask array of shape (n_samples,), optional
            Frequency weights (a count observed on 162 days: weight 162).

        Returns
        -------
        self : PoissonMixture
        """
        K = check_integer(self.n_components, "n_components", minimum=1)
        check_real(self.tol, "tol", minimum=0.0)
        check_integer(self.max_iter, "max_iter", minimum=0)
        check_integer(self.n_init, "n_init", minimum=1)
        check_choice(self.init_params, "init_params", INIT_METHODS)
        check_choice(self.accelerate, "accelerate", ACCELERATIONS)
        fixed = frozenset(self.fixed)
        if not fixed <= set(_PARAM_NAMES):
            raise ValueError(f"fixed may only name {_PARAM_NAMES}; got {sorted(fixed)}.")
        if is_dask_array(X):
            # E-steps on the blocks; initialisation from a bounded sample of rows.
            X = self._validate_dask_counts(X, reset=True)
            data = DaskSampleData(X, sample_weight, check_block=_check_count_block)
            X_local, weight_local = data.sample.astype(np.float64), data.sample_weight_sample
            init_data = SampleData(X_local, weight_local)
        else:
            X = self._validate_counts(X, reset=True)
            if X.shape[0] < K:
                raise ValueError(f"X has {X.shape[0]} samples but n_components={K}; pass more "
                                 f"samples or lower n_components.")
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
            X_local, weight_local = X, sample_weight
            data = init_data = SampleData(X, sample_weight)
        rng = check_random_state(self.random_state)
        model = self._model(data, fixed)
        init_model = model if init_data is data else self._model(init_data, fixed)
        result = fit_em(model, data,
                        self._initializations(X_local, weight_local, init_model, rng),
                        max_iter=self.max_iter, tol=self.tol, random_state=rng,
                        verbose=self.verbose, accelerate=self.accelerate)
        self.weights_ = result.params["weights"]
        self.rates_ = result.params["rates"]
        self._store_fit_result(result, data.total_weight)
        return self

    def _validate_counts(self, X, *, reset):
        reject_complex(X, "X", "counts")
        X = check_counts(X, None if reset else self.n_features_in_)
        if reset:
            self.n_features_in_ = X.shape[1]
        return X

    def _validate_dask_counts(self, X, *, reset):
        """Shape and dtype of a dask X (its values are checked block by block)."""
        X = check_dask_samples(
            X, n_features=None if reset else self.n_features_in_, float_only=False,
            min_samples=self.n_components if reset else 1)
        if reset:
            self.n_features_in_ = X.shape[1]
        return X

    def _dask_rows(self, method, X, n_columns=None, dtype=np.float64):
        """``method`` on every block of a dask ``X``: a dask array (lazy)."""
        check_is_fitted(self)
        X = self._validate_dask_counts(X, reset=False)
        return map_rows(method, X, n_columns=n_columns, dtype=dtype)

    def _model(self, data, fixed):
        component = PoissonComponent(data.n_features, prior=self.prior,
                                     fixed=fixed - {"weights"})
        return MixtureModel(component, self.n_components, data,
                            weight_concentration=self.weight_concentration,
                            fix_weights="weights" in fixed)

    def _initializations(self, X, sample_weight, model, rng):
        K, D = self.n_components, X.shape[1]
        user = {}
        if self.weights_init is not None:
            user["weights"] = check_parameter_array(self.weights_init, (K,), "weights_init",
                                                    simplex=True)
        if self.rates_init is not None:
            user["rates"] = check_parameter_array(self.rates_init, (K, D), "rates_init",
                                                  positive=True)
        if len(user) == 2:
            yield user
            return
        for _ in range(self.n_init):
            resp = initial_responsibilities(X, K, self.init_params, rng, sample_weight)
            params = model.m_step(model.stats_from_responsibilities(resp), None)
            params.update(user)
            yield params

    # ------------------------------------------------------------ inference
    def _joint_log_prob(self, X):
        check_is_fitted(self)
        X = self._validate_counts(X, reset=False)
        component = PoissonComponent(X.shape[1])
        plan = component.plan({"rates": self.rates_})
        with np.errstate(divide="ignore"):
            log_weights = np.log(self.weights_)
        return component.log_prob(plan, component.features(X)) + log_weights

    def score_samples(self, X):
        """Log-probability of every sample, shape (n_samples,) (a dask array for one)."""
        if is_dask_array(X):
            return self._dask_rows(self.score_samples, X)
        return logsumexp(self._joint_log_prob(X), axis=1)

    def score(self, X, y=None, sample_weight=None):
        """Mean log-probability per sample (weighted by ``sample_weight``)."""
        if is_dask_array(X):
            return weighted_mean(self.score_samples(X), sample_weight)
        log_prob = self.score_samples(X)
        sample_weight = check_sample_weight(sample_weight, log_prob.shape[0])
        if sample_weight is None:
            return float(log_prob.mean())
        return float(sample_weight @ log_prob / sample_weight.sum())

    def predict_proba(self, X):
        """Posterior probability of every component, shape (n_samples, n_components).

        A dask array gives a dask array.
        """
        if is_dask_array(X):
            return self._dask_rows(self.predict_proba, X, n_columns=self.n_components)
        joint = self._joint_log_prob(X)
        return np.exp(joint - logsumexp(joint, axis=1, keepdims=True))

    def predict(self, X):
        """Most probable component of every sample, shape (n_samples,) (a dask array for one)."""
        if is_dask_array(X):
            return self._dask_rows(self.predict, X, dtype=np.intp)
        return self._joint_log_prob(X).argmax(axis=1)

    def sample(self, n_samples=1, random_state=None):
        """Draw samples: (X of shape (n_samples, n_features), labels)."""
        check_is_fitted(self)
        n_samples = check_integer(n_samples, "n_samples", minimum=1)
        rng = check_random_state(self.random_state if random_state is None else random_state)
        labels = rng.choice(self.n_components, size=n_samples, p=self.weights_)
        return rng.poisson(self.rates_[labels]).astype(np.float64), labels

    def _n_parameters(self):
        K, D = self.rates_.shape
        return (K - 1) + K * D

    def bic(self, X, sample_weight=None):
        """Bayesian information criterion (lower is better)."""
        total = self._total_log_prob(X, sample_weight)
        n = np.shape(X)[0] if sample_weight is None else float(np.sum(sample_weight))
        return -2.0 * total + self._n_parameters() * np.log(n)

    def aic(self, X, sample_weight=None):
        """Akaike information criterion (lower is better)."""
        return -2.0 * self._total_log_prob(X, sample_weight) + 2.0 * self._n_parameters()

    def _total_log_prob(self, X, sample_weight):
        log_prob = self.score_samples(X)
        weights = check_sample_weight(sample_weight, log_prob.shape[0])
        return float(log_prob.sum() if weights is None else weights @ log_prob)

    @classmethod
    def from_params(cls, weights, rates, **kwargs):
        """A ready-to-use model from known weights (K,) and rates (K, D)."""
        rates = np.asarray(rates, dtype=np.float64)
        if rates.ndim == 1:
            rates = rates[:, None]
        K, D = rates.shape
        model = cls(K, **kwargs)
        model.weights_ = check_parameter_array(weights, (K,), "weights", simplex=True)
        model.rates_ = check_parameter_array(rates, (K, D), "rates", positive=True)
        model.n_features_in_ = D
        model.converged_, model.n_iter_ = True, 0
        return model


def _check_count_block(block):
    """Validate one block of a dask X as in-memory counts are (runs on the workers)."""
    check_counts(block)
