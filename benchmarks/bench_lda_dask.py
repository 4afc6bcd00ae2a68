"""Benchmark: LDA batch EM on a dask array (documents on the workers) against in memory.

A corpus drawn from an LDA model (default 20,000 documents, 1,000 words, 10
topics) is fitted for ``--iter`` passes in memory (the compiled E-step on
all numba threads of this process) and as a dask array of ``--blocks`` row
blocks on a ``distributed.LocalCluster`` of ``--workers`` worker processes
(one thread each; every worker's compiled E-step uses numba's threads).
Both fits start from the same seed and end at the same bound (printed).
Seconds per iteration exclude compilation (a warm-up fit of each kind runs
first) and the set-up (a fit of ``max_iter=0``, timed and subtracted: for
dask it builds the documents on the workers, shipping a ``from_array``
graph's data once).

Run:  PYTHONPATH=src python benchmarks/bench_lda_dask.py [--docs 20000] [--iter 5]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp


def corpus(n_docs, n_words, n_topics, seed=0):
    rng = np.random.default_rng(seed)
    topics = rng.dirichlet(np.full(n_words, 0.05), size=n_topics)
    theta = rng.dirichlet(np.full(n_topics, 0.2), size=n_docs)
    lengths = rng.poisson(80, n_docs)
    return sp.csr_matrix(np.array([rng.multinomial(n, p)
                                   for n, p in zip(lengths, theta @ topics)], dtype=np.float64))


def timed(estimator, kwargs, X, n_iter):
    """The fit of ``n_iter`` iterations, its seconds per iteration, and a 0-iteration fit's."""
    started = time.perf_counter()
    estimator(**{**kwargs, "max_iter": 0}).fit(X)
    start_only = time.perf_counter() - started
    started = time.perf_counter()
    fitted = estimator(**{**kwargs, "max_iter": n_iter}).fit(X)
    return fitted, (time.perf_counter() - started - start_only) / n_iter, start_only


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--words", type=int, default=1_000)
    parser.add_argument("--topics", type=int, default=10)
    parser.add_argument("--iter", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--worker-numba-threads", type=int, default=None,
                        help="NUMBA_NUM_THREADS of the worker processes (default: numba's, "
                             "all cores each)")
    args = parser.parse_args()

    import dask.array as da
    import distributed

    import emkit
    from emkit import LatentDirichletAllocation

    import numba  # noqa: F401  (before the workers' environment is set below)

    X = corpus(args.docs, args.words, args.topics)
    lazy = da.from_array(X, chunks=(-(-args.docs // args.blocks), args.words), asarray=False)
    os.environ["PYTHONPATH"] = str(Path(emkit.__file__).resolve().parents[1])
    if args.worker_numba_threads:
        # Inherited by the worker processes only: this one has imported numba already.
        os.environ["NUMBA_NUM_THREADS"] = str(args.worker_numba_threads)
    with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                  processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        kwargs = dict(n_components=args.topics, random_state=0, max_iter=args.iter)
        # Warm-up: compile the kernels here and on every worker.
        LatentDirichletAllocation(**{**kwargs, "max_iter": 1}).fit(X[:200])
        LatentDirichletAllocation(**{**kwargs, "max_iter": 1}).fit(lazy[:400])
        # Seconds per iteration: a fit of n iterations less a fit of none
        # (which still builds the data and takes the first E-step).
        eager, memory, memory_start = timed(LatentDirichletAllocation, kwargs, X, args.iter)
        lazy_fit, cluster_seconds, cluster_start = timed(LatentDirichletAllocation, kwargs,
                                                         lazy, args.iter)
    print(f"{args.docs} documents x {args.words} words, {args.topics} topics, {args.iter} "
          f"iterations; dask: {args.workers} workers x 1 thread, {args.blocks} blocks, "
          f"worker numba threads: {args.worker_numba_threads or 'numba default'}")
    print(f"in memory      {memory:8.3f} s/iteration")
    print(f"dask           {cluster_seconds:8.3f} s/iteration")
    print(f"fit with max_iter=0 (data set-up and one E-step): in memory {memory_start:.2f} s, "
          f"dask {cluster_start:.2f} s")
    print(f"ratio dask / in memory: {cluster_seconds / memory:.2f}")
    print(f"|delta bound| per document: "
          f"{abs(lazy_fit.history_[-1] - eager.history_[-1]) / args.docs:.2e}")


if __name__ == "__main__":
    main()
