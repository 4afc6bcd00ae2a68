"""Continuous latent factors: factor analysis, PPCA and mixtures of factor analysers.

A factor analyser models ``x = mu + W z + e`` with ``z ~ N(0, I_q)`` and
``e ~ N(0, Psi)``, ``Psi`` diagonal (factor analysis) or ``sigma^2 I``
(probabilistic PCA). The marginal covariance is the low-rank-plus-diagonal
``Sigma = W W^T + Psi`` and the posterior of the factors is Gaussian,

    z | x ~ N(M^{-1} W^T Psi^{-1} (x - mu), M^{-1}),   M = I + W^T Psi^{-1} W,

so the E-step never forms a D x D matrix: with ``B = (x - mu) Psi^{-1} W``
(one (n, D) x (D, q) product) the posterior mean is ``B M^{-1}`` and, by
Woodbury, ``(x - mu)^T Sigma^{-1} (x - mu) = sum_d (x - mu)_d^2 / psi_d -
B M^{-1} B^T`` and ``log|Sigma| = log|Psi| + log|M|``. A chunk costs
O(n D q), not O(n D^2).

Additive statistics of a chunk (weights ``w``, ``c = x - mu``):
``sum w``, ``sum w c*c`` (the diagonal of the centred second moment),
``sum w c E[z]^T`` and ``sum w E[z z^T] = sum w E[z] E[z]^T + (sum w) M^{-1}``.
The M-step (Rubin & Thayer 1982) is ``W = S_xz S_zz^{-1}`` and
``Psi = diag(S_xx - 2 W S_xz^T + W S_zz W^T) / n`` (the exact maximiser of
the expected complete-data log-likelihood over ``Psi`` for the ``W`` in
force, so holding ``W`` fixed is still an EM step).

The models here are the engine's :class:`~emkit._engine.em.EMModel`s:
:class:`FactorModel` (one analyser) and :class:`MixtureOfFactorsModel`
(AECM, alternating two cycles, or EM on the complete data (x, labels,
factors), the map that SQUAREM extrapolates; see its docstring).
"""

from __future__ import annotations

import numpy as np

from .._engine.monitor import ConvergenceMonitor
from ..components.coordinates import simplex_from_unconstrained, simplex_to_unconstrained
from ..components.counts import safe_counts
from ..components.gaussian_ops import LOG_2PI
from .. import backend

__all__ = ["low_rank_plan", "low_rank_posterior", "low_rank_covariance", "factor_start",
           "noise_floor", "FactorModel", "ScatterData", "MixtureOfFactorsModel",
           "FullCycleRule"]

# Uniquenesses are kept at least this fraction of the feature's variance: a
# Heywood case (psi -> 0) would otherwise make Psi^{-1} overflow. Clipping is
# the constrained maximiser of the (separable, unimodal) objective in psi.
_RELATIVE_NOISE_FLOOR = 1e-10


def noise_floor(variances):
    """Smallest uniqueness per feature, relative to the data's variances (D,)."""
    variances = np.asarray(variances, dtype=np.float64)
    positive = variances[variances > 0]
    fallback = positive.mean() if positive.size else 1.0
    return _RELATIVE_NOISE_FLOOR * np.where(variances > 0, variances, fallback)


def low_rank_plan(loadings, noise):
    """What the E-step of one analyser needs from ``W`` (D, q) and ``psi`` (D,).

    Returns
    -------
    dict with ``inv_noise`` (D,), ``scaled`` = Psi^{-1} W (D, q),
    ``posterior_cov`` = M^{-1} (q, q) and ``log_norm`` = -1/2 (D log 2 pi + log|Sigma|).
    """
    loadings = np.asarray(loadings, dtype=np.float64)
    inv_noise = 1.0 / noise
    scaled = loadings * inv_noise[:, None]
    q = loadings.shape[1]
    M = np.eye(q) + loadings.T @ scaled
    chol = np.linalg.cholesky(M)
    chol_inv = np.linalg.solve(chol, np.eye(q))
    posterior_cov = chol_inv.T @ chol_inv
    log_det = float(np.log(noise).sum() + 2.0 * np.log(np.diagonal(chol)).sum())
    D = loadings.shape[0]
    return {"inv_noise": inv_noise, "scaled": scaled, "posterior_cov": posterior_cov,
            "log_norm": -0.5 * (D * LOG_2PI + log_det)}


def low_rank_posterior(centered, plan):
    """Posterior means of the factors and log-densities of centred samples.

    Parameters
    ----------
    centered : ndarray of shape (n, D), float64
        ``x - mu``.
    plan : dict from :func:`low_rank_plan`

    Returns
    -------
    means : ndarray of shape (n, q)
        ``E[z | x]``.
    log_density : ndarray of shape (n,)
    squares : ndarray of shape (n, D)
        ``centered ** 2`` (the statistics reuse it).
    """
    squares = centered * centered
    projected = centered @ plan["scaled"]
    means = projected @ plan["posterior_cov"]
    quadratic = squares @ plan["inv_noise"] - np.einsum("nq,nq->n", projected, means)
    # Woodbury's difference can dip below zero by rounding on the mean.
    np.maximum(quadratic, 0.0, out=quadratic)
    return means, plan["log_norm"] - 0.5 * quadratic, squares


def low_rank_covariance(loadings, noise):
    """The implied covariance ``W W^T + diag(psi)``, shape (D, D)."""
    return loadings @ loadings.T + np.diag(noise)


def factor_start(covariance, n_factors, floor, isotropic=False):
    """Loadings and uniquenesses from the top eigenvectors of a covariance.

    The closed-form PPCA solution (Tipping & Bishop 1999): ``sigma^2`` the mean
    of the discarded eigenvalues, ``W = U_q (Lambda_q - sigma^2)^{1/2}``; for
    factor analysis the uniquenesses are then ``diag(S - W W^T)``, floored.

    Parameters
    ----------
    covariance : ndarray of shape (D, D)
    n_factors : int
    floor : ndarray of shape (D,)
    isotropic : bool

    Returns
    -------
    loadings : ndarray of shape (D, n_factors)
    noise : ndarray of shape (D,)
    """
    D = covariance.shape[0]
    values, vectors = np.linalg.eigh(0.5 * (covariance + covariance.T))
    values, vectors = values[::-1], vectors[:, ::-1]
    q = n_factors
    sigma2 = float(values[q:].mean()) if q < D else 0.0
    sigma2 = max(sigma2, float(floor.mean()))
    loadings = vectors[:, :q] * np.sqrt(np.maximum(values[:q] - sigma2, 0.0))
    if isotropic:
        noise = np.full(D, sigma2)
    else:
        noise = np.maximum(np.diag(covariance) - (loadings**2).sum(axis=1), floor)
    return loadings, noise


def _noise_update(xx, xz, zz, loadings):
    """``diag(S_xx - 2 W S_xz^T + W S_zz W^T)``: the noise M-step's numerator (D,)."""
    return xx - 2.0 * np.einsum("dq,dq->d", loadings, xz) + np.einsum(
        "dq,dq->d", loadings @ zz, loadings)


def _loadings_update(xz, zz):
    """``S_xz S_zz^{-1}`` (S_zz is symmetric positive definite)."""
    return np.linalg.solve(zz, xz.T).T


class FactorModel:
    """Factor analysis (diagonal ``Psi``) or PPCA (``sigma^2 I``) for the EM engine.

    Parameters are ``{"mean": (D,), "loadings": (D, q), "noise": (D,)}``
    (PPCA keeps every entry of ``noise`` equal). The mean is held at the
    weighted data mean, which maximises the likelihood whatever ``W`` and
    ``Psi`` are.

    Parameters
    ----------
    n_factors : int
    floor : ndarray of shape (D,)
        Smallest uniqueness per feature (:func:`noise_floor`).
    isotropic : bool
        PPCA's ``sigma^2 I`` instead of a diagonal ``Psi``.
    fixed : frozenset of {"loadings", "noise"}
        Held at their starting values.
    """

    parallel_chunks = True

    def __init__(self, n_factors, floor, *, isotropic=False, fixed=frozenset()):
        self.n_factors = int(n_factors)
        self.floor = np.asarray(floor, dtype=np.float64)
        self.isotropic = bool(isotropic)
        self.fixed = frozenset(fixed)

    def e_step_plan(self, params):
        plan = low_rank_plan(params["loadings"], params["noise"])
        plan["mean"] = params["mean"]
        return plan

    def e_step(self, plan, X_chunk, weights, *_):
        centered = np.asarray(X_chunk, dtype=np.float64) - plan["mean"]
        means, log_density, squares = low_rank_posterior(centered, plan)
        if weights is None:
            count = float(centered.shape[0])
            weighted = means
            xx = squares.sum(axis=0)
            loglik = float(log_density.sum())
        else:
            weights = np.asarray(weights, dtype=np.float64)
            count = float(weights.sum())
            weighted = means * weights[:, None]
            xx = weights @ squares
            loglik = float(weights @ log_density)
        stats = {"count": np.array(count), "xx": xx, "xz": centered.T @ weighted,
                 "zz": weighted.T @ means + count * plan["posterior_cov"]}
        return stats, loglik

    def scatter_e_step(self, plan, data):
        """The E-step of all samples from their centred scatter (O(D^2 q), any n).

        The posterior means are linear in ``x - mu``, so every statistic of
        :meth:`e_step`, summed over the samples, is a function of
        ``S = sum_n w_n (x_n - mu)(x_n - mu)^T``: ``S_xz = S A M^{-1}``,
        ``S_zz = M^{-1} A^T S A M^{-1} + n M^{-1}`` with ``A = Psi^{-1} W``, and
        ``sum_n (x_n - mu)^T Sigma^{-1} (x_n - mu) = tr(Psi^{-1} S) - tr(M^{-1} A^T S A)``.
        """
        count = data.total_weight
        offset = data.center - plan["mean"]
        scatter = data.scatter + count * np.outer(offset, offset)
        scaled, posterior_cov = plan["scaled"], plan["posterior_cov"]
        projected = scatter @ scaled
        inner = scaled.T @ projected
        xx = np.diagonal(scatter).copy()
        quadratic = float(xx @ plan["inv_noise"] - np.sum(posterior_cov * inner))
        stats = {"count": np.array(count), "xx": xx, "xz": projected @ posterior_cov,
                 "zz": posterior_cov @ inner @ posterior_cov + count * posterior_cov}
        return stats, count * plan["log_norm"] - 0.5 * quadratic

    def m_step(self, stats, params):
        count = float(stats["count"])
        xz, zz = stats["xz"], stats["zz"]
        loadings = params["loadings"] if "loadings" in self.fixed else _loadings_update(xz, zz)
        if "noise" in self.fixed:
            noise = params["noise"]
        else:
            numerator = _noise_update(stats["xx"], xz, zz, loadings)
            if self.isotropic:
                noise = np.full(numerator.shape, max(numerator.sum() / (count * numerator.size),
                                                     float(self.floor.mean())))
            else:
                noise = np.maximum(numerator / count, self.floor)
        return {"mean": params["mean"], "loadings": loadings, "noise": noise}

    def log_prior(self, params):
        return 0.0

    def repair(self, params, stats, rng, data=None):
        # Nothing collapses: the uniquenesses are floored.
        return params, 0

    # SQUAREM coordinates: the loadings as they are, log uniquenesses.
    def to_unconstrained(self, params):
        noise = params["noise"][:1] if self.isotropic else params["noise"]
        return np.concatenate([params["loadings"].ravel(), np.log(noise)])

    def from_unconstrained(self, vector, template):
        if not np.isfinite(vector).all():
            return None
        D, q = template["loadings"].shape
        loadings = (template["loadings"] if "loadings" in self.fixed
                    else vector[:D * q].reshape(D, q))
        log_noise = vector[D * q:]
        if "noise" in self.fixed:
            noise = template["noise"]
        elif self.isotropic:
            noise = np.full(D, max(float(np.exp(log_noise[0])), float(self.floor.mean())))
        else:
            noise = np.maximum(np.exp(log_noise), self.floor)
        if not np.isfinite(noise).all():
            return None
        return {"mean": template["mean"], "loadings": loadings, "noise": noise}


class ScatterData:
    """Samples summarised by their weighted scatter, for :class:`FactorModel`.

    A data object that owns its E-step (``map_e_step``, see
    :func:`emkit._engine.em.expectation`): a factor model's statistics are
    functions of the scatter, so once it is measured (one pass) every
    iteration costs O(D^2 q) whatever the number of samples.

    Parameters
    ----------
    scatter : ndarray of shape (D, D)
        ``sum_n w_n (x_n - c)(x_n - c)^T``.
    center : ndarray of shape (D,)
        ``c``, the weighted mean.
    total_weight : float
    n_samples : int
    dtype : numpy dtype of the samples
    """

    def __init__(self, scatter, center, total_weight, n_samples, dtype):
        self.scatter = np.asarray(scatter, dtype=np.float64)
        self.center = np.asarray(center, dtype=np.float64)
        self.total_weight = float(total_weight)
        self.n_samples = int(n_samples)
        self.n_features = self.center.shape[0]
        self.dtype = dtype

    def map_e_step(self, model, plan):
        return model.scatter_e_step(plan, self)


class FullCycleRule:
    """Aitken's rule (the engine's default) judged on whole AECM cycles.

    An AECM cycle is two engine iterations whose gains differ in kind (the
    means' cycle often gains almost nothing while the loadings' still do), so
    the rule looks at the objective after every complete cycle only.
    """

    def __init__(self, tol):
        self.tol = float(tol)

    def converged(self, monitor):
        values = monitor.history[monitor.segment_start:]
        # Every second value, ending at the last: one per complete cycle.
        cycles = values[::-1][::2][::-1]
        projected = ConvergenceMonitor(tol=self.tol, n_samples=monitor.n_samples,
                                       history=list(cycles))
        return projected.aitken_converged


class MixtureOfFactorsModel:
    """A mixture of K factor analysers fitted by AECM (McLachlan & Peel 2000, ch. 8).

    Parameters are ``weights`` (K,), ``means`` (K, D), ``loadings``
    (K, D, q), ``noise`` (K, D) and ``cycle`` (a 0-d int array). AECM
    alternates two conditional maximisations, each after its own E-step:

    cycle 0
        Complete data (x, component labels): the weights and means, with the
        covariances ``W_k W_k^T + Psi_k`` held.
    cycle 1
        Complete data (x, labels, factors): the loadings and uniquenesses
        given the new means (Ghahramani & Hinton's 1996 factor step, per
        component).

    The engine's loop runs one cycle per iteration, so ``n_iter`` counts
    half-cycles. Every cycle is an exact conditional maximisation of its
    expected complete-data log-likelihood, so the log-likelihood never
    decreases (Meng & van Dyk 1997).

    With ``aecm=False`` the model is instead plain EM on the complete data
    (x, labels, factors) (Ghahramani & Hinton 1996): one E-step gives every
    component's responsibilities and factor moments, and one M-step
    maximises the expected complete-data log-likelihood ``Q(theta |
    theta_old)`` jointly over all the parameters: the weights from the
    counts, and per component the regression of ``x`` on the augmented
    factor ``(z, 1)``, whose coefficients are ``[W_k, mu_k - mu_k_old]``
    (the means move with the loadings, about the old means the E-step
    centred on), then ``Psi_k`` from the residual (its exact maximiser for
    those coefficients, as in :class:`FactorModel`). ``cycle`` stays 0. It
    is one fixed-point map, which SQUAREM (:mod:`emkit._engine.accel`)
    extrapolates in :meth:`to_unconstrained`'s coordinates; AECM's two
    alternating maps are not one, so :meth:`to_unconstrained` is None there.
    Held-fixed blocks keep their values and the others are the exact
    maximisers of ``Q`` given them, so it is still an EM step and the
    log-likelihood never decreases either. An EM update costs one E-step
    (an AECM cycle two); the means then count the factors as missing too,
    which slows EM's rate per update, but on the data tried (20,000 x 10,
    K=3, q=2) it still took fewer E-steps than AECM, and SQUAREM on it about
    five times fewer (benchmarks/bench_factor.py ``--mfa``).
    (Meng & Rubin's ECM with the same E-step, the means given the old
    loadings and then the loadings given the new means, is monotone too but
    maximises Q less per update; it took as many E-steps or more.)

    Parameters
    ----------
    n_components, n_factors : int
    floor : ndarray of shape (D,)
    center : ndarray of shape (D,)
        Data centre, subtracted chunk by chunk so that sums stay accurate.
    common_noise : bool
        One ``Psi`` shared by every component (McLachlan & Peel's common
        uniquenesses) instead of one per component.
    fixed : frozenset of {"weights", "means", "loadings", "noise"}
    aecm : bool
        AECM's two cycles (True), or EM on (x, labels, factors) (False).
    """

    parallel_chunks = True

    def __init__(self, n_components, n_factors, floor, center, *, common_noise=False,
                 fixed=frozenset(), aecm=True):
        self.n_components = int(n_components)
        self.n_factors = int(n_factors)
        self.floor = np.asarray(floor, dtype=np.float64)
        self.center = np.asarray(center, dtype=np.float64)
        self.common_noise = bool(common_noise)
        self.fixed = frozenset(fixed)
        self.aecm = bool(aecm)

    def e_step_plan(self, params):
        with np.errstate(divide="ignore"):
            log_weights = np.log(params["weights"])
        plans = [low_rank_plan(W, psi) for W, psi in zip(params["loadings"], params["noise"])]
        # EM's single E-step gathers the factor statistics (cycle 1's) and more.
        cycle = int(params["cycle"]) if self.aecm else -1
        return {"plans": plans, "log_weights": log_weights,
                "means": params["means"] - self.center, "cycle": cycle}

    def joint_log_prob(self, plan, X_chunk):
        """``log pi_k + log N(x; mu_k, Sigma_k)``, shape (n, K), and the centred chunk."""
        centered = np.asarray(X_chunk, dtype=np.float64) - self.center
        log_prob = np.empty((centered.shape[0], self.n_components))
        for k, component in enumerate(plan["plans"]):
            log_prob[:, k] = low_rank_posterior(centered - plan["means"][k], component)[1]
        return log_prob + plan["log_weights"], centered

    def e_step(self, plan, X_chunk, weights, labels=None):
        """Statistics of one chunk for the current cycle, and its log-likelihood.

        Always ``counts`` (K,); cycle 0 adds ``sums`` = sum_n r_nk (x_n - c)
        (K, D); cycle 1 the factor statistics about the current means
        ``mu_k``: ``xx`` = sum_n r_nk (x_n - mu_k)^2 (K, D), ``xz`` = sum_n
        r_nk (x_n - mu_k) E[z | x_n, k]^T (K, D, q) and ``zz`` = sum_n r_nk
        E[z z^T | x_n, k] (K, q, q); EM (``aecm=False``) those and also
        ``xs`` = sum_n r_nk (x_n - mu_k) (K, D) and ``zs`` = sum_n r_nk
        E[z | x_n, k] (K, q), the augmented factor's last row and column.

        ``labels`` (partial labels, -1 for unlabelled samples) fix the
        labelled samples' responsibilities to their component, as
        :meth:`emkit.models.mixture.MixtureModel.e_step` does.
        """
        log_prob, centered = self.joint_log_prob(plan, X_chunk)
        labelled = None if labels is None else np.flatnonzero(labels >= 0)
        if labelled is not None and labelled.size:
            label_joint = log_prob[labelled, labels[labelled]]
        resp = np.ascontiguousarray(log_prob - plan["log_weights"])
        log_norm = backend.ops().normalize_rows(resp, plan["log_weights"], weights)
        if labelled is not None and labelled.size:
            log_norm[labelled] = label_joint
            resp[labelled] = 0.0
            resp[labelled, labels[labelled]] = 1.0 if weights is None else weights[labelled]
        loglik = float(log_norm.sum() if weights is None else np.asarray(weights) @ log_norm)
        counts = resp.sum(axis=0)
        stats = {"counts": counts}
        if plan["cycle"] == 0:
            stats["sums"] = resp.T @ centered
            return stats, loglik
        K, (D, q) = self.n_components, plan["plans"][0]["scaled"].shape
        xx, xz, zz = np.empty((K, D)), np.empty((K, D, q)), np.empty((K, q, q))
        joint = plan["cycle"] < 0
        if joint:
            xs, zs = np.empty((K, D)), np.empty((K, q))
        for k, component in enumerate(plan["plans"]):
            deviations = centered - plan["means"][k]
            means, _, squares = low_rank_posterior(deviations, component)
            weighted = means * resp[:, k:k + 1]
            xx[k] = resp[:, k] @ squares
            xz[k] = deviations.T @ weighted
            zz[k] = weighted.T @ means + counts[k] * component["posterior_cov"]
            if joint:
                xs[k] = resp[:, k] @ deviations
                zs[k] = weighted.sum(axis=0)
        stats.update(xx=xx, xz=xz, zz=zz)
        if joint:
            stats.update(xs=xs, zs=zs)
        return stats, loglik

    def m_step(self, stats, params):
        if not self.aecm:
            return self._joint_m_step(stats, params)
        new = {name: params[name] for name in ("weights", "means", "loadings", "noise")}
        counts = stats["counts"]
        if int(params["cycle"]) == 0:
            safe = safe_counts(counts)
            if "weights" not in self.fixed:
                new["weights"] = safe / safe.sum()
            if "means" not in self.fixed:
                new["means"] = self.center + stats["sums"] / safe[:, None]
            new["cycle"] = np.array(1)
            return new
        safe = safe_counts(counts)
        loadings = params["loadings"]
        if "loadings" not in self.fixed:
            loadings = np.stack([_loadings_update(xz, zz)
                                 for xz, zz in zip(stats["xz"], stats["zz"])])
            new["loadings"] = loadings
        if "noise" not in self.fixed:
            numerators = np.stack([_noise_update(xx, xz, zz, W) for xx, xz, zz, W in
                                   zip(stats["xx"], stats["xz"], stats["zz"], loadings)])
            new["noise"] = self._noise_m_step(numerators, safe)
        new["cycle"] = np.array(0)
        return new

    def _noise_m_step(self, numerators, safe):
        """Uniquenesses (K, D) from the residual sums (K, D) and the counts (K,), floored."""
        if self.common_noise:
            common = np.maximum(numerators.sum(axis=0) / safe.sum(), self.floor)
            return np.broadcast_to(common, numerators.shape).copy()
        return np.maximum(numerators / safe[:, None], self.floor)

    def _joint_m_step(self, stats, params):
        """EM's M-step (``aecm=False``): the joint maximiser of Q(theta | theta_old).

        Per component, with the augmented factor ``(z, 1)`` about the old
        mean: ``S_xz~ = [xz, xs]`` (D, q+1) and ``S_z~z~ = [[zz, zs], [zs^T,
        N]]``; the coefficients ``[W, b] = S_xz~ S_z~z~^{-1}`` give the new
        loadings and mean ``mu_old + b``, and ``diag(S_xx - 2 [W, b] S_xz~^T
        + [W, b] S_z~z~ [W, b]^T) / N`` the uniquenesses: the factor
        statistics corrected to the new mean, with the old posterior moments
        (those of Q). A block held fixed keeps its value (coefficient fixed)
        and the rest maximise Q given it.
        """
        counts = stats["counts"]
        safe = safe_counts(counts)
        new = {"weights": params["weights"] if "weights" in self.fixed else safe / safe.sum(),
               "cycle": np.array(0)}
        fix_means, fix_loadings = "means" in self.fixed, "loadings" in self.fixed
        loadings, shifts = [], []
        for k in range(self.n_components):
            xz, zz, xs, zs = stats["xz"][k], stats["zz"][k], stats["xs"][k], stats["zs"][k]
            W = params["loadings"][k]
            if fix_means and fix_loadings:
                shift = np.zeros_like(xs)
            elif fix_means:
                shift = np.zeros_like(xs)
                W = _loadings_update(xz, zz)
            elif fix_loadings:
                shift = (xs - W @ zs) / safe[k]
            else:
                augmented = _loadings_update(np.column_stack([xz, xs]),
                                             np.block([[zz, zs[:, None]],
                                                       [zs[None, :], np.array([[safe[k]]])]]))
                W, shift = augmented[:, :-1], augmented[:, -1]
            loadings.append(W)
            shifts.append(shift)
        loadings, shifts = np.stack(loadings), np.stack(shifts)
        new["loadings"] = params["loadings"] if fix_loadings else loadings
        new["means"] = params["means"] if fix_means else params["means"] + shifts
        if "noise" in self.fixed:
            new["noise"] = params["noise"]
        else:
            # The residual about the new mean: the augmented noise update,
            # expanded (b's terms: -2 b*xs + 2 b*(W zs) + N b^2).
            numerators = np.stack([
                _noise_update(xx, xz, zz, W) - 2.0 * b * (xs - W @ zs) + n * b * b
                for xx, xz, zz, xs, zs, W, b, n in
                zip(stats["xx"], stats["xz"], stats["zz"], stats["xs"], stats["zs"],
                    loadings, shifts, safe)])
            new["noise"] = self._noise_m_step(numerators, safe)
        return new

    def log_prior(self, params):
        return 0.0

    def repair(self, params, stats, rng, data=None):
        # Uniquenesses are floored, so a starved component stays finite; it
        # keeps its parameters (no re-seed).
        return params, 0

    # SQUAREM coordinates (EM only; AECM's alternating cycles are two maps):
    # log weights, means, loadings as they are, log uniquenesses (one row
    # when they are common).
    def to_unconstrained(self, params):
        if self.aecm:
            return None
        noise = params["noise"][:1] if self.common_noise else params["noise"]
        return np.concatenate([simplex_to_unconstrained(params["weights"]),
                               params["means"].ravel(), params["loadings"].ravel(),
                               np.log(noise).ravel()])

    def from_unconstrained(self, vector, template):
        """Parameters from :meth:`to_unconstrained`'s vector, None if not finite.

        Held-fixed blocks come from ``template``; uniquenesses are clipped to
        the floor (the noise M-step's own constraint), and weights keep the
        template's exact zeros.
        """
        if self.aecm or not np.isfinite(vector).all():
            return None
        K, D, q = template["loadings"].shape
        ends = np.cumsum([K, K * D, K * D * q])
        weights = (template["weights"] if "weights" in self.fixed
                   else simplex_from_unconstrained(vector[:ends[0]], template["weights"]))
        if weights is None:
            return None
        means = (template["means"] if "means" in self.fixed
                 else vector[ends[0]:ends[1]].reshape(K, D))
        loadings = (template["loadings"] if "loadings" in self.fixed
                    else vector[ends[1]:ends[2]].reshape(K, D, q))
        if "noise" in self.fixed:
            noise = template["noise"]
        else:
            with np.errstate(over="ignore"):
                noise = np.maximum(np.exp(vector[ends[2]:]).reshape(-1, D), self.floor)
            if not np.isfinite(noise).all():
                return None
            noise = np.broadcast_to(noise, (K, D)).copy()
        return {"weights": weights, "means": means, "loadings": loadings, "noise": noise,
                "cycle": np.array(0)}

    def stats_from_responsibilities(self, resp, X, sample_weight):
        """Parameters from hard or soft responsibilities (an initial M-step).

        Returns weights, means and, from every component's weighted
        covariance, :func:`factor_start`'s loadings and uniquenesses.
        """
        if sample_weight is not None:
            resp = resp * sample_weight[:, None]
        counts = safe_counts(resp.sum(axis=0))
        centered = np.asarray(X, dtype=np.float64) - self.center
        means_c = (resp.T @ centered) / counts[:, None]
        loadings, noise = [], []
        for k in range(self.n_components):
            deviations = centered - means_c[k]
            covariance = (deviations * resp[:, k:k + 1]).T @ deviations / counts[k]
            W, psi = factor_start(covariance, self.n_factors, self.floor)
            loadings.append(W)
            noise.append(psi)
        noise = np.stack(noise)
        if self.common_noise:
            noise = np.broadcast_to((counts[:, None] * noise).sum(axis=0) / counts.sum(),
                                    noise.shape).copy()
        return {"weights": counts / counts.sum(), "means": self.center + means_c,
                "loadings": np.stack(loadings), "noise": noise, "cycle": np.array(0)}

