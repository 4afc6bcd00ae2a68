"""HMM bad input is named, and models built from attributes work (issue 8).

Numbers are checked against hmmlearn (the peer) with the same parameters.
"""

import time

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from emkit import GMMHMM, CategoricalHMM, GaussianHMM, PoissonHMM
from emkit.compat import hmmlearn as compat

hmmlearn_hmm = pytest.importorskip("hmmlearn.hmm")

START = np.array([0.5, 0.3, 0.2])
TRANS = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7]])
MEANS = np.array([[0.0, 0.0], [4.0, 1.0], [-3.0, 5.0]])
COVARIANCES = {
    "spherical": np.array([0.5, 1.0, 2.0]),
    "diag": np.array([[0.5, 1.0], [1.5, 0.7], [2.0, 0.3]]),
    "full": np.array([[[1.0, 0.3], [0.3, 0.5]], [[2.0, -0.4], [-0.4, 1.0]],
                      [[0.7, 0.0], [0.0, 1.5]]]),
    "tied": np.array([[1.0, 0.3], [0.3, 0.5]]),
}


def _data(n=120, seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(n, 2) + MEANS[rng.randint(3, size=n)]


# ---------------------------------------------------------------------------
# from_params: negative / non-PD covariances and NaN means
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("covariance_type, bad", [
    ("spherical", np.array([0.5, -1.0, 2.0])),
    ("diag", np.array([[0.5, 1.0], [-1.0, 0.7], [2.0, 0.3]])),
    ("full", np.array([[[1.0, 2.0], [2.0, 1.0]]] * 3)),        # eigenvalues 3 and -1
    ("tied", np.array([[1.0, 2.0], [2.0, 1.0]])),
    ("full", np.array([[[1.0, 0.5], [0.0, 1.0]]] * 3)),        # asymmetric
])
def test_gaussian_hmm_from_params_rejects_invalid_covariances(covariance_type, bad):
    with pytest.raises(ValueError, match="covariances"):
        GaussianHMM.from_params(START, TRANS, MEANS, bad, covariance_type)


def test_minus_one_variance_is_an_error_not_a_tiny_variance():
    with pytest.raises(ValueError, match="covariances: .*should be positive"):
        GaussianHMM.from_params([1.0], [[1.0]], [[0.0]], [-1.0], "spherical")


@pytest.mark.parametrize("covariance_type, covariances", [
    ("spherical", -np.ones((3, 2))),
    ("diag", -np.ones((3, 2, 2))),
    ("full", np.tile([[1.0, 2.0], [2.0, 1.0]], (3, 2, 1, 1))),
    ("tied", np.tile([[1.0, 2.0], [2.0, 1.0]], (3, 1, 1))),
])
def test_gmmhmm_from_params_rejects_invalid_covariances(covariance_type, covariances):
    weights = np.full((3, 2), 0.5)
    means = np.stack([MEANS, MEANS + 1.0], axis=1)
    with pytest.raises(ValueError, match="covariances"):
        GMMHMM.from_params(START, TRANS, weights, means, covariances, covariance_type)


def test_from_params_rejects_nan_means():
    means = MEANS.copy()
    means[1, 0] = np.nan
    with pytest.raises(ValueError, match="means must be finite"):
        GaussianHMM.from_params(START, TRANS, means, COVARIANCES["diag"], "diag")
    with pytest.raises(ValueError, match="means must be finite"):
        GMMHMM.from_params(START, TRANS, np.ones((3, 1)), means[:, None, :],
                           COVARIANCES["diag"][:, None, :], "diag")


# ---------------------------------------------------------------------------
# bad data
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("estimator, X", [
    (CategoricalHMM(1000, n_init=1), np.random.RandomState(0).randint(3, size=(50, 1))),
    (PoissonHMM(1000, n_init=1), np.random.RandomState(0).poisson(3, size=(50, 2))),
])
def test_more_states_than_samples_is_named(estimator, X):
    with pytest.raises(ValueError, match="X has 50 samples but n_components=1000"):
        estimator.fit(X)


@pytest.mark.parametrize("estimator", [CategoricalHMM(2, n_init=1), PoissonHMM(2, n_init=1),
                                       GaussianHMM(2, n_init=1), GMMHMM(2, n_init=1)])
def test_complex_input_is_rejected_not_truncated(estimator):
    X = np.array([[0], [1], [1 + 1j], [2]] * 5)
    with pytest.raises(ValueError, match="complex"):
        estimator.fit(X)
    estimator.fit(X.real.astype(int))
    with pytest.raises(ValueError, match="complex"):
        estimator.score(X)


def test_all_nan_data_names_x():
    with pytest.raises(ValueError, match="Input X has no observed value in feature"):
        GaussianHMM(2, n_init=1).fit(np.full((20, 2), np.nan))
    X = _data()
    X[:, 1] = np.nan  # one never-observed feature is as unfittable
    with pytest.raises(ValueError, match=r"feature\(s\) \[1\]"):
        GaussianHMM(2, n_init=1).fit(X)


def test_huge_symbol_is_rejected_before_allocating():
    X = np.array([[0], [1], [10 ** 9], [2]] * 5)
    started = time.perf_counter()
    with pytest.raises(ValueError, match=r"largest symbol in X .* n_features"):
        CategoricalHMM(2, n_init=1).fit(X)
    with pytest.raises(ValueError, match="from n_features"):
        CategoricalHMM(2, n_features=10 ** 9, n_init=1).fit(X[X[:, 0] < 3])
    assert time.perf_counter() - started < 5.0  # nothing of 10^9 entries was touched


@pytest.mark.parametrize("lengths", [
    [2 ** 62, 2 ** 62, 2 ** 62, 2 ** 62 + 10],   # int64 sum wraps around to 10
    np.array([2 ** 63 - 1, 2 ** 63 - 1, 12], dtype=np.int64),
    [1e30, 5],
])
def test_lengths_whose_sum_overflows_are_rejected(lengths):
    X = _data(10)
    with pytest.raises(ValueError, match="lengths contains a sequence length"):
        GaussianHMM(1, n_init=1).fit(X, lengths)
    model = GaussianHMM.from_params([1.0], [[1.0]], [[0.0, 0.0]], [1.0], "spherical")
    with pytest.raises(ValueError, match="lengths"):
        model.score(X, lengths)


@pytest.mark.parametrize("cls", [GaussianHMM, GMMHMM, CategoricalHMM, PoissonHMM])
@pytest.mark.parametrize("value", [True, 2.5])
def test_n_components_must_be_an_integer(cls, value):
    X = np.random.RandomState(0).poisson(2, size=(30, 1))
    with pytest.raises(TypeError, match="n_components must be an integer"):
        cls(value).fit(X)


# ---------------------------------------------------------------------------
# hmmlearn's names in the core estimators
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, emkit_name", [
    ("n_iter", "max_iter"), ("min_covar", "reg_covar"), ("params", "fixed"),
    ("implementation", "drop it"), ("covars_prior", "NormalInverseWishart"),
])
def test_hmmlearn_keywords_name_the_emkit_equivalent(name, emkit_name):
    with pytest.raises(TypeError, match=f"{name}.*{emkit_name}.*emkit.compat.hmmlearn"):
        GaussianHMM(2, **{name: 1})


def test_hmmlearn_letter_codes_and_positional_arguments_are_named():
    with pytest.raises(ValueError, match="letter code.*emkit.compat.hmmlearn"):
        GaussianHMM(2, init_params="stmc")
    model = CategoricalHMM(2).set_params(init_params="ste")
    with pytest.raises(ValueError, match="letter code"):
        model.fit(np.array([[0], [1], [2]] * 4))
    with pytest.raises(TypeError, match="positionally.*covariance_type='full'"):
        GaussianHMM(3, "full")
    with pytest.raises(TypeError, match="lambdas_prior=emkit.priors.Gamma"):
        PoissonHMM(2, lambdas_weight=1.0)


# ---------------------------------------------------------------------------
# models built by assigning attributes, against hmmlearn
# ---------------------------------------------------------------------------
def _assign(model, **attributes):
    for name, value in attributes.items():
        setattr(model, name, value)
    return model


@pytest.mark.parametrize("covariance_type", ["spherical", "diag", "full", "tied"])
def test_gaussian_hmm_built_from_attributes_matches_hmmlearn(covariance_type):
    X = _data()
    attributes = dict(startprob_=START, transmat_=TRANS, means_=MEANS,
                      covars_=COVARIANCES[covariance_type])
    ours = _assign(GaussianHMM(3, covariance_type=covariance_type), **attributes)
    theirs = _assign(hmmlearn_hmm.GaussianHMM(3, covariance_type=covariance_type),
                     **attributes)
    np.testing.assert_allclose(ours.score(X), theirs.score(X), rtol=1e-10)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-10)
    for algorithm in ("viterbi", "map"):
        ours_log_prob, ours_states = ours.decode(X, algorithm=algorithm)
        theirs_log_prob, theirs_states = theirs.decode(X, algorithm=algorithm)
        np.testing.assert_array_equal(ours_states, theirs_states)
        if algorithm == "viterbi":
            np.testing.assert_allclose(ours_log_prob, theirs_log_prob, rtol=1e-10)
    # "map": hmmlearn returns the sum of the chosen posteriors, emkit (as
    # documented) the sum of their logarithms
    posteriors = theirs.predict_proba(X)
    np.testing.assert_allclose(ours.decode(X, algorithm="map")[0],
                               np.log(posteriors.max(axis=1)).sum(), rtol=1e-10)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.covars_, theirs.covars_, rtol=1e-12)   # (K, D, D)
    sample, states = ours.sample(50, random_state=0)
    assert sample.shape == (50, 2) and states.shape == (50,)


def test_gmmhmm_categorical_poisson_built_from_attributes_match_hmmlearn():
    rng = np.random.RandomState(1)
    X = _data()
    weights = np.array([[0.3, 0.7], [0.5, 0.5], [0.9, 0.1]])
    means = np.stack([MEANS, MEANS + 1.0], axis=1)
    covariances = np.stack([COVARIANCES["diag"], 2 * COVARIANCES["diag"]], axis=1)
    attributes = dict(startprob_=START, transmat_=TRANS, weights_=weights, means_=means,
                      covars_=covariances)
    ours = _assign(GMMHMM(3, 2), **attributes)
    theirs = _assign(hmmlearn_hmm.GMMHMM(3, 2), **attributes)
    np.testing.assert_allclose(ours.score(X), theirs.score(X), rtol=1e-10)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))

    symbols = rng.randint(4, size=(80, 1))
    emissionprob = rng.dirichlet(np.ones(4), size=3)
    ours = _assign(CategoricalHMM(3), startprob_=START, transmat_=TRANS,
                   emissionprob_=emissionprob)
    theirs = _assign(hmmlearn_hmm.CategoricalHMM(3), startprob_=START, transmat_=TRANS,
                     emissionprob_=emissionprob)
    np.testing.assert_allclose(ours.score(symbols), theirs.score(symbols), rtol=1e-10)
    np.testing.assert_array_equal(ours.predict(symbols), theirs.predict(symbols))

    counts = rng.poisson(3, size=(80, 2))
    lambdas = np.array([[1.0, 2.0], [3.0, 4.0], [6.0, 0.5]])
    ours = _assign(PoissonHMM(3), startprob_=START, transmat_=TRANS, lambdas_=lambdas)
    theirs = _assign(hmmlearn_hmm.PoissonHMM(3), startprob_=START, transmat_=TRANS,
                     lambdas_=lambdas)
    np.testing.assert_allclose(ours.score(counts), theirs.score(counts), rtol=1e-10)


@pytest.mark.parametrize("covariance_type", ["spherical", "diag", "tied"])
def test_covars_accepts_hmmlearns_full_matrices_and_round_trips(covariance_type):
    model = _assign(GaussianHMM(3, covariance_type=covariance_type), startprob_=START,
                    transmat_=TRANS, means_=MEANS, covars_=COVARIANCES[covariance_type])
    full = model.covars_
    assert full.shape == (3, 2, 2)
    model.covars_ = full                       # what the getter gives is accepted back
    np.testing.assert_allclose(model.covariances_, COVARIANCES[covariance_type])
    with pytest.raises(ValueError, match="covars_"):
        model.covars_ = COVARIANCES["full"]    # not of this structure


def test_spherical_covars_in_hmmlearns_other_layouts():
    model = GaussianHMM(2, covariance_type="spherical")
    model.covars_ = np.array([[[[4.0]]], [[[3.0]]]])      # hmmlearn's issue 385
    np.testing.assert_array_equal(model.covariances_, [4.0, 3.0])
    model.covars_ = np.array([[2.0, 2.0, 2.0], [5.0, 5.0, 5.0]])  # hmmlearn's tiling
    np.testing.assert_array_equal(model.covariances_, [2.0, 5.0])


def test_derived_state_follows_the_attributes():
    X = _data()
    model = GaussianHMM(3, covariance_type="full", n_init=1, random_state=0).fit(X)
    model.means_ = MEANS
    model.covars_ = COVARIANCES["full"]
    model.startprob_, model.transmat_ = START, TRANS
    reference = GaussianHMM.from_params(START, TRANS, MEANS, COVARIANCES["full"], "full")
    assert model.score(X) == reference.score(X)
    np.testing.assert_allclose(model.precisions_cholesky_, reference.precisions_cholesky_)


@pytest.mark.parametrize("name, value, message", [
    ("transmat_", TRANS * 2, "transmat_ must sum to 1"),
    ("startprob_", START[:2], r"startprob_ must have shape \(3,\)"),
    ("means_", MEANS[:, :1], r"means_ must have shape \(3, 1\)|features|covariances_"),
    ("covars_", -COVARIANCES["diag"], "covariances_ .*should be positive"),
])
def test_invalid_attributes_are_named_when_used(name, value, message):
    model = _assign(GaussianHMM(3), startprob_=START, transmat_=TRANS, means_=MEANS,
                    covars_=COVARIANCES["diag"])
    setattr(model, name, value)
    with pytest.raises(ValueError, match=message):
        model.score(_data())
    with pytest.raises(ValueError, match=message):
        model.sample(5)


def test_missing_attribute_is_named():
    model = _assign(GaussianHMM(3), startprob_=START, transmat_=TRANS, means_=MEANS)
    with pytest.raises(NotFittedError, match="has no covariances_"):
        model.score(_data())


def test_assigned_arrays_are_not_mutated():
    covariances = COVARIANCES["full"].copy()
    model = _assign(GaussianHMM(3, covariance_type="full"), startprob_=START,
                    transmat_=TRANS, means_=MEANS, covars_=covariances)
    model.score(_data())
    covariances[0, 0, 0] = 99.0
    assert model.covariances_[0, 0, 0] == 1.0


# ---------------------------------------------------------------------------
# the compatibility module translates hmmlearn's protocol
# ---------------------------------------------------------------------------
def test_compat_params_letters_hold_parameters_and_init_params_keeps_attributes():
    X = _data(300)
    model = compat.GaussianHMM(3, "diag", n_iter=20, params="mc", init_params="mc",
                               random_state=0)
    model.startprob_, model.transmat_ = START, TRANS
    model.fit(X)
    np.testing.assert_array_equal(model.startprob_, START)
    np.testing.assert_array_equal(model.transmat_, TRANS)
    assert model.fixed == ("startprob", "transmat")
    assert model.max_iter == 20 and model.n_iter_ <= 20
    # init_params="" starts from the attributes: the first objective is their score
    start = _assign(compat.GaussianHMM(3, "diag", n_iter=1, init_params=""),
                    startprob_=START, transmat_=TRANS, means_=MEANS,
                    covars_=COVARIANCES["diag"])
    # The objective also holds emkit's reg_covar penalty, -1/2 sum_k tr(Psi P_k)
    # with Psi = reg_covar * diag(local variances) (exact, documented).
    from emkit.components.gaussian import feature_scales

    psi = start.reg_covar * feature_scales(X).local_variance
    expected = start.score(X) - 0.5 * np.sum(psi / COVARIANCES["diag"])
    start.fit(X)
    assert start.history_[0] == pytest.approx(expected, rel=1e-12)
    assert list(start.monitor_.history) == list(start.history_)


def test_compat_tol_is_on_the_total_log_likelihood():
    X = _data(400)
    model = compat.GaussianHMM(3, n_iter=500, tol=1e-2, random_state=0).fit(X)
    assert model.converged_ and model.monitor_.converged
    assert model.history_[-1] - model.history_[-2] < 1e-2


def test_compat_rejects_priors_it_does_not_translate():
    X = _data()
    with pytest.raises(ValueError, match="NormalInverseWishart"):
        compat.GaussianHMM(3, means_weight=2.0).fit(X)
    with pytest.raises(ValueError, match="Gamma"):
        compat.PoissonHMM(2, lambdas_prior=1.0).fit(np.ones((10, 1), dtype=int))
