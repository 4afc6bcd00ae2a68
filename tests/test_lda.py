"""Tests for LDA by variational EM: emkit.LatentDirichletAllocation and its pieces.

Every number is checked against something computed independently:
scikit-learn's LatentDirichletAllocation on the same start (fit, online fit,
partial_fit, perplexity, score, transform), scipy's optimiser on the Dirichlet
likelihood (the Minka M-step), hand-counted co-occurrences (coherence), the
generating parameters of simulated corpora, and the formulas of the online
step size.
"""

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment, minimize
from scipy.special import psi
from scipy.stats import dirichlet
from sklearn.base import clone
from sklearn.decomposition import LatentDirichletAllocation as SklearnLDA

from emkit._engine.em import commit_e_step, expectation, fit_em
from emkit._engine.online import blend, online_em_step, scale_stats, step_size
from emkit.datasets import load_reuters
from emkit.estimators.lda import LatentDirichletAllocation
from emkit.models.lda import (DocumentData, LDAModel, dirichlet_mean_log_likelihood,
                              fit_dirichlet_prior)
from emkit.topics import top_words, topic_coherence

# Both libraries run every document's E-step to its fixed point, so that
# scikit-learn's random starts and its less accurate digamma do not matter.
TIGHT = dict(mean_change_tol=1e-10, max_doc_update_iter=3000)


def simulate_corpus(n_docs, n_words, alpha, *, eta=0.05, mean_len=60, seed=0):
    """A corpus drawn from the LDA generative model: (CSR counts, topics, theta)."""
    rng = np.random.default_rng(seed)
    alpha = np.asarray(alpha, dtype=float)
    topics = rng.dirichlet(np.full(n_words, eta), size=alpha.size)
    theta = rng.dirichlet(alpha, size=n_docs)
    lengths = rng.poisson(mean_len, n_docs)
    counts = np.array([rng.multinomial(n, p) for n, p in zip(lengths, theta @ topics)],
                      dtype=np.float64)
    return sp.csr_matrix(counts), topics, theta


@pytest.fixture(scope="module")
def small_corpus():
    X, _, _ = simulate_corpus(120, 150, np.full(4, 0.3))
    return X


@pytest.fixture(scope="module")
def reuters():
    return load_reuters()


def assert_nondecreasing(history):
    steps = np.diff(history)
    noise = 1e-10 * np.abs(history[1:])
    assert np.all(steps >= -noise), f"bound fell by {-steps.min():.3g}"


# ---------------------------------------------------------------------------
# batch mode: monotone bound
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("options", [
    dict(doc_init="random"),
    dict(doc_init="warm"),
    dict(doc_init="random", learn_doc_topic_prior=True),
    dict(doc_init="warm", learn_doc_topic_prior=True, doc_topic_prior=0.5),
])
def test_batch_bound_never_decreases(reuters, options):
    lda = LatentDirichletAllocation(n_components=8, max_iter=12, random_state=1,
                                    mean_change_tol=1e-8, max_doc_update_iter=1000,
                                    **options).fit(reuters.data)
    assert lda.history_.shape == (13,)
    assert lda.history_[-1] > lda.history_[0]
    assert_nondecreasing(lda.history_)


def test_fresh_starts_that_would_lower_the_bound_are_replaced_by_warm_starts(small_corpus):
    # One coordinate-ascent sweep from a random start leaves gamma far from its
    # fixed point. Near convergence such fresh E-steps can score below the last
    # bound, and scikit-learn's path (fresh starts, no guard) lets it drop;
    # emkit's guard replaces just enough documents by warm-started ones.
    def run(guard_bound):
        model = LDAModel(0.25, max_doc_update_iter=1, doc_init="random",
                         guard_bound=guard_bound)
        start = {"topic_word": np.random.RandomState(0).gamma(100, 0.01, (4, 150)),
                 "doc_topic_prior": np.full(4, 0.25)}
        data = DocumentData.from_csr(small_corpus, 4)
        result = fit_em(model, data, [start], max_iter=40, tol=0.0,
                        random_state=np.random.RandomState(0))
        return data, np.asarray(result.history)

    _, unguarded = run(False)
    assert np.diff(unguarded).min() < -1e-3  # the premise: fresh starts can lower it
    data, history = run(True)
    assert data.n_guarded > 0
    assert 0 < data.n_docs_guarded < data.n_guarded * small_corpus.shape[0]
    assert_nondecreasing(history)


# ---------------------------------------------------------------------------
# agreement with scikit-learn
# ---------------------------------------------------------------------------


def test_batch_fit_follows_sklearn_from_the_same_seed(small_corpus):
    options = dict(n_components=4, random_state=0, max_iter=5, **TIGHT)
    ours = LatentDirichletAllocation(**options).fit(small_corpus)
    theirs = SklearnLDA(**options).fit(small_corpus)
    np.testing.assert_allclose(ours.components_, theirs.components_, rtol=1e-6)
    np.testing.assert_allclose(ours.exp_dirichlet_component_,
                               theirs.exp_dirichlet_component_, rtol=1e-6)
    assert ours.bound_ == pytest.approx(theirs.bound_, rel=1e-8)
    assert (ours.n_iter_, ours.n_batch_iter_) == (theirs.n_iter_, theirs.n_batch_iter_)


def test_online_fit_and_partial_fit_follow_sklearn(small_corpus):
    options = dict(n_components=4, random_state=0, learning_method="online", max_iter=2,
                   batch_size=32, **TIGHT)
    ours = LatentDirichletAllocation(**options).fit(small_corpus)
    theirs = SklearnLDA(**options).fit(small_corpus)
    np.testing.assert_allclose(ours.components_, theirs.components_, rtol=1e-6)
    assert ours.n_batch_iter_ == theirs.n_batch_iter_ == 9
    # the final perplexity, documents run from ones as scikit-learn does
    assert ours.bound_ == pytest.approx(theirs.bound_, rel=1e-6)

    options = dict(n_components=4, random_state=0, total_samples=500, batch_size=50,
                   learning_offset=5.0, learning_decay=0.6, **TIGHT)
    ours = LatentDirichletAllocation(**options)
    theirs = SklearnLDA(**options)
    for batch in (small_corpus, small_corpus[:60]):
        ours.partial_fit(batch)
        theirs.partial_fit(batch)
    np.testing.assert_allclose(ours.components_, theirs.components_, rtol=1e-6)
    assert ours.n_batch_iter_ == theirs.n_batch_iter_ == 6


def test_perplexity_score_transform_equal_sklearn_given_same_parameters(reuters):
    X = reuters.data
    theirs = SklearnLDA(n_components=10, max_iter=2, random_state=0).fit(X)
    theirs.set_params(**TIGHT)
    ours = LatentDirichletAllocation.from_params(
        theirs.components_, theirs.doc_topic_prior_, theirs.topic_word_prior_, **TIGHT)
    held_out = X[::4]
    assert ours.perplexity(held_out) == pytest.approx(theirs.perplexity(held_out), rel=1e-6)
    assert ours.score(held_out) == pytest.approx(theirs.score(held_out), rel=1e-6)
    np.testing.assert_allclose(ours.transform(held_out), theirs.transform(held_out),
                               atol=1e-6)


# ---------------------------------------------------------------------------
# the learned document-topic prior (Minka)
# ---------------------------------------------------------------------------


def test_minka_update_maximises_dirichlet_likelihood_of_known_thetas():
    rng = np.random.default_rng(3)
    true_alpha = np.array([2.0, 0.7, 0.3, 0.1, 1.2])
    theta = np.clip(rng.dirichlet(true_alpha, size=4000), 1e-300, None)
    theta /= theta.sum(axis=1, keepdims=True)
    mean_log_theta = np.log(theta).mean(axis=0)
    fitted = fit_dirichlet_prior(mean_log_theta, np.ones(5))

    # Independent: scipy's optimiser on scipy's Dirichlet log-density.
    def negative_loglik(log_alpha):
        return -dirichlet.logpdf(theta.T, np.exp(log_alpha)).mean()

    reference = np.exp(minimize(negative_loglik, np.zeros(5), method="BFGS",
                                options={"gtol": 1e-10}).x)
    np.testing.assert_allclose(fitted, reference, rtol=1e-4)
    # ... and the maximiser is a stationary point: psi(sum a) - psi(a_k) + mean log theta_k = 0.
    np.testing.assert_allclose(psi(fitted.sum()) - psi(fitted) + mean_log_theta, 0, atol=1e-9)
    # From a far start too, never lowering the likelihood on the way.
    far = fit_dirichlet_prior(mean_log_theta, np.full(5, 50.0))
    np.testing.assert_allclose(far, fitted, rtol=1e-8)
    assert dirichlet_mean_log_likelihood(fitted, mean_log_theta) >= \
        dirichlet_mean_log_likelihood(reference, mean_log_theta) - 1e-12


def test_learned_prior_recovers_asymmetric_alpha_of_simulated_corpus():
    true_alpha = np.array([1.0, 0.5, 0.25, 0.1])
    X, topics, _ = simulate_corpus(600, 300, true_alpha, eta=0.02, mean_len=150, seed=1)
    lda = LatentDirichletAllocation(4, learn_doc_topic_prior=True, max_iter=60, tol=1e-6,
                                    random_state=0).fit(X)
    fitted_topics = lda.components_ / lda.components_.sum(axis=1, keepdims=True)
    hellinger = np.sqrt(0.5 * ((np.sqrt(fitted_topics)[:, None] - np.sqrt(topics)[None]) ** 2)
                        .sum(axis=2))
    rows, cols = linear_sum_assignment(hellinger)
    assert hellinger[rows, cols].max() < 0.15
    assert lda.doc_topic_prior_.shape == (4,)
    np.testing.assert_allclose(lda.doc_topic_prior_[rows], true_alpha[cols], rtol=0.25)


def test_online_prior_statistics_round_trip_to_alpha():
    # The statistics the online blend starts from must map back to the prior
    # they came from (the Dirichlet likelihood equations).
    model = LDAModel(0.1, learn_doc_topic_prior=True)
    params = {"topic_word": np.full((3, 5), 2.0), "doc_topic_prior": np.array([0.2, 0.9, 3.0])}
    stats = model.stats_from_params(params, 1000.0)
    np.testing.assert_allclose(stats["topic_word"], 1.9)
    np.testing.assert_allclose(model.m_step(stats, {"doc_topic_prior": np.ones(3)})
                               ["doc_topic_prior"], [0.2, 0.9, 3.0], rtol=1e-9)


# ---------------------------------------------------------------------------
# the pure E-step and SQUAREM
# ---------------------------------------------------------------------------


def _start(X, K, seed=0):
    return {"topic_word": np.random.RandomState(seed).gamma(100, 0.01, (K, X.shape[1])),
            "doc_topic_prior": np.full(K, 1.0 / K)}


def test_e_step_is_pure_and_its_state_is_committed_only_on_request(small_corpus):
    model = LDAModel(0.25, doc_init="random")
    data = DocumentData.from_csr(small_corpus, 4)
    params = _start(small_corpus, 4)
    stats, doc_part = expectation(model, params, data, rng=np.random.RandomState(0))
    assert not data.has_gamma.any()  # nothing written before the commit
    # The same randomness gives the same E-step: no hidden state in the model.
    again = DocumentData.from_csr(small_corpus, 4)
    stats_again, doc_part_again = expectation(model, params, again,
                                              rng=np.random.RandomState(0))
    assert doc_part == doc_part_again
    np.testing.assert_array_equal(stats["topic_word"], stats_again["topic_word"])
    commit_e_step(data)
    assert data.has_gamma.all()
    # the committed gamma is scikit-learn's E-step from the same draw
    gamma, _ = model.infer(params, DocumentData.from_csr(
        small_corpus, 4, np.random.RandomState(0).gamma(100.0, 0.01, (120, 4))))
    np.testing.assert_allclose(data.gamma, gamma, rtol=1e-12)
    np.testing.assert_allclose(data.objective_share.sum(),
                               doc_part + model.log_prior(params), rtol=1e-12)


def test_rejected_squarem_proposals_leave_no_document_state_behind(small_corpus):
    # Every proposal of this model is far worse than the EM point (its topics'
    # words reversed), so SQUAREM must stay on the plain EM path: equal
    # bounds after every EM update, which holds only if the rejected
    # proposals' gamma (the next warm start) was never committed.
    class ReversedProposals(LDAModel):
        def from_unconstrained(self, vector, template):
            params = super().from_unconstrained(vector, template)
            return {**params, "topic_word": params["topic_word"][:, ::-1].copy()}

    def run(model, accelerate):
        return fit_em(model, DocumentData.from_csr(small_corpus, 4), [_start(small_corpus, 4)],
                      max_iter=24, tol=0.0, accelerate=accelerate,
                      random_state=np.random.RandomState(0))

    options = dict(doc_init="warm", mean_change_tol=1e-6, max_doc_update_iter=500)
    plain = run(LDAModel(0.25, **options), "none")
    fast = run(ReversedProposals(0.25, **options), "squarem")
    assert fast.n_e_steps > len(fast.history)  # proposals were evaluated ...
    n = len(fast.history)
    np.testing.assert_allclose(fast.history, plain.history[:n], rtol=1e-13)  # ... and left out


@pytest.mark.parametrize("learn_doc_topic_prior", [False, True])
def test_squarem_lda_never_worse_and_monotone(learn_doc_topic_prior):
    X, _, _ = simulate_corpus(300, 200, np.array([1.0, 0.5, 0.25, 0.1]), eta=0.05,
                              mean_len=80, seed=2)
    fits = {}
    for accelerate in ("none", "squarem"):
        fits[accelerate] = LatentDirichletAllocation(
            4, learn_doc_topic_prior=learn_doc_topic_prior, doc_init="warm", max_iter=3000,
            tol=1e-9, mean_change_tol=1e-8, max_doc_update_iter=2000, random_state=0,
            accelerate=accelerate).fit(X)
    plain, fast = fits["none"], fits["squarem"]
    assert fast.converged_
    # the same start: SQUAREM ends no lower than plain EM (1e-6 relative)
    assert fast.history_[-1] >= plain.history_[-1] - 1e-6 * abs(plain.history_[-1])
    assert_nondecreasing(fast.history_)
    assert fast.bound_ == pytest.approx(np.exp(-fast.history_[-1] / X.sum()), rel=1e-12)
    # a valid model: positive topic pseudo-counts and prior
    assert np.all(fast.components_ > 0) and np.all(np.asarray(fast.doc_topic_prior_) > 0)
    if learn_doc_topic_prior:
        assert fast.n_e_steps_ < plain.n_e_steps_
    with pytest.raises(ValueError, match="accelerate='squarem' needs learning_method='batch'"):
        LatentDirichletAllocation(4, learning_method="online", accelerate="squarem").fit(X)


# ---------------------------------------------------------------------------
# the generic online-EM pieces
# ---------------------------------------------------------------------------


def test_step_size_and_blend_formulas():
    assert step_size(1, 10.0, 0.7) == pytest.approx(math.exp(-0.7 * math.log(11.0)))
    assert step_size(5, 0.0, 1.0) == pytest.approx(0.2)
    assert step_size(3, 1.0, 0.0) == 1.0
    with pytest.raises(ValueError, match="offset"):
        step_size(0, 0.0, 0.7)
    old = {"a": np.array([1.0, 3.0]), "n": 2.0}
    new = {"a": np.array([5.0, -1.0]), "n": 6.0}
    mixed = blend(old, new, 0.25)
    np.testing.assert_allclose(mixed["a"], [2.0, 2.0])
    assert mixed["n"] == pytest.approx(3.0)
    np.testing.assert_allclose(old["a"], [1.0, 3.0])  # inputs untouched
    np.testing.assert_allclose(scale_stats(new, 0.5)["a"], [2.5, -0.5])


def test_online_em_step_is_a_stochastic_approximation_of_a_mean():
    # A model whose M-step returns the mean: online EM with rho_t = 1/t is
    # then exactly the running mean of the mini-batch means (Robbins-Monro).
    class MeanModel:
        def e_step_plan(self, params):
            return None

        def e_step(self, plan, x):
            return {"sum": x.sum(), "n": float(x.size)}, 0.0

        def m_step(self, stats, params):
            return {"mean": stats["sum"] / stats["n"]}

        def stats_from_params(self, params, total_weight):
            return {"sum": params["mean"] * total_weight, "n": total_weight}

    class Batch:
        def __init__(self, x):
            self.x, self.total_weight = x, float(x.size)

        def chunks(self):
            yield (self.x,)

    batches = [np.array([1.0, 3.0]), np.array([10.0]), np.array([4.0, 5.0, 6.0])]
    params = {"mean": 123.0}
    for t, x in enumerate(batches, start=1):
        params, stats, _ = online_em_step(MeanModel(), params, Batch(x),
                                          rho=step_size(t, 0.0, 1.0), total_weight=100.0)
    assert params["mean"] == pytest.approx(np.mean([2.0, 10.0, 5.0]))
    assert stats["n"] == pytest.approx(100.0)


# ---------------------------------------------------------------------------
# estimator behaviour and validation
# ---------------------------------------------------------------------------


def test_dense_and_sparse_input_agree_and_input_is_not_modified(small_corpus):
    X = small_corpus.astype(np.float32)
    X.indices = X.indices.astype(np.int32)
    snapshot = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    dense = X.toarray()
    from_sparse = LatentDirichletAllocation(4, max_iter=3, random_state=0).fit(X)
    from_dense = LatentDirichletAllocation(4, max_iter=3, random_state=0).fit(dense)
    np.testing.assert_allclose(from_sparse.components_, from_dense.components_, rtol=1e-12)
    for before, after in zip(snapshot, (X.data, X.indices, X.indptr)):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(dense, X.toarray())
    proportions = from_sparse.fit_transform(X)
    # float32 in, float32 out (scikit-learn's rule): rows sum to 1 within float32 rounding.
    assert proportions.dtype == np.float32 and from_sparse.components_.dtype == np.float32
    np.testing.assert_allclose(proportions.sum(axis=1), 1.0, rtol=1e-6)
    assert from_sparse.get_feature_names_out()[0] == "latentdirichletallocation0"
    assert clone(from_sparse).get_params() == from_sparse.get_params()


def test_results_do_not_depend_on_thread_count(small_corpus):
    one = LatentDirichletAllocation(4, max_iter=3, random_state=0, n_jobs=1).fit(small_corpus)
    two = LatentDirichletAllocation(4, max_iter=3, random_state=0, n_jobs=2).fit(small_corpus)
    np.testing.assert_array_equal(one.components_, two.components_)


def test_online_fit_with_evaluation_stops_on_perplexity(reuters):
    lda = LatentDirichletAllocation(5, learning_method="online", max_iter=50,
                                    evaluate_every=1, perp_tol=50.0, random_state=0)
    lda.fit(reuters.data)
    assert lda.converged_ and lda.n_iter_ < 50
    assert lda.history_.shape == (lda.n_iter_ + 1,)
    assert lda.bound_ == pytest.approx(np.exp(-lda.history_[-1] / reuters.data.sum()))
    # scikit-learn's rule: stop at the first evaluation whose perplexity moved
    # by less than perp_tol (the final record re-scores the same parameters)
    perplexity = np.exp(-lda.history_[:-1] / reuters.data.sum())
    changes = np.abs(np.diff(perplexity))
    assert changes[-1] < 50.0 and np.all(changes[:-1] >= 50.0)
    assert lda.history_[-1] == pytest.approx(lda.history_[-2], rel=1e-12)


@pytest.mark.parametrize("bad, match", [
    (np.array([[1.0, -2.0], [0.0, 3.0]]), r"X .*negative.*non-negative word counts"),
    (sp.csr_matrix(np.array([[1.0, np.nan], [0.0, 3.0]])), r"X .*NaN.*Replace"),
    (np.array([1.0, 2.0, 3.0]), r"X .*2-D of shape \(n_documents, n_words\)"),
    (np.array([["a", "b"], ["c", "d"]]), r"X .*only numbers.*CountVectorizer"),
])
def test_invalid_input_raises_clear_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        LatentDirichletAllocation(2).fit(bad)


def test_wrong_vocabulary_size_and_bad_parameters(small_corpus):
    lda = LatentDirichletAllocation(4, max_iter=1, random_state=0).fit(small_corpus)
    with pytest.raises(ValueError, match="X has 10 features.*same vectorizer"):
        lda.transform(np.ones((2, 10)))
    with pytest.raises(ValueError, match=r"doc_topic_prior .*shape \(4,\)"):
        LatentDirichletAllocation(4, doc_topic_prior=[0.1, 0.2]).fit(small_corpus)
    with pytest.raises(ValueError, match="learning_method"):
        LatentDirichletAllocation(4, learning_method="stochastic").fit(small_corpus)


def test_fixed_asymmetric_prior_is_kept_and_scalar_prior_stays_scalar(small_corpus):
    prior = np.array([0.5, 0.1, 0.1, 0.1])
    fixed = LatentDirichletAllocation(4, doc_topic_prior=prior, max_iter=2,
                                      random_state=0).fit(small_corpus)
    np.testing.assert_array_equal(fixed.doc_topic_prior_, prior)
    scalar = LatentDirichletAllocation(4, max_iter=2, random_state=0).fit(small_corpus)
    assert scalar.doc_topic_prior_ == 0.25 and scalar.topic_word_prior_ == 0.25


# ---------------------------------------------------------------------------
# topics: top words and coherence (hand-counted)
# ---------------------------------------------------------------------------

# Five documents over four words (presence only; counts do not matter):
#   d0 {w0, w1}, d1 {w0, w1, w2}, d2 {w0}, d3 {w2, w3}, d4 {w3}
# Document frequencies D(w0)=3, D(w1)=2, D(w2)=2, D(w3)=2; co-occurrence
# D(w0,w1)=2, D(w0,w2)=1, D(w1,w2)=1, D(w2,w3)=1, D(w0,w3)=D(w1,w3)=0.
HAND_X = np.array([[2, 1, 0, 0], [1, 1, 3, 0], [4, 0, 0, 0], [0, 0, 1, 2], [0, 0, 0, 1]],
                  dtype=float)
# Topic A ranks w0 > w1 > w2 > w3, topic B ranks w3 > w2 > w0 > w1.
HAND_TOPICS = np.array([[4.0, 3.0, 2.0, 1.0], [2.0, 1.0, 3.0, 4.0]])


def test_top_words():
    assert top_words(HAND_TOPICS, ["w0", "w1", "w2", "w3"], n=3) == [
        ["w0", "w1", "w2"], ["w3", "w2", "w0"]]
    with pytest.raises(ValueError, match="vocabulary has 3 words"):
        top_words(HAND_TOPICS, ["a", "b", "c"])


@pytest.mark.parametrize("as_sparse", [False, True])
def test_umass_coherence_hand_counted(as_sparse):
    X = sp.csr_matrix(HAND_X) if as_sparse else HAND_X
    per_topic, mean, *_ = topic_coherence(HAND_TOPICS, X, top_n=3, measure="umass")
    # A: log((D(w1,w0)+1)/D(w0)) + log((D(w2,w0)+1)/D(w0)) + log((D(w2,w1)+1)/D(w1))
    topic_a = np.log(3 / 3) + np.log(2 / 3) + np.log(2 / 2)
    # B: log((D(w2,w3)+1)/D(w3)) + log((D(w0,w3)+1)/D(w3)) + log((D(w0,w2)+1)/D(w2))
    topic_b = np.log(2 / 2) + np.log(1 / 2) + np.log(2 / 2)
    np.testing.assert_allclose(per_topic, [topic_a, topic_b])
    assert mean == pytest.approx((topic_a + topic_b) / 2)


def test_npmi_coherence_hand_counted():
    def npmi(joint, first, second):
        return np.log(joint / (first * second)) / -np.log(joint)

    result = topic_coherence(HAND_TOPICS, sp.csr_matrix(HAND_X), top_n=3, measure="npmi")
    topic_a = np.mean([npmi(2 / 5, 3 / 5, 2 / 5), npmi(1 / 5, 3 / 5, 2 / 5),
                       npmi(1 / 5, 2 / 5, 2 / 5)])
    topic_b = np.mean([npmi(1 / 5, 2 / 5, 2 / 5), -1.0, npmi(1 / 5, 2 / 5, 3 / 5)])
    np.testing.assert_allclose(result.per_topic, [topic_a, topic_b])
    assert result.top_word_indices.tolist() == [[0, 1, 2], [3, 2, 0]]


def test_fitted_reuters_topics_are_more_coherent_than_random_word_sets(reuters):
    lda = LatentDirichletAllocation(10, max_iter=5, random_state=0).fit(reuters.data)
    fitted = topic_coherence(lda, reuters.data, measure="npmi").mean
    shuffled = np.random.default_rng(0).permuted(lda.components_, axis=1)
    assert fitted > topic_coherence(shuffled, reuters.data, measure="npmi").mean + 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        words = top_words(lda, reuters.vocabulary, n=5)
    assert len(words) == 10 and all(len(topic) == 5 for topic in words)


def test_passes_scikit_learn_estimator_checks():
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(
            LatentDirichletAllocation(n_components=3, max_iter=2, random_state=0),
            on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results
              if r["status"] == "failed"]
    assert not failed
