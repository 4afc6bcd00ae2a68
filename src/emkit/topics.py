"""Inspecting topic models: top words and topic coherence.

Both functions take a fitted topic model (anything with ``components_`` of
shape (n_topics, n_words), e.g. :class:`emkit.LatentDirichletAllocation` or
scikit-learn's) or the topic-word matrix itself.

Coherence measures (``D`` documents of ``X``; ``D(v)`` documents containing
word ``v``; ``D(v, u)`` documents containing both; a topic's top words
``v_1, ..., v_M`` in order of decreasing weight):

UMass (Mimno, Wallach, Talley, Leenders & McCallum 2011, eq. 1)::

    C_UMass = sum_{m=2..M} sum_{l=1..m-1} log( (D(v_m, v_l) + 1) / D(v_l) )

a sum over the M(M-1)/2 ordered pairs, each word conditioned on the
higher-ranked one; higher (closer to 0) is more coherent. A term whose
``D(v_l)`` is 0 (a top word absent from ``X``) is undefined and left out.
gensim's ``u_mass`` differs: it adds 1e-12 instead of 1 and averages over the
pairs instead of summing.

NPMI (Bouma 2009; as a topic score, Lau, Newman & Baldwin 2014 and Röder,
Both & Hinneburg 2015), with document co-occurrence as the probability::

    p(v) = D(v) / D,  p(v, u) = D(v, u) / D
    NPMI(v, u) = log( p(v, u) / (p(v) p(u)) ) / (-log p(v, u))
    C_NPMI = mean over the M(M-1)/2 unordered pairs of NPMI(v_i, v_j)

in [-1, 1], higher is more coherent. By Bouma's limits, a pair that never
co-occurs scores -1 and a pair that occurs together in every document scores 1.
(Röder et al.'s C_NPMI counts co-occurrence in sliding windows of 10 words;
with only a document-term matrix, the window is the document.)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array

from ._validation import reject_complex

__all__ = ["top_words", "topic_coherence", "TopicCoherence"]

_MEASURES = ("umass", "npmi")


class TopicCoherence(NamedTuple):
    """Coherence of every topic and their mean.

    Attributes
    ----------
    per_topic : ndarray of shape (n_topics,)
    mean : float
    measure : str
    top_word_indices : ndarray of shape (n_topics, top_n)
        The columns of ``X`` that were scored, most probable first.
    """

    per_topic: np.ndarray
    mean: float
    measure: str
    top_word_indices: np.ndarray


def _topic_word_matrix(model):
    topic_word = getattr(model, "components_", model)
    reject_complex(topic_word, "model (its topic-word weights)", "non-negative weights")
    topic_word = np.asarray(topic_word, dtype=np.float64)
    if topic_word.ndim != 2:
        raise ValueError(
            "model must be a fitted topic model with components_ of shape (n_topics, "
            f"n_words), or that matrix itself; got an array of shape {topic_word.shape}."
        )
    return topic_word


def _top_indices(topic_word, n):
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"The number of top words must be a positive integer; got {n!r}.")
    n = min(int(n), topic_word.shape[1])
    # Stable sort on the negated weights: ties keep vocabulary order.
    return np.argsort(-topic_word, axis=1, kind="stable")[:, :n]


def top_words(model, vocabulary, n=10):
    """The ``n`` most probable words of every topic.

    Parameters
    ----------
    model : fitted topic model or array-like of shape (n_topics, n_words)
        Anything with ``components_`` (topic-word weights), or the weights.
    vocabulary : sequence of str of length n_words
        ``vocabulary[w]`` names column ``w`` (e.g. ``load_reuters().vocabulary``
        or ``CountVectorizer.get_feature_names_out()``).
    n : int, default=10

    Returns
    -------
    list of n_topics lists of str
        Most probable word first.

    Examples
    --------
    >>> import numpy as np
    >>> from emkit import top_words
    >>> topics = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])  # (n_topics, n_words)
    >>> top_words(topics, ["apple", "bread", "cheese"], n=2)
    [['apple', 'bread'], ['cheese', 'apple']]
    """
    topic_word = _topic_word_matrix(model)
    vocabulary = list(vocabulary)
    if len(vocabulary) != topic_word.shape[1]:
        raise ValueError(
            f"vocabulary has {len(vocabulary)} words but the model has "
            f"{topic_word.shape[1]}; pass the vocabulary the model was fitted with."
        )
    return [[vocabulary[w] for w in row] for row in _top_indices(topic_word, n)]


def _document_occurrence(X, columns):
    """Binary (n_docs, len(columns)) CSC matrix: does document d contain word c?"""
    if sp.issparse(X):
        counts = sp.csc_matrix(X)[:, columns]  # a new matrix: X is never modified
        if counts.data.size and (not np.isfinite(counts.data).all() or counts.data.min() < 0):
            raise ValueError("X must hold finite, non-negative word counts.")
        present = sp.csc_matrix(((counts.data > 0).astype(np.float64), counts.indices.copy(),
                                 counts.indptr.copy()), shape=counts.shape)
        present.sum_duplicates()
        present.data = np.minimum(present.data, 1.0)  # duplicates of one entry: still 1
        present.eliminate_zeros()
        return present
    if not np.isfinite(X).all() or (X < 0).any():
        raise ValueError("X must hold finite, non-negative word counts.")
    return sp.csc_matrix((X[:, columns] > 0).astype(np.float64))


def _reference_counts(X):
    """``X`` as a float64 array or sparse matrix (any array-like: lists, DataFrames)."""
    reject_complex(X, "X", "word counts")
    try:
        # Never modifies X; converts (a copy) only what is not float64 already.
        return check_array(X, accept_sparse=("csr", "csc", "coo"), dtype=np.float64,
                           ensure_all_finite=False, ensure_min_samples=0,
                           ensure_min_features=0, input_name="X")
    except ValueError as error:
        raise ValueError(
            f"X must be a 2-D matrix of word counts of shape (n_documents, n_words), e.g. "
            f"from CountVectorizer: {error}"
        ) from error


def topic_coherence(model, X, top_n=10, measure="umass"):
    """Coherence of every topic's top words, from document co-occurrence in ``X``.

    See the module docstring for the formulas of ``"umass"`` (Mimno et al.
    2011) and ``"npmi"`` (Bouma 2009).

    Parameters
    ----------
    model : fitted topic model or array-like of shape (n_topics, n_words)
    X : {array-like, sparse matrix} of shape (n_documents, n_words)
        Document-term counts (usually the training corpus for UMass, which
        was designed for it; any reference corpus for NPMI): an array, a list
        of lists, a DataFrame or a sparse matrix; real, finite, non-negative.
    top_n : int, default=10
        Top words per topic that are scored.
    measure : {"umass", "npmi"}, default="umass"

    Returns
    -------
    TopicCoherence
        ``per_topic`` (n_topics,), ``mean``, ``measure`` and the scored
        ``top_word_indices``; it unpacks as ``per_topic, mean, ...``.

    Examples
    --------
    >>> import numpy as np
    >>> from emkit import topic_coherence
    >>> topics = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])  # (n_topics, n_words)
    >>> X = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1], [2, 0, 1]])  # (n_documents, n_words)
    >>> result = topic_coherence(topics, X, top_n=2)
    >>> result.per_topic.round(3), round(result.mean, 3), result.measure
    (array([-0.405,  0.   ]), -0.203, 'umass')
    """
    if measure not in _MEASURES:
        raise ValueError(f"measure must be one of {_MEASURES}; got {measure!r}.")
    topic_word = _topic_word_matrix(model)
    X = _reference_counts(X)
    if X.shape[1] != topic_word.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} words (columns) but the model has {topic_word.shape[1]}; "
            f"use the vocabulary the model was fitted with."
        )
    n_docs = X.shape[0]
    if n_docs == 0:
        raise ValueError("X has no documents; coherence needs a reference corpus.")
    top = _top_indices(topic_word, top_n)
    columns, position = np.unique(top, return_inverse=True)
    position = position.reshape(top.shape)
    present = _document_occurrence(X, columns)
    doc_freq = np.asarray(present.sum(axis=0)).ravel()
    co_freq = (present.T @ present).toarray()
    scores = np.array([
        _umass(position[k], doc_freq, co_freq) if measure == "umass"
        else _npmi(position[k], doc_freq, co_freq, n_docs)
        for k in range(top.shape[0])
    ])
    return TopicCoherence(per_topic=scores, mean=float(scores.mean()), measure=measure,
                          top_word_indices=top)


def _umass(words, doc_freq, co_freq):
    total = 0.0
    for m in range(1, len(words)):
        for l in range(m):
            conditioning = doc_freq[words[l]]
            if conditioning > 0:
                total += np.log((co_freq[words[m], words[l]] + 1.0) / conditioning)
    return total


def _npmi(words, doc_freq, co_freq, n_docs):
    values = []
    for i in range(len(words)):
        for j in range(i + 1, len(words)):
            joint = co_freq[words[i], words[j]] / n_docs
            if joint == 0:
                values.append(-1.0)
            elif joint == 1:
                values.append(1.0)
            else:
                marginal = doc_freq[words[i]] * doc_freq[words[j]] / n_docs**2
                values.append(np.log(joint / marginal) / -np.log(joint))
    return float(np.mean(values)) if values else 0.0
