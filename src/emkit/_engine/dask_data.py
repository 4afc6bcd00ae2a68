"""Dask arrays as a data strategy: the E-step runs on the blocks, where they live.

:class:`DaskSampleData` is to a dask array what
:class:`~emkit._engine.data.SampleData` is to an in-memory one, with one
difference the engine sees: it owns the map-reduce. Every E-step
(:meth:`DaskSampleData.map_e_step`) sends the model's E-step function and the
iteration's plan to the workers once (one graph key that every block task
depends on), evaluates it on every row block there (each block walked in
cache-sized chunks by :func:`~emkit._engine.em.chunked_expectation`, as in
memory), and sums the statistics and log-likelihoods in a binary tree on the
workers. Only the summed statistics, a few arrays of size K x width, come back
to the client; the data are never gathered.

One pass over the data at construction measures what a fit needs besides the
E-steps: the total weight, the weighted mean and covariance (combined across
blocks with Chan, Golub & LeVeque's pairwise update, which stays accurate far
from the origin), per-feature magnitudes, the caller's per-block validation,
and a bounded, evenly strided sample of rows for initialisation and feature
scales.

Nothing here imports dask at module import time: ``import emkit`` stays free
of it, and the estimators call :func:`is_dask_array` (a type-module test) first.
"""

from __future__ import annotations

import uuid

import numpy as np

from .data import DEFAULT_CHUNK_BYTES, SampleData
from .em import chunked_expectation

__all__ = ["is_dask_array", "check_dask_samples", "DaskSampleData", "map_rows",
           "weighted_mean", "SAMPLE_ROWS"]

# Rows gathered to the client for initialisation and feature scales: the
# number feature_scales measures spacings on, so that its scales are the
# in-memory ones exactly (same stride) for unweighted data.
SAMPLE_ROWS = 20_000


def is_dask_array(X) -> bool:
    """Whether ``X`` is a dask collection (tested without importing dask)."""
    return type(X).__module__.split(".")[0] == "dask"


def _active_client():
    """The distributed client in use, or None (then dask's own scheduler runs)."""
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:
        return None


def _compute(collection):
    """Compute one dask collection on the active client, else dask's scheduler."""
    client = _active_client()
    if client is not None:
        return client.compute(collection, sync=True)
    import dask

    return dask.compute(collection)[0]


def _token():
    return uuid.uuid4().hex


def check_dask_samples(X, *, name="X", n_features=None, min_samples=1,
                       min_samples_reason=None, float_only=True):
    """Validate a dask array of samples at the estimator's boundary (lazily).

    Shape and dtype are checked here, without computing anything; values
    (NaN, infinity, non-integer counts) are checked block by block in the
    first pass over the data (see :class:`DaskSampleData`).

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
    name : str
        The argument's name, used in every message.
    n_features : int or None
        The number of features the estimator was fitted with, if any.
    min_samples : int
    min_samples_reason : str or None
        Why ``min_samples`` are needed (for the message).
    float_only : bool
        Convert any numeric dtype but float32/float64 to float64 (Gaussian
        data); False keeps integer dtypes (counts).

    Returns
    -------
    X : dask.array.Array of shape (n_samples, n_features)
        Chunked along rows only (one chunk spans all features).

    Raises
    ------
    ValueError
        Naming ``name`` and the fix.
    """
    if not hasattr(X, "to_delayed") or not hasattr(X, "chunks"):
        raise ValueError(f"{name} is a dask collection of type {type(X).__name__}; pass a "
                         f"dask array (e.g. bag.to_dataframe().to_dask_array(lengths=True)).")
    if X.ndim != 2:
        hint = (f" For one feature reshape it: {name}.reshape(-1, 1)." if X.ndim == 1 else "")
        raise ValueError(f"Input {name} must be a 2-D dask array of shape (n_samples, "
                         f"n_features); got {X.ndim} dimension(s).{hint}")
    if any(np.isnan(size) for size in X.shape):
        raise ValueError(f"Input {name} has unknown chunk sizes (shape {X.shape}); call "
                         f"{name}.compute_chunk_sizes() first, or build it with known "
                         f"lengths.")
    n_samples, n_columns = X.shape
    kind = X.dtype.kind
    if kind == "c":
        raise ValueError(f"Input {name} has complex dtype {X.dtype}; emkit fits real data. "
                         f"Pass the real part (or real and imaginary parts as features).")
    if kind not in "biuf":
        raise ValueError(f"Input {name} must be numeric; got dtype {X.dtype}. Convert it, "
                         f"e.g. {name}.astype(float).")
    if n_columns == 0:
        raise ValueError(f"Input {name} has 0 features; at least one is needed.")
    if n_features is not None and n_columns != n_features:
        raise ValueError(f"Input {name} has {n_columns} features, but the model was fitted "
                         f"with {n_features} features.")
    if n_samples < min_samples:
        reason = min_samples_reason or (
            f"n_samples must be >= n_components={min_samples}; pass more samples or lower "
            f"n_components")
        raise ValueError(f"Input {name} has {n_samples} sample(s) but at least {min_samples} "
                         f"are needed ({reason}).")
    if float_only and X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if len(X.chunks[1]) > 1:
        # The E-step needs whole rows: one block spans every feature.
        X = X.rechunk({1: -1})
    return X


def _check_weight_block(weights):
    """First problem of a block of sample weights, or None."""
    if not np.isfinite(weights).all():
        return "sample_weight contains NaN or infinity; weights must be finite."
    if (weights < 0).any():
        return f"sample_weight must be non-negative; got a minimum of {weights.min()}."
    return None


def _block_summary(block, weights, offset, stride, check_block):
    """One block's weight, mean, scatter, magnitudes, strided rows and first error."""
    block = np.asarray(block)
    n, D = block.shape
    summary = {"weight": 0.0, "mean": np.zeros(D), "scatter": np.zeros((D, D)),
               "max_abs": np.zeros(D), "rows": [], "row_weights": [], "error": None}
    if check_block is not None:
        try:
            check_block(block)
        except ValueError as error:
            summary["error"] = str(error)
            return summary
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)
        summary["error"] = _check_weight_block(weights)
        if summary["error"] is not None:
            return summary
    first = (-offset) % stride
    summary["rows"] = [np.array(block[first::stride], copy=True)]
    summary["row_weights"] = [None if weights is None else weights[first::stride].copy()]
    if n == 0:
        return summary
    values = block.astype(np.float64, copy=False)
    total = float(n) if weights is None else float(weights.sum())
    summary["max_abs"] = np.abs(values).max(axis=0)
    if total > 0:
        mean = (values.sum(axis=0) if weights is None else weights @ values) / total
        centered = values - mean
        weighted = centered if weights is None else centered * weights[:, None]
        summary.update(weight=total, mean=mean, scatter=weighted.T @ centered)
    return summary


def _combine_summaries(left, right):
    """Two blocks' summaries as one (Chan et al.'s pairwise mean and scatter)."""
    total = left["weight"] + right["weight"]
    if left["weight"] == 0 or right["weight"] == 0:
        moments = left if right["weight"] == 0 else right
        mean, scatter = moments["mean"], moments["scatter"]
    else:
        delta = right["mean"] - left["mean"]
        mean = left["mean"] + delta * (right["weight"] / total)
        scatter = (left["scatter"] + right["scatter"]
                   + np.outer(delta, delta) * (left["weight"] * right["weight"] / total))
    return {"weight": total, "mean": mean, "scatter": scatter,
            "max_abs": np.maximum(left["max_abs"], right["max_abs"]),
            "rows": left["rows"] + right["rows"],
            "row_weights": left["row_weights"] + right["row_weights"],
            "error": left["error"] or right["error"]}


def _block_e_step(payload, block, weights):
    """The model's E-step over one block, walked in chunks on the worker."""
    model, plan, chunk_size, center = payload
    data = SampleData(np.asarray(block), None if weights is None else np.asarray(weights),
                      chunk_size=chunk_size, center=center)
    # Serial chunks: the scheduler already runs one block per worker thread
    # (and distributed's nannies start workers with one BLAS thread).
    return chunked_expectation(model, plan, data, parallel=False)


def _add_results(*results):
    """Sum of ``(stats, loglik)`` results, in order (new arrays: inputs may be shared)."""
    stats = {name: value.copy() for name, value in results[0][0].items()}
    loglik = results[0][1]
    for other_stats, other_loglik in results[1:]:
        for name in stats:
            stats[name] += other_stats[name]
        loglik += other_loglik
    return stats, loglik


def _combine_all(combine):
    """A combine of two made a combine of many, applied left to right."""
    def combine_many(*items):
        total = items[0]
        for item in items[1:]:
            total = combine(total, item)
        return total
    return combine_many


# Results combined per tree node: few tasks (each costs the scheduler about a
# millisecond and a transfer) and a shallow tree.
_SPLIT_EVERY = 8


def _tree_reduce(items, combine, prefix):
    """Combine delayed ``items`` in a tree of ``_SPLIT_EVERY`` per node, in a
    fixed order (so that the sum, hence the fit, is deterministic);
    ``combine(*items)`` takes any number of them."""
    from dask import delayed

    token = _token()
    level = 0
    while len(items) > 1:
        items = [
            delayed(combine, pure=False)(*items[i:i + _SPLIT_EVERY],
                                         dask_key_name=f"{prefix}-{token}-{level}-{i}")
            if len(items[i:i + _SPLIT_EVERY]) > 1 else items[i]
            for i in range(0, len(items), _SPLIT_EVERY)
        ]
        level += 1
    return items[0]


class DaskSampleData:
    """Independent samples in a dask array, E-steps evaluated on its blocks.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Validated by :func:`check_dask_samples` (chunked along rows only).
    sample_weight : dask.array.Array or ndarray of shape (n_samples,), or None
        Frequency weights, rechunked like the rows of ``X``.
    check_block : callable or None
        Validates one block of ``X`` (an ndarray) in the first pass, raising
        ValueError with a message naming the argument; picklable (it runs on
        the workers). That message is raised here, on the client.
    row_bytes : int or None
        Bytes of E-step temporaries per row, for the chunk size on the workers.
    chunk_size : int or None
        Rows per chunk of a block on the workers (None: from ``row_bytes``).
    sample_rows : int
        About how many rows :attr:`sample` holds.

    Attributes
    ----------
    n_samples, n_features : int
    dtype : numpy dtype
    total_weight : float
    center : ndarray of shape (n_features,)
        Weighted mean of the data (models centre their chunks on it).
    covariance : ndarray of shape (n_features, n_features)
        Weighted covariance of the data about ``center``.
    max_abs : ndarray of shape (n_features,)
        Largest magnitude of every feature.
    sample : ndarray of shape (about sample_rows, n_features)
        Every ``ceil(n_samples / sample_rows)``-th row, gathered to the client
        (initialisation and feature scales need rows, not all of them).
    sample_weight_sample : ndarray or None
        Their weights.
    reseed_rows : ndarray
        The rows a mixture re-seeds a collapsed component on: :attr:`sample`
        (a fancy-indexed gather from the cluster would cost a pass per re-seed).
    n_blocks : int
        Row blocks of ``X``: E-step tasks per iteration.
    """

    def __init__(self, X, sample_weight=None, *, check_block=None, row_bytes=None,
                 chunk_size=None, sample_rows=SAMPLE_ROWS):
        import dask.array as da
        from dask import delayed

        self.X = X
        self.n_samples, self.n_features = (int(size) for size in X.shape)
        self.dtype = X.dtype
        if sample_weight is not None:
            sample_weight = self._dask_weights(sample_weight, da)
        self.sample_weight = sample_weight
        if chunk_size is None:
            per_row = row_bytes or (X.dtype.itemsize * self.n_features * 4)
            chunk_size = max(256, DEFAULT_CHUNK_BYTES // max(per_row, 1))
        self.chunk_size = int(chunk_size)
        # Built once: to_delayed optimises the array's graph, per call.
        self._blocks = list(X.to_delayed().ravel())
        self._weight_blocks = ([None] * len(self._blocks) if sample_weight is None
                               else list(sample_weight.to_delayed().ravel()))
        self.n_blocks = len(self._blocks)
        stride = max(1, -(-self.n_samples // sample_rows))
        offsets = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).astype(int)
        token = _token()
        summaries = [
            delayed(_block_summary, pure=False)(block, weights, int(offset), stride, check_block,
                                                dask_key_name=f"emkit-summary-{token}-{i}")
            for i, (block, weights, offset) in enumerate(
                zip(self._blocks, self._weight_blocks, offsets))
        ]
        summary = _compute(_tree_reduce(summaries, _combine_all(_combine_summaries),
                                             "emkit-summary-sum"))
        if summary["error"] is not None:
            raise ValueError(summary["error"])
        if summary["weight"] <= 0:
            raise ValueError("sample_weight sums to zero; at least one sample needs a positive "
                             "weight.")
        self.total_weight = float(summary["weight"])
        self.center = summary["mean"]
        self.covariance = summary["scatter"] / self.total_weight
        self.max_abs = summary["max_abs"]
        self.sample = np.concatenate(summary["rows"])
        self.sample_weight_sample = (None if sample_weight is None
                                     else np.concatenate(summary["row_weights"]))
        self.reseed_rows = self.sample

    def _dask_weights(self, sample_weight, da):
        """Weights as a float64 dask array chunked like the rows of X."""
        row_chunks = (self.X.chunks[0],)
        if is_dask_array(sample_weight):
            if sample_weight.ndim != 1 or sample_weight.shape[0] != self.n_samples:
                raise ValueError(f"sample_weight must have shape ({self.n_samples},), one "
                                 f"weight per sample; got shape {sample_weight.shape}.")
            return sample_weight.astype(np.float64).rechunk(row_chunks)
        from .._validation import check_sample_weight

        weights = check_sample_weight(sample_weight, self.n_samples)
        return da.from_array(weights, chunks=row_chunks)

    def map_e_step(self, model, plan):
        """The E-step at ``plan`` on every block, summed on the workers.

        Parameters
        ----------
        model : EMModel
            Must pickle small (a mixture drops its data reference when pickled).
        plan : object
            The model's ``e_step_plan`` of this iteration.

        Returns
        -------
        stats : dict of ndarray
            Summed sufficient statistics.
        loglik : float
        """
        from dask import delayed

        token = _token()
        # One key holds the model and plan: sent once per iteration, and each
        # worker fetches it once, whatever the number of blocks.
        payload = delayed((model, plan, self.chunk_size, self.center), pure=False,
                          traverse=False, name=f"emkit-plan-{token}")
        results = [
            delayed(_block_e_step, pure=False)(payload, block, weights,
                                               dask_key_name=f"emkit-e-step-{token}-{i}")
            for i, (block, weights) in enumerate(zip(self._blocks, self._weight_blocks))
        ]
        stats, loglik = _compute(_tree_reduce(results, _add_results, "emkit-e-step-sum"))
        return stats, float(loglik)


def map_rows(function, X, *, n_columns=None, dtype=np.float64):
    """``function`` applied to every row block of a dask array, lazily.

    Parameters
    ----------
    function : callable
        ``ndarray (n, D) -> ndarray (n,)`` or ``(n, n_columns)``; picklable
        (a fitted estimator's bound method is).
    X : dask.array.Array of shape (n_samples, n_features)
        Chunked along rows only.
    n_columns : int or None
        Columns of the result; None for one value per row.
    dtype : numpy dtype

    Returns
    -------
    dask.array.Array of shape (n_samples,) or (n_samples, n_columns)
    """
    name = f"emkit-{getattr(function, '__name__', 'rows')}-{_token()}"
    if n_columns is None:
        return X.map_blocks(function, drop_axis=1, dtype=dtype, name=name,
                            meta=np.empty((0,), dtype=dtype))
    return X.map_blocks(function, chunks=(X.chunks[0], (n_columns,)), dtype=dtype, name=name,
                        meta=np.empty((0, 0), dtype=dtype))


def weighted_mean(values, sample_weight=None):
    """Mean of a dask array of per-row values, weighted by frequency weights.

    Parameters
    ----------
    values : dask.array.Array of shape (n_samples,)
    sample_weight : dask.array.Array or ndarray of shape (n_samples,), or None

    Returns
    -------
    float
    """
    if sample_weight is None:
        return float(_compute(values.mean()))
    import dask.array as da

    if not is_dask_array(sample_weight):
        from .._validation import check_sample_weight

        sample_weight = da.from_array(check_sample_weight(sample_weight, values.shape[0]),
                                      chunks=values.chunks)
    elif sample_weight.shape != values.shape:
        raise ValueError(f"sample_weight must have shape {values.shape}, one weight per "
                         f"sample; got shape {sample_weight.shape}.")
    weights = sample_weight.astype(np.float64).rechunk(values.chunks)
    total, weight = _compute(da.stack([(weights * values).sum(), weights.sum()]))
    return float(total / weight)
