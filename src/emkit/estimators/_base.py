"""What every emkit estimator shares on top of the engine's FitResult."""

from __future__ import annotations

import re
import warnings

import numpy as np
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from .._arguments import store_init_arguments  # re-exported: the estimators import it here
from .._engine.dask_data import is_dask_array
from .._engine.init import INIT_METHODS
from .._validation import (InvalidParameterError, check_choice, check_integer, check_random_state,
                           check_real)
from ..models.mixture import sample_mixture
from ..persistence import SaveMixin

__all__ = ["EMFitMixin", "DegenerateFitWarning", "MixtureInferenceMixin", "MixtureSamplingMixin",
           "check_gaussian_mixture_settings", "fill_docstring",
           "parameter_of_rank", "sampling_start", "store_init_arguments"]


def parameter_of_rank(value, name, axes):
    """``value`` as a float64 array with one axis per name in ``axes``.

    The first check of a ``from_params`` argument whose shape gives the
    model's sizes (they are read off it, so :func:`check_parameter_array`
    cannot be told them yet).

    Parameters
    ----------
    value : array-like
    name : str
        The argument's name, first in the message.
    axes : tuple of str
        The names of its axes, quoted in the message.

    Returns
    -------
    ndarray of shape of ``value``, float64

    Raises
    ------
    InvalidParameterError
        When ``value`` has another number of axes.

    Examples
    --------
    >>> parameter_of_rank([[0, 1]], "centers", ("n_clusters", "n_features")).shape
    (1, 2)
    >>> parameter_of_rank([0, 1], "centers", ("n_clusters", "n_features"))
    Traceback (most recent call last):
    ...
    emkit._validation.InvalidParameterError: centers must be 2-D, of shape (n_clusters, \
n_features); got shape (2,).
    """
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != len(axes):
        raise InvalidParameterError(
            f"{name} must be {len(axes)}-D, of shape ({', '.join(axes)}); got shape "
            f"{array.shape}.")
    return array


def _positive_n_samples(n_samples):
    return check_integer(n_samples, "n_samples", minimum=1)


def sampling_start(estimator, n_samples, random_state, *, check_n_samples=None):
    """What every ``sample(n_samples, random_state)`` checks first.

    Parameters
    ----------
    estimator : fitted estimator
    n_samples : int
        At least 1.
    random_state : int, RandomState or None
        None: the estimator's own ``random_state``.
    check_n_samples : callable, optional
        Validates ``n_samples`` and returns it (an estimator that keeps a
        peer library's wording); default: an integer >= 1, by
        :func:`~emkit._validation.check_integer`.

    Returns
    -------
    n_samples : int
    rng : numpy RandomState

    Raises
    ------
    NotFittedError
        Before ``fit``.
    """
    check_is_fitted(estimator)
    n_samples = (check_n_samples or _positive_n_samples)(n_samples)
    rng = check_random_state(estimator.random_state if random_state is None else random_state)
    return n_samples, rng


def check_gaussian_mixture_settings(estimator, covariance_types, tol_hint):
    """The hyper-parameters GaussianMixture and BayesianGaussianMixture share.

    ``n_components``, ``covariance_type`` (one of ``covariance_types``),
    ``tol`` (``tol_hint`` ends its message), ``reg_covar``, ``max_iter``,
    ``n_init`` and ``init_params`` of ``estimator``, in that order, each
    through the shared validators (a named error on the first bad one).
    """
    check_integer(estimator.n_components, "n_components", minimum=1)
    check_choice(estimator.covariance_type, "covariance_type", covariance_types)
    check_real(estimator.tol, "tol", minimum=0.0, hint=tol_hint)
    check_real(estimator.reg_covar, "reg_covar", minimum=0.0,
               hint="A typical value is reg_covar=1e-6.")
    check_integer(estimator.max_iter, "max_iter", minimum=0)
    check_integer(estimator.n_init, "n_init", minimum=1)
    check_choice(estimator.init_params, "init_params", INIT_METHODS)


def fill_docstring(**blocks):
    r"""Class decorator: documentation written once, placed in several docstrings.

    Every line of the class docstring that holds only ``{name}`` (indented
    like the section around it) is replaced by ``blocks[name]``: text with
    the same indentation, ending in a newline (or a function of the class
    returning it: text made from class attributes, such as the parameter
    names a class accepts, cannot drift from them). Other braces are left alone,
    so the docstring needs no escaping. A block without its placeholder
    raises ``KeyError`` when the class is defined, so a misspelt placeholder
    cannot drop documentation silently (decorators may be stacked, each
    filling its own placeholders).

    Parameters
    ----------
    **blocks : str or callable
        The text of each placeholder, by name, filled in this order; a
        callable is called with the class, whose ``__doc__`` then has the
        blocks before it filled.

    Returns
    -------
    callable
        The decorator; it returns the class with its ``__doc__`` filled
        (unchanged under ``python -OO``, which strips docstrings).

    Examples
    --------
    >>> @fill_docstring(shared="    tol : float\n        Convergence threshold.\n")
    ... class Model:
    ...     "A model.\n\n    Parameters\n    ----------\n    {shared}\n    verbose : int\n"
    >>> print(Model.__doc__)
    A model.
    <BLANKLINE>
        Parameters
        ----------
        tol : float
            Convergence threshold.
        verbose : int
    <BLANKLINE>
    """
    def decorate(cls):
        doc = cls.__doc__
        if doc is None:
            return cls
        for name, text in blocks.items():
            placeholder = re.compile(r"^( *)\{" + name + r"\}\n", re.MULTILINE)
            if not placeholder.search(doc):
                raise KeyError(f"{cls.__name__}'s docstring has no line {{{name}}}.")
            if callable(text):
                cls.__doc__ = doc  # with the blocks before this one filled
                text = text(cls)
            doc = placeholder.sub(lambda match: text, doc)
        cls.__doc__ = doc
        return cls

    return decorate


class MixtureSamplingMixin:
    """``sample`` of a fitted mixture: draws from ``weights_`` and the
    component family ``_sampling_component()`` at ``_fitted_params()``.

    ``_check_n_samples`` (None: an integer >= 1) is the ``check_n_samples``
    of :func:`sampling_start`.
    """

    _check_n_samples = None

    def sample(self, n_samples=1, random_state=None):
        """Draw samples from the fitted mixture.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState or None
            Defaults to the estimator's ``random_state``.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        labels : ndarray of shape (n_samples,)
            The component of every sample, sorted (as scikit-learn does).
        """
        n_samples, rng = sampling_start(self, n_samples, random_state,
                                        check_n_samples=self._check_n_samples)
        X, labels = sample_mixture(self.weights_, self._sampling_component(),
                                   self._fitted_params(), n_samples, rng)
        return X.astype(np.float64), labels


class MixtureInferenceMixin(MixtureSamplingMixin):
    """``score_samples``, ``predict_proba``, ``predict`` and ``sample`` of a fitted mixture.

    Written once from two hooks: ``_joint_log_prob(X)``, the per-component
    log-joint of in-memory ``X`` (``log pi_k + log p(x | k)``, or its
    variational expectation), shape (n_samples, n_components), after
    validating ``X``; and ``_dask_rows(method, X, n_columns, dtype)``, which
    maps ``method`` over the blocks of a dask ``X``. ``weights_`` gives the
    number of components; ``sample`` is :class:`MixtureSamplingMixin`'s.
    """

    def score_samples(self, X):
        """``log sum_k exp(joint_k)`` of every sample, shape (n_samples,).

        The log-density (for a variational mixture, scikit-learn's
        ``score_samples``: the sum over its expectations). A dask array gives
        a dask array (computed where its blocks live).
        """
        if is_dask_array(X):
            return self._dask_rows(self.score_samples, X)
        return logsumexp(self._joint_log_prob(X), axis=1)

    def predict_proba(self, X):
        """Posterior probability of every component, shape (n_samples, n_components).

        A dask array gives a dask array.
        """
        if is_dask_array(X):
            return self._dask_rows(self.predict_proba, X, n_columns=self.weights_.shape[0])
        joint = self._joint_log_prob(X)
        return np.exp(joint - logsumexp(joint, axis=1, keepdims=True))

    def predict(self, X):
        """Most probable component of every sample, shape (n_samples,) (a dask array for one)."""
        if is_dask_array(X):
            return self._dask_rows(self.predict, X, dtype=np.intp)
        return self._joint_log_prob(X).argmax(axis=1)


class DegenerateFitWarning(UserWarning):
    """A component collapsed onto a degenerate set and had to be re-seeded or dropped."""


class EMFitMixin(SaveMixin):
    """Stores the engine's result as scikit-learn style fitted attributes.

    Sets ``converged_``, ``n_iter_`` (M-steps of the kept run), ``history_``
    (the objective of every iterate the kept run kept, total over samples:
    one per M-step for plain EM, two per cycle for SQUAREM), ``lower_bound_`` (the last
    objective per sample, scikit-learn's convention), ``lower_bounds_``,
    ``n_repairs_`` (collapsed components re-seeded during the kept run) and
    ``repairs_`` (the indices into ``history_`` where a re-seed happened:
    ``history_`` never decreases except at those), ``n_e_steps_`` (E-steps
    evaluated) and ``history_e_steps_`` (E-steps evaluated when each entry of
    ``history_`` was recorded: the work behind each objective).
    """

    def _store_fit_result(self, result, total_weight):
        self.converged_ = bool(result.converged)
        self.n_iter_ = int(result.n_iter)
        self.n_e_steps_ = int(result.n_e_steps)
        self.history_e_steps_ = np.asarray(result.history_e_steps, dtype=np.intp)
        self.history_ = np.asarray(result.history, dtype=np.float64)
        self.lower_bounds_ = self.history_ / total_weight
        self.lower_bound_ = float(self.history_[-1] / total_weight)
        self.n_repairs_ = int(result.n_repairs)
        self.repairs_ = np.asarray(result.repairs, dtype=np.intp)
        if result.decreases:
            iteration, drop = result.decreases[0]
            warnings.warn(
                f"The objective decreased by {drop:.3g} at iteration {iteration}; EM should "
                f"never do that. Please report it with the data that caused it.",
                RuntimeWarning,
                stacklevel=3,
            )
        if result.degenerate:
            warnings.warn(
                "Every run kept collapsing a component onto a degenerate set of points "
                "(a singular covariance); the returned fit still contains such a component. "
                "Try fewer components, a larger reg_covar or a prior (prior='default').",
                DegenerateFitWarning,
                stacklevel=3,
            )
        if not self.converged_ and not result.degenerate:
            warnings.warn(
                f"EM did not converge in max_iter={self.max_iter} iterations; increase "
                f"max_iter or tol, or check the data.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _online_step(self, state, model, batch):
        """One :class:`StepwiseEM` step of partial_fit's running ``state``
        (``stepwise``, ``rng``, ``params``) on ``batch``: keeps the state and
        stores the online attributes; returns the new parameters."""
        state.params, objective = state.stepwise.step(model, state.params, batch,
                                                      rng=state.rng)
        self._online = state
        self._store_online_step(state.stepwise, objective, batch.total_weight)
        return state.params

    def _store_online_step(self, stepwise, batch_objective, batch_weight):
        """partial_fit's attributes after one step of a :class:`StepwiseEM`.

        ``n_batch_iter_`` (steps taken), ``n_samples_seen_`` (weight streamed),
        ``n_repairs_`` and ``last_batch_score_`` (the batch's mean
        log-likelihood at the parameters before its step). An online fit is
        never declared converged, and an earlier fit's ``history_`` and
        ``lower_bound_`` no longer describe the parameters: they are removed.
        """
        self.n_batch_iter_ = int(stepwise.n_steps)
        self.n_samples_seen_ = float(stepwise.weight_seen)
        self.n_repairs_ = int(stepwise.n_repairs)
        self.last_batch_score_ = float(batch_objective / batch_weight)
        self.converged_ = False
        for name in ("history_", "lower_bound_", "lower_bounds_", "history_e_steps_"):
            self.__dict__.pop(name, None)
