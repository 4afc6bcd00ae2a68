"""What the mixtures of independent discrete features share on top of
:class:`~emkit.estimators._component_mixture.ComponentMixture`: the
``missing=`` option (NaN entries marginalised exactly, see
:mod:`emkit.components.observed`) and ``impute``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax
from sklearn.utils.validation import check_is_fitted

from .._validation import MISSING_OPTIONS, check_choice
from ..components.observed import initial_fill
from ._base import fill_docstring
from ._component_mixture import MIXTURE_ATTRIBUTES, ComponentMixture, mixture_parameters_doc

__all__ = ["DiscreteMixture", "with_feature_parameters"]


def feature_attributes_doc(cls):
    """The ``{mixture_attributes}`` entries of a mixture whose every
    component parameter holds one value per component and feature (the
    Bernoulli probabilities, the Poisson rates): :data:`MIXTURE_ATTRIBUTES`,
    then one entry per name of ``cls._component_params``."""
    return MIXTURE_ATTRIBUTES + "".join(
        f"    {name}_ : ndarray of shape (n_components, n_features)\n"
        for name in cls._component_params)


# with_mixture_parameters, with the component parameters' fitted attributes
# written from _component_params (see feature_attributes_doc).
with_feature_parameters = fill_docstring(mixture_parameters=mixture_parameters_doc,
                                         mixture_attributes=feature_attributes_doc)


class DiscreteMixture(ComponentMixture):
    """Base of the Bernoulli, categorical and Poisson mixtures.

    Subclasses implement ``_family(n_features, fixed, allow_missing)`` (the
    configured component family) and ``_check_values(X, n_features,
    allow_missing, hints)`` (validated data; ``hints`` are the keywords
    ``nan_hint`` and ``owner`` for the validator's messages) instead of the base's
    ``_make_component`` and ``_validate_data_values``; NaN entries are
    accepted wherever ``missing="marginalize"`` (fit, predict, score, ...)
    and always by :meth:`impute`.
    """

    def _family(self, n_features, fixed, allow_missing):  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_values(self, X, n_features, allow_missing, hints):  # pragma: no cover
        raise NotImplementedError

    def _conjugate_prior(self, prior_class, shapes, boundary, advice):
        """``prior``, checked: None (maximum likelihood) or a ``prior_class``
        (from :mod:`emkit.priors`) whose ``shapes`` parameters are all >= 1.
        Below 1 its density is unbounded at ``boundary``, so MAP has no
        maximum; the error names ``advice``, a prior that works."""
        prior = self.prior
        if prior is None or (isinstance(prior, prior_class)
                             and all(getattr(prior, name) >= 1 for name in shapes)):
            return prior
        bounds = " and ".join(f"{name} >= 1" for name in shapes)
        raise ValueError(f"prior must be an emkit.priors.{prior_class.__name__} with {bounds} "
                         f"(below 1 its density is unbounded at {boundary}, so MAP has no "
                         f"maximum); got {prior!r}. {advice}, or None for maximum likelihood.")

    @property
    def _allow_missing(self):
        return check_choice(self.missing, "missing", MISSING_OPTIONS) == "marginalize"

    def _make_component(self, n_features, fixed):
        return self._family(n_features, fixed, self._allow_missing)

    def _validate_data_values(self, X, n_features, allow_missing=None):
        if allow_missing is None:
            allow_missing = self._allow_missing
        nan_hint = (f"{type(self).__name__} treats NaN entries as missing values only with "
                    f"missing='marginalize'; pass that, or drop or impute them.")
        return self._check_values(X, n_features, allow_missing,
                                  {"nan_hint": nan_hint, "owner": type(self).__name__})

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Non-negative integer data (scikit-learn's checks then pass rounded,
        # shifted copies of their data); NaN only when it means "missing".
        tags.input_tags.positive_only = True
        tags.input_tags.categorical = True
        tags.input_tags.allow_nan = self.missing == "marginalize"
        return tags

    def _initial_points(self, X):
        # k-means++ measures distances, which NaN would poison: the starts see
        # column means in the gaps (EM itself marginalises them exactly).
        return initial_fill(X) if self._allow_missing else X

    def impute(self, X):
        """``X`` with its NaN entries replaced by their conditional expectation.

        Each missing entry becomes ``E[x_nd | observed entries of x_n]``: the
        components' means weighted by the sample's posterior given what it
        observed (for categorical levels, the most probable level instead).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            May contain NaN whatever ``missing`` is.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features), float64
            A new array; observed entries are unchanged.
        """
        check_is_fitted(self)
        X = np.array(self._validate_data_values(X, self.n_features_in_, allow_missing=True),
                     dtype=np.float64, copy=True)
        missing = np.isnan(X)
        rows = np.flatnonzero(missing.any(axis=1))
        if rows.size:
            component = self._family(self.n_features_in_, frozenset(), True)
            params = self._fitted_params()
            with np.errstate(divide="ignore"):
                joint = (component.log_prob(component.plan(params), component.features(X[rows]))
                         + np.log(params["weights"]))
            filled = component.impute_values(params, softmax(joint, axis=1))
            X[rows] = np.where(missing[rows], filled, X[rows])
        return X
