"""Data strategies: how the engine walks over the data in one E-step.

The engine never touches samples directly. It asks a data object for its
chunks and hands each chunk, as a tuple of arguments, to the model's E-step;
the statistics the E-step returns add up across chunks. Independent samples,
groups of sequences (HMMs), groups of documents (LDA), mini-batches and Dask
blocks are all a "data object with chunks" to the engine.

The engine, not the model, holds the data object: it hands it to whatever
of the model reads samples (see :class:`emkit._engine.em.EMModel`), so the
model a Dask cluster ships to its workers carries no samples.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SampleData", "DEFAULT_CHUNK_BYTES", "combine_moments"]

# Chunks of a few MiB keep the per-chunk temporaries (features, log-densities,
# responsibilities) in cache-friendly, bounded memory whatever n_samples is.
DEFAULT_CHUNK_BYTES = 8 * 2**20


class SampleData:
    """Independent samples with optional frequency weights, walked in chunks.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated float32 or float64 data. Not copied and never modified.
    sample_weight : ndarray of shape (n_samples,) or None
        Frequency weights; ``None`` means all ones.
    chunk_size : int or None
        Rows per chunk; ``None`` picks a size from :data:`DEFAULT_CHUNK_BYTES`
        and ``row_bytes`` (the model's working memory per row).
    row_bytes : int or None
        Bytes of temporaries the model needs per row (used for the chunk size).
    center : ndarray of shape (n_features,) or None
        The centre when the caller knows it already (a block of a larger data
        set is centred where the whole set is); None measures it here.
    labels : ndarray of int of shape (n_samples,) or None
        Partial labels (semi-supervised EM): the component of a labelled
        sample, -1 for an unlabelled one. When given, every chunk carries its
        labels as a third argument and the model fixes those samples'
        responsibilities.

    Attributes
    ----------
    center : ndarray of shape (n_features,), float64
        Weighted mean of the data. Models subtract it chunk by chunk so that
        sums of squares do not cancel catastrophically when the data sit far
        from the origin, without keeping a centred copy of the data.
    """

    def __init__(self, X, sample_weight=None, *, chunk_size=None, row_bytes=None, center=None,
                 labels=None):
        self.X = X
        self.labels = labels
        self.sample_weight = sample_weight
        self.n_samples, self.n_features = X.shape
        self.dtype = X.dtype
        if center is not None:
            self.total_weight = float(self.n_samples if sample_weight is None
                                      else np.sum(sample_weight, dtype=np.float64))
            self.center = np.asarray(center, dtype=np.float64)
        elif sample_weight is None:
            self.total_weight = float(self.n_samples)
            self.center = X.mean(axis=0, dtype=np.float64)
        else:
            self.total_weight = float(np.sum(sample_weight, dtype=np.float64))
            self.center = (sample_weight @ X.astype(np.float64, copy=False)) / self.total_weight
        if chunk_size is None:
            per_row = row_bytes or (X.itemsize * self.n_features * 4)
            chunk_size = max(256, DEFAULT_CHUNK_BYTES // max(per_row, 1))
        self.chunk_size = int(chunk_size)
        self.n_chunks = -(-self.n_samples // self.chunk_size)

    def chunks(self):
        """Yield ``(X_chunk, weight_chunk_or_None)`` views in order, with the
        chunk's ``labels`` as a third item when the data have partial labels."""
        for start in range(0, self.n_samples, self.chunk_size):
            stop = start + self.chunk_size
            weights = None if self.sample_weight is None else self.sample_weight[start:stop]
            if self.labels is None:
                yield self.X[start:stop], weights
            else:
                yield self.X[start:stop], weights, self.labels[start:stop]

    def centered_chunks(self):
        """Yield ``(X_chunk - center, weight_chunk)`` in the data's dtype."""
        center = self.center.astype(self.dtype)
        for X_chunk, weights, *_ in self.chunks():
            yield X_chunk - center, weights

    def weights_or_ones(self):
        """Frequency weights as a float64 array (ones when unweighted)."""
        if self.sample_weight is None:
            return np.ones(self.n_samples)
        return np.asarray(self.sample_weight, dtype=np.float64)



def combine_moments(left, right):
    """Weighted moments of two sets of samples as those of their union.

    Chan, Golub & LeVeque's pairwise update: no sum of squares about the
    origin, so it stays exact for data far from it. Used to merge Dask
    blocks' summaries and the batches a ``partial_fit`` accumulates.

    Parameters
    ----------
    left, right : tuple ``(weight, mean, scatter)``
        Total weight (float), weighted mean (D,) and weighted scatter about
        that mean (D, D) of each set.

    Returns
    -------
    tuple ``(weight, mean, scatter)``
        Of the union.

    Examples
    --------
    >>> a, b = np.array([[0.0], [2.0]]), np.array([[4.0]])
    >>> moments = lambda x: (len(x), x.mean(axis=0), (x - x.mean(axis=0)).T @ (x - x.mean(axis=0)))
    >>> weight, mean, scatter = combine_moments(moments(a), moments(b))
    >>> weight, mean, scatter
    (3, array([2.]), array([[8.]]))
    """
    left_weight, left_mean, left_scatter = left
    right_weight, right_mean, right_scatter = right
    total = left_weight + right_weight
    if left_weight == 0 or right_weight == 0:
        _, mean, scatter = left if right_weight == 0 else right
        return total, mean, scatter
    delta = right_mean - left_mean
    mean = left_mean + delta * (right_weight / total)
    scatter = (left_scatter + right_scatter
               + np.outer(delta, delta) * (left_weight * right_weight / total))
    return total, mean, scatter
