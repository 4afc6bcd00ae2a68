"""Mixtures of independent Poisson counts on emkit's EM engine."""

from __future__ import annotations

from .._validation import check_parameter_array
from ..components.poisson import PoissonComponent, check_counts
from ..priors import Gamma
from ._base import store_init_arguments
from ._discrete_mixture import DiscreteMixture, with_feature_parameters

__all__ = ["PoissonMixture"]


@with_feature_parameters
class PoissonMixture(DiscreteMixture):
    """Finite mixture of Poisson distributions (independent counts per feature).

    Component ``k`` draws every feature ``d`` of a sample from
    Poisson(``rates_[k, d]``); EM on the engine shared with every emkit model
    (restarts, monitor, SQUAREM).

    Parameters
    ----------
    {mixture_parameters}
    rates_init : array-like of shape (n_components, n_features), optional
        Starting rates (positive).
    prior : emkit.priors.Gamma or None
        Gamma(shape, rate) prior on every rate (MAP), with ``shape >= 1``:
        ``shape - 1`` prior events in ``rate`` units of prior exposure.

    Attributes
    ----------
    {mixture_attributes}

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
        store_init_arguments(self, locals())

    _component_params = ("rates",)

    def _family(self, n_features, fixed, allow_missing):
        prior = self._conjugate_prior(Gamma, ("shape",), "0", "Use e.g. Gamma(2, 1)")
        return PoissonComponent(n_features, prior=prior, fixed=fixed,
                                allow_missing=allow_missing, start_off_zero=True)

    def _check_values(self, X, n_features, allow_missing, hints):
        return check_counts(X, n_features, allow_nan=allow_missing, **hints)

    def _check_init(self, name, value, n_components, n_features):
        return check_parameter_array(value, (n_components, n_features), name, positive=True)
