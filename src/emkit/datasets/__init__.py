"""Small real data sets bundled with emkit, for examples, tests and the demo.

Every loader returns a :class:`sklearn.utils.Bunch`. The files live in
``emkit/datasets/data/`` and are read through :mod:`importlib.resources`, so
they work from an installed wheel, offline.
"""

from __future__ import annotations

import csv
import io
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_iris", "load_nile", "load_old_faithful", "load_reuters"]

_N_REUTERS_DOCS = 395
_N_REUTERS_WORDS = 4258
_N_REUTERS_NNZ = 60114


def _read_text(*parts: str) -> str:
    """Text of a bundled data file, ``parts`` relative to ``emkit/datasets/data``."""
    resource = resources.files(__name__).joinpath("data")
    for part in parts:
        resource = resource.joinpath(part)
    try:
        return resource.read_text(encoding="utf-8")
    except FileNotFoundError:  # pragma: no cover - broken installation
        raise FileNotFoundError(
            f"emkit's bundled data file {'/'.join(parts)!r} is missing; the installation "
            f"is incomplete (reinstall emkit)."
        ) from None


def _read_csv(name: str) -> tuple[list[str], np.ndarray]:
    rows = [row for row in csv.reader(io.StringIO(_read_text(name))) if row]
    header = [cell.strip() for cell in rows[0]]
    data = np.array([[float(cell) for cell in row] for row in rows[1:]], dtype=np.float64)
    return header, data


def _to_frame(data, columns):
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(
            "as_frame=True needs pandas, which is not installed; install it with "
            "`pip install pandas` (or `pip install emkit[pandas]`)."
        ) from exc
    return pd.DataFrame(data, columns=list(columns))


def load_old_faithful(*, as_frame=False):
    """Old Faithful geyser eruptions: 272 samples, 2 features (two clear clusters).

    Source: Azzalini & Bowman (1990), as distributed with R's
    ``datasets::faithful``.

    Parameters
    ----------
    as_frame : bool, default=False
        Also return the data as a pandas DataFrame in ``frame`` (needs pandas).

    Returns
    -------
    Bunch
        data : ndarray of shape (272, 2), float64
            Eruption length (minutes) and waiting time to the next eruption
            (minutes).
        feature_names : list of str
            ``["eruptions", "waiting"]``.
        frame : pandas.DataFrame of shape (272, 2)
            Only when ``as_frame=True``.
        DESCR : str

    Examples
    --------
    >>> from emkit.datasets import load_old_faithful
    >>> load_old_faithful().data.shape
    (272, 2)
    """
    feature_names, data = _read_csv("old_faithful.csv")
    bunch = Bunch(data=data, feature_names=feature_names, DESCR=_FAITHFUL_DESCR)
    if as_frame:
        bunch.frame = _to_frame(data, feature_names)
    return bunch


def load_iris(*, as_frame=False):
    """Fisher's iris data: 150 samples, 4 features, 3 species.

    A thin wrapper of :func:`sklearn.datasets.load_iris` (scikit-learn ships
    the data) that returns emkit's layout: ``data`` is always an ndarray and
    ``frame`` is added when ``as_frame=True``.

    Source: Fisher (1936), as distributed with scikit-learn
    (:func:`sklearn.datasets.load_iris`).

    Parameters
    ----------
    as_frame : bool, default=False
        Also return a pandas DataFrame in ``frame`` with the four features and
        a ``target`` column (needs pandas).

    Returns
    -------
    Bunch
        data : ndarray of shape (150, 4), float64
        target : ndarray of shape (150,), int
        target_names : ndarray of str, ``["setosa", "versicolor", "virginica"]``
        feature_names : list of str
        frame : pandas.DataFrame of shape (150, 5)
            Only when ``as_frame=True``.
        DESCR : str

    Examples
    --------
    >>> from emkit.datasets import load_iris
    >>> iris = load_iris()
    >>> iris.data.shape, iris.target.shape
    ((150, 4), (150,))
    >>> iris.target_names.tolist()
    ['setosa', 'versicolor', 'virginica']
    """
    from sklearn.datasets import load_iris as _sklearn_load_iris

    iris = _sklearn_load_iris()
    feature_names = list(iris.feature_names)
    bunch = Bunch(
        data=np.asarray(iris.data, dtype=np.float64),
        target=np.asarray(iris.target),
        target_names=np.asarray(iris.target_names),
        feature_names=feature_names,
        DESCR=iris.DESCR,
    )
    if as_frame:
        frame = _to_frame(bunch.data, feature_names)
        frame["target"] = bunch.target
        bunch.frame = frame
    return bunch


def load_nile(*, as_frame=False):
    """Annual flow of the Nile at Aswan, 1871-1970: a series with a level change.

    A 2-state Gaussian hidden Markov model finds the drop in level near 1898
    (the start of the first Aswan dam's construction).

    Source: Cobb (1978), as distributed with statsmodels.

    Parameters
    ----------
    as_frame : bool, default=False
        Also return a pandas DataFrame in ``frame`` with columns ``year`` and
        ``volume`` (needs pandas).

    Returns
    -------
    Bunch
        data : ndarray of shape (100,), float64
            Annual flow volume, 10^8 cubic metres.
        years : ndarray of shape (100,), int
            1871 to 1970.
        feature_names : list of str
            ``["volume"]``.
        frame : pandas.DataFrame of shape (100, 2)
            Only when ``as_frame=True``.
        DESCR : str

    Examples
    --------
    >>> from emkit.datasets import load_nile
    >>> nile = load_nile()
    >>> int(nile.years[0]), float(nile.data[0])
    (1871, 1120.0)
    """
    header, table = _read_csv("nile.csv")
    columns = {name: table[:, i] for i, name in enumerate(header)}
    years = columns["year"].astype(np.int64)
    data = np.ascontiguousarray(columns["volume"], dtype=np.float64)
    bunch = Bunch(data=data, years=years, feature_names=["volume"], DESCR=_NILE_DESCR)
    if as_frame:
        frame = _to_frame(data, ["volume"])
        frame.insert(0, "year", years)
        bunch.frame = frame
    return bunch


def load_reuters():
    """395 Reuters news documents as a document-term count matrix (for topic models).

    Source: Reuters-21578 sample, as distributed with the ``lda`` package
    (MPL-2.0).

    Returns
    -------
    Bunch
        data : scipy.sparse.csr_matrix of shape (395, 4258), float64
            ``data[d, w]`` is how often word ``w`` occurs in document ``d``.
        vocabulary : list of str
            The 4258 words; ``vocabulary[w]`` is column ``w``.
        titles : list of str
            The 395 document titles (the leading document number of the
            source file removed).
        feature_names : list of str
            Same as ``vocabulary``.
        DESCR : str

    Notes
    -----
    The counts are parsed from LDA-C lines ``n id:count id:count ...``, where
    ``n`` is the number of distinct words of the document and ``id`` a 0-based
    vocabulary index.

    Examples
    --------
    >>> from emkit.datasets import load_reuters
    >>> reuters = load_reuters()
    >>> reuters.data.shape, len(reuters.vocabulary), len(reuters.titles)
    ((395, 4258), 4258, 395)
    """
    from scipy import sparse

    vocabulary = _read_text("reuters", "reuters.tokens").splitlines()
    titles = [_strip_document_number(line, i) for i, line in
              enumerate(_read_text("reuters", "reuters.titles").splitlines())]
    data = _parse_ldac(_read_text("reuters", "reuters.ldac"), len(vocabulary), sparse)
    expected = (_N_REUTERS_DOCS, _N_REUTERS_WORDS)
    if data.shape != expected or data.nnz != _N_REUTERS_NNZ or len(titles) != expected[0]:
        raise ValueError(  # pragma: no cover - corrupted installation
            f"emkit's bundled Reuters data is corrupted: parsed {data.shape} with {data.nnz} "
            f"non-zeros and {len(titles)} titles; expected {expected} with "
            f"{_N_REUTERS_NNZ} non-zeros and {expected[0]} titles."
        )
    return Bunch(data=data, vocabulary=vocabulary, titles=titles, feature_names=vocabulary,
                 DESCR=_REUTERS_DESCR)


def _strip_document_number(line: str, index: int) -> str:
    number, _, rest = line.partition(" ")
    return rest if number == str(index) else line


def _parse_ldac(text: str, n_words: int, sparse):
    """CSR float64 counts from LDA-C text, checking each line's term count."""
    indptr = [0]
    indices: list[int] = []
    counts: list[int] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        n_terms = int(fields[0])
        if n_terms != len(fields) - 1:
            raise ValueError(f"LDA-C line {line_number} announces {n_terms} distinct terms "
                             f"but lists {len(fields) - 1}.")
        for field in fields[1:]:
            word, _, count = field.partition(":")
            indices.append(int(word))
            counts.append(int(count))
        indptr.append(len(indices))
    matrix = sparse.csr_matrix(
        (np.asarray(counts, dtype=np.float64), np.asarray(indices, dtype=np.int32),
         np.asarray(indptr, dtype=np.int64)),
        shape=(len(indptr) - 1, n_words),
    )
    matrix.sort_indices()
    return matrix


_FAITHFUL_DESCR = """\
Old Faithful geyser data
------------------------

272 eruptions of the Old Faithful geyser, Yellowstone National Park.

:Number of samples: 272
:Features: eruptions -- eruption length (minutes);
           waiting -- waiting time to the next eruption (minutes)

Short eruptions are followed by short waits and long ones by long waits, so
the data form two well-separated, elongated clusters: the classic example for
Gaussian mixtures (BIC picks 2 or 3 components depending on the covariance
structure).

Source: Azzalini, A. and Bowman, A. W. (1990). A look at some data on the Old
Faithful geyser. Applied Statistics 39, 357-365; as distributed with R's
datasets::faithful.
"""

_NILE_DESCR = """\
Nile river flow
---------------

Annual flow of the river Nile at Aswan, 1871-1970, in 10^8 cubic metres.

:Number of samples: 100 (years 1871-1970)
:Feature: volume

The mean level drops markedly around 1898 (the first Aswan dam was begun in
1898), a standard test case for change-point detection and for two-state
hidden Markov models.

Source: Cobb, G. W. (1978). The problem of the Nile: conditional solution to a
change-point problem. Biometrika 65, 243-251; as distributed with statsmodels.
"""

_REUTERS_DESCR = """\
Reuters news sample
-------------------

395 Reuters newswire documents (1996-1997) as a bag of words over a
4,258-word vocabulary (60,114 non-zero document-word counts).

:Number of documents: 395
:Vocabulary size: 4258

Source: a sample of the Reuters-21578 collection, as distributed with the
`lda` Python package (MPL-2.0), in LDA-C format.
"""
