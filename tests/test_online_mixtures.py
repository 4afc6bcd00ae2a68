"""Online EM of the ComponentMixture estimators (Poisson, Bernoulli,
categorical, regression mixtures): partial_fit against the closed form of
stepwise EM, and named errors.

The reference is computed here with scipy's Poisson pmf and numpy sums:
responsibilities, their blended statistics under the documented schedule
``rho_t = (t + learning_offset) ** -learning_decay``, and the M-step.
"""

import warnings

import numpy as np
import pytest
from scipy.stats import poisson

import emkit


def _poisson_step(weights, rates, X):
    """Per-sample statistics of one E-step (responsibilities by brute force)."""
    joint = weights[None, :] * poisson.pmf(X[:, None, :], rates[None, :, :]).prod(axis=2)
    resp = joint / joint.sum(axis=1, keepdims=True)
    return resp.mean(axis=0), resp.T @ X / X.shape[0]


def test_partial_fit_is_stepwise_em_in_closed_form():
    rng = np.random.RandomState(0)
    truth = np.array([[1.0, 7.0], [6.0, 2.0]])
    X = rng.poisson(truth[rng.randint(2, size=900)]).astype(float)
    batches = np.array_split(X, [300, 500])  # unequal sizes: per-sample statistics blend
    weights, rates = np.array([0.4, 0.6]), np.array([[2.0, 5.0], [4.0, 3.0]])
    model = emkit.PoissonMixture.from_params(weights, rates=rates, learning_offset=2.0,
                                             learning_decay=0.6)
    counts = sums = None
    for t, batch in enumerate(batches):
        batch_counts, batch_sums = _poisson_step(weights, rates, batch)
        rho = 1.0 if t == 0 else (t + 2.0) ** -0.6
        counts = batch_counts if counts is None else (1 - rho) * counts + rho * batch_counts
        sums = batch_sums if sums is None else (1 - rho) * sums + rho * batch_sums
        weights, rates = counts / counts.sum(), sums / counts[:, None]
        model.partial_fit(batch)
        np.testing.assert_allclose(model.weights_, weights, rtol=1e-10)
        np.testing.assert_allclose(model.rates_, rates, rtol=1e-10)
    assert model.n_batch_iter_ == 3
    assert model.n_samples_seen_ == 900
    assert not hasattr(model, "history_")


def test_fit_forgets_the_running_statistics_and_online_fit_records_passes():
    rng = np.random.RandomState(1)
    X = rng.binomial(1, 0.3, size=(400, 5)).astype(float)
    model = emkit.BernoulliMixture(2, random_state=0, n_init=1, batch_size=100,
                                   online_passes=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.partial_fit(X[:200]).partial_fit(X[200:])
        assert model.n_batch_iter_ == 2
        model.fit(X, strategy="online")
    assert model.n_batch_iter_ == 2 * 4
    assert model.online_scores_.shape == (2,)
    model.partial_fit(X[:100])  # a new stepper, started from the fit
    assert model.n_batch_iter_ == 1


def test_online_errors_are_named():
    X = np.random.RandomState(2).poisson(3.0, size=(60, 2))
    with pytest.raises(ValueError, match="learning_decay"):
        emkit.PoissonMixture(2, learning_decay=0.3).partial_fit(X)
    with pytest.raises(ValueError, match="batch_size"):
        emkit.PoissonMixture(3, batch_size=2).fit(X, strategy="online")
    with pytest.raises(ValueError, match="strategy"):
        emkit.PoissonMixture(2).fit(X, strategy="stream")
    with pytest.raises(ValueError, match="labels need strategy='batch'"):
        emkit.PoissonMixture(2).fit(X, strategy="online", labels=np.zeros(60, dtype=int))
    with pytest.raises(ValueError, match="first batch has 1 samples"):
        emkit.PoissonMixture(2).partial_fit(X[:1])
    model = emkit.PoissonMixture(2, n_init=1, random_state=0).partial_fit(X)
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :1])
    # Levels are counted on the first batch: a later, unseen one is named.
    levels = np.array([[0], [1], [0], [1]])
    categorical = emkit.CategoricalMixture(2, n_init=1, random_state=0).partial_fit(levels)
    with pytest.raises(ValueError, match="n_levels"):
        categorical.partial_fit(np.array([[2]]))


def test_mixture_of_experts_says_why_it_has_no_partial_fit():
    experts = emkit.MixtureOfExperts(2)
    assert not hasattr(experts, "partial_fit")
    with pytest.raises(AttributeError) as error:
        experts.partial_fit
    assert "gating M-step" in str(error.value.__cause__)



def test_student_t_partial_fit_over_far_batches_approaches_the_batch_optimum():
    # Heavy-tailed clusters a million units from the origin: the running
    # statistics are taken about the first batch's centre, so they add across
    # batches without cancelling.
    rng = np.random.RandomState(3)
    labels = rng.randint(2, size=6000)
    X = rng.standard_t(4, size=(6000, 2)) + np.array([[0.0, 0.0], [9.0, 3.0]])[labels] + 1e6
    batch = emkit.StudentTMixture(2, n_init=2, random_state=0).fit(X)
    online = emkit.StudentTMixture(2, n_init=2, random_state=0, learning_decay=0.6)
    for _ in range(3):
        for rows in np.array_split(rng.permutation(6000), 6):
            online.partial_fit(X[rows])
    assert online.n_batch_iter_ == 18
    assert batch.score(X) - online.score(X) < 1e-3  # one batch alone: 6e-3
    np.testing.assert_allclose(np.sort(online.means_[:, 0]), np.sort(batch.means_[:, 0]),
                               atol=0.1)
    assert np.all(online.dofs_ > 1.0)
