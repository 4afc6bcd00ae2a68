"""scikit-learn style Latent Dirichlet Allocation on emkit's EM engine."""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from functools import partial
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                          _fit_context)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._engine.accel import ACCELERATIONS
from .._engine.dask_data import (check_dask_samples, is_dask_array, map_rows, stream_blocks,
                                 sum_blocks_of)
from .._engine.dask_documents import DaskDocumentData, cluster_client
from .._engine.em import fit_em
from .._engine.monitor import AbsoluteChangeRule, ConvergenceMonitor
from .._engine.online import StepwiseEM, stepwise_passes
from ..persistence import SaveMixin
from .._validation import reject_complex
from ..models.lda import DocumentData, LDAModel, topic_word_expectations
from ._base import store_init_arguments

__all__ = ["LatentDirichletAllocation"]

# scikit-learn draws initial lambda and gamma from Gamma(shape=100, scale=0.01):
# values near 1, different enough to break the symmetry between topics.
_INIT_SHAPE, _INIT_SCALE = 100.0, 0.01
# Largest total word count (after partial_fit's scaling to total_samples) that
# is accepted. The bound holds terms up to ~T log T (at most ~710 T in float64)
# summed over topics and words; 1e300 leaves a margin of 1e8 below overflow, and
# fits up to it are finite (tests/test_lda_validation.py).
_MAX_TOTAL_COUNT = 1e300


def _perplexity(bound, n_tokens):
    """``exp(-bound / n_tokens)``; +inf for no words (scikit-learn's value then)."""
    if n_tokens <= 0:
        return float("inf")
    return float(np.exp(-bound / n_tokens))


def _check_count_values(values, whom):
    """Word counts must be finite and non-negative (in memory, and on a worker per block)."""
    if not np.isfinite(values).all():
        kind = "NaN" if np.isnan(values).any() else "infinity"
        raise ValueError(
            f"Input X of {whom} contains {kind}; word counts must be finite. Replace "
            f"missing counts with 0 (they mean 'word absent') or drop those documents."
        )
    if values.size and values.min() < 0:
        n_negative = int((values < 0).sum())
        # scikit-learn's wording first, so code matching its message still works.
        raise ValueError(
            f"Negative values in data passed to {whom}: input X has {n_negative} "
            f"negative entr{'y' if n_negative == 1 else 'ies'} (minimum {values.min():g}); "
            f"LDA needs non-negative word counts. Pass raw term counts (e.g. from "
            f"CountVectorizer), not centred or standardised values."
        )


def _check_total_count(total, whom, scaled=False):
    if not total <= _MAX_TOTAL_COUNT:
        raise ValueError(
            f"Input X of {whom} has a total word count of {total:.3g}"
            f"{' (mini-batch counts scaled to the corpus)' if scaled else ''}, too "
            f"large for the variational bound in float64 (at most {_MAX_TOTAL_COUNT:g}). "
            f"Pass numbers of word occurrences; if these are weights, scale them down."
        )


def _count_block(block, whom):
    """One block of a dask X as a validated CSR matrix (on a worker)."""
    X = block.tocsr() if sp.issparse(block) else sp.csr_matrix(np.asarray(block))
    if X.dtype.kind not in "biuf":
        raise ValueError(f"Input X of {whom} must contain only numbers (word counts); got "
                         f"a block of dtype {X.dtype}.")
    _check_count_values(X.data, whom)
    return X


def _block_documents(block, *, n_topics, n_total_docs, whom):
    """One block of a dask X as the documents of a cluster fit (on a worker)."""
    return DocumentData.from_csr(_count_block(block, whom), n_topics,
                                 n_total_docs=n_total_docs)


def _block_tokens(block, whom):
    return float(_count_block(block, whom).sum(dtype=np.float64))


class _DocumentsInMemory:
    """What an online fit walks, for in-memory documents: their mini-batches
    in order, and the bound of all of them at given topics.

    Parameters
    ----------
    data : DocumentData
        The training documents (a first E-step draws their ``gamma``).
    evaluation : DocumentData
        The same documents with ``gamma`` at ones (the bound's start).
    """

    def __init__(self, data, evaluation):
        self.data, self.evaluation = data, evaluation
        self.n_docs, self.n_tokens = data.n_docs, data.n_tokens

    def batches(self, batch_size):
        return self.data.batches(batch_size)

    def doc_bound(self, model, params):
        return model.infer(params, self.evaluation)[1]


class _DocumentsStreamed:
    """The same for the blocks of a dask X: every pass streams the blocks to
    the client in order (:func:`~emkit._engine.dask_data.stream_blocks`, at
    most two there at once) and walks each one's mini-batches; the bound is
    summed on the workers."""

    def __init__(self, X, n_topics, n_tokens, whom):
        self.X, self.n_topics, self.whom = X, n_topics, whom
        self.n_docs, self.n_tokens = int(X.shape[0]), n_tokens

    def batches(self, batch_size):
        # Mini-batches run across block boundaries (a block's last documents
        # wait for the next block's first), so they are the in-memory fit's
        # whatever the blocking.
        pending = None
        for block in stream_blocks(self.X.to_delayed().ravel()):
            counts = _count_block(block, self.whom)
            if pending is not None:
                counts = sp.vstack([pending, counts], format="csr")
            whole = counts.shape[0] - counts.shape[0] % batch_size
            if whole:
                yield from DocumentData.from_csr(counts[:whole],
                                                 self.n_topics).batches(batch_size)
            pending = counts[whole:]
        if pending is not None and pending.shape[0]:
            yield DocumentData.from_csr(pending, self.n_topics)

    def doc_bound(self, model, params):
        return sum_blocks_of(_BlockDocBound(model, params, self.n_topics, self.whom), self.X,
                             [()] * self.X.numblocks[0])


class _BlockDocBound:
    """The documents' part of the bound of one block at ``params`` (on a
    worker), every ``gamma`` run from ones; picklable."""

    __name__ = "doc-bound"  # the name of its tasks on the cluster

    def __init__(self, model, params, n_topics, whom):
        self.model, self.params, self.n_topics, self.whom = model, params, n_topics, whom

    def __call__(self, block):
        counts = _count_block(block, self.whom)
        documents = DocumentData.from_csr(counts, self.n_topics,
                                          np.ones((counts.shape[0], self.n_topics)))
        return self.model.infer(self.params, documents)[1]


def _progress(iteration, max_iter, perplexity=None, accepted=False):
    """scikit-learn's progress line for one pass over the data; ``accepted``:
    SQUAREM's line for its ``iteration``-th accepted iterate instead."""
    line = (f"accepted iterate: {iteration}" if accepted
            else f"iteration: {iteration} of max_iter: {max_iter}")
    if perplexity is not None:
        line += f", perplexity: {perplexity:.4f}"
    print(line)


@contextmanager
def _numba_threads(n_jobs):
    """Run the compiled kernels on ``n_jobs`` threads (joblib's conventions)."""
    if n_jobs is None:
        yield
        return
    import numba

    available = int(numba.config.NUMBA_NUM_THREADS)
    wanted = available + 1 + n_jobs if n_jobs < 0 else n_jobs
    previous = numba.get_num_threads()
    numba.set_num_threads(int(min(max(wanted, 1), available)))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


class LatentDirichletAllocation(SaveMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                                BaseEstimator):
    """Latent Dirichlet Allocation fitted by variational EM, batch or online.

    A drop-in replacement for :class:`sklearn.decomposition.LatentDirichletAllocation`
    (same parameters, methods and fitted attributes, same definitions of
    ``score`` and ``perplexity``) that runs on emkit's EM engine with a
    compiled E-step that is parallel over documents, and that can learn an
    asymmetric document-topic prior (``learn_doc_topic_prior=True``).

    Differences from scikit-learn, all on purpose:

    - Batch mode keeps every document's variational parameters ``gamma``
      between iterations. An E-step starts from a fresh random ``gamma`` as
      scikit-learn does, but keeps the result only if the bound is no lower
      than with the kept ``gamma``, else falls back to a warm start: the
      variational bound (``history_``) never decreases. scikit-learn's can.
    - ``n_jobs=None`` uses every core (numba threads); scikit-learn uses one.
    - ``doc_topic_prior`` may be any positive number or a vector of length
      ``n_components``.
    - Batch mode stops on ``tol``, not on ``perp_tol``; ``evaluate_every``
      only sets which passes print their perplexity (``verbose``).
    - ``accelerate="squarem"`` (batch mode) extrapolates the EM path; the
      bound still never decreases. ``n_e_steps_`` counts the E-steps.
    - Counts too large for the bound in float64 raise a ValueError naming X
      (scikit-learn returns NaN topics); ``bound_`` is +inf, never NaN, for
      documents without words.

    The full list, with scikit-learn's own tests that show each one, is
    ``docs/differences.md``.

    Dask arrays of counts (dense blocks or scipy.sparse blocks) are accepted
    by every method. With a ``distributed`` client, batch :meth:`fit` keeps
    the documents and their ``gamma`` on the workers and runs every E-step
    there, with the in-memory fit's result (same draws, same bound guard);
    :meth:`transform` returns a dask array, :meth:`score` and
    :meth:`perplexity` sum on the workers; :meth:`partial_fit` streams the
    blocks. Online :meth:`fit`, or any fit without a client, computes ``X``
    on the client first.

    Parameters
    ----------
    n_components : int, default=10
        Number of topics K.
    doc_topic_prior : float, array-like of shape (n_components,) or None, default=None
        ``alpha``, the Dirichlet prior of every document's topic proportions.
        None means ``1 / n_components``. With ``learn_doc_topic_prior=True``
        it is the starting value.
    topic_word_prior : float or None, default=None
        ``eta``, the Dirichlet prior of every topic's word distribution. None
        means ``1 / n_components``.
    learning_method : {"batch", "online"}, default="batch"
        "batch": variational EM on all documents per iteration (one pass).
        "online": online variational Bayes (Hoffman, Blei & Bach 2010): after
        each mini-batch of ``batch_size`` documents the topic-word parameters
        move a step ``rho_t = (learning_offset + t) ** -learning_decay``
        towards the estimate from that mini-batch.
    learn_doc_topic_prior : bool, default=False
        Empirical Bayes for ``alpha``: every M-step sets it to the maximiser
        of the bound, a Dirichlet maximum-likelihood problem in
        ``sum_d E[log theta_d]`` solved by Minka's Newton method. The result
        is asymmetric: frequent topics get a larger ``alpha_k``.
    learning_decay : float, default=0.7
        ``kappa`` of the online step size; ``(0.5, 1]`` guarantees convergence.
    learning_offset : float, default=10.0
        ``tau_0`` of the online step size; down-weights the first mini-batches.
    max_iter : int, default=10
        Passes over the data in :meth:`fit` (EM iterations in batch mode).
    batch_size : int, default=128
        Documents per mini-batch (online mode and :meth:`partial_fit`).
    evaluate_every : int, default=-1
        Print the training perplexity (with ``verbose``) every this many
        passes; 0 or negative: never. Online mode computes the bound on all
        training documents at these passes (their ``gamma`` run from ones, as
        scikit-learn does; stored in ``history_``) and stops
        when the perplexity changes by less than ``perp_tol``. Batch mode
        has the bound of every pass at no extra cost (``history_``), prints
        it at these passes and stops on ``tol`` instead of ``perp_tol``.
    total_samples : int, default=1e6
        Number of documents in the whole corpus, for :meth:`partial_fit`
        (mini-batch statistics are scaled by ``total_samples / batch_size``).
    perp_tol : float, default=0.1
        Online mode with ``evaluate_every > 0``: perplexity change that stops
        the fit.
    mean_change_tol : float, default=1e-3
        A document's E-step stops when the mean absolute change of its
        ``gamma`` is below this.
    max_doc_update_iter : int, default=100
        Coordinate-ascent sweeps per document and E-step, at most.
    tol : float, default=0.0
        Batch mode: stop when the gain in the bound per document, and the
        gain still projected to come (Aitken), are below ``tol``. 0 runs all
        ``max_iter`` passes (scikit-learn's behaviour).
    accelerate : {"none", "squarem"}, default="none"
        Batch mode: "squarem" extrapolates the EM path (Varadhan & Roland
        2008, scheme 3) in ``log lambda`` (and ``log alpha`` when learned),
        with the engine's safeguard: a proposal is kept only if its bound is
        at least the plain EM one, so ``history_`` still never decreases.
        Online mode has no EM path to extrapolate and needs "none".
    doc_init : {"random", "warm"}, default="random"
        Where each E-step of :meth:`fit` starts a document's ``gamma``.
        "random": a fresh random draw, as scikit-learn does (equal seeds give
        scikit-learn's path), kept only if it does not lower the bound, else
        the E-step falls back to the previous ``gamma``. "warm": always the
        previous ``gamma``; about half the coordinate-ascent sweeps, but each
        document stays near its old topic mixture and the topics end up
        worse (held-out perplexity 3% higher on Reuters with 10 topics, 42%
        higher on a simulated 20,000-document corpus with 20 topics; see
        ``benchmarks/bench_lda.py``). Either way the bound never decreases
        in batch mode.
    n_jobs : int or None, default=None
        Threads of the compiled E-step; None uses numba's default (all cores),
        -1 all cores, -2 all but one.
    verbose : int, default=0
        Positive: scikit-learn's line per pass, ``iteration: i of max_iter: n``,
        followed by ``, perplexity: p`` on the passes of ``evaluate_every``.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial topic-word parameters and document ``gamma`` (drawn
        in the same order as scikit-learn, so equal seeds give equal starts).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``lambda``, the variational Dirichlet parameters of the topics:
        pseudo-counts of each word in each topic. Normalise the rows for the
        topic-word distributions. float32 when fitted on float32 ``X`` (as
        scikit-learn does; computed in float64 and rounded), else float64.
    exp_dirichlet_component_ : ndarray of shape (n_components, n_features)
        ``exp(E[log beta])``, in the dtype of ``components_``.
    doc_topic_prior_ : float or ndarray of shape (n_components,)
        ``alpha``; a vector when learned (or given as one).
    topic_word_prior_ : float
        ``eta``.
    n_batch_iter_ : int
        EM updates taken plus one (scikit-learn's counter ``t`` of the next
        online step size).
    n_iter_ : int
        Passes over the data.
    n_e_steps_ : int
        Batch mode: E-steps evaluated (passes over the data, SQUAREM's
        proposals included: the measure of an accelerated fit's work).
    bound_ : float
        Perplexity of the training data at the fitted parameters
        (scikit-learn's meaning of ``bound_``); +inf when ``X`` has no words.
    history_ : ndarray
        The variational bound (ELBO) of the training data: batch mode after
        every E-step (the initial parameters first; never decreasing); online
        mode at every evaluation and at the end.
    converged_ : bool
        Whether ``tol`` (batch) or ``perp_tol`` (online) stopped the fit.
    random_state_ : RandomState
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when fitted on a DataFrame with string columns

    Examples
    --------
    >>> from emkit import LatentDirichletAllocation
    >>> from emkit.datasets import load_reuters
    >>> reuters = load_reuters()
    >>> lda = LatentDirichletAllocation(n_components=10, random_state=0).fit(reuters.data)
    >>> lda.transform(reuters.data[:2]).shape
    (2, 10)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "doc_topic_prior": [None, Interval(Real, 0, None, closed="neither"), "array-like"],
        "topic_word_prior": [None, Interval(Real, 0, None, closed="neither")],
        "learning_method": [StrOptions({"batch", "online"})],
        "learn_doc_topic_prior": ["boolean"],
        "learning_decay": [Interval(Real, 0, 1, closed="both")],
        "learning_offset": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "evaluate_every": [Interval(Integral, None, None, closed="neither")],
        "total_samples": [Interval(Real, 0, None, closed="neither")],
        "perp_tol": [Interval(Real, 0, None, closed="left")],
        "mean_change_tol": [Interval(Real, 0, None, closed="left")],
        "max_doc_update_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "doc_init": [StrOptions({"random", "warm"})],
        "accelerate": [StrOptions(set(ACCELERATIONS))],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components=10,
        *,
        doc_topic_prior=None,
        topic_word_prior=None,
        learning_method="batch",
        learn_doc_topic_prior=False,
        learning_decay=0.7,
        learning_offset=10.0,
        max_iter=10,
        batch_size=128,
        evaluate_every=-1,
        total_samples=1e6,
        perp_tol=1e-1,
        mean_change_tol=1e-3,
        max_doc_update_iter=100,
        tol=0.0,
        doc_init="random",
        accelerate="none",
        n_jobs=None,
        verbose=0,
        random_state=None,
    ):
        store_init_arguments(self, locals())

    # ------------------------------------------------------------ validation
    def _check_counts(self, X, *, reset, whom, scaled_to=None):
        """Validate a document-term count matrix; return it as CSR (never modified).

        ``scaled_to``: online updates scale every mini-batch's statistics to
        this many documents (-1: the number of documents in ``X``); the scaled
        word counts must stay representable as well. None: no scaling (batch).
        """
        reject_complex(X, f"Input X of {whom}", "word counts")
        try:
            X = validate_data(self, X, reset=reset, accept_sparse="csr",
                              dtype=[np.float64, np.float32], ensure_all_finite=False,
                              ensure_min_samples=1)
        except ValueError as error:
            message = str(error)
            if "could not convert" in message or "convert string" in message:
                raise ValueError(
                    f"Input X of {whom} must contain only numbers (word counts); {message}. "
                    f"Turn raw text into counts first, e.g. with "
                    f"sklearn.feature_extraction.text.CountVectorizer."
                ) from error
            if "Expected 2D array" in message or "Found array with dim" in message:
                raise ValueError(
                    f"Input X of {whom} must be 2-D of shape (n_documents, n_words). "
                    f"{message}"
                ) from error
            if "while a minimum of" in message:
                raise ValueError(
                    f"Input X of {whom} must hold at least one document and one word: "
                    f"{message} Pass a non-empty matrix of shape (n_documents, n_words)."
                ) from error
            if "features" in message and not reset:
                raise ValueError(
                    f"{message} X must have one column per word of the vocabulary the "
                    f"model was fitted on; build it with the same vectorizer."
                ) from error
            raise
        _check_count_values(X.data if sp.issparse(X) else X, whom)
        if not sp.issparse(X):
            X = sp.csr_matrix(X)
        _check_total_count(self._largest_total_count(X, scaled_to), whom, scaled=bool(scaled_to))
        return X

    def _check_dask_counts(self, X, *, reset, whom):
        """A dask X's shape and dtype, lazily; its values are checked block by block
        where the blocks are computed (on the workers)."""
        X = check_dask_samples(X, name="X", n_features=None if reset else self.n_features_in_,
                               float_only=False)
        if reset:
            self.n_features_in_ = int(X.shape[1])
            self.__dict__.pop("feature_names_in_", None)
        return X

    def _largest_total_count(self, X, scaled_to):
        """The largest total word count the fit's statistics will hold (float64)."""
        # Summed in float64 whatever X's dtype: a float32 sum overflows sooner.
        doc_totals = np.asarray(X.sum(axis=1, dtype=np.float64)).ravel()
        total = float(doc_totals.sum())
        if scaled_to is None or doc_totals.size == 0:
            return total
        n_docs = doc_totals.size
        scaled_to = n_docs if scaled_to < 0 else scaled_to
        starts = np.arange(0, n_docs, self.batch_size)
        batch_totals = np.add.reduceat(doc_totals, starts)
        batch_sizes = np.diff(np.append(starts, n_docs))
        return max(total, float(np.max(batch_totals * (scaled_to / batch_sizes))))

    def _resolved_priors(self, n_features):
        K = self.n_components
        if self.doc_topic_prior is None:
            doc_topic_prior = 1.0 / K
        elif np.ndim(self.doc_topic_prior) == 0:
            doc_topic_prior = float(self.doc_topic_prior)
        else:
            doc_topic_prior = np.array(self.doc_topic_prior, dtype=np.float64, copy=True)
            if doc_topic_prior.shape != (K,):
                raise ValueError(
                    f"doc_topic_prior must be a positive number or have shape ({K},), one "
                    f"value per topic; got shape {doc_topic_prior.shape}."
                )
            if not (np.isfinite(doc_topic_prior).all() and (doc_topic_prior > 0).all()):
                raise ValueError("doc_topic_prior must be finite and strictly positive.")
        topic_word_prior = 1.0 / K if self.topic_word_prior is None else float(
            self.topic_word_prior)
        return doc_topic_prior, topic_word_prior

    # ------------------------------------------------------------ the model
    def _model(self, *, guard_bound=True):
        return LDAModel(self.topic_word_prior_,
                        learn_doc_topic_prior=self.learn_doc_topic_prior,
                        max_doc_update_iter=self.max_doc_update_iter,
                        mean_change_tol=self.mean_change_tol, doc_init=self.doc_init,
                        guard_bound=guard_bound)

    def _params(self):
        # The engine works in float64 whatever dtype the attributes are stored in.
        alpha = np.broadcast_to(np.asarray(self.doc_topic_prior_, dtype=np.float64),
                                (self.n_components,))
        return {"topic_word": np.asarray(self.components_, dtype=np.float64),
                "doc_topic_prior": np.array(alpha)}

    def _set_params_from(self, params, dtype=np.float64):
        """Store the engine's parameters; ``components_`` and its expectation in ``dtype``."""
        components = np.asarray(params["topic_word"], dtype=np.float64)
        _, exp_dirichlet = topic_word_expectations(components)
        self.components_ = components.astype(dtype, copy=False)
        self.exp_dirichlet_component_ = exp_dirichlet.astype(dtype, copy=False)
        alpha = np.asarray(params["doc_topic_prior"], dtype=np.float64)
        if self.learn_doc_topic_prior or np.ndim(self._initial_doc_topic_prior) == 1:
            self.doc_topic_prior_ = alpha.copy()
        else:
            self.doc_topic_prior_ = float(alpha[0])

    def _init_latent_vars(self, n_features):
        # Same draws in the same order as scikit-learn's _init_latent_vars.
        self.random_state_ = check_random_state(self.random_state)
        self.n_batch_iter_ = 1
        self.n_iter_ = 0
        self._initial_doc_topic_prior, self.topic_word_prior_ = self._resolved_priors(
            n_features)
        self.doc_topic_prior_ = self._initial_doc_topic_prior
        self.components_ = self.random_state_.gamma(
            _INIT_SHAPE, _INIT_SCALE, (self.n_components, n_features))
        _, self.exp_dirichlet_component_ = topic_word_expectations(self.components_)

    def _fit_data(self, X):
        """Training documents; their first E-step draws ``gamma`` (scikit-learn's start)."""
        return DocumentData.from_csr(X, self.n_components)

    def _inference_data(self, X):
        """Documents with ``gamma`` starting at ones (scikit-learn's transform)."""
        return DocumentData.from_csr(X, self.n_components,
                                     np.ones((X.shape[0], self.n_components)))

    # ------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the topics by variational EM (batch) or online variational Bayes.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_documents, n_words)
            Word counts; CSR is used as is (never modified). A dask array
            (blocks of dense counts or of scipy.sparse matrices) fitted in
            batch mode on a ``distributed`` cluster stays there: every block
            becomes documents with their ``gamma`` on a worker, every E-step
            runs on the blocks where they live and only the summed statistics
            come back (:class:`~emkit._engine.dask_documents.DaskDocumentData`),
            with the in-memory fit's result. Online, the blocks are streamed
            to the client one after another for every pass (at most two held
            there; the bound is evaluated on the workers), with the in-memory
            fit's mini-batches and result. Batch without a distributed client, a dask X is
            computed on the client first.
        y : ignored

        Returns
        -------
        self : LatentDirichletAllocation
        """
        if self.learning_method == "online" and self.accelerate != "none":
            raise ValueError(
                f"accelerate={self.accelerate!r} needs learning_method='batch' (online "
                f"variational Bayes has no EM path to extrapolate); use "
                f"learning_method='batch' or accelerate='none'.")
        if is_dask_array(X):
            if self.learning_method == "online":
                return self._fit_online_dask(X)
            client = cluster_client()
            if client is not None:
                return self._fit_dask(X, client)
            X = X.compute()
        X = self._check_counts(X, reset=True, whom="LatentDirichletAllocation.fit",
                               scaled_to=None if self.learning_method == "batch" else -1)
        self._init_latent_vars(X.shape[1])
        data = self._fit_data(X)
        with _numba_threads(self.n_jobs):
            if self.learning_method == "batch":
                self._fit_batch(data, X.dtype)
            else:
                # Online EM has no monotone objective to guard (see LDAModel).
                self._fit_online(self._model(guard_bound=False),
                                 _DocumentsInMemory(data, self._inference_data(X)), X.dtype)
        return self

    def _fit_online_dask(self, X):
        """Online variational Bayes over the blocks of a dask X, streamed in order."""
        whom = "LatentDirichletAllocation.fit"
        X = self._check_dask_counts(X, reset=True, whom=whom)
        block_args = [(whom,)] * X.numblocks[0]
        # One pass on the workers validates every block and counts the words.
        n_tokens = sum_blocks_of(_block_tokens, X, block_args)
        _check_total_count(n_tokens, whom)
        self._init_latent_vars(X.shape[1])
        documents = _DocumentsStreamed(X, self.n_components, n_tokens, whom)
        with _numba_threads(self.n_jobs):
            self._fit_online(self._model(guard_bound=False), documents,
                             np.float32 if X.dtype == np.float32 else np.float64)
        return self

    def _fit_dask(self, X, client):
        """Batch EM on a dask X whose documents stay on the cluster's workers."""
        whom = "LatentDirichletAllocation.fit"
        X = self._check_dask_counts(X, reset=True, whom=whom)
        make_documents = partial(_block_documents, n_topics=self.n_components,
                                 n_total_docs=int(X.shape[0]), whom=whom)
        # The first pass: documents built and validated on the workers.
        data = DaskDocumentData(X, make_documents, client)
        try:
            _check_total_count(data.n_tokens, whom)
            self._init_latent_vars(X.shape[1])
            self._fit_batch(data, np.float32 if X.dtype == np.float32 else np.float64)
        finally:
            data.release()
        return self

    def _batch_progress(self, n_tokens):
        """``on_commit`` callback printing scikit-learn's progress lines, or None."""
        if not self.verbose:
            return None
        n_e_steps = [0]
        # Plain EM commits one iterate per M-step (scikit-learn's iterations);
        # SQUAREM also commits accepted extrapolations, so its lines count
        # accepted iterates, not M-steps.
        accepted = self.accelerate != "none"

        def report(bound):
            # E-step 0 scores the initial parameters; E-step i follows M-step i.
            iteration = n_e_steps[0]
            n_e_steps[0] += 1
            if iteration == 0:
                return
            evaluate = self.evaluate_every > 0 and iteration % self.evaluate_every == 0
            _progress(iteration, self.max_iter,
                      _perplexity(bound, n_tokens) if evaluate else None, accepted)

        return report

    def _fit_batch(self, data, dtype):
        data.on_commit = self._batch_progress(data.n_tokens)
        result = fit_em(self._model(guard_bound=True), data, [self._params()],
                        max_iter=self.max_iter, tol=self.tol, random_state=self.random_state_,
                        accelerate=self.accelerate)
        self._set_params_from(result.params, dtype)
        self.n_e_steps_ = int(result.n_e_steps)
        self.n_iter_ = int(result.n_iter)
        self.n_batch_iter_ = 1 + self.n_iter_
        self.history_ = np.asarray(result.history, dtype=np.float64)
        self.converged_ = bool(result.converged)
        self.bound_ = _perplexity(result.objective, data.n_tokens)
        if result.decreases:
            iteration, drop = result.decreases[0]
            warnings.warn(
                f"The variational bound decreased by {drop:.3g} at iteration {iteration}; "
                f"batch variational EM should never do that. Please report it with the data.",
                RuntimeWarning, stacklevel=3)

    def _fit_online(self, model, documents, dtype):
        """``max_iter`` passes of online variational Bayes over ``documents`` in order.

        ``documents`` is :class:`_DocumentsInMemory` or :class:`_DocumentsStreamed`.
        Every ``evaluate_every`` passes the bound of all documents (their
        ``gamma`` run from ones, as scikit-learn does) is recorded in a
        :class:`~emkit._engine.monitor.ConvergenceMonitor` whose rule stops
        when the perplexity changed by less than ``perp_tol``.
        """
        n_tokens = documents.n_tokens
        monitor = ConvergenceMonitor(
            tol=self.perp_tol, n_samples=documents.n_docs, nonmonotone_rtol=np.inf,
            rule=AbsoluteChangeRule(self.perp_tol,
                                    quantity=lambda bound: _perplexity(bound, n_tokens)))

        def evaluate(params):
            return documents.doc_bound(model, params) + model.log_prior(params)

        def after_pass(pass_index, params):
            self.n_iter_ += 1
            if self.evaluate_every > 0 and (pass_index + 1) % self.evaluate_every == 0:
                monitor.record(evaluate(params))
                if self.verbose:
                    _progress(pass_index + 1, self.max_iter,
                              _perplexity(monitor.history[-1], n_tokens))
                return monitor.converged
            if self.verbose:
                _progress(pass_index + 1, self.max_iter)
            return False

        params = self._stream(model, documents, total_weight=float(documents.n_docs),
                              n_passes=self.max_iter, until=after_pass)
        self.converged_ = monitor.converged
        monitor.record(evaluate(params))
        self._set_params_from(params, dtype)
        self.history_ = np.asarray(monitor.history, dtype=np.float64)
        self.bound_ = _perplexity(monitor.history[-1], n_tokens)

    def _stream(self, model, data, *, total_weight, n_passes, until=None):
        """Passes of online updates over ``data.batches(batch_size)`` (in order)
        through the engine's stepwise stepper, continuing from the current
        parameters and ``n_batch_iter_`` (Hoffman et al.'s step sizes)."""
        params = self._params()
        stepwise = StepwiseEM(self.learning_offset, self.learning_decay).resume(
            model, params, scale=total_weight, n_steps=self.n_batch_iter_)
        params, _ = stepwise_passes(stepwise, params, lambda _: data.batches(self.batch_size),
                                    lambda _: model, n_passes=n_passes, scale=total_weight,
                                    rng=self.random_state_, until=until)
        self.n_batch_iter_ = stepwise.n_steps
        return params

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Online variational Bayes on the mini-batches of ``X`` (one pass).

        The mini-batch statistics are scaled to a corpus of ``total_samples``
        documents and blended into the current parameters with the step size
        ``(learning_offset + n_batch_iter_) ** -learning_decay``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_documents, n_words)
            A dask array is streamed to the client block after block, each
            block a ``partial_fit`` of its own (its last mini-batch may be
            short): the same as ``partial_fit`` of the computed array when
            every block holds a multiple of ``batch_size`` documents.
        y : ignored

        Returns
        -------
        self : LatentDirichletAllocation
        """
        first_time = not hasattr(self, "components_")
        if is_dask_array(X):
            X = self._check_dask_counts(X, reset=first_time,
                                        whom="LatentDirichletAllocation.partial_fit")
            for block in stream_blocks(X.to_delayed().ravel()):
                self.partial_fit(block)
            return self
        X = self._check_counts(X, reset=first_time,
                               whom="LatentDirichletAllocation.partial_fit",
                               scaled_to=float(self.total_samples))
        # Like scikit-learn, the dtype of the first call's X is kept.
        dtype = X.dtype if first_time else self.components_.dtype
        if first_time:
            self._init_latent_vars(X.shape[1])
        data = self._fit_data(X)
        with _numba_threads(self.n_jobs):
            params = self._stream(self._model(guard_bound=False), data,
                                  total_weight=float(self.total_samples), n_passes=1)
        self._set_params_from(params, dtype)
        return self

    @classmethod
    def from_params(cls, components, doc_topic_prior=None, topic_word_prior=None, **kwargs):
        """A ready-to-use model from known topic-word parameters (no fitting).

        Parameters
        ----------
        components : array-like of shape (n_components, n_features)
            ``lambda`` (positive), e.g. another library's fitted topic-word
            pseudo-counts.
        doc_topic_prior : float or array-like of shape (n_components,), optional
        topic_word_prior : float, optional
        **kwargs : further constructor parameters (``mean_change_tol``, ...)

        Returns
        -------
        LatentDirichletAllocation
            ``transform``, ``score`` and ``perplexity`` work at once.
        """
        components = np.array(components, dtype=np.float64, copy=True)
        if components.ndim != 2 or not (np.isfinite(components).all()
                                        and (components > 0).all()):
            raise ValueError("components must be a 2-D array of positive, finite numbers "
                             "(topic-word pseudo-counts), shape (n_components, n_features).")
        model = cls(n_components=components.shape[0], doc_topic_prior=doc_topic_prior,
                    topic_word_prior=topic_word_prior, **kwargs)
        model._initial_doc_topic_prior, model.topic_word_prior_ = model._resolved_priors(
            components.shape[1])
        model.doc_topic_prior_ = model._initial_doc_topic_prior
        model.components_ = components
        _, model.exp_dirichlet_component_ = topic_word_expectations(components)
        model.n_features_in_ = components.shape[1]
        model.n_batch_iter_, model.n_iter_ = 1, 0
        model.random_state_ = check_random_state(model.random_state)
        return model

    # ------------------------------------------------------------ inference
    def _infer(self, X, whom):
        """Validated documents, their converged ``gamma`` (from ones), doc bound, X's dtype."""
        check_is_fitted(self)
        X = self._check_counts(X, reset=False, whom=whom)
        data = self._inference_data(X)
        with _numba_threads(self.n_jobs):
            gamma, bound = self._model().infer(self._params(), data)
        return data, gamma, bound, X.dtype

    def transform(self, X, *, normalize=True):
        """Topic proportions of documents.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_documents, n_words)
        normalize : bool, default=True
            Return ``E_q[theta]`` (rows sum to 1) rather than ``gamma``.

        Returns
        -------
        ndarray or dask array of shape (n_documents, n_components)
            In X's dtype (float32 for float32 input, as scikit-learn does);
            a dask X gives a dask array, computed block by block where the
            blocks live.
        """
        if is_dask_array(X):
            check_is_fitted(self)
            X = self._check_dask_counts(X, reset=False,
                                        whom="LatentDirichletAllocation.transform")
            return map_rows(partial(self.transform, normalize=normalize), X,
                            n_columns=self.n_components,
                            dtype=np.float32 if X.dtype == np.float32 else np.float64)
        _, gamma, _, dtype = self._infer(X, "LatentDirichletAllocation.transform")
        if normalize:
            gamma = gamma / gamma.sum(axis=1, keepdims=True)
        return gamma.astype(dtype, copy=False)

    def fit_transform(self, X, y=None, *, normalize=True):
        """Fit, then return the topic proportions of ``X``, shape (n_documents, n_components)."""
        return self.fit(X, y).transform(X, normalize=normalize)

    def _bound(self, X, whom, sub_sampling=False):
        """The bound of ``X`` and its numbers of documents and words."""
        if is_dask_array(X):
            check_is_fitted(self)
            X = self._check_dask_counts(X, reset=False, whom=whom)
            # Summed on the workers: the documents never come to the client.
            block_args = [(whom,)] * X.numblocks[0]
            doc_part = sum_blocks_of(self._doc_bound_of_block, X, block_args)
            n_docs = int(X.shape[0])
            tokens = partial(sum_blocks_of, _block_tokens, X, block_args)
        else:
            data, _, doc_part, _ = self._infer(X, whom)
            n_docs = data.n_docs
            tokens = partial(getattr, data, "n_tokens")
        if sub_sampling:
            doc_part *= float(self.total_samples) / n_docs
        return doc_part + self._model().log_prior(self._params()), n_docs, tokens

    def _doc_bound_of_block(self, block, whom):
        """The documents' part of the bound of one block of a dask X (on a worker)."""
        return self._infer(block, whom)[2]

    def score(self, X, y=None):
        """Approximate log-likelihood: the variational bound of ``X`` (scikit-learn's).

        A dask ``X`` is scored block by block on the workers and summed there.

        ``sum_d E_q[log p(w_d, theta_d, z_d | beta) - log q(theta_d, z_d)]
        + sum_k E_q[log p(beta_k) - log q(beta_k)]`` at the fitted ``lambda``
        with every document's ``gamma`` run to convergence from ones.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_documents, n_words)
        y : ignored

        Returns
        -------
        float
        """
        bound, _, _ = self._bound(X, "LatentDirichletAllocation.score")
        return float(bound)

    def perplexity(self, X, sub_sampling=False):
        """Approximate perplexity ``exp(-score(X) / n_words(X))`` (scikit-learn's).

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_documents, n_words)
        sub_sampling : bool, default=False
            Scale the documents' part of the bound and the word count by
            ``total_samples / n_documents``.

        Returns
        -------
        float
        """
        bound, n_docs, tokens = self._bound(X, "LatentDirichletAllocation.perplexity",
                                            sub_sampling)
        n_tokens = tokens()
        if sub_sampling:
            n_tokens *= float(self.total_samples) / n_docs
        if n_tokens <= 0:
            raise ValueError("Input X of LatentDirichletAllocation.perplexity has no words "
                             "(all counts are 0); perplexity is per word.")
        return float(np.exp(-bound / n_tokens))

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = False
        return tags
