"""MAP M-steps and log-prior densities for Gaussian components.

The prior is a normal-inverse-Wishart object (``loc``, ``shrinkage`` kappa,
``dof`` nu, ``scale`` Psi), used as R's mclust uses it (Fraley & Raftery 2007):

* full: per component, mu_k | Sigma_k ~ N(loc, Sigma_k / kappa),
  Sigma_k ~ IW(nu, Psi);
* tied: one Sigma ~ IW(nu, Psi), and each mu_k | Sigma ~ N(loc, Sigma / kappa);
* diag: per component and dimension, mu_kd | s_kd ~ N(loc_d, s_kd / kappa),
  s_kd ~ InvGamma(nu / 2, Psi_dd / 2);
* spherical: mu_k | s_k ~ N(loc, s_k I / kappa), s_k ~ InvGamma(nu / 2, tr(Psi) / (2 D)).

Each M-step below is the exact (conditional) mode of the log-posterior, so EM
with it never lowers ``log-likelihood + gaussian_log_prior``; the
denominators follow from counting the powers of the variance in that
density (e.g. nu + D + 2 + n_k for full, nu + (n_k + 1) D + 2 for spherical,
which are mclust's). ``reg_covar`` is not added under a prior: the prior's
scale already keeps every covariance positive definite, and adding it would
break the exact monotonicity of the log-posterior.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as scipy_stats

from .components.gaussian_ops import (
    component_means,
    kernel_of,
    scatter_about,
    n_features_from_width,
)

__all__ = ["gaussian_map_m_step", "gaussian_log_prior"]


def gaussian_map_m_step(counts, moments, covariance_type, prior, *, center, reg_covar=0.0,
                        means_centered=None):
    """MAP means and covariances of Gaussian components under ``prior``.

    Parameters
    ----------
    counts : ndarray of shape (K,)
    moments : ndarray of shape (K, width)
        Summed feature statistics (see :mod:`emkit.components.gaussian`).
    covariance_type : {"full", "tied", "diag", "spherical"}
    prior : NormalInverseWishart-like
    center : ndarray of shape (D,)
        The centre the statistics were taken about.
    reg_covar : float
        Ignored under a prior (see the module docstring); kept for the signature.
    means_centered : ndarray of shape (K, D), optional
        Held-fixed means; then the covariance is the conditional mode given them.

    Returns
    -------
    means_centered : ndarray of shape (K, D)
    covariances : ndarray in the layout of ``covariance_type``
    """
    kernel = kernel_of(covariance_type)
    D = n_features_from_width(moments.shape[1], kernel)
    kappa = float(prior.shrinkage)
    nu = float(prior.dof)
    psi = np.asarray(prior.scale, dtype=np.float64)
    loc = np.asarray(prior.loc, dtype=np.float64) - center
    if means_centered is None:
        sample_means = component_means(counts, moments, D)
        means_centered = (counts[:, None] * sample_means + kappa * loc) / (counts + kappa)[:, None]
    offset = means_centered - loc
    scatter = scatter_about(counts, moments, kernel, means_centered)
    K = counts.shape[0]
    if covariance_type == "full":
        numerator = psi + scatter + kappa * np.einsum("ki,kj->kij", offset, offset)
        covariances = numerator / (nu + counts + D + 2)[:, None, None]
    elif covariance_type == "tied":
        numerator = psi + scatter.sum(axis=0) + kappa * offset.T @ offset
        covariances = numerator / (nu + counts.sum() + D + 1 + K)
    elif covariance_type == "diag":
        numerator = np.diag(psi) + scatter + kappa * offset**2
        covariances = numerator / (nu + counts + 3)[:, None]
    else:
        numerator = np.trace(psi) / D + scatter + kappa * np.einsum("kd,kd->k", offset, offset)
        covariances = numerator / (nu + (counts + 1) * D + 2)
    return means_centered, covariances


def gaussian_log_prior(params, covariance_type, prior):
    """Log-density of the prior at fitted Gaussian parameters (see module docstring)."""
    means = np.asarray(params["means"], dtype=np.float64)
    covariances = np.asarray(params["covariances"], dtype=np.float64)
    kappa = float(prior.shrinkage)
    nu = float(prior.dof)
    psi = np.asarray(prior.scale, dtype=np.float64)
    loc = np.asarray(prior.loc, dtype=np.float64)
    K, D = means.shape
    total = 0.0
    if covariance_type in ("full", "tied"):
        stack = covariances if covariance_type == "full" else [covariances] * K
        for k in range(K):
            total += scipy_stats.multivariate_normal.logpdf(means[k], loc, stack[k] / kappa)
        inverse_wishart = scipy_stats.invwishart(df=nu, scale=psi)
        if covariance_type == "full":
            total += sum(inverse_wishart.logpdf(cov) for cov in covariances)
        else:
            total += inverse_wishart.logpdf(covariances)
        return float(total)
    if covariance_type == "diag":
        variances = covariances
        shape_scale = np.diag(psi) / 2.0
    else:
        variances = np.repeat(covariances[:, None], D, axis=1)
        shape_scale = np.full(D, np.trace(psi) / (2.0 * D))
    total += scipy_stats.norm.logpdf(means, loc, np.sqrt(variances / kappa)).sum()
    if covariance_type == "diag":
        total += scipy_stats.invgamma.logpdf(variances, nu / 2.0, scale=shape_scale).sum()
    else:
        total += scipy_stats.invgamma.logpdf(covariances, nu / 2.0,
                                             scale=shape_scale[0]).sum()
    return float(total)
