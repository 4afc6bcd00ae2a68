"""Plots of fitted emkit models (needs matplotlib: ``pip install matplotlib``).

matplotlib is imported inside the functions only, so ``import emkit.plotting``
works without it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_mixture", "plot_mixture_1d", "plot_mixture_2d", "plot_density_contours",
           "plot_uncertainty", "plot_mixture_pairs", "save_mixture_plot",
           "plot_model_selection", "plot_selection_criteria", "save_model_selection_plot",
           "plot_history", "plot_hmm_states", "plot_transition_matrix", "plot_top_words",
           "plot_topic_prevalence", "plot_em_steps", "plot_regression_mixture",
           "plot_scale_weights", "plot_effective_weights", "plot_factor_loadings",
           "plot_explained_variance", "plot_kmeans", "plot_component_probabilities",
           "plot_poisson_mixture", "plot_rates", "plot_gating",
           "model_figures", "new_figure", "figure_to_png",
           "marginal_covariances", "em_trace_rows", "student_t_scale_weights",
           "factor_covariances"]

_MATPLOTLIB_MISSING = ("plotting needs matplotlib, which is not installed; install it with "
                       "`pip install matplotlib` (or `pip install emkit[plot]`).")


def _require_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(_MATPLOTLIB_MISSING) from exc


def marginal_covariances(covariances, covariance_type, n_components, dims=(0, 1)):
    """The (K, d, d) marginal covariances of ``dims`` (any number of them) for every component.

    Parameters
    ----------
    covariances : ndarray
        ``covariances_`` in the layout of ``covariance_type``: full (K, D, D),
        tied (D, D), diag (K, D), spherical (K,).
    covariance_type : {"full", "tied", "diag", "spherical"} or an mclust name
        mclust names (EII ... VVV, E, V) store (K, D, D) covariances.
    n_components : int
    dims : sequence of int, default=(0, 1)

    Returns
    -------
    ndarray of shape (n_components, len(dims), len(dims))

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.plotting import marginal_covariances
    >>> marginal_covariances(np.array([[1.0, 4.0, 9.0]]), "diag", 1, dims=(0, 2))
    array([[[1., 0.],
            [0., 9.]]])
    """
    covariances = np.asarray(covariances, dtype=np.float64)
    dims = list(dims)
    index = np.ix_(dims, dims)
    K = n_components
    if covariance_type == "full" or covariances.ndim == 3:
        return np.stack([covariances[k][index] for k in range(K)])
    if covariance_type == "tied":
        return np.repeat(covariances[index][None], K, axis=0)
    if covariance_type == "diag":
        return np.stack([np.diag(covariances[k, dims]) for k in range(K)])
    if covariance_type == "spherical":
        return covariances.reshape(K)[:, None, None] * np.eye(len(dims))
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
                    feature_names=None, s=12, legend=True, contours=False, components=None):
    """Scatter the data coloured by predicted component, with each component's ellipses.

    Parameters
    ----------
    estimator : fitted GaussianMixture (or any estimator with ``predict``,
        ``means_``, ``covariances_``, ``covariance_type``)
        For a StudentTMixture the ellipses are those of the scale matrices
        and the contours the t mixture's density.
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
    legend : bool, default=True
    contours : bool, default=False
        Also draw the mixture's (marginal) density contours, see
        :func:`plot_density_contours`.
    components : sequence of int, optional
        Draw only these components (e.g. the occupied ones of a
        BayesianGaussianMixture); every point is coloured by the most probable
        of them. All by default.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.plotting import new_figure, plot_mixture_2d
    >>> X = load_old_faithful().data
    >>> model = emkit.GaussianMixture(2, random_state=0).fit(X)
    >>> ax = plot_mixture_2d(model, X, new_figure().add_subplot())
    >>> len(ax.patches)  # 1- and 2-sigma ellipses of each component
    4
    """
    _require_matplotlib()

    X, dims = _check_samples_2d(X, dims)
    ax = _new_axes(ax)

    means = np.asarray(estimator.means_, dtype=np.float64)
    K = means.shape[0]
    covariances = marginal_covariances(estimator.covariances_, estimator.covariance_type,
                                           K, dims)
    drawn = _drawn_components(components, K)
    labels = _labels_among(estimator, X, drawn, K)
    colors = [f"C{k % 10}" for k in range(K)]
    weights = getattr(estimator, "weights_", None)

    for k in drawn:
        members = labels == k
        label = f"component {k}"
        if weights is not None:
            label += f" (weight {weights[k]:.2f})"
        ax.scatter(X[members, dims[0]], X[members, dims[1]], s=s, color=colors[k], alpha=0.7,
                   label=label, edgecolors="none")
    _draw_ellipses(ax, means[:, list(dims)], covariances, n_std, drawn)
    if contours:
        plot_density_contours(estimator, X, ax=ax, dims=dims, feature_names=feature_names)
    _label_dims(ax, dims, feature_names)
    if legend:
        _ellipse_legend(ax, n_std, scale=_dofs(estimator) is not None)
    ax.autoscale_view()
    return ax


def _drawn_components(components, K):
    if components is None:
        return list(range(K))
    drawn = [int(k) for k in components]
    if not drawn or not all(0 <= k < K for k in drawn):
        raise ValueError(f"components must name some of the {K} components; got "
                         f"{list(components)}.")
    return drawn


def _labels_among(estimator, X, drawn, K):
    """The predicted component of every sample, among the ``drawn`` ones only."""
    if len(drawn) == K:
        return np.asarray(estimator.predict(X))
    proba = np.asarray(estimator.predict_proba(X))[:, drawn]
    return np.asarray(drawn)[proba.argmax(axis=1)]


def _dofs(estimator):
    """The degrees of freedom of a Student-t mixture, None for a Gaussian one."""
    dofs = getattr(estimator, "dofs_", None)
    return None if dofs is None else np.asarray(dofs, dtype=np.float64)


def _draw_ellipses(ax, means, covariances, n_std, components=None):
    """Each component's ``n_std``-sigma ellipses (solid, then dashed) and a cross at its mean."""
    from matplotlib.patches import Ellipse

    for k in range(means.shape[0]) if components is None else components:
        color = f"C{k % 10}"
        for i, n in enumerate(n_std):
            width, height, angle = _ellipse_geometry(covariances[k], n)
            ax.add_patch(Ellipse(means[k], width, height, angle=angle, fill=False,
                                 edgecolor=color, linewidth=1.5,
                                 linestyle="-" if i == 0 else "--"))
        ax.plot(*means[k], marker="x", color="black", markersize=8)


def _ellipse_legend(ax, n_std, scale=False, **kwargs):
    """The legend of the points plus one entry per ellipse style (``scale``: of a t's
    scale matrix, which is not its covariance)."""
    from matplotlib.lines import Line2D

    handles, labels = ax.get_legend_handles_labels()
    for i, n in enumerate(n_std):
        handles.append(Line2D([], [], color="gray", linestyle="-" if i == 0 else "--"))
        labels.append(f"{n:g}-sigma ellipse" + (" (scale matrix)" if scale else ""))
    ax.legend(handles, labels, loc="best", fontsize="small", **kwargs)


def _label_dims(ax, dims, feature_names):
    names = _feature_names(feature_names, max(dims) + 1)
    ax.set_xlabel(names[dims[0]])
    ax.set_ylabel(names[dims[1]])


def _feature_names(feature_names, n_features):
    if feature_names is None:
        return [f"feature {j}" for j in range(n_features)]
    return [str(name) for name in feature_names]


def _check_samples_2d(X, dims):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(f"X must have shape (n_samples, n_features >= 2); got {X.shape}.")
    dims = tuple(int(d) for d in dims)
    if len(dims) != 2 or not all(0 <= d < X.shape[1] for d in dims):
        raise ValueError(f"dims must name two of the {X.shape[1]} features; got {dims}.")
    return X, dims


def _new_axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def _marginal_density(weights, means, covariances, points, dofs=None):
    """Density at ``points`` (m, d) of the mixture's marginal over the plotted features.

    A Gaussian (or Student-t) mixture's marginal over some features is the
    mixture of the components' marginals (a t's marginal is a t with the same
    degrees of freedom and the sub-matrix of its scale), so no integration is
    needed.
    """
    from scipy.stats import multivariate_normal, multivariate_t

    density = np.zeros(points.shape[0])
    for k in range(means.shape[0]):
        if dofs is None:
            component = multivariate_normal(means[k], covariances[k], allow_singular=True)
        else:
            component = multivariate_t(means[k], covariances[k], df=dofs[k],
                                       allow_singular=True)
        density += weights[k] * component.pdf(points)
    return density


def plot_density_contours(estimator, X, ax=None, *, dims=(0, 1), feature_names=None,
                          levels=(0.1, 0.25, 0.5, 0.75, 0.9), grid_size=120, scatter=False):
    """Contours of a Gaussian (or Student-t) mixture's density over two features.

    Parameters
    ----------
    estimator : fitted GaussianMixture or StudentTMixture
    X : array-like of shape (n_samples, n_features), n_features >= 2
        Sets the plotting range (and is drawn when ``scatter``).
    ax : matplotlib Axes, optional
    dims : pair of int, default=(0, 1)
        For more than two features the density drawn is the marginal of these.
    feature_names : sequence of str, optional
    levels : sequence of float, default=(0.1, 0.25, 0.5, 0.75, 0.9)
        Contours are drawn where the density equals these quantiles of its
        values at the data points: the 0.1 contour encloses about 90% of the
        data.
    grid_size : int, default=120
    scatter : bool, default=False

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.plotting import new_figure, plot_density_contours
    >>> X = load_old_faithful().data
    >>> model = emkit.GaussianMixture(2, random_state=0).fit(X)
    >>> ax = plot_density_contours(model, X, new_figure().add_subplot(), levels=(0.5,))
    >>> ax.get_xlabel()
    'feature 0'
    """
    _require_matplotlib()
    X, dims = _check_samples_2d(X, dims)
    ax = _new_axes(ax)
    K = np.asarray(estimator.means_).shape[0]
    means = np.asarray(estimator.means_, dtype=np.float64)[:, list(dims)]
    covariances = marginal_covariances(estimator.covariances_, estimator.covariance_type,
                                           K, dims)
    weights = np.asarray(estimator.weights_, dtype=np.float64)
    lo, hi = X[:, dims].min(axis=0), X[:, dims].max(axis=0)
    pad = 0.1 * (hi - lo + (hi == lo))
    gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], grid_size)
    gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], grid_size)
    xx, yy = np.meshgrid(gx, gy)
    dofs = _dofs(estimator)
    density = _marginal_density(weights, means, covariances,
                                np.column_stack([xx.ravel(), yy.ravel()]),
                                dofs).reshape(xx.shape)
    at_data = _marginal_density(weights, means, covariances, X[:, dims], dofs)
    values = np.unique(np.quantile(at_data, sorted(levels)))
    if scatter:
        ax.scatter(X[:, dims[0]], X[:, dims[1]], s=8, color="0.5", edgecolors="none")
    ax.contour(xx, yy, density, levels=values, colors="0.35", linewidths=0.8)
    _label_dims(ax, dims, feature_names)
    return ax


def plot_uncertainty(estimator, X, ax=None, *, dims=(0, 1), feature_names=None,
                     n_std=(1.0,)):
    """Classification uncertainty as R mclust draws it (``plot(fit, what = "uncertainty")``).

    Each point's uncertainty is ``1 - max_k p(k | x)``. As in mclust's
    ``uncertainty`` plot, points below the 75% quantile of the uncertainties
    are drawn small, those between the 75% and 95% quantiles larger, and the
    most uncertain 5% largest; colours are the predicted components.

    Parameters
    ----------
    estimator : fitted GaussianMixture
    X : array-like of shape (n_samples, n_features), n_features >= 2
    ax : matplotlib Axes, optional
    dims : pair of int, default=(0, 1)
    feature_names : sequence of str, optional
    n_std : sequence of float, default=(1,)
        Ellipses drawn.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.plotting import new_figure, plot_uncertainty
    >>> X = load_old_faithful().data
    >>> model = emkit.GaussianMixture(2, random_state=0).fit(X)
    >>> ax = plot_uncertainty(model, X, new_figure().add_subplot())
    >>> ax.get_legend().get_title().get_text()
    '1 - max probability'
    """
    _require_matplotlib()
    X, dims = _check_samples_2d(X, dims)
    ax = _new_axes(ax)
    proba = np.asarray(estimator.predict_proba(X))
    uncertainty = 1.0 - proba.max(axis=1)
    labels = proba.argmax(axis=1)
    q75, q95 = np.quantile(uncertainty, [0.75, 0.95])
    bands = [(uncertainty < q75, 4, f"< {q75:.2g} (75% quantile)"),
             ((uncertainty >= q75) & (uncertainty < q95), 18, f"{q75:.2g} to {q95:.2g}"),
             (uncertainty >= q95, 50, f">= {q95:.2g} (95% quantile)")]
    colors = np.array([f"C{k % 10}" for k in labels])
    for members, size, label in bands:
        ax.scatter(X[members, dims[0]], X[members, dims[1]], s=size, c=colors[members],
                   edgecolors="black" if size > 4 else "none", linewidths=0.4,
                   label=f"uncertainty {label}")
    K = proba.shape[1]
    covariances = marginal_covariances(estimator.covariances_, estimator.covariance_type,
                                           K, dims)
    _draw_ellipses(ax, np.asarray(estimator.means_, dtype=np.float64)[:, list(dims)],
                   covariances, n_std)
    _label_dims(ax, dims, feature_names)
    legend = ax.legend(loc="best", fontsize="small", title="1 - max probability")
    for handle in legend.legend_handles:
        handle.set_color("0.4")
    ax.autoscale_view()
    return ax


def _univariate_components(estimator, feature=0):
    """Weights (K,), means (K,), standard deviations (K,) of one feature's marginals and the
    degrees of freedom (K,) of a t mixture (None for a Gaussian one; the "sd" is then the
    scale)."""
    means = np.asarray(estimator.means_, dtype=np.float64)
    K = means.shape[0]
    variances = marginal_covariances(estimator.covariances_, estimator.covariance_type,
                                         K, (feature,))[:, 0, 0]
    return (np.asarray(estimator.weights_, dtype=np.float64), means[:, feature],
            np.sqrt(variances), _dofs(estimator))


def _draw_univariate(ax, x, weights, means, sds, dofs=None, *, bins="auto", legend=True,
                     components=None):
    from scipy.stats import norm, t

    ax.hist(x, bins=bins, density=True, color="0.85", edgecolor="0.6", label="data")
    grid = np.linspace(x.min() - 0.1 * np.ptp(x), x.max() + 0.1 * np.ptp(x), 400)
    total = np.zeros_like(grid)
    for k in range(means.size):
        if dofs is None:
            density = weights[k] * norm.pdf(grid, means[k], sds[k])
        else:
            density = weights[k] * t.pdf(grid, dofs[k], means[k], sds[k])
        total += density
        if components is not None and k not in components:
            continue
        ax.plot(grid, density, color=f"C{k % 10}", linewidth=1.5,
                label=f"component {k} (weight {weights[k]:.2f})")
    ax.plot(grid, total, color="black", linewidth=1.5, linestyle="--", label="mixture")
    if legend:
        ax.legend(loc="best", fontsize="small")


def plot_mixture_1d(estimator, X, ax=None, *, feature=0, feature_names=None, bins="auto",
                    legend=True, components=None):
    """Histogram of one feature with each component's weighted density and their sum.

    Parameters
    ----------
    estimator : fitted GaussianMixture or StudentTMixture (t densities)
    X : array-like of shape (n_samples, n_features)
    ax : matplotlib Axes, optional
    feature : int, default=0
        For more than one feature the densities are the components' marginals.
    feature_names : sequence of str, optional
    bins : int or str, default="auto"
        As in :func:`numpy.histogram`.
    legend : bool, default=True
    components : sequence of int, optional
        Draw only these components' curves (the mixture curve is the whole
        mixture's density).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.plotting import new_figure, plot_mixture_1d
    >>> X = load_old_faithful().data
    >>> model = emkit.GaussianMixture(2, random_state=0).fit(X)
    >>> ax = plot_mixture_1d(model, X, new_figure().add_subplot(), feature=1)
    >>> ax.get_ylabel()
    'density'
    """
    _require_matplotlib()
    X = _feature_column(X, feature)
    ax = _new_axes(ax)
    _draw_univariate(ax, X[:, feature], *_univariate_components(estimator, feature),
                     bins=bins, legend=legend, components=components)
    ax.set_xlabel(_feature_names(feature_names, X.shape[1])[feature])
    ax.set_ylabel("density")
    return ax


def plot_mixture_pairs(estimator, X, figure=None, *, feature_names=None, n_std=(1.0, 2.0),
                       s=6, components=None):
    """A pairs plot of a mixture with more than two features.

    Below and above the diagonal: every pair of features with the points
    coloured by predicted component and the marginal ellipses; on the
    diagonal: each feature's histogram with the components' marginal
    densities.

    Parameters
    ----------
    estimator : fitted GaussianMixture or StudentTMixture (t densities,
        scale-matrix ellipses)
    X : array-like of shape (n_samples, n_features)
    figure : matplotlib Figure, optional
        Drawn into (it should be empty); a new pyplot figure if None.
    feature_names : sequence of str, optional
    n_std : sequence of float, default=(1, 2)
    s : float, default=6
    components : sequence of int, optional
        Draw only these components, as in :func:`plot_mixture_2d`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_iris
    >>> from emkit.plotting import new_figure, plot_mixture_pairs
    >>> X = load_iris().data
    >>> model = emkit.GaussianMixture(3, random_state=0).fit(X)
    >>> len(plot_mixture_pairs(model, X, new_figure((9, 9))).axes)
    16
    """
    _require_matplotlib()
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(f"X must have shape (n_samples, n_features >= 2); got {X.shape}.")
    D = X.shape[1]
    names = _feature_names(feature_names, D)
    if figure is None:
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=(2.4 * D, 2.4 * D))
    axes = figure.subplots(D, D, sharex="col", squeeze=False)
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.08 * (hi - lo + (hi == lo))
    for i in range(D):
        for j in range(D):
            ax = axes[i, j]
            if i == j:
                _draw_univariate(ax, X[:, i], *_univariate_components(estimator, i),
                                 legend=False, components=components)
                ax.set_yticks([])
            else:
                plot_mixture_2d(estimator, X, ax=ax, dims=(j, i), n_std=n_std, s=s,
                                legend=False, components=components)
                ax.set_ylim(lo[i] - pad[i], hi[i] + pad[i])
            ax.set_xlim(lo[j] - pad[j], hi[j] + pad[j])
            ax.xaxis.set_major_locator(MaxNLocator(3))
            ax.yaxis.set_major_locator(MaxNLocator(3))
            if i == j:  # its y axis is a density, not feature i: no ticks
                ax.set_yticks([])
            ax.tick_params(labelsize="small")
            if i < D - 1:
                ax.tick_params(labelbottom=False)
                ax.set_xlabel("")
            else:
                ax.set_xlabel(names[j])
            if j > 0:
                ax.tick_params(labelleft=False)
                ax.set_ylabel("")
            else:
                ax.set_ylabel(names[i])
    K = np.asarray(estimator.means_).shape[0]
    drawn = _drawn_components(components, K)
    weights = getattr(estimator, "weights_", np.full(K, np.nan))
    handles = [Line2D([], [], color=f"C{k % 10}", marker="o", linestyle="-")
               for k in drawn]
    labels = [f"component {k} (weight {weights[k]:.2f})" for k in drawn]
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    if isinstance(figure.get_layout_engine(), ConstrainedLayoutEngine):
        # Constrained layout makes room for an "outside" legend (and only for it); at the
        # bottom, as one at the top would sit on a suptitle.
        figure.legend(handles, labels, loc="outside lower center", ncol=min(len(drawn), 4),
                      fontsize="small")
    else:
        figure.legend(handles, labels, loc="upper center", ncol=min(len(drawn), 4),
                      fontsize="small", bbox_to_anchor=(0.5, 0.965))
    return figure


def plot_mixture(estimator, X, figure=None, *, feature_names=None, title=None,
                 components=None, contours=True):
    """The picture that fits the data's dimension: histogram (1-D), ellipses and
    density contours (2-D) or a pairs plot (more).

    Parameters
    ----------
    estimator : fitted GaussianMixture or StudentTMixture
    X : array-like of shape (n_samples, n_features)
    figure : matplotlib Figure, optional
    feature_names : sequence of str, optional
    title : str, optional
    components : sequence of int, optional
        Draw only these components (see :func:`plot_mixture_2d`).
    contours : bool, default=True
        Density contours in the 2-D picture.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.plotting import new_figure, plot_mixture
    >>> X = load_old_faithful().data
    >>> model = emkit.GaussianMixture(2, random_state=0).fit(X)
    >>> figure = plot_mixture(model, X, new_figure(), title="Old Faithful")
    >>> figure.axes[0].get_title()
    'Old Faithful'
    """
    _require_matplotlib()
    X = np.asarray(X, dtype=np.float64)
    if figure is None:
        import matplotlib.pyplot as plt

        figure = plt.figure()
    if X.ndim == 2 and X.shape[1] > 2:
        plot_mixture_pairs(estimator, X, figure, feature_names=feature_names,
                           components=components)
        if title:
            figure.suptitle(title)
        return figure
    ax = figure.add_subplot()
    if X.ndim == 1 or X.shape[1] == 1:
        plot_mixture_1d(estimator, X, ax, feature_names=feature_names, components=components)
    else:
        plot_mixture_2d(estimator, X, ax, feature_names=feature_names, contours=contours,
                        components=components)
    if title:
        ax.set_title(title)
    return figure


def new_figure(figsize=(6.4, 4.8), layout=None):
    """A Figure on the Agg canvas (no pyplot, no global backend change), for writing files.

    Parameters
    ----------
    figsize : (float, float), default=(6.4, 4.8)
        Inches.
    layout : {None, "constrained", "tight"}, default=None
        matplotlib's layout engine.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from emkit.plotting import new_figure
    >>> new_figure((4, 3)).get_size_inches().tolist()
    [4.0, 3.0]
    """
    return _agg_figure(figsize, layout)


def figure_to_png(figure, dpi=100):
    """The figure as PNG bytes (laid out first, so that labels are not clipped).

    Parameters
    ----------
    figure : matplotlib Figure
    dpi : int, default=100

    Returns
    -------
    bytes

    Examples
    --------
    >>> from emkit.plotting import figure_to_png, new_figure
    >>> figure_to_png(new_figure())[:4]
    b'\x89PNG'
    """
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _agg_figure(figsize=(6.4, 4.8), layout=None):
    """A Figure on the Agg canvas (no pyplot, no global backend change), for writing files."""
    _require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def save_mixture_plot(estimator, X, path, *, title=None, dpi=100, **kwargs):
    """Draw :func:`plot_mixture_2d` on an Agg figure and write it to ``path``.

    Parameters
    ----------
    estimator, X : as in :func:`plot_mixture_2d`
        A fitted mixture and data of shape (n_samples, n_features).
    path : str or path-like
        Output file; the format follows the extension (``.png``, ``.pdf``, ...).
    title : str, optional
    dpi : int, default=100
    **kwargs : further keyword arguments of :func:`plot_mixture_2d`

    Returns
    -------
    path

    Examples
    --------
    >>> import os, tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from emkit import GaussianMixture
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.plotting import save_mixture_plot
    >>> X = load_old_faithful().data
    >>> model = GaussianMixture(2, n_init=1, random_state=0).fit(X)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_mixture_plot(model, X, os.path.join(folder, "faithful.png"))
    ...     print(os.path.basename(path), os.path.getsize(path) > 0)
    faithful.png True
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

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from emkit import select_model
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.plotting import plot_model_selection
    >>> result = select_model(load_old_faithful().data, n_components=[1, 2],
    ...                       covariance_types=["VVV"])
    >>> ax = plot_model_selection(result)
    >>> len(ax.figure.axes), len(ax.get_lines())  # one line per structure
    (1, 1)
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

    Parameters
    ----------
    selection : emkit.selection.ModelSelection
        The result of :func:`emkit.select_model` (its table has one row per
        (G, covariance type)).
    path : str or path-like
        Output file; the format follows the extension (``.png``, ``.pdf``, ...).
    title : str, optional
    dpi : int, default=100
    **kwargs : further keyword arguments of :func:`plot_model_selection`

    Returns
    -------
    path

    Examples
    --------
    >>> import os, tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from emkit import select_model
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.plotting import save_model_selection_plot
    >>> result = select_model(load_old_faithful().data, n_components=[1, 2],
    ...                       covariance_types=["VVV"])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_model_selection_plot(result, os.path.join(folder, "bic.png"))
    ...     print(os.path.getsize(path) > 0)
    True
    """
    figure = _agg_figure()
    ax = figure.add_subplot()
    plot_model_selection(selection, ax=ax, **kwargs)
    if title:
        ax.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    return path


def plot_selection_criteria(selection, figure=None, *, criteria=("bic", "icl")):
    """BIC and ICL curves side by side, one panel each (mclust's ``mclustBIC`` and
    ``mclustICL`` plots).

    Parameters
    ----------
    selection : emkit.selection.ModelSelection
    figure : matplotlib Figure, optional
    criteria : sequence of {"bic", "icl"}, default=("bic", "icl")

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.plotting import new_figure, plot_selection_criteria
    >>> result = emkit.select_model(load_old_faithful().data, n_components=range(1, 4),
    ...                             covariance_types=["EEE", "VVV"])
    >>> [ax.get_ylabel() for ax in plot_selection_criteria(result, new_figure((10, 4))).axes]
    ['BIC (higher is better)', 'ICL (higher is better)']
    """
    _require_matplotlib()
    if figure is None:
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=(5.2 * len(criteria), 4.4))
    axes = figure.subplots(1, len(criteria), squeeze=False)[0]
    for ax, criterion in zip(axes, criteria):
        plot_model_selection(selection, ax=ax, criterion=criterion, legend=False)
        chosen = selection.top(1, criterion)[0]
        ax.set_title(f"{criterion.upper()}: best {chosen[0]} with {chosen[1]} component(s)",
                     fontsize="medium")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right center", fontsize="small",
                  title="Model")
    return figure


def plot_history(estimator, ax=None, *, title=None):
    """The objective after every EM iteration, with the re-seeds of collapsed components marked.

    Works for any fitted emkit estimator: it reads ``history_`` (the
    log-likelihood, log-posterior or, for LDA, the variational bound after
    every iteration) and ``repairs_`` (the indices into ``history_`` where a
    collapsed component was re-seeded; the objective may drop only there).

    Parameters
    ----------
    estimator : fitted emkit estimator
    ax : matplotlib Axes, optional
    title : str, optional
        Defaults to the estimator's class and its number of iterations.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.plotting import new_figure, plot_history
    >>> X = load_old_faithful().data
    >>> model = emkit.GaussianMixture(2, random_state=0).fit(X)
    >>> ax = plot_history(model, new_figure().add_subplot())
    >>> len(ax.get_lines()[0].get_ydata()) == len(model.history_)
    True
    """
    _require_matplotlib()
    history = getattr(estimator, "history_", None)
    if history is None:
        raise ValueError(f"estimator must be a fitted emkit estimator with history_; "
                         f"{type(estimator).__name__} has none (fit it first).")
    history = np.asarray(history, dtype=np.float64)
    ax = _new_axes(ax)
    iterations = np.arange(1, history.size + 1)
    ax.plot(iterations, history, marker="o", markersize=3, linewidth=1.2, color="C0",
            label="objective")
    repairs = np.asarray(getattr(estimator, "repairs_", []), dtype=np.intp)
    repairs = repairs[(repairs >= 0) & (repairs < history.size)]
    for i, index in enumerate(repairs):
        ax.axvline(index + 1, color="C3", linestyle=":", linewidth=1)
    if repairs.size:
        ax.plot(repairs + 1, history[repairs], linestyle="none", marker="X", markersize=9,
                color="C3", label="collapsed component re-seeded")
    ax.xaxis.set_major_locator(_max_ticks(10, integer=True))
    ax.set_xlabel("EM iteration")
    # KMeans' history is minus its inertia, not a likelihood.
    ax.set_ylabel("minus the inertia (sum of squared distances)" if hasattr(estimator, "inertia_")
                  else "objective (log-likelihood or bound)")
    ax.set_title(title or f"{type(estimator).__name__}: {history.size} iteration(s)")
    if repairs.size:
        ax.legend(loc="lower right", fontsize="small")
    ax.ticklabel_format(axis="y", useOffset=False)
    return ax


def plot_regression_mixture(model, X, y, ax=None, *, feature=0, feature_name=None,
                            target_name="y", title=None):
    """A mixture of regressions: the data coloured by posterior component, one line each.

    Parameters
    ----------
    model : fitted RegressionMixture or MixtureOfExperts
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    ax : matplotlib Axes, optional
    feature : int, default=0
        The input drawn on the x axis; the other inputs are held at their
        means for the lines.
    feature_name, target_name : str, optional
        Axis labels.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
        One line per component, labelled with its slope and intercept.

    Examples
    --------
    >>> import numpy as np, emkit
    >>> from emkit.plotting import new_figure, plot_regression_mixture
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-2, 2, (300, 1))
    >>> y = (np.where(rng.random(300) < 0.5, 1.5 * x[:, 0] + 1, -x[:, 0])
    ...      + 0.2 * rng.normal(size=300))
    >>> model = emkit.RegressionMixture(2, random_state=0).fit(x, y)
    >>> ax = plot_regression_mixture(model, x, y, new_figure().add_subplot())
    >>> len(ax.get_lines())
    2
    """
    _require_matplotlib()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    y = np.asarray(y, dtype=np.float64).ravel()
    if not hasattr(model, "coef_"):
        raise ValueError(f"model must be a fitted RegressionMixture or MixtureOfExperts; got "
                         f"{type(model).__name__} without coef_.")
    ax = _new_axes(ax)
    resp = model.predict_proba(X, y)
    ax.scatter(X[:, feature], y, s=8, c=_responsibility_colors(resp), alpha=0.7,
               edgecolors="none")
    grid = np.linspace(X[:, feature].min(), X[:, feature].max(), 100)
    held = X.mean(axis=0)
    coef = np.atleast_2d(model.coef_)
    for k in range(coef.shape[0]):
        offset = model.intercept_[k] + coef[k] @ held - coef[k, feature] * held[feature]
        ax.plot(grid, offset + coef[k, feature] * grid, color=f"C{k % 10}", linewidth=2,
                label=f"component {k}: slope {coef[k, feature]:.3g}, "
                      f"intercept {offset:.3g}")
    ax.set_xlabel(feature_name or f"x{feature}")
    ax.set_ylabel(target_name)
    ax.set_title(title or f"{type(model).__name__}: {coef.shape[0]} regression lines")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_hmm_states(model, X, lengths=None, ax=None, *, feature=0, feature_names=None,
                    index=None):
    """A series coloured by each time step's most probable hidden state, with the state means.

    Parameters
    ----------
    model : fitted emkit HMM (GaussianHMM, GMMHMM, PoissonHMM, ...)
    X : array-like of shape (n_samples, n_features)
    lengths : array-like of int, optional
        Sequence lengths, as in ``model.fit``.
    ax : matplotlib Axes, optional
    feature : int, default=0
        The column drawn.
    feature_names : sequence of str, optional
    index : array-like of shape (n_samples,), optional
        The x values (e.g. years); 0, 1, ... by default.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_nile
    >>> from emkit.plotting import new_figure, plot_hmm_states
    >>> y = load_nile().data[:, None]
    >>> hmm = emkit.GaussianHMM(2, random_state=0).fit(y)
    >>> ax = plot_hmm_states(hmm, y, ax=new_figure().add_subplot())
    >>> ax.get_xlabel()
    'time step'
    """
    _require_matplotlib()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if not 0 <= feature < X.shape[1]:
        raise ValueError(f"feature must be one of the {X.shape[1]} columns; got {feature}.")
    ax = _new_axes(ax)
    proba = np.asarray(model.predict_proba(X, lengths))
    states = proba.argmax(axis=1)
    K = proba.shape[1]
    x = np.arange(X.shape[0]) if index is None else np.asarray(index)
    y = X[:, feature]
    ax.plot(x, y, color="0.7", linewidth=0.8, zorder=1)
    means = getattr(model, "means_", None)
    if means is None:
        means = getattr(model, "lambdas_", None)
    means = None if means is None else np.asarray(means, dtype=np.float64)
    if means is not None and means.ndim == 3:  # GMMHMM: the state's mixture mean
        means = np.einsum("km,kmd->kd", np.asarray(model.weights_), means)
    for k in range(K):
        members = states == k
        label = f"state {k}"
        if means is not None:
            label += f" (mean {means[k, feature]:.4g})"
        ax.scatter(x[members], y[members], s=14, color=f"C{k % 10}", zorder=2, label=label,
                   edgecolors="none")
    if means is not None:
        ax.step(x, means[states, feature], where="mid", color="black", linewidth=1.4,
                zorder=3, label="mean of the state")
    ax.set_xlabel("time step" if index is None else "time")
    ax.set_ylabel(_feature_names(feature_names, X.shape[1])[feature])
    ax.set_title(f"{type(model).__name__}: most probable state at each step")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_transition_matrix(model, ax=None, *, digits=2):
    """The transition matrix as a heatmap with every probability printed.

    Parameters
    ----------
    model : fitted emkit HMM, or an array-like of shape (K, K)
        ``transmat_[i, j]`` is the probability of moving from state i to j.
    ax : matplotlib Axes, optional
    digits : int, default=2

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.plotting import new_figure, plot_transition_matrix
    >>> ax = plot_transition_matrix(np.array([[0.9, 0.1], [0.2, 0.8]]), new_figure().add_subplot())
    >>> [text.get_text() for text in ax.texts]
    ['0.90', '0.10', '0.20', '0.80']
    """
    _require_matplotlib()
    matrix = np.asarray(getattr(model, "transmat_", model), dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"model must be a fitted HMM or a square transition matrix; got "
                         f"shape {matrix.shape}.")
    ax = _new_axes(ax)
    K = matrix.shape[0]
    image = ax.imshow(matrix, cmap="Blues", vmin=0.0, vmax=1.0)
    fontsize = "medium" if K <= 6 else ("small" if K <= 10 else "x-small")
    for i in range(K):
        for j in range(K):
            ax.text(j, i, f"{matrix[i, j]:.{digits}f}", ha="center", va="center",
                    fontsize=fontsize, color="white" if matrix[i, j] > 0.6 else "black")
    ax.set_xticks(range(K))
    ax.set_yticks(range(K))
    ax.set_xlabel("to state")
    ax.set_ylabel("from state")
    ax.set_title("Transition probabilities")
    ax.figure.colorbar(image, ax=ax, label="probability")
    return ax


def plot_top_words(model, vocabulary, figure=None, *, n=10, topics=None, ncols=4):
    """The most probable words of every topic as horizontal bar charts.

    Parameters
    ----------
    model : fitted topic model (``components_`` of shape (n_topics, n_words))
    vocabulary : sequence of str of length n_words
    figure : matplotlib Figure, optional
    n : int, default=10
    topics : sequence of int, optional
        The topics drawn (all by default).
    ncols : int, default=4

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.plotting import new_figure, plot_top_words
    >>> topic_word = np.array([[5.0, 1.0, 3.0], [1.0, 6.0, 1.0]])
    >>> figure = plot_top_words(topic_word, ["a", "b", "c"], new_figure(), n=2)
    >>> [[t.get_text() for t in ax.get_yticklabels()] for ax in figure.axes]
    [['a', 'c'], ['b', 'a']]
    """
    _require_matplotlib()
    from .topics import top_words

    topic_word = np.asarray(getattr(model, "components_", model), dtype=np.float64)
    probabilities = topic_word / topic_word.sum(axis=1, keepdims=True)
    words = top_words(topic_word, vocabulary, n)
    index = {word: w for w, word in enumerate(vocabulary)}
    topics = list(range(topic_word.shape[0])) if topics is None else list(topics)
    ncols = max(1, min(ncols, len(topics)))
    nrows = -(-len(topics) // ncols)
    if figure is None:
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=(3.2 * ncols, 0.3 * n * nrows + 1.0))
    axes = figure.subplots(nrows, ncols, squeeze=False)
    for position, ax in enumerate(axes.ravel()):
        if position >= len(topics):
            ax.set_visible(False)
            continue
        t = topics[position]
        chosen = words[t]
        values = [probabilities[t, index[word]] for word in chosen]
        ax.barh(range(len(chosen)), values, color=f"C{t % 10}")
        ax.set_yticks(range(len(chosen)), chosen, fontsize="small")
        ax.invert_yaxis()
        ax.set_title(f"topic {t}", fontsize="medium")
        ax.set_xlabel("probability", fontsize="small")
        ax.set_ylabel("word", fontsize="small")
        ax.tick_params(axis="x", labelsize="x-small")
        ax.xaxis.set_major_locator(_max_ticks(3))
    return figure


def _max_ticks(n, integer=False):
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(n, integer=integer)


def plot_topic_prevalence(model, X, ax=None):
    """The share of the corpus each topic takes (mean topic proportion over documents).

    Parameters
    ----------
    model : fitted topic model with ``transform`` (e.g. emkit.LatentDirichletAllocation)
    X : array-like or sparse matrix of shape (n_documents, n_words)
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import emkit
    >>> import numpy as np
    >>> from emkit.plotting import new_figure, plot_topic_prevalence
    >>> counts = np.random.default_rng(0).poisson(3.0, size=(30, 8))
    >>> lda = emkit.LatentDirichletAllocation(2, random_state=0, max_iter=5).fit(counts)
    >>> ax = plot_topic_prevalence(lda, counts, new_figure().add_subplot())
    >>> round(float(sum(bar.get_height() for bar in ax.patches)), 6)
    1.0
    """
    _require_matplotlib()
    proportions = np.asarray(model.transform(X))
    proportions = proportions / proportions.sum(axis=1, keepdims=True)
    prevalence = proportions.mean(axis=0)
    ax = _new_axes(ax)
    K = prevalence.size
    ax.bar(range(K), prevalence, color=[f"C{k % 10}" for k in range(K)])
    ax.set_xticks(range(K))
    ax.set_xlabel("topic")
    ax.set_ylabel("mean topic proportion")
    ax.set_title(f"Topic prevalence over {proportions.shape[0]} documents")
    return ax


def _responsibility_colors(resp):
    """Each point's colour: the responsibility-weighted mix of the component colours."""
    from matplotlib.colors import to_rgb

    palette = np.array([to_rgb(f"C{k % 10}") for k in range(resp.shape[1])])
    return np.clip(resp @ palette, 0.0, 1.0)


def plot_em_steps(model, X, n_iter=4, figure=None, *, feature_names=None, trace=None):
    """The EM teaching view: the data and components at every iteration, and the
    log-likelihood, ELBO and KL gap after every half-step.

    The top row has one panel per iteration (the start first): the data
    coloured by their responsibilities ``q`` (a mix of the component colours)
    and the current components (1-D: weighted densities; 2-D: 1- and
    2-sigma ellipses). The bottom row traces the log-likelihood and the ELBO
    after every E-step and M-step: after an E-step they touch (``q`` is the
    posterior, the KL divergence is 0); after an M-step the log-likelihood is
    above the ELBO by ``KL(q || p(z | x, theta_new))``, drawn as a red bar,
    which the next E-step closes. The numbers are printed in a table beside it.

    Parameters
    ----------
    model : emkit.GaussianMixture
        Fitted or not, as :func:`emkit.explain_em` takes it.
    X : array-like of shape (n_samples, 1) or (n_samples, 2)
    n_iter : int, default=4
    figure : matplotlib Figure, optional
    feature_names : sequence of str, optional
    trace : emkit.teaching.EMTrace, optional
        A trace already computed for ``model`` and ``X``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.plotting import new_figure, plot_em_steps
    >>> X = load_old_faithful().data
    >>> start = emkit.GaussianMixture(2, init_params="random_from_data", random_state=1)
    >>> figure = plot_em_steps(start, X, n_iter=2, figure=new_figure((12, 8)))
    >>> len(figure.axes)  # the start and 2 iterations, the trace, the table
    5
    """
    _require_matplotlib()
    from .teaching import explain_em

    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] not in (1, 2):
        raise ValueError(f"X must have one or two features for the teaching view; got shape "
                         f"{X.shape}. Pick two columns (X[:, [0, 1]]).")
    if trace is None:
        trace = explain_em(model, X, n_iter)
    n_panels = len(trace.params)
    D = X.shape[1]
    names = _feature_names(feature_names, D)
    if figure is None:
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=(max(12.0, 3.0 * n_panels), 8.0))
    grid = figure.add_gridspec(2, max(n_panels, 2), height_ratios=[1.0, 1.1])
    log_likelihoods = [row["log_likelihood"] for row in trace.rows if row["step"] == "E"]
    for t, (params, resp) in enumerate(zip(trace.params, trace.responsibilities)):
        ax = figure.add_subplot(grid[0, t])
        colors = _responsibility_colors(resp)
        K = params["means"].shape[0]
        covariances = marginal_covariances(params["covariances"], model.covariance_type,
                                               K, tuple(range(D)))
        if D == 1:
            from scipy.stats import norm

            x = X[:, 0]
            grid_x = np.linspace(x.min() - 0.2 * np.ptp(x), x.max() + 0.2 * np.ptp(x), 300)
            for k in range(K):
                ax.plot(grid_x, params["weights"][k] * norm.pdf(
                    grid_x, params["means"][k, 0], np.sqrt(covariances[k, 0, 0])),
                    color=f"C{k % 10}", linewidth=1.5)
            # The points as a jittered strip below the curves, so that they do
            # not hide one another.
            top = max(ax.get_ylim()[1], 1e-12)
            jitter = np.random.default_rng(0).uniform(-0.14, -0.03, x.size) * top
            ax.scatter(x, jitter, c=colors, s=12, edgecolors="none", zorder=3)
            ax.axhline(0.0, color="0.6", linewidth=0.6)
            ax.set_ylim(-0.17 * top, 1.05 * top)
            ax.set_yticks([y for y in ax.get_yticks() if 0.0 <= y <= 1.05 * top])
            ax.set_xlabel(names[0])
            ax.set_ylabel("weight x density" if t == 0 else "")
        else:
            ax.scatter(X[:, 0], X[:, 1], c=colors, s=10, edgecolors="none")
            _draw_ellipses(ax, params["means"], covariances, (1.0, 2.0))
            ax.autoscale_view()
            ax.set_xlabel(names[0])
            ax.set_ylabel(names[1] if t == 0 else "")
        if t > 0:
            ax.tick_params(labelleft=False)
        ax.xaxis.set_major_locator(_max_ticks(4))
        ax.set_title(("start" if t == 0 else f"after iteration {t}")
                     + f"\nlog L = {log_likelihoods[t]:.2f}", fontsize="medium")
    split = max(n_panels, 2) * 3 // 5
    _draw_em_trace(figure.add_subplot(grid[1, :split]), trace)
    _draw_em_table(figure.add_subplot(grid[1, split:]), trace)
    figure.suptitle("EM, step by step: the E-step closes the KL gap, the M-step raises the "
                    "ELBO (and opens a new gap)")
    return figure


def _half_step_positions(trace):
    """x of each row: iteration t's M-step at t - 0.5, its E-step at t."""
    return np.array([row["iteration"] - (0.5 if row["step"] == "M" else 0.0)
                     for row in trace.rows])


def _draw_em_trace(ax, trace):
    x = _half_step_positions(trace)
    loglik, elbo, kl = (trace.column(name) for name in ("log_likelihood", "elbo", "kl"))
    ax.plot(x, loglik, color="C0", marker="o", linewidth=1.5, label="log-likelihood")
    ax.plot(x, elbo, color="C1", marker="s", markersize=4, linewidth=1.2, linestyle="--",
            label="ELBO")
    m_steps = np.array([row["step"] == "M" for row in trace.rows])
    ax.vlines(x[m_steps], elbo[m_steps], loglik[m_steps], color="C3", linewidth=3,
              label="KL gap (after the M-step)")
    ax.set_xticks(x, [f"{row['iteration']}{row['step']}" for row in trace.rows],
                  fontsize="small")
    ax.set_xlabel("half-step (iteration, E or M)")
    ax.set_ylabel("log-likelihood / ELBO")
    ax.set_title("The log-likelihood and the ELBO after every half-step", fontsize="medium")
    ax.ticklabel_format(axis="y", useOffset=False)
    ax.legend(loc="lower right", fontsize="small")


def em_trace_rows(trace, digits=4):
    """The rows of an :class:`emkit.teaching.EMTrace` as printable strings.

    A KL gap that is zero up to rounding (as after every E-step, where sums of
    ``n`` terms leave ~1e-13) is printed as ``0``, not as a (impossible)
    negative divergence.

    Parameters
    ----------
    trace : EMTrace
    digits : int, default=4
        Decimals of the log-likelihood and the ELBO.

    Returns
    -------
    list of [iteration, step, log-likelihood, ELBO, KL] lists of str

    Examples
    --------
    >>> import numpy as np, emkit
    >>> from emkit.plotting import em_trace_rows
    >>> x = np.array([-1.2, -0.8, -0.5, 0.9, 1.3, 1.8])[:, None]
    >>> start = emkit.GaussianMixture(2, weights_init=[0.5, 0.5], means_init=[[-0.5], [1.0]],
    ...                               precisions_init=[[[1.0]], [[1.0]]])
    >>> [row[1] + " KL=" + row[4] for row in em_trace_rows(emkit.explain_em(start, x, 1))][::2]
    ['E KL=0', 'E KL=0']
    """
    rows = []
    for row in trace.rows:
        kl = row["kl"]
        rounding = abs(kl) <= 1e-10 * max(1.0, abs(row["log_likelihood"]))
        rows.append([str(row["iteration"]), row["step"], f"{row['log_likelihood']:.{digits}f}",
                     f"{row['elbo']:.{digits}f}", "0" if rounding else f"{kl:.3g}"])
    return rows


def _draw_em_table(ax, trace):
    ax.axis("off")
    table = ax.table(cellText=em_trace_rows(trace),
                     colLabels=["iter", "step", "log-likelihood", "ELBO", "KL"],
                     loc="upper center", cellLoc="right")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1.0, 1.0)
    ax.set_title("The numbers (KL = log-likelihood - ELBO)", fontsize="medium")




# -- Student-t and Bayesian mixtures ------------------------------------------------------

def student_t_scale_weights(model, X):
    """Every sample's expected latent scale weight ``E[u | x]`` under a Student-t mixture.

    Component k gives ``u_k = (nu_k + D) / (nu_k + delta_k)``, ``delta_k``
    the squared Mahalanobis distance of x to the location under the scale
    matrix; the expectation weighs them by the responsibilities. A weight
    below 1 means the sample pulls less on the fit than under a Gaussian:
    small weights mark outliers.

    Parameters
    ----------
    model : fitted emkit.StudentTMixture
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np, emkit
    >>> from emkit.plotting import student_t_scale_weights
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(200, 2)), [[12.0, 12.0]]])
    >>> model = emkit.StudentTMixture(1, n_init=1, random_state=0).fit(X)
    >>> u = student_t_scale_weights(model, X)
    >>> bool(u[-1] < 0.1 < u[:-1].min())  # the far point is weighed down
    True
    """
    dofs = _dofs(model)
    if dofs is None:
        raise ValueError(f"model must be a fitted StudentTMixture (with dofs_); got "
                         f"{type(model).__name__}.")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    means = np.asarray(model.means_, dtype=np.float64)
    K, D = means.shape
    if X.ndim != 2 or X.shape[1] != D:
        raise ValueError(f"X must have shape (n_samples, {D}); got {X.shape}.")
    scales = marginal_covariances(model.covariances_, model.covariance_type, K, range(D))
    resp = np.asarray(model.predict_proba(X))
    weights = np.zeros(X.shape[0])
    for k in range(K):
        factor = np.linalg.cholesky(scales[k])
        z = np.linalg.solve(factor, (X - means[k]).T)
        delta = np.einsum("dn,dn->n", z, z)
        weights += resp[:, k] * (dofs[k] + D) / (dofs[k] + delta)
    return weights


def plot_scale_weights(model, X, ax=None, *, dims=(0, 1), feature_names=None, n_std=(1.0, 2.0)):
    """A Student-t mixture's outliers: the data coloured by their scale weight ``E[u | x]``.

    Points with a small weight (see :func:`student_t_scale_weights`) are the
    ones the t mixture discounts; the ellipses are the components' scale
    matrices (marginal over ``dims``).

    Parameters
    ----------
    model : fitted emkit.StudentTMixture
    X : array-like of shape (n_samples, n_features), n_features >= 2
    ax : matplotlib Axes, optional
    dims : pair of int, default=(0, 1)
    feature_names : sequence of str, optional
    n_std : sequence of float, default=(1, 2)

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.plotting import new_figure, plot_scale_weights
    >>> X = load_old_faithful().data
    >>> model = emkit.StudentTMixture(2, n_init=1, random_state=0).fit(X)
    >>> ax = plot_scale_weights(model, X, new_figure().add_subplot())
    >>> len(ax.patches)  # 1- and 2-sigma ellipses of the two scale matrices
    4
    """
    _require_matplotlib()
    X, dims = _check_samples_2d(X, dims)
    weights = student_t_scale_weights(model, X)
    ax = _new_axes(ax)
    order = np.argsort(-weights)  # the outliers drawn last, on top
    points = ax.scatter(X[order, dims[0]], X[order, dims[1]], c=weights[order], s=14,
                        cmap="viridis", edgecolors="none")
    K = np.asarray(model.means_).shape[0]
    _draw_ellipses(ax, np.asarray(model.means_, dtype=np.float64)[:, list(dims)],
                   marginal_covariances(model.covariances_, model.covariance_type, K, dims),
                   n_std)
    ax.figure.colorbar(points, ax=ax, label="scale weight E[u | x] (small: outlier)")
    _label_dims(ax, dims, feature_names)
    dofs = ", ".join(f"{nu:.3g}" for nu in _dofs(model))
    ax.set_title(f"Student-t mixture: scale weights (dofs {dofs})", fontsize="medium")
    _ellipse_legend(ax, n_std, scale=True)
    ax.autoscale_view()
    return ax


def plot_effective_weights(model, ax=None, *, threshold=0.01):
    """The mixture weights as bars, the components below ``threshold`` greyed out.

    A BayesianGaussianMixture with more components than the data need
    empties the unneeded ones; the bars show how many it kept.

    Parameters
    ----------
    model : fitted mixture with ``weights_`` of shape (n_components,)
    ax : matplotlib Axes, optional
    threshold : float, default=0.01
        Weights below it count as empty (drawn grey, left out of the count).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.plotting import new_figure, plot_effective_weights
    >>> X = load_old_faithful().data
    >>> model = emkit.BayesianGaussianMixture(n_components=5, n_init=1, random_state=0).fit(X)
    >>> ax = plot_effective_weights(model, new_figure().add_subplot())
    >>> len(ax.patches), ax.get_title()
    (5, '2 of 5 components with weight >= 0.01')
    """
    _require_matplotlib()
    weights = np.asarray(model.weights_, dtype=np.float64)
    ax = _new_axes(ax)
    K = weights.size
    active = weights >= threshold
    colors = [f"C{k % 10}" if active[k] else "0.75" for k in range(K)]
    ax.bar(range(K), weights, color=colors, edgecolor="0.3", linewidth=0.5)
    ax.axhline(threshold, color="0.4", linestyle=":", linewidth=1,
               label=f"threshold {threshold:g}")
    for k in range(K):
        ax.text(k, weights[k], f"{weights[k]:.2f}" if weights[k] >= 0.005 else
                f"{weights[k]:.0e}", ha="center", va="bottom", fontsize="small")
    ax.set_xticks(range(K))
    ax.set_xlabel("component")
    ax.set_ylabel("weight")
    ax.set_ylim(0.0, max(1.1 * weights.max(), threshold * 2))
    ax.set_title(f"{int(active.sum())} of {K} components with weight >= {threshold:g}")
    ax.legend(loc="upper right", fontsize="small")
    return ax


# -- factor models ------------------------------------------------------------------------

def factor_covariances(model):
    """The covariances ``W_k W_k^T + Psi_k`` a factor model gives its data, (K, D, D).

    Parameters
    ----------
    model : fitted FactorAnalysis, PPCA (K = 1) or MixtureOfFactorAnalyzers

    Returns
    -------
    ndarray of shape (n_components, n_features, n_features)

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_iris
    >>> from emkit.plotting import factor_covariances
    >>> X = load_iris().data
    >>> model = emkit.PPCA(1, random_state=0).fit(X)
    >>> factor_covariances(model).shape
    (1, 4, 4)
    """
    loadings, noise = _factor_arrays(model)
    return (np.einsum("kdq,keq->kde", loadings, loadings)
            + noise[:, :, None] * np.eye(loadings.shape[1]))


def _factor_arrays(model):
    """Loadings (K, D, q) and noise variances (K, D) of a (mixture of) factor model(s)."""
    if hasattr(model, "loadings_"):
        loadings = np.asarray(model.loadings_, dtype=np.float64)
        noise = np.asarray(model.noise_variance_, dtype=np.float64)
        return loadings, np.broadcast_to(noise, loadings.shape[:2]).copy()
    if hasattr(model, "components_") and hasattr(model, "noise_variance_"):
        loadings = np.asarray(model.components_, dtype=np.float64).T[None]
        noise = np.asarray(model.noise_variance_, dtype=np.float64)
        return loadings, np.broadcast_to(noise, loadings.shape[:2]).copy()
    raise ValueError(f"model must be a fitted FactorAnalysis, PPCA or MixtureOfFactorAnalyzers; "
                     f"got {type(model).__name__}.")


def _heatmap(ax, matrix, cmap, vmin, vmax, digits=2):
    """``matrix`` as an image with every value printed (in white on dark cells)."""
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    rows, cols = matrix.shape
    fontsize = "small" if rows * cols <= 60 else "x-small"
    span = max(vmax - vmin, 1e-300)
    for i in range(rows):
        for j in range(cols):
            value = matrix[i, j]
            dark = (abs(value - (vmin + vmax) / 2) / span > 0.3 if cmap == "RdBu_r"
                    else (value - vmin) / span > 0.6)
            ax.text(j, i, f"{value:.{digits}g}" if abs(value) >= 1e-2 or value == 0
                    else f"{value:.1e}", ha="center", va="center", fontsize=fontsize,
                    color="white" if dark else "black")
    return image


def plot_factor_loadings(model, figure=None, *, feature_names=None):
    """The loadings of a factor model as heatmaps, and its noise variances.

    FactorAnalysis and PPCA: one heatmap (features x factors) and a bar of
    every feature's noise variance (PPCA's is one shared value). A
    MixtureOfFactorAnalyzers: one heatmap per component, on one colour scale,
    and a heatmap of the noise variances (features x components).

    Parameters
    ----------
    model : fitted FactorAnalysis, PPCA or MixtureOfFactorAnalyzers
    figure : matplotlib Figure, optional
    feature_names : sequence of str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Its axes, left to right: the loadings (images with the values of
        ``components_.T``, or of ``loadings_[k]``), their colorbar, the noise
        variances (and, for a mixture, their colorbar).

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_iris
    >>> from emkit.plotting import new_figure, plot_factor_loadings
    >>> iris = load_iris()
    >>> model = emkit.FactorAnalysis(2, random_state=0).fit(iris.data)
    >>> figure = plot_factor_loadings(model, new_figure((9, 4)),
    ...                               feature_names=iris.feature_names)
    >>> [ax.get_title() for ax in figure.axes if ax.get_title()]
    ['Loadings W', 'Noise variances Psi']
    """
    _require_matplotlib()
    loadings, noise = _factor_arrays(model)
    K, D, q = loadings.shape
    names = _feature_names(feature_names, D)
    mixture = hasattr(model, "loadings_")
    if figure is None:
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=(2.2 + 1.3 * q * K + (1.2 * K if mixture else 2.6) + 1.5,
                                     1.4 + 0.45 * D))
    # Explicit colorbar columns: a colorbar that steals from several axes does not
    # survive tight_layout.
    ratios = [q] * K + [0.12, 0.9 * K if mixture else 1.6] + ([0.12] if mixture else [])
    axes = figure.subplots(1, len(ratios), gridspec_kw={"width_ratios": ratios})
    largest = max(float(np.abs(loadings).max()), 1e-12)
    for k in range(K):
        ax = axes[k]
        image = _heatmap(ax, loadings[k], "RdBu_r", -largest, largest)
        ax.set_xticks(range(q), [str(j) for j in range(q)])
        ax.set_yticks(range(D), names if k == 0 else [""] * D, fontsize="small")
        ax.set_xlabel("factor")
        ax.set_ylabel("feature" if k == 0 else "")
        ax.set_title(f"W of component {k}" if mixture else "Loadings W", fontsize="medium")
    # "<colorbar>" is the label matplotlib gives the colorbar axes it makes itself.
    axes[K].set_label("<colorbar>")
    figure.colorbar(image, cax=axes[K], label="loading")
    ax = axes[K + 1]
    if mixture:
        image = _heatmap(ax, noise.T, "Purples", 0.0, float(noise.max()))
        ax.set_xticks(range(K))
        ax.set_xlabel("component")
        ax.set_yticks(range(D), [""] * D)
        ax.set_title("Noise variances Psi", fontsize="medium")
        axes[K + 2].set_label("<colorbar>")
        figure.colorbar(image, cax=axes[K + 2], label="noise variance")
    else:
        isotropic = np.ndim(model.noise_variance_) == 0
        ax.barh(range(D), noise[0], color="C4")
        ax.set_ylim(D - 0.5, -0.5)  # the heatmap's row order
        ax.set_yticks(range(D), [""] * D)
        ax.set_xlabel("noise variance")
        ax.xaxis.set_major_locator(_max_ticks(3))
        ax.set_title("Noise variance sigma^2 (shared)" if isotropic else "Noise variances Psi",
                     fontsize="medium")
    return figure


def plot_explained_variance(model, ax=None):
    """How the variance of a factor model splits: each factor's share and the noise's.

    The shares are the eigenvalues of ``W W^T`` (the variance along the
    factor space's principal directions, which no rotation of the factors
    changes) over the model's total variance ``tr(W W^T + Psi)``; the last
    bar is the noise's share, and the line their running total. For PPCA
    (maximum likelihood) factor j's share plus ``sigma^2 / tr(S)`` is PCA's
    explained-variance ratio of component j.

    Parameters
    ----------
    model : fitted FactorAnalysis or PPCA
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The bars are the shares (summing to 1).

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_iris
    >>> from emkit.plotting import new_figure, plot_explained_variance
    >>> model = emkit.PPCA(2, random_state=0).fit(load_iris().data)
    >>> ax = plot_explained_variance(model, new_figure().add_subplot())
    >>> round(float(sum(bar.get_height() for bar in ax.patches)), 6)
    1.0
    """
    _require_matplotlib()
    loadings, noise = _factor_arrays(model)
    if loadings.shape[0] != 1:
        raise ValueError("plot_explained_variance draws FactorAnalysis or PPCA; a mixture's "
                         "components each have their own (see plot_factor_loadings).")
    W, psi = loadings[0], noise[0]
    shared = np.sort(np.clip(np.linalg.eigvalsh(W @ W.T), 0.0, None))[::-1][:W.shape[1]]
    total = shared.sum() + psi.sum()
    shares = np.append(shared, psi.sum()) / total
    ax = _new_axes(ax)
    q = shared.size
    labels = [f"factor {j}" for j in range(q)] + ["noise"]
    ax.bar(range(q + 1), shares, color=[f"C{j % 10}" for j in range(q)] + ["0.7"])
    ax.plot(range(q + 1), np.cumsum(shares), color="black", marker="o", markersize=4,
            linewidth=1, label="running total")
    for j, share in enumerate(shares):
        # Inside a tall bar, so that the running total's markers do not cover it.
        inside = share > 0.15
        ax.text(j, share - 0.02 if inside else share, f"{share:.1%}", ha="center",
                va="top" if inside else "bottom", fontsize="small",
                color="white" if inside else "black")
    ax.set_xticks(range(q + 1), labels)
    ax.set_ylim(0.0, 1.08)
    ax.set_xlabel("principal direction of W W^T, then the noise")
    ax.set_ylabel("share of the total variance")
    ax.set_title(f"{type(model).__name__}: variance explained per factor", fontsize="medium")
    ax.legend(loc="center right", fontsize="small")
    return ax


class _GaussianView:
    """A mixture of factor analysers seen as the Gaussian mixture it is (full covariances
    W W^T + Psi), for the Gaussian mixture plots."""

    covariance_type = "full"

    def __init__(self, model):
        self._model = model
        self.weights_ = np.asarray(model.weights_, dtype=np.float64)
        self.means_ = np.asarray(model.means_, dtype=np.float64)
        self.covariances_ = factor_covariances(model)

    def predict(self, X):
        return self._model.predict(X)

    def predict_proba(self, X):
        return self._model.predict_proba(X)


# -- k-means, discrete mixtures, experts --------------------------------------------------

def plot_kmeans(model, X, ax=None, *, dims=(0, 1), feature_names=None, s=12, legend=True):
    """The data coloured by cluster, the cluster centres marked.

    Parameters
    ----------
    model : fitted emkit.KMeans
    X : array-like of shape (n_samples, n_features)
        With one feature: the clusters' stacked histogram and a line at every
        centre.
    ax : matplotlib Axes, optional
    dims : pair of int, default=(0, 1)
    feature_names : sequence of str, optional
    s : float, default=12
    legend : bool, default=True

    Returns
    -------
    matplotlib.axes.Axes
        One scatter per cluster (colour ``C{k}``), then the centres.

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_iris
    >>> from emkit.plotting import new_figure, plot_kmeans
    >>> X = load_iris().data
    >>> model = emkit.KMeans(3, random_state=0).fit(X)
    >>> ax = plot_kmeans(model, X, new_figure().add_subplot(), dims=(2, 3))
    >>> len(ax.collections)  # three clusters and the centres
    4
    """
    _require_matplotlib()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1 or (X.ndim == 2 and X.shape[1] == 1):
        return _kmeans_1d(model, X.reshape(-1, 1), _new_axes(ax), feature_names, legend)
    X, dims = _check_samples_2d(X, dims)
    ax = _new_axes(ax)
    centers = np.asarray(model.cluster_centers_, dtype=np.float64)
    labels = np.asarray(model.predict(X))
    K = centers.shape[0]
    for k in range(K):
        members = labels == k
        ax.scatter(X[members, dims[0]], X[members, dims[1]], s=s, color=f"C{k % 10}",
                   alpha=0.7, edgecolors="none", label=f"cluster {k} ({members.sum()} points)")
    ax.scatter(centers[:, dims[0]], centers[:, dims[1]], s=160, marker="X",
               c=[f"C{k % 10}" for k in range(K)], edgecolors="black", linewidths=1.2,
               label="centre", zorder=3)
    _label_dims(ax, dims, feature_names)
    if legend:
        ax.legend(loc="best", fontsize="small")
    return ax


def _kmeans_1d(model, X, ax, feature_names, legend):
    """One feature: the clusters' stacked histogram, a line at every centre."""
    centers = np.asarray(model.cluster_centers_, dtype=np.float64)[:, 0]
    labels = np.asarray(model.predict(X))
    K = centers.size
    edges = np.histogram_bin_edges(X[:, 0], bins="auto")
    ax.hist([X[labels == k, 0] for k in range(K)], bins=edges, stacked=True,
            color=[f"C{k % 10}" for k in range(K)],
            label=[f"cluster {k} ({np.sum(labels == k)} points)" for k in range(K)])
    for k in range(K):
        ax.axvline(centers[k], color="black", linestyle="--", linewidth=1.2,
                   label="centre" if k == 0 else None)
    ax.set_xlabel(_feature_names(feature_names, 1)[0])
    ax.set_ylabel("count")
    if legend:
        ax.legend(loc="best", fontsize="small")
    return ax


def plot_component_probabilities(model, ax=None, *, feature_names=None):
    """Every component's probabilities as a heatmap (rows: components, columns: features).

    BernoulliMixture: ``P(feature = 1)`` per component. CategoricalMixture:
    one column per (feature, level), features separated by white lines.
    CategoricalHMM: each state's emission probabilities (columns: symbols).

    Parameters
    ----------
    model : fitted BernoulliMixture, CategoricalMixture or CategoricalHMM
    ax : matplotlib Axes, optional
    feature_names : sequence of str, optional

    Returns
    -------
    matplotlib.axes.Axes
        Its image holds the matrix drawn.

    Examples
    --------
    >>> import numpy as np, emkit
    >>> from emkit.plotting import new_figure, plot_component_probabilities
    >>> X = (np.random.default_rng(0).random((200, 5)) < 0.3).astype(float)
    >>> model = emkit.BernoulliMixture(2, n_init=1, random_state=0).fit(X)
    >>> ax = plot_component_probabilities(model, new_figure().add_subplot())
    >>> np.allclose(ax.images[0].get_array(), model.probabilities_)
    True
    """
    _require_matplotlib()
    ax = _new_axes(ax)
    if hasattr(model, "emissionprob_"):
        matrix = np.asarray(model.emissionprob_, dtype=np.float64)
        rows = [f"state {k}" for k in range(matrix.shape[0])]
        columns = [str(j) for j in range(matrix.shape[1])]
        xlabel, title, groups = "symbol", "Emission probabilities of every state", []
    elif hasattr(model, "n_levels_"):
        probabilities = np.asarray(model.probabilities_, dtype=np.float64)
        levels = np.asarray(model.n_levels_)
        names = _feature_names(feature_names, levels.size)
        matrix = np.concatenate([probabilities[:, j, :levels[j]] for j in range(levels.size)],
                                axis=1)
        columns = [str(level) for j in range(levels.size) for level in range(levels[j])]
        groups = [(names[j], int(levels[:j].sum()), int(levels[j])) for j in range(levels.size)]
        xlabel = "level, grouped by feature"
        title = "P(feature = level) in every component"
        rows = None
    elif hasattr(model, "probabilities_"):
        matrix = np.asarray(model.probabilities_, dtype=np.float64)
        columns = _feature_names(feature_names, matrix.shape[1])
        xlabel, title, groups, rows = "feature", "P(feature = 1) in every component", [], None
    else:
        raise ValueError(f"model must be a fitted BernoulliMixture, CategoricalMixture or "
                         f"CategoricalHMM; got {type(model).__name__}.")
    if rows is None:
        weights = np.asarray(model.weights_)
        rows = [f"component {k}\n(weight {weights[k]:.2f})" for k in range(matrix.shape[0])]
    image = _heatmap(ax, matrix, "Blues", 0.0, 1.0)
    ax.set_yticks(range(matrix.shape[0]), rows, fontsize="small")
    long = max(len(c) for c in columns) > 3 or len(columns) > 12
    ax.set_xticks(range(matrix.shape[1]), columns, fontsize="small",
                  rotation=45 if long else 0, ha="right" if long else "center")
    for name, start, size in groups:
        if start:
            ax.axvline(start - 0.5, color="white", linewidth=3)
    if groups:  # the feature names above their columns
        top = ax.secondary_xaxis("top")
        top.set_xticks([start + (size - 1) / 2 for _, start, size in groups],
                       [name for name, _, _ in groups], fontsize="small")
        top.tick_params(length=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("state" if hasattr(model, "emissionprob_") else "component")
    ax.set_title(title, fontsize="medium")
    ax.figure.colorbar(image, ax=ax, label="probability")
    return ax


def _feature_column(X, feature):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or not 0 <= feature < X.shape[1]:
        raise ValueError(f"X must have shape (n_samples, n_features) and feature must be one "
                         f"of its columns; got X of shape {X.shape} and feature={feature}.")
    return X


def plot_poisson_mixture(model, X, ax=None, *, feature=0, feature_names=None):
    """The counts' histogram with every component's weighted pmf and the mixture's.

    For more than one feature the pmfs are the components' marginals of
    ``feature`` (the features are independent given the component).

    Parameters
    ----------
    model : fitted emkit.PoissonMixture
    X : array-like of shape (n_samples, n_features) of counts
    ax : matplotlib Axes, optional
    feature : int, default=0
    feature_names : sequence of str, optional

    Returns
    -------
    matplotlib.axes.Axes
        The line labelled "mixture" is the mixture pmf at 0, 1, ..., max(X).

    Examples
    --------
    >>> import numpy as np, emkit
    >>> from emkit.plotting import new_figure, plot_poisson_mixture
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.poisson(2, 150), rng.poisson(9, 150)])[:, None]
    >>> model = emkit.PoissonMixture(2, n_init=1, random_state=0).fit(X)
    >>> ax = plot_poisson_mixture(model, X, new_figure().add_subplot())
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('feature 0', 'probability')
    """
    _require_matplotlib()
    from scipy.stats import poisson

    X = _feature_column(X, feature)
    ax = _new_axes(ax)
    x = X[:, feature]
    rates = np.asarray(model.rates_, dtype=np.float64)[:, feature]
    weights = np.asarray(model.weights_, dtype=np.float64)
    top = int(max(x.max(), 1))
    counts = np.arange(top + 1)
    frequency = np.bincount(x.astype(np.intp), minlength=top + 1) / x.size
    ax.bar(counts, frequency, width=0.9, color="0.85", edgecolor="0.6",
           label="data (relative frequency)")
    total = np.zeros(counts.size)
    for k in range(rates.size):
        pmf = weights[k] * poisson.pmf(counts, rates[k])
        total += pmf
        ax.plot(counts, pmf, color=f"C{k % 10}", marker="o", markersize=3, linewidth=1.2,
                label=f"component {k} (weight {weights[k]:.2f}, rate {rates[k]:.3g})")
    ax.plot(counts, total, color="black", linestyle="--", marker="s", markersize=3,
            linewidth=1.2, label="mixture")
    ax.xaxis.set_major_locator(_max_ticks(10, integer=True))
    ax.set_xlabel(_feature_names(feature_names, X.shape[1])[feature])
    ax.set_ylabel("probability")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_rates(model, ax=None, *, feature_names=None):
    """Every component's (or HMM state's) Poisson rates as grouped bars, one group per feature.

    Parameters
    ----------
    model : fitted PoissonMixture (``rates_``) or PoissonHMM (``lambdas_``)
    ax : matplotlib Axes, optional
    feature_names : sequence of str, optional

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per component, its heights the rates.

    Examples
    --------
    >>> import numpy as np, emkit
    >>> from emkit.plotting import new_figure, plot_rates
    >>> X = np.random.default_rng(0).poisson([1.0, 6.0], size=(100, 2))
    >>> model = emkit.PoissonMixture(1, n_init=1).fit(X)
    >>> ax = plot_rates(model, new_figure().add_subplot())
    >>> np.allclose([bar.get_height() for bar in ax.containers[0]], model.rates_[0])
    True
    """
    _require_matplotlib()
    state = hasattr(model, "lambdas_")
    rates = np.asarray(model.lambdas_ if state else model.rates_, dtype=np.float64)
    K, D = rates.shape
    ax = _new_axes(ax)
    width = 0.8 / K
    what = "state" if state else "component"
    for k in range(K):
        ax.bar(np.arange(D) - 0.4 + width * (k + 0.5), rates[k], width=width,
               color=f"C{k % 10}", label=f"{what} {k}")
    ax.set_xticks(range(D), _feature_names(feature_names, D), fontsize="small",
                  rotation=30 if D > 6 else 0)
    ax.set_xlabel("feature")
    ax.set_ylabel("Poisson rate (mean count)")
    ax.set_title(f"The rates of every {what}", fontsize="medium")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_gating(model, X, ax=None, *, feature=0, feature_name=None):
    """A mixture of experts' gate: ``P(component k | x)`` along one input.

    Parameters
    ----------
    model : fitted emkit.MixtureOfExperts
    X : array-like of shape (n_samples, n_features)
        Sets the range; the other inputs are held at their means.
    ax : matplotlib Axes, optional
    feature : int, default=0
    feature_name : str, optional

    Returns
    -------
    matplotlib.axes.Axes
        One line per component; the lines sum to 1 at every x.

    Examples
    --------
    >>> import numpy as np, emkit
    >>> from emkit.plotting import new_figure, plot_gating
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-2, 2, (300, 1))
    >>> y = np.where(x[:, 0] < 0, -x[:, 0], 2 * x[:, 0]) + 0.1 * rng.normal(size=300)
    >>> model = emkit.MixtureOfExperts(2, n_init=2, random_state=0).fit(x, y)
    >>> ax = plot_gating(model, x, new_figure().add_subplot())
    >>> bool(np.allclose(sum(line.get_ydata() for line in ax.get_lines()), 1.0))
    True
    """
    _require_matplotlib()
    if not hasattr(model, "gating_coef_"):
        raise ValueError(f"model must be a fitted MixtureOfExperts; got "
                         f"{type(model).__name__} without gating_coef_.")
    X = _feature_column(X, feature)
    ax = _new_axes(ax)
    grid = np.linspace(X[:, feature].min(), X[:, feature].max(), 200)
    inputs = np.repeat(X.mean(axis=0)[None], grid.size, axis=0)
    inputs[:, feature] = grid
    gate = np.asarray(model.predict_proba(inputs))
    for k in range(gate.shape[1]):
        ax.plot(grid, gate[:, k], color=f"C{k % 10}", linewidth=2, label=f"component {k}")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(feature_name or f"x{feature}")
    ax.set_ylabel("gate probability P(k | x)")
    ax.set_title(f"{type(model).__name__}: the gate along {feature_name or f'x{feature}'}",
                 fontsize="medium")
    ax.legend(loc="best", fontsize="small")
    return ax


# -- one entry point: the standard figures of any fitted estimator -------------------------

_SINGLE = (7.0, 5.0)  # inches of a one-panel figure


def _model_figure(size):
    """model_figures' figures: Agg, laid out by matplotlib's constrained layout (which
    makes room for colorbars, suptitles and figure legends placed "outside")."""
    return _agg_figure(size, layout="constrained")


def _single(title, draw, size=_SINGLE):
    """A one-axes Agg figure drawn by ``draw(ax)``, titled ``title`` unless ``draw`` titled it."""
    figure = _model_figure(size)
    ax = figure.add_subplot()
    draw(ax)
    if not ax.get_title():
        ax.set_title(title, fontsize="medium")
    return title, figure


def _as_samples(X):
    X = np.asarray(X, dtype=np.float64)
    return X[:, None] if X.ndim == 1 else X


def _mixture_figures(model, X, feature_names, *, components=None, contours=True, what=None,
                     ellipses="1- and 2-sigma ellipses"):
    """1-D histogram, 2-D ellipses (and contours) or the pairs plot; the uncertainty plot."""
    D = X.shape[1]
    what = what or f"{np.asarray(model.means_).shape[0]}-component mixture"
    if D == 1:
        out = [_single(f"{what}: histogram and component densities",
                       lambda ax: plot_mixture_1d(model, X, ax, feature_names=feature_names,
                                                  components=components))]
    elif D == 2:
        out = [_single(f"{what}: {ellipses}" + (" and density contours" if contours else ""),
                       lambda ax: plot_mixture_2d(model, X, ax, contours=contours,
                                                  feature_names=feature_names,
                                                  components=components))]
    else:
        figure = _model_figure((2.4 * D, 2.4 * D + 0.4))
        plot_mixture_pairs(model, X, figure, feature_names=feature_names,
                           components=components)
        title = f"{what}: pairs plot with {ellipses}"
        figure.suptitle(title)
        out = [(title, figure)]
    if D >= 2 and components is None:
        out.append(_single("Classification uncertainty (larger: less certain)",
                           lambda ax: plot_uncertainty(model, X, ax,
                                                       feature_names=feature_names)))
    return out


def _bayesian_figures(model, X, *, y, lengths, vocabulary, feature_names):
    """The occupied components only (an emptied one sits at its prior, over nothing), without
    density contours (the model's density is not the plug-in mixture's); the weights."""
    X = _as_samples(X)
    weights = np.asarray(model.weights_)
    occupied = [k for k in range(weights.size) if weights[k] >= 0.01] or [int(weights.argmax())]
    out = _mixture_figures(model, X, feature_names, components=occupied, contours=False,
                           what=f"{len(occupied)} occupied component(s)")
    out.insert(1, _single("Weights of the components",
                          lambda ax: plot_effective_weights(model, ax), (6.4, 4.0)))
    return out


def _student_t_figures(model, X, *, y, lengths, vocabulary, feature_names):
    X = _as_samples(X)
    out = _mixture_figures(model, X, feature_names, ellipses="scale-matrix ellipses")
    if X.shape[1] >= 2:
        out.insert(1, _single("Student-t mixture: scale weights (small: outlier)",
                              lambda ax: plot_scale_weights(model, X, ax,
                                                            feature_names=feature_names),
                              (7.5, 5.0)))
    return out


def _factor_figures(model, X, *, y, lengths, vocabulary, feature_names):
    X = _as_samples(X)
    loadings, _ = _factor_arrays(model)
    K, D, q = loadings.shape
    figure = _model_figure((2.2 + 1.3 * q * K + (1.2 * K if K > 1 else 2.6) + 1.5,
                          1.6 + 0.45 * D))
    plot_factor_loadings(model, figure, feature_names=feature_names)
    out = [("Loadings and noise variances", figure)]
    if K == 1:
        out.append(_single("Variance explained per factor",
                           lambda ax: plot_explained_variance(model, ax), (6.4, 4.2)))
    else:
        out = _mixture_figures(_GaussianView(model), X, feature_names,
                               ellipses="ellipses of W W^T + Psi") + out
    return out


def _kmeans_figures(model, X, *, y, lengths, vocabulary, feature_names):
    X = _as_samples(X)
    D = X.shape[1]
    K = len(model.cluster_centers_)
    title = f"KMeans: {K} clusters and their centres"
    if D == 1:
        return [_single(title, lambda ax: plot_kmeans(model, X, ax,
                                                      feature_names=feature_names))]
    # Consecutive pairs cover every feature: (0, 1), (2, 3), ..., and (D-2, D-1) for odd D.
    pairs = [(j, j + 1) for j in range(0, D - 1, 2)]
    if D % 2 and D > 2:
        pairs.append((D - 2, D - 1))
    pairs = pairs[:3]
    figure = _model_figure((5.0 * len(pairs) + 0.6, 4.6))
    for i, dims in enumerate(pairs):
        ax = figure.add_subplot(1, len(pairs), i + 1)
        plot_kmeans(model, X, ax, dims=dims, feature_names=feature_names, legend=i == 0)
    figure.suptitle(title)
    return [(title, figure)]


def _discrete_figures(model, X, *, y, lengths, vocabulary, feature_names):
    probabilities = np.asarray(model.probabilities_)
    columns = (int(np.sum(model.n_levels_)) if hasattr(model, "n_levels_")
               else probabilities.shape[1])
    K = probabilities.shape[0]
    size = (max(6.0, 2.6 + 0.55 * columns), max(3.2, 1.6 + 0.7 * K))
    return [_single("Probabilities of every component",
                    lambda ax: plot_component_probabilities(model, ax,
                                                            feature_names=feature_names),
                    size)]


def _poisson_figures(model, X, *, y, lengths, vocabulary, feature_names):
    X = _as_samples(X)
    out = [_single("The counts and the fitted mixture's pmf",
                   lambda ax: plot_poisson_mixture(model, X, ax,
                                                   feature_names=feature_names))]
    if X.shape[1] > 1:
        out.append(_single("Poisson rates of every component",
                           lambda ax: plot_rates(model, ax, feature_names=feature_names)))
    return out


def _gaussian_figures(model, X, *, y, lengths, vocabulary, feature_names):
    return _mixture_figures(model, _as_samples(X), feature_names)


def _hmm_figures(model, X, *, y, lengths, vocabulary, feature_names):
    X = _as_samples(X)
    K = len(model.transmat_)
    out = []
    if hasattr(model, "emissionprob_"):
        S = np.shape(model.emissionprob_)[1]
        out.append(_single("Emission probabilities",
                           lambda ax: plot_component_probabilities(model, ax),
                           (max(5.0, 2.6 + 0.55 * S), max(3.0, 1.4 + 0.6 * K))))
    else:
        out.append(_single(f"{type(model).__name__}: most probable state at each step",
                           lambda ax: plot_hmm_states(model, X, lengths, ax,
                                                      feature_names=feature_names),
                           (9.0, 4.5)))
    out.append(_single("Transition probabilities",
                       lambda ax: plot_transition_matrix(model, ax),
                       (max(4.5, 2.2 + 0.6 * K), max(3.5, 1.4 + 0.6 * K))))
    if hasattr(model, "lambdas_") and np.shape(model.lambdas_)[1] > 1:
        out.append(_single("Poisson rates of every state",
                           lambda ax: plot_rates(model, ax, feature_names=feature_names)))
    return out


def _lda_figures(model, X, *, y, lengths, vocabulary, feature_names):
    n_topics, n_words = np.shape(model.components_)
    if vocabulary is None:
        vocabulary = (list(feature_names) if feature_names is not None
                      else [f"word {j}" for j in range(n_words)])
    ncols = min(4, n_topics)
    nrows = -(-n_topics // ncols)
    figure = _model_figure((3.2 * ncols, 3.2 * nrows + 0.6))
    plot_top_words(model, vocabulary, figure, n=min(10, n_words), ncols=ncols)
    title = f"The most probable words of each of the {n_topics} topics"
    figure.suptitle(title)
    return [(title, figure),
            _single("Topic prevalence", lambda ax: plot_topic_prevalence(model, X, ax))]


def _regression_figures(model, X, *, y, lengths, vocabulary, feature_names):
    if y is None:
        raise ValueError(f"model_figures needs y (the targets) for a {type(model).__name__}; "
                         f"call model_figures(model, X, y=y).")
    X = _as_samples(X)
    name = None if feature_names is None else str(list(feature_names)[0])
    out = [_single(f"{type(model).__name__}: one regression line per component",
                   lambda ax: plot_regression_mixture(model, X, y, ax, feature_name=name))]
    if hasattr(model, "gating_coef_"):
        out.append(_single("The gate: P(component | x)",
                           lambda ax: plot_gating(model, X, ax, feature_name=name), (7.0, 4.0)))
    return out


def _selection_figures(selection, X, **kwargs):
    figure = _model_figure((11.0, 4.4))
    plot_selection_criteria(selection, figure)
    best = selection.best_estimator_
    return ([("BIC and ICL per covariance structure", figure)]
            + model_figures(best, X, **kwargs))


def _figure_makers():
    """(classes, function) pairs, the most specific classes first (``isinstance`` decides)."""
    import emkit

    return [
        ((emkit.ModelSelection,), _selection_figures),
        ((emkit.GaussianHMM, emkit.GMMHMM, emkit.CategoricalHMM, emkit.PoissonHMM),
         _hmm_figures),
        ((emkit.LatentDirichletAllocation,), _lda_figures),
        ((emkit.RegressionMixture, emkit.MixtureOfExperts), _regression_figures),
        ((emkit.GaussianMixture,), _gaussian_figures),
        ((emkit.BayesianGaussianMixture,), _bayesian_figures),
        ((emkit.StudentTMixture,), _student_t_figures),
        ((emkit.FactorAnalysis, emkit.PPCA, emkit.MixtureOfFactorAnalyzers), _factor_figures),
        ((emkit.KMeans,), _kmeans_figures),
        ((emkit.BernoulliMixture, emkit.CategoricalMixture), _discrete_figures),
        ((emkit.PoissonMixture,), _poisson_figures),
    ]


def model_figures(model, X, *, y=None, lengths=None, vocabulary=None, feature_names=None):
    """The standard figures of any fitted emkit estimator, each with its title.

    Picks the pictures that fit the model (and, for mixtures, the data's
    dimension) and always ends with :func:`plot_history` where the model has
    ``history_``. Every figure is on the Agg canvas with matplotlib's
    constrained layout, ready for :func:`figure_to_png`.

    ==========================  =================================================================
    model                       figures
    ==========================  =================================================================
    GaussianMixture             histogram (1-D), ellipses and density contours (2-D) or pairs
                                plot; classification uncertainty
    StudentTMixture             the same with t densities and scale-matrix ellipses; the scale
                                weights (outliers)
    BayesianGaussianMixture     the occupied components' ellipses (no contours); the weights
    MixtureOfFactorAnalyzers    the Gaussian mixture pictures of ``W W^T + Psi``; the loadings
    FactorAnalysis, PPCA        the loadings and noise variances; variance explained per factor
    KMeans                      the data coloured by cluster, centres marked
    BernoulliMixture,           heatmap of every component's probabilities
    CategoricalMixture
    PoissonMixture              the counts' histogram with the fitted pmf; the rates (> 1 feature)
    RegressionMixture,          the data coloured by component, one line each; the gate
    MixtureOfExperts            (experts)
    GaussianHMM, GMMHMM,        the series coloured by most probable state (CategoricalHMM: the
    PoissonHMM, CategoricalHMM  emission probabilities); the transition matrix
    LatentDirichletAllocation   top words of every topic; topic prevalence
    ModelSelection              BIC and ICL curves, then the best model's figures
    ==========================  =================================================================

    Parameters
    ----------
    model : fitted emkit estimator, or an :class:`emkit.selection.ModelSelection`
    X : array-like of shape (n_samples, n_features)
        The data it was fitted on (a document-word count matrix for LDA).
    y : array-like of shape (n_samples,), optional
        Targets; needed for RegressionMixture and MixtureOfExperts.
    lengths : array-like of int, optional
        Sequence lengths, for the HMMs.
    vocabulary : sequence of str, optional
        Words (LDA); ``feature_names`` or "word j" by default.
    feature_names : sequence of str, optional

    Returns
    -------
    list of (str, matplotlib.figure.Figure)

    Raises
    ------
    ValueError
        For a regression model without ``y``.
    TypeError
        For an object that is neither an emkit estimator with pictures nor one
        with ``history_``.

    Examples
    --------
    >>> import emkit
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.plotting import model_figures
    >>> X = load_old_faithful().data
    >>> model = emkit.GaussianMixture(2, random_state=0).fit(X)
    >>> [title for title, _ in model_figures(model, X)]  # doctest: +NORMALIZE_WHITESPACE
    ['2-component mixture: 1- and 2-sigma ellipses and density contours',
     'Classification uncertainty (larger: less certain)',
     'The objective per EM iteration']
    """
    _require_matplotlib()
    import warnings

    kwargs = dict(y=y, lengths=lengths, vocabulary=vocabulary, feature_names=feature_names)
    if hasattr(model, "fit") and getattr(model, "history_", None) is None:
        raise ValueError(f"model_figures draws fitted estimators; this "
                         f"{type(model).__name__} is not fitted (call fit first).")
    for classes, make in _figure_makers():
        if isinstance(model, classes):
            figures = list(make(model, X, **kwargs))
            break
    else:
        if getattr(model, "history_", None) is None:
            raise TypeError(f"model_figures draws fitted emkit estimators; got "
                            f"{type(model).__name__} (no pictures for it, and no history_).")
        warnings.warn(f"model_figures has no pictures for {type(model).__name__}; only its "
                      f"objective history is drawn.", UserWarning, stacklevel=2)
        figures = []
    if getattr(model, "history_", None) is not None:
        figure = _model_figure((7.0, 4.0))
        plot_history(model, figure.add_subplot())
        figures.append(("The objective per EM iteration", figure))
    return figures

