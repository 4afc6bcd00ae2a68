"""Bernoulli, categorical and Poisson mixtures: parity with scipy.stats from the
same parameters, brute-force marginalisation of missing entries, recovery of
known parameters, monotone objectives, SQUAREM, scikit-learn's checks, named errors."""

import itertools
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from emkit.estimators.bernoulli_mixture import BernoulliMixture
from emkit.estimators.categorical_mixture import CategoricalMixture
from emkit.estimators.poisson_mixture import PoissonMixture
from emkit.priors import Beta, Gamma

WEIGHTS = np.array([0.3, 0.5, 0.2])
BERNOULLI = np.array([[0.9, 0.8, 0.1, 0.2, 0.7], [0.1, 0.2, 0.9, 0.8, 0.6],
                      [0.5, 0.9, 0.9, 0.1, 0.05]])
RATES = np.array([[1.0, 6.0, 0.5], [7.0, 1.5, 3.0], [3.0, 3.0, 9.0]])
LEVELS = [np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]]),
          np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]),
          np.array([[0.6, 0.2, 0.1, 0.1], [0.1, 0.1, 0.2, 0.6], [0.1, 0.7, 0.1, 0.1]]),
          np.array([[0.8, 0.2], [0.7, 0.3], [0.1, 0.9]]),
          np.array([[0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.2, 0.2, 0.6]])]


def truth(family):
    if family == "bernoulli":
        return BernoulliMixture.from_params(WEIGHTS, probabilities=BERNOULLI)
    if family == "poisson":
        return PoissonMixture.from_params(WEIGHTS, rates=RATES)
    return CategoricalMixture.from_params(WEIGHTS, probabilities=LEVELS)


def estimator(family, **kwargs):
    return {"bernoulli": BernoulliMixture, "poisson": PoissonMixture,
            "categorical": CategoricalMixture}[family](3, **kwargs)


def feature_logpmf(family, x, k, d):
    """log p(x_d | k) from scipy.stats, for the true parameters."""
    if family == "bernoulli":
        return stats.bernoulli.logpmf(x, BERNOULLI[k, d])
    if family == "poisson":
        return stats.poisson.logpmf(x, RATES[k, d])
    p = LEVELS[d][k]
    return stats.multinomial.logpmf(np.eye(len(p))[int(x)], 1, p)


def brute_log_likelihood(family, row):
    """log p(row), observed entries only: NaN entries are left out of the product."""
    terms = [np.log(WEIGHTS[k]) + sum(feature_logpmf(family, x, k, d)
                                      for d, x in enumerate(row) if not np.isnan(x))
             for k in range(3)]
    return logsumexp(terms)


def completions(family, row):
    """Every way to fill the NaN entries of ``row`` (Poisson: counts up to 60)."""
    missing = np.flatnonzero(np.isnan(row))
    ranges = [range(2) if family == "bernoulli" else range(61) if family == "poisson"
              else range(LEVELS[d].shape[1]) for d in missing]
    for values in itertools.product(*ranges):
        full = row.copy()
        full[missing] = values
        yield full


FAMILIES = ["bernoulli", "poisson", "categorical"]
PARAM = {"bernoulli": "probabilities", "poisson": "rates", "categorical": "probabilities"}


def scipy_log_likelihood(family, model, X):
    """Total log-likelihood of complete ``X`` at ``model``'s parameters, by scipy.stats."""
    params = getattr(model, PARAM[family] + "_")
    per_component = []
    for k in range(len(model.weights_)):
        if family == "bernoulli":
            terms = stats.bernoulli.logpmf(X, params[k])
        elif family == "poisson":
            terms = stats.poisson.logpmf(X, params[k])
        else:
            terms = np.stack([stats.multinomial.logpmf(
                np.eye(S)[X[:, d].astype(int)], 1, params[k, d, :S])
                for d, S in enumerate(model.n_levels_)], axis=1)
        per_component.append(np.log(model.weights_[k]) + terms.sum(axis=1))
    return float(logsumexp(np.stack(per_component, axis=1), axis=1).sum())


@pytest.fixture(scope="module")
def samples():
    return {family: truth(family).sample(3000, random_state=1) for family in FAMILIES}


@pytest.mark.parametrize("family", FAMILIES)
def test_log_likelihood_matches_scipy_stats(family, samples):
    X = samples[family][0][:40]
    expected = [brute_log_likelihood(family, row) for row in X]
    np.testing.assert_allclose(truth(family).score_samples(X), expected, rtol=1e-12)


@pytest.mark.parametrize("family", FAMILIES)
def test_missing_entries_are_marginalised_exactly(family, samples):
    # The marginal of the observed entries equals the brute-force sum of the
    # complete-data likelihood over every completion of the missing ones.
    X = samples[family][0][:12].copy()
    mask = np.random.default_rng(0).random(X.shape) < 0.3
    mask[:, 0] &= np.arange(len(X)) % 2 == 0  # keep some rows complete
    X[mask] = np.nan
    model = truth(family).set_params(missing="marginalize")
    for row, got in zip(X, model.score_samples(X)):
        brute = logsumexp([brute_log_likelihood(family, full) for full in completions(family, row)])
        assert got == pytest.approx(brute, rel=1e-9, abs=1e-9)
        assert got == pytest.approx(brute_log_likelihood(family, row), rel=1e-12)


@pytest.mark.parametrize("family", FAMILIES)
def test_recovers_known_parameters(family, samples):
    X, _ = samples[family]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = estimator(family, random_state=0, tol=1e-8).fit(X)
    true = truth(family)
    params = {"bernoulli": "probabilities_", "poisson": "rates_",
              "categorical": "probabilities_"}[family]
    order = min(itertools.permutations(range(3)),
                key=lambda o: np.abs(getattr(model, params)[list(o)]
                                     - getattr(true, params)).sum())
    np.testing.assert_allclose(model.weights_[list(order)], WEIGHTS, atol=0.05)
    atol = {"bernoulli": 0.07, "poisson": 0.5, "categorical": 0.07}[family]
    np.testing.assert_allclose(getattr(model, params)[list(order)], getattr(true, params),
                               atol=atol)


def _log_prior(family, model, concentration):
    """The prior's log-density at the fitted parameters, from scipy.stats."""
    total = stats.dirichlet.logpdf(model.weights_, np.full(3, concentration))
    if family == "bernoulli":
        return total + stats.beta.logpdf(model.probabilities_, 2.0, 3.0).sum()
    if family == "poisson":
        return total + stats.gamma.logpdf(model.rates_, 2.0, scale=1 / 0.5).sum()
    for d, S in enumerate(model.n_levels_):
        total += sum(stats.dirichlet.logpdf(model.probabilities_[k, d, :S], np.full(S, 1.5))
                     for k in range(3))
    return total


PRIORS = {"bernoulli": Beta(2.0, 3.0), "poisson": Gamma(2.0, 0.5), "categorical": 1.5}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("map_", [False, True], ids=["mle", "map"])
def test_objective_never_decreases_and_is_loglik_plus_log_prior(family, map_, samples):
    X, _ = samples[family]
    X = X[:600]
    kwargs = dict(prior=PRIORS[family], weight_concentration=2.0) if map_ else {}
    model = estimator(family, n_init=1, random_state=2, tol=0, max_iter=60, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    history = model.history_
    assert np.all(np.diff(history) >= -1e-9 * np.abs(history[1:]))
    # The last entry is the objective at the returned parameters, by scipy.stats.
    loglik = scipy_log_likelihood(family, model, X)
    assert model.score_samples(X).sum() == pytest.approx(loglik, rel=1e-10)
    expected = loglik + (_log_prior(family, model, 2.0) if map_ else 0.0)
    assert history[-1] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("family", FAMILIES)
def test_squarem_never_ends_below_plain_em(family, samples):
    X, _ = samples[family]
    for seed in range(3):
        # Both run to a tight tolerance: at a loose one SQUAREM may stop
        # earlier, on a point plain EM would still climb from.
        common = dict(n_init=1, random_state=seed, tol=1e-12, max_iter=20000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            plain = estimator(family, **common).fit(X)
            fast = estimator(family, accelerate="squarem", **common).fit(X)
        assert fast.history_[0] == plain.history_[0]  # the same start
        assert plain.converged_ and fast.converged_
        assert fast.lower_bound_ >= plain.lower_bound_ - 1e-10
        assert fast.n_e_steps_ < plain.n_e_steps_
        assert np.all(np.diff(fast.history_) >= -1e-9 * np.abs(fast.history_[1:]))


@pytest.mark.parametrize("family", FAMILIES)
def test_without_nan_marginalize_gives_the_ordinary_fit_exactly(family, samples):
    X, _ = samples[family]
    common = dict(n_init=2, random_state=0, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ordinary = estimator(family, **common).fit(X[:800])
        marginal = estimator(family, missing="marginalize", **common).fit(X[:800])
    np.testing.assert_array_equal(marginal.history_, ordinary.history_)
    for name in ("weights", PARAM[family]):
        np.testing.assert_array_equal(getattr(marginal, name + "_"), getattr(ordinary, name + "_"))


@pytest.mark.parametrize("family", FAMILIES)
def test_fit_with_missing_entries_maximises_the_brute_force_marginal(family, samples):
    X = samples[family][0][:150].copy()
    X[np.random.default_rng(3).random(X.shape) < 0.25] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = estimator(family, missing="marginalize", n_init=2, random_state=0,
                          tol=1e-12, max_iter=5000).fit(X)
    assert np.all(np.diff(model.history_) >= -1e-9 * np.abs(model.history_[1:]))
    # history_[-1] is the brute-force marginal log-likelihood at the fit ...
    weights, name = model.weights_, PARAM[family]
    params = getattr(model, name + "_")

    def marginal(weights, params):
        clone = type(model).from_params(weights, **{name: params}, missing="marginalize")
        clone.n_levels_ = getattr(model, "n_levels_", None)
        total = 0.0
        for row in X:
            fulls = np.array(list(completions(family, row)))
            total += logsumexp(clone.score_samples(fulls)) if np.isnan(row).any() else \
                clone.score_samples(row[None])[0]
        return total

    if family != "poisson":  # Poisson completions are many; the check below covers it
        assert model.history_[-1] == pytest.approx(marginal(weights, params), rel=1e-9)
    # ... and a local maximum of it: no small move of a parameter raises it.
    best = model.score_samples(X).sum()
    assert model.history_[-1] == pytest.approx(best, rel=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(5):
        moved = params * np.exp(1e-3 * rng.standard_normal(params.shape))
        if name == "probabilities" and family == "categorical":
            moved /= moved.sum(axis=2, keepdims=True)
        moved = np.clip(moved, 0, 1) if family == "bernoulli" else moved
        clone = type(model).from_params(weights, **{name: moved}, missing="marginalize")
        clone.n_levels_ = getattr(model, "n_levels_", None)
        assert clone.score_samples(X).sum() <= best + 1e-8


def test_impute_gives_the_brute_force_conditional_expectation(samples):
    X = samples["bernoulli"][0][:10].copy()
    X[np.random.default_rng(1).random(X.shape) < 0.4] = np.nan
    model = truth("bernoulli")
    before = X.copy()
    imputed = model.impute(X)
    np.testing.assert_array_equal(X, before)  # the caller's array is untouched
    np.testing.assert_array_equal(imputed[~np.isnan(X)], X[~np.isnan(X)])
    for row, got in zip(X, imputed):
        fulls = np.array(list(completions("bernoulli", row)))
        weights = np.exp([brute_log_likelihood("bernoulli", full) for full in fulls])
        np.testing.assert_allclose(got, weights @ fulls / weights.sum(), rtol=1e-12)
    counts = samples["poisson"][0][:10].copy()
    counts[::2, 1] = np.nan
    filled = truth("poisson").impute(counts)
    post = truth("poisson").set_params(missing="marginalize").predict_proba(counts[::2])
    np.testing.assert_allclose(filled[::2, 1], post @ RATES[:, 1], rtol=1e-12)
    levels = samples["categorical"][0][:10].copy()
    levels[:, 2] = np.nan
    model = truth("categorical")
    post = model.set_params(missing="marginalize").predict_proba(levels)
    np.testing.assert_array_equal(model.impute(levels)[:, 2],
                                  (post @ LEVELS[2]).argmax(axis=1))


@pytest.mark.parametrize("family", FAMILIES)
def test_partial_labels_keep_their_component(family, samples):
    X, labels = samples[family]
    given = np.full(len(X), -1)
    given[::10] = labels[::10]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = estimator(family, random_state=0).fit(X, labels=given)
    assert np.all(np.diff(model.history_) >= -1e-9 * np.abs(model.history_[1:]))
    accuracy = np.mean(model.predict(X) == labels)
    assert accuracy > 0.8


@pytest.mark.parametrize("family", FAMILIES)
def test_sample_bic_aic_and_fixed(family, samples):
    X, _ = samples[family]
    model = truth(family)
    n_free = {"bernoulli": 15, "poisson": 9, "categorical": 3 * (2 + 1 + 3 + 1 + 2)}[family] + 2
    assert model.n_parameters() == n_free
    total = model.score_samples(X).sum()
    assert model.bic(X) == pytest.approx(-2 * total + n_free * np.log(len(X)))
    assert model.aic(X) == pytest.approx(-2 * total + 2 * n_free)
    name = PARAM[family]
    start = {"weights_init": WEIGHTS, f"{name}_init": getattr(model, name + "_")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        held = estimator(family, fixed=(name,), max_iter=20, **start).fit(X)
    np.testing.assert_array_equal(getattr(held, name + "_"), getattr(model, name + "_"))
    assert held.n_parameters() == 2


def test_dask_input_gives_the_in_memory_fit(samples):
    da = pytest.importorskip("dask.array")
    X, _ = samples["bernoulli"]
    common = dict(weights_init=WEIGHTS, probabilities_init=BERNOULLI, max_iter=20, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eager = BernoulliMixture(3, **common).fit(X)
        lazy = BernoulliMixture(3, **common).fit(da.from_array(X, chunks=700))
    np.testing.assert_allclose(lazy.history_, eager.history_, rtol=1e-12)
    np.testing.assert_allclose(lazy.probabilities_, eager.probabilities_, rtol=1e-10)


def test_new_families_meet_the_component_contract():
    from emkit.components.bernoulli import BernoulliComponent
    from emkit.components.categorical_product import CategoricalProductComponent
    from emkit.components.protocol import (
        CollapsibleComponent,
        Component,
        UnconstrainedComponent,
    )

    for family in (BernoulliComponent(3), CategoricalProductComponent([2, 3])):
        assert isinstance(family, Component) and isinstance(family, UnconstrainedComponent)
        assert not isinstance(family, CollapsibleComponent)


# -- named errors -------------------------------------------------------------
def test_named_errors_on_bad_input():
    binary = np.array([[0, 1], [1, 0], [1, 1]])
    with pytest.raises(ValueError, match="binary values between 0 and 1; got 2"):
        BernoulliMixture(2).fit(np.array([[0, 2], [1, 0], [1, 1]]))
    with pytest.raises(ValueError, match="negative counts"):
        PoissonMixture(2).fit(np.array([[0, -1], [1, 0], [1, 1]]))
    with pytest.raises(ValueError, match="integer levels; got non-integer"):
        CategoricalMixture(2).fit(np.array([[0, 1.5], [1, 0], [1, 1]]))
    fitted = BernoulliMixture(2, n_init=1, random_state=0).fit(binary)
    with pytest.raises(ValueError, match="X has 3 features, but BernoulliMixture is expecting 2"):
        fitted.predict(np.zeros((2, 3)))
    for model in (BernoulliMixture(2), PoissonMixture(2), CategoricalMixture(2)):
        with pytest.raises(ValueError, match=r"X contains NaN.*missing='marginalize'"):
            model.fit(np.array([[0, np.nan], [1, 0], [1, 1]]))
    with pytest.raises(ValueError, match="missing must be one of"):
        BernoulliMixture(2, missing="drop").fit(binary)
    levels = CategoricalMixture(2, n_init=1, random_state=0).fit(np.array([[0, 1], [2, 0], [1, 1]]))
    with pytest.raises(ValueError, match="level 2 in feature 1, which has only 2 levels"):
        levels.predict(np.array([[0, 2]]))
    with pytest.raises(ValueError, match="n_levels has 3 entries but X has 2 features"):
        CategoricalMixture(2, n_levels=[3, 3, 3]).fit(np.array([[0, 1], [2, 0], [1, 1]]))
    with pytest.raises(ValueError, match="prior must be an emkit.priors.Beta with a >= 1"):
        BernoulliMixture(2, prior=Beta(0.5, 2)).fit(binary)
    with pytest.raises(ValueError, match="prior must be an emkit.priors.Gamma with shape >= 1"):
        PoissonMixture(2, prior=Gamma(0.5, 1)).fit(binary)
    with pytest.raises(ValueError, match="prior must be"):
        CategoricalMixture(2, prior=0.5).fit(binary)
    with pytest.raises(ValueError, match="probabilities_init must hold probabilities"):
        BernoulliMixture(2, probabilities_init=[[0.5, 1.5], [0.5, 0.5]]).fit(binary)
    with pytest.raises(ValueError, match="beyond its feature's n_levels"):
        CategoricalMixture.from_params([0.5, 0.5], probabilities=np.full((2, 2, 2), 0.5),
                                       n_levels=[2, 1])


# -- scikit-learn's estimator checks ------------------------------------------
# Checks whose data cannot be binary (scikit-learn generates integers up to 9
# for integer-data estimators, or floats): BernoulliMixture must refuse them
# with its named ValueError, never crash.
BINARY_DOMAIN = "scikit-learn's data have values other than 0 and 1"
BERNOULLI_IMPOSSIBLE = {name: BINARY_DOMAIN for name in [
    "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self", "check_readonly_memmap_input",
    "check_n_features_in_after_fitting", "check_estimators_dtypes",
    "check_sample_weights_pandas_series", "check_sample_weights_not_an_array",
    "check_all_zero_sample_weights_error", "check_sample_weights_shape",
    "check_sample_weights_not_overwritten", "check_sample_weight_equivalence_on_dense_data",
    "check_f_contiguous_array_estimator", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_fit2d_1sample", "check_fit2d_1feature",
    "check_dict_unchanged", "check_fit_idempotent", "check_fit_check_is_fitted",
    "check_n_features_in", "check_fit2d_predict1d"]}
# This one draws uniform floats without the integer-data tag.
FLOAT_DATA = {"check_sample_weight_equivalence_on_dense_data":
              "scikit-learn passes non-integer floats; integer data are required"}
IMPOSSIBLE = {"bernoulli": BERNOULLI_IMPOSSIBLE, "poisson": FLOAT_DATA,
              "categorical": FLOAT_DATA}
DOMAIN_MESSAGE = {"bernoulli": "must contain (binary values between 0 and 1|integer binary)",
                  "poisson": "must contain integer counts",
                  "categorical": "must contain integer levels"}


def _emkit_value_error(exception, pattern):
    """Whether ``exception`` is, or was raised from, emkit's named ValueError."""
    import re

    while exception is not None:
        if isinstance(exception, ValueError) and re.search(pattern, str(exception)):
            return True
        exception = exception.__cause__ or exception.__context__
    return False


@pytest.mark.parametrize("family", FAMILIES)
def test_scikit_learn_estimator_checks(family):
    from sklearn.utils.estimator_checks import check_estimator

    model = {"bernoulli": BernoulliMixture(), "poisson": PoissonMixture(),
             "categorical": CategoricalMixture()}[family]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(model, on_fail=None, expected_failed_checks=IMPOSSIBLE[family])
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results
              if r["status"] == "failed"]
    assert not failed
    for result in results:
        if result["status"] == "xfail":
            assert _emkit_value_error(result["exception"], DOMAIN_MESSAGE[family]), \
                (result["check_name"], result["exception"])
    expected = set(IMPOSSIBLE[family])
    assert {r["check_name"] for r in results if r["status"] == "xfail"} == expected
