"""Every plot of emkit.plotting rendered to PNG (Agg): labelled, legible, no text overlapping.

The PNGs are written under pytest's tmp dir (``tmp_path_factory``: one folder,
``plots``), to be looked at.
"""

import itertools
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.text import Text  # noqa: E402

import emkit  # noqa: E402
from emkit import plotting  # noqa: E402
from emkit.datasets import load_iris, load_nile, load_old_faithful, load_reuters  # noqa: E402


@pytest.fixture(scope="module")
def plot_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("plots")


@pytest.fixture(scope="module")
def faithful():
    data = load_old_faithful()
    model = emkit.GaussianMixture(3, random_state=0).fit(data.data)
    return data.data, data.feature_names, model


def _hidden_tick_labels(figure):
    """ids of tick labels that exist but are not drawn: hidden axes, or a locator
    position outside the view limits (tick labels have ``axes`` None, so they
    are found through their axes)."""
    hidden = set()
    for ax in figure.axes:
        for axis, interval in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            lo, hi = sorted(interval)
            slack = 1e-9 * (hi - lo)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if (not ax.get_visible() or not ax.axison
                        or not lo - slack <= tick.get_loc() <= hi + slack):
                    hidden.update({id(tick.label1), id(tick.label2)})
    return hidden


def _visible_texts(figure):
    """The drawn, non-empty texts of a figure with their window extents (pixels)."""
    renderer = figure.canvas.get_renderer()
    hidden = _hidden_tick_labels(figure)
    # A table's cell texts are not among the figure's children.
    texts = figure.findobj(Text) + [cell.get_text() for ax in figure.axes for table in ax.tables
                                    for cell in table.get_celld().values()]
    boxes = []
    for text in texts:
        if not text.get_visible() or not text.get_text().strip() or id(text) in hidden:
            continue
        if text.axes is not None and not text.axes.get_visible():
            continue
        boxes.append((text, text.get_window_extent(renderer)))
    return boxes


def check_figure(figure, path):
    """Save ``figure`` to ``path`` and check it; returns the path.

    - every axes (colorbars and axes turned off aside) has a title, or the
      figure a suptitle, and an axis label wherever that axis shows tick labels;
    - no two drawn texts overlap (by their rendered bounding boxes, shrunk
      by one pixel so that touching is allowed);
    - every text lies inside the figure (nothing clipped at the edge).
    """
    figure.savefig(path, dpi=80)
    assert path.stat().st_size > 1000
    # Label positions are computed while drawing, at the drawing's dpi: draw
    # again at the figure's own, at which the boxes are measured.
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    suptitle = figure.get_suptitle()
    for ax in figure.axes:
        if not ax.get_visible() or not ax.axison or ax.get_label() == "<colorbar>":
            continue
        assert ax.get_title().strip() or suptitle.strip(), f"{path.name}: an axes has no title"
        for axis, label in ((ax.xaxis, ax.get_xlabel()), (ax.yaxis, ax.get_ylabel())):
            shown = [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            if shown:
                assert label.strip(), f"{path.name}: an axis with tick labels has no label"
    boxes = _visible_texts(figure)
    frame = figure.bbox
    for text, box in boxes:
        assert (box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1 and box.y0 >= frame.y0 - 1
                and box.y1 <= frame.y1 + 1), f"{path.name}: {text.get_text()!r} is clipped"
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        if box_a.shrunk(0.98, 0.98).overlaps(box_b.shrunk(0.98, 0.98)):
            inter_w = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
            inter_h = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
            assert inter_w <= 1 or inter_h <= 1, (
                f"{path.name}: {a.get_text()!r} overlaps {b.get_text()!r}")
    del renderer
    return path


def test_overlap_check_can_fail(tmp_path):
    """The checker itself: two texts drawn on top of each other are caught."""
    figure = plotting.new_figure()
    ax = figure.add_subplot()
    ax.set(title="t", xlabel="x", ylabel="y")
    ax.text(0.5, 0.5, "overlapping text")
    ax.text(0.5, 0.5, "overlapping text")
    with pytest.raises(AssertionError, match="overlaps"):
        check_figure(figure, tmp_path / "bad.png")
    figure = plotting.new_figure()
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1])
    with pytest.raises(AssertionError, match="no title"):
        check_figure(figure, tmp_path / "unlabelled.png")


def _laid_out(figure):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tight_layout's "not compatible" notes
        figure.tight_layout()
    return figure


def test_mixture_2d_with_contours(faithful, plot_dir):
    X, names, model = faithful
    figure = plotting.plot_mixture(model, X, plotting.new_figure(), feature_names=names,
                                   title="Old Faithful: ellipses and density contours")
    check_figure(_laid_out(figure), plot_dir / "mixture_2d.png")
    ax = figure.axes[0]
    # 3 components x (1- and 2-sigma) ellipses, and the contour set.
    assert len(ax.patches) == 6
    assert any(type(c).__name__ == "QuadContourSet" for c in ax.get_children()) or ax.collections


def test_density_contours_are_at_data_quantiles(faithful, plot_dir):
    from scipy.stats import multivariate_normal

    X, names, model = faithful
    figure = plotting.new_figure()
    ax = figure.add_subplot()
    plotting.plot_density_contours(model, X, ax, feature_names=names, scatter=True,
                                   levels=(0.5,))
    ax.set_title("median-density contour")
    check_figure(_laid_out(figure), plot_dir / "contours.png")
    contour = next(c for c in ax.get_children() if hasattr(c, "levels"))
    density = sum(w * multivariate_normal(m, c).pdf(X) for w, m, c in
                  zip(model.weights_, model.means_, model.covariances_))
    assert contour.levels[0] == pytest.approx(np.median(density))


def test_uncertainty(faithful, plot_dir):
    X, names, model = faithful
    figure = plotting.new_figure()
    ax = figure.add_subplot()
    plotting.plot_uncertainty(model, X, ax, feature_names=names)
    ax.set_title("classification uncertainty")
    check_figure(_laid_out(figure), plot_dir / "uncertainty.png")
    uncertainty = 1 - model.predict_proba(X).max(axis=1)
    sizes = np.concatenate([c.get_sizes() if len(c.get_sizes()) == len(c.get_offsets())
                            else np.repeat(c.get_sizes(), len(c.get_offsets()))
                            for c in ax.collections[:3]])
    # mclust's bands: the largest markers are the 5% most uncertain points.
    assert np.sum(sizes == sizes.max()) == np.sum(uncertainty >= np.quantile(uncertainty, 0.95))


def test_mixture_1d(plot_dir):
    x = load_old_faithful().data[:, :1]
    model = emkit.GaussianMixture(2, random_state=0).fit(x)
    figure = plotting.plot_mixture(model, x, plotting.new_figure(),
                                   feature_names=["eruptions"], title="eruption lengths")
    check_figure(_laid_out(figure), plot_dir / "mixture_1d.png")
    ax = figure.axes[0]
    mixture = [line for line in ax.get_lines() if line.get_label() == "mixture"][0]
    grid, total = mixture.get_data()
    # The drawn mixture curve is the model's density.
    np.testing.assert_allclose(total, np.exp(model.score_samples(grid[:, None])), rtol=1e-10)


def test_pairs_plot(plot_dir):
    iris = load_iris()
    model = emkit.GaussianMixture(3, random_state=0).fit(iris.data)
    figure = plotting.plot_mixture(model, iris.data, plotting.new_figure((9, 9)),
                                   feature_names=iris.feature_names, title="Iris: pairs")
    check_figure(figure, plot_dir / "pairs.png")
    assert len(figure.axes) == 16


def test_selection_bic_and_icl(faithful, plot_dir):
    X, _, _ = faithful
    selection = emkit.select_model(X, n_components=range(1, 5),
                                   covariance_types=["EII", "VII", "EEE", "VVV"])
    figure = plotting.plot_selection_criteria(
        selection, plotting.new_figure((11, 4.4)))
    check_figure(_laid_out(figure), plot_dir / "selection.png")
    bic_ax, icl_ax = figure.axes
    for ax, criterion in ((bic_ax, "bic"), (icl_ax, "icl")):
        assert ax.get_ylabel().startswith(criterion.upper())
        drawn = np.array([line.get_ydata() for line in ax.get_lines()]).T
        np.testing.assert_allclose(drawn, selection.scores(criterion))


def test_history_marks_repairs(plot_dir):
    class Fitted:  # the attributes every emkit estimator sets
        history_ = np.array([-10.0, -8.0, -9.5, -7.0, -6.5])
        repairs_ = np.array([2])

    figure = plotting.new_figure()
    ax = figure.add_subplot()
    plotting.plot_history(Fitted(), ax)
    check_figure(_laid_out(figure), plot_dir / "history_repairs.png")
    marked = [line for line in ax.get_lines()
              if line.get_label() == "collapsed component re-seeded"][0]
    np.testing.assert_array_equal(marked.get_xdata(), [3])
    np.testing.assert_array_equal(marked.get_ydata(), [-9.5])
    with pytest.raises(ValueError, match="history_"):
        plotting.plot_history(object(), ax)


@pytest.mark.parametrize("make", ["gmm", "hmm", "poisson"])
def test_history_of_any_estimator(make, plot_dir, faithful):
    X, _, model = faithful
    if make == "hmm":
        model = emkit.GaussianHMM(2, random_state=0).fit(load_nile().data[:, None])
    elif make == "poisson":
        counts = np.random.default_rng(0).poisson([[2.0], [9.0]], size=(2, 100)).reshape(-1, 1)
        model = emkit.PoissonMixture(2, random_state=0).fit(counts)
    figure = plotting.new_figure()
    plotting.plot_history(model, figure.add_subplot())
    check_figure(_laid_out(figure), plot_dir / f"history_{make}.png")
    np.testing.assert_array_equal(figure.axes[0].get_lines()[0].get_ydata(), model.history_)


@pytest.fixture(scope="module")
def nile_hmm():
    y = load_nile().data[:, None]
    return y, emkit.GaussianHMM(2, random_state=0).fit(y)


def test_hmm_states(nile_hmm, plot_dir):
    y, model = nile_hmm
    figure = plotting.new_figure((9, 4.5))
    ax = figure.add_subplot()
    plotting.plot_hmm_states(model, y, ax=ax, feature_names=["flow"],
                             index=np.arange(1871, 1971))
    check_figure(_laid_out(figure), plot_dir / "hmm_states.png")
    step = [line for line in ax.get_lines() if line.get_label() == "mean of the state"][0]
    states = model.predict_proba(y).argmax(axis=1)
    np.testing.assert_allclose(step.get_ydata(), model.means_[states, 0])


def test_transition_matrix(nile_hmm, plot_dir):
    _, model = nile_hmm
    figure = plotting.new_figure((5, 4))
    ax = figure.add_subplot()
    plotting.plot_transition_matrix(model, ax)
    check_figure(_laid_out(figure), plot_dir / "transitions.png")
    printed = sorted(float(t.get_text()) for t in ax.texts)
    np.testing.assert_allclose(printed, np.sort(np.round(model.transmat_.ravel(), 2)))
    figure = plotting.new_figure((7, 6))
    ax = figure.add_subplot()
    ten = np.full((10, 10), 0.1)
    plotting.plot_transition_matrix(ten, ax)
    check_figure(_laid_out(figure), plot_dir / "transitions_10.png")


@pytest.fixture(scope="module")
def reuters_lda():
    reuters = load_reuters()
    model = emkit.LatentDirichletAllocation(6, random_state=0, max_iter=5).fit(reuters.data)
    return reuters, model


def test_top_words(reuters_lda, plot_dir):
    reuters, model = reuters_lda
    figure = plotting.plot_top_words(model, reuters.vocabulary, plotting.new_figure((12, 6)),
                                     n=10, ncols=3)
    check_figure(_laid_out(figure), plot_dir / "top_words.png")
    drawn = [[t.get_text() for t in ax.get_yticklabels()] for ax in figure.axes]
    assert drawn == emkit.top_words(model, reuters.vocabulary, 10)


def test_topic_prevalence(reuters_lda, plot_dir):
    reuters, model = reuters_lda
    figure = plotting.new_figure()
    ax = figure.add_subplot()
    plotting.plot_topic_prevalence(model, reuters.data, ax)
    check_figure(_laid_out(figure), plot_dir / "topic_prevalence.png")
    heights = [bar.get_height() for bar in ax.patches]
    theta = model.transform(reuters.data)
    np.testing.assert_allclose(heights, (theta / theta.sum(axis=1, keepdims=True)).mean(axis=0))
    assert sum(heights) == pytest.approx(1.0)


@pytest.mark.parametrize("n_features", [1, 2])
def test_em_teaching_view(n_features, plot_dir):
    data = load_old_faithful()
    X = data.data[:, :n_features]
    start = emkit.GaussianMixture(2, init_params="random_from_data", random_state=1)
    trace = emkit.explain_em(start, X, 4)
    figure = plotting.plot_em_steps(start, X, 4, plotting.new_figure((15, 8)),
                                    feature_names=data.feature_names, trace=trace)
    check_figure(_laid_out(figure), plot_dir / f"em_steps_{n_features}d.png")
    # 5 iteration panels, the trace and the table.
    assert len(figure.axes) == 7
    trace_ax = figure.axes[5]
    loglik_line = [line for line in trace_ax.get_lines()
                   if line.get_label() == "log-likelihood"][0]
    np.testing.assert_allclose(loglik_line.get_ydata(), trace.column("log_likelihood"))
    gaps = [c for c in trace_ax.collections if c.get_label().startswith("KL gap")][0]
    lengths = [abs(seg[1, 1] - seg[0, 1]) for seg in gaps.get_segments()]
    np.testing.assert_allclose(lengths, trace.column("kl")[1::2])
    # The numbers printed: every log-likelihood of the trace is in the table.
    table_text = {cell.get_text().get_text()
                  for cell in figure.axes[6].tables[0].get_celld().values()}
    for value in trace.column("log_likelihood"):
        assert f"{value:.4f}" in table_text


def test_em_teaching_view_rejects_three_features():
    X = load_iris().data[:, :3]
    with pytest.raises(ValueError, match="one or two features"):
        plotting.plot_em_steps(emkit.GaussianMixture(2), X, 1, plotting.new_figure())


def test_import_emkit_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, emkit, emkit.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_regression_mixture_lines(plot_dir):
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (400, 1))
    y = (np.where(rng.random(400) < 0.5, 1.5 * x[:, 0] + 1, -x[:, 0])
         + 0.2 * rng.normal(size=400))
    model = emkit.RegressionMixture(2, random_state=0).fit(x, y)
    figure = plotting.new_figure()
    ax = plotting.plot_regression_mixture(model, x, y, figure.add_subplot(),
                                          feature_name="x", target_name="y")
    check_figure(_laid_out(figure), plot_dir / "regression_mixture.png")
    # The drawn lines are the fitted ones.
    for k, line in enumerate(ax.get_lines()):
        xs, ys = line.get_xdata(), line.get_ydata()
        slope = (ys[-1] - ys[0]) / (xs[-1] - xs[0])
        assert slope == pytest.approx(model.coef_[k, 0], rel=1e-9)
        assert ys[0] == pytest.approx(model.intercept_[k] + model.coef_[k, 0] * xs[0], rel=1e-9)
    with pytest.raises(ValueError, match="RegressionMixture"):
        plotting.plot_regression_mixture(emkit.GaussianMixture(2).fit(x), x, y)
