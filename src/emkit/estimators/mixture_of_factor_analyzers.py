"""Mixtures of factor analysers by AECM, or SQUAREM-accelerated EM, on emkit's engine."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    DensityMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted

from .._engine.accel import ACCELERATIONS
from .._engine.dask_data import (DaskSampleData, check_dask_samples, check_finite_block,
                                 is_dask_array, map_rows, weighted_total)
from .._engine.data import SampleData
from .._engine.em import fit_em
from .._engine.init import INIT_METHODS, initial_responsibilities, start_for_labels
from .._validation import (InvalidParameterError, check_choice, check_integer,
                           check_parameter_array, check_partial_labels, check_random_state,
                           check_real, check_sample_weight, validate_samples)
from ..models.factor import (FullCycleRule, MixtureOfFactorsModel, low_rank_covariance,
                             low_rank_plan, low_rank_posterior, noise_floor)
from ._base import (EMFitMixin, MixtureInferenceMixin, parameter_of_rank, sampling_start,
                    store_init_arguments)
from ._criteria import LikelihoodCriteriaMixin
from .factor_analysis import check_n_factors, weighted_scatter

__all__ = ["MixtureOfFactorAnalyzers"]

UNIQUENESS = ("per_component", "common")


_PARAMS = ("weights", "means", "loadings", "noise_variance")


class MixtureOfFactorAnalyzers(MixtureInferenceMixin, ClassNamePrefixFeaturesOutMixin,
                               TransformerMixin, LikelihoodCriteriaMixin, EMFitMixin,
                               DensityMixin, BaseEstimator):
    """Mixture of factor analysers (Ghahramani & Hinton 1996) fitted by AECM.

    Component ``k`` is ``x = mu_k + W_k z + e``, ``z ~ N(0, I_q)``,
    ``e ~ N(0, Psi_k)``: a Gaussian with the low-rank-plus-diagonal
    covariance ``W_k W_k^T + Psi_k``, evaluated by Woodbury in O(D q) per
    sample. AECM (McLachlan & Peel 2000, section 8.5) alternates a cycle on
    the weights and means with one on the loadings and uniquenesses, each
    after its own E-step (see :class:`emkit.models.factor.MixtureOfFactorsModel`);
    the log-likelihood never decreases. ``accelerate="squarem"`` instead
    extrapolates EM on the complete data (x, labels, factors) (one E-step
    and the joint M-step of Ghahramani & Hinton 1996 per update, a single
    fixed-point map, which AECM's alternating cycles are not), never lowering
    the log-likelihood either.

    Parameters
    ----------
    n_components : int, default=1
    n_factors : int, default=1
        Latent dimensions ``q`` per component (at most n_features).
    uniqueness : {"per_component", "common"}, default="per_component"
        One diagonal ``Psi_k`` per component, or one shared by all
        (McLachlan & Peel's common uniquenesses).
    tol : float, default=1e-6
        Convergence threshold on the per-sample log-likelihood.
    max_iter : int, default=2000
        Half-cycles of AECM (engine iterations); with ``accelerate="squarem"``
        EM updates (each a whole cycle), extrapolations included.
    n_init : int, default=5
        Restarts from ``init_params`` partitions; the best run is kept.
    init_params : {"k-means++", "kmeans", "random", "random_from_data", "hierarchical"}
        The initial partition; every component then starts from the PPCA
        solution of its own covariance.
    random_state : int, RandomState or None
    fixed : tuple of {"weights", "means", "loadings", "noise_variance"}, default=()
        Held at their starting values.
    accelerate : {"none", "squarem"}, default="none"
        The engine's stepper: "none" runs AECM; "squarem" runs SQUAREM (see
        :mod:`emkit._engine.accel`) on EM over (x, labels, factors), in log
        weights, means, loadings and log uniquenesses, stopping by Aitken's
        rule on its EM updates: about 5x fewer E-steps and 3x less time than
        AECM to the same optimum (benchmarks/bench_factor.py ``--mfa``). EM's
        path is not AECM's, so from a start between optima the two may end
        at different ones (one of twelve starts on strongly overlapping
        clusters tried, where AECM found the better one and plain EM on the
        same map the same worse one); AECM stays the default.
    verbose : int, default=0

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    loadings_ : ndarray of shape (n_components, n_features, n_factors)
    noise_variance_ : ndarray of shape (n_components, n_features)
        Equal rows with ``uniqueness="common"``.
    converged_, n_iter_, n_e_steps_, history_, lower_bound_ : see EMFitMixin

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.estimators.mixture_of_factor_analyzers import MixtureOfFactorAnalyzers
    >>> rng = np.random.RandomState(0)
    >>> lines = [rng.standard_normal((200, 1)) * rng.standard_normal((1, 5)) * 3 for _ in range(2)]
    >>> X = np.vstack([lines[0], lines[1] + 8]) + 0.3 * rng.standard_normal((400, 5))
    >>> model = MixtureOfFactorAnalyzers(2, n_factors=1, random_state=0).fit(X)
    >>> np.bincount(model.predict(X)).tolist(), model.converged_
    ([200, 200], True)
    """

    def __init__(self, n_components=1, *, n_factors=1, uniqueness="per_component", tol=1e-6,
                 max_iter=2000, n_init=5, init_params="k-means++", random_state=None,
                 fixed=(), accelerate="none", verbose=0):
        store_init_arguments(self, locals())

    def fit(self, X, y=None, sample_weight=None, *, labels=None):
        """Estimate the mixture by AECM (or SQUAREM-accelerated EM, see ``accelerate``).

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            A dask array is fitted where its blocks live: every E-step runs
            on the workers and only the summed statistics come back.
        y : ignored
            Present for scikit-learn's API; partial labels go in ``labels``.
        sample_weight : array-like or dask array of shape (n_samples,), optional
        labels : array-like of int of shape (n_samples,), optional
            Partial labels (semi-supervised EM): the component of a labelled
            sample, -1 for the rest; labelled samples keep their component.
            In-memory X only.

        Returns
        -------
        self
        """
        K = check_integer(self.n_components, "n_components", minimum=1)
        check_choice(self.uniqueness, "uniqueness", UNIQUENESS)
        check_real(self.tol, "tol", minimum=0.0)
        check_integer(self.max_iter, "max_iter", minimum=0)
        check_integer(self.n_init, "n_init", minimum=1)
        check_choice(self.init_params, "init_params", INIT_METHODS)
        check_choice(self.accelerate, "accelerate", ACCELERATIONS)
        aecm = self.accelerate == "none"
        fixed = frozenset(self.fixed)
        if not fixed <= set(_PARAMS):
            raise InvalidParameterError(f"fixed may only name {_PARAMS}; got {sorted(fixed)}.")
        if is_dask_array(X):
            if labels is not None:
                raise ValueError("labels are not supported with a dask X; fit in memory or "
                                 "drop labels.")
            X = check_dask_samples(X, min_samples=max(K, 2))
            self.n_features_in_ = X.shape[1]
            self.__dict__.pop("feature_names_in_", None)
        else:
            X = validate_samples(self, X, reset=True, min_samples=max(K, 2))
        D = X.shape[1]
        q = check_n_factors(self.n_factors, D, "n_factors")
        if is_dask_array(X):
            # E-steps run on the blocks; the starting partitions are drawn on
            # the pass's bounded sample of rows (all of them up to 20,000).
            data = DaskSampleData(X, sample_weight, check_block=check_finite_block)
            variances = np.diag(data.covariance)
            X_local, weight_local = data.sample, data.sample_weight_sample
        else:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
            labels = check_partial_labels(labels, X.shape[0], K)
            data = SampleData(X, sample_weight, labels=labels)
            variances = np.diag(weighted_scatter(X, sample_weight, data.center))
            X_local, weight_local = X, sample_weight
        floor = noise_floor(variances)
        model = MixtureOfFactorsModel(
            K, q, floor, data.center, common_noise=self.uniqueness == "common",
            fixed=frozenset("noise" if name == "noise_variance" else name for name in fixed),
            aecm=aecm)
        rng = check_random_state(self.random_state)
        starts = (model.stats_from_responsibilities(start_for_labels(
            initial_responsibilities(X_local, K, self.init_params, rng, weight_local), labels),
            X_local, weight_local) for _ in range(self.n_init))
        result = fit_em(model, data, starts, max_iter=self.max_iter, tol=self.tol,
                        random_state=rng, verbose=self.verbose, accelerate=self.accelerate,
                        # AECM's rule reads whole cycles; an EM update is one.
                        stopping=FullCycleRule(self.tol) if aecm else "aitken")
        self._set_params(result.params)
        self._store_fit_result(result, data.total_weight)
        return self

    def _set_params(self, params):
        self.weights_ = np.asarray(params["weights"], dtype=np.float64)
        self.means_ = np.asarray(params["means"], dtype=np.float64)
        self.loadings_ = np.asarray(params["loadings"], dtype=np.float64)
        self.noise_variance_ = np.asarray(params["noise"], dtype=np.float64)

    @classmethod
    def from_params(cls, weights, means, loadings, noise_variance, **kwargs):
        """A ready-to-use model from known parameters (no fitting).

        Parameters
        ----------
        weights : array-like of shape (n_components,)
        means : array-like of shape (n_components, n_features)
        loadings : array-like of shape (n_components, n_features, n_factors)
        noise_variance : array-like of shape (n_components, n_features)
        **kwargs : constructor parameters
        """
        loadings = parameter_of_rank(loadings, "loadings",
                                     ("n_components", "n_features", "n_factors"))
        K, D, q = loadings.shape
        check_n_factors(q, D, "loadings.shape[2]")
        model = cls(K, n_factors=q, **kwargs)
        model._set_params({
            "weights": check_parameter_array(weights, (K,), "weights", simplex=True),
            "means": check_parameter_array(means, (K, D), "means"),
            "loadings": check_parameter_array(loadings, (K, D, q), "loadings"),
            "noise": check_parameter_array(noise_variance, (K, D), "noise_variance",
                                           positive=True)})
        model.n_features_in_ = D
        model.converged_, model.n_iter_ = True, 0
        return model

    # -- inference ------------------------------------------------------------
    def _plans(self):
        check_is_fitted(self)
        return [low_rank_plan(W, psi) for W, psi in zip(self.loadings_, self.noise_variance_)]

    def _joint_and_plans(self, X):
        """``log pi_k + log p(x | k)`` of validated ``X`` (n_samples, n_components),
        ``X`` as float64 and every component's Woodbury plan."""
        plans = self._plans()
        X = np.asarray(validate_samples(self, X, reset=False), dtype=np.float64)
        with np.errstate(divide="ignore"):
            log_weights = np.log(self.weights_)
        joint = np.column_stack([low_rank_posterior(X - mean, plan)[1]
                                 for mean, plan in zip(self.means_, plans)])
        return joint + log_weights, X, plans

    def _joint_log_prob(self, X):
        return self._joint_and_plans(X)[0]

    def _dask_rows(self, method, X, n_columns=None, dtype=np.float64):
        """``method`` on every block of a dask ``X``: a lazy dask array."""
        check_is_fitted(self)
        X = check_dask_samples(X, n_features=self.n_features_in_)
        return map_rows(method, X, n_columns=n_columns, dtype=dtype)

    def _total_log_prob(self, X, sample_weight):
        if is_dask_array(X):
            return weighted_total(self.score_samples(X), sample_weight)
        return super()._total_log_prob(X, sample_weight)

    def transform(self, X):
        """Posterior mean of the factors, ``sum_k p(k | x) E[z | x, k]``, (n_samples, n_factors).

        A dask array gives a dask array.
        """
        if is_dask_array(X):
            return self._dask_rows(self.transform, X, n_columns=self.loadings_.shape[2])
        joint, X, plans = self._joint_and_plans(X)
        resp = np.exp(joint - logsumexp(joint, axis=1, keepdims=True))
        return sum(resp[:, k:k + 1] * low_rank_posterior(X - mean, plan)[0]
                   for k, (mean, plan) in enumerate(zip(self.means_, plans)))

    def get_covariances(self):
        """Every component's covariance ``W_k W_k^T + Psi_k``, shape (K, D, D)."""
        check_is_fitted(self)
        return np.stack([low_rank_covariance(W, psi)
                         for W, psi in zip(self.loadings_, self.noise_variance_)])

    def sample(self, n_samples=1, random_state=None):
        """Draw samples; returns ``(X, labels)`` with labels sorted (as scikit-learn's)."""
        n_samples, rng = sampling_start(self, n_samples, random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        blocks = []
        for k, count in enumerate(counts):
            factors = rng.standard_normal((count, self.loadings_.shape[2]))
            noise = rng.standard_normal((count, self.means_.shape[1])) * np.sqrt(
                self.noise_variance_[k])
            blocks.append(self.means_[k] + factors @ self.loadings_[k].T + noise)
        return np.vstack(blocks), np.repeat(np.arange(len(counts)), counts)

    def n_parameters(self):
        """Free parameters (loadings counted up to rotation)."""
        check_is_fitted(self)
        K, D, q = self.loadings_.shape
        fixed = frozenset(self.fixed)
        total = 0 if "weights" in fixed else K - 1
        total += 0 if "means" in fixed else K * D
        total += 0 if "loadings" in fixed else K * (D * q - q * (q - 1) // 2)
        if "noise_variance" not in fixed:
            total += D if self.uniqueness == "common" else K * D
        return int(total)

    @property
    def _n_features_out(self):
        return self.loadings_.shape[2]
