"""The Dask strategy: E-steps on a real distributed.LocalCluster's workers.

The reference for every fit here is the in-memory fit of the same data from the
same start (a different code path: chunks in one process, summed in order).
"""

import re
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="the Dask strategy needs dask[array]")
distributed = pytest.importorskip("distributed", reason="the Dask tests need distributed")

import emkit  # noqa: E402
from _dask_cluster import client, e_step_tasks  # noqa: E402,F401  (shared helpers)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical", "VEV", "EII"]


def _clusters(n=4000, seed=0):
    rng = np.random.RandomState(seed)
    centers = np.array([[0.0, 0.0, 0.0], [5.0, 1.0, -2.0], [1.0, 7.0, 3.0]])
    labels = rng.randint(3, size=n)
    X = centers[labels] + rng.normal(size=(n, 3)) * rng.uniform(0.5, 2.0, size=(3, 3))[labels]
    return X + 100.0  # off the origin: centring matters


START = {"random_state": 0, "weights_init": [0.3, 0.3, 0.4],
         "means_init": [[99.0, 99.0, 99.0], [104.0, 102.0, 97.0], [102.0, 106.0, 104.0]]}


def _assert_same_fit(lazy, eager, names):
    assert lazy.n_iter_ == eager.n_iter_
    assert abs(lazy.lower_bound_ - eager.lower_bound_) < 1e-9
    np.testing.assert_allclose(lazy.lower_bounds_, eager.lower_bounds_, rtol=0, atol=1e-9)
    for name in names:
        np.testing.assert_allclose(getattr(lazy, name), getattr(eager, name), rtol=1e-10,
                                   atol=1e-10, err_msg=name)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_gaussian_dask_fit_equals_in_memory_fit(client, covariance_type):
    X = _clusters()
    kwargs = dict(covariance_type=covariance_type, n_init=1, max_iter=12, tol=0.0, **START)
    eager = emkit.GaussianMixture(3, **kwargs).fit(X)
    lazy = emkit.GaussianMixture(3, **kwargs).fit(da.from_array(X, chunks=1000))
    _assert_same_fit(lazy, eager, ["weights_", "means_", "covariances_", "precisions_cholesky_"])


def test_gaussian_dask_weighted_fit_with_restarts_equals_in_memory(client):
    # Up to 20,000 rows the strided sample is all of X, so even the k-means++
    # restarts (and their screening, on the cluster) start where memory's do.
    X = _clusters(3000, seed=1)
    weights = np.random.RandomState(2).randint(0, 4, size=X.shape[0]).astype(float)
    kwargs = dict(n_init=3, screen_iter=3, max_iter=10, tol=0.0, random_state=0)
    eager = emkit.GaussianMixture(3, **kwargs).fit(X, sample_weight=weights)
    lazy = emkit.GaussianMixture(3, **kwargs).fit(da.from_array(X, chunks=700),
                                                  sample_weight=da.from_array(weights, chunks=500))
    _assert_same_fit(lazy, eager, ["weights_", "means_", "covariances_"])


def test_collapsed_component_is_reseeded_as_in_memory(client):
    # A component started on six duplicated points collapses; the re-seed
    # draws from the client's sample of rows, here all of them, as memory does.
    rng = np.random.RandomState(3)
    X = np.vstack([rng.randn(200, 2), rng.randn(200, 2) + 6, np.tile([[3.0, 3.0]], (6, 1))])
    kwargs = dict(means_init=[[0, 0], [6, 6], [3, 3]], n_init=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eager = emkit.GaussianMixture(3, **kwargs).fit(X)
        lazy = emkit.GaussianMixture(3, **kwargs).fit(da.from_array(X, chunks=150))
    assert eager.n_repairs_ >= 1
    assert lazy.n_repairs_ == eager.n_repairs_
    np.testing.assert_array_equal(lazy.repairs_, eager.repairs_)
    _assert_same_fit(lazy, eager, ["weights_", "means_", "covariances_"])


def test_every_block_runs_on_the_workers_every_iteration(client):
    X = da.from_array(_clusters(), chunks=500)
    n_blocks = X.numblocks[0]
    with distributed.get_task_stream(client) as stream:
        model = emkit.GaussianMixture(3, n_init=1, max_iter=5, tol=0.0, **START).fit(X)
    tasks = e_step_tasks(stream.data)
    assert model.n_e_steps_ == 6
    assert len(tasks) == model.n_e_steps_
    workers = set(client.scheduler_info()["workers"])
    for blocks in tasks.values():
        assert sorted(blocks) == list(range(n_blocks))
        assert set(blocks.values()) <= workers


def test_predictions_on_dask_equal_in_memory(client):
    X = _clusters(3000)
    model = emkit.GaussianMixture(3, n_init=1, max_iter=20, **START).fit(X)
    lazy_X = da.from_array(X, chunks=800)
    labels, proba = model.predict(lazy_X), model.predict_proba(lazy_X)
    log_density = model.score_samples(lazy_X)
    assert all(emkit._engine.dask_data.is_dask_array(a) for a in (labels, proba, log_density))
    np.testing.assert_array_equal(labels.compute(), model.predict(X))
    np.testing.assert_allclose(proba.compute(), model.predict_proba(X), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(log_density.compute(), model.score_samples(X), rtol=1e-13)
    weights = np.linspace(0.0, 2.0, X.shape[0])
    assert model.score(lazy_X) == pytest.approx(model.score(X), rel=1e-12)
    assert model.score(lazy_X, sample_weight=weights) == pytest.approx(
        model.score(X, sample_weight=weights), rel=1e-12)
    assert model.bic(lazy_X) == pytest.approx(model.bic(X), rel=1e-12)


def test_poisson_dask_fit_and_predict_equal_in_memory(client):
    rng = np.random.RandomState(3)
    rates = np.array([[1.0, 6.0], [5.0, 2.0], [12.0, 9.0]])
    labels = rng.randint(3, size=3000)
    X = rng.poisson(rates[labels])
    weights = rng.randint(1, 4, size=X.shape[0]).astype(float)
    kwargs = dict(n_init=2, max_iter=25, tol=0.0, random_state=1)
    eager = emkit.PoissonMixture(3, **kwargs).fit(X, sample_weight=weights)
    lazy_X = da.from_array(X, chunks=700)  # integer counts, checked on the workers
    lazy = emkit.PoissonMixture(3, **kwargs).fit(lazy_X, sample_weight=weights)
    _assert_same_fit(lazy, eager, ["weights_", "rates_"])
    np.testing.assert_array_equal(lazy.predict(lazy_X).compute(), eager.predict(X))
    np.testing.assert_allclose(lazy.predict_proba(lazy_X).compute(), eager.predict_proba(X),
                               rtol=1e-9, atol=1e-12)
    assert lazy.score(lazy_X) == pytest.approx(eager.score(X), rel=1e-10)


def test_dask_input_is_validated_with_named_messages(client):
    X = _clusters(2000)
    with pytest.raises(ValueError, match=r"Input X must be a 2-D.*reshape"):
        emkit.GaussianMixture(2).fit(da.from_array(X[:, 0], chunks=500))
    with pytest.raises(ValueError, match="complex"):
        emkit.GaussianMixture(2).fit(da.from_array(X.astype(complex), chunks=500))
    bad = X.copy()
    bad[1700, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        emkit.GaussianMixture(2, n_init=1).fit(da.from_array(bad, chunks=500))
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        emkit.GaussianMixture(2, n_init=1).fit(
            da.from_array(X, chunks=500), sample_weight=da.from_array(-np.ones(2000), chunks=500))
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        lazy = da.from_array(X, chunks=500)
        emkit.GaussianMixture(2).fit(lazy[lazy[:, 0] > 100])
    model = emkit.GaussianMixture(2, n_init=1, max_iter=5).fit(X)
    with pytest.raises(ValueError, match="2 features, but the model was fitted with 3"):
        model.predict(da.from_array(X[:, :2], chunks=500))
    with pytest.raises(ValueError, match="negative counts"):
        emkit.PoissonMixture(2).fit(da.from_array(-np.ones((100, 2)), chunks=50))


def test_fitting_data_made_on_the_workers_keeps_the_client_small(client):
    # 2,000,000 x 4 float64 is 61 MiB; the client may hold a sample and the
    # statistics, never the data.
    rng = da.random.default_rng(0)
    X = rng.normal(size=(2_000_000, 4), chunks=(250_000, 4))
    X = X + 6.0 * (rng.random(size=(2_000_000, 1), chunks=(250_000, 1)) < 0.4)
    model = emkit.GaussianMixture(2, n_init=1, max_iter=3, tol=0.0, random_state=0)
    tracemalloc.start()
    try:
        model.fit(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 * 2**20, f"client peak {peak / 2**20:.1f} MiB"
    assert model.n_iter_ == 3 and np.isfinite(model.lower_bound_)
    np.testing.assert_allclose(np.sort(model.weights_), [0.4, 0.6], atol=0.01)


def test_readme_example_fits_a_file_on_disk(client, tmp_path, monkeypatch):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Data larger than memory", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    small = "n_samples, n_features, block = 20_000, 8, 5_000"
    code, replaced = re.subn(r"^n_samples, n_features, block = .*$", small, code, flags=re.M)
    assert replaced == 1
    code = code.replace("tempfile.gettempdir()", repr(str(tmp_path)))
    namespace = {"__name__": "readme_example"}
    exec(compile(code, "README.md", "exec"), namespace)
    gmm, X = namespace["gmm"], namespace["X"]
    in_memory = np.load(namespace["path"])
    assert namespace["first_labels"].shape == (10,)
    reference = emkit.GaussianMixture(3, n_init=1, max_iter=gmm.max_iter,
                                      weights_init=gmm.weights_, means_init=gmm.means_,
                                      precisions_init=gmm.precisions_).fit(in_memory)
    # The dask fit is an optimum: restarting EM there in memory stays there.
    assert reference.lower_bound_ == pytest.approx(gmm.lower_bound_, abs=1e-6)
    np.testing.assert_array_equal(gmm.predict(X).compute(), gmm.predict(in_memory))
