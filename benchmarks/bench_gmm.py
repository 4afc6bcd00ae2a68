"""Seconds per EM iteration: emkit vs scikit-learn, same data, same start.

Usage::

    python benchmarks/bench_gmm.py                  # N=200,000, D=16, K=16 (the issue's goal)
    python benchmarks/bench_gmm.py --n 20000 --iters 5   # quicker

Both libraries start from identical weights/means/precisions and run a fixed
number of iterations (tol=0, one init); the per-iteration time is the fit time
divided by the iterations. Also reports emkit float32 and peak traced memory.
Goals on a 2-core machine: full >= 8x, diag and spherical >= 4x, float32 >= 1.5x
faster again than float64.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.mixture import GaussianMixture as SklearnGMM

import emkit


def make_data(n, d, k, seed=0):
    rng = np.random.RandomState(seed)
    centers = rng.uniform(-10, 10, size=(k, d))
    labels = rng.randint(k, size=n)
    scales = rng.uniform(0.5, 2.0, size=(k, d))
    return centers[labels] + rng.randn(n, d) * scales[labels]


def start_params(X, k, covariance_type, seed=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        init = SklearnGMM(k, covariance_type=covariance_type, max_iter=1, tol=0,
                          random_state=seed).fit(X[:20000])
    return dict(weights_init=init.weights_, means_init=init.means_,
                precisions_init=init.precisions_)


def time_fit(estimator, X, repeats):
    best = np.inf
    for _ in range(repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            started = time.perf_counter()
            estimator.fit(X)
            best = min(best, time.perf_counter() - started)
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--d", type=int, default=16)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--types", default="full,diag,spherical,tied")
    args = parser.parse_args()
    X = make_data(args.n, args.d, args.k)
    print(f"N={args.n} D={args.d} K={args.k}, {args.iters} iterations, best of {args.repeats}")
    print(f"{'type':10s} {'sklearn s/it':>13s} {'emkit64 s/it':>13s} {'ratio':>7s} "
          f"{'emkit32 s/it':>13s} {'64/32':>6s} {'loglik diff':>12s} {'peak MiB':>9s}")
    for covariance_type in args.types.split(","):
        start = start_params(X, args.k, covariance_type)
        common = dict(max_iter=args.iters, tol=0.0, n_init=1, covariance_type=covariance_type)
        sk = SklearnGMM(args.k, **common, **start)
        em = emkit.GaussianMixture(args.k, **common, **start)
        t_sk = time_fit(sk, X, args.repeats) / args.iters
        t_em = time_fit(em, X, args.repeats) / args.iters
        X32 = X.astype(np.float32)
        em32 = emkit.GaussianMixture(args.k, **common, **start)
        t_em32 = time_fit(em32, X32, args.repeats) / args.iters
        diff = abs(em.score(X) - sk.score(X)) * X.shape[0]
        tracemalloc.start()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            emkit.GaussianMixture(args.k, **common, **start).fit(X)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"{covariance_type:10s} {t_sk:13.4f} {t_em:13.4f} {t_sk / t_em:6.1f}x "
              f"{t_em32:13.4f} {t_em / t_em32:5.2f}x {diff:12.3g} {peak:9.1f}")
    print(f"data size: {X.nbytes / 2**20:.1f} MiB (float64)")


if __name__ == "__main__":
    main()
