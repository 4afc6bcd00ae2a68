"""RegressionMixture and MixtureOfExperts against a numpy reference EM at equal work.

Usage::

    python benchmarks/bench_regression_mixture.py            # 50,000 x 5, K=3, 20 iterations
    python benchmarks/bench_regression_mixture.py --n 200000 --iterations 40
    python benchmarks/bench_regression_mixture.py --blas-threads 1   # both single-threaded BLAS

No maintained Python library fits mixtures of regressions (R has flexmix and
mixtools), so the peer is the EM a user would write in numpy: E-step with
log-sum-exp, M-step by ``np.linalg.lstsq`` on sqrt(weight)-scaled designs
per component (flexmix's ``lm.wfit`` route) and, for the experts, the same
guarded Newton steps on the gating (per-row Hessians by einsum). Both start
from the same parameters and take the same number of iterations (emkit with
``tol=0``, so no early stop); the final log-likelihoods are printed to show
the work was equal. emkit and the reference run alternately, ``--repeats``
times each; printed: the median seconds and their ratio (goal: emkit >= 1x).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy.special import log_softmax, logsumexp

from emkit.estimators.regression_mixture import MixtureOfExperts, RegressionMixture


def make_data(n, d, k, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    coef = rng.normal(scale=2.0, size=(k, d))
    gating = np.vstack([rng.normal(scale=1.5, size=(k - 1, d)), np.zeros((1, d))])
    labels = np.array([rng.choice(k, p=p) for p in np.exp(log_softmax(X[:2000] @ gating.T,
                                                                       axis=1))])
    labels = np.resize(labels, n)
    y = (X * coef[labels]).sum(1) + np.arange(k)[labels] + 0.5 * rng.standard_normal(n)
    return X, y


def start(X, y, k, seed=1):
    rng = np.random.RandomState(seed)
    return dict(coef=rng.normal(size=(k, X.shape[1])), intercept=rng.normal(size=k),
                noise_variance=np.full(k, y.var()), weights=np.full(k, 1.0 / k),
                gating_coef=np.zeros((k, X.shape[1])), gating_intercept=np.zeros(k))


# -- the numpy reference ----------------------------------------------------------
def reference_log_joint(X, y, p):
    means = X @ p["coef"].T + p["intercept"]
    return (-0.5 * (y[:, None] - means) ** 2 / p["noise_variance"]
            - 0.5 * np.log(2 * np.pi * p["noise_variance"]))


def reference_experts_m_step(X, y, resp):
    design = np.column_stack([X, np.ones(len(X))])
    coef, intercept, variance = [], [], []
    for k in range(resp.shape[1]):
        root = np.sqrt(resp[:, k])
        theta = np.linalg.lstsq(design * root[:, None], y * root, rcond=None)[0]
        coef.append(theta[:-1])
        intercept.append(theta[-1])
        variance.append(resp[:, k] @ (y - design @ theta) ** 2 / resp[:, k].sum())
    return dict(coef=np.array(coef), intercept=np.array(intercept),
                noise_variance=np.array(variance))


def reference_mixture(X, y, p, n_iter):
    p = dict(p)
    for _ in range(n_iter):
        joint = reference_log_joint(X, y, p) + np.log(p["weights"])
        resp = np.exp(joint - logsumexp(joint, axis=1, keepdims=True))
        p.update(reference_experts_m_step(X, y, resp))
        p["weights"] = resp.mean(axis=0)
    joint = reference_log_joint(X, y, p) + np.log(p["weights"])
    return logsumexp(joint, axis=1).sum()


def reference_gating(design, resp, V, steps):
    K1 = V.shape[0]

    def objective(V):
        logits = np.column_stack([design @ V.T, np.zeros(len(design))])
        return float(np.sum(resp[:, :K1] * (design @ V.T)) - logsumexp(logits, axis=1).sum())

    current = objective(V)
    for _ in range(steps):
        logits = np.column_stack([design @ V.T, np.zeros(len(design))])
        g = np.exp(log_softmax(logits, axis=1))[:, :K1]
        gradient = ((resp[:, :K1] - g).T @ design).ravel()
        # One BLAS product per block: sum_n (g_k delta_kl - g_k g_l) a_n a_n^T.
        P = design.shape[1]
        hessian = np.empty((K1 * P, K1 * P))
        for k in range(K1):
            for l in range(K1):
                curvature = g[:, k] * ((k == l) - g[:, l])
                hessian[k * P:(k + 1) * P, l * P:(l + 1) * P] = \
                    design.T @ (curvature[:, None] * design)
        direction = np.linalg.solve(hessian, gradient).reshape(V.shape)
        length = 1.0
        for _ in range(30):
            trial = V + length * direction
            value = objective(trial)
            if value >= current:
                V, current = trial, value
                break
            length /= 2
        else:
            break
    return V


def reference_experts(X, y, p, n_iter, steps):
    p = dict(p)
    design = np.column_stack([X, np.ones(len(X))])
    V = np.column_stack([p["gating_coef"][:-1], p["gating_intercept"][:-1]])
    for _ in range(n_iter):
        log_gate = log_softmax(np.column_stack([design @ V.T, np.zeros(len(X))]), axis=1)
        joint = reference_log_joint(X, y, p) + log_gate
        resp = np.exp(joint - logsumexp(joint, axis=1, keepdims=True))
        p.update(reference_experts_m_step(X, y, resp))
        V = reference_gating(design, resp, V, steps)
    log_gate = log_softmax(np.column_stack([design @ V.T, np.zeros(len(X))]), axis=1)
    return logsumexp(reference_log_joint(X, y, p) + log_gate, axis=1).sum()


# -- emkit --------------------------------------------------------------------------
def emkit_mixture(X, y, p, n_iter):
    model = RegressionMixture(len(p["weights"]), n_init=1, tol=0.0, max_iter=n_iter,
                              reg_variance=0.0, weights_init=p["weights"], coef_init=p["coef"],
                              intercept_init=p["intercept"],
                              noise_variance_init=p["noise_variance"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return model.history_[-1]


def emkit_experts(X, y, p, n_iter, steps):
    model = MixtureOfExperts(len(p["weights"]), n_init=1, tol=0.0, max_iter=n_iter,
                             reg_variance=0.0, gating_steps=steps,
                             gating_coef_init=p["gating_coef"],
                             gating_intercept_init=p["gating_intercept"], coef_init=p["coef"],
                             intercept_init=p["intercept"],
                             noise_variance_init=p["noise_variance"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return model.history_[-1]


def timed(function, *args):
    started = time.perf_counter()
    value = function(*args)
    return time.perf_counter() - started, value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--d", type=int, default=5)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--gating-steps", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="limit BLAS threads for both sides (OpenBLAS's spinning threads "
                             "slow tall-skinny products under load; 1 removes that from the "
                             "comparison)")
    args = parser.parse_args()
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads, user_api="blas")
    X, y = make_data(args.n, args.d, args.k)
    p = start(X, y, args.k)
    cases = {
        "RegressionMixture": ((emkit_mixture, X, y, p, args.iterations),
                              (reference_mixture, X, y, p, args.iterations)),
        "MixtureOfExperts": ((emkit_experts, X, y, p, args.iterations, args.gating_steps),
                             (reference_experts, X, y, p, args.iterations, args.gating_steps)),
    }
    print(f"{args.n} x {args.d}, K={args.k}, {args.iterations} EM iterations from one start, "
          f"{args.repeats} alternating repeats")
    for name, (ours, theirs) in cases.items():
        times = {"emkit": [], "numpy": []}
        for _ in range(args.repeats):
            seconds, ours_value = timed(*ours)
            times["emkit"].append(seconds)
            seconds, theirs_value = timed(*theirs)
            times["numpy"].append(seconds)
        emkit_s, numpy_s = np.median(times["emkit"]), np.median(times["numpy"])
        print(f"{name:18s} emkit {emkit_s:7.3f} s  numpy {numpy_s:7.3f} s  "
              f"ratio {numpy_s / emkit_s:5.2f}x  log-lik emkit {ours_value:.6f} "
              f"numpy {theirs_value:.6f}")


if __name__ == "__main__":
    main()
