"""LatentDirichletAllocation on dask arrays: documents and gamma on a real cluster's workers.

The reference for every fit here is the in-memory fit of the same counts
from the same seed (one chunk of all documents in one process: one draw of
fresh starts per E-step, one bound guard over all documents), and the
in-memory transform, score and perplexity. The per-block replay of the fresh
starts and the guard's choice over blocks are also checked against the
one-draw and one-chunk computations directly, without a cluster.
"""

import re
import tracemalloc
from functools import partial

import numpy as np
import pytest
import scipy.sparse as sp

from emkit._engine.em import commit_e_step, expectation, fit_em
from emkit.estimators.lda import LatentDirichletAllocation
from emkit.models.lda import (DocumentData, LDAModel, count_to_replace, gain_order,
                              leading_gains, replacement_counts)

da = pytest.importorskip("dask.array", reason="the Dask strategy needs dask[array]")
distributed = pytest.importorskip("distributed", reason="the Dask tests need distributed")

from _dask_cluster import client, e_step_tasks  # noqa: E402,F401  (shared helpers)
from emkit._engine.dask_documents import DaskDocumentData  # noqa: E402
from emkit.estimators.lda import _block_documents  # noqa: E402

N_TOPICS = 4


def _corpus(n_docs=300, n_words=60, seed=0):
    """Counts drawn from the LDA generative model (dense float64)."""
    rng = np.random.RandomState(seed)
    topics = rng.dirichlet(np.full(n_words, 0.1), size=N_TOPICS)
    theta = rng.dirichlet(np.full(N_TOPICS, 0.3), size=n_docs)
    lengths = rng.poisson(50, n_docs)
    return np.array([rng.multinomial(n, p) for n, p in zip(lengths, theta @ topics)],
                    dtype=np.float64)


@pytest.fixture(scope="module")
def counts():
    return _corpus()


def _lazy(X, rows=110):
    return da.from_array(X, chunks=(rows, X.shape[1]))


def _sparse_blocks(X, rows=110):
    return _lazy(X, rows).map_blocks(sp.csr_matrix, dtype=X.dtype,
                                     meta=sp.csr_matrix((0, 0), dtype=X.dtype))


# ------------------------------------------------------------ without a cluster
def test_block_starts_replay_the_one_in_memory_draw():
    model = LDAModel(0.1)
    plan = model.e_step_plan({"topic_word": np.full((3, 5), 1.0),
                              "doc_topic_prior": np.full(3, 0.5)},
                             rng=np.random.RandomState(7))
    plan.random_state.normal()  # a cached Gaussian in the state must travel too
    reference = np.random.RandomState(7)
    reference.normal()
    whole = reference.gamma(100.0, 0.01, (23, 3))  # scikit-learn's draw
    sizes = [10, 0, 1, 12]
    states = model.start_states(plan, sizes, all_have_gamma=True)
    blocks = [model.block_starts(plan, state, n) for state, n in zip(states, sizes)]
    np.testing.assert_array_equal(np.concatenate(blocks), whole)
    # The run's generator is left where the one draw leaves it.
    assert plan.random_state.random_sample() == reference.random_sample()
    warm = LDAModel(0.1, doc_init="warm")
    assert warm.start_states(plan, sizes, all_have_gamma=True) is None
    assert warm.start_states(plan, sizes, all_have_gamma=False) is not None


@pytest.mark.parametrize("shortfall", [0.5, 3.0, 7.5, 1e9])
def test_the_guards_choice_over_blocks_is_the_one_chunk_choice(shortfall):
    rng = np.random.RandomState(3)
    # Ties across and within blocks, and losses (negative gains).
    gain = rng.choice([-1.0, 0.25, 0.5, 1.0, 2.0], size=40)
    cuts = [0, 7, 7, 25, 40]
    blocks = [gain[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
    # One chunk: the documents LDAModel.e_step replaces.
    chosen = gain_order(gain)[:count_to_replace(leading_gains(gain), shortfall)]
    counts = replacement_counts([leading_gains(block, shortfall) for block in blocks],
                                shortfall)
    by_blocks = np.concatenate([a + gain_order(block)[:n]
                                for a, block, n in zip(cuts, blocks, counts)])
    np.testing.assert_array_equal(np.sort(by_blocks), np.sort(chosen))


def test_without_a_cluster_a_dask_array_is_fitted_in_memory(counts):
    # Before the module's cluster starts: dask's own scheduler, no client, so
    # no worker could keep the documents; X is computed and fitted in memory.
    from emkit._engine.dask_documents import cluster_client

    assert cluster_client() is None
    kwargs = dict(n_components=N_TOPICS, random_state=0, max_iter=5)
    eager = LatentDirichletAllocation(**kwargs).fit(counts)
    lazy = LatentDirichletAllocation(**kwargs).fit(_sparse_blocks(counts))
    np.testing.assert_array_equal(lazy.history_, eager.history_)
    assert lazy.score(_lazy(counts)) == pytest.approx(eager.score(counts), rel=1e-12)


# ------------------------------------------------------------------ fits
FITS = {
    "plain": dict(),
    "squarem": dict(accelerate="squarem"),
    "learned-prior": dict(learn_doc_topic_prior=True),
}


@pytest.mark.parametrize("options", list(FITS.values()), ids=list(FITS))
def test_dask_fit_equals_the_in_memory_fit(client, counts, options):  # noqa: F811
    # Few coordinate-ascent sweeps per E-step: fresh starts often score below
    # the last bound, so the guard's choice over all blocks is exercised.
    kwargs = dict(n_components=N_TOPICS, random_state=0, max_iter=25, max_doc_update_iter=3,
                  tol=1e-7, **options)
    eager = LatentDirichletAllocation(**kwargs).fit(counts)
    lazy_X = _lazy(counts)
    with distributed.get_task_stream(client) as stream:
        lazy = LatentDirichletAllocation(**kwargs).fit(lazy_X)
    assert (lazy.n_iter_, lazy.n_e_steps_) == (eager.n_iter_, eager.n_e_steps_)
    assert lazy.history_.shape == eager.history_.shape
    assert np.max(np.abs(lazy.history_ - eager.history_)) / counts.shape[0] < 1e-9
    np.testing.assert_allclose(lazy.components_, eager.components_, rtol=1e-9)
    np.testing.assert_allclose(lazy.doc_topic_prior_, eager.doc_topic_prior_, rtol=1e-9)
    assert lazy.bound_ == pytest.approx(eager.bound_, rel=1e-12)
    # Every E-step mapped over every block, on the workers.
    tasks = e_step_tasks(stream.data)
    assert len(tasks) == lazy.n_e_steps_
    workers = set(client.scheduler_info()["workers"])
    for blocks in tasks.values():
        assert sorted(blocks) == list(range(lazy_X.numblocks[0]))
        assert set(blocks.values()) <= workers


def test_dask_fit_of_sparse_blocks_equals_the_in_memory_fit(client, counts):  # noqa: F811
    kwargs = dict(n_components=N_TOPICS, random_state=1, max_iter=8)
    eager = LatentDirichletAllocation(**kwargs).fit(sp.csr_matrix(counts))
    lazy = LatentDirichletAllocation(**kwargs).fit(_sparse_blocks(counts))
    assert np.max(np.abs(lazy.history_ - eager.history_)) / counts.shape[0] < 1e-9
    np.testing.assert_allclose(lazy.components_, eager.components_, rtol=1e-9)


def test_guard_and_draws_on_the_blocks_equal_one_chunk_in_memory(client, counts):  # noqa: F811
    # The engine itself, as tests/test_lda.py's guard test: one sweep per
    # E-step makes the guard replace documents in most late E-steps.
    def run(data):
        model = LDAModel(0.25, max_doc_update_iter=1)
        start = {"topic_word": np.random.RandomState(0).gamma(100, 0.01, (N_TOPICS, 60)),
                 "doc_topic_prior": np.full(N_TOPICS, 0.25)}
        result = fit_em(model, data, [start], max_iter=30, tol=0.0,
                        random_state=np.random.RandomState(0))
        return np.asarray(result.history)

    eager = DocumentData.from_csr(sp.csr_matrix(counts), N_TOPICS)
    lazy = _cluster_documents(client, _lazy(counts, rows=70))
    np.testing.assert_allclose(run(lazy), run(eager), rtol=0, atol=1e-9 * counts.shape[0])
    assert eager.n_docs_guarded > 0
    assert (lazy.n_guarded, lazy.n_docs_guarded) == (eager.n_guarded, eager.n_docs_guarded)


def _cluster_documents(client, X):  # noqa: F811
    make = partial(_block_documents, n_topics=N_TOPICS, n_total_docs=X.shape[0], whom="test")
    return DaskDocumentData(X, make, client)


def _gammas(client, data):  # noqa: F811
    return np.concatenate([documents.gamma for documents in
                           client.gather(data.committed_documents())])


def test_a_rejected_e_step_leaves_the_committed_state_on_the_workers(client, counts):  # noqa: F811
    model = LDAModel(0.25)
    rng = np.random.RandomState(0)
    params = {"topic_word": rng.gamma(100, 0.01, (N_TOPICS, 60)),
              "doc_topic_prior": np.full(N_TOPICS, 0.25)}
    other = {"topic_word": params["topic_word"] * 3.0, "doc_topic_prior": params["doc_topic_prior"]}
    lazy = _cluster_documents(client, _lazy(counts))
    eager = DocumentData.from_csr(sp.csr_matrix(counts), N_TOPICS)
    for data in (lazy, eager):
        expectation(model, params, data, rng=np.random.RandomState(1))
        commit_e_step(data)
    committed = lazy.committed_documents()
    before = _gammas(client, lazy)
    np.testing.assert_allclose(before, eager.gamma, rtol=1e-12)
    # A proposal's E-step that the engine does not accept.
    expectation(model, other, lazy, rng=np.random.RandomState(2))
    assert [future.key for future in lazy.committed_documents()] == [f.key for f in committed]
    np.testing.assert_array_equal(_gammas(client, lazy), before)
    # The next E-step starts from the committed state, as in memory.
    results = [expectation(model, params, data, rng=np.random.RandomState(3))
               for data in (lazy, eager)]
    assert results[0][1] == pytest.approx(results[1][1], rel=1e-12)
    np.testing.assert_allclose(results[0][0]["topic_word"], results[1][0]["topic_word"],
                               rtol=1e-10)


# ------------------------------------------------------------- inference
@pytest.mark.parametrize("make_lazy", [_lazy, _sparse_blocks], ids=["dense", "sparse"])
def test_transform_score_perplexity_on_dask_equal_in_memory(client, counts,  # noqa: F811
                                                            make_lazy):
    lda = LatentDirichletAllocation(n_components=N_TOPICS, random_state=0,
                                    max_iter=5).fit(counts)
    held_out = _corpus(150, seed=5)
    lazy = make_lazy(held_out, rows=40)
    theta = lda.transform(lazy)
    assert isinstance(theta, da.Array) and theta.shape == (150, N_TOPICS)
    np.testing.assert_allclose(theta.compute(), lda.transform(held_out), rtol=1e-12)
    np.testing.assert_allclose(lda.transform(lazy, normalize=False).compute(),
                               lda.transform(held_out, normalize=False), rtol=1e-12)
    assert lda.score(lazy) == pytest.approx(lda.score(held_out), rel=1e-12)
    assert lda.perplexity(lazy) == pytest.approx(lda.perplexity(held_out), rel=1e-12)
    assert lda.perplexity(lazy, sub_sampling=True) == pytest.approx(
        lda.perplexity(held_out, sub_sampling=True), rel=1e-12)


def test_partial_fit_over_blocks_equals_in_memory_partial_fit(client, counts):  # noqa: F811
    # Blocks of a multiple of batch_size documents: the same mini-batches.
    kwargs = dict(n_components=N_TOPICS, random_state=0, batch_size=30, total_samples=300)
    eager = LatentDirichletAllocation(**kwargs).partial_fit(counts)
    lazy = LatentDirichletAllocation(**kwargs).partial_fit(_lazy(counts, rows=90))
    np.testing.assert_allclose(lazy.components_, eager.components_, rtol=1e-10)
    assert lazy.n_batch_iter_ == eager.n_batch_iter_ == 11


@pytest.mark.parametrize("make_blocks", [_lazy, _sparse_blocks], ids=["dense", "sparse"])
def test_online_fit_of_a_dask_array_equals_in_memory(client, counts, make_blocks):  # noqa: F811
    # Blocks of 110 documents, mini-batches of 50: batches run across blocks.
    kwargs = dict(n_components=N_TOPICS, random_state=0, learning_method="online",
                  max_iter=3, batch_size=50, evaluate_every=1, perp_tol=0.0)
    eager = LatentDirichletAllocation(**kwargs).fit(counts)
    with distributed.get_task_stream(client) as stream:
        lazy = LatentDirichletAllocation(**kwargs).fit(make_blocks(counts))
    np.testing.assert_allclose(lazy.components_, eager.components_, rtol=1e-10)
    assert lazy.n_batch_iter_ == eager.n_batch_iter_
    np.testing.assert_allclose(lazy.history_, eager.history_, rtol=1e-10)
    assert lazy.bound_ == pytest.approx(eager.bound_, rel=1e-10)
    # The bound after every pass and at the end, summed on the workers block by block.
    workers = set(client.scheduler_info()["workers"])
    bound_tasks = [record for record in stream.data
                   if re.fullmatch(r"emkit-doc-bound-[0-9a-f]{32}-\d+", str(record["key"]))]
    assert len(bound_tasks) == 4 * len(_lazy(counts).chunks[0])
    assert {record["worker"] for record in bound_tasks} <= workers


def test_online_fit_streams_blocks_made_on_the_workers_without_holding_them(client):  # noqa: F811
    # 40,000 documents x 400 words of float64 counts are 122 MiB; blocks of
    # 2,000 documents are 6 MiB, of which the client holds at most two.
    X = da.random.default_rng(0).poisson(0.05, size=(40_000, 400),
                                          chunks=(2_000, 400)).astype(np.float64)
    kwargs = dict(n_components=3, learning_method="online", max_iter=1, batch_size=1000,
                  random_state=0)
    # Imports and kernel compilation are once per process: done before measuring.
    LatentDirichletAllocation(**kwargs).fit(_corpus(n_docs=50, n_words=400))
    tracemalloc.start()
    try:
        model = LatentDirichletAllocation(**kwargs).fit(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 * 2**20, f"client peak {peak / 2**20:.1f} MiB"
    assert model.n_batch_iter_ == 41 and np.isfinite(model.bound_)


# ------------------------------------------------------------- validation
def _spoiled(counts, value):
    X = counts.copy()
    X[250, 3] = value  # in the last block
    return X


@pytest.mark.parametrize("value, message", [
    (-2.0, r"Negative values in data passed to LatentDirichletAllocation\.fit: input X has 1 "
           r"negative entry"),
    (np.nan, r"Input X of LatentDirichletAllocation\.fit contains NaN"),
    (np.inf, r"Input X of LatentDirichletAllocation\.fit contains infinity"),
])
def test_bad_counts_in_a_block_raise_a_named_error(client, counts, value, message):  # noqa: F811
    with pytest.raises(ValueError, match=message):
        LatentDirichletAllocation(n_components=N_TOPICS, max_iter=2).fit(
            _lazy(_spoiled(counts, value)))
    # The in-memory fit says the same.
    with pytest.raises(ValueError, match=message):
        LatentDirichletAllocation(n_components=N_TOPICS, max_iter=2).fit(
            _spoiled(counts, value))


def test_bad_counts_at_inference_and_wrong_shapes_raise_named_errors(client, counts):  # noqa: F811
    lda = LatentDirichletAllocation(n_components=N_TOPICS, max_iter=2).fit(counts)
    spoiled = _lazy(_spoiled(counts, -1.0))
    with pytest.raises(ValueError, match=r"LatentDirichletAllocation\.score"):
        lda.score(spoiled)
    with pytest.raises(ValueError, match=r"LatentDirichletAllocation\.transform"):
        lda.transform(spoiled).compute()
    with pytest.raises(ValueError, match=r"Input X has 59 features, but the model was "
                                         r"fitted with 60 features"):
        lda.transform(_lazy(counts[:, :59]))
    with pytest.raises(ValueError, match=r"Input X has complex dtype"):
        LatentDirichletAllocation(n_components=N_TOPICS).fit(_lazy(counts + 1j))
    with pytest.raises(ValueError, match=r"has a total word count of 1\.\d+e\+306, too "
                                         r"large for the variational bound"):
        LatentDirichletAllocation(n_components=N_TOPICS).fit(_lazy(counts * 1e302))
