"""The Gaussian component family, configured for one fit.

:class:`GaussianComponent` holds configuration (covariance structure,
regularisation, data centre, prior, fixed parameters) and applies the pure
functions of :mod:`emkit.components.gaussian_ops` (feature maps, statistics,
M-steps, precision factors), :mod:`emkit.components._structured` (mclust's
14 structures) and :mod:`emkit._priors_gaussian` (MAP). Mixtures and HMMs
use the same methods.
"""

from __future__ import annotations

import numpy as np

from .. import _priors_gaussian
from . import _structured
from ._structures import n_parameters as structure_n_parameters
from .counts import too_few_samples
from .gaussian_ops import (
    COVARIANCE_TYPES,
    FeatureScales,
    LOG_2PI,
    MAX_SPREAD,
    MIN_SPREAD,
    chunk_features,
    chunk_features_transposed,
    component_means,
    expand_covariances,
    feature_scales,
    feature_width,
    gaussian_m_step,
    is_flat,
    kernel_of,
    log_gaussian_from_features,
    precision_cholesky,
    quadratic_plan,
    regularization_penalty,
    safe_counts,
    scatter_about,
    split_moments,
)

# The family's pure functions are re-exported from here for the estimators.
__all__ = ["GaussianComponent"]


class GaussianComponent:
    """Gaussian emission/component family, configured for one fit.

    The object holds configuration only (covariance type, regularisation,
    data centre, prior, fixed parameters); every method is a pure function of
    its arguments. Mixtures and HMMs use the same methods: ``features`` of a
    chunk, ``log_prob`` of every component, ``stats`` weighted by
    responsibilities or state posteriors, and ``m_step`` from summed stats.

    Parameters
    ----------
    covariance_type : {"full", "tied", "diag", "spherical"} or an mclust name
        scikit-learn's four structures, or one of mclust's 14 (EII ... VVV,
        and E/V for one feature; see :mod:`emkit.components._structures`).
        mclust structures keep ``params["covariances"]`` as a (K, D, D)
        stack and ``params["precisions_cholesky"]`` in the layout of the
        cheapest feature kernel that evaluates them (see ``layout``).
    reg_covar : float
        Non-negative strength of a fixed penalty on every covariance,
        relative to each feature's local variance (see :class:`FeatureScales`):
        ``Psi = reg_covar * diag(local_variance) * weight_unit`` is added to
        every component's scatter, the exact MAP step of the penalty
        ``-1/2 tr(Psi Sigma_k^-1)`` that the objective includes (see
        :func:`regularization_penalty`). It keeps a covariance that would be
        singular (a feature constant within a cluster) invertible without
        changing the answer when the data are rescaled or clusters move apart.
        Not used under a ``prior`` (the prior regularises).
    center : ndarray of shape (n_features,)
        Data centre subtracted chunk by chunk (numerical soundness).
    dtype : numpy dtype
        Dtype of the chunk products.
    data_covariance : ndarray of shape (n_features, n_features)
        Covariance of the data: the broad covariance given to a re-seeded component.
    prior : NormalInverseWishart or None
        Conjugate prior on (mean, covariance) of every component (MAP).
    fixed : frozenset of str
        Parameter names ("means", "covariances") held at their current values.
    feature_scales : FeatureScales or None
        Measured per-feature scales of the data (:func:`feature_scales`);
        None takes them from the diagonal of ``data_covariance``.
    min_count : float or None
        A component explaining fewer samples than this has collapsed. None:
        ``D + 1`` for per-component full covariances (fewer points cannot
        support one), 2 for diagonal and spherical ones, 1 for a covariance
        shared by all components.

    Attributes
    ----------
    structure : str or None
        mclust's name of the structure (None for the scikit-learn names).
    layout : {"full", "tied", "diag", "spherical"}
        Layout of ``params["precisions_cholesky"]`` and the E-step's kernel.
    """

    param_names = ("means", "covariances")

    def __init__(self, covariance_type, *, reg_covar, center, dtype, data_covariance,
                 prior=None, fixed=frozenset(), feature_scales=None, min_count=None):
        self.covariance_type = covariance_type
        self.reg_covar = float(reg_covar)
        self.center = np.asarray(center, dtype=np.float64)
        self.n_features = self.center.shape[0]
        self.structure = None
        self.layout = covariance_type
        if covariance_type not in COVARIANCE_TYPES:
            self.structure = _structured.structure_name(covariance_type, self.n_features)
            self.layout = _structured.structure_layout(self.structure)
        self.kernel = kernel_of(self.layout)
        self.dtype = np.dtype(dtype)
        self.prior = prior
        self.fixed = frozenset(fixed)
        self.data_covariance = np.asarray(data_covariance, dtype=np.float64)
        if feature_scales is None:
            variances = np.diag(self.data_covariance).copy()
            constant = variances <= 0
            variances[constant] = np.mean(variances[~constant]) if (~constant).any() else 1.0
            feature_scales = FeatureScales(variances, np.zeros(self.n_features), constant,
                                           np.sqrt(variances))
        self.scales = feature_scales
        # Data that are themselves flat (collinear features, fewer points than
        # dimensions) make every component flat: no re-seed can mend that.
        self._data_flat = is_flat(self.data_covariance, ~feature_scales.constant)
        # The penalty's diagonal; a constant feature always gets one, or every
        # covariance would be singular there (it is the same for all components).
        strength = np.where(feature_scales.constant, max(self.reg_covar, 1e-6), self.reg_covar)
        self.psi = (np.zeros(self.n_features) if prior is not None
                    else strength * feature_scales.local_variance * feature_scales.weight_unit)
        if min_count is None:
            shared = (self.covariance_type == "tied"
                      or (self.structure is not None and self.structure[:1] == "E"
                          and self.layout in ("tied", "spherical")))
            min_count = {"full": self.n_features + 1.0, "tied": 1.0}.get(
                "tied" if shared else self.layout, 2.0)
        self.min_count = float(min_count)

    # -- E-step ---------------------------------------------------------------
    def features(self, X_chunk):
        """Feature map of a raw chunk (centred inside), shape (width, n).

        Opaque to callers: pass it back to :meth:`log_prob` and :meth:`stats`.
        """
        centered = X_chunk - self.center.astype(self.dtype)
        return chunk_features_transposed(centered, self.kernel)

    def plan(self, params):
        """Per-iteration constants: ``(weights, offsets, log_norm)``."""
        return quadratic_plan(params["means"] - self.center, params["precisions_cholesky"],
                              self.layout, self.dtype)

    def log_prob(self, plan, features):
        """Log-density of every component at every sample, shape (n, K)."""
        return log_gaussian_from_features(features.T, *plan)

    def stats(self, resp, features):
        """Moments ``resp^T F`` in float64, shape (K, width)."""
        return {"moments": np.asarray((features @ resp).T, dtype=np.float64)}

    # -- M-step ---------------------------------------------------------------
    def m_step(self, counts, stats, params):
        """New means, covariances and precision Cholesky factors."""
        new_params = self._m_step(counts, stats, params)
        if "means" in self.fixed and params is not None:
            # Held means come back bit-for-bit, not via the centring round trip.
            new_params["means"] = params["means"]
        return new_params

    def _m_step(self, counts, stats, params):
        fixed_means = None
        if "means" in self.fixed and params is not None:
            fixed_means = params["means"] - self.center
        if self.structure is not None:
            return self._structured_m_step(counts, stats["moments"], params, fixed_means)
        if self.prior is not None:
            means_centered, covariances = self._map_m_step(counts, stats["moments"], fixed_means)
        else:
            means_centered, covariances = gaussian_m_step(
                counts, stats["moments"], self.covariance_type,
                psi=self._psi_per_component(counts.shape[0]), means_centered=fixed_means,
            )
        if "covariances" in self.fixed and params is not None:
            return {
                "means": means_centered + self.center,
                "covariances": params["covariances"],
                "precisions_cholesky": params["precisions_cholesky"],
            }
        prec_chol, covariances = precision_cholesky(covariances, self.covariance_type)
        return {
            "means": means_centered + self.center,
            "covariances": covariances,
            "precisions_cholesky": prec_chol,
        }

    def _structured_m_step(self, counts, moments, params, fixed_means):
        """mclust-structure M-step: (K, D, D) covariances, factors in ``self.layout``."""
        structured = _structured
        keep_covariances = "covariances" in self.fixed and params is not None
        if keep_covariances and fixed_means is None and self.prior is None:
            # Only the means move: skip the covariance solve.
            return {"means": component_means(counts, moments, self.n_features) + self.center,
                    "covariances": params["covariances"],
                    "precisions_cholesky": params["precisions_cholesky"]}
        means_centered, covariances = structured.structured_m_step(
            self.structure, counts, moments, self.kernel, center=self.center,
            previous_covariances=None if params is None else params.get("covariances"),
            prior=self.prior, psi=self.psi, means_centered=fixed_means,
            prior_terms=self.map_terms(counts.shape[0]),
        )
        if keep_covariances:
            return {"means": means_centered + self.center,
                    "covariances": params["covariances"],
                    "precisions_cholesky": params["precisions_cholesky"]}
        prec_chol, covariances = structured.layout_precision_cholesky(covariances, self.layout)
        return {"means": means_centered + self.center, "covariances": covariances,
                "precisions_cholesky": prec_chol}

    def _psi_per_component(self, n_components):
        """The penalty's diagonal as the M-step adds it: once per component, so
        a covariance shared by K components ("tied") gets it K times (as
        mclust's EEE in :meth:`map_terms`)."""
        return self.psi * (n_components if self.covariance_type == "tied" else 1)

    def map_terms(self, n_components):
        """The prior's (or the reg_covar penalty's) pseudo-counts and scatters
        for an mclust structure, computed once.

        The penalty is a prior with no pseudo-counts and scatter ``Psi`` for
        every component, so the compiled MAP M-step maximises it exactly.

        Returns
        -------
        tuple or None
            ``(kappa, loc_centered (D,), pseudo_counts (K,), pseudo_scatter
            (K, D, D))`` as :func:`emkit.components._structured.map_terms`
            gives them; None without a prior and without a penalty.
        """
        if self.prior is None:
            if not self.psi.any():
                return None
            cache = self.__dict__.setdefault("_penalty_terms_cache", {})
            if n_components not in cache:
                D = self.n_features
                cache[n_components] = (0.0, np.zeros(D), np.zeros(n_components),
                                       np.ascontiguousarray(
                                           np.broadcast_to(np.diag(self.psi),
                                                           (n_components, D, D))))
            return cache[n_components]
        cache = self.__dict__.setdefault("_map_terms_cache", {})
        if n_components not in cache:
            cache[n_components] = _structured.map_terms(
                self.structure, n_components, self.n_features, self.prior, self.center)
        return cache[n_components]

    def _map_m_step(self, counts, moments, fixed_means):
        return _priors_gaussian.gaussian_map_m_step(
            counts, moments, self.covariance_type, self.prior, center=self.center,
            means_centered=fixed_means)

    def log_prior(self, params):
        """Log-density of the conjugate prior at ``params``; without one, the
        ``reg_covar`` penalty (0 when ``reg_covar`` is 0)."""
        if self.prior is None:
            # The penalty is a prior on the covariances: held fixed, they are
            # not estimated and it is no part of the objective.
            if not self.psi.any() or "covariances" in self.fixed:
                return 0.0
            K = params["means"].shape[0]
            shared = K if self.layout == "tied" else 1
            return shared * regularization_penalty(self.psi, params["precisions_cholesky"],
                                                   self.layout)
        if self.structure is not None:
            return _structured.structured_log_prior(self.structure, params, self.prior)
        return _priors_gaussian.gaussian_log_prior(params, self.covariance_type, self.prior)

    # -- unconstrained coordinates (accelerated steppers) -----------------------
    def to_unconstrained(self, params):
        """Means, then covariances as Cholesky factors with log-diagonal
        (log-variances for diag and spherical), as one vector, in units of
        the data's per-feature scales (``self.scales.local_scale``).

        The units make the coordinates, and so SQUAREM's step lengths (ratios
        of norms), the same whatever units the data come in; without them a
        feature measured in large numbers outweighs the others.
        None for mclust's structures, whose constraints (equal volumes,
        shapes or orientations) such coordinates do not keep.
        """
        if self.structure is not None:
            return None
        # 1 where a scale is unusable
        scale = np.asarray(self.scales.local_scale, dtype=np.float64)
        unit = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        covariances = np.asarray(params["covariances"], dtype=np.float64)
        if self.covariance_type in ("diag", "spherical"):
            # Differences of log-variances are free of units already.
            covariance_vector = np.log(covariances).ravel()
        else:
            stack = covariances[None] if self.covariance_type == "tied" else covariances
            try:
                factors = np.linalg.cholesky(stack / np.outer(unit, unit))
            except np.linalg.LinAlgError:
                return None
            D = self.n_features
            rows, cols = np.tril_indices(D)
            entries = factors[:, rows, cols]
            on_diagonal = rows == cols
            entries[:, on_diagonal] = np.log(entries[:, on_diagonal])
            covariance_vector = entries.ravel()
        means = (np.asarray(params["means"], dtype=np.float64) - self.center) / unit
        return np.concatenate([means.ravel(), covariance_vector])

    def from_unconstrained(self, vector, template):
        """Parameters from :meth:`to_unconstrained`'s vector; ``template``
        supplies shapes and held-fixed parameters. None if not finite."""
        K, D = np.shape(template["means"])
        # 1 where a scale is unusable
        scale = np.asarray(self.scales.local_scale, dtype=np.float64)
        unit = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        means = vector[:K * D].reshape(K, D) * unit + self.center
        rest = vector[K * D:]
        if "means" in self.fixed:
            means = template["means"]
        if "covariances" in self.fixed:
            return {"means": means, "covariances": template["covariances"],
                    "precisions_cholesky": template["precisions_cholesky"]}
        with np.errstate(over="ignore", invalid="ignore"):
            if self.covariance_type in ("diag", "spherical"):
                covariances = np.exp(rest).reshape(np.shape(template["covariances"]))
            else:
                rows, cols = np.tril_indices(D)
                entries = rest.reshape(-1, rows.size).copy()
                on_diagonal = rows == cols
                entries[:, on_diagonal] = np.exp(entries[:, on_diagonal])
                factors = np.zeros((entries.shape[0], D, D))
                factors[:, rows, cols] = entries
                covariances = factors @ np.swapaxes(factors, 1, 2) * np.outer(unit, unit)
                if self.covariance_type == "tied":
                    covariances = covariances[0]
        if not (np.isfinite(covariances).all() and np.isfinite(means).all()):
            return None
        prec_chol, covariances = precision_cholesky(covariances, self.covariance_type)
        return {"means": means, "covariances": covariances, "precisions_cholesky": prec_chol}

    # -- helpers --------------------------------------------------------------
    def sample(self, params, component, n_samples, rng):
        """``n_samples`` draws from one component, shape (n_samples, D)."""
        K = params["means"].shape[0]
        covariances = params["covariances"]
        if self.structure is None:
            covariances = expand_covariances(covariances, self.covariance_type, K,
                                             self.n_features)
        return rng.multivariate_normal(params["means"][component], covariances[component],
                                       int(n_samples))

    def n_free_parameters(self, n_components):
        """Free scalars of K components, means and covariances (scikit-learn's
        count; mclust's for its structures, which agrees on the shared four)."""
        K, D = n_components, self.n_features
        if self.structure is not None:
            covariance_parameters = structure_n_parameters(self.structure, K, D) - K * D - (K - 1)
        else:
            covariance_parameters = {
                "full": K * D * (D + 1) / 2.0,
                "tied": D * (D + 1) / 2.0,
                "diag": K * D,
                "spherical": K,
            }[self.covariance_type]
        # Held parameters are not free (the protocol's count).
        means = 0 if "means" in self.fixed else K * D
        covariances = 0 if "covariances" in self.fixed else covariance_parameters
        return int(covariances + means)

    # -- collapse -------------------------------------------------------------
    def collapsed(self, params, stats, *, min_count=None):
        """Boolean mask (K,) of components that collapsed onto a degenerate set.

        A collapse is judged on each component's *own* points, never against
        the spread of the whole data set, so a tight cluster far from the
        others is not one (its covariance is small but well supported). A
        component has collapsed when

        - it explains fewer samples than ``min_count`` (too few to support
          its covariance, see the class parameters);
        - or its own points have no spread, up to rounding and the data's
          resolution, where its covariance is free to shrink: in some feature
          (per-component shapes: full, diag, mclust's ?V? structures), in
          every direction (per-component volume only: spherical, VEI, VEE,
          ...), or along some direction of a full covariance (points on a
          line or plane). Such a component sits on duplicated or tied values,
          and its likelihood grows without bound as it shrinks: a spike, not
          a cluster. Features constant over the whole data set are left out.

        Parameters
        ----------
        params : dict
            The parameters (for the layout of the covariances).
        stats : dict
            Summed statistics of the E-step the parameters came from
            (``counts`` (K,) and ``moments`` (K, width)).
        min_count : float, optional
            Overrides the class's count rule (HMMs: 0, a state may be rare).

        Returns
        -------
        ndarray of bool, shape (K,)
        """
        counts = np.asarray(stats["counts"], dtype=np.float64)
        moments = np.asarray(stats["moments"], dtype=np.float64)
        D = self.n_features
        scales = self.scales
        min_count = self.min_count if min_count is None else min_count
        result = too_few_samples(counts, scales.weight_unit, min_count)
        shape_free, volume_free = self._free_to_shrink()
        if not (shape_free or volume_free):
            return result
        means_centered = component_means(counts, moments, D)
        scatter = scatter_about(counts, moments, self.kernel, means_centered)
        denominators = safe_counts(counts)
        varying = ~scales.constant
        # What is indistinguishable from zero spread: a fraction of the
        # data's resolution, or the rounding of sums of squares taken about
        # the data centre (large for a cluster far from it).
        floor = np.maximum(scales.resolution**2 / 1200.0,
                           64 * np.finfo(np.float64).eps * means_centered**2)
        if self.kernel == "full":
            own_variance = np.diagonal(scatter, axis1=1, axis2=2) / denominators[:, None]
        elif self.kernel == "diag":
            own_variance = scatter / denominators[:, None]
        else:
            own_variance = np.broadcast_to((scatter / (denominators * D))[:, None], (counts.size, D))
        tied = (own_variance <= floor) & varying
        if shape_free and self.kernel != "spherical":
            result |= tied.any(axis=1)
            if self.kernel == "full" and varying.sum() > 1 and not self._data_flat:
                # Fewer than 2(D+1) points cannot pin down a correlation: such
                # a component that is also nearly flat (a few points, some
                # duplicated, close to a line) is a spike too.
                few = counts / scales.weight_unit < 2.0 * (D + 1)
                result |= self._collinear(scatter, tied, varying,
                                          np.where(few, 1e-2, 1e-9))
        else:
            result |= tied[:, varying].all(axis=1) if varying.any() else False
        return result

    def _free_to_shrink(self):
        """(shape_free, volume_free): can one component's covariance shrink in
        one direction alone / as a whole without the others'? Only then does
        its likelihood grow without bound on a degenerate set."""
        if self.structure is None:
            if self.covariance_type == "tied":
                return False, False
            return self.covariance_type != "spherical", True
        name = self.structure
        if len(name) == 1:            # one feature: "E" equal, "V" variable variance
            return False, name == "V"
        return name[1] == "V", name[0] == "V"

    @staticmethod
    def _collinear(scatter, tied, varying, thresholds):
        """Components whose own points span less than every varying direction:
        the smallest eigenvalue of their correlation matrix is below ``thresholds[k]``."""
        K = scatter.shape[0]
        result = np.zeros(K, dtype=bool)
        for k in range(K):
            keep = varying & ~tied[k]
            if keep.sum() < 2:
                continue
            block = scatter[k][np.ix_(keep, keep)]
            scale = np.sqrt(np.diag(block))
            correlation = block / np.outer(scale, scale)
            result[k] = np.linalg.eigvalsh(correlation)[0] < thresholds[k]
        return result

    def reseed(self, params, component, seed_point, scale_covariance):
        """Put ``component`` back on the data: mean at ``seed_point``, a broad covariance."""
        params = {name: np.array(value, copy=True) for name, value in params.items()}
        if "means" not in self.fixed:
            params["means"][component] = seed_point
        if self.structure is not None:
            if "covariances" not in self.fixed:
                self._reseed_structured(params, component, scale_covariance)
            return params
        if "covariances" not in self.fixed and self.covariance_type != "tied":
            D = self.n_features
            if self.covariance_type == "full":
                params["covariances"][component] = scale_covariance
            elif self.covariance_type == "diag":
                params["covariances"][component] = np.diag(scale_covariance)
            else:
                params["covariances"][component] = np.trace(scale_covariance) / D
            prec_chol, covariances = precision_cholesky(params["covariances"], self.covariance_type)
            params["covariances"] = covariances
            params["precisions_cholesky"] = prec_chol
        return params

    def _reseed_structured(self, params, component, scale_covariance):
        """Re-seed a covariance without leaving the structure, in place.

        The next M-step maximises only over covariances that obey the
        structure; starting it from parameters that do not could lower the
        objective. A copy of the heaviest other component's covariance keeps
        every equal volume, shape and orientation equal; with one component
        the broad ``scale_covariance`` is cut to the structure's shape class.
        """
        covariances = params["covariances"]
        K, D = covariances.shape[0], self.n_features
        if K > 1:
            weights = np.array(params.get("weights", np.ones(K)), dtype=np.float64, copy=True)
            weights[component] = -np.inf
            covariances[component] = covariances[int(np.argmax(weights))]
        elif self.layout == "full":
            covariances[component] = scale_covariance
        elif self.layout == "diag":
            covariances[component] = np.diag(np.diag(scale_covariance))
        else:
            covariances[component] = np.trace(scale_covariance) / D * np.eye(D)
        prec_chol, covariances = _structured.layout_precision_cholesky(covariances,
                                                                        self.layout)
        params["covariances"] = covariances
        params["precisions_cholesky"] = prec_chol
