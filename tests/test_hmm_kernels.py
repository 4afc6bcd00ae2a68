"""Tests of the compiled HMM inference kernels (emkit.kernels.hmm).

Every expected number is computed independently of the kernels: by brute-force
enumeration of all state paths, by a log-space numpy/scipy reference
implementation (below), or by hmmlearn's compiled ``_hmmc`` kernels.
"""

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

from emkit.kernels import forward_backward, forward_log_likelihood, viterbi
from emkit.kernels import hmm as hmm_kernels

# ---------------------------------------------------------------------------
# Oracles
# ---------------------------------------------------------------------------


def _split(lengths):
    ends = np.cumsum(lengths)
    return [(int(e - n), int(e)) for n, e in zip(lengths, ends)]


def brute_force(log_startprob, log_transmat, log_emission, lengths):
    """Enumerate every state path of every sequence."""
    K = log_startprob.shape[0]
    lls, post, xi, start = [], np.zeros_like(log_emission), np.zeros((K, K)), np.zeros(K)
    vit_lp, vit_states = [], []
    for s0, s1 in _split(lengths):
        T = s1 - s0
        paths = np.array(list(itertools.product(range(K), repeat=T)))
        lp = log_startprob[paths[:, 0]] + log_emission[s0, paths[:, 0]]
        for t in range(1, T):
            lp = lp + log_transmat[paths[:, t - 1], paths[:, t]] + log_emission[s0 + t, paths[:, t]]
        ll = logsumexp(lp)
        lls.append(ll)
        w = np.exp(lp - ll)
        for t in range(T):
            post[s0 + t] = np.bincount(paths[:, t], weights=w, minlength=K)
        for t in range(T - 1):
            np.add.at(xi, (paths[:, t], paths[:, t + 1]), w)
        start += post[s0]
        best = int(np.argmax(lp))
        vit_lp.append(lp[best])
        vit_states.extend(paths[best])
    return np.array(lls), post, xi, start, np.array(vit_lp), np.array(vit_states)


def reference_forward_backward(log_startprob, log_transmat, log_emission, lengths):
    """Log-space forward-backward with scipy.special.logsumexp (oracle only)."""
    K = log_startprob.shape[0]
    lls, post, xi, start = [], np.zeros_like(log_emission), np.zeros((K, K)), np.zeros(K)
    for s0, s1 in _split(lengths):
        lB = log_emission[s0:s1]
        T = s1 - s0
        la = np.empty((T, K))
        lb = np.zeros((T, K))
        la[0] = log_startprob + lB[0]
        for t in range(1, T):
            la[t] = logsumexp(la[t - 1][:, None] + log_transmat, axis=0) + lB[t]
        for t in range(T - 2, -1, -1):
            lb[t] = logsumexp(log_transmat + (lB[t + 1] + lb[t + 1])[None, :], axis=1)
        ll = logsumexp(la[-1])
        lls.append(ll)
        post[s0:s1] = np.exp(la + lb - ll)
        for t in range(T - 1):
            xi += np.exp(la[t][:, None] + log_transmat + (lB[t + 1] + lb[t + 1])[None, :] - ll)
        start += post[s0]
    return np.array(lls), post, xi, start


def reference_viterbi(log_startprob, log_transmat, log_emission, lengths):
    lps, states = [], []
    for s0, s1 in _split(lengths):
        lB = log_emission[s0:s1]
        T, K = lB.shape
        delta = log_startprob + lB[0]
        bp = np.zeros((T, K), dtype=int)
        for t in range(1, T):
            cand = delta[:, None] + log_transmat
            bp[t] = np.argmax(cand, axis=0)
            delta = cand[bp[t], np.arange(K)] + lB[t]
        path = [int(np.argmax(delta))]
        for t in range(T - 1, 0, -1):
            path.append(bp[t, path[-1]])
        lps.append(delta.max())
        states.extend(path[::-1])
    return np.array(lps), np.array(states)


def random_hmm(rng, K, T, scale=1.0):
    log_startprob = np.log(rng.dirichlet(np.ones(K)))
    log_transmat = np.log(rng.dirichlet(np.ones(K), size=K))
    log_emission = scale * rng.normal(size=(T, K)) - 1.0
    return log_startprob, log_transmat, log_emission


# ---------------------------------------------------------------------------
# Brute force
# ---------------------------------------------------------------------------

LENGTHS = np.array([3, 5, 1, 6])


@pytest.mark.parametrize("K", [1, 2, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_brute_force(K, seed):
    rng = np.random.default_rng(seed)
    params = random_hmm(rng, K, LENGTHS.sum(), scale=2.0)
    ll, post, xi, start, vlp, vstates = brute_force(*params, LENGTHS)

    r_ll, r_post, r_xi, r_start = forward_backward(*params, LENGTHS)
    np.testing.assert_allclose(r_ll, ll, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(r_post, post, rtol=0, atol=1e-10)
    np.testing.assert_allclose(r_xi, xi, rtol=0, atol=1e-10)
    np.testing.assert_allclose(r_start, start, rtol=0, atol=1e-10)
    np.testing.assert_allclose(forward_log_likelihood(*params, LENGTHS), ll, rtol=1e-12, atol=1e-10)

    r_vlp, r_states = viterbi(*params, LENGTHS)
    np.testing.assert_allclose(r_vlp, vlp, rtol=1e-12, atol=1e-10)
    np.testing.assert_array_equal(r_states, vstates)
    assert r_states.dtype == np.int64 and r_states.shape == (LENGTHS.sum(),)


def test_brute_force_zero_probabilities():
    """Left-right model with -inf start/transition entries."""
    rng = np.random.default_rng(3)
    K = 3
    startprob = np.array([0.7, 0.3, 0.0])
    transmat = np.array([[0.6, 0.4, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]])
    with np.errstate(divide="ignore"):
        lpi, lA = np.log(startprob), np.log(transmat)
    lB = 2 * rng.normal(size=(LENGTHS.sum(), K))
    ll, post, xi, start, vlp, vstates = brute_force(lpi, lA, lB, LENGTHS)
    r_ll, r_post, r_xi, r_start = forward_backward(lpi, lA, lB, LENGTHS)
    np.testing.assert_allclose(r_ll, ll, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(r_post, post, atol=1e-10)
    np.testing.assert_allclose(r_xi, xi, atol=1e-10)
    np.testing.assert_allclose(r_start, start, atol=1e-10)
    assert r_xi[1, 0] == 0 and r_xi[2, 0] == 0 and r_xi[2, 1] == 0 and r_xi[0, 2] == 0
    assert np.all(r_post[[0, 3, 8, 9], 2] == 0)  # state 2 impossible at t = 0
    r_vlp, r_states = viterbi(lpi, lA, lB, LENGTHS)
    np.testing.assert_allclose(r_vlp, vlp, rtol=1e-12)
    np.testing.assert_array_equal(r_states, vstates)


# ---------------------------------------------------------------------------
# Log-space reference on larger problems
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("K", [2, 7, 64])
def test_matches_log_space_reference(K):
    rng = np.random.default_rng(K)
    lengths = np.array([40, 1, 200, 17, 300])
    params = random_hmm(rng, K, lengths.sum(), scale=3.0)
    exp_ll, exp_post, exp_xi, exp_start = reference_forward_backward(*params, lengths)
    ll, post, xi, start = forward_backward(*params, lengths)
    np.testing.assert_allclose(ll, exp_ll, rtol=1e-11)
    np.testing.assert_allclose(post, exp_post, atol=1e-10)
    np.testing.assert_allclose(xi, exp_xi, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(start, exp_start, atol=1e-10)
    np.testing.assert_allclose(forward_log_likelihood(*params, lengths), exp_ll, rtol=1e-11)
    exp_lp, exp_states = reference_viterbi(*params, lengths)
    lp, states = viterbi(*params, lengths)
    np.testing.assert_allclose(lp, exp_lp, rtol=1e-12)
    np.testing.assert_array_equal(states, exp_states)


def test_statistics_add_across_chunks():
    rng = np.random.default_rng(5)
    lengths = np.array([30, 12, 50, 1, 7, 60])
    params = random_hmm(rng, 4, lengths.sum())
    lpi, lA, lB = params
    ll, post, xi, start = forward_backward(*params, lengths)
    cut = lengths[:3].sum()
    a = forward_backward(lpi, lA, lB[:cut], lengths[:3])
    b = forward_backward(lpi, lA, lB[cut:], lengths[3:])
    np.testing.assert_allclose(np.concatenate([a[0], b[0]]), ll, rtol=1e-13)
    np.testing.assert_allclose(np.vstack([a[1], b[1]]), post, atol=1e-14)
    np.testing.assert_allclose(a[2] + b[2], xi, rtol=1e-12)
    np.testing.assert_allclose(a[3] + b[3], start, rtol=1e-12)
    np.testing.assert_allclose(xi.sum(), lengths.sum() - len(lengths), rtol=1e-12)
    np.testing.assert_allclose(start.sum(), len(lengths), rtol=1e-12)


def test_deterministic_and_thread_count_independent():
    import numba

    rng = np.random.default_rng(6)
    lengths = rng.integers(1, 400, size=300)
    params = random_hmm(rng, 5, lengths.sum())
    r1 = forward_backward(*params, lengths)
    r2 = forward_backward(*params, lengths)
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        r3 = forward_backward(*params, lengths)
        v3 = viterbi(*params, lengths)
    finally:
        numba.set_num_threads(old)
    v1 = viterbi(*params, lengths)
    for x, y, z in zip(r1, r2, r3):
        assert np.array_equal(x, y) and np.array_equal(x, z)
    assert np.array_equal(v1[0], v3[0]) and np.array_equal(v1[1], v3[1])


# ---------------------------------------------------------------------------
# Parity with hmmlearn's compiled kernels
# ---------------------------------------------------------------------------


def test_hmmlearn_parity():
    _hmmc = pytest.importorskip("hmmlearn._hmmc")
    rng = np.random.default_rng(7)
    K, T = 5, 2000
    startprob = rng.dirichlet(np.ones(K))
    transmat = rng.dirichlet(np.ones(K), size=K)
    log_emission = 2.0 * rng.normal(size=(T, K))
    frameprob = np.exp(log_emission)

    h_ll, fwd, scaling = _hmmc.forward_scaling(startprob, transmat, frameprob)
    bwd = _hmmc.backward_scaling(startprob, transmat, frameprob, scaling)
    h_post = fwd * bwd
    h_post /= h_post.sum(axis=1, keepdims=True)
    h_xi = _hmmc.compute_scaling_xi_sum(fwd, transmat, bwd, frameprob)
    h_vlp, h_states = _hmmc.viterbi(startprob, transmat, log_emission)

    lpi, lA = np.log(startprob), np.log(transmat)
    ll, post, xi, start = forward_backward(lpi, lA, log_emission, [T])
    np.testing.assert_allclose(ll[0], h_ll, rtol=1e-10)
    np.testing.assert_allclose(post, h_post, rtol=0, atol=1e-10)
    np.testing.assert_allclose(xi, h_xi, rtol=1e-10)
    np.testing.assert_allclose(start, h_post[0], atol=1e-10)
    np.testing.assert_allclose(forward_log_likelihood(lpi, lA, log_emission, [T])[0], h_ll, rtol=1e-10)
    vlp, states = viterbi(lpi, lA, log_emission, [T])
    np.testing.assert_allclose(vlp[0], h_vlp, rtol=1e-10)
    np.testing.assert_array_equal(states, h_states)


# ---------------------------------------------------------------------------
# Degenerate inputs
# ---------------------------------------------------------------------------


def test_all_minus_inf_emission_row():
    """A sequence with an impossible observation: -inf, zero stats, no NaN."""
    rng = np.random.default_rng(8)
    lengths = np.array([4, 6, 5])
    lpi, lA, lB = random_hmm(rng, 3, lengths.sum())
    lB_bad = lB.copy()
    lB_bad[6] = -np.inf  # inside the second sequence
    ll, post, xi, start = forward_backward(lpi, lA, lB_bad, lengths)
    assert not np.isnan(post).any() and not np.isnan(xi).any() and not np.isnan(ll).any()
    assert ll[1] == -np.inf
    assert np.all(post[4:10] == 0)
    # the other sequences are untouched and the bad one contributes nothing
    keep = np.r_[0:4, 10:15]
    g_ll, g_post, g_xi, g_start = reference_forward_backward(lpi, lA, lB[keep], lengths[[0, 2]])
    np.testing.assert_allclose(ll[[0, 2]], g_ll, rtol=1e-12)
    np.testing.assert_allclose(post[keep], g_post, atol=1e-12)
    np.testing.assert_allclose(xi, g_xi, atol=1e-12)
    np.testing.assert_allclose(start, g_start, atol=1e-12)
    np.testing.assert_array_equal(forward_log_likelihood(lpi, lA, lB_bad, lengths)[1], -np.inf)
    lp, states = viterbi(lpi, lA, lB_bad, lengths)
    assert lp[1] == -np.inf and np.all(states[4:10] == -1)
    np.testing.assert_array_equal(states[keep], reference_viterbi(lpi, lA, lB[keep], lengths[[0, 2]])[1])
    # single-sequence path, impossible row at the very start and the very end
    for row in (0, 3):
        lB1 = lB[:4].copy()
        lB1[row] = -np.inf
        ll1, post1, xi1, start1 = forward_backward(lpi, lA, lB1)
        assert ll1[0] == -np.inf and np.all(post1 == 0) and np.all(xi1 == 0) and np.all(start1 == 0)
        assert forward_log_likelihood(lpi, lA, lB1)[0] == -np.inf
        lp1, s1 = viterbi(lpi, lA, lB1)
        assert lp1[0] == -np.inf and np.all(s1 == -1)


def test_impossible_through_zero_transitions():
    """Finite emissions that only unreachable states can emit."""
    with np.errstate(divide="ignore"):
        lpi = np.log(np.array([1.0, 0.0]))
        lA = np.log(np.array([[1.0, 0.0], [0.0, 1.0]]))
    lB = np.array([[0.0, 0.0], [-np.inf, -1.0], [0.0, 0.0]])
    ll, post, xi, start = forward_backward(lpi, lA, lB)
    assert ll[0] == -np.inf and not np.isnan(post).any() and np.all(xi == 0)
    assert viterbi(lpi, lA, lB)[0][0] == -np.inf


def test_zero_emission_rows_marginalise_missing_steps():
    rng = np.random.default_rng(9)
    K = 3
    lpi, lA, lB = random_hmm(rng, K, 12)
    lB[[0, 4, 5, 11]] = 0.0  # wholly missing steps
    exp = reference_forward_backward(lpi, lA, lB, [12])
    got = forward_backward(lpi, lA, lB, [12])
    for g, e in zip(got, exp):
        np.testing.assert_allclose(g, e, rtol=1e-11, atol=1e-12)
    # only missing steps: likelihood 1 and posteriors = prior state marginals
    ll, post, xi, start = forward_backward(lpi, lA, np.zeros((6, K)))
    marg = [np.exp(lpi)]
    for _ in range(5):
        marg.append(marg[-1] @ np.exp(lA))
    np.testing.assert_allclose(ll, [0.0], atol=1e-14)
    np.testing.assert_allclose(post, np.array(marg), atol=1e-14)


def test_extreme_scales():
    """Tiny and huge one-step scales (rare jumps, unnormalised parameters)."""
    with np.errstate(divide="ignore"):
        lB = np.log(np.array([[1.0, 0.5], [0.9, 0.2], [0.0, 0.7], [0.3, 0.4], [0.0, 0.1]]))
    lpi = np.log([1.0, 1e-300])
    for a01 in (1e-200, 1e-120):
        lA = np.log(np.array([[1.0 - a01, a01], [1e-250, 1.0]]))
        exp = reference_forward_backward(lpi, lA, lB, [5])
        got = forward_backward(lpi, lA, lB, [5])
        np.testing.assert_allclose(got[0], exp[0], rtol=1e-13)
        for g, e in zip(got[1:], exp[1:]):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-300)
        assert np.isfinite(got[0][0]) and got[0][0] < -270
    # unnormalised parameters with large values (variational sub-/super-
    # normalised weights): the scales exceed 1e150
    rng = np.random.default_rng(14)
    lpi, lA, lB = random_hmm(rng, 3, 50)
    lA = lA + 200.0
    exp = reference_forward_backward(lpi, lA, lB, [50])
    got = forward_backward(lpi, lA, lB, [50])
    np.testing.assert_allclose(got[0], exp[0], rtol=1e-13)
    np.testing.assert_allclose(got[1], exp[1], atol=1e-10)
    np.testing.assert_allclose(got[2], exp[2], rtol=1e-10)
    np.testing.assert_allclose(forward_log_likelihood(lpi, lA, lB), exp[0], rtol=1e-13)
    # documented limit of the scaled algorithm: a one-step predictive mass
    # below the smallest normal double counts as zero (-inf, no NaN)
    with np.errstate(divide="ignore"):
        lpi = np.log([1.0, 0.0])
        lA = np.log(np.array([[1.0, 1e-310], [0.0, 1.0]]))
        lB = np.log(np.array([[1.0, 0.0], [0.0, 1.0]]))
    ll, post, xi, start = forward_backward(lpi, lA, lB)
    assert ll[0] == -np.inf and not np.isnan(post).any() and np.all(xi == 0)
    # (Viterbi, in log space, has no such limit)
    np.testing.assert_allclose(viterbi(lpi, lA, lB)[0], np.log(1e-310), rtol=1e-12)


def test_read_only_and_non_contiguous_inputs():
    rng = np.random.default_rng(15)
    lpi, lA, lB = random_hmm(rng, 4, 30)
    exp = forward_backward(lpi, lA, lB, [10, 20])
    big = np.zeros((30, 8))
    big[:, ::2] = lB
    view = big[:, ::2]  # non-contiguous
    ro = lB.copy()
    ro.setflags(write=False)
    lA_ro = lA.copy()
    lA_ro.setflags(write=False)
    for arr in (view, ro):
        got = forward_backward(lpi, lA_ro, arr, (10, 20))
        for g, e in zip(got, exp):
            np.testing.assert_array_equal(g, e)
        np.testing.assert_array_equal(viterbi(lpi, lA_ro, arr, [10, 20])[1], viterbi(lpi, lA, lB, [10, 20])[1])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_posinf_raise(bad):
    rng = np.random.default_rng(10)
    lpi, lA, lB = random_hmm(rng, 3, 10)
    for row_all in (False, True):
        lB_bad = lB.copy()
        if row_all:
            lB_bad[7] = bad
        else:
            lB_bad[7, 1] = bad
        for f in (forward_backward, forward_log_likelihood, viterbi):
            with pytest.raises(ValueError):
                f(lpi, lA, lB_bad, [3, 7])
            with pytest.raises(ValueError):
                f(lpi, lA, lB_bad)
    # NaN after an impossible step is still reported
    lB_bad = lB.copy()
    lB_bad[2] = -np.inf
    lB_bad[8, 0] = bad
    for f in (forward_backward, forward_log_likelihood, viterbi):
        with pytest.raises(ValueError):
            f(lpi, lA, lB_bad)
    lA_bad = lA.copy()
    lA_bad[0, 0] = bad
    with pytest.raises(ValueError):
        forward_backward(lpi, lA_bad, lB)


def test_argument_checks_and_empty_sequences():
    rng = np.random.default_rng(11)
    lpi, lA, lB = random_hmm(rng, 3, 10)
    with pytest.raises(ValueError):
        forward_backward(lpi, lA, lB, [3, 6])
    with pytest.raises(ValueError):
        viterbi(lpi[:2], lA, lB, [10])
    with pytest.raises(ValueError):
        forward_backward(lpi, lA[:2], lB, [10])
    # zero-length sequences: log-likelihood 0, nothing contributed
    ll, post, xi, start = forward_backward(lpi, lA, lB, [0, 4, 0, 6, 0])
    e_ll, e_post, e_xi, e_start = reference_forward_backward(lpi, lA, lB, [4, 6])
    np.testing.assert_allclose(ll, [0, e_ll[0], 0, e_ll[1], 0], rtol=1e-12)
    np.testing.assert_allclose(post, e_post, atol=1e-12)
    np.testing.assert_allclose(xi, e_xi, atol=1e-12)
    np.testing.assert_allclose(start, e_start, atol=1e-12)
    lp, states = viterbi(lpi, lA, lB, [0, 4, 0, 6, 0])
    np.testing.assert_array_equal(states, reference_viterbi(lpi, lA, lB, [4, 6])[1])
    assert forward_backward(lpi, lA, np.zeros((0, 3)), [])[0].shape == (0,)


def test_vectorised_exp_accuracy():
    rng = np.random.default_rng(12)
    x = np.concatenate([-rng.exponential(3.0, 10**5), rng.uniform(-708, 0, 10**5),
                        [0.0, -0.0, -1e-300, -708.3, -np.inf, -745.0, -746.0, -1e5]])
    out = np.empty_like(x)
    hmm_kernels.exp_array(x, out)
    ref = np.exp(x)
    normal = ref > 1e-300
    np.testing.assert_allclose(out[normal], ref[normal], rtol=1e-15)
    np.testing.assert_allclose(out[~normal], ref[~normal], rtol=1e-10, atol=1e-320)
    # exact zeros for -inf and for arguments below the subnormal range, exact 1 at 0
    assert np.all(out[[-4, -2, -1]] == 0.0) and np.all(out[-8:-5] == 1.0)


# ---------------------------------------------------------------------------
# Long sequence: no underflow
# ---------------------------------------------------------------------------


def test_long_sequence_no_underflow():
    rng = np.random.default_rng(13)
    K, T = 3, 10**6
    lpi, lA, _ = random_hmm(rng, K, 1)
    # probabilities exp(-700 +- ...) would underflow in a plain exp
    lB = -700.0 + 5.0 * rng.normal(size=(T, K))
    ll, post, xi, start = forward_backward(lpi, lA, lB)
    assert np.isfinite(ll[0]) and ll[0] < -6.9e8
    assert not np.isnan(post).any()
    np.testing.assert_allclose(post.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(xi.sum(), T - 1, rtol=1e-10)
    np.testing.assert_allclose(forward_log_likelihood(lpi, lA, lB), ll, rtol=1e-13)
    lp, states = viterbi(lpi, lA, lB)
    assert np.isfinite(lp[0]) and lp[0] <= ll[0] and states.min() >= 0
    # the log-space reference on a prefix.  The reference is fed the
    # emissions shifted by +700 (an exact identity: the log-likelihood moves
    # by 700 per step, nothing else changes), because with |log alpha| ~ 1e6
    # its own rounding errors would reach ~1e-8.
    n = 3000
    e_ll, e_post, e_xi, e_start = reference_forward_backward(lpi, lA, lB[:n] + 700.0, [n])
    p_ll, p_post, p_xi, p_start = forward_backward(lpi, lA, lB[:n])
    np.testing.assert_allclose(p_ll, e_ll - 700.0 * n, rtol=1e-13)
    np.testing.assert_allclose(p_post, e_post, atol=1e-10)
    np.testing.assert_allclose(p_xi, e_xi, rtol=1e-10)
    np.testing.assert_allclose(p_start, e_start, atol=1e-10)
    np.testing.assert_array_equal(viterbi(lpi, lA, lB[:n])[1], reference_viterbi(lpi, lA, lB[:n], [n])[1])
    # the smoothed posteriors of the long run forget the far future: away from
    # the cut they agree with the reference on the prefix
    np.testing.assert_allclose(post[: n // 2], e_post[: n // 2], atol=1e-9)
    np.testing.assert_array_equal(states[: n // 2], reference_viterbi(lpi, lA, lB[:n], [n])[1][: n // 2])
