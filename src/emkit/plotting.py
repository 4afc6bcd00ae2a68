"""Plots of fitted emkit models (needs matplotlib: ``pip install matplotlib``).

matplotlib is imported inside the functions only, so ``import emkit.plotting``
works without it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_mixture_2d", "save_mixture_plot", "plot_model_selection",
           "save_model_selection_plot"]

_MATPLOTLIB_MISSING = ("plotting needs matplotlib, which is not installed; install it with "
                       "`pip install matplotlib` (or `pip install emkit[plot]`).")


def _require_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(_MATPLOTLIB_MISSING) from exc


def _component_covariances_2d(covariances, covariance_type, n_components, dims=(0, 1)):
    """The (K, 2, 2) marginal covariances of ``dims`` for every component.

    Parameters
    ----------
    covariances : ndarray
        ``covariances_`` in the layout of ``covariance_type``: full (K, D, D),
        tied (D, D), diag (K, D), spherical (K,).
    covariance_type : {"full", "tied", "diag", "spherical"} or an mclust name
        mclust names (EII ... VVV, E, V) store (K, D, D) covariances.
    n_components : int
    dims : pair of int, default=(0, 1)

    Returns
    -------
    ndarray of shape (n_components, 2, 2)
    """
    covariances = np.asarray(covariances, dtype=np.float64)
    index = np.ix_(list(dims), list(dims))
    K = n_components
    if covariance_type == "full" or covariances.ndim == 3:
        return np.stack([covariances[k][index] for k in range(K)])
    if covariance_type == "tied":
        return np.repeat(covariances[index][None], K, axis=0)
    if covariance_type == "diag":
        return np.stack([np.diag(covariances[k, list(dims)]) for k in range(K)])
    if covariance_type == "spherical":
        return covariances.reshape(K)[:, None, None] * np.eye(2)
    raise ValueError(f"unknown covariance_type {covariance_type!r}; expected one of "
                     f"'full', 'tied', 'diag', 'spherical'.")


def _ellipse_geometry(covariance, n_std):
    """Width, height and angle (degrees) of the ``n_std``-sigma ellipse of a 2x2 covariance."""
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    major = eigenvectors[:, 1]
    angle = float(np.degrees(np.arctan2(major[1], major[0])))
    width, height = 2.0 * n_std * np.sqrt(eigenvalues[::-1])
    return float(width), float(height), angle


def plot_mixture_2d(estimator, X, ax=None, *, dims=(0, 1), n_std=(1.0, 2.0),
                    feature_names=None, s=12):
    """Scatter the data coloured by predicted component, with each component's ellipses.

    Parameters
    ----------
    estimator : fitted GaussianMixture (or any estimator with ``predict``,
        ``means_``, ``covariances_``, ``covariance_type``)
    X : array-like of shape (n_samples, n_features), n_features >= 2
    ax : matplotlib Axes, optional
        Drawn into; a new figure is made with :mod:`matplotlib.pyplot` if None.
    dims : pair of int, default=(0, 1)
        The two features plotted; ellipses are the marginal covariances of
        those features.
    n_std : sequence of float, default=(1, 2)
        Draw the ellipse at each of these many standard deviations.
    feature_names : sequence of str, optional
        Axis labels (indexed by feature).
    s : float, default=12
        Marker size.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _require_matplotlib()
    from matplotlib.patches import Ellipse

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(f"X must have shape (n_samples, n_features >= 2); got {X.shape}.")
    dims = tuple(int(d) for d in dims)
    if len(dims) != 2 or not all(0 <= d < X.shape[1] for d in dims):
        raise ValueError(f"dims must name two of the {X.shape[1]} features; got {dims}.")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()

    means = np.asarray(estimator.means_, dtype=np.float64)
    K = means.shape[0]
    covariances = _component_covariances_2d(estimator.covariances_, estimator.covariance_type,
                                           K, dims)
    labels = np.asarray(estimator.predict(X))
    colors = [f"C{k % 10}" for k in range(K)]
    weights = getattr(estimator, "weights_", None)

    for k in range(K):
        members = labels == k
        label = f"component {k}"
        if weights is not None:
            label += f" (weight {weights[k]:.2f})"
        ax.scatter(X[members, dims[0]], X[members, dims[1]], s=s, color=colors[k], alpha=0.7,
                   label=label, edgecolors="none")
        for i, n in enumerate(n_std):
            width, height, angle = _ellipse_geometry(covariances[k], n)
            ax.add_patch(Ellipse(means[k, list(dims)], width, height, angle=angle,
                                 fill=False, edgecolor=colors[k], linewidth=1.5,
                                 linestyle="-" if i == 0 else "--"))
        ax.plot(*means[k, list(dims)], marker="x", color="black", markersize=8)
    if feature_names is not None:
        ax.set_xlabel(str(feature_names[dims[0]]))
        ax.set_ylabel(str(feature_names[dims[1]]))
    else:
        ax.set_xlabel(f"feature {dims[0]}")
        ax.set_ylabel(f"feature {dims[1]}")
    ax.legend(loc="best", fontsize="small")
    ax.autoscale_view()
    return ax


def _agg_figure(figsize=(6.4, 4.8)):
    """A Figure on the Agg canvas (no pyplot, no global backend change), for writing files."""
    _require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    return figure


def save_mixture_plot(estimator, X, path, *, title=None, dpi=100, **kwargs):
    """Draw :func:`plot_mixture_2d` on an Agg figure and write it to ``path``.

    Parameters
    ----------
    estimator, X : as in :func:`plot_mixture_2d`
    path : str or path-like
        Output file; the format follows the extension (``.png``, ``.pdf``, ...).
    title : str, optional
    dpi : int, default=100
    **kwargs : further keyword arguments of :func:`plot_mixture_2d`

    Returns
    -------
    path
    """
    figure = _agg_figure()
    ax = figure.add_subplot()
    plot_mixture_2d(estimator, X, ax=ax, **kwargs)
    if title:
        ax.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    return path


# R mclust's plot symbols (mclust.options("bicPlotSymbols"), R's pch) and
# colours (mclust.options("bicPlotColors")) per structure, as matplotlib
# (marker, filled) pairs.
_MCLUST_STYLE = {
    "EII": ("^", True, "gray"), "VII": ("^", False, "black"),
    "EEI": ("o", True, "#218B21"), "EVI": ("$\\oplus$", False, "#41884F"),
    "VEI": ("$\\otimes$", False, "#508476"), "VVI": ("o", False, "#58819C"),
    "EEE": ("s", True, "#597DC3"), "VEE": ("*", False, "#5178EA"),
    "EVE": ("D", False, "#716EE7"), "VVE": ("P", False, "#9B60B8"),
    "EEV": ("$\\boxplus$", False, "#B2508B"), "VEV": ("$\\boxtimes$", False, "#C03F60"),
    "EVV": ("X", False, "#C82A36"), "VVV": ("s", False, "#CC0000"),
    "E": ("^", True, "gray"), "V": ("^", False, "black"),
}
_SKLEARN_STYLE = {"spherical": "VII", "diag": "VVI", "tied": "EEE", "full": "VVV"}


def plot_model_selection(selection, ax=None, *, criterion=None, legend=True):
    """The criterion of every structure against the number of components.

    The picture of R mclust's ``plot.mclustBIC``: one line per covariance
    structure, in mclust's colours and (approximately) its symbols, with
    BIC (or ICL) in mclust's convention, higher is better.

    Parameters
    ----------
    selection : emkit.selection.ModelSelection
        The result of :func:`emkit.select_model`.
    ax : matplotlib Axes, optional
        Drawn into; a new figure is made with :mod:`matplotlib.pyplot` if None.
    criterion : {"bic", "icl"}, optional
        Defaults to the one the selection used.
    legend : bool, default=True

    Returns
    -------
    matplotlib.axes.Axes
    """
    _require_matplotlib()
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    criterion = criterion or selection.criterion
    scores = selection.scores(criterion)
    components = selection.n_components
    for j, name in enumerate(selection.covariance_types):
        marker, filled, color = _MCLUST_STYLE[_SKLEARN_STYLE.get(name, name)]
        ax.plot(components, scores[:, j], color=color, marker=marker, markersize=7,
                markerfacecolor=color if filled else "none", linewidth=1, label=name)
    ax.set_xlabel("Number of components")
    ax.set_ylabel(f"{criterion.upper()} (higher is better)")
    ax.set_xticks(components)
    if legend:
        ax.legend(loc="lower right", ncol=2, fontsize="small", title="Model")
    return ax


def save_model_selection_plot(selection, path, *, title=None, dpi=100, **kwargs):
    """Draw :func:`plot_model_selection` on an Agg figure and write it to ``path``.

    Returns
    -------
    path
    """
    figure = _agg_figure()
    ax = figure.add_subplot()
    plot_model_selection(selection, ax=ax, **kwargs)
    if title:
        ax.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    return path
