"""Tests for the compiled LDA variational E-step (emkit.kernels.lda)."""

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import psi
from sklearn.decomposition import LatentDirichletAllocation
from sklearn.decomposition._lda import _update_doc_distribution

from emkit.kernels import lda
from emkit.kernels.lda import (
    _digamma,
    digamma,
    dirichlet_expectation_2d,
    doc_bound,
    doc_e_step,
    topic_bound,
    variational_bound_terms,
)

# ---------------------------------------------------------------------------
# fixtures / helpers
# ---------------------------------------------------------------------------


def make_corpus(n_docs=150, n_words=300, n_topics=6, mean_len=40, seed=0, empty=()):
    """Small corpus sampled from the LDA generative model (CSR, float64)."""
    rng = np.random.default_rng(seed)
    topics = rng.dirichlet(np.full(n_words, 0.1), size=n_topics)
    theta = rng.dirichlet(np.full(n_topics, 0.3), size=n_docs)
    rows = []
    for d in range(n_docs):
        n = 0 if d in empty else max(1, rng.poisson(mean_len))
        rows.append(rng.multinomial(n, theta[d] @ topics))
    X = sp.csr_matrix(np.array(rows, dtype=np.float64))
    X.sort_indices()
    return X


def model_params(X, n_topics, seed=0):
    rng = np.random.RandomState(seed)
    lam = rng.gamma(100.0, 0.01, (n_topics, X.shape[1])) + rng.gamma(
        0.5, 2.0, (n_topics, X.shape[1])
    )
    exp_elog_beta = np.exp(dirichlet_expectation_2d(lam))
    return lam, exp_elog_beta


def reference_e_step(X, exp_elog_beta, alpha, gamma_init, max_iter, tol):
    """Straight numpy transcription of sklearn's loop, accurate scipy psi,
    vector alpha; returns gamma, full expected counts, iterations."""
    n_docs = X.shape[0]
    alpha = np.broadcast_to(np.asarray(alpha, float), (exp_elog_beta.shape[0],))
    eps = np.finfo(np.float64).eps
    gamma = np.empty_like(gamma_init)
    sstats = np.zeros_like(exp_elog_beta)
    n_iter = np.zeros(n_docs, dtype=int)
    for d in range(n_docs):
        ids = X.indices[X.indptr[d] : X.indptr[d + 1]]
        cnts = X.data[X.indptr[d] : X.indptr[d + 1]]
        g = gamma_init[d].copy()
        et = np.exp(psi(g) - psi(g.sum()))
        B = exp_elog_beta[:, ids]
        for _ in range(max_iter):
            n_iter[d] += 1
            last = g
            g = et * ((cnts / (et @ B + eps)) @ B.T) + alpha
            et = np.exp(psi(g) - psi(g.sum()))
            if np.abs(last - g).mean() < tol:
                break
        gamma[d] = g
        sstats[:, ids] += np.outer(et, cnts / (et @ B + eps))
    return gamma, sstats * exp_elog_beta, n_iter


def run(X, *args, **kw):
    return doc_e_step(X.indptr, X.indices, X.data, *args, **kw)


def rel(a, b):
    return np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))


# ---------------------------------------------------------------------------
# digamma / Dirichlet expectation
# ---------------------------------------------------------------------------


def test_digamma_accuracy_wide_range():
    x = np.concatenate(
        [
            np.logspace(-6, 6, 20001),
            np.linspace(1e-3, 30.0, 20001),
            np.linspace(1.40, 1.52, 2001),  # around the root x0 = 1.4616...
        ]
    )
    ref = psi(x)
    ours = digamma(x)
    # ~1e-12 relative; near the root only absolute accuracy is meaningful
    assert np.all(np.abs(ours - ref) <= 1e-12 * np.abs(ref) + 1e-14)
    far = np.abs(ref) > 1e-2
    assert rel(ours[far], ref[far]) < 1e-12
    # scalar njit function is callable from Python too
    for v in (1e-6, 0.3, 1.4616321449683622, 7.9, 8.0, 123.4, 1e6):
        assert _digamma(v) == pytest.approx(psi(v), rel=1e-12, abs=1e-14)


def test_digamma_special_values():
    vals = np.array([0.0, np.inf, 1e-300, 1e300])
    np.testing.assert_allclose(digamma(vals), psi(vals), rtol=1e-14)
    assert np.isnan(_digamma(-1.0)) and np.isnan(_digamma(np.nan))


def test_dirichlet_expectation_2d_vs_scipy():
    rng = np.random.default_rng(1)
    a = np.exp(rng.uniform(np.log(1e-4), np.log(1e4), size=(50, 9)))
    ref = psi(a) - psi(a.sum(axis=1))[:, None]
    out = dirichlet_expectation_2d(a)
    assert out.shape == a.shape and out.dtype == np.float64
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


def test_dirichlet_expectation_2d_sklearn_mode_matches_sklearn():
    from sklearn.decomposition._online_lda_fast import (
        _dirichlet_expectation_2d as sk_dirichlet_expectation_2d,
    )

    a = np.random.default_rng(2).gamma(0.5, 2.0, size=(40, 7)) + 1e-3
    np.testing.assert_allclose(
        dirichlet_expectation_2d(a, sklearn_digamma=True),
        sk_dirichlet_expectation_2d(a),
        rtol=1e-14,
        atol=1e-14,
    )


# ---------------------------------------------------------------------------
# E-step
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus():
    X = make_corpus(n_docs=150, n_words=300, n_topics=6, empty=(4, 77))
    lam, exp_elog_beta = model_params(X, 6)
    return X, lam, exp_elog_beta


@pytest.mark.parametrize("alpha", [0.1, 1.0 / 6])
def test_parity_with_sklearn_update_doc_distribution(corpus, alpha):
    X, _, exp_elog_beta = corpus
    n_docs, K = X.shape[0], exp_elog_beta.shape[0]
    seed = 7
    # sklearn draws gamma_init = random_state.gamma(100., 0.01, (n, K))
    gamma_init = np.random.RandomState(seed).gamma(100.0, 0.01, (n_docs, K))
    g_sk, s_sk = _update_doc_distribution(
        X, exp_elog_beta, alpha, 100, 1e-3, True, np.random.RandomState(seed)
    )
    s_sk = s_sk * exp_elog_beta  # sklearn applies this factor later (M-step)

    # compatibility mode (sklearn's psi): equal up to rounding
    g, s, n_iter = run(
        X, exp_elog_beta, np.full(K, alpha), gamma_init, 100, 1e-3,
        sklearn_digamma=True,
    )
    assert rel(g, g_sk) < 1e-10
    assert rel(s, s_sk) < 1e-10
    assert n_iter.dtype.kind == "i" and n_iter.shape == (n_docs,)

    # default (accurate psi): differences only from sklearn's ~3e-9 psi error
    g2, s2, _ = run(X, exp_elog_beta, np.full(K, alpha), gamma_init, 100, 1e-3)
    assert rel(g2, g_sk) < 1e-4
    assert np.max(np.abs(s2 - s_sk)) < 1e-4 * np.max(s_sk)


def test_matches_reference_with_accurate_digamma_and_asymmetric_prior(corpus):
    X, _, exp_elog_beta = corpus
    K = exp_elog_beta.shape[0]
    alpha = np.linspace(0.05, 0.8, K)
    gamma_init = np.random.RandomState(3).gamma(100.0, 0.01, (X.shape[0], K))
    g_ref, s_ref, it_ref = reference_e_step(X, exp_elog_beta, alpha, gamma_init, 60, 1e-4)
    g, s, it = run(X, exp_elog_beta, alpha, gamma_init, max_iter=60, mean_change_tol=1e-4)
    assert rel(g, g_ref) < 1e-9
    assert np.max(np.abs(s - s_ref)) < 1e-9 * np.max(s_ref)
    np.testing.assert_array_equal(it, it_ref)


def test_sstats_are_expected_counts(corpus):
    X, _, exp_elog_beta = corpus
    K = exp_elog_beta.shape[0]
    g, s, _ = run(X, exp_elog_beta, 0.2, np.ones((X.shape[0], K)))
    # sum_k phi_dwk = 1, so the expected counts of a word add up to its count
    np.testing.assert_allclose(s.sum(axis=0), np.asarray(X.sum(axis=0)).ravel(), rtol=1e-12)
    assert s.shape == exp_elog_beta.shape and np.all(s >= 0)


def test_empty_documents_get_prior():
    X = make_corpus(n_docs=20, n_words=50, n_topics=4, empty=(0, 5, 19))
    _, exp_elog_beta = model_params(X, 4)
    alpha = np.array([0.1, 0.2, 0.3, 0.4])
    g, s, it = run(X, exp_elog_beta, alpha, np.random.RandomState(0).gamma(100.0, 0.01, (20, 4)))
    for d in (0, 5, 19):
        np.testing.assert_array_equal(g[d], alpha)
    g_ref, s_ref, _ = reference_e_step(X, exp_elog_beta, alpha,
                                       np.random.RandomState(0).gamma(100.0, 0.01, (20, 4)),
                                       100, 1e-3)
    assert rel(g, g_ref) < 1e-9

    # corpus of only empty documents, and a corpus with no documents
    Z = sp.csr_matrix((3, 50))
    g, s, it = run(Z, exp_elog_beta, alpha, np.ones((3, 4)))
    np.testing.assert_array_equal(g, np.tile(alpha, (3, 1)))
    assert not s.any()
    g, s, it = run(sp.csr_matrix((0, 50)), exp_elog_beta, alpha, np.ones((0, 4)))
    assert g.shape == (0, 4) and s.shape == (4, 50) and it.shape == (0,)


def test_max_iter_zero_and_no_sstats(corpus):
    X, _, exp_elog_beta = corpus
    K = exp_elog_beta.shape[0]
    g0 = np.random.RandomState(1).gamma(100.0, 0.01, (X.shape[0], K))
    g, s, it = run(X, exp_elog_beta, 0.1, g0, max_iter=0)
    np.testing.assert_array_equal(g, g0)
    assert not it.any()
    g1, s1, _ = run(X, exp_elog_beta, 0.1, g0)
    g2, s2, _ = run(X, exp_elog_beta, 0.1, g0, compute_sstats=False)
    assert s2 is None
    np.testing.assert_array_equal(g1, g2)
    # gamma_init=None means ones (sklearn's random_state=None)
    g3, _, _ = run(X, exp_elog_beta, 0.1, None)
    g4, _, _ = run(X, exp_elog_beta, 0.1, np.ones_like(g0))
    np.testing.assert_array_equal(g3, g4)


def test_int32_indices_and_input_validation(corpus):
    X, _, exp_elog_beta = corpus
    K = exp_elog_beta.shape[0]
    g0 = np.ones((X.shape[0], K))
    a = doc_e_step(X.indptr.astype(np.int32), X.indices.astype(np.int32), X.data,
                   exp_elog_beta, 0.1, g0)
    b = run(X, exp_elog_beta, 0.1, g0)
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError):
        run(X, exp_elog_beta, 0.1, np.ones((X.shape[0], K + 1)))
    with pytest.raises(ValueError):
        run(X, exp_elog_beta, np.ones(K + 1), g0)
    with pytest.raises(ValueError):
        run(X, exp_elog_beta[:, :10], 0.1, g0)  # word index out of range


def test_deterministic_and_thread_count_invariant(corpus):
    X = make_corpus(n_docs=400, n_words=200, n_topics=5, seed=5, empty=(3,))
    _, exp_elog_beta = model_params(X, 5, seed=2)
    g0 = np.random.RandomState(4).gamma(100.0, 0.01, (X.shape[0], 5))
    alpha = np.full(5, 0.2)
    elog_beta = np.log(exp_elog_beta)
    r1 = run(X, exp_elog_beta, alpha, g0)
    r2 = run(X, exp_elog_beta, alpha, g0)
    b1 = doc_bound(X.indptr, X.indices, X.data, r1[0], elog_beta, alpha)
    for a, b in zip(r1, r2):
        np.testing.assert_array_equal(a, b)
    n_max = numba.config.NUMBA_NUM_THREADS
    old = numba.get_num_threads()
    try:
        outs = []
        for nt in sorted({1, min(2, n_max), n_max}):
            numba.set_num_threads(nt)
            r = run(X, exp_elog_beta, alpha, g0)
            outs.append((r, doc_bound(X.indptr, X.indices, X.data, r[0], elog_beta, alpha)))
    finally:
        numba.set_num_threads(old)
    for r, b in outs:
        for a, c in zip(r1, r):
            np.testing.assert_array_equal(a, c)
        assert b == b1


# ---------------------------------------------------------------------------
# evidence lower bound
# ---------------------------------------------------------------------------


def sklearn_bound(X, gamma, lam, alpha, eta):
    m = LatentDirichletAllocation(
        n_components=lam.shape[0], doc_topic_prior=alpha, topic_word_prior=eta
    )
    m.components_ = lam
    m.doc_topic_prior_ = alpha
    m.topic_word_prior_ = eta
    m.n_components = lam.shape[0]
    return m._approx_bound(X, gamma, sub_sampling=False)


@pytest.mark.parametrize("alpha,eta", [(0.1, 0.05), (1.0 / 6, 1.0 / 6)])
def test_bound_parity_with_sklearn(corpus, alpha, eta):
    X, lam, exp_elog_beta = corpus
    K = lam.shape[0]
    g, _, _ = run(X, exp_elog_beta, alpha, np.ones((X.shape[0], K)))
    ref = sklearn_bound(X, g, lam, alpha, eta)
    d_part, t_part = variational_bound_terms(
        X.indptr, X.indices, X.data, g, lam, np.full(K, alpha), eta
    )
    assert abs(d_part + t_part - ref) <= 1e-8 * abs(ref)
    # scalar priors accepted too
    elog_beta = dirichlet_expectation_2d(lam)
    total = doc_bound(X.indptr, X.indices, X.data, g, elog_beta, alpha) + topic_bound(lam, eta)
    assert abs(total - ref) <= 1e-8 * abs(ref)


def test_doc_bound_is_additive_over_minibatches(corpus):
    X, lam, exp_elog_beta = corpus
    K = lam.shape[0]
    alpha = np.linspace(0.05, 0.5, K)  # asymmetric prior
    g, _, _ = run(X, exp_elog_beta, alpha, np.ones((X.shape[0], K)))
    elog_beta = dirichlet_expectation_2d(lam)
    whole = doc_bound(X.indptr, X.indices, X.data, g, elog_beta, alpha)
    parts = 0.0
    for lo, hi in [(0, 37), (37, 100), (100, X.shape[0])]:
        B = X[lo:hi]
        parts += doc_bound(B.indptr, B.indices, B.data, g[lo:hi], elog_beta, alpha)
    assert parts == pytest.approx(whole, rel=1e-12)
    per = doc_bound(X.indptr, X.indices, X.data, g, elog_beta, alpha, per_doc=True)
    assert per.shape == (X.shape[0],) and per.sum() == pytest.approx(whole, rel=1e-12)

    # asymmetric alpha: check against a direct numpy evaluation
    from scipy.special import gammaln, logsumexp

    et = psi(g) - psi(g.sum(1))[:, None]
    ll = 0.0
    for d in range(X.shape[0]):
        ids = X.indices[X.indptr[d] : X.indptr[d + 1]]
        cnts = X.data[X.indptr[d] : X.indptr[d + 1]]
        ll += cnts @ logsumexp(et[d][:, None] + elog_beta[:, ids], axis=0)
    ll += np.sum((alpha - g) * et) + np.sum(gammaln(g) - gammaln(alpha))
    ll += np.sum(gammaln(alpha.sum()) - gammaln(g.sum(1)))
    assert whole == pytest.approx(ll, rel=1e-11)


def test_doc_bound_when_exp_elog_beta_underflows():
    # Words whose E[log beta] is below about -745 in every topic (tiny lambda,
    # e.g. topic_word_prior=1e-4 and an unused word) make exp(E[log beta])
    # underflow to 0; the bound must still be the log-sum-exp value.
    from scipy.special import logsumexp

    rng = np.random.default_rng(5)
    K, V = 3, 6
    elog_beta = rng.normal(-3.0, 1.0, (K, V))
    elog_beta[:, 2] = [-900.0, -905.0, -1000.0]  # underflows in every topic
    elog_beta[0, 4] = -800.0  # underflows in one topic only
    X = sp.csr_matrix(np.array([[1.0, 0, 2.0, 0, 1.0, 0], [0, 3.0, 1.0, 1.0, 0, 2.0]]))
    g = rng.uniform(0.5, 5.0, (2, K))
    alpha = np.array([0.3, 0.2, 0.1])
    per = doc_bound(X.indptr, X.indices, X.data, g, elog_beta, alpha, per_doc=True)
    from scipy.special import gammaln

    et = psi(g) - psi(g.sum(1))[:, None]
    for d in range(2):
        ids = X.indices[X.indptr[d] : X.indptr[d + 1]]
        cnts = X.data[X.indptr[d] : X.indptr[d + 1]]
        ref = cnts @ logsumexp(et[d][:, None] + elog_beta[:, ids], axis=0)
        ref += np.sum((alpha - g[d]) * et[d]) + np.sum(gammaln(g[d]) - gammaln(alpha))
        ref += gammaln(alpha.sum()) - gammaln(g[d].sum())
        assert np.isfinite(per[d]) and per[d] == pytest.approx(ref, rel=1e-12)


def test_module_exports():
    for name in lda.__all__:
        assert callable(getattr(lda, name))
