"""Variational Bayesian Gaussian mixtures, as pure functions for the EM engine.

The model is scikit-learn's ``BayesianGaussianMixture`` (Bishop 2006, ch.
10.2; Blei & Jordan 2006 for the stick-breaking prior): a Dirichlet
(``"dirichlet_distribution"``) or truncated Dirichlet-process
(``"dirichlet_process"``, stick-breaking) prior on the weights and a
Gaussian-Wishart prior on every component,

    mu_k | Lambda_k ~ N(m0, (beta0 Lambda_k)^-1),  Lambda_k ~ Wishart(nu0, Psi0^-1),

fitted by mean-field variational EM: ``q(Z) q(pi) prod_k q(mu_k, Lambda_k)``.
The engine's "parameters" are the variational parameters of ``q(theta)``
(in scikit-learn's attribute layout); its E-step is the ``q(Z)`` update
(responsibilities from expected log-weights and expected log-densities), its
statistics the Gaussian family's additive moments ``R^T F`` (the feature
kernels of :mod:`emkit.components.gaussian_ops`), its M-step the conjugate
``q(theta)`` update. The objective handed to the engine is the evidence
lower bound at ``(q(Z) optimal for q(theta), q(theta))``:

    ELBO = sum_n w_n log sum_k exp(rho_nk) - KL(q(theta) || p(theta)),

the E-step's log-normaliser (``loglik``) plus :meth:`log_prior` (the negative
KL), exact with every constant, so it never decreases under the alternating
updates and restarts compare on it.

Covariance types follow scikit-learn: "tied" gives every component its own
precision a priori but one shared ``q(Lambda)`` (its Wishart prior then
counts K times, scikit-learn's ``n_components * log_wishart``); "diag" and
"spherical" restrict ``q(Lambda_k)`` to Wisharts with a diagonal or isotropic
scale matrix. All four updates are the exact optimum within that family.

``reg_covar``: scikit-learn adds ``N_k * reg_covar`` to every scatter in its
M-step only. Here it is part of the model, a penalty ``-reg_covar / 2 *
tr(Lambda_k)`` on every sample's log-density (the expected log-likelihood of
the sample jittered by noise of covariance ``reg_covar * I``), so the same
M-step is an exact maximisation and the E-step carries the matching
``-reg_covar / 2 * E[tr Lambda_k]``. With ``reg_covar=0`` the two agree
exactly; with the default 1e-6 the responsibilities differ by about
``1e-6 * tr(precision)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, digamma, gammaln

from ..components.gaussian_ops import (LOG_2PI, component_means, precision_cholesky,
                                       scatter_about)
from .. import backend

__all__ = ["WEIGHT_PRIOR_TYPES", "VariationalPrior", "BayesianMixtureModel"]

WEIGHT_PRIOR_TYPES = ("dirichlet_process", "dirichlet_distribution")


@dataclass(frozen=True)
class VariationalPrior:
    """Hyper-parameters of a variational Bayesian Gaussian mixture.

    Attributes
    ----------
    weight_type : {"dirichlet_process", "dirichlet_distribution"}
    weight_concentration : float
        ``gamma`` of the sticks' Beta(1, gamma) prior, or ``alpha0`` of the
        symmetric Dirichlet.
    mean_precision : float
        ``beta0``.
    mean : ndarray of shape (n_features,)
        ``m0``.
    degrees_of_freedom : float
        ``nu0 > n_features - 1``.
    covariance : ndarray or float
        ``Psi0`` (the inverse of the Wishart scale matrix) in the layout of
        the covariance type: (D, D) for "full" and "tied", (D,) for "diag",
        a float for "spherical".
    """

    weight_type: str
    weight_concentration: float
    mean_precision: float
    mean: np.ndarray
    degrees_of_freedom: float
    covariance: np.ndarray


def _log_det_precision(prec_chol, covariance_type, n_features):
    """``log |P_k|`` from the precision Cholesky factors, shape (K,) (scalar for tied)."""
    if covariance_type in ("full", "tied"):
        return 2.0 * np.log(np.diagonal(prec_chol, axis1=-2, axis2=-1)).sum(axis=-1)
    if covariance_type == "diag":
        return 2.0 * np.log(prec_chol).sum(axis=1)
    return 2.0 * n_features * np.log(prec_chol)


def _trace_product(matrix, prec_chol, covariance_type, n_features):
    """``tr(M P_k)`` for a prior matrix ``M`` in the type's layout, shape (K,)."""
    if covariance_type in ("full", "tied"):
        precisions = prec_chol @ np.swapaxes(prec_chol, -1, -2)
        return np.einsum("ij,...ij->...", matrix, precisions)
    if covariance_type == "diag":
        return np.square(prec_chol) @ matrix
    return matrix * n_features * np.square(prec_chol)


def _mahalanobis(differences, prec_chol, covariance_type):
    """``d_k^T P_k d_k`` for every component, shape (K,)."""
    if covariance_type == "full":
        return np.square(np.einsum("kd,kde->ke", differences, prec_chol)).sum(axis=1)
    if covariance_type == "tied":
        return np.square(differences @ prec_chol).sum(axis=1)
    if covariance_type == "diag":
        return np.square(differences * prec_chol).sum(axis=1)
    return np.square(prec_chol) * np.square(differences).sum(axis=1)


def _multigamma_terms(degrees_of_freedom, n_features, function):
    """``sum_d f((nu - d) / 2)`` over d = 0..D-1, for scalar or (K,) ``nu``."""
    nu = np.asarray(degrees_of_freedom, dtype=np.float64)
    offsets = np.arange(n_features).reshape((-1,) + (1,) * nu.ndim)
    return function(0.5 * (nu - offsets)).sum(axis=0)


def _log_wishart_normalizer(degrees_of_freedom, log_det_scale, n_features):
    """``log B(W, nu)`` of the Wishart density (Bishop B.79), from ``log |W|``."""
    D = n_features
    nu = degrees_of_freedom
    return (-0.5 * nu * log_det_scale - 0.5 * nu * D * math.log(2.0)
            - 0.25 * D * (D - 1) * math.log(math.pi)
            - _multigamma_terms(nu, D, gammaln))


class BayesianMixtureModel:
    """Variational Bayesian Gaussian mixture, as pure functions for the engine.

    Parameters
    ----------
    component : GaussianComponent
        The Gaussian family with scikit-learn's covariance type ("full",
        "tied", "diag" or "spherical"), built with ``reg_covar=0`` and no
        prior: only its feature map, statistics, log-densities and sampling
        are used (the Bayesian update lives here).
    n_components : int
    prior : VariationalPrior
    reg_covar : float
        Penalty ``-reg_covar / 2 * tr(Lambda_k)`` per sample (see the module
        docstring).

    Notes
    -----
    Parameters (a dict, scikit-learn's attribute names without the trailing
    underscore): ``weight_concentration`` (K,) for a Dirichlet or (2, K) for
    the sticks' Beta parameters, ``mean_precision`` (K,), ``means`` (K, D),
    ``degrees_of_freedom`` (K,) (a 0-d array for "tied"), ``covariances`` and
    ``precisions_cholesky`` (scikit-learn's layouts; ``covariances`` is the
    Wishart's ``W^-1 / nu``, so the precisions are ``E[Lambda_k]``).
    Statistics: ``counts`` (K,), ``moments`` (K, width) and ``entropy`` (the
    responsibilities' entropy, weighted), all additive over chunks.
    """

    # The E-step is pure and its kernels release the GIL: chunks run on all cores.
    parallel_chunks = True

    def __init__(self, component, n_components, prior, *, reg_covar=0.0):
        self.component = component
        self.n_components = int(n_components)
        self.prior = prior
        self.reg_covar = float(reg_covar)
        self.covariance_type = component.covariance_type
        self.n_features = component.n_features

    # -- expectations under q(theta) --------------------------------------------
    def expected_log_weights(self, params):
        """``E[log pi_k]`` under q, shape (K,)."""
        concentration = np.asarray(params["weight_concentration"], dtype=np.float64)
        if self.prior.weight_type == "dirichlet_process":
            a, b = concentration
            digamma_sum = digamma(a + b)
            log_stick = digamma(b) - digamma_sum
            return digamma(a) - digamma_sum + np.concatenate(([0.0], np.cumsum(log_stick)[:-1]))
        return digamma(concentration) - digamma(concentration.sum())

    def expected_log_det(self, params):
        """``E[log |Lambda_k|]`` under q, shape (K,) (a scalar for "tied")."""
        D = self.n_features
        nu = np.asarray(params["degrees_of_freedom"], dtype=np.float64)
        log_det_scale = (_log_det_precision(params["precisions_cholesky"],
                                            self.covariance_type, D) - D * np.log(nu))
        return _multigamma_terms(nu, D, digamma) + D * math.log(2.0) + log_det_scale

    def _log_density_shift(self, params):
        """What turns the component's plug-in ``log N(x | m_k, P_k^-1)`` into
        ``E[log pi_k] + E[log N(x | mu_k, Lambda_k^-1)]`` minus the penalty:
        a constant per component, shape (K,)."""
        D, K = self.n_features, self.n_components
        prec_chol = params["precisions_cholesky"]
        log_det = _log_det_precision(prec_chol, self.covariance_type, D)
        shift = (0.5 * (self.expected_log_det(params) - log_det)
                 - 0.5 * D / np.asarray(params["mean_precision"], dtype=np.float64))
        if self.reg_covar:
            shift = shift - 0.5 * self.reg_covar * _trace_product(
                np.eye(D) if self.covariance_type in ("full", "tied") else
                (np.ones(D) if self.covariance_type == "diag" else 1.0),
                prec_chol, self.covariance_type, D)
        return np.broadcast_to(shift, (K,)) + self.expected_log_weights(params)

    # -- engine interface ---------------------------------------------------------
    def e_step_plan(self, params):
        return self.component.plan(params), self._log_density_shift(params)

    def weighted_log_prob(self, plan, X_chunk):
        """``rho_nk = E[log pi_k] + E[log p(x_n | k)]``, shape (n, K), and the features."""
        component_plan, shift = plan
        features = self.component.features(X_chunk)
        log_prob = self.component.log_prob(component_plan, features)
        return log_prob, shift, features

    def e_step(self, plan, X_chunk, weights=None):
        """Responsibilities' statistics and ``sum_n w_n log sum_k exp(rho_nk)``.

        The entropy of the responsibilities is what is left of the chunk's
        log-normaliser after the part linear in the statistics
        (``sum_nk r_nk rho_nk``), so it costs O(K * width), not a pass over
        the (n, K) responsibilities.
        """
        (weights_matrix, offsets, log_norm), shift = plan
        resp, shift, features = self.weighted_log_prob(plan, X_chunk)
        row_log_norm = backend.ops().normalize_rows(resp, shift, weights)
        loglik = float(row_log_norm.sum() if weights is None else weights @ row_log_norm)
        stats = self.component.stats(resp, features)
        counts = resp.sum(axis=0, dtype=np.float64)
        stats["counts"] = counts
        linear = self._linear_term(counts, stats["moments"], (weights_matrix, offsets, log_norm),
                                   shift)
        stats["entropy"] = np.array(loglik - linear)
        return stats, loglik

    @staticmethod
    def _linear_term(counts, moments, component_plan, shift):
        """``sum_nk w_n r_nk rho_nk`` from the summed statistics."""
        weights_matrix, offsets, log_norm = component_plan
        quadratic = (np.einsum("kw,wk->k", moments, np.asarray(weights_matrix, np.float64))
                     + counts * offsets)
        return float(counts @ (shift + log_norm) - 0.5 * quadratic.sum())

    def m_step(self, stats, params=None):
        """The conjugate update of q(theta) from summed statistics (scikit-learn's
        ``_estimate_weights``, ``_estimate_means`` and ``_estimate_precisions``)."""
        prior = self.prior
        counts = np.asarray(stats["counts"], dtype=np.float64)
        moments = np.asarray(stats["moments"], dtype=np.float64)
        K, D = self.n_components, self.n_features
        kernel = self.component.kernel
        center = self.component.center
        beta0, nu0 = prior.mean_precision, prior.degrees_of_freedom
        mean_prior = prior.mean - center
        mean_precision = beta0 + counts
        means = (beta0 * mean_prior + moments[:, -D:]) / mean_precision[:, None]
        # Scatter about each component's own weighted mean, then the prior's
        # pull of that mean towards m0 (Bishop 10.62).
        sample_means = component_means(counts, moments, D)
        scatter = scatter_about(counts, moments, kernel, sample_means)
        differences = sample_means - mean_prior
        shrink = beta0 * counts / mean_precision
        covariance_type = self.covariance_type
        if covariance_type in ("full", "tied"):
            scale = (scatter + shrink[:, None, None] * np.einsum("ki,kj->kij", differences,
                                                                 differences))
            scale[:, np.arange(D), np.arange(D)] += self.reg_covar * counts[:, None]
            if covariance_type == "full":
                degrees_of_freedom = nu0 + counts
                covariances = (prior.covariance + scale) / degrees_of_freedom[:, None, None]
            else:
                degrees_of_freedom = np.array(nu0 + counts.sum() / K)
                covariances = (prior.covariance + scale.sum(axis=0) / K) / degrees_of_freedom
        elif covariance_type == "diag":
            degrees_of_freedom = nu0 + counts
            scale = scatter + shrink[:, None] * differences**2 + self.reg_covar * counts[:, None]
            covariances = (prior.covariance + scale) / degrees_of_freedom[:, None]
        else:
            degrees_of_freedom = nu0 + counts
            scale = (scatter / D + shrink * np.mean(differences**2, axis=1)
                     + self.reg_covar * counts)
            covariances = (prior.covariance + scale) / degrees_of_freedom
        prec_chol, covariances = precision_cholesky(covariances, covariance_type)
        if prior.weight_type == "dirichlet_process":
            tail = np.concatenate((np.cumsum(counts[::-1])[-2::-1], [0.0]))
            concentration = np.vstack([1.0 + counts, prior.weight_concentration + tail])
        else:
            concentration = prior.weight_concentration + counts
        return {
            "weight_concentration": concentration,
            "mean_precision": mean_precision,
            "means": means + center,
            "degrees_of_freedom": degrees_of_freedom,
            "covariances": covariances,
            "precisions_cholesky": prec_chol,
        }

    def log_prior(self, params):
        """``-KL(q(theta) || p(theta))``: with the E-step's log-normaliser, the ELBO."""
        return self._weights_neg_kl(params) + self._gaussian_wishart_neg_kl(params)

    def _weights_neg_kl(self, params):
        prior = self.prior
        concentration = np.asarray(params["weight_concentration"], dtype=np.float64)
        gamma0 = prior.weight_concentration
        if prior.weight_type == "dirichlet_process":
            a, b = concentration
            digamma_sum = digamma(a + b)
            return float(np.sum(betaln(a, b) - betaln(1.0, gamma0)
                                + (1.0 - a) * (digamma(a) - digamma_sum)
                                + (gamma0 - b) * (digamma(b) - digamma_sum)))
        K = concentration.shape[0]
        log_norm_prior = gammaln(K * gamma0) - K * gammaln(gamma0)
        log_norm = gammaln(concentration.sum()) - gammaln(concentration).sum()
        expected_log = digamma(concentration) - digamma(concentration.sum())
        return float(log_norm_prior - log_norm + ((gamma0 - concentration) * expected_log).sum())

    def _gaussian_wishart_neg_kl(self, params):
        """Sum over components of ``E_q[log p(mu_k, Lambda_k) - log q(mu_k, Lambda_k)]``
        (Bishop 10.74 and 10.77 with every constant)."""
        prior = self.prior
        D, K = self.n_features, self.n_components
        covariance_type = self.covariance_type
        beta0, nu0 = prior.mean_precision, prior.degrees_of_freedom
        beta = np.asarray(params["mean_precision"], dtype=np.float64)
        nu = np.broadcast_to(np.asarray(params["degrees_of_freedom"], dtype=np.float64), (K,))
        prec_chol = params["precisions_cholesky"]
        log_det_precision = np.broadcast_to(
            _log_det_precision(prec_chol, covariance_type, D), (K,))
        log_det_scale = log_det_precision - D * np.log(nu)
        expected_log_det = np.broadcast_to(self.expected_log_det(params), (K,))
        trace = np.broadcast_to(_trace_product(prior.covariance, prec_chol, covariance_type, D),
                                (K,))
        maha = _mahalanobis(np.asarray(params["means"], np.float64) - prior.mean, prec_chol,
                            covariance_type)
        log_norm_prior = _log_wishart_normalizer(nu0, -self.prior_log_det(), D)
        log_norm = _log_wishart_normalizer(nu, log_det_scale, D)
        terms = (0.5 * D * np.log(beta0 / beta) + 0.5 * D - 0.5 * beta0 * D / beta
                 - 0.5 * beta0 * maha + log_norm_prior - log_norm
                 + 0.5 * (nu0 - nu) * expected_log_det - 0.5 * trace + 0.5 * nu * D)
        return float(terms.sum())

    def prior_log_det(self):
        """``log |Psi0|`` of the covariance prior."""
        covariance, D = self.prior.covariance, self.n_features
        if self.covariance_type in ("full", "tied"):
            return float(np.linalg.slogdet(covariance)[1])
        if self.covariance_type == "diag":
            return float(np.log(covariance).sum())
        return float(D * np.log(covariance))

    def repair(self, params, stats, rng, data=None):
        """Nothing to repair: the Wishart prior keeps every covariance positive
        definite, and a component the data do not need empties out (that is
        the point of the model), it does not collapse."""
        return params, 0

    # -- unconstrained coordinates (accelerated steppers) -----------------------------
    def to_unconstrained(self, params):
        """The variational parameters as one real vector, for SQUAREM.

        Log concentrations (the Dirichlet's, or both rows of the sticks' Beta
        parameters), log mean precisions ``beta``, ``log(nu - (D - 1))`` of
        the degrees of freedom (one for "tied"), then the Gaussian family's
        coordinates of ``means`` and ``covariances`` (``(nu W)^-1``; Cholesky
        factors with log-diagonal, log-variances for "diag" and "spherical",
        in the data's units; see
        :meth:`~emkit.components.gaussian.GaussianComponent.to_unconstrained`).
        Every vector maps back to a valid ``q(theta)``, whose ELBO the engine
        evaluates; the points need not be an M-step's (whose ``beta``, ``nu``
        and concentrations all follow from the counts).

        Parameters
        ----------
        params : dict
            Variational parameters (see the class notes).

        Returns
        -------
        ndarray of shape (n_coordinates,), or None when a covariance no
        longer factors (the stepper then takes a plain update).
        """
        gaussian_vector = self.component.to_unconstrained(params)
        if gaussian_vector is None:
            return None
        return np.concatenate([
            np.log(np.asarray(params["weight_concentration"], dtype=np.float64)).ravel(),
            np.log(np.asarray(params["mean_precision"], dtype=np.float64)),
            np.log(np.asarray(params["degrees_of_freedom"], dtype=np.float64)
                   - (self.n_features - 1.0)).ravel(),
            gaussian_vector,
        ])

    def from_unconstrained(self, vector, template):
        """Variational parameters from :meth:`to_unconstrained`'s vector.

        Parameters
        ----------
        vector : ndarray of shape (n_coordinates,)
        template : dict
            Parameters of the same shapes (the point extrapolated from).

        Returns
        -------
        dict, or None when ``vector`` maps to no valid ``q(theta)`` (not
        finite, or a covariance that overflows).
        """
        if not np.isfinite(vector).all():
            return None
        concentration_shape = np.shape(template["weight_concentration"])
        dof_shape = np.shape(template["degrees_of_freedom"])
        sizes = np.cumsum([int(np.prod(concentration_shape)), self.n_components,
                           int(np.prod(dof_shape))])
        log_concentration, log_mean_precision, log_dof, gaussian_vector = np.split(vector,
                                                                                   sizes)
        params = self.component.from_unconstrained(gaussian_vector, template)
        if params is None:
            return None
        with np.errstate(over="ignore", under="ignore"):
            concentration, mean_precision, dof_excess = (
                np.exp(log_concentration), np.exp(log_mean_precision), np.exp(log_dof))
        # An exp that over- or underflows leaves the parameter space (a zero
        # concentration or nu = D - 1 has no finite bound).
        for values in (concentration, mean_precision, dof_excess):
            if not (np.isfinite(values).all() and (values > 0).all()):
                return None
        params["weight_concentration"] = concentration.reshape(concentration_shape)
        params["mean_precision"] = mean_precision
        params["degrees_of_freedom"] = (dof_excess + (self.n_features - 1.0)).reshape(dof_shape)
        return params

    # -- bounds ---------------------------------------------------------------------
    def elbo(self, stats, params):
        """The exact ELBO of the responsibilities behind ``stats`` paired with
        ``q(theta) = params``: entropy + ``sum_nk r_nk rho_nk`` - KL.

        With ``params`` the M-step of ``stats`` this is the bound scikit-learn
        reports after that M-step (plus :meth:`sklearn_offset`); with the
        parameters ``stats`` came from it is the engine's objective.
        """
        plan = self.e_step_plan(params)
        counts = np.asarray(stats["counts"], dtype=np.float64)
        linear = self._linear_term(counts, np.asarray(stats["moments"], np.float64), plan[0],
                                   plan[1])
        return float(stats["entropy"]) + linear + self.log_prior(params)

    def sklearn_offset(self, total_weight):
        """``exact ELBO - scikit-learn's lower bound`` at a q(theta) that is the
        M-step of the responsibilities: the constants scikit-learn drops
        (``-N D / 2 log 2 pi``, the priors' normalisers). Subtract it from the
        exact bound to get scikit-learn's ``lower_bound_`` convention."""
        prior, D, K = self.prior, self.n_features, self.n_components
        gamma0, nu0 = prior.weight_concentration, prior.degrees_of_freedom
        if prior.weight_type == "dirichlet_process":
            weights_constant = K * math.log(gamma0)
        else:
            weights_constant = gammaln(K * gamma0) - K * gammaln(gamma0)
        wishart_constant = (0.5 * nu0 * self.prior_log_det() - 0.5 * nu0 * D * math.log(2.0)
                            - float(_multigamma_terms(nu0, D, gammaln)))
        return float(weights_constant - 0.5 * total_weight * D * LOG_2PI
                     + K * (0.5 * D * math.log(prior.mean_precision) + wishart_constant))

    # -- fitted quantities ------------------------------------------------------------
    def mixture_weights(self, params):
        """Point estimates of the weights: ``E[pi_k]`` (scikit-learn's ``weights_``)."""
        concentration = np.asarray(params["weight_concentration"], dtype=np.float64)
        if self.prior.weight_type == "dirichlet_process":
            a, b = concentration
            total = a + b
            weights = a / total * np.concatenate(([1.0], np.cumprod(b / total)[:-1]))
            return weights / weights.sum()
        return concentration / concentration.sum()
