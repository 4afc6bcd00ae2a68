"""emkit vs scikit-learn BayesianGaussianMixture at equal work.

Usage::

    python benchmarks/bench_bayesian_mixture.py                  # 100,000 x 8, K=10, full
    python benchmarks/bench_bayesian_mixture.py --types full diag --iterations 30

Both fit the same data from the same start (``init_params="kmeans"`` with the
same ``random_state``: the same KMeans responsibilities, the same first
M-step) for exactly the same number of variational EM iterations
(``tol=0``; emkit's stopping rule "fixed" is implied by tol=0 never being
met). Each fit is repeated, emkit and scikit-learn alternately (timings on a
shared machine are noisy), and the medians are compared; the start itself
(one KMeans run, identical for both) is timed separately and subtracted, so
the ratio is that of the iterations. Printed: seconds per iteration, the
ratio scikit-learn / emkit (goal: >= 1) and how far apart the fitted means
are (same work: they agree up to ``reg_covar``'s treatment, ~1e-6).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.mixture import BayesianGaussianMixture as SklearnBGM

from emkit.estimators.bayesian_gaussian_mixture import BayesianGaussianMixture


def make_data(n, d, k, seed=0):
    rng = np.random.RandomState(seed)
    centers = rng.randn(k, d) * 3.0
    labels = rng.randint(k, size=n)
    scales = rng.uniform(0.5, 1.5, size=(k, d))
    return centers[labels] + rng.randn(n, d) * scales[labels]


def timed_fit(cls, X, **params):
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls(**params).fit(X)
    return time.perf_counter() - started, model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=8)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--types", nargs="+", default=["full"])
    args = parser.parse_args()
    X = make_data(args.n, args.d, args.k)
    print(f"data {args.n} x {args.d}, K={args.k}, {args.iterations} iterations, "
          f"{args.repeats} repeats (medians)")
    for covariance_type in args.types:
        common = dict(n_components=args.k, covariance_type=covariance_type, tol=0.0,
                      init_params="kmeans", random_state=0, n_init=1)
        times = {"emkit": [], "sklearn": [], "emkit start": [], "sklearn start": []}
        for _ in range(args.repeats):
            for name, cls in (("emkit", BayesianGaussianMixture), ("sklearn", SklearnBGM)):
                seconds, model = timed_fit(cls, X, max_iter=args.iterations, **common)
                times[name].append(seconds)
                models = times.setdefault(name + " model", [])
                models[:] = [model]
                seconds, _ = timed_fit(cls, X, max_iter=1, **common)
                times[name + " start"].append(seconds)
        per_iteration = {}
        for name in ("emkit", "sklearn"):
            total = np.median(times[name])
            start = np.median(times[name + " start"])
            per_iteration[name] = (total - start) / (args.iterations - 1)
        ours, theirs = times["emkit model"][0], times["sklearn model"][0]
        difference = np.abs(ours.means_ - theirs.means_).max() / np.abs(theirs.means_).max()
        print(f"{covariance_type:>9}: emkit {per_iteration['emkit'] * 1e3:8.1f} ms/iter, "
              f"scikit-learn {per_iteration['sklearn'] * 1e3:8.1f} ms/iter, "
              f"ratio {per_iteration['sklearn'] / per_iteration['emkit']:5.2f}x "
              f"(whole fits {np.median(times['emkit']):.2f} s vs "
              f"{np.median(times['sklearn']):.2f} s); means agree to {difference:.1e}")


if __name__ == "__main__":
    main()
