"""scikit-learn style hidden Markov models on emkit's EM engine (Baum-Welch).

``GaussianHMM``, ``GMMHMM``, ``CategoricalHMM`` and ``PoissonHMM`` share one
base class; each only says how to validate its observations, which emission
component to build (the same components the mixtures use) and how to
initialise and store the emission parameters. Parameter and attribute names
follow hmmlearn (``startprob_``, ``transmat_``, ``means_``, ``covars_``,
``emissionprob_``, ``lambdas_``, ``weights_``); what is held fixed is a tuple
of parameter names, not a letter code.
"""

from __future__ import annotations

import inspect
import textwrap
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.exceptions import NotFittedError

from .._engine.dask_data import (
    DaskSequenceData,
    check_dask_samples,
    is_dask_array,
    map_blocks_of,
    sequence_blocks,
    stream_blocks,
    sum_blocks_of,
)
from .._engine.threads import single_threaded_blas
from .._engine.accel import ACCELERATIONS
from .._engine.em import fit_em
from .._engine.online import StepwiseEM, shuffled_passes, stepwise_passes
from .._engine.init import INIT_METHODS, initial_responsibilities, one_hot, start_for_labels
from .._engine.sequences import SequenceData, check_lengths
from .._validation import (
    check_choice,
    check_covariances,
    check_gaussian_scale,
    check_integer,
    check_partial_labels,
    check_lengths_bounded,
    check_parameter_array,
    check_probability_rows,
    reject_complex,
    validate_samples,
)
from ..components.categorical import CategoricalComponent, check_symbols
from ..components.gaussian import (
    COVARIANCE_TYPES,
    GaussianComponent,
    feature_scales,
    expand_covariances,
    feature_width,
    kernel_of,
    precision_cholesky,
)
from ..components.gaussian_missing import MissingGaussianComponent
from ..components.poisson import PoissonComponent, check_counts
from .. import backend
from ..models.hmm import HiddenMarkovModel, StateMixtureEmission
from ._base import EMFitMixin, fill_docstring, store_init_arguments

__all__ = ["GaussianHMM", "GMMHMM", "CategoricalHMM", "PoissonHMM"]

DECODE_ALGORITHMS = ("viterbi", "map")
_TRANSITION_NAMES = ("startprob", "transmat")


# BLAS is held to one thread around the compiled kernels' parallel regions:
# see emkit._engine.threads.
_single_threaded_blas = single_threaded_blas


# ---------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------
def _check_concentration(value, shape, name):
    """A Dirichlet concentration (scalar or array broadcastable to ``shape``), all >= 1."""
    try:
        array = np.broadcast_to(np.asarray(value, dtype=np.float64), shape).copy()
    except ValueError:
        raise ValueError(f"{name} must be a number or an array of shape {shape}; got "
                         f"shape {np.shape(value)}.") from None
    if not np.isfinite(array).all() or (array < 1.0).any():
        raise ValueError(
            f"{name} must be >= 1 everywhere (1 = flat prior, 1 + c adds c pseudo-counts); "
            f"below 1 the posterior is unbounded at the boundary and has no MAP estimate.")
    return array


# hmmlearn's constructor names that emkit spells differently, and what to use.
_COMPAT_HINT = ("emkit.compat.hmmlearn has classes with hmmlearn's signatures that build "
                "emkit models.")
_HMMLEARN_NAMES = {
    "n_iter": "max_iter",
    "min_covar": "reg_covar (added to every covariance at each M-step; hmmlearn's "
                 "min_covar only enters its initialisation)",
    "params": "fixed, a tuple naming the parameters held at their starting values, e.g. "
              "fixed=('startprob',) for hmmlearn's params='tmc'",
    "implementation": "nothing: emkit's forward-backward is always scaled, so drop it",
    "means_prior": "prior=emkit.priors.NormalInverseWishart(...)",
    "means_weight": "prior=emkit.priors.NormalInverseWishart(...)",
    "covars_prior": "prior=emkit.priors.NormalInverseWishart(...)",
    "covars_weight": "prior=emkit.priors.NormalInverseWishart(...)",
    "lambdas_weight": "lambdas_prior=emkit.priors.Gamma(shape, rate)",
    "n_trials": "nothing: emkit has no MultinomialHMM",
}
_HMMLEARN_LETTERS = set("stmcwel")


def _reject_hmmlearn_arguments(cls, args, kwargs):
    """TypeError/ValueError naming the emkit equivalent of hmmlearn-only arguments."""
    import inspect

    positional = [p for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
                  if p.kind == p.POSITIONAL_OR_KEYWORD]
    if len(args) > len(positional):
        raise TypeError(
            f"{cls.__name__} takes only {', '.join(p.name for p in positional)} positionally; "
            f"pass the others by keyword (e.g. covariance_type='full'). hmmlearn's "
            f"positional order is not emkit's: {_COMPAT_HINT}")
    known = set(inspect.signature(cls.__init__).parameters)
    for name in kwargs:
        if name in _HMMLEARN_NAMES and name not in known:
            raise TypeError(f"{cls.__name__} has no parameter {name!r} (that is hmmlearn's "
                            f"name); use {_HMMLEARN_NAMES[name]}. {_COMPAT_HINT}")
    if "init_params" in kwargs:
        _reject_letter_code(cls.__name__, kwargs["init_params"])


def _reject_letter_code(class_name, init_params):
    if isinstance(init_params, str) and set(init_params) <= _HMMLEARN_LETTERS:
        raise ValueError(
            f"{class_name}(init_params={init_params!r}) looks like an hmmlearn letter code; "
            f"emkit's init_params names the initialisation method (e.g. 'kmeans'). To start "
            f"from parameters you set, use from_params(...) or assign the attributes and fit "
            f"with warm_start=True; to hold parameters fixed, use fixed=(...). "
            f"{_COMPAT_HINT}")


def compact_covariances(value, covariance_type, n_components, name="covars_"):
    """Covariances in the compact layout of ``covariance_type`` from any layout hmmlearn uses.

    Accepted: the compact layout itself (full (K, D, D), tied (D, D), diag
    (K, D), spherical (K,)) as hmmlearn's ``covars_`` setter takes it; full
    (K, D, D) matrices as its getter returns them (diagonal for "diag",
    identical for "tied", scaled identities for "spherical"); for spherical
    also hmmlearn's internal (K, D) tiling and any array of K values (it
    ravels them). Values are validated when the model is used.

    Raises
    ------
    ValueError
        For an unknown ``covariance_type``, or full matrices that do not have
        the structure of ``covariance_type``.
    """
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(f"covariance_type must be one of {COVARIANCE_TYPES}; got "
                         f"{covariance_type!r}.")
    try:
        array = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array.") from None
    K = n_components
    stacked = array.ndim == 3 and array.shape[0] == K and array.shape[1] == array.shape[2]
    if covariance_type == "tied" and stacked:
        if not np.allclose(array, array[:1]):
            raise ValueError(f"{name}: covariance_type='tied' needs one matrix shared by all "
                             f"states; got {K} different ones.")
        return array[0]
    if covariance_type == "diag" and stacked:
        off_diagonal = array - np.einsum("kd,de->kde", np.diagonal(array, axis1=1, axis2=2),
                                         np.eye(array.shape[1]))
        if np.any(off_diagonal != 0):
            raise ValueError(f"{name}: covariance_type='diag' needs diagonal matrices (or the "
                             f"(n_components, n_features) variances); got non-zero "
                             f"off-diagonal entries.")
        return np.diagonal(array, axis1=1, axis2=2).copy()
    if covariance_type == "spherical":
        if stacked and array.shape[1] > 1:
            diagonal = np.diagonal(array, axis1=1, axis2=2)
            if not np.allclose(array, diagonal[:, :1, None] * np.eye(array.shape[1])):
                raise ValueError(f"{name}: covariance_type='spherical' needs scaled identity "
                                 f"matrices (or n_components variances).")
            return diagonal[:, 0].copy()
        if array.ndim == 2 and array.shape[0] == K and array.shape[1] > 1:
            if not np.allclose(array, array[:, :1]):
                raise ValueError(f"{name}: covariance_type='spherical' needs one variance per "
                                 f"state; got different variances per feature.")
            return array[:, 0].copy()
        if array.size == K:
            return array.reshape(K)
    return array


def _check_mixture_covariances(value, covariance_type, K, M, D, name):
    """GMMHMM covariances in hmmlearn's layout, validated: spherical (K, M), diag
    (K, M, D), full (K, M, D, D), tied (K, D, D) (one matrix per state)."""
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(f"covariance_type must be one of {COVARIANCE_TYPES}; got "
                         f"{covariance_type!r}.")
    shape = {"spherical": (K, M), "diag": (K, M, D), "full": (K, M, D, D),
             "tied": (K, D, D)}[covariance_type]
    array = np.asarray(value)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape} for covariance_type="
                         f"{covariance_type!r} (n_components={K}, n_mix={M}, n_features={D}); "
                         f"got {array.shape}.")
    if covariance_type == "tied":
        return check_covariances(array, "full", K, D, name)
    flat = check_covariances(array.reshape((K * M,) + shape[2:]), covariance_type, K * M, D,
                             name)
    return flat.reshape(shape)


def _n_covariance_parameters(covariance_type, K, D):
    return {"full": K * D * (D + 1) // 2, "tied": D * (D + 1) // 2, "diag": K * D,
            "spherical": K}[covariance_type]


def _resolve_gaussian_prior(prior, X_complete, n_components):
    """None, "default" (mclust's defaultPrior) or a NormalInverseWishart of the right size."""
    if prior is None:
        return None
    from ..priors import NormalInverseWishart, default_prior

    if isinstance(prior, str):
        return default_prior(X_complete, n_components)
    if not isinstance(prior, NormalInverseWishart):
        raise ValueError("prior must be None, 'default' or an emkit.priors."
                         f"NormalInverseWishart; got {type(prior).__name__}.")
    if np.shape(prior.loc) != (X_complete.shape[1],):
        raise ValueError(f"prior has dimension {np.shape(prior.loc)[0]} but X has "
                         f"{X_complete.shape[1]} features.")
    return prior


def _impute_center(X, center):
    """X with NaN replaced by the column centres (initialisation only)."""
    if not np.isnan(X).any():
        return X
    return np.where(np.isnan(X), center.astype(X.dtype), X)


# ---------------------------------------------------------------------------
# the shared base
# ---------------------------------------------------------------------------
# The hyper-parameters and attributes every HMM has, documented once for the
# four classes' docstrings (their ``{hmm_parameters}`` and ``{hmm_attributes}``
# lines); ``fixed`` lists the class's own parameter names.
_HMM_PARAMETERS = """\
    startprob_prior : float or array-like of shape (K,), default=1.0
        Dirichlet concentration (>= 1) of the start probabilities; 1 is flat.
    transmat_prior : float or array-like of shape (K, K), default=1.0
        Dirichlet concentration (>= 1) of every transition row.
    sticky : float, default=0.0
        Extra pseudo-counts kappa added to the self-transitions (the diagonal
        of ``transmat_prior``): favours persistent states.
    algorithm : {"viterbi", "map"}, default="viterbi"
        Decoder of ``predict``/``decode``.
    n_init : int, default=5
        Restarts; the best run is kept.
    screen_iter : int or None, default=10
        Every restart runs this many iterations, the 3 best continue (emEM).
    max_iter : int, default=1000
    tol : float, default=1e-6
        Convergence threshold on the per-step objective (see GaussianMixture).
    random_state : int, RandomState or None
    warm_start : bool, default=False
        Start from the current parameters (a previous fit or ``from_params``).
    verbose : int, default=0
    {accelerate}
    learning_offset : float, default=1.0
        ``t0 >= 0`` of :meth:`partial_fit`'s step size
        ``rho_t = (t + t0) ** -learning_decay`` (stepwise EM).
    learning_decay : float, default=0.75
        ``kappa`` of that step size, in ``(0.5, 1]``.
    batch_size : int, default=100
        Whole sequences per batch of ``fit(strategy="online")``.
    online_passes : int, default=3
        Stepwise EM passes of ``fit(strategy="online")`` before its
        Baum-Welch polish.
"""
_HMM_ATTRIBUTES = """\
    startprob_ : ndarray of shape (K,)
    transmat_ : ndarray of shape (K, K)
    converged_, n_iter_, history_, lower_bound_, n_repairs_, n_features_in_
        See :class:`emkit.GaussianMixture`. ``history_`` is the total
        log-likelihood (log-posterior with priors) after every E-step.
"""


_ACCELERATE = """\
The engine's stepper: "squarem" extrapolates Baum-Welch (SQUAREM, see
:mod:`emkit._engine.accel`) for far fewer E-steps, the objective still never
decreasing; "none" is plain Baum-Welch, hmmlearn's per-iteration path (one
``history_`` entry per M-step). Under "squarem", ``n_iter_`` counts M-steps
(three per accepted cycle) and stays at most ``max_iter`` (``max_iter=1`` is
one Baum-Welch update), ``n_e_steps_`` counts E-steps, and ``history_`` holds
the iterates the run kept (two per cycle)."""


def _hmm_parameters_doc(cls):
    names = ", ".join(f'"{name}"' for name in _TRANSITION_NAMES + cls._emission_names)
    indent = " " * 8

    def fill(text):
        return textwrap.fill(text, width=79, initial_indent=indent, subsequent_indent=indent,
                             break_on_hyphens=False)

    held = fill(f"Parameters held at their initial values: any of {names}.")
    # The documented default is read off the signature, so the two cannot drift.
    default = inspect.signature(cls.__init__).parameters["accelerate"].default
    accelerate = (f'accelerate : {{"none", "squarem"}}, default="{default}"\n'
                  f"{fill(_ACCELERATE)}\n{fill(cls._accelerate_default_reason)}")
    return (f"    fixed : tuple of str, default=()\n{held}\n"
            + _HMM_PARAMETERS.replace("{accelerate}", accelerate))


_shared_hmm_docs = fill_docstring(hmm_parameters=_hmm_parameters_doc,
                                  hmm_attributes=_HMM_ATTRIBUTES)


class _BaseHMM(EMFitMixin, BaseEstimator):
    """Baum-Welch on the EM engine; subclasses supply the emission family.

    The fitted state is the public attributes (``startprob_``, ``transmat_``
    and the emission's, listed in ``_attribute_names``); everything derived
    from them (log-probabilities, Cholesky factors, kernel plans) is
    recomputed and validated at every use, so a model built by assigning the
    attributes works like a fitted one.

    Subclass hooks: ``_validate_X``, ``_emission`` (the component for a data
    set), ``_initial_emission`` (starting emission parameters and the state
    labels they came from), ``_emission_params`` (validated attributes -> the
    component's parameter dict) / ``_set_emission_params`` (the reverse),
    ``_n_emission_parameters``, ``_sample_emissions``, ``_emission_names``
    (public names accepted in ``fixed``), ``_internal_names`` and
    ``_attribute_names``. Adapters (emkit.compat.hmmlearn) may also override
    ``_init_method``, ``_per_sample_tol`` and ``_starting_params``.
    """

    _emission_names: tuple = ()
    _internal_names: dict = {}
    _attribute_names: tuple = ()
    # The engine's stepper and the online schedule: class defaults so that
    # subclasses with other signatures (emkit.compat.hmmlearn) inherit them.
    accelerate = "none"
    # Why the class's signature has its accelerate default (its docstring's words).
    _accelerate_default_reason = ""
    learning_offset, learning_decay, batch_size, online_passes = 1.0, 0.75, 100, 3
    # adapters whose constructors take hmmlearn's names set this
    _hmmlearn_signature = False

    def __new__(cls, *args, **kwargs):
        # Runs before __init__, so an hmmlearn-only argument gets a message
        # naming the emkit equivalent instead of Python's "unexpected keyword".
        if not cls._hmmlearn_signature:
            _reject_hmmlearn_arguments(cls, args, kwargs)
        return super().__new__(cls)

    def _validate_params(self):
        if not self._hmmlearn_signature:
            _reject_letter_code(type(self).__name__, getattr(self, "init_params", None))
        check_integer(self.n_components, "n_components", minimum=1)
        super()._validate_params()

    _common_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "startprob_prior": [Interval(Real, 1.0, None, closed="left"), "array-like"],
        "transmat_prior": [Interval(Real, 1.0, None, closed="left"), "array-like"],
        "sticky": [Interval(Real, 0.0, None, closed="left")],
        "algorithm": [StrOptions(set(DECODE_ALGORITHMS))],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "screen_iter": [Interval(Integral, 1, None, closed="left"), None],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "fixed": [tuple, list],
        "learning_offset": [Interval(Real, 0.0, None, closed="left")],
        "learning_decay": [Interval(Real, 0.5, 1.0, closed="right")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "online_passes": [Interval(Integral, 1, None, closed="left")],
    }

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, lengths=None, *, strategy="batch", labels=None):
        """Estimate the parameters by Baum-Welch (EM).

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            All sequences concatenated along axis 0. A dask array is fitted
            where its blocks live: it is rechunked so that every block holds
            whole sequences (a sequence longer than its largest block is
            refused, naming the rechunk that fixes it), every iteration runs
            forward-backward on the blocks on the workers and sums the
            statistics there, and the start is found on a sample of whole
            sequences gathered from evenly spaced blocks (all of them up to
            20,000 steps, so that a small dask fit is the in-memory one).
            Blocks that already end at sequence boundaries are used as they
            are; otherwise the rechunk is part of every iteration's graph
            (rechunk and persist X first when it is costly to recompute).
            Missing entries (NaN) are marginalised for in-memory X only.
        lengths : array-like of int of shape (n_sequences,), optional
            Lengths of the sequences, summing to ``n_samples``; None is one
            sequence. A numpy array also for a dask X (they fix its blocks).
        strategy : {"batch", "online"}, default="batch"
            "batch": Baum-Welch over all sequences from ``n_init`` restarts.
            "online": a Baum-Welch fit of one batch of ``batch_size``
            sequences (the restarts), ``online_passes`` passes of stepwise EM
            over shuffled batches of whole sequences (see :meth:`partial_fit`;
            the statistics are scaled to all the data, so the fixed points
            are Baum-Welch's), then Baum-Welch from there to ``tol``.
        labels : array-like of int of shape (n_samples,), optional
            Partial labels, per time step: the state of a labelled step, -1
            for the rest (in-memory X, batch strategy). Labelled steps keep
            their state throughout; the starting partition is renamed to
            agree with them, and the objective is the likelihood of the data
            and the labelled states.

        Returns
        -------
        self
        """
        check_choice(strategy, "strategy", ("batch", "online"))
        fixed = self._resolved_fixed()
        # A new fit forgets partial_fit's running statistics.
        self.__dict__.pop("_online", None)
        warm = self.warm_start and hasattr(self, "startprob_")
        if labels is not None and (is_dask_array(X) or strategy == "online"):
            raise ValueError("labels need an in-memory X and strategy='batch'.")
        if is_dask_array(X):
            if strategy == "online":
                raise ValueError("strategy='online' shuffles batches of an in-memory X; for a "
                                 "dask X use strategy='batch' (its E-steps run on the "
                                 "workers) or partial_fit(X, lengths), one step per block.")
            data = self._dask_sequence_data(X, lengths, reset=not warm)
        else:
            X = self._validate_X(X, reset=not warm)
            if X.shape[0] < self.n_components:
                raise ValueError(f"X has {X.shape[0]} samples but n_components="
                                 f"{self.n_components}; a state needs at least one sample. "
                                 f"Pass more samples or fewer states.")
            lengths = _checked_lengths(lengths, X.shape[0])
            data = SequenceData(X, lengths, row_bytes=self._row_bytes(X),
                                labels=check_partial_labels(labels, X.shape[0],
                                                            self.n_components))
        rng = check_random_state(self.random_state)
        model = self._model(data, fixed, fitting=True)
        with _single_threaded_blas():
            if strategy == "online":
                initializations = [self._online_params(model, data, fixed, rng, warm=warm)]
            else:
                # In memory the sample is all of the data.
                initializations = self._starting_params(data.sample_data(), rng, warm=warm)
            result = fit_em(model, data, initializations, max_iter=self.max_iter,
                            tol=self._per_sample_tol(data), random_state=rng,
                            verbose=self.verbose, screen_iter=self.screen_iter, n_refine=3,
                            accelerate=check_choice(self.accelerate, "accelerate",
                                                    ACCELERATIONS))
        self._set_params_from(result.params)
        self._store_fit_result(result, data.total_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, lengths=None):
        """One stepwise EM update from one batch of whole sequences.

        Stepwise EM (Cappé & Moulines 2009; see
        :class:`emkit._engine.online.StepwiseEM`): the batch's forward-backward
        statistics (start, transition and emission statistics), divided by
        its number of steps, move the running per-step statistics a step
        ``rho_t = (t + learning_offset) ** -learning_decay`` towards them
        (``t = n_batch_iter_``); the parameters are the M-step of the running
        statistics scaled to ``n_samples_seen_`` steps (so priors weigh
        against the steps seen, as in Baum-Welch over them). Memory is one
        set of statistics, whatever the number of batches.

        The first call fixes what the statistics are taken about (the
        batch's emission centre, scales and default prior) and starts them
        from its batch (``rho = 1``): from the current parameters when there
        are some (an earlier ``fit``, ``from_params`` or assigned attributes),
        else from a Baum-Welch fit of the batch (``n_init`` restarts, as
        ``fit``). ``fit`` discards the running statistics.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            The batch's sequences concatenated along axis 0. A dask array is
            a stream of batches: rechunked along sequence boundaries (as in
            :meth:`fit`), its blocks are computed one after another (the
            next while the current one is used) and each is one step, as
            ``partial_fit`` on every block in turn; the client never holds
            more than two blocks.
        lengths : array-like of int of shape (n_sequences,), optional
            Their lengths (None: one sequence); sequences are never split.

        Returns
        -------
        self
        """
        if is_dask_array(X):
            X, block_lengths = self._dask_blocks(X, lengths, reset=not (
                "_online" in self.__dict__ or hasattr(self, "startprob_")))
            for block, lengths_of_block in zip(stream_blocks(X.to_delayed().ravel()),
                                               block_lengths):
                self.partial_fit(block, lengths_of_block)
            return self
        fixed = self._resolved_fixed()
        state = self.__dict__.get("_online")
        fitted = hasattr(self, "startprob_")
        X = self._validate_X(X, reset=state is None and not fitted)
        if state is None and not fitted and X.shape[0] < self.n_components:
            raise ValueError(f"The first batch has {X.shape[0]} samples but n_components="
                             f"{self.n_components}; it initialises every state. Pass a "
                             f"larger first batch.")
        lengths = _checked_lengths(lengths, X.shape[0])
        data = SequenceData(X, lengths, row_bytes=self._row_bytes(X))
        if state is None:
            state = self._start_online(data, fixed, fitted)
        model = self._model(data, fixed, fitting=True,
                            emission=self._batch_emission(state.emission, data))
        with _single_threaded_blas():
            self._set_params_from(self._online_step(state, model, data))
        return self

    # ------------------------------------------------------------------ dask
    def _check_dask_X(self, X, *, reset):
        """Shape and dtype of a dask X, checked lazily (Gaussian observations;
        subclasses with other observations override it).

        Returns
        -------
        X : dask.array.Array
        check_block : callable
            Validates one block of X on the workers (raises ValueError).
        """
        K = self.n_components
        X = check_dask_samples(
            X, n_features=None if reset else getattr(self, "n_features_in_", None),
            min_samples=K if reset else 1,
            min_samples_reason=f"n_samples must be >= n_components={K}; a state needs at "
                               f"least one sample: pass more samples or fewer states")
        return X, _check_complete_block

    def _measured_dask(self, data):
        """What a new fit learns from a measured dask X (its width)."""
        self.n_features_in_ = data.n_features
        self.__dict__.pop("feature_names_in_", None)

    def _dask_sequence_data(self, X, lengths, *, reset):
        """A dask X validated, rechunked along sequences and measured in one pass."""
        X, check_block = self._check_dask_X(X, reset=reset)
        lengths = _checked_lengths(lengths, X.shape[0])
        data = DaskSequenceData(X, lengths, check_block=check_block,
                                row_bytes=self._row_bytes(X))
        if reset:
            self._measured_dask(data)
        return data

    def _dask_blocks(self, X, lengths, *, reset=False):
        """A dask X validated lazily and rechunked along sequence boundaries;
        returns it and the sequence lengths of every block."""
        X, _ = self._check_dask_X(X, reset=reset)
        return sequence_blocks(X, _checked_lengths(lengths, X.shape[0]))

    def _map_dask(self, method, X, lengths, *, per="step", n_columns=None, dtype=np.float64):
        """``method(block, lengths)`` on every block of whole sequences: a lazy
        dask array of one value (or row) per step, or per sequence."""
        self._fitted_params()  # NotFittedError on the client, before any task
        X, block_lengths = self._dask_blocks(X, lengths)
        rows = [n.sum() if per == "step" else n.size for n in block_lengths]
        return map_blocks_of(method, X, [(n,) for n in block_lengths], rows=rows,
                             n_columns=n_columns, dtype=dtype)

    def _sum_dask(self, method, X, lengths):
        """Sum of ``method(block, lengths)`` over the blocks, on the workers."""
        self._fitted_params()
        X, block_lengths = self._dask_blocks(X, lengths)
        return sum_blocks_of(method, X, [(n,) for n in block_lengths])

    def _start_online(self, data, fixed, fitted):
        """partial_fit's state, configured on its first batch."""
        rng = check_random_state(self.random_state)
        model = self._model(data, fixed, fitting=True)
        if fitted:
            params = self._fitted_params()
        else:
            with _single_threaded_blas():
                params = self._batch_start(model, data, rng)
        return _OnlineHMMState(StepwiseEM(self.learning_offset, self.learning_decay), rng,
                               model.emission, params)

    def _batch_start(self, model, data, rng):
        """Starting parameters of online EM: Baum-Welch on one batch (``n_init``
        restarts, as ``fit``). Stepwise EM moves a step ``rho`` of an EM update
        per batch, so it crosses EM's slow stretches no faster than EM; from a
        converged fit of one batch it has only that batch's sampling error to
        average away."""
        return fit_em(model, data, self._starting_params(data, rng, warm=False),
                      max_iter=self.max_iter, tol=self._per_sample_tol(data),
                      random_state=rng, screen_iter=self.screen_iter, n_refine=3).params

    def _online_params(self, model, data, fixed, rng, *, warm):
        """fit(strategy="online")'s stepwise passes over shuffled batches of
        whole sequences; returns the parameters the Baum-Welch polish starts from."""
        n_sequences = data.n_sequences
        batch_size = min(self.batch_size, n_sequences)

        def batch_of(indices):
            X = np.concatenate([data.X[data.starts[i]:data.starts[i + 1]] for i in indices])
            return SequenceData(X, data.lengths[indices], row_bytes=self._row_bytes(X))

        first, make_pass = shuffled_passes(n_sequences, batch_size, rng, batch_of)
        if warm:
            start = self._fitted_params()
        elif first.n_samples < self.n_components:
            raise ValueError(f"A batch of batch_size={self.batch_size} sequences has "
                             f"{first.n_samples} samples, fewer than n_components="
                             f"{self.n_components}; the first batch initialises every state. "
                             f"Use a larger batch_size.")
        else:
            start = self._batch_start(self._model(first, fixed, fitting=True), first, rng)

        stepwise = StepwiseEM(self.learning_offset, self.learning_decay)
        # The emission family of all the data (one centre for every batch),
        # the statistics scaled to all of it: Baum-Welch's fixed points.
        params, scores = stepwise_passes(
            stepwise, start, make_pass,
            lambda batch: self._model(batch, fixed, fitting=True,
                                      emission=self._batch_emission(model.emission, batch)),
            n_passes=self.online_passes, scale=data.total_weight, rng=rng)
        self.n_batch_iter_ = stepwise.n_steps
        self.online_scores_ = np.asarray(scores, dtype=np.float64)
        return params

    def _batch_emission(self, emission, data):
        """The first batch's emission family, fit for ``data`` (a hook:
        GaussianHMM marginalises missing entries that the first batch lacked)."""
        return emission

    def _starting_params(self, data, rng, *, warm):
        """The starting parameter dicts: the current attributes when warm, else restarts."""
        if warm:
            return [self._fitted_params()]
        return self._initializations(data, rng)

    def _per_sample_tol(self, data):
        """The engine's threshold on the per-sample objective."""
        return self.tol

    def _init_method(self):
        """Name of the initialisation method (see emkit._engine.init)."""
        return self.init_params

    def _resolved_fixed(self):
        allowed = _TRANSITION_NAMES + self._emission_names
        fixed = frozenset(self.fixed)
        unknown = fixed - set(allowed)
        if unknown:
            raise ValueError(f"fixed may only name {allowed}; got unknown name(s) "
                             f"{sorted(unknown)}.")
        return fixed

    def _model(self, data, fixed, *, fitting, emission=None):
        """The engine's model for ``data``; ``emission`` reuses an emission
        family configured earlier (online EM keeps the first batch's)."""
        K = self.n_components
        if emission is None:
            emission_fixed = frozenset(self._internal_names.get(name, name)
                                       for name in fixed - set(_TRANSITION_NAMES))
            emission = self._emission(data, emission_fixed, fitting=fitting)
        start_alpha = trans_alpha = None
        if fitting:
            start_alpha = _check_concentration(self.startprob_prior, (K,), "startprob_prior")
            trans_alpha = _check_concentration(self.transmat_prior, (K, K), "transmat_prior")
            trans_alpha[np.diag_indices(K)] += float(self.sticky)
            if np.all(start_alpha == 1.0):
                start_alpha = None
            if np.all(trans_alpha == 1.0):
                trans_alpha = None
        return HiddenMarkovModel(emission, K, startprob_concentration=start_alpha,
                                 transmat_concentration=trans_alpha,
                                 fixed=fixed & set(_TRANSITION_NAMES))

    def _initializations(self, data, rng):
        """Lazily yield one set of starting parameters per restart."""
        K = self.n_components
        for _ in range(self.n_init):
            params, state_resp = self._initial_emission(data, rng)
            if state_resp is None:
                # hmmlearn's default: random start and transition probabilities
                # (here Dirichlet(1) rows: uniform-ish, never exactly zero).
                params["startprob"] = rng.dirichlet(np.ones(K))
                params["transmat"] = rng.dirichlet(np.ones(K), size=K)
            else:
                start, trans = _label_transition_counts(state_resp, data.lengths)
                # One pseudo-count per entry keeps every transition possible;
                # the labels' own transitions give a sensible stickiness.
                params["startprob"] = (start + 1.0) / (start + 1.0).sum()
                params["transmat"] = (trans + 1.0) / (trans + 1.0).sum(axis=1, keepdims=True)
            yield params

    # ------------------------------------------------------------ parameters
    def _fitted_params(self):
        """The public attributes, validated, as the model's parameter dict.

        Raises NotFittedError when an attribute is missing and ValueError
        (naming the attribute) when one has the wrong shape or values.
        """
        names = ("startprob_", "transmat_") + self._attribute_names
        missing = [name for name in names if not hasattr(self, name)]
        if missing:
            raise NotFittedError(
                f"This {type(self).__name__} has no {', '.join(missing)}. Call fit first, or "
                f"build the model with from_params(...) or by assigning "
                f"{', '.join(names)}.")
        K = check_integer(self.n_components, "n_components", minimum=1)
        params = {"startprob": check_probability_rows(self.startprob_, (K,), "startprob_"),
                  "transmat": check_probability_rows(self.transmat_, (K, K), "transmat_")}
        params.update(self._emission_params())
        return params

    def _set_params_from(self, params):
        self.startprob_ = np.asarray(params["startprob"], dtype=np.float64)
        self.transmat_ = np.asarray(params["transmat"], dtype=np.float64)
        self._set_emission_params(params)

    @classmethod
    def _from_transitions(cls, startprob, transmat, n_features_in, **params):
        """What every ``from_params`` builds before the emission's attributes:
        ``cls(**params)`` holding validated start and transition
        probabilities, marked fitted for ``n_features_in`` features."""
        model = cls(**params)
        model._set_transitions(startprob, transmat)
        model.n_features_in_ = n_features_in
        return model

    def _set_transitions(self, startprob, transmat):
        K = self.n_components
        self.startprob_ = check_probability_rows(startprob, (K,), "startprob")
        self.transmat_ = check_probability_rows(transmat, (K, K), "transmat")
        self.converged_ = True
        self.n_iter_ = 0

    # ------------------------------------------------------------ inference
    def _chunks_log_emission(self, X, lengths):
        """Yield ``(log_emission, lengths, log_startprob, log_transmat)`` per chunk."""
        params = self._fitted_params()
        X = self._validate_X(X, reset=False)
        n_features = _params_n_features(params)
        if n_features is not None and X.shape[1] != n_features:
            raise ValueError(f"X has {X.shape[1]} features but the model's parameters have "
                             f"{n_features}.")
        lengths = _checked_lengths(lengths, X.shape[0])
        data = SequenceData(X, lengths, row_bytes=self._row_bytes(X))
        model = self._model(data, frozenset(), fitting=False)
        emission_plan, log_startprob, log_transmat = model.e_step_plan(params)
        for X_chunk, chunk_lengths, *_ in data.chunks():
            log_emission, _ = model.log_emission(emission_plan, X_chunk)
            yield log_emission, chunk_lengths, log_startprob, log_transmat

    def score_sequences(self, X, lengths=None):
        """Log-likelihood ``log p(x^(i))`` of every sequence, shape (n_sequences,).

        A dask X (with numpy ``lengths``) gives a dask array, computed block
        by block where the blocks live (see :meth:`fit`)."""
        if is_dask_array(X):
            return self._map_dask(self.score_sequences, X, lengths, per="sequence")
        with _single_threaded_blas():
            forward = backend.ops().forward_log_likelihood
            return np.concatenate([forward(ls, lt, le, n) for le, n, ls, lt in
                                   self._chunks_log_emission(X, lengths)])

    def score(self, X, lengths=None):
        """Total log-likelihood of all sequences (hmmlearn's ``score``); for a
        dask X summed on the workers."""
        if is_dask_array(X):
            return self._sum_dask(self.score, X, lengths)
        return float(self.score_sequences(X, lengths).sum())

    def predict_proba(self, X, lengths=None):
        """State posteriors ``p(z_t = k | x)`` (forward-backward), shape (n_samples, K).

        A dask X gives a dask array."""
        if is_dask_array(X):
            return self._map_dask(self.predict_proba, X, lengths, n_columns=self.n_components)
        with _single_threaded_blas():
            forward_backward = backend.ops().forward_backward
            return np.concatenate([forward_backward(ls, lt, le, n)[1] for le, n, ls, lt in
                                   self._chunks_log_emission(X, lengths)])

    def decode(self, X, lengths=None, algorithm=None):
        """Most likely states.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        lengths : array-like of int, optional
        algorithm : {"viterbi", "map"}, optional
            ``"viterbi"``: the jointly most probable state path;
            ``"map"``: the most probable state at every step (posterior
            decoding). Defaults to the estimator's ``algorithm``.

        Returns
        -------
        log_prob : float
            Viterbi: ``sum_i max_z log p(x^(i), z)``. MAP: the sum over steps
            of the log-posterior of the chosen state.
        states : ndarray of shape (n_samples,)
            A dask array for a dask X (``log_prob`` is then summed on the
            workers, in a pass of its own).
        """
        algorithm = self.algorithm if algorithm is None else algorithm
        if algorithm not in DECODE_ALGORITHMS:
            raise ValueError(f"algorithm must be one of {DECODE_ALGORITHMS}; got "
                             f"{algorithm!r}.")
        if is_dask_array(X):
            return (self._sum_dask(partial(_decoded, self, algorithm, 0), X, lengths),
                    self._map_dask(partial(_decoded, self, algorithm, 1), X, lengths,
                                   dtype=np.int64))
        log_prob, states = 0.0, []
        with _single_threaded_blas():
            for le, n, ls, lt in self._chunks_log_emission(X, lengths):
                if algorithm == "viterbi":
                    chunk_log_prob, chunk_states = backend.ops().viterbi(ls, lt, le, n)
                    log_prob += float(chunk_log_prob.sum())
                else:
                    posteriors = backend.ops().forward_backward(ls, lt, le, n)[1]
                    chunk_states = posteriors.argmax(axis=1)
                    with np.errstate(divide="ignore"):
                        log_prob += float(np.log(posteriors.max(axis=1)).sum())
                states.append(chunk_states)
        return log_prob, np.concatenate(states)

    def predict(self, X, lengths=None):
        """Most likely state of every step (``decode`` with ``algorithm``), shape (n_samples,).

        A dask X gives a dask array."""
        if is_dask_array(X):
            return self._map_dask(self.predict, X, lengths, dtype=np.int64)
        return self.decode(X, lengths)[1]

    def sample(self, n_samples=1, random_state=None, currstate=None):
        """Generate a sequence from the model.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState or None
            Defaults to the estimator's ``random_state``.
        currstate : int, optional
            State of the first sample (drawn from ``startprob_`` if None).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        states : ndarray of shape (n_samples,)
        """
        params = self._fitted_params()
        n_samples = check_integer(n_samples, "n_samples", minimum=1)
        rng = check_random_state(self.random_state if random_state is None else random_state)
        K = self.n_components
        uniforms = rng.uniform(size=n_samples)
        transmat_cdf = np.cumsum(params["transmat"], axis=1)
        states = np.empty(n_samples, dtype=np.int64)
        if currstate is None:
            state = int(np.searchsorted(np.cumsum(params["startprob"]), uniforms[0],
                                        side="right"))
        else:
            state = check_integer(currstate, "currstate", minimum=0)
            if state >= K:
                raise ValueError(f"currstate must be a state in 0..{K - 1}; got {state}.")
        states[0] = min(state, K - 1)
        for t in range(1, n_samples):
            state = int(np.searchsorted(transmat_cdf[states[t - 1]], uniforms[t], side="right"))
            states[t] = min(state, K - 1)
        return self._sample_emissions(params, states, rng), states

    def _sample_emissions(self, params, states, rng):
        """Observations along ``states``: each state's drawn by the emission
        family's ``sample`` (a hook: the Gaussian HMMs draw their own)."""
        component = self._sampling_emission(params)
        return _emissions_by_state(states, self.n_components,
                                   lambda k, n: component.sample(params, k, n, rng))

    def _sampling_emission(self, params):  # pragma: no cover - abstract
        """The emission family that draws from ``params`` alone."""
        raise NotImplementedError

    # ------------------------------------------------------- model selection
    def _n_parameters(self):
        """Free parameters: start K-1, transitions K(K-1), the emission's; fixed ones excluded."""
        K = self.n_components
        fixed = self._resolved_fixed()
        count = 0 if "startprob" in fixed else K - 1
        count += 0 if "transmat" in fixed else K * (K - 1)
        return count + self._n_emission_parameters(fixed)

    def bic(self, X, lengths=None):
        """Bayesian information criterion ``-2 log L + n_parameters log(n_samples)``.

        Lower is better; held-fixed parameters are not counted.
        """
        return -2.0 * self.score(X, lengths) + self._n_parameters() * np.log(len(X))

    def aic(self, X, lengths=None):
        """Akaike information criterion ``-2 log L + 2 n_parameters`` (lower is better)."""
        return -2.0 * self.score(X, lengths) + 2.0 * self._n_parameters()

    def _row_bytes(self, X):
        # log-emissions, posteriors and the kernel's scaling per step, plus features
        return 8 * (4 * self.n_components + 2 * X.shape[1] + 4)


class _OnlineHMMState:
    """What :meth:`_BaseHMM.partial_fit` keeps between calls: the stepper
    (running statistics, counters), the random state, the first batch's
    emission family and the current parameters; no samples."""

    def __init__(self, stepwise, rng, emission, params):
        self.stepwise, self.rng, self.emission, self.params = stepwise, rng, emission, params


def _check_ndim(value, name, axes, sizes=None):
    """``value`` as an array, with a named error unless it has one axis per
    name in ``axes``; ``sizes`` (the known ones, letters for the others)
    are quoted in the message."""
    array = np.asarray(value)
    if array.ndim != len(axes):
        expected = f"({', '.join(axes)})"
        if sizes is not None:
            expected += f" = ({', '.join(str(size) for size in sizes)})"
        raise ValueError(f"{name} must have shape {expected}; got {array.shape}.")
    return array


def _emissions_by_state(states, n_components, draw):
    """Observations along a (non-empty) state path, shape (len(states), n_features).

    ``draw(k, n)`` returns ``n`` emissions of state ``k``, shape (n, n_features);
    its dtype is the result's. The states are drawn in the order 0..K-1, each
    once, so that a seeded generator gives the same observations whatever
    order the path visits them in.
    """
    X = None
    for k in range(n_components):
        rows = np.flatnonzero(states == k)
        if rows.size:
            emissions = draw(k, rows.size)
            if X is None:
                X = np.empty((states.size,) + emissions.shape[1:], dtype=emissions.dtype)
            X[rows] = emissions
    return X


def _canonical_row_order(X):
    """Indices sorting the rows of ``X`` lexicographically (first feature
    first); equal rows keep their relative order, and are interchangeable."""
    return np.lexsort(np.asarray(X).T[::-1])


def _decoded(estimator, algorithm, index, X, lengths):
    """Part ``index`` of ``estimator.decode`` of one block (a picklable task)."""
    return estimator.decode(X, lengths, algorithm)[index]


def _check_complete_block(block):
    """A block of a dask X of Gaussian observations must be finite (on a worker)."""
    if not np.isfinite(block).all():
        raise ValueError("Input X contains NaN or infinity; a dask X must hold finite "
                         "observations (GaussianHMM marginalises missing entries of an "
                         "in-memory X only). Impute them, or compute X into memory.")


def _label_transition_counts(resp, lengths):
    """Start counts (K,) and consecutive-step transition counts (K, K) of
    (soft) state labels, within sequences only."""
    ends = np.cumsum(lengths)
    starts = ends - lengths
    not_last = np.ones(resp.shape[0], dtype=bool)
    not_last[ends - 1] = False
    steps = np.flatnonzero(not_last)
    return resp[starts].sum(axis=0), resp[steps].T @ resp[steps + 1]


def _checked_lengths(lengths, n_samples):
    """Sequence lengths validated; bounded first so their int64 sum cannot overflow."""
    return check_lengths(check_lengths_bounded(lengths, n_samples), n_samples)


def _params_n_features(params):
    """Number of features the parameters describe (None for categorical symbols)."""
    for name in ("means", "rates"):
        if name in params:
            return int(np.shape(params[name])[-1])
    return None


# ---------------------------------------------------------------------------
# Gaussian emissions
# ---------------------------------------------------------------------------
@_shared_hmm_docs
class GaussianHMM(_BaseHMM):
    """Hidden Markov model with Gaussian emissions, fitted by Baum-Welch.

    Missing observations (NaN entries) are marginalised exactly: a step's
    emission density is that of its observed coordinates, a wholly missing
    step contributes only its transition, and the M-step uses the expected
    statistics of the missing entries given the observed ones, so EM stays
    exact and monotone.

    Parameters
    ----------
    n_components : int, default=1
        Number of hidden states K.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="diag"
        Covariance structure of the emissions (hmmlearn's definitions; "tied"
        shares one covariance across states).
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance in each M-step (not under
        a ``prior``). hmmlearn's ``min_covar`` only enters its initialisation.
    prior : None, "default" or NormalInverseWishart, default=None
        Conjugate prior on every state's mean and covariance (MAP); "default"
        uses R mclust's ``defaultPrior``.
    init_params : {"kmeans", "k-means++", "random", "random_from_data", "hierarchical"}, \
default="kmeans"
        How initial state labels of the stacked observations are found (see
        :func:`emkit._engine.init.initial_responsibilities`); the emissions
        start from one M-step on them, the transitions from their counts.
    {hmm_parameters}

    Attributes
    ----------
    means_ : ndarray of shape (K, n_features)
    covariances_ : ndarray
        full (K, D, D), tied (D, D), diag (K, D), spherical (K,).
    covars_ : ndarray of shape (K, D, D)
        As in hmmlearn: reading gives the full covariance matrix of every
        state; assigning accepts the compact layout of ``covariance_type``
        (that of ``covariances_``, hmmlearn's setter) or full matrices, and
        sets ``covariances_``.
    precisions_cholesky_ : ndarray, layout of ``covariances_``
        Derived from ``covariances_`` when read.
    {hmm_attributes}

    Notes
    -----
    A model can be built without fitting by assigning ``startprob_``,
    ``transmat_``, ``means_`` and ``covars_`` (or ``covariances_``); they are
    validated (shapes, probability rows, positive-definite covariances) when
    the model is used.

    Examples
    --------
    ``fit`` takes ``X`` of shape (n_samples, n_features) (sequences stacked,
    with ``lengths`` of shape (n_sequences,)); ``predict`` returns states of
    shape (n_samples,). The Nile's annual flow, with a level shift in 1898:

    >>> import numpy as np
    >>> from emkit import GaussianHMM
    >>> from emkit.datasets import load_nile
    >>> y = load_nile().data.reshape(-1, 1)
    >>> model = GaussianHMM(2, n_init=1, random_state=0).fit(y)
    >>> np.sort(model.means_.ravel()).round(-1)
    array([ 850., 1100.])
    >>> model.transmat_.shape, model.predict(y).shape
    ((2, 2), (100,))
    """

    _emission_names = ("means", "covariances")
    _accelerate_default_reason = (
        "On benchmarks/bench_accel.py (3 states, T=10,000, 10 starts) SQUAREM reached plain "
        "Baum-Welch's optimum from the same start in 3.8x fewer E-steps and 3.3x less time, "
        "never ending below it; it is not the default because elsewhere it does not always "
        "end where Baum-Welch does: on a sequence with a state on 4 duplicated points it "
        "ended below Baum-Welch's optimum from 4 of 20 starts (above from 11), and with the "
        "default 5 restarts in 1 of 8 seeds, 0.13 per step below.")
    _parameter_constraints = {
        **_BaseHMM._common_constraints,
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "prior": [None, StrOptions({"default"}), object],
        "init_params": [StrOptions(set(INIT_METHODS))],
    }

    def __init__(self, n_components=1, *, covariance_type="diag", reg_covar=1e-6, prior=None,
                 startprob_prior=1.0, transmat_prior=1.0, sticky=0.0, algorithm="viterbi",
                 init_params="kmeans", n_init=5, screen_iter=10, max_iter=1000, tol=1e-6,
                 random_state=None, warm_start=False, verbose=0, fixed=(),
                 accelerate="none",
                 learning_offset=1.0, learning_decay=0.75, batch_size=100,
                 online_passes=3):
        store_init_arguments(self, locals())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing entries are marginalised
        return tags

    _attribute_names = ("means_", "covariances_")

    def _validate_X(self, X, *, reset):
        reject_complex(X, "X")
        X = validate_samples(self, X, reset=reset, allow_nan=True)
        if np.isinf(X).any():
            raise ValueError("Input X contains infinity; observations must be finite "
                             "numbers or NaN (missing).")
        if reset:
            unobserved = np.flatnonzero(np.isnan(X).all(axis=0))
            if unobserved.size:
                raise ValueError(
                    f"Input X has no observed value in feature(s) {unobserved.tolist()} "
                    f"(all NaN); their means and variances cannot be estimated. Drop those "
                    f"columns or impute them.")
        return X

    @property
    def covars_(self):
        """Full covariance matrices, shape (K, D, D) (hmmlearn's getter)."""
        K = self.n_components
        if self.covariance_type == "spherical":
            if not hasattr(self, "means_"):
                raise AttributeError("covars_ of a spherical GaussianHMM needs means_ (for "
                                     "n_features); assign means_ first.")
            D = np.shape(self.means_)[-1]
        else:
            D = np.shape(self.covariances_)[-1]
        covariances = check_covariances(self.covariances_, self.covariance_type, K, D,
                                        "covars_")
        return expand_covariances(covariances, self.covariance_type, K, D).copy()

    @covars_.setter
    def covars_(self, value):
        self.covariances_ = compact_covariances(value, self.covariance_type,
                                                self.n_components, "covars_")

    @property
    def precisions_cholesky_(self):
        """Cholesky factors of the precisions, layout of ``covariances_`` (derived)."""
        return self._emission_params()["precisions_cholesky"]

    def _row_bytes(self, X):
        width = feature_width(kernel_of(self.covariance_type), X.shape[1])
        return super()._row_bytes(X) + X.itemsize * width

    def _gaussian_component(self, data, fixed, *, fitting, X_complete=None):
        if fitting:
            # Rows come from data.sample: all of X in memory, a sample of a
            # cluster's sequences (whose moments and magnitudes are measured
            # over all the data, in one pass).
            X_complete = (_impute_center(data.sample, data.center) if X_complete is None
                          else X_complete)
            prior = _resolve_gaussian_prior(self.prior, X_complete, self.n_components)
            scales = feature_scales(data.sample)
            check_gaussian_scale(data.magnitudes, scales)
            return GaussianComponent(
                self.covariance_type, reg_covar=self.reg_covar, center=data.center,
                dtype=data.dtype, data_covariance=data.covariance,
                prior=prior, fixed=fixed, feature_scales=scales)
        return GaussianComponent(self.covariance_type, reg_covar=0.0, center=data.center,
                                 dtype=data.dtype, data_covariance=np.eye(data.n_features))

    def _emission(self, data, fixed, *, fitting):
        component = self._gaussian_component(data, fixed, fitting=fitting)
        if data.has_missing:
            return MissingGaussianComponent(component)
        return component

    def _batch_emission(self, emission, data):
        if data.has_missing and not isinstance(emission, MissingGaussianComponent):
            return MissingGaussianComponent(emission)
        return emission

    def _initial_emission(self, data, rng):
        X_complete = _impute_center(data.X, data.center)
        resp = start_for_labels(
            initial_responsibilities(X_complete, self.n_components, self._init_method(), rng),
            getattr(data, "labels", None))
        init_data = data if X_complete is data.X else SequenceData(
            X_complete, data.lengths, row_bytes=self._row_bytes(X_complete))
        component = self._gaussian_component(init_data, frozenset(), fitting=True,
                                             X_complete=X_complete)
        model = HiddenMarkovModel(component, self.n_components)
        stats = model.stats_from_posteriors(init_data, resp)
        params = component.m_step(stats["counts"], stats, None)
        return params, resp

    def _emission_params(self):
        K = self.n_components
        means = _check_ndim(self.means_, "means_", ("n_components", "n_features"), (K, "D"))
        D = means.shape[1]
        means = check_parameter_array(means, (K, D), "means_")
        covariances = check_covariances(self.covariances_, self.covariance_type, K, D,
                                        "covariances_ (covars_)")
        prec_chol, covariances = precision_cholesky(covariances, self.covariance_type)
        return {"means": means, "covariances": covariances, "precisions_cholesky": prec_chol}

    def _set_emission_params(self, params):
        self.means_ = np.asarray(params["means"], dtype=np.float64)
        self.covariances_ = np.asarray(params["covariances"], dtype=np.float64)

    def _n_emission_parameters(self, fixed):
        K, D = self.means_.shape
        count = 0 if "means" in fixed else K * D
        if "covariances" not in fixed:
            count += _n_covariance_parameters(self.covariance_type, K, D)
        return count

    def _sample_emissions(self, params, states, rng):
        K, D = params["means"].shape
        covariances = expand_covariances(params["covariances"], self.covariance_type, K, D)
        return _emissions_by_state(states, K, lambda k, n: rng.multivariate_normal(
            params["means"][k], covariances[k], n))

    @classmethod
    def from_params(cls, startprob, transmat, means, covariances, covariance_type="diag",
                    **kwargs):
        """A ready-to-use model from known parameters (no fitting).

        Parameters
        ----------
        startprob : array-like of shape (K,)
            Probabilities of the first state.
        transmat : array-like of shape (K, K)
            Transition probabilities, one row per state.
        means : array-like of shape (K, D)
        covariances : array-like
            In emkit's compact layout: full (K, D, D), tied (D, D), diag
            (K, D), spherical (K,).
        covariance_type : {"full", "tied", "diag", "spherical"}
        **kwargs : further constructor parameters

        Returns
        -------
        GaussianHMM
            ``score``, ``predict``, ``sample``... work; with ``warm_start=True``,
            ``fit`` starts from these parameters (so for every HMM's ``from_params``).
        """
        means = _check_ndim(means, "means", ("n_components", "n_features"))
        K, D = means.shape
        check_choice(covariance_type, "covariance_type", COVARIANCE_TYPES)
        model = cls._from_transitions(startprob, transmat, D, n_components=K,
                                      covariance_type=covariance_type, **kwargs)
        model.means_ = check_parameter_array(means, (K, D), "means")
        model.covariances_ = check_covariances(covariances, covariance_type, K, D,
                                               "covariances")
        return model


@_shared_hmm_docs
class GMMHMM(_BaseHMM):
    """Hidden Markov model with a Gaussian mixture per state (hmmlearn's GMMHMM).

    The K * n_mix Gaussians are the same ``GaussianComponent`` the mixtures
    use, evaluated together in one feature-kernel product.

    Parameters
    ----------
    n_components : int, default=1
        Number of hidden states K.
    n_mix : int, default=1
        Mixture components per state M.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="diag"
        As in hmmlearn: "tied" shares one covariance among the components of
        each state.
    reg_covar, prior
        As in :class:`GaussianHMM`.
    weights_prior : float or array-like of shape (K, M), default=1.0
        Dirichlet concentration (>= 1) of every state's mixture weights.
    init_params : {"kmeans", "k-means++", "random_from_data"}, default="kmeans"
        States from k-means on all observations, then each state's components
        from k-means within its samples.
    {hmm_parameters}

    Attributes
    ----------
    weights_ : ndarray of shape (K, M)
    means_ : ndarray of shape (K, M, D)
    covariances_ : ndarray
        hmmlearn's layout: spherical (K, M), diag (K, M, D), full (K, M, D, D),
        tied (K, D, D).
    covars_ : ndarray
        The same array as ``covariances_`` (hmmlearn's name); assigning it
        sets ``covariances_``.
    {hmm_attributes}

    Notes
    -----
    As with :class:`GaussianHMM`, a model can be built by assigning
    ``startprob_``, ``transmat_``, ``weights_``, ``means_`` and ``covars_``;
    they are validated when the model is used.

    Examples
    --------
    ``X`` has shape (n_samples, n_features), as for :class:`GaussianHMM`.

    >>> from emkit import GMMHMM
    >>> from emkit.datasets import load_old_faithful
    >>> X = load_old_faithful().data
    >>> model = GMMHMM(2, n_mix=2, n_init=1, random_state=0).fit(X)
    >>> model.weights_.shape, model.means_.shape, model.covariances_.shape
    ((2, 2), (2, 2, 2), (2, 2, 2))
    >>> model.transmat_.sum(axis=1).round(6)
    array([1., 1.])
    """

    _emission_names = ("weights", "means", "covariances")
    _accelerate_default_reason = (
        "On benchmarks/bench_accel.py (3 states x 2 diagonal Gaussians, T=5,000, 10 starts) "
        "SQUAREM reached plain Baum-Welch's optimum from the same start in 3.2x fewer E-steps "
        "and 3.6x less time, never ending below it; it is not the default because on a "
        "sequence with 4 duplicated points it ended below Baum-Welch's optimum from 7 of 20 "
        "starts (above from 3): the extrapolation leaves the path on which Baum-Welch "
        "collapses a component onto them and re-seeds it.")
    _parameter_constraints = {
        **_BaseHMM._common_constraints,
        "n_mix": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "prior": [None, StrOptions({"default"}), object],
        "weights_prior": [Interval(Real, 1.0, None, closed="left"), "array-like"],
        "init_params": [StrOptions({"kmeans", "k-means++", "random_from_data"})],
    }

    def __init__(self, n_components=1, n_mix=1, *, covariance_type="diag", reg_covar=1e-6,
                 prior=None, weights_prior=1.0, startprob_prior=1.0, transmat_prior=1.0,
                 sticky=0.0, algorithm="viterbi", init_params="kmeans", n_init=5,
                 screen_iter=10, max_iter=1000, tol=1e-6, random_state=None,
                 warm_start=False, verbose=0, fixed=(), accelerate="none",
                 learning_offset=1.0, learning_decay=0.75, batch_size=100, online_passes=3):
        store_init_arguments(self, locals())

    _attribute_names = ("weights_", "means_", "covariances_")

    def _validate_params(self):
        check_integer(self.n_mix, "n_mix", minimum=1)
        super()._validate_params()

    @property
    def covars_(self):
        """Alias of ``covariances_`` (hmmlearn's name, same layout)."""
        return self.covariances_

    @covars_.setter
    def covars_(self, value):
        self.covariances_ = np.array(value, dtype=np.float64, copy=True)

    def _validate_X(self, X, *, reset):
        reject_complex(X, "X")
        X = validate_samples(self, X, reset=reset, allow_nan=True)
        if np.isnan(X).any():
            raise ValueError("Input X contains NaN; GMMHMM does not marginalise missing "
                             "observations (only GaussianHMM does). Use GaussianHMM, drop "
                             "those samples (split the sequence with `lengths`) or impute "
                             "them.")
        if not np.isfinite(X).all():
            raise ValueError("Input X contains infinity; observations must be finite.")
        if reset and X.shape[0] < self.n_components * self.n_mix:
            raise ValueError(f"X has {X.shape[0]} samples but n_components * n_mix = "
                             f"{self.n_components * self.n_mix}; pass more samples.")
        return X

    def _check_dask_X(self, X, *, reset):
        X, check_block = super()._check_dask_X(X, reset=reset)
        if reset and X.shape[0] < self.n_components * self.n_mix:
            raise ValueError(f"X has {X.shape[0]} samples but n_components * n_mix = "
                             f"{self.n_components * self.n_mix}; pass more samples.")
        return X, check_block

    def _row_bytes(self, X):
        width = feature_width(kernel_of(self.covariance_type), X.shape[1])
        return super()._row_bytes(X) + 8 * 3 * self.n_components * self.n_mix + \
            X.itemsize * width

    def _emission(self, data, fixed, *, fitting):
        tied = self.covariance_type == "tied"
        flat_type = "full" if tied else self.covariance_type
        if fitting:
            prior = _resolve_gaussian_prior(self.prior, data.sample,
                                            self.n_components * self.n_mix)
            data_covariance = data.covariance
            scales = feature_scales(data.sample)
            check_gaussian_scale(data.magnitudes, scales)
            reg_covar = self.reg_covar
            weights_alpha = _check_concentration(self.weights_prior,
                                                 (self.n_components, self.n_mix),
                                                 "weights_prior")
            if np.all(weights_alpha == 1.0):
                weights_alpha = None
        else:
            prior, reg_covar, weights_alpha, scales = None, 0.0, None, None
            data_covariance = np.eye(data.n_features)
        gaussian_fixed = fixed - {"weights"}

        def component(covariance_type):
            return GaussianComponent(covariance_type, reg_covar=reg_covar, center=data.center,
                                     dtype=data.dtype, data_covariance=data_covariance,
                                     prior=prior, fixed=gaussian_fixed, feature_scales=scales)

        return StateMixtureEmission(
            component(flat_type), self.n_components, self.n_mix,
            per_state_component=component("tied") if tied else None,
            weights_concentration=weights_alpha, fix_weights="weights" in fixed)

    def _initial_emission(self, data, rng):
        from sklearn.cluster import KMeans

        K, M = self.n_components, self.n_mix
        X = data.X
        # The clustering sees the rows in a canonical (sorted) order, so that
        # within a seed the start depends on the set of observations, not on
        # the order in which the sequences were concatenated (k-means++ and
        # Lloyd's iterations both follow row order). A start that moved with
        # the order led EM to different optima for the same sequences.
        order = _canonical_row_order(X)
        X_sorted = X[order]
        sorted_resp = initial_responsibilities(X_sorted, K, self._init_method(), rng)
        state_labels = sorted_resp.argmax(axis=1)
        sorted_labels = np.empty(X.shape[0], dtype=np.int64)
        for k in range(K):
            rows = np.flatnonzero(state_labels == k)
            if rows.size >= M and M > 1:
                sub = KMeans(n_clusters=M, n_init=1, random_state=rng).fit(
                    X_sorted[rows]).labels_
            else:
                sub = rng.randint(M, size=rows.size)
            sorted_labels[rows] = k * M + sub
        state_resp = np.empty_like(sorted_resp)
        state_resp[order] = sorted_resp
        labels = np.empty_like(sorted_labels)
        labels[order] = sorted_labels
        component_resp = one_hot(labels, K * M)
        emission = self._emission(data, frozenset(), fitting=True)
        stats = None
        for start in range(0, X.shape[0], 65536):
            chunk = X[start:start + 65536]
            resp = component_resp[start:start + 65536]
            chunk_stats = emission.component.stats(resp.astype(data.dtype),
                                                   emission.component.features(chunk))
            if stats is None:
                stats = chunk_stats
            else:
                stats["moments"] += chunk_stats["moments"]
        stats["component_counts"] = component_resp.sum(axis=0)
        params = emission.m_step(None, stats, None)
        # Guard against an empty component: weights never exactly zero.
        weights = params["weights"] + 1e-3 / M
        params["weights"] = weights / weights.sum(axis=1, keepdims=True)
        return params, state_resp

    def _emission_params(self):
        K, M = self.n_components, self.n_mix
        means = _check_ndim(self.means_, "means_", ("n_components", "n_mix", "n_features"),
                            (K, M, "D"))
        D = means.shape[2]
        means = check_parameter_array(means, (K, M, D), "means_")
        weights = check_probability_rows(self.weights_, (K, M), "weights_")
        covariances = _check_mixture_covariances(self.covariances_, self.covariance_type,
                                                 K, M, D, "covariances_ (covars_)")
        layout_type = "full" if self.covariance_type == "tied" else self.covariance_type
        flat = covariances if self.covariance_type == "tied" else \
            covariances.reshape((K * M,) + covariances.shape[2:])
        return {"weights": weights, "means": means.reshape(K * M, D), "covariances": flat,
                "precisions_cholesky": precision_cholesky(flat, layout_type)[0]}

    def _set_emission_params(self, params):
        K, M = self.n_components, self.n_mix
        self.weights_ = np.asarray(params["weights"], dtype=np.float64)
        D = params["means"].shape[1]
        self.means_ = np.asarray(params["means"], dtype=np.float64).reshape(K, M, D)
        covariances = np.asarray(params["covariances"], dtype=np.float64)
        if self.covariance_type != "tied":
            covariances = covariances.reshape((K, M) + covariances.shape[1:])
        self.covariances_ = covariances

    def _n_emission_parameters(self, fixed):
        K, M, D = self.means_.shape
        count = 0 if "weights" in fixed else K * (M - 1)
        count += 0 if "means" in fixed else K * M * D
        if "covariances" not in fixed:
            count += {"full": K * M * D * (D + 1) // 2, "tied": K * D * (D + 1) // 2,
                      "diag": K * M * D, "spherical": K * M}[self.covariance_type]
        return count

    def _sample_emissions(self, params, states, rng):
        K, M = self.n_components, self.n_mix
        D = params["means"].shape[1]
        means = params["means"].reshape(K, M, D)
        if self.covariance_type == "tied":
            covariances = np.repeat(params["covariances"][:, None], M, axis=1)
        else:
            covariances = expand_covariances(params["covariances"], self.covariance_type,
                                             K * M, D).reshape(K, M, D, D)

        def draw(k, n):
            # each step's mixture component, then the Gaussians component by component
            mix = rng.choice(M, size=n, p=params["weights"][k])
            return _emissions_by_state(mix, M, lambda m, count: rng.multivariate_normal(
                means[k, m], covariances[k, m], count))

        return _emissions_by_state(states, K, draw)

    @classmethod
    def from_params(cls, startprob, transmat, weights, means, covariances,
                    covariance_type="diag", **kwargs):
        """A ready-to-use model from known parameters (no fitting; see
        :meth:`GaussianHMM.from_params` for ``startprob``, ``transmat``,
        ``**kwargs`` and what the model can do).

        Parameters
        ----------
        weights : array-like of shape (K, M)
            Every state's mixture weights.
        means : array-like of shape (K, M, D)
        covariances : array-like
            hmmlearn's GMMHMM layout: spherical (K, M), diag (K, M, D), full
            (K, M, D, D), tied (K, D, D).
        covariance_type : {"full", "tied", "diag", "spherical"}
        """
        means = _check_ndim(means, "means", ("n_components", "n_mix", "n_features"))
        K, M, D = means.shape
        check_choice(covariance_type, "covariance_type", COVARIANCE_TYPES)
        model = cls._from_transitions(startprob, transmat, D, n_components=K, n_mix=M,
                                      covariance_type=covariance_type, **kwargs)
        model.weights_ = check_probability_rows(weights, (K, M), "weights")
        model.means_ = check_parameter_array(means, (K, M, D), "means")
        model.covariances_ = _check_mixture_covariances(covariances, covariance_type, K, M, D,
                                                        "covariances")
        return model


# ---------------------------------------------------------------------------
# discrete emissions
# ---------------------------------------------------------------------------
def _kmeans_initial_emission(estimator, component, encoded, data, rng, smoothing):
    """Emission parameters from one M-step on k-means labels of ``encoded``
    observations, smoothed; ``(None, None)`` when k-means cannot be used (the
    caller then draws random parameters)."""
    K = estimator.n_components
    if estimator._init_method() == "random" or encoded is None:
        return None, None
    if np.unique(encoded, axis=0).shape[0] < K:  # k-means needs K distinct points
        return None, None
    resp = start_for_labels(initial_responsibilities(encoded, K, "kmeans", rng),
                            getattr(data, "labels", None))
    model = HiddenMarkovModel(component, K)
    stats = model.stats_from_posteriors(data, resp)
    return smoothing(component.m_step(stats["counts"], stats, None), stats), resp


@_shared_hmm_docs
class CategoricalHMM(_BaseHMM):
    """Hidden Markov model with categorical (discrete symbol) emissions.

    Parameters
    ----------
    n_components : int, default=1
    n_features : int or None, default=None
        Number of symbols S; inferred from the data (largest symbol + 1) if None.
    emissionprob_prior : float, array-like of shape (K, S) or (S,), or \
emkit.priors.Dirichlet, default=1.0
        Dirichlet concentration (>= 1) of every state's emission probabilities.
    init_params : {"kmeans", "random"}, default="kmeans"
        "kmeans": states from k-means on one-hot symbols (falls back to
        "random" when there are fewer distinct symbols than states);
        "random": hmmlearn's random emission rows.
    {hmm_parameters}

    Attributes
    ----------
    emissionprob_ : ndarray of shape (K, S)
    n_features_ : int
        The number of symbols S.
    {hmm_attributes}

    Notes
    -----
    ``X`` has shape (n_samples, 1) (or (n_samples,)): one integer symbol
    per step, as in hmmlearn.

    Examples
    --------
    Two regimes, one emitting symbols 0-1, the other 2-3:

    >>> import numpy as np
    >>> from emkit import CategoricalHMM
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.integers(0, 2, 100), rng.integers(2, 4, 100)].reshape(-1, 1)
    >>> model = CategoricalHMM(2, n_init=1, random_state=0).fit(X)
    >>> model.n_features_, model.emissionprob_.shape
    (4, (2, 4))
    >>> np.sort(model.emissionprob_[:, :2].sum(axis=1)).round(2)
    array([0., 1.])
    """

    _emission_names = ("emissionprob",)
    _accelerate_default_reason = (
        "On benchmarks/bench_accel.py (3 states x 5 symbols, T=10,000) SQUAREM reached plain "
        "Baum-Welch's optimum from the same start in 4.4x fewer E-steps and 4.7x less time "
        "(10 starts), never ending below it (20 starts), nor on 3 regimes of 200 symbols "
        "fitted with 3 or 4 states; it is not the default because in fit(strategy='online') "
        "on short sequences its fit of the first batch, where no sequence started in one "
        "state, took that start probability to 4e-87 (the batch's optimum, which plain EM "
        "only creeps towards), from which neither stepwise EM nor the polish recovered: it "
        "ended 0.0027 per step below the batch optimum (plain Baum-Welch from there needs "
        "about 140 iterations).")
    _internal_names = {"emissionprob": "probabilities"}
    _parameter_constraints = {
        **_BaseHMM._common_constraints,
        "n_features": [Interval(Integral, 1, None, closed="left"), None],
        "emissionprob_prior": [Interval(Real, 1.0, None, closed="left"), "array-like", object],
        "init_params": [StrOptions({"kmeans", "random"})],
    }

    def __init__(self, n_components=1, *, n_features=None, emissionprob_prior=1.0,
                 startprob_prior=1.0, transmat_prior=1.0, sticky=0.0, algorithm="viterbi",
                 init_params="kmeans", n_init=5, screen_iter=10, max_iter=1000, tol=1e-6,
                 random_state=None, warm_start=False, verbose=0, fixed=(),
                 accelerate="none",
                 learning_offset=1.0, learning_decay=0.75, batch_size=100,
                 online_passes=3):
        store_init_arguments(self, locals())

    _attribute_names = ("emissionprob_",)
    # emissionprob_ and its statistics are (K, S) float64 arrays: beyond this
    # many entries (1 GiB each) the alphabet is almost surely not encoded as
    # 0..S-1, and allocating it would exhaust memory rather than fit anything.
    _max_emission_entries = 2 ** 27

    def _validate_X(self, X, *, reset):
        reject_complex(X, "X")
        n_symbols = self._n_symbols(reset=reset)
        symbols = check_symbols(X, n_symbols)
        if reset:
            self._set_alphabet(n_symbols, int(symbols.max()))
        return symbols

    def _set_alphabet(self, n_symbols, largest):
        """n_features_ from ``n_features`` or the largest symbol seen, bounded."""
        n_features = int(n_symbols or largest + 1)
        entries = self.n_components * n_features
        if entries > self._max_emission_entries:
            source = ("n_features" if n_symbols is not None else
                      f"the largest symbol in X ({largest})")
            raise ValueError(
                f"An alphabet of {n_features} symbols (from {source}) with n_components="
                f"{self.n_components} needs a {self.n_components} x {n_features} "
                f"emissionprob_ ({entries * 8 / 2**30:.1f} GiB). Encode the symbols of X "
                f"as 0..S-1 (sklearn.preprocessing.LabelEncoder) and set n_features to "
                f"the number of distinct symbols.")
        self.n_features_in_ = 1
        self.n_features_ = n_features

    def _n_symbols(self, *, reset):
        if reset:
            return (None if self.n_features is None else
                    check_integer(self.n_features, "n_features", minimum=1))
        return np.shape(self.emissionprob_)[-1]

    def _check_dask_X(self, X, *, reset):
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim == 2 and X.shape[1] != 1:
            raise ValueError(f"X must have shape (n_samples, 1): one symbol per sample; got "
                             f"{X.shape[1]} columns.")
        K = self.n_components
        X = check_dask_samples(
            X, min_samples=K if reset else 1, float_only=False,
            min_samples_reason=f"n_samples must be >= n_components={K}; a state needs at "
                               f"least one sample")
        return X, partial(check_symbols, n_symbols=self._n_symbols(reset=reset))

    def _measured_dask(self, data):
        # Symbols are non-negative (checked on the workers): the largest
        # magnitude is the largest symbol.
        self._set_alphabet(self._n_symbols(reset=True), int(data.max_abs[0]))
        # The client's sample as the in-memory path holds symbols: int64.
        data.sample = data.reseed_rows = check_symbols(data.sample, self.n_features_)

    def _emission(self, data, fixed, *, fitting):
        concentration = None
        if fitting:
            from ..priors import Dirichlet

            prior = self.emissionprob_prior
            if isinstance(prior, Dirichlet):
                prior = prior.concentration
            concentration = _check_concentration(prior, (self.n_components, self.n_features_),
                                                 "emissionprob_prior")
            if np.all(concentration == 1.0):
                concentration = None
        n_symbols = self.n_features_ if fitting else np.shape(self.emissionprob_)[-1]
        return CategoricalComponent(n_symbols, concentration=concentration, fixed=fixed)

    def _initial_emission(self, data, rng):
        K, S = self.n_components, self.n_features_
        component = self._emission(data, frozenset(), fitting=True)
        # k-means on one-hot symbols groups the symbols; for a huge alphabet
        # the one-hot matrix would not fit, and random rows are used instead
        encoded = one_hot(data.X[:, 0], S) if data.X.shape[0] * S <= 5e7 else None

        def smooth(params, stats):
            # no exact zeros: EM can never revive a zero emission probability
            probabilities = 0.9 * params["probabilities"] + 0.1 / S
            return {"probabilities": probabilities / probabilities.sum(axis=1, keepdims=True)}

        params, resp = _kmeans_initial_emission(self, component, encoded, data, rng, smooth)
        if params is None:
            rows = rng.uniform(size=(K, S))
            params = {"probabilities": rows / rows.sum(axis=1, keepdims=True)}
        return params, resp

    def _emission_params(self):
        K = self.n_components
        emissionprob = _check_ndim(self.emissionprob_, "emissionprob_",
                                   ("n_components", "n_features"), (K, "S"))
        return {"probabilities": check_probability_rows(
            emissionprob, (K, emissionprob.shape[1]), "emissionprob_")}

    def _set_emission_params(self, params):
        self.emissionprob_ = np.asarray(params["probabilities"], dtype=np.float64)

    def _n_emission_parameters(self, fixed):
        K, S = self.emissionprob_.shape
        return 0 if "emissionprob" in fixed else K * (S - 1)

    def _row_bytes(self, X):
        return super()._row_bytes(X) + 8

    def _sampling_emission(self, params):
        return CategoricalComponent(params["probabilities"].shape[1])

    @classmethod
    def from_params(cls, startprob, transmat, emissionprob, **kwargs):
        """A ready-to-use model from known parameters (no fitting).

        ``emissionprob``, of shape (K, S), holds every state's probabilities
        of the S symbols (``n_features`` defaults to S); ``startprob``,
        ``transmat`` and ``**kwargs`` are as in :meth:`GaussianHMM.from_params`.
        """
        emissionprob = _check_ndim(emissionprob, "emissionprob", ("n_components", "n_features"))
        K, S = emissionprob.shape
        kwargs.setdefault("n_features", S)
        model = cls._from_transitions(startprob, transmat, 1, n_components=K, **kwargs)
        model.emissionprob_ = check_probability_rows(emissionprob, (K, S), "emissionprob")
        model.n_features_ = S
        return model


@_shared_hmm_docs
class PoissonHMM(_BaseHMM):
    """Hidden Markov model with independent Poisson emissions per feature.

    Parameters
    ----------
    n_components : int, default=1
    lambdas_prior : emkit.priors.Gamma or None, default=None
        Gamma(shape >= 1, rate) prior on every rate (MAP).
    init_params : {"kmeans", "random"}, default="kmeans"
        "kmeans": states from k-means on log(1 + counts); "random": hmmlearn's
        Gamma draws around the data's mean.
    {hmm_parameters}

    Attributes
    ----------
    lambdas_ : ndarray of shape (K, n_features)
    {hmm_attributes}

    Examples
    --------
    ``X`` holds counts of shape (n_samples, n_features):

    >>> import numpy as np
    >>> from emkit import PoissonHMM
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.poisson(2, 100), rng.poisson(10, 100)].reshape(-1, 1)
    >>> model = PoissonHMM(2, n_init=1, random_state=0).fit(X)
    >>> np.sort(model.lambdas_.ravel()).round(0)
    array([ 2., 10.])
    >>> model.lambdas_.shape, model.predict(X).shape
    ((2, 1), (200,))
    """

    _emission_names = ("lambdas",)
    _accelerate_default_reason = (
        "On benchmarks/bench_accel.py (3 states x 2 count features, T=10,000, 10 starts) "
        "SQUAREM reached plain Baum-Welch's optimum from the same start in 2.3x fewer E-steps "
        "and 1.9x less time, never ending below it; it is not the default because with more "
        "states than regimes (4 states, 3 regimes of 200 steps) it ended below Baum-Welch's "
        "optimum from 2 of 20 starts.")
    _internal_names = {"lambdas": "rates"}
    _parameter_constraints = {
        **_BaseHMM._common_constraints,
        "lambdas_prior": [None, object],
        "init_params": [StrOptions({"kmeans", "random"})],
    }

    def __init__(self, n_components=1, *, lambdas_prior=None, startprob_prior=1.0,
                 transmat_prior=1.0, sticky=0.0, algorithm="viterbi", init_params="kmeans",
                 n_init=5, screen_iter=10, max_iter=1000, tol=1e-6, random_state=None,
                 warm_start=False, verbose=0, fixed=(), accelerate="none",
                 learning_offset=1.0, learning_decay=0.75, batch_size=100, online_passes=3):
        store_init_arguments(self, locals())

    _attribute_names = ("lambdas_",)

    def _validate_X(self, X, *, reset):
        reject_complex(X, "X")
        X = check_counts(X, None if reset else getattr(self, "n_features_in_", None))
        if reset:
            self.n_features_in_ = X.shape[1]
        return X

    def _check_dask_X(self, X, *, reset):
        K = self.n_components
        X = check_dask_samples(
            X, n_features=None if reset else getattr(self, "n_features_in_", None),
            min_samples=K if reset else 1, float_only=False,
            min_samples_reason=f"n_samples must be >= n_components={K}; a state needs at "
                               f"least one sample")
        return X, check_counts

    def _emission(self, data, fixed, *, fitting):
        prior = self._rates_prior() if fitting else None
        if prior is not None:
            from ..priors import Gamma

            if not isinstance(prior, Gamma):
                raise ValueError("lambdas_prior must be None or an emkit.priors.Gamma; got "
                                 f"{type(prior).__name__}. (hmmlearn's lambdas_prior and "
                                 f"lambdas_weight are not a per-state Gamma prior; "
                                 f"{_COMPAT_HINT})")
            if prior.shape < 1:
                raise ValueError("lambdas_prior needs shape >= 1 (shape - 1 prior events); "
                                 "below 1 the posterior is unbounded at 0.")
        return PoissonComponent(data.n_features, prior=prior, fixed=fixed)

    def _rates_prior(self):
        """The Gamma prior on the rates (None: maximum likelihood)."""
        return self.lambdas_prior

    def _initial_emission(self, data, rng):
        K = self.n_components
        component = self._emission(data, frozenset(), fitting=True)
        overall = data.X.mean(axis=0)

        def smooth(params, stats):
            # keep every rate positive: a zero rate can never be revived
            return {"rates": 0.9 * params["rates"] + 0.1 * overall + 1e-3}

        params, resp = _kmeans_initial_emission(self, component, np.log1p(data.X), data,
                                                  rng, smooth)
        if params is None:
            mean, variance = max(overall.mean(), 1e-3), max(data.X.var(), 1e-3)
            params = {"rates": rng.gamma(mean**2 / variance, variance / mean,
                                         size=(K, data.n_features)) + 1e-3}
        return params, resp

    def _emission_params(self):
        K = self.n_components
        lambdas = _check_ndim(self.lambdas_, "lambdas_", ("n_components", "n_features"), (K, "D"))
        lambdas = check_parameter_array(lambdas, (K, lambdas.shape[1]), "lambdas_")
        if (lambdas < 0).any():
            raise ValueError("lambdas_ must be non-negative (they are Poisson rates).")
        return {"rates": lambdas}

    def _set_emission_params(self, params):
        self.lambdas_ = np.asarray(params["rates"], dtype=np.float64)

    def _n_emission_parameters(self, fixed):
        return 0 if "lambdas" in fixed else self.lambdas_.size

    def _sampling_emission(self, params):
        return PoissonComponent(params["rates"].shape[1])

    @classmethod
    def from_params(cls, startprob, transmat, lambdas, **kwargs):
        """A ready-to-use model from known parameters (no fitting).

        Every state's Poisson rates are a row of ``lambdas``, shape
        (K, n_features), non-negative; the other arguments are those of
        :meth:`GaussianHMM.from_params`.
        """
        lambdas = _check_ndim(lambdas, "lambdas", ("n_components", "n_features"))
        K, D = lambdas.shape
        model = cls._from_transitions(startprob, transmat, D, n_components=K, **kwargs)
        lambdas = check_parameter_array(lambdas, (K, D), "lambdas")
        if (lambdas < 0).any():
            raise ValueError("lambdas must be non-negative.")
        model.lambdas_ = lambdas
        return model
