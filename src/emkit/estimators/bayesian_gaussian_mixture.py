"""scikit-learn style variational Bayesian Gaussian mixture on emkit's EM engine."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.utils.validation import check_is_fitted

from .._engine.dask_data import (DaskSampleData, check_dask_samples, check_finite_block,
                                 is_dask_array, map_rows, weighted_mean)
from .._engine.accel import ACCELERATIONS
from .._engine.data import SampleData
from .._engine.em import fit_em
from .._engine.init import initial_responsibilities
from .._validation import (InvalidParameterError, check_bool, check_choice,
                           check_covariance_parameter, check_integer, check_parameter_array,
                           check_random_state, check_real, validate_samples)
from ..components.gaussian import GaussianComponent
from ..components.gaussian_ops import (COVARIANCE_TYPES, feature_scales, feature_width,
                                       kernel_of, precisions_from_cholesky)
from ..models.bayesian_mixture import WEIGHT_PRIOR_TYPES, BayesianMixtureModel, VariationalPrior
from ..models.mixture import MixtureModel
from ._base import (EMFitMixin, MixtureInferenceMixin, check_gaussian_mixture_settings,
                    store_init_arguments)

__all__ = ["BayesianGaussianMixture"]


class BayesianGaussianMixture(MixtureInferenceMixin, EMFitMixin, DensityMixin, BaseEstimator):
    """Variational Bayesian Gaussian mixture (Dirichlet or Dirichlet-process weights).

    The constructor parameters, fitted attributes and ``lower_bound_``
    convention are those of :class:`sklearn.mixture.BayesianGaussianMixture`
    (see :mod:`emkit.models.bayesian_mixture` for the model): with more
    components than the data need, the unneeded ones empty out (their
    weights fall to the prior's share). Fitted by the engine's variational
    EM, whose objective, the exact evidence lower bound, never decreases.

    Parameters
    ----------
    n_components : int, default=1
        Upper bound K on the number of components.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
    tol : float, default=1e-3
        Convergence threshold on the change of the total lower bound, as in
        scikit-learn; emkit also requires Aitken's projection of the gain
        still to come to be below it (see
        :class:`~emkit._engine.monitor.ConvergenceMonitor`).
    reg_covar : float, default=1e-6
        Non-negative penalty ``-reg_covar / 2 * tr(Lambda_k)`` on every
        sample's log-density: scikit-learn's ``N_k * reg_covar`` added to the
        scatter, kept in the E-step too so that the bound is exact.
    max_iter : int, default=1000
        Variational EM iterations per restart (scikit-learn: 100).
    n_init : int, default=10
        Restarts; the one with the highest lower bound is kept
        (scikit-learn: 1).
    init_params : {"kmeans", "k-means++", "random", "random_from_data", "hierarchical"}, \
default="kmeans"
        Initial responsibilities, as for :class:`emkit.GaussianMixture`
        ("kmeans" and "random" draw exactly what scikit-learn draws from the
        same ``random_state``; emkit's "k-means++" and "random_from_data"
        assign every sample to its nearest seed).
    weight_concentration_prior_type : {"dirichlet_process", "dirichlet_distribution"}, \
default="dirichlet_process"
    weight_concentration_prior : float > 0, optional
        ``gamma`` (stick-breaking) or ``alpha0`` (Dirichlet); default ``1 / n_components``.
    mean_precision_prior : float > 0, optional
        ``beta0``; default 1.
    mean_prior : array-like of shape (n_features,), optional
        ``m0``; default the data mean.
    degrees_of_freedom_prior : float > n_features - 1, optional
        ``nu0``; default n_features.
    covariance_prior : array-like or float, optional
        ``Psi0`` in the layout of ``covariance_type`` ((D, D) full and tied,
        (D,) diag, float spherical); default the data's (co)variance (ddof=1).
    random_state : int, RandomState or None
    warm_start : bool, default=False
        Start from the previous fit's variational parameters (one run).
    verbose : int, default=0
    verbose_interval : int, default=10
        Accepted for scikit-learn's API; ``verbose=2`` prints every iteration.
    accelerate : {"none", "squarem"}, default="none"
        "squarem": Varadhan & Roland's squared extrapolation (scheme 3) with
        R SQUAREM's safeguards (see :mod:`emkit._engine.accel`) on the
        variational parameters, in unconstrained coordinates (log
        concentrations, log ``beta``, ``log(nu - (D - 1))``, means, Cholesky
        factors with log-diagonal; see
        :meth:`~emkit.models.bayesian_mixture.BayesianMixtureModel.to_unconstrained`).
        A proposal is kept only when its lower bound is at least plain
        variational EM's, so ``history_`` still never decreases.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        ``E[pi_k]``.
    means_ : ndarray of shape (n_components, n_features)
    covariances_, precisions_, precisions_cholesky_ : ndarray
        scikit-learn's layouts; ``precisions_`` is ``E[Lambda_k]``.
    weight_concentration_ : ndarray of shape (n_components,) or tuple of two
        The Dirichlet's parameters, or the sticks' Beta parameters ``(a, b)``.
    mean_precision_ : ndarray of shape (n_components,)
    degrees_of_freedom_ : ndarray of shape (n_components,) (float for "tied")
    weight_concentration_prior_, mean_precision_prior_, mean_prior_,
    degrees_of_freedom_prior_, covariance_prior_ : the priors used
    lower_bound_ : float
        The lower bound of the returned model in scikit-learn's convention
        (the total over samples, without the constants scikit-learn drops:
        ``history_[-1] - lower_bound_offset_``). emkit evaluates it at the
        returned parameters and their own responsibilities, half a step
        after scikit-learn's point (responsibilities before the last
        update), so it is never lower for the same run.
    lower_bounds_ : ndarray of shape (n_recorded,)
        ``history_`` in the same convention.
    history_ : ndarray of shape (n_recorded,)
        The exact ELBO (every constant included) after every E-step of the
        kept run, the initial parameters first. It never decreases.
        ``n_recorded = n_iter_ + 1`` for plain variational EM; SQUAREM records
        only the iterates it keeps.
    lower_bound_offset_ : float
        The constants scikit-learn leaves out of its bound.
    converged_ : bool
    n_iter_ : int
    n_e_steps_ : int
        E-steps evaluated by the kept run (SQUAREM takes more than one per
        iteration, so compare methods on this, not on ``n_iter_``).
    history_e_steps_ : ndarray of shape (n_iter_ + 1,)
        E-steps evaluated when each entry of ``history_`` was recorded.
    n_features_in_ : int

    Examples
    --------
    >>> from emkit.estimators.bayesian_gaussian_mixture import BayesianGaussianMixture
    >>> from emkit.datasets import load_old_faithful
    >>> X = load_old_faithful().data
    >>> model = BayesianGaussianMixture(n_components=6, random_state=0).fit(X)
    >>> int((model.weights_ > 0.01).sum())
    2
    """

    # scikit-learn's parameters, in its order, grouped by theme: the model,
    # the stopping rule, the starts, the priors, then randomness and output;
    # emkit's stepper last.
    def __init__(
        self, n_components=1, *, covariance_type="full",
        tol=1e-3, reg_covar=1e-6, max_iter=1000,
        n_init=10, init_params="kmeans",
        weight_concentration_prior_type="dirichlet_process", weight_concentration_prior=None,
        mean_precision_prior=None, mean_prior=None,
        degrees_of_freedom_prior=None, covariance_prior=None,
        random_state=None, warm_start=False, verbose=0, verbose_interval=10,
        accelerate="none",
    ):
        store_init_arguments(self, locals())

    # ------------------------------------------------------------------ checks
    def _validate_hyperparameters(self):
        """Every constructor parameter through the shared validators."""
        check_gaussian_mixture_settings(self, COVARIANCE_TYPES,
                                        "scikit-learn's default is tol=1e-3.")
        check_choice(self.weight_concentration_prior_type, "weight_concentration_prior_type",
                     WEIGHT_PRIOR_TYPES)
        for name in ("weight_concentration_prior", "mean_precision_prior"):
            value = getattr(self, name)
            if value is not None:
                check_real(value, name, minimum=0.0, inclusive=False)
        check_random_state(self.random_state, build=False)
        check_bool(self.warm_start, "warm_start")
        check_integer(self.verbose, "verbose", minimum=0, allow_bool=True)
        check_integer(self.verbose_interval, "verbose_interval", minimum=1)
        check_choice(self.accelerate, "accelerate", ACCELERATIONS)

    def _resolved_prior(self, moments):
        """The prior's hyper-parameters, scikit-learn's defaults filled in from
        the data's :class:`_Moments`."""
        K, D = self.n_components, moments.n_features
        concentration = (1.0 / K if self.weight_concentration_prior is None
                         else float(self.weight_concentration_prior))
        mean_precision = (1.0 if self.mean_precision_prior is None
                          else float(self.mean_precision_prior))
        if self.mean_prior is None:
            mean = moments.mean()
        else:
            mean = check_parameter_array(self.mean_prior, (D,), "mean_prior", label="means")
        if self.degrees_of_freedom_prior is None:
            degrees_of_freedom = float(D)
        else:
            degrees_of_freedom = check_real(self.degrees_of_freedom_prior,
                                            "degrees_of_freedom_prior")
            if degrees_of_freedom <= D - 1.0:
                # scikit-learn's wording, then what to do.
                raise InvalidParameterError(
                    f"The parameter 'degrees_of_freedom_prior' should be greater than {D - 1}, "
                    f"but got {degrees_of_freedom:.3f}. A Wishart prior needs more than "
                    f"n_features - 1 = {D - 1} degrees of freedom; None uses n_features.")
        covariance = self._covariance_prior(moments, D)
        return VariationalPrior(self.weight_concentration_prior_type, concentration,
                                mean_precision, mean, degrees_of_freedom, covariance)

    def _covariance_prior(self, moments, D):
        covariance_type = self.covariance_type
        if self.covariance_prior is None:
            if moments.n_samples < 2:
                raise ValueError(
                    "X has 1 sample; the default covariance_prior is the data's covariance, "
                    "which needs at least 2 samples. Pass more samples or a covariance_prior.")
            if covariance_type in ("full", "tied"):
                value = moments.covariance()
                spread = np.sqrt(np.diag(value))
                # Judged on the correlation matrix, so features on any scales pass.
                singular = bool((spread <= 0).any()) or np.linalg.eigvalsh(
                    value / np.outer(spread, spread))[0] <= 1e-12
            else:
                variances = moments.variances()
                value = variances if covariance_type == "diag" else float(variances.mean())
                singular = bool(np.any(np.asarray(value) <= 0))
            if singular:
                raise ValueError(
                    "X has a constant (or collinear) feature, so the default covariance_prior "
                    "(the data's covariance) is singular; drop the feature or pass a positive "
                    "definite covariance_prior.")
            return value
        if covariance_type in ("full", "tied"):
            return check_covariance_parameter(self.covariance_prior, (D, D), "covariance_prior",
                                              covariance_type=covariance_type, layout="tied")
        if covariance_type == "diag":
            return check_covariance_parameter(self.covariance_prior, (D,), "covariance_prior",
                                              covariance_type=covariance_type, layout="diag")
        return check_real(self.covariance_prior, "covariance_prior", minimum=0.0,
                          inclusive=False, hint="For 'spherical' it is one variance.")

    # --------------------------------------------------------------------- fit
    def fit(self, X, y=None):
        """Fit the variational posterior by variational EM.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            A dask array is fitted where its blocks live: every E-step runs
            on the workers and only the summed statistics come back; the
            default priors come from the pass's mean and covariance, the
            starts from its bounded sample of rows (all of them up to 20,000).
        y : ignored

        Returns
        -------
        self
        """
        self._validate_hyperparameters()
        warm = self.warm_start and hasattr(self, "converged_")
        if is_dask_array(X):
            X = check_dask_samples(X, n_features=None if not warm else self.n_features_in_,
                                   min_samples=self.n_components)
            if not warm:
                self.n_features_in_ = X.shape[1]
                self.__dict__.pop("feature_names_in_", None)
            data = DaskSampleData(X, None, check_block=check_finite_block,
                                  row_bytes=self._row_bytes(X.dtype, X.shape[1]))
            moments = _Moments.of_summary(data)
            init_data = SampleData(data.sample)
        else:
            X = validate_samples(self, X, reset=not warm, min_samples=self.n_components)
            moments = _Moments.of_samples(X)
            data = init_data = self._sample_data(X)
        prior = self._resolved_prior(moments)
        # SQUAREM's step lengths are ratios of norms: coordinates in the data's
        # per-feature units keep them the same whatever units X comes in.
        scales = feature_scales(init_data.X) if self.accelerate == "squarem" else None
        model = self._build_model(data, prior, scales)
        rng = check_random_state(self.random_state)
        if warm:
            starts = [self._fitted_params()]
        else:
            starts = self._initializations(init_data, data.total_weight, model, rng)
        # scikit-learn's tol is on the change of the total bound; the engine's
        # on the per-sample objective.
        result = fit_em(model, data, starts, max_iter=self.max_iter,
                        tol=self.tol / data.total_weight, random_state=rng,
                        verbose=self.verbose, accelerate=self.accelerate)
        self._store_prior(prior)
        self._set_params(model, result.params, data.dtype)
        self._store_fit_result(result, data.total_weight)
        self.lower_bound_offset_ = model.sklearn_offset(data.total_weight)
        self.lower_bounds_ = self.history_ - self.lower_bound_offset_
        self.lower_bound_ = float(self.lower_bounds_[-1])
        return self

    def fit_predict(self, X, y=None):
        """Fit, then the most probable component of every sample, shape (n_samples,)."""
        return self.fit(X, y).predict(X)

    def _row_bytes(self, dtype, D):
        """Bytes of E-step temporaries per sample (for the chunk size)."""
        return np.dtype(dtype).itemsize * (feature_width(kernel_of(self.covariance_type), D)
                                           + 3 * self.n_components)

    def _sample_data(self, X):
        return SampleData(X, None, row_bytes=self._row_bytes(X.dtype, X.shape[1]))

    def _component(self, center, dtype, scales=None):
        """The Gaussian family of the fit; ``scales`` (:class:`FeatureScales`)
        are the units of its unconstrained coordinates, the only thing they
        change here (None: unit scales)."""
        D = center.shape[0]
        return GaussianComponent(self.covariance_type, reg_covar=0.0, center=center,
                                 dtype=dtype, data_covariance=np.eye(D), feature_scales=scales)

    def _build_model(self, data, prior, scales=None):
        return BayesianMixtureModel(self._component(data.center, data.dtype, scales),
                                    self.n_components, prior, reg_covar=self.reg_covar)

    def _initializations(self, init_data, total_weight, model, rng):
        """One start per restart, made lazily (the engine runs each before the
        next is drawn, so the random draws are scikit-learn's).

        ``init_data`` holds the rows the starts are drawn on: all of them in
        memory, a dask array's sample otherwise, whose statistics are scaled
        to the ``total_weight`` of the data (so that the first update weighs
        the prior against all the samples, as in memory).
        """
        moments_model = MixtureModel(model.component, self.n_components)
        scale = total_weight / init_data.total_weight
        for _ in range(self.n_init):
            resp = initial_responsibilities(init_data.X, self.n_components, self.init_params,
                                            rng)
            stats = moments_model.stats_from_responsibilities(resp, init_data)
            if scale != 1.0:
                stats = {name: value * scale for name, value in stats.items()}
            yield model.m_step(stats)

    # -------------------------------------------------------------- parameters
    def _store_prior(self, prior):
        self.weight_concentration_prior_ = prior.weight_concentration
        self.mean_precision_prior_ = prior.mean_precision
        self.mean_prior_ = prior.mean
        self.degrees_of_freedom_prior_ = prior.degrees_of_freedom
        self.covariance_prior_ = prior.covariance

    def _set_params(self, model, params, dtype):
        prec_chol = np.asarray(params["precisions_cholesky"], dtype=np.float64)
        precisions = precisions_from_cholesky(prec_chol, self.covariance_type)
        concentration = np.asarray(params["weight_concentration"], dtype=np.float64)
        self.weight_concentration_ = (
            (concentration[0], concentration[1])
            if self.weight_concentration_prior_type == "dirichlet_process" else concentration)
        self.mean_precision_ = np.asarray(params["mean_precision"], dtype=np.float64)
        degrees_of_freedom = np.asarray(params["degrees_of_freedom"], dtype=np.float64)
        self.degrees_of_freedom_ = (float(degrees_of_freedom) if degrees_of_freedom.ndim == 0
                                    else degrees_of_freedom)
        self.weights_ = model.mixture_weights(params).astype(dtype, copy=False)
        self.means_ = np.asarray(params["means"], dtype=np.float64).astype(dtype, copy=False)
        self.covariances_ = np.asarray(params["covariances"], np.float64).astype(dtype,
                                                                                 copy=False)
        self.precisions_cholesky_ = prec_chol.astype(dtype, copy=False)
        self.precisions_ = precisions.astype(dtype, copy=False)

    def _fitted_params(self):
        return {
            "weight_concentration": np.asarray(self.weight_concentration_, dtype=np.float64),
            "mean_precision": np.asarray(self.mean_precision_, dtype=np.float64),
            "means": np.asarray(self.means_, dtype=np.float64),
            "degrees_of_freedom": np.asarray(self.degrees_of_freedom_, dtype=np.float64),
            "covariances": np.asarray(self.covariances_, dtype=np.float64),
            "precisions_cholesky": np.asarray(self.precisions_cholesky_, dtype=np.float64),
        }

    def _fitted_model(self, dtype=np.float64):
        prior = VariationalPrior(self.weight_concentration_prior_type,
                                 self.weight_concentration_prior_, self.mean_precision_prior_,
                                 self.mean_prior_, self.degrees_of_freedom_prior_,
                                 self.covariance_prior_)
        return BayesianMixtureModel(self._component(np.asarray(self.mean_prior_, np.float64),
                                                    dtype),
                                    self.n_components, prior, reg_covar=self.reg_covar)

    # --------------------------------------------------------------- inference
    def _joint_log_prob(self, X):
        """``E[log pi_k] + E[log p(x | k)]`` (scikit-learn's weighted log-probability,
        its ``_estimate_weighted_log_prob``), shape (n_samples, n_components), float64."""
        check_is_fitted(self)
        X = validate_samples(self, X, reset=False)
        model = self._fitted_model(X.dtype)
        log_prob, shift, _ = model.weighted_log_prob(model.e_step_plan(self._fitted_params()), X)
        return np.asarray(log_prob, dtype=np.float64) + shift

    def _dask_rows(self, method, X, n_columns=None, dtype=np.float64):
        """``method`` on every block of a dask ``X``: a lazy dask array."""
        check_is_fitted(self)
        X = check_dask_samples(X, n_features=self.n_features_in_)
        return map_rows(method, X, n_columns=n_columns, dtype=dtype)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` (on the workers for a dask ``X``)."""
        if is_dask_array(X):
            return weighted_mean(self.score_samples(X))
        return float(self.score_samples(X).mean())

    def _sampling_component(self):
        """The Gaussian family that :meth:`sample` draws from at the plug-in
        parameters (``weights_``, ``means_``, ``covariances_``)."""
        return self._component(np.asarray(self.mean_prior_, np.float64), np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class _Moments:
    """The data's mean and (ddof=1) covariance or variances, for the default
    priors: measured from in-memory samples when asked (a covariance costs a
    pass), or read off a dask array's summary pass."""

    def __init__(self, n_samples, n_features, mean, covariance, variances):
        self.n_samples, self.n_features = n_samples, n_features
        self.mean, self.covariance, self.variances = mean, covariance, variances

    @classmethod
    def of_samples(cls, X):
        X64 = np.asarray(X, dtype=np.float64)
        return cls(X.shape[0], X.shape[1], lambda: X64.mean(axis=0),
                   lambda: np.atleast_2d(np.cov(X64.T)),
                   lambda: np.var(X64, axis=0, ddof=1))

    @classmethod
    def of_summary(cls, data):
        n = data.n_samples
        # The summary's covariance divides by n; the default prior's by n - 1.
        unbiased = data.covariance * (n / max(n - 1, 1))
        return cls(n, data.n_features, lambda: data.center.copy(), lambda: unbiased,
                   lambda: np.diag(unbiased).copy())
