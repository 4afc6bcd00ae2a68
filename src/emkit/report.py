"""A self-contained HTML report of a model fitted to data (needs matplotlib).

:func:`write_report` fits one of emkit's models (any name of the command
line's :data:`emkit.cli.MODELS`, or an unfitted estimator) for a range of
numbers of components (states, topics, factors), chooses one, and writes one
HTML page with no external files (the pictures are embedded as base64 PNG) in
five sections:

1. the data summary (samples, sequences or documents; a summary of every
   feature or the vocabulary);
2. the selection table over the numbers of components, with the criterion
   that chose: BIC (or ICL, AIC) for the models with a likelihood, the
   held-out perplexity for LDA, the silhouette for k-means; a Gaussian
   mixture is chosen over mclust's grid of covariance structures too
   (:func:`emkit.select_model`);
3. the chosen model's parameters as tables;
4. its plots (:func:`emkit.plotting.model_figures`);
5. the EM teaching view: for Gaussian-type mixtures of one or two features,
   every E- and M-step with the log-likelihood, the ELBO and the KL gap
   (:func:`emkit.explain_em`); for the other models, the trace of the
   objective EM raised, iteration by iteration.

The command line's ``emkit report data.csv -o report.html [--model NAME]``
calls it.
"""

from __future__ import annotations

import base64
import html
import os
import warnings

import numpy as np

__all__ = ["write_report", "build_report", "ComponentSelection", "default_n_components",
           "SECTIONS", "DEFAULT_COVARIANCE_TYPES"]

#: The page's sections, as (HTML id, heading), in order.
SECTIONS = (("data-summary", "Data summary"), ("selection", "Model selection"),
            ("parameters", "The chosen model's parameters"), ("plots", "Plots"),
            ("teaching", "EM, step by step"))

#: The default grid's structures (a quick subset of mclust's 14; E and V for one feature).
DEFAULT_COVARIANCE_TYPES = ("EII", "VII", "EEI", "VVI", "EEE", "VVV")

# Models whose components are Gaussian (or, for k-means, its zero-variance
# limit): their teaching view is the Gaussian mixture's E- and M-steps.
_GAUSSIAN_TYPE = ("GaussianMixture", "BayesianGaussianMixture", "StudentTMixture",
                  "MixtureOfFactorAnalyzers", "KMeans")
# What one latent unit is called, by the models' kind.
_UNIT = {"hmm": "state", "text": "topic", "factors": "factor"}
# A held-out share of the documents scores the topic models (in-sample
# perplexity falls as topics are added, so it cannot choose their number).
_HELD_OUT_SHARE = 0.2
_MIN_DOCUMENTS_TO_CHOOSE = 10
# Wider tables are cut to their first columns (a note says so).
_MAX_COLUMNS = 30

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1150px; color: #222; line-height: 1.4; padding: 0 1em; }
h1 { border-bottom: 2px solid #446; padding-bottom: .2em; }
h2 { margin-top: 2em; color: #335; border-bottom: 1px solid #ccd; }
table { border-collapse: collapse; margin: .6em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccd; padding: .25em .6em; text-align: right; }
th { background: #eef; }
td.name, th.name { text-align: left; }
td.best { font-weight: bold; background: #ffeeb0; }
img { max-width: 100%; height: auto; display: block; margin: .5em 0 1.5em; }
p.note { color: #555; font-size: 0.9em; }
"""


# ------------------------------------------------------------------ HTML pieces
def _fmt(value, digits=5):
    value = float(value)
    return "NA" if not np.isfinite(value) else format(value, f".{digits}g")


def _table(header, rows, *, name_columns=1, classes=None):
    """An HTML table; the first ``name_columns`` cells of a row are left-aligned names."""
    out = ["<table>", "<tr>" + "".join(
        f'<th class="name">{html.escape(str(h))}</th>' if j < name_columns
        else f"<th>{html.escape(str(h))}</th>" for j, h in enumerate(header)) + "</tr>"]
    for i, row in enumerate(rows):
        cells = []
        for j, cell in enumerate(row):
            css = ["name"] if j < name_columns else []
            if classes is not None and classes[i][j]:
                css.append(classes[i][j])
            attribute = f' class="{" ".join(css)}"' if css else ""
            cells.append(f"<td{attribute}>{html.escape(str(cell))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _note(text):
    return f'<p class="note">{text}</p>'


def _image(figure, alt):
    from .plotting import figure_to_png

    data = base64.b64encode(figure_to_png(figure)).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _cut(names, values=None):
    """The first _MAX_COLUMNS column names (and the values' columns), and a note if cut."""
    if len(names) <= _MAX_COLUMNS:
        return names, values, ""
    note = _note(f"The first {_MAX_COLUMNS} of {len(names)} columns are shown.")
    return names[:_MAX_COLUMNS], None if values is None else values[..., :_MAX_COLUMNS], note


def _matrix_table(matrix, row_names, column_names, corner=""):
    column_names, matrix, note = _cut(list(column_names), np.asarray(matrix))
    rows = [[row_names[i], *(_fmt(v) for v in matrix[i])] for i in range(matrix.shape[0])]
    return _table([corner, *column_names], rows) + note


# ------------------------------------------------------------------ the data
class _Data:
    """What the model is fitted on: ``X`` (a sparse count matrix for texts), its
    column ``names``, ``lengths`` (HMMs), ``y`` and ``target_name`` (regression)."""

    def __init__(self, X, names, *, lengths=None, y=None, target_name="y", documents=None):
        self.X, self.names, self.lengths = X, names, lengths
        self.y, self.target_name, self.documents = y, target_name, documents

    @property
    def n(self):
        return self.X.shape[0]

    def args(self, kind):
        """The positional arguments of ``fit``, ``score``, ``bic``, ``predict_proba``."""
        if kind == "hmm":
            return (self.X, self.lengths)
        if kind == "regression":
            return (self.X, self.y)
        return (self.X,)


def _resolve_model(model, model_params):
    """(template estimator, registry name or None, kind) of ``write_report``'s ``model``."""
    import emkit
    from sklearn.base import clone

    from .cli import MODELS

    kinds = {cls: kind for cls, kind, _ in MODELS.values()}
    if isinstance(model, str):
        key = model.strip().lower().replace("_", "-")
        by_class = {cls.lower(): name for name, (cls, _, _) in MODELS.items()}
        key = by_class.get(key.replace("-", ""), key)
        if key not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)} (or an emkit "
                             f"estimator); got {model!r}.")
        class_name, kind, _ = MODELS[key]
        try:
            template = getattr(emkit, class_name)(**dict(model_params or {}))
        except TypeError as exc:
            raise ValueError(f"model_params for {key}: {exc}") from None
        return template, key, kind
    if model_params:
        raise ValueError("model_params applies to a model given by name; set the options "
                         "on the estimator itself (model.set_params(...)).")
    class_name = type(model).__name__
    if class_name not in kinds or not hasattr(model, "get_params"):
        raise ValueError(f"model must be a name ({', '.join(MODELS)}) or an unfitted emkit "
                         f"estimator of those classes; got {class_name}.")
    return clone(model), None, kinds[class_name]


def _family(template, kind):
    """How the number of components is chosen: "likelihood", "kmeans", "variational" or
    "text"; FactorAnalysis and PPCA (kind "factors") are "likelihood" too."""
    if kind == "text":
        return "text"
    name = type(template).__name__
    if name == "KMeans":
        return "kmeans"
    if not hasattr(template, "bic"):
        return "variational"
    return "likelihood"


def _kind(template, kind):
    """The registry's kind, with the factor models told apart from the mixtures."""
    if kind == "mixture" and type(template).__name__ in ("FactorAnalysis", "PPCA"):
        return "factors"
    return kind


def default_n_components(model, n_features=None):
    """The numbers of components a report tries by default, for a model.

    Parameters
    ----------
    model : str or estimator
        A name of :data:`emkit.cli.MODELS` or an emkit estimator.
    n_features : int, optional
        The data's columns (the factor models take fewer factors than columns).

    Returns
    -------
    list of int

    Examples
    --------
    >>> from emkit.report import default_n_components
    >>> default_n_components("gaussian"), default_n_components("lda")
    ([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])
    >>> default_n_components("ppca", n_features=3), default_n_components("bayesian-gaussian")
    ([1, 2], [10])
    """
    template, _, kind = _resolve_model(model, None)
    family, kind = _family(template, kind), _kind(template, kind)
    if family == "text":
        return [2, 4, 6, 8, 10]
    if family == "variational":
        return [10]  # an upper bound that the variational fit prunes
    if family == "kmeans":
        return [1, 2, 3, 4, 5, 6]
    if kind == "factors":
        top = 4 if n_features is None else min(4, n_features - 1)
        return list(range(1, max(top, 1) + 1))
    if kind == "hmm":
        return [1, 2, 3, 4]
    return [1, 2, 3, 4, 5]


def _prepare_data(kind, X, *, y, lengths, vocabulary, feature_names, target_name,
                  allow_nan):
    """The validated, copied :class:`_Data` (the caller's arrays are never touched)."""
    from ._validation import check_lengths_bounded, check_target, validate_samples

    if kind == "text":
        from scipy import sparse

        if sparse.issparse(X):
            X = sparse.csr_matrix(X, dtype=np.float64, copy=True)
            values = X.data
        else:
            X = np.array(validate_samples(None, X, reset=True, name="X"), dtype=np.float64)
            values = X
        if values.size and (not np.all(np.isfinite(values)) or values.min() < 0):
            raise ValueError("X must hold document-word counts (finite, non-negative) for "
                             "a topic model; pass a document-term count matrix.")
        names = vocabulary if vocabulary is not None else feature_names
        names = ([f"word {j}" for j in range(X.shape[1])] if names is None
                 else [str(word) for word in names])
        if len(names) != X.shape[1]:
            raise ValueError(f"vocabulary has {len(names)} words but X has {X.shape[1]} "
                             f"columns; pass one word per column.")
        return _Data(X, names)
    if vocabulary is not None:
        raise ValueError("vocabulary applies to topic models (model='lda'); name the columns "
                         "with feature_names.")
    X = validate_samples(None, X, reset=True, min_samples=2, allow_nan=allow_nan,
                         min_samples_reason="a report compares fits of at least two samples")
    X = np.array(X, dtype=np.float64)  # a copy: the caller's array is never touched
    n, D = X.shape
    names = ([f"x{j}" for j in range(D)] if feature_names is None
             else [str(name) for name in feature_names])
    if len(names) != D:
        raise ValueError(f"feature_names has {len(names)} names but X has {D} columns; pass "
                         f"one name per column.")
    if kind == "regression":
        y = check_target(y, n, owner="A report of a regression mixture")
    elif y is not None:
        raise ValueError("y applies to the regression models (regression, experts); for "
                         "this model leave it out.")
    if kind == "hmm" and lengths is not None:
        check_lengths_bounded(lengths, n)
        lengths = np.array(lengths, dtype=np.int64).ravel()
        if lengths.size == 0 or lengths.min() < 1 or lengths.sum() != n:
            raise ValueError(f"lengths must be positive and add up to X.shape[0] = {n}; got "
                             f"{lengths.size} lengths adding up to {int(lengths.sum())}.")
    elif lengths is not None:
        raise ValueError("lengths applies to the HMMs; for this model leave it out.")
    return _Data(X, names, lengths=lengths, y=y, target_name=str(target_name))


# ---------------------------------------------------------------- data summary
def _feature_rows(X, names):
    rows = []
    for j, name in enumerate(names):
        x = X[:, j]
        seen = x[np.isfinite(x)]
        missing = x.size - seen.size
        if seen.size == 0:
            rows.append([name, *(["NA"] * 6), str(missing)])
            continue
        rows.append([name, _fmt(seen.mean()), _fmt(seen.std(ddof=1) if seen.size > 1 else 0.0),
                     _fmt(seen.min()), _fmt(np.median(seen)), _fmt(seen.max()),
                     str(np.unique(seen).size), str(missing)])
    return rows


def _data_summary(data, kind):
    header = ["feature", "mean", "sd", "min", "median", "max", "distinct values", "missing"]
    if kind == "text":
        return _text_summary(data)
    n, D = data.X.shape
    parts = []
    if kind == "hmm":
        lengths = np.array([n]) if data.lengths is None else data.lengths
        parts.append(f"<p>{n} time steps x {D} feature(s) in {lengths.size} sequence(s) "
                     f"(lengths: min {lengths.min()}, median {_fmt(np.median(lengths))}, max "
                     f"{lengths.max()}).</p>")
    else:
        what = " inputs" if kind == "regression" else " feature(s)"
        parts.append(f"<p>{n} samples x {D}{what}"
                     + (f" and the response {html.escape(data.target_name)}"
                        if kind == "regression" else "") + ".</p>")
    rows = _feature_rows(data.X, data.names)
    if kind == "regression":
        rows += [[f"{row[0]} (response)", *row[1:]]
                 for row in _feature_rows(data.y[:, None], [data.target_name])]
    parts.append(_table(header, rows))
    return "\n".join(parts)


def _text_summary(data, n_words=15):
    from scipy import sparse

    counts = sparse.csr_matrix(data.X)
    n_docs, n_vocabulary = counts.shape
    per_document = np.asarray(counts.sum(axis=1)).ravel()
    totals = np.asarray(counts.sum(axis=0)).ravel()
    document_frequency = np.asarray((counts > 0).sum(axis=0)).ravel()
    parts = [f"<p>{n_docs} documents; a vocabulary of {n_vocabulary} words; "
             f"{_fmt(per_document.sum(), 10)} word tokens ({_fmt(counts.nnz, 10)} non-zero "
             f"document-word counts, {_fmt(100.0 * counts.nnz / max(1, n_docs * n_vocabulary), 3)}"
             f"% of the matrix).</p>",
             _table(["words per document", "min", "median", "mean", "max"],
                    [["", _fmt(per_document.min()), _fmt(np.median(per_document)),
                      _fmt(per_document.mean()), _fmt(per_document.max())]]),
             f"<h3>The {min(n_words, n_vocabulary)} most frequent words</h3>"]
    order = np.argsort(-totals, kind="stable")[:n_words]
    parts.append(_table(["word", "count", "documents"],
                        [[data.names[w], _fmt(totals[w], 10), str(document_frequency[w])]
                         for w in order]))
    return "\n".join(parts)


# ------------------------------------------------------------------ selection
class ComponentSelection:
    """The choice of the number of components (states, topics, factors) a report made.

    Attributes
    ----------
    n_components : list of int
        The numbers tried.
    criterion : str
        What chose: ``"bic"``, ``"icl"``, ``"aic"`` (lower is better, scikit-learn's
        convention), ``"silhouette"`` (k-means, higher is better), ``"perplexity"``
        (LDA, held-out documents, lower is better) or ``"none"`` (one number given,
        or a variational fit that prunes its components).
    rows : list of dict
        One per number tried: ``n_components``, the criteria's values and
        ``converged``, ``n_iter``.
    columns : list of (str, str)
        The rows' keys that are shown, with their headings.
    best_params_ : dict
        ``{"n_components": K}`` of the chosen model.
    best_estimator_ : fitted estimator
        The chosen model (refitted on every document for LDA).
    fits : list of fitted estimators
        One per number tried (LDA: fitted on the documents not held out).
    """

    def __init__(self, n_components, criterion, rows, columns, best_index, best_estimator,
                 note, fits=()):
        self.n_components = list(n_components)
        self.criterion = criterion
        self.rows = rows
        self.columns = columns
        self.best_index = best_index
        self.best_params_ = {"n_components": self.n_components[best_index]}
        self.best_estimator_ = best_estimator
        self.note = note
        self.fits = list(fits)

    def __repr__(self):
        return (f"ComponentSelection(criterion={self.criterion!r}, "
                f"best_params_={self.best_params_})")


# criterion -> (heading, better); "lower" or "higher".
_CRITERIA = {"bic": ("BIC", "lower"), "icl": ("ICL", "lower"), "aic": ("AIC", "lower"),
             "silhouette": ("silhouette", "higher"),
             "perplexity": ("held-out perplexity", "lower")}
_CRITERIA_OF_FAMILY = {"likelihood": ("bic", "icl", "aic"), "kmeans": ("silhouette",),
                       "text": ("perplexity",), "variational": ()}


def _units(model):
    """The number of components (states, topics, factors; k-means: ``n_clusters``)."""
    return int(getattr(model, "n_components", None) or model.n_clusters)


def _fit(template, k, data, kind):
    from sklearn.base import clone

    key = "n_clusters" if "n_clusters" in template.get_params() else "n_components"
    model = clone(template).set_params(**{key: k})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence is shown in the table
        model.fit(*data.args(kind))
    return model


def _log_likelihood(model, data, kind):
    """The total log-likelihood (HMMs' ``score`` is a total, the others' a mean)."""
    score = float(model.score(*data.args(kind)))
    return score if kind == "hmm" else score * data.n


def _likelihood_row(model, data, kind):
    args = data.args(kind)
    loglik = _log_likelihood(model, data, kind)
    bic, aic = float(model.bic(*args)), float(model.aic(*args))
    # The free parameters from the criteria themselves: AIC - (-2 log L) = 2 p.
    row = {"log_likelihood": loglik, "n_parameters": (aic + 2.0 * loglik) / 2.0,
           "bic": bic, "aic": aic, "icl": np.nan}
    if kind in ("mixture", "regression") and hasattr(model, "predict_proba"):
        # ICL (Biernacki, Celeux & Govaert 2000; mclust's icl, negated) penalises
        # the BIC by the entropy of the hard classification: BIC - 2 sum log max_k z_nk.
        resp = np.asarray(model.predict_proba(*args))
        with np.errstate(divide="ignore"):
            row["icl"] = bic - 2.0 * float(np.log(resp.max(axis=1)).sum())
    return row


def _held_out_split(n, random_state):
    rng = np.random.default_rng(random_state)
    order = rng.permutation(n)
    n_held = max(2, int(round(_HELD_OUT_SHARE * n)))
    return np.sort(order[n_held:]), np.sort(order[:n_held])


def _select_components(template, data, kind, family, n_components, criterion, random_state):
    """Fit ``template`` for every K of ``n_components`` and choose one (ComponentSelection)."""
    ks = list(n_components)
    if family == "variational" and len(ks) > 1:
        raise ValueError(f"a {type(template).__name__} takes one n_components, an upper "
                         f"bound that the variational fit prunes (unneeded components empty "
                         f"out), and has no BIC to compare several by; give one generous "
                         f"number such as 10.")
    if kind != "text":
        too_many = [k for k in ks if k > data.n]
        if too_many:
            raise ValueError(f"n_components {too_many[0]} exceeds the {data.n} samples; try "
                             f"at most {data.n}.")
    if kind == "factors" and max(ks) >= data.X.shape[1]:
        raise ValueError(f"a {type(template).__name__} of {data.X.shape[1]} feature(s) takes "
                         f"fewer factors than features; got n_components {max(ks)}.")
    allowed = _CRITERIA_OF_FAMILY[family]
    if kind in ("hmm", "factors"):
        allowed = ("bic", "aic")  # ICL is defined by a mixture's classification
    if criterion is None:
        criterion = allowed[0] if allowed else "none"
    elif criterion not in allowed:
        why = {"kmeans": " (k-means has no likelihood)",
               "text": " (scored on held-out documents)",
               "variational": " (the variational fit prunes its components itself)"}
        raise ValueError(f"criterion for a {type(template).__name__} must be "
                         f"{' or '.join(repr(c) for c in allowed) or 'None'}"
                         f"{why.get(family, '')}; got {criterion!r}.")
    if len(ks) == 1:
        criterion = "none"
    rows, fits = [], []
    if family == "text":
        columns, train, held_out = _select_topics(template, data, ks, rows, fits,
                                                  random_state)
    else:
        for k in ks:
            model = _fit(template, k, data, kind)
            row = {"n_components": k, "converged": bool(getattr(model, "converged_", True)),
                   "n_iter": int(getattr(model, "n_iter_", 0))}
            if family == "likelihood":
                row.update(_likelihood_row(model, data, kind))
            elif family == "kmeans":
                row.update(_kmeans_row(model, data, random_state))
            else:
                used = int((np.asarray(model.weights_) > 0.01).sum())
                row.update({"elbo": float(model.lower_bound_), "in_use": used})
            rows.append(row)
            fits.append(model)
        columns = {"likelihood": [("log_likelihood", "log-likelihood"),
                                  ("n_parameters", "free parameters"), ("bic", "BIC"),
                                  ("icl", "ICL"), ("aic", "AIC")],
                   "kmeans": [("inertia", "inertia (within-cluster sum of squares)"),
                              ("silhouette", "silhouette")],
                   "variational": [("elbo", "variational lower bound"),
                                   ("in_use", "components in use (weight > 1%)")]}[family]
        if family == "likelihood" and all(np.isnan(row["icl"]) for row in rows):
            columns = [c for c in columns if c[0] != "icl"]
    columns = columns + [("converged", "converged"), ("n_iter", "iterations")]
    if criterion == "none":
        best = 0
    else:
        values = np.array([row[criterion] for row in rows], dtype=np.float64)
        if not np.isfinite(values).any():
            raise ValueError(f"no number of components has a finite {criterion}; try other "
                             f"numbers of components.")
        values = np.where(np.isfinite(values), values, np.inf
                          if _CRITERIA[criterion][1] == "lower" else -np.inf)
        best = int(np.argmin(values) if _CRITERIA[criterion][1] == "lower"
                   else np.argmax(values))
    if family == "text":
        model = _fit(template, ks[best], data, kind)  # the chosen K on every document
        note = (f"Held-out perplexity: every number of topics is fitted on {train} "
                f"documents and scored on the other {held_out} "
                f"({round(100 * _HELD_OUT_SHARE)}%, drawn with random_state); the chosen one "
                f"is then refitted on all the documents. The training perplexity falls as "
                f"topics are added, so only held-out documents can choose their number. (Words "
                f"the fitted documents lack weigh on the held-out score, and more so with "
                f"more topics under the default topic-word prior 1/K.)"
                if held_out else "")
    else:
        model = fits[best]
        note = {"likelihood": "BIC, ICL and AIC in scikit-learn's convention (lower is "
                              "better; mclust's are their negatives). ICL is the BIC plus "
                              "twice the entropy of the hard classification.",
                "kmeans": "k-means has no likelihood, so no BIC: the inertia always falls "
                          "as clusters are added, and the mean silhouette (Rousseeuw 1987; "
                          "higher is better, undefined for one cluster) chooses instead.",
                "variational": "The number of components is an upper bound: the "
                               "variational fit empties the components it does not need, "
                               "so the components in use are its choice."}[family]
        if kind == "hmm":
            note = ("BIC and AIC in scikit-learn's convention (lower is better). ICL is "
                    "not shown: it is defined by a mixture's classification.")
        if kind == "factors":
            note = "BIC and AIC in scikit-learn's convention (lower is better)."
    return ComponentSelection(ks, criterion, rows, columns, best, model, note, fits)


def _kmeans_row(model, data, random_state):
    from sklearn.metrics import silhouette_score

    labels = model.predict(data.X)
    silhouette = np.nan
    if 2 <= np.unique(labels).size < data.n:
        # A sample of at most 2000 points keeps it O(n) for large data (as scikit-learn's).
        silhouette = float(silhouette_score(data.X, labels,
                                            sample_size=min(data.n, 2000),
                                            random_state=random_state))
    return {"inertia": float(model.inertia_), "silhouette": silhouette}


def _select_topics(template, data, ks, rows, fits, random_state):
    """Rows of held-out (and training) perplexity per number of topics."""
    held = len(ks) > 1 and data.n >= _MIN_DOCUMENTS_TO_CHOOSE
    if len(ks) > 1 and not held:
        raise ValueError(f"choosing the number of topics needs held-out documents, and "
                         f"{data.n} documents are too few (at least "
                         f"{_MIN_DOCUMENTS_TO_CHOOSE}); give one n_components.")
    if held:
        train, test = _held_out_split(data.n, random_state)
        fit_on, test_on = _Data(data.X[train], data.names), data.X[test]
    else:
        fit_on, test_on = data, None
    for k in ks:
        model = _fit(template, k, fit_on, "text")
        rows.append({"n_components": k, "bound": float(model.score(fit_on.X)),
                     "train_perplexity": float(model.perplexity(fit_on.X)),
                     "perplexity": (float(model.perplexity(test_on)) if held else np.nan),
                     "converged": bool(getattr(model, "converged_", True)),
                     "n_iter": int(getattr(model, "n_iter_", 0))})
        fits.append(model)
    columns = [("bound", "variational bound (fitted documents)"),
               ("train_perplexity", "perplexity (fitted documents)")]
    if held:
        columns.append(("perplexity", "held-out perplexity"))
    return columns, fit_on.n, (data.n - fit_on.n)


def _selection_section(selection, unit, new_figure):
    K = selection.n_components
    best = selection.best_index
    criterion = selection.criterion
    header = [f"number of {unit}s"]
    rows, classes = [], []
    for i, row in enumerate(selection.rows):
        cells, css = [str(row["n_components"])], [""]
        for key, _ in selection.columns:
            value = row[key]
            if key == "converged":
                cells.append("yes" if value else "no")
            elif key in ("n_iter", "in_use"):
                cells.append(str(value))
            elif key == "n_parameters":
                cells.append(str(int(round(value))) if np.isfinite(value) else "NA")
            else:
                cells.append(_fmt(value, 8))
            css.append("best" if key == criterion and i == best else "")
        rows.append(cells)
        classes.append(css)
    header += [heading for _, heading in selection.columns]
    if criterion == "none":
        chose = (f"One number of {unit}s was given, so nothing was chosen: <b>{K[0]}</b> "
                 f"{unit}(s)." if selection.columns[0][0] != "elbo" else
                 f"Upper bound <b>{K[0]}</b>; the variational fit uses "
                 f"<b>{selection.rows[0]['in_use']}</b> of them.")
    else:
        heading, better = _CRITERIA[criterion]
        chose = (f"Chosen by {html.escape(heading)} ({better} is better): "
                 f"<b>{selection.best_params_['n_components']}</b> {unit}(s).")
    parts = [f"<p>{chose}</p>", _note(html.escape(selection.note)) if selection.note else "",
             _table(header, rows, classes=classes)]
    if len(K) > 1:
        parts.append(_image(_selection_figure(selection, unit, new_figure),
                            f"the criteria per number of {unit}s"))
    return "\n".join(part for part in parts if part)


def _selection_figure(selection, unit, new_figure):
    """The criteria against K; the chosen K marked."""
    numeric = [(key, heading) for key, heading in selection.columns
               if key not in ("converged", "n_iter", "n_parameters", "log_likelihood",
                              "in_use", "bound")]
    K = np.array(selection.n_components)
    figure = new_figure((4.2 * len(numeric), 3.6))
    axes = figure.subplots(1, len(numeric), squeeze=False)[0]
    for ax, (key, heading) in zip(axes, numeric):
        values = np.array([row[key] for row in selection.rows], dtype=np.float64)
        ax.plot(K, values, marker="o", color="C0")
        if key == selection.criterion:
            ax.plot(K[selection.best_index], values[selection.best_index], marker="*",
                    markersize=16, color="C3", linestyle="none", label="chosen")
            ax.legend(loc="best", fontsize="small")
        ax.set_xticks(K)
        ax.set_xlabel(f"number of {unit}s")
        ax.set_title(heading, fontsize="medium")
        ax.ticklabel_format(axis="y", useOffset=False)
    return figure


def _grid_section(result, new_figure):
    """The Gaussian mixture's mclust grid (numbers of components x structures)."""
    from .plotting import plot_selection_criteria

    parts = []
    for criterion in ("bic", "icl"):
        matrix = result.scores(criterion)
        best = np.unravel_index(np.nanargmax(matrix), matrix.shape)
        rows = [[str(G), *(_fmt(v, 8) for v in values)]
                for G, values in zip(result.n_components, matrix)]
        classes = [[""] + ["best" if (i, j) == best else "" for j in range(matrix.shape[1])]
                   for i in range(matrix.shape[0])]
        chosen = " (chooses the model)" if criterion == result.criterion else ""
        parts.append(f"<h3>{criterion.upper()}{chosen}</h3>")
        parts.append(_table(["G", *result.covariance_types], rows, classes=classes))
    best = result.best_params_
    parts.insert(0, "<p>BIC and ICL in mclust's convention (higher is better; "
                    "scikit-learn's are their negatives). "
                    f"Chosen by {html.escape(result.criterion.upper())}: "
                    f"<b>{html.escape(best['covariance_type'])}</b> with "
                    f"<b>{best['n_components']}</b> component(s).</p>")
    figure = plot_selection_criteria(result, new_figure((11, 4.4)))
    parts.append(_image(figure, "BIC and ICL per covariance structure"))
    return "\n".join(parts)


# ----------------------------------------------------------------- parameters
def _facts(model, data, kind):
    facts = [["model", " ".join(repr(model).split())]]
    if kind == "text":
        facts += [["topics", str(model.n_components)],
                  ["variational bound", _fmt(model.score(data.X), 8)],
                  ["perplexity (fitted documents)", _fmt(model.perplexity(data.X), 6)]]
    elif type(model).__name__ == "KMeans":
        facts += [["clusters", str(_units(model))],
                  ["inertia (within-cluster sum of squares)", _fmt(model.inertia_, 8)]]
    else:
        label = {"hmm": "states", "factors": "factors"}.get(kind, "components")
        facts.append([label, str(_units(model))])
        loglik = _log_likelihood(model, data, kind)
        facts.append(["log-likelihood" + (" of the response given the inputs"
                                          if kind == "regression" else ""), _fmt(loglik, 8)])
        if hasattr(model, "bic"):
            facts.append(["BIC (scikit-learn's, lower is better)",
                          _fmt(model.bic(*data.args(kind)), 8)])
        if hasattr(model, "n_parameters"):
            facts.append(["free parameters", str(model.n_parameters())])
    facts.append(["converged", f"{'yes' if getattr(model, 'converged_', False) else 'no'} "
                               f"after {getattr(model, 'n_iter_', 0)} iteration(s)"])
    return _table(["", "value"], facts, name_columns=2)


def _gaussian_parameters(model, data):
    """Weights, means and covariances of a Gaussian mixture (as before, all structures)."""
    from .plotting import marginal_covariances

    K, D, names = model.n_components, data.X.shape[1], data.names
    sizes = np.bincount(model.predict(data.X), minlength=K)
    rows = [[str(k), _fmt(model.weights_[k], 4), str(sizes[k]),
             *(_fmt(v) for v in model.means_[k])] for k in range(K)]
    parts = ["<h3>Weights and means</h3>",
             _table(["component", "weight", "n assigned", *names], rows)]
    covariances = marginal_covariances(model.covariances_, model.covariance_type, K, range(D))
    parts.append("<h3>Covariances</h3>")
    for k in range(K):
        parts.append(f"<p>component {k}</p>")
        parts.append(_matrix_table(covariances[k], names, names))
    return "\n".join(parts)


# The fitted attributes the generic parameter tables show, with their headings.
_PER_UNIT = (("weights_", "weight"), ("startprob_", "start probability"),
             ("dofs_", "degrees of freedom"), ("intercept_", "intercept"),
             ("noise_variance_", "noise variance"), ("gating_intercept_", "gating intercept"))
_BY_FEATURE = (("means_", "Means"), ("cluster_centers_", "Cluster centres"),
               ("rates_", "Poisson rates"), ("lambdas_", "Poisson rates"),
               ("coef_", "Regression coefficients"), ("gating_coef_", "Gating coefficients"),
               ("noise_variance_", "Noise variances"))


def _generic_parameters(model, data, kind):
    """Tables of the fitted attributes of any emkit model but a plain Gaussian mixture."""
    unit = _UNIT.get(kind, "cluster" if type(model).__name__ == "KMeans" else "component")
    names = data.names
    D = data.X.shape[1]
    if kind == "factors":
        return _factor_parameters(model, names)
    K = _units(model)
    labels = [f"{unit} {k}" for k in range(K)]
    parts = []
    keep = np.arange(K)
    if type(model).__name__ == "BayesianGaussianMixture":
        # The emptied components hold only the prior; the ones in use are the model.
        keep = np.flatnonzero(np.asarray(model.weights_) > 0.01)
        if keep.size < K:
            parts.append(_note(f"The {K - keep.size} component(s) the variational fit "
                               f"emptied (weight at most 1%) are left out of the tables "
                               f"below but the first."))
    # One table of everything with one value per component (state).
    columns, values = [], []
    for attribute, heading in _PER_UNIT:
        value = getattr(model, attribute, None)
        if isinstance(value, np.ndarray) and value.shape == (K,):
            columns.append(heading)
            values.append([_fmt(v, 4 if attribute == "weights_" else 5) for v in value])
    if kind in ("mixture", "regression") and hasattr(model, "predict_proba"):
        # The most probable component (a regression's predict is the response instead).
        labels_of = np.asarray(model.predict_proba(*data.args(kind))).argmax(axis=1)
        counts = np.bincount(labels_of, minlength=K)
        columns.append("n assigned")
        values.append([str(c) for c in counts])
    elif kind == "hmm":
        counts = np.bincount(np.asarray(model.predict(data.X, data.lengths)), minlength=K)
        columns.append("time steps in the state (decoded path)")
        values.append([str(c) for c in counts])
    if columns:
        parts.append(f"<h3>Per {unit}</h3>")
        parts.append(_table([unit, *columns],
                            [[str(k), *(column[k] for column in values)] for k in range(K)]))
    if kind == "hmm":
        parts.append("<h3>Transition probabilities (row: from, column: to)</h3>")
        parts.append(_matrix_table(model.transmat_, labels,
                                   [f"to {k}" for k in range(K)], corner="from"))
    for attribute, heading in _BY_FEATURE:
        value = getattr(model, attribute, None)
        if not isinstance(value, np.ndarray):
            continue
        if value.ndim == 2 and value.shape == (K, D):
            parts.append(f"<h3>{heading}</h3>")
            parts.append(_matrix_table(value[keep], [labels[k] for k in keep], names,
                                       corner=unit))
        elif value.ndim == 3 and value.shape[0] == K and value.shape[2] == D:  # GMMHMM
            parts.append(f"<h3>{heading} of every {unit}'s mixture</h3>")
            for k in range(K):
                parts.append(f"<p>{unit} {k}</p>")
                parts.append(_matrix_table(value[k], [f"mixture {m}" for m in
                                                      range(value.shape[1])], names))
    weights = getattr(model, "weights_", None)
    if isinstance(weights, np.ndarray) and weights.ndim == 2:  # GMMHMM's mixture weights
        parts.append(f"<h3>Mixture weights within every {unit}</h3>")
        parts.append(_matrix_table(weights, labels,
                                   [f"mixture {m}" for m in range(weights.shape[1])]))
    parts += _probability_tables(model, labels, names, unit)
    parts += _covariance_tables(model, labels, names, kind, keep)
    loadings = getattr(model, "loadings_", None)
    if isinstance(loadings, np.ndarray) and loadings.ndim == 3:
        parts.append("<h3>Factor loadings</h3>")
        for k in range(K):
            parts.append(f"<p>{labels[k]}</p>")
            parts.append(_matrix_table(loadings[k], names,
                                       [f"factor {q}" for q in range(loadings.shape[2])]))
    return "\n".join(parts)


def _probability_tables(model, labels, names, unit):
    parts = []
    probabilities = getattr(model, "probabilities_", None)
    if isinstance(probabilities, np.ndarray) and probabilities.ndim == 2:  # Bernoulli
        parts.append("<h3>Probabilities of a 1, P(x_j = 1 | component)</h3>")
        parts.append(_matrix_table(probabilities, labels, names, corner=unit))
    elif isinstance(probabilities, np.ndarray) and probabilities.ndim == 3:  # categorical
        parts.append("<h3>Category probabilities, P(x_j = level | component)</h3>")
        levels = getattr(model, "n_levels_", [probabilities.shape[2]] * probabilities.shape[1])
        for j, name in enumerate(names):
            parts.append(f"<p>{html.escape(name)}</p>")
            L = int(levels[j])
            parts.append(_matrix_table(probabilities[:, j, :L], labels,
                                       [f"level {v}" for v in range(L)], corner=unit))
    emission = getattr(model, "emissionprob_", None)
    if isinstance(emission, np.ndarray) and emission.ndim == 2:
        parts.append("<h3>Emission probabilities (row: state, column: symbol)</h3>")
        parts.append(_matrix_table(emission, labels,
                                   [f"symbol {s}" for s in range(emission.shape[1])]))
    return parts


def _covariance_tables(model, labels, names, kind, keep):
    covariances = getattr(model, "covariances_", None)
    if not isinstance(covariances, np.ndarray):
        return []
    K, D = len(labels), len(names)
    covariance_type = getattr(model, "covariance_type", "full")
    parts = ["<h3>Covariances" + (f" ({html.escape(str(covariance_type))})"
                                  if covariance_type else "") + "</h3>"]
    if covariances.ndim == 4:  # GMMHMM: (states, mixtures, D, D)
        for k in range(K):
            for m in range(covariances.shape[1]):
                parts.append(f"<p>{labels[k]}, mixture {m}</p>")
                parts.append(_matrix_table(covariances[k, m], names, names))
        return parts
    if kind == "hmm" and covariances.ndim == 3 and covariances.shape[1:] != (D, D):
        parts.append(_note("Per mixture component: " + html.escape(np.array2string(
            covariances, precision=4))))
        return parts
    from .plotting import marginal_covariances

    try:
        full = marginal_covariances(covariances, covariance_type, K, range(D))
    except (ValueError, IndexError):
        full = covariances if covariances.shape == (K, D, D) else None
    if full is None:
        parts.append(_note(html.escape(np.array2string(covariances, precision=4))))
        return parts
    for k in keep:
        parts.append(f"<p>{labels[k]}</p>")
        parts.append(_matrix_table(full[k], names, names))
    return parts


def _factor_parameters(model, names):
    q = model.components_.shape[0]
    noise = np.broadcast_to(np.asarray(model.noise_variance_, dtype=np.float64),
                            (len(names),))
    parts = ["<h3>Mean and noise variance per feature</h3>",
             _matrix_table(np.vstack([model.mean_, noise]), ["mean", "noise variance"], names),
             "<h3>Loadings (row: factor, column: feature)</h3>",
             _matrix_table(model.components_, [f"factor {i}" for i in range(q)], names)]
    if np.ndim(model.noise_variance_) == 0:
        parts.insert(2, _note("PPCA's noise variance is one number, shared by every "
                              "feature."))
    return "\n".join(parts)


def _topic_parameters(model, data, top_n):
    from .topics import top_words, topic_coherence

    shares = np.asarray(model.transform(data.X))
    shares = (shares / shares.sum(axis=1, keepdims=True)).mean(axis=0)
    words = top_words(model, data.names, n=top_n)
    coherence = topic_coherence(model, data.X, top_n=min(top_n, data.X.shape[1]))
    rows = [[str(k), " ".join(words[k]), _fmt(shares[k], 3), _fmt(coherence.per_topic[k], 4)]
            for k in range(model.n_components)]
    priors = [["document-topic prior (alpha)", _fmt(np.mean(model.doc_topic_prior_))],
              ["topic-word prior (eta)", _fmt(np.mean(model.topic_word_prior_))]]
    return "\n".join([
        "<h3>Topics: their share of the documents' words and their most probable words</h3>",
        _table(["topic", "top words", "share", "UMass coherence"], rows, name_columns=2),
        _note("UMass coherence (Mimno et al. 2011) of the top words over the documents: "
              "higher (closer to 0) is more coherent."),
        "<h3>Priors</h3>", _table(["", "value"], priors, name_columns=2)])


def _parameters_section(model, data, kind, top_n):
    parts = [_facts(model, data, kind)]
    if kind == "text":
        parts.append(_topic_parameters(model, data, top_n))
    elif type(model).__name__ == "GaussianMixture" and not np.isnan(data.X).any():
        parts.append(_gaussian_parameters(model, data))
    else:
        parts.append(_generic_parameters(model, data, kind))
    return "\n".join(parts)


# ---------------------------------------------------------------------- plots
def _plots_section(model, data, kind):
    from .plotting import model_figures

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. "only its history is drawn": said below
        figures = model_figures(model, data.X, y=data.y, lengths=data.lengths,
                                vocabulary=data.names if kind == "text" else None,
                                feature_names=data.names if kind != "text" else None)
    parts = []
    for title, figure in figures:
        parts.append(f"<h3>{html.escape(title)}</h3>")
        parts.append(_image(figure, title))
    if not parts:
        parts.append(_note(f"No pictures for a {type(model).__name__}."))
    return "\n".join(parts)


# ------------------------------------------------------------------- teaching
def _gaussian_teaching(data, n_components, n_iter, random_state, new_figure, model_name):
    from .estimators.gaussian_mixture import GaussianMixture
    from .plotting import em_trace_rows, plot_em_steps
    from .teaching import explain_em

    X, names = data.X, data.names
    columns = list(range(min(2, X.shape[1])))
    shown = X[:, columns]
    # Of a few random starts, the one that moves most in n_iter iterations
    # shows EM's steps best (a start near the optimum barely moves).
    best = None
    for offset in range(5):
        start = GaussianMixture(n_components, covariance_type="full",
                                init_params="random_from_data",
                                random_state=random_state + offset)
        trace = explain_em(start, shown, n_iter)
        loglik = trace.column("log_likelihood")
        if np.all(np.isfinite(loglik)) and (best is None or
                                            loglik[-1] - loglik[0] > best[0]):
            best = (loglik[-1] - loglik[0], start, trace)
    if best is None:
        return None
    _, start, trace = best
    used = ", ".join(names[j] for j in columns)
    parts = []
    if model_name != "GaussianMixture":
        parts.append(_note(f"The E- and M-steps are shown for a Gaussian mixture with the "
                           f"chosen number of components ({n_components}) on the same data: "
                           f"the {model_name}'s components are Gaussian-type too"
                           + (" (k-means is its limit as the variances shrink to zero)"
                              if model_name == "KMeans" else "")
                           + ", and its EM has the same two steps. The trace of its own "
                             "objective is below."))
    parts.append(f"<p>A fresh EM fit with {n_components} component(s) (full covariances, "
                 f"started from randomly chosen data points; of five such starts, the one "
                 f"that moves most) on {html.escape(used)}. Each panel shows the data "
                 f"coloured by their responsibilities and the current components. After "
                 f"every E-step the ELBO equals the log-likelihood (the KL divergence between "
                 f"q and the posterior is 0); after every M-step the log-likelihood exceeds "
                 f"the ELBO by the KL gap that the next E-step closes.</p>")
    size = (max(11.0, 2.4 * (n_iter + 1)), 7.5)
    figure = plot_em_steps(start, shown, n_iter, new_figure(size),
                           feature_names=[names[j] for j in columns], trace=trace)
    parts.append(_image(figure, "EM step by step"))
    parts.append(_table(["iteration", "step", "log-likelihood", "ELBO",
                         "KL = log-likelihood - ELBO"], em_trace_rows(trace, digits=6),
                        name_columns=2))
    return "\n".join(parts)


_OBJECTIVE = {
    "hmm": ("log-likelihood", "Baum-Welch is EM for a hidden Markov model: the E-step runs "
            "the forward-backward recursions for every state's posterior and every "
            "transition's, the M-step re-estimates the start, transition and emission "
            "probabilities from them. Each iteration raises the log-likelihood."),
    "text": ("variational bound", "Variational EM: the E-step fits every document's topic "
             "proportions (q of the topics of its words), the M-step re-estimates the "
             "topics' word distributions. In batch mode each pass raises the bound on the "
             "log-likelihood; online mini-batches need not."),
    "KMeans": ("negative inertia", "Lloyd's algorithm is EM in the limit of hard "
               "assignments: assigning every point to its nearest centre (the E-step) and "
               "moving every centre to its points' mean (the M-step) each never increase "
               "the inertia."),
    "factors": ("log-likelihood", "EM for factor analysis: the E-step computes the "
                "posterior mean and covariance of every sample's factors, the M-step "
                "re-estimates the loadings and the noise variances. Each iteration raises "
                "the log-likelihood."),
    "default": ("objective", "The E-step computes every sample's posterior over the "
                "components (the responsibilities), the M-step re-estimates the parameters "
                "from them. Each iteration raises the log-likelihood (or, with a prior, the "
                "log-posterior) of the data."),
}


def _objective_teaching(model, kind, new_figure):
    """The objective EM raised after every iteration, and by how much each raised it."""
    history = np.asarray(getattr(model, "history_", []), dtype=np.float64)
    name = type(model).__name__
    label, explanation = _OBJECTIVE.get(kind if kind in ("hmm", "text", "factors") else name,
                                        _OBJECTIVE["default"])
    if history.size == 0:
        return _note(f"The {name} records no objective per iteration.")
    steps = np.diff(history)
    repairs = set(int(r) for r in np.asarray(getattr(model, "repairs_", []), dtype=int))
    scale = 1e-9 * max(1.0, float(np.max(np.abs(history))))
    drops = [i + 2 for i in range(steps.size) if steps[i] < -scale and (i + 1) not in repairs]
    verdict = ("It never decreased" if not drops else
               f"It decreased at iteration(s) {', '.join(map(str, drops[:10]))}"
               + (" (online updates need not raise it)" if kind == "text" else
                  " (more than rounding: worth a look)"))
    parts = [f"<p>{html.escape(explanation)}</p>",
             f"<p>The chosen {html.escape(name)}'s {label} after each of its {history.size} "
             f"recorded iteration(s) (the run kept of its restarts). {verdict}"
             + (f"; collapsed components were re-seeded at {len(repairs)} point(s), where it "
                f"may drop" if repairs else "") + ".</p>"]
    if kind in ("mixture", "regression", "factors") or name == "KMeans":
        parts.insert(0, _note(f"The step-by-step view of the ELBO and the KL gap is drawn "
                              f"for Gaussian mixtures of one or two features "
                              f"(emkit.explain_em); for a {html.escape(name)} it shows the "
                              f"trace of the objective EM raises instead."))
    else:
        parts.insert(0, _note(f"The step-by-step view of the ELBO and the KL gap is for "
                              f"mixtures (emkit.explain_em); a {html.escape(name)} shows the "
                              f"trace of the objective its EM raises instead."))
    figure = new_figure((11.0, 3.8))
    left, right = figure.subplots(1, 2)
    iterations = np.arange(1, history.size + 1)
    left.plot(iterations, history, marker="o", markersize=3, color="C0")
    left.set_xlabel("iteration")
    left.set_ylabel(label)
    left.set_title(f"The {label} after every iteration", fontsize="medium")
    left.ticklabel_format(axis="y", useOffset=False)
    gains = np.abs(steps)
    if steps.size and np.any(gains > 0):
        positive = steps > 0
        right.semilogy(iterations[1:][positive], gains[positive], marker="o", markersize=5,
                       linestyle="-", linewidth=0.8, color="C2", label="rise")
        if np.any(~positive & (gains > 0)):
            right.semilogy(iterations[1:][~positive & (gains > 0)],
                           gains[~positive & (gains > 0)], marker="v", markersize=7, linestyle="none",
                           color="C3", label="fall")
        right.legend(loc="best", fontsize="small")
    right.set_xlabel("iteration")
    right.set_ylabel(f"|change of the {label}|")
    right.set_title("Its change per iteration (log scale): EM slows as it converges",
                    fontsize="medium")
    parts.append(_image(figure, f"the {label} per iteration"))
    shown = history.size if history.size <= 30 else 15
    rows = [[str(i + 1), _fmt(history[i], 10), "" if i == 0 else _fmt(steps[i - 1], 4)]
            for i in range(shown)]
    if history.size > shown:
        rows += [["...", "", ""]] + [[str(i + 1), _fmt(history[i], 10), _fmt(steps[i - 1], 4)]
                                     for i in range(history.size - 5, history.size)]
    parts.append(_table(["iteration", label, "change"], rows))
    return "\n".join(parts)


def _teaching_section(model, data, kind, teaching_iter, random_state, new_figure):
    name = type(model).__name__
    parts = []
    if (kind == "mixture" and name in _GAUSSIAN_TYPE and data.X.shape[1] >= 1
            and not np.isnan(data.X).any()):
        K = _units(model)
        if name == "BayesianGaussianMixture":
            K = max(1, int((np.asarray(model.weights_) > 0.01).sum()))
        if K <= data.n:
            view = _gaussian_teaching(data, K, teaching_iter, random_state, new_figure, name)
            if view is not None:
                parts.append(view)
    if name != "GaussianMixture" or not parts:
        if parts:
            parts.append(f"<h3>The {html.escape(name)}'s own EM</h3>")
        parts.append(_objective_teaching(model, kind, new_figure))
    return "\n".join(parts)


# --------------------------------------------------------------------- report
def build_report(X, *, model="gaussian", n_components=None, y=None, lengths=None,
                 vocabulary=None, feature_names=None, target_name="y", model_params=None,
                 covariance_types=None, criterion=None, teaching_iter=4, top_words=10,
                 random_state=0, title="emkit report"):
    """The report as an HTML string (see :func:`write_report` for the parameters).

    Returns
    -------
    html : str
    selection : emkit.selection.ModelSelection or ComponentSelection
        What the report chose (see :func:`write_report`).

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.datasets import load_nile
    >>> from emkit.report import build_report
    >>> y = load_nile().data[:, None]
    >>> page, selection = build_report(y, model="gaussian-hmm", n_components=[1, 2],
    ...                                teaching_iter=2)
    >>> selection.criterion, selection.best_params_
    ('bic', {'n_components': 2})
    >>> page.count("<section ")
    5
    """
    from ._validation import check_integer
    from .plotting import new_figure

    template, name, kind = _resolve_model(model, model_params)
    family = _family(template, kind)
    teaching_iter = check_integer(teaching_iter, "teaching_iter", minimum=1)
    top_words = check_integer(top_words, "top_words", minimum=1)
    allow_nan = getattr(template, "missing", "error") != "error"
    data = _prepare_data(kind, X, y=y, lengths=lengths, vocabulary=vocabulary,
                         feature_names=feature_names, target_name=target_name,
                         allow_nan=allow_nan)
    kind = _kind(template, kind)
    if n_components is None:
        n_components = [k for k in default_n_components(template, data.X.shape[1])
                        if kind == "text" or k <= data.n]
    elif np.ndim(n_components) == 0:
        n_components = [n_components]
    n_components = sorted({check_integer(k, "n_components", minimum=1) for k in n_components})
    if not n_components:
        raise ValueError("n_components is empty; give at least one number of components.")

    def figure(size):
        return new_figure(size, layout="constrained")

    grid = name == "gaussian" and not allow_nan
    if covariance_types is not None and not grid:
        raise ValueError("covariance_types is the Gaussian mixture's grid (model='gaussian'); "
                         "for other models set covariance_type in model_params.")
    if grid:
        from .selection import select_model

        if covariance_types is None:
            covariance_types = (["E", "V"] if data.X.shape[1] == 1
                                else list(DEFAULT_COVARIANCE_TYPES))
        if criterion not in (None, "bic", "icl"):
            raise ValueError(f"criterion for the Gaussian grid must be 'bic' or 'icl'; got "
                             f"{criterion!r}.")
        settings = dict(model_params or {})
        other = sorted(set(settings) - {"max_iter"})
        if other:
            raise ValueError(f"model_params {other} do not apply to model='gaussian', "
                             f"mclust's grid (only max_iter does); pass "
                             f"model=emkit.GaussianMixture(...) to fit one structure with "
                             f"those options.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # failed cells are NA in the table
            selection = select_model(data.X, n_components=n_components,
                                     covariance_types=covariance_types,
                                     criterion=criterion or "bic",
                                     random_state=random_state, **settings)
        chosen = selection.best_estimator_
        selection_html = _grid_section(selection, figure)
    else:
        selection = _select_components(template, data, kind, family, n_components, criterion,
                                       random_state)
        chosen = selection.best_estimator_
        unit = _UNIT.get(kind, "cluster" if family == "kmeans" else "component")
        selection_html = _selection_section(selection, unit, figure)

    bodies = {
        "data-summary": _data_summary(data, kind),
        "selection": selection_html,
        "parameters": _parameters_section(chosen, data, kind, top_words),
        "plots": _plots_section(chosen, data, kind),
        "teaching": _teaching_section(chosen, data, kind, teaching_iter, random_state,
                                      figure),
    }
    from . import __version__

    sections = "\n".join(f'<section id="{key}">\n<h2>{html.escape(heading)}</h2>\n'
                         f"{bodies[key]}\n</section>" for key, heading in SECTIONS)
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n"
            f'<p class="note">Written by emkit {__version__}: a {type(chosen).__name__}; every '
            f"picture is embedded in this file.</p>\n{sections}\n</body>\n</html>\n")
    return page, selection


def write_report(X, path, *, model="gaussian", n_components=None, y=None, lengths=None,
                 vocabulary=None, feature_names=None, target_name="y", model_params=None,
                 covariance_types=None, criterion=None, teaching_iter=4, top_words=10,
                 random_state=0, title="emkit report"):
    """Fit a model to ``X`` for several numbers of components, choose one, and write a
    self-contained HTML report.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data; for ``model="lda"`` a document-word count matrix (array or
        sparse) of shape (n_documents, n_words); for an HMM the time steps of
        all the sequences, one after the other.
    path : str or path-like
        The ``.html`` file written.
    model : str or estimator, default="gaussian"
        A name of :data:`emkit.cli.MODELS` (``"gaussian"``, ``"bernoulli"``,
        ``"poisson"``, ``"categorical"``, ``"bayesian-gaussian"``,
        ``"student-t"``, ``"mfa"``, ``"kmeans"``, ``"factor-analysis"``,
        ``"ppca"``, ``"regression"``, ``"experts"``, ``"gaussian-hmm"``,
        ``"gmm-hmm"``, ``"poisson-hmm"``, ``"categorical-hmm"``, ``"lda"``),
        or an unfitted emkit estimator of one of those classes, whose settings
        are kept and whose ``n_components`` is varied.
    n_components : int or iterable of int, optional
        The numbers of components (states, topics, factors) tried; by default
        :func:`default_n_components` (1 to 5 for mixtures, 1 to 4 for HMMs,
        2 to 10 topics by 2, 10 as the upper bound of a Bayesian mixture).
    y : array-like of shape (n_samples,), optional
        The response, for ``"regression"`` and ``"experts"`` (required there).
    lengths : array-like of int, optional
        HMMs: the sequences' lengths, adding up to ``n_samples`` (one sequence
        if None).
    vocabulary : sequence of str of length n_words, optional
        LDA: the word of every column.
    feature_names : sequence of str, optional
        One per column of ``X``; ``x0, x1, ...`` by default.
    target_name : str, default="y"
        The response's name (regression).
    model_params : dict, optional
        Options of the estimator named by ``model`` (``{"covariance_type":
        "diag", "n_init": 3}``); for ``"gaussian"``, only ``max_iter``.
    covariance_types : list of str, optional
        ``"gaussian"`` only: the structures tried with every number of
        components, :data:`DEFAULT_COVARIANCE_TYPES` (E and V for one feature)
        by default, ``"all"`` for mclust's 14.
    criterion : str, optional
        What chooses: ``"bic"`` (the default where there is a likelihood),
        ``"icl"`` (mixtures), ``"aic"``; ``"silhouette"`` for k-means;
        ``"perplexity"`` (on a held-out fifth of the documents) for LDA. A
        Bayesian Gaussian mixture takes one number, an upper bound its
        variational fit prunes.
    teaching_iter : int, default=4
        EM iterations shown in the Gaussian teaching view.
    top_words : int, default=10
        LDA: words listed per topic.
    random_state : int, default=0
        For the teaching view's starts, the held-out documents and the
        silhouette's sample (the estimator's own ``random_state`` seeds its fits).
    title : str, default="emkit report"

    Returns
    -------
    emkit.selection.ModelSelection or ComponentSelection
        The selection the report shows: a ModelSelection over mclust's grid for
        ``"gaussian"`` (without missing values), a :class:`ComponentSelection`
        otherwise; both have ``best_estimator_`` and ``best_params_``.

    Raises
    ------
    ValueError
        An unknown model name, a criterion the model does not have, data that
        do not fit the model (``y`` missing for a regression, ``lengths`` not
        adding up), or a number of components the data cannot take.

    Examples
    --------
    >>> import tempfile, os
    >>> from emkit.datasets import load_old_faithful, load_reuters
    >>> from emkit.report import write_report
    >>> faithful = load_old_faithful()
    >>> folder = tempfile.mkdtemp()
    >>> result = write_report(faithful.data, os.path.join(folder, "report.html"),
    ...                       feature_names=faithful.feature_names,
    ...                       n_components=range(1, 4), covariance_types=["EEE", "VVV"])
    >>> result.best_params_
    {'n_components': 3, 'covariance_type': 'EEE'}
    >>> result = write_report(faithful.data, os.path.join(folder, "t.html"),
    ...                       model="student-t", n_components=[1, 2, 3])
    >>> result.criterion, result.best_params_
    ('bic', {'n_components': 2})
    """
    page, result = build_report(X, model=model, n_components=n_components, y=y,
                                lengths=lengths, vocabulary=vocabulary,
                                feature_names=feature_names, target_name=target_name,
                                model_params=model_params, covariance_types=covariance_types,
                                criterion=criterion, teaching_iter=teaching_iter,
                                top_words=top_words, random_state=random_state, title=title)
    with open(os.fspath(path), "w", encoding="utf-8") as handle:
        handle.write(page)
    return result
