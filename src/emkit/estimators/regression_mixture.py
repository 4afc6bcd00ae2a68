"""Mixtures of linear regressions and mixtures of experts on emkit's EM engine.

Both model a response ``y`` given inputs ``x``:

- :class:`RegressionMixture`: ``p(y | x) = sum_k pi_k N(y | x^T beta_k + b_k, sigma_k^2)``
  (fixed weights; "mixture of regressions", flexmix's and mixtools'
  ``regmixEM``);
- :class:`MixtureOfExperts`: the weights depend on ``x`` through a softmax
  gating, ``pi_k(x) = softmax(x^T v_k + c_k)`` (Jordan & Jacobs 1994).

They share the regression component family
(:class:`~emkit.components.linear_regression.LinearRegressionComponent`) and,
through :class:`~emkit.estimators._component_mixture.ComponentMixture`, the
engine's restarts, ``fixed=``, SQUAREM and the inference/BIC code. The data
the engine walks are the joint rows ``[X, y]``.

Conventions (scikit-learn regressors, with ``y`` required):

- ``predict(X)``: the expected response ``E[y | x] = sum_k pi_k(x) mu_k(x)``;
- ``predict_proba(X, y)``: posteriors ``p(k | x, y)``; without ``y``, the
  prior ones ``pi_k(x)`` (the gating);
- ``score(X, y)`` and ``score_samples(X, y)``: the conditional
  log-likelihood ``log p(y | x)`` (mean, and per sample); ``score`` is *not*
  the R^2 of ``RegressorMixin`` (a fit that is right about two regimes can
  have a poor R^2 of its mean), so grid searches select by likelihood;
- ``sample(X)``: one response per given input row (the model has no
  distribution for ``X``);
- ``bic(X, y)`` and ``aic(X, y)`` from the conditional log-likelihood.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import log_softmax, logsumexp, softmax
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .._engine.dask_data import (
    append_column,
    check_dask_samples,
    is_dask_array,
    map_rows,
    stream_row_blocks,
    weighted_total,
)
from .._engine.em import maximize
from .._engine.init import INIT_METHODS, clamp_to_labels, initial_responsibilities
from .._validation import (
    check_integer,
    check_parameter_array,
    check_random_state,
    check_real,
    check_sample_weight,
    check_target,
    validate_samples,
)
from ..components.linear_regression import LinearRegressionComponent, NormalInverseGamma
from ..models.experts import MixtureOfExpertsModel
from ._base import DegenerateFitWarning, fill_docstring, store_init_arguments
from ._criteria import aic_of, bic_of, total_log_prob
from ._component_mixture import ComponentMixture, MIXTURE_ATTRIBUTES, mixture_parameters_doc

__all__ = ["RegressionMixture", "MixtureOfExperts"]


class _ConditionalMixture(RegressorMixin, ComponentMixture):
    """What regression mixtures and mixtures of experts share: joint data
    ``[X, y]``, the regression family, starts and conditional inference.

    Subclasses define ``_log_gate(X)`` (log prior component probabilities
    given the inputs, (n, K)) and their model (``_mixture_model``).
    """

    _component_params = LinearRegressionComponent.param_names
    _init_methods = ("mixed",) + INIT_METHODS

    # -- data -----------------------------------------------------------------
    def _joint(self, X, y, *, reset):
        """Validated joint rows ``[X, y]`` (float64, a new array).

        A dask ``X`` (with a dask or in-memory ``y``) gives a lazy dask array
        of joint rows blocked like ``X``: shapes are checked here, values block
        by block on the workers (:class:`_JointBlockCheck`).
        """
        if is_dask_array(X):
            X = check_dask_samples(X, n_features=None if reset else self.n_features_in_,
                                   min_samples=self.n_components if reset else 1)
            if reset:
                self.n_features_in_ = X.shape[1]
            if y is None:  # the named "requires y" error
                check_target(y, X.shape[0], owner=type(self).__name__)
            return append_column(X, y, name="y")
        if is_dask_array(y):
            raise ValueError("y is a dask array but X is not; pass both as dask arrays "
                             "(blocked alike) or both in memory.")
        X = validate_samples(self, X, reset=reset)
        y = check_target(y, X.shape[0], owner=type(self).__name__)
        return np.column_stack([X.astype(np.float64, copy=False), y])

    def _inputs(self, X):
        check_is_fitted(self)
        return validate_samples(self, X, reset=False).astype(np.float64, copy=False)

    def _map_inputs(self, method, X, n_columns=None, dtype=np.float64):
        """``method`` of in-memory inputs mapped over the row blocks of a dask ``X``."""
        check_is_fitted(self)
        X = check_dask_samples(X, n_features=self.n_features_in_)
        return map_rows(method, X, n_columns=n_columns, dtype=dtype)

    def _map_joint(self, method, X, y, n_columns=None, dtype=np.float64):
        """``method(X, y)`` of in-memory rows mapped over the joint blocks of a
        dask ``X`` and ``y`` (each block validated by ``method`` itself, with
        the in-memory messages and the block's place in the array)."""
        check_is_fitted(self)
        joint = self._joint(X, y, reset=False)
        return map_rows(_SplitJoint(method), joint, n_columns=n_columns, dtype=dtype)

    def _fit_joint(self, X, y, sample_weight, **kwargs):
        """Validate ``X`` and ``y`` and fit on their joint rows with ComponentMixture's fit."""
        if self.prior is not None and not isinstance(self.prior, NormalInverseGamma):
            raise ValueError(f"prior must be None or an emkit NormalInverseGamma (from "
                             f"emkit.components.linear_regression); got {self.prior!r}.")
        joint = self._joint(X, y, reset=True)
        if not is_dask_array(joint):  # a dask fit measures in its data's first pass
            self._measure(joint, check_sample_weight(sample_weight, joint.shape[0]))
        ComponentMixture.fit(self, joint, None, sample_weight, **kwargs)
        at_floor = np.flatnonzero(self.noise_variance_ <= self._variance_floor * (1 + 1e-9))
        if self._variance_floor > 0 and at_floor.size and "noise_variance" not in self.fixed:
            warnings.warn(
                f"Component(s) {at_floor.tolist()} reached the noise-variance floor "
                f"(reg_variance): they pass almost exactly through a few samples, where the "
                f"likelihood is unbounded. Use fewer components or a larger reg_variance.",
                DegenerateFitWarning, stacklevel=3)
        return self

    def _measure(self, joint, weights):
        """The centre the statistics are taken about and the noise-variance
        floor, from the weighted mean and variance of the joint rows."""
        weights = np.ones(joint.shape[0]) if weights is None else weights
        # The weighted mean and variance: weights and repeated rows give the same fit.
        center = weights @ joint / weights.sum()
        self._set_scales(center, float(weights @ (joint[:, -1] - center[-1]) ** 2
                                       / weights.sum()))

    def _measure_dask_data(self, data):
        # The same weighted mean and variance, from the data's first pass.
        self._set_scales(data.center, float(data.covariance[-1, -1]))

    def _set_scales(self, center, response_variance):
        check_real(self.reg_variance, "reg_variance", minimum=0.0)
        self._fit_center = center
        # Relative to the response's variance, so the floor has y's units.
        self._variance_floor = float(self.reg_variance) * (
            response_variance if response_variance > 0 else 1.0)

    def _start_online_batch(self, batch):
        # The centre is fixed once (by the fit being continued, else by the
        # first batch): statistics about one centre add across batches.
        if not hasattr(self, "_fit_center"):
            self._measure(batch.X, batch.sample_weight)

    def _validate(self, X, *, reset):
        # ComponentMixture.fit hands back the joint rows that _fit_joint validated.
        return X

    def _validate_data_values(self, X, n_features):
        return X

    def _validate_dask(self, X, *, reset):
        # ComponentMixture.fit hands back the dask joint rows that _joint checked.
        return X

    def _block_checker(self):
        return _JointBlockCheck(self.n_features_in_)

    # -- the family -----------------------------------------------------------
    def _make_component(self, n_features, fixed):
        return LinearRegressionComponent(
            n_features, center=getattr(self, "_fit_center", None),
            reg_variance=getattr(self, "_variance_floor", 0.0), prior=self.prior, fixed=fixed)

    def _check_init(self, name, value, n_components, n_features):
        if name.startswith(("coef", "gating_coef")):
            if n_features == 1 and np.ndim(value) == 1:  # one slope per component
                value = np.reshape(value, (-1, 1))
            return check_parameter_array(value, (n_components, n_features), name)
        return check_parameter_array(value, (n_components,), name,
                                     positive=name.startswith("noise_variance"))

    # -- starts ---------------------------------------------------------------
    def _initializations(self, X, sample_weight, labels, init_data, model, rng):
        """Starts from responsibilities of the standardised joint rows ``[X, y]``
        (``init_params``, as the Gaussian mixtures use them; ``"mixed"``
        alternates ``"k-means++"`` and ``"random"``): one M-step (weighted
        least squares) from each."""
        K, D = self.n_components, X.shape[1] - 1
        user = self._user_starts(K, D)
        if len(user) == len(self._param_names):
            yield user
            return
        spread = X.std(axis=0)
        scaled = (X - X.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
        for start in range(self.n_init):
            method = self.init_params
            if method == "mixed":
                method = "k-means++" if start % 2 == 0 else "random"
            resp = clamp_to_labels(
                initial_responsibilities(scaled, K, method, rng, sample_weight), labels)
            params = maximize(model, model.stats_from_responsibilities(resp, init_data), None,
                              init_data)
            params.update(user)
            yield params

    # -- fitted parameters ----------------------------------------------------
    def _fitted_params(self):
        return {name: getattr(self, f"{name}_") for name in self._param_names}

    # -- inference ------------------------------------------------------------
    def _log_gate(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def _joint_log_prob(self, X, y):
        """``log pi_k(x) + log N(y | x^T beta_k + b_k, sigma_k^2)``, (n_samples, K)."""
        check_is_fitted(self)
        joint = self._joint(X, y, reset=False)
        component = self._make_component(self.n_features_in_, frozenset())
        log_prob = component.log_prob(component.plan(self._fitted_params()),
                                      component.features(joint))
        return log_prob + self._log_gate(joint[:, :-1])

    # Every inference method takes numpy or dask inputs: a dask X (and y)
    # gives a dask array, computed where the blocks live.
    def component_means(self, X):
        """Every component's mean response ``x^T beta_k + b_k``, shape (n_samples, K)."""
        if is_dask_array(X):
            return self._map_inputs(self.component_means, X, n_columns=self.n_components)
        X = self._inputs(X)
        return X @ self.coef_.T + self.intercept_

    def predict(self, X):
        """Expected response ``sum_k pi_k(x) (x^T beta_k + b_k)``, shape (n_samples,)."""
        if is_dask_array(X):
            return self._map_inputs(self.predict, X)
        X = self._inputs(X)
        return np.einsum("nk,nk->n", np.exp(self._log_gate(X)), self.component_means(X))

    def predict_proba(self, X, y=None):
        """Component probabilities, shape (n_samples, n_components).

        With ``y``, the posteriors ``p(k | x, y)``; without, the prior
        probabilities ``pi_k(x)`` given the inputs alone.
        """
        if is_dask_array(X) or is_dask_array(y):
            if y is None:
                return self._map_inputs(self.predict_proba, X, n_columns=self.n_components)
            return self._map_joint(self.predict_proba, X, y, n_columns=self.n_components)
        if y is None:
            return np.exp(self._log_gate(self._inputs(X)))
        joint = self._joint_log_prob(X, y)
        return softmax(joint, axis=1)

    def predict_component(self, X, y):
        """Most probable component of every sample given ``x`` and ``y``, (n_samples,)."""
        if is_dask_array(X) or is_dask_array(y):
            return self._map_joint(self.predict_component, X, y, dtype=np.intp)
        return self._joint_log_prob(X, y).argmax(axis=1)

    def score_samples(self, X, y=None):
        """Conditional log-density ``log p(y_n | x_n)`` of every sample, (n_samples,).

        ``y`` is required (the model has no density of ``X`` alone); it is a
        keyword with a default only so that its absence gets a named error.
        """
        if y is None:
            raise ValueError(f"{type(self).__name__}.score_samples needs the responses y: the "
                             f"model is a density of y given X, with none for X alone. Call "
                             f"score_samples(X, y).")
        if is_dask_array(X) or is_dask_array(y):
            return self._map_joint(self.score_samples, X, y)
        return logsumexp(self._joint_log_prob(X, y), axis=1)

    def score(self, X, y, sample_weight=None):
        """Mean conditional log-likelihood per sample (weighted by ``sample_weight``).

        Not the R^2 of ``RegressorMixin``: see the module docstring.
        """
        total, n = self._total_log_prob(X, y, sample_weight)
        return total / n

    def sample(self, X, random_state=None):
        """Draw one response for every row of ``X``.

        The model is a distribution of ``y`` given ``x`` only, so the inputs
        are given: the component of row n is drawn from ``pi(x_n)``, then its
        response from that component's regression.

        Returns
        -------
        y : ndarray of shape (n_samples,)
        labels : ndarray of shape (n_samples,)
            The component of every row (in the rows' order).
        """
        if is_dask_array(X):
            raise ValueError("sample takes in-memory inputs X; pass X.compute() (a sample "
                             "of responses is as large as X).")
        X = self._inputs(X)
        rng = check_random_state(self.random_state if random_state is None else random_state)
        gate = np.exp(self._log_gate(X))
        cumulative = np.cumsum(gate, axis=1)
        labels = np.minimum((rng.uniform(size=(X.shape[0], 1)) > cumulative).sum(axis=1),
                            self.n_components - 1)
        component = self._make_component(self.n_features_in_, frozenset())
        params = self._fitted_params()
        y = np.empty(X.shape[0])
        for k in range(self.n_components):
            rows = np.flatnonzero(labels == k)
            if rows.size:
                y[rows] = component.sample(params, k, rows.size, rng, inputs=X[rows])[:, -1]
        return y, labels

    def bic(self, X, y, sample_weight=None):
        """Bayesian information criterion from ``log p(y | x)`` (lower is better)."""
        return bic_of(*self._total_log_prob(X, y, sample_weight), self.n_parameters())

    def aic(self, X, y, sample_weight=None):
        """Akaike information criterion from ``log p(y | x)`` (lower is better)."""
        return aic_of(self._total_log_prob(X, y, sample_weight)[0], self.n_parameters())

    def _total_log_prob(self, X, y, sample_weight):
        return total_log_prob(self.score_samples(X, y), sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = False
        # score is the mean log-likelihood, not R^2: the regressor checks'
        # "score > 0.5" threshold is R^2's (the tests check R^2 of predict).
        tags.regressor_tags.poor_score = True
        return tags


# What the two regression mixtures' docstrings share beyond every mixture's
# parameters (their "{regression_parameters}" line).
_REGRESSION_PARAMETERS = """\
    init_params : {"mixed", "k-means++", "kmeans", "random", "random_from_data", \
"hierarchical"}, default="mixed"
        Responsibilities of the standardised joint rows ``[X, y]`` to start
        from (one weighted least-squares M-step from each). ``"mixed"``
        alternates k-means++ partitions and random soft responsibilities
        over the restarts, because each finds optima the other misses: on
        parallel lines chosen by x only k-means++ starts found the best
        optimum, on flexmix's NPreg data (and for the experts, on crossing
        lines) random starts found it every time and k-means++ starts in
        3/8 to 5/8 of single starts.
    coef_init : array-like of shape (n_components, n_features), optional
    intercept_init, noise_variance_init : array-like of shape (n_components,), optional
    reg_variance : float, default=1e-6
        Lower bound of every noise variance, relative to the variance of
        ``y`` (the M-step maximises over variances above it, so EM stays
        monotone): keeps a component that passes exactly through a few
        points from a zero variance (an unbounded likelihood); a component
        that reaches it gets a DegenerateFitWarning. 0 is no bound.
    prior : NormalInverseGamma or None, default=None
        Conjugate prior of every component's slopes and noise variance (MAP;
        see :class:`~emkit.components.linear_regression.NormalInverseGamma`):
        ridge on the slopes, an inverse-gamma variance whose ``scale`` keeps
        components from collapsing onto a few samples.
"""
# The regression block first: the shared entries skip what it documents
# (init_params). The experts have no weights_.
_experts_docs = fill_docstring(regression_parameters=_REGRESSION_PARAMETERS,
                               mixture_parameters=mixture_parameters_doc)


@fill_docstring(mixture_attributes=MIXTURE_ATTRIBUTES)
@_experts_docs
class RegressionMixture(_ConditionalMixture):
    """Mixture of linear regressions: ``y | x ~ sum_k pi_k N(x^T beta_k + b_k, sigma_k^2)``.

    EM with weighted least squares per component in the M-step and a noise
    variance per component (DeSarbo & Cron 1988; R flexmix's ``FLXMRglm``
    and mixtools' ``regmixEM``), on the engine shared with every emkit model.
    ``history_`` holds the total conditional log-likelihood after every E-step.

    Parameters
    ----------
    {mixture_parameters}
    {regression_parameters}

    Attributes
    ----------
    coef_ : ndarray of shape (n_components, n_features)
    intercept_ : ndarray of shape (n_components,)
    noise_variance_ : ndarray of shape (n_components,)
    {mixture_attributes}

    Examples
    --------
    >>> import numpy as np
    >>> from emkit import RegressionMixture
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-2, 2, size=(400, 1))
    >>> line = rng.integers(2, size=400)
    >>> y = np.where(line, 1.5 * x[:, 0] + 1, -x[:, 0]) + 0.2 * rng.standard_normal(400)
    >>> model = RegressionMixture(2, random_state=0).fit(x, y)
    >>> np.sort(model.coef_.ravel()).round(1)
    array([-1. ,  1.5])
    """

    def __init__(self, n_components=1, *, tol=1e-6, max_iter=1000, n_init=10,
                 init_params="mixed", weights_init=None, coef_init=None,
                 intercept_init=None, noise_variance_init=None, random_state=None,
                 reg_variance=1e-6, prior=None, weight_concentration=None, fixed=(),
                 accelerate="none", verbose=0, learning_offset=1.0, learning_decay=0.75,
                 batch_size=5000, online_passes=3):
        store_init_arguments(self, locals())

    def fit(self, X, y, sample_weight=None, *, strategy="batch", labels=None):
        """Estimate the mixture of regressions by EM.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            A dask array is fitted where its blocks live (E-steps and the
            gating's passes on the workers, starts from a sample of rows).
        y : array-like or dask array of shape (n_samples,)
            A dask array with a dask ``X`` (blocked alike or rechunked).
        sample_weight : array-like or dask array of shape (n_samples,), optional
            Frequency weights.
        strategy : {"batch", "online"}, default="batch"
            "online": restarts on one mini-batch, ``online_passes`` passes of
            stepwise EM over shuffled mini-batches of ``batch_size``, then
            batch EM to ``tol`` (see :meth:`partial_fit`).
        labels : array-like of int of shape (n_samples,), optional
            Partial labels: the component of a labelled sample, -1 for the rest.

        Returns
        -------
        self
        """
        return self._fit_joint(X, y, sample_weight, strategy=strategy, labels=labels)

    def partial_fit(self, X, y, sample_weight=None):
        """One stepwise EM update from one mini-batch of ``(X, y)``.

        Stepwise EM as the other mixtures' ``partial_fit``: the batch's
        statistics per sample move the running ones a step
        ``rho_t = (t + learning_offset) ** -learning_decay``. The regression
        statistics are taken about a centre fixed by the fit being continued,
        or else by the first batch (its weighted mean of ``[X, y]``, which
        also fixes the ``reg_variance`` floor), so that those of every batch
        add. The first batch without a fit needs ``n_components`` samples.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            A dask array is a stream of mini-batches, one step per row block
            (with its rows of ``y`` and ``sample_weight``), computed one after
            another.
        y : array-like or dask array of shape (n_samples,)
        sample_weight : array-like or dask array of shape (n_samples,), optional

        Returns
        -------
        self
        """
        if is_dask_array(X):
            X = check_dask_samples(X, n_features=self.n_features_in_ if self._has_features()
                                   else None)
            for block, responses, weights in stream_row_blocks(
                    X, y, sample_weight, names=["y", "sample_weight"]):
                self.partial_fit(block, responses, weights)
            return self
        return self._partial_fit_rows(X, sample_weight,
                                      lambda rows, reset: self._joint(rows, y, reset=reset))

    def _log_gate(self, X):
        with np.errstate(divide="ignore"):
            return np.broadcast_to(np.log(self.weights_), (X.shape[0], self.n_components))


class _SplitJoint:
    """``method(X, y)`` of one block of joint rows ``[X, y]`` (picklable)."""

    def __init__(self, method):
        self.method = method
        self.__name__ = getattr(method, "__name__", "rows")

    def __call__(self, joint):
        return self.method(joint[:, :-1], joint[:, -1])


class _JointBlockCheck:
    """Validates one block of the joint rows ``[X, y]`` on the workers with
    the in-memory messages for ``X`` and for ``y`` (picklable)."""

    def __init__(self, n_features):
        self.n_features = n_features

    def __call__(self, joint):
        validate_samples(None, joint[:, :self.n_features], reset=False)
        check_target(joint[:, self.n_features], joint.shape[0])


_GATING = ("gating_coef", "gating_intercept")


@_experts_docs
class MixtureOfExperts(_ConditionalMixture):
    """Mixture of linear experts with softmax gating on the inputs.

    ``p(y | x) = sum_k g_k(x) N(y | x^T beta_k + b_k, sigma_k^2)`` with
    ``g(x) = softmax(gating_coef_ x + gating_intercept_)`` (Jordan & Jacobs
    1994). The experts' M-step is weighted least squares; the gating's a few
    Newton (IRLS) steps on the weighted multinomial log-likelihood, each
    halved until it does not lower it, so the log-likelihood never
    decreases (generalised EM; see :mod:`emkit.models.experts`).

    Parameters
    ----------
    {mixture_parameters}
    {regression_parameters}
    gating_coef_init : array-like of shape (n_components, n_features), optional
    gating_intercept_init : array-like of shape (n_components,), optional
        All five ``*_init`` given: one run from them. Only differences to the
        last row matter (a softmax ignores a common shift).
    gating_steps : int, default=3
        Newton steps per M-step: each costs one pass over the data to test
        its trial point (one more per halving), on top of the E-step (the
        passes are not counted in ``n_e_steps_``).
    gating_alpha : float, default=0.0
        Precision of a N(0, 1/alpha) prior on every gating slope (MAP); 0 is
        maximum likelihood. Regimes that the inputs separate perfectly drive
        the maximum-likelihood slopes to infinity (slowly: the likelihood
        converges); a small alpha keeps them finite.
    fixed : tuple of {"gating_coef", "gating_intercept", "coef", "intercept", \
"noise_variance"}, default=()
        Parameters held at their starting values (the two gating arrays together).

    Attributes
    ----------
    gating_coef_ : ndarray of shape (n_components, n_features)
    gating_intercept_ : ndarray of shape (n_components,)
        The last row is zero (the reference expert).
    coef_, intercept_, noise_variance_ : as in :class:`RegressionMixture`
    converged_, n_iter_, n_e_steps_, history_, lower_bound_ : see EMFitMixin

    Examples
    --------
    Slope -1 left of zero, slope 2 right of it: the gating learns where.

    >>> import numpy as np
    >>> from emkit import MixtureOfExperts
    >>> x = np.linspace(-2, 2, 400).reshape(-1, 1)
    >>> noise = 0.1 * np.random.default_rng(0).standard_normal(400)
    >>> y = np.where(x[:, 0] < 0, -x[:, 0], 2 * x[:, 0]) + noise
    >>> model = MixtureOfExperts(2, random_state=0).fit(x, y)
    >>> np.sort(model.coef_.ravel()).round(1)
    array([-1.,  2.])
    >>> model.predict(np.array([[-1.0], [1.0]])).round(1)
    array([1., 2.])
    """

    def __init__(self, n_components=1, *, tol=1e-6, max_iter=1000, n_init=10,
                 init_params="mixed", gating_coef_init=None,
                 gating_intercept_init=None, coef_init=None, intercept_init=None,
                 noise_variance_init=None, random_state=None, reg_variance=1e-6,
                 prior=None, gating_steps=3, gating_alpha=0.0, fixed=(), accelerate="none",
                 verbose=0):
        store_init_arguments(self, locals())

    _online_unsupported = ("its gating M-step takes Newton steps on the data themselves, not "
                           "on summed statistics, which stepwise EM blends.")

    @property
    def _param_names(self):
        return _GATING + tuple(self._component_params)

    def fit(self, X, y, sample_weight=None):
        """Estimate the mixture of experts by generalised EM; ``X``, ``y``,
        ``sample_weight`` and the result are as in :meth:`RegressionMixture.fit`
        (batch EM only, without partial labels)."""
        check_integer(self.gating_steps, "gating_steps", minimum=1)
        check_real(self.gating_alpha, "gating_alpha", minimum=0.0)
        held_gating = set(self.fixed) & set(_GATING)
        if held_gating and held_gating != set(_GATING):
            raise ValueError("fixed must hold both 'gating_coef' and 'gating_intercept' or "
                             f"neither (the gating is fitted as one); got {sorted(self.fixed)}.")
        self._fit_joint(X, y, sample_weight)
        if self.gating_alpha == 0 and self.n_components > 1 and "gating_coef" not in self.fixed:
            # Every sample assigned by its inputs alone with certainty: on
            # separable responsibilities the gating likelihood has no maximum.
            if is_dask_array(X):
                n_certain, n_samples = weighted_total(self._map_inputs(self._gate_is_certain, X))
                separated = n_certain == n_samples
            else:
                separated = bool(self._gate_is_certain(X).all())
            if separated:
                warnings.warn(
                    "The gating separates the training samples completely: the "
                    "maximum-likelihood gating slopes are infinite, and the fitted ones are only "
                    "as large as the iterations let them grow. Pass gating_alpha > 0 (a prior "
                    "on the slopes) for finite, reproducible ones.", UserWarning, stacklevel=2)
        return self

    def _mixture_model(self, fixed):
        component = self._make_component(self.n_features_in_, fixed - set(_GATING))
        return MixtureOfExpertsModel(
            component, self.n_components, input_center=self._fit_center[:-1],
            gating_steps=self.gating_steps, gating_alpha=self.gating_alpha,
            fix_gating="gating_coef" in fixed)

    def _user_starts(self, K, D):
        user = {}
        for name in _GATING + tuple(self._component_params):
            value = getattr(self, f"{name}_init")
            if value is not None:
                user[name] = self._check_init(f"{name}_init", value, K, D)
        return user

    def _log_gate(self, X):
        return log_softmax(X @ self.gating_coef_.T + self.gating_intercept_, axis=1)

    def _gate_is_certain(self, X):
        """1.0 where the gating alone gives a sample's expert with certainty, (n_samples,)."""
        return (np.exp(self._log_gate(self._inputs(X))).max(axis=1) > 1.0 - 1e-4).astype(float)

    def n_parameters(self):
        """Free parameters (gating: ``(K - 1)(D + 1)``; experts: ``K (D + 2)``)."""
        check_is_fitted(self)
        fixed = frozenset(self.fixed)
        component = self._make_component(self.n_features_in_, fixed - set(_GATING))
        gating = (0 if "gating_coef" in fixed
                  else (self.n_components - 1) * (self.n_features_in_ + 1))
        return int(component.n_free_parameters(self.n_components) + gating)

    @classmethod
    def from_params(cls, gating_coef, gating_intercept, coef, intercept, noise_variance,
                    **kwargs):
        """A ready-to-use model from known parameters (no fitting).

        Parameters
        ----------
        gating_coef : array-like of shape (n_components, n_features)
        gating_intercept : array-like of shape (n_components,)
        coef : array-like of shape (n_components, n_features)
        intercept, noise_variance : array-like of shape (n_components,)
        **kwargs : constructor arguments

        Returns
        -------
        MixtureOfExperts
            Fitted: ``predict``, ``score_samples`` and ``sample`` work.
        """
        coef = np.asarray(coef, dtype=np.float64)
        if coef.ndim == 1:
            coef = coef[:, None]
        K, D = coef.shape
        model = cls(K, **kwargs)
        values = dict(gating_coef=gating_coef, gating_intercept=gating_intercept, coef=coef,
                      intercept=intercept, noise_variance=noise_variance)
        for name, value in values.items():
            setattr(model, f"{name}_", model._check_init(name, value, K, D))
        model.n_features_in_ = D
        model.converged_, model.n_iter_ = True, 0
        return model

