"""hmmlearn's HMM classes with hmmlearn's signatures, built on emkit's models.

Porting code from hmmlearn is an import change::

    from emkit.compat import hmmlearn as hmm     # was: from hmmlearn import hmm

    model = hmm.GaussianHMM(3, "full", n_iter=100, params="mct", init_params="mc")
    model.startprob_ = np.array([1.0, 0.0, 0.0])
    model.fit(X, lengths)

Every class here is the emkit estimator of the same name (a subclass) whose
constructor takes hmmlearn's parameters and translates them:

========================  ==================================================
hmmlearn                  emkit
========================  ==================================================
``n_iter``                ``max_iter``
``tol`` (total log-lik.)  ``tol`` per sample (``tol / n_samples``)
``params`` letters        ``fixed``: the parameters whose letter is missing
``init_params`` letters   parameters named there, and those not yet
                          assigned, are initialised (emkit's k-means start,
                          one run); the others start from their attributes
``implementation``        ignored: emkit's forward-backward is always scaled
``min_covar``             accepted; covariances are regularised by emkit's
                          ``reg_covar`` instead
``monitor_``              replayed from ``history_`` after each ``fit``
========================  ==================================================

Deliberate differences (the fitted models are emkit's): the M-step is
emkit's exact EM/MAP step, so results match hmmlearn to optimisation
accuracy but not bit for bit; hmmlearn's default ``covars_prior=1e-2`` is
replaced by emkit's ``reg_covar``; non-default Normal / inverse-Gamma /
Gamma emission priors (``means_weight``, ``covars_prior``, ``covars_weight``,
``lambdas_prior``, ``lambdas_weight``) are not translated and raise, naming
emkit's ``prior=`` instead; ``startprob_prior``/``transmat_prior`` below 1
are rejected (no MAP estimate exists). ``MultinomialHMM`` is not provided.
"""

from __future__ import annotations

import inspect
import logging
import sys
import warnings
from collections import deque
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._engine.sequences import SequenceData, check_lengths
from .._validation import check_integer, check_lengths_bounded, check_probability_rows
from ..estimators import hmm as _core
from ..estimators._base import store_init_arguments

__all__ = ["GaussianHMM", "GMMHMM", "CategoricalHMM", "PoissonHMM", "ConvergenceMonitor"]

_log = logging.getLogger(__name__)

IMPLEMENTATIONS = ("log", "scaling")


class ConvergenceMonitor:
    """hmmlearn's convergence monitor (same attributes and methods).

    emkit decides convergence itself (see ``converged_``); after ``fit`` the
    objective of every iteration is replayed into the model's ``monitor_``
    so that code reading ``monitor_.history`` / ``monitor_.converged``, or
    a custom monitor assigned before ``fit``, keeps working. A custom
    monitor does not stop emkit's iterations.

    Parameters
    ----------
    tol : float
        Threshold on the gain in total log-likelihood.
    n_iter : int
    verbose : bool
        Print one line per iteration to stderr when reporting.
    """

    _template = "{iter:>10d} {log_prob:>16.8f} {delta:>+16.8f}"

    def __init__(self, tol, n_iter, verbose):
        self.tol = tol
        self.n_iter = n_iter
        self.verbose = verbose
        self.history = deque()
        self.iter = 0

    def __repr__(self):
        params = sorted(dict(vars(self), history=list(self.history)).items())
        return (f"{type(self).__name__}(\n"
                + "".join(f"    {name}={value},\n" for name, value in params) + ")")

    def _reset(self):
        self.iter = 0
        self.history.clear()

    def report(self, log_prob):
        """Record the log-likelihood of one iteration (printing it if verbose)."""
        if self.verbose:
            delta = log_prob - self.history[-1] if self.history else np.nan
            print(self._template.format(iter=self.iter + 1, log_prob=log_prob, delta=delta),
                  file=sys.stderr)
        self.history.append(log_prob)
        self.iter += 1

    @property
    def converged(self):
        """Whether the iterations ran out or the last gain was below ``tol``."""
        return (self.iter == self.n_iter
                or (len(self.history) >= 2 and self.history[-1] - self.history[-2] < self.tol))


def _core_default(core_class, name):
    return inspect.signature(core_class.__init__).parameters[name].default


class _HmmlearnAdapter:
    """hmmlearn's fitting protocol on top of an emkit HMM (put first in the bases).

    The emkit fit reads its settings (``max_iter``, ``fixed``, ...) as
    attributes; here they are properties derived from hmmlearn's parameters.
    """

    _hmmlearn_signature = True
    # letter -> (attribute, emkit parameter name), set by each class
    _letters: dict = {}
    # emkit settings with no hmmlearn counterpart (n_init: emkit's default
    # number of starts to choose the initialisation from, see _initialize)
    screen_iter = None
    sticky = 0.0
    warm_start = False

    _adapter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "params": [str],
        "init_params": [str],
        "implementation": [StrOptions(set(IMPLEMENTATIONS))],
        "algorithm": [StrOptions(set(_core.DECODE_ALGORITHMS))],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # ---- emkit settings derived from hmmlearn's parameters
    @property
    def max_iter(self):
        return self.n_iter

    @property
    def n_init(self):
        return _core_default(self._core_class(), "n_init")

    @classmethod
    def _core_class(cls):
        return next(base for base in cls.__mro__ if base.__module__ == _core.__name__)

    @property
    def fixed(self):
        return tuple(name for letter, (_, name) in self._letters.items()
                     if letter not in self.params)

    def _init_method(self):
        return "kmeans"

    def _per_sample_tol(self, data):
        # hmmlearn's tol bounds the gain in total log-likelihood
        return self.tol / data.total_weight

    def _check_untranslated(self):
        """Raise for hmmlearn settings that have no faithful emkit translation."""

    # ---- hmmlearn's protocol
    def fit(self, X, lengths=None):
        """Estimate the parameters (hmmlearn's ``fit``: initialise, then EM).

        Parameters named in ``init_params``, and those not yet assigned, are
        initialised; the parameters whose letter is not in ``params`` are
        held fixed.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            A dask array is fitted on its blocks, started from a sample of
            its sequences (see :meth:`emkit.GaussianHMM.fit`).
        lengths : array-like of int of shape (n_sequences,), optional

        Returns
        -------
        self
        """
        self._check_untranslated()
        with warnings.catch_warnings():
            # hmmlearn reports non-convergence through monitor_, not a warning
            warnings.simplefilter("ignore", ConvergenceWarning)
            super().fit(X, lengths)
        monitor = self.monitor_
        monitor._reset()
        for log_prob in self.history_:
            monitor.report(float(log_prob))
        monitor.iter = self.n_iter_
        self._after_fit()
        return self

    def _after_fit(self):
        pass

    def _starting_params(self, data, rng, *, warm):
        # One EM run, as in hmmlearn (n_iter counts its iterations), from the
        # best of emkit's starts for the parameters being initialised.
        self._initialize(data, rng)
        return [self._fitted_params()]

    def _needs_init(self, letter, attribute):
        if letter in self.init_params:
            if hasattr(self, attribute):
                _log.warning("Even though the %r attribute is set, it will be overwritten "
                             "during initialization because 'init_params' contains %r",
                             attribute, letter)
            return True
        return not hasattr(self, attribute)

    def _candidate_starts(self, data, rng):
        """None if nothing needs initialising, else a generator that sets the
        attributes to each of emkit's starts in turn (kept ones untouched)."""
        needed = [letter for letter, (attribute, _) in self._letters.items()
                  if self._needs_init(letter, attribute)]
        if not needed:
            return None
        kept = {attribute: getattr(self, attribute)
                for letter, (attribute, _) in self._letters.items() if letter not in needed}

        def starts():
            for params in self._initializations(data, rng):
                self._set_params_from(params)
                for attribute, value in kept.items():
                    setattr(self, attribute, value)
                yield

        return starts()

    def _initialize(self, data, rng):
        """Initialise without iterating: of ``n_init`` starts, the one with the
        highest likelihood (hmmlearn takes the best of 10 k-means runs, so its
        start does not hinge on one k-means run either)."""
        starts = self._candidate_starts(data, rng)
        if starts is None:
            return
        attributes = [attribute for attribute, _ in self._letters.values()]
        best, best_score = None, -np.inf
        for _ in starts:
            score = self.score(data.X, data.lengths)
            if best is None or score > best_score:
                best, best_score = {name: getattr(self, name) for name in attributes}, score
        for attribute, value in best.items():
            setattr(self, attribute, value)

    def _init(self, X, lengths=None):
        """Initialise the parameters as ``fit`` would, without iterating (hmmlearn's hook)."""
        X = self._validate_X(X, reset=True)
        lengths = check_lengths(check_lengths_bounded(lengths, X.shape[0]), X.shape[0])
        data = SequenceData(X, lengths, row_bytes=self._row_bytes(X))
        self._initialize(data, check_random_state(self.random_state))
        self._after_fit()
        n_free = self._n_parameters()
        if X.size < n_free:
            _log.warning("Fitting a model with %d free scalar parameters with only %d data "
                         "points will result in a degenerate solution.", n_free, X.size)

    def _check(self):
        """Validate the parameter attributes (hmmlearn's hook); raises ValueError."""
        self._fitted_params()
        self._after_fit()

    def _validate_params(self):
        from sklearn.utils._param_validation import validate_parameter_constraints

        validate_parameter_constraints(self._adapter_constraints,
                                       self.get_params(deep=False),
                                       caller_name=type(self).__name__)
        check_integer(self.n_components, "n_components", minimum=1)

    def score_samples(self, X, lengths=None):
        """Log-likelihood of ``X`` and the state posteriors (hmmlearn's ``score_samples``).

        Returns
        -------
        log_prob : float
        posteriors : ndarray of shape (n_samples, n_components)
        """
        return self.score(X, lengths), self.predict_proba(X, lengths)

    def get_stationary_distribution(self):
        """Stationary distribution of the states, shape (n_components,)."""
        transmat = check_probability_rows(self.transmat_,
                                          (self.n_components, self.n_components),
                                          "transmat_")
        eigvals, eigvecs = linalg.eig(transmat.T)
        eigvec = np.real_if_close(eigvecs[:, np.argmax(eigvals)])
        return eigvec / eigvec.sum()


def _gaussian_prior_message(class_name):
    return (f"{class_name}: emkit.compat.hmmlearn does not translate hmmlearn's means/covars "
            f"priors (means_prior, means_weight, covars_prior, covars_weight); leave them at "
            f"their defaults, or use emkit.{class_name}(prior=emkit.priors."
            f"NormalInverseWishart(...)), a conjugate prior on every state's mean and "
            f"covariance.")


class GaussianHMM(_HmmlearnAdapter, _core.GaussianHMM):
    """hmmlearn's ``GaussianHMM`` signature on :class:`emkit.GaussianHMM`.

    Parameters are hmmlearn's (see the module docstring for how they map).
    ``covars_`` reads as full (K, D, D) matrices and accepts the compact
    layout, as in hmmlearn; ``_covars_`` is the compact layout.
    """

    _letters = {"s": ("startprob_", "startprob"), "t": ("transmat_", "transmat"),
                "m": ("means_", "means"), "c": ("covariances_", "covariances")}

    def __init__(self, n_components=1, covariance_type="diag", min_covar=1e-3,
                 startprob_prior=1.0, transmat_prior=1.0, means_prior=0, means_weight=0,
                 covars_prior=1e-2, covars_weight=1, algorithm="viterbi", random_state=None,
                 n_iter=10, tol=1e-2, verbose=False, params="stmc", init_params="stmc",
                 implementation="log"):
        store_init_arguments(self, locals())
        self.monitor_ = ConvergenceMonitor(tol, n_iter, verbose)

    prior = None

    @property
    def reg_covar(self):
        return _core_default(_core.GaussianHMM, "reg_covar")

    @property
    def _covars_(self):
        return self.covariances_

    def _check_untranslated(self):
        if (np.any(np.asarray(self.means_weight) != 0)
                or np.any(np.asarray(self.covars_prior) != 1e-2)
                or np.any(np.asarray(self.covars_weight) != 1)):
            raise ValueError(_gaussian_prior_message("GaussianHMM"))

    def _after_fit(self):
        if hasattr(self, "means_"):
            self.n_features = int(np.shape(self.means_)[-1])


class GMMHMM(_HmmlearnAdapter, _core.GMMHMM):
    """hmmlearn's ``GMMHMM`` signature on :class:`emkit.GMMHMM`.

    ``covars_`` has hmmlearn's GMMHMM layout: spherical (K, M), diag
    (K, M, D), full (K, M, D, D), tied (K, D, D).
    """

    _letters = {"s": ("startprob_", "startprob"), "t": ("transmat_", "transmat"),
                "w": ("weights_", "weights"), "m": ("means_", "means"),
                "c": ("covariances_", "covariances")}

    def __init__(self, n_components=1, n_mix=1, min_covar=1e-3, startprob_prior=1.0,
                 transmat_prior=1.0, weights_prior=1.0, means_prior=0.0, means_weight=0.0,
                 covars_prior=None, covars_weight=None, algorithm="viterbi",
                 covariance_type="diag", random_state=None, n_iter=10, tol=1e-2,
                 verbose=False, params="stmcw", init_params="stmcw", implementation="log"):
        store_init_arguments(self, locals())
        self.monitor_ = ConvergenceMonitor(tol, n_iter, verbose)

    prior = None

    @property
    def reg_covar(self):
        return _core_default(_core.GMMHMM, "reg_covar")

    def _check_untranslated(self):
        if (np.any(np.asarray(self.means_weight) != 0) or self.covars_prior is not None
                or self.covars_weight is not None):
            raise ValueError(_gaussian_prior_message("GMMHMM"))

    def _after_fit(self):
        if hasattr(self, "means_"):
            self.n_features = int(np.shape(self.means_)[-1])


class CategoricalHMM(_HmmlearnAdapter, _core.CategoricalHMM):
    """hmmlearn's ``CategoricalHMM`` signature on :class:`emkit.CategoricalHMM`.

    ``n_features`` is set from the data (or ``emissionprob_``) when None, as
    in hmmlearn.
    """

    _letters = {"s": ("startprob_", "startprob"), "t": ("transmat_", "transmat"),
                "e": ("emissionprob_", "emissionprob")}

    def __init__(self, n_components=1, startprob_prior=1.0, transmat_prior=1.0, *,
                 emissionprob_prior=1.0, n_features=None, algorithm="viterbi",
                 random_state=None, n_iter=10, tol=1e-2, verbose=False, params="ste",
                 init_params="ste", implementation="log"):
        store_init_arguments(self, locals())
        self.monitor_ = ConvergenceMonitor(tol, n_iter, verbose)

    def _validate_X(self, X, *, reset):
        if (reset and self.n_features is None and hasattr(self, "emissionprob_")
                and "e" not in self.init_params):
            # the alphabet of the emission probabilities the fit starts from
            self.n_features = int(np.shape(self.emissionprob_)[-1])
        return super()._validate_X(X, reset=reset)

    def _check_and_set_n_features(self, X):
        """Validate symbols and set ``n_features`` (hmmlearn's hook)."""
        self._validate_X(X, reset=True)
        self.n_features = self.n_features_

    def _after_fit(self):
        if self.n_features is None and hasattr(self, "emissionprob_"):
            self.n_features = int(np.shape(self.emissionprob_)[-1])


class PoissonHMM(_HmmlearnAdapter, _core.PoissonHMM):
    """hmmlearn's ``PoissonHMM`` signature on :class:`emkit.PoissonHMM`."""

    _letters = {"s": ("startprob_", "startprob"), "t": ("transmat_", "transmat"),
                "l": ("lambdas_", "lambdas")}

    def __init__(self, n_components=1, startprob_prior=1.0, transmat_prior=1.0,
                 lambdas_prior=0.0, lambdas_weight=0.0, algorithm="viterbi",
                 random_state=None, n_iter=10, tol=1e-2, verbose=False, params="stl",
                 init_params="stl", implementation="log"):
        store_init_arguments(self, locals())
        self.monitor_ = ConvergenceMonitor(tol, n_iter, verbose)

    def _rates_prior(self):
        return None

    def _check_untranslated(self):
        if np.any(np.asarray(self.lambdas_prior) != 0) or \
                np.any(np.asarray(self.lambdas_weight) != 0):
            raise ValueError(
                "PoissonHMM: emkit.compat.hmmlearn does not translate hmmlearn's "
                "lambdas_prior/lambdas_weight (they shrink every state's rate towards "
                "lambdas_prior / lambdas_weight with the weight of all samples, not a "
                "per-state prior); leave them at 0, or use emkit.PoissonHMM(lambdas_prior="
                "emkit.priors.Gamma(shape, rate)).")

    def _after_fit(self):
        if hasattr(self, "lambdas_"):
            self.n_features = int(np.shape(self.lambdas_)[-1])
