"""k-means as the hard-assignment limit of a spherical Gaussian mixture.

With equal weights and a common spherical covariance ``sigma^2 I``, the
responsibilities of a Gaussian mixture tend, as ``sigma -> 0``, to one-hot
vectors on the nearest mean, and ``sigma^2`` times the expected
complete-data log-likelihood tends to ``-1/2`` times the within-cluster sum
of squares (the inertia). EM in that limit is Lloyd's algorithm: the E-step
assigns every sample to its nearest centre, the M-step moves every centre
to the mean of its samples. Both steps lower the inertia, so the engine's
objective ``-inertia`` never decreases.
"""

from __future__ import annotations

import numpy as np

from ..kernels.kmeans import assign_and_accumulate

__all__ = ["KMeansModel"]


class KMeansModel:
    """Lloyd's k-means for the EM engine. Parameters: ``{"centers": (K, D)}``.

    Parameters
    ----------
    n_clusters : int
    data : SampleData
        The data being fitted, already centred on their mean by the caller
        (once, as scikit-learn's ``copy_x=True`` does: the distance products
        stay accurate far from the origin at no cost per iteration); empty
        clusters are re-seeded on its rows. Centres are in the same coordinates.
    """

    parallel_chunks = True

    def __init__(self, n_clusters, data):
        self.n_clusters = int(n_clusters)
        self.data = data

    def e_step_plan(self, params):
        return np.ascontiguousarray(params["centers"], dtype=np.float64)

    def e_step(self, plan, X_chunk, weights, *_):
        X_chunk = np.ascontiguousarray(X_chunk, dtype=np.float64)
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

    def repair(self, params, stats, rng, data=None):
        """Move the centres of empty clusters onto the samples farthest from
        their own centres (scikit-learn's relocation); the inertia only falls."""
        empty = np.flatnonzero(stats["counts"] <= 0)
        if empty.size == 0:
            return params, 0
        X = np.ascontiguousarray(self.data.X, dtype=np.float64)
        weights = self.data.sample_weight
        _, distances, _, _ = assign_and_accumulate(
            X, np.ascontiguousarray(params["centers"]))
        if weights is not None:
            distances = np.where(weights > 0, distances, -1.0)
        farthest = np.argsort(distances)[::-1][:empty.size]
        centers = np.array(params["centers"], copy=True)
        centers[empty] = X[farthest]
        return {"centers": centers}, int(empty.size)
