"""Seconds per EM iteration: the Dask path vs the in-memory path, same data, same start.

Usage::

    python benchmarks/bench_dask.py                   # N=10^7, D=16, K=16 (the issue's goal)
    python benchmarks/bench_dask.py --n 1000000       # quicker
    python benchmarks/bench_dask.py --model hmm --n 1000000 --k 4 --d 4   # GaussianHMM

The in-memory path fits an ndarray; the Dask path the same rows, made block
by block on a ``distributed.LocalCluster`` and persisted there (one single-threaded
worker process per core, so both paths use every core), so that an iteration
is E-step work and Dask overhead, not reading or generating the data. Both
fits start from identical weights, means and precisions, take a fixed number
of iterations (tol=0, one init), and the per-iteration time is the time of
``--iters`` iterations minus that of one, over ``--iters - 1`` (setup and the
first E-step cancel), best of ``--repeats`` alternating runs. The fits must agree to 1e-9 nats per sample.
Goal on a 2-core machine: the Dask iteration at most 2x the in-memory one.

``--model hmm`` times a full-covariance GaussianHMM (K states) the same way:
the rows are sequences of ``--length`` steps, blocks hold whole sequences
(the block size is rounded to a multiple of the length, so nothing is
rechunked), and both fits start warm from the same parameters.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

import emkit


def make_block(index, n, d, k, block, seed=0):
    """Rows ``[index * block, ...)`` of separated Gaussian clusters (own seed per
    block, so the cluster's workers and the client make identical data)."""
    shape_rng = np.random.RandomState(seed)
    centers = shape_rng.uniform(-10, 10, size=(k, d))
    scales = shape_rng.uniform(0.5, 2.0, size=(k, d))
    rng = np.random.RandomState([seed, index])
    rows = min(block, n - index * block)
    labels = rng.randint(k, size=rows)
    return centers[labels] + rng.randn(rows, d) * scales[labels]


def make_data(n, d, k, block):
    X = np.empty((n, d))
    for index in range(-(-n // block)):
        X[index * block:(index + 1) * block] = make_block(index, n, d, k, block)
    return X


def make_dask_data(client, n, d, k, block):
    """The same data, made and kept on the workers (never sent from the client)."""
    import dask
    import dask.array as da
    from distributed import wait

    blocks = [da.from_delayed(dask.delayed(make_block)(index, n, d, k, block),
                              shape=(min(block, n - index * block), d), dtype=np.float64)
              for index in range(-(-n // block))]
    X = client.persist(da.concatenate(blocks))
    wait(X)
    return X


def start_params(X, k, seed=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        init = emkit.GaussianMixture(k, n_init=1, max_iter=1, tol=0,
                                     random_state=seed).fit(X[:20000])
    return dict(weights_init=init.weights_, means_init=init.means_,
                precisions_init=init.precisions_)


def hmm_start_params(X, k, length, seed=0):
    """A GaussianHMM's parameters after one Baum-Welch step on the first sequences."""
    rows = min(X.shape[0], 20 * length)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        init = emkit.GaussianHMM(k, covariance_type="full", n_init=1, max_iter=1, tol=0,
                                 random_state=seed).fit(X[:rows], np.full(rows // length,
                                                                          length))
    return dict(startprob=init.startprob_, transmat=init.transmat_, means=init.means_,
                covariances=init.covariances_)


def seconds(X, k, iters, start, lengths=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        began = time.perf_counter()
        if lengths is None:
            model = emkit.GaussianMixture(k, n_init=1, max_iter=iters, tol=0.0,
                                          **start).fit(X)
        else:
            model = emkit.GaussianHMM.from_params(
                **start, covariance_type="full", max_iter=iters, tol=0.0,
                warm_start=True).fit(X, lengths)
    return time.perf_counter() - began, model


def per_iteration(X, k, iters, start, lengths=None):
    """(t(iters) - t(1)) / (iters - 1), and the long fit."""
    one, _ = seconds(X, k, 1, start, lengths)
    many, model = seconds(X, k, iters, start, lengths)
    return (many - one) / (iters - 1), model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--d", type=int, default=16)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--block", type=int, default=None,
                        help="rows per dask block (default: about 8 blocks per worker)")
    parser.add_argument("--workers", type=int, default=None, help="default: the cores")
    parser.add_argument("--malloc-trim", action="store_true",
                        help="keep distributed's MALLOC_TRIM_THRESHOLD_ for the workers")
    parser.add_argument("--repeats", type=int, default=2, help="best of, alternating")
    parser.add_argument("--model", choices=("gmm", "hmm"), default="gmm")
    parser.add_argument("--length", type=int, default=1000,
                        help="steps per sequence (--model hmm)")
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    workers = args.workers or len(os.sched_getaffinity(0))
    block = args.block or max(10_000, -(-args.n // (8 * workers)))
    lengths = None
    if args.model == "hmm":
        # whole sequences per block: nothing to rechunk
        args.n -= args.n % args.length
        block = max(args.length, block - block % args.length)
        lengths = np.full(args.n // args.length, args.length)
    X = make_data(args.n, args.d, args.k, block)
    start = (start_params(X, args.k) if lengths is None else
             hmm_start_params(X, args.k, args.length))
    print(f"{'GaussianMixture' if lengths is None else 'GaussianHMM'} "
          f"N={args.n:,} D={args.d} K={args.k} full, {args.iters} iterations, "
          f"{workers} workers x 1 thread, blocks of {block:,} rows, "
          f"{'with' if args.malloc_trim else 'without'} MALLOC_TRIM_THRESHOLD_ on the workers")

    if not args.malloc_trim:
        # distributed's nannies start workers with MALLOC_TRIM_THRESHOLD_ set,
        # which turns off glibc's adaptive mmap threshold: every E-step
        # temporary of a few MiB is then a fresh mmap, page-faulted in, and an
        # iteration takes about twice as long. Plain environment otherwise.
        import dask

        dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})
    with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None,
                      memory_limit=0) as cluster, Client(cluster) as client:
        lazy = make_dask_data(client, args.n, args.d, args.k, block)
        # Warm-up (compiled kernels, imports on the workers); then the two
        # paths alternate, so that load from other processes hits both alike.
        seconds(X, args.k, 1, start, lengths)
        seconds(lazy, args.k, 1, start, lengths)
        memory = dask_time = np.inf
        for _ in range(args.repeats):
            elapsed, memory_model = per_iteration(X, args.k, args.iters, start, lengths)
            memory = min(memory, elapsed)
            elapsed, dask_model = per_iteration(lazy, args.k, args.iters, start, lengths)
            dask_time = min(dask_time, elapsed)
    print(f"in memory : {memory:8.3f} s / iteration")
    print(f"dask      : {dask_time:8.3f} s / iteration")
    print(f"ratio dask / memory: {dask_time / memory:.2f} (goal <= 2)")
    gap = abs(dask_model.lower_bound_ - memory_model.lower_bound_)
    print(f"|delta loglik| / N = {gap:.2e}")
    assert gap < 1e-9, "the two paths disagree"


if __name__ == "__main__":
    main()
