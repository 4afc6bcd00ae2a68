"""Tests of the 14 mclust covariance M-steps against R mclust 6.0.0 and first principles.

Reference values come from ``benchmarks/mclust_reference.R`` (files in
tests/data/mclust_*); R is not needed to run these tests.
"""

import csv
import itertools
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from emkit.components._structures import (
    SKLEARN_ALIASES,
    STRUCTURES,
    canonical_structure,
    covariance_mstep,
    mstep_objective,
    n_parameters,
    prior_mean,
)

DATA = Path(__file__).parent / "data"
FAITHFUL = (
    Path(__file__).parents[1] / "src" / "emkit" / "datasets" / "data" / "old_faithful.csv"
)
ITERATIVE = ("VEI", "VEV", "VEE", "EVE", "VVE")


def _faithful():
    return np.loadtxt(FAITHFUL, delimiter=",", skiprows=1)


def _z():
    with open(DATA / "mclust_faithful_z.csv") as fh:
        rows = list(csv.reader(fh))
    head, vals = rows[0], np.array(rows[1:], dtype=float)
    return {
        "z3": vals[:, [i for i, h in enumerate(head) if h.startswith("z3_")]],
        "z4": vals[:, [i for i, h in enumerate(head) if h.startswith("z4_")]],
    }


def _stats(X, z, means=None):
    n_k = z.sum(axis=0)
    if means is None:
        means = (z.T @ X) / n_k[:, None]
    R = X[None, :, :] - means[:, None, :]
    W = np.einsum("nk,kni,knj->kij", z, R, R)
    return n_k, means, W


@pytest.fixture(scope="module")
def mstep_ref():
    with open(DATA / "mclust_mstep.json") as fh:
        return json.load(fh)


def _sigma(entry):
    return np.asarray(entry["sigma"], dtype=float)  # (K, D, D) (column-major export)


def _relerr(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


# ---------------------------------------------------------------------------
# names and parameter counts
# ---------------------------------------------------------------------------
def test_names_and_aliases():
    assert len(STRUCTURES) == 14 and len(set(STRUCTURES)) == 14
    assert SKLEARN_ALIASES == {"spherical": "VII", "diag": "VVI", "tied": "EEE", "full": "VVV"}
    assert canonical_structure("full") == "VVV"
    assert canonical_structure("XXX") == "EEE"
    assert canonical_structure("VEV", 1) == "V"
    with pytest.raises(ValueError):
        canonical_structure("ABC")


def test_n_parameters_matches_mclust():
    with open(DATA / "mclust_nparams.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 14 * 4 * 5 + 2 * 5
    for r in rows:
        assert n_parameters(r["model"], int(r["G"]), int(r["d"])) == int(r["npar"]), r


def test_n_parameters_give_mclust_bic():
    with open(DATA / "mclust_faithful_bic.csv") as fh:
        rows = list(csv.DictReader(fh))
    n = 272
    for r in rows:
        npar = n_parameters(r["model"], int(r["G"]), 2)
        assert npar == int(r["npar"])
        bic = 2 * float(r["loglik"]) - npar * np.log(n)
        assert bic == pytest.approx(float(r["BIC"]), rel=1e-10, abs=1e-8)


# ---------------------------------------------------------------------------
# agreement with mclust's mstep
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("zname", ["z3", "z4"])
@pytest.mark.parametrize("model", STRUCTURES)
def test_mstep_matches_mclust(model, zname, mstep_ref):
    X = _faithful()
    z = _z()[zname]
    n_k, mu, W = _stats(X, z)
    ref = mstep_ref["steps"][f"{model}_{zname}_tight"]
    np.testing.assert_allclose(np.asarray(ref["mean"]), mu, rtol=1e-12)
    S_ref = _sigma(ref)
    S = covariance_mstep(model, n_k, W, mclust_compatible=True)
    assert _relerr(S, S_ref) < 1e-6
    # mclust's default inner tolerance (sqrt(eps) on the objective) stops
    # earlier; the agreement is then limited by mclust, not by us
    S_def = _sigma(mstep_ref["steps"][f"{model}_{zname}_default"])
    assert _relerr(S, S_def) < 1e-4
    if model != "VVE":
        S_exact = covariance_mstep(model, n_k, W)
        assert _relerr(S_exact, S_ref) < 1e-6
        S_mm = covariance_mstep(model, n_k, W, orientation_method="mm")
        assert _relerr(S_mm, S_ref) < 1e-6


@pytest.mark.parametrize("zname", ["z3", "z4"])
def test_vve_exact_beats_mclust(zname, mstep_ref):
    """mclust's VVE orientation update drops 1/lambda_k; the exact M-step is better."""
    X = _faithful()
    n_k, _, W = _stats(X, _z()[zname])
    S_ref = _sigma(mstep_ref["steps"][f"VVE_{zname}_tight"])
    S = covariance_mstep("VVE", n_k, W)
    assert mstep_objective(n_k, W, S) > mstep_objective(n_k, W, S_ref) + 1e-4


@pytest.mark.parametrize("model", ["E", "V"])
def test_univariate_matches_mclust(model, mstep_ref):
    w = _faithful()[:, 1:2]
    z = np.asarray(mstep_ref["z2w"], dtype=float).T  # column-major export: (2, n)
    for prior in (False, True):
        ref = mstep_ref["steps"][f"{model}_z2w" + ("_prior" if prior else "")]
        pr = None
        if prior:
            pp = ref["prior_params"]
            pr = SimpleNamespace(loc=np.ravel(pp["mean"]), shrinkage=pp["shrinkage"],
                                 dof=pp["dof"], scale=np.reshape(pp["scale"], (1, 1)))
        n_k = z.sum(axis=0)
        mu = prior_mean(n_k, z.T @ w, pr)
        n_k, mu, W = _stats(w, z, mu)
        np.testing.assert_allclose(mu[:, 0], np.ravel(ref["mean"]), rtol=1e-12)
        S = covariance_mstep(model, n_k, W, prior=pr, means=mu)
        np.testing.assert_allclose(S[:, 0, 0], np.ravel(ref["sigmasq"]) * np.ones(2),
                                   rtol=1e-12)


# mclust's prior updates reproduced: natural (= Fraley & Raftery 2007) for
# these, mclust_compatible for EII and VEV.
PRIOR_MATCH = {"VII": False, "VVI": False, "EEE": False, "VVV": False, "EEI": False,
               "EII": True, "VEV": True}


@pytest.mark.parametrize("zname", ["z3", "z4"])
@pytest.mark.parametrize("model", sorted(PRIOR_MATCH))
def test_prior_mstep_matches_mclust(model, zname, mstep_ref):
    X = _faithful()
    z = _z()[zname]
    ref = mstep_ref["steps"][f"{model}_{zname}_prior"]
    pp = ref["prior_params"]
    D = X.shape[1]
    scale = np.asarray(pp["scale"], dtype=float)
    if scale.size == 1:  # spherical/diagonal: mclust's scalar zeta = tr(Psi)/D
        scale = float(scale.ravel()[0]) * np.eye(D)
    prior = SimpleNamespace(loc=np.asarray(pp["mean"]), shrinkage=pp["shrinkage"],
                            dof=pp["dof"], scale=scale)
    n_k = z.sum(axis=0)
    mu = prior_mean(n_k, z.T @ X, prior)
    if model != "EEI":  # mclust reports unshrunk means for EEI/EEV
        np.testing.assert_allclose(mu, np.asarray(ref["mean"]), rtol=1e-12)
    n_k, mu, W = _stats(X, z, mu)
    S = covariance_mstep(model, n_k, W, prior=prior, means=mu,
                         mclust_compatible=PRIOR_MATCH[model])
    assert _relerr(S, _sigma(ref)) < 1e-10


def test_prior_all_structures_runs_and_regularises():
    """Every structure accepts the prior; a singular scatter becomes positive definite."""
    rng = np.random.default_rng(3)
    D, K = 3, 2
    n_k = np.array([2.0, 40.0])
    A = rng.normal(size=(K, D, D))
    W = A @ np.swapaxes(A, 1, 2)
    W[0] = np.outer(A[0, 0], A[0, 0])  # rank one
    means = rng.normal(size=(K, D))
    prior = SimpleNamespace(loc=np.zeros(D), shrinkage=0.01, dof=D + 2, scale=0.5 * np.eye(D))
    for s in STRUCTURES:
        S = covariance_mstep(s, n_k, W, prior=prior, means=means)
        assert np.all(np.linalg.eigvalsh(S) > 0), s
    with pytest.raises(ValueError):
        covariance_mstep("VVV", n_k, W, prior=prior)  # shrinkage > 0 needs means


# ---------------------------------------------------------------------------
# constraints and optimality from first principles
# ---------------------------------------------------------------------------
def _random_problem(seed, K=3, D=3):
    rng = np.random.default_rng(seed)
    n_k = rng.uniform(5, 50, size=K)
    W = np.empty((K, D, D))
    for k in range(K):
        A = rng.normal(size=(D, D)) * rng.uniform(0.3, 3, size=D)
        W[k] = A @ A.T * n_k[k]
    return n_k, W


def _volumes(S):
    D = S.shape[-1]
    return np.exp(np.linalg.slogdet(S)[1] / D)


def _check_constraint(s, S):
    vol, shape, orient = s
    K, D, _ = S.shape
    lam = _volumes(S)
    ev = np.linalg.eigvalsh(S) / lam[:, None]  # shapes, ascending
    if vol == "E":
        np.testing.assert_allclose(lam, lam[0], rtol=1e-9)
    if shape == "I":
        np.testing.assert_allclose(ev, 1.0, rtol=1e-9)
    if shape == "E":
        np.testing.assert_allclose(ev, np.broadcast_to(ev[0], ev.shape), rtol=1e-7)
    if orient == "I":
        off = S - np.einsum("kii->ki", S)[:, :, None] * np.eye(D)
        assert np.max(np.abs(off)) <= 1e-12 * np.max(np.abs(S))
    if orient == "E":  # common eigenvectors <=> the matrices commute
        for k, l in itertools.combinations(range(K), 2):
            C = S[k] @ S[l] - S[l] @ S[k]
            assert np.max(np.abs(C)) <= 1e-7 * np.max(np.abs(S[k])) * np.max(np.abs(S[l]))
    if s == "EEE":
        np.testing.assert_allclose(S, np.broadcast_to(S[0], S.shape), rtol=1e-12)


def _perturb(s, S, rng, eps):
    """A random covariance set in the same structure family, near S."""
    vol, shape, orient = s
    K, D, _ = S.shape
    w, Q = np.linalg.eigh(S)
    f = np.exp(eps * rng.normal(size=K)) if vol == "V" else np.full(K, np.exp(eps * rng.normal()))
    if shape == "I":
        t = np.zeros((K, D))
    else:
        t = eps * rng.normal(size=(K, D)) if shape == "V" else np.tile(eps * rng.normal(size=D), (K, 1))
        t -= t.mean(axis=1, keepdims=True)
    out = np.einsum("kij,kj,klj->kil", Q, w * np.exp(t), Q) * f[:, None, None]

    def rot():
        G = eps * rng.normal(size=(D, D))
        G = G - G.T
        u, _, vt = np.linalg.svd(np.eye(D) + G + G @ G / 2)
        return u @ vt

    if orient == "V":
        Rs = [rot() for _ in range(K)]
    elif orient == "E" and shape != "I":
        R = rot()
        Rs = [R] * K
    else:
        Rs = [np.eye(D)] * K
    return np.stack([R @ out[k] @ R.T for k, R in enumerate(Rs)])


@pytest.mark.parametrize("model", STRUCTURES)
def test_constraint_and_local_optimality(model):
    rng = np.random.default_rng(11)
    for seed in range(3):
        n_k, W = _random_problem(seed)
        S = covariance_mstep(model, n_k, W)
        _check_constraint(model, S)
        q = mstep_objective(n_k, W, S)
        for eps in (1e-1, 1e-2, 1e-3):
            for _ in range(8):
                P = _perturb(model, S, rng, eps)
                _check_constraint(model, P)
                assert mstep_objective(n_k, W, P) <= q + 1e-9 * abs(q)


def _nested(a, b):
    """Model a is a special case of model b (letterwise I <= E <= V)."""
    order = {"I": 0, "E": 1, "V": 2}
    if a[1] == "I" and b[1] != "I":  # spherical: orientation is irrelevant
        return order[a[0]] <= order[b[0]]
    return all(order[x] <= order[y] for x, y in zip(a, b))


def test_nested_structures_never_do_worse():
    """The optimum of a more constrained structure is feasible for a looser one."""
    for seed in range(4):
        n_k, W = _random_problem(seed, K=3, D=3)
        q = {s: mstep_objective(n_k, W, covariance_mstep(s, n_k, W)) for s in STRUCTURES}
        for a, b in itertools.permutations(STRUCTURES, 2):
            if _nested(a, b):
                assert q[b] >= q[a] - 1e-8 * abs(q[a]), (a, b, q[a], q[b])
        assert q["VVV"] == max(q.values())


@pytest.mark.parametrize("model", ITERATIVE)
@pytest.mark.parametrize("method", ["jacobi", "mm"])
def test_inner_iterations_never_lower_objective(model, method):
    for seed in range(2):
        n_k, W = _random_problem(seed, K=4, D=4)
        starts = [None, _random_problem(seed + 100, K=4, D=4)[1] / 10.0]
        for prev in starts:
            S, info = covariance_mstep(model, n_k, W, previous_covariances=prev,
                                       orientation_method=method, return_info=True)
            h = np.asarray(info["objective"])
            assert info["n_iter"] >= 1 and h.size >= 1
            assert np.all(np.diff(h) >= -1e-10 * np.abs(h[1:])), (model, method, h)
            assert h[-1] == pytest.approx(mstep_objective(n_k, W, S), rel=1e-9)


def test_warm_start_converges_to_same_optimum():
    X = _faithful()
    n_k, _, W = _stats(X, _z()["z4"])
    for model in ITERATIVE:
        cold, ic = covariance_mstep(model, n_k, W, return_info=True)
        warm, iw = covariance_mstep(model, n_k, W, previous_covariances=cold, return_info=True)
        assert _relerr(warm, cold) < 1e-8
        assert iw["n_iter"] <= ic["n_iter"]


def test_univariate_names_and_shapes():
    n_k = np.array([3.0, 7.0])
    W = np.array([[[6.0]], [[7.0]]])
    np.testing.assert_allclose(covariance_mstep("E", n_k, W)[:, 0, 0], 1.3)
    np.testing.assert_allclose(covariance_mstep("V", n_k, W)[:, 0, 0], [2.0, 1.0])
    np.testing.assert_allclose(covariance_mstep("VVV", n_k, W), covariance_mstep("V", n_k, W))
    with pytest.raises(ValueError):
        covariance_mstep("E", n_k, np.ones((2, 2, 2)))
    with pytest.raises(ValueError):
        covariance_mstep("VVV", n_k, np.ones((3, 2, 2)))


@pytest.mark.parametrize("model", ["EVE", "VVE"])
def test_orientation_with_fewer_samples_than_features(model):
    """D = 30 > N = 10 (issue 8: 50-90 s per fit before): the scatters are singular
    but for a ridge, the orientation loop cannot converge, and the M-step still never
    lowers Q and returns finite positive-definite covariances of the structure."""
    X = np.random.RandomState(0).randn(10, 30)
    halves = (X[:5], X[5:])
    n_k = np.array([5.0, 5.0])
    W = np.array([(h - h.mean(0)).T @ (h - h.mean(0)) for h in halves]) + 5e-6 * np.eye(30)
    for method in ("jacobi", "mm"):
        S, info = covariance_mstep(model, n_k, W, orientation_method=method, return_info=True)
        h = np.asarray(info["objective"])
        assert np.all(np.isfinite(h)) and np.all(np.diff(h) >= -1e-10 * np.abs(h[1:]))
        assert h[-1] == pytest.approx(mstep_objective(n_k, W, S), rel=1e-9)
        assert np.all(np.linalg.eigvalsh(S) > 0)
        # One common orientation: the covariances commute.
        assert np.abs(S[0] @ S[1] - S[1] @ S[0]).max() <= 1e-8 * np.abs(S).max() ** 2
        # Warm-started from its own result (as EM does), it moves on and gains.
        _, again = covariance_mstep(model, n_k, W, previous_covariances=S,
                                    orientation_method=method, return_info=True)
        assert again["objective"][-1] >= h[-1] - 1e-10 * abs(h[-1])
