"""One EM loop: a model's compiled updates against the engine's own updates.

``SmallGaussianMixtureModel.compiled_updates`` takes many EM updates in one
compiled call (select_model's grids); the engine records them and judges
convergence with its rule object. The reference is the engine taking every
update itself on the same model (Python M-step wrapper, numpy weights and
log-prior): same start, same iterates, same stopping point.
"""

import math

import numpy as np
import pytest
from sklearn.datasets import load_iris

from emkit import GaussianMixture
from emkit._engine.data import SampleData
from emkit._engine.em import fit_em
from emkit._engine.monitor import RelativeChangeRule, AitkenRule, aitken_converged
from emkit.components.gaussian import GaussianComponent, feature_scales
from emkit.datasets import load_old_faithful
from emkit.models._small_gaussian_mixture import SmallGaussianMixtureModel


class _OwnRelative(RelativeChangeRule):
    """The same rule as a class compiled kernels do not know: the engine then
    takes every update itself."""


class _OwnAitken(AitkenRule):
    pass


def _model_and_start(X, n_components, structure, reg_covar=1e-6):
    data = SampleData(X, None)
    scales = feature_scales(X)
    component = GaussianComponent(structure, reg_covar=reg_covar, center=data.center,
                                  dtype=np.float64, data_covariance=np.cov(X.T, bias=True),
                                  feature_scales=scales)
    model = SmallGaussianMixtureModel(component, n_components, compiled_runs=True)
    # A fixed partition: every n_components-th sample in each group.
    resp = np.zeros((X.shape[0], n_components))
    resp[np.arange(X.shape[0]), np.argsort(np.argsort(X[:, 0])) * n_components // X.shape[0]] = 1
    params = model.m_step(model.stats_from_responsibilities(resp, data), None)
    return model, data, params


def _counting(model):
    """Wrap the model's hook to count the updates it took."""
    hook = model.compiled_updates
    taken = []

    def counted(*args):
        result = hook(*args)
        taken.append(0 if result is None else len(result[2]))
        return result

    model.compiled_updates = counted
    return taken


@pytest.mark.parametrize("structure,n_components", [
    ("VVV", 3), ("EEE", 4), ("VEV", 3), ("EVE", 2), ("VII", 5), ("EEI", 3)])
@pytest.mark.parametrize("rule", ["relative", "aitken"])
def test_compiled_updates_are_the_engines_updates(structure, n_components, rule):
    X = load_iris().data if structure in ("VEV", "EVE") else load_old_faithful().data
    model, data, params = _model_and_start(X, n_components, structure)
    taken = _counting(model)
    compiled = fit_em(model, data, [params], max_iter=400, tol=1e-7, stopping=rule,
                      random_state=np.random.RandomState(0))
    assert sum(taken) == compiled.n_iter > 5  # the kernel took the whole run
    reference_model, _, _ = _model_and_start(X, n_components, structure)
    own_rule = _OwnRelative(1e-7) if rule == "relative" else _OwnAitken()
    reference = fit_em(reference_model, data, [params], max_iter=400, tol=1e-7,
                       stopping=own_rule, random_state=np.random.RandomState(0))
    assert compiled.n_iter == reference.n_iter
    assert compiled.converged == reference.converged
    assert compiled.n_repairs == reference.n_repairs == 0
    np.testing.assert_allclose(compiled.history, reference.history, rtol=1e-11, atol=0)
    for name in ("weights", "means", "covariances", "precisions_cholesky"):
        np.testing.assert_allclose(compiled.params[name], reference.params[name],
                                   rtol=1e-8, atol=1e-12)
    for name in ("moments", "counts"):
        np.testing.assert_allclose(compiled.stats[name], reference.stats[name],
                                   rtol=1e-9, atol=1e-9)


def test_budget_and_screening_split_the_run_without_changing_it():
    X = load_old_faithful().data
    model, data, params = _model_and_start(X, 3, "VVV")
    whole = fit_em(model, data, [params], max_iter=300, tol=1e-8, stopping="relative",
                   random_state=np.random.RandomState(0))
    model, data, params = _model_and_start(X, 3, "VVV")
    taken = _counting(model)
    # Screening advances the run 7 updates, then to the end: two calls.
    split = fit_em(model, data, [params], max_iter=300, tol=1e-8, stopping="relative",
                   random_state=np.random.RandomState(0), screen_iter=7, n_refine=1)
    assert taken[0] == 7 and len(taken) == 2
    assert split.n_iter == whole.n_iter
    np.testing.assert_array_equal(split.history, whole.history)


def test_verbose_takes_the_same_path(capsys):
    X = load_old_faithful().data
    resp = np.zeros((X.shape[0], 3))
    resp[np.arange(X.shape[0]), np.arange(X.shape[0]) % 3] = 1.0
    quiet = GaussianMixture(3, covariance_type="VVV")
    quiet_result = quiet.fit_from_responsibilities(X, resp, relative_tol=1e-5)
    capsys.readouterr()
    loud = GaussianMixture(3, covariance_type="VVV", verbose=2)
    loud_result = loud.fit_from_responsibilities(X, resp, relative_tol=1e-5)
    lines = [line for line in capsys.readouterr().out.splitlines() if " iter " in line]
    assert len(lines) == loud_result.n_iter == quiet_result.n_iter
    np.testing.assert_array_equal(loud_result.history, quiet_result.history)
    np.testing.assert_array_equal(loud.means_, quiet.means_)
    # The printed objectives are the recorded ones.
    printed = [float(line.split()[-1]) for line in lines]
    np.testing.assert_allclose(printed, loud_result.history[1:], rtol=0, atol=1e-6)


def test_aitken_rule_against_a_geometric_sequence():
    # Objectives L_t = L* - c r^t: the gain still to come after t is exactly
    # c r^t (per sample: / n), which Aitken's projection recovers, and the
    # last gain is smaller still (r > 1/2): the rule stops once c r^t / n < tol.
    n_samples, tol, r, c = 10.0, 1e-6, 0.9, 50.0
    first = math.ceil(math.log(tol * n_samples / c) / math.log(r))  # c r^t / n < tol from here
    for t in range(2, first + 40):
        values = [-(c * r**s) for s in (t - 2, t - 1, t)]
        stop = aitken_converged(3, *values, n_samples, tol)
        if t < first - 1:
            assert not stop, t
        elif t > first:
            assert stop, t
    # Too short a segment to judge; a decrease always stops (no projection).
    assert not aitken_converged(1, math.nan, math.nan, -1.0, n_samples, tol)
    assert aitken_converged(3, -3.0, -2.0, -2.0 - 1e-9, n_samples, tol)


def test_a_run_that_needs_a_reseed_is_the_engines():
    # A group of two samples under VVV (three needed for a 2-D covariance):
    # the kernel declines at once, and the engine's own updates re-seed it.
    X = load_old_faithful().data
    resp = np.zeros((X.shape[0], 3))
    resp[:, 0] = X[:, 0] < np.median(X[:, 0])
    resp[:, 1] = 1.0 - resp[:, 0]
    resp[:2] = [0.0, 0.0, 1.0]

    def run(rule, random_state):
        model, data, _ = _model_and_start(X, 3, "VVV")
        taken = _counting(model)
        params = model.m_step(model.stats_from_responsibilities(resp, data), None)
        return fit_em(model, data, [params], max_iter=300, tol=1e-7, stopping=rule,
                      random_state=random_state), taken

    # An integer seed (its RandomState built at the first re-seed) draws as
    # the RandomState of that seed.
    compiled, taken = run("relative", 3)
    reference, _ = run(_OwnRelative(1e-7), np.random.RandomState(3))
    assert taken == [0]  # declined once, never asked again
    assert compiled.n_repairs == reference.n_repairs >= 1
    assert compiled.repairs == reference.repairs
    np.testing.assert_array_equal(compiled.history, reference.history)
