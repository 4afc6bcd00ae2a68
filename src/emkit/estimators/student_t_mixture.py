"""Mixtures of multivariate Student-t distributions (robust clustering) on emkit's engine."""

from __future__ import annotations

import numpy as np

from .._engine.dask_data import DaskSampleData, is_dask_array
from .._engine.data import SampleData
from .._validation import (
    check_covariance_parameter,
    check_covariances,
    check_gaussian_scale,
    check_parameter_array,
    check_real,
    check_sample_weight,
    validate_samples,
)
from ..components._structured import (
    is_structure,
    layout_precision_cholesky,
    structure_layout,
    structure_name,
)
from ..components.gaussian_ops import COVARIANCE_TYPES, feature_scales, precision_cholesky
from ..components.student_t import DEFAULT_DOF, MAX_DOF, MIN_DOF, StudentTComponent
from ._base import store_init_arguments
from ._component_mixture import ComponentMixture, with_mixture_parameters

__all__ = ["StudentTMixture"]


class _DataSummary:
    """What the component needs from the data being fitted: its weighted
    centre (numerical soundness of the feature kernels), covariance (the
    broad scatter of a re-seeded component), feature scales (``reg_covar``
    and the collapse test). Re-seeds draw their rows from the data object
    the engine holds."""

    def __init__(self, center, covariance, scales, dtype):
        self.center, self.covariance, self.scales = center, covariance, scales
        self.dtype = dtype

    @classmethod
    def of_array(cls, X, sample_weight):
        data = SampleData(X, sample_weight)
        centered = np.asarray(X, dtype=np.float64) - data.center
        weighted = centered if sample_weight is None else centered * sample_weight[:, None]
        scales = feature_scales(X, sample_weight)
        check_gaussian_scale(X, scales)
        return cls(data.center, weighted.T @ centered / data.total_weight, scales, X.dtype)

    @classmethod
    def of_dask(cls, data):
        """From a measured :class:`DaskSampleData` (scales from its row sample)."""
        scales = feature_scales(data.sample, data.sample_weight_sample)
        check_gaussian_scale(data.max_abs[None, :], scales)
        return cls(data.center, data.covariance, scales, data.dtype)


@with_mixture_parameters
class StudentTMixture(ComponentMixture):
    """Finite mixture of multivariate Student-t distributions, fitted by ECM.

    Heavy-tailed components make clustering robust: a sample far from a
    component's location gets a small latent scale weight
    ``u = (nu + D) / (nu + delta)`` and pulls little on its location and
    scatter, so outliers do not inflate the clusters as they do a Gaussian
    mixture's (Peel & McLachlan 2000). The degrees of freedom ``nu_k`` are
    learned per component, or held (``fixed=("dofs",)``). The location and
    scatter M-step is the Gaussian one on u-weighted statistics, so every
    covariance type of :class:`~emkit.GaussianMixture` is available; the dof
    step is ECM's (see :mod:`emkit.components.student_t`), so the
    log-likelihood never decreases.

    Parameters
    ----------
    {mixture_parameters}
    covariance_type : str, default="full"
        Structure of the scatter matrices ``Sigma_k``: "full", "tied",
        "diag", "spherical", or one of mclust's 14 names (EII ... VVV, E/V for
        one feature), as for :class:`~emkit.GaussianMixture`.
    reg_covar : float, default=1e-6
        Penalty on every scatter matrix relative to the features' local
        variances (see :class:`~emkit.components.gaussian.GaussianComponent`).
    means_init : array-like of shape (n_components, n_features), optional
    covariances_init : array-like, optional
        Scatter matrices in the layout of ``covariance_type`` (full (K, D, D),
        tied (D, D), diag (K, D), spherical (K,); (K, D, D) for mclust names).
    dof_init : float or array-like of shape (n_components,), optional
        Starting (or, with ``fixed=("dofs",)``, held) degrees of freedom, in
        ``[1e-2, 1e4]``; default 4.
    accelerate : {"none", "squarem"}, default="squarem"
        SQUAREM in means, Cholesky factors (log-diagonal) and log-dofs (for
        mclust structures in means and log-dofs, the scatter matrices taken
        from the point extrapolated from). The default differs from the other
        mixtures' on purpose: ECM's dof step converges sublinearly as a dof
        grows (a near-Gaussian cluster's dof creeps up by a few per
        iteration), so plain ECM often needs thousands of iterations where
        SQUAREM needs under a hundred (Old Faithful, two components: 1000
        iterations unconverged vs 78). SQUAREM never ends below plain ECM's
        objective; "none" gives the plain ECM path.

    Attributes
    ----------
    means_ : ndarray of shape (n_components, n_features)
        Locations.
    covariances_ : ndarray
        Scatter matrices ``Sigma_k`` (the covariance is ``nu/(nu-2) Sigma_k``
        for ``nu > 2``), in the layout of ``covariance_type``.
    precisions_cholesky_ : ndarray
        Cholesky factors of their inverses (GaussianMixture's layout).
    dofs_ : ndarray of shape (n_components,)
    {mixture_attributes}

    Notes
    -----
    MAP priors on location and scatter are not offered: given the scale
    weights, the conditional M-step weighs the location by ``sum r u`` and
    the scatter's log-determinant by ``sum r``, while the Gaussian
    (normal-inverse-Wishart) MAP M-step ties both to one count, so it does
    not maximise the t's conditional posterior. The ``reg_covar`` penalty
    (a prior on the scatter alone) and the Dirichlet weight prior are exact.

    Examples
    --------
    >>> import numpy as np
    >>> from emkit import StudentTMixture
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.standard_t(3, size=(300, 2)), rng.standard_t(3, size=(300, 2)) + 8])
    >>> model = StudentTMixture(2, random_state=0).fit(X)
    >>> np.sort(model.means_[:, 0]).round(0)
    array([0., 8.])
    """

    def __init__(self, n_components=1, *, covariance_type="full", reg_covar=1e-6, tol=1e-6,
                 max_iter=1000, n_init=10, init_params="k-means++", weights_init=None,
                 means_init=None, covariances_init=None, dof_init=None, random_state=None,
                 weight_concentration=None, fixed=(), accelerate="squarem", verbose=0,
                 learning_offset=1.0, learning_decay=0.75, batch_size=5000, online_passes=3):
        store_init_arguments(self, locals())

    _component_params = ("means", "covariances", "dofs")

    @property
    def dofs_init(self):
        """``dof_init`` under the name ComponentMixture looks up for ``dofs``."""
        return self.dof_init

    # -- fit ------------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None, *, strategy="batch", labels=None):
        """Estimate the mixture by ECM (see ComponentMixture.fit for the arguments).

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
        strategy : {"batch", "online"}, default="batch"
            "online": stepwise ECM over mini-batches, then batch ECM (see
            :meth:`partial_fit`); in-memory X.
        labels : array-like of int of shape (n_samples,), optional
            Partial labels (-1 for unlabelled samples).

        Returns
        -------
        self
        """
        self._check_covariance_type()
        check_real(self.reg_covar, "reg_covar", minimum=0.0)
        if is_dask_array(X):
            # One measuring pass on the workers (the base fit's E-steps follow).
            X = self._validate_dask(X, reset=True)
            summary = _DataSummary.of_dask(DaskSampleData(X, sample_weight,
                                                          check_block=self._block_checker()))
        else:
            X = self._validate(X, reset=True)
            summary = _DataSummary.of_array(X, check_sample_weight(sample_weight, X.shape[0]))
        self._summary = summary
        # A new fit forgets what partial_fit measured its statistics about.
        self.__dict__.pop("_online_summary", None)
        try:
            return super().fit(X, y, sample_weight, strategy=strategy, labels=labels)
        finally:
            # The fitted model keeps neither the data nor its measures: inference
            # centres on the fitted mixture's mean (below), so a saved and
            # loaded model predicts bit for bit as this one does.
            del self._summary

    def _check_covariance_type(self):
        if not (isinstance(self.covariance_type, str)
                and (self.covariance_type in COVARIANCE_TYPES
                     or is_structure(self.covariance_type))):
            raise ValueError(
                f"covariance_type must be one of {COVARIANCE_TYPES} or an mclust structure "
                f"name (EII ... VVV, E, V); got {self.covariance_type!r}.")

    def _validate(self, X, *, reset):
        return validate_samples(self, X, reset=reset)

    def _validate_data_values(self, X, n_features):
        X = validate_samples(None, X, reset=False)
        if n_features is not None and X.shape[1] != n_features:
            raise ValueError(f"X has {X.shape[1]} features, but StudentTMixture is expecting "
                             f"{n_features} features as input.")
        return X

    def _start_online_batch(self, batch):
        # partial_fit's running statistics are centred and scaled once, on
        # the first batch: about one centre, the statistics of every batch add.
        self._online_summary = _DataSummary.of_array(batch.X, batch.sample_weight)

    def _make_component(self, n_features, fixed):
        summary = getattr(self, "_summary", None)
        if summary is None:
            summary = self.__dict__.get("_online_summary")
        if summary is None or summary.center.shape[0] != n_features:
            # Inference (or from_params): no data being measured. The centre is
            # only for numerical soundness: the fitted mixture's mean.
            center = np.zeros(n_features)
            if getattr(self, "means_", None) is not None and self.means_.shape[1] == n_features:
                center = np.asarray(self.weights_, dtype=np.float64) @ self.means_
            covariance, scales, dtype = np.eye(n_features), None, np.float64
        else:
            center, covariance, scales, dtype = (summary.center, summary.covariance,
                                                 summary.scales, summary.dtype)
        dof_start = DEFAULT_DOF if self.dof_init is None else self.dof_init
        return StudentTComponent(self.covariance_type, reg_covar=self.reg_covar, center=center,
                                 dtype=dtype, data_covariance=covariance, fixed=fixed,
                                 feature_scales=scales, dof_start=dof_start)

    def _layout(self, n_features):
        if is_structure(self.covariance_type):
            return structure_layout(structure_name(self.covariance_type, n_features))
        return self.covariance_type

    def _check_init(self, name, value, n_components, n_features):
        K, D = n_components, n_features
        if name in ("dofs_init", "dofs"):
            return self._check_dofs("dof_init" if name == "dofs_init" else name, value, K)
        if name.startswith("means"):
            return check_parameter_array(value, (K, D), name)
        self._check_covariance_type()
        if is_structure(self.covariance_type):
            return check_covariance_parameter(value, (K, D, D), name,
                                              covariance_type=self.covariance_type,
                                              layout=self._layout(D))
        return check_covariances(value, self.covariance_type, K, D, name)

    @staticmethod
    def _check_dofs(name, value, K):
        try:
            array = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a positive number or an array of "
                             f"{K} positive numbers; got {value!r}.") from None
        if array.ndim == 0:
            array = np.full(K, float(array))
        if array.shape != (K,):
            raise ValueError(f"{name} must be a number or have shape ({K},) (one per "
                             f"component); got shape {array.shape}.")
        if not np.isfinite(array).all() or (array <= 0).any():
            raise ValueError(f"{name} must be finite and > 0 (degrees of freedom); got "
                             f"{array}.")
        if name == "dof_init" and ((array < MIN_DOF) | (array > MAX_DOF)).any():
            raise ValueError(f"{name} must lie in [{MIN_DOF:g}, {MAX_DOF:g}], the range the "
                             f"fit keeps degrees of freedom in; got {array}.")
        return array

    def _initializations(self, X, sample_weight, labels, init_data, model, rng):
        for params in super()._initializations(X, sample_weight, labels, init_data, model, rng):
            yield self._with_precisions(params)

    # -- parameters -----------------------------------------------------------
    def _with_precisions(self, params):
        """``params`` with precision factors that match its covariances (user
        starts replace the covariances of the initial M-step)."""
        params = dict(params)
        D = np.shape(params["means"])[1]
        if is_structure(self.covariance_type):
            prec_chol, covariances = layout_precision_cholesky(params["covariances"],
                                                               self._layout(D))
        else:
            prec_chol, covariances = precision_cholesky(params["covariances"],
                                                        self.covariance_type)
        params["precisions_cholesky"], params["covariances"] = prec_chol, covariances
        return params

    def _set_params(self, params):
        super()._set_params(params)
        self.precisions_cholesky_ = np.asarray(params["precisions_cholesky"], dtype=np.float64)

    def _fitted_params(self):
        params = super()._fitted_params()
        if hasattr(self, "precisions_cholesky_"):
            params["precisions_cholesky"] = self.precisions_cholesky_
            return params
        return self._with_precisions(params)
