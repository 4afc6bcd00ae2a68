"""Latent Dirichlet Allocation as pure functions for the EM engine.

Variational EM for LDA (Blei, Ng & Jordan 2003) with the mean-field family of
Hoffman, Blei & Bach (2010): ``q(theta_d) = Dirichlet(gamma_d)``,
``q(z_dn) = Categorical(phi_dn)``, ``q(beta_k) = Dirichlet(lambda_k)``.
The objective is the evidence lower bound (ELBO)::

    L = sum_d  E_q[log p(w_d, z_d, theta_d | beta, alpha) - log q(z_d, theta_d)]
        + sum_k E_q[log p(beta_k | eta) - log q(beta_k)]
      = sum_d D_d(gamma_d; lambda, alpha) + T(lambda)

E-step (per document, compiled, parallel over documents: :mod:`emkit.kernels.lda`)
    coordinate ascent in ``(phi_d, gamma_d)`` with ``lambda`` fixed. It yields the
    expected topic-word counts ``sum_d n_dw phi_dwk`` and, for the prior,
    ``sum_d E[log theta_dk]``: both are sums over documents, so they add across
    chunks and mini-batches like any other sufficient statistic.
M-step
    ``lambda = eta + expected counts`` (exact maximiser of L in lambda) and,
    optionally, empirical Bayes for the document-topic prior: ``alpha`` maximises
    ``sum_d E_q[log Dirichlet(theta_d | alpha)]``, a Dirichlet maximum-likelihood
    problem in the statistics ``sum_d E[log theta_d]`` (Minka 2000), solved by
    Newton's method (:func:`fit_dirichlet_prior`).

Why the bound never decreases in batch mode. The recorded bound is
``sum_d D_d + T`` with ``D_d = max_phi L_d(gamma_d, phi)`` (the kernel's
:func:`~emkit.kernels.lda.doc_bound`). Every document's ``gamma_d`` is kept
between iterations (:class:`DocumentData`). The M-step maximises L in
``lambda`` and ``alpha`` at ``phi(gamma)``, so the kept ``gamma`` scored under the
*new* parameters is already at least the last recorded bound, and every
coordinate-ascent sweep from it only raises L: a warm-started E-step
(``doc_init="warm"``) can never lower the bound.

Warm starts, however, leave each document near the topic mixture it had under
the old topics and EM then settles on clearly worse topics (Reuters and
a simulated corpus: held-out perplexity 3% and 42% higher). scikit-learn instead
restarts every document from a random ``gamma`` at every iteration - better
topics, but its bound can decrease. ``doc_init="random"`` (the default) keeps
scikit-learn's restarts and guards the bound: an E-step whose documents score
less than the last recorded bound has just enough documents (those that gain
most) replaced by their warm-started result to restore it; warm starts
guarantee that this is always possible. When scikit-learn's bound does not
decrease, its path is followed exactly (equal seeds give equal topics).

The E-step contract. :meth:`LDAModel.e_step` is a pure function of the plan,
the chunk, the chunk's committed document state and the chunk's fresh starts;
it returns the new state with the statistics. The randomness belongs to the
run: the engine hands its random state to :meth:`LDAModel.e_step_plan`, and
:meth:`DocumentData.map_e_step` draws one ``(n_docs, K)`` block of fresh
starts from it per E-step (scikit-learn's draw, so equal seeds give its
path) before mapping the E-step over the chunks. The new states stay pending
until the engine accepts the step (:func:`emkit._engine.em.commit_e_step`):
a rejected SQUAREM proposal leaves no ``gamma`` behind, and the guard always
compares with the bound of the current iterate.

SQUAREM extrapolates in ``log lambda`` (and ``log alpha`` when learned). With
a fixed prior batch EM converges fast and SQUAREM gains little; empirical
Bayes for ``alpha`` is where EM is slow (``benchmarks/bench_accel.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, polygamma, psi

from .._arguments import store_init_arguments
from .._engine.em import add_stats
from .. import backend

__all__ = ["DocumentData", "DocumentState", "DocumentStep", "LDAModel", "fit_dirichlet_prior",
           "draw_fresh_starts", "gain_order", "leading_gains", "count_to_replace",
           "replacement_counts",
           "dirichlet_mean_log_likelihood"]


# ---------------------------------------------------------------------------
# data: documents with their variational parameters kept between E-steps
# ---------------------------------------------------------------------------


@dataclass
class DocumentState:
    """Variational state of a chunk of documents.

    The data object hands its *committed* state to the E-step as read-only
    views; the E-step returns a new state (fresh arrays), which the data
    object commits only when the engine accepts the step
    (:func:`emkit._engine.em.commit_e_step`).

    Attributes
    ----------
    gamma : ndarray of shape (n_chunk_docs, n_topics)
        Variational Dirichlet parameters.
    has_gamma : ndarray of shape (n_chunk_docs,), bool
        Which rows of ``gamma`` hold values (none before a document's first E-step).
    objective_share : ndarray of shape (n_chunk_docs,)
        Each document's part of the bound: its ``D_d`` plus ``T / n_total_docs``.
    n_total_docs : int
        Documents in the whole data object (to share ``T`` among them).
    n_guarded : int
        In a state returned by an E-step: documents whose fresh result the
        bound guard replaced by the warm-started one.
    """

    gamma: np.ndarray
    has_gamma: np.ndarray
    objective_share: np.ndarray
    n_total_docs: int
    n_guarded: int = 0


def _read_only(array):
    view = array.view()
    view.flags.writeable = False
    return view


def draw_fresh_starts(random_state, n_docs, n_topics):
    """scikit-learn's fresh document starts: ``Gamma(100, 0.01)`` of shape (n_docs, n_topics).

    Parameters
    ----------
    random_state : numpy RandomState, or the tuple of its ``get_state()``
        A tuple is replayed in a new generator (a block's starts on a worker,
        see :meth:`LDAModel.start_states`).
    n_docs, n_topics : int

    Returns
    -------
    ndarray of shape (n_docs, n_topics)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> state = rng.get_state()
    >>> whole = draw_fresh_starts(rng, 5, 2)
    >>> first = draw_fresh_starts(state, 3, 2)
    >>> bool(np.array_equal(first, whole[:3]))
    True
    """
    if isinstance(random_state, tuple):
        generator = np.random.RandomState()
        generator.set_state(random_state)
        random_state = generator
    return random_state.gamma(100.0, 0.01, (n_docs, n_topics))


def gain_order(gain):
    """Documents with a positive ``gain``, largest first (ties in document order).

    Parameters
    ----------
    gain : ndarray of shape (n_docs,)

    Returns
    -------
    ndarray of int
    """
    n_gaining = int(np.count_nonzero(gain > 0))
    return np.argsort(-gain, kind="stable")[:n_gaining]


def leading_gains(gain, shortfall=np.inf):
    """The positive gains, largest first, up to the first prefix that covers ``shortfall``.

    A block of documents that covers the shortfall by itself needs to send no
    more: the documents after that prefix can never be among the fewest that
    cover it (see :func:`count_to_replace`).
    """
    ordered = gain[gain_order(gain)]
    covered = np.cumsum(ordered)  # increasing: every gain here is positive
    return ordered[:int(np.searchsorted(covered, shortfall)) + 1]


def count_to_replace(ordered_gains, shortfall):
    """How many of the largest gains cover ``shortfall`` (all of them if they cannot).

    Parameters
    ----------
    ordered_gains : ndarray
        Positive gains, largest first (:func:`leading_gains`, or several
        blocks' merged in order).
    shortfall : float
        Positive.

    Returns
    -------
    int
    """
    covered = np.cumsum(ordered_gains)
    return min(int(np.searchsorted(covered, shortfall)) + 1, int(ordered_gains.size))


def replacement_counts(block_gains, shortfall):
    """How many documents each block replaces so that all blocks make one chunk's choice.

    The fewest documents over all blocks, largest gains first (ties in
    document order, the blocks in order), that cover ``shortfall``: what
    :meth:`LDAModel.e_step` chooses for the blocks' documents as one chunk.

    Parameters
    ----------
    block_gains : list of ndarray
        Every block's :func:`leading_gains` at ``shortfall``, in block order.
    shortfall : float
        Positive: the last committed bound less the new one, over all blocks.

    Returns
    -------
    ndarray of int, one count per block
        Block ``b`` replaces the first ``counts[b]`` of its :func:`gain_order`.

    Examples
    --------
    >>> import numpy as np
    >>> gains = [np.array([3.0, 1.0]), np.array([2.0])]
    >>> replacement_counts(gains, 4.5).tolist()
    [1, 1]
    """
    sizes = [np.size(gains) for gains in block_gains]
    merged = np.concatenate([np.asarray(gains, dtype=np.float64) for gains in block_gains]
                            ) if block_gains else np.empty(0)
    block_of = np.repeat(np.arange(len(block_gains)), sizes)
    # A stable sort of the blocks' lists (each largest first, in document
    # order among ties) orders ties by document, as the chunk's own sort does.
    order = np.argsort(-merged, kind="stable")
    n_replaced = count_to_replace(merged[order], shortfall)
    return np.bincount(block_of[order[:n_replaced]], minlength=len(block_gains))


@dataclass
class DocumentStep:
    """An E-step's result for a chunk of documents, between its phases.

    Attributes
    ----------
    gamma : ndarray of shape (n_chunk_docs, K)
    expected_counts : ndarray of shape (K, V)
    bounds : ndarray of shape (n_chunk_docs,)
        Every document's ``D_d`` at ``gamma``.
    warm_gamma, gain : ndarray or None
        After :meth:`LDAModel.with_warm_gains`: the warm-started ``gamma`` and
        what each document gains by it.
    n_guarded : int
        Documents replaced by their warm-started result.
    """

    gamma: np.ndarray
    expected_counts: np.ndarray
    bounds: np.ndarray
    warm_gamma: np.ndarray | None = None
    gain: np.ndarray | None = None
    n_guarded: int = 0

    def bound_share(self, plan, state):
        """The chunk's part of the new bound (its ``D_d`` plus its share of ``T``)."""
        return self.bounds.sum() + plan.topic_bound / state.n_total_docs * self.bounds.size


class DocumentData:
    """A corpus walked in chunks of documents, with every document's committed ``gamma``.

    A data object for :func:`emkit._engine.em.fit_em` that owns the
    map-reduce of LDA's E-step (:meth:`map_e_step`): it draws the E-step's
    fresh document starts from the plan's random state (one block per
    E-step, scikit-learn's draw), hands each chunk's committed state to the
    pure :meth:`LDAModel.e_step`, sums the statistics and keeps the returned
    states as pending until :meth:`commit_e_step`.

    Parameters
    ----------
    indptr : ndarray of shape (n_docs + 1,), int64
    indices : ndarray of shape (nnz,), int64
    counts : ndarray of shape (nnz,), float64
        The CSR arrays of a document-term count matrix. Read only.
    n_topics : int
    gamma : ndarray of shape (n_docs, n_topics) or None
        Known variational Dirichlet parameters (e.g. ones, scikit-learn's
        start for ``transform``); None: not known yet (the E-step draws them).
    chunk_size : int or None
        Documents per chunk; ``None`` walks all documents in one chunk (the
        kernel is parallel over documents, so bigger chunks use the cores best).
    n_total_docs : int or None
        Documents of the whole corpus these are part of (a cluster's block),
        among which the topic part of the bound is shared; None: ``n_docs``.

    Attributes
    ----------
    gamma, has_gamma, objective_share : ndarray
        The committed state (see :class:`DocumentState`).
    n_docs : int
    total_weight : float
        Number of documents (the engine's per-sample tolerance is per document).
    n_tokens : float
        Total word count ``sum_dw n_dw`` (the denominator of perplexity).
    on_commit : callable ``(bound)`` or None
        Called at every commit with the bound of the committed E-step
        (documents' part plus ``T(lambda)``): progress output of batch EM.
    n_guarded : int
        Committed E-steps (chunks) in which the bound guard replaced documents.
    n_docs_guarded : int
        Document results it replaced, in all.
    """

    def __init__(self, indptr, indices, counts, n_topics, gamma=None, *, chunk_size=None,
                 n_total_docs=None, _state=None):
        self.indptr = indptr
        self.indices = indices
        self.counts = counts
        self.n_docs = indptr.shape[0] - 1
        self.n_topics = int(n_topics)
        if _state is not None:  # a view into a parent's state (see subset)
            self.gamma, self.has_gamma, self.objective_share = _state
        elif gamma is None:
            self.gamma = np.empty((self.n_docs, n_topics))
            self.has_gamma = np.zeros(self.n_docs, dtype=bool)
        else:
            if gamma.shape != (self.n_docs, n_topics):
                raise ValueError(f"gamma must have shape ({self.n_docs}, {n_topics}); "
                                 f"got {gamma.shape}.")
            self.gamma = gamma
            self.has_gamma = np.ones(self.n_docs, dtype=bool)
        if _state is None:
            self.objective_share = np.full(self.n_docs, -np.inf)
        self.n_total_docs = self.n_docs if n_total_docs is None else int(n_total_docs)
        self.total_weight = float(self.n_docs)
        self.n_tokens = float(counts[indptr[0]:indptr[-1]].sum())
        self.chunk_size = max(1, self.n_docs if chunk_size is None else int(chunk_size))
        self.on_commit = None
        self.n_guarded = 0
        self.n_docs_guarded = 0
        self._pending = None

    @classmethod
    def from_csr(cls, X, n_topics, gamma=None, *, chunk_size=None, n_total_docs=None):
        """Wrap a CSR matrix (its arrays are converted, never modified).

        Parameters
        ----------
        X : scipy.sparse.csr_matrix of shape (n_docs, n_words)
        n_topics : int
        gamma : ndarray of shape (n_docs, n_topics) or None
        chunk_size : int or None
        n_total_docs : int or None
        """
        indptr = np.ascontiguousarray(X.indptr, dtype=np.int64)
        indices = np.ascontiguousarray(X.indices, dtype=np.int64)
        counts = np.ascontiguousarray(X.data, dtype=np.float64)
        return cls(indptr, indices, counts, n_topics, gamma, chunk_size=chunk_size,
                   n_total_docs=n_total_docs)

    def whole(self):
        """``((indptr, indices, counts), state)`` of all documents as one chunk (read only)."""
        state = DocumentState(_read_only(self.gamma), _read_only(self.has_gamma),
                              _read_only(self.objective_share), n_total_docs=self.n_total_docs)
        return self._arrays(0, self.n_docs), state

    def committed(self, state):
        """These documents with ``state`` (an E-step's new one) committed: a new object.

        The CSR arrays are shared; this object is not modified (a cluster
        keeps a block's committed documents as an immutable result).
        """
        return DocumentData(self.indptr, self.indices, self.counts, self.n_topics,
                            chunk_size=self.chunk_size, n_total_docs=self.n_total_docs,
                            _state=(state.gamma, state.has_gamma, state.objective_share))

    def _arrays(self, start, stop):
        first, last = self.indptr[start], self.indptr[stop]
        return (self.indptr[start:stop + 1] - first, self.indices[first:last],
                self.counts[first:last])

    def _ranges(self):
        for start in range(0, self.n_docs, self.chunk_size):
            yield start, min(start + self.chunk_size, self.n_docs)

    def chunks(self):
        """Yield ``(indptr, indices, counts, state)`` of consecutive documents.

        ``indptr`` is re-based to start at 0; ``state`` is the committed
        :class:`DocumentState` of the chunk, as read-only views.
        """
        for start, stop in self._ranges():
            state = DocumentState(_read_only(self.gamma[start:stop]),
                                  _read_only(self.has_gamma[start:stop]),
                                  _read_only(self.objective_share[start:stop]),
                                  n_total_docs=self.n_total_docs)
            yield (*self._arrays(start, stop), state)

    def map_e_step(self, model, plan):
        """LDA's E-step over every chunk at ``plan``; the new states stay pending.

        Parameters
        ----------
        model : LDAModel
        plan : LDAPlan
            With the run's random state when fresh starts are drawn.

        Returns
        -------
        stats : dict
            Summed statistics (see :meth:`LDAModel.e_step`).
        doc_bound : float
            The documents' part of the bound.
        """
        starts = model.draw_starts(plan, self.has_gamma)
        stats, doc_part, pending = None, 0.0, []
        for (start, stop), (*arrays, state) in zip(self._ranges(), self.chunks()):
            fresh = None if starts is None else starts[start:stop]
            chunk_stats, chunk_part, new_state = model.e_step(plan, *arrays, state, fresh)
            stats = add_stats(stats, chunk_stats)
            doc_part += chunk_part
            pending.append((start, stop, new_state))
        self._pending = (pending, doc_part + plan.topic_bound)
        return stats, doc_part

    def commit_e_step(self):
        """Make the last E-step's document states the committed ones."""
        if self._pending is None:
            return
        pending, bound = self._pending
        self._pending = None
        for start, stop, state in pending:
            self.gamma[start:stop] = state.gamma
            self.has_gamma[start:stop] = state.has_gamma
            self.objective_share[start:stop] = state.objective_share
            if state.n_guarded:
                self.n_guarded += 1
                self.n_docs_guarded += state.n_guarded
        if self.on_commit is not None:
            self.on_commit(bound)

    def subset(self, start, stop):
        """Documents ``start:stop`` as a DocumentData sharing this one's arrays (a view).

        Its commits write into this object's committed state.
        """
        state = (self.gamma[start:stop], self.has_gamma[start:stop],
                 self.objective_share[start:stop])
        return DocumentData(*self._arrays(start, stop), self.n_topics, _state=state)

    def batches(self, batch_size):
        """Consecutive mini-batches of ``batch_size`` documents (views), in order."""
        for start in range(0, self.n_docs, batch_size):
            yield self.subset(start, min(start + batch_size, self.n_docs))


# ---------------------------------------------------------------------------
# Dirichlet maximum likelihood (empirical Bayes for alpha)
# ---------------------------------------------------------------------------


def dirichlet_mean_log_likelihood(alpha, mean_log_theta):
    """Mean Dirichlet log-density given the mean log-probabilities.

    ``(1/n) sum_d log Dir(theta_d | alpha) = lgamma(sum alpha) - sum_k lgamma(alpha_k)
    + sum_k (alpha_k - 1) * mean_log_theta_k``, which only needs the sufficient
    statistics ``mean_log_theta_k = (1/n) sum_d log theta_dk`` (or their
    expectations under ``q``).

    Parameters
    ----------
    alpha : ndarray of shape (K,), positive
    mean_log_theta : ndarray of shape (K,)

    Returns
    -------
    float
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    return float(gammaln(alpha.sum()) - gammaln(alpha).sum()
                 + np.dot(alpha - 1.0, mean_log_theta))


def fit_dirichlet_prior(mean_log_theta, initial, *, max_iter=100, tol=1e-12):
    """Maximum-likelihood Dirichlet parameters from mean log-probabilities.

    Newton's method of Minka (2000, "Estimating a Dirichlet distribution",
    section 3): the Hessian of the concave log-likelihood is
    ``diag(-psi'(alpha)) + psi'(sum alpha) * 1 1^T``, so the Newton step costs
    O(K) by the Sherman-Morrison formula. A step is halved until ``alpha``
    stays positive and the likelihood does not fall, which makes the
    iteration monotone: as an M-step it can only raise the variational bound.
    Near the maximum the likelihood is flat to float precision, so there a
    step is also taken when it shrinks the gradient (Newton's quadratic
    convergence then ends at the maximiser to rounding, not wherever the
    likelihood's rounding first hides the ascent: the result no longer moves
    by ~1e-9 with the order in which the statistics were summed).

    Parameters
    ----------
    mean_log_theta : ndarray of shape (K,)
        ``(1/n) sum_d E[log theta_dk]``; must satisfy ``sum_k exp(.) < 1``
        (true of any mean of log-probability vectors that are not all equal).
    initial : ndarray of shape (K,), positive
        Starting point (the current ``alpha``: a warm start from the last EM
        iteration needs one or two steps).
    max_iter : int
        Newton steps at most.
    tol : float
        Stop when the largest relative change of ``alpha`` is below it.

    Returns
    -------
    alpha : ndarray of shape (K,)
    """
    mean_log_theta = np.asarray(mean_log_theta, dtype=np.float64)
    alpha = np.array(initial, dtype=np.float64, copy=True)
    objective = dirichlet_mean_log_likelihood(alpha, mean_log_theta)
    for _ in range(max_iter):
        total = alpha.sum()
        gradient = psi(total) - psi(alpha) + mean_log_theta
        diagonal = -polygamma(1, alpha)          # q_k < 0
        rank_one = polygamma(1, total)           # z > 0
        # Sherman-Morrison for (diag(q) + z 1 1^T)^{-1} g.
        shift = np.sum(gradient / diagonal) / (1.0 / rank_one + np.sum(1.0 / diagonal))
        step = (gradient - shift) / diagonal
        scale = 1.0
        largest_gradient = np.max(np.abs(gradient))
        for _ in range(60):
            candidate = alpha - scale * step
            if np.all(candidate > 0):
                candidate_objective = dirichlet_mean_log_likelihood(candidate, mean_log_theta)
                if candidate_objective >= objective - 1e-15 * abs(objective):
                    break
                candidate_gradient = psi(candidate.sum()) - psi(candidate) + mean_log_theta
                if (candidate_objective >= objective - 1e-12 * abs(objective)
                        and np.max(np.abs(candidate_gradient)) < largest_gradient):
                    break
            scale *= 0.5
        else:
            return alpha  # no ascent direction left at float precision
        change = np.max(np.abs(candidate - alpha) / alpha)
        alpha, objective = candidate, candidate_objective
        if change < tol:
            break
    return alpha


# ---------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------


@dataclass
class LDAPlan:
    """What every chunk's E-step needs, computed once per EM iteration.

    Attributes
    ----------
    topic_word : ndarray of shape (K, V)
        ``lambda``.
    elog_beta : ndarray of shape (K, V)
        ``E_q[log beta]`` under ``Dirichlet(lambda_k)``.
    exp_elog_beta : ndarray of shape (K, V)
        ``exp(E[log beta])`` (scikit-learn's ``exp_dirichlet_component_``).
    doc_topic_prior : ndarray of shape (K,)
    topic_bound : float
        ``T(lambda)``, the topic-word part of the ELBO.
    random_state : numpy RandomState or None
        The run's random state (given by the engine), from which the data
        object draws the E-step's fresh document starts
        (:meth:`LDAModel.draw_starts`); None when no starts are drawn.
    """

    topic_word: np.ndarray
    elog_beta: np.ndarray
    exp_elog_beta: np.ndarray
    doc_topic_prior: np.ndarray
    topic_bound: float
    random_state: object = None

    def __getstate__(self):
        # The run's random state stays with the run: a plan shipped to a
        # worker carries the draws it needs (LDAModel.start_states) instead.
        state = self.__dict__.copy()
        state["random_state"] = None
        return state


def topic_word_expectations(topic_word):
    """``(E[log beta], exp(E[log beta]))`` of ``Dirichlet(topic_word[k])`` rows, both (K, V).

    Serial on purpose: with only K rows, the kernel's row-parallel version
    costs more in thread start-up than it saves.
    """
    topic_word = np.asarray(topic_word, dtype=np.float64)
    digamma = backend.ops().digamma
    elog_beta = digamma(topic_word) - digamma(topic_word.sum(axis=1))[:, None]
    return elog_beta, np.exp(elog_beta)


class LDAModel:
    """LDA's variational EM as the engine's pure functions.

    Parameters are ``{"topic_word": lambda (K, V), "doc_topic_prior": alpha (K,)}``;
    statistics are ``{"topic_word": sum_d n_dw phi_dwk (K, V), "n_docs": (),
    "log_theta_sum": sum_d E[log theta_d] (K,)}`` (the last only when the
    prior is learned). All statistics are sums over documents.

    The E-step contract (:meth:`e_step`) is pure: the new document states
    and the statistics are a function of the plan (parameters and the
    random state's draws, made by the data object before the E-step), the
    chunk, and the chunk's committed state; nothing is written anywhere.
    :class:`DocumentData` commits the states when the engine accepts a step.

    Parameters
    ----------
    topic_word_prior : float or ndarray of shape (V,)
        ``eta``, the Dirichlet prior of every topic's word distribution.
    learn_doc_topic_prior : bool
        Empirical Bayes for ``alpha`` in the M-step.
    max_doc_update_iter : int
        Coordinate-ascent sweeps per document and E-step, at most.
    mean_change_tol : float
        A document's sweeps stop when ``mean_k |gamma_dk change| < mean_change_tol``.
    doc_init : {"random", "warm"}
        Where each E-step starts a document's coordinate ascent: a fresh
        ``Gamma(100, 0.01)`` draw as scikit-learn does, or the document's
        committed ``gamma`` (see the module docstring).
    guard_bound : bool
        With ``doc_init="random"``: make sure an E-step never lowers the bound
        (batch EM). Online EM has no monotone objective and skips the check.
    sklearn_digamma : bool
        Use scikit-learn's less accurate digamma in the E-step (compatibility).
    """

    # The E-step draws fresh document starts: the engine hands the run's
    # random state to e_step_plan (see emkit._engine.em.plan_e_step).
    random_e_step = True

    # The guard's selection, for data objects that split the documents into
    # blocks (emkit._engine.dask_documents), which reach it through the model.
    leading_gains = staticmethod(leading_gains)
    replacement_counts = staticmethod(replacement_counts)

    def __init__(self, topic_word_prior, *, learn_doc_topic_prior=False,
                 max_doc_update_iter=100, mean_change_tol=1e-3, doc_init="random",
                 guard_bound=True, sklearn_digamma=False):
        if doc_init not in ("random", "warm"):
            raise ValueError(f"doc_init must be 'random' or 'warm'; got {doc_init!r}.")
        store_init_arguments(self, locals())
        # A cache of the pure T(lambda) of the last plan: the engine asks for
        # log_prior(params) right after the E-step at the same params.
        self._topic_bound_cache = None

    def __getstate__(self):
        # The cache holds a (K, V) array; do not ship it (e.g. to Dask workers).
        state = self.__dict__.copy()
        state["_topic_bound_cache"] = None
        return state

    # -- engine interface -----------------------------------------------------
    def e_step_plan(self, params, rng=None):
        """The E-step's plan at ``params``; ``rng`` is the run's random state."""
        topic_word = params["topic_word"]
        elog_beta, exp_elog_beta = topic_word_expectations(topic_word)
        bound = backend.ops().lda_topic_bound(topic_word, self.topic_word_prior,
                                              elog_beta=elog_beta)
        self._topic_bound_cache = (topic_word, bound)
        return LDAPlan(topic_word, elog_beta, exp_elog_beta,
                       np.asarray(params["doc_topic_prior"], dtype=np.float64), bound,
                       random_state=rng)

    def draw_starts(self, plan, has_gamma):
        """The E-step's fresh starting ``gamma`` for all ``len(has_gamma)`` documents.

        scikit-learn's draw, ``Gamma(100, 0.01)`` of shape (n_docs, K), once
        per E-step from the plan's random state (equal seeds give
        scikit-learn's path); None when every document warm-starts.

        Parameters
        ----------
        plan : LDAPlan
        has_gamma : ndarray of shape (n_docs,), bool
            Which documents have a committed ``gamma``.

        Returns
        -------
        ndarray of shape (n_docs, K) or None
        """
        if self.doc_init == "warm" and has_gamma.all():
            return None
        if plan.random_state is None:
            raise ValueError("LDA's E-step draws fresh document starts from the run's random "
                             "state; build the plan with e_step_plan(params, rng=...).")
        return draw_fresh_starts(plan.random_state, has_gamma.size, plan.topic_word.shape[0])

    def start_states(self, plan, block_sizes, all_have_gamma):
        """The random state at the start of every block's fresh starts, for blocks elsewhere.

        Consecutive draws from one generator continue its stream exactly, so
        drawing the blocks' starts one after another from these states (on
        the workers, :func:`draw_fresh_starts`) gives :meth:`draw_starts`'s
        one ``(n_docs, K)`` draw, block by block; the plan's random state is
        advanced past them here, as that draw would advance it.

        Parameters
        ----------
        plan : LDAPlan
        block_sizes : sequence of int
            Documents per block, in order.
        all_have_gamma : bool
            Whether every document has a committed ``gamma``.

        Returns
        -------
        list of tuple or None
            ``RandomState.get_state()`` per block; None when every document
            warm-starts (nothing is drawn).
        """
        if self.doc_init == "warm" and all_have_gamma:
            return None
        if plan.random_state is None:
            self.draw_starts(plan, np.zeros(1, dtype=bool))  # raises the named error
        n_topics = plan.topic_word.shape[0]
        states = []
        for size in block_sizes:
            states.append(plan.random_state.get_state())
            draw_fresh_starts(plan.random_state, int(size), n_topics)
        return states

    def block_starts(self, plan, start_state, n_docs):
        """A block's fresh starts from its :meth:`start_states` entry (None: warm starts)."""
        if start_state is None:
            return None
        return draw_fresh_starts(start_state, n_docs, plan.topic_word.shape[0])

    def _coordinate_ascent(self, plan, indptr, indices, counts, gamma_init, *,
                           max_iter=None, compute_sstats=True):
        gamma, expected_counts, _ = backend.ops().lda_doc_e_step(
            indptr, indices, counts, plan.exp_elog_beta, plan.doc_topic_prior,
            gamma_init=gamma_init,
            max_iter=self.max_doc_update_iter if max_iter is None else max_iter,
            mean_change_tol=self.mean_change_tol, compute_sstats=compute_sstats,
            sklearn_digamma=self.sklearn_digamma)
        return gamma, expected_counts

    def _doc_bounds(self, plan, indptr, indices, counts, gamma):
        return backend.ops().lda_doc_bound(indptr, indices, counts, gamma, plan.elog_beta,
                         plan.doc_topic_prior, per_doc=True)

    def _starting_gamma(self, state, fresh):
        if fresh is None:
            return state.gamma
        if self.doc_init == "warm":
            start = np.array(fresh, copy=True)
            start[state.has_gamma] = state.gamma[state.has_gamma]
            return start
        return fresh

    def e_step(self, plan, indptr, indices, counts, state, fresh):
        """Per-document coordinate ascent: a pure function of its arguments.

        Parameters
        ----------
        plan : LDAPlan
        indptr, indices, counts : CSR arrays of the chunk's documents
        state : DocumentState
            The documents' committed ``gamma`` and bound shares (read only).
        fresh : ndarray of shape (n_chunk_docs, K) or None
            The chunk's fresh starts (:meth:`draw_starts`); None: warm starts.

        Returns
        -------
        stats : dict
            Expected topic-word counts (K, V), number of documents and, when
            the prior is learned, ``sum_d E[log theta_d]`` (K,).
        doc_bound : float
            The documents' part of the ELBO at the new ``gamma``.
        new_state : DocumentState
            The documents' new ``gamma`` and bound shares (new arrays), for
            the data object to commit if the step is accepted.
        """
        args = (indptr, indices, counts)
        step = self.fresh_step(plan, args, state, fresh)
        if self.guards(state.has_gamma.all()):
            # This chunk's part of the last committed bound; falling below it
            # would let the bound decrease.
            shortfall = state.objective_share.sum() - step.bound_share(plan, state)
            if shortfall > 0:
                step = self.with_warm_gains(plan, args, state, step)
                n_replaced = count_to_replace(leading_gains(step.gain), shortfall)
                step = self.replace_documents(plan, args, step, n_replaced)
        return self.step_result(plan, state, step)

    # -- the E-step's phases (the chunk E-step above; a cluster's blocks) ------
    def guards(self, all_have_gamma):
        """Whether the E-step guards the bound: fresh starts, and every document kept a ``gamma``."""
        return self.doc_init == "random" and self.guard_bound and bool(all_have_gamma)

    def fresh_step(self, plan, args, state, fresh):
        """Coordinate ascent of ``args``' documents from their starts, and their bounds.

        Parameters
        ----------
        plan : LDAPlan
        args : tuple of the chunk's CSR arrays ``(indptr, indices, counts)``
        state : DocumentState
        fresh : ndarray of shape (n_chunk_docs, K) or None

        Returns
        -------
        DocumentStep
        """
        gamma, expected_counts = self._coordinate_ascent(plan, *args,
                                                         self._starting_gamma(state, fresh))
        return DocumentStep(gamma, expected_counts, self._doc_bounds(plan, *args, gamma))

    def with_warm_gains(self, plan, args, state, step):
        """``step`` with every document's gain from a warm start at its committed ``gamma``.

        After an M-step, warm starts from the committed ``gamma`` together
        score at least the last recorded bound, so replacing the documents
        that gain most, until the shortfall is covered, always restores it.
        (At an extrapolated SQUAREM point it may not; the engine's safeguard
        then judges the proposal by its objective.)
        """
        warm_gamma, _ = self._coordinate_ascent(plan, *args, state.gamma, compute_sstats=False)
        gain = self._doc_bounds(plan, *args, warm_gamma) - step.bounds
        return DocumentStep(step.gamma, step.expected_counts, step.bounds, warm_gamma, gain)

    def replace_documents(self, plan, args, step, n_replaced):
        """``step`` with its ``n_replaced`` largest gains taken (see :func:`gain_order`).

        The statistics are recomputed at the chosen ``gamma`` for every
        document (zero sweeps: just ``phi(gamma)``), whether any was replaced.
        """
        replaced = gain_order(step.gain)[:n_replaced]
        gamma = step.gamma.copy()
        gamma[replaced] = step.warm_gamma[replaced]
        bounds = step.bounds.copy()
        bounds[replaced] += step.gain[replaced]
        _, expected_counts = self._coordinate_ascent(plan, *args, gamma, max_iter=0)
        return DocumentStep(gamma, expected_counts, bounds, n_guarded=int(replaced.size))

    def step_result(self, plan, state, step):
        """``(stats, doc_bound, new_state)`` of a finished step (see :meth:`e_step`)."""
        gamma = step.gamma
        new_state = DocumentState(gamma, np.ones(gamma.shape[0], dtype=bool),
                                  step.bounds + plan.topic_bound / state.n_total_docs,
                                  state.n_total_docs, step.n_guarded)
        stats = {"topic_word": step.expected_counts, "n_docs": np.float64(gamma.shape[0])}
        if self.learn_doc_topic_prior:
            stats["log_theta_sum"] = backend.ops().dirichlet_expectation_2d(gamma).sum(axis=0)
        return stats, float(step.bounds.sum()), new_state

    def m_step(self, stats, params):
        topic_word = self.topic_word_prior + stats["topic_word"]
        doc_topic_prior = np.asarray(params["doc_topic_prior"], dtype=np.float64)
        if self.learn_doc_topic_prior and stats["n_docs"] > 0:
            mean_log_theta = stats["log_theta_sum"] / stats["n_docs"]
            doc_topic_prior = fit_dirichlet_prior(mean_log_theta, doc_topic_prior)
        return {"topic_word": topic_word, "doc_topic_prior": doc_topic_prior}

    def log_prior(self, params):
        """The topic-word part of the ELBO, ``T(lambda) = sum_k E_q[log p(beta_k) / q(beta_k)]``."""
        cached = self._topic_bound_cache
        if cached is not None and cached[0] is params["topic_word"]:
            return cached[1]
        return backend.ops().lda_topic_bound(params["topic_word"], self.topic_word_prior)

    def repair(self, params, stats, rng, data=None):
        # A topic cannot collapse: lambda >= eta > 0 always.
        return params, 0

    # -- SQUAREM ---------------------------------------------------------------
    def to_unconstrained(self, params):
        """``log lambda`` (and ``log alpha`` when learned) as one vector, for SQUAREM.

        Parameters
        ----------
        params : dict

        Returns
        -------
        ndarray of shape (K * V,) or (K * V + K,)
        """
        parts = [np.log(np.asarray(params["topic_word"], dtype=np.float64)).ravel()]
        if self.learn_doc_topic_prior:
            parts.append(np.log(np.asarray(params["doc_topic_prior"], dtype=np.float64)))
        return np.concatenate(parts)

    def from_unconstrained(self, vector, template):
        """Parameters from :meth:`to_unconstrained`'s coordinates; None if invalid.

        Parameters
        ----------
        vector : ndarray
        template : dict
            Parameters of the right shapes (a fixed ``alpha`` is taken from it).

        Returns
        -------
        dict or None
            None when a value overflows or underflows to a non-positive one.
        """
        shape = np.shape(template["topic_word"])
        size = shape[0] * shape[1]
        with np.errstate(over="ignore", under="ignore"):
            topic_word = np.exp(vector[:size]).reshape(shape)
            alpha = (np.exp(vector[size:]) if self.learn_doc_topic_prior
                     else np.array(template["doc_topic_prior"], dtype=np.float64, copy=True))
        for values in (topic_word, alpha):
            if not (np.all(np.isfinite(values)) and np.all(values > 0)):
                return None
        return {"topic_word": topic_word, "doc_topic_prior": alpha}

    # -- online EM ---------------------------------------------------------------
    def stats_from_params(self, params, total_weight):
        """Statistics whose M-step returns ``params`` (start of online blending).

        ``topic_word = lambda - eta``, and for a learned prior the expected
        ``log theta`` sums of ``total_weight`` documents drawn from
        ``Dirichlet(alpha)``, whose maximum-likelihood estimate is ``alpha``
        itself (the Dirichlet likelihood equations say exactly that).

        Parameters
        ----------
        params : dict
        total_weight : float
            Number of documents the statistics stand for.
        """
        stats = {"topic_word": np.asarray(params["topic_word"], dtype=np.float64)
                 - self.topic_word_prior,
                 "n_docs": np.float64(total_weight)}
        if self.learn_doc_topic_prior:
            alpha = np.asarray(params["doc_topic_prior"], dtype=np.float64)
            stats["log_theta_sum"] = total_weight * (psi(alpha) - psi(alpha.sum()))
        return stats

    # -- inference for fitted models ------------------------------------------
    def infer(self, params, data):
        """Run every document of ``data`` to convergence from its committed ``gamma``.

        Pure: ``data`` is not modified.

        Parameters
        ----------
        params : dict
        data : DocumentData
            Its committed ``gamma`` is the start (ones for scikit-learn's
            ``transform``).

        Returns
        -------
        gamma : ndarray of shape (n_docs, K)
            The converged variational parameters.
        doc_bound : float
            The documents' part of the ELBO at them.
        """
        plan = self.e_step_plan(params)
        gammas, bound = [], 0.0
        for indptr, indices, counts, state in data.chunks():
            new_gamma, _ = self._coordinate_ascent(plan, indptr, indices, counts, state.gamma,
                                                   compute_sstats=False)
            bound += float(self._doc_bounds(plan, indptr, indices, counts, new_gamma).sum())
            gammas.append(new_gamma)
        gamma = (np.concatenate(gammas) if gammas
                 else np.empty((0, np.shape(params["topic_word"])[0])))
        return gamma, bound
