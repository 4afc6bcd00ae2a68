"""Every component family meets the shared Component contract (components/protocol.py)."""

import numpy as np
import pytest

from emkit.components.categorical import CategoricalComponent
from emkit.components.gaussian import GaussianComponent
from emkit.components.poisson import PoissonComponent
from emkit.components.protocol import (
    CollapsibleComponent,
    Component,
    UnconstrainedComponent,
)


def _gaussian(covariance_type):
    return GaussianComponent(covariance_type, reg_covar=1e-6, center=np.zeros(2),
                             dtype=np.float64, data_covariance=np.eye(2))


FAMILIES = {
    "gaussian-full": lambda: _gaussian("full"),
    "gaussian-VEV": lambda: _gaussian("VEV"),
    "poisson": lambda: PoissonComponent(2),
    "categorical": lambda: CategoricalComponent(3),
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_meets_the_contract(name):
    family = FAMILIES[name]()
    assert isinstance(family, Component)
    assert isinstance(family, UnconstrainedComponent)
    assert isinstance(family, CollapsibleComponent) == name.startswith("gaussian")


def test_gaussian_count_and_sampling_agree_with_the_estimator():
    from emkit import GaussianMixture
    from emkit.datasets import load_old_faithful

    X = load_old_faithful().data
    for covariance_type in ("full", "tied", "diag", "spherical", "VEV", "EII"):
        model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
        K, D = model.means_.shape
        # scikit-learn's and mclust's closed-form counts.
        expected = {"full": K * D * (D + 1) // 2, "tied": D * (D + 1) // 2, "diag": K * D,
                    "spherical": K, "VEV": K * D * (D + 1) // 2 - (K - 1),
                    "EII": 1}[covariance_type] + K * D + K - 1
        assert model.n_parameters() == expected
        samples, labels = model.sample(4000, random_state=1)
        assert samples.shape == (4000, D)
        top = np.argmax(model.weights_)
        np.testing.assert_allclose(samples[labels == top].mean(axis=0), model.means_[top],
                                   atol=0.1 * np.sqrt(X.var(axis=0)).max())
