"""KMeans against scikit-learn's Lloyd iterations and brute force."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.cluster import kmeans_plusplus
from sklearn.datasets import load_iris, make_blobs

import emkit
from emkit.estimators.kmeans import KMeans


def datasets():
    blobs, _ = make_blobs(3000, 6, centers=8, cluster_std=2.5, random_state=0)
    return {"iris": load_iris().data, "faithful": emkit.datasets.load_old_faithful().data,
            "blobs": blobs + 100.0}


@pytest.mark.parametrize("name", ["iris", "faithful", "blobs"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_lloyd_iterations_as_sklearn_from_the_same_centers(name, seed):
    X = np.asarray(datasets()[name], dtype=np.float64)
    K = 5
    start, _ = kmeans_plusplus(X, K, random_state=seed)
    ours = KMeans(K, init=start, tol=0.0).fit(X)
    peer = SklearnKMeans(K, init=start, n_init=1, tol=0.0, algorithm="lloyd").fit(X)
    assert ours.inertia_ == pytest.approx(peer.inertia_, rel=1e-10)
    np.testing.assert_allclose(ours.cluster_centers_, peer.cluster_centers_, rtol=1e-10,
                               atol=1e-10 * np.abs(X).max())
    np.testing.assert_array_equal(ours.labels_, peer.labels_)
    assert ours.n_iter_ == peer.n_iter_
    assert np.all(np.diff(ours.history_) >= 0)
    assert ours.converged_


@pytest.mark.parametrize("name", ["iris", "faithful", "blobs"])
@pytest.mark.parametrize("K", [3, 6, 10])
def test_at_least_as_good_as_sklearn_best_of_n_init(name, K):
    X = datasets()[name]
    ours = KMeans(K, n_init=10, random_state=0).fit(X)
    peer = SklearnKMeans(K, n_init=10, random_state=0).fit(X)
    assert ours.inertia_ <= peer.inertia_ * (1 + 1e-9)
    assert ours.score(X) == pytest.approx(-ours.inertia_, rel=1e-12)


def test_inference_is_brute_force_distances():
    X = load_iris().data
    model = KMeans(4, random_state=0).fit(X)
    distances = cdist(X, model.cluster_centers_)
    np.testing.assert_allclose(model.transform(X), distances, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(model.predict(X), distances.argmin(axis=1))
    np.testing.assert_array_equal(model.labels_, distances.argmin(axis=1))
    np.testing.assert_allclose(model.score_samples(X), -distances.min(axis=1) ** 2, rtol=1e-12)
    assert model.inertia_ == pytest.approx((distances.min(axis=1) ** 2).sum(), rel=1e-12)
    np.testing.assert_array_equal(model.predict_proba(X).argmax(axis=1), model.predict(X))
    again = KMeans.from_params(model.cluster_centers_)
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    assert again.score(X) == pytest.approx(model.score(X))


def test_sample_weight_equals_repeated_rows_from_the_same_start():
    # scikit-learn's check cannot see it (the seeding draws differently), so here.
    X = load_iris().data
    weights = np.random.RandomState(0).randint(0, 4, X.shape[0])
    start = X[[0, 60, 120]]
    weighted = KMeans(3, init=start).fit(X, sample_weight=weights)
    repeated = KMeans(3, init=start).fit(np.repeat(X, weights, axis=0))
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=1e-12)
    np.testing.assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_,
                               rtol=1e-12)


def test_empty_cluster_is_relocated_and_inertia_still_falls():
    X = load_iris().data
    start = np.vstack([X[[0, 60, 120]], [[100.0, 100.0, 100.0, 100.0]]])
    model = KMeans(4, init=start).fit(X)
    assert np.bincount(model.labels_, minlength=4).min() > 0
    assert np.all(np.diff(model.history_) >= 0)
    assert len(model.history_) > 1


def test_check_estimator_passes():
    from sklearn.utils.estimator_checks import check_estimator

    reason = ("the k-means++ seeding draws different points for weighted and repeated "
              "rows (scikit-learn's KMeans lists the same check); "
              "test_sample_weight_equals_repeated_rows_from_the_same_start checks it")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(
            KMeans(), on_fail=None,
            expected_failed_checks={"check_sample_weight_equivalence_on_dense_data": reason})
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results
              if r["status"] == "failed"]
    assert not failed


@pytest.mark.parametrize("make, match", [
    (lambda: KMeans(200), "n_samples must be >= n_clusters=200"),
    (lambda: KMeans(0), "n_clusters must be an integer >= 1"),
    (lambda: KMeans(3, init="kmeans++"), "Did you mean 'k-means\\+\\+'"),
    (lambda: KMeans(3, init=np.zeros((2, 4))), "init"),
    (lambda: KMeans(3, n_init=0), "n_init must be an integer >= 1"),
    (lambda: KMeans(3, tol=-1.0), "tol must be"),
])
def test_bad_parameters_raise_named_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make().fit(load_iris().data)


def test_caller_array_unchanged():
    X = load_iris().data
    original = X.copy()
    KMeans(3, random_state=0).fit(X)
    np.testing.assert_array_equal(X, original)
