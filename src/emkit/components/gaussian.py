"""Gaussian components: log-densities, sufficient statistics and M-steps.

The heavy work of a Gaussian E-step and M-step is the quadratic form
``(x - mu_k)^T P_k (x - mu_k)`` for every sample and component, and the
second moments ``sum_n r_nk x_n x_n^T``. Both are linear in the same
*feature map* of the (centred) sample:

======================  ==========================================  ==========
kernel                  features F(x)                               width
======================  ==========================================  ==========
``"full"`` / ``"tied"``  upper triangle of x x^T, then x               D(D+1)/2+D
``"diag"``              x * x elementwise, then x                    2D
``"spherical"``         ||x||^2, then x                              1+D
======================  ==========================================  ==========

so the quadratic forms of all K components are one matrix product
``F @ W`` (W built from the precisions and means) and the statistics of all K
components are one product ``R^T @ F``. A chunk of samples costs two large
GEMMs instead of K tall-skinny ones, and the M-step reuses the E-step's
features. Samples are centred on the data's weighted mean chunk by chunk so
that these expanded quadratics do not cancel catastrophically when the data
sit far from the origin; the statistics accumulate in float64.

Every function here is pure: parameters in, arrays out.
"""

from __future__ import annotations

import functools

import numpy as np

from ..kernels.gaussian import log_density_from_quadratic

__all__ = [
    "COVARIANCE_TYPES",
    "kernel_of",
    "feature_width",
    "chunk_features",
    "chunk_features_transposed",
    "quadratic_plan",
    "log_gaussian_from_features",
    "precision_cholesky",
    "expand_covariances",
    "split_moments",
    "gaussian_m_step",
    "scatter_about",
    "component_means",
    "safe_counts",
]

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
LOG_2PI = np.log(2.0 * np.pi)


def kernel_of(covariance_type: str) -> str:
    """The feature kernel that evaluates ``covariance_type``: full, diag or spherical."""
    return "full" if covariance_type in ("full", "tied") else covariance_type


def feature_width(kernel: str, n_features: int) -> int:
    """Number of columns of :func:`chunk_features` for ``kernel``."""
    D = n_features
    return {"full": D * (D + 1) // 2 + D, "diag": 2 * D, "spherical": 1 + D}[kernel]


def chunk_features(centered: np.ndarray, kernel: str) -> np.ndarray:
    """Feature map F(x) of a centred chunk (see the module docstring), one row per sample.

    A (n, width) view of :func:`chunk_features_transposed`, which is the
    layout the fit itself uses.

    Parameters
    ----------
    centered : ndarray of shape (n, D)
        Samples minus the data centre, float32 or float64.
    kernel : {"full", "diag", "spherical"}

    Returns
    -------
    features : ndarray of shape (n, width), same dtype as ``centered``
    """
    return chunk_features_transposed(centered, kernel).T


@functools.lru_cache(maxsize=64)
def _triu_indices(n_features: int):
    """Row-major upper-triangle indices, computed once per dimension (hot path)."""
    rows, cols = np.triu_indices(n_features)
    rows.setflags(write=False)
    cols.setflags(write=False)
    return rows, cols


def chunk_features_transposed(centered: np.ndarray, kernel: str) -> np.ndarray:
    """Feature map of a centred chunk, laid out as (width, n) rows.

    The same features as :func:`chunk_features`, transposed: every feature is
    then one contiguous product of two contiguous rows of ``centered.T``,
    which vectorises fully (about 4x faster to build than the (n, width)
    layout, whose rows interleave the products). The BLAS products take
    either layout at the same speed.

    Parameters
    ----------
    centered : ndarray of shape (n, D)
    kernel : {"full", "diag", "spherical"}

    Returns
    -------
    features_t : ndarray of shape (width, n), same dtype as ``centered``
    """
    n, D = centered.shape
    columns = np.ascontiguousarray(centered.T)
    out = np.empty((feature_width(kernel, D), n), dtype=centered.dtype)
    if kernel == "full":
        start = 0
        for i in range(D):
            stop = start + D - i
            np.multiply(columns[i], columns[i:], out=out[start:stop])
            start = stop
    elif kernel == "diag":
        np.multiply(columns, columns, out=out[:D])
    else:
        np.einsum("dn,dn->n", columns, columns, out=out[0])
    out[-D:] = columns
    return out


def _upper_weights(precisions: np.ndarray) -> np.ndarray:
    """Upper-triangle coefficients of x^T P x: diagonal once, off-diagonal twice.

    precisions (K, D, D) -> (D(D+1)/2, K)
    """
    D = precisions.shape[-1]
    rows, cols = _triu_indices(D)
    weights = precisions[:, rows, cols].T.copy()
    weights[rows != cols] *= 2.0
    return weights


def quadratic_plan(means_centered, prec_chol, covariance_type, dtype):
    """Everything the E-step needs from the parameters, for the feature kernel.

    Parameters
    ----------
    means_centered : ndarray of shape (K, D)
        Component means minus the data centre.
    prec_chol : ndarray
        Cholesky factors of the precisions in scikit-learn's layout
        (full (K, D, D) upper, tied (D, D), diag (K, D), spherical (K,)).
    covariance_type : {"full", "tied", "diag", "spherical"}
    dtype : numpy dtype
        Dtype of the chunk products (float32 data stays float32 in the GEMMs).

    Returns
    -------
    weights : ndarray of shape (width, K)
        ``F(x) @ weights + offsets`` is the quadratic form of every component.
    offsets : ndarray of shape (K,), float64
        ``mu_k^T P_k mu_k``.
    log_norm : ndarray of shape (K,), float64
        ``log|P_k|^{1/2} - D/2 log(2 pi)``.
    """
    K, D = means_centered.shape
    mu = means_centered
    if covariance_type in ("full", "tied"):
        chol = prec_chol if covariance_type == "full" else np.broadcast_to(prec_chol, (K, D, D))
        precisions = chol @ np.swapaxes(chol, 1, 2)
        precision_mean = np.einsum("kij,kj->ki", precisions, mu)
        weights = np.vstack([_upper_weights(precisions), -2.0 * precision_mean.T])
        log_det = np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    elif covariance_type == "diag":
        precisions = prec_chol**2
        precision_mean = precisions * mu
        weights = np.vstack([precisions.T, -2.0 * precision_mean.T])
        log_det = np.log(prec_chol).sum(axis=1)
    elif covariance_type == "spherical":
        precisions = prec_chol**2
        precision_mean = precisions[:, None] * mu
        weights = np.vstack([precisions[None, :], -2.0 * precision_mean.T])
        log_det = D * np.log(prec_chol)
    else:  # pragma: no cover - guarded by the callers
        raise ValueError(f"unknown covariance_type {covariance_type!r}")
    offsets = np.einsum("ki,ki->k", precision_mean, mu)
    log_norm = log_det - 0.5 * D * LOG_2PI
    return np.ascontiguousarray(weights, dtype=dtype), offsets, log_norm


def log_gaussian_from_features(features, weights, offsets, log_norm):
    """Log-densities of all components from chunk features, shape (n, K).

    The expanded quadratic can come out slightly negative from rounding when
    a sample sits on a mean; it is clipped at zero, as a squared distance must be.
    """
    return log_density_from_quadratic(features @ weights, offsets, log_norm)


def _floor_spectrum(matrix: np.ndarray, floor: float) -> np.ndarray:
    """Nearest symmetric matrix with eigenvalues at least ``floor``."""
    symmetric = 0.5 * (matrix + matrix.T)
    values, vectors = np.linalg.eigh(symmetric)
    scale = max(abs(values).max(initial=0.0), 1.0)
    values = np.maximum(values, max(floor, scale * 1e-13))
    return (vectors * values) @ vectors.T


def precision_cholesky(covariances, covariance_type, *, floor=1e-300):
    """Cholesky factors of the precisions, never raising on an ill-defined covariance.

    scikit-learn raises when a covariance is not positive definite; here the
    offending matrix is lifted to the nearest one whose eigenvalues clear a
    tiny floor, and the (possibly repaired) covariances are returned with the
    factors so both stay consistent. Collapse itself is handled by the caller.

    Parameters
    ----------
    covariances : ndarray
        full (K, D, D), tied (D, D), diag (K, D) or spherical (K,).
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    prec_chol : ndarray, same shape as ``covariances``
        Upper-triangular ``U`` with ``precision = U U^T`` (scikit-learn's layout).
    covariances : ndarray
        The input, or its repaired version.
    """
    if covariance_type in ("diag", "spherical"):
        safe = np.where(np.isfinite(covariances), covariances, 1.0)
        safe = np.maximum(safe, floor if floor > 0 else np.finfo(float).tiny)
        return 1.0 / np.sqrt(safe), safe
    stack = covariances[None] if covariance_type == "tied" else covariances
    stack = np.array(stack, dtype=np.float64)
    D = stack.shape[-1]
    try:
        # Batched numpy Cholesky: one call for all K (scipy's per-matrix
        # wrappers cost milliseconds each on tiny matrices).
        if not np.isfinite(stack).all():
            raise np.linalg.LinAlgError
        cov_chol = np.linalg.cholesky(stack)
        if not (np.diagonal(cov_chol, axis1=1, axis2=2) > 0).all():
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov_chol = np.empty_like(stack)
        for k, cov in enumerate(stack):
            try:
                if not np.all(np.isfinite(cov)):
                    raise np.linalg.LinAlgError
                cov_chol[k] = np.linalg.cholesky(cov)
                if np.any(np.diag(cov_chol[k]) <= 0):
                    raise np.linalg.LinAlgError
            except np.linalg.LinAlgError:
                cov = np.nan_to_num(cov, nan=0.0, posinf=0.0, neginf=0.0)
                cov = _floor_spectrum(cov, max(floor, 1e-12 * max(np.trace(cov) / D, 1e-300)))
                stack[k] = cov
                cov_chol[k] = np.linalg.cholesky(cov)
    identity = np.broadcast_to(np.eye(D), stack.shape)
    prec_chol = np.swapaxes(np.linalg.solve(cov_chol, identity), 1, 2)
    # solve() does not know the factor is triangular: zero the round-off below.
    prec_chol = np.triu(prec_chol)
    if covariance_type == "tied":
        return prec_chol[0], stack[0]
    return prec_chol, stack


def expand_covariances(covariances, covariance_type, n_components, n_features):
    """Covariances as a (K, D, D) stack whatever the type."""
    K, D = n_components, n_features
    if covariance_type == "full":
        return np.asarray(covariances)
    if covariance_type == "tied":
        return np.broadcast_to(covariances, (K, D, D)).copy()
    if covariance_type == "diag":
        return np.einsum("kd,de->kde", covariances, np.eye(D))
    return covariances[:, None, None] * np.eye(D)


def split_moments(moments, kernel, n_features):
    """Split ``R^T F`` into (second moments, first moments).

    Returns
    -------
    second : ndarray
        full: (K, D, D) symmetric; diag: (K, D); spherical: (K,).
    first : ndarray of shape (K, D)
    """
    D = n_features
    first = moments[:, -D:]
    raw_second = moments[:, :-D]
    if kernel == "full":
        K = moments.shape[0]
        rows, cols = _triu_indices(D)
        second = np.zeros((K, D, D))
        second[:, rows, cols] = raw_second
        second[:, cols, rows] = raw_second
    elif kernel == "diag":
        second = raw_second
    else:
        second = raw_second[:, 0]
    return second, first


def scatter_about(counts, moments, kernel, means_centered):
    """Weighted scatter of each component about the given (centred) means.

    ``sum_n r_nk (x_n - m_k)(x_n - m_k)^T`` from the summed statistics, for any
    ``m_k`` (the component's own weighted mean, or a held-fixed mean).

    Returns
    -------
    scatter : ndarray
        full kernel: (K, D, D); diag: (K, D) diagonal only; spherical: (K,) trace.
    """
    D = means_centered.shape[1]
    second, first = split_moments(moments, kernel, D)
    mu = means_centered
    if kernel == "full":
        cross = np.einsum("ki,kj->kij", first, mu)
        scatter = (second - cross - np.swapaxes(cross, 1, 2)
                   + counts[:, None, None] * np.einsum("ki,kj->kij", mu, mu))
        return 0.5 * (scatter + np.swapaxes(scatter, 1, 2))
    if kernel == "diag":
        return np.maximum(second - 2.0 * first * mu + counts[:, None] * mu**2, 0.0)
    return np.maximum(second - 2.0 * np.einsum("kd,kd->k", first, mu)
                      + counts * np.einsum("kd,kd->k", mu, mu), 0.0)


def safe_counts(counts):
    """Counts nudged away from zero, scikit-learn's guard for empty components."""
    return counts + 10 * np.finfo(np.float64).eps


def component_means(counts, moments, n_features):
    """Weighted means (centred) from summed statistics, shape (K, D)."""
    return moments[:, -n_features:] / safe_counts(counts)[:, None]


def gaussian_m_step(counts, moments, covariance_type, *, reg_covar, means_centered=None):
    """Maximum-likelihood means and covariances from summed statistics.

    Parameters
    ----------
    counts : ndarray of shape (K,)
        Summed (weighted) responsibilities.
    moments : ndarray of shape (K, width)
        Summed ``r_nk * F(x_n - centre)``.
    covariance_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float
        Added to the diagonal of every covariance, as in scikit-learn.
    means_centered : ndarray of shape (K, D), optional
        Use these (held-fixed) means instead of estimating them; the
        covariances are then the scatter about them (the conditional maximum).

    Returns
    -------
    means_centered : ndarray of shape (K, D)
    covariances : ndarray
        In the layout of ``covariance_type``.
    """
    kernel = kernel_of(covariance_type)
    D = _n_features_from_width(moments.shape[1], kernel)
    if means_centered is None:
        means_centered = component_means(counts, moments, D)
    scatter = scatter_about(counts, moments, kernel, means_centered)
    denominators = safe_counts(counts)
    if covariance_type == "full":
        covariances = scatter / denominators[:, None, None]
        covariances[:, np.arange(D), np.arange(D)] += reg_covar
    elif covariance_type == "tied":
        covariances = scatter.sum(axis=0) / denominators.sum()
        covariances[np.arange(D), np.arange(D)] += reg_covar
    elif covariance_type == "diag":
        covariances = scatter / denominators[:, None] + reg_covar
    else:
        covariances = scatter / (denominators * D) + reg_covar
    return means_centered, covariances


def _n_features_from_width(width, kernel):
    if kernel == "diag":
        return width // 2
    if kernel == "spherical":
        return width - 1
    # width = D(D+1)/2 + D = D(D+3)/2
    return int(round((-3 + np.sqrt(9 + 8 * width)) / 2))


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
        Non-negative regularisation added to every covariance's diagonal
        (for mclust structures: ``reg_covar * n_k`` added to every scatter's
        diagonal, which keeps the structure's constraints).
    center : ndarray of shape (n_features,)
        Data centre subtracted chunk by chunk (numerical soundness).
    dtype : numpy dtype
        Dtype of the chunk products.
    prior : NormalInverseWishart or None
        Conjugate prior on (mean, covariance) of every component (MAP).
    fixed : frozenset of str
        Parameter names ("means", "covariances") held at their current values.
    collapse_ratio : float
        A component whose covariance has an eigenvalue below ``collapse_ratio``
        times the data's variance in that direction has collapsed onto a
        lower-dimensional set (typically a few duplicate points).
    min_count : float
        A component holding less weight than this has collapsed too.

    Attributes
    ----------
    structure : str or None
        mclust's name of the structure (None for the scikit-learn names).
    layout : {"full", "tied", "diag", "spherical"}
        Layout of ``params["precisions_cholesky"]`` and the E-step's kernel.
    """

    param_names = ("means", "covariances")

    def __init__(self, covariance_type, *, reg_covar, center, dtype, data_covariance,
                 prior=None, fixed=frozenset(), collapse_ratio=1e-5, min_count=1.0):
        self.covariance_type = covariance_type
        self.reg_covar = float(reg_covar)
        self.center = np.asarray(center, dtype=np.float64)
        self.n_features = self.center.shape[0]
        self.structure = None
        self.layout = covariance_type
        if covariance_type not in COVARIANCE_TYPES:
            from . import _structured

            # Kept on the instance: the hot M-step and collapse test skip the
            # import machinery (this module cannot import it at the top:
            # _structured imports this module).
            self._structured = _structured
            self.structure = _structured.structure_name(covariance_type, self.n_features)
            self.layout = _structured.structure_layout(self.structure)
        self.kernel = kernel_of(self.layout)
        self.dtype = np.dtype(dtype)
        self.prior = prior
        self.fixed = frozenset(fixed)
        self.collapse_ratio = collapse_ratio
        self.min_count = float(min_count)
        self.data_covariance = np.asarray(data_covariance, dtype=np.float64)
        # Whitening by the data covariance makes the collapse test scale-free.
        floor = 1e-12 * max(np.trace(self.data_covariance) / self.n_features, 1e-300)
        values, vectors = np.linalg.eigh(self.data_covariance)
        values = np.maximum(values, floor)
        self._whiten = vectors / np.sqrt(values)

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
                reg_covar=self.reg_covar, means_centered=fixed_means,
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
        structured = self._structured
        keep_covariances = "covariances" in self.fixed and params is not None
        if keep_covariances and fixed_means is None and self.prior is None:
            # Only the means move: skip the covariance solve.
            return {"means": component_means(counts, moments, self.n_features) + self.center,
                    "covariances": params["covariances"],
                    "precisions_cholesky": params["precisions_cholesky"]}
        means_centered, covariances = structured.structured_m_step(
            self.structure, counts, moments, self.kernel, center=self.center,
            previous_covariances=None if params is None else params.get("covariances"),
            prior=self.prior, reg_covar=self.reg_covar, means_centered=fixed_means,
            prior_terms=self._map_terms(counts.shape[0]),
        )
        if keep_covariances:
            return {"means": means_centered + self.center,
                    "covariances": params["covariances"],
                    "precisions_cholesky": params["precisions_cholesky"]}
        prec_chol, covariances = structured.layout_precision_cholesky(covariances, self.layout)
        return {"means": means_centered + self.center, "covariances": covariances,
                "precisions_cholesky": prec_chol}

    def _map_terms(self, n_components):
        """The prior's pseudo-counts and scatters for an mclust structure, computed once."""
        if self.prior is None:
            return None
        cache = self.__dict__.setdefault("_map_terms_cache", {})
        if n_components not in cache:
            cache[n_components] = self._structured.map_terms(
                self.structure, n_components, self.n_features, self.prior, self.center)
        return cache[n_components]

    def _map_m_step(self, counts, moments, fixed_means):
        from .._priors_gaussian import gaussian_map_m_step

        return gaussian_map_m_step(counts, moments, self.covariance_type, self.prior,
                                   center=self.center, reg_covar=self.reg_covar,
                                   means_centered=fixed_means)

    def log_prior(self, params):
        """Log-density of the conjugate prior at ``params`` (0 without a prior)."""
        if self.prior is None:
            return 0.0
        if self.structure is not None:
            return self._structured.structured_log_prior(self.structure, params, self.prior)
        from .._priors_gaussian import gaussian_log_prior

        return gaussian_log_prior(params, self.covariance_type, self.prior)

    # -- collapse -------------------------------------------------------------
    def collapsed(self, params, counts):
        """Boolean mask (K,) of components that collapsed onto a degenerate set.

        A component has collapsed when it holds less than one sample's worth
        of weight; when, relative to the data's own spread, one direction of
        its covariance has shrunk to nothing (an eigenvalue below
        ``collapse_ratio`` after whitening by the data covariance); or when it
        holds fewer than 2(D+1) samples' worth and is thinner than
        ``1000 * collapse_ratio``. Such a
        component sits on a few, often duplicate, points and inflates the
        likelihood without describing the data.
        """
        K = counts.shape[0]
        if self.structure is not None:
            # One compiled call: this test runs after every M-step of a grid.
            smallest = self._structured.whitened_smallest_eigenvalues(
                np.ascontiguousarray(params["covariances"], dtype=np.float64),
                np.ascontiguousarray(self._whiten))
        else:
            covariances = expand_covariances(params["covariances"], self.covariance_type, K,
                                             self.n_features)
            whitened = np.swapaxes(self._whiten, 0, 1) @ covariances @ self._whiten
            smallest = np.linalg.eigvalsh(whitened)[:, 0]
        # Fewer than 2(D+1) samples' worth cannot pin down a D-dimensional
        # covariance: such a component that is also very thin is a spike on a
        # handful of (near-)collinear or duplicate points, not a cluster.
        few_samples = counts < 2.0 * (self.n_features + 1)
        return ((counts < self.min_count) | (smallest < self.collapse_ratio)
                | (few_samples & (smallest < 1e3 * self.collapse_ratio)))

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
        from ._structured import layout_precision_cholesky

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
        prec_chol, covariances = layout_precision_cholesky(covariances, self.layout)
        params["covariances"] = covariances
        params["precisions_cholesky"] = prec_chol
