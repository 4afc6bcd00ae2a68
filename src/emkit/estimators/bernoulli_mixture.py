"""Mixtures of independent Bernoulli features (latent class analysis of binary data)."""

from __future__ import annotations

from .._validation import check_parameter_array
from ..components.bernoulli import BernoulliComponent, check_binary
from ..priors import Beta
from ._component_mixture import with_online_parameters
from ._discrete_mixture import DiscreteMixture

__all__ = ["BernoulliMixture"]


@with_online_parameters
class BernoulliMixture(DiscreteMixture):
    """Finite mixture of multivariate Bernoulli distributions (binary features).

    Component ``k`` sets feature ``d`` of a sample to 1 with probability
    ``probabilities_[k, d]``, independently across features; EM on the engine
    shared with every emkit model (restarts, partial labels, MAP priors,
    SQUAREM in logit coordinates, Dask input).

    Parameters
    ----------
    n_components : int, default=1
    tol : float, default=1e-6
        Convergence threshold on the per-sample objective.
    max_iter : int, default=1000
    n_init : int, default=10
        Restarts; the best run is kept.
    init_params : {"k-means++", "kmeans", "random", "random_from_data"}, default="k-means++"
    weights_init : array-like of shape (n_components,), optional
    probabilities_init : array-like of shape (n_components, n_features), optional
        Both given: one run from them.
    random_state : int, RandomState or None
    prior : emkit.priors.Beta or None
        Beta(a, b) prior on every probability (MAP), with ``a, b >= 1``:
        ``a - 1`` prior ones and ``b - 1`` prior zeros per component and
        feature. Beta(2, 2) keeps every probability off 0 and 1.
    weight_concentration : float or None
        Dirichlet prior on the weights (MAP).
    fixed : tuple of {"weights", "probabilities"}, default=()
        Parameters held at their starting values.
    missing : {"error", "marginalize"}, default="error"
        What a NaN entry means: "error" rejects it; "marginalize" treats it as
        missing at random and integrates it out exactly (it drops out of its
        sample's likelihood). Without NaN both give the same fit.
    accelerate : {"none", "squarem"}, default="none"
    verbose : int, default=0

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    probabilities_ : ndarray of shape (n_components, n_features)
    converged_, n_iter_, n_e_steps_, history_, lower_bound_ : see EMFitMixin

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
        self.n_components = n_components
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.probabilities_init = probabilities_init
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

    def _family(self, n_features, fixed, allow_missing):
        prior = self.prior
        if prior is not None and (not isinstance(prior, Beta) or prior.a < 1 or prior.b < 1):
            raise ValueError(f"prior must be an emkit.priors.Beta with a >= 1 and b >= 1 (below "
                             f"1 its density is unbounded at 0 or 1, so MAP has no maximum); "
                             f"got {prior!r}. Use Beta(2, 2) to keep probabilities off 0 and 1, "
                             f"or None for maximum likelihood.")
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
