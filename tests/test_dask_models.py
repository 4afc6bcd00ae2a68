"""FactorAnalysis, PPCA, MixtureOfFactorAnalyzers, KMeans and BayesianGaussianMixture
on dask arrays, on a real distributed.LocalCluster.

The reference for every fit is the in-memory fit of the same data from the
same start (a different code path: chunks walked in one process). Each test
also checks where the work ran: the block tasks of the summary pass and of
every E-step are in the cluster's task stream, one per block, on its workers.
"""

import inspect
import re
import tracemalloc
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="the Dask strategy needs dask[array]")
distributed = pytest.importorskip("distributed", reason="the Dask tests need distributed")

import emkit  # noqa: E402
from _dask_cluster import client, e_step_tasks  # noqa: E402,F401  (shared helpers)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N_BLOCKS = 4


def _clusters(n=3000, seed=0, D=4):
    """Three elongated clusters far from the origin (centring matters)."""
    rng = np.random.RandomState(seed)
    centers = rng.uniform(-6.0, 6.0, size=(3, D))
    directions = rng.standard_normal((3, D))
    labels = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    X = (centers[labels] + rng.standard_normal((n, 1)) * 2.0 * directions[labels]
         + 0.5 * rng.standard_normal((n, D)))
    return X + 50.0


def _lazy(array):
    return da.from_array(array, chunks=-(-array.shape[0] // N_BLOCKS))


def _passes(records, kind):
    """Block tasks of one kind ("summary" or "e-step") by pass: {token: {block: worker}}."""
    renamed = ({**record, "key": str(record["key"]).replace(f"emkit-{kind}-", "emkit-e-step-")}
               for record in records if str(record["key"]).startswith(f"emkit-{kind}-"))
    return e_step_tasks(renamed)


def _fit_both(client, make, X, sample_weight=None):
    """In-memory and dask fits of ``make()`` and the dask fit's task stream."""
    weighted = {} if sample_weight is None else {"sample_weight": sample_weight}
    eager = make().fit(X, **weighted)
    lazy_weighted = {name: _lazy(value) for name, value in weighted.items()}
    with distributed.get_task_stream(client) as stream:
        lazy = make().fit(_lazy(X), **lazy_weighted)
    return eager, lazy, stream.data


def _assert_ran_on_the_workers(client, records, kind, n_passes=None):
    passes = _passes(records, kind)
    assert passes, f"no {kind} task ran on the workers"
    if n_passes is not None:
        assert len(passes) == n_passes, f"{len(passes)} {kind} passes, expected {n_passes}"
    workers = set(client.scheduler_info()["workers"])
    for blocks in passes.values():
        assert sorted(blocks) == list(range(N_BLOCKS))
        assert set(blocks.values()) <= workers
    return passes


def _assert_same_fit(lazy, eager, names, n_samples):
    assert lazy.n_iter_ == eager.n_iter_
    assert lazy.history_.size == eager.history_.size
    assert np.max(np.abs(lazy.history_ - eager.history_)) / n_samples < 1e-9
    for name in names:
        np.testing.assert_allclose(getattr(lazy, name), getattr(eager, name), rtol=1e-8,
                                   atol=1e-9, err_msg=name)


# ---------------------------------------------------------------- factor models
@pytest.mark.parametrize("cls", [emkit.FactorAnalysis, emkit.PPCA])
def test_factor_scatter_mode_makes_one_pass_on_the_workers(client, cls):
    X = _clusters()
    eager, lazy, records = _fit_both(
        client, lambda: cls(2, tol=0.0, max_iter=25, accelerate="none"), X)
    _assert_same_fit(lazy, eager, ["components_", "noise_variance_", "mean_"], X.shape[0])
    # The scatter came from the one summary pass; no iteration touched the blocks.
    _assert_ran_on_the_workers(client, records, "summary", n_passes=1)
    assert not _passes(records, "e-step")


def test_factor_samples_mode_maps_every_e_step_over_the_blocks(client):
    X = _clusters(seed=1)
    weights = np.random.RandomState(3).randint(0, 4, size=X.shape[0]).astype(float)
    eager, lazy, records = _fit_both(
        client, lambda: emkit.FactorAnalysis(2, tol=0.0, max_iter=8, e_step="samples"), X,
        weights)
    _assert_same_fit(lazy, eager, ["components_", "noise_variance_", "mean_"],
                     weights.sum())
    passes = _assert_ran_on_the_workers(client, records, "e-step")
    assert len(passes) == lazy.n_e_steps_


@pytest.mark.parametrize("accelerate", ["none", "squarem"])
def test_mixture_of_factor_analyzers_dask_fit_equals_in_memory(client, accelerate):
    # SQUAREM's E-steps (EM over x, labels and factors) run on the workers too.
    X = _clusters(seed=2)
    weights = np.random.RandomState(4).uniform(0.2, 2.0, size=X.shape[0])
    eager, lazy, records = _fit_both(
        client, lambda: emkit.MixtureOfFactorAnalyzers(3, n_factors=1, n_init=2, tol=0.0,
                                                       max_iter=12, random_state=0,
                                                       accelerate=accelerate), X,
        weights)
    _assert_same_fit(lazy, eager, ["weights_", "means_", "loadings_", "noise_variance_"],
                     weights.sum())
    passes = _assert_ran_on_the_workers(client, records, "e-step")
    # Both restarts' E-steps (the kept run's are n_e_steps_).
    assert len(passes) > lazy.n_e_steps_
    _assert_ran_on_the_workers(client, records, "summary", n_passes=1)


# ---------------------------------------------------------------------- k-means
def test_kmeans_dask_fit_equals_in_memory(client):
    X = _clusters(seed=5)
    weights = np.random.RandomState(6).randint(0, 3, size=X.shape[0]).astype(float)
    eager, lazy, records = _fit_both(
        client, lambda: emkit.KMeans(3, n_init=3, tol=0.0, random_state=0), X, weights)
    assert lazy.n_iter_ == eager.n_iter_
    assert lazy.inertia_ == pytest.approx(eager.inertia_, rel=1e-12)
    np.testing.assert_allclose(lazy.cluster_centers_, eager.cluster_centers_, rtol=1e-12)
    assert isinstance(lazy.labels_, da.Array)
    np.testing.assert_array_equal(lazy.labels_.compute(), eager.labels_)
    _assert_ran_on_the_workers(client, records, "e-step")


def test_kmeans_empty_cluster_is_relocated_on_the_workers_as_in_memory(client):
    X = _clusters(4000, seed=7)
    # A centre no sample is nearest to: it is moved onto the sample farthest
    # from its centre, found block by block (and chunk by chunk) on the workers.
    start = np.vstack([X[:2], [[1e4] * X.shape[1]]])
    make = lambda: emkit.KMeans(3, init=start, tol=0.0, max_iter=30)  # noqa: E731
    eager = make().fit(X)
    with distributed.get_task_stream(client) as stream:
        lazy = make().fit(_lazy(X))
    assert any(str(record["key"]).startswith("emkit-reduce-") for record in stream.data)
    assert lazy.n_iter_ == eager.n_iter_
    np.testing.assert_allclose(lazy.cluster_centers_, eager.cluster_centers_, rtol=1e-12)
    assert lazy.inertia_ == pytest.approx(eager.inertia_, rel=1e-12)
    # Brute force: after the first assignment and update, the empty centre
    # moves onto the sample farthest from its nearest updated centre.
    first = emkit.KMeans(3, init=start, tol=0.0, max_iter=1).fit(_lazy(X))
    labels = ((X[:, None, :] - start[None, :2, :]) ** 2).sum(axis=2).argmin(axis=1)
    means = np.array([X[labels == k].mean(axis=0) for k in range(2)])
    farthest = ((X[:, None, :] - means[None]) ** 2).sum(axis=2).min(axis=1).argmax()
    np.testing.assert_allclose(first.cluster_centers_, np.vstack([means, X[farthest]]),
                               rtol=1e-10)


# ------------------------------------------------------------------ variational
@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_bayesian_mixture_dask_fit_equals_in_memory(client, covariance_type):
    X = _clusters(seed=8, D=3)
    eager, lazy, records = _fit_both(
        client, lambda: emkit.BayesianGaussianMixture(
            n_components=5, covariance_type=covariance_type, n_init=2, tol=0.0, max_iter=15,
            random_state=0), X)
    _assert_same_fit(lazy, eager, ["weights_", "means_", "covariances_", "mean_prior_",
                                   "covariance_prior_", "degrees_of_freedom_"], X.shape[0])
    assert lazy.lower_bound_ == pytest.approx(eager.lower_bound_, rel=1e-12)
    _assert_ran_on_the_workers(client, records, "e-step")
    _assert_ran_on_the_workers(client, records, "summary", n_passes=1)


# -------------------------------------------------------------------- inference
def _fitted_pairs():
    X = _clusters(2000, seed=9)
    return X, [
        emkit.FactorAnalysis(2).fit(X), emkit.PPCA(2).fit(X),
        emkit.MixtureOfFactorAnalyzers(3, n_factors=1, n_init=1, random_state=0).fit(X),
        emkit.KMeans(3, n_init=2, random_state=0).fit(X),
        emkit.BayesianGaussianMixture(n_components=3, n_init=1, random_state=0).fit(X),
    ]


def test_inference_on_dask_returns_dask_arrays_equal_to_in_memory(client):
    X, models = _fitted_pairs()
    weights = np.random.RandomState(1).uniform(0.5, 1.5, size=X.shape[0])
    lazy_X, lazy_weights = _lazy(X), _lazy(weights)
    for model in models:
        name = type(model).__name__
        methods = [method for method in ("predict", "predict_proba", "score_samples",
                                         "transform") if hasattr(model, method)]
        for method in methods:
            result = getattr(model, method)(lazy_X)
            assert isinstance(result, da.Array), f"{name}.{method}"
            with distributed.get_task_stream(client) as stream:
                computed = result.compute()
            # Computed where the blocks are: one task per block on the workers.
            assert sum(1 for record in stream.data
                       if re.match(r"\(?'?emkit-", str(record["key"]))) >= N_BLOCKS, (
                f"{name}.{method}")
            expected = getattr(model, method)(X)
            assert computed.shape == expected.shape and computed.dtype.kind == \
                expected.dtype.kind, f"{name}.{method}"
            np.testing.assert_allclose(computed, expected, rtol=1e-12, atol=1e-12,
                                       err_msg=f"{name}.{method}")
        score = model.score(lazy_X)
        assert isinstance(score, float)
        assert score == pytest.approx(model.score(X), rel=1e-12), name
        if name != "BayesianGaussianMixture":  # its score takes no sample_weight
            assert model.score(lazy_X, sample_weight=lazy_weights) == pytest.approx(
                model.score(X, sample_weight=weights), rel=1e-12), name
        if hasattr(model, "bic"):
            assert model.bic(lazy_X) == pytest.approx(model.bic(X), rel=1e-12), name


# ------------------------------------------------------------------- validation
ESTIMATORS = [
    lambda: emkit.FactorAnalysis(1), lambda: emkit.PPCA(1),
    lambda: emkit.FactorAnalysis(1, e_step="samples"),
    lambda: emkit.MixtureOfFactorAnalyzers(2, n_init=1),
    lambda: emkit.KMeans(2, n_init=1), lambda: emkit.BayesianGaussianMixture(n_components=2),
]


@pytest.mark.parametrize("make", ESTIMATORS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_bad_values_in_a_block_give_the_in_memory_error(client, make, bad):
    X = _clusters(2000, seed=10)
    X[1700, 1] = bad  # in the last block
    with pytest.raises(ValueError) as in_memory:
        make().fit(X)
    with pytest.raises(ValueError) as on_dask:
        make().fit(_lazy(X))
    kind = "NaN" if np.isnan(bad) else "infinity"
    assert str(in_memory.value).startswith(f"Input X contains {kind} in 1 row(s) (rows 1700).")
    # The block's own check counts its rows from its first; the message says where it is.
    message = str(on_dask.value)
    assert message.startswith(str(in_memory.value).replace("(rows 1700)", "(rows 200)"))
    assert message.endswith("(In block 3 of the dask array: its rows 1500 to 1999; row "
                            "numbers above count from row 1500.)")
    model = make().fit(np.delete(X, 1700, axis=0))
    with pytest.raises(ValueError, match=r"contains .* \(rows 200\).*count from row 1500"):
        model.score_samples(_lazy(X)).compute()


@pytest.mark.parametrize("make", ESTIMATORS)
def test_dask_input_shape_and_weights_are_checked_with_named_messages(client, make):
    X = _clusters(400, seed=11)
    with pytest.raises(ValueError, match=r"Input X must be a 2-D.*reshape"):
        make().fit(_lazy(X[:, 0]))
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        lazy = _lazy(X)
        make().fit(lazy[lazy[:, 0] > 50])
    model = make().fit(X)
    with pytest.raises(ValueError, match="3 features, but the model was fitted with 4"):
        model.score_samples(_lazy(X[:, :3]))
    if "sample_weight" in inspect.signature(model.fit).parameters:
        with pytest.raises(ValueError, match="sample_weight must be non-negative"):
            make().fit(_lazy(X), sample_weight=_lazy(-np.ones(X.shape[0])))


def test_mixture_of_factor_analyzers_rejects_labels_with_a_dask_x(client):
    X = _clusters(400, seed=12)
    with pytest.raises(ValueError, match="labels are not supported with a dask X"):
        emkit.MixtureOfFactorAnalyzers(2).fit(_lazy(X), labels=np.full(X.shape[0], -1))


# ---------------------------------------------------------------- client memory
def test_kmeans_on_data_made_on_the_workers_keeps_the_client_small(client):
    # 2,000,000 x 4 float64 is 61 MiB; the client may hold a sample of rows,
    # the centres and the sums, never the data.
    rng = da.random.default_rng(0)
    X = rng.normal(size=(2_000_000, 4), chunks=(250_000, 4))
    X = X + 8.0 * (rng.random(size=(2_000_000, 1), chunks=(250_000, 1)) < 0.4)
    model = emkit.KMeans(2, n_init=1, max_iter=3, tol=0.0, random_state=0)
    # Imports and kernel compilation (about 77 MiB of Python allocations in a
    # fresh process) are once per process, not per fit: done before measuring.
    emkit.KMeans(2, n_init=1, max_iter=1, random_state=0).fit(_clusters(200))
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 * 2**20, f"client peak {peak / 2**20:.1f} MiB"
    # Lloyd's assignments may settle before max_iter (tol=0 stops there).
    assert 1 <= model.n_iter_ <= 3 and np.isfinite(model.inertia_)
    centers = np.sort(model.cluster_centers_[:, 0])
    np.testing.assert_allclose(centers, [0.0, 8.0], atol=0.05)
