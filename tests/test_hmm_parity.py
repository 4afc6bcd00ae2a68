"""Parity of emkit's HMMs with hmmlearn 0.3.3 from the same starting parameters.

hmmlearn is given the very parameters emkit starts from (``init_params=""``)
and its priors are set so that both run plain maximum likelihood:
``GaussianHMM(covars_prior=0, covars_weight=1, min_covar=0)`` (its default
``covars_prior=1e-2`` is added to every covariance; ``min_covar`` enters only
its initialisation); GMMHMM's default covariance priors are already neutral
except for "spherical", which needs ``covars_prior=-(D + 2) / 2``. hmmlearn's
``monitor_.history[i]`` is the log-likelihood before its (i+1)-th M-step,
emkit's ``history_[i]`` the one after its i-th: the same numbers.

hmmlearn's GMMHMM computes the covariance update about the *previous*
iteration's means (``centered = X - self.means_`` in its E-step), which is
not the M-step of EM when the means move too; the GMMHMM parity therefore
runs twice: with the means held fixed (covariances and weights estimated:
the scatter is then about the same means in both) and with the covariances
held fixed (means and weights estimated).
"""

import logging
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

hmmlearn_hmm = pytest.importorskip("hmmlearn.hmm")

from emkit.estimators.hmm import GMMHMM, CategoricalHMM, GaussianHMM, PoissonHMM  # noqa: E402

logging.getLogger("hmmlearn").setLevel(logging.ERROR)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """hmmlearn solves one tiny triangular system per state and sequence; with
    several OpenBLAS threads each call pays thread start-up (ms on a shared
    machine). Results are unaffected."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield

N_ITER = 20
RTOL_LOGLIK = 1e-6
LENGTHS = [90, 120, 60, 30]


def _relative(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))


@pytest.fixture(scope="module")
def setting():
    rng = np.random.RandomState(0)
    K, D = 3, 2
    startprob = rng.dirichlet(np.ones(K) * 2)
    transmat = rng.dirichlet(np.ones(K) * 3, size=K) + 2 * np.eye(K)
    transmat /= transmat.sum(axis=1, keepdims=True)
    means = np.array([[0.0, 0.0], [3.0, 1.0], [-1.0, 3.0]])
    # data: 3 well separated, correlated Gaussian states
    states = [0]
    for _ in range(sum(LENGTHS) - 1):
        states.append(rng.choice(K, p=transmat[states[-1]]))
    states = np.array(states)
    mixing = np.array([[1.0, 0.4], [0.0, 0.8]])
    X = means[states] + rng.normal(size=(states.size, D)) @ mixing
    start_means = means + rng.normal(scale=0.6, size=means.shape)
    A = np.array([[1.0, 0.3], [0.3, 1.5]])
    covariances = {
        "full": np.array([A, 1.2 * np.eye(D), np.array([[2.0, -0.5], [-0.5, 1.0]])]),
        "tied": A,
        "diag": rng.uniform(0.5, 2.0, size=(K, D)),
        "spherical": rng.uniform(0.5, 2.0, size=K),
    }
    return dict(X=X, startprob=rng.dirichlet(np.ones(K) * 3),
                transmat=rng.dirichlet(np.ones(K) * 3, size=K), means=start_means,
                covariances=covariances, K=K, D=D)


def _fit_pair(reference, ours, X, lengths=LENGTHS):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.fit(X, lengths)
        ours.fit(X, lengths)
    history = np.asarray(reference.monitor_.history)
    assert history.size == N_ITER
    assert _relative(ours.history_[:N_ITER], history) < RTOL_LOGLIK
    return reference, ours


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_gaussian_hmm_matches_hmmlearn(setting, covariance_type):
    s = setting
    covariances = s["covariances"][covariance_type]
    reference = hmmlearn_hmm.GaussianHMM(
        s["K"], covariance_type=covariance_type, init_params="", n_iter=N_ITER, tol=-np.inf,
        implementation="scaling", covars_prior=0.0, covars_weight=1.0, min_covar=0.0)
    reference.startprob_, reference.transmat_ = s["startprob"], s["transmat"]
    reference.means_, reference.covars_ = s["means"], covariances
    # hmmlearn runs plain Baum-Welch: compare its iterates with plain EM's
    ours = GaussianHMM.from_params(s["startprob"], s["transmat"], s["means"], covariances,
                                   covariance_type=covariance_type, reg_covar=0.0,
                                   warm_start=True, max_iter=N_ITER, tol=0.0,
                                   accelerate="none")
    _fit_pair(reference, ours, s["X"])
    # after 20 identical iterations the parameters agree as well
    np.testing.assert_allclose(ours.transmat_, reference.transmat_, atol=1e-8)
    np.testing.assert_allclose(ours.means_, reference.means_, atol=1e-7)
    expected_covariances = (reference._covars_[:, 0] if covariance_type == "spherical"
                            else reference._covars_)
    np.testing.assert_allclose(ours.covariances_, expected_covariances, atol=1e-7)
    if covariance_type != "spherical":  # hmmlearn's covars_ getter mis-shapes spherical
        np.testing.assert_allclose(ours.covars_, reference.covars_, atol=1e-7)


def test_gaussian_hmm_transition_priors_match_hmmlearn(setting):
    s = setting
    reference = hmmlearn_hmm.GaussianHMM(
        s["K"], covariance_type="diag", init_params="", n_iter=N_ITER, tol=-np.inf,
        implementation="log", covars_prior=0.0, covars_weight=1.0, min_covar=0.0,
        startprob_prior=np.array([2.0, 3.0, 1.5]), transmat_prior=4.0)
    reference.startprob_, reference.transmat_ = s["startprob"], s["transmat"]
    reference.means_, reference.covars_ = s["means"], s["covariances"]["diag"]
    # hmmlearn runs plain Baum-Welch: compare its iterates with plain EM's
    ours = GaussianHMM.from_params(s["startprob"], s["transmat"], s["means"],
                                   s["covariances"]["diag"], reg_covar=0.0, warm_start=True,
                                   max_iter=N_ITER, tol=0.0,
                                   startprob_prior=[2.0, 3.0, 1.5], transmat_prior=4.0,
                                   accelerate="none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.fit(s["X"], LENGTHS)
        ours.fit(s["X"], LENGTHS)
    # hmmlearn records the log-likelihood, emkit the log-posterior: compare the
    # trajectories through the parameters they end at
    np.testing.assert_allclose(ours.startprob_, reference.startprob_, atol=1e-8)
    np.testing.assert_allclose(ours.transmat_, reference.transmat_, atol=1e-8)
    np.testing.assert_allclose(ours.means_, reference.means_, atol=1e-7)


class _GMMHMMFromGivenParameters(hmmlearn_hmm.GMMHMM if hasattr(hmmlearn_hmm, "GMMHMM")
                                 else object):
    """hmmlearn's GMMHMM minus the k-means its ``_init`` runs even with
    ``init_params=""`` (whose result it then discards): seconds per fit."""

    def _init(self, X, lengths=None):
        from hmmlearn.base import BaseHMM

        BaseHMM._init(self, X, lengths)


def _gmm_setting(setting, covariance_type, rng):
    K, D, M = setting["K"], setting["D"], 2
    means = setting["means"][:, None, :] + rng.normal(scale=0.7, size=(K, M, D))
    weights = rng.dirichlet(np.ones(M) * 3, size=K)
    covariances = {
        "spherical": rng.uniform(0.5, 2.0, size=(K, M)),
        "diag": rng.uniform(0.5, 2.0, size=(K, M, D)),
        "full": np.array([[np.array([[1.0 + m, 0.3], [0.3, 1.0 + k]]) for m in range(M)]
                          for k in range(K)]),
        "tied": np.array([np.array([[1.0 + k, 0.2], [0.2, 1.5]]) for k in range(K)]),
    }[covariance_type]
    return weights, means, covariances


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("held", ["means", "covariances"])
def test_gmm_hmm_matches_hmmlearn(setting, covariance_type, held):
    s = setting
    rng = np.random.RandomState(1)
    weights, means, covariances = _gmm_setting(s, covariance_type, rng)
    extra = {}
    if covariance_type == "spherical":
        extra = dict(covars_prior=-(s["D"] + 2) / 2.0, covars_weight=0.0)
    params = "stcw" if held == "means" else "stmw"
    reference = _GMMHMMFromGivenParameters(s["K"], n_mix=2, covariance_type=covariance_type,
                                    init_params="", params=params, n_iter=N_ITER,
                                       tol=-np.inf, implementation="scaling",
                                       random_state=0, **extra)
    reference.startprob_, reference.transmat_ = s["startprob"], s["transmat"]
    reference.weights_, reference.means_, reference.covars_ = weights, means, covariances
    # hmmlearn runs plain Baum-Welch: compare its iterates with plain EM's
    ours = GMMHMM.from_params(s["startprob"], s["transmat"], weights, means, covariances,
                              covariance_type=covariance_type, reg_covar=0.0, warm_start=True,
                              max_iter=N_ITER, tol=0.0, fixed=(held,), accelerate="none")
    _fit_pair(reference, ours, s["X"])
    np.testing.assert_allclose(ours.weights_, reference.weights_, atol=1e-7)
    np.testing.assert_allclose(ours.means_, reference.means_, atol=1e-7)
    np.testing.assert_allclose(ours.covars_, reference.covars_, atol=1e-7)


@pytest.fixture(scope="module")
def symbols():
    rng = np.random.RandomState(3)
    emission = np.array([[0.6, 0.3, 0.05, 0.05], [0.05, 0.15, 0.4, 0.4], [0.3, 0.1, 0.5, 0.1]])
    transmat = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7]])
    generator = CategoricalHMM.from_params([0.5, 0.3, 0.2], transmat, emission)
    X, _ = generator.sample(sum(LENGTHS), random_state=rng)
    return X, rng.dirichlet(np.ones(4), size=3), transmat, emission


@pytest.mark.parametrize("emissionprob_prior", [1.0, 2.5])
def test_categorical_hmm_matches_hmmlearn(setting, symbols, emissionprob_prior):
    s = setting
    X, start_emission, _, _ = symbols
    reference = hmmlearn_hmm.CategoricalHMM(s["K"], n_features=4, init_params="",
                                            n_iter=N_ITER, tol=-np.inf, implementation="log",
                                            emissionprob_prior=emissionprob_prior)
    reference.startprob_, reference.transmat_ = s["startprob"], s["transmat"]
    reference.emissionprob_ = start_emission
    # hmmlearn runs plain Baum-Welch: compare its iterates with plain EM's
    ours = CategoricalHMM.from_params(s["startprob"], s["transmat"], start_emission,
                                      warm_start=True, max_iter=N_ITER, tol=0.0,
                                      emissionprob_prior=emissionprob_prior,
                                      accelerate="none")
    if emissionprob_prior == 1.0:
        _fit_pair(reference, ours, X)
    else:  # emkit records the log-posterior: compare where both end
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference.fit(X, LENGTHS)
            ours.fit(X, LENGTHS)
    np.testing.assert_allclose(ours.emissionprob_, reference.emissionprob_, atol=1e-8)
    np.testing.assert_allclose(ours.transmat_, reference.transmat_, atol=1e-8)


def test_poisson_hmm_matches_hmmlearn(setting):
    s = setting
    rng = np.random.RandomState(4)
    rates = np.array([[1.0, 6.0], [5.0, 0.5], [3.0, 3.0]])
    generator = PoissonHMM.from_params([0.4, 0.3, 0.3], [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1],
                                                          [0.2, 0.2, 0.6]], rates)
    X, _ = generator.sample(sum(LENGTHS), random_state=rng)
    start_rates = rates * rng.uniform(0.6, 1.5, size=rates.shape)
    reference = hmmlearn_hmm.PoissonHMM(s["K"], init_params="", n_iter=N_ITER, tol=-np.inf,
                                        implementation="scaling")
    reference.startprob_, reference.transmat_ = s["startprob"], s["transmat"]
    reference.lambdas_ = start_rates
    # hmmlearn runs plain Baum-Welch: compare its iterates with plain EM's
    ours = PoissonHMM.from_params(s["startprob"], s["transmat"], start_rates,
                                  warm_start=True, max_iter=N_ITER, tol=0.0, accelerate="none")
    _fit_pair(reference, ours, X)
    np.testing.assert_allclose(ours.lambdas_, reference.lambdas_, rtol=1e-7)


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_viterbi_and_posteriors_match_hmmlearn(setting, covariance_type):
    s = setting
    covariances = s["covariances"][covariance_type]
    reference = hmmlearn_hmm.GaussianHMM(s["K"], covariance_type=covariance_type,
                                         implementation="log")
    reference.startprob_, reference.transmat_ = s["startprob"], s["transmat"]
    reference.means_, reference.covars_ = s["means"], covariances
    ours = GaussianHMM.from_params(s["startprob"], s["transmat"], s["means"], covariances,
                                   covariance_type=covariance_type)
    X = s["X"]
    np.testing.assert_array_equal(ours.predict(X, LENGTHS), reference.predict(X, LENGTHS))
    np.testing.assert_allclose(ours.predict_proba(X, LENGTHS),
                               reference.predict_proba(X, LENGTHS), atol=1e-8)
    assert _relative(ours.score(X, LENGTHS), reference.score(X, LENGTHS)) < 1e-10
    reference_logprob, reference_states = reference.decode(X, LENGTHS, algorithm="viterbi")
    logprob, states = ours.decode(X, LENGTHS, algorithm="viterbi")
    np.testing.assert_array_equal(states, reference_states)
    assert _relative(logprob, reference_logprob) < 1e-10
    np.testing.assert_array_equal(ours.decode(X, LENGTHS, algorithm="map")[1],
                                  reference.decode(X, LENGTHS, algorithm="map")[1])


def test_discrete_viterbi_and_posteriors_match_hmmlearn(setting, symbols):
    s = setting
    # the generating parameters: with arbitrary ones, categorical data often
    # have several Viterbi paths of exactly the same probability (ties)
    X, _, transmat, emission = symbols
    reference = hmmlearn_hmm.CategoricalHMM(s["K"], n_features=4)
    reference.startprob_, reference.transmat_ = s["startprob"], transmat
    reference.emissionprob_ = emission
    ours = CategoricalHMM.from_params(s["startprob"], transmat, emission)
    np.testing.assert_array_equal(ours.predict(X, LENGTHS), reference.predict(X, LENGTHS))
    np.testing.assert_allclose(ours.predict_proba(X, LENGTHS),
                               reference.predict_proba(X, LENGTHS), atol=1e-8)
