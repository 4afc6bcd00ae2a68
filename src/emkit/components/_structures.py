"""Covariance M-steps for the 14 parsimonious Gaussian-mixture structures of R mclust.

Every covariance matrix is written through its eigen-decomposition
(Banfield & Raftery 1993; Celeux & Govaert 1995)::

    Sigma_k = lambda_k * D_k @ A_k @ D_k.T

with ``lambda_k = |Sigma_k|**(1/D)`` the *volume*, ``A_k`` a diagonal matrix
with ``det(A_k) = 1`` the *shape* and ``D_k`` an orthogonal matrix the
*orientation*.  A three-letter model name says, in that order, whether the
volume, the shape and the orientation are Equal across components, Variable,
or (shape / orientation only) the Identity::

    EII VII                spherical
    EEI VEI EVI VVI        diagonal (axis-aligned)
    EEE VEE EVE VVE        common orientation
    EEV VEV EVV VVV        variable orientation

For univariate data mclust uses the two names ``"E"`` (equal variance) and
``"V"`` (variable variances); they are accepted here as well.

The M-step of EM maximises, over covariances obeying the constraint, the
covariance part of the expected complete-data log-likelihood::

    Q(Sigma) = sum_k [ -n_k/2 log|Sigma_k| - 1/2 tr(Sigma_k^{-1} W_k) ]

where ``n_k = sum_n r_nk`` and ``W_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T``
is the weighted scatter about the (new) component means.  Ten structures have
closed-form maximisers; VEI, VEV and VEE (variable volume with a shared
shape) need a few inner coordinate-ascent iterations because the volumes and
the shared shape/shape-matrix depend on each other, and EVE and VVE (a shared
orientation with variable shapes) need an inner loop over the orientation,
which has no closed form once the shapes differ between components.  Every
inner iteration is a block coordinate step or a majorise-minimise step, so
``Q`` never decreases; :func:`covariance_mstep` can return the per-iteration
objective so that this can be checked.

Public API
----------
STRUCTURES, UNIVARIATE_STRUCTURES, SKLEARN_ALIASES
covariance_mstep(structure, n_k, scatter, previous_covariances=None, prior=None, ...)
mstep_objective(n_k, scatter, covariances)
n_parameters(structure, n_components, n_features)
prior_mean(n_k, weighted_sum, prior)

References
----------
Celeux, G. and Govaert, G. (1995). Gaussian parsimonious clustering models.
Pattern Recognition 28, 781-793.
Browne, R. P. and McNicholas, P. D. (2014). Estimating common principal
components in high dimensions. Advances in Data Analysis and Classification
8, 217-226.
Fraley, C. and Raftery, A. E. (2007). Bayesian regularization for normal
mixture estimation and model-based clustering. Journal of Classification 24,
155-181.
Scrucca, L., Fop, M., Murphy, T. B. and Raftery, A. E. (2016). mclust 5.
The R Journal 8, 289-317.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

__all__ = [
    "STRUCTURES",
    "UNIVARIATE_STRUCTURES",
    "SKLEARN_ALIASES",
    "PRIOR_STRUCTURES_MCLUST",
    "covariance_mstep",
    "mstep_objective",
    "n_parameters",
    "n_covariance_parameters",
    "prior_mean",
    "canonical_structure",
]

STRUCTURES: Tuple[str, ...] = (
    "EII", "VII", "EEI", "VEI", "EVI", "VVI",
    "EEE", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV",
)
UNIVARIATE_STRUCTURES: Tuple[str, ...] = ("E", "V")
SKLEARN_ALIASES: Dict[str, str] = {
    "spherical": "VII",
    "diag": "VVI",
    "tied": "EEE",
    "full": "VVV",
}
# The structures for which mclust itself offers a conjugate prior
# (``mstepXXX(..., prior = priorControl())``); the other four are handled
# here by the natural extension documented in :func:`covariance_mstep`.
PRIOR_STRUCTURES_MCLUST: Tuple[str, ...] = (
    "E", "V", "EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "EEV", "VEV", "VVV",
)

# mclust's own aliases for the "one component" names.
_MCLUST_ALIASES = {"X": "E", "XII": "EII", "XXI": "EEI", "XXX": "EEE"}


def canonical_structure(structure: str, n_features: Optional[int] = None) -> str:
    """Return the mclust model name for ``structure``.

    Parameters
    ----------
    structure : str
        One of :data:`STRUCTURES`, ``"E"``, ``"V"``, an sklearn alias
        (``"spherical"``, ``"diag"``, ``"tied"``, ``"full"``) or one of
        mclust's single-component names (``"X"``, ``"XII"``, ``"XXI"``,
        ``"XXX"``).
    n_features : int, optional
        If 1 and ``structure`` is a multivariate name, the name is reduced to
        its volume letter (``"E"`` or ``"V"``): with one feature shape and
        orientation are trivial.

    Returns
    -------
    name : str
    """
    if not isinstance(structure, str):
        raise TypeError(f"structure must be a string, got {type(structure).__name__}")
    name = SKLEARN_ALIASES.get(structure.lower(), structure.upper())
    name = _MCLUST_ALIASES.get(name, name)
    if name not in STRUCTURES and name not in UNIVARIATE_STRUCTURES:
        raise ValueError(
            f"unknown covariance structure {structure!r}; expected one of "
            f"{STRUCTURES + UNIVARIATE_STRUCTURES} or {tuple(SKLEARN_ALIASES)}"
        )
    if n_features == 1 and name in STRUCTURES:
        name = name[0]
    return name


# ---------------------------------------------------------------------------
# parameter counts
# ---------------------------------------------------------------------------
def n_covariance_parameters(structure: str, n_components: int, n_features: int) -> int:
    """Free covariance parameters, exactly as mclust's ``nVarParams``.

    Parameters
    ----------
    structure : str
    n_components : int
        K (mclust's ``G``).
    n_features : int
        D (mclust's ``d``).

    Returns
    -------
    int
    """
    name = canonical_structure(structure)
    G, d = int(n_components), int(n_features)
    table = {
        "E": 1,
        "V": G,
        "EII": 1,
        "VII": G,
        "EEI": d,
        "VEI": G + (d - 1),
        "EVI": 1 + G * (d - 1),
        "VVI": G * d,
        "EEE": d * (d + 1) // 2,
        "EVE": 1 + G * (d - 1) + d * (d - 1) // 2,
        "VEE": G + (d - 1) + d * (d - 1) // 2,
        "VVE": G + G * (d - 1) + d * (d - 1) // 2,
        "EEV": 1 + (d - 1) + G * d * (d - 1) // 2,
        "VEV": G + (d - 1) + G * d * (d - 1) // 2,
        "EVV": 1 - G + G * d * (d + 1) // 2,
        "VVV": G * d * (d + 1) // 2,
    }
    return int(table[name])


def n_parameters(structure: str, n_components: int, n_features: int) -> int:
    """Number of free parameters of a K-component Gaussian mixture, as mclust counts.

    Mirrors ``mclust::nMclustParams(modelName, d, G)`` (no noise component,
    unequal mixing proportions): ``K - 1`` mixing weights, ``K * D`` means and
    ``nVarParams`` covariance parameters, so that
    ``BIC = 2 * loglik - n_parameters * log(n_samples)`` equals mclust's BIC.

    Parameters
    ----------
    structure : str
        See :func:`canonical_structure`.
    n_components : int
        K >= 1.
    n_features : int
        D >= 1.

    Returns
    -------
    int
    """
    K, D = int(n_components), int(n_features)
    if K < 1 or D < 1:
        raise ValueError("n_components and n_features must be >= 1")
    return n_covariance_parameters(structure, K, D) + K * D + (K - 1)


# ---------------------------------------------------------------------------
# objective
# ---------------------------------------------------------------------------
def mstep_objective(n_k, scatter, covariances) -> float:
    """Covariance part of the expected complete-data log-likelihood.

    ``sum_k [ -n_k/2 log|Sigma_k| - 1/2 tr(Sigma_k^{-1} W_k) ]``; the
    ``-n D/2 log(2 pi)`` constant is left out.

    Parameters
    ----------
    n_k : array-like, shape (K,)
    scatter : array-like, shape (K, D, D)
    covariances : array-like, shape (K, D, D)

    Returns
    -------
    float
        ``-inf`` if a covariance is not positive definite.
    """
    n_k = np.asarray(n_k, dtype=float)
    W = np.asarray(scatter, dtype=float)
    S = np.asarray(covariances, dtype=float)
    return -0.5 * _neg2_objective(n_k, W, S)


def _neg2_objective(a, B, S):
    """sum_k a_k log|S_k| + tr(S_k^{-1} B_k)  (to be minimised)."""
    try:
        L = np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        return np.inf
    logdet = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
    # tr(S^{-1} B) = ||L^{-1} B L^{-T}||_* ; use solves for stability
    Y = np.linalg.solve(L, B)  # L^{-1} B
    Z = np.linalg.solve(L, np.swapaxes(Y, 1, 2))  # L^{-1} (L^{-1} B)^T = L^{-1} B^T L^{-T}
    tr = np.trace(Z, axis1=1, axis2=2)
    return float(np.sum(a * logdet + tr))


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------
def _geomean(v, axis=-1):
    """Geometric mean along ``axis`` (0 if any entry is 0)."""
    with np.errstate(divide="ignore"):
        return np.exp(np.mean(np.log(v), axis=axis))


def _diag(B):
    return np.diagonal(B, axis1=-2, axis2=-1).copy()


def _diag_to_mat(d):
    K, D = d.shape
    out = np.zeros((K, D, D))
    idx = np.arange(D)
    out[:, idx, idx] = d
    return out


def _eigh_desc(B):
    """Eigen-decomposition with eigenvalues in decreasing order (batched)."""
    w, V = np.linalg.eigh(B)
    return w[..., ::-1], V[..., ::-1]


def _converged(S_old, S_new, tol):
    """Relative max-abs change of the covariances (parameters, not the objective:
    the objective is flat at the optimum, so its change would stop the loop
    with parameters accurate only to about sqrt(tol))."""
    if S_old is None:
        return False
    scale = np.max(np.abs(S_new))
    if not np.isfinite(scale) or scale == 0.0:
        return True
    return bool(np.max(np.abs(S_new - S_old)) <= tol * scale)


# ---------------------------------------------------------------------------
# closed-form structures
# ---------------------------------------------------------------------------
def _m_E(a, B, D):
    K = a.shape[0]
    s = np.trace(B.sum(axis=0)) / (D * a.sum())
    return np.broadcast_to(s * np.eye(D), (K, D, D)).copy()


def _m_V(a, B, D):
    s = np.trace(B, axis1=1, axis2=2) / (D * a)
    return s[:, None, None] * np.eye(D)


def _m_EEI(a, B, D):
    K = a.shape[0]
    d = _diag(B.sum(axis=0)) / a.sum()
    return np.broadcast_to(np.diag(d), (K, D, D)).copy()


def _m_VVI(a, B, D):
    return _diag_to_mat(_diag(B) / a[:, None])


def _m_EVI(a, B, D):
    # For a fixed volume the best unit-determinant diagonal shape of
    # component k is diag(B_k) / geomean(diag(B_k)); the common volume then
    # solves a scalar equation.
    b = _diag(B)
    g = _geomean(b)
    lam = g.sum() / a.sum()
    return _diag_to_mat(lam * b / g[:, None])


def _m_EEE(a, B, D):
    K = a.shape[0]
    S = B.sum(axis=0) / a.sum()
    return np.broadcast_to(S, (K, D, D)).copy()


def _m_VVV(a, B, D):
    return B / a[:, None, None]


def _m_EVV(a, B, D):
    # Sigma_k = lambda C_k with |C_k| = 1: C_k = B_k / |B_k|^{1/D} whatever
    # lambda is, so the common volume has a closed form (mclust's msevv).
    sign, logdet = np.linalg.slogdet(B)
    g = np.exp(logdet / D)
    lam = g.sum() / a.sum()
    return lam * B / g[:, None, None]


def _m_EEV(a, B, D):
    # Common volume and shape, variable orientation: D_k are the
    # eigenvectors of B_k (eigenvalues sorted decreasingly so that the
    # largest eigenvalue is paired with the largest shape entry), and the
    # common shape is the normalised sum of the eigenvalue vectors.
    w, V = _eigh_desc(B)
    S = w.sum(axis=0)
    g = _geomean(S)
    A = S / g
    lam = g / a.sum()
    return lam * np.einsum("kij,j,klj->kil", V, A, V)


# ---------------------------------------------------------------------------
# structures that need inner iterations
# ---------------------------------------------------------------------------
def _volumes_from(prev, K, D):
    """Volumes |Sigma_k|^{1/D} of previous covariances, or ones."""
    if prev is None:
        return np.ones(K)
    sign, logdet = np.linalg.slogdet(prev)
    lam = np.exp(logdet / D)
    if not np.all(np.isfinite(lam)) or np.any(lam <= 0) or np.any(sign <= 0):
        return np.ones(K)
    return lam


def _m_VEI(a, B, D, prev, max_iter, tol):
    # Variable volume, common diagonal shape: given the volumes the shape is
    # the normalised sum of diag(B_k)/lambda_k, given the shape each volume is
    # tr(A^{-1} B_k) / (D a_k).  Neither has a closed form in the other, so
    # alternate (each step is an exact block maximisation: Q never drops).
    b = _diag(B)
    K = a.shape[0]
    lam = _volumes_from(prev, K, D)
    hist = []

    def assemble(lam, A):
        return _diag_to_mat(lam[:, None] * A[None, :])

    S_old = None
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        s = (b / lam[:, None]).sum(axis=0)
        A = s / _geomean(s)
        lam = (b / A[None, :]).sum(axis=1) / (D * a)
        S = assemble(lam, A)
        hist.append(_neg2_objective(a, B, S))
        if _converged(S_old, S, tol):
            break
        S_old = S
    return S, n_iter, hist


def _m_VEV(a, B, D, prev, max_iter, tol):
    # Variable volume, common shape, variable orientation (Celeux & Govaert
    # 1995).  Whatever lambda_k and A are, the best orientation of component k
    # is the eigenvector basis of B_k with eigenvalues sorted like A, so the
    # problem reduces to VEI on the eigenvalue vectors.
    w, V = _eigh_desc(B)
    K = a.shape[0]
    lam = _volumes_from(prev, K, D)
    hist = []

    def assemble(lam, A):
        return lam[:, None, None] * np.einsum("kij,j,klj->kil", V, A, V)

    S_old = None
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        s = (w / lam[:, None]).sum(axis=0)
        A = s / _geomean(s)
        lam = (w / A[None, :]).sum(axis=1) / (D * a)
        S = assemble(lam, A)
        hist.append(_neg2_objective(a, B, S))
        if _converged(S_old, S, tol):
            break
        S_old = S
    return S, n_iter, hist


def _m_VEE(a, B, D, prev, max_iter, tol):
    # Sigma_k = lambda_k C with a common |C| = 1 matrix (mclust's msvee):
    # C is the determinant-normalised sum of B_k / lambda_k, lambda_k is
    # tr(C^{-1} B_k) / (D a_k).  Alternating exact block updates.
    K = a.shape[0]
    lam = _volumes_from(prev, K, D)
    hist = []
    S_old = None
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        C = (B / lam[:, None, None]).sum(axis=0)
        sign, logdet = np.linalg.slogdet(C)
        C = C / np.exp(logdet / D)
        Cinv = np.linalg.inv(C)
        lam = np.einsum("ij,kji->k", Cinv, B) / (D * a)
        S = lam[:, None, None] * C
        hist.append(_neg2_objective(a, B, S))
        if _converged(S_old, S, tol):
            break
        S_old = S
    return S, n_iter, hist


def _orientation_jacobi(Dm, B, u, sweeps=1):
    """Minimise sum_k sum_j u_kj (D^T B_k D)_jj over orthogonal D by plane rotations.

    Each Givens rotation of the column pair (i, j) changes the objective by
    ``alpha (cos 2t - 1) + beta sin 2t`` with ``alpha, beta`` collected over
    the components, so the optimal angle is exact (``atan2``) and the
    objective can only decrease.  For D = 2 one rotation solves the
    orientation sub-problem exactly.
    """
    Dm = Dm.copy()
    p = Dm.shape[0]
    for _ in range(sweeps):
        for i in range(p - 1):
            for j in range(i + 1, p):
                M = np.einsum("ai,kab,bj->kij", Dm[:, [i, j]], B, Dm[:, [i, j]])
                du = u[:, i] - u[:, j]
                alpha = np.sum(du * (M[:, 0, 0] - M[:, 1, 1]) * 0.5)
                beta = np.sum(du * M[:, 0, 1])
                if alpha == 0.0 and beta == 0.0:
                    continue
                phi = np.arctan2(-beta, -alpha)
                t = 0.5 * phi
                c, s = np.cos(t), np.sin(t)
                di, dj = Dm[:, i].copy(), Dm[:, j].copy()
                Dm[:, i] = c * di + s * dj
                Dm[:, j] = -s * di + c * dj
    return Dm


def _orientation_mm(Dm, B, u, omega):
    """One Browne & McNicholas (2014) MM1 + MM2 pass for the common orientation.

    Minimises ``f(D) = sum_k tr(D^T B_k D diag(u_k))`` over orthogonal D.
    MM1 majorises the concave part ``tr(diag(u_k) D^T (B_k - omega_k I) D)``
    (``omega_k`` = largest eigenvalue of ``B_k``) by its tangent plane, MM2
    does the same with ``diag(u_k) - max(u_k) I``; the minimiser of a linear
    function over orthogonal matrices is ``P R^T`` from an SVD.  This is the
    update of mclust's ``mseve``/``msvve`` (with the component weights made
    explicit).
    """
    # MM1
    G = np.einsum("kab,bj,kj->aj", omega[:, None, None] * np.eye(Dm.shape[0]) - B, Dm, u)
    P, _, Rt = np.linalg.svd(G)
    Dm = P @ Rt
    # MM2
    umax = u.max(axis=1)
    G = np.einsum("kab,bj,kj->aj", B, Dm, umax[:, None] - u)
    P, _, Rt = np.linalg.svd(G)
    return P @ Rt


def _initial_orientation(B, a, prev):
    if prev is not None:
        w, V = np.linalg.eigh(prev[0])
        if np.all(np.isfinite(V)):
            return V
    w, V = np.linalg.eigh((B / a[:, None, None]).sum(axis=0))
    return V


def _m_common_orientation(a, B, D, prev, max_iter, tol, variable_volume, method,
                          mclust_compatible=False):
    # EVE / VVE: Sigma_k = lambda(_k) D A_k D^T with one orientation D.
    # Given D the volumes and shapes are closed-form (from diag(D^T B_k D));
    # given those, the orientation minimises sum_k tr(D^T B_k D L_k^{-1})
    # (L_k = lambda_k A_k), which has no closed form once the L_k differ
    # between components, hence the inner loop (Jacobi rotations or
    # MM steps; both never increase the objective).
    K = a.shape[0]
    Dm = _initial_orientation(B, a, prev)
    omega = np.linalg.eigvalsh(B)[:, -1]

    def scales(Dm):
        M = np.einsum("ai,kab,bi->ki", Dm, B, Dm)  # diag(D^T B_k D)
        if variable_volume:
            L = M / a[:, None]  # lambda_k A_k, a free positive diagonal
        else:
            g = _geomean(M)
            lam = g.sum() / a.sum()
            L = lam * M / g[:, None]
        return L

    def assemble(Dm, L):
        return np.einsum("ij,kj,lj->kil", Dm, L, Dm)

    L = scales(Dm)
    S_old = assemble(Dm, L)
    hist = [_neg2_objective(a, B, S_old)]
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        if mclust_compatible:
            # mclust's msvve/mevve weight the orientation update by the
            # unit-determinant shapes A_k only, leaving out 1/lambda_k; its
            # fixed point is therefore not the maximiser of Q for VVE.
            u = 1.0 / (L / _geomean(L)[:, None])
        else:
            u = 1.0 / L
        if method == "jacobi":
            Dm = _orientation_jacobi(Dm, B, u)
        else:
            Dm = _orientation_mm(Dm, B, u, omega)
        L = scales(Dm)
        S = assemble(Dm, L)
        hist.append(_neg2_objective(a, B, S))
        if _converged(S_old, S, tol):
            break
        S_old = S
    return S, n_iter, hist


# ---------------------------------------------------------------------------
# priors
# ---------------------------------------------------------------------------
def prior_mean(n_k, weighted_sum, prior):
    """MAP component means under mclust's conjugate prior.

    ``mu_k = (sum_n r_nk x_n + kappa * loc) / (n_k + kappa)`` (Fraley &
    Raftery 2007), or the weighted means when ``prior`` is None or
    ``prior.shrinkage == 0``.

    Parameters
    ----------
    n_k : array-like, shape (K,)
    weighted_sum : array-like, shape (K, D)
        ``sum_n r_nk x_n``.
    prior : object with ``loc`` (D,) and ``shrinkage`` attributes, or None

    Returns
    -------
    means : ndarray, shape (K, D)
    """
    n_k = np.asarray(n_k, dtype=float)
    S = np.asarray(weighted_sum, dtype=float)
    if prior is None or float(prior.shrinkage) == 0.0:
        return S / n_k[:, None]
    kappa = float(prior.shrinkage)
    loc = np.asarray(prior.loc, dtype=float).reshape(1, -1)
    return (S + kappa * loc) / (n_k[:, None] + kappa)


def _prior_scale(prior, D):
    """(Psi as a (D, D) matrix, zeta = the scalar scale of spherical/diagonal priors)."""
    scale = np.asarray(prior.scale, dtype=float)
    if scale.ndim == 0 or scale.size == 1:
        zeta = float(scale.reshape(()))
        return zeta * np.eye(D), zeta
    scale = scale.reshape(D, D)
    # mclust's defaultPrior uses tr(var(X)) / D (times the G-factor) as the
    # scalar scale of the spherical and diagonal models and var(X) (times the
    # same factor) as the matrix scale of the others, i.e. zeta = tr(Psi)/D.
    return scale, float(np.trace(scale)) / D


def _apply_prior(name, n_k, W, prior, means, D, mclust_compatible=False):
    """Turn (n_k, W_k) into the (a_k, B_k) of the MAP objective.

    The MAP M-step maximises ``sum_k [-a_k/2 log|Sigma_k| -
    1/2 tr(Sigma_k^{-1} B_k)]`` over the structure, i.e. the same problem
    as the ML M-step with pseudo-counts and a pseudo-scatter, so every
    structure's ML solver is reused unchanged.
    """
    K = n_k.shape[0]
    kappa = float(prior.shrinkage)
    nu = float(prior.dof)
    Psi, zeta = _prior_scale(prior, D)
    a = n_k.astype(float).copy()
    B = W.astype(float).copy()
    I = np.eye(D)
    dev = None
    if kappa > 0:
        if means is None:
            raise ValueError(
                "covariance_mstep with a prior of positive shrinkage needs `means` "
                "(the MAP means the scatter was computed about)"
            )
        loc = np.asarray(prior.loc, dtype=float).reshape(1, D)
        dev = np.asarray(means, dtype=float).reshape(K, D) - loc
    if mclust_compatible and name == "EII":
        # mclust 6.0.0's mseiip: no prior scale, and the shrinkage term is
        # kappa n_k/(n_k+kappa) (xbar_k - loc)^2 added to the scatter about
        # the MAP mean (verified against R to 1e-14, D = 2 and 3).
        if dev is not None:
            fac = kappa * (n_k + kappa) / n_k
            B += fac[:, None, None] * np.einsum("ki,kj->kij", dev, dev)
            a += 1.0
        a += (nu + 2.0) / (D * K)
        return a, B
    if mclust_compatible and name == "VEV":
        # mclust 6.0.0's msvevp: prior scale and shrinkage term are added to
        # the scatter but the counts are left at n_k (dof unused).
        if dev is not None:
            B += kappa * np.einsum("ki,kj->kij", dev, dev)
        B += Psi
        return a, B
    if dev is not None:
        # scatter about the MAP mean + kappa (mu_k - loc)(mu_k - loc)^T
        #   = scatter about the weighted mean + kappa n_k/(n_k+kappa) (xbar_k - loc)(...)^T
        B += kappa * np.einsum("ki,kj->kij", dev, dev)
        a += 1.0  # the N(loc, Sigma_k/kappa) mean prior adds |Sigma_k|^{-1/2}
    if name in ("E", "EII"):
        # one inverse-gamma(nu/2, zeta/2) prior on the common variance
        a += (nu + 2.0) / (D * K)
        B += (zeta / (D * K)) * I
    elif name in ("V", "VII"):
        # one inverse-gamma prior per component variance
        a += (nu + 2.0) / D
        B += (zeta / D) * I
    elif name in ("VVI", "VEI", "EVI"):
        # an inverse-gamma prior on every diagonal variance of every component
        a += nu + 2.0
        B += zeta * I
    elif name == "EEI":
        # inverse-gamma priors on the common diagonal variances
        a += (nu + 2.0) / K
        B += (zeta / K) * I
    elif name == "EEE":
        # one inverse-Wishart prior on the common covariance
        a += (nu + D + 1.0) / K
        B += Psi / K
    else:
        # VVV and the natural extension to EEV, VEV, VEE, EVE, VVE, EVV: an
        # inverse-Wishart(nu, Psi) prior on each Sigma_k, i.e. Psi is added
        # to the scatter and nu + D + 1 to the count of every component
        # (n_k + nu + D + 2 with the mean prior).
        a += nu + D + 1.0
        B += Psi
    return a, B


# ---------------------------------------------------------------------------
# the M-step
# ---------------------------------------------------------------------------
def covariance_mstep(
    structure: str,
    n_k,
    scatter,
    previous_covariances=None,
    prior: Any = None,
    max_inner_iter: int = 1000,
    tol: float = 1e-10,
    *,
    means=None,
    orientation_method: str = "jacobi",
    mclust_compatible: bool = False,
    return_info: bool = False,
):
    """Covariance M-step for one of mclust's parsimonious structures.

    Parameters
    ----------
    structure : str
        One of :data:`STRUCTURES`, ``"E"``/``"V"`` (univariate) or an sklearn
        alias (see :func:`canonical_structure`).
    n_k : array-like, shape (K,)
        Weighted counts ``sum_n r_nk``.
    scatter : array-like, shape (K, D, D)
        ``W_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T`` about the new means.
    previous_covariances : array-like, shape (K, D, D), optional
        Warm start for the structures with inner iterations (VEI, VEV, VEE:
        the volumes; EVE, VVE: the common orientation).  Ignored otherwise.
    prior : object, optional
        A conjugate prior with attributes ``loc`` (D,), ``shrinkage``
        (kappa), ``dof`` (nu) and ``scale`` (Psi, (D, D) or scalar), e.g.
        :class:`emkit.priors.NormalInverseWishart`.  The MAP M-step maximises
        ``sum_k [-a_k/2 log|Sigma_k| - 1/2 tr(Sigma_k^{-1} B_k)]`` under the
        structure, with ``B_k = W_k + kappa (mu_k - loc)(mu_k - loc)^T +
        (prior scale)`` and ``a_k = n_k + 1 + (prior count)`` as in Fraley &
        Raftery (2007):

        * VVV, and the natural extension to EEV, VEV, VEE, EVE, VVE, EVV:
          an inverse-Wishart(nu, Psi) on every ``Sigma_k``:
          ``a_k = n_k + nu + D + 2``, ``B_k += Psi``.  For VVV this is
          mclust's formula; mclust has no prior for VEE, EVE, VVE, EVV.
        * EEE: one inverse-Wishart on the common covariance:
          ``Sigma = (Psi + sum_k B_k) / (n + K + nu + D + 1)`` (mclust).
        * VII / VVI / E / V / EEI: inverse-gamma(nu/2, zeta/2) priors on each
          (VII, VVI, V) or on the common (E, EEI) variance(s),
          ``zeta = tr(Psi)/D`` (all equal to mclust to 1e-14).
        * EII: the same shared inverse-gamma prior (Fraley & Raftery 2007);
          VEI, EVI: a VVI-type inverse-gamma prior on every diagonal
          variance of every component (natural extension; mclust's own VEI,
          EVI and EEV prior updates could not be reproduced, see below).

        ``shrinkage == 0`` drops the mean prior (and its ``+1``).  Where
        mclust 6.0.0's Fortran departs from the paper, ``mclust_compatible``
        reproduces it: EII (``mseiip`` ignores the prior scale and adds the
        shrinkage term to the scatter about the MAP mean) and VEV
        (``msvevp`` adds ``Psi`` and the shrinkage term but no pseudo-counts).
        Note that mclust reports *unshrunk* means for EEI and EEV with a prior
        (its covariance for EEI still uses the MAP means).
    max_inner_iter : int, default 1000
        Cap on the inner iterations (VEI, VEV, VEE, EVE, VVE).
    tol : float, default 1e-10
        Inner loop stops when no covariance entry moved by more than
        ``tol * max|Sigma|`` in one iteration.
    means : array-like, shape (K, D), optional
        The (MAP) means ``scatter`` was computed about; required with a
        prior of positive shrinkage (for the ``kappa (mu_k - loc)...`` term).
    orientation_method : {"jacobi", "mm"}, default "jacobi"
        Inner update of the common orientation of EVE/VVE: exact Givens
        plane rotations, or the Browne & McNicholas (2014) MM1+MM2 step used
        by mclust.  Both are monotone; Jacobi converges in far fewer steps.
    mclust_compatible : bool, default False
        With a prior, use mclust 6.0.0's EII and VEV updates (above).  VVE:
        reproduce mclust's inner iteration, whose orientation update
        ignores the component volumes (``msvve`` weights ``W_k`` by
        ``A_k^{-1}`` instead of ``(lambda_k A_k)^{-1}``).  Its fixed point is
        *not* the maximiser of ``Q`` (on Old Faithful the exact update gains
        up to ~0.04 in ``Q`` per M-step), but it is what mclust's VVE BIC
        values are computed with.  No effect on the other structures.
        The default (False) gives the exact maximiser / the Fraley &
        Raftery (2007) MAP update.
    return_info : bool, default False
        Also return ``{"n_iter": int, "objective": list of float}`` (the
        objective ``Q`` after each inner iteration).

    Returns
    -------
    covariances : ndarray, shape (K, D, D)
    info : dict
        Only if ``return_info``.
    """
    n_k = np.asarray(n_k, dtype=float).reshape(-1)
    W = np.asarray(scatter, dtype=float)
    if W.ndim != 3 or W.shape[1] != W.shape[2] or W.shape[0] != n_k.shape[0]:
        raise ValueError(
            f"scatter must have shape (K, D, D) with K = len(n_k) = {n_k.shape[0]}, "
            f"got {W.shape}"
        )
    K, D = W.shape[0], W.shape[1]
    name = canonical_structure(structure, D)
    if name in UNIVARIATE_STRUCTURES and D != 1:
        raise ValueError(f"structure {name!r} is for univariate data, got D = {D}")
    if orientation_method not in ("jacobi", "mm"):
        raise ValueError("orientation_method must be 'jacobi' or 'mm'")
    prev = None
    if previous_covariances is not None:
        prev = np.asarray(previous_covariances, dtype=float)
        if prev.shape != W.shape:
            prev = None
    W = 0.5 * (W + np.swapaxes(W, 1, 2))
    if prior is not None:
        a, B = _apply_prior(name, n_k, W, prior, means, D, mclust_compatible)
    else:
        a, B = n_k, W
    n_iter, hist = 0, []
    with np.errstate(divide="ignore", invalid="ignore"):
        if name in ("E", "EII"):
            S = _m_E(a, B, D)
        elif name in ("V", "VII"):
            S = _m_V(a, B, D)
        elif name == "EEI":
            S = _m_EEI(a, B, D)
        elif name == "VVI":
            S = _m_VVI(a, B, D)
        elif name == "EVI":
            S = _m_EVI(a, B, D)
        elif name == "EEE":
            S = _m_EEE(a, B, D)
        elif name == "VVV":
            S = _m_VVV(a, B, D)
        elif name == "EVV":
            S = _m_EVV(a, B, D)
        elif name == "EEV":
            S = _m_EEV(a, B, D)
        elif name == "VEI":
            S, n_iter, hist = _m_VEI(a, B, D, prev, max_inner_iter, tol)
        elif name == "VEV":
            S, n_iter, hist = _m_VEV(a, B, D, prev, max_inner_iter, tol)
        elif name == "VEE":
            S, n_iter, hist = _m_VEE(a, B, D, prev, max_inner_iter, tol)
        elif name in ("EVE", "VVE"):
            S, n_iter, hist = _m_common_orientation(
                a, B, D, prev, max_inner_iter, tol, name == "VVE", orientation_method,
                mclust_compatible,
            )
        else:  # pragma: no cover - canonical_structure guarantees coverage
            raise AssertionError(name)
    S = 0.5 * (S + np.swapaxes(S, 1, 2))
    if return_info:
        # report Q (maximised) rather than the internal minimised -2Q
        return S, {"n_iter": n_iter, "objective": [-0.5 * f for f in hist]}
    return S
