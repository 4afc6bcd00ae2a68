"""GaussianMixture with R mclust's 14 covariance structures (issue 3).

Reference numbers come from R mclust 6.0.0 (``benchmarks/mclust_reference.R``,
files in tests/data/mclust_*); R is not needed to run these tests.
"""

import csv
import itertools
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from emkit import GaussianMixture
from emkit.components._structures import STRUCTURES
from emkit.components.gaussian import GaussianComponent
from emkit.datasets import load_old_faithful
from emkit.selection import select_model

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def faithful():
    return load_old_faithful().data


def _mclust_table(name, value):
    with open(DATA / name) as handle:
        return {(int(row["G"]), row["model"]): float(row[value])
                for row in csv.DictReader(handle) if row[value] != "NA"}


def _check_constraint(structure, S):
    """Sigma_k = lambda_k D_k A_k D_k^T obeys the three letters of ``structure``."""
    volume, shape, orientation = structure
    K, D, _ = S.shape
    lam = np.exp(np.linalg.slogdet(S)[1] / D)
    shapes = np.linalg.eigvalsh(S) / lam[:, None]
    if volume == "E":
        np.testing.assert_allclose(lam, lam[0], rtol=1e-8)
    if shape == "I":
        np.testing.assert_allclose(shapes, 1.0, rtol=1e-8)
    if shape == "E":
        np.testing.assert_allclose(shapes, np.broadcast_to(shapes[0], shapes.shape), rtol=1e-6)
    if orientation == "I":
        off_diagonal = S - np.einsum("kii->ki", S)[:, :, None] * np.eye(D)
        assert np.abs(off_diagonal).max() <= 1e-12 * np.abs(S).max()
    if orientation == "E" and shape != "I":  # common eigenvectors <=> the matrices commute
        for k, l in itertools.combinations(range(K), 2):
            commutator = S[k] @ S[l] - S[l] @ S[k]
            assert np.abs(commutator).max() <= 1e-6 * np.abs(S[k]).max() * np.abs(S[l]).max()


# ------------------------------------------------------------------ fitting
@pytest.mark.parametrize("structure", STRUCTURES)
def test_fit_is_monotone_obeys_structure_and_reaches_mclust(structure, faithful):
    """From mclust's hierarchical start, EM never lowers the log-likelihood and,
    run to a tight tolerance, ends at or above the value where mclust stopped."""
    mclust_loglik = _mclust_table("mclust_faithful_bic.csv", "loglik")
    for K in (3, 4):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no decrease, no non-convergence warning
            model = GaussianMixture(K, covariance_type=structure, init_params="hierarchical",
                                    n_init=1, reg_covar=0.0, tol=1e-8, max_iter=5000).fit(faithful)
        assert model.n_repairs_ == 0
        history = model.history_
        assert np.all(np.diff(history) >= -1e-9 * np.abs(history[1:]))
        assert model.covariances_.shape == (K, 2, 2)
        assert model.precisions_.shape == (K, 2, 2)
        np.testing.assert_allclose(model.precisions_ @ model.covariances_,
                                   np.broadcast_to(np.eye(2), (K, 2, 2)), atol=1e-8)
        _check_constraint(structure, model.covariances_)
        loglik = model.score(faithful) * faithful.shape[0]
        assert loglik == pytest.approx(history[-1], abs=1e-6)
        assert loglik >= mclust_loglik[(K, structure)] - 1e-6


@pytest.mark.parametrize("structure", ["EVE", "VVE"])
def test_common_orientation_fits_more_features_than_samples(structure):
    """10 samples of 30 features (issue 8: 50-90 s before; timed in
    benchmarks/bench_gmm_structures_wide.py): the fit ends with a finite
    objective that score reproduces and covariances of the structure."""
    X = np.random.RandomState(0).randn(10, 30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fit may stop as degenerate, and say so
        model = GaussianMixture(2, covariance_type=structure, random_state=0).fit(X)
    assert np.isfinite(model.lower_bound_)
    assert np.isfinite(model.score(X))
    assert np.all(np.linalg.eigvalsh(model.covariances_) > 0)
    _check_constraint(structure, model.covariances_)


def test_parameter_counts_match_mclust():
    """nMclustParams for every structure, D in {1, 2, 3, 5}, G in {1, 2, 3, 5, 9}."""
    with open(DATA / "mclust_nparams.csv") as handle:
        rows = list(csv.DictReader(handle))
    rng = np.random.default_rng(0)
    for row in rows:
        K, D, name = int(row["G"]), int(row["d"]), row["model"]
        if D == 1 and name not in ("E", "V"):
            continue
        model = GaussianMixture.from_params(np.full(K, 1.0 / K), rng.normal(size=(K, D)),
                                            np.broadcast_to(np.eye(D), (K, D, D)),
                                            covariance_type=name)
        assert model._n_parameters() == int(row["npar"]), row


def test_bic_penalty_is_mclusts(faithful):
    """On mclust's own fitted parameters, bic() carries mclust's penalty.

    mclust reports the log-likelihood of the E-step before its last M-step
    (its parameters are one M-step further), so the log-likelihood of the
    reported parameters is slightly higher, never lower.
    """
    import json

    with open(DATA / "mclust_faithful_fits.json") as handle:
        fits = json.load(handle)
    for key in ("EEE_3", "VEV_2", "EVI_4", "VII_5", "VVE_3", "EII_1"):
        fit = fits[key]
        K = fit["G"]
        model = GaussianMixture.from_params(np.reshape(fit["pro"], K),
                                            np.reshape(fit["mean"], (K, 2)),
                                            _sigma(fit["sigma"], K),
                                            covariance_type=fit["model"])
        loglik = model.score(faithful) * faithful.shape[0]
        assert fit["loglik"] - 1e-9 <= loglik <= fit["loglik"] + 0.05
        assert -model.bic(faithful) - 2 * loglik == pytest.approx(
            fit["bic"] - 2 * fit["loglik"], abs=1e-8)


def _sigma(sigma, K):
    sigma = np.asarray(sigma, dtype=float)
    if sigma.ndim == 2:  # G = 1 exported as a matrix
        sigma = sigma[None]
    return sigma.reshape(K, sigma.shape[-2], sigma.shape[-1])


def test_feature_kernels_and_densities():
    """Each structure uses the cheapest kernel that fits it, and the log-density
    it evaluates equals scipy's for the same (K, D, D) covariances."""
    rng = np.random.default_rng(1)
    D, K = 3, 2
    X = rng.normal(size=(50, D))
    A = rng.normal(size=(D, D))
    for name in STRUCTURES:
        component = GaussianComponent(name, reg_covar=0.0, center=np.zeros(D), dtype=X.dtype,
                                      data_covariance=np.eye(D))
        expected = ("spherical" if name in ("EII", "VII") else
                    "diag" if name.endswith("I") else "full")
        assert component.layout == expected == component.kernel
        if expected == "spherical":
            covariances = np.array([0.5, 2.0])[:, None, None] * np.eye(D)
        elif expected == "diag":
            covariances = np.array([np.diag([0.5, 1.0, 2.0]), np.diag([3.0, 0.2, 1.0])])
        else:
            covariances = np.array([A @ A.T + np.eye(D), np.eye(D) * 0.7])
        means = rng.normal(size=(K, D))
        model = GaussianMixture.from_params([0.3, 0.7], means, covariances, covariance_type=name)
        density = (0.3 * stats.multivariate_normal.pdf(X, means[0], covariances[0])
                   + 0.7 * stats.multivariate_normal.pdf(X, means[1], covariances[1]))
        np.testing.assert_allclose(model.score_samples(X), np.log(density), rtol=1e-10)


@pytest.mark.parametrize("alias", ["spherical", "diag", "tied", "full"])
def test_sklearn_names_are_the_mclust_structures(alias, faithful):
    """spherical = VII, diag = VVI, tied = EEE, full = VVV: same fit, scikit-learn's layouts."""
    mclust_name = {"spherical": "VII", "diag": "VVI", "tied": "EEE", "full": "VVV"}[alias]
    common = dict(init_params="hierarchical", n_init=1, reg_covar=0.0, tol=1e-9, max_iter=3000)
    sklearn_style = GaussianMixture(3, covariance_type=alias, **common).fit(faithful)
    mclust_style = GaussianMixture(3, covariance_type=mclust_name, **common).fit(faithful)
    shape = {"spherical": (3,), "diag": (3, 2), "tied": (2, 2), "full": (3, 2, 2)}[alias]
    assert sklearn_style.covariances_.shape == shape
    assert mclust_style.covariances_.shape == (3, 2, 2)
    assert sklearn_style._n_parameters() == mclust_style._n_parameters()
    assert sklearn_style.bic(faithful) == pytest.approx(mclust_style.bic(faithful), abs=1e-4)


def test_univariate_E_and_V(faithful):
    waiting = faithful[:, 1:]
    for name in ("E", "V"):
        model = GaussianMixture(2, covariance_type=name, init_params="hierarchical",
                                n_init=1, reg_covar=0.0).fit(waiting)
        assert model.covariances_.shape == (2, 1, 1)
        assert model._n_parameters() == {"E": 4, "V": 5}[name]
    with pytest.raises(ValueError, match="univariate"):
        GaussianMixture(2, covariance_type="E").fit(faithful)
    # multivariate names reduce to E/V on one feature, as in mclust
    vvv = GaussianMixture(2, covariance_type="VVV", init_params="hierarchical", n_init=1,
                          reg_covar=0.0).fit(waiting)
    assert vvv._n_parameters() == 5


# ------------------------------------------------------------- recovery
def _rotation(a, b):
    first = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    second = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    return first @ second


def _true_covariances(structure):
    """Three 3-D covariances that obey ``structure`` and no simpler structure."""
    volume, shape, orientation = structure
    volumes = [1.0, 1.0, 1.0] if volume == "E" else [0.4, 1.0, 2.5]
    base = np.array([4.0, 1.0, 0.25])
    shapes = {"I": [np.ones(3)] * 3, "E": [base] * 3,
              "V": [base, np.array([1.5, 1.5, 1 / 2.25]), np.array([8.0, 0.5, 0.25])]}[shape]
    rotations = {"I": [np.eye(3)] * 3, "E": [_rotation(0.6, 0.4)] * 3,
                 "V": [_rotation(0.6, 0.4), _rotation(-0.5, 1.1), _rotation(1.3, -0.7)]}
    return np.stack([v * R @ np.diag(A) @ R.T
                     for v, A, R in zip(volumes, shapes, rotations[orientation])])


@pytest.mark.parametrize("structure", STRUCTURES)
def test_bic_recovers_the_generating_structure(structure):
    means = np.array([[0.0, 0.0, 0.0], [9.0, 0.0, 0.0], [0.0, 9.0, 3.0]])
    truth = GaussianMixture.from_params([0.3, 0.3, 0.4], means, _true_covariances(structure),
                                        covariance_type=structure)
    X, _ = truth.sample(1000, random_state=1)
    result = select_model(X, n_components=[3])
    assert result.best_params_["covariance_type"] == structure
    fitted = result.estimators_[(3, structure)]
    _check_constraint(structure, fitted.covariances_)
    order = np.argsort(fitted.means_[:, 0] + 10 * fitted.means_[:, 1])
    np.testing.assert_allclose(fitted.means_[order], means, atol=0.35)
    np.testing.assert_allclose(fitted.covariances_[order], truth.covariances_, atol=0.6,
                               rtol=0.25)


# -------------------------------------------------------------------- MAP
def test_map_log_posterior_is_monotone_for_all_14(faithful):
    """mclust's default prior for every structure (mclust has it for 10): EM on
    the log-posterior never decreases it, and the prior's term is in the objective."""
    result = select_model(faithful, n_components=[3, 4], prior="default", tol=1e-10)
    assert len(result.estimators_) == 28
    for (K, name), model in result.estimators_.items():
        assert model.n_repairs_ == 0, name
        history = model.history_
        assert np.all(np.diff(history) >= -1e-9 * np.abs(history[1:])), (name, K)
        _check_constraint(name, model.covariances_)
        loglik = model.score(faithful) * faithful.shape[0]
        assert abs(history[-1] - loglik) > 1e-3  # log-posterior, not log-likelihood


@pytest.mark.parametrize("structure", ["EVE", "VVE", "EEV", "VEE"])
def test_map_through_the_engine(structure, faithful):
    """GaussianMixture.fit (restarts, repairs, the engine's loop) with the prior."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a decrease would warn
        model = GaussianMixture(3, covariance_type=structure, prior="default", n_init=2,
                                random_state=0, tol=1e-8).fit(faithful)
    _check_constraint(structure, model.covariances_)
    assert np.isfinite(model.lower_bound_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_reseed_keeps_the_structure(faithful):
    """A re-seeded component copies another's covariance: every equality survives."""
    for name in STRUCTURES:
        model = GaussianMixture(3, covariance_type=name, init_params="hierarchical", n_init=1,
                                reg_covar=0.0, max_iter=20).fit(faithful)
        component = GaussianComponent(name, reg_covar=0.0, center=faithful.mean(axis=0),
                                      dtype=faithful.dtype, data_covariance=np.cov(faithful.T))
        params = dict(model._fitted_params())
        reseeded = component.reseed(params, 1, faithful[0], np.cov(faithful.T))
        _check_constraint(name, reseeded["covariances"])
        np.testing.assert_array_equal(reseeded["means"][1], faithful[0])


def test_hierarchical_start_is_deterministic(faithful):
    """mclust's start has no randomness: restarts would repeat it, so it runs once,
    and it starts EM from mclust's partition (same BIC as mclustBIC, which stops
    at the same iteration with tol=1e-5 under its rule; here run further)."""
    one = GaussianMixture(3, covariance_type="EEE", init_params="hierarchical", n_init=1,
                          reg_covar=0.0, random_state=0).fit(faithful)
    many = GaussianMixture(3, covariance_type="EEE", init_params="hierarchical", n_init=7,
                           reg_covar=0.0, random_state=1).fit(faithful)
    np.testing.assert_array_equal(one.history_, many.history_)
    np.testing.assert_array_equal(one.means_, many.means_)
    mclust_bic = _mclust_table("mclust_faithful_bic.csv", "BIC")[(3, "EEE")]
    assert -one.bic(faithful) == pytest.approx(mclust_bic, abs=0.05)
