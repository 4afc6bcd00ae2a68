"""Factor analysis and probabilistic PCA by EM on emkit's engine."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._engine.accel import ACCELERATIONS
from .._engine.dask_data import (DaskSampleData, check_dask_samples, check_finite_block,
                                 is_dask_array, map_rows, stream_row_blocks, weighted_total)
from .._engine.data import SampleData, combine_moments
from .._engine.em import fit_em
from .._validation import (InvalidParameterError, check_choice, check_integer,
                           check_parameter_array, check_random_state, check_real,
                           check_sample_weight, validate_samples)
from ..models.factor import (FactorModel, ScatterData, factor_start, low_rank_covariance,
                             low_rank_plan, low_rank_posterior, noise_floor)
from ._base import EMFitMixin, parameter_of_rank, sampling_start, store_init_arguments
from ._criteria import LikelihoodCriteriaMixin

__all__ = ["FactorAnalysis", "PPCA", "check_n_factors"]

FACTOR_INITS = ("pca", "random")
E_STEPS = ("auto", "scatter", "samples")
# Above this many features the (D, D) scatter costs more than passes over the
# samples save ("auto" then walks the samples).
_SCATTER_MAX_FEATURES = 2048


def check_n_factors(n_components, n_features, name="n_components"):
    """The number of latent factors: None means ``n_features``; at most ``n_features``."""
    if n_components is None:
        return n_features
    q = check_integer(n_components, name, minimum=1)
    if q > n_features:
        raise InvalidParameterError(
            f"{name}={q} exceeds n_features={n_features}: a factor model has at most "
            f"n_features latent dimensions. Lower {name} (or pass None for n_features).")
    return q


def weighted_scatter(X, sample_weight, center, chunk_size=8192):
    """``sum_n w_n (x_n - c)(x_n - c)^T / sum_n w_n``, chunked, shape (D, D).

    Chunks of a few thousand rows keep the centred block in cache between its
    subtraction and its product (1.5x faster than 65,536-row blocks).
    """
    D = X.shape[1]
    scatter = np.zeros((D, D))
    total = 0.0
    for start in range(0, X.shape[0], chunk_size):
        block = np.asarray(X[start:start + chunk_size], dtype=np.float64) - center
        if sample_weight is None:
            scatter += block.T @ block
            total += block.shape[0]
        else:
            weights = sample_weight[start:start + chunk_size]
            scatter += (block * weights[:, None]).T @ block
            total += float(weights.sum())
    return scatter / total


class _FactorEstimator(ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                       LikelihoodCriteriaMixin, EMFitMixin, BaseEstimator):
    """What FactorAnalysis and PPCA share; subclasses set ``_isotropic``."""

    _isotropic = False
    _param_names = ("components", "noise_variance")

    # Grouped by theme: the model, the stopping rule, the starts, how the
    # iterations run, then output.
    def __init__(
        self, n_components=None, *,
        tol=1e-8, max_iter=10_000,
        n_init=1, init_params="pca", components_init=None, noise_variance_init=None,
        random_state=None,
        fixed=(), accelerate="squarem", e_step="auto", chunk_size=None,
        verbose=0,
    ):
        store_init_arguments(self, locals())

    # -- settings -------------------------------------------------------------
    def _check_settings(self):
        """Validate the hyper-parameters; the model's names of the held parameters."""
        check_real(self.tol, "tol", minimum=0.0)
        check_integer(self.max_iter, "max_iter", minimum=0)
        check_integer(self.n_init, "n_init", minimum=1)
        check_choice(self.init_params, "init_params", FACTOR_INITS)
        check_choice(self.accelerate, "accelerate", ACCELERATIONS)
        check_choice(self.e_step, "e_step", E_STEPS)
        check_integer(self.chunk_size, "chunk_size", minimum=1, allow_none=True)
        fixed = frozenset(self.fixed)
        if not fixed <= set(self._param_names):
            raise InvalidParameterError(
                f"fixed may only name {self._param_names}; got {sorted(fixed)}.")
        return frozenset({"components": "loadings", "noise_variance": "noise"}[name]
                         for name in fixed)

    # -- fit ------------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None):
        """Estimate the loadings and uniquenesses by EM.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            A dask array is fitted where its blocks live: one pass on the
            workers measures its weighted mean and scatter (from which every
            E-step of ``e_step="scatter"`` is evaluated, with no more passes),
            or, with ``e_step="samples"``, every E-step maps over its blocks
            there and only the summed statistics come back.
        y : ignored
        sample_weight : array-like or dask array of shape (n_samples,), optional
            Frequency weights.

        Returns
        -------
        self
        """
        fixed_model = self._check_settings()
        # A new fit forgets partial_fit's running moments.
        self.__dict__.pop("_moments", None)
        reason = "a covariance needs at least two samples; pass more samples"
        if is_dask_array(X):
            X = check_dask_samples(X, min_samples=2, min_samples_reason=reason)
            self.n_features_in_ = X.shape[1]
            self.__dict__.pop("feature_names_in_", None)
        else:
            X = validate_samples(self, X, reset=True, min_samples=2,
                                 min_samples_reason=reason)
        n, D = X.shape
        q = check_n_factors(self.n_components, D)
        row_bytes = 8 * (3 * D + 2 * q)
        if is_dask_array(X):
            # The one pass over the blocks measures the weighted scatter too.
            data = DaskSampleData(X, sample_weight, check_block=check_finite_block,
                                  chunk_size=self.chunk_size, row_bytes=row_bytes)
            variances = data.covariance
        else:
            sample_weight = check_sample_weight(sample_weight, n)
            data = SampleData(X, sample_weight, chunk_size=self.chunk_size,
                              row_bytes=row_bytes)
            variances = weighted_scatter(X, sample_weight, data.center)
        if self.e_step == "scatter" or (self.e_step == "auto" and D <= _SCATTER_MAX_FEATURES):
            data = ScatterData(variances * data.total_weight, data.center, data.total_weight,
                               n, X.dtype)
        floor = noise_floor(np.diag(variances))
        model = FactorModel(q, floor, isotropic=self._isotropic, fixed=fixed_model)
        rng = check_random_state(self.random_state)
        starts = self._initializations(variances, data.center, q, floor, rng)
        result = fit_em(model, data, starts, max_iter=self.max_iter, tol=self.tol,
                        random_state=rng, verbose=self.verbose, accelerate=self.accelerate)
        self._set_params(result.params)
        self._store_fit_result(result, data.total_weight)
        return self

    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the fit with one more batch of samples.

        The model's E-step statistics are linear in the data's weighted mean
        and scatter, so partial_fit keeps those two exactly (merged batch by
        batch by Chan et al.'s pairwise update; memory O(D^2) whatever the
        number of samples) and runs EM on them from the current parameters
        (from ``init_params`` on the first call) to ``tol``: after every call
        the fit is the batch fit of all samples seen so far, not a stepwise
        approximation of it. ``fit`` discards the running moments; a
        partial_fit after a fit starts new ones from its batch, from the
        fitted parameters.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            The batch; the first needs at least two samples. A dask array is
            streamed block after block (one partial_fit per block).
        y : ignored
        sample_weight : array-like or dask array of shape (n_samples,), optional
            Frequency weights of the batch's samples (merged into the
            running moments with them).

        Returns
        -------
        self : the fit of every sample seen so far
        """
        fixed_model = self._check_settings()
        moments = self.__dict__.get("_moments")
        fitted = hasattr(self, "components_")
        if is_dask_array(X):
            X = check_dask_samples(X, n_features=self.n_features_in_
                                   if moments is not None or fitted else None)
            for block, weights in stream_row_blocks(X, sample_weight, names=["sample_weight"]):
                self.partial_fit(block, sample_weight=weights)
            return self
        first = moments is None
        X = validate_samples(self, X, reset=first and not fitted, min_samples=2 if first else 1,
                             min_samples_reason="the first batch's covariance needs at least "
                                                "two samples; pass a larger first batch")
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        batch = SampleData(X, sample_weight)
        batch_moments = (batch.total_weight, batch.center,
                         weighted_scatter(X, sample_weight, batch.center) * batch.total_weight)
        moments = batch_moments if first else combine_moments(moments, batch_moments)
        self._moments = moments
        self.n_batch_iter_ = 1 if first else self.n_batch_iter_ + 1
        self.n_samples_seen_ = X.shape[0] if first else self.n_samples_seen_ + X.shape[0]
        weight, center, scatter = moments
        D = X.shape[1]
        q = check_n_factors(self.n_components, D)
        covariance = scatter / weight
        floor = noise_floor(np.diag(covariance))
        model = FactorModel(q, floor, isotropic=self._isotropic, fixed=fixed_model)
        rng = check_random_state(self.random_state)
        if fitted:
            # The mean is the samples' (the running one); W and Psi go on from here.
            starts = [{"mean": center.copy(), "loadings": self.components_.T.copy(),
                       "noise": np.maximum(self._noise_vector(), floor)}]
        else:
            starts = self._initializations(covariance, center, q, floor, rng)
        data = ScatterData(scatter, center, weight, self.n_samples_seen_, X.dtype)
        result = fit_em(model, data, starts, max_iter=self.max_iter, tol=self.tol,
                        random_state=rng, verbose=self.verbose, accelerate=self.accelerate)
        self._set_params(result.params)
        self._store_fit_result(result, weight)
        return self

    def _user_starts(self, D, q):
        user = {}
        if self.components_init is not None:
            user["loadings"] = check_parameter_array(self.components_init, (q, D),
                                                     "components_init").T.copy()
        if self.noise_variance_init is not None:
            user["noise"] = self._check_noise(self.noise_variance_init, D,
                                              "noise_variance_init")
        return user

    def _check_noise(self, value, D, name):
        if self._isotropic:
            value = check_real(value, name, minimum=0.0, inclusive=False)
            return np.full(D, value)
        return check_parameter_array(value, (D,), name, positive=True)

    def _initializations(self, covariance, center, q, floor, rng):
        D = covariance.shape[0]
        user = self._user_starts(D, q)
        pca = factor_start(covariance, q, floor, isotropic=self._isotropic)
        scale = float(np.trace(covariance)) / D
        for index in range(self.n_init):
            if self.init_params == "pca" and index == 0:
                loadings, noise = pca
            else:
                # Random loadings of the data's scale; uniquenesses half the variances.
                loadings = rng.standard_normal((D, q)) * np.sqrt(scale / (2.0 * q))
                noise = np.maximum(0.5 * np.diag(covariance), floor)
                if self._isotropic:
                    noise = np.full(D, max(0.5 * scale, float(floor.mean())))
            params = {"mean": center.copy(), "loadings": loadings, "noise": noise}
            params.update(user)
            yield params
            if len(user) == 2:
                return

    def _set_params(self, params):
        self.mean_ = np.asarray(params["mean"], dtype=np.float64)
        self.components_ = np.ascontiguousarray(params["loadings"].T)
        noise = np.asarray(params["noise"], dtype=np.float64)
        self.noise_variance_ = float(noise[0]) if self._isotropic else noise
        self.n_components_ = self.components_.shape[0]

    def _noise_vector(self):
        return np.broadcast_to(np.asarray(self.noise_variance_, dtype=np.float64),
                               self.mean_.shape)

    @classmethod
    def from_params(cls, components, noise_variance, mean, **kwargs):
        """A ready-to-use model from known parameters (no fitting).

        Parameters
        ----------
        components : array-like of shape (n_components, n_features)
            Loadings ``W^T`` (scikit-learn's ``components_``).
        noise_variance : array-like of shape (n_features,) (FactorAnalysis) or float (PPCA)
        mean : array-like of shape (n_features,)
        **kwargs : constructor parameters

        Returns
        -------
        estimator
            Fitted: ``transform``, ``score_samples`` and ``sample`` work.
        """
        components = parameter_of_rank(components, "components",
                                       ("n_components", "n_features"))
        q, D = components.shape
        check_n_factors(q, D, "components.shape[0]")
        model = cls(q, **kwargs)
        components = check_parameter_array(components, (q, D), "components")
        mean = check_parameter_array(mean, (D,), "mean")
        noise = model._check_noise(noise_variance, D, "noise_variance")
        model._set_params({"mean": mean, "loadings": components.T, "noise": noise})
        model.n_features_in_ = D
        model.converged_, model.n_iter_ = True, 0
        return model

    # -- inference ------------------------------------------------------------
    def _plan(self):
        check_is_fitted(self)
        return low_rank_plan(self.components_.T, self._noise_vector())

    def _centered(self, X):
        X = validate_samples(self, X, reset=False)
        return np.asarray(X, dtype=np.float64) - self.mean_

    def _dask_rows(self, method, X, n_columns=None):
        """``method`` on every block of a dask ``X``: a lazy dask array."""
        check_is_fitted(self)
        X = check_dask_samples(X, n_features=self.n_features_in_)
        return map_rows(method, X, n_columns=n_columns)

    def _total_log_prob(self, X, sample_weight):
        if is_dask_array(X):
            return weighted_total(self.score_samples(X), sample_weight)
        return super()._total_log_prob(X, sample_weight)

    def transform(self, X):
        """Posterior means of the latent factors ``E[z | x]``, shape (n_samples, n_components).

        A dask array gives a dask array (computed where its blocks live).
        """
        if is_dask_array(X):
            return self._dask_rows(self.transform, X, n_columns=self.n_components_)
        plan = self._plan()
        return low_rank_posterior(self._centered(X), plan)[0]

    def score_samples(self, X):
        """Marginal log-likelihood ``log N(x; mu, W W^T + Psi)`` of every sample, (n_samples,).

        A dask array gives a dask array; ``score``, ``bic`` and ``aic`` of
        one are summed on the workers.
        """
        if is_dask_array(X):
            return self._dask_rows(self.score_samples, X)
        plan = self._plan()
        return low_rank_posterior(self._centered(X), plan)[1]

    def get_covariance(self):
        """The implied covariance ``W W^T + Psi``, shape (n_features, n_features)."""
        check_is_fitted(self)
        return low_rank_covariance(self.components_.T, self._noise_vector())

    def get_precision(self):
        """The inverse of :meth:`get_covariance` (by Woodbury), shape (n_features, n_features)."""
        plan = self._plan()
        inv_noise, scaled = plan["inv_noise"], plan["scaled"]
        return np.diag(inv_noise) - scaled @ plan["posterior_cov"] @ scaled.T

    def sample(self, n_samples=1, random_state=None):
        """Draw ``x = mu + W z + e``; returns an array of shape (n_samples, n_features)."""
        n_samples, rng = sampling_start(self, n_samples, random_state)
        factors = rng.standard_normal((n_samples, self.n_components_))
        noise = rng.standard_normal((n_samples, self.mean_.shape[0])) * np.sqrt(
            self._noise_vector())
        return self.mean_ + factors @ self.components_ + noise

    def n_parameters(self):
        """Free parameters: mean, loadings up to rotation, and the noise."""
        check_is_fitted(self)
        D, q = self.mean_.shape[0], self.n_components_
        fixed = frozenset(self.fixed)
        loadings = 0 if "components" in fixed else D * q - q * (q - 1) // 2
        noise = 0 if "noise_variance" in fixed else (1 if self._isotropic else D)
        return int(D + loadings + noise)

    @property
    def _n_features_out(self):
        return self.n_components_


_SHARED_DOC = """
    Parameters
    ----------
    n_components : int or None, default=None
        Latent dimensions ``q`` (None: n_features); at most n_features.
    tol : float, default=1e-8
        Convergence threshold on the per-sample log-likelihood (see
        :class:`~emkit._engine.monitor.ConvergenceMonitor`).
    max_iter : int, default=10000
    n_init : int, default=1
        Restarts; the first from ``init_params``, the others from random
        loadings. The best run is kept.
    init_params : {{"pca", "random"}}, default="pca"
        "pca": the closed-form PPCA solution of the data's covariance;
        "random": Gaussian loadings of the data's scale.
    components_init : array-like of shape (n_components, n_features), optional
    noise_variance_init : {noise_shape}, optional
    random_state : int, RandomState or None
    fixed : tuple of {{"components", "noise_variance"}}, default=()
        Held at their starting values.
    accelerate : {{"none", "squarem"}}, default="squarem"
        The engine's stepper (SQUAREM in the loadings and log-uniquenesses).
    e_step : {{"auto", "scatter", "samples"}}, default="auto"
        "scatter": measure the weighted scatter once and evaluate every E-step
        from it in O(D^2 q) (exact: the statistics are linear in it);
        "samples": walk the samples in chunks every iteration, O(n D q);
        "auto": "scatter" up to 2048 features.
    chunk_size : int or None
        Rows per E-step chunk (None: from a memory budget).
    verbose : int, default=0

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The loadings ``W^T``, as scikit-learn's.
    noise_variance_ : {noise_shape}
    mean_ : ndarray of shape (n_features,)
    n_components_ : int
    converged_, n_iter_, n_e_steps_, history_, lower_bound_ : see EMFitMixin
        ``history_`` (the log-likelihood after every E-step) never decreases.

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.estimators.factor_analysis import {name}
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((500, 2)) @ rng.standard_normal((2, 6))
    >>> X = X + rng.standard_normal((500, 6))
"""


class FactorAnalysis(_FactorEstimator):
    __doc__ = """Factor analysis by EM: ``x = mu + W z + e``, ``e ~ N(0, diag(psi))``.

    The E-step is the Gaussian posterior of the factors (Rubin & Thayer
    1982), evaluated in O(n D q) by Woodbury's identity; the M-step updates
    the loadings and the uniquenesses. Same likelihood and parameters as
    :class:`sklearn.decomposition.FactorAnalysis` (which maximises it by
    iterated SVDs instead).
""" + _SHARED_DOC.format(noise_shape="ndarray of shape (n_features,)",
                        name="FactorAnalysis") + """\
    >>> FactorAnalysis(2).fit(X).transform(X).shape
    (500, 2)
    """


class PPCA(_FactorEstimator):
    __doc__ = """Probabilistic PCA by EM (Tipping & Bishop 1999; Roweis 1998).

    Factor analysis with isotropic noise ``sigma^2 I``. The maximum-likelihood
    solution is PCA's (``W W^T + sigma^2 I`` equals the covariance of
    :class:`sklearn.decomposition.PCA`'s probabilistic model, up to its
    ``n - 1`` denominator); EM reaches it in O(n D q) per iteration without
    an eigendecomposition when ``init_params="random"``. ``transform`` gives
    the posterior means of the factors (not PCA's projection).
""" + _SHARED_DOC.format(noise_shape="float", name="PPCA") + """\
    >>> PPCA(2).fit(X).components_.shape
    (2, 6)
    """

    _isotropic = True
