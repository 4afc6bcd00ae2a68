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

from .counts import safe_counts

from .. import backend

__all__ = [
    "COVARIANCE_TYPES",
    "kernel_of",
    "feature_width",
    "chunk_features",
    "chunk_features_transposed",
    "quadratic_plan",
    "log_gaussian_from_features",
    "precision_cholesky",
    "precisions_from_cholesky",
    "expand_covariances",
    "split_moments",
    "gaussian_m_step",
    "scatter_about",
    "component_means",
    "safe_counts",
    "FeatureScales",
    "feature_scales",
    "regularization_penalty",
    "is_flat",
    "n_features_from_width",
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
    return backend.ops().log_density_from_quadratic(features @ weights, offsets, log_norm)


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


def precisions_from_cholesky(prec_chol, covariance_type):
    """The precisions ``U U^T`` from their Cholesky factors ``U``, in the same layout.

    Parameters
    ----------
    prec_chol : ndarray
        full (K, D, D), tied (D, D), diag (K, D) or spherical (K,), as
        :func:`precision_cholesky` returns them.
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    precisions : ndarray, same shape as ``prec_chol``

    Examples
    --------
    >>> precisions_from_cholesky(np.array([[[2.0, 1.0], [0.0, 1.0]]]), "full")
    array([[[5., 1.],
            [1., 1.]]])
    >>> precisions_from_cholesky(np.array([0.5, 2.0]), "spherical")
    array([0.25, 4.  ])
    """
    if covariance_type == "full":
        return prec_chol @ np.swapaxes(prec_chol, 1, 2)
    if covariance_type == "tied":
        return prec_chol @ prec_chol.T
    return prec_chol**2


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
    local_scale : ndarray of shape (n_features,)
        The square root of ``local_variance``, measured before squaring (it
        stays representable where the variance would not).
    weight_unit : float
        What one sample weighs: counts divided by it are numbers of samples.
    """

    local_variance: np.ndarray
    resolution: np.ndarray
    constant: np.ndarray
    local_scale: np.ndarray
    weight_unit: float = 1.0


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
    return FeatureScales(local_variance, resolution, constant, local_scale,
                         _weight_unit(sample_weight))


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


def is_flat(covariance, varying):
    """Whether a covariance is singular relative to its own scale over ``varying``."""
    if varying.sum() < 2:
        return False
    block = covariance[np.ix_(varying, varying)]
    scale = np.sqrt(np.diag(block))
    if not (scale > 0).all() or not np.isfinite(block).all():
        return False
    return bool(np.linalg.eigvalsh(block / np.outer(scale, scale))[0] < 1e-9)


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
    D = n_features_from_width(moments.shape[1], kernel)
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


def n_features_from_width(width, kernel):
    if kernel == "diag":
        return width // 2
    if kernel == "spherical":
        return width - 1
    # width = D(D+1)/2 + D = D(D+3)/2
    return int(round((-3 + np.sqrt(9 + 8 * width)) / 2))
