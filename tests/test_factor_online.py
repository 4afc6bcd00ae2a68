"""partial_fit of FactorAnalysis and PPCA: exact running moments, then EM.

The model's E-step statistics are linear in the weighted mean and scatter of
the data, so the references are the batch fits of the samples seen so far
(of their union; with repeats, of the repeated rows), and Tipping & Bishop's
closed-form PPCA solution of the running covariance.
"""

import numpy as np
import pytest

from emkit.estimators.factor_analysis import PPCA, FactorAnalysis


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    loadings = rng.standard_normal((7, 2)) * 2.0
    X = rng.standard_normal((3000, 2)) @ loadings.T + rng.standard_normal((3000, 7)) * 0.7
    return X + 1e4  # far from the origin: the moments must be merged without cancelling


@pytest.mark.parametrize("cls", [FactorAnalysis, PPCA])
def test_partial_fit_over_batches_is_the_batch_fit_of_all_samples_seen(cls, data):
    # Tight tolerances: FA's likelihood is flat near its optimum, so fits
    # stopped by the default tol from two starts differ at 1e-4 in Sigma.
    batch = cls(2, tol=1e-12).fit(data)
    online = cls(2, tol=1e-12)
    for rows in np.array_split(np.arange(data.shape[0]), 5):
        online.partial_fit(data[rows])
    assert online.n_batch_iter_ == 5 and online.n_samples_seen_ == data.shape[0]
    np.testing.assert_allclose(online.mean_, data.mean(axis=0), rtol=0, atol=1e-9)
    assert online.score(data) == pytest.approx(batch.score(data), abs=1e-7)
    np.testing.assert_allclose(online.get_covariance(), batch.get_covariance(), rtol=1e-4)


def test_ppca_partial_fit_reaches_the_closed_form_of_the_running_covariance(data):
    model = PPCA(2)
    first, second = data[:1000], data[1000:2200]
    model.partial_fit(first).partial_fit(second)
    seen = np.vstack([first, second])
    covariance = np.cov(seen, rowvar=False, bias=True)
    values = np.sort(np.linalg.eigvalsh(covariance))[::-1]
    assert model.noise_variance_ == pytest.approx(values[2:].mean(), rel=1e-6)
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(model.get_covariance()))[::-1][:2],
                               values[:2], rtol=1e-6)


def test_weights_and_repeats_agree_and_fit_forgets_the_moments(data):
    weights = np.random.RandomState(1).randint(1, 4, size=1500).astype(float)
    weighted = FactorAnalysis(2).partial_fit(data[:1500], sample_weight=weights)
    repeated = FactorAnalysis(2).partial_fit(np.repeat(data[:1500], weights.astype(int),
                                                       axis=0))
    np.testing.assert_allclose(weighted.get_covariance(), repeated.get_covariance(),
                               rtol=1e-6)
    # A fit discards them: the next partial_fit starts new moments from its batch.
    weighted.fit(data[:500])
    weighted.partial_fit(data[500:1000])
    assert weighted.n_batch_iter_ == 1
    np.testing.assert_allclose(weighted.mean_, data[500:1000].mean(axis=0), atol=1e-9)


def test_partial_fit_errors_are_named(data):
    with pytest.raises(ValueError, match="first batch's covariance needs at least two"):
        FactorAnalysis(2).partial_fit(data[:1])
    model = FactorAnalysis(2).partial_fit(data[:100])
    model.partial_fit(data[100:101])  # later batches may hold one sample
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(data[:10, :3])
    with pytest.raises(ValueError, match="accelerate"):
        FactorAnalysis(2, accelerate="fast").partial_fit(data)


def test_partial_fit_streams_the_blocks_of_a_dask_array(data):
    da = pytest.importorskip("dask.array")
    eager = FactorAnalysis(2)
    for rows in np.array_split(np.arange(data.shape[0]), 4):
        eager.partial_fit(data[rows])
    lazy = FactorAnalysis(2).partial_fit(da.from_array(data, chunks=(750, 7)))
    assert lazy.n_batch_iter_ == 4
    np.testing.assert_allclose(lazy.get_covariance(), eager.get_covariance(), rtol=1e-10)
