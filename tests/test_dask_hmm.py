"""The Dask strategy for the hidden Markov models, on a real LocalCluster.

The reference for every fit is the in-memory fit of the same sequences with
the same settings (a different code path: chunks of sequences in one process,
summed in order); the Dask fit rechunks X along sequence boundaries, runs
forward-backward on the blocks on the workers and tree-sums the statistics.
"""

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="the Dask strategy needs dask[array]")
distributed = pytest.importorskip("distributed", reason="the Dask tests need distributed")

import emkit  # noqa: E402
import emkit.compat.hmmlearn  # noqa: E402
from _dask_cluster import client, e_step_tasks  # noqa: E402,F401  (the cluster fixture)
from emkit._engine.dask_data import is_dask_array, sequence_block_lengths  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

STARTPROB = np.array([0.5, 0.3, 0.2])
TRANSMAT = np.array([[0.90, 0.05, 0.05], [0.10, 0.80, 0.10], [0.05, 0.15, 0.80]])


def _truth(name):
    """A known 3-state model of every class (the data's generator)."""
    if name == "GaussianHMM":
        return emkit.GaussianHMM.from_params(
            STARTPROB, TRANSMAT, [[0.0, 0.0], [4.0, 1.0], [1.0, 5.0]],
            [[1.0, 0.5], [0.7, 1.2], [1.5, 0.6]], covariance_type="diag")
    if name == "GMMHMM":
        means = [[[0.0, 0.0], [2.0, 2.0]], [[6.0, 0.0], [8.0, -2.0]], [[0.0, 7.0], [-2.0, 9.0]]]
        return emkit.GMMHMM.from_params(STARTPROB, TRANSMAT, [[0.6, 0.4]] * 3, means,
                                        np.full((3, 2, 2), 0.6), covariance_type="diag")
    if name == "CategoricalHMM":
        return emkit.CategoricalHMM.from_params(
            STARTPROB, TRANSMAT, [[0.7, 0.2, 0.05, 0.05], [0.05, 0.1, 0.8, 0.05],
                                  [0.1, 0.1, 0.1, 0.7]])
    return emkit.PoissonHMM.from_params(STARTPROB, TRANSMAT,
                                        [[1.0, 6.0], [5.0, 2.0], [12.0, 9.0]])


def _sequences(name, n_sequences=24, seed=0):
    rng = np.random.RandomState(seed)
    truth = _truth(name)
    lengths = rng.randint(40, 160, size=n_sequences)
    X = np.concatenate([truth.sample(n, random_state=rng)[0] for n in lengths])
    if name in ("GaussianHMM", "GMMHMM"):
        X = X + 50.0  # off the origin: centring matters
    return X, lengths


def _estimator(name, **kwargs):
    kwargs = {"n_init": 2, "screen_iter": 2, "max_iter": 12, "tol": 0.0, "random_state": 0,
              **kwargs}
    if name == "GMMHMM":
        return emkit.GMMHMM(3, n_mix=2, **kwargs)
    return getattr(emkit, name)(3, **kwargs)


NAMES = ["GaussianHMM", "GMMHMM", "CategoricalHMM", "PoissonHMM"]
PARAMETERS = {"GaussianHMM": ["means_", "covariances_"],
              "GMMHMM": ["weights_", "means_", "covariances_"],
              "CategoricalHMM": ["emissionprob_"], "PoissonHMM": ["lambdas_"]}


@pytest.mark.parametrize("name", NAMES)
def test_dask_fit_equals_in_memory_fit(client, name):
    X, lengths = _sequences(name)
    eager = _estimator(name, n_init=1).fit(X, lengths)
    # Blocks of 700 rows cut through sequences: the fit rechunks along them.
    lazy = _estimator(name, n_init=1).fit(da.from_array(X, chunks=700), lengths)
    assert lazy.n_iter_ == eager.n_iter_ == 12
    N = X.shape[0]
    assert abs(lazy.history_[-1] - eager.history_[-1]) / N < 1e-9
    np.testing.assert_allclose(lazy.history_ / N, eager.history_ / N, rtol=0, atol=1e-9)
    for attribute in ["startprob_", "transmat_"] + PARAMETERS[name]:
        np.testing.assert_allclose(getattr(lazy, attribute), getattr(eager, attribute),
                                   rtol=1e-7, atol=1e-9, err_msg=attribute)
    # Baum-Welch never decreases the objective, on the cluster too.
    assert np.all(np.diff(lazy.history_) >= -1e-9 * N)


def test_dask_restarts_reach_the_in_memory_optimum(client):
    # Restarts that reach one optimum up to rounding may be kept in either
    # order (its labelling may differ): the objective is what must agree.
    X, lengths = _sequences("GaussianHMM", seed=5)
    eager = _estimator("GaussianHMM", n_init=3).fit(X, lengths)
    lazy = _estimator("GaussianHMM", n_init=3).fit(da.from_array(X, chunks=800), lengths)
    assert abs(lazy.history_[-1] - eager.history_[-1]) / X.shape[0] < 1e-9


def test_every_block_runs_on_the_workers_every_iteration(client):
    X, lengths = _sequences("GaussianHMM")
    lazy_X = da.from_array(X, chunks=900)
    n_blocks = len(sequence_block_lengths(lazy_X.chunks[0], lengths)[0])
    assert n_blocks >= 4
    with distributed.get_task_stream(client) as stream:
        model = _estimator("GaussianHMM", n_init=1).fit(lazy_X, lengths)
    tasks = e_step_tasks(stream.data)
    assert len(tasks) == model.n_e_steps_ == 13
    workers = set(client.scheduler_info()["workers"])
    for blocks in tasks.values():
        assert sorted(blocks) == list(range(n_blocks))
        assert set(blocks.values()) <= workers


@pytest.mark.parametrize("name", NAMES)
def test_dask_inference_equals_in_memory(client, name):
    X, lengths = _sequences(name, seed=1)
    model = _estimator(name, n_init=1).fit(X, lengths)
    lazy_X = da.from_array(X, chunks=500)
    states, proba = model.predict(lazy_X, lengths), model.predict_proba(lazy_X, lengths)
    per_sequence = model.score_sequences(lazy_X, lengths)
    assert all(is_dask_array(array) for array in (states, proba, per_sequence))
    np.testing.assert_array_equal(states.compute(), model.predict(X, lengths))
    np.testing.assert_allclose(proba.compute(), model.predict_proba(X, lengths),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(per_sequence.compute(), model.score_sequences(X, lengths),
                               rtol=1e-12)
    assert model.score(lazy_X, lengths) == pytest.approx(model.score(X, lengths), rel=1e-12)
    log_prob, map_states = model.decode(lazy_X, lengths, algorithm="map")
    expected_log_prob, expected_states = model.decode(X, lengths, algorithm="map")
    assert log_prob == pytest.approx(expected_log_prob, rel=1e-10)
    np.testing.assert_array_equal(map_states.compute(), expected_states)


def test_hmmlearn_adapter_fits_and_scores_dask(client):
    X, lengths = _sequences("GaussianHMM", seed=2)
    lazy_X = da.from_array(X, chunks=800)
    kwargs = dict(n_components=3, covariance_type="diag", n_iter=10, random_state=0)
    eager = emkit.compat.hmmlearn.GaussianHMM(**kwargs).fit(X, lengths)
    lazy = emkit.compat.hmmlearn.GaussianHMM(**kwargs).fit(lazy_X, lengths)
    np.testing.assert_allclose(lazy.monitor_.history, eager.monitor_.history, rtol=1e-12)
    log_prob, posteriors = lazy.score_samples(lazy_X, lengths)
    expected_log_prob, expected = eager.score_samples(X, lengths)
    assert log_prob == pytest.approx(expected_log_prob, rel=1e-10)
    np.testing.assert_allclose(posteriors.compute(), expected, rtol=1e-8, atol=1e-10)


def test_sequence_blocks_follow_the_sequences():
    lengths = np.array([3, 5, 2, 6, 4])
    # block ends 8 and 16 are sequence ends: kept as they are
    assert sequence_block_lengths((8, 8, 4), lengths)[0] == (8, 8, 4)
    rows, block_lengths = sequence_block_lengths((7, 7, 6), lengths)
    assert rows == (3, 7, 6, 4) and sum(rows) == 20
    assert [b.tolist() for b in block_lengths] == [[3], [5, 2], [6], [4]]
    with pytest.raises(ValueError, match=r"Sequence 3 of X has 6 steps.*X.rechunk\(\{0: 6\}\)"):
        sequence_block_lengths((5, 5, 5, 5), lengths)


def test_dask_input_is_validated_with_named_messages(client):
    X, lengths = _sequences("GaussianHMM", n_sequences=6)
    with pytest.raises(ValueError, match=r"Sequence \d+ of X has \d+ steps.*rechunk"):
        emkit.GaussianHMM(3).fit(da.from_array(X, chunks=30), lengths)
    with pytest.raises(ValueError, match="lengths sum to"):
        emkit.GaussianHMM(3).fit(da.from_array(X, chunks=300), lengths[:-1])
    missing = X.copy()
    missing[5, 0] = np.nan
    with pytest.raises(ValueError, match="a dask X must hold finite observations"):
        emkit.GaussianHMM(3, n_init=1).fit(da.from_array(missing, chunks=300), lengths)
    with pytest.raises(ValueError, match="strategy='online'"):
        emkit.GaussianHMM(3).fit(da.from_array(X, chunks=300), lengths, strategy="online")
    symbols, symbol_lengths = _sequences("CategoricalHMM", n_sequences=6)
    bad = symbols.astype(float)
    bad[7] = 1.5
    with pytest.raises(ValueError, match="integer"):
        emkit.CategoricalHMM(3, n_init=1).fit(da.from_array(bad, chunks=300), symbol_lengths)
    counts, count_lengths = _sequences("PoissonHMM", n_sequences=6)
    with pytest.raises(ValueError, match="negative counts"):
        emkit.PoissonHMM(3, n_init=1).fit(da.from_array(-counts, chunks=300), count_lengths)
    model = emkit.GaussianHMM(3, n_init=1, max_iter=3).fit(X, lengths)
    with pytest.raises(ValueError, match="1 features, but the model was fitted with 2"):
        model.predict(da.from_array(X[:, :1], chunks=300), lengths)


@pytest.mark.parametrize("name", NAMES)
def test_partial_fit_over_dask_blocks_equals_partial_fit_block_by_block(client, name):
    X, lengths = _sequences(name, n_sequences=30, seed=3)
    lazy_X = da.from_array(X, chunks=1000)
    streamed = _estimator(name, n_init=1, max_iter=5).partial_fit(lazy_X, lengths)
    rows, block_lengths = sequence_block_lengths(lazy_X.chunks[0], lengths)
    assert len(rows) >= 3
    reference = _estimator(name, n_init=1, max_iter=5)
    ends = np.cumsum(rows)
    for start, stop, block_lengths_ in zip(ends - rows, ends, block_lengths):
        reference.partial_fit(lazy_X[start:stop].compute(), block_lengths_)
    assert streamed.n_batch_iter_ == reference.n_batch_iter_ == len(rows)
    for attribute in ["startprob_", "transmat_"] + PARAMETERS[name]:
        np.testing.assert_allclose(getattr(streamed, attribute), getattr(reference, attribute),
                                   rtol=1e-12, atol=1e-14, err_msg=attribute)


def test_gaussian_mixture_partial_fit_over_dask_blocks(client):
    rng = np.random.RandomState(4)
    X = np.vstack([rng.randn(900, 3), rng.randn(900, 3) * 0.5 + 4.0])[rng.permutation(1800)]
    weights = rng.randint(1, 4, size=X.shape[0]).astype(float)
    kwargs = dict(n_init=1, random_state=0, max_iter=5)
    streamed = emkit.GaussianMixture(2, **kwargs).partial_fit(
        da.from_array(X, chunks=400), sample_weight=weights)
    reference = emkit.GaussianMixture(2, **kwargs)
    for start in range(0, X.shape[0], 400):
        reference.partial_fit(X[start:start + 400], sample_weight=weights[start:start + 400])
    assert streamed.n_batch_iter_ == reference.n_batch_iter_ == 5
    for attribute in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(streamed, attribute), getattr(reference, attribute),
                                   rtol=1e-12, atol=1e-14, err_msg=attribute)


def test_partial_fit_streams_blocks_without_holding_the_array(client):
    # 2,000,000 x 4 float64 made on the workers is 61 MiB; streamed in 16
    # blocks of 3.8 MiB the client holds two blocks and one step's temporaries.
    import tracemalloc

    rng = da.random.default_rng(0)
    X = rng.normal(size=(2_000_000, 4), chunks=(125_000, 4))
    X = X + 6.0 * (rng.random(size=(2_000_000, 1), chunks=(125_000, 1)) < 0.4)
    model = emkit.GaussianHMM(2, n_init=1, max_iter=20, random_state=0)
    # compile the kernels first: tracemalloc would count the compiler's memory
    emkit.GaussianHMM(2, n_init=1, max_iter=2).partial_fit(X[:4000].compute(), [4000])
    tracemalloc.start()
    try:
        model.partial_fit(X, np.full(2000, 1000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20, f"client peak {peak / 2**20:.1f} MiB"
    assert model.n_batch_iter_ == 16
    # independent steps: the states are the two clusters, 40% / 60% of the steps
    np.testing.assert_allclose(np.sort(model.means_[:, 0]), [0.0, 6.0], atol=0.05)


def test_dask_fit_from_a_sample_of_blocks_recovers_the_parameters(client):
    # 60 sequences of 1,000 steps in 12 blocks: more than the 20,000-step
    # sample, so the start comes from the leading sequences of 4 evenly
    # spaced blocks; the fit on all the blocks recovers the generator.
    from emkit._engine.dask_data import DaskSequenceData

    truth = _truth("GaussianHMM")
    rng = np.random.RandomState(6)
    lengths = np.full(60, 1000)
    X = np.concatenate([truth.sample(n, random_state=rng)[0] for n in lengths])
    lazy_X = da.from_array(X, chunks=5000)
    data = DaskSequenceData(lazy_X, lengths)
    assert data.n_blocks == 12 and data.sample.shape[0] == 20_000
    np.testing.assert_array_equal(data.sample_lengths, np.full(20, 1000))
    np.testing.assert_array_equal(data.sample[:5000], X[:5000])
    np.testing.assert_allclose(data.center, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(data.covariance, np.cov(X.T, bias=True), rtol=1e-10)
    # one sequence longer than the sample: its prefix is the sample
    long = DaskSequenceData(da.from_array(X[:30_000], chunks=30_000), [30_000])
    np.testing.assert_array_equal(long.sample_lengths, [20_000])
    np.testing.assert_array_equal(long.sample, X[:20_000])

    model = emkit.GaussianHMM(3, n_init=2, max_iter=100, random_state=0).fit(lazy_X, lengths)
    order = np.argsort(model.means_[:, 0] + 10 * model.means_[:, 1])
    expected = np.argsort(truth.means_[:, 0] + 10 * truth.means_[:, 1])
    np.testing.assert_allclose(model.means_[order], truth.means_[expected], atol=0.05)
    np.testing.assert_allclose(model.transmat_[np.ix_(order, order)],
                               truth.transmat_[np.ix_(expected, expected)], atol=0.02)
    # and it is an optimum of the in-memory objective: Baum-Welch there stays
    polished = emkit.GaussianHMM.from_params(
        model.startprob_, model.transmat_, model.means_, model.covariances_,
        max_iter=20, warm_start=True, tol=0.0).fit(X, lengths)
    assert (polished.history_[-1] - model.history_[-1]) / X.shape[0] < 1e-6
