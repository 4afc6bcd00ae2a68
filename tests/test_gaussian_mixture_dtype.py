"""float32 input gives float32 fitted attributes, as in scikit-learn; statistics stay float64.

References: scikit-learn's GaussianMixture on the same float32 data (dtypes),
and emkit's own float64 fit on the same values (numbers).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from emkit import GaussianMixture

ATTRIBUTES = ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_")


@pytest.fixture(scope="module")
def data32():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(150, 3), 0.5 * rng.randn(150, 3) + 4.0])
    return X.astype(np.float32)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_float32_attributes_like_scikit_learn(data32, covariance_type):
    ours = GaussianMixture(2, covariance_type=covariance_type, n_init=2,
                           random_state=0).fit(data32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = SklearnGaussianMixture(2, covariance_type=covariance_type,
                                        random_state=0).fit(data32)
    for name in ATTRIBUTES:
        assert getattr(ours, name).dtype == getattr(theirs, name).dtype == np.float32, name
        assert getattr(ours, name).shape == getattr(theirs, name).shape, name
    for method in ("predict_proba", "score_samples"):
        assert getattr(ours, method)(data32).dtype == getattr(theirs, method)(data32).dtype
    # The same clustering as scikit-learn's (labels up to a permutation).
    order = np.argsort(ours.means_[:, 0])
    their_order = np.argsort(theirs.means_[:, 0])
    np.testing.assert_allclose(ours.means_[order], theirs.means_[their_order], rtol=1e-4,
                               atol=1e-4)


@pytest.mark.parametrize("covariance_type",
                         ["full", "tied", "diag", "spherical", "VVV", "EEI", "VEV"])
def test_float32_fit_is_the_float64_fit_rounded(data32, covariance_type):
    fit32 = GaussianMixture(2, covariance_type=covariance_type, n_init=2,
                            random_state=0).fit(data32)
    fit64 = GaussianMixture(2, covariance_type=covariance_type, n_init=2,
                            random_state=0).fit(data32.astype(np.float64))
    for name in ATTRIBUTES:
        value32, value64 = getattr(fit32, name), getattr(fit64, name)
        assert value32.dtype == np.float32 and value64.dtype == np.float64, name
        # float32 data carry ~1e-7 relative error into the statistics.
        np.testing.assert_allclose(value32, value64, rtol=2e-5, atol=1e-6, err_msg=name)
    # The precisions are derived in float64 and rounded once: consistent to float32.
    if fit32.covariances_.ndim == 3:
        identity = np.einsum("kij,kjl->kil", fit32.covariances_.astype(np.float64),
                             fit32.precisions_.astype(np.float64))
        np.testing.assert_allclose(identity, np.broadcast_to(np.eye(3), identity.shape),
                                   atol=1e-5)
    assert fit32.score(data32) == pytest.approx(fit64.score(data32.astype(np.float64)),
                                                rel=1e-6)


def test_float32_model_predicts_float64_data_and_warm_starts(data32):
    model = GaussianMixture(2, random_state=0, n_init=1, warm_start=True).fit(data32)
    data64 = data32.astype(np.float64)
    assert model.predict_proba(data64).dtype == np.float64
    np.testing.assert_allclose(model.predict_proba(data64), model.predict_proba(data32),
                               rtol=1e-5, atol=1e-6)
    means = model.means_.copy()
    model.fit(data32)  # continues from the float32 attributes (engine: float64)
    assert model.means_.dtype == np.float32 and model.n_iter_ <= 2
    np.testing.assert_allclose(model.means_, means, rtol=1e-5, atol=1e-5)


def test_float64_input_stays_float64(data32):
    model = GaussianMixture(2, random_state=0, n_init=1).fit(data32.astype(np.float64))
    assert all(getattr(model, name).dtype == np.float64 for name in ATTRIBUTES)
    assert model.score_samples(data32.astype(np.float64)).dtype == np.float64


def test_sample_zero_is_named_like_scikit_learn(data32):
    model = GaussianMixture(2, random_state=0, n_init=1).fit(data32)
    with pytest.raises(ValueError, match="Invalid value for 'n_samples': 0; n_samples must "
                                         "be an integer >= 1"):
        model.sample(0)
