"""Online (stepwise) EM against batch EM on 200,000 x 5, K = 5 overlapping clusters.

Usage::

    python benchmarks/bench_online.py                 # the issue's goal
    python benchmarks/bench_online.py --n 50000       # quicker

Prints, in one run:

- batch EM from one k-means++ start (``n_init``): its iterations to
  ``tol=1e-6`` and its wall time; its optimum, polished to ``tol=1e-10``
  (untimed), is the reference;
- ``partial_fit`` over shuffled batches of 5,000: the per-sample gap
  ``(L_batch - L_online) / N`` after each pass and the cumulative wall time
  (the first call fits its batch to start the running statistics);
- ``fit(strategy="online")`` (3 passes, then a batch EM polish, plain and
  SQUAREM): polish iterations, gap and wall time, and the speed-up over
  batch EM.

Goals (issue 9): gap <= 0.02 after one pass, <= 1e-3 after at most 10.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import emkit


def make_data(n, d=5, k=5, spread=1.0, seed=0):
    """Five overlapping full-covariance clusters (batch EM needs ~100+ iterations)."""
    rng = np.random.RandomState(seed)
    means = rng.normal(scale=spread, size=(k, d))
    factors = rng.normal(size=(k, d, d)) / np.sqrt(d)
    covariances = factors @ factors.transpose(0, 2, 1) + 0.3 * np.eye(d)
    weights = rng.dirichlet(5 * np.ones(k))
    labels = rng.choice(k, size=n, p=weights)
    X = np.empty((n, d))
    for j in range(k):
        rows = labels == j
        X[rows] = rng.multivariate_normal(means[j], covariances[j], rows.sum())
    return X


def quiet(callable_, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return callable_(*args, **kwargs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--passes", type=int, default=10)
    parser.add_argument("--n-init", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    X = make_data(args.n)
    N, K = X.shape[0], 5
    common = dict(n_init=args.n_init, random_state=args.seed)

    started = time.perf_counter()
    batch = quiet(emkit.GaussianMixture(K, tol=1e-6, max_iter=5000, **common).fit, X)
    batch_seconds = time.perf_counter() - started
    polished = emkit.GaussianMixture.from_params(batch.weights_, batch.means_,
                                                 batch.covariances_, tol=1e-10,
                                                 max_iter=5000, warm_start=True)
    quiet(polished.fit, X)
    best = polished.score(X)
    print(f"data: {N} x {X.shape[1]}, K = {K}; batch size {args.batch_size}")
    print(f"batch EM (n_init={args.n_init}): {batch.n_iter_} iterations to tol=1e-6, "
          f"{batch_seconds:.2f} s; optimum {best:.6f} nats/sample")

    model = emkit.GaussianMixture(K, **common)
    rng = np.random.RandomState(args.seed + 1)
    n_batches = -(-N // args.batch_size)
    gaps = []
    started = time.perf_counter()
    elapsed = 0.0
    for pass_index in range(args.passes):
        order = rng.permutation(N)
        for part in np.array_split(order, n_batches):
            quiet(model.partial_fit, X[np.sort(part)])
        elapsed = time.perf_counter() - started
        gaps.append(best - model.score(X))     # scoring is not timed
        print(f"partial_fit pass {pass_index + 1:2d}: gap {gaps[-1]:+.2e} nats/sample, "
              f"{elapsed:.2f} s")
        started = time.perf_counter() - elapsed

    for accelerate in ("none", "squarem"):
        started = time.perf_counter()
        online = quiet(emkit.GaussianMixture(K, batch_size=args.batch_size,
                                             accelerate=accelerate, **common).fit,
                       X, strategy="online")
        seconds = time.perf_counter() - started
        print(f"fit(strategy='online', accelerate={accelerate!r}): {online.online_passes} "
              f"passes + {online.n_iter_} polish iterations, gap "
              f"{best - online.score(X):+.2e}, {seconds:.2f} s "
              f"({batch_seconds / seconds:.1f}x faster than batch EM)")

    one_pass = gaps[0] <= 0.02
    within = next((i + 1 for i, gap in enumerate(gaps) if gap <= 1e-3), None)
    print(f"goal: <= 0.02 after one pass: {'PASS' if one_pass else 'FAIL'} ({gaps[0]:.2e}); "
          f"<= 1e-3 within 10 passes: "
          f"{'PASS after %d' % within if within and within <= 10 else 'FAIL'}")


if __name__ == "__main__":
    main()
