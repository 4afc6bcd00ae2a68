"""BernoulliMixture vs a plain numpy EM doing equal work, timed in one run.

Usage::

    python benchmarks/bench_discrete.py                    # 20,000 x 50, K=5, 30 iterations
    python benchmarks/bench_discrete.py --n 100000 --iter 50 --repeats 5

Both start from the same parameters and take the same number of EM
iterations (``tol=0``, one start), so they do the same arithmetic: per
iteration one E-step (``X @ logit(p).T``, log-sum-exp, responsibilities) and
one M-step (``resp.T @ X`` over the weights). The reference is the textbook
vectorised numpy loop (what a user would write, and what pomegranate's
Bernoulli mixture computes per step). The two are checked to end at the same
parameters, then timed alternately (``--repeats`` rounds) so that load on the
machine hits both alike; printed: median seconds and the ratio
reference / emkit (goal: >= 1, emkit at least as fast). The reference runs
twice: with numpy's default BLAS threads and held to one BLAS thread.

pomegranate, the Python peer with Bernoulli mixtures, needs PyTorch since its
1.0 (gigabytes with its CUDA wheels), so it is not a dependency to time here;
its EM step is the same vectorised arithmetic as the numpy reference.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy.special import logsumexp

from emkit.estimators.bernoulli_mixture import BernoulliMixture


def make_data(n, d, k, seed=0):
    rng = np.random.default_rng(seed)
    probabilities = rng.beta(0.5, 0.5, size=(k, d))
    weights = rng.dirichlet(np.full(k, 5.0))
    truth = BernoulliMixture.from_params(weights, probabilities=probabilities)
    X, _ = truth.sample(n, random_state=seed)
    start = np.clip(probabilities + rng.uniform(-0.2, 0.2, size=(k, d)), 0.05, 0.95)
    return X, np.full(k, 1.0 / k), start


def numpy_em(X, weights, probabilities, n_iter):
    """Textbook EM for a Bernoulli mixture; returns the final parameters and log-likelihood."""
    w, p = weights.copy(), probabilities.copy()
    for _ in range(n_iter + 1):
        log_p, log_q = np.log(p), np.log1p(-p)
        joint = X @ (log_p - log_q).T + log_q.sum(axis=1) + np.log(w)
        log_norm = logsumexp(joint, axis=1, keepdims=True)
        resp = np.exp(joint - log_norm)
        loglik = float(log_norm.sum())
        if _ == n_iter:
            break
        counts = resp.sum(axis=0)
        p = np.clip((resp.T @ X) / counts[:, None], 1e-12, 1 - 1e-12)
        w = counts / counts.sum()
    return w, p, loglik


def numpy_em_one_blas_thread(X, weights, probabilities, n_iter):
    """The same loop with BLAS held to one thread (as emkit runs each chunk),
    so that OpenBLAS's spinning threads on a busy machine do not decide the race."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return numpy_em(X, weights, probabilities, n_iter)


def emkit_em(X, weights, probabilities, n_iter):
    model = BernoulliMixture(len(weights), weights_init=weights, probabilities_init=probabilities,
                             max_iter=n_iter, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "did not converge": by design
        model.fit(X)
    return model.weights_, model.probabilities_, float(model.history_[-1])


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--d", type=int, default=50)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--iter", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    X, weights, start = make_data(args.n, args.d, args.k)

    # Equal work: the same parameters at the end (emkit's history_ has the
    # objective after each E-step; the reference's last E-step matches it).
    w_np, p_np, ll_np = numpy_em(X, weights, start, args.iter)
    w_ek, p_ek, ll_ek = emkit_em(X, weights, start, args.iter)
    np.testing.assert_allclose(p_ek, p_np, atol=1e-8)
    np.testing.assert_allclose(ll_ek, ll_np, rtol=1e-10)
    print(f"same end: max |p difference| {np.abs(p_ek - p_np).max():.2e}, "
          f"log-likelihood {ll_ek:.6f}")

    peers = {"numpy": numpy_em, "numpy-1-blas": numpy_em_one_blas_thread}
    times = {"emkit": [], **{name: [] for name in peers}}
    for _ in range(args.repeats):
        times["emkit"].append(timed(emkit_em, X, weights, start, args.iter)[0])
        for name, function in peers.items():
            times[name].append(timed(function, X, weights, start, args.iter)[0])
    median = {name: float(np.median(values)) for name, values in times.items()}
    print(f"BernoulliMixture {args.n} x {args.d}, K={args.k}, {args.iter} EM iterations, "
          f"median of {args.repeats} alternating runs:")
    for name, seconds in median.items():
        print(f"  {name:12s} {seconds:8.3f} s")
    for name in peers:
        print(f"  ratio {name} / emkit = {median[name] / median['emkit']:.2f} "
              f"(>= 1: emkit at least as fast)")


if __name__ == "__main__":
    main()
