"""MixtureOfFactorAnalyzers(accelerate="squarem"): SQUAREM on EM over (x, labels, factors).

The EM map (``MixtureOfFactorsModel(aecm=False)``) is checked against the
textbook M-step of Ghahramani & Hinton (1996) written densely here (D x D
covariances, per-sample posterior moments, the regression on the augmented
factor in absolute coordinates) and for monotonicity on data; the
accelerated estimator against plain AECM from the same start.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from emkit._engine.data import SampleData
from emkit._engine.em import expectation, fit_em
from emkit.estimators.mixture_of_factor_analyzers import MixtureOfFactorAnalyzers
from emkit.models.factor import MixtureOfFactorsModel, noise_floor


def overlapping(n=1500, seed=0, K=3, D=6, q=2, spread=1.5):
    """Overlapping low-rank clusters: EM takes tens to hundreds of cycles.

    ``spread`` scales the distances between the means: at 1.5 some starts
    lead to poor local optima (a component shrinking onto a few samples),
    at 3 every start tried here reaches one optimum (the comparisons of two
    algorithms from one start need that).
    """
    rng = np.random.RandomState(seed)
    means = rng.standard_normal((K, D)) * spread
    loadings = rng.standard_normal((K, D, q))
    noise = rng.uniform(0.3, 1.0, (K, D))
    labels = rng.choice(K, size=n, p=[0.5, 0.3, 0.2])
    factors = rng.standard_normal((n, q))
    return (means[labels] + np.einsum("ndq,nq->nd", loadings[labels], factors)
            + rng.standard_normal((n, D)) * np.sqrt(noise[labels]) + 4.0)


def em_model(X, K=3, q=2, **kwargs):
    data = SampleData(X, None)
    model = MixtureOfFactorsModel(K, q, noise_floor(X.var(axis=0)), data.center, aecm=False,
                                  **kwargs)
    return model, data


def a_start(model, X, seed=0):
    """A (deliberately rough) start: a random hard partition's PPCA solutions."""
    rng = np.random.RandomState(seed)
    resp = np.eye(model.n_components)[rng.randint(model.n_components, size=X.shape[0])]
    return model.stats_from_responsibilities(resp, X, None)


def dense_m_step(X, params):
    """Ghahramani & Hinton's M-step, densely: responsibilities and factor
    moments from ``Sigma_k = W_k W_k^T + Psi_k``, then per component the
    weighted regression of x on (E[z], 1) with E[(z, 1)(z, 1)^T]."""
    K, D, q = params["loadings"].shape
    joint = np.column_stack([
        np.log(w) + multivariate_normal(m, W @ W.T + np.diag(psi)).logpdf(X)
        for w, m, W, psi in zip(params["weights"], params["means"], params["loadings"],
                                params["noise"])])
    resp = np.exp(joint - joint.max(axis=1, keepdims=True))
    resp /= resp.sum(axis=1, keepdims=True)
    new = {"weights": resp.sum(axis=0) / X.shape[0], "means": [], "loadings": [], "noise": []}
    for k in range(K):
        m, W, psi = params["means"][k], params["loadings"][k], params["noise"][k]
        beta = W.T @ np.linalg.inv(W @ W.T + np.diag(psi))
        Ez = (X - m) @ beta.T
        Ezz = np.eye(q) - beta @ W
        r = resp[:, k]
        Ez1 = np.column_stack([Ez, np.ones(X.shape[0])])
        second = (Ez1 * r[:, None]).T @ Ez1
        second[:q, :q] += r.sum() * Ezz
        coefficients = np.linalg.solve(second, (Ez1 * r[:, None]).T @ X).T
        new["loadings"].append(coefficients[:, :q])
        new["means"].append(coefficients[:, q])
        new["noise"].append(np.diag((X * r[:, None]).T @ X - coefficients @ (Ez1 * r[:, None]).T
                                    @ X) / r.sum())
    return {name: np.asarray(value) for name, value in new.items()}


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


# -- the EM map -----------------------------------------------------------------------
def test_em_m_step_is_the_dense_joint_maximiser():
    X = overlapping(n=400)
    model, data = em_model(X)
    params = a_start(model, X)
    stats, _ = expectation(model, params, data)
    new = model.m_step(stats, params)
    expected = dense_m_step(X, params)
    for name in ("weights", "means", "loadings", "noise"):
        np.testing.assert_allclose(new[name], expected[name], rtol=1e-8, atol=1e-10,
                                   err_msg=name)
    assert int(new["cycle"]) == 0


@pytest.mark.parametrize("common_noise", [False, True])
@pytest.mark.parametrize("fixed", [(), ("means",), ("loadings",), ("weights", "noise"),
                                   ("means", "loadings")])
def test_em_map_never_lowers_the_log_likelihood(common_noise, fixed):
    X = overlapping(seed=1)
    model, data = em_model(X, common_noise=common_noise, fixed=frozenset(fixed))
    start = a_start(model, X, seed=1)
    result = fit_em(model, data, [start], max_iter=150, tol=0.0, stopping="fixed")
    history = np.asarray(result.history)
    assert history.size == 151
    # Rounding of a sum over the samples only.
    assert np.diff(history).min() >= -1e-10 * np.abs(history).max()
    assert history[-1] > history[0] + 1.0
    for name in fixed:
        np.testing.assert_array_equal(result.params[name], start[name])


def test_em_coordinates_round_trip_and_reject_what_is_not_finite():
    X = overlapping(n=300)
    model, _ = em_model(X, common_noise=True)
    params = a_start(model, X)
    vector = model.to_unconstrained(params)
    K, D, q = params["loadings"].shape
    # Log weights, means, loadings, one row of log uniquenesses (common).
    assert vector.shape == (K + K * D + K * D * q + D,)
    back = model.from_unconstrained(vector, params)
    for name in ("weights", "means", "loadings", "noise"):
        np.testing.assert_allclose(back[name], params[name], rtol=1e-12, err_msg=name)
    # Uniquenesses below the floor come back on it (the noise M-step's bound).
    low = vector.copy()
    low[-D:] = -800.0
    np.testing.assert_array_equal(model.from_unconstrained(low, params)["noise"],
                                  np.broadcast_to(model.floor, (K, D)))
    bad = vector.copy()
    bad[K + 1] = np.nan
    assert model.from_unconstrained(bad, params) is None
    # AECM's alternating cycles are two maps: nothing for SQUAREM to extrapolate.
    aecm = MixtureOfFactorsModel(K, q, model.floor, model.center)
    assert aecm.to_unconstrained(params) is None


# -- the estimator -------------------------------------------------------------------
@pytest.mark.parametrize("data_seed, seed", [(10, 1), (12, 0), (12, 1)])
def test_squarem_reaches_the_aecm_optimum_in_fewer_e_steps(data_seed, seed):
    X = overlapping(n=2000, seed=data_seed, spread=3.0)
    settings = dict(n_components=3, n_factors=2, n_init=1, random_state=seed, tol=1e-9,
                    max_iter=5000)
    plain = _quiet(MixtureOfFactorAnalyzers(**settings).fit, X)
    fast = _quiet(MixtureOfFactorAnalyzers(accelerate="squarem", **settings).fit, X)
    assert plain.converged_ and fast.converged_
    history = np.asarray(fast.history_)
    assert np.diff(history).min() >= -1e-10 * np.abs(history).max()
    # The same start (restarts draw the same partition) and the same optimum.
    assert history[0] == pytest.approx(plain.history_[0], rel=1e-12)
    assert fast.score(X) >= plain.score(X) - 1e-7
    assert fast.n_e_steps_ < 0.5 * plain.n_e_steps_, (fast.n_e_steps_, plain.n_e_steps_)


def test_squarem_with_common_uniquenesses_keeps_them_common():
    X = overlapping(n=2000, seed=12, spread=3.0)
    settings = dict(n_components=3, n_factors=2, uniqueness="common", n_init=1,
                    random_state=0, tol=1e-9, max_iter=5000)
    plain = _quiet(MixtureOfFactorAnalyzers(**settings).fit, X)
    fast = _quiet(MixtureOfFactorAnalyzers(accelerate="squarem", **settings).fit, X)
    np.testing.assert_array_equal(fast.noise_variance_, np.broadcast_to(
        fast.noise_variance_[0], fast.noise_variance_.shape))
    assert fast.score(X) >= plain.score(X) - 1e-7
    assert fast.n_e_steps_ < plain.n_e_steps_


@pytest.mark.parametrize("fixed", [("weights",), ("means",), ("loadings",),
                                   ("noise_variance",)])
def test_squarem_holds_fixed_parameters_at_their_start(fixed):
    X = overlapping(n=2000, seed=12, spread=3.0)
    settings = dict(n_components=3, n_factors=2, n_init=1, random_state=0, fixed=fixed)
    start = _quiet(MixtureOfFactorAnalyzers(max_iter=0, **settings).fit, X)
    fast = _quiet(MixtureOfFactorAnalyzers(accelerate="squarem", tol=1e-9, max_iter=5000,
                                           **settings).fit, X)
    plain = _quiet(MixtureOfFactorAnalyzers(tol=1e-9, max_iter=5000, **settings).fit, X)
    name = fixed[0]
    np.testing.assert_array_equal(getattr(fast, f"{name}_"), getattr(start, f"{name}_"))
    assert fast.n_iter_ > 1
    # The optimum given the held block (AECM's and EM's are the same problem).
    assert fast.score(X) >= plain.score(X) - 1e-6


def test_squarem_with_partial_labels_reaches_their_aecm_optimum():
    X = overlapping(n=2000, seed=12, spread=3.0)
    labels = np.full(X.shape[0], -1)
    labels[:30] = 2
    settings = dict(n_components=3, n_factors=2, n_init=1, random_state=0, tol=1e-9,
                    max_iter=5000)
    plain = _quiet(MixtureOfFactorAnalyzers(**settings).fit, X, labels=labels)
    fast = _quiet(MixtureOfFactorAnalyzers(accelerate="squarem", **settings).fit, X,
                  labels=labels)
    history = np.asarray(fast.history_)
    assert np.diff(history).min() >= -1e-10 * np.abs(history).max()
    # history_ is the semi-supervised objective (labelled samples in their component).
    assert (plain.history_[-1] - history[-1]) / X.shape[0] <= 1e-7
    assert fast.n_e_steps_ < plain.n_e_steps_


def test_invalid_accelerate_is_a_named_error():
    X = overlapping(n=200)
    with pytest.raises(ValueError, match="accelerate must be one of"):
        MixtureOfFactorAnalyzers(2, accelerate="aitken").fit(X)
