"""The Gaussian component's side of mclust's 14 covariance structures.

:mod:`emkit.components._structures` solves the covariance M-step of every
structure from counts and (K, D, D) scatter matrices. This module connects it
to :class:`~emkit.components.gaussian.GaussianComponent`, whose E-step works
on feature statistics (see :mod:`emkit.components.gaussian`):

* every structure's covariances are stored as a (K, D, D) stack, and its
  precision Cholesky factors in the *layout* of the cheapest feature kernel
  that evaluates it: EII/VII (and E/V in one dimension) are isotropic, so
  the ``"spherical"`` kernel (1 + D features) needs one number per component;
  EEI/VEI/EVI/VVI are diagonal, so the ``"diag"`` kernel (2D features) needs
  D numbers; the other eight use the ``"full"`` kernel;
* the M-step turns the summed moments into scatter matrices about the new
  means (:func:`~emkit.components.gaussian.scatter_about`) and calls
  :func:`~emkit.components._structures.covariance_mstep`, warm-started from
  the previous covariances for the structures with inner iterations.
"""

from __future__ import annotations

import numpy as np

from ..kernels.structured_gaussian import (
    STRUCTURE_CODES,
    layout_factors,
    structured_m_step_from_moments,
)
from ._structures import (
    STRUCTURES,
    UNIVARIATE_STRUCTURES,
    canonical_structure,
    covariance_mstep,
    prior_log_density,
    prior_pseudo_terms,
)
from .gaussian_ops import precision_cholesky, safe_counts, scatter_about

__all__ = [
    "MCLUST_COVARIANCE_TYPES",
    "is_structure",
    "structure_name",
    "structure_layout",
    "scatter_matrices",
    "structured_m_step",
    "map_terms",
    "layout_precision_cholesky",
    "full_precision_cholesky",
    "layout_from_full_precision_cholesky",
    "structured_log_prior",
]

MCLUST_COVARIANCE_TYPES = STRUCTURES + UNIVARIATE_STRUCTURES
# Structures whose M-step iterates; they are warm-started from the previous
# covariances (volumes or orientation), which also makes the M-step a
# generalised one: it starts from the current parameters and only climbs.
_WARM_STARTED = frozenset({"VEI", "VEV", "VEE", "EVE", "VVE"})


def is_structure(covariance_type: str) -> bool:
    """Whether ``covariance_type`` is one of mclust's names (not a scikit-learn one)."""
    return covariance_type in MCLUST_COVARIANCE_TYPES


def structure_name(covariance_type: str, n_features: int) -> str:
    """mclust's name for the structure; multivariate names reduce to E/V when D = 1.

    Raises
    ------
    ValueError
        For "E"/"V" with more than one feature.
    """
    name = canonical_structure(covariance_type, n_features)
    if name in UNIVARIATE_STRUCTURES and n_features != 1:
        raise ValueError(
            f"covariance_type {covariance_type!r} is mclust's univariate model; the data "
            f"have {n_features} features (use one of {STRUCTURES})."
        )
    return name


def structure_layout(structure: str) -> str:
    """Feature kernel and precision layout of a (canonical) structure.

    Returns
    -------
    {"spherical", "diag", "full"}
    """
    if structure in ("E", "V", "EII", "VII"):
        return "spherical"
    if structure.endswith("I"):
        return "diag"
    return "full"


def scatter_matrices(scatter, kernel, n_features):
    """(K, D, D) scatter matrices from :func:`scatter_about`'s kernel layout.

    The diagonal kernel only knows the diagonal of the scatter and the
    spherical one only its trace; that is all the diagonal and isotropic
    structures' M-steps read, so the missing entries are set to zero (diag)
    or spread evenly over the diagonal (spherical).
    """
    D = n_features
    if kernel == "full":
        return scatter
    if kernel == "diag":
        matrices = np.zeros((scatter.shape[0], D, D))
        matrices[:, np.arange(D), np.arange(D)] = scatter
        return matrices
    return (scatter / D)[:, None, None] * np.eye(D)


def map_terms(structure, n_components, n_features, prior, center):
    """What the compiled MAP M-step needs from ``prior``, computed once per fit.

    Returns
    -------
    tuple
        ``(kappa, loc - center, pseudo-counts (K,), pseudo-scatters (K, D, D))``,
        see :func:`~emkit.components._structures.prior_pseudo_terms`.
    """
    a0, B0 = prior_pseudo_terms(structure, n_components, n_features, prior)
    loc_centered = np.asarray(prior.loc, dtype=np.float64).reshape(-1) - center
    return float(prior.shrinkage), loc_centered, a0, np.ascontiguousarray(B0)


def structured_m_step(structure, counts, moments, kernel, *, center, previous_covariances=None,
                      prior=None, psi=None, means_centered=None, max_inner_iter=1000,
                      inner_tol=1e-10, prior_terms=None):
    """Means and structured covariances from summed feature statistics.

    Parameters
    ----------
    structure : str
        Canonical mclust name (see :func:`structure_name`).
    counts : ndarray of shape (K,)
        Summed (weighted) responsibilities.
    moments : ndarray of shape (K, width)
        Summed ``r_nk F(x_n - center)`` for ``kernel``.
    kernel : {"full", "diag", "spherical"}
    center : ndarray of shape (D,)
        The centre the statistics were taken about.
    previous_covariances : ndarray of shape (K, D, D), optional
        Warm start of the inner iterations (VEI, VEV, VEE, EVE, VVE).
    prior : NormalInverseWishart-like, optional
        MAP estimation (Fraley & Raftery 2007, extended to all 14 structures;
        see :func:`~emkit.components._structures.covariance_mstep`). The means
        are then the posterior modes ``(sum r x + kappa loc) / (n_k + kappa)``.
    psi : ndarray of shape (D,), optional
        Without a prior, the diagonal of the ``reg_covar`` penalty
        (:func:`~emkit.components.gaussian.regularization_penalty`), added to
        every component's scatter: the exact maximiser of the penalised
        objective, which still obeys the structure's constraints.
    means_centered : ndarray of shape (K, D), optional
        Held-fixed means (minus ``center``); the covariances are then the
        conditional maximum given them.
    max_inner_iter, inner_tol : int, float
        Inner-loop cap and tolerance (see ``covariance_mstep``).
    prior_terms : tuple, optional
        :func:`map_terms` of ``prior`` (or, without a prior, the penalty's
        terms: no pseudo-counts, scatter ``diag(psi)``), when the caller
        keeps them between M-steps.

    Returns
    -------
    means_centered : ndarray of shape (K, D)
    covariances : ndarray of shape (K, D, D)
    """
    D = center.shape[0]
    previous = previous_covariances if structure in _WARM_STARTED else None
    if means_centered is None:
        # The whole M-step (means, scatter, prior terms, structure) in one
        # compiled call: this runs thousands of times in a selection grid.
        if prior is not None and prior_terms is None:
            prior_terms = map_terms(structure, counts.shape[0], D, prior, center)
        elif prior is None and prior_terms is None and psi is not None and np.any(psi):
            K = counts.shape[0]
            prior_terms = (0.0, np.zeros(D), np.zeros(K),
                           np.ascontiguousarray(np.broadcast_to(np.diag(psi), (K, D, D))))
        return structured_m_step_from_moments(
            STRUCTURE_CODES[structure], kernel, counts, moments, previous,
            reg_covar=0.0, prior_terms=prior_terms,
            max_iter=max_inner_iter, tol=inner_tol)
    # Held-fixed means: the covariance problem about them, through the
    # reference implementation (no compiled fast path needed here).
    scatter = scatter_matrices(scatter_about(counts, moments, kernel, means_centered), kernel, D)
    n_k = safe_counts(counts)
    if prior is None and psi is not None:
        scatter = scatter + np.diag(psi)
    covariances = covariance_mstep(
        structure, n_k, scatter, previous, prior=prior, max_inner_iter=max_inner_iter,
        tol=inner_tol, means=None if prior is None else means_centered + center,
    )
    return means_centered, covariances


def layout_precision_cholesky(covariances, layout):
    """Precision Cholesky factors of a (K, D, D) stack in the kernel's layout.

    Returns
    -------
    prec_chol : ndarray
        spherical (K,), diag (K, D) or full (K, D, D) upper triangular, as
        :func:`~emkit.components.gaussian.quadratic_plan` expects.
    covariances : ndarray of shape (K, D, D)
        The input, or its repaired version where a covariance was not
        positive definite (see :func:`~emkit.components.gaussian.precision_cholesky`).
    """
    covariances = np.ascontiguousarray(covariances, dtype=np.float64)
    K, D = covariances.shape[0], covariances.shape[-1]
    factors = layout_factors(covariances, layout)
    if factors is not None:  # every covariance positive definite: nothing to repair
        return factors, covariances
    if layout == "full":
        return precision_cholesky(covariances, "full")
    diagonals = np.diagonal(covariances, axis1=1, axis2=2)
    if layout == "diag":
        prec_chol, repaired = precision_cholesky(diagonals, "diag")
        if not np.array_equal(repaired, diagonals):
            covariances = repaired[:, :, None] * np.eye(D)
        return prec_chol, covariances
    # Isotropic: every diagonal entry holds the same variance.
    variances = diagonals.mean(axis=1)
    prec_chol, repaired = precision_cholesky(variances, "spherical")
    if not np.array_equal(repaired, diagonals[:, 0]):
        covariances = repaired[:, None, None] * np.eye(D)
    return prec_chol, covariances


def full_precision_cholesky(prec_chol, layout, n_features):
    """Layout factors -> (K, D, D) upper-triangular factors (``precision = U U^T``)."""
    D = n_features
    prec_chol = np.asarray(prec_chol, dtype=np.float64)
    if layout == "full":
        return prec_chol
    if layout == "diag":
        return prec_chol[:, :, None] * np.eye(D)
    return prec_chol[:, None, None] * np.eye(D)


def layout_from_full_precision_cholesky(factors, layout):
    """(K, D, D) factors of a diagonal or isotropic structure -> the kernel layout."""
    factors = np.asarray(factors, dtype=np.float64)
    if layout == "full":
        return factors
    diagonals = np.diagonal(factors, axis1=1, axis2=2).copy()
    return diagonals if layout == "diag" else diagonals[:, 0]


def structured_log_prior(structure, params, prior):
    """Log-density (up to a constant) of the prior at ``params``; see
    :func:`~emkit.components._structures.prior_log_density`."""
    return prior_log_density(structure, params["covariances"], params["means"], prior)
