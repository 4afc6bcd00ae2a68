"""RegressionMixture and MixtureOfExperts on dask arrays, on a real distributed.LocalCluster.

The reference for every fit is the in-memory fit of the same data from the
same start. Beyond the E-step, the experts' gating M-step walks the data
(a pass per Newton trial point): those passes must run on the workers too,
so an iteration has more than one block pass there.
"""

import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="the Dask strategy needs dask[array]")
distributed = pytest.importorskip("distributed", reason="the Dask tests need distributed")

import emkit  # noqa: E402
from _dask_cluster import client, e_step_tasks  # noqa: E402,F401  (shared helpers)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N_BLOCKS = 4


def _two_regimes(n=2000, seed=0):
    """Two crossing lines, a regime chosen by x (the experts' case), far from the origin.

    Fewer rows than a dask fit's sample, so that its starts are drawn from
    every row, as the in-memory fit's are.
    """
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2.0, 2.0, size=(n, 2))
    regime = (X[:, 0] + 0.3 * rng.standard_normal(n)) > 0
    y = np.where(regime, 2.0 * X[:, 0] - X[:, 1] + 1.0, -X[:, 0] + 0.5 * X[:, 1])
    y = y + 0.2 * rng.standard_normal(n)
    return X + 40.0, y + 100.0


def _lazy(array):
    chunks = -(-array.shape[0] // N_BLOCKS)
    return da.from_array(array, chunks=(chunks,) + array.shape[1:])


MAKERS = {
    "regression": lambda: emkit.RegressionMixture(2, n_init=3, random_state=0, max_iter=200),
    "experts": lambda: emkit.MixtureOfExperts(2, n_init=2, random_state=0, max_iter=60),
}
PARAMS = ("coef_", "intercept_", "noise_variance_")


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_dask_fit_equals_in_memory_and_runs_on_the_workers(client, kind):
    X, y = _two_regimes()
    weights = np.random.RandomState(1).uniform(0.5, 2.0, size=X.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the experts' separation warning
        eager = MAKERS[kind]().fit(X, y, sample_weight=weights)
        with distributed.get_task_stream(client) as stream:
            lazy = MAKERS[kind]().fit(_lazy(X), _lazy(y), sample_weight=_lazy(weights))
    assert lazy.n_iter_ == eager.n_iter_
    assert lazy.history_.size == eager.history_.size
    assert np.max(np.abs(lazy.history_ - eager.history_)) / X.shape[0] < 1e-9
    names = PARAMS + (("gating_coef_", "gating_intercept_") if kind == "experts"
                      else ("weights_",))
    for name in names:
        np.testing.assert_allclose(getattr(lazy, name), getattr(eager, name), rtol=1e-7,
                                   atol=1e-8, err_msg=name)
    passes = e_step_tasks(stream.data)
    workers = set(client.scheduler_info()["workers"])
    assert len(passes) >= lazy.n_e_steps_
    for blocks in passes.values():
        assert sorted(blocks) == list(range(N_BLOCKS))
        assert set(blocks.values()) <= workers
    if kind == "experts":
        # Every M-step tests its Newton trial points by passes on the workers.
        assert len(passes) > lazy.n_e_steps_


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_inference_on_dask_gives_dask_arrays_equal_to_in_memory(client, kind):
    X, y = _two_regimes(n=1200, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = MAKERS[kind]().fit(X, y)
    lazy_X, lazy_y = _lazy(X), _lazy(y)
    results = {
        "predict": (model.predict(lazy_X), model.predict(X)),
        "component_means": (model.component_means(lazy_X), model.component_means(X)),
        "gate": (model.predict_proba(lazy_X), model.predict_proba(X)),
        "posterior": (model.predict_proba(lazy_X, lazy_y), model.predict_proba(X, y)),
        "posterior_y_in_memory": (model.predict_proba(lazy_X, y), model.predict_proba(X, y)),
        "score_samples": (model.score_samples(lazy_X, lazy_y), model.score_samples(X, y)),
        "component": (model.predict_component(lazy_X, lazy_y), model.predict_component(X, y)),
    }
    for name, (lazy, eager) in results.items():
        assert isinstance(lazy, da.Array), name
        np.testing.assert_allclose(lazy.compute(), eager, rtol=1e-12, atol=1e-12, err_msg=name)
    assert model.score(lazy_X, lazy_y) == pytest.approx(model.score(X, y), rel=1e-12)
    assert model.bic(lazy_X, lazy_y) == pytest.approx(model.bic(X, y), rel=1e-12)
    with pytest.raises(ValueError, match="sample takes in-memory inputs"):
        model.sample(lazy_X)


def test_bad_values_in_a_block_name_the_argument_and_the_rows(client):
    X, y = _two_regimes(n=800, seed=3)
    bad_y = y.copy()
    bad_y[650] = np.nan
    with pytest.raises(ValueError, match=r"(?s)y contains NaN.*block 3.*rows 600"):
        emkit.RegressionMixture(2, n_init=1).fit(_lazy(X), _lazy(bad_y))
    bad_X = X.copy()
    bad_X[10, 1] = np.inf
    with pytest.raises(ValueError, match=r"(?s)X contains .*infinity.*block 0"):
        emkit.MixtureOfExperts(2, n_init=1).fit(_lazy(bad_X), _lazy(y))
    model = emkit.RegressionMixture(2, n_init=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"(?s)y contains NaN.*block 3"):
        model.score_samples(_lazy(X), _lazy(bad_y)).compute()


def test_dask_shapes_and_mixed_inputs_are_checked_with_named_messages(client):
    X, y = _two_regimes(n=400, seed=4)
    with pytest.raises(ValueError, match=r"y must have shape \(400,\)"):
        emkit.RegressionMixture(2).fit(_lazy(X), _lazy(y[:300]))
    with pytest.raises(ValueError, match="y is a dask array but X is not"):
        emkit.RegressionMixture(2).fit(X, _lazy(y))
    with pytest.raises(ValueError, match="requires y to be passed"):
        emkit.MixtureOfExperts(2).fit(_lazy(X), None)
    with pytest.raises(ValueError, match="strategy='online' takes in-memory X"):
        emkit.RegressionMixture(2).fit(_lazy(X), _lazy(y), strategy="online")
    with pytest.raises(ValueError, match=r"y must have shape \(400,\)"):
        emkit.RegressionMixture(2).partial_fit(_lazy(X), _lazy(y[:300]))
    # An in-memory y with a dask X is checked whole, on the client.
    bad_y = y.copy()
    bad_y[5] = np.inf
    with pytest.raises(ValueError, match=r"Input y contains infinity .*rows 5"):
        emkit.RegressionMixture(2).fit(_lazy(X), bad_y)


def test_partial_fit_over_blocks_is_partial_fit_of_every_block_in_turn(client):
    X, y = _two_regimes(n=1600, seed=5)
    weights = np.random.RandomState(6).uniform(0.5, 2.0, size=X.shape[0])
    make = lambda: emkit.RegressionMixture(2, n_init=2, random_state=0)  # noqa: E731
    eager = make()
    for rows in np.array_split(np.arange(X.shape[0]), N_BLOCKS):
        eager.partial_fit(X[rows], y[rows], sample_weight=weights[rows])
    lazy = make().partial_fit(_lazy(X), _lazy(y), sample_weight=weights)
    assert lazy.n_batch_iter_ == eager.n_batch_iter_ == N_BLOCKS
    for name in PARAMS + ("weights_",):
        np.testing.assert_allclose(getattr(lazy, name), getattr(eager, name), rtol=1e-10,
                                   err_msg=name)
    # A later dask call continues the same running statistics.
    lazy.partial_fit(_lazy(X), y)
    assert lazy.n_batch_iter_ == 2 * N_BLOCKS


def test_component_mixture_partial_fit_streams_dask_blocks(client):
    rng = np.random.RandomState(7)
    X = rng.poisson(np.array([[1.0, 6.0], [5.0, 2.0]])[rng.randint(2, size=1200)])
    weights = rng.uniform(0.5, 2.0, size=X.shape[0])
    eager = emkit.PoissonMixture(2, n_init=2, random_state=0)
    for rows in np.array_split(np.arange(X.shape[0]), N_BLOCKS):
        eager.partial_fit(X[rows], sample_weight=weights[rows])
    lazy = emkit.PoissonMixture(2, n_init=2, random_state=0).partial_fit(
        _lazy(X), sample_weight=_lazy(weights))
    np.testing.assert_allclose(lazy.rates_, eager.rates_, rtol=1e-10)
    np.testing.assert_allclose(lazy.weights_, eager.weights_, rtol=1e-10)
    with pytest.raises(ValueError, match="has 3 features, but the model was fitted with 2"):
        lazy.partial_fit(_lazy(np.hstack([X, X[:, :1]])))
