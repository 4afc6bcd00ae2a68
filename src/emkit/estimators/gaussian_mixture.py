"""scikit-learn style Gaussian mixture on emkit's EM engine."""

from __future__ import annotations

from functools import partial
from numbers import Integral

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.utils.validation import check_is_fitted

from .._engine.accel import ACCELERATIONS
from .._engine.dask_data import (DaskSampleData, check_dask_samples, is_dask_array, map_rows,
                                 stream_row_blocks, weighted_mean)
from .._engine.data import SampleData
from .._engine.em import fit_em
from .._engine.init import start_for_labels, initial_responsibilities
from .._engine.online import (
    STRATEGIES,
    StepwiseEM,
    check_first_batch,
    check_online_settings,
    shuffled_passes,
    stepwise_passes,
)
from .._validation import (
    InvalidParameterError,
    check_bool,
    check_choice,
    check_covariance_parameter,
    check_gaussian_scale,
    check_integer,
    check_parameter_array,
    check_prior,
    check_random_state,
    check_real,
    check_partial_labels,
    check_sample_weight,
    validate_samples,
)
from ..components.gaussian import feature_scales as measure_feature_scales
from ..components.gaussian import (
    COVARIANCE_TYPES,
    GaussianComponent,
    feature_width,
    kernel_of,
    precision_cholesky,
)
from ..components._structured import (
    MCLUST_COVARIANCE_TYPES,
    full_precision_cholesky,
    is_structure,
    layout_from_full_precision_cholesky,
    layout_precision_cholesky,
    structure_layout,
    structure_name,
)
from ..kernels.structured_gaussian import classification_log_likelihood
from ..models._small_gaussian_mixture import (
    FUSED_MAX_FEATURES,
    FUSED_MAX_SAMPLES,
    SmallGaussianMixtureModel,
)
from ..components.gaussian_missing import MissingGaussianComponent, MissingValues, fill_missing
from ..components.gaussian_ops import precisions_from_cholesky
from ..models.mixture import MixtureModel
from ._base import (EMFitMixin, MixtureSamplingMixin, check_gaussian_mixture_settings,
                    store_init_arguments)
from ._criteria import aic_of, bic_of, total_log_prob

__all__ = ["GaussianMixture"]

_PARAM_NAMES = ("weights", "means", "covariances")
MISSING_OPTIONS = ("error", "marginalize")
# hierarchical_partition clusters a random subset above this many samples.
_HIERARCHICAL_MAX_SAMPLES = 2000
# fit_from_responsibilities takes its EM updates in compiled calls up to this many samples.
COMPILED_RUN_MAX_SAMPLES = 50_000
# GaussianComponent's collapse test per fit_from_responsibilities(collapse=...):
# "default" is the estimator's; "singular" is mclust's, which only gives up on
# numerically singular covariances (the default, 1e-5 of the data's variance,
# would re-seed small legitimate components that mclust keeps), with no weight
# floor (mclust keeps tiny components).
# "singular": mclust keeps tiny components, so no count rule; a component
# whose own points have no spread is still a spike (see GaussianComponent.collapsed).
_COLLAPSE_RULES = {"default": {}, "singular": {"min_count": 0.0}}


def _nan_weighted_mean(X, sample_weight):
    """Weighted mean of every column over its observed (non-NaN) entries."""
    observed = ~np.isnan(X)
    weights = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight)
    totals = weights @ observed
    sums = weights @ np.where(observed, X, 0.0).astype(np.float64)
    return np.where(totals > 0, sums / np.maximum(totals, 1e-300), 0.0)


def _weighted_covariance(data: SampleData) -> np.ndarray:
    """Covariance of the data about its weighted mean, in float64, chunked."""
    D = data.n_features
    scatter = np.zeros((D, D))
    for X_chunk, weights, *_ in data.chunks():
        # Missing entries count as the centre (the collapse test's scale only).
        centered = np.nan_to_num(np.asarray(X_chunk, dtype=np.float64) - data.center, nan=0.0)
        weighted = centered if weights is None else centered * weights[:, None]
        scatter += weighted.T @ centered
    return scatter / data.total_weight


class GaussianMixture(MixtureSamplingMixin, EMFitMixin, DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by EM, with restarts, MAP priors and collapse repair.

    Parameter names and fitted attributes follow
    :class:`sklearn.mixture.GaussianMixture`, so it is a drop-in replacement.

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components K.
    covariance_type : str, default="full"
        Covariance structure: scikit-learn's "full", "tied", "diag",
        "spherical" (with scikit-learn's attribute layouts), or one of R
        mclust's 14 parsimonious structures "EII", "VII", "EEI", "VEI",
        "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV"
        (volume, shape and orientation of ``Sigma_k = lambda_k D_k A_k D_k^T``
        Equal, Variable or Identity), and "E"/"V" for one feature. The
        scikit-learn names are the mclust structures VVV, EEE, VVI and VII.
        For mclust names ``covariances_`` is always (K, D, D), parameter
        counts (``bic``, ``aic``) are mclust's, and the E-step uses the
        cheapest feature kernel that fits the structure (isotropic, diagonal
        or full).
    tol : float, default=1e-6
        Convergence threshold on the per-sample objective. EM stops when both
        the last gain and the gain still projected to come (Aitken's estimate)
        are below it, so it does not stop short on slowly converging fits.
    reg_covar : float, default=1e-6
        Non-negative value added to the diagonal of every covariance.
    max_iter : int, default=1000
        Maximum EM iterations per restart.
    n_init : int, default=30
        Restarts; the run with the highest objective is kept (runs whose
        components kept collapsing are kept only if every run did). With
        ``screen_iter`` most restarts cost only a few iterations.
    init_params : {"kmeans", "k-means++", "random", "random_from_data", "hierarchical"}, \
default="k-means++"
        How the initial responsibilities are found (see
        :func:`emkit._engine.init.initial_responsibilities`). "hierarchical"
        is R mclust's start (model-based agglomeration, ``hc``); it is
        deterministic up to 2000 samples, so it then runs once whatever
        ``n_init`` is.
    weights_init : array-like of shape (n_components,), optional
    means_init : array-like of shape (n_components, n_features), optional
    precisions_init : array-like, optional
        Initial precisions (inverse covariances) in the layout of ``covariance_type``.
    random_state : int, RandomState instance or None, default=None
    warm_start : bool, default=False
        Start from the previous fit's parameters (one run).
    verbose : int, default=0
        0 silent, 1 a line per restart, 2 a line per iteration.
    prior : None, "default" or NormalInverseWishart, default=None
        Conjugate prior on the component means and covariances (MAP
        estimation). ``"default"`` uses R mclust's ``defaultPrior``
        hyperparameters. With a prior the monitored objective is the
        log-posterior and ``reg_covar`` is not added.
    weight_concentration : float or array-like of shape (n_components,), optional
        Dirichlet prior on the weights (1 means flat).
    fixed : tuple of str, default=()
        Parameters held at their initial values during EM: any of
        "weights", "means", "covariances".
    chunk_size : int or None, default=None
        Samples per chunk in the E-step; None picks a few MiB worth.
    screen_iter : int or None, default=20
        Restart screening (emEM): every one of the ``n_init`` restarts first
        runs this many iterations and only the 3 best continue to convergence.
        The short-run objective ranks restarts well, so this finds the best
        optimum of many restarts for the price of a few. None runs every
        restart to convergence (scikit-learn's behaviour).
    accelerate : {"none", "squarem"}, default="none"
        "squarem": Varadhan & Roland's squared extrapolation (scheme 3) with
        R SQUAREM's safeguards (see :mod:`emkit._engine.accel`): far fewer
        E-steps near a slowly converging optimum, and an objective that still
        never decreases. On ``benchmarks/bench_accel.py`` (every covariance
        type, 10 starts) it reached plain EM's optimum from the same start in
        2.3x to 4.8x fewer E-steps and 2.0x to 5.4x less time, never ending
        below it. It is not the default because it does not always end where
        plain EM does: on data with duplicated points (400 points in two
        clusters and 4 copies of one point, K=3) it ended below plain EM's
        optimum from 1 to 3 of 20-30 starts (above from 10 to 13), and with
        ``n_init=5`` on a thin, nearly singular component (smallest eigenvalue
        1e-6 of the data's) that plain EM, whose path collapses onto the
        copies and re-seeds, never returned. "none" is plain EM,
        scikit-learn's per-iteration path (the same iterates, one
        ``history_`` entry per M-step). mclust's structures take plain EM
        either way (their constraints have no unconstrained coordinates here),
        and so does :meth:`fit_from_responsibilities` (mclust's ``me()``).
        Under "squarem", ``n_iter_`` counts M-steps (an accepted cycle takes
        three, a rejected one two) and stays at most ``max_iter`` (a budget
        too short for a cycle takes plain EM updates, so ``max_iter=1`` is one
        EM update); ``n_e_steps_`` counts E-steps (about one per M-step);
        ``history_`` holds the objective of each iterate the run kept, so it
        may be shorter than ``n_iter_ + 1``.
    learning_offset : float, default=1.0
        ``t0 >= 0`` of the online step size ``rho_t = (t + t0) ** -learning_decay``
        (:meth:`partial_fit` and ``fit(strategy="online")``; stepwise EM,
        Cappé & Moulines 2009, see :class:`emkit._engine.online.StepwiseEM`):
        larger values make the early steps smaller.
    learning_decay : float, default=0.75
        ``kappa`` of the online step size, in ``(0.5, 1]``: smaller values
        keep the steps larger for longer (faster early progress, more noise).
    batch_size : int, default=5000
        Samples per mini-batch of ``fit(strategy="online")``.
    online_passes : int, default=3
        Passes over the (reshuffled) data of ``fit(strategy="online")``
        before its batch EM polish.
    missing : {"error", "marginalize"}, default="error"
        NaN entries. "error": a ValueError names them. "marginalize": they are
        missing at random and marginalised exactly (Ghahramani & Jordan 1994):
        responsibilities come from the marginal density of each sample's
        observed coordinates, and the M-step uses the conditional expectations
        of the missing ones (the conditional covariance added to the second
        moments), rows grouped by missingness pattern; a wholly missing row
        contributes nothing. :meth:`impute` fills NaN with their conditional
        expectation. Data without NaN fit exactly as with "error".

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        This and the four parameter arrays below have the dtype of the fitted
        ``X``: float32 for float32 input, as in scikit-learn (the statistics
        and the derived precisions are computed in float64, rounded once).
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        full (K, D, D), tied (D, D), diag (K, D), spherical (K,); (K, D, D)
        for every mclust name.
    precisions_ : ndarray, same layout as ``covariances_``
    precisions_cholesky_ : ndarray, same layout as ``covariances_``
    converged_ : bool
    n_iter_ : int
        EM iterations (M-steps) of the kept run, at most ``max_iter`` (with
        SQUAREM the extrapolation cycles' M-steps; see ``accelerate``).
    n_e_steps_ : int
        E-steps the kept run evaluated, its initial one included (SQUAREM's
        measure of work: it evaluates some iterates it does not keep).
    lower_bound_ : float
        Objective per sample of the returned parameters (log-likelihood, or
        log-posterior with a prior).
    history_ : ndarray of shape (n_kept,)
        Total objective of every iterate of the kept run, the initial
        parameters first: ``n_kept = n_iter_ + 1`` for plain EM, fewer with
        SQUAREM (whose cycles keep two of their iterates). It never
        decreases.
    history_e_steps_ : ndarray of int of shape (n_kept,)
        E-steps evaluated when each entry of ``history_`` was recorded.
    n_repairs_ : int
        Collapsed components re-seeded during the kept run.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when fitted on a DataFrame with string columns
    n_batch_iter_ : int
        Stepwise EM updates (mini-batches) taken by :meth:`partial_fit` or
        ``fit(strategy="online")``.
    n_samples_seen_ : float
        Total weight of the samples :meth:`partial_fit` has streamed.
    last_batch_score_ : float
        :meth:`partial_fit`: the mean log-likelihood of the last batch at the
        parameters before its update (a cheap, slightly stale progress measure).
    online_scores_ : ndarray of shape (online_passes,)
        ``fit(strategy="online")``: the same measure averaged over each pass.

    Examples
    --------
    ``fit`` takes ``X`` of shape (n_samples, n_features); ``predict`` returns
    labels of shape (n_samples,).

    >>> import numpy as np
    >>> from emkit import GaussianMixture
    >>> from emkit.datasets import load_old_faithful
    >>> X = load_old_faithful().data
    >>> model = GaussianMixture(2, n_init=1, random_state=0).fit(X)
    >>> np.sort(model.means_[:, 0]).round(1)
    array([2. , 4.3])
    >>> model.covariances_.shape, model.predict(X).shape
    ((2, 2, 2), (272,))
    """

    # Use the one-pass compiled E-step on small data (see
    # emkit.models._small_gaussian_mixture); a class switch for benchmarks.
    _fused_e_step = True

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-6,
        reg_covar=1e-6,
        max_iter=1000,
        n_init=30,
        init_params="k-means++",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        prior=None,
        weight_concentration=None,
        fixed=(),
        chunk_size=None,
        screen_iter=20,
        accelerate="none",
        learning_offset=1.0,
        learning_decay=0.75,
        batch_size=5000,
        online_passes=3,
        missing="error",
    ):
        store_init_arguments(self, locals())

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None, sample_weight=None, *, strategy="batch", labels=None):
        """Estimate the parameters by EM.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            float32 input stays float32 in the heavy products. A dask array is
            fitted where its blocks live (every E-step maps over them, on the
            workers of a distributed client if one is active); initialisation,
            feature scales and a default prior then use an evenly strided sample
            of 20,000 rows (all rows up to that size, so the fit is the in-memory one).
        y : ignored
        sample_weight : array-like or dask array of shape (n_samples,), optional
            Frequency weights: weight 2 counts a sample twice in every statistic.
        strategy : {"batch", "online"}, default="batch"
            "batch": EM over all the data from ``n_init`` restarts.
            "online": the restarts are screened on one mini-batch, then
            ``online_passes`` passes of stepwise EM over shuffled mini-batches
            of ``batch_size`` (see :meth:`partial_fit`; the statistics are
            scaled to the whole data set, so the fixed points are batch EM's),
            then batch EM (with ``accelerate``) from there to ``tol``. Far
            fewer passes over large data than batch EM from a rough start.
        labels : array-like of int of shape (n_samples,), optional
            Partial labels (semi-supervised EM): the component of a labelled
            sample, -1 for the rest. Labelled samples keep their component
            throughout, and the objective adds ``log pi_y N(x | mu_y, Sigma_y)``
            for them. (``y`` stays ignored, as scikit-learn's pipelines pass
            class labels there.) Batch strategy, in-memory X only.

        Returns
        -------
        self : GaussianMixture
        """
        check_choice(strategy, "strategy", STRATEGIES)
        # A new fit forgets partial_fit's running statistics.
        self.__dict__.pop("_online", None)
        if strategy == "online":
            if labels is not None:
                raise ValueError("labels need strategy='batch'; online EM does not take "
                                 "partial labels.")
            self._fit_online(X, sample_weight)
        else:
            self._fit(X, sample_weight, labels)
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return the most probable component of every sample, shape (n_samples,)."""
        return self.fit(X, y, sample_weight=sample_weight).predict(X)

    def _validate_hyperparameters(self):
        """Check every constructor parameter with the shared validators (emkit._validation)."""
        check_gaussian_mixture_settings(self, COVARIANCE_TYPES + MCLUST_COVARIANCE_TYPES,
                                        "A typical value is tol=1e-6.")
        check_random_state(self.random_state, build=False)
        check_bool(self.warm_start, "warm_start")
        check_integer(self.verbose, "verbose", minimum=0, allow_bool=True)
        check_prior(self.prior, None)
        if self.weight_concentration is not None:
            if np.ndim(self.weight_concentration) == 0:
                check_real(self.weight_concentration, "weight_concentration", minimum=0.0,
                           inclusive=False, hint="1 is a flat Dirichlet prior.")
            else:
                check_parameter_array(self.weight_concentration, (self.n_components,),
                                      "weight_concentration", positive=True)
        self._resolved_fixed()
        check_integer(self.chunk_size, "chunk_size", minimum=1, allow_none=True)
        check_integer(self.screen_iter, "screen_iter", minimum=1, allow_none=True)
        check_choice(self.accelerate, "accelerate", ACCELERATIONS)
        check_online_settings(self.learning_offset, self.learning_decay, self.batch_size,
                              self.online_passes)
        check_choice(self.missing, "missing", MISSING_OPTIONS)

    def _resolved_fixed(self):
        if isinstance(self.fixed, str) or not isinstance(self.fixed, (tuple, list)):
            raise InvalidParameterError(
                f"fixed must be a tuple of parameter names, e.g. fixed=('means',); got "
                f"{self.fixed!r}.")
        fixed = frozenset(self.fixed)
        unknown = fixed - set(_PARAM_NAMES)
        if unknown:
            raise InvalidParameterError(
                f"fixed may only name {_PARAM_NAMES}; got unknown name(s) "
                f"{sorted(map(repr, unknown))}."
            )
        return fixed

    def _resolved_prior(self, X):
        prior = check_prior(self.prior, X.shape[1])
        if prior is None:
            return None
        if isinstance(prior, str):
            from ..priors import default_prior

            return default_prior(X, self.n_components)
        return prior

    def _check_user_params(self, n_features):
        K, D = self.n_components, n_features
        user = {}
        if self.weights_init is not None:
            user["weights"] = check_parameter_array(self.weights_init, (K,), "weights_init",
                                                    simplex=True, label="weights")
        if self.means_init is not None:
            user["means"] = check_parameter_array(self.means_init, (K, D), "means_init",
                                                  label="means")
        if self.precisions_init is not None:
            precisions = check_covariance_parameter(
                self.precisions_init, _covariance_shape(self.covariance_type, K, D),
                "precisions_init", covariance_type=self.covariance_type,
                layout=self._layout(D), kind="precision")
            user["covariances"] = _covariances_from_precisions(
                precisions, "full" if is_structure(self.covariance_type) else self.covariance_type)
        return user

    def _layout(self, n_features):
        """Layout of the precision factors the engine works with (see GaussianComponent)."""
        if not is_structure(self.covariance_type):
            return self.covariance_type
        return structure_layout(structure_name(self.covariance_type, n_features))

    def _fit(self, X, sample_weight, labels=None):
        self._validate_hyperparameters()
        fixed = self._resolved_fixed()
        warm = self.warm_start and hasattr(self, "converged_")
        missing = None
        if is_dask_array(X):
            if labels is not None:
                raise ValueError("labels are not supported with a dask X; fit in memory or "
                                 "drop labels.")
            # Blocks on a cluster: E-steps run there; what needs rows on the
            # client (initialisation, feature scales, a default prior) gets
            # DaskSampleData's bounded sample of them.
            data = self._dask_data(X, sample_weight, reset=not warm)
            X_local, weight_local = data.sample, data.sample_weight_sample
            init_data = SampleData(X_local, weight_local)
            data_covariance = data.covariance
            # check_gaussian_scale reads magnitudes from rows: the largest ones.
            magnitudes = data.max_abs[None, :]
        else:
            X = validate_samples(self, X, reset=not warm, min_samples=self.n_components,
                                 allow_nan=self.missing == "marginalize")
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
            labels = check_partial_labels(labels, X.shape[0], self.n_components)
            missing = MissingValues.of(X) if self.missing == "marginalize" else None
            if missing is not None:
                # Wholly missing rows have likelihood 1 under every parameter.
                X, sample_weight, labels = missing.drop_empty_rows(X, sample_weight, labels)
                if X.shape[0] < self.n_components:
                    raise ValueError(f"X has {X.shape[0]} rows with an observed entry but "
                                     f"n_components={self.n_components}; pass more data.")
            data = self._sample_data(X, sample_weight, labels)
            data_covariance = _weighted_covariance(data)
            X_local, weight_local, init_data = X, sample_weight, data
            if missing is not None:
                # Initialisation, scales and the collapse test's covariance see
                # the missing entries at the data's centre; EM sees them missing.
                X_local = fill_missing(X, data.center)
                init_data = self._sample_data(X_local, sample_weight, labels)
                data.reseed_rows = X_local
            magnitudes = X_local
        scales = measure_feature_scales(X_local, weight_local)
        check_gaussian_scale(magnitudes, scales)
        user_params = self._check_user_params(data.n_features)
        rng = check_random_state(self.random_state)
        prior = self._resolved_prior(X_local)
        build_model = partial(self._build_model, data, data_covariance, prior, scales=scales,
                              missing=missing is not None)
        model = build_model(fixed)

        if warm:
            initializations = [self._fitted_params()]
        else:
            init_build = (build_model if init_data is data else
                          partial(self._build_model, init_data, data_covariance, prior,
                                  scales=scales))
            initializations = self._initializations(X_local, weight_local, init_data,
                                                    user_params, init_build, rng, labels)
        result = fit_em(model, data, initializations, max_iter=self.max_iter, tol=self.tol,
                        random_state=rng, verbose=self.verbose,
                        screen_iter=self.screen_iter, n_refine=3,
                        accelerate=self.accelerate)
        self._set_params_from(result.params, dtype=data.dtype)
        self._store_fit_result(result, data.total_weight)
        return self

    def _dask_data(self, X, sample_weight, *, reset):
        """Validate a dask array at the boundary and measure it in one pass."""
        X = check_dask_samples(X, n_features=None if reset else self.n_features_in_,
                               min_samples=self.n_components)
        if reset:
            self.n_features_in_ = X.shape[1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        kernel = kernel_of(self._layout(X.shape[1]))
        row_bytes = X.dtype.itemsize * (feature_width(kernel, X.shape[1]) + 3 * self.n_components)
        return DaskSampleData(X, sample_weight, row_bytes=row_bytes, chunk_size=self.chunk_size,
                              check_block=_check_finite_block)

    def _sample_data(self, X, sample_weight, labels=None):
        kernel = kernel_of(self._layout(X.shape[1]))
        row_bytes = X.itemsize * (feature_width(kernel, X.shape[1]) + 3 * self.n_components)
        center = None
        if np.isnan(X).any():
            center = _nan_weighted_mean(X, sample_weight)
        return SampleData(X, sample_weight, chunk_size=self.chunk_size, row_bytes=row_bytes,
                          labels=labels, center=center)

    def _build_model(self, data, data_covariance, prior, fixed_names,
                     max_fused_samples=FUSED_MAX_SAMPLES, collapse="default", *, scales,
                     center=None, missing=False, compiled_runs=False):
        """The engine's model: mixture weights over a configured GaussianComponent.

        ``center`` (default: the data's mean) is where the component takes its
        statistics; online EM fixes it once, so that the statistics of
        different batches add. ``compiled_runs`` lets a small model take its
        EM updates in compiled calls (see SmallGaussianMixtureModel).
        """
        component = GaussianComponent(
            self.covariance_type, reg_covar=self.reg_covar,
            center=data.center if center is None else center,
            dtype=data.dtype, data_covariance=data_covariance, prior=prior,
            fixed=fixed_names - {"weights"}, feature_scales=scales,
            **_COLLAPSE_RULES[collapse],
        )
        model_class = MixtureModel
        if missing:
            component = MissingGaussianComponent(component)
        # The fused model is for small in-memory data without missing entries
        # or labels; Dask blocks run the feature kernels (and are rarely small).
        if (not isinstance(data, DaskSampleData) and data.n_samples <= max_fused_samples
                and data.n_features <= FUSED_MAX_FEATURES and self._fused_e_step
                and not missing and getattr(data, "labels", None) is None):
            # Small data: the fixed cost per E-step call dominates, so one
            # compiled pass beats the BLAS feature kernels.
            return SmallGaussianMixtureModel(component, self.n_components,
                                             weight_concentration=self.weight_concentration,
                                             fix_weights="weights" in fixed_names,
                                             compiled_runs=compiled_runs)
        return model_class(component, self.n_components,
                           weight_concentration=self.weight_concentration,
                           fix_weights="weights" in fixed_names)

    def fit_from_responsibilities(self, X, resp, *, data_covariance=None, relative_tol=None,
                                  collapse="default", feature_scales=None):
        """One EM run that starts with an M-step from given responsibilities.

        R mclust's ``me()``: no restarts and no warnings (the caller reads
        ``converged_``, ``n_repairs_`` and the returned result), and safe to
        call from several threads at once on different estimators.
        :func:`emkit.select_model` fits every cell of its grid this way.
        ``n_init``, ``init_params``, ``*_init``, ``fixed`` and ``warm_start``
        are not used.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        resp : array-like of shape (n_samples, n_components)
            Initial responsibilities, e.g. a one-hot partition: non-negative,
            each row summing to 1.
        data_covariance : ndarray of shape (n_features, n_features), optional
            Covariance of ``X`` about its mean, when the caller has it (it
            scales the collapse test).
        feature_scales : FeatureScales, optional
            ``emkit.components.gaussian.feature_scales(X)``, when the caller
            has measured (and checked) them: a grid measures them once.
        relative_tol : float, optional
            Stop as R mclust does, when ``|L_t - L_{t-1}| <= relative_tol *
            (1 + |L_t|)`` (``emControl(tol)``), instead of by ``self.tol``.
        collapse : {"default", "singular"}, default="default"
            When a component counts as collapsed (and is re-seeded): the
            estimator's test, or mclust's, which only gives up on
            numerically singular covariances.

        Returns
        -------
        result : FitResult
            The engine's record of the run (``history``, ``degenerate``,
            ``n_repairs``, ...); the fitted attributes are set as by ``fit``.
        """
        self._validate_hyperparameters()
        check_choice(collapse, "collapse", tuple(_COLLAPSE_RULES))
        if relative_tol is not None:
            check_real(relative_tol, "relative_tol", minimum=0.0)
        X = validate_samples(self, X, reset=True, min_samples=self.n_components)
        resp = check_parameter_array(resp, (X.shape[0], self.n_components), "resp")
        if (resp < 0).any() or not np.allclose(resp.sum(axis=1), 1.0, atol=1e-6):
            raise ValueError("resp must hold non-negative responsibilities whose rows sum "
                             "to 1 (e.g. a one-hot partition).")
        if data_covariance is not None:
            data_covariance = check_parameter_array(
                data_covariance, (X.shape[1], X.shape[1]), "data_covariance")
        data = self._sample_data(X, None)
        if data_covariance is None:
            data_covariance = _weighted_covariance(data)
        scales = feature_scales
        if scales is None:
            scales = measure_feature_scales(X)
            check_gaussian_scale(X, scales)
        # The compiled updates save the Python between kernels at every
        # iteration, which pays on much larger data than the fused E-step alone.
        model = self._build_model(data, data_covariance, self._resolved_prior(X), frozenset(),
                                  max_fused_samples=COMPILED_RUN_MAX_SAMPLES,
                                  collapse=collapse, scales=scales, compiled_runs=True)
        params = model.m_step(model.stats_from_responsibilities(resp, data), None)
        prec_chol, covariances = self._precision_cholesky(params["covariances"], X.shape[1])
        params["covariances"], params["precisions_cholesky"] = covariances, prec_chol
        # A seed stays a seed: the engine builds its RandomState only for a re-seed.
        rng = check_random_state(self.random_state, build=False)
        if rng is None:
            rng = check_random_state(None)
        # mclust stops when the log-likelihood changed by at most relative_tol
        # relative to 1 + |L|: reproducing its BIC table (same start, same
        # steps) needs the same stopping point.
        result = fit_em(model, data, [params], max_iter=self.max_iter,
                        tol=self.tol if relative_tol is None else relative_tol,
                        random_state=rng, verbose=self.verbose, screen_iter=None,
                        stopping="aitken" if relative_tol is None else "relative")
        self._set_params_from(result.params, dtype=X.dtype)
        # EMFitMixin._store_fit_result's attributes without its warnings
        # (warnings.catch_warnings is not thread-safe).
        self.converged_ = bool(result.converged)
        self.n_iter_ = int(result.n_iter)
        self.history_ = np.asarray(result.history, dtype=np.float64)
        self.lower_bounds_ = self.history_ / data.total_weight
        self.lower_bound_ = float(self.history_[-1] / data.total_weight)
        self.n_repairs_ = int(result.n_repairs)
        self.repairs_ = np.asarray(result.repairs, dtype=np.intp)
        return result

    # ---------------------------------------------------------------- online
    def partial_fit(self, X, y=None, sample_weight=None):
        """One stepwise EM update from one mini-batch (Cappé & Moulines 2009).

        The batch's E-step runs at the current parameters; its statistics,
        divided by the batch's total weight, move the running per-sample
        statistics a step ``rho_t = (t + learning_offset) ** -learning_decay``
        towards them (``t = n_batch_iter_``), and the parameters are the M-step
        of the running statistics scaled to ``n_samples_seen_`` (so the
        ``reg_covar`` penalty, a prior and the collapse test weigh against the
        samples seen, as in batch EM over them). Memory is one set of
        statistics, whatever the number of batches.

        The first call starts the running statistics from its batch
        (``rho = 1``) and fixes what they are taken about: the batch's
        weighted mean (the centre of the Gaussian moments), its covariance and
        feature scales (``reg_covar`` is relative to them, the default prior
        is built from them). It starts from the fitted parameters when there
        are some (an earlier ``fit`` or :meth:`from_params`), else from
        ``weights_init``/``means_init``/``precisions_init`` and
        ``init_params`` on the batch, which then needs at least
        ``n_components`` samples. ``fit`` discards the running statistics.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            One mini-batch; later batches must have the first one's features.
            A dask array is a stream of mini-batches, one step per row block:
            the blocks are computed one after another (the next while the
            current one is used), as ``partial_fit`` on every block in turn,
            so the client never holds more than two blocks.
        y : ignored
        sample_weight : array-like or dask array of shape (n_samples,), optional
            Frequency weights (a batch's total weight must be positive).

        Returns
        -------
        self : GaussianMixture
        """
        if is_dask_array(X):
            X = check_dask_samples(X, n_features=getattr(self, "n_features_in_", None)
                                   if "_online" in self.__dict__ or hasattr(self, "means_")
                                   else None)
            for block, weights in stream_row_blocks(X, sample_weight, names=["sample_weight"]):
                self.partial_fit(block, sample_weight=weights)
            return self
        self._validate_hyperparameters()
        fixed = self._resolved_fixed()
        state = self.__dict__.get("_online")
        fitted = hasattr(self, "means_")
        X = validate_samples(self, X, reset=state is None and not fitted,
                             min_samples=1 if state is not None or fitted else self.n_components)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        if state is None:
            state = self._start_online(X, sample_weight, fixed, fitted)
        else:
            X = X.astype(state.dtype, copy=False)
        batch = self._sample_data(X, sample_weight)
        model = self._build_model(batch, state.data_covariance, state.prior, fixed,
                                  scales=state.scales, center=state.center)
        self._set_params_from(self._online_step(state, model, batch), dtype=state.dtype)
        return self

    def _start_online(self, X, sample_weight, fixed, fitted):
        """The running state of stepwise EM, configured on its first batch."""
        scales = measure_feature_scales(X, sample_weight)
        check_gaussian_scale(X, scales)
        data = self._sample_data(X, sample_weight)
        state = _OnlineState(
            stepwise=StepwiseEM(self.learning_offset, self.learning_decay),
            rng=check_random_state(self.random_state), center=data.center,
            data_covariance=_weighted_covariance(data), prior=self._resolved_prior(X),
            scales=scales, dtype=X.dtype)
        if fitted:
            state.params = self._fitted_params()
        else:
            build_model = partial(self._build_model, data, state.data_covariance, state.prior,
                                  scales=scales)
            state.params = self._batch_start(data, self._check_user_params(X.shape[1]),
                                             build_model, fixed, state.rng)
        return state

    def _batch_start(self, data, user_params, build_model, fixed, rng):
        """Starting parameters of online EM: a batch fit of one mini-batch
        (``n_init`` restarts screened as by ``fit``, EM to ``tol``).

        Stepwise EM moves only a step ``rho`` of an EM update per batch, so
        it crosses the slow stretches of EM (a component splitting from
        another) no faster than EM itself; started from a converged fit of
        one batch it has only the batch's sampling error to average away.
        """
        result = fit_em(build_model(fixed_names=fixed), data,
                        self._initializations(data.X, data.sample_weight, data, user_params,
                                              build_model, rng),
                        max_iter=self.max_iter, tol=self.tol, random_state=rng,
                        screen_iter=self.screen_iter, n_refine=3, accelerate=self.accelerate)
        return result.params

    def _fit_online(self, X, sample_weight):
        """fit(strategy="online"): screened start on one mini-batch, stepwise EM
        passes over shuffled mini-batches, batch EM polish."""
        self._validate_hyperparameters()
        fixed = self._resolved_fixed()
        X = validate_samples(self, X, reset=True, min_samples=self.n_components)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        check_first_batch(self.batch_size, self.n_components)
        scales = measure_feature_scales(X, sample_weight)
        check_gaussian_scale(X, scales)
        user_params = self._check_user_params(X.shape[1])
        rng = check_random_state(self.random_state)
        data = self._sample_data(X, sample_weight)
        data_covariance, prior = _weighted_covariance(data), self._resolved_prior(X)

        def build_model(batch, fixed_names, center=None):
            return self._build_model(batch, data_covariance, prior, fixed_names, scales=scales,
                                     center=center)

        n_samples = X.shape[0]
        batch_size = min(self.batch_size, n_samples)

        def batch_of(indices):
            weights = None if sample_weight is None else sample_weight[indices]
            return self._sample_data(X[indices], weights)

        first, make_pass = shuffled_passes(n_samples, batch_size, rng, batch_of)
        start = self._batch_start(first, user_params, partial(build_model, first), fixed, rng)

        def report(pass_index, score):
            if self.verbose:
                print(f"online pass {pass_index + 1}: mean batch objective {score:.6f}")

        stepwise = StepwiseEM(self.learning_offset, self.learning_decay)
        # Scaled to the whole data set: the stepwise fixed points are batch EM's.
        params, scores = stepwise_passes(
            stepwise, start, make_pass,
            lambda batch: build_model(batch, fixed_names=fixed, center=data.center),
            n_passes=self.online_passes, scale=data.total_weight, rng=rng, on_pass=report)
        result = fit_em(build_model(data, fixed_names=fixed), data, [params],
                        max_iter=self.max_iter, tol=self.tol, random_state=rng,
                        verbose=self.verbose, screen_iter=None, accelerate=self.accelerate)
        self._set_params_from(result.params, dtype=X.dtype)
        self._store_fit_result(result, data.total_weight)
        self.n_batch_iter_ = stepwise.n_steps
        self.online_scores_ = np.asarray(scores, dtype=np.float64)
        return self

    def _initializations(self, X, sample_weight, data, user_params, build_model, rng,
                         labels=None):
        """Lazily yield one set of starting parameters per restart."""
        complete = all(name in user_params for name in _PARAM_NAMES)
        n_runs = 1 if complete else self.n_init
        if self.init_params == "hierarchical" and X.shape[0] <= _HIERARCHICAL_MAX_SAMPLES:
            # The agglomeration is deterministic: restarts would repeat it.
            n_runs = 1
        init_model = build_model(frozenset({"means"}) if "means" in user_params else frozenset())
        for _ in range(n_runs):
            if complete:
                params = dict(user_params)
            else:
                resp = start_for_labels(
                    initial_responsibilities(X, self.n_components, self.init_params, rng,
                                             sample_weight), labels)
                start = {"means": user_params["means"]} if "means" in user_params else None
                params = init_model.m_step(init_model.stats_from_responsibilities(resp, data),
                                           start)
                params.update(user_params)
            prec_chol, covariances = self._precision_cholesky(params["covariances"],
                                                              X.shape[1])
            params["covariances"] = covariances
            params["precisions_cholesky"] = prec_chol
            yield params

    # ------------------------------------------------------------ parameters
    def _precision_cholesky(self, covariances, n_features):
        """(factors in the engine's layout, possibly repaired covariances)."""
        if is_structure(self.covariance_type):
            return layout_precision_cholesky(covariances, self._layout(n_features))
        return precision_cholesky(covariances, self.covariance_type)

    def _fitted_params(self):
        prec_chol = self.precisions_cholesky_
        if is_structure(self.covariance_type):
            prec_chol = layout_from_full_precision_cholesky(
                prec_chol, self._layout(self.means_.shape[1]))
        # The engine works in float64 whatever dtype the attributes are stored in.
        return {
            "weights": np.asarray(self.weights_, dtype=np.float64),
            "means": np.asarray(self.means_, dtype=np.float64),
            "covariances": np.asarray(self.covariances_, dtype=np.float64),
            "precisions_cholesky": np.asarray(prec_chol, dtype=np.float64),
        }

    def _set_params_from(self, params, dtype=np.float64):
        """Store the engine's parameters as the fitted attributes, in ``dtype``.

        Everything is derived in float64 and rounded once at the end, so a
        float32 fit (``dtype`` is X's, as in scikit-learn) has float32
        attributes that are the float64 results rounded.
        """
        weights = np.asarray(params["weights"], dtype=np.float64)
        means = np.asarray(params["means"], dtype=np.float64)
        covariances = np.asarray(params["covariances"], dtype=np.float64)
        prec_chol = np.asarray(params["precisions_cholesky"], dtype=np.float64)
        if is_structure(self.covariance_type):
            D = means.shape[1]
            prec_chol = full_precision_cholesky(prec_chol, self._layout(D), D)
        precisions = precisions_from_cholesky(
            prec_chol, "full" if is_structure(self.covariance_type) else self.covariance_type)
        self.weights_ = weights.astype(dtype, copy=False)
        self.means_ = means.astype(dtype, copy=False)
        self.covariances_ = covariances.astype(dtype, copy=False)
        self.precisions_cholesky_ = prec_chol.astype(dtype, copy=False)
        self.precisions_ = precisions.astype(dtype, copy=False)

    @classmethod
    def from_params(cls, weights, means, covariances, covariance_type="full", **kwargs):
        """A ready-to-use model from known parameters (no fitting).

        Parameters
        ----------
        weights : array-like of shape (n_components,)
        means : array-like of shape (n_components, n_features)
        covariances : array-like in the layout of ``covariance_type``
            (K, D, D) for mclust names.
        covariance_type : str
            See the class docstring.
        **kwargs : further constructor parameters

        Returns
        -------
        GaussianMixture
            With ``weights_``, ``means_``, ``covariances_`` and the precisions set,
            so ``predict_proba``, ``score_samples`` and ``sample`` work.
        """
        means_shape = np.shape(means)
        if len(means_shape) != 2 or 0 in means_shape:
            raise ValueError(f"means must have shape (n_components, n_features); got "
                             f"{means_shape}. For one feature pass a column, e.g. "
                             f"np.reshape(means, (-1, 1)).")
        K, D = means_shape
        means = check_parameter_array(means, (K, D), "means")
        model = cls(n_components=K, covariance_type=covariance_type, **kwargs)
        model._validate_hyperparameters()
        weights = check_parameter_array(weights, (K,), "weights", simplex=True)
        covariances = check_covariance_parameter(
            covariances, _covariance_shape(covariance_type, K, D), "covariances",
            covariance_type=covariance_type, layout=model._layout(D), kind="covariance")
        prec_chol, covariances = model._precision_cholesky(covariances, D)
        model._set_params_from({"weights": weights, "means": means, "covariances": covariances,
                                "precisions_cholesky": prec_chol})
        model.n_features_in_ = D
        model.converged_ = True
        model.n_iter_ = 0
        return model

    # ------------------------------------------------------------ inference
    def _joint_log_prob(self, X):
        """``log pi_k + log N(x | mu_k, Sigma_k)`` in float64, and X's dtype.

        Returns
        -------
        joint : ndarray of shape (n_samples, n_components)
        dtype : numpy dtype of the validated X (float32 or float64)
        """
        check_is_fitted(self)
        X = validate_samples(self, X, reset=False,
                             allow_nan=getattr(self, "missing", "error") == "marginalize")
        params = self._fitted_params()
        component = self._model_component(X.dtype)
        if np.isnan(X).any():
            component = MissingGaussianComponent(component)
        plan = component.plan(params)
        with np.errstate(divide="ignore"):
            log_weights = np.log(params["weights"])
        log_prob = component.log_prob(plan, component.features(X))
        return np.asarray(log_prob, dtype=np.float64) + log_weights, X.dtype

    def impute(self, X):
        """``X`` with every NaN replaced by its conditional expectation.

        ``E[x_m | x_o] = sum_k p(k | x_o) E[x_m | x_o, k]``, the posterior
        mean of the missing coordinates given the observed ones under the
        fitted mixture; observed entries are returned unchanged. A wholly
        missing row gets the mixture's mean.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            May contain NaN (whatever ``missing`` is set to).

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features), float64
        """
        check_is_fitted(self)
        X = validate_samples(self, X, reset=False, allow_nan=True)
        X = np.asarray(X, dtype=np.float64)
        if not np.isnan(X).any():
            return X.copy()
        params = self._fitted_params()
        component = MissingGaussianComponent(self._model_component(np.float64))
        chunk = component.features(X)
        joint = component.log_prob(component.plan(params), chunk)
        with np.errstate(divide="ignore"):
            joint = joint + np.log(params["weights"])
        resp = np.exp(joint - logsumexp(joint, axis=1, keepdims=True))
        # Observed entries exactly as given, not via the centring round trip.
        return np.where(np.isnan(X), component.conditional_expectation(resp, chunk), X)

    def _model_component(self, dtype=np.float64):
        """The fitted mixture's component family, for inference and sampling
        (statistics are taken about the mixture's mean)."""
        center = np.asarray(self.weights_, dtype=np.float64) @ np.asarray(self.means_,
                                                                          dtype=np.float64)
        return GaussianComponent(self.covariance_type, reg_covar=0.0, center=center,
                                 dtype=dtype, data_covariance=np.eye(center.shape[0]))

    def _log_density(self, X):
        """float64 log-density of every sample, and X's dtype."""
        joint, dtype = self._joint_log_prob(X)
        return logsumexp(joint, axis=1), dtype

    def _dask_rows(self, method, X, n_columns=None, dtype=None):
        """``method`` on every block of a dask ``X``: a dask array (lazy)."""
        check_is_fitted(self)
        X = check_dask_samples(X, n_features=self.n_features_in_)
        return map_rows(method, X, n_columns=n_columns, dtype=X.dtype if dtype is None else dtype)

    def score_samples(self, X):
        """Log-density of every sample under the mixture, shape (n_samples,).

        In X's dtype (float32 for float32 input, as scikit-learn does);
        computed in float64. A dask array gives a dask array.
        """
        if is_dask_array(X):
            return self._dask_rows(self.score_samples, X)
        log_density, dtype = self._log_density(X)
        return log_density.astype(dtype, copy=False)

    def score(self, X, y=None, sample_weight=None):
        """Mean log-likelihood per sample (weighted by ``sample_weight``)."""
        if is_dask_array(X):
            return weighted_mean(self._dask_rows(self.score_samples, X).astype(np.float64),
                                 sample_weight)
        total, n = total_log_prob(self._log_density(X)[0], sample_weight)
        return total / n

    def predict_proba(self, X):
        """Responsibilities p(k | x), shape (n_samples, n_components), in X's dtype.

        A dask array gives a dask array (computed block by block where it lives).
        """
        if is_dask_array(X):
            return self._dask_rows(self.predict_proba, X, n_columns=self.n_components)
        joint, dtype = self._joint_log_prob(X)
        return np.exp(joint - logsumexp(joint, axis=1, keepdims=True)).astype(dtype,
                                                                             copy=False)

    def predict(self, X):
        """Most probable component of every sample, shape (n_samples,).

        A dask array gives a dask array.
        """
        if is_dask_array(X):
            return self._dask_rows(self.predict, X, dtype=np.intp)
        return self._joint_log_prob(X)[0].argmax(axis=1)

    @staticmethod
    def _check_n_samples(n_samples):
        """``sample``'s n_samples check, in scikit-learn's wording."""
        if (isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, Integral)
                or n_samples < 1):
            # "Invalid value for 'n_samples'" is scikit-learn's wording.
            raise InvalidParameterError(
                f"Invalid value for 'n_samples': {n_samples!r}; n_samples must be an "
                f"integer >= 1.")
        return n_samples

    def _sampling_component(self):
        return self._model_component()

    def n_parameters(self):
        """Free parameters of the fitted mixture, as counted by ``bic`` and ``aic``.

        Counted as scikit-learn does (as mclust does for its names; both
        counts agree on the four scikit-learn structures).

        Returns
        -------
        int
        """
        check_is_fitted(self)
        K = self.means_.shape[0]
        return self._model_component().n_free_parameters(K) + K - 1

    def _n_parameters(self):
        """scikit-learn's private name for :meth:`n_parameters` (its tests call it)."""
        return self.n_parameters()

    def icl_terms(self, X):
        """The two data terms of BIC and ICL, in one compiled pass over ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_likelihood : float
            ``sum_n log p(x_n)``.
        log_max_responsibility : float
            ``sum_n log max_k p(k | x_n)``, the classification term of ICL
            (Biernacki, Celeux & Govaert 2000): mclust's ``ICL = BIC + 2 *
            log_max_responsibility`` (higher is better).
        """
        check_is_fitted(self)
        X = np.asarray(validate_samples(self, X, reset=False), dtype=np.float64)
        K, D = self.means_.shape
        factors = self._fitted_params()["precisions_cholesky"]
        layout = self._layout(D)
        if layout == "tied":
            factors, layout = np.broadcast_to(factors, (K, D, D)), "full"
        center = X.mean(axis=0)
        with np.errstate(divide="ignore"):
            log_weights = np.log(self.weights_)
        loglik, log_max_z = classification_log_likelihood(
            np.ascontiguousarray(X), center, np.ascontiguousarray(self.means_ - center),
            np.ascontiguousarray(factors, dtype=np.float64), layout, log_weights)
        return float(loglik), float(log_max_z)

    def bic(self, X, sample_weight=None):
        """Bayesian information criterion (scikit-learn's sign: lower is better).

        ``-2 log L + n_parameters * log(n)`` with ``n`` the total sample weight.
        """
        return bic_of(*self._total_loglik(X, sample_weight), self.n_parameters())

    def aic(self, X, sample_weight=None):
        """Akaike information criterion (lower is better): ``-2 log L + 2 n_parameters``."""
        return aic_of(self._total_loglik(X, sample_weight)[0], self.n_parameters())

    def _total_loglik(self, X, sample_weight):
        if is_dask_array(X):
            log_density = self._dask_rows(self.score_samples, X).astype(np.float64)
            mean = weighted_mean(log_density, sample_weight)
            total_weight = (float(X.shape[0]) if sample_weight is None
                            else float(np.asarray(np.sum(sample_weight))))
            return mean * total_weight, total_weight
        return total_log_prob(self._log_density(X)[0], sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class _OnlineState:
    """What :meth:`GaussianMixture.partial_fit` keeps between calls: the
    stepper (running statistics, counters), the random state, what the
    statistics are taken about (fixed at the first batch), and the current
    float64 parameters. Its size does not depend on the samples streamed."""

    def __init__(self, *, stepwise, rng, center, data_covariance, prior, scales, dtype):
        self.stepwise, self.rng = stepwise, rng
        self.center, self.data_covariance, self.prior = center, data_covariance, prior
        self.scales, self.dtype = scales, dtype
        self.params = None


def _check_finite_block(block):
    """Validate one block of a dask X as an in-memory X is (runs on the workers)."""
    validate_samples(None, block, reset=False)


def _covariance_shape(covariance_type, n_components, n_features):
    """Shape of ``covariances_`` (and ``precisions_init``) for ``covariance_type``."""
    K, D = n_components, n_features
    if covariance_type in MCLUST_COVARIANCE_TYPES:
        return (K, D, D)
    return {"full": (K, D, D), "tied": (D, D), "diag": (K, D),
            "spherical": (K,)}.get(covariance_type)


def _covariances_from_precisions(precisions, covariance_type):
    if covariance_type in ("diag", "spherical"):
        return 1.0 / precisions
    return np.linalg.inv(precisions)
