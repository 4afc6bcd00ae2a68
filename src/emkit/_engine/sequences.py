"""Sequence data for models with temporal structure (hidden Markov models).

A hidden Markov model's E-step couples the samples of one sequence, but the
statistics of different sequences simply add. :class:`SequenceData` therefore
walks the data in chunks of *whole* sequences: every chunk is one call of the
model's E-step, which runs forward-backward on all the chunk's sequences at
once (the compiled kernel spreads them over the cores). Chunks of a few MiB
keep the per-chunk temporaries (emission log-densities, posteriors, features)
bounded whatever the total length; a single sequence longer than the budget
is a chunk of its own, since a sequence cannot be split.
"""

from __future__ import annotations

import numbers

import numpy as np

from .data import DEFAULT_CHUNK_BYTES

__all__ = ["SequenceData", "check_lengths", "SEQUENCE_CHUNK_BYTES"]

# Larger than the engine's default for independent samples: the kernel's
# parallelism is *within* a chunk (its sequences are spread over the cores),
# and every chunk costs a few fork-join parallel regions, whose start-up is a
# scheduler time slice when the cores are shared with other processes. Fewer,
# larger chunks amortise that; 32 MiB of temporaries still bounds the memory.
SEQUENCE_CHUNK_BYTES = 4 * DEFAULT_CHUNK_BYTES


def check_lengths(lengths, n_samples, name="lengths"):
    """Validate sequence lengths against the number of samples.

    Parameters
    ----------
    lengths : array-like of int of shape (n_sequences,) or None
        Lengths of the concatenated sequences; None means one sequence.
    n_samples : int
        Rows of the observation matrix.

    Returns
    -------
    lengths : ndarray of shape (n_sequences,), int64
        Every entry positive, summing to ``n_samples``.

    Raises
    ------
    ValueError
        With a message that says what is wrong and how to fix it.
    """
    if lengths is None:
        return np.array([n_samples], dtype=np.int64)
    if isinstance(lengths, numbers.Integral):
        lengths = [lengths]
    array = np.asarray(lengths)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of integers (one length per "
                         f"sequence); got an array of shape {array.shape}.")
    if array.size == 0:
        raise ValueError(f"{name} is empty; pass at least one sequence length, or "
                         f"{name}=None for a single sequence.")
    if not np.issubdtype(array.dtype, np.integer):
        if not np.issubdtype(array.dtype, np.number) or not np.all(
                np.isfinite(array) & (array == np.round(array))):
            raise ValueError(f"{name} must contain integers; got {array[:5].tolist()}...")
    array = array.astype(np.int64)
    if (array < 1).any():
        raise ValueError(f"{name} must be positive: every sequence needs at least one "
                         f"sample; got a minimum of {array.min()}.")
    total = int(array.sum())
    if total != n_samples:
        raise ValueError(f"{name} sum to {total} but X has {n_samples} samples; the "
                         f"lengths of the concatenated sequences must add up to "
                         f"X.shape[0].")
    return array


class SequenceData:
    """Concatenated sequences walked in chunks of whole sequences.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated observations of all sequences, concatenated along axis 0.
        Not copied and never modified. Gaussian observations may hold NaN
        (missing entries).
    lengths : ndarray of shape (n_sequences,), int
        Validated lengths (see :func:`check_lengths`).
    row_bytes : int or None
        Bytes of temporaries the model needs per time step; sets the chunk size.
    chunk_bytes : int
        Budget of temporaries per chunk.

    Attributes
    ----------
    total_weight : float
        Number of time steps (the engine's ``tol`` is per step).
    center : ndarray of shape (n_features,), float64
        Mean of the observed entries (NaN ignored), subtracted by Gaussian
        emissions so that sums of squares do not cancel.
    bounds : ndarray of shape (n_chunks + 1,), int
        Chunk ``c`` holds the sequences ``bounds[c]:bounds[c + 1]``.
    covariance : ndarray of shape (n_features, n_features)
        Covariance about ``center``, missing entries counted as the centre.
    sample, sample_lengths, reseed_rows, magnitudes : ndarray
        What an estimator reads rows from (initialisation, feature scales,
        scale checks, re-seeds): all of ``X`` and ``lengths`` here; a bounded
        sample of whole sequences for data on a cluster
        (:class:`~emkit._engine.dask_data.DaskSequenceData`), which shares
        this interface.
    has_missing : bool
        Whether ``X`` holds NaN.
    """

    def __init__(self, X, lengths, *, row_bytes=None, chunk_bytes=SEQUENCE_CHUNK_BYTES,
                 labels=None):
        self.X = X
        # Partial labels: the state of a labelled time step, -1 elsewhere.
        self.labels = labels
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.n_samples = X.shape[0]
        self.n_features = X.shape[1] if X.ndim > 1 else 1
        self.dtype = X.dtype
        self.total_weight = float(self.n_samples)
        self.starts = np.zeros(self.lengths.size + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=self.starts[1:])
        per_row = row_bytes or (X.itemsize * self.n_features * 4)
        rows_per_chunk = max(1, int(chunk_bytes) // max(int(per_row), 1))
        self.bounds = _chunk_bounds(self.starts, rows_per_chunk)
        self._center = None
        self._covariance = None
        self._has_missing = None

    @property
    def n_sequences(self):
        return self.lengths.size

    @property
    def sample(self):
        return self.X

    @property
    def sample_lengths(self):
        return self.lengths

    reseed_rows = sample
    magnitudes = sample

    def sample_data(self):
        """The data to initialise from: all of it."""
        return self

    @property
    def has_missing(self):
        if self._has_missing is None:
            self._has_missing = bool(self.X.dtype.kind == "f" and np.isnan(self.X).any())
        return self._has_missing

    @property
    def covariance(self):
        if self._covariance is None:
            centered = np.asarray(self.X, dtype=np.float64) - self.center
            centered[np.isnan(centered)] = 0.0
            self._covariance = centered.T @ centered / max(self.n_samples, 1)
        return self._covariance

    @property
    def center(self):
        if self._center is None:
            X = np.asarray(self.X, dtype=np.float64)
            if np.isnan(X).any():
                with np.errstate(invalid="ignore"):
                    center = np.nanmean(X, axis=0)
                # A column with no observed entry at all: any centre will do.
                self._center = np.where(np.isfinite(center), center, 0.0)
            else:
                self._center = X.mean(axis=0)
        return self._center

    def chunks(self):
        """Yield ``(X_chunk, lengths_chunk)``: consecutive whole sequences
        (with the chunk's partial labels as a third item when there are any)."""
        for c in range(self.bounds.size - 1):
            first, last = self.bounds[c], self.bounds[c + 1]
            rows = slice(self.starts[first], self.starts[last])
            if self.labels is None:
                yield self.X[rows], self.lengths[first:last]
            else:
                yield self.X[rows], self.lengths[first:last], self.labels[rows]


def _chunk_bounds(starts, rows_per_chunk):
    """Group consecutive sequences into chunks of about ``rows_per_chunk`` rows."""
    n_sequences = starts.size - 1
    bounds = [0]
    chunk_start = 0
    for n in range(1, n_sequences + 1):
        # close the chunk once it reaches the budget (a long sequence alone)
        if starts[n] - starts[chunk_start] >= rows_per_chunk and n < n_sequences:
            bounds.append(n)
            chunk_start = n
    bounds.append(n_sequences)
    return np.asarray(bounds, dtype=np.int64)
