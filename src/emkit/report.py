"""A self-contained HTML report of a Gaussian-mixture analysis (needs matplotlib).

:func:`write_report` runs a small model selection (:func:`emkit.select_model`),
and writes one HTML page with no external files (the pictures are embedded as
base64 PNG) in five sections: the data summary, the selection table, the
chosen model's parameters, its plots, and the EM teaching view
(:func:`emkit.plotting.plot_em_steps`) of a fresh fit on (two of) the
features. The command line's ``emkit report data.csv -o report.html`` calls it.
"""

from __future__ import annotations

import base64
import html
import os
import warnings

import numpy as np

__all__ = ["write_report", "build_report", "SECTIONS", "DEFAULT_COVARIANCE_TYPES"]

#: The page's sections, as (HTML id, heading), in order.
SECTIONS = (("data-summary", "Data summary"), ("selection", "Model selection"),
            ("parameters", "The chosen model's parameters"), ("plots", "Plots"),
            ("teaching", "EM, step by step"))

#: The default grid's structures (a quick subset of mclust's 14; E and V for one feature).
DEFAULT_COVARIANCE_TYPES = ("EII", "VII", "EEI", "VVI", "EEE", "VVV")

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


def _image(figure, alt):
    from .plotting import figure_to_png

    data = base64.b64encode(figure_to_png(figure)).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _data_summary(X, names):
    n, D = X.shape
    rows = [[names[j], _fmt(X[:, j].mean()), _fmt(X[:, j].std(ddof=1) if n > 1 else 0.0),
             _fmt(X[:, j].min()), _fmt(np.median(X[:, j])), _fmt(X[:, j].max())]
            for j in range(D)]
    return (f"<p>{n} samples x {D} feature(s).</p>\n"
            + _table(["feature", "mean", "sd", "min", "median", "max"], rows))


def _selection_section(result, new_figure):
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


def _parameters_section(model, X, names):
    n = X.shape[0]
    K = model.n_components
    loglik = float(model.score(X)) * n
    sizes = np.bincount(model.predict(X), minlength=K)
    facts = [["covariance structure", model.covariance_type],
             ["components", str(K)],
             ["log-likelihood", _fmt(loglik, 8)],
             ["BIC (scikit-learn's, lower is better)", _fmt(model.bic(X), 8)],
             ["free parameters", str(model.n_parameters())],
             ["converged", f"{'yes' if model.converged_ else 'no'} after {model.n_iter_} "
                           f"EM iteration(s)"]]
    parts = [_table(["", "value"], facts, name_columns=2)]
    rows = [[str(k), _fmt(model.weights_[k], 4), str(sizes[k]),
             *(_fmt(v) for v in model.means_[k])] for k in range(K)]
    parts.append("<h3>Weights and means</h3>")
    parts.append(_table(["component", "weight", "n assigned", *names], rows))
    from .plotting import marginal_covariances

    covariances = marginal_covariances(model.covariances_, model.covariance_type, K,
                                       range(X.shape[1]))
    parts.append("<h3>Covariances</h3>")
    for k in range(K):
        parts.append(f"<p>component {k}</p>")
        parts.append(_table(["", *names], [[names[i], *(_fmt(v) for v in covariances[k, i])]
                                          for i in range(len(names))]))
    return "\n".join(parts)


def _plots_section(model, X, names, new_figure):
    from .plotting import plot_history, plot_mixture, plot_uncertainty

    D = X.shape[1]
    parts = []
    size = (2.4 * D, 2.4 * D + 0.4) if D > 2 else (7.5, 5.5)
    what = {1: "histogram with the components' densities",
            2: "1- and 2-sigma ellipses and density contours"}.get(
                D, "pairs plot with 1- and 2-sigma ellipses")
    figure = plot_mixture(model, X, new_figure(size), feature_names=names,
                          title=f"{model.n_components}-component mixture: {what}")
    parts.append(_image(figure, "the mixture over the data"))
    if D >= 2:
        figure = new_figure((7.5, 5.5))
        ax = figure.add_subplot()
        plot_uncertainty(model, X, ax, feature_names=names)
        ax.set_title("Classification uncertainty (larger: less certain)")
        parts.append(_image(figure, "classification uncertainty"))
    figure = new_figure((7.5, 4.0))
    plot_history(model, figure.add_subplot())
    parts.append(_image(figure, "the objective per EM iteration"))
    return "\n".join(parts)


def _teaching_section(X, names, n_components, n_iter, random_state, new_figure):
    from .estimators.gaussian_mixture import GaussianMixture
    from .plotting import em_trace_rows, plot_em_steps
    from .teaching import explain_em

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
    _, start, trace = best
    used = ", ".join(names[j] for j in columns)
    parts = [f"<p>A fresh EM fit with {n_components} component(s) (full covariances, started "
             f"from randomly chosen data points; of five such starts, the one that moves most) "
             f"on {html.escape(used)}. Each panel shows the data coloured by their "
             f"responsibilities and the current components. After every "
             f"E-step the ELBO equals the log-likelihood (the KL divergence between q and the "
             f"posterior is 0); after every M-step the log-likelihood exceeds the ELBO by the KL "
             f"gap that the next E-step closes.</p>"]
    size = (max(11.0, 2.4 * (n_iter + 1)), 7.5)
    figure = plot_em_steps(start, shown, n_iter, new_figure(size),
                           feature_names=[names[j] for j in columns], trace=trace)
    parts.append(_image(figure, "EM step by step"))
    parts.append(_table(["iteration", "step", "log-likelihood", "ELBO",
                         "KL = log-likelihood - ELBO"], em_trace_rows(trace, digits=6),
                        name_columns=2))
    return "\n".join(parts)


def build_report(X, *, feature_names=None, n_components=range(1, 6), covariance_types=None,
                 criterion="bic", teaching_iter=4, random_state=0, title="emkit report"):
    """The report as an HTML string (see :func:`write_report` for the parameters).

    Returns
    -------
    html : str
    selection : emkit.selection.ModelSelection
    """
    from .plotting import new_figure
    from .selection import select_model
    from ._validation import check_integer, validate_samples

    X = validate_samples(None, X, reset=True, min_samples=2,
                         min_samples_reason="a report compares fits of at least two samples")
    X = np.array(X, dtype=np.float64)  # a copy: the caller's array is never touched
    n, D = X.shape
    names = ([f"x{j}" for j in range(D)] if feature_names is None
             else [str(name) for name in feature_names])
    if len(names) != D:
        raise ValueError(f"feature_names has {len(names)} names but X has {D} columns; pass "
                         f"one name per column.")
    teaching_iter = check_integer(teaching_iter, "teaching_iter", minimum=1)
    if covariance_types is None:
        covariance_types = ["E", "V"] if D == 1 else list(DEFAULT_COVARIANCE_TYPES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # failed cells are NA in the table
        result = select_model(X, n_components=n_components, covariance_types=covariance_types,
                              criterion=criterion, random_state=random_state)
    model = result.best_estimator_

    def figure(size):
        return new_figure(size, layout="constrained")

    bodies = {
        "data-summary": _data_summary(X, names),
        "selection": _selection_section(result, figure),
        "parameters": _parameters_section(model, X, names),
        "plots": _plots_section(model, X, names, figure),
        "teaching": _teaching_section(X, names, model.n_components, teaching_iter,
                                      random_state, figure),
    }
    from . import __version__

    sections = "\n".join(f'<section id="{key}">\n<h2>{html.escape(heading)}</h2>\n'
                         f"{bodies[key]}\n</section>" for key, heading in SECTIONS)
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n"
            f'<p class="note">Written by emkit {__version__}; every picture is embedded in '
            f"this file.</p>\n{sections}\n</body>\n</html>\n")
    return page, result


def write_report(X, path, *, feature_names=None, n_components=range(1, 6),
                 covariance_types=None, criterion="bic", teaching_iter=4, random_state=0,
                 title="emkit report"):
    """Choose a Gaussian mixture for ``X`` and write a self-contained HTML report.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    path : str or path-like
        The ``.html`` file written.
    feature_names : sequence of str, optional
        One per column; ``x0, x1, ...`` by default.
    n_components : int or iterable of int, default=range(1, 6)
        The numbers of components tried.
    covariance_types : list of str, optional
        Structures tried; :data:`DEFAULT_COVARIANCE_TYPES` (or E and V for one
        feature) by default, a quick subset of mclust's 14 ("all" for them all).
    criterion : {"bic", "icl"}, default="bic"
    teaching_iter : int, default=4
        EM iterations shown in the teaching view.
    random_state : int, default=0
    title : str, default="emkit report"

    Returns
    -------
    emkit.selection.ModelSelection
        The selection the report shows.

    Examples
    --------
    >>> import tempfile, os
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.report import write_report
    >>> faithful = load_old_faithful()
    >>> path = os.path.join(tempfile.mkdtemp(), "report.html")
    >>> result = write_report(faithful.data, path, feature_names=faithful.feature_names,
    ...                       n_components=range(1, 4), covariance_types=["EEE", "VVV"])
    >>> result.best_params_
    {'n_components': 3, 'covariance_type': 'EEE'}
    """
    page, result = build_report(X, feature_names=feature_names, n_components=n_components,
                                covariance_types=covariance_types, criterion=criterion,
                                teaching_iter=teaching_iter, random_state=random_state,
                                title=title)
    with open(os.fspath(path), "w", encoding="utf-8") as handle:
        handle.write(page)
    return result
