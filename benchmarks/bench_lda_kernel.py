"""Benchmark: emkit's compiled LDA E-step vs scikit-learn's.

One full E-step (all documents, K topics, same exp(E[log beta]), alpha and
initial gamma) with ``emkit.kernels.lda.doc_e_step`` and with
``sklearn.decomposition._lda._update_doc_distribution``.  Compile time is
excluded (a warm-up call runs first).  Corpora: the Reuters sample shipped in
``src/emkit/datasets/data/reuters`` (395 docs, V=4258) and a synthetic LDA
corpus of 20,000 documents.

Run:  PYTHONPATH=src python benchmarks/bench_lda_kernel.py [--quick]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numba
import numpy as np
import scipy.sparse as sp
from sklearn.decomposition._lda import _update_doc_distribution

from emkit.kernels.lda import dirichlet_expectation_2d, doc_e_step

REUTERS = (
    Path(__file__).resolve().parents[1]
    / "src/emkit/datasets/data/reuters/reuters.ldac"
)


def read_ldac(path, n_words=None):
    """Parse LDA-C lines ``n id:count id:count ...`` into a CSR matrix."""
    indptr, indices, data = [0], [], []
    with open(path) as fh:
        for line in fh:
            parts = line.split()
            if not parts:
                continue
            for tok in parts[1:]:
                w, c = tok.split(":")
                indices.append(int(w))
                data.append(float(c))
            indptr.append(len(indices))
    indices = np.asarray(indices, dtype=np.int64)
    if n_words is None:
        n_words = int(indices.max()) + 1
    X = sp.csr_matrix(
        (np.asarray(data), indices, np.asarray(indptr)),
        shape=(len(indptr) - 1, n_words),
    )
    X.sum_duplicates()
    return X


def synthetic_corpus(n_docs, n_words, n_topics, mean_len, seed=0):
    """Sample a bag-of-words corpus from the LDA generative model."""
    rng = np.random.default_rng(seed)
    topics = rng.dirichlet(np.full(n_words, 0.05), size=n_topics)
    theta = rng.dirichlet(np.full(n_topics, 0.2), size=n_docs)
    lengths = np.maximum(rng.poisson(mean_len, size=n_docs), 1)
    doc = np.repeat(np.arange(n_docs), lengths)
    cum_theta = np.cumsum(theta, axis=1)
    z = (rng.random(doc.size)[:, None] > cum_theta[doc]).sum(axis=1)
    z = np.minimum(z, n_topics - 1)
    word = np.empty(doc.size, dtype=np.int64)
    cum_topics = np.cumsum(topics, axis=1)
    for k in range(n_topics):
        m = z == k
        word[m] = np.searchsorted(cum_topics[k], rng.random(m.sum()) * cum_topics[k, -1])
    word = np.minimum(word, n_words - 1)
    X = sp.coo_matrix((np.ones(doc.size), (doc, word)), shape=(n_docs, n_words)).tocsr()
    X.sum_duplicates()
    return X


def bench(name, X, n_topics, seed=0, repeat_sk=1, repeat=3):
    n_docs, n_words = X.shape
    rng = np.random.RandomState(seed)
    lam = rng.gamma(100.0, 0.01, (n_topics, n_words))  # sklearn's init of components_
    exp_elog_beta = np.exp(dirichlet_expectation_2d(lam))
    alpha = 1.0 / n_topics
    gamma_init = np.random.RandomState(seed + 1).gamma(100.0, 0.01, (n_docs, n_topics))

    def run_sk():
        return _update_doc_distribution(
            X, exp_elog_beta, alpha, 100, 1e-3, True, np.random.RandomState(seed + 1)
        )

    def run_emkit():
        return doc_e_step(
            X.indptr, X.indices, X.data, exp_elog_beta,
            np.full(n_topics, alpha), gamma_init, 100, 1e-3,
        )

    run_emkit()  # warm-up: compile (or load the cache); not timed
    t_sk = min(_timeit(run_sk) for _ in range(repeat_sk))
    n_thr = numba.get_num_threads()
    t_em = min(_timeit(run_emkit) for _ in range(repeat))
    numba.set_num_threads(1)
    try:
        t_em1 = min(_timeit(run_emkit) for _ in range(repeat))
    finally:
        numba.set_num_threads(n_thr)

    g_sk, s_sk = run_sk()
    g, s, n_iter = run_emkit()
    rel_g = np.max(np.abs(g - g_sk) / np.abs(g_sk))
    print(
        f"{name}: {n_docs} docs, V={n_words}, nnz={X.nnz}, K={n_topics}, "
        f"mean iters/doc={n_iter.mean():.1f}"
    )
    print(f"  sklearn _update_doc_distribution : {t_sk:9.4f} s")
    print(f"  emkit doc_e_step ({n_thr} threads)   : {t_em:9.4f} s   "
          f"speed-up x{t_sk / t_em:.1f}")
    print(f"  emkit doc_e_step (1 thread)      : {t_em1:9.4f} s   "
          f"speed-up x{t_sk / t_em1:.1f}")
    print(f"  max rel |gamma - gamma_sklearn| = {rel_g:.1e} (accurate digamma)")
    return t_sk, t_em, t_em1


def _timeit(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="2,000 synthetic docs")
    ap.add_argument("-k", "--topics", type=int, default=10)
    args = ap.parse_args()
    bench("reuters", read_ldac(REUTERS, 4258), args.topics, repeat_sk=3)
    n = 2000 if args.quick else 20000
    bench("synthetic", synthetic_corpus(n, 5000, args.topics, 120), args.topics)


if __name__ == "__main__":
    main()
