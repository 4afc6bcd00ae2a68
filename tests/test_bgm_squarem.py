"""BayesianGaussianMixture with ``accelerate="squarem"``: SQUAREM on the
variational parameters, safeguarded by the ELBO.

From the same start (one ``random_state``, ``n_init=1``) SQUAREM must end at
a lower bound no lower than plain variational EM's, in fewer E-steps, with a
recorded bound that never decreases; on well-separated clusters both must
find the same posterior. The coordinates themselves must map every
variational parameter set back to itself, and every vector to a valid
``q(theta)`` or to None.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from emkit._engine.data import SampleData
from emkit._engine.em import expectation
from emkit._validation import InvalidParameterError
from emkit.datasets import load_old_faithful
from emkit.estimators.bayesian_gaussian_mixture import BayesianGaussianMixture

TYPES = ("full", "tied", "diag", "spherical")
PRIORS = ("dirichlet_process", "dirichlet_distribution")


@pytest.fixture(scope="module")
def faithful():
    return load_old_faithful().data


@pytest.fixture(scope="module")
def separated():
    """Three round clusters 12 standard deviations apart, on features of
    different scales (the coordinates are in the data's units)."""
    rng = np.random.RandomState(3)
    centers = np.array([[0.0, 0.0, 0.0], [12.0, 0.0, 0.0], [0.0, 12.0, 12.0]])
    X = np.vstack([center + rng.randn(n, 3) for center, n in zip(centers, (300, 200, 100))])
    return X * np.array([1.0, 100.0, 0.01])


def _fit(X, accelerate, **params):
    settings = dict(n_components=4, n_init=1, tol=1e-8, max_iter=5000)
    settings.update(params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return BayesianGaussianMixture(accelerate=accelerate, **settings).fit(X)


def _assert_never_decreases(history):
    history = np.asarray(history)
    # Rounding of a sum over the samples: relative 1e-12 of the bound.
    allowed = 1e-12 * np.abs(history[1:]) + 1e-12
    assert (np.diff(history) >= -allowed).all(), np.diff(history).min()


@pytest.mark.parametrize("weight_type", PRIORS)
@pytest.mark.parametrize("covariance_type", TYPES)
def test_squarem_reaches_plain_bound_in_fewer_e_steps(faithful, covariance_type, weight_type):
    n = faithful.shape[0]
    plain_steps, fast_steps = [], []
    for seed in range(3):
        params = dict(covariance_type=covariance_type,
                      weight_concentration_prior_type=weight_type, random_state=seed)
        plain = _fit(faithful, "none", **params)
        fast = _fit(faithful, "squarem", **params)
        assert plain.converged_ and fast.converged_
        shortfall = (plain.history_[-1] - fast.history_[-1]) / n
        assert shortfall <= 1e-7, (seed, shortfall)
        _assert_never_decreases(fast.history_)
        # The first entry is the same start's bound.
        assert fast.history_[0] == plain.history_[0]
        plain_steps.append(plain.n_e_steps_)
        fast_steps.append(fast.n_e_steps_)
    assert np.median(fast_steps) < 0.8 * np.median(plain_steps), (plain_steps, fast_steps)


def test_squarem_agrees_with_plain_on_separated_clusters(separated):
    plain = _fit(separated, "none", random_state=0)
    fast = _fit(separated, "squarem", random_state=0)
    assert fast.n_e_steps_ < plain.n_e_steps_
    _assert_never_decreases(fast.history_)
    scale = separated.std(axis=0)
    for model in (plain, fast):
        # Three clusters take the weight; the fourth component empties out.
        assert (model.weights_ > 0.1).sum() == 3
    order = [np.argsort(model.weights_)[::-1] for model in (plain, fast)]
    np.testing.assert_allclose(fast.weights_[order[1]], plain.weights_[order[0]], atol=1e-4)
    np.testing.assert_allclose(fast.means_[order[1]][:3] / scale,
                               plain.means_[order[0]][:3] / scale, atol=1e-3)
    np.testing.assert_allclose(np.sort(fast.weights_)[::-1][:3], [0.5, 1 / 3, 1 / 6], atol=0.01)


def test_squarem_from_a_warm_start_stays_at_the_optimum(faithful):
    plain = _fit(faithful, "none", random_state=0, tol=1e-10)
    fast = _fit(faithful, "squarem", random_state=0, tol=1e-10)
    fast.set_params(warm_start=True).fit(faithful)
    _assert_never_decreases(fast.history_)
    assert fast.history_[-1] >= plain.history_[-1] - 1e-7 * faithful.shape[0]


@pytest.mark.parametrize("value", ["SQUAREM", "aitken", None, 1])
def test_invalid_accelerate_is_a_named_error(faithful, value):
    with pytest.raises(InvalidParameterError, match="accelerate"):
        BayesianGaussianMixture(n_components=2, accelerate=value).fit(faithful)


def test_default_is_plain_variational_em():
    assert BayesianGaussianMixture().accelerate == "none"


# -------------------------------------------------------------- coordinates
def _fitted_model(X, covariance_type, weight_type):
    """A model and its parameters a few updates in (not converged, on purpose)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "EM did not converge")
        estimator = _fit(X, "squarem", covariance_type=covariance_type,
                         weight_concentration_prior_type=weight_type, random_state=0,
                         max_iter=5)
    return estimator._fitted_model(), estimator._fitted_params()


@pytest.mark.parametrize("weight_type", PRIORS)
@pytest.mark.parametrize("covariance_type", TYPES)
def test_coordinates_round_trip(faithful, covariance_type, weight_type):
    model, params = _fitted_model(faithful, covariance_type, weight_type)
    vector = model.to_unconstrained(params)
    assert vector.ndim == 1 and np.isfinite(vector).all()
    back = model.from_unconstrained(vector, params)
    for name, value in params.items():
        assert np.shape(back[name]) == np.shape(value), name
        np.testing.assert_allclose(back[name], value, rtol=1e-10, atol=1e-12, err_msg=name)
    # The degrees of freedom are kept above D - 1 however far a step goes.
    D = faithful.shape[1]
    K = model.n_components
    start = np.size(params["weight_concentration"]) + K
    pushed = vector.copy()
    pushed[start:start + np.size(params["degrees_of_freedom"])] = -30.0
    moved = model.from_unconstrained(pushed, params)
    assert (moved["degrees_of_freedom"] > D - 1).all()
    assert np.isfinite(model.log_prior(moved))


@pytest.mark.parametrize("weight_type", PRIORS)
@pytest.mark.parametrize("covariance_type", TYPES)
def test_the_update_of_an_extrapolated_point_raises_its_bound(faithful, covariance_type,
                                                             weight_type):
    """The safeguard's premise: at a q(theta) that is no M-step's (an
    extrapolation's), the engine's objective is still the ELBO with q(Z)
    optimal, so one variational update from there never lowers it."""
    model, params = _fitted_model(faithful, covariance_type, weight_type)
    data = SampleData(faithful)
    vector = model.to_unconstrained(params)
    rng = np.random.RandomState(0)
    for _ in range(5):
        moved = model.from_unconstrained(vector + 0.3 * rng.randn(vector.size), params)
        stats, loglik = expectation(model, moved, data)
        before = loglik + model.log_prior(moved)
        updated = model.m_step(stats, moved)
        _, loglik = expectation(model, updated, data)
        after = loglik + model.log_prior(updated)
        assert np.isfinite(before) and after >= before - 1e-9 * abs(before), (before, after)
        # The bound at the moved point is the ELBO of its own responsibilities.
        np.testing.assert_allclose(model.elbo(stats, moved), before, rtol=1e-10)


@pytest.mark.parametrize("weight_type", PRIORS)
@pytest.mark.parametrize("covariance_type", TYPES)
def test_the_update_is_stationary_in_every_coordinate(faithful, covariance_type, weight_type):
    """For fixed responsibilities the variational update maximises the ELBO
    over every q(theta) of the family, not only over M-step points: its
    derivative along every unconstrained coordinate (central differences)
    is zero. A bound wrong off the M-step's manifold (which SQUAREM's
    proposals leave) would show a slope here."""
    model, params = _fitted_model(faithful, covariance_type, weight_type)
    stats, _ = expectation(model, params, SampleData(faithful))
    updated = model.m_step(stats, params)
    vector = model.to_unconstrained(updated)
    step = 1e-4
    slopes = []
    for index in range(vector.size):
        bounds = []
        for sign in (1.0, -1.0):
            moved = vector.copy()
            moved[index] += sign * step
            bounds.append(model.elbo(stats, model.from_unconstrained(moved, updated)))
        slopes.append((bounds[0] - bounds[1]) / (2 * step))
    # Rounding: ~1e-13 of a bound of ~1e3, over 2e-4.
    assert np.max(np.abs(slopes)) < 1e-4, np.round(slopes, 6)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_coordinates_reject_invalid_vectors(faithful, covariance_type):
    model, params = _fitted_model(faithful, covariance_type, "dirichlet_process")
    vector = model.to_unconstrained(params)
    for bad in (np.nan, np.inf):
        broken = vector.copy()
        broken[0] = bad
        assert model.from_unconstrained(broken, params) is None
    # A concentration that underflows to zero has no finite bound.
    underflow = vector.copy()
    underflow[0] = -1e4
    assert model.from_unconstrained(underflow, params) is None
