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

``--accel`` compares emkit's plain variational EM with ``accelerate="squarem"``
instead (no scikit-learn)::

    python benchmarks/bench_bayesian_mixture.py --accel --starts 9
    python benchmarks/bench_bayesian_mixture.py --accel --types full diag tied spherical

For Old Faithful (K=6) and a 20,000 x 5 set of five overlapping clusters
(K=8), every start (``random_state``, ``n_init=1``) is fitted by both from the
same initial q(theta) to ``tol`` = 1e-10 per sample. Printed, as medians over
the starts: E-steps, E-steps to come within 1e-6 per sample of plain EM's
final bound from the same start (read off ``history_e_steps_``), seconds,
the plain / SQUAREM ratios, and the share of starts whose SQUAREM bound is
not below that target.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.mixture import BayesianGaussianMixture as SklearnBGM

from emkit.datasets import load_old_faithful
from emkit.estimators.bayesian_gaussian_mixture import BayesianGaussianMixture

ACCELERATE = ("none", "squarem")


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


def overlapping_clusters(n=20_000, d=5, k=5, seed=0):
    """bench_accel's 20,000 x 5 set of five overlapping unit-variance clusters."""
    rng = np.random.RandomState(seed)
    centers = rng.randn(k, d) * 1.5
    labels = rng.randint(k, size=n)
    return centers[labels] + rng.randn(n, d)


def e_steps_to_reach(model, target):
    """E-steps evaluated when ``history_`` first reached ``target`` (its total if never)."""
    reached = np.flatnonzero(model.history_ >= target)
    return int(model.history_e_steps_[reached[0]]) if reached.size else model.n_e_steps_


def compare_acceleration(X, n_components, covariance_type, starts):
    """Plain vs SQUAREM variational EM from the same starts: medians of
    E-steps, E-steps to plain EM's bound (within 1e-6 per sample) and
    seconds per method, and the share of starts where SQUAREM is not worse."""
    n = X.shape[0]
    figures = {acc: {"e_steps": [], "to_target": [], "seconds": []} for acc in ACCELERATE}
    not_worse = []
    for seed in range(starts):
        fitted = {}
        for acc in ACCELERATE:
            seconds, fitted[acc] = timed_fit(
                BayesianGaussianMixture, X, n_components=n_components,
                covariance_type=covariance_type, n_init=1, tol=1e-10 * n, max_iter=20_000,
                random_state=seed, accelerate=acc)
            figures[acc]["e_steps"].append(fitted[acc].n_e_steps_)
            figures[acc]["seconds"].append(seconds)
        target = fitted["none"].history_[-1] - 1e-6 * n
        for acc in ACCELERATE:
            figures[acc]["to_target"].append(e_steps_to_reach(fitted[acc], target))
        not_worse.append(fitted["squarem"].history_[-1] >= target)
    medians = {acc: {name: float(np.median(values)) for name, values in by_name.items()}
               for acc, by_name in figures.items()}
    return medians, float(np.mean(not_worse))


def accel_main(args):
    cases = [("Old Faithful, K=6", load_old_faithful().data, 6),
             ("20,000 x 5, 5 overlapping, K=8", overlapping_clusters(), 8)]
    print(f"plain vs SQUAREM variational EM, medians over {args.starts} starts, "
          f"tol 1e-10 per sample")
    for name, X, n_components in cases:
        for covariance_type in args.types:
            medians, not_worse = compare_acceleration(X, n_components, covariance_type,
                                                      args.starts)
            plain, fast = medians["none"], medians["squarem"]
            print(f"{name:>31} {covariance_type:>9}: E-steps {plain['e_steps']:6.0f} / "
                  f"{fast['e_steps']:5.0f} ({plain['e_steps'] / fast['e_steps']:4.2f}x), "
                  f"to plain's bound {plain['to_target']:6.0f} / {fast['to_target']:5.0f} "
                  f"({plain['to_target'] / fast['to_target']:4.2f}x), seconds "
                  f"{plain['seconds']:6.2f} / {fast['seconds']:5.2f} "
                  f"({plain['seconds'] / fast['seconds']:4.2f}x); not worse "
                  f"{not_worse:.0%}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=8)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--types", nargs="+", default=["full"])
    parser.add_argument("--accel", action="store_true",
                        help="plain vs accelerate='squarem' instead of emkit vs scikit-learn")
    parser.add_argument("--starts", type=int, default=5, help="starts per case with --accel")
    args = parser.parse_args()
    if args.accel:
        accel_main(args)
        return
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
