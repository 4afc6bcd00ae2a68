"""Kernel-level timing of emkit.kernels.hmm against hmmlearn's ``_hmmc``.

Run:  PYTHONPATH=src python benchmarks/bench_hmm_kernels.py [--K 8] [--T 100000]

Data: K states, random log-emissions for T steps, as one sequence and as
100 sequences of T/100 steps.  hmmlearn's E-step (``_fit_scaling`` +
``_accumulate_sufficient_statistics_scaling``) is reproduced with its
compiled kernels: ``frameprob = exp(log_frameprob)``, ``forward_scaling``,
``backward_scaling``, posteriors ``normalize(fwd * bwd)``,
``compute_scaling_xi_sum``, looping over the sequences as hmmlearn does.
emkit's ``forward_backward`` starts from the log-emissions, so the fair
comparison includes hmmlearn's ``np.exp``; the ratio without it is printed
as well.  Numba compilation is excluded (warm-up call first); each timing is
the best of several interleaved repetitions (wall clock; for the single
sequence, where everything runs on the calling thread, also thread CPU time,
which is steadier on a shared machine).
"""

import argparse
import time

import numba
import numpy as np
from hmmlearn import _hmmc
from hmmlearn.utils import normalize

from emkit.kernels import forward_backward, forward_log_likelihood, viterbi


def hmmlearn_estep(startprob, transmat, log_emission, lengths, frameprob=None):
    """hmmlearn's scaling E-step kernels; ``frameprob`` precomputed or not."""
    ends = np.cumsum(lengths)
    K = startprob.size
    trans = np.zeros((K, K))
    start = np.zeros(K)
    lls = []
    for s1, n in zip(ends, lengths):
        s0 = s1 - n
        if frameprob is None:
            fp = np.exp(log_emission[s0:s1])
        else:
            fp = frameprob[s0:s1]
        ll, fwd, scaling = _hmmc.forward_scaling(startprob, transmat, fp)
        bwd = _hmmc.backward_scaling(startprob, transmat, fp, scaling)
        post = fwd * bwd
        normalize(post, axis=1)
        trans += _hmmc.compute_scaling_xi_sum(fwd, transmat, bwd, fp)
        start += post[0]
        lls.append(ll)
    return lls, trans, start


def hmmlearn_score(startprob, transmat, log_emission, lengths):
    ends = np.cumsum(lengths)
    return [_hmmc.forward_scaling(startprob, transmat, np.exp(log_emission[e - n:e]))[0]
            for e, n in zip(ends, lengths)]


def hmmlearn_viterbi(startprob, transmat, log_emission, lengths):
    ends = np.cumsum(lengths)
    return [_hmmc.viterbi(startprob, transmat, log_emission[e - n:e])
            for e, n in zip(ends, lengths)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--K", type=int, default=8)
    parser.add_argument("--T", type=int, default=100_000)
    parser.add_argument("--n-seq", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    K, T, R = args.K, args.T, args.repeat

    rng = np.random.default_rng(0)
    startprob = rng.dirichlet(np.ones(K))
    transmat = rng.dirichlet(np.ones(K), size=K)
    log_emission = 2.0 * rng.normal(size=(T, K))
    lpi, lA = np.log(startprob), np.log(transmat)

    print(f"K={K}, T={T}, numba threads={numba.get_num_threads()}, "
          f"best of {R} (seconds)")
    for label, lengths in [("1 x %d" % T, np.array([T])),
                           ("%d x %d" % (args.n_seq, T // args.n_seq),
                            np.full(args.n_seq, T // args.n_seq))]:
        lengths = lengths.astype(np.int64)
        lB = log_emission[: lengths.sum()]
        # warm up (compilation) and check agreement
        e_ll, e_post, e_xi, e_start = forward_backward(lpi, lA, lB, lengths)
        h_ll, h_xi, h_start = hmmlearn_estep(startprob, transmat, lB, lengths)
        assert np.allclose(e_ll, h_ll, rtol=1e-10) and np.allclose(e_xi, h_xi, rtol=1e-9)
        e_lp, e_states = viterbi(lpi, lA, lB, lengths)
        h_states = np.concatenate([s for _, s in hmmlearn_viterbi(startprob, transmat, lB, lengths)])
        assert np.array_equal(e_states, h_states)
        forward_log_likelihood(lpi, lA, lB, lengths)
        frameprob = np.exp(lB)

        cases = {
            "forward_backward": (
                lambda: forward_backward(lpi, lA, lB, lengths),
                lambda: hmmlearn_estep(startprob, transmat, lB, lengths)),
            "  (hmmlearn without np.exp)": (
                None,
                lambda: hmmlearn_estep(startprob, transmat, lB, lengths, frameprob)),
            "viterbi": (
                lambda: viterbi(lpi, lA, lB, lengths),
                lambda: hmmlearn_viterbi(startprob, transmat, lB, lengths)),
            "forward_log_likelihood": (
                lambda: forward_log_likelihood(lpi, lA, lB, lengths),
                lambda: hmmlearn_score(startprob, transmat, lB, lengths)),
        }
        # interleave the repetitions so that load changes hit both sides;
        # wall-clock time, and for one sequence (everything runs on the
        # calling thread) also the thread's CPU time, which is less
        # sensitive to other processes on a busy machine
        clocks = [("wall", time.perf_counter)]
        if lengths.size == 1:
            clocks.append(("cpu", time.thread_time))
        times = {(name, c): [np.inf, np.inf] for name in cases for c, _ in clocks}
        for _ in range(R):
            for name, fns in cases.items():
                for side, fn in enumerate(fns):
                    if fn is None:
                        continue
                    for c, clock in clocks:
                        t0 = clock()
                        fn()
                        t = clock() - t0
                        times[name, c][side] = min(times[name, c][side], t)
        for c, _ in clocks:
            times["  (hmmlearn without np.exp)", c][0] = times["forward_backward", c][0]
        print(f"\n{label}:")
        print(f"  {'kernel':30s} {'clock':>5s} {'emkit':>9s} {'hmmlearn':>9s} {'speed-up':>9s}")
        for (name, c), (te, th) in times.items():
            print(f"  {name:30s} {c:>5s} {te:9.4f} {th:9.4f} {th / te:8.2f}x")

if __name__ == "__main__":
    main()
