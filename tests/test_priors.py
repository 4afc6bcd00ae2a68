"""Tests for emkit.priors.

Expected numbers come from hand calculation, textbook formulas written out
here, or scipy.stats -- never from the module under test alone.
"""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from emkit.priors import (
    Beta,
    Dirichlet,
    Gamma,
    Normal,
    NormalInverseWishart,
    default_prior,
    dirichlet_map_weights,
    niw_map_gaussian,
    niw_map_gaussians,
)


def _random_spd(rng, dim, jitter=0.5):
    a = rng.standard_normal((dim, dim))
    return a @ a.T + jitter * np.eye(dim)


@pytest.fixture
def niw3():
    rng = np.random.default_rng(0)
    return NormalInverseWishart(
        loc=np.array([0.5, -1.0, 2.0]), shrinkage=0.7, dof=6.5, scale=_random_spd(rng, 3)
    )


# ---------------------------------------------------------------------------
# Beta
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "a, b, successes, trials, expected",
    [
        (3, 3, 5, 6, 0.70),
        (2, 2, 5, 6, 0.75),
        (3, 3, 58, 100, 60 / 104),
        (2, 2, 4, 4, 5 / 6),
    ],
)
def test_beta_posterior_mode_hand_values(a, b, successes, trials, expected):
    assert Beta(a, b).update(successes, trials).mode() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("successes, trials", [(3, 7), (0, 5), (5, 5), (58, 100)])
def test_flat_beta_mode_is_mle(successes, trials):
    assert Beta(1, 1).update(successes, trials).mode() == pytest.approx(successes / trials)


def test_beta_posterior_parameters_and_observation_forms():
    post = Beta(2, 3).update(7, 10)
    assert (post.a, post.b) == (9.0, 6.0)
    outcomes = [1, 1, 0, 1, 0, 1]
    via_obs = Beta(2, 3).update(observations=outcomes)
    assert (via_obs.a, via_obs.b) == (6.0, 5.0)
    # integer weights == repeating observations
    weighted = Beta(2, 3).update(observations=[1, 0], weights=[3, 2])
    repeated = Beta(2, 3).update(observations=[1, 1, 1, 0, 0])
    assert (weighted.a, weighted.b) == (repeated.a, repeated.b)
    # several binomial experiments with weights
    multi = Beta(1, 1).update([2, 5], [4, 5], weights=[2.0, 1.0])
    assert (multi.a, multi.b) == (1 + 4 + 5, 1 + 4 + 0)
    # fractional (expected) outcomes
    frac = Beta(1, 1).update(observations=[0.25, 0.75, 1.0])
    assert frac.a == pytest.approx(3.0) and frac.b == pytest.approx(2.0)


def test_beta_mode_edge_cases():
    assert Beta(0.5, 3).mode() == 0.0
    assert Beta(3, 0.5).mode() == 1.0
    assert Beta(1, 3).mode() == 0.0
    with pytest.raises(ValueError, match="no unique mode"):
        Beta(1, 1).mode()
    with pytest.raises(ValueError, match="no unique mode"):
        Beta(0.5, 0.5).mode()


def test_beta_logpdf_matches_closed_form():
    a, b = 2.5, 4.0
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    for p in [0.01, 0.3, 0.5, 0.97]:
        expected = log_norm + (a - 1) * math.log(p) + (b - 1) * math.log1p(-p)
        assert Beta(a, b).logpdf(p) == pytest.approx(expected, rel=1e-12)
    assert Beta(a, b).logpdf(1.5) == -np.inf


# ---------------------------------------------------------------------------
# Normal (known noise variance)
# ---------------------------------------------------------------------------
def test_normal_normal_posterior_hand_formula():
    rng = np.random.default_rng(1)
    data = rng.normal(3.0, 2.0, size=25)
    m0, v0, sigma2 = -1.0, 4.0, 2.0**2
    n = data.size
    xbar = data.sum() / n
    prior_precision, data_precision = 1 / v0, n / sigma2
    expected_mean = (prior_precision * m0 + data_precision * xbar) / (prior_precision + data_precision)
    expected_var = 1 / (1 / v0 + n / sigma2)

    post = Normal(m0, v0).update(data, noise_variance=sigma2)
    assert post.mean() == pytest.approx(expected_mean, rel=1e-12)
    assert post.mode() == pytest.approx(expected_mean, rel=1e-12)
    assert post.variance == pytest.approx(expected_var, rel=1e-12)


def test_normal_weights_equal_repetition():
    prior = Normal(0.0, 10.0)
    weighted = prior.update([1.0, 4.0], 2.0, weights=[3, 1])
    repeated = prior.update([1.0, 1.0, 1.0, 4.0], 2.0)
    assert weighted.loc == pytest.approx(repeated.loc)
    assert weighted.variance == pytest.approx(repeated.variance)
    unchanged = prior.update([5.0], 2.0, weights=[0.0])
    assert (unchanged.loc, unchanged.variance) == (0.0, 10.0)


def test_normal_logpdf_matches_closed_form():
    loc, var = 1.5, 0.8
    for x in [-2.0, 1.5, 3.3]:
        expected = -0.5 * math.log(2 * math.pi * var) - (x - loc) ** 2 / (2 * var)
        assert Normal(loc, var).logpdf(x) == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------------------
# Gamma
# ---------------------------------------------------------------------------
def test_gamma_poisson_posterior():
    counts = [3, 0, 4, 1, 2]
    a, b = 2.0, 1.5
    post = Gamma(a, b).update(counts)
    assert post.shape == a + sum(counts)
    assert post.rate == b + len(counts)
    assert post.mode() == pytest.approx((a + sum(counts) - 1) / (b + len(counts)))
    assert Gamma(a, b).mode() == pytest.approx((a - 1) / b)
    assert Gamma(0.5, 2.0).mode() == 0.0
    with_exposure = Gamma(a, b).update([3, 6], exposure=[1.5, 2.5])
    assert (with_exposure.shape, with_exposure.rate) == (a + 9, b + 4.0)
    scalar_exposure = Gamma(a, b).update([3, 6], exposure=2.0)
    assert scalar_exposure.rate == b + 4.0
    weighted = Gamma(a, b).update([3, 6], weights=[2, 1])
    assert (weighted.shape, weighted.rate) == (a + 12, b + 3)


def test_gamma_gaussian_precision_update():
    data = np.array([1.0, 2.5, -0.5, 3.0])
    mu = 1.0
    post = Gamma(2.0, 3.0).update_gaussian_precision(data, known_mean=mu)
    assert post.shape == pytest.approx(2.0 + 4 / 2)
    assert post.rate == pytest.approx(3.0 + ((0.0) + 2.25 + 2.25 + 4.0) / 2)


def test_gamma_logpdf_matches_closed_form():
    shape, rate = 3.2, 0.7
    for x in [0.1, 2.0, 9.5]:
        expected = shape * math.log(rate) - math.lgamma(shape) + (shape - 1) * math.log(x) - rate * x
        assert Gamma(shape, rate).logpdf(x) == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------------------
# Dirichlet
# ---------------------------------------------------------------------------
def test_dirichlet_logpdf_matches_scipy():
    alpha = np.array([0.7, 2.0, 3.5, 1.0])
    prior = Dirichlet(alpha)
    points = np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25], [0.6, 0.1, 0.2, 0.1]])
    for w in points:
        assert prior.logpdf(w) == pytest.approx(stats.dirichlet.logpdf(w, alpha), rel=1e-12)
    batch = prior.logpdf(points)
    assert batch.shape == (3,)
    np.testing.assert_allclose(batch, [stats.dirichlet.logpdf(w, alpha) for w in points], rtol=1e-12)


def test_dirichlet_two_categories_is_beta():
    a, b = 2.3, 4.1
    for p in [0.05, 0.4, 0.8]:
        assert Dirichlet([a, b]).logpdf([p, 1 - p]) == pytest.approx(stats.beta.logpdf(p, a, b), rel=1e-12)


def test_dirichlet_logpdf_support():
    prior = Dirichlet([1.0, 2.0, 3.0])
    assert prior.logpdf([0.5, 0.6, 0.1]) == -np.inf  # does not sum to 1
    assert prior.logpdf([-0.1, 0.6, 0.5]) == -np.inf
    assert np.isfinite(prior.logpdf([0.0, 0.5, 0.5]))  # alpha_1 = 1 allows w_1 = 0
    assert prior.logpdf([0.5, 0.0, 0.5]) == -np.inf  # alpha_2 > 1


def test_dirichlet_update_and_mode():
    post = Dirichlet([2.0, 2.0, 3.0]).update([4.0, 0.0, 1.5])
    np.testing.assert_allclose(post.concentration, [6.0, 2.0, 4.5])
    np.testing.assert_allclose(post.mode(), np.array([5.0, 1.0, 3.5]) / 9.5)
    np.testing.assert_allclose(post.mean(), np.array([6.0, 2.0, 4.5]) / 12.5)
    responsibilities = np.array([[0.2, 0.8, 0.0], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(
        Dirichlet([1.0, 1.0, 1.0]).update(responsibilities).concentration, [2.2, 1.8, 1.0]
    )
    with pytest.raises(ValueError, match="no unique mode"):
        Dirichlet([1.0, 0.5]).mode()


def test_dirichlet_map_weights_hand_values():
    counts = np.array([10.0, 5.0, 0.2])
    np.testing.assert_allclose(dirichlet_map_weights(counts, 2.0), np.array([11.0, 6.0, 1.2]) / 18.2)
    np.testing.assert_allclose(dirichlet_map_weights(counts, 1.0), counts / counts.sum())
    # alpha < 1: the small component's numerator 0.2 + 0.5 - 1 < 0 is clipped
    np.testing.assert_allclose(dirichlet_map_weights(counts, 0.5), np.array([9.5, 4.5, 0.0]) / 14.0)
    # per-component concentration
    np.testing.assert_allclose(
        dirichlet_map_weights(counts, [1.0, 3.0, 1.0]), np.array([10.0, 7.0, 0.2]) / 17.2
    )
    # nothing survives clipping -> posterior mean
    np.testing.assert_allclose(
        dirichlet_map_weights([0.1, 0.2], 0.5), np.array([0.6, 0.7]) / 1.3
    )
    # agrees with the class for alpha >= 1
    np.testing.assert_allclose(
        dirichlet_map_weights(counts, 2.0), Dirichlet([2.0] * 3).update(counts).mode()
    )


# ---------------------------------------------------------------------------
# Normal-inverse-Wishart
# ---------------------------------------------------------------------------
def test_niw_logpdf_matches_scipy(niw3):
    rng = np.random.default_rng(2)
    for _ in range(4):
        mu = rng.normal(size=3)
        cov = _random_spd(rng, 3, jitter=0.3)
        expected = stats.invwishart.logpdf(cov, df=niw3.dof, scale=niw3.scale) + stats.multivariate_normal.logpdf(
            mu, mean=niw3.loc, cov=cov / niw3.shrinkage
        )
        assert niw3.logpdf(mu, cov) == pytest.approx(expected, rel=1e-10)


def test_niw_logpdf_batch_and_support(niw3):
    rng = np.random.default_rng(3)
    mus = rng.normal(size=(2, 4, 3))
    covs = np.stack([[_random_spd(rng, 3) for _ in range(4)] for _ in range(2)])
    covs[1, 2] = np.diag([1.0, -1.0, 1.0])  # not positive definite
    values = niw3.logpdf(mus, covs)
    assert values.shape == (2, 4)
    assert values[1, 2] == -np.inf
    for i in range(2):
        for j in range(4):
            if (i, j) != (1, 2):
                assert values[i, j] == pytest.approx(niw3.logpdf(mus[i, j], covs[i, j]), rel=1e-12)
    with pytest.raises(ValueError, match="symmetric"):
        niw3.logpdf(np.zeros(3), np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))


def test_niw_one_dimensional_is_normal_inverse_gamma_and_normalised():
    kappa, nu, psi, m = 2.0, 5.0, 3.0, 0.5
    prior = NormalInverseWishart(m, kappa, nu, [[psi]])
    # IW in 1-D is InvGamma(nu/2, scale=psi/2)
    for mu, s2 in [(0.0, 0.4), (1.2, 1.5)]:
        expected = stats.invgamma.logpdf(s2, nu / 2, scale=psi / 2) + stats.norm.logpdf(
            mu, m, math.sqrt(s2 / kappa)
        )
        assert prior.logpdf(mu, s2) == pytest.approx(expected, rel=1e-12)
    # Normalisation: integrate the batched density on a grid over mu and
    # t = log(sigma^2) (Jacobian sigma^2), trapezoid rule.
    mu_grid = np.linspace(-12.0, 12.0, 801)
    t_grid = np.linspace(np.log(1e-4), np.log(1e3), 801)
    s2 = np.exp(t_grid)
    dens = np.exp(
        prior.logpdf(
            np.broadcast_to(mu_grid[None, :, None], (801, 801, 1)),
            np.broadcast_to(s2[:, None, None, None], (801, 801, 1, 1)),
        )
    ) * s2[:, None]
    total = integrate.trapezoid(integrate.trapezoid(dens, mu_grid, axis=1), t_grid)
    assert total == pytest.approx(1.0, abs=1e-4)


def test_niw_update_matches_textbook(niw3):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 3)) @ np.diag([1.0, 2.0, 0.5]) + 1.0
    n = X.shape[0]
    xbar = X.mean(axis=0)
    S = sum(np.outer(x - xbar, x - xbar) for x in X)
    k0, nu0, mu0, psi0 = niw3.shrinkage, niw3.dof, niw3.loc, niw3.scale
    kn, nun = k0 + n, nu0 + n
    mun = (k0 * mu0 + n * xbar) / kn
    psin = psi0 + S + (k0 * n / kn) * np.outer(xbar - mu0, xbar - mu0)

    post = niw3.update(X)
    assert post.shrinkage == pytest.approx(kn)
    assert post.dof == pytest.approx(nun)
    np.testing.assert_allclose(post.loc, mun, rtol=1e-12)
    np.testing.assert_allclose(post.scale, psin, rtol=1e-12)
    # prior untouched
    assert niw3.shrinkage == 0.7 and niw3.dof == 6.5


def test_niw_weighted_stats_equal_repeated_data(niw3):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(6, 3))
    weights = np.array([1, 3, 0, 2, 1, 4])
    repeated = np.repeat(X, weights, axis=0)
    via_repeat = niw3.update(repeated)

    w_sum = weights.sum()
    xbar = weights @ X / w_sum
    scatter = (X - xbar).T @ ((X - xbar) * weights[:, None])
    via_stats = niw3.update_from_stats(w_sum, xbar, scatter)
    via_weights = niw3.update(X, weights=weights)
    for post in (via_stats, via_weights):
        assert post.shrinkage == pytest.approx(via_repeat.shrinkage)
        assert post.dof == pytest.approx(via_repeat.dof)
        np.testing.assert_allclose(post.loc, via_repeat.loc, rtol=1e-12)
        np.testing.assert_allclose(post.scale, via_repeat.scale, rtol=1e-10)


def _symmetric_directions(rng, dim, count):
    for _ in range(count):
        e = rng.standard_normal((dim, dim))
        yield (e + e.T) / 2


def test_niw_mode_maximises_logpdf(niw3):
    rng = np.random.default_rng(6)
    post = niw3.update(rng.normal(size=(15, 3)))
    mu_hat, cov_hat = post.mode()
    best = post.logpdf(mu_hat, cov_hat)
    for eps in (1e-2, 1e-3):
        for direction in _symmetric_directions(rng, 3, 10):
            assert post.logpdf(mu_hat, cov_hat + eps * direction) < best
        for _ in range(10):
            assert post.logpdf(mu_hat + eps * rng.standard_normal(3), cov_hat) < best
    # Along the ray c * Psi the joint density peaks at c = 1 / (nu + D + 2),
    # not at the inverse-Wishart marginal's 1 / (nu + D + 1).
    cs = np.linspace(0.5, 1.5, 2001) / (post.dof + 3 + 2)
    values = [post.logpdf(mu_hat, c * post.scale) for c in cs]
    assert cs[int(np.argmax(values))] == pytest.approx(1 / (post.dof + 5), rel=1e-3)
    np.testing.assert_allclose(post.map_covariance(), cov_hat)
    np.testing.assert_allclose(post.marginal_covariance_mode(), post.scale / (post.dof + 4))


def test_niw_map_gaussian_matches_mclust_formula_and_maximises_map_objective(niw3):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(30, 3)) * [1.0, 0.3, 2.0] + [0.0, 1.0, -1.0]
    resp = rng.uniform(0.05, 1.0, size=30)
    n_k = resp.sum()
    xbar = resp @ X / n_k
    W = (X - xbar).T @ ((X - xbar) * resp[:, None])

    kappa, nu, mu_p, psi, D = niw3.shrinkage, niw3.dof, niw3.loc, niw3.scale, 3
    # Fraley & Raftery (2007), written out independently
    expected_mean = (n_k * xbar + kappa * mu_p) / (n_k + kappa)
    expected_cov = (psi + W + (kappa * n_k / (kappa + n_k)) * np.outer(xbar - mu_p, xbar - mu_p)) / (
        nu + n_k + D + 2
    )
    mean_hat, cov_hat = niw_map_gaussian(n_k, xbar, W, niw3)
    np.testing.assert_allclose(mean_hat, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(cov_hat, expected_cov, rtol=1e-12)
    post_mean, post_cov = niw3.update_from_stats(n_k, xbar, W).mode()
    np.testing.assert_allclose(post_mean, mean_hat, rtol=1e-12)
    np.testing.assert_allclose(post_cov, cov_hat, rtol=1e-12)

    # It maximises weighted log-likelihood (scipy) + log-prior.
    def objective(mu, cov):
        loglik = resp @ stats.multivariate_normal.logpdf(X, mean=mu, cov=cov)
        return loglik + niw3.logpdf(mu, cov)

    best = objective(mean_hat, cov_hat)
    for direction in _symmetric_directions(rng, 3, 8):
        assert objective(mean_hat, cov_hat + 1e-3 * direction) < best
    for _ in range(8):
        assert objective(mean_hat + 1e-3 * rng.standard_normal(3), cov_hat) < best


def test_niw_map_gaussians_vectorised_and_empty_component(niw3):
    rng = np.random.default_rng(8)
    K, D = 4, 3
    weight_sums = np.array([5.0, 0.0, 12.5, 0.3])
    means = rng.normal(size=(K, D))
    means[1] = np.nan  # empty component: 0/0 in a naive M-step
    scatters = np.stack([_random_spd(rng, D) for _ in range(K)])
    scatters[1] = np.nan
    map_means, map_covs = niw_map_gaussians(weight_sums, means, scatters, niw3)
    assert map_means.shape == (K, D) and map_covs.shape == (K, D, D)
    for k in [0, 2, 3]:
        m, c = niw_map_gaussian(weight_sums[k], means[k], scatters[k], niw3)
        np.testing.assert_allclose(map_means[k], m, rtol=1e-12)
        np.testing.assert_allclose(map_covs[k], c, rtol=1e-12)
    np.testing.assert_allclose(map_means[1], niw3.loc)
    np.testing.assert_allclose(map_covs[1], niw3.scale / (niw3.dof + D + 2))


def test_default_prior_matches_mclust_by_hand():
    # Hand computation: mean (1, 1); unbiased cov = diag(4/3, 4/3);
    # G = 2, D = 2 -> scale = cov / 2^(2/2) = diag(2/3, 2/3); dof = 4.
    X = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
    prior = default_prior(X, 2)
    np.testing.assert_allclose(prior.loc, [1.0, 1.0])
    assert prior.shrinkage == 0.01
    assert prior.dof == 4.0
    np.testing.assert_allclose(prior.scale, np.diag([2 / 3, 2 / 3]))

    rng = np.random.default_rng(9)
    Y = rng.normal(size=(50, 3))
    G = 3
    centred = Y - Y.mean(axis=0)
    expected = centred.T @ centred / (50 - 1) / G ** (2 / 3)
    np.testing.assert_allclose(default_prior(Y, G).scale, expected, rtol=1e-12)

    # 1-D: var(x) / G^2 and dof = 3, as mclust's "V"/"E" models
    x = np.array([1.0, 2.0, 4.0, 7.0])
    one_d = default_prior(x, 3)
    assert one_d.dof == 3.0
    np.testing.assert_allclose(one_d.scale, [[np.var(x, ddof=1) / 9]])

    # n <= D: mclust falls back to the diagonal of column variances
    Z = np.array([[0.0, 1.0, 5.0], [2.0, 3.0, 1.0]])
    np.testing.assert_allclose(default_prior(Z, 1).scale, np.diag([2.0, 2.0, 8.0]))
    assert default_prior(X, 2, shrinkage=0.5).shrinkage == 0.5


# ---------------------------------------------------------------------------
# sampling
# ---------------------------------------------------------------------------
def _assert_mc_mean(samples, expected, n_se=4.0):
    samples = np.asarray(samples)
    se = samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])
    assert np.all(np.abs(samples.mean(axis=0) - expected) <= n_se * se + 1e-12)


def test_sample_means_scalar_priors():
    n = 20000
    _assert_mc_mean(Beta(2.0, 5.0).sample(n, random_state=10), 2 / 7)
    _assert_mc_mean(Gamma(3.0, 2.0).sample(n, random_state=11), 1.5)
    _assert_mc_mean(Normal(-1.0, 0.25).sample(n, random_state=12), -1.0)
    draws = Dirichlet([1.0, 2.0, 3.0]).sample(n, random_state=13)
    assert draws.shape == (n, 3)
    np.testing.assert_allclose(draws.sum(axis=1), 1.0)
    _assert_mc_mean(draws, np.array([1.0, 2.0, 3.0]) / 6)
    assert isinstance(Beta(2, 2).sample(random_state=0), float)
    assert Dirichlet([1.0, 1.0]).sample(random_state=0).shape == (2,)


def test_sample_niw_moments_and_shapes():
    rng = np.random.default_rng(14)
    prior = NormalInverseWishart([1.0, -2.0], shrinkage=0.5, dof=9.0, scale=_random_spd(rng, 2))
    mus, covs = prior.sample(20000, random_state=15)
    assert mus.shape == (20000, 2) and covs.shape == (20000, 2, 2)
    exp_mu, exp_cov = prior.mean()
    np.testing.assert_allclose(exp_cov, stats.invwishart.mean(df=9.0, scale=prior.scale), rtol=1e-12)
    _assert_mc_mean(mus, exp_mu)
    _assert_mc_mean(covs.reshape(-1, 4), exp_cov.ravel())
    assert np.all(np.linalg.eigvalsh(covs) > 0)
    mu1, cov1 = prior.sample(random_state=1)
    assert mu1.shape == (2,) and cov1.shape == (2, 2)
    mus2, covs2 = prior.sample((3, 5), random_state=np.random.default_rng(2))
    assert mus2.shape == (3, 5, 2) and covs2.shape == (3, 5, 2, 2)
    a = prior.sample(4, random_state=np.random.RandomState(3))
    b = prior.sample(4, random_state=np.random.RandomState(3))
    np.testing.assert_array_equal(a[1], b[1])


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------
def test_beta_error_message_exact():
    with pytest.raises(ValueError, match=r"^Beta: `a` must be > 0, got -1"):
        Beta(-1, 1)


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda: Beta(1, 0), "`b`"),
        (lambda: Beta("x", 1), "`a`"),
        (lambda: Dirichlet([1.0, 0.0]), "`concentration`"),
        (lambda: Dirichlet([1.0]), "`concentration`"),
        (lambda: Gamma(0, 1), "`shape`"),
        (lambda: Gamma(1, -2), "`rate`"),
        (lambda: Normal(0, 0), "`variance`"),
        (lambda: Normal(np.nan, 1), "`loc`"),
        (lambda: NormalInverseWishart([0, 0], 0, 4, np.eye(2)), "`shrinkage`"),
        (lambda: NormalInverseWishart([0, 0], 1, 0.5, np.eye(2)), "`dof`"),
        (lambda: NormalInverseWishart([0, 0], 1, 4, -np.eye(2)), "`scale`"),
        (lambda: NormalInverseWishart([0, 0], 1, 4, [[1, 2], [0, 1]]), "`scale`"),
        (lambda: NormalInverseWishart([0, 0], 1, 4, np.eye(3)), "`scale`"),
        (lambda: default_prior(np.ones((5, 2)), 0), "`n_components`"),
        (lambda: default_prior(np.ones((1, 2)), 2), "`X`"),
        (lambda: dirichlet_map_weights([1.0, 2.0], 0.0), "`concentration`"),
        (lambda: dirichlet_map_weights([1.0, -2.0], 1.0), "`counts`"),
        (lambda: Beta(1, 1).update(5, 3), "`successes`"),
        (lambda: Beta(1, 1).update(observations=[0, 2]), "`observations`"),
        (lambda: Gamma(1, 1).update([-1, 2]), "`counts`"),
        (lambda: Normal(0, 1).update([1.0], noise_variance=0), "`noise_variance`"),
        (lambda: Normal(0, 1).update([1.0, 2.0], 1.0, weights=[1.0]), "`weights`"),
    ],
)
def test_bad_arguments_name_the_argument(build, argument):
    with pytest.raises(ValueError, match=argument):
        build()


def test_stored_arrays_are_read_only(niw3):
    with pytest.raises(ValueError):
        niw3.loc[0] = 5.0
    with pytest.raises(ValueError):
        Dirichlet([1.0, 2.0]).concentration[0] = 3.0
