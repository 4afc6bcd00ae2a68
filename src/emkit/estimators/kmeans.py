"""k-means on emkit's EM engine (the zero-variance limit of a spherical GMM)."""

from __future__ import annotations

from functools import partial

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, ClusterMixin, \
    TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._engine.dask_data import (DaskSampleData, check_dask_samples, check_finite_block,
                                 is_dask_array, map_rows, weighted_total)
from .._engine.data import SampleData
from .._engine.em import fit_em
from .._validation import (check_choice, check_integer, check_parameter_array,
                           check_random_state, check_real, check_sample_weight,
                           validate_samples)
from ..kernels.kmeans import assign_and_accumulate
from ..models.kmeans import KMeansModel, nearest_centers
from ._base import parameter_of_rank, store_init_arguments

__all__ = ["KMeans"]

KMEANS_INITS = ("k-means++", "random")


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """k-means clustering: Lloyd's algorithm as hard-assignment EM.

    The zero-variance limit of a spherical Gaussian mixture (see
    :mod:`emkit.models.kmeans`), run by the engine every emkit model shares:
    restarts, monitoring, chunked data on all cores, re-seeding of empty
    clusters. The engine's objective is ``-inertia``; it never decreases.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {"k-means++", "random"} or array-like of shape (n_clusters, n_features)
        "k-means++": greedy k-means++ seeding (Arthur & Vassilvitskii 2007,
        scikit-learn's :func:`~sklearn.cluster.kmeans_plusplus`); "random":
        distinct random samples; an array: one run from those centres.
    n_init : int, default=10
        Restarts; the lowest inertia is kept.
    max_iter : int, default=300
        Lloyd iterations per run.
    tol : float, default=1e-6
        Stop when the inertia changes by at most ``tol * (1 + inertia)``
        between iterations (R mclust's relative rule, the engine's
        ``stopping="relative"``); 0 runs until the assignments stop changing,
        as scikit-learn's ``tol=0`` does.
    random_state : int, RandomState or None
    verbose : int, default=0

    A dask array is clustered where its blocks live: every Lloyd step runs
    on the workers and only the per-cluster sums come back; the seeds are
    drawn from a bounded sample of its rows (all of them up to 20,000).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
        A (lazy) dask array when a dask array was fitted.
    inertia_ : float
        Sum of (weighted) squared distances of the samples to their centres.
    n_iter_ : int
    history_ : ndarray
        ``-inertia`` after every assignment step of the kept run (never decreasing).
    converged_ : bool

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.estimators.kmeans import KMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]], dtype=float)
    >>> KMeans(2, random_state=0).fit(X).inertia_
    16.0
    """

    def __init__(self, n_clusters=8, *, init="k-means++", n_init=10, max_iter=300, tol=1e-6,
                 random_state=None, verbose=0):
        store_init_arguments(self, locals())

    def fit(self, X, y=None, sample_weight=None):
        """Cluster ``X`` by Lloyd's algorithm from ``n_init`` seedings.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            A dask array is fitted where its blocks live.
        y : ignored
        sample_weight : array-like or dask array of shape (n_samples,), optional

        Returns
        -------
        self
        """
        K = check_integer(self.n_clusters, "n_clusters", minimum=1)
        n_init = check_integer(self.n_init, "n_init", minimum=1)
        check_integer(self.max_iter, "max_iter", minimum=0)
        check_real(self.tol, "tol", minimum=0.0)
        given = not isinstance(self.init, str)
        if not given:
            check_choice(self.init, "init", KMEANS_INITS)
        reason = f"n_samples must be >= n_clusters={K}; pass more samples or lower n_clusters"
        if is_dask_array(X):
            X = check_dask_samples(X, min_samples=K, min_samples_reason=reason)
            self.n_features_in_ = X.shape[1]
            self.__dict__.pop("feature_names_in_", None)
            data = DaskSampleData(X, sample_weight, check_block=check_finite_block)
            # The blocks stay where they are; the model centres every chunk on
            # the data's mean, and the seeds come from the centred sample.
            mean = data.center
            seed_rows = data.sample.astype(np.float64) - mean
            seed_weights = data.sample_weight_sample
            model = KMeansModel(K, center=mean)
        else:
            X = validate_samples(self, X, reset=True, min_samples=K,
                                 min_samples_reason=reason)
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
            # One centred float64 copy (scikit-learn's copy_x=True): accurate
            # distance products far from the origin, nothing to subtract per iteration.
            mean = (np.mean(X, axis=0, dtype=np.float64) if sample_weight is None
                    else sample_weight @ np.asarray(X, dtype=np.float64) / sample_weight.sum())
            seed_rows = np.asarray(X, dtype=np.float64) - mean
            seed_weights = sample_weight
            data = SampleData(seed_rows, sample_weight, center=np.zeros(X.shape[1]))
            model = KMeansModel(K)
        rng = check_random_state(self.random_state)
        if given:
            start = check_parameter_array(self.init, (K, X.shape[1]), "init")
            starts = [{"centers": start - mean}]
        else:
            starts = (self._seed(seed_rows, K, seed_weights, rng) for _ in range(n_init))
        result = fit_em(model, data, starts, max_iter=self.max_iter,
                        tol=self.tol, random_state=rng, verbose=self.verbose,
                        stopping="relative", max_repairs=max(10, self.max_iter))
        centers = np.ascontiguousarray(result.params["centers"])
        self.cluster_centers_ = centers + mean
        self.history_ = np.asarray(result.history, dtype=np.float64)
        self.inertia_ = float(-self.history_[-1])
        self.n_iter_ = int(result.n_iter)
        self.converged_ = bool(result.converged)
        if is_dask_array(X):
            # Assigned as the fit assigned them (centred), block by block.
            self.labels_ = map_rows(partial(nearest_centers, centers=centers, center=mean), X,
                                    dtype=np.intp)
        else:
            self.labels_ = nearest_centers(seed_rows, centers)
        return self

    def _seed(self, X, K, sample_weight, rng):
        if self.init == "k-means++":
            from sklearn.cluster import kmeans_plusplus

            centers, _ = kmeans_plusplus(np.asarray(X, dtype=np.float64), K, random_state=rng,
                                         sample_weight=sample_weight)
        else:
            probabilities = None if sample_weight is None else sample_weight / sample_weight.sum()
            rows = rng.choice(X.shape[0], size=K, replace=False, p=probabilities)
            centers = np.asarray(X[rows], dtype=np.float64)
        return {"centers": centers}

    @classmethod
    def from_params(cls, cluster_centers, **kwargs):
        """A ready-to-use model from known centres (no fitting).

        Parameters
        ----------
        cluster_centers : array-like of shape (n_clusters, n_features)
        **kwargs : constructor parameters
        """
        centers = parameter_of_rank(cluster_centers, "cluster_centers",
                                    ("n_clusters", "n_features"))
        model = cls(centers.shape[0], **kwargs)
        model.cluster_centers_ = check_parameter_array(centers, centers.shape, "cluster_centers")
        model.n_features_in_ = centers.shape[1]
        model.n_iter_, model.converged_ = 0, True
        return model

    # -- inference ------------------------------------------------------------
    def _assign(self, X, sample_weight=None):
        centers = np.ascontiguousarray(self.cluster_centers_, dtype=np.float64)
        labels, distances, _, _ = assign_and_accumulate(
            np.ascontiguousarray(X, dtype=np.float64), centers, sample_weight,
            offset=centers.mean(axis=0))
        return labels, distances

    def _validated(self, X):
        check_is_fitted(self, "cluster_centers_")
        return validate_samples(self, X, reset=False)

    def _dask_rows(self, method, X, n_columns=None, dtype=np.float64):
        """``method`` on every block of a dask ``X``: a lazy dask array."""
        check_is_fitted(self, "cluster_centers_")
        X = check_dask_samples(X, n_features=self.n_features_in_)
        return map_rows(method, X, n_columns=n_columns, dtype=dtype)

    def predict(self, X):
        """Index of the nearest centre of every sample, shape (n_samples,).

        A dask array gives a dask array (computed where its blocks live).
        """
        if is_dask_array(X):
            return self._dask_rows(self.predict, X, dtype=np.intp)
        return self._assign(self._validated(X))[0]

    def predict_proba(self, X):
        """Hard responsibilities (the zero-variance limit): one-hot rows.

        Returns
        -------
        ndarray of shape (n_samples, n_clusters)
            A dask array for a dask ``X``.
        """
        if is_dask_array(X):
            return self._dask_rows(self.predict_proba, X,
                                   n_columns=self.cluster_centers_.shape[0])
        labels = self.predict(X)
        resp = np.zeros((labels.shape[0], self.cluster_centers_.shape[0]))
        resp[np.arange(labels.shape[0]), labels] = 1.0
        return resp

    def transform(self, X):
        """Euclidean distance to every centre, shape (n_samples, n_clusters).

        A dask array gives a dask array.
        """
        if is_dask_array(X):
            return self._dask_rows(self.transform, X, n_columns=self.cluster_centers_.shape[0])
        X = np.asarray(self._validated(X), dtype=np.float64)
        centers = self.cluster_centers_
        offset = centers.mean(axis=0)
        X, centers = X - offset, centers - offset
        squared = (np.einsum("nd,nd->n", X, X)[:, None] - 2.0 * X @ centers.T
                   + np.einsum("kd,kd->k", centers, centers))
        return np.sqrt(np.maximum(squared, 0.0))

    def score_samples(self, X):
        """Minus the squared distance of every sample to its nearest centre, (n_samples,).

        A dask array gives a dask array.
        """
        if is_dask_array(X):
            return self._dask_rows(self.score_samples, X)
        return -self._assign(self._validated(X))[1]

    def score(self, X, y=None, sample_weight=None):
        """Minus the inertia of ``X`` (scikit-learn's ``KMeans.score``); a dask
        ``X`` (and ``sample_weight``) is summed on the workers."""
        if is_dask_array(X):
            return weighted_total(self.score_samples(X), sample_weight)[0]
        X = self._validated(X)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        distances = self._assign(X)[1]
        return float(-(distances.sum() if sample_weight is None else sample_weight @ distances))

    @property
    def _n_features_out(self):
        return self.cluster_centers_.shape[0]
