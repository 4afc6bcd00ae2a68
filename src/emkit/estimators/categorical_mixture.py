"""Mixtures of independent categorical features (latent class analysis)."""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import check_integer, check_real
from ..components.categorical_product import CategoricalProductComponent, check_levels
from ..components.observed import initial_fill
from ._base import store_init_arguments
from ._component_mixture import with_mixture_parameters
from ._discrete_mixture import DiscreteMixture

__all__ = ["CategoricalMixture"]


@with_mixture_parameters
class CategoricalMixture(DiscreteMixture):
    """Finite mixture of products of categorical distributions (latent class model).

    Every sample has ``n_features`` categorical features, feature ``d`` taking
    one of ``n_levels_[d]`` levels ``0, 1, ...``; component ``k`` draws
    feature ``d`` at level ``l`` with probability ``probabilities_[k, d, l]``,
    independently across features. EM on the engine shared with every emkit
    model (restarts, partial labels, MAP priors, SQUAREM on log-probabilities,
    Dask input). The starts (``init_params``) measure distances on the
    one-hot encoding of the levels.

    Parameters
    ----------
    {mixture_parameters}
    n_levels : int, sequence of int of shape (n_features,), or None, default=None
        Levels of every feature (one int: the same for all). None counts them
        from the data at fit (the largest level + 1); pass it when a level may
        be absent from the training data, and for a dask X.
    probabilities_init : array-like of shape (n_components, n_features, max_levels) or list
        One (n_components, n_levels[d]) array per feature, or the padded
        array (zeros beyond a feature's levels).
    prior : float or None
        Concentration (>= 1) of a symmetric Dirichlet prior on every
        component's level probabilities of every feature (MAP): ``prior - 1``
        pseudo-counts per level. 2 keeps every probability off 0.

    Attributes
    ----------
    {mixture_attributes}
    probabilities_ : ndarray of shape (n_components, n_features, max_levels)
        Zero beyond a feature's levels.
    n_levels_ : ndarray of int of shape (n_features,)

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.estimators.categorical_mixture import CategoricalMixture
    >>> truth = CategoricalMixture.from_params(
    ...     [0.5, 0.5], probabilities=[np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]]),
    ...                                np.array([[0.9, 0.1], [0.2, 0.8]])])
    >>> X, _ = truth.sample(3000, random_state=0)
    >>> model = CategoricalMixture(2, random_state=0).fit(X)
    >>> model.n_levels_.tolist(), model.probabilities_.shape
    ([3, 2], (2, 2, 3))
    """

    _component_params = ("probabilities",)

    def __init__(self, n_components=1, *, n_levels=None, tol=1e-6, max_iter=1000, n_init=10,
                 init_params="k-means++", weights_init=None, probabilities_init=None,
                 random_state=None, prior=None, weight_concentration=None, fixed=(),
                 missing="error", accelerate="none", verbose=0,
                 learning_offset=1.0, learning_decay=0.75, batch_size=5000, online_passes=3):
        store_init_arguments(self, locals())

    # -- levels ---------------------------------------------------------------
    def _given_levels(self, n_features):
        """``n_levels`` as an int array of shape (n_features,), or None."""
        if self.n_levels is None:
            return None
        if isinstance(self.n_levels, numbers.Integral) and not isinstance(self.n_levels, bool):
            return np.full(n_features, check_integer(self.n_levels, "n_levels", minimum=1),
                           dtype=np.intp)
        try:
            levels = [check_integer(value, "n_levels", minimum=1) for value in self.n_levels]
        except TypeError:
            raise ValueError(f"n_levels must be an int, a sequence of ints (one per feature) "
                             f"or None; got {self.n_levels!r}.") from None
        if len(levels) != n_features:
            raise ValueError(f"n_levels has {len(levels)} entries but X has {n_features} "
                             f"features; pass one number of levels per feature.")
        return np.asarray(levels, dtype=np.intp)

    def _check_values(self, X, n_features, allow_missing, hints):
        reset = n_features is None
        X = check_levels(X, None if reset else self.n_levels_, n_features=n_features,
                         allow_nan=allow_missing, **hints)
        if reset:
            levels = self._given_levels(X.shape[1])
            if levels is None:
                with np.errstate(invalid="ignore"):
                    seen = np.where(np.isnan(X), -1.0, X).max(axis=0)
                levels = np.maximum(seen + 1, 1).astype(np.intp)
            else:
                check_levels(X, levels, allow_nan=True)
            self.n_levels_ = levels
        return X

    def _validate_dask(self, X, *, reset):
        X = super()._validate_dask(X, reset=reset)
        if reset:
            levels = self._given_levels(X.shape[1])
            if levels is None:
                raise ValueError("CategoricalMixture needs n_levels for a dask X (its levels "
                                 "are checked block by block, not counted); pass n_levels=.")
            self.n_levels_ = levels
        return X

    # -- family ---------------------------------------------------------------
    def _family(self, n_features, fixed, allow_missing):
        prior = self.prior
        if prior is not None:
            prior = check_real(prior, "prior", minimum=1.0,
                               hint="(a symmetric Dirichlet concentration; below 1 its "
                                    "density is unbounded at 0, so MAP has no maximum)")
        return CategoricalProductComponent(self.n_levels_, concentration=prior, fixed=fixed,
                                           allow_missing=allow_missing)

    def _initial_points(self, X):
        # k-means++ on the one-hot levels (codes are not distances); a missing
        # level becomes its feature's observed frequencies.
        blocks = []
        for d, S in enumerate(self.n_levels_):
            column = X[:, d]
            block = (column[:, None] == np.arange(S)[None, :]).astype(np.float64)
            block[np.isnan(column)] = np.nan
            blocks.append(block)
        return initial_fill(np.hstack(blocks))

    def _check_init(self, name, value, n_components, n_features):
        levels = getattr(self, "n_levels_", None)
        if levels is None or len(levels) != n_features:
            levels = self._given_levels(n_features)
        padded = _padded(value, name, n_components, n_features, levels)
        return padded

    @classmethod
    def from_params(cls, weights, probabilities=None, **params):
        """A ready-to-use model from known parameters (no fitting).

        Parameters
        ----------
        weights : array-like of shape (n_components,)
        probabilities : list of D arrays of shape (n_components, n_levels[d]), or
            array-like of shape (n_components, n_features, max_levels)
            (zeros beyond a feature's levels; then pass ``n_levels``).
        **params : constructor keywords.

        Returns
        -------
        CategoricalMixture
            Fitted: ``predict``, ``score_samples`` and ``sample`` work.
        """
        if probabilities is None:
            raise ValueError("from_params needs ['probabilities'] as well as weights.")
        if isinstance(probabilities, (list, tuple)) and params.get("n_levels") is None:
            params["n_levels"] = [np.shape(block)[-1] for block in probabilities]
        padded = _as_padded(probabilities)
        model = super().from_params(weights, probabilities=padded, **params)
        model.n_levels_ = model._given_levels(padded.shape[1])
        if model.n_levels_ is None:
            model.n_levels_ = np.full(padded.shape[1], padded.shape[2], dtype=np.intp)
        return model


def _as_padded(value):
    """A list of per-feature (K, S_d) arrays as one (K, D, max S_d) array."""
    if isinstance(value, (list, tuple)) and value and np.ndim(value[0]) == 2:
        blocks = [np.asarray(block, dtype=np.float64) for block in value]
        if len({block.shape[0] for block in blocks}) != 1:
            raise ValueError("probabilities: every feature's array must have one row per "
                             "component (shape (n_components, n_levels[d])).")
        padded = np.zeros((blocks[0].shape[0], len(blocks), max(b.shape[1] for b in blocks)))
        for d, block in enumerate(blocks):
            padded[:, d, :block.shape[1]] = block
        return padded
    return value


def _padded(value, name, n_components, n_features, levels):
    """Validated level probabilities, padded to (K, D, max levels)."""
    try:
        array = np.array(_as_padded(value), dtype=np.float64, copy=True)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a list of (n_components, n_levels[d]) arrays or an "
                         f"array of shape (n_components, n_features, max_levels); "
                         f"{error}.") from None
    if levels is None:
        levels = np.full(n_features, array.shape[-1] if array.ndim == 3 else 0, dtype=np.intp)
    width = int(np.max(levels))
    if array.ndim == 3 and array.shape[:2] == (n_components, n_features) \
            and array.shape[2] > width:
        if np.any(array[:, :, width:] != 0):
            raise ValueError(f"{name} has probability beyond the largest number of levels "
                             f"({width}).")
        array = array[:, :, :width]
    if array.shape != (n_components, n_features, width):
        raise ValueError(f"{name} must have shape (n_components, n_features, max_levels) = "
                         f"{(n_components, n_features, width)}; got {array.shape}.")
    if not np.isfinite(array).all() or (array < 0).any() or (array > 1).any():
        raise ValueError(f"{name} must hold probabilities in [0, 1].")
    beyond = np.arange(width)[None, :] >= levels[:, None]
    if np.any(array[:, beyond] != 0):
        raise ValueError(f"{name} gives probability to a level beyond its feature's n_levels "
                         f"{levels.tolist()}; those entries must be 0.")
    if not np.allclose(array.sum(axis=2), 1.0, atol=1e-6):
        raise ValueError(f"{name}: every component's probabilities of every feature must sum "
                         f"to 1; divide each row by its sum.")
    return array
