"""GaussianMixture(missing="marginalize"): NaN entries marginalised exactly."""

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from emkit import GaussianMixture
from emkit.components._structures import STRUCTURES
from emkit.datasets import load_iris

TYPES = ("full", "tied", "diag", "spherical")


@pytest.fixture(scope="module")
def iris():
    return load_iris().data


def _mask(X, fraction, seed):
    X = X.copy()
    X[np.random.default_rng(seed).random(X.shape) < fraction] = np.nan
    return X


def _observed_loglik(model, X):
    """Brute force: sum_n log sum_k pi_k N(x_n,o | mu_k,o, Sigma_k,oo) with scipy."""
    K, D = model.means_.shape
    covariances = {"full": lambda: model.covariances_,
                   "tied": lambda: np.repeat(model.covariances_[None], K, axis=0),
                   "diag": lambda: np.stack([np.diag(v) for v in model.covariances_]),
                   "spherical": lambda: np.stack([v * np.eye(D) for v in model.covariances_])
                   }.get(model.covariance_type, lambda: model.covariances_)()
    total = 0.0
    for x in X:
        obs = ~np.isnan(x)
        if not obs.any():
            continue
        terms = [np.log(model.weights_[k]) + multivariate_normal.logpdf(
            x[obs], model.means_[k, obs], covariances[k][np.ix_(obs, obs)]) for k in range(K)]
        total += logsumexp(terms)
    return total


@pytest.mark.parametrize("covariance_type", TYPES + ("VEV", "EEI", "VII"))
def test_objective_is_the_observed_data_likelihood_and_never_decreases(iris, covariance_type):
    X = _mask(iris, 0.2, seed=1)
    # reg_covar=0: the objective is then the likelihood itself, no penalty term.
    model = GaussianMixture(3, covariance_type=covariance_type, missing="marginalize",
                            random_state=0, n_init=3, reg_covar=0.0).fit(X)
    history = model.history_
    assert np.all(np.diff(history) >= -1e-9 * abs(history[-1]))
    # history_[-1] is the objective at the returned parameters.
    assert history[-1] == pytest.approx(_observed_loglik(model, X), rel=1e-10)
    np.testing.assert_allclose(model.score_samples(X).sum(), _observed_loglik(model, X),
                               rtol=1e-10)


@pytest.mark.parametrize("covariance_type", TYPES + tuple(STRUCTURES))
def test_without_nan_the_fit_is_the_ordinary_one(iris, covariance_type):
    plain = GaussianMixture(3, covariance_type=covariance_type, random_state=0, n_init=2)
    marginal = GaussianMixture(3, covariance_type=covariance_type, random_state=0, n_init=2,
                               missing="marginalize")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain.fit(iris)
        marginal.fit(iris)
    np.testing.assert_array_equal(plain.means_, marginal.means_)
    np.testing.assert_array_equal(plain.history_, marginal.history_)


def test_wholly_missing_rows_contribute_nothing(iris):
    X = _mask(iris, 0.1, seed=2)
    padded = np.vstack([X, np.full((7, 4), np.nan)])
    a = GaussianMixture(3, missing="marginalize", random_state=0, n_init=2).fit(X)
    b = GaussianMixture(3, missing="marginalize", random_state=0, n_init=2).fit(padded)
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-12)
    assert a.history_[-1] == pytest.approx(b.history_[-1], rel=1e-12)


def test_beats_mean_imputation_on_iris_over_20_masks(iris):
    # The check: 20% removed at random, 20 masks; the marginalising fit
    # scores the complete data higher than "impute the column mean, then fit".
    wins = 0
    for seed in range(20):
        X = _mask(iris, 0.2, seed)
        marginal = GaussianMixture(3, missing="marginalize", random_state=seed, n_init=5).fit(X)
        filled = np.where(np.isnan(X), np.nanmean(X, axis=0), X)
        imputed = GaussianMixture(3, random_state=seed, n_init=5).fit(filled)
        wins += marginal.score(iris) > imputed.score(iris)
    assert wins == 20


def test_impute_is_the_conditional_expectation():
    # One Gaussian: E[x_m | x_o] = mu_m + S_mo S_oo^-1 (x_o - mu_o), by hand.
    rng = np.random.default_rng(0)
    cov = np.array([[2.0, 0.8, 0.3], [0.8, 1.0, 0.2], [0.3, 0.2, 0.5]])
    mean = np.array([1.0, -2.0, 0.5])
    model = GaussianMixture.from_params([1.0], mean[None], cov[None], missing="marginalize")
    x = rng.normal(size=(5, 3))
    x[:, 1] = np.nan
    o, m = [0, 2], [1]
    expected = mean[m] + (x[:, o] - mean[o]) @ np.linalg.solve(cov[np.ix_(o, o)],
                                                               cov[np.ix_(o, m)])
    imputed = model.impute(x)
    np.testing.assert_allclose(imputed[:, 1], expected.ravel(), rtol=1e-12)
    np.testing.assert_array_equal(imputed[:, o], x[:, o])


def test_impute_mixture_weights_the_components(iris):
    X = _mask(iris, 0.2, seed=3)
    model = GaussianMixture(3, missing="marginalize", random_state=0, n_init=3).fit(X)
    imputed = model.impute(X)
    assert np.isfinite(imputed).all()
    observed = ~np.isnan(X)
    np.testing.assert_array_equal(imputed[observed], X[observed])
    # Far better than the column means against the true values.
    truth_error = np.abs(imputed - iris)[~observed].mean()
    mean_error = np.abs(np.nanmean(X, axis=0)[None].repeat(150, 0) - iris)[~observed].mean()
    assert truth_error < 0.6 * mean_error


def test_nan_without_the_option_is_named(iris):
    X = _mask(iris, 0.05, seed=4)
    with pytest.raises(ValueError, match="NaN"):
        GaussianMixture(2).fit(X)
    with pytest.raises(ValueError, match="missing"):
        GaussianMixture(2, missing="drop").fit(iris)


def test_semi_supervised_iris_beats_unsupervised():
    from scipy.optimize import linear_sum_assignment

    data = load_iris()
    X, species = data.data, data.target

    def accuracy(predicted):  # the best matching of components to species
        table = np.zeros((3, 3))
        np.add.at(table, (predicted, species), 1)
        rows, cols = linear_sum_assignment(-table)
        return table[rows, cols].sum() / len(species)

    unsupervised, supervised = [], []
    for seed in range(10):
        labels = np.full(150, -1)
        chosen = np.random.default_rng(seed).choice(150, 8, replace=False)  # 5%
        labels[chosen] = species[chosen]
        plain = GaussianMixture(3, random_state=seed).fit(X)
        semi = GaussianMixture(3, random_state=seed).fit(X, labels=labels)
        assert np.all(np.diff(semi.history_) >= -1e-9 * abs(semi.history_[-1]))
        np.testing.assert_array_equal(semi.predict_proba(X)[chosen].argmax(1), species[chosen])
        unsupervised.append(accuracy(plain.predict(X)))
        # Components are the labelled species themselves: no matching needed.
        supervised.append(np.mean(semi.predict(X) == species))
    assert np.mean(supervised) > np.mean(unsupervised)
    assert min(supervised) >= min(unsupervised)
