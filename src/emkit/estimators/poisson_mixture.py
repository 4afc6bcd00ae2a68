"""Mixtures of independent Poisson counts on emkit's EM engine."""

from __future__ import annotations

from .._validation import check_parameter_array
from ..components.poisson import PoissonComponent, check_counts
from ..priors import Gamma
from ._component_mixture import with_online_parameters
from ._discrete_mixture import DiscreteMixture

__all__ = ["PoissonMixture"]


@with_online_parameters
class PoissonMixture(DiscreteMixture):
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
        Gamma(shape, rate) prior on every rate (MAP), with ``shape >= 1``:
        ``shape - 1`` prior events in ``rate`` units of prior exposure.
    weight_concentration : float or None
        Dirichlet prior on the weights (MAP).
    fixed : tuple of {"weights", "rates"}, default=()
        Parameters held at their starting values.
    missing : {"error", "marginalize"}, default="error"
        What a NaN entry means: "error" rejects it; "marginalize" treats it as
        a count missing at random and integrates it out exactly (it drops out
        of its sample's likelihood). Without NaN both give the same fit.
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
    ...                        tol=1e-14, accelerate="squarem").fit(deaths, sample_weight=days)
    >>> model.weights_.round(4), model.rates_.ravel().round(4)
    (array([0.3599, 0.6401]), array([1.2561, 2.6634]))
    """

    def __init__(self, n_components=1, *, tol=1e-6, max_iter=1000, n_init=10,
                 init_params="k-means++", weights_init=None, rates_init=None,
                 random_state=None, prior=None, weight_concentration=None, fixed=(),
                 missing="error", accelerate="none", verbose=0,
                 learning_offset=1.0, learning_decay=0.75, batch_size=5000, online_passes=3):
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
        self.missing = missing
        self.accelerate = accelerate
        self.verbose = verbose
        self.learning_offset = learning_offset
        self.learning_decay = learning_decay
        self.batch_size = batch_size
        self.online_passes = online_passes

    _component_params = ("rates",)

    def _family(self, n_features, fixed, allow_missing):
        prior = self.prior
        if prior is not None and (not isinstance(prior, Gamma) or prior.shape < 1):
            raise ValueError(f"prior must be an emkit.priors.Gamma with shape >= 1 (below 1 "
                             f"its density is unbounded at 0, so MAP has no maximum); got "
                             f"{prior!r}. Use e.g. Gamma(2, 1), or None for maximum "
                             f"likelihood.")
        return PoissonComponent(n_features, prior=prior, fixed=fixed,
                                allow_missing=allow_missing, start_off_zero=True)

    def _check_values(self, X, n_features, allow_missing, hints):
        return check_counts(X, n_features, allow_nan=allow_missing, **hints)

    def _check_init(self, name, value, n_components, n_features):
        return check_parameter_array(value, (n_components, n_features), name, positive=True)
