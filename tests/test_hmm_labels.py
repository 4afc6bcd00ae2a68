"""HMM partial labels, per time step: fit(X, lengths, labels=...)."""

import itertools
import warnings

import numpy as np
import pytest
from scipy.stats import norm

import emkit


def _brute_force(model, x, labels):
    """log sum over state paths agreeing with the labels of p(x, z), by enumeration."""
    K, T = model.n_components, len(x)
    total = []
    for path in itertools.product(range(K), repeat=T):
        if any(l >= 0 and l != z for l, z in zip(labels, path)):
            continue
        logp = np.log(model.startprob_[path[0]])
        logp += sum(np.log(model.transmat_[a, b]) for a, b in zip(path[:-1], path[1:]))
        logp += sum(norm.logpdf(x[t, 0], model.means_[z, 0],
                                np.sqrt(model.covariances_[z].ravel()[0]))
                    for t, z in enumerate(path))
        total.append(logp)
    return np.logaddexp.reduce(total)


def test_objective_is_the_labelled_likelihood_by_enumeration():
    x = np.array([[-1.1], [-0.7], [0.2], [1.4], [1.0], [-0.3], [1.8], [0.9]])
    labels = np.array([0, -1, -1, 1, -1, -1, -1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = emkit.GaussianHMM(2, covariance_type="diag", reg_covar=0.0, max_iter=3,
                                  n_init=1, random_state=0).fit(x, labels=labels)
    assert model.history_[-1] == pytest.approx(_brute_force(model, x, labels), rel=1e-10)


def test_labelled_steps_keep_their_state_and_the_objective_never_decreases():
    generator = emkit.GaussianHMM.from_params(
        [0.5, 0.5], [[0.95, 0.05], [0.1, 0.9]], [[0.0], [3.0]], [[1.0], [1.0]])
    X, states = generator.sample(1500, random_state=1)
    labels = np.full(1500, -1)
    chosen = np.random.default_rng(1).choice(1500, 75, replace=False)  # 5%
    # The reverse of the generator's names: the fit must follow the labels.
    labels[chosen] = 1 - states[chosen]
    model = emkit.GaussianHMM(2, random_state=0).fit(X, labels=labels)
    assert np.all(np.diff(model.history_) >= -1e-9 * abs(model.history_[-1]))
    assert model.means_[1, 0] < 1.5 < model.means_[0, 0]
    assert np.mean(model.predict(X) == 1 - states) > 0.95


def test_bad_labels_are_named():
    X = np.random.default_rng(0).normal(size=(20, 1))
    with pytest.raises(ValueError, match=r"labels must be -1 \(unlabelled\) or a component"):
        emkit.GaussianHMM(2).fit(X, labels=np.full(20, 5))
    with pytest.raises(ValueError, match="labels need an in-memory X"):
        emkit.GaussianHMM(2).fit(X, labels=np.full(20, -1), strategy="online")
