"""Compiled inference kernels for hidden Markov models.

The kernels work on plain arrays and know nothing about emission families:
the caller passes the per-step emission log-densities
``log_emission[t, k] = log p(x_t | z_t = k)`` (shape ``(T_total, K)``) of one
or several sequences concatenated along the time axis, together with their
``lengths``.  This is the idea of hmmlearn's ``_hmmc`` module and of dynamax's
``hmm_filter``/``hmm_smoother``.

Public functions
----------------
forward_backward(log_startprob, log_transmat, log_emission, lengths)
    -> (log_likelihoods, posteriors, expected_transitions, expected_start)
viterbi(log_startprob, log_transmat, log_emission, lengths)
    -> (log_probs, states)
forward_log_likelihood(log_startprob, log_transmat, log_emission, lengths)
    -> log_likelihoods

Algorithms
----------
* Forward-backward is the *scaled* algorithm (Rabiner; hmmlearn's
  ``forward_scaling``/``backward_scaling``) run in probability space.  Each
  emission row is exponentiated after subtracting its maximum, and the maximum
  is kept as a per-step log offset, so no underflow occurs however long the
  sequence is (a single sequence of 10**6 steps is fine).  The forward
  variables are normalised at every step; the backward pass uses the same
  scaling constants, never stores the backward lattice and accumulates the
  expected transition counts on the fly (no ``T x K x K`` array).
  The emission rows are exponentiated in chunks of a few hundred steps into a
  small cache-resident buffer (once in the forward and once in the backward
  pass, with a vectorised exp), so the only (T, K) array is the output: the
  forward pass writes the filtered probabilities into it and the backward
  pass turns them into posteriors in place.
* Viterbi runs in log space; it stores the (T, K) max-product lattice and
  recomputes the arg-max along the path only.
* ``lengths=None`` means a single sequence.  A single sequence runs on the
  calling thread.  Several sequences are processed in parallel
  (``numba.prange``, numba's thread pool) over a fixed
  partition of the sequences into blocks of roughly equal total length; every
  block owns its own ``K x K`` accumulator and the block accumulators are
  summed in a fixed order, so the results do not depend on the number of
  threads or on scheduling.

Zero probabilities and degenerate inputs
----------------------------------------
* ``-inf`` entries in ``log_startprob``/``log_transmat`` (zero probabilities,
  e.g. left-right HMMs) are supported, and so are ``-inf`` entries in
  ``log_emission``.
* A row of ``log_emission`` equal to 0 for every state (how a wholly missing
  observation is marginalised out) is an ordinary row: it contributes nothing
  to the likelihood and the posterior at that step is the prediction.
* A sequence whose likelihood is exactly zero -- e.g. it contains an emission
  row that is ``-inf`` for every state, or only zero-probability paths lead to
  states that can emit an observation -- is reported with log-likelihood
  ``-inf``; its posterior rows are all 0 and it contributes nothing to
  ``expected_transitions``/``expected_start``.  No NaN is produced.  Viterbi
  reports log-probability ``-inf`` and the states ``-1`` for such a sequence.
  (In the scaled algorithm a likelihood that is positive but so small that the
  one-step predictive mass underflows -- below ~1e-308 relative to the best
  state at that step -- is reported the same way.)
* NaN or ``+inf`` anywhere in the inputs raises ``ValueError``.
* Sequences of length 0 are allowed: log-likelihood 0, no contribution.

The parameters need not be normalised (sub-stochastic parameters, as used by
variational Bayes, work); all the statistics returned are exact sums over the
sequences, so they can be added across chunks or mini-batches.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._fastmath import exp_array, exp_nonpos  # noqa: F401  (exp_array: tests)

__all__ = ["forward_backward", "viterbi", "forward_log_likelihood"]

# Status codes returned by the per-sequence kernels.
_OK = 0
_IMPOSSIBLE = 1  # likelihood is exactly zero
_INVALID = 2  # NaN or +inf in log_emission

# Largest number of blocks the sequences are partitioned into for the
# parallel drivers; fixed (independent of the number of threads) so that the
# summation order, hence the result, is deterministic.
_MAX_BLOCKS = 256

# fastmath flags: allow re-association (vectorised reductions) and FMA, but
# keep IEEE semantics for inf/NaN, which the kernels rely on.
_FM = {"reassoc", "contract", "nsz", "arcp"}

_NEG_INF = -np.inf
_TINY = np.finfo(np.float64).tiny  # smallest normal number


# The vectorisable exp lives in _fastmath, shared with the mixture kernels.


# ---------------------------------------------------------------------------
# Per-sequence kernels
# ---------------------------------------------------------------------------


@njit(cache=True, fastmath=_FM)
def _shifted_emissions(log_emission, ebuf):
    """ebuf[t] = exp(log_emission[t] - max_k log_emission[t, k]).

    Returns (chk, offset): ``chk`` is the sum of all entries (NaN or +inf iff
    an entry is NaN or +inf), ``offset`` the sum of the row maxima, or -inf
    if some row is -inf everywhere (its ebuf row is then 0).
    """
    T, K = log_emission.shape
    chk = 0.0
    offset = 0.0
    for t in range(T):
        m = _NEG_INF
        for k in range(K):
            v = log_emission[t, k]
            chk += v
            if v > m:
                m = v
        if m == _NEG_INF:
            offset = _NEG_INF
            for k in range(K):
                ebuf[t, k] = _NEG_INF
        else:
            offset += m
            for k in range(K):
                ebuf[t, k] = log_emission[t, k] - m
    flat = ebuf.reshape(T * K)
    for i in range(T * K):
        flat[i] = exp_nonpos(flat[i])
    return chk, offset


def _chunk_rows(K):
    """Rows per chunk of exponentiated emissions (a ~32 KiB buffer)."""
    return max(16, 4096 // K)


@njit(cache=True, fastmath=_FM)
def _forward_scaled(startprob, transmat_T, log_emission, alpha, inv_scale,
                    ebuf):
    """Scaled forward pass of one sequence.

    Writes the normalised filtered probabilities into ``alpha`` (T, K) and
    ``1 / scale_t`` into ``inv_scale`` (T,).  ``transmat_T`` is the
    transposed transition matrix; ``ebuf`` (C, K) is scratch space for the
    exponentiated emissions of C steps at a time.  Returns
    (status, log_likelihood).
    """
    T, K = log_emission.shape
    C = ebuf.shape[0]
    loglik = 0.0
    prod = 1.0
    chk = 0.0
    for c0 in range(0, T, C):
        c1 = min(T, c0 + C)
        chk_c, offset = _shifted_emissions(log_emission[c0:c1],
                                           ebuf[:c1 - c0])
        chk += chk_c
        if not (chk < np.inf):
            return _INVALID, np.nan
        if offset == _NEG_INF:
            return _impossible_or_invalid(chk, log_emission, c1)
        loglik += offset
        for t in range(c0, c1):
            r = t - c0
            s = 0.0
            if t == 0:
                for j in range(K):
                    v = startprob[j] * ebuf[r, j]
                    alpha[0, j] = v
                    s += v
            else:
                for j in range(K):
                    acc = 0.0
                    for i in range(K):
                        acc += alpha[t - 1, i] * transmat_T[j, i]
                    v = acc * ebuf[r, j]
                    alpha[t, j] = v
                    s += v
            if not (s >= _TINY and s < np.inf):
                if s < _TINY:  # zero (or subnormal) predictive mass
                    return _impossible_or_invalid(chk, log_emission, c1)
                return _INVALID, np.nan
            inv = 1.0 / s
            for j in range(K):
                alpha[t, j] *= inv
            inv_scale[t] = inv
            # log-likelihood: product of the scales, logged now and then
            # (a log per step costs ~10%); prod stays in [1e-150, 1e150]
            if s > 1e-150 and s < 1e150:
                prod *= s
            else:
                loglik += math.log(s)
            if prod < 1e-150 or prod > 1e150:
                loglik += math.log(prod)
                prod = 1.0
    return _OK, loglik + math.log(prod)


@njit(cache=True, fastmath=_FM)
def _backward_scaled(transmat, log_emission, post, inv_scale, xi_acc, beta,
                     tmp, ebuf):
    """Scaled backward pass of one sequence, in place.

    On entry ``post`` holds the normalised forward probabilities; on exit it
    holds the posteriors.  Adds ``sum_t alpha[t, i] * (e[t+1, j] *
    beta[t+1, j] / scale[t+1])`` to ``xi_acc[i, j]``; multiplying the
    accumulator element-wise by ``transmat`` gives the expected transitions.
    The shifted emissions are recomputed chunk by chunk into ``ebuf`` (the
    very same values as in the forward pass), so that no (T, K) scratch
    array is needed.
    """
    T, K = post.shape
    C = ebuf.shape[0]
    for k in range(K):
        beta[k] = 1.0
    # gamma[T-1] = alpha[T-1], already normalised.  Steps u = t + 1 are
    # processed from T - 1 down to 1, in chunks [u0, u1).
    u1 = T
    while u1 > 1:
        u0 = max(1, u1 - C)
        _shifted_emissions(log_emission[u0:u1], ebuf[:u1 - u0])
        for u in range(u1 - 1, u0 - 1, -1):
            t = u - 1
            r = u - u0
            inv = inv_scale[u]
            for j in range(K):
                tmp[j] = ebuf[r, j] * beta[j] * inv
            gsum = 0.0
            for i in range(K):
                a = post[t, i]
                acc = 0.0
                for j in range(K):
                    tj = tmp[j]
                    acc += transmat[i, j] * tj
                    xi_acc[i, j] += a * tj
                beta[i] = acc
                g = a * acc
                post[t, i] = g
                gsum += g
            ginv = 1.0 / gsum
            for i in range(K):
                post[t, i] *= ginv
        u1 = u0


@njit(cache=True, fastmath=_FM)
def _forward_only(startprob, transmat_T, log_emission, alpha, alpha_new,
                  ebuf):
    """Scaled forward pass keeping only the current filter; (status, ll)."""
    T, K = log_emission.shape
    C = ebuf.shape[0]
    loglik = 0.0
    prod = 1.0
    chk = 0.0
    for c0 in range(0, T, C):
        c1 = min(T, c0 + C)
        chk_c, offset = _shifted_emissions(log_emission[c0:c1],
                                           ebuf[:c1 - c0])
        chk += chk_c
        if not (chk < np.inf):
            return _INVALID, np.nan
        if offset == _NEG_INF:
            return _impossible_or_invalid(chk, log_emission, c1)
        loglik += offset
        for t in range(c0, c1):
            r = t - c0
            s = 0.0
            if t == 0:
                for j in range(K):
                    v = startprob[j] * ebuf[r, j]
                    alpha_new[j] = v
                    s += v
            else:
                for j in range(K):
                    acc = 0.0
                    for i in range(K):
                        acc += alpha[i] * transmat_T[j, i]
                    v = acc * ebuf[r, j]
                    alpha_new[j] = v
                    s += v
            if not (s >= _TINY and s < np.inf):
                if s < _TINY:  # zero (or subnormal) predictive mass
                    return _impossible_or_invalid(chk, log_emission, c1)
                return _INVALID, np.nan
            inv = 1.0 / s
            for k in range(K):
                alpha[k] = alpha_new[k] * inv
            # log-likelihood: product of the scales, logged now and then
            # (a log per step costs ~10%); prod stays in [1e-150, 1e150]
            if s > 1e-150 and s < 1e150:
                prod *= s
            else:
                loglik += math.log(s)
            if prod < 1e-150 or prod > 1e150:
                loglik += math.log(prod)
                prod = 1.0
    return _OK, loglik + math.log(prod)


@njit(cache=True)
def _check_rows(log_emission, t0):
    """Sum of log_emission[t0:]; NaN or +inf iff an entry is NaN or +inf."""
    T, K = log_emission.shape
    chk = 0.0
    for t in range(t0, T):
        for k in range(K):
            chk += log_emission[t, k]
    return chk


@njit(cache=True)
def _impossible_or_invalid(chk, log_emission, t0):
    """Status of a sequence whose likelihood vanished at step t0 - 1."""
    chk += _check_rows(log_emission, t0)
    if not (chk < np.inf):
        return _INVALID, np.nan
    return _IMPOSSIBLE, _NEG_INF


@njit(cache=True, fastmath=_FM)
def _viterbi_seq(log_startprob, log_transmat, log_transmat_T, log_emission,
                 states, delta):
    """Log-space Viterbi of one sequence; returns (status, log_prob).

    The forward recursion stores the max-product lattice ``delta`` (T, K)
    (only a max-reduction, which vectorises; no arg-max); the backtrack
    recomputes the arg-max along the path only, with the very same
    floating-point additions, ties going to the lowest state index.
    """
    T, K = log_emission.shape
    if T == 0:
        return _OK, 0.0
    K4 = K - K % 4
    chk = 0.0
    for k in range(K):
        v = log_emission[0, k]
        chk += v
        delta[0, k] = log_startprob[k] + v
    for t in range(1, T):
        # blocks of 4 target states: 4 independent running maxima over the
        # source states, which LLVM packs into one vector (SLP)
        for j0 in range(0, K4, 4):
            b0 = _NEG_INF
            b1 = _NEG_INF
            b2 = _NEG_INF
            b3 = _NEG_INF
            for i in range(K):
                d = delta[t - 1, i]
                c0 = d + log_transmat[i, j0]
                c1 = d + log_transmat[i, j0 + 1]
                c2 = d + log_transmat[i, j0 + 2]
                c3 = d + log_transmat[i, j0 + 3]
                b0 = c0 if c0 > b0 else b0
                b1 = c1 if c1 > b1 else b1
                b2 = c2 if c2 > b2 else b2
                b3 = c3 if c3 > b3 else b3
            v0 = log_emission[t, j0]
            v1 = log_emission[t, j0 + 1]
            v2 = log_emission[t, j0 + 2]
            v3 = log_emission[t, j0 + 3]
            chk += (v0 + v1) + (v2 + v3)
            delta[t, j0] = b0 + v0
            delta[t, j0 + 1] = b1 + v1
            delta[t, j0 + 2] = b2 + v2
            delta[t, j0 + 3] = b3 + v3
        for j in range(K4, K):
            b = _NEG_INF
            for i in range(K):
                c = delta[t - 1, i] + log_transmat_T[j, i]
                b = c if c > b else b
            v = log_emission[t, j]
            chk += v
            delta[t, j] = b + v
    if not (chk < np.inf):
        return _INVALID, np.nan
    k_best = 0
    v_best = delta[T - 1, 0]
    for k in range(1, K):
        if delta[T - 1, k] > v_best:
            v_best = delta[T - 1, k]
            k_best = k
    if v_best == _NEG_INF:
        for t in range(T):
            states[t] = -1
        return _IMPOSSIBLE, _NEG_INF
    states[T - 1] = k_best
    for t in range(T - 1, 0, -1):
        j = k_best
        k_best = 0
        v_best = delta[t - 1, 0] + log_transmat_T[j, 0]
        for i in range(1, K):
            c = delta[t - 1, i] + log_transmat_T[j, i]
            gt = c > v_best  # branch-free (selects): the path is random
            v_best = c if gt else v_best
            k_best = i if gt else k_best
        states[t - 1] = k_best
    return _OK, delta[T - 1, states[T - 1]]


# ---------------------------------------------------------------------------
# Drivers over many sequences
# ---------------------------------------------------------------------------


# The parallel drivers call the per-sequence kernels directly (a single
# sequence is handled from Python, on the calling thread): every extra level
# of njit functions costs another LLVM optimisation of the inlined code, i.e.
# compilation time.


@njit(cache=True, parallel=True)
def _forward_backward_blocks(startprob, transmat, transmat_T, log_emission,
                             starts, bounds, post, inv_scale, xi_blocks,
                             loglik, status, chunk):
    K = startprob.shape[0]
    nb = bounds.shape[0] - 1
    for b in prange(nb):
        beta = np.empty(K)
        tmp = np.empty(K)
        ebuf = np.empty((chunk, K))
        for n in range(bounds[b], bounds[b + 1]):
            s0 = starts[n]
            s1 = starts[n + 1]
            st, ll = _forward_scaled(startprob, transmat_T,
                                     log_emission[s0:s1], post[s0:s1],
                                     inv_scale[s0:s1], ebuf)
            if st == _OK:
                _backward_scaled(transmat, log_emission[s0:s1], post[s0:s1],
                                 inv_scale[s0:s1], xi_blocks[b], beta, tmp,
                                 ebuf)
            else:
                post[s0:s1] = 0.0
            status[n] = st
            loglik[n] = ll


@njit(cache=True, parallel=True)
def _forward_blocks(startprob, transmat_T, log_emission, starts, bounds,
                    loglik, status, chunk):
    K = startprob.shape[0]
    nb = bounds.shape[0] - 1
    for b in prange(nb):
        alpha = np.empty(K)
        alpha_new = np.empty(K)
        ebuf = np.empty((chunk, K))
        for n in range(bounds[b], bounds[b + 1]):
            st, ll = _forward_only(startprob, transmat_T,
                                   log_emission[starts[n]:starts[n + 1]],
                                   alpha, alpha_new, ebuf)
            status[n] = st
            loglik[n] = ll


@njit(cache=True, parallel=True)
def _viterbi_blocks(log_startprob, log_transmat, log_transmat_T, log_emission,
                    starts, bounds, states, delta, logprob, status):
    nb = bounds.shape[0] - 1
    for b in prange(nb):
        for n in range(bounds[b], bounds[b + 1]):
            s0 = starts[n]
            s1 = starts[n + 1]
            st, lp = _viterbi_seq(log_startprob, log_transmat, log_transmat_T,
                                  log_emission[s0:s1], states[s0:s1],
                                  delta[s0:s1])
            status[n] = st
            logprob[n] = lp


# ---------------------------------------------------------------------------
# Python wrappers
# ---------------------------------------------------------------------------


def _as_float64(x):
    """C-contiguous, aligned, writeable float64 array (one numba signature;
    a read-only or unaligned input would trigger a fresh compilation)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    if not (x.flags.writeable and x.flags.aligned):
        x = x.copy()
    return x


def _prepare(log_startprob, log_transmat, log_emission, lengths):
    log_startprob = _as_float64(log_startprob)
    log_transmat = _as_float64(log_transmat)
    log_emission = _as_float64(log_emission)
    if log_emission.ndim != 2:
        raise ValueError("log_emission must have shape (T_total, K), got "
                         f"shape {log_emission.shape}")
    T, K = log_emission.shape
    if K < 1:
        raise ValueError("need at least one state")
    if log_startprob.shape != (K,):
        raise ValueError(f"log_startprob must have shape ({K},), got "
                         f"{log_startprob.shape}")
    if log_transmat.shape != (K, K):
        raise ValueError(f"log_transmat must have shape ({K}, {K}), got "
                         f"{log_transmat.shape}")
    if np.isnan(log_startprob).any() or np.isposinf(log_startprob).any():
        raise ValueError("log_startprob contains NaN or +inf")
    if np.isnan(log_transmat).any() or np.isposinf(log_transmat).any():
        raise ValueError("log_transmat contains NaN or +inf")
    if lengths is None:
        lengths = np.array([T], dtype=np.int64)
    else:
        lengths = np.asarray(lengths)
        if lengths.ndim != 1:
            raise ValueError("lengths must be one-dimensional")
        if lengths.size and not np.issubdtype(lengths.dtype, np.integer):
            if not np.all(lengths == np.round(lengths)):
                raise ValueError("lengths must be integers")
        lengths = lengths.astype(np.int64)
        if (lengths < 0).any():
            raise ValueError("lengths must be non-negative")
        if int(lengths.sum()) != T:
            raise ValueError(f"lengths sum to {int(lengths.sum())} but "
                             f"log_emission has {T} rows")
    starts = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    return log_startprob, log_transmat, log_emission, starts


def _block_bounds(starts):
    """Partition sequences into <= _MAX_BLOCKS blocks of similar total length.

    Depends only on the lengths, never on the number of threads.
    """
    n = starts.size - 1
    T = int(starts[-1])
    nb = min(n, _MAX_BLOCKS)
    if nb <= 1 or T == 0:
        return np.array([0, n], dtype=np.int64)
    # sequence n goes to block floor(starts[n] * nb / T) (integer arithmetic)
    targets = np.arange(nb + 1, dtype=np.int64) * T
    bounds = np.searchsorted(starts[:-1] * nb, targets, side="left")
    bounds[0] = 0
    bounds[-1] = n
    return bounds.astype(np.int64)


def _raise_invalid(status):
    if (status == _INVALID).any():
        raise ValueError("log_emission contains NaN or +inf (or the "
                         "unnormalised parameters overflow)")


def forward_backward(log_startprob, log_transmat, log_emission, lengths=None):
    """Scaled forward-backward over concatenated sequences.

    Parameters
    ----------
    log_startprob : (K,) array
        Log initial-state probabilities (``-inf`` allowed).
    log_transmat : (K, K) array
        Log transition probabilities, ``log_transmat[i, j] = log p(j | i)``
        (``-inf`` allowed).
    log_emission : (T_total, K) array
        ``log p(x_t | z_t = k)`` for all sequences, concatenated.
    lengths : (n_sequences,) int array, optional
        Lengths of the sequences, summing to ``T_total``; default: one
        sequence.

    Returns
    -------
    log_likelihoods : (n_sequences,) array
        ``log p(x_{1:T_n})`` of each sequence (``-inf`` if impossible).
    posteriors : (T_total, K) array
        ``p(z_t = k | x)`` (rows of an impossible sequence are 0).
    expected_transitions : (K, K) array
        ``sum_n sum_t p(z_t = i, z_{t+1} = j | x^n)``.
    expected_start : (K,) array
        ``sum_n p(z_1^n = k | x^n)``.
    """
    pi_log, A_log, logB, starts = _prepare(log_startprob, log_transmat,
                                           log_emission, lengths)
    T, K = logB.shape
    n = starts.size - 1
    startprob = np.exp(pi_log)
    transmat = np.exp(A_log)
    transmat_T = np.ascontiguousarray(transmat.T)
    post = np.empty((T, K))
    inv_scale = np.empty(T)
    loglik = np.empty(n)
    status = np.zeros(n, dtype=np.int64)
    chunk = _chunk_rows(K)
    if n == 1:
        xi = np.zeros((K, K))
        ebuf = np.empty((chunk, K))
        status[0], loglik[0] = _forward_scaled(startprob, transmat_T, logB,
                                               post, inv_scale, ebuf)
        if status[0] == _OK:
            _backward_scaled(transmat, logB, post, inv_scale, xi, np.empty(K),
                             np.empty(K), ebuf)
        else:
            post[:] = 0.0
    else:
        bounds = _block_bounds(starts)
        xi_blocks = np.zeros((bounds.size - 1, K, K))
        if n > 0:
            _forward_backward_blocks(startprob, transmat, transmat_T, logB,
                                     starts, bounds, post, inv_scale,
                                     xi_blocks, loglik, status, chunk)
        xi = xi_blocks.sum(axis=0)
    _raise_invalid(status)
    loglik[status == _IMPOSSIBLE] = -np.inf
    xi *= transmat
    nonempty = starts[:-1][starts[1:] > starts[:-1]]
    expected_start = post[nonempty].sum(axis=0)
    return loglik, post, xi, expected_start


def forward_log_likelihood(log_startprob, log_transmat, log_emission,
                           lengths=None):
    """Log-likelihood of each sequence (scaled forward pass only).

    Same arguments and conventions as :func:`forward_backward`; returns the
    ``(n_sequences,)`` array of log-likelihoods.
    """
    pi_log, A_log, logB, starts = _prepare(log_startprob, log_transmat,
                                           log_emission, lengths)
    n = starts.size - 1
    loglik = np.empty(n)
    status = np.zeros(n, dtype=np.int64)
    startprob = np.exp(pi_log)
    transmat_T = np.ascontiguousarray(np.exp(A_log).T)
    chunk = _chunk_rows(logB.shape[1])
    if n == 1:
        K = logB.shape[1]
        status[0], loglik[0] = _forward_only(startprob, transmat_T, logB,
                                             np.empty(K), np.empty(K),
                                             np.empty((chunk, K)))
    elif n > 0:
        _forward_blocks(startprob, transmat_T, logB, starts,
                        _block_bounds(starts), loglik, status, chunk)
    _raise_invalid(status)
    loglik[status == _IMPOSSIBLE] = -np.inf
    return loglik


def viterbi(log_startprob, log_transmat, log_emission, lengths=None):
    """Most probable state path of each sequence (log-space Viterbi).

    Same arguments as :func:`forward_backward`.

    Returns
    -------
    log_probs : (n_sequences,) array
        ``max_z log p(x, z)`` for each sequence (``-inf`` if impossible).
    states : (T_total,) int64 array
        The concatenated most probable paths; ``-1`` for the steps of an
        impossible sequence.  Ties are broken towards the lowest state index.
    """
    pi_log, A_log, logB, starts = _prepare(log_startprob, log_transmat,
                                           log_emission, lengths)
    T, K = logB.shape
    n = starts.size - 1
    states = np.empty(T, dtype=np.int64)
    delta = np.empty((T, K))
    log_transmat_T = np.ascontiguousarray(A_log.T)
    logprob = np.empty(n)
    status = np.zeros(n, dtype=np.int64)
    if n == 1:
        status[0], logprob[0] = _viterbi_seq(pi_log, A_log, log_transmat_T,
                                             logB, states, delta)
    elif n > 0:
        _viterbi_blocks(pi_log, A_log, log_transmat_T, logB, starts,
                        _block_bounds(starts), states, delta, logprob, status)
    _raise_invalid(status)
    return logprob, states
