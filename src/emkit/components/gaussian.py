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
from dataclasses import dataclass

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
    "FeatureScales",
    "feature_scales",
    "regularization_penalty",
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



# median non-zero spacing * (number of spacings + 1) of a standard normal sample
# (measured: 2.62 at 272 samples, 2.62 at 20,000), so a local scale is a
# standard deviation for unimodal data.
_SPACING_TO_STD = 2.62
# Largest and smallest spreads whose variances and precisions float64 holds
# with room for products of a few of them.
MAX_SPREAD, MIN_SPREAD = 1e140, 1e-140


@dataclass(frozen=True)
class FeatureScales:
    """Per-feature scales of the data that a fit needs, measured once.

    Attributes
    ----------
    local_variance : ndarray of shape (n_features,)
        Squared *local* scale of every feature: the median spacing of its
        sorted distinct values times their number (over ``_SPACING_TO_STD``).
        For one cluster it is about the variance; unlike the variance it
        does not grow when clusters move apart (one spacing changes), and it
        scales exactly with the data. ``reg_covar`` is relative to it.
    resolution : ndarray of shape (n_features,)
        Smallest non-zero spacing of every feature's values (1 for integer
        data, tiny for continuous data). A component whose own spread is
        below it in some feature sits on tied values.
    constant : ndarray of bool, shape (n_features,)
        Features with a single value: no cluster can have spread there.
    weight_unit : float
        What one sample weighs: counts divided by it are numbers of samples.
    local_scale : ndarray of shape (n_features,) or None
        The square root of ``local_variance``, measured before squaring (it
        stays representable where the variance would not).
    """

    local_variance: np.ndarray
    resolution: np.ndarray
    constant: np.ndarray
    weight_unit: float = 1.0
    local_scale: np.ndarray | None = None


def feature_scales(X, sample_weight=None, *, max_rows=20_000):
    """Measure :class:`FeatureScales` of a data matrix (NaN entries ignored).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None
    max_rows : int
        Spacings are measured on an evenly strided subset of this many rows
        (deterministic), which costs one sort per feature.

    Returns
    -------
    FeatureScales
    """
    n, D = X.shape
    if sample_weight is not None:
        # Frequency weights: a row of weight 0 is not in the data.
        X = X[np.asarray(sample_weight) > 0]
        n = X.shape[0]
    stride = max(1, -(-n // max_rows))
    subset = np.asarray(X[::stride], dtype=np.float64)
    local_scale = np.zeros(D)
    resolution = np.zeros(D)
    for d in range(D):
        values = np.sort(subset[:, d])
        values = values[np.isfinite(values)]
        spacings = np.diff(values)
        spacings = spacings[spacings > 0]
        if spacings.size:
            resolution[d] = spacings.min()
            local_scale[d] = np.median(spacings) * ((spacings.size + 1) / _SPACING_TO_STD)
    constant = local_scale <= 0
    if constant.all():
        # One point repeated: any positive scale is as good as another.
        magnitude = float(np.nanmax(np.abs(subset))) if subset.size else 0.0
        local_scale[:] = magnitude if 0 < magnitude < np.inf else 1.0
    elif constant.any():
        # Scale-equivariant stand-in: the geometric mean of the other features'.
        local_scale[constant] = np.exp(np.log(local_scale[~constant]).mean())
    resolution[constant] = local_scale[constant]
    with np.errstate(over="ignore", under="ignore"):
        # Out of float64's range for extreme data: check_gaussian_scale rejects those.
        local_variance = local_scale * local_scale
    return FeatureScales(local_variance, resolution, constant, _weight_unit(sample_weight),
                         local_scale)


def _weight_unit(sample_weight):
    """What one sample weighs: 1 for integer frequency weights (a weight of 2
    is a repeated row), else the mean positive weight (so that rescaling all
    weights changes nothing)."""
    if sample_weight is None:
        return 1.0
    weights = np.asarray(sample_weight, dtype=np.float64)
    if np.array_equal(weights, np.round(weights)):
        return 1.0
    return float(weights[weights > 0].mean())


def regularization_penalty(psi, prec_chol, layout):
    """``-1/2 sum_k tr(Psi P_k)``: the log-density (up to a constant) of the
    fixed penalty that ``reg_covar`` states, an inverse-Wishart-type prior
    ``p(Sigma) ~ exp(-tr(Psi Sigma^-1) / 2)`` with ``Psi = diag(psi)``.

    Its maximiser in the M-step adds ``Psi`` to every component's scatter
    (see :func:`gaussian_m_step`), so EM with it is an exact MAP algorithm and
    the monitored objective includes this term.

    Parameters
    ----------
    psi : ndarray of shape (n_features,)
    prec_chol : ndarray
        Precision Cholesky factors in ``layout`` (full (K, D, D), tied (D, D),
        diag (K, D), spherical (K,)).
    layout : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    float
    """
    if layout in ("full", "tied"):
        # diag(U U^T)_d = sum_j U_dj^2
        precision_diagonal = np.square(prec_chol).sum(axis=-1)
    elif layout == "diag":
        precision_diagonal = np.square(prec_chol)
    else:
        precision_diagonal = np.square(prec_chol)[:, None] * np.ones_like(psi)
    return -0.5 * float(np.sum(precision_diagonal * psi))


def _is_flat(covariance, varying):
    """Whether a covariance is singular relative to its own scale over ``varying``."""
    if varying.sum() < 2:
        return False
    block = covariance[np.ix_(varying, varying)]
    scale = np.sqrt(np.diag(block))
    if not (scale > 0).all() or not np.isfinite(block).all():
        return False
    return bool(np.linalg.eigvalsh(block / np.outer(scale, scale))[0] < 1e-9)


def safe_counts(counts):
    """Counts kept away from zero (scikit-learn's guard for empty components),
    as a floor relative to the total so that tiny frequency weights are not
    swamped and non-empty components are not biased."""
    return np.maximum(counts, 10 * np.finfo(np.float64).eps * max(float(np.sum(counts)), 1e-300))


def component_means(counts, moments, n_features):
    """Weighted means (centred) from summed statistics, shape (K, D)."""
    return moments[:, -n_features:] / safe_counts(counts)[:, None]


def gaussian_m_step(counts, moments, covariance_type, *, psi=None, means_centered=None):
    """Means and covariances from summed statistics (maximum likelihood, or MAP
    under the fixed ``reg_covar`` penalty of :func:`regularization_penalty`).

    Parameters
    ----------
    counts : ndarray of shape (K,)
        Summed (weighted) responsibilities.
    moments : ndarray of shape (K, width)
        Summed ``r_nk * F(x_n - centre)``.
    covariance_type : {"full", "tied", "diag", "spherical"}
    psi : ndarray of shape (n_features,), optional
        Diagonal of the penalty matrix, added to every scatter (once to the
        pooled scatter for "tied"): ``Sigma_k = (S_k + Psi) / n_k``, the exact
        maximiser of the penalised objective. None or zeros: maximum likelihood.
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
    psi = np.zeros(D) if psi is None else np.asarray(psi, dtype=np.float64)
    denominators = safe_counts(counts)
    diagonal = np.arange(D)
    if covariance_type == "full":
        scatter[:, diagonal, diagonal] += psi
        covariances = scatter / denominators[:, None, None]
    elif covariance_type == "tied":
        covariances = scatter.sum(axis=0)
        covariances[diagonal, diagonal] += psi
        covariances /= denominators.sum()
    elif covariance_type == "diag":
        covariances = (scatter + psi) / denominators[:, None]
    else:
        covariances = (scatter + psi.sum()) / (denominators * D)
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
            from . import _structured

            # Kept on the instance: the hot M-step skips the import machinery
            # (this module cannot import it at the top: _structured imports
            # this module).
            self._structured = _structured
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
            feature_scales = FeatureScales(variances, np.zeros(self.n_features), constant)
        self.scales = feature_scales
        # Data that are themselves flat (collinear features, fewer points than
        # dimensions) make every component flat: no re-seed can mend that.
        self._data_flat = _is_flat(self.data_covariance, ~feature_scales.constant)
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
            prior=self.prior, psi=self.psi, means_centered=fixed_means,
            prior_terms=self._map_terms(counts.shape[0]),
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
        mclust's EEE in :meth:`_map_terms`)."""
        return self.psi * (n_components if self.covariance_type == "tied" else 1)

    def _map_terms(self, n_components):
        """The prior's (or the reg_covar penalty's) pseudo-counts and scatters
        for an mclust structure, computed once.

        The penalty is a prior with no pseudo-counts and scatter ``Psi`` for
        every component, so the compiled MAP M-step maximises it exactly.
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
            cache[n_components] = self._structured.map_terms(
                self.structure, n_components, self.n_features, self.prior, self.center)
        return cache[n_components]

    def _map_m_step(self, counts, moments, fixed_means):
        from .._priors_gaussian import gaussian_map_m_step

        return gaussian_map_m_step(counts, moments, self.covariance_type, self.prior,
                                   center=self.center, means_centered=fixed_means)

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
            return self._structured.structured_log_prior(self.structure, params, self.prior)
        from .._priors_gaussian import gaussian_log_prior

        return gaussian_log_prior(params, self.covariance_type, self.prior)

    # -- unconstrained coordinates (accelerated steppers) -----------------------
    def to_unconstrained(self, params):
        """Means, then covariances as Cholesky factors with log-diagonal
        (log-variances for diag and spherical), as one vector.

        None for mclust's structures, whose constraints (equal volumes,
        shapes or orientations) such coordinates do not keep.
        """
        if self.structure is not None:
            return None
        covariances = np.asarray(params["covariances"], dtype=np.float64)
        if self.covariance_type in ("diag", "spherical"):
            covariance_vector = np.log(covariances).ravel()
        else:
            stack = covariances[None] if self.covariance_type == "tied" else covariances
            try:
                factors = np.linalg.cholesky(stack)
            except np.linalg.LinAlgError:
                return None
            D = self.n_features
            rows, cols = np.tril_indices(D)
            entries = factors[:, rows, cols]
            on_diagonal = rows == cols
            entries[:, on_diagonal] = np.log(entries[:, on_diagonal])
            covariance_vector = entries.ravel()
        return np.concatenate([np.asarray(params["means"], dtype=np.float64).ravel(),
                               covariance_vector])

    def from_unconstrained(self, vector, template):
        """Parameters from :meth:`to_unconstrained`'s vector; ``template``
        supplies shapes and held-fixed parameters. None if not finite."""
        K, D = np.shape(template["means"])
        means = vector[:K * D].reshape(K, D)
        rest = vector[K * D:]
        if "means" in self.fixed:
            means = template["means"]
        if "covariances" in self.fixed:
            return {"means": means, "covariances": template["covariances"],
                    "precisions_cholesky": template["precisions_cholesky"]}
        with np.errstate(over="ignore"):
            if self.covariance_type in ("diag", "spherical"):
                covariances = np.exp(rest).reshape(np.shape(template["covariances"]))
            else:
                rows, cols = np.tril_indices(D)
                entries = rest.reshape(-1, rows.size).copy()
                on_diagonal = rows == cols
                entries[:, on_diagonal] = np.exp(entries[:, on_diagonal])
                factors = np.zeros((entries.shape[0], D, D))
                factors[:, rows, cols] = entries
                covariances = factors @ np.swapaxes(factors, 1, 2)
                if self.covariance_type == "tied":
                    covariances = covariances[0]
        if not (np.isfinite(covariances).all() and np.isfinite(means).all()):
            return None
        prec_chol, covariances = precision_cholesky(covariances, self.covariance_type)
        return {"means": means, "covariances": covariances, "precisions_cholesky": prec_chol}

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
        samples = counts / scales.weight_unit
        min_count = self.min_count if min_count is None else min_count
        # Data with fewer samples than K * min_count cannot give every
        # component that many; re-seeding would not help, so ask for a share.
        result = samples < min(min_count, samples.sum() / counts.size)
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
