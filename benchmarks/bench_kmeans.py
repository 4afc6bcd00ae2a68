"""KMeans: emkit vs scikit-learn at equal work, in one run.

Usage::

    python benchmarks/bench_kmeans.py                    # n=200,000, D=16, K=16
    python benchmarks/bench_kmeans.py --n 50000 --repeats 5

Equal work: both run Lloyd's algorithm from the same k-means++ centres to
exact convergence (``tol=0``, one init, ``algorithm="lloyd"``), so they take
the same iterations and end on the same inertia (checked and printed).
Then both libraries' default restarts (``n_init=10``, k-means++) with the
inertia each reaches. Runs alternate between the libraries and the best of
``--repeats`` is kept. Goal: ratio (sklearn / emkit) >= 1. ``--blas-threads 1`` limits BLAS to
one thread for both (emkit's chunked E-steps use one per core anyway).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.cluster import kmeans_plusplus
from sklearn.datasets import make_blobs

from emkit.estimators.kmeans import KMeans


def timed(make, X):
    started = time.perf_counter()
    model = make().fit(X)
    return time.perf_counter() - started, model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--d", type=int, default=16)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="limit BLAS threads for both libraries (on a loaded machine "
                             "OpenBLAS's spinning threads can slow an SVD 30x)")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        run(args)


def run(args):
    X, _ = make_blobs(args.n, args.d, centers=args.k, cluster_std=4.0, random_state=0)
    K = args.k
    start, _ = kmeans_plusplus(X, K, random_state=0)
    KMeans(K, init=start).fit(X[:2000])  # compile outside the timings
    contenders = {
        "emkit lloyd, same start": lambda: KMeans(K, init=start, tol=0.0),
        "sklearn lloyd, same start": lambda: SklearnKMeans(K, init=start, n_init=1, tol=0.0,
                                                           algorithm="lloyd"),
        "emkit n_init=10": lambda: KMeans(K, n_init=10, random_state=0),
        "sklearn n_init=10": lambda: SklearnKMeans(K, n_init=10, random_state=0),
    }
    best = {name: (np.inf, None) for name in contenders}
    for _ in range(args.repeats):
        for name, make in contenders.items():
            seconds, model = timed(make, X)
            if seconds < best[name][0]:
                best[name] = (seconds, model)
    print(f"n={args.n} D={args.d} K={K}, best of {args.repeats}")
    for name, (seconds, model) in best.items():
        print(f"  {name:28s} {seconds:8.3f} s  inertia {model.inertia_:.6f}  "
              f"iterations {model.n_iter_}")
    for ours, peer in (("emkit lloyd, same start", "sklearn lloyd, same start"),
                       ("emkit n_init=10", "sklearn n_init=10")):
        ratio = best[peer][0] / best[ours][0]
        print(f"{peer} / {ours} = {ratio:.2f}x  (inertia emkit/sklearn "
              f"{best[ours][1].inertia_ / best[peer][1].inertia_:.12f})")


if __name__ == "__main__":
    main()
