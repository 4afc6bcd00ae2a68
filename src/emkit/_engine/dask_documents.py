"""A dask array of documents as a data strategy: documents and their state stay on the workers.

:class:`DaskDocumentData` is to a dask array of document-term counts what
:class:`~emkit.models.lda.DocumentData` is to an in-memory matrix. A first
pass turns every row block into an in-memory documents object *on a worker*
(validating its values there) and keeps it there as a distributed future:
its CSR arrays and its committed per-document state (``gamma``, which
documents have one, each document's share of the bound). The client holds
only the futures, the block sizes and a few totals.

Every E-step (:meth:`DaskDocumentData.map_e_step`) ships the model and the
iteration's plan once (one key), runs the model's E-step phases on every
block where it lives, and sums the small results in a binary-ish tree on
the workers; the new per-block states stay on the workers as *pending*
futures until the engine commits the step (a rejected SQUAREM proposal's are
simply released).

Equal to the in-memory fit, decision for decision. Two things couple the
documents of an E-step in memory, and both are kept:

- the fresh starts are one ``(n_docs, K)`` draw from the run's random state.
  Consecutive draws of one generator continue its stream, so the client
  records the generator's state at the start of every block's slice
  (advancing it by the same draws) and each worker replays its slice from
  that state (:meth:`~emkit.models.lda.LDAModel.start_states`); only ~2.5 kB
  per block travel, never the starts themselves;
- the bound guard compares *all* documents' new part of the bound with the
  last committed one and, when it falls short, replaces the fewest
  documents (largest gains first) by their warm-started result. Here the
  shortfall is summed over the blocks on the workers; only when it is
  positive do the blocks compute their warm gains and send their leading
  gains (at most the prefix that covers the shortfall alone), from which the
  client picks how many documents each block replaces, exactly the
  in-memory choice (:meth:`~emkit.models.lda.LDAModel.replacement_counts`).

The task keys follow the other dask strategies: ``emkit-e-step-<token>-<i>``
is block ``i``'s E-step of one iteration (what a task stream shows).

Nothing here imports dask or distributed at module import time.
"""

from __future__ import annotations

import uuid

import numpy as np

from .dask_data import reduce_in_tree

__all__ = ["DaskDocumentData", "cluster_client"]


def cluster_client():
    """The distributed client in use, or None (no cluster: the data cannot stay on workers)."""
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


# ----------------------------------------------------------------- on a worker
def _documents_summary(documents):
    return documents.n_docs, documents.n_tokens


def _fresh_block(payload, documents, start_state):
    """Block ``documents``' E-step from its fresh (or warm) starts.

    Returns ``(documents, step, new_state, part)``: ``part`` is the small
    summary that is summed across blocks (statistics, the documents' part of
    the bound, the committed and new shares of the bound).
    """
    model, plan = payload
    args, state = documents.whole()
    step = model.fresh_step(plan, args, state,
                            model.block_starts(plan, start_state, documents.n_docs))
    return _finished(model, plan, documents, state, step,
                     committed=float(state.objective_share.sum()),
                     share=float(step.bound_share(plan, state)))


def _finished(model, plan, documents, state, step, **part):
    stats, doc_bound, new_state = model.step_result(plan, state, step)
    part.update(stats=stats, bound=doc_bound, n_guarded=step.n_guarded)
    return documents, step, new_state, part


def _part(result):
    return result[3]


def _resumed(payload, result):
    """``(model, plan, documents, step, args, state)`` of a block's earlier phase."""
    model, plan = payload
    documents, step = result[0], result[1]
    args, state = documents.whole()
    return model, plan, documents, step, args, state


def _warm_block(payload, result, shortfall):
    """The block's warm gains; returns ``(documents, step, leading gains)``."""
    model, plan, documents, step, args, state = _resumed(payload, result)
    step = model.with_warm_gains(plan, args, state, step)
    return documents, step, model.leading_gains(step.gain, shortfall)


def _leading(result):
    return result[2]


def _replaced_block(payload, result, n_replaced):
    """The block with its ``n_replaced`` largest gains taken (statistics recomputed)."""
    model, plan, documents, step, args, state = _resumed(payload, result)
    step = model.replace_documents(plan, args, step, int(n_replaced))
    return _finished(model, plan, documents, state, step)


def _committed(result):
    """The block's documents with the E-step's new state committed (a new object)."""
    return result[0].committed(result[2])


def _add_parts(*parts):
    """Sum of block summaries (new arrays: the inputs may be shared)."""
    total = dict(parts[0], stats={name: np.array(value, dtype=np.float64, copy=True)
                                  for name, value in parts[0]["stats"].items()})
    for part in parts[1:]:
        for name, value in part["stats"].items():
            total["stats"][name] += value
        for name in ("bound", "committed", "share", "n_guarded"):
            if name in part:
                total[name] += part[name]
    return total



class DaskDocumentData:
    """Documents of a dask array on the workers, with their committed ``gamma``.

    A data object for :func:`emkit._engine.em.fit_em` that owns the
    map-reduce of LDA's E-step on a distributed cluster; see the module
    docstring for how it reproduces the in-memory fit.

    Parameters
    ----------
    X : dask.array.Array of shape (n_docs, n_words)
        Row blocks of dense counts or of scipy.sparse matrices, one block
        spanning all words (see :func:`~emkit._engine.dask_data.check_dask_samples`).
    make_documents : callable ``block -> documents``
        Picklable; runs on the workers. Validates one block (raising
        ValueError with a message naming the argument, raised again on the
        client) and returns its in-memory documents object (a
        :class:`~emkit.models.lda.DocumentData` of the block, whose topic
        share of the bound is over all ``n_docs``).
    client : distributed.Client
        The cluster the documents live on.

    Attributes
    ----------
    n_docs : int
    total_weight : float
        Number of documents (the engine's tolerance is per document).
    n_tokens : float
        Total word count (summed on the workers, in float64).
    block_sizes : list of int
        Documents per block.
    n_blocks : int
        Blocks: E-step tasks per iteration.
    on_commit : callable ``(bound)`` or None
        Called at every commit with the committed E-step's bound.
    n_guarded, n_docs_guarded : int
        Committed E-steps in which the bound guard replaced documents, and
        the document results it replaced in all.
    """

    def __init__(self, X, make_documents, client):
        from dask import delayed

        self.client = client
        token = uuid.uuid4().hex
        blocks = X.to_delayed().ravel()
        documents = client.compute([
            delayed(make_documents, pure=False)(block,
                                                dask_key_name=f"emkit-documents-{token}-{i}")
            for i, block in enumerate(blocks)])
        summaries = client.gather(client.map(_documents_summary, documents,
                                             key=[f"emkit-summary-{token}-{i}"
                                                  for i in range(len(documents))]))
        self._documents = documents
        self.block_sizes = [int(n_docs) for n_docs, _ in summaries]
        self.n_blocks = len(self.block_sizes)
        self.n_docs = int(sum(self.block_sizes))
        self.total_weight = float(self.n_docs)
        self.n_tokens = float(sum(n_tokens for _, n_tokens in summaries))
        # Fit data start without gamma: the first E-step draws every start.
        self._all_have_gamma = False
        self._pending = None
        self.on_commit = None
        self.n_guarded = 0
        self.n_docs_guarded = 0

    # ------------------------------------------------------------ the E-step
    def _submit_blocks(self, function, kind, token, *per_block):
        return [self.client.submit(function, *args, key=f"emkit-{kind}-{token}-{i}")
                for i, args in enumerate(zip(*per_block))]

    def _tree_sum(self, items, token):
        """Tree-sum block summaries on the workers, in a fixed order (deterministic)."""
        root = reduce_in_tree(items, lambda level, start, group: self.client.submit(
            _add_parts, *group, key=f"emkit-e-step-sum-{token}-{level}-{start}"))
        return root.result()

    def map_e_step(self, model, plan):
        """LDA's E-step on every block where it lives; the new states stay pending there.

        Parameters
        ----------
        model : LDAModel
        plan : LDAPlan
            With the run's random state when fresh starts are drawn (it is
            advanced here by exactly the in-memory draw).

        Returns
        -------
        stats : dict
            Summed statistics.
        doc_bound : float
            The documents' part of the bound.
        """
        token = uuid.uuid4().hex
        starts = model.start_states(plan, self.block_sizes, self._all_have_gamma)
        if starts is None:
            starts = [None] * self.n_blocks
        # The plan pickles without the run's random state: one key, fetched
        # once per worker.
        [payload] = self.client.scatter([(model, plan)], hash=False)
        payloads = [payload] * self.n_blocks
        results = self._submit_blocks(_fresh_block, "e-step", token, payloads,
                                      self._documents, starts)
        parts = self._submit_blocks(_part, "e-step-part", token, results)
        total = self._tree_sum(parts, token)
        shortfall = total["committed"] - total["share"]
        if model.guards(self._all_have_gamma) and shortfall > 0:
            # As in memory: the fewest documents, largest gains first, over all blocks.
            warm = self._submit_blocks(_warm_block, "guard", token, payloads, results,
                                       [shortfall] * self.n_blocks)
            leading = self.client.gather(self._submit_blocks(_leading, "guard-gains", token,
                                                             warm))
            counts = model.replacement_counts(leading, shortfall)
            results = self._submit_blocks(_replaced_block, "guard-step", token, payloads, warm,
                                          [int(count) for count in counts])
            parts = self._submit_blocks(_part, "guard-part", token, results)
            total = self._tree_sum(parts, token)
        pending = self._submit_blocks(_committed, "pending", token, results)
        self._pending = (pending, total["bound"] + plan.topic_bound, int(total["n_guarded"]))
        return total["stats"], float(total["bound"])

    def commit_e_step(self):
        """Make the last E-step's block states the committed ones (on the workers)."""
        if self._pending is None:
            return
        pending, bound, n_replaced = self._pending
        self._pending = None
        # The old committed blocks are released with their futures.
        self._documents = pending
        self._all_have_gamma = True
        if n_replaced:
            self.n_guarded += 1
            self.n_docs_guarded += n_replaced
        if self.on_commit is not None:
            self.on_commit(bound)

    def committed_documents(self):
        """The futures of the blocks' committed documents (to inspect on the cluster)."""
        return list(self._documents)

    def release(self):
        """Release the documents and any pending state on the cluster."""
        self._documents = []
        self._pending = None
