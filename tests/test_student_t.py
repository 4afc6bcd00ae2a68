"""StudentTMixture: Student-t components on the shared engine (ECM, Peel & McLachlan 2000)."""

import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import minimize_scalar
from scipy.special import digamma, gammaln
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

from emkit import GaussianMixture
from emkit.components.protocol import CollapsibleComponent, Component, UnconstrainedComponent
from emkit.components.student_t import MAX_DOF, MIN_DOF, StudentTComponent, dof_m_step
from emkit.estimators.student_t_mixture import StudentTMixture

WEIGHTS = np.array([0.4, 0.6])
MEANS = np.array([[0.0, 0.0], [6.0, 4.0]])
SCATTERS = np.array([[[1.0, 0.3], [0.3, 2.0]], [[2.0, -0.5], [-0.5, 1.0]]])
DOFS = np.array([3.0, 8.0])
# Every covariance layout, and mclust structures (full, diagonal, isotropic kernels).
TYPES = ("full", "tied", "diag", "spherical", "VEV", "EEI", "VII")


def quiet_fit(estimator, X, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, **kwargs)


def scipy_sample(n, seed=0):
    """Draws from the mixture by scipy's own multivariate_t (independent of emkit)."""
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, WEIGHTS)
    X = np.vstack([stats.multivariate_t(MEANS[k], SCATTERS[k], df=DOFS[k]).rvs(
        counts[k], random_state=seed + k + 1) for k in range(2)])
    return X, np.repeat([0, 1], counts)


def layout_scatters(covariance_type, K=2, D=2):
    """Scatter matrices of each layout: (K, D, D) stack and the layout's own array."""
    full = SCATTERS[:K]
    if covariance_type in ("full", "VEV"):
        return full, full
    if covariance_type == "tied":
        return np.broadcast_to(full[0], (K, D, D)), full[0]
    if covariance_type in ("diag", "EEI"):
        diagonal = np.array([[1.0, 2.0], [3.0, 0.5]]) if covariance_type == "diag" else \
            np.array([[1.0, 2.0], [1.0, 2.0]])
        stack = np.einsum("kd,de->kde", diagonal, np.eye(D))
        return stack, diagonal if covariance_type == "diag" else stack
    variances = np.array([1.5, 0.7])
    stack = variances[:, None, None] * np.eye(D)
    return stack, variances if covariance_type == "spherical" else stack


def scipy_log_density(X, weights, means, stack, dofs):
    return np.log(sum(weights[k] * stats.multivariate_t(means[k], stack[k], df=dofs[k]).pdf(X)
                      for k in range(len(weights))))


# -- the component contract ----------------------------------------------------
def test_family_meets_the_contract():
    family = StudentTComponent("full", reg_covar=1e-6, center=np.zeros(2), dtype=np.float64,
                               data_covariance=np.eye(2))
    assert isinstance(family, Component)
    assert isinstance(family, UnconstrainedComponent)
    assert isinstance(family, CollapsibleComponent)


# -- densities -----------------------------------------------------------------
@pytest.mark.parametrize("covariance_type", TYPES)
def test_log_density_equals_scipy_multivariate_t(covariance_type):
    X, _ = scipy_sample(300)
    stack, layout = layout_scatters(covariance_type)
    model = StudentTMixture.from_params(WEIGHTS, means=MEANS, covariances=layout, dofs=DOFS,
                                        covariance_type=covariance_type)
    expected = scipy_log_density(X, WEIGHTS, MEANS, stack, DOFS)
    np.testing.assert_allclose(model.score_samples(X), expected, rtol=1e-12, atol=1e-12)
    joint = np.column_stack([np.log(WEIGHTS[k]) + stats.multivariate_t(
        MEANS[k], stack[k], df=DOFS[k]).logpdf(X) for k in range(2)])
    np.testing.assert_allclose(model.predict_proba(X),
                               np.exp(joint - expected[:, None]), atol=1e-12)


def test_large_dofs_approach_the_gaussian_mixture():
    reference = GaussianMixture.from_params(WEIGHTS, MEANS, SCATTERS)
    X, _ = reference.sample(300, random_state=0)   # Gaussian data: distances stay O(D)
    gaussian = reference.score_samples(X)
    gaps = []
    for nu in (1e2, 1e4, 1e6):
        t = StudentTMixture.from_params(WEIGHTS, means=MEANS, covariances=SCATTERS,
                                        dofs=[nu, nu]).score_samples(X)
        gaps.append(np.abs(t - gaussian).max())
    # The gap is O(1/nu): a hundredfold per step here.
    assert gaps[2] < 1e-4 and gaps[1] < gaps[0] / 50 and gaps[2] < gaps[1] / 50


# -- the dof CM-step ------------------------------------------------------------
def test_dof_step_maximises_the_complete_data_expectation():
    # Q(nu) = n (nu/2 log(nu/2) - lgamma(nu/2)) + nu/2 (s + n E[log w - log u]), from
    # Liu & Rubin (1995); brute-force maximised here by scipy.
    D, n, s, old = 3, 250.0, -260.0, 5.0
    shift = digamma(0.5 * (old + D)) - np.log(0.5 * (old + D))

    def negative_q(log_nu):
        nu = np.exp(log_nu)
        return -(n * (0.5 * nu * np.log(0.5 * nu) - gammaln(0.5 * nu))
                 + 0.5 * nu * (s + n * shift))

    best = np.exp(minimize_scalar(negative_q, bounds=(np.log(MIN_DOF), np.log(MAX_DOF)),
                                  method="bounded", options={"xatol": 1e-10}).x)
    ours = dof_m_step(np.array([n]), np.array([s]), np.array([old]), D)[0]
    assert ours == pytest.approx(best, rel=1e-6)
    # Scale weights that fit a Gaussian (the root beyond 1e8): held at the bound.
    near_gaussian = -n * (1.0 + shift) - 1e-9 * n
    assert dof_m_step(np.array([n]), np.array([near_gaussian]), np.array([old]), D)[0] \
        == MAX_DOF


def _reference_ecm(X, weights, means, scatters, dofs, n_iter):
    """Plain ECM for a full-covariance t mixture, written with scipy per component."""
    N, D = X.shape
    K = len(weights)
    weights, means, scatters, dofs = (np.array(a, dtype=float) for a in
                                      (weights, means, scatters, dofs))
    for _ in range(n_iter):
        log_joint = np.column_stack([np.log(weights[k]) + stats.multivariate_t(
            means[k], scatters[k], df=dofs[k]).logpdf(X) for k in range(K)])
        resp = np.exp(log_joint - np.logaddexp.reduce(log_joint, axis=1)[:, None])
        new_dofs = dofs.copy()
        for k in range(K):
            diff = X - means[k]
            delta = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(scatters[k]), diff)
            u = (dofs[k] + D) / (dofs[k] + delta)
            r, ru = resp[:, k], resp[:, k] * u
            means[k] = ru @ X / ru.sum()
            diff = X - means[k]
            scatters[k] = (ru[:, None] * diff).T @ diff / r.sum()
            constant = (1 + (r * (np.log(u) - u)).sum() / r.sum()
                        + digamma((dofs[k] + D) / 2) - np.log((dofs[k] + D) / 2))
            new_dofs[k] = np.exp(minimize_scalar(
                lambda x: (np.log(np.exp(x) / 2) - digamma(np.exp(x) / 2) + constant) ** 2,
                bounds=(np.log(MIN_DOF), np.log(MAX_DOF)), method="bounded",
                options={"xatol": 1e-12}).x)
        weights = resp.mean(axis=0)
        dofs = new_dofs
    return weights, means, scatters, dofs


def test_iterates_equal_a_reference_ecm_from_the_same_start():
    X, _ = scipy_sample(400, seed=3)
    start = dict(weights_init=[0.5, 0.5], means_init=[[1.0, 1.0], [5.0, 3.0]],
                 covariances_init=[np.eye(2), np.eye(2)], dof_init=[10.0, 10.0])
    model = quiet_fit(StudentTMixture(2, reg_covar=0.0, max_iter=15, tol=0.0,
                                      accelerate="none", **start), X)
    weights, means, scatters, dofs = _reference_ecm(
        X, [0.5, 0.5], start["means_init"], start["covariances_init"], [10.0, 10.0], 15)
    np.testing.assert_allclose(model.weights_, weights, rtol=1e-8)
    np.testing.assert_allclose(model.means_, means, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.covariances_, scatters, rtol=1e-8)
    np.testing.assert_allclose(model.dofs_, dofs, rtol=1e-6)


# -- fitting -------------------------------------------------------------------
@pytest.mark.parametrize("accelerate", ["none", "squarem"])
@pytest.mark.parametrize("covariance_type", TYPES)
def test_log_likelihood_never_decreases(covariance_type, accelerate):
    X, _ = scipy_sample(400, seed=1)
    model = quiet_fit(StudentTMixture(2, covariance_type=covariance_type, n_init=1,
                                      max_iter=150, random_state=0, accelerate=accelerate,
                                      reg_covar=0.0), X)
    history = np.asarray(model.history_)
    assert np.all(np.diff(history) >= -1e-10 * np.abs(history[1:]))
    # The objective is the log-likelihood of the returned parameters (no penalty here).
    assert model.history_[-1] == pytest.approx(model.score(X) * X.shape[0], rel=1e-10)


def test_recovers_known_parameters():
    X, truth = scipy_sample(6000, seed=2)
    model = quiet_fit(StudentTMixture(2, n_init=2, random_state=0, accelerate="squarem",
                                      tol=1e-8), X)
    order = np.argsort(model.means_[:, 0])
    np.testing.assert_allclose(model.weights_[order], WEIGHTS, atol=0.02)
    np.testing.assert_allclose(model.means_[order], MEANS, atol=0.08)
    np.testing.assert_allclose(model.covariances_[order], SCATTERS, atol=0.15)
    np.testing.assert_allclose(model.dofs_[order], DOFS, rtol=0.25)
    # Heavy tails overlap: the clustering is as good as the true parameters' own.
    oracle = StudentTMixture.from_params(WEIGHTS, means=MEANS, covariances=SCATTERS, dofs=DOFS)
    assert adjusted_rand_score(truth, model.predict(X)) >= \
        adjusted_rand_score(truth, oracle.predict(X)) - 0.005


def test_two_clusters_with_uniform_outliers():
    # The check: 5% uniform outliers around two clusters. The t components
    # give the outliers small scale weights; Gaussian components must cover them.
    rng = np.random.default_rng(0)
    n = 400
    first = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.5], [0.5, 1.0]], n)
    second = rng.multivariate_normal([7.0, 0.0], [[1.0, -0.3], [-0.3, 1.0]], n)
    outliers = rng.uniform(-15.0, 15.0, size=(42, 2)) + [3.5, 0.0]
    X = np.vstack([first, second, outliers])
    truth = np.repeat([0, 1], n)
    t = quiet_fit(StudentTMixture(2, random_state=0), X)
    plain = quiet_fit(StudentTMixture(2, random_state=0, accelerate="none"), X)
    gaussian = quiet_fit(GaussianMixture(2, random_state=0), X)
    assert adjusted_rand_score(truth, t.predict(X)[:2 * n]) >= 0.97
    assert adjusted_rand_score(truth, plain.predict(X)[:2 * n]) >= 0.97
    assert adjusted_rand_score(truth, gaussian.predict(X)[:2 * n]) < 0.97


def test_squarem_never_ends_below_plain_ecm():
    X, _ = scipy_sample(1500, seed=4)
    # mclust structures extrapolate means and log-dofs only (see to_unconstrained).
    for covariance_type in TYPES:
        common = dict(covariance_type=covariance_type, n_init=1, random_state=1, tol=1e-10,
                      max_iter=5000)
        plain = quiet_fit(StudentTMixture(2, accelerate="none", **common), X)
        fast = quiet_fit(StudentTMixture(2, accelerate="squarem", **common), X)
        assert fast.lower_bound_ >= plain.lower_bound_ - 1e-9
        assert fast.n_iter_ < plain.n_iter_


def test_fixed_dofs_and_means_are_held():
    X, _ = scipy_sample(400)
    model = quiet_fit(StudentTMixture(2, dof_init=[2.5, 7.0], fixed=("dofs",), n_init=1,
                                      random_state=0, max_iter=50), X)
    np.testing.assert_array_equal(model.dofs_, [2.5, 7.0])
    held = quiet_fit(StudentTMixture(2, means_init=MEANS, fixed=("means",), n_init=1,
                                     random_state=0, max_iter=50), X)
    np.testing.assert_array_equal(held.means_, MEANS)
    assert model.n_parameters() == 2 * 2 + 2 * 3 + 1   # means, scatters, weight; no dofs


def test_sample_marginals_follow_the_t():
    model = StudentTMixture.from_params([1.0], means=[[1.0, -2.0]],
                                        covariances=[[[4.0, 1.0], [1.0, 1.0]]], dofs=[3.0])
    X, labels = model.sample(20000, random_state=0)
    assert X.shape == (20000, 2) and (labels == 0).all()
    for d, (location, scale) in enumerate([(1.0, 2.0), (-2.0, 1.0)]):
        result = stats.kstest(X[:, d], stats.t(df=3.0, loc=location, scale=scale).cdf)
        assert result.pvalue > 1e-3


def test_sample_weights_equal_repeated_rows():
    X, _ = scipy_sample(200)
    weights = np.random.default_rng(0).integers(0, 3, size=X.shape[0])
    common = dict(n_init=1, random_state=0, max_iter=40, tol=0.0,
                  means_init=MEANS + 0.5, dof_init=5.0)
    weighted = quiet_fit(StudentTMixture(2, **common), X, sample_weight=weights)
    repeated = quiet_fit(StudentTMixture(2, **common), np.repeat(X, weights, axis=0))
    np.testing.assert_allclose(weighted.dofs_, repeated.dofs_, rtol=1e-8)
    np.testing.assert_allclose(weighted.covariances_, repeated.covariances_, rtol=1e-8)


def test_partial_labels_are_kept():
    X, truth = scipy_sample(400)
    labels = np.full(X.shape[0], -1)
    labels[:5], labels[-5:] = truth[:5], truth[-5:]
    model = quiet_fit(StudentTMixture(2, n_init=1, random_state=0), X, labels=labels)
    assert (model.predict(X[:5]) == truth[:5]).all()
    assert np.all(np.diff(model.history_) >= -1e-10 * np.abs(np.asarray(model.history_[1:])))


def test_bic_counts_dofs():
    X, _ = scipy_sample(300)
    model = quiet_fit(StudentTMixture(2, n_init=1, random_state=0, max_iter=30), X)
    assert model.n_parameters() == 2 * 2 + 2 * 3 + 2 + 1
    assert model.bic(X) == pytest.approx(-2 * model.score(X) * 300 + model.n_parameters()
                                         * np.log(300))


# -- errors --------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    (dict(dof_init=0.0), "dof_init must be finite and > 0"),
    (dict(dof_init=-3.0), "dof_init must be finite and > 0"),
    (dict(dof_init=[1.0, 2.0, 3.0]), r"dof_init must be a number or have shape \(2,\)"),
    (dict(dof_init=1e9), r"dof_init must lie in"),
    (dict(means_init=np.zeros((3, 2))), "means_init"),
    (dict(covariances_init=np.ones((2, 3))), "covariances_init"),
    (dict(covariance_type="banana"), "covariance_type must be one of"),
    (dict(fixed=("nus",)), "fixed may only name"),
    (dict(reg_covar=-1.0), "reg_covar"),
])
def test_bad_parameters_raise_named_errors(kwargs, match):
    X, _ = scipy_sample(50)
    with pytest.raises(ValueError, match=match):
        StudentTMixture(2, **kwargs).fit(X)


def test_bad_data_raise_named_errors():
    X, _ = scipy_sample(50)
    with pytest.raises(ValueError, match="NaN"):
        StudentTMixture(2).fit(np.where(X > 5, np.nan, X))
    model = quiet_fit(StudentTMixture(2, n_init=1, max_iter=5), X)
    with pytest.raises(ValueError, match="3 features"):
        model.predict(np.ones((4, 3)))
    with pytest.raises(ValueError, match="dofs must be finite and > 0"):
        StudentTMixture.from_params(WEIGHTS, means=MEANS, covariances=SCATTERS, dofs=[1.0, 0.0])


def test_check_estimator_passes():
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(StudentTMixture(n_init=2, max_iter=100), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results
              if r["status"] == "failed"]
    assert not failed


def test_dask_fit_equals_in_memory_fit():
    da = pytest.importorskip("dask.array")
    X, _ = scipy_sample(600, seed=5)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, size=X.shape[0])
    kwargs = dict(n_init=2, random_state=0, max_iter=40, tol=0.0)
    eager = quiet_fit(StudentTMixture(2, **kwargs), X, sample_weight=weights)
    lazy = quiet_fit(StudentTMixture(2, **kwargs), da.from_array(X, chunks=150),
                     sample_weight=da.from_array(weights, chunks=150))
    np.testing.assert_allclose(lazy.history_, eager.history_, rtol=1e-10)
    np.testing.assert_allclose(lazy.dofs_, eager.dofs_, rtol=1e-8)
    np.testing.assert_allclose(lazy.predict_proba(da.from_array(X, chunks=200)).compute(),
                               eager.predict_proba(X), atol=1e-10)
