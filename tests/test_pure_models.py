"""The engine's models hold no data (issue 9: "Models do not hold the data").

A model is a pure function of (parameters, data): the engine holds the data
object and hands it to whatever reads samples. Every fit below records the
model the estimator gives the engine and checks that nothing reachable from
it is (or views) the fitted samples, and that its pickle, which a Dask
cluster ships to the workers at every iteration, stays small.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import emkit.estimators._component_mixture as component_mixture_module
import emkit.estimators.gaussian_mixture as gaussian_mixture_module
import emkit.estimators.hmm as hmm_module
from emkit import GaussianHMM, GaussianMixture, MixtureOfExperts, RegressionMixture


def _recording(monkeypatch, module):
    """Record every model ``module``'s estimators hand to ``fit_em``."""
    models = []
    real = module.fit_em

    def recorded(model, data, *args, **kwargs):
        models.append((model, data))
        return real(model, data, *args, **kwargs)

    monkeypatch.setattr(module, "fit_em", recorded)
    return models


def _arrays(obj, seen=None, depth=0):
    """Every ndarray reachable from ``obj`` through attributes and containers."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 12:
        return
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        yield obj
        return
    if isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        children = list(obj)
    else:
        children = list(getattr(obj, "__dict__", {}).values())
        for name in getattr(type(obj), "__slots__", ()):
            if hasattr(obj, name):
                children.append(getattr(obj, name))
    for child in children:
        if isinstance(child, (str, bytes, int, float, type(None))) or callable(child) \
                and not hasattr(child, "__dict__"):
            continue
        yield from _arrays(child, seen, depth + 1)


def _check_holds_no_data(model, X):
    for array in _arrays(model):
        assert not np.shares_memory(array, X), (
            f"{type(model).__name__} holds a view of the data ({array.shape})")
        assert array.shape[:1] != X.shape[:1], (
            f"{type(model).__name__} holds a per-sample array of shape {array.shape}")
    # Its settings and the component's few (D, D) matrices, not the samples.
    size = len(pickle.dumps(model))
    assert size < max(X.nbytes // 10, 4096), (type(model).__name__, size, X.nbytes)
    assert "data" not in vars(model)


@pytest.fixture
def blobs():
    rng = np.random.RandomState(0)
    return np.vstack([rng.normal(size=(3000, 2)), rng.normal(size=(3000, 2)) + 6.0])


@pytest.mark.parametrize("n_samples", [6000, 600])  # the BLAS model, the fused small one
def test_gaussian_mixture_model_holds_no_data(monkeypatch, blobs, n_samples):
    X = blobs[::6000 // n_samples]
    models = _recording(monkeypatch, gaussian_mixture_module)
    fitted = GaussianMixture(2, n_init=2, random_state=0).fit(X)
    assert fitted.converged_
    names = {type(model).__name__ for model, _ in models}
    assert names == {"MixtureModel" if n_samples > 1024 else "SmallGaussianMixtureModel"}
    for model, data in models:
        assert data.X is X  # the engine holds the data ...
        _check_holds_no_data(model, X)  # ... and the model none of it


def test_fit_from_responsibilities_model_holds_no_data(monkeypatch, blobs):
    # The compiled updates walk the engine's data, handed to them per call.
    X = blobs[::10]
    models = _recording(monkeypatch, gaussian_mixture_module)
    resp = np.eye(2)[(X[:, 0] > 3.0).astype(int)]
    result = GaussianMixture(2).fit_from_responsibilities(X, resp)
    assert result.converged
    (model, _), = models
    assert type(model).__name__ == "SmallGaussianMixtureModel" and model.compiled_runs
    _check_holds_no_data(model, X)


def test_hmm_model_holds_no_data(monkeypatch, blobs):
    models = _recording(monkeypatch, hmm_module)
    GaussianHMM(2, max_iter=20, random_state=0).fit(blobs, lengths=[2000, 2000, 2000])
    assert models
    for model, _ in models:
        assert type(model).__name__ == "HiddenMarkovModel"
        _check_holds_no_data(model, blobs)


@pytest.mark.parametrize("estimator", [RegressionMixture, MixtureOfExperts])
def test_regression_models_hold_no_data(monkeypatch, estimator):
    rng = np.random.RandomState(1)
    x = rng.uniform(-3, 3, size=(4000, 1))
    y = np.where(x[:, 0] > 0, 2.0 * x[:, 0], -x[:, 0] + 1.0) + rng.normal(scale=0.3, size=4000)
    models = _recording(monkeypatch, component_mixture_module)
    # A prior on the gating slopes: the regimes are separable in x.
    settings = {"gating_alpha": 1.0} if estimator is MixtureOfExperts else {}
    estimator(2, n_init=2, random_state=0, **settings).fit(x, y)
    assert models
    for model, data in models:
        # The experts' gating M-step reads the engine's data (m_step_reads_data).
        assert getattr(model, "m_step_reads_data", False) == (estimator is MixtureOfExperts)
        _check_holds_no_data(model, data.X)
