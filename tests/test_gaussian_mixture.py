"""GaussianMixture: correctness against independent numbers, robustness, API."""

import warnings

import numpy as np
import pytest
from scipy import linalg, stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

import emkit
from emkit.datasets import load_iris, load_old_faithful

TYPES = ("full", "tied", "diag", "spherical")


@pytest.fixture(scope="module")
def faithful():
    return load_old_faithful().data


@pytest.fixture(scope="module")
def iris():
    return load_iris().data


def quiet_fit(estimator, X, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, **kwargs)


def sklearn_start(X, covariance_type, seed=0, k=3):
    """Starting parameters drawn by scikit-learn itself (one k-means init)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = SklearnGaussianMixture(k, covariance_type=covariance_type, max_iter=1, tol=0,
                                       random_state=seed).fit(X)
    return dict(weights_init=start.weights_, means_init=start.means_,
                precisions_init=start.precisions_)


# --------------------------------------------------------------------- oracles
@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("dataset", ["iris", "faithful"])
def test_matches_sklearn_after_100_iterations(covariance_type, dataset, request):
    X = request.getfixturevalue(dataset)
    start = sklearn_start(X, covariance_type)
    # reg_covar means different things (scikit-learn: an absolute nudge after
    # every M-step; emkit: a fixed penalty relative to each feature's scale,
    # see docs/differences.md), so parity is that of the unregularised EM.
    common = dict(covariance_type=covariance_type, max_iter=100, tol=0.0, reg_covar=0.0,
                  **start)
    reference = quiet_fit(SklearnGaussianMixture(3, **common), X)
    ours = quiet_fit(emkit.GaussianMixture(3, **common), X)
    expected = reference.score(X) * X.shape[0]
    assert ours.score(X) * X.shape[0] == pytest.approx(expected, rel=1e-8)
    assert ours.history_[-1] == pytest.approx(expected, rel=1e-8)
    np.testing.assert_allclose(ours.means_, reference.means_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.covariances_, reference.covariances_, rtol=1e-6, atol=1e-8)
    assert np.all(np.diff(ours.history_) >= -1e-9 * abs(expected))


def test_one_em_iteration_by_hand():
    # Worked example: weights and variances fixed, one E-step and M-step.
    x = np.array([-1.2, -0.8, -0.5, 0.9, 1.3, 1.8])[:, None]
    known = emkit.GaussianMixture.from_params([0.5, 0.5], [[-0.5], [1.0]], [1.0, 1.0],
                                             covariance_type="spherical")
    np.testing.assert_allclose(known.predict_proba(x)[:, 0],
                               [0.898, 0.828, 0.755, 0.274, 0.172, 0.089], atol=5e-4)
    one_step = quiet_fit(emkit.GaussianMixture(
        2, covariance_type="spherical", weights_init=[0.5, 0.5], means_init=[[-0.5], [1.0]],
        precisions_init=[1.0, 1.0], max_iter=1, fixed=("weights", "covariances")), x)
    np.testing.assert_allclose(one_step.means_.ravel(), [-0.4934, 1.0013], atol=5e-5)
    np.testing.assert_array_equal(one_step.weights_, [0.5, 0.5])
    np.testing.assert_array_equal(one_step.covariances_, [1.0, 1.0])


def test_weighted_m_step_mean():
    # Responsibilities (0.9, 0.8, 0.2, 0.1) on x = (-2, -1, 3, 4) give mean -0.8.
    x = np.array([-2.0, -1.0, 3.0, 4.0])[:, None]
    fitted = emkit.GaussianMixture(1).fit(x, sample_weight=[0.9, 0.8, 0.2, 0.1])
    assert fitted.means_[0, 0] == pytest.approx(-0.8, abs=1e-12)


def test_log_density_matches_scipy(iris):
    fitted = quiet_fit(emkit.GaussianMixture(3, n_init=2, random_state=0), iris)
    expected = np.log(sum(w * stats.multivariate_normal(m, c).pdf(iris) for w, m, c in
                          zip(fitted.weights_, fitted.means_, fitted.covariances_)))
    np.testing.assert_allclose(fitted.score_samples(iris), expected, rtol=1e-10)


# -------------------------------------------------------------- good optima
def _default_fits(X, seeds):
    return np.array([quiet_fit(emkit.GaussianMixture(3, random_state=seed), X).history_[-1]
                     for seed in seeds])


def test_default_reaches_best_optimum_on_old_faithful(faithful):
    # scikit-learn's default reaches it in 0 of 50 seeds (median -1126.28).
    objectives = _default_fits(faithful, range(50))
    assert np.mean(np.abs(objectives - (-1114.44)) < 0.01) >= 0.9
    # Never a degenerate spike (Old Faithful has some near -1053).
    assert objectives.max() < -1114.43


def test_default_reaches_best_optimum_on_iris(iris):
    objectives = _default_fits(iris, range(50))
    assert np.mean(np.abs(objectives - (-180.185)) < 0.01) >= 0.99


@pytest.mark.parametrize("dataset", ["iris", "faithful"])
def test_default_stopping_rule_ends_close_to_convergence(dataset, request):
    X = request.getfixturevalue(dataset)
    for seed in range(5):
        default = quiet_fit(emkit.GaussianMixture(3, n_init=1, random_state=seed), X)
        converged = quiet_fit(emkit.GaussianMixture(3, n_init=1, random_state=seed, tol=1e-11,
                                                    max_iter=5000), X)
        assert converged.history_[-1] - default.history_[-1] < 0.01


# -------------------------------------------------------------- monotonicity
@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("prior", [None, "default"])
def test_objective_never_decreases(faithful, covariance_type, prior):
    weights = np.random.RandomState(0).randint(1, 4, size=faithful.shape[0])
    for sample_weight in (None, weights):
        fitted = quiet_fit(emkit.GaussianMixture(
            4, covariance_type=covariance_type, prior=prior, n_init=3, random_state=1,
            weight_concentration=2.0 if prior else None), faithful, sample_weight=sample_weight)
        history = fitted.history_
        assert fitted.n_repairs_ == 0
        assert np.all(np.diff(history) >= -1e-9 * np.abs(history[:-1])), history


def test_map_objective_is_log_likelihood_plus_log_prior(faithful):
    from emkit.priors import default_prior

    fitted = quiet_fit(emkit.GaussianMixture(3, prior="default", weight_concentration=2.0,
                                             n_init=2, random_state=0), faithful)
    prior = default_prior(faithful, 3)
    log_prior = sum(prior.logpdf(m, c) for m, c in zip(fitted.means_, fitted.covariances_))
    log_prior += stats.dirichlet([2.0, 2.0, 2.0]).logpdf(fitted.weights_)
    loglik = fitted.score(faithful) * faithful.shape[0]
    assert fitted.history_[-1] == pytest.approx(loglik + log_prior, rel=1e-10)


# ------------------------------------------------------------------- numerics
def test_float32_at_offset_matches_float64(faithful):
    X = (faithful - faithful.mean(0)) / faithful.std(0) + 1e3
    start = sklearn_start(X, "full")
    fit64 = quiet_fit(emkit.GaussianMixture(3, max_iter=200, **start), X)
    fit32 = quiet_fit(emkit.GaussianMixture(3, max_iter=200, **start), X.astype(np.float32))
    assert abs(fit32.score(X) - fit64.score(X)) < 1e-4


@pytest.mark.parametrize("covariance_type", TYPES)
def test_float32_input_stays_float32_and_agrees(iris, covariance_type):
    start = sklearn_start(iris, covariance_type)
    fit64 = quiet_fit(emkit.GaussianMixture(3, covariance_type=covariance_type, max_iter=50,
                                            tol=0, **start), iris)
    fit32 = quiet_fit(emkit.GaussianMixture(3, covariance_type=covariance_type, max_iter=50,
                                            tol=0, **start), iris.astype(np.float32))
    assert abs(fit32.score(iris) - fit64.score(iris)) < 1e-4


@pytest.mark.parametrize("scale", [1e-8, 1.0, 1e8])
@pytest.mark.parametrize("covariance_type", TYPES)
def test_awkward_data_never_crashes(scale, covariance_type):
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(60, 3), np.tile([[5.0, 5.0, 5.0]], (10, 1))]) * scale
    X[:, 2] = 3.0 * scale  # a constant column
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = emkit.GaussianMixture(3, covariance_type=covariance_type, n_init=3,
                                       random_state=0).fit(X)
    assert np.isfinite(fitted.score(X))
    assert np.all(np.isfinite(fitted.means_))


def test_collapsing_component_is_repaired_or_avoided():
    # A few exactly duplicated points invite a component to collapse onto them.
    rng = np.random.RandomState(3)
    X = np.vstack([rng.randn(200, 2), rng.randn(200, 2) + 6, np.tile([[3.0, 3.0]], (4, 1))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = emkit.GaussianMixture(3, init_params="random_from_data", n_init=5,
                                       random_state=0).fit(X)
    whitened_min_eig = [linalg.eigh(c, np.cov(X.T), eigvals_only=True).min()
                        for c in fitted.covariances_]
    assert min(whitened_min_eig) > 1e-5


def test_many_components_on_old_faithful_do_not_collapse(faithful):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = emkit.GaussianMixture(9, n_init=5, random_state=0).fit(faithful)
    data_cov = np.cov(faithful.T)
    smallest = min(linalg.eigh(c, data_cov, eigvals_only=True).min()
                   for c in fitted.covariances_)
    assert smallest > 1e-5
    assert fitted.weights_.min() * faithful.shape[0] >= 1.0


# -------------------------------------------------------------- inputs / API
@pytest.mark.parametrize(
    "bad, fragment",
    [
        (np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]]), "NaN"),
        (np.array([[1.0, np.inf], [2.0, 3.0], [4.0, 5.0]]), "infinity"),
        (np.array([1.0, 2.0, 3.0]), "2-D"),
        (np.ones((2, 2, 2)), "dim"),
        (np.array([["a", "b"], ["c", "d"], ["e", "f"]]), "numbers"),
        (np.array([[1.0, 2.0]]), "n_components"),
    ],
)
def test_bad_input_raises_clear_value_error(bad, fragment):
    with pytest.raises(ValueError, match=fragment):
        emkit.GaussianMixture(2).fit(bad)


@pytest.mark.parametrize(
    "params, fragment",
    [
        (dict(n_components=0), "n_components"),
        (dict(covariance_type="banana"), "covariance_type"),
        (dict(reg_covar=-1.0), "reg_covar"),
        (dict(fixed=("colours",)), "fixed"),
        (dict(means_init=[[0.0, 0.0]]), "means_init"),
        (dict(weights_init=[0.2, 0.2]), "weights_init"),
    ],
)
def test_bad_parameters_name_the_argument(params, fragment, faithful):
    with pytest.raises(ValueError, match=fragment):
        emkit.GaussianMixture(**{"n_components": 2, **params}).fit(faithful)


def test_caller_arrays_are_never_modified(faithful):
    X = faithful.copy()
    weights = np.linspace(0.5, 2.0, X.shape[0])
    means = X[:3].copy()
    X_before, weights_before, means_before = X.copy(), weights.copy(), means.copy()
    quiet_fit(emkit.GaussianMixture(3, means_init=means, n_init=2), X, sample_weight=weights)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(weights, weights_before)
    np.testing.assert_array_equal(means, means_before)


def test_integer_sample_weights_equal_repeated_rows(faithful):
    weights = np.random.RandomState(0).randint(0, 4, size=faithful.shape[0])
    start = sklearn_start(faithful, "full")
    weighted = quiet_fit(emkit.GaussianMixture(3, max_iter=50, tol=0, **start), faithful,
                         sample_weight=weights)
    repeated = quiet_fit(emkit.GaussianMixture(3, max_iter=50, tol=0, **start),
                         np.repeat(faithful, weights, axis=0))
    np.testing.assert_allclose(weighted.means_, repeated.means_, rtol=1e-9)
    np.testing.assert_allclose(weighted.covariances_, repeated.covariances_, rtol=1e-9)
    assert weighted.history_[-1] == pytest.approx(repeated.history_[-1], rel=1e-10)
    assert weighted.bic(faithful, sample_weight=weights) == pytest.approx(
        repeated.bic(np.repeat(faithful, weights, axis=0)), rel=1e-10)


def test_pandas_input_keeps_feature_names():
    frame = load_old_faithful(as_frame=True).frame
    fitted = quiet_fit(emkit.GaussianMixture(2, n_init=2, random_state=0), frame)
    assert list(fitted.feature_names_in_) == ["eruptions", "waiting"]


@pytest.mark.parametrize("covariance_type", TYPES)
def test_bic_aic_match_sklearn_on_same_parameters(iris, covariance_type):
    start = sklearn_start(iris, covariance_type)
    common = dict(covariance_type=covariance_type, max_iter=20, tol=0.0, reg_covar=0.0, **start)
    ours = quiet_fit(emkit.GaussianMixture(3, **common), iris)
    reference = quiet_fit(SklearnGaussianMixture(3, **common), iris)
    assert ours.bic(iris) == pytest.approx(reference.bic(iris), rel=1e-8)
    assert ours.aic(iris) == pytest.approx(reference.aic(iris), rel=1e-8)


def test_from_params_sample_and_refit_recovers_parameters():
    truth = emkit.GaussianMixture.from_params(
        [0.3, 0.7], [[0.0, 0.0], [5.0, 5.0]],
        [[[1.0, 0.5], [0.5, 1.0]], [[2.0, -0.3], [-0.3, 0.5]]], random_state=0)
    X, labels = truth.sample(20000)
    assert np.bincount(labels).tolist() == np.bincount(np.sort(labels)).tolist()
    refit = quiet_fit(emkit.GaussianMixture(2, n_init=3, random_state=0), X)
    order = np.argsort(refit.means_[:, 0])
    np.testing.assert_allclose(refit.weights_[order], [0.3, 0.7], atol=0.02)
    np.testing.assert_allclose(refit.means_[order], truth.means_, atol=0.05)
    np.testing.assert_allclose(refit.covariances_[order], truth.covariances_, atol=0.08)


def test_fixed_parameters_stay_at_initial_values(faithful):
    start = sklearn_start(faithful, "diag")
    fitted = quiet_fit(emkit.GaussianMixture(3, covariance_type="diag", fixed=["means"],
                                             **start), faithful)
    np.testing.assert_array_equal(fitted.means_, start["means_init"])
    assert np.all(np.diff(fitted.history_) >= -1e-9 * np.abs(fitted.history_[:-1]))


def test_warm_start_continues_from_previous_fit(faithful):
    model = quiet_fit(emkit.GaussianMixture(3, max_iter=5, tol=0, n_init=1, random_state=0,
                                            warm_start=True), faithful)
    first = model.history_[-1]
    quiet_fit(model, faithful)
    assert model.history_[0] == pytest.approx(first, rel=1e-12)
    assert model.history_[-1] >= first


def test_check_estimator_passes():
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(emkit.GaussianMixture(), on_fail=None)
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert not failed


@pytest.mark.parametrize("covariance_type", TYPES)
def test_chunked_statistics_equal_one_pass(faithful, covariance_type):
    # Statistics add across chunks: 17-row chunks must give the one-pass fit.
    start = sklearn_start(faithful, covariance_type)
    common = dict(covariance_type=covariance_type, max_iter=30, tol=0.0, **start)
    one_pass = quiet_fit(emkit.GaussianMixture(3, chunk_size=10_000, **common), faithful)
    chunked = quiet_fit(emkit.GaussianMixture(3, chunk_size=17, **common), faithful)
    np.testing.assert_allclose(chunked.history_, one_pass.history_, rtol=1e-11)
    np.testing.assert_allclose(chunked.means_, one_pass.means_, rtol=1e-9)
