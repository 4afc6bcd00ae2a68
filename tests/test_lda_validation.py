"""LDA and topic tools on awkward input: progress output, empty and huge counts, dtypes.

Expected values come from scikit-learn's LatentDirichletAllocation on the same
data and seeds, or from hand counts.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.decomposition import LatentDirichletAllocation as SklearnLDA

from emkit import LatentDirichletAllocation
from emkit.topics import top_words, topic_coherence


@pytest.fixture(scope="module")
def counts():
    """40 documents over 12 words: two groups of documents using two halves of the words."""
    rng = np.random.RandomState(0)
    X = np.zeros((40, 12))
    X[:20, :6] = rng.poisson(3.0, (20, 6))
    X[20:, 6:] = rng.poisson(3.0, (20, 6))
    X += rng.poisson(0.2, X.shape)
    return X


def _fit_printing(estimator, X):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's own warnings, if any
        estimator.fit(X)
    return out.getvalue().splitlines()


_NUMBER = re.compile(r"perplexity: [0-9.]+")


# ---------------------------------------------------------------------------
# verbose and evaluate_every
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("learning_method", ["batch", "online"])
@pytest.mark.parametrize("evaluate_every", [-1, 0, 1, 2, 3])
def test_progress_lines_are_scikit_learns(counts, learning_method, evaluate_every):
    settings = dict(n_components=2, max_iter=5, learning_method=learning_method,
                    evaluate_every=evaluate_every, perp_tol=0.0, verbose=1, random_state=0)
    ours = _fit_printing(LatentDirichletAllocation(**settings), counts)
    theirs = _fit_printing(SklearnLDA(**settings), counts)
    # Same lines in the same order; only the perplexity values may differ.
    assert [_NUMBER.sub("perplexity: P", line) for line in ours] == \
        [_NUMBER.sub("perplexity: P", line) for line in theirs]
    assert len(ours) == 5


def test_batch_prints_the_perplexity_of_its_recorded_bound(counts):
    lda = LatentDirichletAllocation(2, max_iter=4, evaluate_every=2, verbose=1, random_state=0)
    lines = _fit_printing(lda, counts)
    assert lines[0] == "iteration: 1 of max_iter: 4"
    # history_[i] is the bound after iteration i (history_[0]: the start).
    for iteration in (2, 4):
        expected = np.exp(-lda.history_[iteration] / counts.sum())
        assert lines[iteration - 1] == (f"iteration: {iteration} of max_iter: 4, "
                                        f"perplexity: {expected:.4f}")
    # ... and it is the training perplexity scikit-learn prints, to 1e-3.
    sklearn_lines = _fit_printing(SklearnLDA(2, max_iter=4, evaluate_every=2, verbose=1,
                                             random_state=0), counts)
    ours = float(lines[3].rsplit(" ", 1)[1])
    theirs = float(sklearn_lines[3].rsplit(" ", 1)[1])
    assert ours == pytest.approx(theirs, rel=1e-3)


def test_silent_without_verbose(counts):
    assert _fit_printing(LatentDirichletAllocation(2, max_iter=3, evaluate_every=1,
                                                   random_state=0), counts) == []


# ---------------------------------------------------------------------------
# documents without words
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("learning_method", ["batch", "online"])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_all_zero_matrix_fits_like_scikit_learn(learning_method, as_sparse):
    Z = np.zeros((5, 4))
    X = sp.csr_matrix(Z) if as_sparse else Z
    settings = dict(n_components=3, learning_method=learning_method, evaluate_every=1,
                    random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division warnings from emkit
        ours = LatentDirichletAllocation(**settings).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn divides by the 0 word count
        theirs = SklearnLDA(**settings).fit(X)
    np.testing.assert_allclose(ours.components_, theirs.components_, rtol=1e-12)
    if learning_method == "batch":
        # No words: the topics' posterior is their prior.
        np.testing.assert_allclose(ours.components_, ours.topic_word_prior_)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), rtol=1e-12)
    # Perplexity per word of no words: +inf. scikit-learn's is exp(-bound / 0), +inf or,
    # when its bound rounds to exactly 0, NaN; emkit never returns NaN.
    assert ours.bound_ == np.inf and not np.isfinite(theirs.bound_)
    assert ours.n_iter_ == theirs.n_iter_
    with pytest.raises(ValueError, match="X .*has no words"):
        ours.perplexity(X)


def test_some_empty_documents_get_the_prior_mixture(counts):
    X = counts.copy()
    X[[3, 30]] = 0.0
    lda = LatentDirichletAllocation(2, max_iter=5, random_state=0).fit(X)
    reference = SklearnLDA(2, max_iter=5, random_state=0).fit(X)
    np.testing.assert_allclose(lda.transform(X)[[3, 30]], 0.5)
    np.testing.assert_allclose(lda.components_, reference.components_, rtol=1e-6)


# ---------------------------------------------------------------------------
# counts too large for float64
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("as_sparse", [False, True])
def test_counts_whose_bound_overflows_are_rejected_naming_x(counts, as_sparse):
    huge = counts / counts.sum() * 1.7e308
    X = sp.csr_matrix(huge) if as_sparse else huge
    for method in ("batch", "online"):
        with pytest.raises(ValueError, match=r"Input X of LatentDirichletAllocation.fit has a "
                                             r"total word count of 1.7e\+308"):
            LatentDirichletAllocation(2, learning_method=method).fit(X)
    one_entry = np.ones((3, 4))
    one_entry[1, 2] = 1.7e308
    with pytest.raises(ValueError, match="Input X of .*fit .*too large"):
        LatentDirichletAllocation(2).fit(one_entry)


def test_large_counts_below_the_limit_fit_finitely_and_like_scikit_learn(counts):
    X = counts / counts.sum() * 1e300
    lda = LatentDirichletAllocation(2, max_iter=5, random_state=0).fit(X)
    reference = SklearnLDA(2, max_iter=5, random_state=0).fit(X)
    assert np.isfinite(lda.components_).all() and np.isfinite(lda.history_).all()
    assert np.isfinite(lda.transform(X)).all() and np.isfinite(lda.score(X))
    np.testing.assert_allclose(lda.components_, reference.components_, rtol=1e-6)
    assert lda.bound_ == pytest.approx(reference.bound_, rel=1e-6)


def test_partial_fit_checks_the_counts_scaled_to_total_samples(counts):
    # 40 documents scaled to 1e6: statistics 25,000 times the counts.
    scaled = counts / counts.sum() * 1e297
    with pytest.raises(ValueError, match=r"partial_fit has a total word count of "
                                         r"2.5e\+301 \(mini-batch counts scaled"):
        LatentDirichletAllocation(2, total_samples=1e6).partial_fit(scaled)
    accepted = counts / counts.sum() * 1e290
    lda = LatentDirichletAllocation(2, total_samples=1e6, random_state=0).partial_fit(accepted)
    assert np.isfinite(lda.components_).all()
    assert np.isfinite(lda.transform(accepted)).all()


# ---------------------------------------------------------------------------
# dtypes and complex input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("learning_method", ["batch", "online"])
def test_float32_counts_give_float32_topics_rounded_from_float64(counts, learning_method):
    X32 = counts.astype(np.float32)
    lda32 = LatentDirichletAllocation(2, max_iter=3, learning_method=learning_method,
                                      random_state=0).fit(X32)
    lda64 = LatentDirichletAllocation(2, max_iter=3, learning_method=learning_method,
                                      random_state=0).fit(counts)
    reference = SklearnLDA(2, max_iter=3, learning_method=learning_method,
                           random_state=0).fit(X32)
    for name in ("components_", "exp_dirichlet_component_"):
        assert getattr(lda32, name).dtype == getattr(reference, name).dtype == np.float32
        # Computed in float64: the float32 attributes are the float64 fit rounded.
        np.testing.assert_array_equal(getattr(lda32, name),
                                      getattr(lda64, name).astype(np.float32))
    assert lda32.transform(X32).dtype == reference.transform(X32).dtype == np.float32
    assert lda32.transform(counts).dtype == np.float64
    # partial_fit keeps the first call's dtype, as scikit-learn does.
    assert lda32.partial_fit(counts).components_.dtype == np.float32


def test_complex_counts_are_rejected_naming_x(counts):
    with pytest.raises(ValueError, match="Input X of LatentDirichletAllocation.fit has "
                                         "complex values"):
        LatentDirichletAllocation(2).fit(counts + 1j)
    lda = LatentDirichletAllocation(2, max_iter=1, random_state=0).fit(counts)
    with pytest.raises(ValueError, match="X of LatentDirichletAllocation.transform has "
                                         "complex"):
        lda.transform(sp.csr_matrix(counts * (1 + 0j)))


# Five documents over four words, and two topics (as in test_lda.py): UMass
# coherence of the top 3 words, counted by hand there.
HAND_X = np.array([[2, 1, 0, 0], [1, 1, 3, 0], [4, 0, 0, 0], [0, 0, 1, 2], [0, 0, 0, 1]],
                  dtype=float)
HAND_TOPICS = np.array([[4.0, 3.0, 2.0, 1.0], [2.0, 1.0, 3.0, 4.0]])
HAND_UMASS = [np.log(2 / 3), np.log(1 / 2)]


@pytest.mark.parametrize("convert", [
    lambda X: X.tolist(),
    lambda X: [tuple(row) for row in X.astype(int)],
    lambda X: sp.coo_matrix(X),
    lambda X: X.astype(np.float32),
], ids=["list of lists", "list of int tuples", "coo", "float32"])
def test_topic_coherence_takes_any_2d_counts(convert):
    result = topic_coherence(HAND_TOPICS, convert(HAND_X), top_n=3)
    np.testing.assert_allclose(result.per_topic, HAND_UMASS)
    result = topic_coherence(HAND_TOPICS.tolist(), HAND_X, top_n=3)
    np.testing.assert_allclose(result.per_topic, HAND_UMASS)


@pytest.mark.parametrize("bad, match", [
    (HAND_X * (1 + 1j), "X has complex values"),
    (sp.csr_matrix(HAND_X * 1j), "X has complex values"),
    ([[1 + 2j, 0, 0, 0]] * 5, "X has complex values"),
    (np.ones((5, 4, 2)), r"X must be a 2-D matrix of word counts .*dim 3"),
    (HAND_X[0], r"X must be a 2-D matrix of word counts .*1D"),
    ([["a", "b", "c", "d"]], r"X must be a 2-D matrix of word counts"),
    (-HAND_X, "X must hold finite, non-negative word counts"),
])
def test_topic_coherence_rejects_bad_x_naming_it(bad, match):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # never a ComplexWarning: rejected before converting
        with pytest.raises(ValueError, match=match):
            topic_coherence(HAND_TOPICS, bad, top_n=3)


def test_complex_topic_weights_are_rejected():
    for function in (lambda m: topic_coherence(m, HAND_X), lambda m: top_words(m, "abcd")):
        with pytest.raises(ValueError, match="model .*has complex values"):
            function(HAND_TOPICS * 1j)


def test_topic_coherence_does_not_modify_x():
    X = HAND_X.copy()
    S = sp.csr_matrix(HAND_X)
    topic_coherence(HAND_TOPICS, X, top_n=3)
    topic_coherence(HAND_TOPICS, S, top_n=3)
    np.testing.assert_array_equal(X, HAND_X)
    np.testing.assert_array_equal(S.toarray(), HAND_X)
