"""Mixtures of independent Bernoulli features (latent class analysis of binary data)."""

from __future__ import annotations

from .._validation import check_parameter_array
from ..components.bernoulli import BernoulliComponent, check_binary
from ..priors import Beta
from ._base import store_init_arguments
from ._discrete_mixture import DiscreteMixture, with_feature_parameters

__all__ = ["BernoulliMixture"]


@with_feature_parameters
class BernoulliMixture(DiscreteMixture):
    """Finite mixture of multivariate Bernoulli distributions (binary features).

    Component ``k`` sets feature ``d`` of a sample to 1 with probability
    ``probabilities_[k, d]``, independently across features; EM on the engine
    shared with every emkit model (restarts, partial labels, MAP priors,
    SQUAREM in logit coordinates, Dask input).

    Parameters
    ----------
    {mixture_parameters}
    probabilities_init : array-like of shape (n_components, n_features), optional
        Starting probabilities.
    prior : emkit.priors.Beta or None
        Beta(a, b) prior on every probability (MAP), with ``a, b >= 1``:
        ``a - 1`` prior ones and ``b - 1`` prior zeros per component and
        feature. Beta(2, 2) keeps every probability off 0 and 1.

    Attributes
    ----------
    {mixture_attributes}

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.estimators.bernoulli_mixture import BernoulliMixture
    >>> truth = BernoulliMixture.from_params([0.4, 0.6], probabilities=[[0.9] * 6, [0.1] * 6])
    >>> X, _ = truth.sample(2000, random_state=0)
    >>> model = BernoulliMixture(2, random_state=0).fit(X)
    >>> np.sort(model.probabilities_.mean(axis=1)).round(1)
    array([0.1, 0.9])
    """

    _component_params = ("probabilities",)

    def __init__(self, n_components=1, *, tol=1e-6, max_iter=1000, n_init=10,
                 init_params="k-means++", weights_init=None, probabilities_init=None,
                 random_state=None, prior=None, weight_concentration=None, fixed=(),
                 missing="error", accelerate="none", verbose=0,
                 learning_offset=1.0, learning_decay=0.75, batch_size=5000, online_passes=3):
        store_init_arguments(self, locals())

    def _family(self, n_features, fixed, allow_missing):
        prior = self._conjugate_prior(Beta, ("a", "b"), "0 or 1",
                                      "Use Beta(2, 2) to keep probabilities off 0 and 1")
        return BernoulliComponent(n_features, prior=prior, fixed=fixed,
                                  allow_missing=allow_missing)

    def _check_values(self, X, n_features, allow_missing, hints):
        return check_binary(X, n_features, allow_nan=allow_missing, **hints)

    def _check_init(self, name, value, n_components, n_features):
        array = check_parameter_array(value, (n_components, n_features), name)
        if (array < 0).any() or (array > 1).any():
            raise ValueError(f"{name} must hold probabilities in [0, 1]; got values from "
                             f"{array.min():.6g} to {array.max():.6g}.")
        return array
