"""Student-t components: heavy-tailed clusters fitted by ECM.

Component ``k`` is a multivariate t with location ``mu_k``, scatter
``Sigma_k`` and ``nu_k`` degrees of freedom,

    log t_k(x) = lgamma((nu + D)/2) - lgamma(nu/2) - D/2 log(nu pi)
                 + 1/2 log|Sigma^-1| - (nu + D)/2 log(1 + delta/nu),

with ``delta = (x - mu)^T Sigma^-1 (x - mu)``. It is a Gaussian scale
mixture: ``x | w ~ N(mu, Sigma / w)``, ``w ~ Gamma(nu/2, nu/2)``, and EM
treats the component label and ``w`` as missing (Peel & McLachlan 2000).

E-step
    Besides the responsibilities ``r_ik``, the posterior mean of the scale,
    ``u_ik = (nu_k + D) / (nu_k + delta_ik)``, which down-weights far
    samples. The squared distances are the Gaussian feature kernels'
    quadratic forms (:func:`~emkit.components.gaussian_ops.quadratic_plan`),
    so the E-step costs what a Gaussian one does. ``log_prob`` records the
    ``u_ik`` of its chunk in the chunk's feature object (a per-chunk
    workspace, as :class:`emkit.models.hmm.StateMixtureEmission` does) and
    ``stats`` reads them: additive statistics ``sum_i r_ik u_ik F(x_i)``,
    ``sum_i r_ik u_ik`` and ``sum_i r_ik (log u_ik - u_ik)``.

M-step (location and scatter)
    Given the ``u``, the conditional maximiser of the complete-data
    expectation is a weighted Gaussian M-step: the ``r u``-weighted mean and
    the ``r u``-weighted scatter ``W_k`` divided by ``n_k = sum_i r_ik``.
    That is exactly the Gaussian M-step on the statistics of ``n_k``
    samples with mean ``mu_k`` and scatter ``W_k``
    (:func:`gaussian_equivalent_moments`), so every covariance type of
    :class:`~emkit.components.gaussian.GaussianComponent` - scikit-learn's
    four and mclust's 14 structures, whose M-steps maximise
    ``-n_k/2 log|Sigma_k| - 1/2 tr(W_k Sigma_k^-1)`` under their constraints -
    and its ``reg_covar`` penalty serve the t unchanged.

M-step (degrees of freedom)
    The CM-step of ECM (Liu & Rubin 1995; McLachlan & Peel 2000, sec. 7.5):
    ``nu_k`` maximises the complete-data expectation, the root of

        log(nu/2) - psi(nu/2) + 1 + s_k / n_k + psi((nu_old + D)/2)
        - log((nu_old + D)/2) = 0,     s_k = sum_i r_ik (log u_ik - u_ik),

    from the additive statistics of one pass. The function is strictly
    decreasing in ``nu`` (the expectation is concave in it), so the root is
    unique and is found by bracketing; held to ``[MIN_DOF, MAX_DOF]`` it is
    the constrained maximiser. Every step of this ECM raises the expectation,
    so the observed log-likelihood never decreases. ECME proper
    (Peel & McLachlan's second variant) maximises the *observed*
    likelihood in ``nu``, whose derivative needs every sample's ``delta``
    at the new location and scatter for every trial ``nu`` - a second pass
    over the data per iteration that additive statistics cannot give; the
    ECM step keeps one pass per iteration, and SQUAREM (log ``nu`` among
    its coordinates) recovers the speed ECME gains.

Every method is a pure function of its arguments, except that
:meth:`StudentTComponent.log_prob` fills the chunk workspace its
:meth:`~StudentTComponent.features` made.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import digamma, gammaln

from ..kernels.student_t import t_log_density_from_quadratic, t_scale_statistics
from .gaussian import GaussianComponent
from .gaussian_ops import component_means, safe_counts, scatter_about

__all__ = ["StudentTComponent", "gaussian_equivalent_moments", "dof_m_step",
           "MIN_DOF", "MAX_DOF", "DEFAULT_DOF"]

# Degrees of freedom are kept in this range: below it a component is all
# tail (infinite-mean behaviour sets in at nu <= 1, nothing is gained far
# below); above it the t is a Gaussian to within 1e-4 relative in every
# density that float64 data give.
MIN_DOF, MAX_DOF = 1e-2, 1e4
# Starting degrees of freedom when none are given: heavy enough tails that
# the first E-steps already down-weight outliers the Gaussian-like start
# (k-means responsibilities) took in.
DEFAULT_DOF = 4.0


class _TChunk:
    """Gaussian features of a chunk and, after ``log_prob``, its scale weights."""

    __slots__ = ("features", "scale", "log_scale")

    def __init__(self, features):
        self.features = features
        self.scale = None
        self.log_scale = None


def gaussian_equivalent_moments(counts, means_centered, scatter, kernel):
    """Moments of ``counts`` samples with mean ``means_centered`` and scatter ``scatter``.

    The Gaussian M-step computes means and scatters from summed moments
    ``sum_n r_n F(x_n)``; these are the moments whose mean and scatter (about
    that mean) are the given ones, so a Gaussian M-step on them is the t's
    conditional M-step.

    Parameters
    ----------
    counts : ndarray of shape (K,)
    means_centered : ndarray of shape (K, D)
    scatter : ndarray
        full kernel (K, D, D), diag (K, D), spherical (K,) (the layouts of
        :func:`~emkit.components.gaussian_ops.scatter_about`).
    kernel : {"full", "diag", "spherical"}

    Returns
    -------
    moments : ndarray of shape (K, width)
    """
    mu = means_centered
    first = counts[:, None] * mu
    if kernel == "full":
        rows, cols = np.triu_indices(mu.shape[1])
        second = scatter[:, rows, cols] + first[:, rows] * mu[:, cols]
    elif kernel == "diag":
        second = scatter + first * mu
    else:
        second = (scatter + np.einsum("kd,kd->k", first, mu))[:, None]
    return np.hstack([second, first])


def _dof_equation(nu, constant):
    half = 0.5 * nu
    return np.log(half) - digamma(half) + constant


def dof_m_step(counts, log_scale_sums, old_dofs, n_features):
    """Degrees of freedom that maximise the complete-data expectation (ECM).

    Parameters
    ----------
    counts : ndarray of shape (K,)
        ``n_k = sum_i r_ik``.
    log_scale_sums : ndarray of shape (K,)
        ``sum_i r_ik (log u_ik - u_ik)``, with ``u`` from ``old_dofs``.
    old_dofs : ndarray of shape (K,)
        The degrees of freedom of the E-step.
    n_features : int

    Returns
    -------
    dofs : ndarray of shape (K,), in ``[MIN_DOF, MAX_DOF]``
    """
    dofs = np.array(old_dofs, dtype=np.float64, copy=True)
    half_new = 0.5 * (old_dofs + n_features)
    for k in range(dofs.size):
        if not counts[k] > 0:
            continue   # an empty component keeps its value (nothing to estimate)
        constant = (1.0 + log_scale_sums[k] / counts[k] + digamma(half_new[k])
                    - np.log(half_new[k]))
        # The left side falls from +inf to `constant` (< 0 in exact arithmetic):
        # the root is unique; at a bound with the same sign, that bound is the maximum.
        if _dof_equation(MAX_DOF, constant) >= 0:
            dofs[k] = MAX_DOF
        elif _dof_equation(MIN_DOF, constant) <= 0:
            dofs[k] = MIN_DOF
        else:
            dofs[k] = np.exp(brentq(lambda log_nu: _dof_equation(np.exp(log_nu), constant),
                                    np.log(MIN_DOF), np.log(MAX_DOF), xtol=1e-12,
                                    rtol=4 * np.finfo(float).eps))
    return dofs


def t_log_constant(log_norm, dofs, n_features):
    """``log t_k`` at the location from the Gaussian plan's ``log_norm``
    (``1/2 log|P| - D/2 log 2 pi``): the Gaussian's normaliser becomes the t's."""
    D = n_features
    return (log_norm + 0.5 * D * np.log(2.0 / dofs)
            + gammaln(0.5 * (dofs + D)) - gammaln(0.5 * dofs))


class StudentTComponent:
    """Multivariate Student-t component family, configured for one fit.

    Location and scatter are a :class:`~emkit.components.gaussian.GaussianComponent`'s
    (its covariance types, structures, ``reg_covar`` penalty, collapse test
    and re-seeding, on the u-weighted statistics); this class adds the
    degrees of freedom.

    Parameters
    ----------
    covariance_type : str
        Any of GaussianComponent's: "full", "tied", "diag", "spherical" or an
        mclust structure.
    reg_covar, center, dtype, data_covariance, feature_scales
        As for GaussianComponent (``Sigma_k`` plays the covariance's part).
    fixed : frozenset of str
        Names among ("means", "covariances", "dofs") held at their values.
    dof_start : float or ndarray of shape (K,)
        Degrees of freedom of the first M-step from responsibilities (there
        are no scale weights yet) and of a re-seeded component.

    Notes
    -----
    Parameters: ``"means"`` (K, D), ``"covariances"`` and
    ``"precisions_cholesky"`` in GaussianComponent's layouts (the scatter
    matrices ``Sigma_k``, not the covariances ``nu/(nu-2) Sigma_k``), and
    ``"dofs"`` (K,). Statistics: ``"moments"`` (K, width) weighted by
    ``r u``, ``"scale_counts"`` (K,) ``sum r u``, ``"log_scale_sums"``
    (K,) ``sum r (log u - u)``.
    """

    param_names = ("means", "covariances", "dofs")

    def __init__(self, covariance_type, *, reg_covar, center, dtype, data_covariance,
                 fixed=frozenset(), feature_scales=None, dof_start=DEFAULT_DOF):
        self.fixed = frozenset(fixed)
        self.gaussian = GaussianComponent(
            covariance_type, reg_covar=reg_covar, center=center, dtype=dtype,
            data_covariance=data_covariance, fixed=self.fixed - {"dofs"},
            feature_scales=feature_scales)
        self.covariance_type = covariance_type
        self.n_features = self.gaussian.n_features
        self.center = self.gaussian.center
        self.kernel = self.gaussian.kernel
        self.dtype = self.gaussian.dtype
        self.data_covariance = self.gaussian.data_covariance
        self.dof_start = dof_start

    # -- E-step ---------------------------------------------------------------
    def features(self, X_chunk):
        """Gaussian features of a chunk in a workspace that ``log_prob`` fills."""
        return _TChunk(self.gaussian.features(X_chunk))

    def plan(self, params):
        """``(weights, offsets, log_const, dofs)``: the Gaussian quadratic plan,
        with the t's log-density at the location."""
        weights, offsets, log_norm = self.gaussian.plan(params)
        dofs = np.asarray(params["dofs"], dtype=np.float64)
        return weights, offsets, t_log_constant(log_norm, dofs, self.n_features), dofs

    def log_prob(self, plan, chunk):
        """Log-density of every component at every sample, shape (n, K);
        records the chunk's scale weights ``u`` for :meth:`stats`."""
        weights, offsets, log_const, dofs = plan
        quadratic = chunk.features.T @ weights
        log_prob, chunk.scale, chunk.log_scale = t_log_density_from_quadratic(
            quadratic, offsets, log_const, dofs, self.n_features)
        return log_prob

    def stats(self, resp, chunk):
        """u-weighted moments and the scale sums, float64.

        Without a preceding ``log_prob`` (an M-step from given
        responsibilities) every ``u`` is 1: Gaussian moments.
        """
        if chunk.scale is None:
            scaled = resp
            scale_counts = resp.sum(axis=0, dtype=np.float64)
            log_scale_sums = -scale_counts
        else:
            scaled, scale_counts, log_scale_sums = t_scale_statistics(
                resp, chunk.scale, chunk.log_scale)
        moments = np.asarray((chunk.features @ scaled).T, dtype=np.float64)
        return {"moments": moments, "scale_counts": scale_counts,
                "log_scale_sums": log_scale_sums}

    # -- M-step ---------------------------------------------------------------
    def _gaussian_stats(self, counts, stats, params):
        """Statistics on which the Gaussian M-step is the t's conditional one."""
        scale_counts = stats["scale_counts"]
        moments = stats["moments"]
        if "means" in self.fixed and params is not None:
            means_centered = params["means"] - self.center
        else:
            means_centered = component_means(scale_counts, moments, self.n_features)
        scatter = scatter_about(scale_counts, moments, self.kernel, means_centered)
        return {"counts": counts,
                "moments": gaussian_equivalent_moments(counts, means_centered, scatter,
                                                       self.kernel)}

    def _start_dofs(self, n_components):
        return np.broadcast_to(np.asarray(self.dof_start, dtype=np.float64),
                               (n_components,)).copy()

    def m_step(self, counts, stats, params):
        """Location and scatter (weighted Gaussian M-step), then the dofs (ECM)."""
        gaussian_stats = self._gaussian_stats(counts, stats, params)
        new_params = self.gaussian.m_step(counts, gaussian_stats, params)
        K = counts.shape[0]
        if params is None:
            new_params["dofs"] = self._start_dofs(K)
        elif "dofs" in self.fixed:
            new_params["dofs"] = params["dofs"]
        else:
            new_params["dofs"] = dof_m_step(counts, stats["log_scale_sums"],
                                            np.asarray(params["dofs"], dtype=np.float64),
                                            self.n_features)
        return new_params

    def log_prior(self, params):
        """The ``reg_covar`` penalty on the scatter matrices (see GaussianComponent)."""
        return self.gaussian.log_prior(params)

    # -- unconstrained coordinates (accelerated steppers) -----------------------
    def to_unconstrained(self, params):
        """GaussianComponent's coordinates (means, Cholesky factors with
        log-diagonal), then log-dofs.

        mclust structures have no such scatter coordinates (their equal
        volumes, shapes or orientations would not be kept): for them the
        vector is the means and log-dofs alone, and a proposal takes the
        scatter matrices of the point it extrapolates from (the slow
        coordinate of ECM is a growing dof, which this still extrapolates).
        """
        log_dofs = np.log(np.asarray(params["dofs"], dtype=np.float64))
        vector = self.gaussian.to_unconstrained(params)
        if vector is None:
            if self.gaussian.structure is None:
                return None   # a full scatter that no longer factors
            vector = np.asarray(params["means"], dtype=np.float64).ravel()
        return np.concatenate([vector, log_dofs])

    def from_unconstrained(self, vector, template):
        """Parameters from :meth:`to_unconstrained`'s vector (dofs clipped to
        their range); None if the vector is not finite."""
        K = np.shape(template["dofs"])[0]
        if not np.isfinite(vector).all():
            return None
        if self.gaussian.structure is None:
            params = self.gaussian.from_unconstrained(vector[:-K], template)
            if params is None:
                return None
        else:
            means = (template["means"] if "means" in self.fixed
                     else vector[:-K].reshape(np.shape(template["means"])))
            params = {"means": means, "covariances": template["covariances"],
                      "precisions_cholesky": template["precisions_cholesky"]}
        if "dofs" in self.fixed:
            params["dofs"] = template["dofs"]
        else:
            with np.errstate(over="ignore"):
                params["dofs"] = np.clip(np.exp(vector[-K:]), MIN_DOF, MAX_DOF)
        return params

    # -- collapse -------------------------------------------------------------
    def collapsed(self, params, stats):
        """GaussianComponent's collapse test on the u-weighted scatter."""
        gaussian_stats = self._gaussian_stats(stats["counts"], stats, params)
        return self.gaussian.collapsed(params, gaussian_stats)

    def reseed(self, params, component, seed_point, scale_covariance):
        """Re-seed location and scatter as GaussianComponent does; the dofs restart."""
        params = self.gaussian.reseed(params, component, seed_point, scale_covariance)
        if "dofs" not in self.fixed:
            params["dofs"][component] = self._start_dofs(params["dofs"].shape[0])[component]
        return params

    # -- helpers --------------------------------------------------------------
    def sample(self, params, component, n_samples, rng):
        """``n_samples`` draws from one component, shape (n_samples, D):
        Gaussian draws about the location divided by ``sqrt(w)``, ``w ~ Gamma(nu/2, nu/2)``."""
        gaussian = self.gaussian.sample(params, component, n_samples, rng)
        nu = float(params["dofs"][component])
        scale = rng.gamma(0.5 * nu, 2.0 / nu, size=int(n_samples))
        location = params["means"][component]
        return location + (gaussian - location) / np.sqrt(scale)[:, None]

    def n_free_parameters(self, n_components):
        """GaussianComponent's count plus one dof per component (unless held)."""
        dofs = 0 if "dofs" in self.fixed else n_components
        return int(self.gaussian.n_free_parameters(n_components) + dofs)
