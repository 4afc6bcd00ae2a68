"""FactorAnalysis, PPCA and MixtureOfFactorAnalyzers against scikit-learn,
closed forms, brute force and known parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.decomposition import PCA
from sklearn.decomposition import FactorAnalysis as SklearnFA
from sklearn.metrics import adjusted_rand_score

from emkit.estimators.factor_analysis import PPCA, FactorAnalysis
from emkit.estimators.mixture_of_factor_analyzers import MixtureOfFactorAnalyzers


def factor_data(n=1500, D=8, q=2, seed=0, offset=5.0):
    rng = np.random.RandomState(seed)
    loadings = rng.standard_normal((q, D)) * 2.0
    noise = rng.uniform(0.3, 2.0, D)
    X = rng.standard_normal((n, q)) @ loadings + rng.standard_normal((n, D)) * np.sqrt(noise)
    return X + offset, loadings, noise


def assert_monotone(history):
    history = np.asarray(history)
    assert np.all(np.diff(history) >= -1e-10 * np.abs(history[:-1]).max())


@pytest.fixture(scope="module")
def data():
    return factor_data()[0]


# -- FactorAnalysis ------------------------------------------------------------
@pytest.mark.parametrize("init_params", ["pca", "random"])
def test_fa_log_likelihood_equals_sklearn_at_optimum(data, init_params):
    ours = FactorAnalysis(2, init_params=init_params, tol=1e-12, random_state=0).fit(data)
    peer = SklearnFA(2, tol=1e-12, max_iter=100_000).fit(data)
    # Both maximise the same likelihood: the optima agree (ours never below).
    assert ours.score(data) == pytest.approx(peer.score(data), abs=1e-8)
    assert ours.score(data) >= peer.score(data) - 1e-10
    np.testing.assert_allclose(ours.get_covariance(), peer.get_covariance(), rtol=0, atol=2e-4)
    np.testing.assert_allclose(ours.noise_variance_, peer.noise_variance_, rtol=2e-3)
    assert_monotone(ours.history_)
    assert ours.history_[-1] / data.shape[0] == pytest.approx(ours.score(data), rel=1e-12)


def test_fa_inference_equals_sklearn_from_the_same_parameters(data):
    ours = FactorAnalysis(3, random_state=0).fit(data)
    peer = SklearnFA(3).fit(data)
    peer.components_, peer.noise_variance_, peer.mean_ = (
        ours.components_.copy(), ours.noise_variance_.copy(), ours.mean_.copy())
    np.testing.assert_allclose(ours.score_samples(data), peer.score_samples(data), rtol=1e-11)
    np.testing.assert_allclose(ours.transform(data), peer.transform(data), rtol=1e-9,
                               atol=1e-11)
    np.testing.assert_allclose(ours.get_precision(), peer.get_precision(), rtol=1e-9,
                               atol=1e-12)
    brute = multivariate_normal(ours.mean_, ours.get_covariance()).logpdf(data[:50])
    np.testing.assert_allclose(ours.score_samples(data[:50]), brute, rtol=1e-11)


def test_fa_plain_em_is_monotone_and_reaches_squarem_optimum(data):
    plain = FactorAnalysis(2, accelerate="none", init_params="random", tol=1e-10,
                           random_state=1).fit(data)
    fast = FactorAnalysis(2, init_params="random", tol=1e-10, random_state=1).fit(data)
    assert_monotone(plain.history_)
    assert_monotone(fast.history_)
    assert plain.score(data) == pytest.approx(fast.score(data), abs=1e-7)
    assert fast.n_e_steps_ < plain.n_e_steps_


def test_fa_recovers_known_loadings():
    X, loadings, noise = factor_data(n=20_000, seed=3)
    model = FactorAnalysis(2, random_state=0).fit(X)
    truth = loadings.T @ loadings + np.diag(noise)
    np.testing.assert_allclose(model.get_covariance(), truth, rtol=0.05, atol=0.1)
    np.testing.assert_allclose(model.noise_variance_, noise, rtol=0.1)


def test_fa_fixed_components_stay_and_noise_is_the_conditional_optimum(data):
    start = SklearnFA(2).fit(data)
    model = FactorAnalysis(2, components_init=start.components_, fixed=("components",),
                           tol=1e-12).fit(data)
    np.testing.assert_array_equal(model.components_, start.components_)
    assert_monotone(model.history_)
    # Brute force: the observed log-likelihood maximised over psi by L-BFGS, W held.
    from scipy.optimize import minimize

    covariance = np.cov(data.T, bias=True)
    W = start.components_.T

    def negative(log_psi):
        sigma = W @ W.T + np.diag(np.exp(log_psi))
        sign, log_det = np.linalg.slogdet(sigma)
        return log_det + np.trace(np.linalg.solve(sigma, covariance))

    best = minimize(negative, np.log(start.noise_variance_), method="L-BFGS-B",
                    options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10_000})
    np.testing.assert_allclose(model.noise_variance_, np.exp(best.x), rtol=1e-5)
    assert model.n_parameters() == data.shape[1] * 2


def test_fa_sample_weights_equal_repeated_rows(data):
    weights = np.random.RandomState(0).randint(0, 3, data.shape[0])
    weighted = FactorAnalysis(2, tol=1e-12).fit(data, sample_weight=weights)
    repeated = FactorAnalysis(2, tol=1e-12).fit(np.repeat(data, weights, axis=0))
    np.testing.assert_allclose(weighted.get_covariance(), repeated.get_covariance(),
                               rtol=1e-6, atol=1e-6)
    assert weighted.score(data, sample_weight=weights) == pytest.approx(
        repeated.score(np.repeat(data, weights, axis=0)), rel=1e-10)


def test_fa_from_params_sample_bic(data):
    fitted = FactorAnalysis(2).fit(data)
    model = FactorAnalysis.from_params(fitted.components_, fitted.noise_variance_,
                                       fitted.mean_)
    np.testing.assert_allclose(model.score_samples(data), fitted.score_samples(data))
    draws = model.sample(100_000, random_state=0)
    np.testing.assert_allclose(np.cov(draws.T), model.get_covariance(), atol=0.15)
    n, D = data.shape
    p = D + (2 * D - 1) + D
    assert model.n_parameters() == p
    total = model.score_samples(data).sum()
    assert model.bic(data) == pytest.approx(-2 * total + p * np.log(n))
    assert model.aic(data) == pytest.approx(-2 * total + 2 * p)


# -- PPCA --------------------------------------------------------------------------
@pytest.mark.parametrize("init_params", ["pca", "random"])
def test_ppca_reaches_the_closed_form_optimum(data, init_params):
    n, D = data.shape
    q = 3
    model = PPCA(q, init_params=init_params, tol=1e-13, random_state=0).fit(data)
    pca = PCA(q).fit(data)
    # PCA's probabilistic model uses the n - 1 covariance; the ML one uses n.
    # (The third and fourth eigenvalues are close: the likelihood is flat in
    # their rotation, so a random start ends 1e-6 away in the covariance.)
    np.testing.assert_allclose(model.get_covariance() * n / (n - 1), pca.get_covariance(),
                               rtol=1e-4, atol=1e-6)
    assert model.noise_variance_ * n / (n - 1) == pytest.approx(pca.noise_variance_, rel=1e-4)
    # Tipping & Bishop's maximised log-likelihood, in closed form.
    values = np.linalg.eigvalsh(np.cov(data.T, bias=True))[::-1]
    sigma2 = values[q:].mean()
    closed = -0.5 * n * (D * np.log(2 * np.pi) + np.log(values[:q]).sum()
                         + (D - q) * np.log(sigma2) + D)
    assert model.history_[-1] == pytest.approx(closed, rel=1e-10)
    assert model.score(data) >= pca.score(data)
    assert model.score(data) == pytest.approx(pca.score(data), abs=1e-3)
    assert_monotone(model.history_)
    assert isinstance(model.noise_variance_, float)


# -- MixtureOfFactorAnalyzers ---------------------------------------------------------
def known_mixture(seed=0, uniqueness="per_component"):
    rng = np.random.RandomState(seed)
    K, D, q = 3, 8, 2
    noise = rng.uniform(0.2, 1.0, (K, D))
    if uniqueness == "common":
        noise[:] = noise[0]
    return MixtureOfFactorAnalyzers.from_params(
        np.array([0.3, 0.3, 0.4]), rng.standard_normal((K, D)) * 6,
        rng.standard_normal((K, D, q)) * 2, noise)


@pytest.mark.parametrize("uniqueness", ["per_component", "common"])
def test_mfa_recovers_known_components(uniqueness):
    truth = known_mixture(uniqueness=uniqueness)
    X, labels = truth.sample(3000, random_state=1)
    model = MixtureOfFactorAnalyzers(3, n_factors=2, uniqueness=uniqueness,
                                     random_state=0).fit(X)
    assert adjusted_rand_score(labels, model.predict(X)) > 0.99
    assert_monotone(model.history_)
    # The maximum likelihood is at least the truth's (it is fitted to the data).
    assert model.score(X) >= truth.score(X)
    order = [np.argmin(((truth.means_ - mean) ** 2).sum(axis=1)) for mean in model.means_]
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_allclose(model.means_, truth.means_[order], atol=0.3)
    # The covariances are those of the true clusters' samples (sampling error
    # aside, which is larger than the fit's: a cluster of 900 draws).
    empirical = np.stack([np.cov(X[labels == k].T, bias=True) for k in order])
    np.testing.assert_allclose(model.get_covariances(), empirical, atol=0.3)
    np.testing.assert_allclose(model.get_covariances(), truth.get_covariances()[order],
                               rtol=0.2, atol=0.6)
    if uniqueness == "common":
        np.testing.assert_array_equal(model.noise_variance_[0], model.noise_variance_[1])


def test_mfa_with_one_component_is_factor_analysis(data):
    # One component: AECM's second cycle is exactly FA's EM step, from the same start.
    steps = 40
    fa = FactorAnalysis(2, accelerate="none", max_iter=steps, tol=0.0)
    mfa = MixtureOfFactorAnalyzers(1, n_factors=2, max_iter=2 * steps, tol=0.0, n_init=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fa.fit(data)
        mfa.fit(data)
    np.testing.assert_allclose(mfa.history_[::2], fa.history_, rtol=1e-12)
    np.testing.assert_allclose(mfa.get_covariances()[0], fa.get_covariance(), rtol=1e-9)
    np.testing.assert_allclose(mfa.score_samples(data), fa.score_samples(data), rtol=1e-10)
    np.testing.assert_allclose(np.abs(mfa.transform(data)), np.abs(fa.transform(data)),
                               rtol=1e-8, atol=1e-10)


def test_mfa_density_sample_and_criteria():
    truth = known_mixture()
    X, labels = truth.sample(500, random_state=2)
    np.testing.assert_array_equal(np.bincount(labels), np.bincount(np.sort(labels)))
    brute = np.log(sum(w * multivariate_normal(m, c).pdf(X) for w, m, c in zip(
        truth.weights_, truth.means_, truth.get_covariances())))
    np.testing.assert_allclose(truth.score_samples(X), brute, rtol=1e-10)
    np.testing.assert_allclose(truth.predict_proba(X).sum(axis=1), 1.0)
    K, D, q = truth.loadings_.shape
    p = (K - 1) + K * D + K * (D * q - 1) + K * D
    assert truth.n_parameters() == p
    assert truth.bic(X) == pytest.approx(-2 * truth.score_samples(X).sum() + p * np.log(500))


# -- scikit-learn's checks and named errors ----------------------------------------
@pytest.mark.parametrize("estimator", [FactorAnalysis(), PPCA(), MixtureOfFactorAnalyzers()],
                         ids=["FactorAnalysis", "PPCA", "MixtureOfFactorAnalyzers"])
def test_check_estimator_passes(estimator):
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results
              if r["status"] == "failed"]
    assert not failed


@pytest.mark.parametrize("make, match", [
    (lambda: FactorAnalysis(9), "n_components=9 exceeds n_features=8"),
    (lambda: PPCA(0), "n_components must be an integer >= 1"),
    (lambda: FactorAnalysis(2, init_params="svd"), "init_params must be one of"),
    (lambda: FactorAnalysis(2, fixed=("mean",)), "fixed may only name"),
    (lambda: FactorAnalysis(2, components_init=np.ones((3, 8))), "components_init"),
    (lambda: FactorAnalysis(2, noise_variance_init=-np.ones(8)), "noise_variance_init"),
    (lambda: PPCA(2, noise_variance_init=0.0), "noise_variance_init"),
    (lambda: MixtureOfFactorAnalyzers(2, n_factors=9), "n_factors=9 exceeds n_features=8"),
    (lambda: MixtureOfFactorAnalyzers(2, uniqueness="shared"), "uniqueness must be one of"),
    (lambda: MixtureOfFactorAnalyzers(2, fixed=("rates",)), "fixed may only name"),
])
def test_bad_parameters_raise_named_errors(data, make, match):
    with pytest.raises(ValueError, match=match):
        make().fit(data)


def test_bad_input_raises_named_errors(data):
    with pytest.raises(ValueError, match="Input X contains NaN"):
        FactorAnalysis(2).fit(np.where(np.eye(*data.shape, dtype=bool), np.nan, data))
    with pytest.raises(ValueError, match="at least 2 are needed"):
        FactorAnalysis(1).fit(data[:1])
    model = FactorAnalysis(2).fit(data)
    with pytest.raises(ValueError, match="expecting 8 features"):
        model.transform(data[:, :3])
    original = data.copy()
    model.fit(data)
    np.testing.assert_array_equal(data, original)


def test_mfa_partial_labels_fix_their_components_and_stay_monotone():
    truth = known_mixture()
    X, labels = truth.sample(1500, random_state=4)
    partial = np.full(labels.shape, -1)
    chosen = np.random.RandomState(0).choice(labels.size, 75, replace=False)
    partial[chosen] = labels[chosen]
    model = MixtureOfFactorAnalyzers(3, n_factors=2, n_init=1, random_state=0).fit(
        X, labels=partial)
    assert_monotone(model.history_)
    # The components are named by the labels: no permutation to undo.
    assert np.mean(model.predict(X) == labels) > 0.99
    # The objective: unlabelled log p(x) plus labelled log pi_y p(x | y).
    joint = np.log(model.weights_) + np.column_stack([
        multivariate_normal(m, c).logpdf(X) for m, c in zip(model.means_,
                                                            model.get_covariances())])
    expected = model.score_samples(X)
    expected[chosen] = joint[chosen, labels[chosen]]
    assert model.history_[-1] == pytest.approx(expected.sum(), rel=1e-10)
    with pytest.raises(ValueError, match="labels must be -1"):
        MixtureOfFactorAnalyzers(3).fit(X, labels=np.full(labels.shape, 5))


@pytest.mark.parametrize("estimator", [FactorAnalysis, PPCA])
def test_scatter_e_step_equals_the_pass_over_samples(data, estimator):
    # The statistics are linear in the scatter: both E-steps give the same path.
    weights = np.random.RandomState(1).uniform(0.0, 2.0, data.shape[0])
    common = dict(init_params="random", random_state=0, max_iter=25, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scatter = estimator(3, e_step="scatter", **common).fit(data, sample_weight=weights)
        samples = estimator(3, e_step="samples", chunk_size=333, **common).fit(
            data, sample_weight=weights)
    np.testing.assert_allclose(scatter.history_, samples.history_, rtol=1e-11)
    np.testing.assert_allclose(scatter.get_covariance(), samples.get_covariance(), rtol=1e-8)
