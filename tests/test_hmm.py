"""Hidden Markov models through the estimator API.

Expected numbers come from outside the code under test: enumeration of every
state path with emission densities from scipy.stats (the oracle), hmmlearn
(see test_hmm_parity.py), a mixture's closed-form likelihood, the generating
parameters of sampled data, and the Nile change point known from the
literature.
"""

import itertools
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from emkit.datasets import load_nile
from emkit.estimators.hmm import GMMHMM, CategoricalHMM, GaussianHMM, PoissonHMM
from emkit.priors import Gamma

# ---------------------------------------------------------------------------
# the oracle: enumerate every state path
# ---------------------------------------------------------------------------


def _sequences(lengths):
    ends = np.cumsum(lengths)
    return [slice(int(e - n), int(e)) for n, e in zip(lengths, ends)]


def brute_force(startprob, transmat, log_emission, lengths):
    """Per-sequence log-likelihoods, posteriors, Viterbi paths and log-probs,
    expected start and transition counts, by enumerating all K^T paths."""
    K = startprob.size
    with np.errstate(divide="ignore"):
        log_start, log_trans = np.log(startprob), np.log(transmat)
    logliks, posteriors, paths_best, best_logprobs = [], np.zeros_like(log_emission), [], []
    start_counts, trans_counts = np.zeros(K), np.zeros((K, K))
    for seq in _sequences(lengths):
        lb = log_emission[seq]
        T = lb.shape[0]
        paths = np.array(list(itertools.product(range(K), repeat=T)))
        logp = log_start[paths[:, 0]] + lb[0, paths[:, 0]]
        for t in range(1, T):
            logp = logp + log_trans[paths[:, t - 1], paths[:, t]] + lb[t, paths[:, t]]
        loglik = logsumexp(logp)
        weights = np.exp(logp - loglik)
        for t in range(T):
            posteriors[seq.start + t] = np.bincount(paths[:, t], weights=weights, minlength=K)
        for t in range(T - 1):
            np.add.at(trans_counts, (paths[:, t], paths[:, t + 1]), weights)
        start_counts += posteriors[seq.start]
        logliks.append(loglik)
        paths_best.append(paths[np.argmax(logp)])
        best_logprobs.append(np.max(logp))
    return dict(loglik=np.array(logliks), posteriors=posteriors,
                viterbi=np.concatenate(paths_best), viterbi_logprob=np.sum(best_logprobs),
                start=start_counts, trans=trans_counts)


def gaussian_log_emission(X, means, covariances):
    """log N(x_o | mu_o, Sigma_oo) of the observed sub-vector (0 if all missing)."""
    out = np.zeros((X.shape[0], means.shape[0]))
    for n, x in enumerate(X):
        observed = ~np.isnan(x)
        if not observed.any():
            continue
        for k in range(means.shape[0]):
            out[n, k] = stats.multivariate_normal.logpdf(
                x[observed], means[k, observed], covariances[k][np.ix_(observed, observed)])
    return out


def check_against_oracle(model, X, lengths, log_emission):
    oracle = brute_force(model.startprob_, model.transmat_, log_emission, lengths)
    np.testing.assert_allclose(model.score_sequences(X, lengths), oracle["loglik"], rtol=1e-10)
    assert model.score(X, lengths) == pytest.approx(oracle["loglik"].sum(), rel=1e-10)
    np.testing.assert_allclose(model.predict_proba(X, lengths), oracle["posteriors"],
                               atol=1e-10)
    logprob, states = model.decode(X, lengths, algorithm="viterbi")
    np.testing.assert_array_equal(states, oracle["viterbi"])
    np.testing.assert_array_equal(model.predict(X, lengths), oracle["viterbi"])
    assert logprob == pytest.approx(oracle["viterbi_logprob"], rel=1e-10)
    np.testing.assert_array_equal(model.decode(X, lengths, algorithm="map")[1],
                                  oracle["posteriors"].argmax(axis=1))
    return oracle


START = np.array([0.5, 0.3, 0.2])
TRANS = np.array([[0.7, 0.2, 0.1], [0.25, 0.5, 0.25], [0.1, 0.3, 0.6]])
SHORT_LENGTHS = [6, 4, 1, 5]


def _full_covariances():
    return np.array([[[1.0, 0.4], [0.4, 0.8]], [[0.5, -0.2], [-0.2, 1.5]],
                     [[2.0, 0.0], [0.0, 0.3]]])


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_gaussian_hmm_equals_path_enumeration(covariance_type):
    rng = np.random.RandomState(0)
    means = np.array([[0.0, 0.0], [1.5, -1.0], [-1.0, 2.0]])
    full = _full_covariances()
    covariances = {"full": full, "tied": full[0], "diag": np.diagonal(full, axis1=1, axis2=2),
                   "spherical": np.array([0.7, 1.2, 0.4])}[covariance_type]
    stacked = {"full": full, "tied": np.array([full[0]] * 3),
               "diag": np.array([np.diag(np.diag(c)) for c in full]),
               "spherical": covariances[:, None, None] * np.eye(2)}[covariance_type]
    X = rng.normal(size=(sum(SHORT_LENGTHS), 2)) * 1.5 + 0.3
    model = GaussianHMM.from_params(START, TRANS, means, covariances,
                                    covariance_type=covariance_type)
    check_against_oracle(model, X, SHORT_LENGTHS, gaussian_log_emission(X, means, stacked))


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_missing_observations_are_marginalised_exactly(covariance_type):
    """NaN entries: the density of the observed sub-vector; a wholly missing
    row contributes only its transition (oracle: scipy on the sub-vectors)."""
    rng = np.random.RandomState(1)
    means = np.array([[0.0, 0.0, 1.0], [1.5, -1.0, 0.0], [-1.0, 2.0, 0.5]])
    base = np.array([[1.0, 0.4, 0.2], [0.4, 0.8, -0.1], [0.2, -0.1, 0.6]])
    full = np.array([base, np.diag([0.5, 1.5, 1.0]), base + 0.5 * np.eye(3)])
    covariances = {"full": full, "tied": base, "diag": np.array([[1.0, 0.8, 0.6],
                                                                 [0.5, 1.5, 1.0],
                                                                 [1.5, 1.3, 1.1]]),
                   "spherical": np.array([0.7, 1.2, 0.4])}[covariance_type]
    stacked = {"full": full, "tied": np.array([base] * 3),
               "diag": np.array([np.diag(c) for c in covariances]) if covariance_type == "diag"
               else None,
               "spherical": covariances[:, None, None] * np.eye(3)}[covariance_type]
    X = rng.normal(size=(sum(SHORT_LENGTHS), 3))
    X[1, 0] = X[2, 1] = X[2, 2] = X[6, 1] = X[12, 0] = np.nan
    X[4] = np.nan           # a wholly missing step
    X[10] = np.nan          # a wholly missing sequence of length 1
    model = GaussianHMM.from_params(START, TRANS, means, covariances,
                                    covariance_type=covariance_type)
    oracle = check_against_oracle(model, X, SHORT_LENGTHS,
                                  gaussian_log_emission(X, means, stacked))
    assert oracle["loglik"][2] == pytest.approx(0.0, abs=1e-12)


def test_gmm_hmm_equals_path_enumeration():
    rng = np.random.RandomState(2)
    K, M, D = 2, 2, 2
    weights = np.array([[0.3, 0.7], [0.6, 0.4]])
    means = rng.normal(size=(K, M, D)) * 2
    covariances = np.array([[np.eye(D) * (1 + m + k) for m in range(M)] for k in range(K)])
    covariances[0, 1, 0, 1] = covariances[0, 1, 1, 0] = 0.5
    X = rng.normal(size=(11, D)) * 2
    log_emission = np.column_stack([
        logsumexp([np.log(weights[k, m]) + stats.multivariate_normal.logpdf(
            X, means[k, m], covariances[k, m]) for m in range(M)], axis=0) for k in range(K)])
    model = GMMHMM.from_params([0.4, 0.6], [[0.8, 0.2], [0.3, 0.7]], weights, means,
                               covariances, covariance_type="full")
    check_against_oracle(model, X, [6, 5], log_emission)


def test_categorical_and_poisson_hmms_equal_path_enumeration():
    rng = np.random.RandomState(3)
    emissionprob = np.array([[0.5, 0.3, 0.2, 0.0], [0.1, 0.1, 0.4, 0.4],
                             [0.25, 0.25, 0.25, 0.25]])
    symbols = rng.randint(4, size=(16, 1))
    with np.errstate(divide="ignore"):
        log_emission = np.log(emissionprob[:, symbols[:, 0]].T)
    model = CategoricalHMM.from_params(START, TRANS, emissionprob)
    check_against_oracle(model, symbols, SHORT_LENGTHS, log_emission)

    lambdas = np.array([[0.5, 3.0], [4.0, 1.0], [2.0, 2.0]])
    counts = rng.poisson(2.0, size=(16, 2))
    log_emission = np.column_stack([stats.poisson.logpmf(counts, lam).sum(axis=1)
                                    for lam in lambdas])
    model = PoissonHMM.from_params(START, TRANS, lambdas)
    check_against_oracle(model, counts, SHORT_LENGTHS, log_emission)


# ---------------------------------------------------------------------------
# fitting: monotone objective, recovery, priors
# ---------------------------------------------------------------------------

TRUE_TRANS = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.05, 0.15, 0.8]])
TRUE_MEANS = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])


def _assert_monotone(model):
    history = model.history_
    assert history.size >= 2
    assert np.all(np.diff(history) >= -1e-10 * np.abs(history[1:])), np.diff(history).min()
    assert model.n_repairs_ == 0


def _fit(model, X, lengths=None):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # an objective decrease warns
        warnings.filterwarnings("ignore", category=UserWarning)
        return model.fit(X, lengths)


def _gaussian_sample(n_samples, seed):
    generator = GaussianHMM.from_params(
        [0.6, 0.2, 0.2], TRUE_TRANS, TRUE_MEANS,
        np.array([[[1.0, 0.3], [0.3, 0.7]], [[0.6, 0.0], [0.0, 1.2]], [[0.8, -0.2],
                                                                     [-0.2, 0.5]]]),
        covariance_type="full")
    return generator.sample(n_samples, random_state=seed)


def _match_states(fitted_means, true_means):
    """Permutation taking true states to fitted states (nearest means)."""
    return np.array([np.argmin(((fitted_means - m) ** 2).sum(axis=1)) for m in true_means])


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_gaussian_fit_is_monotone_and_recovers_parameters(covariance_type):
    X, _ = _gaussian_sample(3000, seed=0)
    model = _fit(GaussianHMM(3, covariance_type=covariance_type, n_init=2, random_state=0,
                             tol=1e-8), X, [1000, 1200, 800])
    _assert_monotone(model)
    order = _match_states(model.means_, TRUE_MEANS)
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_allclose(model.transmat_[np.ix_(order, order)], TRUE_TRANS, atol=0.05)
    np.testing.assert_allclose(model.means_[order], TRUE_MEANS, atol=0.15)


def test_categorical_fit_recovers_parameters():
    emissionprob = np.array([[0.7, 0.2, 0.05, 0.05], [0.05, 0.05, 0.2, 0.7]])
    transmat = np.array([[0.9, 0.1], [0.15, 0.85]])
    generator = CategoricalHMM.from_params([0.5, 0.5], transmat, emissionprob)
    X, _ = generator.sample(5000, random_state=1)
    model = _fit(CategoricalHMM(2, n_init=2, random_state=0, tol=1e-8), X)
    _assert_monotone(model)
    order = _match_states(model.emissionprob_, emissionprob)
    np.testing.assert_allclose(model.transmat_[np.ix_(order, order)], transmat, atol=0.05)
    np.testing.assert_allclose(model.emissionprob_[order], emissionprob, atol=0.05)


def test_poisson_and_gmm_fits_are_monotone():
    generator = PoissonHMM.from_params([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]],
                                       [[1.0, 6.0], [5.0, 0.5]])
    X, _ = generator.sample(1500, random_state=2)
    model = _fit(PoissonHMM(2, n_init=2, random_state=0), X)
    _assert_monotone(model)
    np.testing.assert_allclose(np.sort(model.lambdas_[:, 0]), [1.0, 5.0], atol=0.3)
    X, _ = _gaussian_sample(600, seed=3)
    for covariance_type in ("full", "tied", "diag", "spherical"):
        model = _fit(GMMHMM(2, 2, covariance_type=covariance_type, n_init=1, max_iter=60,
                            random_state=0), X)
        _assert_monotone(model)


def test_map_priors_monotone_log_posterior_and_exact_m_step():
    """With priors the history is the log-posterior (checked at the start
    against scipy's densities), it never decreases, and one M-step equals
    the MAP update computed from brute-force expected counts."""
    X, _ = _gaussian_sample(12, seed=4)
    lengths = [6, 6]
    start, trans = np.array([0.5, 0.3, 0.2]), TRANS
    means, variances = TRUE_MEANS + 0.3, np.full((3, 2), 1.5)
    prior_kwargs = dict(startprob_prior=[2.0, 1.0, 3.0], transmat_prior=1.5, sticky=4.0)
    model = GaussianHMM.from_params(start, trans, means, variances, covariance_type="diag",
                                    warm_start=True, max_iter=1, tol=0.0,
                                    fixed=("means", "covariances"), **prior_kwargs)
    _fit(model, X, lengths)
    log_emission = gaussian_log_emission(
        X, means, np.array([np.diag(v) for v in variances]))
    oracle = brute_force(start, trans, log_emission, lengths)
    alpha_trans = np.full((3, 3), 1.5) + 4.0 * np.eye(3)
    log_prior = stats.dirichlet.logpdf(start, [2.0, 1.0, 3.0]) + sum(
        stats.dirichlet.logpdf(row, a) for row, a in zip(trans, alpha_trans))
    assert model.history_[0] == pytest.approx(oracle["loglik"].sum() + log_prior, rel=1e-10)
    expected_start = oracle["start"] + np.array([1.0, 0.0, 2.0])
    np.testing.assert_allclose(model.startprob_, expected_start / expected_start.sum(),
                               atol=1e-10)
    expected_trans = oracle["trans"] + alpha_trans - 1.0
    np.testing.assert_allclose(model.transmat_,
                               expected_trans / expected_trans.sum(axis=1, keepdims=True),
                               atol=1e-10)
    np.testing.assert_array_equal(model.means_, means)

    X, _ = _gaussian_sample(1500, seed=5)
    for covariance_type in ("full", "diag"):
        model = _fit(GaussianHMM(3, covariance_type=covariance_type, prior="default",
                                 n_init=1, random_state=0, **prior_kwargs), X)
        _assert_monotone(model)


def test_poisson_gamma_prior_m_step_and_categorical_dirichlet_prior():
    rng = np.random.RandomState(6)
    lambdas = np.array([[0.5, 3.0], [4.0, 1.0], [2.0, 2.0]])
    counts = rng.poisson(2.0, size=(10, 2))
    prior = Gamma(3.0, 2.0)
    model = PoissonHMM.from_params(START, TRANS, lambdas, lambdas_prior=prior,
                                   warm_start=True, max_iter=1, tol=0.0)
    _fit(model, counts, [5, 5])
    log_emission = np.column_stack([stats.poisson.logpmf(counts, lam).sum(axis=1)
                                    for lam in lambdas])
    posteriors = brute_force(START, TRANS, log_emission, [5, 5])["posteriors"]
    expected = (posteriors.T @ counts + 2.0) / (posteriors.sum(axis=0)[:, None] + 2.0)
    np.testing.assert_allclose(model.lambdas_, expected, rtol=1e-10)
    log_prior = stats.gamma.logpdf(lambdas, 3.0, scale=0.5).sum()
    oracle_loglik = brute_force(START, TRANS, log_emission, [5, 5])["loglik"].sum()
    assert model.history_[0] == pytest.approx(oracle_loglik + log_prior, rel=1e-10)

    generator = CategoricalHMM.from_params([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]],
                                           [[0.6, 0.4, 0.0], [0.0, 0.3, 0.7]])
    X, _ = generator.sample(800, random_state=7)
    model = _fit(CategoricalHMM(2, emissionprob_prior=2.0, n_init=2, random_state=0), X)
    _assert_monotone(model)
    assert (model.emissionprob_ > 0).all()  # the pseudo-counts keep every symbol possible


def test_missing_data_em_is_monotone_and_reaches_a_stationary_point():
    """EM with NaN entries climbs the observed-data likelihood; at its fixed
    point the finite-difference gradient of that likelihood vanishes, which
    would fail if the expected statistics of the missing entries were wrong."""
    X, _ = _gaussian_sample(400, seed=8)
    rng = np.random.RandomState(9)
    X[rng.uniform(size=X.shape) < 0.2] = np.nan
    X[[5, 6, 100]] = np.nan
    lengths = [150, 250]
    for covariance_type in ("full", "tied", "diag", "spherical"):
        model = _fit(GaussianHMM(3, covariance_type=covariance_type, n_init=1, random_state=0,
                                 reg_covar=0.0, tol=1e-12, max_iter=3000), X, lengths)
        _assert_monotone(model)
        assert model.converged_
        if covariance_type not in ("full", "diag"):
            continue
        step = 1e-5

        def score_at(means):
            shifted = GaussianHMM.from_params(model.startprob_, model.transmat_, means,
                                              model.covariances_,
                                              covariance_type=covariance_type)
            return shifted.score(X, lengths)

        for k, d in [(0, 0), (1, 1), (2, 0)]:
            up, down = model.means_.copy(), model.means_.copy()
            up[k, d] += step
            down[k, d] -= step
            gradient = (score_at(up) - score_at(down)) / (2 * step)
            assert abs(gradient) < 1e-3, (covariance_type, k, d, gradient)


def test_nile_level_change_near_1898():
    nile = load_nile()
    X = nile.data.reshape(-1, 1)
    model = _fit(GaussianHMM(2, random_state=0), X)
    _assert_monotone(model)
    states = model.predict(X)
    changes = np.flatnonzero(np.diff(states)) + 1
    assert changes.size == 1
    assert abs(nile.years[changes[0]] - 1898) <= 1
    # the level drops: the later state has the lower mean
    assert model.means_[states[-1], 0] < model.means_[states[0], 0] - 150


def test_long_sequence_does_not_underflow():
    """10^6 steps in one sequence. With identical transition rows the states
    are independent, so the HMM likelihood is a mixture's, in closed form."""
    weights = np.array([0.3, 0.7])
    model = GaussianHMM.from_params(weights, np.array([weights, weights]), [[0.0], [2.0]],
                                    [[1.0], [0.5]])
    X = np.random.RandomState(10).normal(size=(1_000_000, 1)) * 1.5
    expected = logsumexp(np.log(weights) + np.column_stack([
        stats.norm.logpdf(X[:, 0], 0.0, 1.0), stats.norm.logpdf(X[:, 0], 2.0, np.sqrt(0.5))]),
        axis=1).sum()
    assert model.score(X) == pytest.approx(expected, rel=1e-9)
    posteriors = model.predict_proba(X[:200_000])
    assert np.isfinite(posteriors).all()
    np.testing.assert_allclose(posteriors.sum(axis=1), 1.0, atol=1e-12)


# ---------------------------------------------------------------------------
# API details
# ---------------------------------------------------------------------------


def test_fixed_parameters_are_held_and_bic_matches_hmmlearn_counting():
    X, _ = _gaussian_sample(500, seed=11)
    model = GaussianHMM.from_params([0.4, 0.3, 0.3], TRANS, TRUE_MEANS + 0.5,
                                    np.ones((3, 2)), warm_start=True, max_iter=5,
                                    fixed=("transmat", "means"))
    initial_transmat = model.transmat_.copy()
    _fit(model, X)
    np.testing.assert_array_equal(model.transmat_, initial_transmat)
    np.testing.assert_array_equal(model.means_, TRUE_MEANS + 0.5)
    assert not np.allclose(model.covariances_, 1.0)
    _assert_monotone(model)
    hmmlearn_hmm = pytest.importorskip("hmmlearn.hmm")
    free = GaussianHMM.from_params(model.startprob_, model.transmat_, model.means_,
                                   model.covariances_)
    reference = hmmlearn_hmm.GaussianHMM(3, covariance_type="diag")
    reference.startprob_, reference.transmat_ = free.startprob_, free.transmat_
    reference.means_, reference.covars_ = free.means_, free.covariances_
    reference.n_features = X.shape[1]
    assert free.bic(X) == pytest.approx(reference.bic(X), rel=1e-10)
    assert free.aic(X) == pytest.approx(reference.aic(X), rel=1e-10)
    # held-fixed parameters are not free parameters
    assert model.bic(X) == pytest.approx(free.bic(X) - (6 + 6) * np.log(len(X)), rel=1e-10)


def test_chunks_of_sequences_add_up(monkeypatch):
    """Chunks of a few sequences (many E-step calls) give the same fit as one chunk."""
    import emkit.estimators.hmm as module

    X, _ = _gaussian_sample(3000, seed=12)
    lengths = [250] * 12

    def fit():
        return _fit(GaussianHMM(3, n_init=1, max_iter=10, tol=0.0, random_state=0), X, lengths)

    one_chunk = fit()
    whole = module.SequenceData

    def small_chunks(X, lengths, row_bytes=None, labels=None):
        data = whole(X, lengths, row_bytes=row_bytes, chunk_bytes=1, labels=labels)
        assert data.bounds.size - 1 == 12  # one sequence per chunk
        return data

    monkeypatch.setattr(module, "SequenceData", small_chunks)
    many_chunks = fit()
    np.testing.assert_allclose(many_chunks.history_, one_chunk.history_, rtol=1e-10)
    np.testing.assert_allclose(many_chunks.transmat_, one_chunk.transmat_, atol=1e-10)


def test_sample_then_score_and_currstate():
    model = CategoricalHMM.from_params([1.0, 0.0], [[0.0, 1.0], [1.0, 0.0]],
                                       [[1.0, 0.0], [0.0, 1.0]])
    X, states = model.sample(7, random_state=0)
    np.testing.assert_array_equal(states, [0, 1, 0, 1, 0, 1, 0])
    np.testing.assert_array_equal(X[:, 0], states)
    assert model.score(X) == pytest.approx(0.0, abs=1e-12)
    _, states = model.sample(3, currstate=1)
    np.testing.assert_array_equal(states, [1, 0, 1])


@pytest.mark.parametrize("make, X, lengths, message", [
    (lambda: CategoricalHMM(2), np.array([[0.0], [np.nan], [1.0]]), None, "NaN"),
    (lambda: CategoricalHMM(2), np.array([[0.0], [1.5], [1.0]]), None, "integer symbols"),
    (lambda: CategoricalHMM(2), np.array([[0], [-1], [1]]), None, "non-negative"),
    (lambda: PoissonHMM(2), np.array([[1.0], [-2.0], [3.0]]), None, "negative counts"),
    (lambda: PoissonHMM(2), np.array([[1.0], [np.nan], [3.0]]), None, "NaN"),
    (lambda: GMMHMM(2, 2), np.array([[1.0], [np.nan], [3.0], [4.0], [5.0]]), None, "NaN"),
    (lambda: GaussianHMM(2), np.array([[1.0], [np.inf], [3.0]]), None, "infinity"),
    (lambda: GaussianHMM(2), np.arange(6.0)[:, None], [2, 3], "sum to 5 but X has 6"),
    (lambda: GaussianHMM(2), np.arange(6.0)[:, None], [2, 0, 4], "positive"),
    (lambda: GaussianHMM(2, fixed=("covars",)), np.arange(6.0)[:, None], None,
     "fixed may only name"),
    (lambda: GaussianHMM(2, transmat_prior=0.5), np.arange(6.0)[:, None], None,
     "transmat_prior"),
])
def test_clear_errors(make, X, lengths, message):
    with pytest.raises(ValueError, match=message):
        make().fit(X, lengths)


def test_symbol_outside_the_fitted_alphabet_is_rejected():
    model = CategoricalHMM.from_params([0.5, 0.5], [[0.5, 0.5], [0.5, 0.5]],
                                       [[0.5, 0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match="symbol 2"):
        model.predict(np.array([[0], [2]]))


# ---------------------------------------------------------------------------
# SQUAREM for GMMHMM
# ---------------------------------------------------------------------------
def _gmmhmm_sample(seed=0):
    rng = np.random.RandomState(seed)
    means = [[[0.0, 0.0], [2.0, 2.0]], [[6.0, 0.0], [8.0, -2.0]], [[0.0, 7.0], [-2.0, 9.0]]]
    truth = GMMHMM.from_params(START, TRUE_TRANS, [[0.6, 0.4]] * 3, means,
                               np.full((3, 2, 2), 1.5), covariance_type="diag")
    lengths = rng.randint(80, 200, size=12)
    return np.concatenate([truth.sample(n, random_state=rng)[0] for n in lengths]), lengths


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_gmmhmm_squarem_never_worse_and_fewer_e_steps(covariance_type):
    # From the same start (same seed, one restart) SQUAREM must end no lower
    # than plain Baum-Welch, never decrease the objective on the way, return
    # valid parameters, and do it in fewer E-steps (it extrapolates now,
    # rather than falling back to plain EM).
    X, lengths = _gmmhmm_sample()
    fits = {accelerate: _fit(GMMHMM(3, n_mix=2, covariance_type=covariance_type, n_init=1,
                                    tol=1e-10, max_iter=5000, random_state=0,
                                    accelerate=accelerate), X, lengths)
            for accelerate in ("none", "squarem")}
    plain, fast = fits["none"], fits["squarem"]
    N = X.shape[0]
    assert fast.history_[-1] >= plain.history_[-1] - 1e-6 * N
    _assert_monotone(fast)
    assert fast.n_e_steps_ < plain.n_e_steps_
    np.testing.assert_allclose(fast.weights_.sum(axis=1), 1.0)
    np.testing.assert_allclose(fast.transmat_.sum(axis=1), 1.0)
    covariances = (fast.covariances_ if covariance_type in ("full", "tied")
                   else None)
    if covariances is not None:
        assert np.all(np.linalg.eigvalsh(covariances) > 0)
    else:
        assert np.all(fast.covariances_ > 0)
    # the same optimum: the per-step objective agrees with plain EM's
    assert abs(fast.history_[-1] - plain.history_[-1]) / N < 1e-6


def test_gmmhmm_squarem_keeps_fixed_parameters():
    X, lengths = _gmmhmm_sample(1)
    start = _fit(GMMHMM(3, n_mix=2, n_init=1, max_iter=5, random_state=0), X, lengths)
    model = GMMHMM(3, n_mix=2, n_init=1, max_iter=200, tol=1e-8, warm_start=True,
                   accelerate="squarem", fixed=("weights", "means"))
    for name in ("startprob_", "transmat_", "weights_", "means_", "covariances_"):
        setattr(model, name, getattr(start, name).copy())
    model.n_features_in_ = 2
    _fit(model, X, lengths)
    np.testing.assert_array_equal(model.weights_, start.weights_)
    np.testing.assert_array_equal(model.means_, start.means_)
    _assert_monotone(model)


def test_gmmhmm_start_does_not_depend_on_the_order_of_the_sequences():
    # Within a seed the start (k-means on the stacked observations, then
    # k-means within every state) is a function of the observations, not of
    # the order in which the sequences were concatenated: every order starts
    # at the same objective and so reaches the same optimum.
    X, lengths = _gmmhmm_sample(2)
    ends = np.cumsum(lengths)
    sequences = [X[end - n:end] for end, n in zip(ends, lengths)]
    histories = []
    for order in (np.arange(lengths.size), np.random.RandomState(0).permutation(lengths.size),
                  np.arange(lengths.size)[::-1]):
        model = _fit(GMMHMM(3, n_mix=2, covariance_type="full", n_init=1, max_iter=30,
                            random_state=0),
                     np.concatenate([sequences[i] for i in order]), lengths[order])
        histories.append(model.history_)
    for history in histories[1:]:
        np.testing.assert_allclose(history[[0, -1]], histories[0][[0, -1]], rtol=1e-10)
