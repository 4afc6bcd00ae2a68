"""The engine's strategies as contracts that every model runs.

Every estimator emkit exports is found by introspection and needs a case
here (data it fits and constructor arguments); each strategy then runs on
every case that supports it, and a model that does not support one is
listed in ``NOT_SUPPORTED`` with the reason (a test checks the lists are
complete and not stale):

- plain EM: the objective (``history_``) never decreases;
- ``accelerate="squarem"``: from plain EM's start it ends at an objective no
  lower than plain EM's (1e-6 per sample, both to a tight tolerance) and its
  history never decreases either;
- online -> batch: ``partial_fit`` passes over mini-batches land near the
  batch optimum, and batch EM from there reaches it; ``fit(strategy="online")``
  reaches it too;
- Dask == in-memory: a dask array fitted on a real ``distributed.LocalCluster``
  gives the in-memory objective (|delta| per sample < 1e-9), its E-steps
  running block by block on the workers.

The references are the same models' batch EM fits on the same data (a
different code path: all the data in one E-step per iteration, in one
process) and, for monotonicity, EM's own guarantee.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Callable

import numpy as np
import pytest
from sklearn.base import BaseEstimator

import emkit
from _dask_cluster import client, e_step_tasks  # noqa: F401  (shared with test_dask.py)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Every exported estimator class.
ESTIMATORS = sorted(
    (name for name in emkit.__all__
     if isinstance(getattr(emkit, name), type) and issubclass(getattr(emkit, name),
                                                              BaseEstimator)))

TRANSITIONS = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])


# ------------------------------------------------------------------- data
def _labels(rng, n, weights=(0.5, 0.3, 0.2)):
    return rng.choice(len(weights), size=n, p=list(weights))


def _gaussian_rows(rng, labels):
    # Overlapping enough that EM takes tens of iterations, apart enough that
    # restarts agree on the optimum.
    means = np.array([[0.0, 0.0], [3.5, 1.0], [1.0, 4.0]])
    scales = np.array([[1.0, 0.6], [0.7, 1.2], [1.1, 0.8]])
    return means[labels] + rng.normal(size=(labels.size, 2)) * scales[labels] + 10.0


def _poisson_rows(rng, labels):
    rates = np.array([[1.5, 5.0], [5.0, 1.5], [8.0, 8.0]])
    return rng.poisson(rates[labels]).astype(np.float64)


def _gmm_rows(rng, labels):
    """Two well-apart sub-clusters per state (a 2-component mixture each)."""
    means = np.array([[0.0, 0.0], [9.0, 1.0], [1.0, 10.0]])
    side = np.where(rng.uniform(size=labels.size) < 0.4, -1.0, 1.0)
    return (means[labels] + np.column_stack([2.0 * side, 0.5 * side])
            + rng.normal(size=(labels.size, 2)))


def _categorical_rows(rng, labels, n_levels=(3, 4, 3, 4)):
    columns = []
    for d, levels in enumerate(n_levels):
        # Each component puts most mass on its own level of every feature.
        probabilities = np.full((3, levels), 0.1 / max(levels - 1, 1))
        probabilities[np.arange(3), (np.arange(3) + d) % levels] = 0.9
        cumulative = np.cumsum(probabilities[labels], axis=1)
        columns.append((rng.uniform(size=(labels.size, 1)) > cumulative).sum(axis=1))
    return np.column_stack(columns).astype(np.float64)


def mixture_data(rows, n=600):
    def make(seed):
        rng = np.random.RandomState(seed)
        return {"X": rows(rng, _labels(rng, n))}
    return make


def bernoulli_data(seed, n=600):
    rng = np.random.RandomState(seed)
    labels = _labels(rng, n)
    probabilities = np.array([[0.9, 0.9, 0.8, 0.1, 0.1, 0.2], [0.1, 0.2, 0.9, 0.9, 0.1, 0.1],
                              [0.2, 0.1, 0.1, 0.2, 0.9, 0.9]])
    return {"X": (rng.uniform(size=(n, 6)) < probabilities[labels]).astype(np.float64)}


def regression_data(seed, n=600):
    rng = np.random.RandomState(seed)
    x = rng.uniform(-2.0, 2.0, size=(n, 1))
    line = rng.randint(2, size=n)
    y = np.where(line, 1.5 * x[:, 0] + 1.0, -x[:, 0] - 1.0) + 0.3 * rng.standard_normal(n)
    return {"X": x, "y": y}


def sequence_data(rows, n_sequences=16, length=40):
    """Sequences from a sticky 3-state chain with the mixtures' emissions."""
    def make(seed):
        rng = np.random.RandomState(seed)
        states = np.empty(n_sequences * length, dtype=np.intp)
        for start in range(0, states.size, length):
            states[start] = rng.randint(3)
            for t in range(start + 1, start + length):
                states[t] = rng.choice(3, p=TRANSITIONS[states[t - 1]])
        return {"X": rows(rng, states), "lengths": np.full(n_sequences, length)}
    return make


def documents(seed, n_documents=120, n_words=30):
    rng = np.random.RandomState(seed)
    topics = rng.dirichlet(np.full(n_words, 0.1), size=3)
    mixes = rng.dirichlet(np.full(3, 0.3), size=n_documents)
    return {"X": np.vstack([rng.multinomial(40, mix @ topics) for mix in mixes])
            .astype(np.float64)}


# ------------------------------------------------------------------ cases
def _init_from(*names):
    """Batch EM from a fitted estimator's parameters: its ``<name>_init``."""
    def warm(model):
        return {f"{name}_init": getattr(model, f"{name}_") for name in names}
    return warm


def _warm_start(model):
    return {"warm_start": True}


@dataclasses.dataclass
class Case:
    """One estimator configuration and the data it fits.

    ``warm(model) -> params``: what ``model.set_params`` needs for its next
    ``fit`` to be batch EM from its current parameters (None: the online contract cannot run; then
    the class is listed in NOT_SUPPORTED["online"]).
    """

    id: str
    name: str
    params: dict
    make: Callable
    warm: Callable | None = None
    # Arguments every test's fit takes last (e.g. a bounded number of passes).
    overrides: dict = dataclasses.field(default_factory=dict)
    # Mini-batches per pass of the online contracts: each must hold enough
    # samples for its sampling error to stay well inside their tolerances.
    n_batches: int = 4

    @property
    def cls(self):
        return getattr(emkit, self.name)

    def data(self, seed=0):
        return self.make(seed)

    def estimator(self, **params):
        return self.cls(**{**self.params, **params, **self.overrides})


def _args(data):
    """Positional fit arguments: X, then lengths (HMMs) or y (regressions)."""
    second = data.get("lengths", data.get("y"))
    return (data["X"],) if second is None else (data["X"], second)


CASES = [
    *[Case(f"GaussianMixture-{kind}", "GaussianMixture",
           dict(n_components=3, covariance_type=kind, n_init=2, random_state=0),
           mixture_data(_gaussian_rows), _warm_start)
      for kind in ("full", "diag", "spherical", "tied", "VEV")],
    Case("PoissonMixture", "PoissonMixture", dict(n_components=3, n_init=2, random_state=0),
         mixture_data(_poisson_rows), _init_from("weights", "rates")),
    Case("BernoulliMixture", "BernoulliMixture", dict(n_components=3, n_init=2, random_state=0),
         bernoulli_data, _init_from("weights", "probabilities")),
    Case("CategoricalMixture", "CategoricalMixture",
         dict(n_components=3, n_levels=[3, 4, 3, 4], n_init=2, random_state=0),
         mixture_data(_categorical_rows, n=2000), _init_from("weights", "probabilities")),
    Case("RegressionMixture", "RegressionMixture", dict(n_components=2, n_init=2, random_state=0),
         regression_data, _init_from("weights", "coef", "intercept", "noise_variance")),
    Case("MixtureOfExperts", "MixtureOfExperts", dict(n_components=2, n_init=2, random_state=0),
         regression_data),
    Case("BayesianGaussianMixture", "BayesianGaussianMixture",
         dict(n_components=3, n_init=1, random_state=0), mixture_data(_gaussian_rows)),
    Case("GaussianHMM", "GaussianHMM",
         dict(n_components=3, covariance_type="diag", n_init=2, random_state=0),
         sequence_data(_gaussian_rows), _warm_start, n_batches=2),
    Case("PoissonHMM", "PoissonHMM", dict(n_components=3, n_init=2, random_state=0),
         sequence_data(_poisson_rows), _warm_start, n_batches=2),
    Case("CategoricalHMM", "CategoricalHMM", dict(n_components=3, n_init=2, random_state=0),
         sequence_data(lambda rng, s: _categorical_rows(rng, s, (4,)).astype(np.intp)),
         _warm_start, n_batches=2),
    Case("GMMHMM", "GMMHMM", dict(n_components=3, n_mix=2, n_init=2, random_state=0),
         sequence_data(_gmm_rows), _warm_start, n_batches=2),
    Case("StudentTMixture", "StudentTMixture", dict(n_components=3, n_init=2, random_state=0),
         mixture_data(_gaussian_rows),
         lambda model: {"weights_init": model.weights_, "means_init": model.means_,
                        "covariances_init": model.covariances_, "dof_init": model.dofs_}),
    Case("FactorAnalysis", "FactorAnalysis", dict(n_components=1), mixture_data(_gaussian_rows)),
    Case("PPCA", "PPCA", dict(n_components=1), mixture_data(_gaussian_rows)),
    Case("MixtureOfFactorAnalyzers", "MixtureOfFactorAnalyzers",
         dict(n_components=2, n_factors=1, n_init=2, random_state=0),
         mixture_data(_gaussian_rows)),
    Case("KMeans", "KMeans", dict(n_clusters=3, n_init=2, random_state=0),
         mixture_data(_gaussian_rows)),
    Case("LatentDirichletAllocation", "LatentDirichletAllocation",
         dict(n_components=3, random_state=0), documents,
         overrides=dict(max_iter=25)),
]

NOT_SUPPORTED = {
    "squarem": {
        "KMeans": "hard assignments: the Lloyd map is piecewise constant, nothing to "
                  "extrapolate",
    },
    "online": {
        "FactorAnalysis": "not stepwise EM: partial_fit keeps the exact running mean and "
                          "scatter, on which its E-step depends linearly, and runs EM on "
                          "them (tests/test_factor_online.py); fit needs one pass only, so "
                          "it has no strategy='online'",
        "PPCA": "as FactorAnalysis (tests/test_factor_online.py)",
        "MixtureOfFactorAnalyzers": "no partial_fit yet (AECM cycles are not on the stepwise "
                                    "stepper)",
        "KMeans": "no partial_fit (hard assignments; scikit-learn's MiniBatchKMeans is the "
                  "online variant)",
        "MixtureOfExperts": "its gating M-step takes Newton steps on the data themselves, "
                            "not on summed statistics, so stepwise EM does not apply",
        "BayesianGaussianMixture": "no partial_fit: the variational updates are not on "
                                   "the stepwise stepper",
        "LatentDirichletAllocation": "its batch fit has no warm start from partial_fit's "
                                     "topics; its online EM is checked against scikit-learn's "
                                     "in tests/test_lda.py",
    },
    "dask": {},
}


def supports(case, strategy):
    """Whether ``case`` runs ``strategy``'s contract, read off the estimator."""
    estimator = case.estimator()
    if strategy == "plain":
        return True
    if strategy == "squarem":
        return "accelerate" in estimator.get_params()
    if strategy == "online":
        return hasattr(estimator, "partial_fit") and case.warm is not None
    # Dask on the workers cannot be read off the class: what is not listed runs.
    return case.name not in NOT_SUPPORTED["dask"]


def cases_for(strategy):
    return [pytest.param(case, id=case.id) for case in CASES if supports(case, strategy)]


def _plain_em(case):
    """``accelerate="none"`` for an estimator that has the option (some
    default to SQUAREM): the contracts below that are about plain EM's path
    ask for it by name."""
    return {"accelerate": "none"} if supports(case, "squarem") else {}


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def _mean_loglik(model, data):
    """Log-likelihood per sample (an HMM's ``score`` is the total, as hmmlearn's)."""
    score = model.score(*_args(data))
    return score / data["X"].shape[0] if "lengths" in data else score


def _assert_monotone(history, what):
    history = np.asarray(history, dtype=np.float64)
    assert history.size >= 2, f"{what}: too few iterations to test"
    drops = np.diff(history)
    # Rounding of a sum of N terms: relative 1e-12 of the objective.
    allowed = 1e-12 * np.abs(history[1:]) + 1e-12
    worst = int(np.argmin(drops + allowed))
    assert (drops >= -allowed).all(), (f"{what}: the objective decreased by "
                                       f"{-drops[worst]:.3g} at iteration {worst + 1}")


# --------------------------------------------------------------- coverage
def test_every_estimator_has_a_case_and_every_strategy_is_covered_or_explained():
    named = {case.name for case in CASES}
    assert set(ESTIMATORS) <= named, (f"add a Case for {sorted(set(ESTIMATORS) - named)} so "
                                      f"the strategy contracts run on it")
    for strategy, listed in NOT_SUPPORTED.items():
        assert set(listed) <= set(ESTIMATORS)
        assert all(reason.strip() for reason in listed.values())
        if strategy == "dask":
            continue  # running on the workers is the default; the list is the exceptions
        for name in ESTIMATORS:
            covered = any(supports(case, strategy) for case in CASES if case.name == name)
            if covered:
                assert name not in listed, (f"{name} runs the {strategy} contract now; remove "
                                            f"it from NOT_SUPPORTED[{strategy!r}]")
            else:
                assert name in listed, (f"{name} does not run the {strategy} contract; list "
                                        f"it in NOT_SUPPORTED[{strategy!r}] with the reason")


# ------------------------------------------------------------------ plain
@pytest.mark.parametrize("case", cases_for("plain"))
def test_plain_em_objective_never_decreases(case):
    data = case.data()
    model = _quiet(case.estimator(tol=1e-9, max_iter=300, **_plain_em(case)).fit, *_args(data))
    _assert_monotone(model.history_, case.id)


# ---------------------------------------------------------------- SQUAREM
@pytest.mark.parametrize("case", cases_for("squarem"))
def test_squarem_from_the_same_start_ends_no_lower_and_never_decreases(case):
    data = case.data(1)
    accepted = case.estimator().get_params()
    common = {name: value for name, value in dict(n_init=1, tol=1e-10, max_iter=3000).items()
              if name in accepted}
    plain = _quiet(case.estimator(accelerate="none", **common).fit, *_args(data))
    fast = _quiet(case.estimator(accelerate="squarem", **common).fit, *_args(data))
    _assert_monotone(fast.history_, f"{case.id} with SQUAREM")
    # history_ is the total objective for every model (LDA's lower_bound_ is not).
    shortfall = (plain.history_[-1] - fast.history_[-1]) / data["X"].shape[0]
    assert shortfall <= 1e-6, (
        f"{case.id}: SQUAREM ended {shortfall:.3g} per sample below plain EM from the same "
        f"start")


# ----------------------------------------------------------------- online
def _batches(data, n_batches, rng):
    """Mini-batches in a random order: rows, or whole sequences (HMMs)."""
    X, lengths, y = data["X"], data.get("lengths"), data.get("y")
    if lengths is None:
        for part in np.array_split(rng.permutation(X.shape[0]), n_batches):
            rows = np.sort(part)
            yield (X[rows],) if y is None else (X[rows], y[rows])
        return
    starts = np.concatenate([[0], np.cumsum(lengths)])
    for part in np.array_split(rng.permutation(lengths.size), n_batches):
        sequences = np.sort(part)
        rows = np.concatenate([np.arange(starts[i], starts[i + 1]) for i in sequences])
        yield X[rows], lengths[sequences]


@pytest.mark.parametrize("case", cases_for("online"))
def test_partial_fit_then_batch_em_reaches_the_batch_optimum(case):
    data = case.data(2)
    batch = _quiet(case.estimator(tol=1e-10, max_iter=3000).fit, *_args(data))
    model = case.estimator()
    rng = np.random.RandomState(0)
    n_batches = case.n_batches
    for _ in range(3):
        for arguments in _batches(data, n_batches, rng):
            _quiet(model.partial_fit, *arguments)
    assert model.n_batch_iter_ == 3 * n_batches
    assert model.n_samples_seen_ == 3 * data["X"].shape[0]
    # The streamed statistics add across calls: the stepwise fit alone sits
    # near the optimum, which batch EM from there reaches.
    streamed = _mean_loglik(model, data)
    polished = _quiet(model.set_params(tol=1e-10, max_iter=3000, **case.warm(model)).fit,
                      *_args(data))
    assert batch.lower_bound_ - streamed < 2e-2
    assert abs(polished.lower_bound_ - batch.lower_bound_) < 1e-6


@pytest.mark.parametrize("case", cases_for("online"))
def test_fit_online_strategy_reaches_the_batch_optimum(case):
    data = case.data(3)
    batch = _quiet(case.estimator(tol=1e-10, max_iter=3000).fit, *_args(data))
    n_items = data["lengths"].size if "lengths" in data else data["X"].shape[0]
    online = _quiet(case.estimator(tol=1e-10, max_iter=3000,
                                   batch_size=n_items // case.n_batches,
                                   online_passes=2).fit, *_args(data), strategy="online")
    assert online.n_batch_iter_ == 2 * case.n_batches
    assert abs(online.lower_bound_ - batch.lower_bound_) < 1e-6, (
        f"{case.id}: online {online.lower_bound_:.9f}, batch {batch.lower_bound_:.9f}")


# ------------------------------------------------------------------- Dask
def _dask_args(data, da, n_blocks=3):
    X = data["X"]
    lazy = [da.from_array(X, chunks=(-(-X.shape[0] // n_blocks), X.shape[1]))]
    if "lengths" in data:
        lazy.append(data["lengths"])
    elif "y" in data:
        lazy.append(da.from_array(data["y"], chunks=-(-X.shape[0] // n_blocks)))
    return lazy


@pytest.mark.parametrize("case", [case for case in cases_for("online")
                                  if "lengths" not in case.values[0].data()])
def test_partial_fit_over_dask_blocks_is_partial_fit_of_every_block_in_turn(client,  # noqa: F811
                                                                            case):
    # Independent rows (the HMMs' sequences are streamed in tests/test_dask_hmm.py).
    da = pytest.importorskip("dask.array")
    data = case.data(5)
    n_blocks = 3
    eager = case.estimator()
    for rows in np.array_split(np.arange(data["X"].shape[0]), n_blocks):
        _quiet(eager.partial_fit, *(part[rows] for part in _args(data)))
    lazy = _quiet(case.estimator().partial_fit, *_dask_args(data, da, n_blocks))
    assert lazy.n_batch_iter_ == eager.n_batch_iter_ == n_blocks
    fitted = [name for name in vars(eager) if name.endswith("_") and not name.startswith("_")
              and isinstance(getattr(eager, name), np.ndarray)]
    assert fitted
    for name in fitted:
        np.testing.assert_allclose(getattr(lazy, name), getattr(eager, name), rtol=1e-10,
                                   atol=1e-12, err_msg=f"{case.id}: {name}")


# Their default E-step reads the (D, D) scatter, which one pass over the blocks measures.
SCATTER_PASS = ("FactorAnalysis", "PPCA")


def summary_tasks(records):
    """The summary pass's block tasks, as :func:`e_step_tasks` lists E-steps'."""
    return e_step_tasks({**record, "key": str(record["key"]).replace("emkit-summary-",
                                                                      "emkit-e-step-")}
                        for record in records)


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_dask_fit_equals_the_in_memory_fit(client, case):  # noqa: F811
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    data = case.data(4)
    accepted = case.estimator().get_params()
    params = {name: value for name, value in dict(n_init=1, tol=0.0, max_iter=15).items()
              if name in accepted}
    # The same iterates on the workers as in memory: plain EM's path. (SQUAREM's
    # step length at the optimum, tol=0, is a ratio of rounding-level differences,
    # which the workers' summing order changes.)
    params.update(_plain_em(case))
    eager = _quiet(case.estimator(**params).fit, *_args(data))
    lazy_args = _dask_args(data, da)
    with distributed.get_task_stream(client) as stream:
        try:
            lazy = _quiet(case.estimator(**params).fit, *lazy_args)
        except ValueError as error:
            # Only a model listed as rejecting dask may, and with a named error.
            assert "rejects a dask X" in NOT_SUPPORTED["dask"].get(case.name, ""), error
            assert "dask" in str(error)
            return
    # The last objective per sample (history_ is the total for every model).
    n_samples = data["X"].shape[0]
    assert abs(lazy.history_[-1] - eager.history_[-1]) / n_samples < 1e-9
    assert lazy.history_.size == eager.history_.size
    if case.name in NOT_SUPPORTED["dask"]:
        return
    tasks = e_step_tasks(stream.data)
    if case.name in SCATTER_PASS:
        # Every E-step comes from the scatter: its one pass ran on the workers.
        assert not tasks, f"{case.id}: E-steps mapped over the blocks in scatter mode"
        tasks = summary_tasks(stream.data)
        assert len(tasks) == 1, f"{case.id}: {len(tasks)} passes over the blocks, not one"
    assert tasks, f"{case.id}: no E-step ran on the workers"
    workers = set(client.scheduler_info()["workers"])
    n_blocks = {len(blocks) for blocks in tasks.values()}
    # Every iteration maps over all blocks (HMMs rechunk along sequences, so
    # their count is the data object's, not the input array's).
    assert len(n_blocks) == 1 and n_blocks.pop() >= lazy_args[0].numblocks[0]
    for blocks in tasks.values():
        assert sorted(blocks) == list(range(len(blocks)))
        assert set(blocks.values()) <= workers
