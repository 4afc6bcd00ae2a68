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

:class:`DaskSequenceData` does the same for the concatenated sequences of a
hidden Markov model: its blocks hold whole sequences (rechunked along their
boundaries), forward-backward runs on them where they live, and its sample is
made of whole sequences. Both share :class:`DaskBlockData`, which owns the
summary pass and the map-reduce; what differs is how a worker turns a block
into an in-memory data object. :func:`stream_blocks` serves ``partial_fit``
(one step per block, the blocks computed one after another).

Nothing here imports dask at module import time: ``import emkit`` stays free
of it, and the estimators call :func:`is_dask_array` (a type-module test) first.
"""

from __future__ import annotations

import uuid
from functools import partial

import numpy as np

from .data import DEFAULT_CHUNK_BYTES, SampleData, combine_moments
from .em import chunked_expectation
from .sequences import SequenceData

__all__ = ["is_dask_array", "check_dask_samples", "DaskBlockData", "DaskSampleData",
           "DaskSequenceData", "sequence_block_lengths", "sequence_blocks", "dask_row_weights",
           "stream_blocks", "map_blocks_of", "sum_blocks_of", "map_rows", "weighted_mean",
           "weighted_total", "check_finite_block", "append_column", "rows_like", "stream_row_blocks",
           "SAMPLE_ROWS"]

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


def append_column(X, column, *, name):
    """``[X, column]``: a dask array of samples with one more feature, lazily.

    What regression models fit: the joint rows ``[X, y]`` of inputs and
    responses, blocked like the rows of ``X``. Shapes are checked here; the
    values of a dask ``column`` are checked block by block with ``X``'s
    (an in-memory one is checked here, whole).

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Validated by :func:`check_dask_samples`.
    column : dask.array.Array or array-like of shape (n_samples,) or (n_samples, 1)
    name : str
        The column's argument name, used in every message.

    Returns
    -------
    dask.array.Array of shape (n_samples, n_features + 1), float64
        Chunked along rows only, as ``X``.
    """
    import dask.array as da

    if is_dask_array(column):
        if column.ndim == 2 and column.shape[1] == 1:
            column = column[:, 0]
        if column.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be numeric; got dtype {column.dtype}. Convert it, "
                             f"e.g. {name}.astype(float).")
        column = column.astype(np.float64)
    else:
        from .._validation import check_target

        column = check_target(column, int(X.shape[0]), name=name)
    column = rows_like(column, X, name)
    joint = da.concatenate([X.astype(np.float64), column[:, None]], axis=1)
    return joint.rechunk({1: -1})


def check_finite_block(block):
    """Validate one block of a dask X as an in-memory X is (on the workers):
    the same named ValueError for NaN or infinity (see
    :func:`~emkit._validation.validate_samples`)."""
    from .._validation import validate_samples

    validate_samples(None, block, reset=False)


def _check_weight_block(weights):
    """First problem of a block of sample weights, or None."""
    if not np.isfinite(weights).all():
        return "sample_weight contains NaN or infinity; weights must be finite."
    if (weights < 0).any():
        return f"sample_weight must be non-negative; got a minimum of {weights.min()}."
    return None


def _located(message, index, first_row, n_rows):
    """A block's error message, saying which rows of the whole array it is about
    (the block's own checks count its rows from zero)."""
    return (f"{message} (In block {index} of the dask array: its rows {first_row} to "
            f"{first_row + n_rows - 1}; row numbers above count from row {first_row}.)")


def _block_summary(block, weights, rows, check_block, index=0, first_row=0):
    """One block's weight, mean, scatter, magnitudes, sampled rows and first error.

    ``rows`` is the slice of the block's rows that goes into the client's
    sample (strided rows of independent samples, leading whole sequences of
    a block of sequences); ``index`` and ``first_row`` place the block in
    the whole array (for the error message)."""
    block = np.asarray(block)
    n, D = block.shape
    summary = {"weight": 0.0, "mean": np.zeros(D), "scatter": np.zeros((D, D)),
               "max_abs": np.zeros(D), "rows": [], "row_weights": [], "error": None}
    if check_block is not None:
        try:
            check_block(block)
        except ValueError as error:
            summary["error"] = _located(error, index, first_row, n)
            return summary
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)
        summary["error"] = _check_weight_block(weights)
        if summary["error"] is not None:
            return summary
    summary["rows"] = [np.array(block[rows], copy=True)]
    summary["row_weights"] = [None if weights is None else weights[rows].copy()]
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
    total, mean, scatter = combine_moments(
        *((side["weight"], side["mean"], side["scatter"]) for side in (left, right)))
    return {"weight": total, "mean": mean, "scatter": scatter,
            "max_abs": np.maximum(left["max_abs"], right["max_abs"]),
            "rows": left["rows"] + right["rows"],
            "row_weights": left["row_weights"] + right["row_weights"],
            "error": left["error"] or right["error"]}


def _block_e_step(payload, *block):
    """The model's E-step over one block, walked in chunks on the worker.

    ``payload`` is ``(model, plan, block_data)``: ``block_data(*block)``
    builds the in-memory data object of the block (rows, or whole sequences).
    """
    model, plan, block_data = payload
    # Serial chunks: the scheduler already runs one block per worker thread
    # (and distributed's nannies start workers with one BLAS thread).
    return chunked_expectation(model, plan, block_data(*block), parallel=False)


def _sample_block(block, weights, *, chunk_size, center):
    """A block of independent samples as SampleData, centred where all the data are."""
    return SampleData(np.asarray(block), None if weights is None else np.asarray(weights),
                      chunk_size=chunk_size, center=center)


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


def reduce_in_tree(items, make_node, fan_in=_SPLIT_EVERY):
    """Reduce ``items`` in a tree of ``fan_in`` per node, in a fixed order (so
    that a sum, hence a fit, is deterministic).

    Parameters
    ----------
    items : list
        Leaves: dask delayed objects or distributed futures.
    make_node : callable ``(level, start, group) -> item``
        Builds the node combining ``group`` (at least two items), the ones
        from ``start`` at tree ``level`` (for unique task keys).
    fan_in : int

    Returns
    -------
    The root item (the only leaf when there is one).

    Examples
    --------
    >>> reduce_in_tree(list(range(10)), lambda level, start, group: sum(group), fan_in=4)
    45
    """
    level = 0
    while len(items) > 1:
        items = [items[i] if len(items[i:i + fan_in]) == 1
                 else make_node(level, i, items[i:i + fan_in])
                 for i in range(0, len(items), fan_in)]
        level += 1
    return items[0]


def _tree_reduce(items, combine, prefix):
    """Combine delayed ``items`` with :func:`reduce_in_tree`;
    ``combine(*items)`` takes any number of them."""
    from dask import delayed

    token = _token()
    return reduce_in_tree(items, lambda level, start, group: delayed(combine, pure=False)(
        *group, dask_key_name=f"{prefix}-{token}-{level}-{start}"))


class DaskBlockData:
    """What every dask data strategy shares: the summary pass and the map-reduce.

    A subclass lists its blocks as tuples of task arguments (a block of rows
    and its weights, a block of whole sequences and their lengths) and says
    how a worker turns one such tuple into an in-memory data object
    (``block_data``, picklable); the E-step of every iteration then runs
    :func:`~emkit._engine.em.chunked_expectation` on each block where it
    lives and tree-sums the results on the workers.

    Attributes
    ----------
    n_blocks : int
        Blocks of the data: E-step tasks per iteration.
    """

    def _set_blocks(self, block_args, block_data):
        self._block_args = [tuple(args) for args in block_args]
        self._block_data = block_data
        self.n_blocks = len(self._block_args)

    def _summarise(self, blocks, weights, row_slices, check_block, block_rows):
        """One pass over ``blocks`` (and their ``weights``, None entries for
        none): the combined summary; a block's validation error is raised
        here, on the client. ``row_slices[i]`` selects the rows of block
        ``i`` that go into the sample; ``block_rows[i]`` is its row count."""
        from dask import delayed

        token = _token()
        first_rows = np.concatenate([[0], np.cumsum(block_rows)[:-1]]).astype(int).tolist()
        summaries = [
            delayed(_block_summary, pure=False)(block, block_weights, rows, check_block, i,
                                                first_row,
                                                dask_key_name=f"emkit-summary-{token}-{i}")
            for i, (block, block_weights, rows, first_row)
            in enumerate(zip(blocks, weights, row_slices, first_rows))
        ]
        summary = _compute(_tree_reduce(summaries, _combine_all(_combine_summaries),
                                        "emkit-summary-sum"))
        if summary["error"] is not None:
            raise ValueError(summary["error"])
        return summary

    def map_e_step(self, model, plan):
        """The E-step at ``plan`` on every block, summed on the workers.

        Parameters
        ----------
        model : EMModel
            Must pickle small (models hold no data; see
            :class:`emkit._engine.em.EMModel`).
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
        payload = delayed((model, plan, self._block_data), pure=False,
                          traverse=False, name=f"emkit-plan-{token}")
        results = [
            delayed(_block_e_step, pure=False)(payload, *args,
                                               dask_key_name=f"emkit-e-step-{token}-{i}")
            for i, args in enumerate(self._block_args)
        ]
        stats, loglik = _compute(_tree_reduce(results, _add_results, "emkit-e-step-sum"))
        return stats, float(loglik)


    def reduce_chunks(self, function, combine):
        """``function(*chunk)`` on every chunk of every block, combined on the workers.

        What a model needs from the data besides its E-step (a k-means
        re-seed's farthest samples, say), without gathering them: every block
        combines its chunks' results where it lives, then the blocks' results
        are combined in a tree there, and only the final one comes back.

        Parameters
        ----------
        function : callable
            ``function(X_chunk, weight_chunk_or_None) -> result``; picklable.
        combine : callable
            ``combine(a, b) -> result``, associative; picklable.

        Returns
        -------
        The combined result (None when the data have no chunk).
        """
        from dask import delayed

        token = _token()
        payload = delayed((function, combine, self._block_data), pure=False, traverse=False,
                          name=f"emkit-reduce-plan-{token}")
        results = [
            delayed(_block_reduce, pure=False)(payload, *args,
                                               dask_key_name=f"emkit-reduce-{token}-{i}")
            for i, args in enumerate(self._block_args)
        ]
        return _compute(_tree_reduce(results, partial(_combine_present, combine),
                                     "emkit-reduce-sum"))


def _combine_present(combine, *results):
    """``combine`` over the results that are not None (empty blocks give None)."""
    present = [result for result in results if result is not None]
    if not present:
        return None
    total = present[0]
    for result in present[1:]:
        total = combine(total, result)
    return total


def _block_reduce(payload, *block):
    """``function`` over one block's chunks, combined (on the worker)."""
    function, combine, block_data = payload
    return _combine_present(combine, *(function(*chunk)
                                       for chunk in block_data(*block).chunks()))


class DaskSampleData(DaskBlockData):
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
        self.X = X
        self.n_samples, self.n_features = (int(size) for size in X.shape)
        self.dtype = X.dtype
        if sample_weight is not None:
            sample_weight = dask_row_weights(sample_weight, X)
        self.sample_weight = sample_weight
        if chunk_size is None:
            per_row = row_bytes or (X.dtype.itemsize * self.n_features * 4)
            chunk_size = max(256, DEFAULT_CHUNK_BYTES // max(per_row, 1))
        self.chunk_size = int(chunk_size)
        # Built once: to_delayed optimises the array's graph, per call.
        blocks = list(X.to_delayed().ravel())
        weight_blocks = ([None] * len(blocks) if sample_weight is None
                         else list(sample_weight.to_delayed().ravel()))
        stride = max(1, -(-self.n_samples // sample_rows))
        offsets = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).astype(int)
        strided = [slice(int((-offset) % stride), None, stride) for offset in offsets]
        summary = self._summarise(blocks, weight_blocks, strided, check_block, X.chunks[0])
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
        # Every block is centred where all the data are (measured above).
        self._set_blocks(zip(blocks, weight_blocks),
                         partial(_sample_block, chunk_size=self.chunk_size, center=self.center))



def dask_row_weights(sample_weight, X):
    """Frequency weights as a float64 dask array chunked like the rows of ``X``.

    Parameters
    ----------
    sample_weight : dask.array.Array or array-like of shape (n_samples,)
    X : dask.array.Array of shape (n_samples, ...)
        Only its rows (count and blocks) are used.

    Returns
    -------
    dask.array.Array of shape (n_samples,)
    """
    if is_dask_array(sample_weight):
        return rows_like(sample_weight, X, "sample_weight", noun="weight").astype(np.float64)
    from .._validation import check_sample_weight

    return rows_like(check_sample_weight(sample_weight, int(X.shape[0])), X, "sample_weight")


def rows_like(array, X, name, noun="value"):
    """A per-sample array as a dask array blocked like the rows of ``X``.

    Parameters
    ----------
    array : dask.array.Array or array-like of shape (n_samples,)
        Weights, responses: one entry per row of ``X`` (rechunked, or, in
        memory, split into ``X``'s row blocks; the dtype is kept).
    X : dask.array.Array of shape (n_samples, n_features)
    name : str
        The argument's name, for the message when the shape is wrong.
    noun : str
        What one entry is, for that message.

    Returns
    -------
    dask.array.Array of shape (n_samples,)
    """
    import dask.array as da

    n_samples = int(X.shape[0])
    if not is_dask_array(array):
        array = np.asarray(array)
    if array.ndim != 1 or array.shape[0] != n_samples:
        raise ValueError(f"{name} must have shape ({n_samples},), one {noun} per sample; got "
                         f"shape {array.shape}.")
    if is_dask_array(array):
        return array.rechunk((X.chunks[0],))
    return da.from_array(array, chunks=(X.chunks[0],))


def stream_blocks(items):
    """Compute delayed ``items`` one after another, in order, yielding each.

    The next item is computed (on the cluster, when a client is active)
    while the caller works on the current one, so the client holds at most
    two of them: a dask array streamed block by block (``partial_fit``)
    never sits on the client whole.

    Parameters
    ----------
    items : iterable of dask collections (or tuples of them)

    Yields
    ------
    The computed items.
    """
    client = _active_client()
    items = iter(items)
    if client is None:
        import dask

        for item in items:
            yield dask.compute(item)[0]
        return

    def submit(item):
        # a tuple (a block and its weights) as one future per part
        return None if item is None else [client.compute(part) for part in
                                          (item if isinstance(item, tuple) else (item,))]

    def result(futures, item):
        values = [future.result() for future in futures]
        return tuple(values) if isinstance(item, tuple) else values[0]

    current = next(items, None)
    futures = submit(current)
    while futures is not None:
        following = next(items, None)
        next_futures = submit(following)
        value = result(futures, current)
        futures = None  # release the block on the cluster
        yield value
        current, futures = following, next_futures


def stream_row_blocks(X, *row_arrays, names=None):
    """The row blocks of ``X`` with the matching rows of per-row arrays, in order.

    What ``partial_fit`` on a dask ``X`` walks: one block after another
    (:func:`stream_blocks`: the next computed while the current one is used),
    each with its rows of the sample weights or responses.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Chunked along rows only.
    *row_arrays : dask.array.Array, array-like of shape (n_samples,), or None
        Rechunked (or, in memory, split) like the rows of ``X``; None stays
        None in every yielded tuple.
    names : sequence of str or None
        The arguments' names, for the message when a length is wrong.

    Yields
    ------
    tuple
        ``(X_block, *row_array_blocks)`` as in-memory arrays.
    """
    names = names or [f"array {i}" for i in range(len(row_arrays))]
    present, parts = [], [X.to_delayed().ravel()]
    for index, (array, name) in enumerate(zip(row_arrays, names)):
        if array is None:
            continue
        present.append(index)
        parts.append(rows_like(array, X, name).to_delayed().ravel())
    for computed in stream_blocks(zip(*parts)):
        blocks = [None] * len(row_arrays)
        for index, block in zip(present, computed[1:]):
            blocks[index] = block
        yield (computed[0], *blocks)


def map_blocks_of(function, X, block_args, *, rows, n_columns=None, dtype=np.float64):
    """``function(block, *args)`` on every row block of ``X``, as a lazy dask array.

    Parameters
    ----------
    function : callable
        Picklable (a fitted estimator's bound method is); returns an ndarray
        of ``rows[i]`` values (or rows of ``n_columns``) for block ``i``.
    X : dask.array.Array of shape (n_samples, n_features)
    block_args : list of tuple
        Extra arguments of every block (e.g. its sequence lengths).
    rows : sequence of int
        Length of every block's result.
    n_columns : int or None
    dtype : numpy dtype

    Returns
    -------
    dask.array.Array of shape (sum(rows),) or (sum(rows), n_columns)
    """
    import dask.array as da
    from dask import delayed

    name = getattr(function, "__name__", "blocks")
    token = _token()
    parts = [
        da.from_delayed(delayed(function, pure=False)(block, *args,
                                                      dask_key_name=f"emkit-{name}-{token}-{i}"),
                        shape=(int(n),) if n_columns is None else (int(n), n_columns),
                        dtype=dtype)
        for i, (block, args, n) in enumerate(zip(X.to_delayed().ravel(), block_args, rows))
    ]
    return da.concatenate(parts) if len(parts) > 1 else parts[0]


def sum_blocks_of(function, X, block_args):
    """Sum of ``function(block, *args)`` (floats) over the row blocks of ``X``,
    computed on the workers and tree-summed there."""
    from dask import delayed

    token = _token()
    name = getattr(function, "__name__", "blocks")
    values = [delayed(function, pure=False)(block, *args,
                                            dask_key_name=f"emkit-{name}-{token}-{i}")
              for i, (block, args) in enumerate(zip(X.to_delayed().ravel(), block_args))]
    return float(_compute(_tree_reduce(values, _sum_all, f"emkit-{name}-sum")))


def _sum_all(*values):
    return sum(values[1:], values[0])


def sequence_block_lengths(row_chunks, lengths, name="X"):
    """Row blocks that hold whole sequences: the blocks' row counts and lengths.

    The blocks of ``X`` are kept when every block boundary is a sequence
    boundary; otherwise consecutive sequences are grouped into blocks of at
    most the largest block of ``X`` (a sequence is never split: its
    forward-backward pass couples all its steps).

    Parameters
    ----------
    row_chunks : tuple of int
        Rows per block of ``X`` (``X.chunks[0]``).
    lengths : ndarray of shape (n_sequences,), int
        Validated sequence lengths, summing to ``sum(row_chunks)``.
    name : str
        The array's name, for the message.

    Returns
    -------
    block_rows : tuple of int
        Rows per block (``X.rechunk({0: block_rows})`` when they differ from
        ``row_chunks``).
    block_lengths : list of ndarray
        The lengths of every block's sequences.

    Raises
    ------
    ValueError
        When a sequence is longer than the largest block of ``X``, naming the
        rechunk that fixes it.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    ends = np.cumsum(lengths)
    target = int(max(row_chunks))
    longest = int(lengths.max())
    if longest > target:
        index = int(np.argmax(lengths))
        raise ValueError(
            f"Sequence {index} of {name} has {longest} steps, more than the largest block of "
            f"{name} ({target} rows); a sequence is never split across blocks (its "
            f"forward-backward pass couples all its steps). Rechunk {name} into blocks of at "
            f"least {longest} rows, e.g. {name}.rechunk({{0: {longest}}}).")
    bounds = np.cumsum(row_chunks)
    if all(size > 0 for size in row_chunks) and np.isin(bounds, ends).all():
        cuts = np.searchsorted(ends, bounds, side="right")
    else:
        starts = ends - lengths
        cuts, first = [], 0
        while first < lengths.size:
            # the sequences starting at `first` that end within one block
            last = max(int(np.searchsorted(ends, starts[first] + target, side="right")),
                       first + 1)
            cuts.append(last)
            first = last
        cuts = np.asarray(cuts)
    cuts = np.concatenate([[0], cuts]).astype(np.int64)
    block_lengths = [lengths[cuts[b]:cuts[b + 1]] for b in range(cuts.size - 1)]
    block_rows = tuple(int(block.sum()) for block in block_lengths)
    return block_rows, block_lengths


def sequence_blocks(X, lengths, name="X"):
    """``X`` rechunked so that every block holds whole sequences.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
    lengths : ndarray of shape (n_sequences,), int
        Validated lengths.

    Returns
    -------
    X : dask.array.Array
        Unchanged when its blocks already end at sequence boundaries.
    block_lengths : list of ndarray
        The lengths of every block's sequences.
    """
    block_rows, block_lengths = sequence_block_lengths(X.chunks[0], lengths, name)
    if block_rows != tuple(X.chunks[0]):
        X = X.rechunk({0: block_rows})
    return X, block_lengths


def _sequence_block(block, lengths, *, row_bytes):
    """A block of whole sequences as SequenceData (on a worker)."""
    return SequenceData(np.asarray(block), lengths, row_bytes=row_bytes)


def _leading_sequences(lengths, quota):
    """Lengths of a block's leading whole sequences within ``quota`` rows
    (a prefix of the first sequence when it alone is longer: a prefix of a
    sequence is a sequence)."""
    ends = np.cumsum(lengths)
    n_whole = int(np.searchsorted(ends, quota, side="right"))
    if n_whole == 0:
        return np.array([min(int(lengths[0]), quota)], dtype=np.int64)
    return np.asarray(lengths[:n_whole], dtype=np.int64)


class DaskSequenceData(DaskBlockData):
    """Concatenated sequences in a dask array, forward-backward on its blocks.

    What :class:`~emkit._engine.sequences.SequenceData` is to in-memory
    sequences: the E-step of every iteration runs on the blocks where they
    live (each block walked in chunks of whole sequences), and one pass at
    construction measures the rest and gathers a sample of whole sequences.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Validated by :func:`check_dask_samples`; rechunked along sequence
        boundaries (see :func:`sequence_block_lengths`).
    lengths : ndarray of shape (n_sequences,), int
        Validated lengths (numpy: they fix the blocks).
    check_block : callable or None
        Validates one block (an ndarray) on the workers, as for
        :class:`DaskSampleData`.
    row_bytes : int or None
        Bytes of E-step temporaries per time step (chunk size on the workers).
    sample_rows : int
        About how many rows :attr:`sample` holds.

    Attributes
    ----------
    n_samples, n_features, n_sequences : int
    dtype : numpy dtype
    total_weight : float
        Number of time steps.
    center, covariance, max_abs : ndarray
        As :class:`DaskSampleData`'s (unweighted).
    sample : ndarray of shape (about sample_rows, n_features)
        Leading whole sequences of evenly spaced blocks (all the data when
        they hold at most ``sample_rows`` rows), gathered to the client for
        initialisation, feature scales and re-seeds.
    sample_lengths : ndarray
        Their lengths.
    reseed_rows : ndarray
        :attr:`sample`.
    block_lengths : list of ndarray
        The sequence lengths of every block.
    """

    def __init__(self, X, lengths, *, check_block=None, row_bytes=None,
                 sample_rows=SAMPLE_ROWS):
        self.lengths = np.asarray(lengths, dtype=np.int64)
        X, self.block_lengths = sequence_blocks(X, self.lengths)
        self.X = X
        self.n_samples, self.n_features = (int(size) for size in X.shape)
        self.dtype = X.dtype
        self.total_weight = float(self.n_samples)
        self.row_bytes = row_bytes
        blocks = list(X.to_delayed().ravel())
        self._set_blocks(zip(blocks, self.block_lengths),
                         partial(_sequence_block, row_bytes=row_bytes))
        n_pick = len(blocks) if self.n_samples <= sample_rows else max(
            1, min(len(blocks), sample_rows * len(blocks) // self.n_samples))
        picked = set(np.linspace(0, len(blocks) - 1, n_pick).round().astype(int).tolist())
        quota = max(1, sample_rows // n_pick)
        sample_lengths, row_slices = [], []
        for b, block_lengths in enumerate(self.block_lengths):
            if b in picked:
                taken = _leading_sequences(block_lengths, quota)
                sample_lengths.append(taken)
                row_slices.append(slice(0, int(taken.sum())))
            else:
                row_slices.append(slice(0, 0))
        summary = self._summarise(blocks, [None] * len(blocks), row_slices, check_block,
                                  X.chunks[0])
        self.center = summary["mean"]
        self.covariance = summary["scatter"] / self.total_weight
        self.max_abs = summary["max_abs"]
        self.sample = np.concatenate(summary["rows"])
        self.sample_lengths = np.concatenate(sample_lengths)
        self.reseed_rows = self.sample

    @property
    def n_sequences(self):
        return self.lengths.size

    @property
    def magnitudes(self):
        """Rows holding the largest magnitude of every feature (for scale checks)."""
        return self.max_abs[None, :]

    has_missing = False

    def sample_data(self):
        """The sample as in-memory SequenceData (for initialisation)."""
        return SequenceData(self.sample, self.sample_lengths, row_bytes=self.row_bytes)


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
    function = _LocatedRows(function)
    if n_columns is None:
        return X.map_blocks(function, drop_axis=1, dtype=dtype, name=name,
                            meta=np.empty((0,), dtype=dtype))
    return X.map_blocks(function, chunks=(X.chunks[0], (n_columns,)), dtype=dtype, name=name,
                        meta=np.empty((0, 0), dtype=dtype))


class _LocatedRows:
    """``function`` of one row block whose ValueError (a NaN in the block, say)
    says where the block sits in the whole array."""

    def __init__(self, function):
        self.function = function

    def __call__(self, block, block_info=None):
        try:
            return self.function(block)
        except ValueError as error:
            if not block_info:
                raise
            info = block_info[0]
            start, stop = info["array-location"][0]
            raise ValueError(_located(error, info["chunk-location"][0], start,
                                      stop - start)) from error


def weighted_total(values, sample_weight=None):
    """Sum of a dask array of per-row values, weighted by frequency weights,
    and the total weight, computed on the workers.

    Parameters
    ----------
    values : dask.array.Array of shape (n_samples,)
    sample_weight : dask.array.Array or array-like of shape (n_samples,), or None

    Returns
    -------
    total : float
        ``sum_n w_n v_n``.
    weight : float
        ``sum_n w_n`` (``n_samples`` when unweighted).
    """
    import dask.array as da

    values = values.astype(np.float64)
    if sample_weight is None:
        return float(_compute(values.sum())), float(values.shape[0])
    weights = dask_row_weights(sample_weight, values)
    total, weight = _compute(da.stack([(weights * values).sum(), weights.sum()]))
    return float(total), float(weight)


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
    total, weight = weighted_total(values, sample_weight)
    return total / weight
