"""k-means as the hard-assignment limit of a spherical Gaussian mixture.

With equal weights and a common spherical covariance ``sigma^2 I``, the
responsibilities of a Gaussian mixture tend, as ``sigma -> 0``, to one-hot
vectors on the nearest mean, and ``sigma^2`` times the expected
complete-data log-likelihood tends to ``-1/2`` times the within-cluster sum
of squares (the inertia). EM in that limit is Lloyd's algorithm: the E-step
assigns every sample to its nearest centre, the M-step moves every centre
to the mean of its samples. Both steps lower the inertia, so the engine's
objective ``-inertia`` never decreases.

The model holds no data: the engine hands it chunks (its E-step) and the
data object (its re-seed), so the same model fits in-memory samples and a
dask array's blocks on the workers.
"""

from __future__ import annotations

from functools import partial, reduce

import numpy as np

from ..kernels.kmeans import assign_and_accumulate

__all__ = ["KMeansModel", "nearest_centers"]


def nearest_centers(X, centers, center=None):
    """Nearest centre of every row of ``X`` (``X - center`` when given), shape (n,).

    Parameters
    ----------
    X : ndarray of shape (n, D)
    centers : ndarray of shape (K, D), in the coordinates of ``X - center``
    center : ndarray of shape (D,) or None

    Returns
    -------
    ndarray of shape (n,), intp

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.models.kmeans import nearest_centers
    >>> X = np.array([[10.0, 0.0], [12.0, 0.0], [19.0, 0.0]])
    >>> nearest_centers(X, np.array([[-3.0, 0.0], [5.0, 0.0]]), center=np.array([13.0, 0.0]))
    array([0, 0, 1])
    """
    return assign_and_accumulate(_in_model_coordinates(X, center),
                                 np.ascontiguousarray(centers, dtype=np.float64))[0]


def _in_model_coordinates(X_chunk, center):
    """A chunk as a C-contiguous float64 array, centred on ``center`` when given."""
    X_chunk = np.asarray(X_chunk, dtype=np.float64)
    if center is not None:
        return X_chunk - center  # a new, contiguous array
    return np.ascontiguousarray(X_chunk)


def _farthest_of_chunk(centers, center, n_rows, X_chunk, weights=None, *_):
    """The ``n_rows`` samples of a chunk farthest from their nearest centre:
    ``(distances, rows)``, farthest first (zero-weight samples rank last)."""
    X_chunk = _in_model_coordinates(X_chunk, center)
    _, distances, _, _ = assign_and_accumulate(X_chunk, centers)
    if weights is not None:
        distances = np.where(np.asarray(weights) > 0, distances, -1.0)
    return _farthest(distances, X_chunk, n_rows)


def _farthest(distances, rows, n_rows):
    order = np.argsort(distances)[::-1][:n_rows]
    return distances[order], rows[order]


def _merge_farthest(n_rows, left, right):
    """Two chunks' farthest samples as one set of the ``n_rows`` farthest."""
    return _farthest(np.concatenate([left[0], right[0]]), np.concatenate([left[1], right[1]]),
                     n_rows)


def _over_chunks(data, function, combine):
    """``function(*chunk)`` over every chunk of ``data``, combined: by the data
    object where it owns the walk (a dask array's blocks on the workers),
    else over ``data.chunks()`` here."""
    reduce_chunks = getattr(data, "reduce_chunks", None)
    if reduce_chunks is not None:
        return reduce_chunks(function, combine)
    return reduce(combine, (function(*chunk) for chunk in data.chunks()))


class KMeansModel:
    """Lloyd's k-means for the EM engine. Parameters: ``{"centers": (K, D)}``.

    Parameters
    ----------
    n_clusters : int
    center : ndarray of shape (n_features,) or None
        Subtracted from every chunk before its distances are measured (the
        data's mean: the distance products stay accurate far from the
        origin). None when the caller has centred the data already (once, as
        scikit-learn's ``copy_x=True`` does, at no cost per iteration).
        Centres are in the centred coordinates.
    """

    parallel_chunks = True

    def __init__(self, n_clusters, center=None):
        self.n_clusters = int(n_clusters)
        self.center = None if center is None else np.asarray(center, dtype=np.float64)

    def e_step_plan(self, params):
        return np.ascontiguousarray(params["centers"], dtype=np.float64)

    def e_step(self, plan, X_chunk, weights, *_):
        X_chunk = _in_model_coordinates(X_chunk, self.center)
        _, distances, sums, counts = assign_and_accumulate(X_chunk, plan, weights)
        inertia = float(distances.sum() if weights is None else np.asarray(weights) @ distances)
        return {"sums": sums, "counts": counts}, -inertia

    def m_step(self, stats, params):
        counts = stats["counts"]
        centers = np.array(params["centers"], dtype=np.float64, copy=True)
        filled = counts > 0
        # An empty cluster keeps its centre here; repair() re-seeds it.
        centers[filled] = stats["sums"][filled] / counts[filled, None]
        return {"centers": centers}

    def log_prior(self, params):
        return 0.0

    def repair(self, params, stats, rng, data):
        """Move the centres of empty clusters onto the samples farthest from
        their own centres (scikit-learn's relocation); the inertia only falls.

        ``data`` is the engine's data object: the farthest samples of every
        chunk are found where the chunk is (one pass, on the workers for a
        dask array) and only those rows are combined.
        """
        empty = np.flatnonzero(stats["counts"] <= 0)
        if empty.size == 0:
            return params, 0
        centers = np.ascontiguousarray(params["centers"], dtype=np.float64)
        _, rows = _over_chunks(data,
                               partial(_farthest_of_chunk, centers, self.center, empty.size),
                               partial(_merge_farthest, empty.size))
        centers = np.array(centers, copy=True)
        centers[empty] = rows[:empty.size]
        return {"centers": centers}, int(empty.size)
