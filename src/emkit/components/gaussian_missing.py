"""Gaussian components with missing entries (NaN) marginalised exactly.

A sample ``x`` with observed coordinates ``o`` and missing coordinates ``m``
has, under component ``k``, the density of its observed sub-vector,
``N(x_o | mu_ko, Sigma_k,oo)``; a wholly missing sample has density 1 (log 0),
so in a hidden Markov model it contributes only its transition.

The M-step needs the *expected* complete-data statistics given the observed
entries (missing at random). Under component ``k`` the missing block is
Gaussian given the observed one,

    E[x_m | x_o, k]   = mu_km + Sigma_k,mo Sigma_k,oo^{-1} (x_o - mu_ko)
    Cov[x_m | x_o, k] = Sigma_k,mm - Sigma_k,mo Sigma_k,oo^{-1} Sigma_k,om

so ``E[x x^T] = E[x] E[x]^T + Cov`` (the conditional covariance adds to the
second moment in the missing block). These expected statistics have exactly
the layout of :class:`~emkit.components.gaussian.GaussianComponent`'s
``"moments"``, so its M-step (maximum likelihood or MAP, every covariance
type, held-fixed parameters) is reused unchanged and EM stays exact and
monotone in the observed-data likelihood.

* diag / spherical: the missing coordinates simply drop out of the
  log-density, and ``E[x_d] = mu_kd``, ``E[x_d^2] = mu_kd^2 + sigma_kd^2``;
  everything is three matrix products per chunk, with the observed-entry
  mask as an extra feature block.
* full / tied: the samples of a chunk are grouped by missing pattern; each
  pattern needs the Cholesky factors of every component's observed block.
"""

from __future__ import annotations

import numpy as np

from .gaussian import chunk_features, expand_covariances

__all__ = ["MissingGaussianComponent", "MissingValues", "fill_missing"]

LOG_2PI = np.log(2.0 * np.pi)


class _MissingChunk:
    """Per-chunk working state of the E-step (features and, after
    :meth:`MissingGaussianComponent.log_prob`, the parameters they were
    evaluated at, which the expected statistics need)."""

    __slots__ = ("filled", "observed", "patterns", "plan", "cache")

    def __init__(self, filled, observed, patterns):
        self.filled = filled          # (n, D) centred, 0 where missing
        self.observed = observed      # (n, D) float 1/0
        self.patterns = patterns      # full/tied: list of (rows, obs_dims, mis_dims)
        self.plan = None
        self.cache = None


def fill_missing(X, center):
    """``X`` with NaN replaced by the column ``center`` (a copy; ``X`` itself
    when nothing is missing). For initialisation and scales only: EM treats
    the entries as missing."""
    if not np.isnan(X).any():
        return X
    return np.where(np.isnan(X), np.asarray(center).astype(X.dtype), X)


class MissingValues:
    """Where a data matrix has NaN entries, and what that means for a fit.

    Parameters
    ----------
    empty_rows : ndarray of bool of shape (n_samples,)
        Rows with no observed entry (likelihood 1 under every parameter).
    """

    def __init__(self, empty_rows):
        self.empty_rows = empty_rows

    @classmethod
    def of(cls, X):
        """None when ``X`` has no NaN (the ordinary fit), else its pattern."""
        missing = np.isnan(X)
        if not missing.any():
            return None
        return cls(missing.all(axis=1))

    def drop_empty_rows(self, X, *per_row):
        """``X`` and every per-row array (or None) without the empty rows."""
        if not self.empty_rows.any():
            return (X, *per_row)
        keep = ~self.empty_rows
        return (X[keep], *(None if a is None else a[keep] for a in per_row))


class MissingGaussianComponent:
    """A :class:`GaussianComponent` that accepts NaN entries.

    Wraps a configured ``GaussianComponent`` (covariance type, centre,
    regularisation, prior, fixed parameters) and replaces only the E-step
    methods; the M-step, log-prior, collapse test and re-seeding are the
    wrapped component's.

    Parameters
    ----------
    base : GaussianComponent
    """

    def __init__(self, base):
        self.base = base
        self.covariance_type = base.covariance_type
        self.kernel = base.kernel
        self.center = base.center
        self.n_features = base.n_features
        self.param_names = base.param_names
        self.fixed = base.fixed
        self.prior = base.prior
        self.data_covariance = getattr(base, "data_covariance", None)
        self.scales = getattr(base, "scales", None)

    # -- E-step ---------------------------------------------------------------
    def features(self, X_chunk):
        """Centred chunk with NaN replaced by 0, the observed mask and (for
        full/tied) the rows grouped by missing pattern."""
        centered = np.asarray(X_chunk, dtype=np.float64) - self.center
        observed_bool = ~np.isnan(centered)
        filled = np.where(observed_bool, centered, 0.0)
        patterns = None
        if self.kernel == "full":
            patterns = _group_patterns(observed_bool)
        return _MissingChunk(filled, observed_bool.astype(np.float64), patterns)

    def plan(self, params):
        """Centred means and covariances (full stack or variances), float64."""
        K = params["means"].shape[0]
        D = self.n_features
        means = np.asarray(params["means"], dtype=np.float64) - self.center
        covariances = np.asarray(params["covariances"], dtype=np.float64)
        if getattr(self.base, "structure", None) is not None:
            # mclust's structures store (K, D, D) whatever their layout.
            if self.kernel == "full":
                return {"means": means, "covariances": covariances}
            variances = np.diagonal(covariances, axis1=1, axis2=2).copy()
        elif self.kernel == "full":
            return {"means": means,
                    "covariances": expand_covariances(covariances, self.covariance_type, K, D)}
        else:
            variances = covariances if self.covariance_type == "diag" else np.repeat(
                covariances[:, None], D, axis=1)
        precisions = 1.0 / variances
        return {
            "means": means,
            "variances": variances,
            # rows: x^2 block, x block, observed-mask block (see log_prob)
            "quadratic_weights": np.vstack([precisions.T, -2.0 * (precisions * means).T,
                                            (precisions * means**2).T]),
            "norm_weights": -0.5 * (LOG_2PI + np.log(variances)).T,
        }

    def log_prob(self, plan, chunk):
        """Log-density of the observed entries of every sample, shape (n, K).

        Records ``plan`` in ``chunk`` so that :meth:`stats` can form the
        expected statistics at the same parameters.
        """
        chunk.plan = plan
        if self.kernel != "full":
            features = np.hstack([chunk.filled**2, chunk.filled, chunk.observed])
            quadratic = features @ plan["quadratic_weights"]
            np.maximum(quadratic, 0.0, out=quadratic)
            return chunk.observed @ plan["norm_weights"] - 0.5 * quadratic
        n = chunk.filled.shape[0]
        K = plan["means"].shape[0]
        log_prob = np.zeros((n, K))
        chunk.cache = []
        for rows, obs, mis in chunk.patterns:
            conditional = _ConditionalGaussian(plan["means"], plan["covariances"], obs, mis)
            chunk.cache.append(conditional)
            if obs.size:
                log_prob[rows] = conditional.log_density(chunk.filled[np.ix_(rows, obs)])
        return log_prob

    def stats(self, resp, chunk):
        """Expected moments ``sum_n r_nk E[F(x_n) | x_n,o, k]``, shape (K, width)."""
        if chunk.plan is None:
            raise RuntimeError("stats() needs the chunk's log_prob() first (the expected "
                               "statistics depend on the parameters).")
        resp = np.asarray(resp, dtype=np.float64)
        plan = chunk.plan
        if self.kernel != "full":
            return {"moments": self._diagonal_moments(resp, chunk, plan)}
        D = self.n_features
        K = resp.shape[1]
        moments = np.zeros((K, D * (D + 1) // 2 + D))
        rows_upper, cols_upper = np.triu_indices(D)
        for (rows, obs, mis), conditional in zip(chunk.patterns, chunk.cache):
            resp_p = resp[rows]
            x_obs = chunk.filled[np.ix_(rows, obs)]
            if mis.size == 0:
                moments += resp_p.T @ chunk_features(x_obs, "full")
                continue
            expected = conditional.expected_samples(x_obs)   # (K, n_p, D)
            weights = resp_p.sum(axis=0)
            for k in range(K):
                moments[k] += resp_p[:, k] @ chunk_features(expected[k], "full")
            # the conditional covariance adds to the second moment
            extra = np.zeros((K, D, D))
            extra[np.ix_(np.arange(K), mis, mis)] = conditional.covariance_missing
            moments[:, :-D] += weights[:, None] * extra[:, rows_upper, cols_upper]
        return {"moments": moments}

    def conditional_expectation(self, resp, chunk):
        """``E[x | x_o] = sum_k p(k | x_o) E[x | x_o, k]`` of every sample, shape
        (n, D), in the data's coordinates (observed entries unchanged).

        Parameters
        ----------
        resp : ndarray of shape (n, K)
            Posterior component probabilities at ``chunk``'s plan.
        chunk : the features of :meth:`features`, after :meth:`log_prob`.
        """
        plan = chunk.plan
        resp = np.asarray(resp, dtype=np.float64)
        if self.kernel != "full":
            missing = 1.0 - chunk.observed
            expected = chunk.filled + missing * (resp @ plan["means"])
        else:
            expected = np.array(chunk.filled, copy=True)
            for (rows, obs, mis), conditional in zip(chunk.patterns, chunk.cache):
                if mis.size == 0:
                    continue
                by_component = conditional.expected_samples(chunk.filled[np.ix_(rows, obs)])
                expected[rows] = np.einsum("nk,knd->nd", resp[rows], by_component)
        return expected + self.center

    def _diagonal_moments(self, resp, chunk, plan):
        D = self.n_features
        missing = 1.0 - chunk.observed
        missing_weight = resp.T @ missing                   # (K, D)
        means, variances = plan["means"], plan["variances"]
        first = resp.T @ chunk.filled + missing_weight * means
        second = resp.T @ chunk.filled**2 + missing_weight * (means**2 + variances)
        if self.kernel == "spherical":
            second = second.sum(axis=1, keepdims=True)
        return np.hstack([second, first])

    # -- M-step and the rest: the wrapped component's -------------------------
    def m_step(self, counts, stats, params):
        return self.base.m_step(counts, stats, params)

    def log_prior(self, params):
        return self.base.log_prior(params)

    def collapsed(self, params, stats, **options):
        return self.base.collapsed(params, stats, **options)

    def reseed(self, params, component, seed_point, scale_covariance):
        return self.base.reseed(params, component, seed_point, scale_covariance)

    def to_unconstrained(self, params):
        return self.base.to_unconstrained(params)

    def from_unconstrained(self, vector, template):
        return self.base.from_unconstrained(vector, template)

    def sample(self, params, component, n_samples, rng):
        return self.base.sample(params, component, n_samples, rng)

    def n_free_parameters(self, n_components):
        return self.base.n_free_parameters(n_components)


def _group_patterns(observed):
    """Rows grouped by missing pattern: list of (rows, observed dims, missing dims)."""
    n, D = observed.shape
    if observed.all():
        return [(np.arange(n), np.arange(D), np.arange(0))]
    keys = np.packbits(observed, axis=1)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    splits = np.cumsum(np.bincount(inverse, minlength=first.size))[:-1]
    groups = []
    for group, rows in enumerate(np.split(order, splits)):
        mask = observed[first[group]]
        groups.append((rows, np.flatnonzero(mask), np.flatnonzero(~mask)))
    return groups


class _ConditionalGaussian:
    """Every component's observed-block density and missing-given-observed
    regression for one missing pattern.

    Parameters
    ----------
    means : ndarray of shape (K, D), centred
    covariances : ndarray of shape (K, D, D)
    obs, mis : ndarray of int
        Observed and missing coordinates.
    """

    def __init__(self, means, covariances, obs, mis):
        self.means_obs = means[:, obs]
        self.means_mis = means[:, mis]
        self.obs, self.mis = obs, mis
        K = means.shape[0]
        if obs.size == 0:
            self.regression = np.zeros((K, mis.size, 0))
            self.covariance_missing = covariances[np.ix_(np.arange(K), mis, mis)]
            return
        sigma_oo = covariances[np.ix_(np.arange(K), obs, obs)]
        cholesky = np.linalg.cholesky(sigma_oo)
        identity = np.broadcast_to(np.eye(obs.size), sigma_oo.shape)
        self.inverse_cholesky = np.linalg.solve(cholesky, identity)   # L^{-1}
        self.log_det = 2.0 * np.log(np.diagonal(cholesky, axis1=1, axis2=2)).sum(axis=1)
        if mis.size:
            precision_oo = np.swapaxes(self.inverse_cholesky, 1, 2) @ self.inverse_cholesky
            sigma_mo = covariances[np.ix_(np.arange(K), mis, obs)]
            self.regression = sigma_mo @ precision_oo                  # (K, |m|, |o|)
            sigma_mm = covariances[np.ix_(np.arange(K), mis, mis)]
            conditional = sigma_mm - self.regression @ np.swapaxes(sigma_mo, 1, 2)
            self.covariance_missing = 0.5 * (conditional + np.swapaxes(conditional, 1, 2))

    def log_density(self, x_obs):
        """``log N(x_o | mu_ko, Sigma_k,oo)``, shape (n_p, K)."""
        deviations = x_obs[None, :, :] - self.means_obs[:, None, :]        # (K, n_p, |o|)
        whitened = deviations @ np.swapaxes(self.inverse_cholesky, 1, 2)
        quadratic = np.einsum("kni,kni->kn", whitened, whitened)
        return (-0.5 * (self.obs.size * LOG_2PI + self.log_det[:, None] + quadratic)).T

    def expected_samples(self, x_obs):
        """``E[x | x_o, k]`` as full vectors, shape (K, n_p, D)."""
        K = self.means_obs.shape[0]
        n_p = x_obs.shape[0]
        D = self.obs.size + self.mis.size
        expected = np.empty((K, n_p, D))
        expected[:, :, self.obs] = x_obs[None]
        if self.obs.size:
            deviations = x_obs[None, :, :] - self.means_obs[:, None, :]
            imputed = self.means_mis[:, None, :] + deviations @ np.swapaxes(self.regression, 1, 2)
        else:
            imputed = np.broadcast_to(self.means_mis[:, None, :], (K, n_p, self.mis.size))
        expected[:, :, self.mis] = imputed
        return expected
