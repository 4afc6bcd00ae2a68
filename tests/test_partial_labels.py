"""Semi-supervised EM: partial labels fix the labelled samples' responsibilities."""

import numpy as np
import pytest

from emkit import PoissonMixture


@pytest.fixture
def counts():
    rng = np.random.default_rng(0)
    return np.vstack([rng.poisson(1.0, (200, 3)), rng.poisson(8.0, (200, 3))])


def test_labels_pin_components_and_objective_is_monotone(counts):
    labels = -np.ones(len(counts), dtype=int)
    labels[:10], labels[200:210] = 1, 0  # the reverse of what an unlabelled fit would pick
    model = PoissonMixture(2, random_state=0).fit(counts, labels=labels)
    assert model.rates_[1].mean() < 2 < model.rates_[0].mean()
    assert np.all(np.diff(model.history_) >= -1e-9 * abs(model.history_[-1]))


def test_objective_is_the_labelled_complete_likelihood(counts):
    # Brute force: sum of log p(x) over unlabelled rows plus log pi_y p(x|y) over labelled ones.
    from scipy.stats import poisson
    labels = -np.ones(len(counts), dtype=int)
    labels[::7] = (np.arange(len(counts))[::7] >= 200).astype(int)
    model = PoissonMixture(2, random_state=0, max_iter=5, tol=0).fit(counts, labels=labels)
    joint = np.log(model.weights_) + poisson.logpmf(counts[:, None, :],
                                                    model.rates_[None]).sum(-1)
    from scipy.special import logsumexp
    per_row = np.where(labels >= 0, joint[np.arange(len(counts)), np.maximum(labels, 0)],
                       logsumexp(joint, axis=1))
    # history_[-1] is the objective at the returned parameters.
    assert model.history_[-1] == pytest.approx(per_row.sum(), rel=1e-10)


def test_no_labels_equals_unlabelled_fit(counts):
    plain = PoissonMixture(2, random_state=3).fit(counts)
    unlabelled = PoissonMixture(2, random_state=3).fit(counts, labels=-np.ones(len(counts)))
    np.testing.assert_array_equal(plain.rates_, unlabelled.rates_)


@pytest.mark.parametrize("labels, message", [
    (np.full(5, 0), r"labels must have shape \(400,\)"),
    (np.full(400, 2), r"component index in 0..1; got 2"),
    (np.full(400, 0.5), r"integer component indices"),
    (np.array(["a"] * 400), r"integer component indices"),
    (np.full(400, np.nan), r"mark unlabelled samples with -1"),
])
def test_bad_labels_are_named(counts, labels, message):
    with pytest.raises(ValueError, match=message):
        PoissonMixture(2).fit(counts, labels=labels)
