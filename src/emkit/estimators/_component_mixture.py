"""One scikit-learn estimator for a mixture over any component family.

:class:`ComponentMixture` is everything a finite mixture estimator needs on
top of the engine, written once: validation of the shared hyper-parameters,
restarts from k-means++ (or given) starts, partial labels, MAP priors,
``fixed=``, SQUAREM, Dask input, online EM (``partial_fit`` and
``fit(strategy="online")`` through the engine's stepwise stepper), inference
(``predict``, ``predict_proba``, ``score_samples``, ``score``), ``sample``,
BIC/AIC and ``from_params``. A
concrete mixture (Poisson, Bernoulli, categorical, ...) supplies only its
component family and how to validate its data:

- ``_component_params``: the family's parameter names, stored as fitted
  attributes with a trailing underscore (``"rates"`` -> ``rates_``);
- ``_make_component(n_features, fixed)``: the configured family;
- ``_validate_data_values(X, n_features)``: X checked and converted
  (counts, binary, levels), named errors on bad input;
- ``_check_init(name, value, n_components, n_features)``: one user-given
  starting parameter validated;
- optionally ``_initial_points(X)``: the samples the starting strategies see
  (a family with missing entries fills them).
"""

from __future__ import annotations

import inspect
import re

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._engine.accel import ACCELERATIONS
from .._engine.dask_data import (
    DaskSampleData,
    check_dask_samples,
    is_dask_array,
    map_rows,
    stream_row_blocks,
    weighted_mean,
)
from .._engine.data import SampleData
from .._engine.em import fit_em
from .._engine.init import INIT_METHODS, start_for_labels, initial_responsibilities
from .._engine import online as stepwise_em
from .._validation import (check_choice, check_integer, check_parameter_array,
                           check_partial_labels, check_random_state, check_real,
                           check_sample_weight)
from ..models.mixture import MixtureModel
from ._base import EMFitMixin, MixtureInferenceMixin, fill_docstring
from ._criteria import LikelihoodCriteriaMixin

__all__ = ["ComponentMixture", "MIXTURE_ATTRIBUTES", "SHARED_PARAMETERS",
           "mixture_parameters_doc", "with_mixture_parameters"]

# The hyper-parameters the mixtures share, documented once, as numpydoc
# entries without defaults (those are read from each class's signature).
# A subclass's docstring line "{mixture_parameters}" becomes the entries of
# those its __init__ takes (see mixture_parameters_doc); "{init_methods}"
# and "{param_names}" are the class's own.
SHARED_PARAMETERS = """\
n_components : int
tol : float
    Convergence threshold on the per-sample objective (see
    :class:`~emkit._engine.monitor.ConvergenceMonitor`).
max_iter : int
n_init : int
    Restarts; the best run is kept.
init_params : {init_methods}
    How the starting responsibilities are found (see
    :func:`emkit._engine.init.initial_responsibilities`).
weights_init : array-like of shape (n_components,), optional
    With every other ``*_init``: one run from them.
random_state : int, RandomState or None
weight_concentration : float or None
    Dirichlet prior on the weights (MAP).
fixed : tuple of {param_names}
    Parameters held at their starting values.
missing : {{"error", "marginalize"}}
    What a NaN entry means: "error" rejects it; "marginalize" treats it
    as missing at random and integrates it out exactly (it drops out of
    its sample's likelihood). Without NaN both give the same fit.
accelerate : {{"none", "squarem"}}
    The engine's stepper (see :mod:`emkit._engine.accel`).
verbose : int
learning_offset : float
    ``t0 >= 0`` of the online step size ``rho_t = (t + t0) ** -learning_decay``
    (:meth:`partial_fit` and ``fit(strategy="online")``; stepwise EM,
    Cappé & Moulines 2009).
learning_decay : float
    ``kappa`` of the online step size, in ``(0.5, 1]``.
batch_size : int
    Samples per mini-batch of ``fit(strategy="online")``.
online_passes : int
    Stepwise EM passes of ``fit(strategy="online")`` before its batch EM polish.
"""
# The fitted attributes every mixture with weights has ("{mixture_attributes}").
MIXTURE_ATTRIBUTES = """\
    weights_ : ndarray of shape (n_components,)
    converged_, n_iter_, n_e_steps_, history_, lower_bound_ : see EMFitMixin
"""


def _shared_entries():
    """SHARED_PARAMETERS as {name: (type line, description lines)}."""
    entries = {}
    for line in SHARED_PARAMETERS.splitlines():
        if line.startswith(" "):
            entries[name][1].append(line)
        else:
            name, kind = line.split(" : ")
            entries[name] = (kind, [])
    return entries


def _default_doc(parameter):
    default = parameter.default
    if default is None or default is inspect.Parameter.empty:
        return ""
    if isinstance(default, str):
        return f', default="{default}"'
    # 1e-06 -> 1e-6, as a person writes it
    return ", default=" + re.sub(r"e([-+])0(\d)", r"e\1\2", repr(default))


def _quoted_set(names):
    return "{" + ", ".join(f'"{name}"' for name in names) + "}"


def mixture_parameters_doc(cls):
    """The ``{mixture_parameters}`` entries of ``cls``'s docstring: every
    :data:`SHARED_PARAMETERS` entry of its ``__init__`` that the docstring
    does not describe itself, in the signature's order, with the signature's
    default (so the text cannot drift from the code)."""
    entries = _shared_entries()
    names = {"init_methods": _quoted_set(cls._init_methods),
             "param_names": _quoted_set(("weights",) + tuple(cls._component_params))}
    lines = []
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name not in entries or f"\n    {name} :" in cls.__doc__:
            continue
        kind, description = entries[name]
        lines.append(f"    {name} : {kind.format(**names)}{_default_doc(parameter)}")
        lines.extend("    " + line for line in description)
    return "\n".join(lines) + "\n"


with_mixture_parameters = fill_docstring(mixture_parameters=mixture_parameters_doc,
                                         mixture_attributes=MIXTURE_ATTRIBUTES)


def _online_available(estimator):
    """``partial_fit`` exists unless the estimator says why it cannot
    (``_online_unsupported``: a reason), so scikit-learn sees no such method."""
    reason = getattr(estimator, "_online_unsupported", None)
    if reason:
        raise AttributeError(f"{type(estimator).__name__} has no partial_fit: {reason}")
    return True


class ComponentMixture(MixtureInferenceMixin, LikelihoodCriteriaMixin, EMFitMixin, DensityMixin,
                       BaseEstimator):
    """Base of the finite-mixture estimators over a component family.

    Subclasses set ``_component_params`` and implement ``_make_component``,
    ``_validate_data_values`` and ``_check_init`` (see the module docstring);
    their ``__init__`` lists the shared hyper-parameters below plus
    ``<name>_init`` for every component parameter.

    The shared hyper-parameters are documented once, in
    :data:`SHARED_PARAMETERS`; a subclass decorated with
    :data:`with_mixture_parameters` shows them where its docstring has the
    line ``{mixture_parameters}`` (and the fitted attributes where it has
    ``{mixture_attributes}``). Besides those, subclasses take ``prior``
    (the family's conjugate prior or None, MAP when given) and ``fixed``
    (parameters held at their starting values: "weights" or the family's).
    """

    _component_params: tuple = ()
    # A reason why stepwise EM cannot fit the model (an M-step that needs the
    # data, not only summed statistics); None: partial_fit and
    # fit(strategy="online") are available.
    _online_unsupported = None
    # The init_params a subclass accepts (its _initializations may add its own).
    _init_methods: tuple = INIT_METHODS

    # -- hooks ----------------------------------------------------------------
    def _make_component(self, n_features, fixed):  # pragma: no cover - abstract
        raise NotImplementedError

    def _validate_data_values(self, X, n_features):  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_init(self, name, value, n_components, n_features):  # pragma: no cover
        raise NotImplementedError

    def _initial_points(self, X):
        """The samples the starting strategies (k-means++, ...) measure
        distances on: ``X`` itself, unless a family with missing entries
        fills them first."""
        return X

    @property
    def _param_names(self):
        return ("weights",) + tuple(self._component_params)

    # -- fit ------------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None, *, strategy="batch", labels=None):
        """Estimate the mixture by EM.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            A dask array is fitted where its blocks live (E-steps on the
            workers, initialisation from a sample of rows).
        y : ignored
            Present for scikit-learn's API (pipelines pass class labels here;
            they are not used). Partial labels go in ``labels``.
        sample_weight : array-like of shape (n_samples,), optional
            Frequency weights.
        strategy : {"batch", "online"}, default="batch"
            "batch": EM over all the data from ``n_init`` restarts.
            "online": the restarts are fitted on one mini-batch of
            ``batch_size`` samples, then ``online_passes`` passes of stepwise
            EM over shuffled mini-batches (see :meth:`partial_fit`; the
            statistics are scaled to the whole data set, so the fixed points
            are batch EM's), then batch EM (with ``accelerate``) from there
            to ``tol``. In-memory X, no labels.
        labels : array-like of int of shape (n_samples,), optional
            Partial labels (semi-supervised EM): the component of a labelled
            sample, -1 for the rest. Labelled samples keep their component
            throughout; the objective adds ``log pi_y p(x | y)`` for them.

        Returns
        -------
        self
        """
        fixed = self._check_settings()
        check_choice(strategy, "strategy", stepwise_em.STRATEGIES)
        # A new fit forgets partial_fit's running statistics.
        self.__dict__.pop("_online", None)
        if strategy == "online":
            return self._fit_online(X, sample_weight, labels, fixed)
        K = self.n_components
        if is_dask_array(X):
            if labels is not None:
                raise ValueError("labels are not supported with a dask X; fit in memory or "
                                 "drop labels.")
            X = self._validate_dask(X, reset=True)
            data = DaskSampleData(X, sample_weight, check_block=self._block_checker())
            self._measure_dask_data(data)
            X_local, weight_local = data.sample.astype(np.float64), data.sample_weight_sample
            init_data, labels_local = SampleData(X_local, weight_local), None
        else:
            X = self._validate(X, reset=True)
            if X.shape[0] < K:
                raise ValueError(f"X has {X.shape[0]} samples but n_components={K}; pass more "
                                 f"samples or lower n_components.")
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
            labels = labels_local = check_partial_labels(labels, X.shape[0], K)
            X_local, weight_local = X, sample_weight
            data = init_data = SampleData(X, sample_weight, labels=labels)
        rng = check_random_state(self.random_state)
        model = self._mixture_model(fixed)
        starts = self._initializations(X_local, weight_local, labels_local, init_data, model,
                                       rng)
        result = fit_em(model, data, starts, max_iter=self.max_iter, tol=self.tol,
                        random_state=rng, verbose=self.verbose, accelerate=self.accelerate)
        self._set_params(result.params)
        self._store_fit_result(result, data.total_weight)
        return self

    def _check_settings(self):
        """Validate the shared hyper-parameters; the held-fixed parameter names."""
        check_integer(self.n_components, "n_components", minimum=1)
        check_real(self.tol, "tol", minimum=0.0)
        check_integer(self.max_iter, "max_iter", minimum=0)
        check_integer(self.n_init, "n_init", minimum=1)
        check_choice(self.init_params, "init_params", self._init_methods)
        check_choice(self.accelerate, "accelerate", ACCELERATIONS)
        fixed = frozenset(self.fixed)
        if not fixed <= set(self._param_names):
            raise ValueError(f"fixed may only name {self._param_names}; got {sorted(fixed)}.")
        return fixed

    def _check_online(self):
        if self._online_unsupported:
            raise ValueError(f"{type(self).__name__} cannot be fitted online: "
                             f"{self._online_unsupported} Use strategy='batch'.")
        stepwise_em.check_online_settings(self.learning_offset, self.learning_decay,
                                          self.batch_size, self.online_passes)

    # -- online ---------------------------------------------------------------
    def _fit_online(self, X, sample_weight, labels, fixed):
        """fit(strategy="online"): restarts on one mini-batch, stepwise EM
        passes over shuffled mini-batches, batch EM polish."""
        self._check_online()
        if labels is not None:
            raise ValueError("labels need strategy='batch'; online EM does not take partial "
                             "labels.")
        if is_dask_array(X):
            raise ValueError("strategy='online' takes in-memory X; a dask X is fitted by batch "
                             "EM over its blocks (strategy='batch').")
        stepwise_em.check_first_batch(self.batch_size, self.n_components)
        X = self._validate(X, reset=True)
        n_samples = X.shape[0]
        if n_samples < self.n_components:
            raise ValueError(f"X has {n_samples} samples but n_components={self.n_components}; "
                             f"pass more samples or lower n_components.")
        sample_weight = check_sample_weight(sample_weight, n_samples)
        rng = check_random_state(self.random_state)
        model = self._mixture_model(fixed)
        data = SampleData(X, sample_weight)

        def batch_of(indices):
            return SampleData(X[indices], None if sample_weight is None
                              else sample_weight[indices])

        first, make_pass = stepwise_em.shuffled_passes(
            n_samples, min(self.batch_size, n_samples), rng, batch_of)
        start = self._batch_start(model, first, rng)

        def report(pass_index, score):
            if self.verbose:
                print(f"online pass {pass_index + 1}: mean batch objective {score:.6f}")

        stepwise = stepwise_em.StepwiseEM(self.learning_offset, self.learning_decay)
        # Scaled to the whole data set: the stepwise fixed points are batch EM's.
        params, scores = stepwise_em.stepwise_passes(
            stepwise, start, make_pass, lambda batch: model, n_passes=self.online_passes,
            scale=data.total_weight, rng=rng, on_pass=report)
        result = fit_em(model, data, [params], max_iter=self.max_iter, tol=self.tol,
                        random_state=rng, verbose=self.verbose, accelerate=self.accelerate)
        self._set_params(result.params)
        self._store_fit_result(result, data.total_weight)
        self.n_batch_iter_ = stepwise.n_steps
        self.online_scores_ = np.asarray(scores, dtype=np.float64)
        return self

    def _batch_start(self, model, batch, rng):
        """Starting parameters of online EM: the ``n_init`` restarts fitted by
        batch EM on one mini-batch (stepwise EM then only has the batch's
        sampling error to average away)."""
        starts = self._initializations(batch.X, batch.sample_weight, None, batch, model, rng)
        return fit_em(model, batch, starts, max_iter=self.max_iter, tol=self.tol,
                      random_state=rng, accelerate=self.accelerate).params

    @available_if(_online_available)
    def partial_fit(self, X, y=None, sample_weight=None):
        """One stepwise EM update from one mini-batch (Cappé & Moulines 2009).

        The batch's E-step runs at the current parameters; its statistics,
        divided by the batch's total weight, move the running per-sample
        statistics a step ``rho_t = (t + learning_offset) ** -learning_decay``
        towards them (``t = n_batch_iter_``), and the parameters are the
        M-step of the running statistics scaled to ``n_samples_seen_`` (so a
        prior weighs against the samples seen, as in batch EM over them). The
        statistics are sums over samples, so those of different batches add;
        memory is one set of them, whatever the number of batches.

        The first call starts the running statistics from its batch
        (``rho = 1``), from the fitted parameters when there are some (an
        earlier ``fit`` or :meth:`from_params`), else from the ``*_init``
        parameters and ``n_init`` restarts fitted on the batch, which then
        needs at least ``n_components`` samples. ``fit`` discards the running
        statistics.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            The mini-batch, with the features (and, for counts or levels, the
            data domain) of the first. A dask array is a stream of
            mini-batches, one step per row block, computed one after another
            (:func:`~emkit._engine.dask_data.stream_row_blocks`: the client
            holds at most two blocks), as ``partial_fit`` on every block in turn.
        y : ignored
            Present for scikit-learn's API.
        sample_weight : array-like or dask array of shape (n_samples,), optional
            Frequency weights; their total over the batch must be positive.

        Returns
        -------
        self
        """
        if is_dask_array(X):
            X = self._validate_dask(X, reset=not self._has_features())
            for block, weights in stream_row_blocks(X, sample_weight, names=["sample_weight"]):
                self.partial_fit(block, sample_weight=weights)
            return self
        return self._partial_fit_rows(X, sample_weight, lambda rows, reset:
                                      self._validate(rows, reset=reset))

    def _has_features(self):
        """Whether the features are fixed (a fit, or partial_fit's first batch)."""
        return "_online" in self.__dict__ or all(
            hasattr(self, f"{name}_") for name in self._param_names)

    def _partial_fit_rows(self, X, sample_weight, validate):
        """partial_fit on rows that ``validate(X, reset)`` checks and converts."""
        fixed = self._check_settings()
        self._check_online()
        state = self.__dict__.get("_online")
        fitted = all(hasattr(self, f"{name}_") for name in self._param_names)
        X = validate(X, not self._has_features())
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        batch = SampleData(X, sample_weight)
        if state is None:
            self._start_online_batch(batch)
            state = _OnlineState(stepwise_em.StepwiseEM(self.learning_offset, self.learning_decay),
                                 check_random_state(self.random_state))
            model = self._mixture_model(fixed)
            if fitted:
                state.params = self._fitted_params()
            else:
                if X.shape[0] < self.n_components:
                    raise ValueError(
                        f"The first batch has {X.shape[0]} samples but n_components="
                        f"{self.n_components}; it initialises every component. Pass a larger "
                        f"first batch.")
                state.params = self._batch_start(model, batch, state.rng)
        else:
            model = self._mixture_model(fixed)
        self._set_params(self._online_step(state, model, batch))
        return self

    def _start_online_batch(self, batch):
        """Fix what the running statistics are taken about on partial_fit's
        first batch (a family whose statistics need a centre); none here."""

    def _measure_dask_data(self, data):
        """Take what the family needs from the whole of a dask X before its
        model is built (measured in the data object's first pass, e.g. a
        centre); none here.

        Parameters
        ----------
        data : DaskSampleData
        """

    def _validate(self, X, *, reset):
        X = self._validate_data_values(X, None if reset else self.n_features_in_)
        if reset:
            self.n_features_in_ = X.shape[1]
        return X

    def _validate_dask(self, X, *, reset):
        """Shape and dtype of a dask X (its values are checked block by block)."""
        X = check_dask_samples(
            X, n_features=None if reset else self.n_features_in_, float_only=False,
            min_samples=self.n_components if reset else 1)
        if reset:
            self.n_features_in_ = X.shape[1]
        return X

    def _block_checker(self):
        """Validates one block of a dask X on the workers, as in-memory X is."""
        return _BlockCheck(self)

    def _mixture_model(self, fixed):
        component = self._make_component(self.n_features_in_, fixed - {"weights"})
        return MixtureModel(component, self.n_components,
                            weight_concentration=self.weight_concentration,
                            fix_weights="weights" in fixed)

    def _user_starts(self, K, D):
        user = {}
        if self.weights_init is not None:
            user["weights"] = check_parameter_array(self.weights_init, (K,), "weights_init",
                                                    simplex=True)
        for name in self._component_params:
            value = getattr(self, f"{name}_init")
            if value is not None:
                user[name] = self._check_init(f"{name}_init", value, K, D)
        return user

    def _initializations(self, X, sample_weight, labels, init_data, model, rng):
        K, D = self.n_components, X.shape[1]
        user = self._user_starts(K, D)
        if len(user) == len(self._param_names):
            yield user
            return
        points = self._initial_points(X)
        for _ in range(self.n_init):
            resp = start_for_labels(
                initial_responsibilities(points, K, self.init_params, rng, sample_weight),
                labels)
            params = model.m_step(model.stats_from_responsibilities(resp, init_data), None)
            params.update(user)
            yield params

    # -- parameters -----------------------------------------------------------
    def _set_params(self, params):
        for name in self._param_names:
            setattr(self, f"{name}_", np.asarray(params[name], dtype=np.float64))

    def _fitted_params(self):
        return {name: getattr(self, f"{name}_") for name in self._param_names}

    @classmethod
    def from_params(cls, weights, **params):
        """A ready-to-use model from known parameters (no fitting).

        Parameters
        ----------
        weights : array-like of shape (n_components,)
        **params : the family's parameters (e.g. ``rates``), each with a
            leading axis of n_components; other keywords go to the constructor.

        Returns
        -------
        estimator
            Fitted: ``predict``, ``score_samples`` and ``sample`` work.
        """
        family = {name: params.pop(name) for name in cls._component_params if name in params}
        missing = set(cls._component_params) - set(family)
        if missing:
            raise ValueError(f"from_params needs {sorted(missing)} as well as weights.")
        first = np.asarray(family[cls._component_params[0]], dtype=np.float64)
        if first.ndim == 1:
            first = first[:, None]
            family[cls._component_params[0]] = first
        K, D = first.shape[0], first.shape[1]
        model = cls(K, **params)
        model.weights_ = check_parameter_array(weights, (K,), "weights", simplex=True)
        for name, value in family.items():
            setattr(model, f"{name}_", model._check_init(name, value, K, D))
        model.n_features_in_ = D
        model.converged_, model.n_iter_ = True, 0
        return model

    # -- inference ------------------------------------------------------------
    def _joint_log_prob(self, X):
        """``log pi_k + log p(x | k)``, shape (n_samples, n_components)."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        component = self._make_component(X.shape[1], frozenset())
        params = self._fitted_params()
        with np.errstate(divide="ignore"):
            log_weights = np.log(params["weights"])
        return component.log_prob(component.plan(params), component.features(X)) + log_weights

    def _dask_rows(self, method, X, n_columns=None, dtype=np.float64):
        check_is_fitted(self)
        X = self._validate_dask(X, reset=False)
        return map_rows(method, X, n_columns=n_columns, dtype=dtype)

    def score(self, X, y=None, sample_weight=None):
        """Mean log-probability per sample (weighted by ``sample_weight``)."""
        if is_dask_array(X):
            return weighted_mean(self.score_samples(X), sample_weight)
        return super().score(X, y, sample_weight)

    def _sampling_component(self):
        return self._make_component(self.n_features_in_, frozenset())

    def n_parameters(self):
        """Free parameters of the fitted mixture (as BIC and AIC count them)."""
        check_is_fitted(self)
        fixed = frozenset(self.fixed)
        component = self._make_component(self.n_features_in_, fixed - {"weights"})
        weights = 0 if "weights" in fixed else self.n_components - 1
        return int(component.n_free_parameters(self.n_components) + weights)

    def _n_parameters(self):
        """scikit-learn's private name for :meth:`n_parameters`."""
        return self.n_parameters()


class _OnlineState:
    """What partial_fit keeps between calls: the stepper (running
    statistics, counters), the random state and the current parameters.
    Its size does not depend on the samples streamed."""

    def __init__(self, stepwise, rng):
        self.stepwise, self.rng = stepwise, rng
        self.params = None


class _BlockCheck:
    """A picklable check of one dask block (the estimator's own validation)."""

    def __init__(self, estimator):
        self.estimator = estimator

    def __call__(self, block):
        self.estimator._validate_data_values(block, self.estimator.n_features_in_)
