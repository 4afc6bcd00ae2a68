"""Compiled kernels of Gaussian mixtures with R mclust's 14 covariance structures.

Three layers, in this one module so that numba's on-disk cache (keyed on a
module's source file) never keeps a caller compiled against an older callee:

1. The covariance M-step solvers. :func:`emkit.components._structures.covariance_mstep`
   states the problem and handles names, priors and options; the arithmetic
   is here. Every solver maximises, over covariances obeying the structure::

       Q(Sigma) = sum_k [ -a_k/2 log|Sigma_k| - 1/2 tr(Sigma_k^{-1} B_k) ]

   for counts ``a`` (K,) and scatter matrices ``B`` (K, D, D) (the ML
   problem, or the MAP one with pseudo-counts and pseudo-scatters added).
   The structures with inner iterations (VEI, VEV, VEE, EVE, VVE) are
   block-coordinate or majorise-minimise loops that never lower ``Q``.
2. One compiled pass for the whole E-step on small data: on a few hundred
   samples the E-step built from BLAS products and row-wise passes (see
   :mod:`emkit.components.gaussian`) is dominated by the fixed cost of its
   dozen array operations and thread launches, not by arithmetic. The
   statistics are exactly those of the feature kernels (moments
   ``sum_n r_nk F(x_n - center)`` in the same column order, counts,
   log-likelihood), so every M-step is shared.
3. EM updates of a small mixture (:func:`em_updates`): a model-level kernel
   that the engine's loop calls to take many updates in one call, for the
   one case where the Python between the kernels of an iteration costs more
   than the kernels, a model-selection grid of small mixtures. It has no
   stopping rule or collapse test of its own: it compiles the engine's
   (:func:`emkit._engine.monitor.aitken_converged`,
   :func:`~emkit._engine.monitor.relative_change_converged`) and the count
   rule of the collapse test (:func:`emkit.components.counts.too_few_samples`)
   from their Python source. numba's cache does not see edits of those
   callees (only of this file): after changing them, touch this file.

These run thousands of times on matrices of a few rows, where numpy's
per-call overhead would cost far more than the arithmetic; hence numba,
serial, on plain float64 arrays. Small linear algebra (Cholesky,
determinants) is written out so that no LAPACK call can raise on a
non-finite or indefinite input, and arithmetic follows numpy's error model
(an empty component divides by zero): such inputs give NaN or infinite
covariances, which the caller detects and repairs. Compiling everything
takes about a minute once; numba caches the result next to this file, and
the build does it (:mod:`emkit.kernels.warmup`) so that users never wait.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .._engine.monitor import (
    RULE_AITKEN,
    RULE_RELATIVE,
    aitken_converged,
    relative_change_converged,
)
from ..components.counts import safe_counts, too_few_samples

__all__ = [
    "STRUCTURE_CODES", "ITERATIVE_CODES", "KERNEL_CODES", "LAYOUT_CODES", "solve_structure",
    "neg2_objective", "structured_m_step_from_moments", "layout_factors",
    "fused_mixture_e_step", "responsibility_moments",
    "classification_log_likelihood", "moments_width", "em_updates", "UPDATES_CONVERGED",
    "UPDATES_DONE", "UPDATES_DECLINED",
]

# E and EII (and V and VII) have the same solver: isotropic covariances.
STRUCTURE_CODES = {
    "E": 0, "EII": 0, "V": 1, "VII": 1, "EEI": 2, "VVI": 3, "EVI": 4, "EEE": 5, "VVV": 6,
    "EVV": 7, "EEV": 8, "VEI": 9, "VEV": 10, "VEE": 11, "EVE": 12, "VVE": 13,
}
ITERATIVE_CODES = frozenset({9, 10, 11, 12, 13})
KERNEL_CODES = {"full": 0, "diag": 1, "spherical": 2}
# Inner-iteration cap of EVE/VVE when some component has fewer than D + 1 counts
# (see _common_orientation_loop).
_SINGULAR_INNER_ITER = 20


# --------------------------------------------------------------------------- helpers
@numba.njit(cache=True, nogil=True, error_model="numpy")
def _cholesky(A, L):
    """Lower Cholesky factor of A into L; False if A is not (numerically) positive definite."""
    D = A.shape[0]
    for j in range(D):
        total = A[j, j]
        for m in range(j):
            total -= L[j, m] * L[j, m]
        if not total > 0.0:  # also catches NaN
            return False
        L[j, j] = math.sqrt(total)
        for i in range(j + 1, D):
            value = A[i, j]
            for m in range(j):
                value -= L[i, m] * L[j, m]
            L[i, j] = value / L[j, j]
        for i in range(j):
            L[i, j] = 0.0
    return True


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _lower_inverse(L, out):
    """Inverse of a lower-triangular matrix (forward substitution)."""
    D = L.shape[0]
    for j in range(D):
        for i in range(D):
            out[i, j] = 0.0
        out[j, j] = 1.0 / L[j, j]
        for i in range(j + 1, D):
            value = 0.0
            for m in range(j, i):
                value -= L[i, m] * out[m, j]
            out[i, j] = value / L[i, i]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _log_det(A, work):
    """log|A| of a symmetric matrix; NaN when A is not positive definite."""
    if not _cholesky(A, work):
        return np.nan
    total = 0.0
    for i in range(A.shape[0]):
        total += math.log(work[i, i])
    return 2.0 * total


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _all_finite(B):
    for value in B.ravel():
        if not math.isfinite(value):
            return False
    return True


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _geomean(values):
    total = 0.0
    for value in values:
        if not value > 0.0:
            return 0.0
        total += math.log(value)
    return math.exp(total / values.shape[0])


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _eigh_descending(A):
    """Eigenvalues (decreasing) and eigenvectors (columns) of a finite symmetric A."""
    values, vectors = np.linalg.eigh(A)
    D = A.shape[0]
    w = np.empty(D)
    V = np.empty((D, D))
    for j in range(D):
        w[j] = values[D - 1 - j]
        for i in range(D):
            V[i, j] = vectors[i, D - 1 - j]
    return w, V


@numba.njit(cache=True, nogil=True, error_model="numpy")
def neg2_objective(a, B, S):
    """``sum_k a_k log|S_k| + tr(S_k^{-1} B_k)`` (to be minimised); inf if some S_k is not PD."""
    K, D = a.shape[0], B.shape[1]
    L = np.empty((D, D))
    Linv = np.empty((D, D))
    total = 0.0
    for k in range(K):
        if not _cholesky(S[k], L):
            return np.inf
        _lower_inverse(L, Linv)
        log_det = 0.0
        for i in range(D):
            log_det += math.log(L[i, i])
        # tr(S^{-1} B) = sum_ij (L^{-1} B L^{-T})_ii
        trace = 0.0
        for i in range(D):
            for p in range(i + 1):
                for q in range(i + 1):
                    trace += Linv[i, p] * B[k, p, q] * Linv[i, q]
        total += a[k] * 2.0 * log_det + trace
    return total


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _moved(S_old, S, tol):
    """Whether some entry moved by more than ``tol * max|S|`` (inner-loop test on the
    parameters: the objective is flat at the optimum, so its change would stop
    the loop with parameters accurate only to about sqrt(tol))."""
    scale = 0.0
    change = 0.0
    for index in range(S.size):
        value = S.flat[index]
        if not math.isfinite(value):
            return False
        scale = max(scale, abs(value))
        change = max(change, abs(value - S_old.flat[index]))
    if scale == 0.0:
        return False
    return change > tol * scale


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _volumes(prev, has_prev, K, D):
    """Volumes |Sigma_k|^{1/D} of the previous covariances (warm start), or ones."""
    lam = np.ones(K)
    if not has_prev:
        return lam
    work = np.empty((D, D))
    for k in range(K):
        log_det = _log_det(prev[k], work)
        value = math.exp(log_det / D) if math.isfinite(log_det) else np.nan
        if not (math.isfinite(value) and value > 0.0):
            return np.ones(K)
        lam[k] = value
    return lam


# --------------------------------------------------------------------- closed forms
@numba.njit(cache=True, nogil=True, error_model="numpy")
def _closed_form(code, a, B, S):
    K, D = a.shape[0], B.shape[1]
    a_total = a.sum()
    if code == 0:  # E / EII: one variance
        trace = 0.0
        for k in range(K):
            for i in range(D):
                trace += B[k, i, i]
        for k in range(K):
            for i in range(D):
                S[k, i, i] = trace / (D * a_total)
    elif code == 1:  # V / VII
        for k in range(K):
            trace = 0.0
            for i in range(D):
                trace += B[k, i, i]
            for i in range(D):
                S[k, i, i] = trace / (D * a[k])
    elif code == 2:  # EEI
        for i in range(D):
            total = 0.0
            for k in range(K):
                total += B[k, i, i]
            for k in range(K):
                S[k, i, i] = total / a_total
    elif code == 3:  # VVI
        for k in range(K):
            for i in range(D):
                S[k, i, i] = B[k, i, i] / a[k]
    elif code == 4:  # EVI: shape_k = diag(B_k) / geomean(diag(B_k)), common volume
        diagonal = np.empty((K, D))
        g = np.empty(K)
        for k in range(K):
            for i in range(D):
                diagonal[k, i] = B[k, i, i]
            g[k] = _geomean(diagonal[k])
        lam = g.sum() / a_total
        for k in range(K):
            for i in range(D):
                S[k, i, i] = lam * diagonal[k, i] / g[k]
    elif code == 5:  # EEE
        for i in range(D):
            for j in range(D):
                total = 0.0
                for k in range(K):
                    total += B[k, i, j]
                for k in range(K):
                    S[k, i, j] = total / a_total
    elif code == 6:  # VVV
        for k in range(K):
            for i in range(D):
                for j in range(D):
                    S[k, i, j] = B[k, i, j] / a[k]
    elif code == 7:  # EVV: C_k = B_k / |B_k|^{1/D}, common volume (mclust's msevv)
        work = np.empty((D, D))
        g = np.empty(K)
        for k in range(K):
            g[k] = math.exp(_log_det(B[k], work) / D)
        lam = g.sum() / a_total
        for k in range(K):
            for i in range(D):
                for j in range(D):
                    S[k, i, j] = lam * B[k, i, j] / g[k]
    else:  # 8, EEV: eigenvectors of B_k, common shape from the summed eigenvalues
        w = np.empty((K, D))
        V = np.empty((K, D, D))
        for k in range(K):
            values, vectors = _eigh_descending(B[k])
            w[k, :] = values
            V[k, :, :] = vectors
        summed = np.zeros(D)
        for k in range(K):
            for j in range(D):
                summed[j] += w[k, j]
        g = _geomean(summed)
        lam = g / a_total
        for k in range(K):
            for i in range(D):
                for j in range(D):
                    value = 0.0
                    for m in range(D):
                        value += V[k, i, m] * (summed[m] / g) * V[k, j, m]
                    S[k, i, j] = lam * value


# ------------------------------------------------------------ iterative structures
@numba.njit(cache=True, nogil=True, error_model="numpy")
def _common_shape_loop(a, values, vectors, use_vectors, prev, has_prev, max_iter, tol, S,
                       track, B, hist):
    """VEI (values = diagonals) and VEV (values = eigenvalues, with their vectors).

    (1) Given the volumes, the common unit-determinant shape is the normalised
    sum of values_k / lambda_k; (2) given the shape, each volume is
    sum_j values_kj / A_j / (D a_k). Both are exact block maximisations.
    """
    K, D = values.shape
    lam = _volumes(prev, has_prev, K, D)
    shape = np.empty(D)
    S_old = np.empty_like(S)
    n_iter = 0
    n_hist = 0
    for n_iter in range(1, max_iter + 1):
        for j in range(D):
            total = 0.0
            for k in range(K):
                total += values[k, j] / lam[k]
            shape[j] = total
        g = _geomean(shape)
        for j in range(D):
            shape[j] /= g
        for k in range(K):
            total = 0.0
            for j in range(D):
                total += values[k, j] / shape[j]
            lam[k] = total / (D * a[k])
        S_old[:] = S
        for k in range(K):
            for i in range(D):
                for j in range(D):
                    if use_vectors:
                        value = 0.0
                        for m in range(D):
                            value += vectors[k, i, m] * shape[m] * vectors[k, j, m]
                        S[k, i, j] = lam[k] * value
                    else:
                        S[k, i, j] = lam[k] * shape[i] if i == j else 0.0
        if track:
            hist[n_hist] = neg2_objective(a, B, S)
            n_hist += 1
        if n_iter > 1 and not _moved(S_old, S, tol):
            break
    return n_iter, n_hist


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _vee_loop(a, B, prev, has_prev, max_iter, tol, S, track, hist):
    """VEE: Sigma_k = lambda_k C, |C| = 1 (mclust's msvee). (1) C is the
    determinant-normalised sum of B_k / lambda_k; (2) lambda_k = tr(C^{-1} B_k) / (D a_k)."""
    K, D = a.shape[0], B.shape[1]
    lam = _volumes(prev, has_prev, K, D)
    C = np.empty((D, D))
    work = np.empty((D, D))
    Linv = np.empty((D, D))
    S_old = np.empty_like(S)
    n_iter = 0
    n_hist = 0
    for n_iter in range(1, max_iter + 1):
        for i in range(D):
            for j in range(D):
                total = 0.0
                for k in range(K):
                    total += B[k, i, j] / lam[k]
                C[i, j] = total
        if not _cholesky(C, work):
            S[:] = np.nan
            return n_iter, n_hist
        log_det = 0.0
        for i in range(D):
            log_det += 2.0 * math.log(work[i, i])
        scale = math.exp(log_det / D)
        for i in range(D):
            for j in range(D):
                C[i, j] /= scale
        _cholesky(C, work)
        _lower_inverse(work, Linv)
        for k in range(K):
            # tr(C^{-1} B_k) = sum_i (L^{-1} B_k L^{-T})_ii
            trace = 0.0
            for i in range(D):
                for p in range(i + 1):
                    for q in range(i + 1):
                        trace += Linv[i, p] * B[k, p, q] * Linv[i, q]
            lam[k] = trace / (D * a[k])
        S_old[:] = S
        for k in range(K):
            for i in range(D):
                for j in range(D):
                    S[k, i, j] = lam[k] * C[i, j]
        if track:
            hist[n_hist] = neg2_objective(a, B, S)
            n_hist += 1
        if n_iter > 1 and not _moved(S_old, S, tol):
            break
    return n_iter, n_hist


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _orientation_scales(Dm, a, B, variable_volume, L):
    """Given the orientation, the best lambda_k A_k: diag(D^T B_k D) / a_k (VVE),
    or shapes diag(.)/geomean with one common volume (EVE)."""
    K, D = a.shape[0], B.shape[1]
    for k in range(K):
        for j in range(D):
            value = 0.0
            for p in range(D):
                for q in range(D):
                    value += Dm[p, j] * B[k, p, q] * Dm[q, j]
            L[k, j] = value
    if variable_volume:
        for k in range(K):
            for j in range(D):
                L[k, j] /= a[k]
    else:
        g = np.empty(K)
        for k in range(K):
            g[k] = _geomean(L[k])
        lam = g.sum() / a.sum()
        for k in range(K):
            for j in range(D):
                L[k, j] = lam * L[k, j] / g[k]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _assemble_common(Dm, L, S):
    K, D = L.shape
    for k in range(K):
        for i in range(D):
            for j in range(D):
                value = 0.0
                for m in range(D):
                    value += Dm[i, m] * L[k, m] * Dm[j, m]
                S[k, i, j] = value


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _jacobi_sweep(Dm, B, u, M):
    """One sweep of exact Givens rotations minimising sum_kj u_kj (D^T B_k D)_jj.

    Rotating the column pair (i, j) by t changes the objective by
    alpha (cos 2t - 1) + beta sin 2t, so the best angle is an atan2. The
    rotated products M_k = D^T B_k D (scratch of shape (K, D, D)) are formed
    once per sweep and then rotated with D, two rows and columns per pair:
    O(K D^3) a sweep instead of O(K D^4) (D = 30 with fewer samples than
    features needs hundreds of sweeps per M-step).
    """
    K, D = u.shape
    column = np.empty(D)
    for k in range(K):
        for p in range(D):
            for j in range(D):
                value = 0.0
                for q in range(D):
                    value += B[k, p, q] * Dm[q, j]
                column[j] = value
            for i in range(D):
                M[k, p, i] = column[i]
        # M_k holds B_k D; overwrite it column by column with D^T (B_k D).
        for j in range(D):
            for i in range(D):
                value = 0.0
                for p in range(D):
                    value += Dm[p, i] * M[k, p, j]
                column[i] = value
            for i in range(D):
                M[k, i, j] = column[i]
    for i in range(D - 1):
        for j in range(i + 1, D):
            alpha = 0.0
            beta = 0.0
            for k in range(K):
                du = u[k, i] - u[k, j]
                alpha += du * (M[k, i, i] - M[k, j, j]) * 0.5
                beta += du * M[k, i, j]
            if alpha == 0.0 and beta == 0.0:
                continue
            t = 0.5 * math.atan2(-beta, -alpha)
            c = math.cos(t)
            s = math.sin(t)
            for p in range(D):
                di = Dm[p, i]
                dj = Dm[p, j]
                Dm[p, i] = c * di + s * dj
                Dm[p, j] = -s * di + c * dj
            for k in range(K):
                m00 = M[k, i, i]
                m11 = M[k, j, j]
                m01 = M[k, i, j]
                for p in range(D):
                    mi = M[k, p, i]
                    mj = M[k, p, j]
                    M[k, p, i] = c * mi + s * mj
                    M[k, p, j] = -s * mi + c * mj
                for p in range(D):
                    M[k, i, p] = M[k, p, i]
                    M[k, j, p] = M[k, p, j]
                M[k, i, i] = c * c * m00 + 2.0 * c * s * m01 + s * s * m11
                M[k, j, j] = s * s * m00 - 2.0 * c * s * m01 + c * c * m11
                value = (c * c - s * s) * m01 + c * s * (m11 - m00)
                M[k, i, j] = value
                M[k, j, i] = value


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _mm_step(Dm, B, u, omega):
    """Browne & McNicholas (2014) MM1 + MM2 for the common orientation (mclust's
    mseve/msvve): each minimises a linear majoriser, whose minimiser over
    orthogonal matrices is P R^T from an SVD."""
    K, D = u.shape
    G = np.zeros((D, D))
    for k in range(K):
        for p in range(D):
            for j in range(D):
                value = 0.0
                for q in range(D):
                    entry = -B[k, p, q]
                    if p == q:
                        entry += omega[k]
                    value += entry * Dm[q, j]
                G[p, j] += value * u[k, j]
    P, _, Rt = np.linalg.svd(G)
    Dm[:, :] = P @ Rt
    G[:, :] = 0.0
    for k in range(K):
        umax = u[k].max()
        for p in range(D):
            for j in range(D):
                value = 0.0
                for q in range(D):
                    value += B[k, p, q] * Dm[q, j]
                G[p, j] += value * (umax - u[k, j])
    P, _, Rt = np.linalg.svd(G)
    Dm[:, :] = P @ Rt


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _common_orientation_loop(a, B, prev, has_prev, max_iter, tol, variable_volume, use_mm,
                             mclust_compatible, S, track, hist):
    """EVE / VVE: Sigma_k = lambda(_k) D A_k D^T with one orientation D.

    (1) Given D the volumes and shapes are closed-form; (2) given them, D
    minimises sum_k tr(D^T B_k D L_k^{-1}) (L_k = lambda_k A_k): Jacobi
    rotations or MM steps, both monotone.
    """
    K, D = a.shape[0], B.shape[1]
    for k in range(K):
        if a[k] < D + 1:
            # Fewer counts than D + 1: B_k is singular but for any ridge or
            # prior scatter, and -2 Q keeps falling (slower and slower) as the
            # orientation turns into its null space, so the loop would run to
            # its cap at every M-step (seconds each for D = 30). A few monotone
            # steps from the previous orientation keep EM monotone.
            max_iter = min(max_iter, _SINGULAR_INNER_ITER)
    # Start from the previous orientation: the eigenvectors of a generic
    # combination of the previous covariances, which all share them (one
    # covariance alone may be isotropic and so say nothing).
    start = np.zeros((D, D))
    if has_prev and _all_finite(prev):
        for k in range(K):
            weight = 1.0 + 0.6180339887 * k
            for i in range(D):
                for j in range(D):
                    start[i, j] += weight * prev[k, i, j]
    else:
        for k in range(K):
            for i in range(D):
                for j in range(D):
                    start[i, j] += B[k, i, j] / a[k]
    _, Dm = np.linalg.eigh(start)
    Dm = np.ascontiguousarray(Dm)
    omega = np.empty(K)
    if use_mm:
        for k in range(K):
            omega[k] = np.linalg.eigvalsh(B[k])[D - 1]
    L = np.empty((K, D))
    u = np.empty((K, D))
    rotated = np.empty((K, D, D))
    _orientation_scales(Dm, a, B, variable_volume, L)
    _assemble_common(Dm, L, S)
    S_old = np.empty_like(S)
    n_hist = 0
    if track:
        hist[n_hist] = neg2_objective(a, B, S)
        n_hist += 1
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        for k in range(K):
            g = _geomean(L[k]) if mclust_compatible else 1.0
            for j in range(D):
                # mclust's msvve/mevve weight the orientation update by the
                # shapes A_k only, leaving out 1/lambda_k (not Q's maximiser for VVE).
                u[k, j] = g / L[k, j]
        if use_mm:
            _mm_step(Dm, B, u, omega)
        else:
            _jacobi_sweep(Dm, B, u, rotated)
        _orientation_scales(Dm, a, B, variable_volume, L)
        S_old[:] = S
        _assemble_common(Dm, L, S)
        if track:
            hist[n_hist] = neg2_objective(a, B, S)
            n_hist += 1
        if not _moved(S_old, S, tol):
            break
    return n_iter, n_hist


# ---------------------------------------------------------------------------- entry
@numba.njit(cache=True, nogil=True, error_model="numpy")
def _solve(code, a, B, prev, has_prev, max_iter, tol, use_mm, mclust_compatible, track):
    K, D = a.shape[0], B.shape[1]
    S = np.zeros((K, D, D))
    hist = np.empty(max_iter + 2 if track else 0)
    n_iter = 0
    n_hist = 0
    if not _all_finite(B):
        S[:] = np.nan
    elif code <= 8:
        _closed_form(code, a, B, S)
    elif code == 9 or code == 10:
        values = np.empty((K, D))
        vectors = np.empty((K, D, D))
        for k in range(K):
            if code == 9:
                for j in range(D):
                    values[k, j] = B[k, j, j]
            else:
                w, V = _eigh_descending(B[k])
                values[k, :] = w
                vectors[k, :, :] = V
        n_iter, n_hist = _common_shape_loop(a, values, vectors, code == 10, prev, has_prev,
                                            max_iter, tol, S, track, B, hist)
    elif code == 11:
        n_iter, n_hist = _vee_loop(a, B, prev, has_prev, max_iter, tol, S, track, hist)
    else:
        n_iter, n_hist = _common_orientation_loop(a, B, prev, has_prev, max_iter, tol,
                                                  code == 13, use_mm, mclust_compatible, S,
                                                  track, hist)
    # Symmetrise away the rounding of the products above.
    for k in range(K):
        for i in range(D):
            for j in range(i + 1, D):
                value = 0.5 * (S[k, i, j] + S[k, j, i])
                S[k, i, j] = value
                S[k, j, i] = value
    return S, n_iter, hist[:n_hist]


def solve_structure(code, a, B, previous=None, *, max_iter=1000, tol=1e-10, use_mm=False,
                    mclust_compatible=False, track=False):
    """Maximise ``Q`` (module docstring) over the structure ``code``.

    Parameters
    ----------
    code : int
        :data:`STRUCTURE_CODES` of the structure.
    a : ndarray of shape (K,)
    B : ndarray of shape (K, D, D), symmetric
    previous : ndarray of shape (K, D, D), optional
        Warm start of the inner iterations (volumes, or the common orientation).
    max_iter, tol : inner-loop cap and relative parameter tolerance. EVE and
        VVE stop after ``_SINGULAR_INNER_ITER`` iterations when some ``a_k <
        D + 1`` (singular scatters: the loop cannot converge; each iteration
        still lowers ``-2 Q``, so EM stays monotone).
    use_mm : bool
        EVE/VVE orientation by MM steps (mclust's) instead of Jacobi rotations.
    mclust_compatible : bool
        VVE: mclust's orientation update (see ``covariance_mstep``).
    track : bool
        Also return ``-2 Q`` after every inner iteration.

    Returns
    -------
    S : ndarray of shape (K, D, D)
    n_iter : int
    hist : ndarray of shape (n,)
        ``-2 Q`` per inner iteration (empty unless ``track``).
    """
    a = np.ascontiguousarray(a, dtype=np.float64)
    B = np.ascontiguousarray(B, dtype=np.float64)
    has_prev = previous is not None
    prev = np.ascontiguousarray(previous, dtype=np.float64) if has_prev else B
    return _solve(int(code), a, B, prev, has_prev, int(max_iter), float(tol), bool(use_mm),
                  bool(mclust_compatible), bool(track))


# ------------------------------------------------------- the fused small-data M-step
@numba.njit(cache=True, nogil=True, error_model="numpy")
def _m_step_from_moments(code, kernel, counts, moments, prev, has_prev, reg_covar, has_prior,
                         kappa, loc_centered, prior_counts, prior_scatter, max_iter, tol):
    K, width = moments.shape
    D = loc_centered.shape[0]
    n_k = counts + 10.0 * 2.220446049250313e-16
    means = np.empty((K, D))
    for k in range(K):
        for i in range(D):
            means[k, i] = moments[k, width - D + i] / n_k[k]
            if has_prior and kappa > 0.0:
                means[k, i] = (counts[k] * means[k, i] + kappa * loc_centered[i]) / (
                    counts[k] + kappa)
    # Scatter about the (new) means from the summed moments.
    B = np.zeros((K, D, D))
    for k in range(K):
        if kernel == 0:
            column = 0
            for i in range(D):
                for j in range(i, D):
                    value = (moments[k, column] - moments[k, width - D + i] * means[k, j]
                             - means[k, i] * moments[k, width - D + j]
                             + counts[k] * means[k, i] * means[k, j])
                    B[k, i, j] = value
                    B[k, j, i] = value
                    column += 1
        elif kernel == 1:
            for i in range(D):
                value = (moments[k, i] - 2.0 * moments[k, width - D + i] * means[k, i]
                         + counts[k] * means[k, i] * means[k, i])
                B[k, i, i] = max(value, 0.0)
        else:
            value = moments[k, 0]
            for i in range(D):
                value += (-2.0 * moments[k, width - D + i] * means[k, i]
                          + counts[k] * means[k, i] * means[k, i])
            value = max(value, 0.0) / D
            for i in range(D):
                B[k, i, i] = value
    a = n_k.copy()
    if has_prior:
        for k in range(K):
            a[k] += prior_counts[k]
            for i in range(D):
                for j in range(D):
                    B[k, i, j] += prior_scatter[k, i, j]
                    if kappa > 0.0:
                        B[k, i, j] += (kappa * (means[k, i] - loc_centered[i])
                                       * (means[k, j] - loc_centered[j]))
    elif reg_covar > 0.0:
        for k in range(K):
            for i in range(D):
                B[k, i, i] += reg_covar * n_k[k]
    # A computed False, not the literal: numba would compile _solve again for
    # Literal[bool] arguments (half a minute of compilation on a cold cache).
    off = max_iter < 0
    S, n_iter, _ = _solve(code, a, B, prev, has_prev, max_iter, tol, off, off, off)
    return means, S


def structured_m_step_from_moments(code, kernel, counts, moments, previous, *, reg_covar,
                                   prior_terms, max_iter=1000, tol=1e-10):
    """Means and covariances of an mclust structure from feature moments, in one call.

    Parameters
    ----------
    code : int
        :data:`STRUCTURE_CODES`.
    kernel : {"full", "diag", "spherical"}
        Feature layout of ``moments`` (see :mod:`emkit.components.gaussian`).
    counts : ndarray of shape (K,)
    moments : ndarray of shape (K, width)
        Summed ``r_nk F(x_n - center)``.
    previous : ndarray of shape (K, D, D) or None
        Warm start for the iterative structures.
    reg_covar : float
        ``reg_covar * n_k`` added to every scatter's diagonal (ML only).
    prior_terms : tuple or None
        ``(kappa, loc - center, prior_counts (K,), prior_scatter (K, D, D))``:
        the MAP means use ``kappa`` and ``loc``; the covariance problem adds
        ``prior_counts`` (including the mean prior's 1) to the counts and
        ``prior_scatter + kappa (mu_k - loc)(mu_k - loc)^T`` to the scatters.

    Returns
    -------
    means_centered : ndarray of shape (K, D)
    covariances : ndarray of shape (K, D, D)
    """
    K = counts.shape[0]
    has_prior = prior_terms is not None
    if has_prior:
        kappa, loc_centered, prior_counts, prior_scatter = prior_terms
    else:
        D = _n_features(moments.shape[1], KERNEL_CODES[kernel])
        kappa, loc_centered = 0.0, np.zeros(D)
        prior_counts, prior_scatter = np.zeros(K), np.zeros((K, D, D))
    has_prev = previous is not None
    prev = np.ascontiguousarray(previous, dtype=np.float64) if has_prev else prior_scatter
    return _m_step_from_moments(int(code), KERNEL_CODES[kernel],
                                np.ascontiguousarray(counts, dtype=np.float64),
                                np.ascontiguousarray(moments, dtype=np.float64), prev, has_prev,
                                float(reg_covar), has_prior, float(kappa),
                                np.ascontiguousarray(loc_centered, dtype=np.float64),
                                np.ascontiguousarray(prior_counts, dtype=np.float64),
                                np.ascontiguousarray(prior_scatter, dtype=np.float64),
                                int(max_iter), float(tol))


def _n_features(width, kernel_code):
    if kernel_code == 1:
        return width // 2
    if kernel_code == 2:
        return width - 1
    return int(round((-3 + math.sqrt(9 + 8 * width)) / 2))


# ------------------------------------------------------------------ precision factors
@numba.njit(cache=True, nogil=True, error_model="numpy")
def _layout_factors(S, kernel, out_full, out_diag, out_spherical):
    """Precision Cholesky factors of every S_k in the kernel's layout; False if some
    S_k is not positive definite (the caller then repairs it)."""
    K, D = S.shape[0], S.shape[1]
    L = np.empty((D, D))
    Linv = np.empty((D, D))
    for k in range(K):
        if kernel == 0:
            if not _cholesky(S[k], L):
                return False
            _lower_inverse(L, Linv)
            # precision = L^{-T} L^{-1} = U U^T with U = (L^{-1})^T upper triangular.
            for i in range(D):
                for j in range(D):
                    out_full[k, i, j] = Linv[j, i]
        elif kernel == 1:
            for i in range(D):
                value = S[k, i, i]
                if not (value > 0.0 and math.isfinite(value)):
                    return False
                out_diag[k, i] = 1.0 / math.sqrt(value)
        else:
            value = 0.0
            for i in range(D):
                value += S[k, i, i]
            value /= D
            if not (value > 0.0 and math.isfinite(value)):
                return False
            out_spherical[k] = 1.0 / math.sqrt(value)
    return True


def layout_factors(covariances, kernel):
    """Precision Cholesky factors in the kernel's layout, or None if one fails.

    Parameters
    ----------
    covariances : ndarray of shape (K, D, D), float64, C-contiguous
    kernel : {"full", "diag", "spherical"}

    Returns
    -------
    ndarray or None
        full (K, D, D) upper triangular with ``precision = U U^T``, diag
        (K, D), spherical (K,); None when a covariance is not positive
        definite (repair it with :func:`emkit.components.gaussian.precision_cholesky`).
    """
    K, D = covariances.shape[0], covariances.shape[1]
    code = KERNEL_CODES[kernel]
    full = np.empty((K, D, D)) if code == 0 else np.empty((0, 0, 0))
    diag = np.empty((K, D)) if code == 1 else np.empty((0, 0))
    spherical = np.empty(K) if code == 2 else np.empty(0)
    if not _layout_factors(covariances, code, full, diag, spherical):
        return None
    return (full, diag, spherical)[code]


# ============================================================= small-data E-step
# Precision layouts (see emkit.components.gaussian.quadratic_plan) as ints.
LAYOUT_CODES = {"full": 0, "diag": 1, "spherical": 2}
_LOG_2PI = math.log(2.0 * math.pi)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _row_features(X, row, center, layout, centered, features):
    """Centre one sample and write its features in the column order of chunk_features."""
    D = X.shape[1]
    width = features.shape[0]
    for i in range(D):
        centered[i] = X[row, i] - center[i]
    if layout == 0:
        column = 0
        for i in range(D):
            for j in range(i, D):
                features[column] = centered[i] * centered[j]
                column += 1
    elif layout == 1:
        for i in range(D):
            features[i] = centered[i] * centered[i]
    else:
        total = 0.0
        for i in range(D):
            total += centered[i] * centered[i]
        features[0] = total
    for i in range(D):
        features[width - D + i] = centered[i]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _responsibility_moments(X, center, resp, sample_weight, layout, moments, counts):
    n, D = X.shape
    K = resp.shape[1]
    width = moments.shape[1]
    use_weights = sample_weight.shape[0] > 0
    centered = np.empty(D)
    features = np.empty(width)
    for row in range(n):
        _row_features(X, row, center, layout, centered, features)
        weight = sample_weight[row] if use_weights else 1.0
        for k in range(K):
            responsibility = resp[row, k] * weight
            if responsibility != 0.0:
                counts[k] += responsibility
                for c in range(width):
                    moments[k, c] += responsibility * features[c]


def responsibility_moments(X, center, resp, layout, sample_weight=None):
    """Statistics of given responsibilities (an initial M-step), in one compiled pass.

    Parameters
    ----------
    X : ndarray of shape (n, D), float64, C-contiguous
    center : ndarray of shape (D,)
    resp : ndarray of shape (n, K)
    layout : {"full", "diag", "spherical"}
    sample_weight : ndarray of shape (n,), optional

    Returns
    -------
    stats : dict
        ``"moments"`` (K, width) and ``"counts"`` (K,), as an E-step returns them.
    """
    K, D = resp.shape[1], X.shape[1]
    code = LAYOUT_CODES[layout]
    moments = np.zeros((K, moments_width(code, D)))
    counts = np.zeros(K)
    weights = _NO_WEIGHTS if sample_weight is None else sample_weight
    _responsibility_moments(X, center, np.ascontiguousarray(resp, dtype=np.float64), weights,
                            code, moments, counts)
    return {"moments": moments, "counts": counts}


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _fused_e_step(X, center, means_centered, factors, layout, log_weights, sample_weight,
                  moments, counts, log_max_resp):
    n, D = X.shape
    K = means_centered.shape[0]
    width = moments.shape[1]
    use_weights = sample_weight.shape[0] > 0
    # Per-component constant: log|P_k|^{1/2} - D/2 log(2 pi) + log pi_k.
    constants = np.empty(K)
    for k in range(K):
        log_det = 0.0
        if layout == 0:
            for i in range(D):
                log_det += math.log(factors[k, i, i])
        elif layout == 1:
            for i in range(D):
                log_det += math.log(factors[k, 0, i])
        else:
            log_det = D * math.log(factors[k, 0, 0])
        constants[k] = log_det - 0.5 * D * _LOG_2PI + log_weights[k]
    centered = np.empty(D)
    diff = np.empty(D)
    features = np.empty(width)
    log_prob = np.empty(K)
    loglik = 0.0
    for row in range(n):
        _row_features(X, row, center, layout, centered, features)
        row_max = -np.inf
        for k in range(K):
            for i in range(D):
                diff[i] = centered[i] - means_centered[k, i]
            quadratic = 0.0
            if layout == 0:
                # ||U^T (x - mu)||^2 with U upper triangular (precision = U U^T).
                for j in range(D):
                    value = 0.0
                    for i in range(j + 1):
                        value += diff[i] * factors[k, i, j]
                    quadratic += value * value
            elif layout == 1:
                for i in range(D):
                    value = diff[i] * factors[k, 0, i]
                    quadratic += value * value
            else:
                scale = factors[k, 0, 0] * factors[k, 0, 0]
                for i in range(D):
                    quadratic += diff[i] * diff[i]
                quadratic *= scale
            value = constants[k] - 0.5 * quadratic
            log_prob[k] = value
            if value > row_max:
                row_max = value
        if row_max == -np.inf:
            # No component gives this sample any density (all weights zero).
            loglik += -np.inf
            continue
        total = 0.0
        for k in range(K):
            log_prob[k] = math.exp(log_prob[k] - row_max)
            total += log_prob[k]
        weight = sample_weight[row] if use_weights else 1.0
        loglik += weight * (row_max + math.log(total))
        # log max_k z_nk = row_max - log p(x_n) (for ICL's classification entropy)
        log_max_resp[0] -= weight * math.log(total)
        scale = weight / total
        for k in range(K):
            responsibility = log_prob[k] * scale
            counts[k] += responsibility
            for c in range(width):
                moments[k, c] += responsibility * features[c]
    return loglik


def fused_mixture_e_step(X, center, means_centered, prec_chol, layout, log_weights,
                         sample_weight=None):
    """Statistics and log-likelihood of one mixture E-step in one compiled pass.

    Parameters
    ----------
    X : ndarray of shape (n, D), float64, C-contiguous
    center : ndarray of shape (D,)
        The centre the moments are taken about.
    means_centered : ndarray of shape (K, D)
        Component means minus ``center``.
    prec_chol : ndarray
        Precision Cholesky factors in ``layout``: full (K, D, D) upper
        triangular with ``precision = U U^T``, diag (K, D), spherical (K,).
    layout : {"full", "diag", "spherical"}
    log_weights : ndarray of shape (K,)
    sample_weight : ndarray of shape (n,), optional

    Returns
    -------
    stats : dict
        ``"moments"`` (K, width) in the column order of
        :func:`emkit.components.gaussian.chunk_features` for the layout's
        kernel and ``"counts"`` (K,), both float64.
    loglik : float
    """
    K, D = means_centered.shape
    code = LAYOUT_CODES[layout]
    # One (K, ., .) array type for the three layouts keeps one compiled version.
    factors = prec_chol.reshape(K, 1, -1) if code else prec_chol
    moments = np.zeros((K, moments_width(code, D)))
    counts = np.zeros(K)
    weights = _NO_WEIGHTS if sample_weight is None else sample_weight
    loglik = _fused_e_step(X, center, means_centered, factors, code, log_weights, weights,
                           moments, counts, np.zeros(1))
    return {"moments": moments, "counts": counts}, loglik


def classification_log_likelihood(X, center, means_centered, prec_chol, layout, log_weights):
    """Log-likelihood and ``sum_n log max_k z_nk`` (ICL's entropy term) of a mixture.

    Same arguments as :func:`fused_mixture_e_step` (no sample weights).

    Returns
    -------
    loglik : float
    log_max_resp : float
        ``sum_n log max_k p(k | x_n)`` (<= 0).
    """
    K, D = means_centered.shape
    code = LAYOUT_CODES[layout]
    factors = prec_chol.reshape(K, 1, -1) if code else prec_chol
    log_max_resp = np.zeros(1)
    loglik = _fused_e_step(X, center, means_centered, factors, code, log_weights, _NO_WEIGHTS,
                           np.zeros((K, moments_width(code, D))), np.zeros(K), log_max_resp)
    return float(loglik), float(log_max_resp[0])


_NO_WEIGHTS = np.empty(0)


# ------------------------------------------------- EM updates of a small mixture
# The rules' own functions, compiled here: the stopping rules of the engine's
# monitor and the count rule of GaussianComponent's collapse test, one copy
# each (see emkit._engine.monitor and emkit.components.counts).
_aitken_converged = numba.njit(cache=True, nogil=True)(aitken_converged)
_relative_change_converged = numba.njit(cache=True, nogil=True)(relative_change_converged)
_too_few_samples = numba.njit(cache=True, nogil=True)(too_few_samples)
_safe_counts = numba.njit(cache=True, nogil=True)(safe_counts)

# Outcomes of em_updates.
UPDATES_CONVERGED = 0  # the stopping rule holds at the last update
UPDATES_DONE = 1  # all the updates asked for, not converged
# A component on too few samples (to re-seed), a covariance not positive
# definite or a non-finite objective: the engine takes these updates itself.
UPDATES_DECLINED = 2


@numba.njit(cache=True, nogil=True)
def _rule_converged(rule, length, objectives, logliks, last, n_samples, tol):
    """The stopping rule ``rule`` (emkit._engine.monitor's codes) at ``objectives[last]``."""
    if rule == RULE_AITKEN:
        return _aitken_converged(length, objectives[last - 2] if last >= 2 else np.nan,
                                 objectives[last - 1] if last >= 1 else np.nan,
                                 objectives[last], n_samples, tol)
    if rule == RULE_RELATIVE:
        return _relative_change_converged(length, logliks[last - 1] if last >= 1 else np.nan,
                                          logliks[last], tol)
    return False


@numba.njit(cache=True, nogil=True, error_model="numpy")
def em_updates(X, sample_weight, center, code, kernel, means, covariances, weights, factors,
               moments, counts, n_updates, rule, tol, n_samples, objectives, logliks, n_seed,
               length, has_prior, kappa, loc_centered, prior_counts, prior_scatter,
               max_inner_iter, inner_tol, weight_unit, min_count):
    """Up to ``n_updates`` EM updates of a Gaussian mixture with an mclust
    structure in one call, stopping where the engine's stopping rule would.

    Each update is what the engine's EM step computes for
    ``SmallGaussianMixtureModel``: the structured M-step from the statistics,
    the weights (``safe_counts``, normalised), the precision factors, the
    fused E-step and the objective. There is no stopping rule and no collapse
    test of its own: the rule is the monitor's, compiled (``rule``, ``tol``,
    ``n_samples`` from :meth:`~emkit._engine.monitor.ConvergenceMonitor.compiled_rule`),
    and an update that the component's count rule would stop for (a
    re-seed), or that fails numerically, ends the call declined.

    Parameters
    ----------
    means, covariances, weights, factors : ndarray
        Current parameters (means minus ``center``, (K, D, D) covariances,
        precision factors as (K, ., .)); updated in place.
    moments, counts : ndarray
        Statistics of the current parameters' E-step; updated in place.
    objectives, logliks : ndarray of shape (n_seed + n_updates,)
        The first ``n_seed`` entries are the last values recorded since the
        last jump (the current iterate's last); every update appends its own.
    length : int
        Values recorded since the last jump (the rule's segment length).

    Returns
    -------
    outcome : int
        ``UPDATES_CONVERGED``, ``UPDATES_DONE`` or ``UPDATES_DECLINED``.
    n_done : int
        Updates completed (appended after the seed).
    """
    n, D = X.shape
    K = means.shape[0]
    factor_diag = np.empty((K, D))
    factor_spherical = np.empty(K)
    log_weights = np.empty(K)
    # Computed, not the literal True, so that _m_step_from_moments is compiled
    # once for every caller (numba specialises on literal booleans).
    warm_start = n_updates >= 0
    scratch = np.zeros(1)
    for done in range(n_updates):
        # The engine's repair judges the next parameters by the statistics
        # they come from: a component these counts leave on too few samples
        # is re-seeded there.
        if _too_few_samples(counts, weight_unit, min_count).any():
            return UPDATES_DECLINED, done
        new_means, new_covariances = _m_step_from_moments(
            code, kernel, counts, moments, covariances, warm_start, 0.0, has_prior, kappa,
            loc_centered, prior_counts, prior_scatter, max_inner_iter, inner_tol)
        if not _layout_factors(new_covariances, kernel, factors, factor_diag,
                               factor_spherical):
            return UPDATES_DECLINED, done
        if kernel == 1:
            factors[:, 0, :] = factor_diag
        elif kernel == 2:
            factors[:, 0, 0] = factor_spherical
        means[:] = new_means
        covariances[:] = new_covariances
        new_weights = _safe_counts(counts)
        weights[:] = new_weights / new_weights.sum()
        for k in range(K):
            log_weights[k] = math.log(weights[k])
        moments[:] = 0.0
        counts[:] = 0.0
        loglik = _fused_e_step(X, center, means, factors, kernel, log_weights, sample_weight,
                               moments, counts, scratch)
        last = n_seed + done
        objectives[last] = loglik + _log_prior(has_prior, kappa, means, loc_centered,
                                               prior_counts, prior_scatter, covariances)
        logliks[last] = loglik
        if not math.isfinite(objectives[last]):
            return UPDATES_DECLINED, done
        if _rule_converged(rule, length + done + 1, objectives, logliks, last, n_samples, tol):
            return UPDATES_CONVERGED, done + 1
    return UPDATES_DONE, n_updates


@numba.njit(cache=True, nogil=True, error_model="numpy")
def moments_width(kernel, D):
    """Number of feature columns of a layout code (see feature_width)."""
    if kernel == 0:
        return D * (D + 1) // 2 + D
    if kernel == 1:
        return 2 * D
    return 1 + D


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _log_prior(has_prior, kappa, means, loc_centered, prior_counts, prior_scatter,
               covariances):
    """emkit.components._structures.prior_log_density, on centred means."""
    if not has_prior:
        return 0.0
    K, D = means.shape
    scatter = prior_scatter.copy()
    if kappa > 0.0:
        for k in range(K):
            for i in range(D):
                for j in range(D):
                    scatter[k, i, j] += (kappa * (means[k, i] - loc_centered[i])
                                         * (means[k, j] - loc_centered[j]))
    return -0.5 * neg2_objective(prior_counts, scatter, covariances)
