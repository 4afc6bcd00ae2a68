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
objective so that this can be checked.  The solvers themselves are compiled
(:mod:`emkit.kernels.structured_gaussian`): a model-selection grid solves
thousands of these problems on matrices of a few rows.

Public API
----------
STRUCTURES, UNIVARIATE_STRUCTURES, SKLEARN_ALIASES
covariance_mstep(structure, n_k, scatter, previous_covariances=None, prior=None, ...)
mstep_objective(n_k, scatter, covariances)
n_parameters(structure, n_components, n_features)
prior_mean(n_k, weighted_sum, prior)
prior_log_density(structure, covariances, means, prior)
prior_pseudo_terms(structure, n_components, n_features, prior)

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

from ..kernels.structured_gaussian import ITERATIVE_CODES, STRUCTURE_CODES, solve_structure

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
    "prior_log_density",
    "prior_pseudo_terms",
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


def prior_pseudo_terms(structure: str, n_components: int, n_features: int, prior):
    """The data-independent part of the MAP problem :func:`covariance_mstep` solves.

    With a prior (``mclust_compatible=False``) the covariance M-step solves
    the ML problem for counts ``n_k + a0_k`` and scatters
    ``W_k + B0_k + kappa (mu_k - loc)(mu_k - loc)^T``; this returns
    ``(a0, B0)``, so that a caller solving many M-steps (EM) computes them once.

    Returns
    -------
    a0 : ndarray of shape (K,)
        Pseudo-counts, including the mean prior's 1 when ``shrinkage > 0``.
    B0 : ndarray of shape (K, D, D)
        Pseudo-scatters from the covariance prior.
    """
    K, D = int(n_components), int(n_features)
    name = canonical_structure(structure, D)
    loc = np.broadcast_to(np.asarray(prior.loc, dtype=float).reshape(1, D), (K, D))
    return _apply_prior(name, np.zeros(K), np.zeros((K, D, D)), prior, loc, D)


def prior_log_density(structure: str, covariances, means, prior) -> float:
    """Log-density, up to an additive constant, of the prior :func:`covariance_mstep` uses.

    The MAP M-step of :func:`covariance_mstep` (``mclust_compatible=False``)
    maximises ``sum_k [-a_k/2 log|Sigma_k| - 1/2 tr(Sigma_k^{-1} B_k)]`` with
    ``a_k = n_k + a0_k`` and ``B_k = W_k + B0_k``, where the pseudo-counts
    ``a0_k`` and pseudo-scatters ``B0_k`` (mean prior and covariance prior)
    do not depend on the data.  This returns
    ``sum_k [-a0_k/2 log|Sigma_k| - 1/2 tr(Sigma_k^{-1} B0_k)]``, so that
    ``log-likelihood + prior_log_density`` is exactly the objective whose
    conditional maximiser the MAP M-step (means, then covariances) is: EM on
    it never decreases it.  The normalising constants of the prior are left
    out (they do not exist for every structure's constrained parameter space).

    Parameters
    ----------
    structure : str
        See :func:`canonical_structure`.
    covariances : array-like, shape (K, D, D)
    means : array-like, shape (K, D)
        In the coordinates of ``prior.loc``.
    prior : object with ``loc``, ``shrinkage``, ``dof`` and ``scale``

    Returns
    -------
    float
        ``-inf`` if a covariance is not positive definite.
    """
    S = np.asarray(covariances, dtype=float)
    K, D = S.shape[0], S.shape[-1]
    name = canonical_structure(structure, D)
    zeros = np.zeros(K)
    a0, B0 = _apply_prior(name, zeros, np.zeros((K, D, D)), prior, means, D)
    return -0.5 * _neg2_objective(a0, B0, S)


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
    code = STRUCTURE_CODES[name]
    with np.errstate(divide="ignore", invalid="ignore"):
        S, n_iter, hist = solve_structure(
            code, a, B, prev, max_iter=max_inner_iter, tol=tol,
            use_mm=orientation_method == "mm", mclust_compatible=mclust_compatible,
            track=return_info,
        )
    if code not in ITERATIVE_CODES:
        n_iter = 0
    if return_info:
        # report Q (maximised) rather than the internal minimised -2Q
        return S, {"n_iter": n_iter, "objective": [-0.5 * f for f in hist]}
    return S
