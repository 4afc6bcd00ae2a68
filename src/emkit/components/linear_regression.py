"""Linear-regression components: a Gaussian response around a line per component.

Component ``k`` models a response ``y`` given inputs ``x`` (D features) as

    y | x, k  ~  N(x^T beta_k + b_k, sigma_k^2),

so its log-density is ``-(y - x^T beta_k - b_k)^2 / (2 sigma_k^2) - log(2 pi sigma_k^2) / 2``.
The family works on *joint* samples: a chunk is one matrix ``[X, y]`` of shape
(n, D + 1), the response in the last column, so mixtures, HMMs and the engine
walk regression data exactly as they walk any other samples.

Statistics (additive over chunks) of responsibilities ``r_nk``, with the
design row ``a_n = [x_n - c_x, 1]`` and response ``y_n - c_y`` taken about a
fixed centre ``c`` (the data's mean: sums of squares about the mean do not
cancel catastrophically when the data sit far from the origin):

``gram`` (K, P, P)
    ``sum_n r_nk a_n a_n^T``, the weighted Gram matrix (P = D + 1);
``cross`` (K, P)
    ``sum_n r_nk a_n y_n``;
``y_squares`` (K,)
    ``sum_n r_nk y_n^2``.

The M-step is weighted least squares per component, ``G_k theta_k = c_k``,
and the noise variance its weighted residual sum of squares over ``N_k``
(maximum likelihood), at least ``reg_variance``. Every method is a pure function
of its arguments.
"""

from __future__ import annotations

import math

import numpy as np

from .counts import safe_counts

__all__ = ["LinearRegressionComponent", "NormalInverseGamma"]

_LOG_2PI = math.log(2.0 * math.pi)


class NormalInverseGamma:
    """Conjugate prior of one regression component's slopes and noise variance.

    ``sigma^2 ~ InvGamma(shape, scale)`` and ``beta | sigma^2 ~ N(0, sigma^2 /
    shrinkage I_D)`` (ridge on the slopes, scaled by the noise); the
    intercept has a flat prior (invariant to where the inputs are centred),
    which contributes nothing to the log-density. The MAP M-step of a
    component with statistics ``(G, c, y'y, N)`` is

        theta = (G + shrinkage diag(1, ..., 1, 0))^-1 c,
        sigma^2 = (RSS(theta) + shrinkage ||beta||^2 + 2 scale) / (N + D + 2 shape + 2).

    Parameters
    ----------
    shrinkage : float, default=0.0
        Prior precision of the slopes in units of the noise (lambda >= 0;
        0 is a flat prior on the slopes too).
    shape, scale : float, default=1.0 and 0.0
        Inverse-gamma parameters (``shape`` > 0, ``scale`` >= 0); as
        pseudo-data, ``2 shape + 2`` samples with squared residuals summing
        to ``2 scale``. ``scale > 0`` keeps every variance away from zero.
    """

    def __init__(self, shrinkage=0.0, shape=1.0, scale=0.0):
        for name, value, low in (("shrinkage", shrinkage, 0.0), ("scale", scale, 0.0)):
            if not (np.isfinite(value) and value >= low):
                raise ValueError(f"NormalInverseGamma: {name} must be a finite number >= 0; "
                                 f"got {value!r}.")
        if not (np.isfinite(shape) and shape > 0):
            raise ValueError(f"NormalInverseGamma: shape must be a finite number > 0; got "
                             f"{shape!r}.")
        self.shrinkage, self.shape, self.scale = float(shrinkage), float(shape), float(scale)

    def __repr__(self):
        return (f"NormalInverseGamma(shrinkage={self.shrinkage!r}, shape={self.shape!r}, "
                f"scale={self.scale!r})")

    def logpdf(self, coef, noise_variance):
        """Log-density of every component's (slopes, variance), summed.

        The slope part is omitted when ``shrinkage`` is 0 and the variance
        part's normaliser when ``scale`` is 0 (flat and improper parts).
        """
        coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
        variance = np.asarray(noise_variance, dtype=np.float64)
        total = 0.0
        if self.shrinkage > 0:
            D = coef.shape[1]
            total += float(np.sum(-0.5 * self.shrinkage * np.sum(coef ** 2, axis=1) / variance
                                  - 0.5 * D * (np.log(2 * np.pi * variance)
                                               - np.log(self.shrinkage))))
        log_variance = np.log(variance)
        total += float(np.sum(-(self.shape + 1.0) * log_variance - self.scale / variance))
        if self.scale > 0:
            total += variance.size * (self.shape * math.log(self.scale)
                                      - math.lgamma(self.shape))
        return total


class LinearRegressionComponent:
    """Gaussian linear-regression component family, configured for one fit.

    Parameters
    ----------
    n_features : int
        D, the number of inputs (the joint samples have D + 1 columns).
    center : ndarray of shape (D + 1,) or None
        Where the statistics are taken about (the joint data's mean during a
        fit); None is the origin. Parameters are never centred: the centre
        only changes rounding.
    prior : NormalInverseGamma or None
        Conjugate prior of every component (MAP); None is maximum likelihood.
    reg_variance : float
        Lower bound of every noise variance (the M-step maximises over
        ``sigma_k^2 >= reg_variance``), so that a component fitted exactly
        through a few points does not reach a zero variance.
    fixed : frozenset of str
        Names among ``param_names`` held at their current values.

    Notes
    -----
    Parameters are a dict with ``"coef"`` (K, D), ``"intercept"`` (K,) and
    ``"noise_variance"`` (K,).
    """

    param_names = ("coef", "intercept", "noise_variance")

    def __init__(self, n_features, *, center=None, reg_variance=0.0, prior=None,
                 fixed=frozenset()):
        self.n_features = int(n_features)
        self.prior = prior
        self.center = (np.zeros(self.n_features + 1) if center is None
                       else np.asarray(center, dtype=np.float64))
        self.reg_variance = float(reg_variance)
        self.fixed = frozenset(fixed)

    # -- E-step ---------------------------------------------------------------
    def features(self, X_chunk):
        """``(design, response)`` of a joint chunk ``[X, y]``: the centred design
        ``[x - c_x, 1]`` of shape (n, D + 1) and the centred response (n,)."""
        joint = np.asarray(X_chunk, dtype=np.float64)
        D = self.n_features
        design = np.empty((joint.shape[0], D + 1))
        np.subtract(joint[:, :D], self.center[:D], out=design[:, :D])
        design[:, D] = 1.0
        return design, joint[:, D] - self.center[D]

    def centered_coefficients(self, params):
        """Coefficients in the centred design, shape (D + 1, K): the slopes, then
        the intercept at the centre ``b_k + c_x^T beta_k - c_y``."""
        coef = np.asarray(params["coef"], dtype=np.float64)
        intercept = (np.asarray(params["intercept"], dtype=np.float64)
                     + coef @ self.center[:-1] - self.center[-1])
        return np.vstack([coef.T, intercept[None, :]])

    def plan(self, params):
        """``(centred coefficients (P, K), variances (K,), log-normalisers (K,))``."""
        variances = np.asarray(params["noise_variance"], dtype=np.float64)
        with np.errstate(divide="ignore"):
            log_norm = -0.5 * (np.log(variances) + _LOG_2PI)
        return self.centered_coefficients(params), variances, log_norm

    def log_prob(self, plan, features):
        """``log N(y_n | x_n^T beta_k + b_k, sigma_k^2)``, shape (n, K)."""
        coefficients, variances, log_norm = plan
        design, response = features
        residuals = response[:, None] - design @ coefficients
        residuals *= residuals
        residuals *= -0.5 / variances
        residuals += log_norm
        return residuals

    def stats(self, resp, features):
        """Weighted Gram matrices, cross-products and response squares (float64)."""
        design, response = features
        n, K = resp.shape
        P = design.shape[1]
        # One product for all K Gram matrices: rows r_nk a_n, stacked per k.
        weighted = (resp[:, :, None] * design[:, None, :]).reshape(n, K * P)
        return {
            "gram": (weighted.T @ design).reshape(K, P, P),
            "cross": (weighted.T @ response).reshape(K, P),
            "y_squares": resp.T @ (response * response),
        }

    # -- M-step ---------------------------------------------------------------
    def m_step(self, counts, stats, params):
        """Weighted least squares per component; residual variance over ``N_k``.

        Held parameters (``fixed``) keep their values and the free ones
        maximise the expected complete-data log-likelihood given them, so a
        partly fixed M-step is still an exact maximisation.
        """
        gram, cross, y_squares = stats["gram"], stats["cross"], stats["y_squares"]
        K, P = cross.shape
        D = P - 1
        shrinkage = 0.0 if self.prior is None else self.prior.shrinkage
        if shrinkage:
            # The slopes' prior precision joins the normal equations (not the intercept's).
            gram = gram + shrinkage * np.diag(np.r_[np.ones(D), 0.0])
        fix_coef = "coef" in self.fixed and params is not None
        fix_intercept = "intercept" in self.fixed and params is not None
        if fix_coef and fix_intercept:
            theta = self.centered_coefficients(params).T
        elif fix_coef:
            # Intercept at the centre: the weighted mean residual of the fixed lines.
            slopes = np.asarray(params["coef"], dtype=np.float64)
            residual_sums = cross[:, D] - np.einsum("kd,kd->k", gram[:, D, :D], slopes)
            theta = np.column_stack([slopes, residual_sums / safe_counts(gram[:, D, D])])
        elif fix_intercept:
            theta = self._slopes_given_intercepts(gram, cross, params["intercept"])
        else:
            theta = _solve_least_squares(gram, cross)
        # Weighted residual sum of squares of theta, y'y - 2 theta'c + theta'G theta
        # (with the prior's lambda ||beta||^2 included through the penalised G).
        rss = (y_squares - 2.0 * np.einsum("kp,kp->k", theta, cross)
               + np.einsum("kp,kpq,kq->k", theta, gram, theta))
        rss = np.maximum(rss, 0.0)
        if self.prior is None:
            divisors = safe_counts(counts)
        else:
            rss = rss + 2.0 * self.prior.scale
            divisors = counts + (D if shrinkage else 0) + 2.0 * self.prior.shape + 2.0
        coef = theta[:, :D]
        intercept = theta[:, D] - coef @ self.center[:D] + self.center[D]
        if "noise_variance" in self.fixed and params is not None:
            variances = np.asarray(params["noise_variance"], dtype=np.float64)
        else:
            # The constrained maximiser over sigma^2 >= floor (Q is unimodal in
            # sigma^2), so the M-step stays exact and EM monotone.
            variances = np.maximum(rss / divisors, self.reg_variance)
            empty = ~(counts > 0) if self.prior is None else np.zeros(K, dtype=bool)
            if empty.any():
                # An empty component keeps its variance (or the pooled one).
                fallback = (np.asarray(params["noise_variance"], dtype=np.float64)
                            if params is not None else
                            np.full(K, max(rss.sum() / max(counts.sum(), 1e-300),
                                           self.reg_variance)))
                variances = np.where(empty, fallback, variances)
        return {"coef": coef, "intercept": intercept, "noise_variance": variances}

    def _slopes_given_intercepts(self, gram, cross, intercepts):
        """Slopes maximising the weighted fit with held (uncentred) intercepts.

        With ``b_k`` fixed the model is ``y - b_k = x^T beta_k`` through the
        origin of the uncentred inputs ``x = (x - c_x) + c_x``: the statistics
        are moved to that basis and the D x D normal equations solved.
        """
        D = gram.shape[1] - 1
        c_x, c_y = self.center[:D], self.center[D]
        # a_uncentred = T a with T = [[I, c_x], [0, 1]]; only the x rows are needed.
        shift = np.eye(D + 1)[:D]
        shift[:, D] = c_x
        gram_x = np.einsum("dp,kpq,eq->kde", shift, gram, shift)
        # sum r x (y - b) with y - b = (y - c_y) + (c_y - b): cross + (c_y - b) * sum r a.
        offsets = c_y - np.asarray(intercepts, dtype=np.float64)
        cross_x = np.einsum("dp,kp->kd", shift, cross + offsets[:, None] * gram[:, :, D])
        slopes = _solve_least_squares(gram_x, cross_x)
        centred_intercepts = -offsets + slopes @ c_x
        return np.column_stack([slopes, centred_intercepts])

    def log_prior(self, params):
        """The prior's log-density of every component (0 without a prior)."""
        if self.prior is None:
            return 0.0
        return self.prior.logpdf(params["coef"], params["noise_variance"])

    # -- unconstrained coordinates (accelerated steppers) -----------------------
    def to_unconstrained(self, params):
        """Slopes, intercepts and log-variances, flattened."""
        return np.concatenate([np.ravel(params["coef"]), np.ravel(params["intercept"]),
                               np.log(params["noise_variance"])])

    def from_unconstrained(self, vector, template):
        """Parameters from :meth:`to_unconstrained`'s layout; held ones from ``template``."""
        K, D = np.shape(template["coef"])
        params = {"coef": vector[:K * D].reshape(K, D),
                  "intercept": vector[K * D:K * D + K],
                  "noise_variance": np.maximum(np.exp(vector[K * D + K:]), self.reg_variance)}
        for name in self.fixed:
            params[name] = template[name]
        if not (params["noise_variance"] > 0).all():
            return None
        return params

    # -- helpers --------------------------------------------------------------
    def sample(self, params, component, n_samples, rng, inputs=None):
        """Joint draws ``[X, y]`` from one component, shape (n_samples, D + 1).

        The family models ``y`` given ``x`` only, so the inputs are required:
        ``inputs`` of shape (n_samples, D), one response drawn for each row.
        """
        if inputs is None:
            raise ValueError("A regression component draws responses for given inputs; pass "
                             "inputs of shape (n_samples, n_features).")
        inputs = np.asarray(inputs, dtype=np.float64).reshape(n_samples, self.n_features)
        means = inputs @ params["coef"][component] + params["intercept"][component]
        noise = rng.standard_normal(n_samples) * math.sqrt(params["noise_variance"][component])
        return np.column_stack([inputs, means + noise])

    def n_free_parameters(self, n_components):
        """Free scalars: ``K D`` slopes, ``K`` intercepts, ``K`` variances (less held ones)."""
        sizes = {"coef": n_components * self.n_features, "intercept": n_components,
                 "noise_variance": n_components}
        return int(sum(size for name, size in sizes.items() if name not in self.fixed))


def _solve_least_squares(gram, cross):
    """Solve ``gram[k] theta_k = cross[k]`` for every k, shape (K, P).

    Through the eigen-decomposition of every Gram matrix, with eigenvalues
    below ``P eps lambda_max`` treated as zero: a singular Gram matrix (a
    component on fewer distinct points than coefficients, collinear inputs)
    gets the minimum-norm solution, which still minimises the weighted
    residuals (the M-step stays a maximisation) and is the same whether
    weights or repeated rows give it.
    """
    values, vectors = np.linalg.eigh(gram)
    P = gram.shape[-1]
    cutoff = P * np.finfo(np.float64).eps * np.maximum(values[:, -1:], 0.0)
    inverse = np.where(values > cutoff, 1.0 / np.where(values > cutoff, values, 1.0), 0.0)
    projected = np.einsum("kpq,kp->kq", vectors, cross) * inverse
    return np.einsum("kpq,kq->kp", vectors, projected)
