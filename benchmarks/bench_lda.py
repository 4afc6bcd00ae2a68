"""Benchmark: emkit's LDA against scikit-learn's and gensim's.

Two corpora, each split once into a fixed 80% training / 20% held-out part:

1. Reuters (395 documents, 4,258 words; ``emkit.datasets.load_reuters``),
   10 topics, 10 passes.
2. A synthetic corpus drawn from an LDA model with known topics (default
   20,000 documents, 5,000 words, 20 topics), 10 passes; the fitted topics are
   matched to the true ones (Hungarian algorithm on the Hellinger distance).

Quality is held-out perplexity computed by ONE function,
:func:`heldout_perplexity`, from each model's topic-word pseudo-counts
(``lambda``: emkit's and scikit-learn's ``components_``, gensim's
``state.get_lambda()``) and its document-topic prior: every held-out
document's ``gamma`` is run to its fixed point (mean change < 1e-8) and the
documents' part of the variational bound is divided by the number of words.
The topic-word term of the bound is left out: it does not belong to the
held-out documents (scikit-learn's ``perplexity`` adds it).

Timings are the fastest of ``--repeat`` fits (compilation excluded: a
warm-up fit runs first). scikit-learn runs with its default ``n_jobs=None``
(one core); emkit is timed on one thread (equal cores) and on all threads.
gensim runs in a subprocess (``_gensim_lda.py``) with the interpreter given
by ``--gensim-python`` (default: this one), so it can live in its own
virtual environment; if it cannot be imported, it is skipped with a message.

Run:  PYTHONPATH=src python benchmarks/bench_lda.py [--quick] [--gensim-python PATH]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from sklearn.decomposition import LatentDirichletAllocation as SklearnLDA

from emkit.datasets import load_reuters
from emkit.estimators.lda import LatentDirichletAllocation
from emkit.kernels.lda import dirichlet_expectation_2d, doc_bound, doc_e_step

GENSIM_SCRIPT = Path(__file__).resolve().with_name("_gensim_lda.py")


# ---------------------------------------------------------------------------
# the shared quality measure
# ---------------------------------------------------------------------------


def heldout_perplexity(topic_word, doc_topic_prior, X_test):
    """Per-word perplexity of held-out documents under given topics and prior.

    Parameters
    ----------
    topic_word : ndarray of shape (K, V)
        Variational Dirichlet parameters ``lambda`` of the topics.
    doc_topic_prior : float or ndarray of shape (K,)
    X_test : csr_matrix of shape (n_docs, V)

    Returns
    -------
    float
        ``exp(-sum_d bound_d / n_words)`` with ``bound_d`` the documents' part
        of the ELBO at the converged ``gamma_d`` (started at ones).
    """
    topic_word = np.asarray(topic_word, dtype=np.float64)
    K = topic_word.shape[0]
    alpha = np.broadcast_to(np.asarray(doc_topic_prior, dtype=np.float64), (K,)).copy()
    elog_beta = dirichlet_expectation_2d(topic_word)
    gamma, _, _ = doc_e_step(X_test.indptr, X_test.indices, X_test.data, np.exp(elog_beta),
                             alpha, None, max_iter=5000, mean_change_tol=1e-8,
                             compute_sstats=False)
    bound = doc_bound(X_test.indptr, X_test.indices, X_test.data, gamma, elog_beta, alpha)
    return float(np.exp(-bound / X_test.sum()))


def split(X, fraction=0.2, seed=0):
    """A fixed random ``fraction`` of the documents held out: (train, test)."""
    order = np.random.RandomState(seed).permutation(X.shape[0])
    n_test = int(round(fraction * X.shape[0]))
    return X[np.sort(order[n_test:])], X[np.sort(order[:n_test])]


def topic_recovery(topic_word, true_topics):
    """Mean Hellinger distance and cosine similarity after Hungarian matching."""
    fitted = topic_word / topic_word.sum(axis=1, keepdims=True)
    hellinger = np.sqrt(0.5 * ((np.sqrt(fitted)[:, None] - np.sqrt(true_topics)[None]) ** 2)
                        .sum(axis=2))
    rows, cols = linear_sum_assignment(hellinger)
    unit_fitted = fitted / np.linalg.norm(fitted, axis=1, keepdims=True)
    unit_true = true_topics / np.linalg.norm(true_topics, axis=1, keepdims=True)
    cosine = (unit_fitted[rows] * unit_true[cols]).sum(axis=1)
    return float(hellinger[rows, cols].mean()), float(cosine.mean())


# ---------------------------------------------------------------------------
# fitting each library
# ---------------------------------------------------------------------------


def fastest(fit, repeat):
    """(seconds of the fastest of ``repeat`` calls, result of the last call)."""
    best, result = np.inf, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fit()
        best = min(best, time.perf_counter() - started)
    return best, result


def fit_emkit(X, K, passes, seed, repeat, **options):
    LatentDirichletAllocation(K, max_iter=1, random_state=seed, **options).fit(X[:50])  # compile
    seconds, model = fastest(lambda: LatentDirichletAllocation(
        K, max_iter=passes, random_state=seed, **options).fit(X), repeat)
    return seconds, model.components_, model.doc_topic_prior_


def fit_sklearn(X, K, passes, seed, repeat):
    seconds, model = fastest(lambda: SklearnLDA(K, max_iter=passes, random_state=seed).fit(X),
                             repeat)
    return seconds, model.components_, model.doc_topic_prior_


def fit_gensim(X, K, passes, seed, repeat, python):
    """gensim's LdaModel in a subprocess; None (and a message) if unavailable."""
    with tempfile.TemporaryDirectory() as folder:
        corpus, out = Path(folder, "corpus.npz"), Path(folder, "out.npz")
        np.savez(corpus, data=X.data, indices=X.indices, indptr=X.indptr,
                 shape=np.array(X.shape))
        completed = subprocess.run(
            [python, str(GENSIM_SCRIPT), str(corpus), str(out), str(K), str(passes), str(seed),
             str(repeat)], capture_output=True, text=True)
        if completed.returncode != 0:
            reason = completed.stderr.strip().splitlines()[-1:] or ["no message"]
            print(f"  gensim skipped: {reason[0]} (interpreter {python}; install gensim "
                  f"there or pass --gensim-python)")
            return None
        saved = np.load(out)
        return float(saved["seconds"]), saved["topic_word"], saved["alpha"]


# ---------------------------------------------------------------------------
# reporting
# ---------------------------------------------------------------------------


def run_all(X_train, X_test, K, passes, args, *, repeat, true_topics=None):
    n_threads = numba.get_num_threads()
    rows = {}
    fits = [
        ("emkit (1 thread)", lambda: fit_emkit(X_train, K, passes, 0, repeat, n_jobs=1)),
        (f"emkit ({n_threads} threads)", lambda: fit_emkit(X_train, K, passes, 0, repeat)),
        ("emkit doc_init='warm' (1 thread)",
         lambda: fit_emkit(X_train, K, passes, 0, repeat, n_jobs=1, doc_init="warm")),
        ("emkit learned alpha (1 thread)",
         lambda: fit_emkit(X_train, K, passes, 0, repeat, n_jobs=1,
                           learn_doc_topic_prior=True)),
        ("scikit-learn batch (n_jobs=None)",
         lambda: fit_sklearn(X_train, K, passes, 0, repeat)),
        ("gensim LdaModel", lambda: fit_gensim(X_train, K, passes, 0, repeat,
                                               args.gensim_python)),
    ]
    header = f"  {'method':36s} {'fit (s)':>9s} {'held-out perplexity':>20s}"
    if true_topics is not None:
        header += f" {'Hellinger':>10s} {'cosine':>7s}"
    print(header)
    for name, fit in fits:
        result = fit()
        if result is None:
            continue
        seconds, topic_word, alpha = result
        perplexity = heldout_perplexity(topic_word, alpha, X_test)
        rows[name] = (seconds, perplexity)
        line = f"  {name:36s} {seconds:9.3f} {perplexity:20.2f}"
        if true_topics is not None:
            hellinger, cosine = topic_recovery(topic_word, true_topics)
            line += f" {hellinger:10.3f} {cosine:7.3f}"
        print(line, flush=True)
    return rows


def report_ratios(rows, *, check):
    ours_seconds, ours_perplexity = rows["emkit (1 thread)"]
    sk_seconds, sk_perplexity = rows["scikit-learn batch (n_jobs=None)"]
    threaded = [name for name in rows if name.startswith("emkit (") and "1 thread" not in name]
    speedup = sk_seconds / ours_seconds
    # With equal seeds both follow the same EM path (scikit-learn's random
    # starts, then the same updates), so their perplexities agree to the
    # digamma's rounding; "no worse" allows that 1e-6 relative.
    no_worse = ours_perplexity <= sk_perplexity * (1 + 1e-6)
    print(f"  speed-up vs scikit-learn, equal cores (1 thread): x{speedup:.1f}"
          + (f"   [>= 3: {'PASS' if speedup >= 3 else 'FAIL'}]" if check else ""))
    if threaded:
        print(f"  speed-up vs scikit-learn, emkit on all threads : "
              f"x{sk_seconds / rows[threaded[0]][0]:.1f}")
    print(f"  held-out perplexity emkit / scikit-learn       : "
          f"{ours_perplexity / sk_perplexity:.6f}"
          + (f"   [<= 1: {'PASS' if no_worse else 'FAIL'}]" if check else ""))
    if "gensim LdaModel" in rows:
        gensim_seconds, gensim_perplexity = rows["gensim LdaModel"]
        print(f"  speed-up vs gensim LdaModel (emkit 1 thread)   : "
              f"x{gensim_seconds / ours_seconds:.1f}"
              + (f"   [> 1: {'PASS' if gensim_seconds > ours_seconds else 'FAIL'}]"
                 if check else ""))
        print(f"  held-out perplexity emkit / gensim             : "
              f"{ours_perplexity / gensim_perplexity:.4f}")


def simulate_corpus(n_docs, n_words, n_topics, mean_len, *, eta=0.05, alpha=0.2, seed=0):
    """Bag-of-words documents from the LDA generative model: (CSR counts, topics)."""
    rng = np.random.default_rng(seed)
    topics = rng.dirichlet(np.full(n_words, eta), size=n_topics)
    theta = rng.dirichlet(np.full(n_topics, alpha), size=n_docs)
    lengths = np.maximum(rng.poisson(mean_len, size=n_docs), 1)
    doc = np.repeat(np.arange(n_docs), lengths)
    topic_of_token = (rng.random(doc.size)[:, None] > np.cumsum(theta, axis=1)[doc]).sum(axis=1)
    topic_of_token = np.minimum(topic_of_token, n_topics - 1)
    word = np.empty(doc.size, dtype=np.int64)
    cumulative = np.cumsum(topics, axis=1)
    for k in range(n_topics):
        mask = topic_of_token == k
        word[mask] = np.searchsorted(cumulative[k], rng.random(mask.sum()) * cumulative[k, -1])
    X = sp.coo_matrix((np.ones(doc.size), (doc, np.minimum(word, n_words - 1))),
                      shape=(n_docs, n_words)).tocsr()
    X.sum_duplicates()
    return X, topics


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a 4,000-document synthetic corpus instead of 20,000")
    parser.add_argument("--synthetic-docs", type=int, default=None)
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="fits timed on Reuters (best of)")
    parser.add_argument("--gensim-python", default=sys.executable,
                        help="interpreter with gensim installed (default: this one)")
    args = parser.parse_args()

    reuters = load_reuters().data
    X_train, X_test = split(reuters)
    print(f"Reuters: {X_train.shape[0]} training / {X_test.shape[0]} held-out documents, "
          f"V={reuters.shape[1]}, 10 topics, 10 passes, best of {args.repeat}")
    rows = run_all(X_train, X_test, 10, 10, args, repeat=args.repeat)
    report_ratios(rows, check=True)

    if args.skip_synthetic:
        return
    n_docs = args.synthetic_docs or (4000 if args.quick else 20000)
    X, topics = simulate_corpus(n_docs, 5000, 20, 100)
    X_train, X_test = split(X)
    print(f"\nSynthetic LDA corpus: {X_train.shape[0]} training / {X_test.shape[0]} held-out "
          f"documents, V=5000, nnz={X.nnz}, 20 true topics (eta=0.05, alpha=0.2), "
          f"20 topics fitted, 10 passes, one fit each")
    rows = run_all(X_train, X_test, 20, 10, args, repeat=1, true_topics=topics)
    report_ratios(rows, check=False)


if __name__ == "__main__":
    main()
