"""Online (stepwise) EM: partial_fit and fit(strategy="online").

References the tests compare with, computed independently of the stepper:
batch EM's optimum on the same data (the engine's batch loop), the closed
form of the blended statistics under a fixed schedule (numpy sums of
responsibilities and moments), and the parameters that generated the data.
"""

import pickle
import warnings

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

import emkit
from emkit._engine.data import SampleData
from emkit._engine.online import StepwiseEM
from emkit._validation import InvalidParameterError
from emkit.components.gaussian import GaussianComponent, precision_cholesky
from emkit.models.mixture import MixtureModel

TYPES = ["full", "tied", "diag", "spherical"]
# mclust structures: the M-step needs only the summed statistics
STRUCTURES = ["EII", "VII", "EEI", "VVI", "EEE", "VEV", "EVV", "VVV"]


def _separated(n=6000, seed=0):
    rng = np.random.RandomState(seed)
    means = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 1.0], [0.0, 6.0, -1.0]])
    scales = np.array([[1.0, 0.6, 0.8], [0.7, 1.2, 0.5], [1.1, 0.9, 0.6]])
    labels = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    X = means[labels] + rng.normal(size=(n, 3)) * scales[labels]
    # a rotation, so that full and diagonal structures differ
    rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    return X @ rotation + 10.0


def _quiet(callable_, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return callable_(*args, **kwargs)


# --------------------------------------------------------------- contract
@pytest.mark.parametrize("covariance_type", TYPES + STRUCTURES)
def test_online_then_batch_reaches_batch_optimum(covariance_type):
    X = _separated()
    common = dict(covariance_type=covariance_type, tol=1e-10, max_iter=2000, random_state=0,
                  n_init=3)
    batch = _quiet(emkit.GaussianMixture(3, **common).fit, X)
    online = _quiet(emkit.GaussianMixture(3, batch_size=500, online_passes=3, **common).fit,
                    X, strategy="online")
    assert online.n_batch_iter_ == 3 * 12
    assert abs(online.lower_bound_ - batch.lower_bound_) < 1e-6
    # The online passes alone already sit close to the optimum: the polish
    # is a polish, not the fit.
    unpolished = _quiet(emkit.GaussianMixture(3, batch_size=500, online_passes=3,
                                              **{**common, "max_iter": 0}).fit,
                        X, strategy="online")
    assert batch.lower_bound_ - unpolished.lower_bound_ < 2e-3
    assert unpolished.lower_bound_ <= online.lower_bound_ + 1e-9


@pytest.mark.parametrize("covariance_type", TYPES + ["VEV"])
def test_partial_fit_passes_approach_batch_optimum(covariance_type):
    X = _separated()
    batch = _quiet(emkit.GaussianMixture(3, covariance_type=covariance_type, tol=1e-10,
                                         random_state=0, n_init=3).fit, X)
    model = emkit.GaussianMixture(3, covariance_type=covariance_type, random_state=0, n_init=3)
    rng = np.random.RandomState(1)
    gaps = []
    for _ in range(4):
        order = rng.permutation(X.shape[0])
        for part in np.array_split(order, 10):
            _quiet(model.partial_fit, X[np.sort(part)])
        gaps.append(batch.score(X) - model.score(X))
    assert model.n_batch_iter_ == 40
    assert model.n_samples_seen_ == 4 * X.shape[0]
    assert gaps[-1] < 1e-3
    assert gaps[-1] > -1e-9    # never above the maximum of the likelihood


def test_accelerated_polish_ends_at_the_same_optimum():
    X = _separated()
    fits = [_quiet(emkit.GaussianMixture(3, batch_size=1000, tol=1e-10, random_state=0,
                                         n_init=2, accelerate=accelerate).fit,
                   X, strategy="online") for accelerate in ("none", "squarem")]
    assert fits[1].lower_bound_ == pytest.approx(fits[0].lower_bound_, abs=1e-8)


# ------------------------------------------------------------ statistics
def _closed_form_stats(X, params, center):
    """Per-sample counts and first/second moments about ``center``, with numpy
    from the responsibilities of a model built from ``params``."""
    reference = emkit.GaussianMixture.from_params(params["weights"], params["means"],
                                                  params["covariances"])
    resp = reference.predict_proba(X)
    centered = X - center
    rows, cols = np.triu_indices(X.shape[1])
    features = np.hstack([centered[:, rows] * centered[:, cols], centered])
    return {"counts": resp.mean(axis=0), "moments": resp.T @ features / X.shape[0]}


@pytest.mark.parametrize("offset, decay", [(1.0, 1.0), (1.0, 0.75), (3.0, 0.6)])
def test_blended_statistics_equal_the_closed_form(offset, decay):
    # All parameters held fixed: every E-step runs at the same parameters, so
    # the running statistics after T steps are sum_t w_t s(B_t) / |B_t| with
    # w_t = rho_t prod_{j > t} (1 - rho_j) and rho_0 = 1.
    X = _separated(n=4000)
    batches = np.array_split(X, 5)
    truth = _quiet(emkit.GaussianMixture(3, n_init=1, random_state=0).fit, X)
    params = {"weights": truth.weights_, "means": truth.means_,
              "covariances": truth.covariances_}
    center = batches[0].mean(axis=0)
    component = GaussianComponent("full", reg_covar=0.0, center=center, dtype=np.float64,
                                  data_covariance=np.cov(batches[0].T),
                                  fixed={"means", "covariances"})
    stepwise = StepwiseEM(offset, decay)
    engine_params = dict(params, precisions_cholesky=precision_cholesky(
        params["covariances"], "full")[0])
    rhos = []
    for batch in batches:
        rhos.append(stepwise.next_rho())
        data = SampleData(batch)
        model = MixtureModel(component, 3, fix_weights=True)
        engine_params, _ = stepwise.step(model, engine_params, data)
    assert rhos[0] == 1.0
    assert rhos[1:] == pytest.approx([(t + offset) ** -decay for t in range(1, 5)])
    expected = None
    for t, batch in enumerate(batches):
        weight = rhos[t] * np.prod([1.0 - rho for rho in rhos[t + 1:]])
        stats = _closed_form_stats(batch, params, center)
        expected = ({k: weight * v for k, v in stats.items()} if expected is None else
                    {k: expected[k] + weight * v for k, v in stats.items()})
    for name in ("counts", "moments"):
        np.testing.assert_allclose(stepwise.stats[name], expected[name], rtol=1e-9,
                                   atol=1e-12)
    assert stepwise.weight_seen == X.shape[0]
    if (offset, decay) == (1.0, 1.0):
        # rho_t = 1 / (t + 1): the running statistics are the mean over the
        # (equal) batches, i.e. the E-step statistics of all the data at once
        whole = _closed_form_stats(X, params, center)
        np.testing.assert_allclose(stepwise.stats["moments"], whole["moments"], rtol=1e-9,
                                   atol=1e-12)


def test_partial_fit_memory_does_not_grow_with_batches():
    X = _separated(n=40_000)
    sizes = {}
    for n_batches, batch_size in ((3, 500), (60, 2000)):
        model = emkit.GaussianMixture(3, n_init=1, random_state=0)
        rng = np.random.RandomState(0)
        for _ in range(n_batches):
            _quiet(model.partial_fit, X[rng.choice(X.shape[0], batch_size, replace=False)])
        sizes[n_batches] = len(pickle.dumps(model))
    # the whole estimator (running statistics included) is the same size
    # after 1,500 and after 120,000 streamed samples
    assert abs(sizes[60] - sizes[3]) <= 64


def test_partial_fit_starts_from_given_parameters_and_keeps_them_fixed():
    X = _separated(n=3000)
    truth = _quiet(emkit.GaussianMixture(3, n_init=1, random_state=0).fit, X)
    model = emkit.GaussianMixture.from_params(truth.weights_, truth.means_,
                                              truth.covariances_, fixed=("means",))
    for part in np.array_split(X, 3):
        model.partial_fit(part)
    np.testing.assert_array_equal(model.means_, truth.means_)
    assert model.n_batch_iter_ == 3
    assert not model.converged_ and not hasattr(model, "lower_bound_")


def test_partial_fit_float32_keeps_dtype_and_weights_count():
    X = _separated(n=4000)
    model = emkit.GaussianMixture(3, n_init=2, random_state=0)
    _quiet(model.partial_fit, X[:2000].astype(np.float32))
    _quiet(model.partial_fit, X[2000:], sample_weight=np.full(2000, 2.0))
    assert model.means_.dtype == np.float32
    assert model.n_samples_seen_ == 2000 + 4000


# ------------------------------------------------------------ validation
@pytest.mark.parametrize("params, name", [
    ({"learning_decay": 0.5}, "learning_decay"),
    ({"learning_decay": 1.5}, "learning_decay"),
    ({"learning_offset": -1.0}, "learning_offset"),
    ({"batch_size": 0}, "batch_size"),
    ({"online_passes": 0}, "online_passes"),
])
def test_online_parameters_are_validated(params, name):
    X = _separated(n=600)
    with pytest.raises(InvalidParameterError, match=name):
        emkit.GaussianMixture(3, **params).fit(X, strategy="online")
    with pytest.raises(InvalidParameterError, match=name):
        emkit.GaussianMixture(3, **params).partial_fit(X)


def test_strategy_and_batch_size_errors_are_named():
    X = _separated(n=600)
    with pytest.raises(ValueError, match="strategy"):
        emkit.GaussianMixture(3).fit(X, strategy="minibatch")
    with pytest.raises(ValueError, match="batch_size"):
        emkit.GaussianMixture(3, batch_size=2).fit(X, strategy="online")


def test_partial_fit_n_features_mismatch_and_empty_weight():
    X = _separated(n=600)
    model = _quiet(emkit.GaussianMixture(3, n_init=1, random_state=0).partial_fit, X)
    with pytest.raises(ValueError, match="2 features.*expecting 3"):
        model.partial_fit(X[:, :2])
    with pytest.raises(ValueError, match="sample_weight"):
        model.partial_fit(X[:10], sample_weight=np.zeros(10))
    with pytest.raises(ValueError, match="n_components"):
        emkit.GaussianMixture(3).partial_fit(X[:2])


def test_hmm_online_parameters_are_validated():
    X = np.random.RandomState(0).normal(size=(100, 2))
    # scikit-learn's parameter validation, as for the HMMs' other parameters
    with pytest.raises(ValueError, match="learning_decay.*0.5, 1.0"):
        emkit.GaussianHMM(2, learning_decay=0.4).partial_fit(X)
    with pytest.raises(ValueError, match="learning_offset"):
        emkit.PoissonHMM(2, learning_offset=-2).partial_fit(X.astype(int) ** 2)
    model = emkit.GaussianHMM(2, random_state=0).partial_fit(X)
    with pytest.raises(ValueError, match="3 features"):
        model.partial_fit(np.zeros((10, 3)))


# ------------------------------------------------------------------ HMMs
TRANSMAT = np.array([[0.90, 0.07, 0.03], [0.10, 0.80, 0.10], [0.05, 0.15, 0.80]])
STARTPROB = np.array([0.5, 0.3, 0.2])


def _generating_hmm(kind):
    if kind == "gaussian":
        return emkit.GaussianHMM.from_params(
            STARTPROB, TRANSMAT, [[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]],
            [[1.0, 0.5], [0.6, 1.0], [0.8, 0.8]], covariance_type="diag")
    if kind == "categorical":
        return emkit.CategoricalHMM.from_params(
            STARTPROB, TRANSMAT, [[0.7, 0.2, 0.05, 0.05], [0.05, 0.7, 0.2, 0.05],
                                  [0.05, 0.05, 0.2, 0.7]])
    return emkit.PoissonHMM.from_params(STARTPROB, TRANSMAT,
                                        [[1.0, 6.0], [5.0, 1.0], [10.0, 10.0]])


def _emission_signature(model, kind):
    return {"gaussian": lambda: model.means_, "categorical": lambda: model.emissionprob_,
            "poisson": lambda: model.lambdas_}[kind]()


@pytest.mark.parametrize("kind", ["gaussian", "categorical", "poisson"])
def test_hmm_partial_fit_recovers_the_transition_matrix(kind):
    truth = _generating_hmm(kind)
    rng = np.random.RandomState(0)
    sequences = [truth.sample(100, random_state=rng)[0] for _ in range(300)]
    estimator = {"gaussian": emkit.GaussianHMM(3, covariance_type="diag", random_state=0),
                 "categorical": emkit.CategoricalHMM(3, n_features=4, random_state=0),
                 "poisson": emkit.PoissonHMM(3, random_state=0)}[kind]
    for _ in range(3):
        order = rng.permutation(len(sequences))
        for part in np.array_split(order, 15):
            batch = [sequences[i] for i in part]
            _quiet(estimator.partial_fit, np.concatenate(batch), [len(s) for s in batch])
    assert estimator.n_batch_iter_ == 45
    # states are identified up to a permutation: match them on the emissions
    fitted, true = _emission_signature(estimator, kind), _emission_signature(truth, kind)
    cost = ((fitted[:, None, :] - true[None, :, :]) ** 2).sum(-1)
    rows, cols = linear_sum_assignment(cost)
    order = rows[np.argsort(cols)]
    np.testing.assert_allclose(estimator.transmat_[np.ix_(order, order)], TRANSMAT, atol=0.05)
    # and the stepwise fit is as good as Baum-Welch over all the sequences
    X = np.concatenate(sequences)
    lengths = [len(s) for s in sequences]
    batch = _quiet(type(estimator)(**estimator.get_params()).fit, X, lengths)
    assert (batch.score(X, lengths) - estimator.score(X, lengths)) / X.shape[0] < 2e-3


def test_gaussian_hmm_partial_fit_marginalises_missing_entries_of_later_batches():
    truth = _generating_hmm("gaussian")
    X, _ = truth.sample(4000, random_state=1)
    model = emkit.GaussianHMM(3, random_state=0)
    _quiet(model.partial_fit, X[:2000])
    holes = X[2000:].copy()
    holes[::7, 0] = np.nan
    _quiet(model.partial_fit, holes)
    assert np.isfinite(model.means_).all() and model.n_batch_iter_ == 2


@pytest.mark.parametrize("kind", ["gaussian", "categorical", "poisson"])
def test_hmm_online_then_batch_reaches_baum_welch_optimum(kind):
    truth = _generating_hmm(kind)
    rng = np.random.RandomState(2)
    sequences = [truth.sample(60, random_state=rng)[0] for _ in range(200)]
    X, lengths = np.concatenate(sequences), [60] * 200
    estimator = {"gaussian": emkit.GaussianHMM(3, covariance_type="full"),
                 "categorical": emkit.CategoricalHMM(3, n_features=4),
                 "poisson": emkit.PoissonHMM(3)}[kind]
    estimator.set_params(random_state=0, tol=1e-10, max_iter=3000, batch_size=20)
    batch = _quiet(type(estimator)(**estimator.get_params()).fit, X, lengths)
    online = _quiet(estimator.fit, X, lengths, strategy="online")
    assert online.n_batch_iter_ == 3 * 10
    assert abs(online.lower_bound_ - batch.lower_bound_) < 1e-6


def test_hmm_online_fit_errors_are_named():
    X = np.random.RandomState(0).normal(size=(100, 2))
    with pytest.raises(ValueError, match="strategy"):
        emkit.GaussianHMM(2).fit(X, strategy="stream")
    with pytest.raises(ValueError, match="batch_size"):
        emkit.GaussianHMM(2, batch_size=0).fit(X, [50, 50], strategy="online")
    with pytest.raises(ValueError, match="batch_size"):
        emkit.GaussianHMM(3, batch_size=1).fit(X, [1] * 100, strategy="online")
