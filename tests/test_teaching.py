"""explain_em: log-likelihood, ELBO and KL per half-step, against a hand computation."""

import numpy as np
import pytest

import emkit

X6 = np.array([-1.2, -0.8, -0.5, 0.9, 1.3, 1.8])[:, None]


def _by_hand(n_iter):
    """The seeds' six-point example: weights 1/2 and unit variances held, means moving."""
    x = X6.ravel()
    means = np.array([-0.5, 1.0])
    rows = []

    def joint(means):  # log pi_k N(x_n | mu_k, 1)
        return np.log(0.5) - 0.5 * np.log(2 * np.pi) - 0.5 * (x[:, None] - means[None]) ** 2

    def loglik(means):
        return np.log(np.exp(joint(means)).sum(axis=1)).sum()

    q = np.exp(joint(means)) / np.exp(joint(means)).sum(axis=1, keepdims=True)
    rows.append(("E", loglik(means), (q * (joint(means) - np.log(q))).sum()))
    for _ in range(n_iter):
        means = (q * x[:, None]).sum(axis=0) / q.sum(axis=0)
        rows.append(("M", loglik(means), (q * (joint(means) - np.log(q))).sum()))
        q = np.exp(joint(means)) / np.exp(joint(means)).sum(axis=1, keepdims=True)
        rows.append(("E", loglik(means), (q * (joint(means) - np.log(q))).sum()))
    return rows, means


def test_six_point_example_matches_the_hand_computation():
    start = emkit.GaussianMixture(2, covariance_type="spherical", weights_init=[0.5, 0.5],
                                  means_init=[[-0.5], [1.0]], precisions_init=[1.0, 1.0],
                                  fixed=("weights", "covariances"))
    trace = emkit.explain_em(start, X6, n_iter=3)
    expected, final_means = _by_hand(3)
    assert [row["step"] for row in trace.rows] == [step for step, _, _ in expected]
    for row, (_, loglik, elbo) in zip(trace.rows, expected):
        assert row["log_likelihood"] == pytest.approx(loglik, rel=1e-12)
        assert row["elbo"] == pytest.approx(elbo, rel=1e-12)
        assert row["kl"] == pytest.approx(loglik - elbo, abs=1e-12)
    # The worked example's first M-step: means (-0.4934, 1.0013).
    np.testing.assert_allclose(trace.params[1]["means"].ravel(), [-0.4934, 1.0013], atol=5e-5)
    np.testing.assert_allclose(trace.params[-1]["means"].ravel(), final_means, rtol=1e-12)
    np.testing.assert_allclose(trace.responsibilities[0][:, 0],
                               [0.898, 0.828, 0.755, 0.274, 0.172, 0.089], atol=5e-4)


def test_the_gap_opens_after_m_and_closes_after_e():
    X = emkit.datasets.load_old_faithful().data
    trace = emkit.explain_em(emkit.GaussianMixture(3, random_state=1), X, n_iter=8)
    loglik, elbo, kl = (trace.column(name) for name in ("log_likelihood", "elbo", "kl"))
    steps = np.array([row["step"] for row in trace.rows])
    assert np.all(np.diff(loglik) >= -1e-9 * abs(loglik[-1]))
    assert np.all(np.diff(elbo) >= -1e-9 * abs(elbo[-1]))
    assert np.all(np.abs(kl[steps == "E"]) < 1e-8)
    assert np.all(kl[steps == "M"] > 0)
    # After an M-step the likelihood rose by at least the ELBO's rise: the KL gap.
    for m in np.flatnonzero(steps == "M"):
        assert loglik[m] - loglik[m - 1] >= elbo[m] - elbo[m - 1] - 1e-9
    assert "log-likelihood" in str(trace)


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="explains a GaussianMixture"):
        emkit.explain_em(emkit.PoissonMixture(2), X6)
    with pytest.raises(ValueError, match="n_iter"):
        emkit.explain_em(emkit.GaussianMixture(2), X6, n_iter=-1)
