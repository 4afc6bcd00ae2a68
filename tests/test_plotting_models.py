"""plotting.model_figures and the plots of every estimator beyond the Gaussian mixture.

Every class emkit exports gets its figures here: a class added to emkit without
a fitted example below (and pictures in model_figures) fails
``test_every_exported_class_is_covered``. Every PNG is written under pytest's
tmp dir (folder ``model_plots``) and checked by test_plotting's ``check_figure``
(titles, axis labels, no overlapping or clipped text).
"""

import functools
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

import emkit  # noqa: E402
from emkit import plotting  # noqa: E402
from emkit.datasets import load_iris, load_nile, load_old_faithful, load_reuters  # noqa: E402
from test_plotting import check_figure  # noqa: E402

RNG = np.random.default_rng(0)


def _regression_data():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (300, 1))
    y = (np.where(rng.random(300) < 0.5, 1.5 * x[:, 0] + 1, -x[:, 0])
         + 0.2 * rng.normal(size=300))
    return x, y


def _experts_data():
    """Two experts that take over from each other at x = 0 (a gate that moves)."""
    rng = np.random.default_rng(6)
    x = rng.uniform(-2, 2, (300, 1))
    y = np.where(x[:, 0] < 0, -x[:, 0], 2 * x[:, 0]) + 0.1 * rng.normal(size=300)
    return x, y


def _student_t_data():
    """Old Faithful and eight far points, which the t mixture weighs down."""
    X = load_old_faithful().data
    far = np.array([[1.0, 95.0], [1.2, 100.0], [5.8, 45.0], [6.0, 42.0], [3.0, 100.0],
                    [6.2, 110.0], [1.0, 25.0], [3.2, 30.0]])
    return np.vstack([X, far])


def _binary_data():
    rng = np.random.default_rng(1)
    p = np.array([[0.9, 0.8, 0.9, 0.1, 0.2, 0.1], [0.1, 0.2, 0.1, 0.8, 0.9, 0.7]])
    z = rng.integers(0, 2, 300)
    return (rng.random((300, 6)) < p[z]).astype(float)


def _categorical_data():
    rng = np.random.default_rng(2)
    z = rng.integers(0, 2, 300)
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])
    return np.column_stack([[rng.choice(3, p=p[k]) for k in z] for _ in range(4)])


def _count_data():
    rng = np.random.default_rng(3)
    z = rng.random(400) < 0.4
    return np.where(z, rng.poisson(2.0, 400), rng.poisson(9.0, 400))[:, None]


def _state_counts():
    rng = np.random.default_rng(4)
    states = np.repeat([0, 1, 0, 1], 50)
    return rng.poisson(np.where(states == 0, 2.0, 8.0))[:, None]


def _state_symbols():
    rng = np.random.default_rng(5)
    states = np.repeat([0, 1, 0, 1], 50)
    p = np.array([[0.8, 0.15, 0.05], [0.05, 0.15, 0.8]])
    return np.array([rng.choice(3, p=p[s]) for s in states])[:, None]


# name -> (data, fitted model, keyword arguments of model_figures); fitted once per name
# (nothing here changes a model or its data).
@functools.lru_cache(maxsize=None)
def _example(name):
    faithful = load_old_faithful()
    iris = load_iris()
    X2, names2 = faithful.data, faithful.feature_names
    if name == "GaussianMixture":
        return X2, emkit.GaussianMixture(2, random_state=0).fit(X2), {"feature_names": names2}
    if name == "BayesianGaussianMixture":
        return X2, emkit.BayesianGaussianMixture(n_components=5, n_init=1,
                                                 random_state=0).fit(X2), {}
    if name == "StudentTMixture":
        X = _student_t_data()
        return X, emkit.StudentTMixture(2, n_init=1, random_state=0).fit(X), {
            "feature_names": names2}
    if name == "KMeans":
        return iris.data, emkit.KMeans(3, random_state=0).fit(iris.data), {
            "feature_names": iris.feature_names}
    if name in ("FactorAnalysis", "PPCA"):
        return iris.data, getattr(emkit, name)(2, random_state=0).fit(iris.data), {
            "feature_names": iris.feature_names}
    if name == "MixtureOfFactorAnalyzers":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = emkit.MixtureOfFactorAnalyzers(2, n_factors=1, n_init=1,
                                                   random_state=0).fit(iris.data)
        return iris.data, model, {"feature_names": iris.feature_names}
    if name == "BernoulliMixture":
        X = _binary_data()
        return X, emkit.BernoulliMixture(2, n_init=1, random_state=0).fit(X), {}
    if name == "CategoricalMixture":
        X = _categorical_data()
        return X, emkit.CategoricalMixture(2, n_init=1, random_state=0).fit(X), {}
    if name == "PoissonMixture":
        X = _count_data()
        return X, emkit.PoissonMixture(2, n_init=1, random_state=0).fit(X), {}
    if name in ("RegressionMixture", "MixtureOfExperts"):
        x, y = _regression_data() if name == "RegressionMixture" else _experts_data()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = getattr(emkit, name)(2, n_init=2, random_state=0).fit(x, y)
        return x, model, {"y": y}
    if name == "GaussianHMM":
        y = load_nile().data[:, None]
        return y, emkit.GaussianHMM(2, random_state=0).fit(y), {"feature_names": ["flow"]}
    if name == "GMMHMM":
        y = load_nile().data[:, None]
        return y, emkit.GMMHMM(2, n_mix=2, random_state=0).fit(y), {}
    if name == "PoissonHMM":
        X = _state_counts()
        return X, emkit.PoissonHMM(2, random_state=0).fit(X), {}
    if name == "CategoricalHMM":
        X = _state_symbols()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = emkit.CategoricalHMM(2, random_state=0).fit(X)
        return X, model, {}
    if name == "LatentDirichletAllocation":
        reuters = load_reuters()
        model = emkit.LatentDirichletAllocation(4, random_state=0, max_iter=5).fit(reuters.data)
        return reuters.data, model, {"vocabulary": reuters.vocabulary}
    if name == "ModelSelection":
        return X2, emkit.select_model(X2, n_components=range(1, 4),
                                      covariance_types=["EEE", "VVV"]), {}
    raise KeyError(name)


# Every class with an example above (kept in step with _example by test_model_figures).
_EXAMPLES = {"GaussianMixture", "BayesianGaussianMixture", "StudentTMixture", "KMeans",
             "FactorAnalysis", "PPCA", "MixtureOfFactorAnalyzers", "BernoulliMixture",
             "CategoricalMixture", "PoissonMixture", "RegressionMixture", "MixtureOfExperts",
             "GaussianHMM", "GMMHMM", "PoissonHMM", "CategoricalHMM",
             "LatentDirichletAllocation", "ModelSelection"}


def _exported_classes():
    return sorted(name for name in emkit.__all__ if isinstance(getattr(emkit, name), type))


@pytest.fixture(scope="module")
def plot_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("model_plots")


def test_every_exported_class_is_covered():
    classes = _exported_classes()
    assert "GaussianMixture" in classes and "KMeans" in classes
    missing = [name for name in classes if name not in _EXAMPLES]
    assert not missing, f"add a fitted example (and pictures in model_figures) for {missing}"


@pytest.mark.parametrize("name", _exported_classes())
def test_model_figures(name, plot_dir):
    X, model, kwargs = _example(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "no pictures for ..." is a failure
        figures = plotting.model_figures(model, X, **kwargs)
    titles = [title for title, _ in figures]
    assert len(set(titles)) == len(titles), titles
    if hasattr(model, "history_"):
        assert titles[-1] == "The objective per EM iteration"
        np.testing.assert_array_equal(figures[-1][1].axes[0].get_lines()[0].get_ydata(),
                                      model.history_)
    for i, (title, figure) in enumerate(figures):
        assert title.strip()
        png = plotting.figure_to_png(figure)
        assert png[:4] == b"\x89PNG"
        check_figure(figure, plot_dir / f"{name}_{i}.png")


def test_model_figures_needs_y_for_regression():
    x, y = _regression_data()
    model = emkit.RegressionMixture(2, n_init=1, random_state=0).fit(x, y)
    with pytest.raises(ValueError, match="needs y"):
        plotting.model_figures(model, x)


def test_model_figures_unknown_objects():
    with pytest.raises(TypeError, match="no history_"):
        plotting.model_figures(object(), np.zeros((3, 2)))

    class Fitted:
        history_ = np.array([-3.0, -2.0, -1.5])

    with pytest.warns(UserWarning, match="no pictures for Fitted"):
        figures = plotting.model_figures(Fitted(), np.zeros((3, 2)))
    assert [title for title, _ in figures] == ["The objective per EM iteration"]


def _figures(name):
    X, model, kwargs = _example(name)
    return X, model, dict(plotting.model_figures(model, X, **kwargs))


def test_model_figures_titles_per_class():
    """The figures each kind of model gets (a change of the set shows up here)."""
    expected = {
        "KMeans": ["KMeans: 3 clusters and their centres"],
        "PPCA": ["Loadings and noise variances", "Variance explained per factor"],
        "BernoulliMixture": ["Probabilities of every component"],
        "CategoricalHMM": ["Emission probabilities", "Transition probabilities"],
        "MixtureOfExperts": ["MixtureOfExperts: one regression line per component",
                             "The gate: P(component | x)"],
    }
    for name, titles in expected.items():
        X, model, kwargs = _example(name)
        got = [title for title, _ in plotting.model_figures(model, X, **kwargs)]
        assert got == titles + ["The objective per EM iteration"], name


# -- Student-t ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def student_t():
    X = _student_t_data()
    return X, emkit.StudentTMixture(2, n_init=1, random_state=0).fit(X)


def test_student_t_scale_weights_by_hand(student_t):
    from scipy.spatial.distance import mahalanobis

    X, model = student_t
    resp = model.predict_proba(X)
    D = X.shape[1]
    expected = np.zeros(len(X))
    for k in range(2):
        inverse = np.linalg.inv(model.covariances_[k])
        delta = np.array([mahalanobis(x, model.means_[k], inverse) ** 2 for x in X])
        expected += resp[:, k] * (model.dofs_[k] + D) / (model.dofs_[k] + delta)
    weights = plotting.student_t_scale_weights(model, X)
    np.testing.assert_allclose(weights, expected, rtol=1e-10)
    # The eight far points are the eight smallest weights.
    assert set(np.argsort(weights)[:8]) == set(range(len(X) - 8, len(X)))
    with pytest.raises(ValueError, match="StudentTMixture"):
        plotting.student_t_scale_weights(emkit.GaussianMixture(1).fit(X), X)


def test_scale_weights_plot_colours(student_t, plot_dir):
    X, model = student_t
    figure = plotting.new_figure((7.5, 5))
    ax = plotting.plot_scale_weights(model, X, figure.add_subplot(),
                                     feature_names=["eruptions", "waiting"])
    check_figure(figure, plot_dir / "scale_weights.png")
    points = ax.collections[0]
    weights = plotting.student_t_scale_weights(model, X)
    order = np.argsort(-weights)
    np.testing.assert_allclose(points.get_array(), weights[order])
    np.testing.assert_allclose(points.get_offsets(), X[order])
    assert len(ax.patches) == 4  # two components x (1, 2) scale ellipses


def test_student_t_densities_are_the_models(student_t, plot_dir):
    """plot_mixture_1d and the contours draw the t mixture's density, not a Gaussian's."""
    X, model = student_t
    x = X[:, :1]
    model_1d = emkit.StudentTMixture(2, n_init=1, random_state=0).fit(x)
    figure = plotting.new_figure()
    ax = plotting.plot_mixture_1d(model_1d, x, figure.add_subplot(), feature_names=["eruptions"])
    ax.set_title("t mixture, 1-D")
    check_figure(figure, plot_dir / "student_t_1d.png")
    mixture = [line for line in ax.get_lines() if line.get_label() == "mixture"][0]
    grid, total = mixture.get_data()
    np.testing.assert_allclose(total, np.exp(model_1d.score_samples(grid[:, None])), rtol=1e-9)
    figure = plotting.new_figure()
    ax = plotting.plot_density_contours(model, X, figure.add_subplot(), levels=(0.5,))
    contour = next(c for c in ax.get_children() if hasattr(c, "levels"))
    assert contour.levels[0] == pytest.approx(np.median(np.exp(model.score_samples(X))),
                                              rel=1e-9)


# -- Bayesian -----------------------------------------------------------------------------

def test_effective_weights_and_occupied_ellipses():
    X, model, figures = _figures("BayesianGaussianMixture")
    occupied = int((model.weights_ >= 0.01).sum())
    assert 1 <= occupied < len(model.weights_)
    ax = figures["Weights of the components"].axes[0]
    np.testing.assert_allclose([bar.get_height() for bar in ax.patches], model.weights_)
    greyed = [bar for bar in ax.patches if matplotlib.colors.to_hex(bar.get_facecolor())
              == "#bfbfbf"]
    assert len(greyed) == len(model.weights_) - occupied
    scatter = figures[f"{occupied} occupied component(s): 1- and 2-sigma ellipses"].axes[0]
    assert len(scatter.patches) == 2 * occupied
    # Every point is drawn, in the colour of its most probable occupied component.
    assert sum(len(c.get_offsets()) for c in scatter.collections) == len(X)


# -- factor models ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["FactorAnalysis", "PPCA"])
def test_loadings_heatmap_holds_the_loadings(name):
    _, model, figures = _figures(name)
    figure = figures["Loadings and noise variances"]
    heatmap = figure.axes[0]
    np.testing.assert_allclose(heatmap.images[0].get_array(), model.components_.T)
    assert [t.get_text() for t in heatmap.get_yticklabels()] == load_iris().feature_names
    noise = figure.axes[2]
    np.testing.assert_allclose([bar.get_width() for bar in noise.patches],
                               np.broadcast_to(model.noise_variance_, (4,)))


def test_ppca_explained_variance_is_pca():
    """PPCA's factor shares + sigma^2 / tr(S) are scikit-learn PCA's explained-variance ratios."""
    from sklearn.decomposition import PCA

    X, model, figures = _figures("PPCA")
    ax = figures["Variance explained per factor"].axes[0]
    shares = np.array([bar.get_height() for bar in ax.patches])
    assert shares.sum() == pytest.approx(1.0)
    total = np.var(X, axis=0).sum()
    pca = PCA(2).fit(X)
    np.testing.assert_allclose(shares[:2] + model.noise_variance_ / total,
                               pca.explained_variance_ratio_, rtol=1e-5)


def test_mixture_of_factor_analyzers_covariances():
    """W W^T + Psi is the model: the Gaussian mixture of those has its density."""
    from scipy.stats import multivariate_normal

    X, model, figures = _figures("MixtureOfFactorAnalyzers")
    covariances = plotting.factor_covariances(model)
    density = sum(w * multivariate_normal(m, c).pdf(X)
                  for w, m, c in zip(model.weights_, model.means_, covariances))
    np.testing.assert_allclose(np.log(density), model.score_samples(X), rtol=1e-9)
    loadings = figures["Loadings and noise variances"]
    np.testing.assert_allclose(loadings.axes[0].images[0].get_array(), model.loadings_[0])
    np.testing.assert_allclose(loadings.axes[1].images[0].get_array(), model.loadings_[1])
    np.testing.assert_allclose(loadings.axes[3].images[0].get_array(), model.noise_variance_.T)
    pairs = figures["2-component mixture: pairs plot with ellipses of W W^T + Psi"]
    assert len(pairs.axes) == 16 and len(pairs.axes[1].patches) == 4
    # The (0, 1) panel's 1-sigma ellipse of component 0 is that of W W^T + Psi.
    ellipse = pairs.axes[4].patches[0]  # row 1, column 0: dims (0, 1)
    eigenvalues = np.linalg.eigvalsh(covariances[0][np.ix_([0, 1], [0, 1])])
    assert sorted([ellipse.width, ellipse.height]) == pytest.approx(2 * np.sqrt(eigenvalues))


# -- k-means ------------------------------------------------------------------------------

def test_kmeans_colours_are_the_labels():
    X, model, figures = _figures("KMeans")
    figure = figures["KMeans: 3 clusters and their centres"]
    labels = model.predict(X)
    for ax, dims in zip(figure.axes, [(0, 1), (2, 3)]):
        *clusters, centres = ax.collections
        for k, points in enumerate(clusters):
            np.testing.assert_allclose(points.get_offsets(), X[labels == k][:, dims])
            assert matplotlib.colors.to_hex(points.get_facecolor()[0]) == \
                matplotlib.colors.to_hex(f"C{k}")
        np.testing.assert_allclose(centres.get_offsets(), model.cluster_centers_[:, dims])
    assert figure.axes[0].get_xlabel() == "sepal length (cm)"


# -- discrete mixtures, HMM emissions ------------------------------------------------------

def test_probability_heatmaps_hold_the_parameters():
    _, bernoulli, figures = _figures("BernoulliMixture")
    ax = figures["Probabilities of every component"].axes[0]
    np.testing.assert_allclose(ax.images[0].get_array(), bernoulli.probabilities_)
    printed = [float(t.get_text()) for t in ax.texts]
    np.testing.assert_allclose(printed, bernoulli.probabilities_.ravel(), rtol=0, atol=0.0051)  # 2 digits

    _, categorical, figures = _figures("CategoricalMixture")
    ax = figures["Probabilities of every component"].axes[0]
    expected = categorical.probabilities_.reshape(2, -1)  # 4 features x 3 levels each
    np.testing.assert_allclose(ax.images[0].get_array(), expected)
    assert ax.child_axes[0].get_xticklabels()[3].get_text() == "feature 3"

    _, hmm, figures = _figures("CategoricalHMM")
    ax = figures["Emission probabilities"].axes[0]
    np.testing.assert_allclose(ax.images[0].get_array(), hmm.emissionprob_)


# -- Poisson ------------------------------------------------------------------------------

def test_poisson_pmf_is_the_models(plot_dir):
    from scipy.stats import poisson

    X, model, figures = _figures("PoissonMixture")
    ax = figures["The counts and the fitted mixture's pmf"].axes[0]
    mixture = [line for line in ax.get_lines() if line.get_label() == "mixture"][0]
    counts, pmf = mixture.get_data()
    np.testing.assert_allclose(pmf, np.exp(model.score_samples(counts[:, None])), rtol=1e-9)
    by_hand = sum(w * poisson.pmf(counts, r) for w, r in zip(model.weights_, model.rates_[:, 0]))
    np.testing.assert_allclose(pmf, by_hand, rtol=1e-9)
    frequency = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(frequency, np.bincount(X[:, 0]) / len(X))

    two = np.random.default_rng(0).poisson([[1.0, 6.0, 3.0]], size=(200, 3))
    two[:100] = np.random.default_rng(1).poisson([[8.0, 1.0, 3.0]], size=(100, 3))
    model = emkit.PoissonMixture(2, n_init=1, random_state=0).fit(two)
    figures = dict(plotting.model_figures(model, two, feature_names=["a", "b", "c"]))
    ax = figures["Poisson rates of every component"].axes[0]
    for k, bars in enumerate(ax.containers):
        np.testing.assert_allclose([bar.get_height() for bar in bars], model.rates_[k])
    check_figure(figures["Poisson rates of every component"], plot_dir / "poisson_rates.png")


# -- experts ------------------------------------------------------------------------------

def test_gate_is_the_softmax_of_the_gating():
    X, model, figures = _figures("MixtureOfExperts")
    ax = figures["The gate: P(component | x)"].axes[0]
    lines = ax.get_lines()
    grid = lines[0].get_xdata()
    scores = grid[:, None] * model.gating_coef_[:, 0] + model.gating_intercept_
    gate = np.exp(scores - scores.max(axis=1, keepdims=True))
    gate /= gate.sum(axis=1, keepdims=True)
    for k, line in enumerate(lines):
        np.testing.assert_allclose(line.get_ydata(), gate[:, k], rtol=1e-9, atol=1e-12)
    # The two experts take over from each other along x.
    assert gate[0].argmax() != gate[-1].argmax()
    with pytest.raises(ValueError, match="MixtureOfExperts"):
        x, y = _regression_data()
        plotting.plot_gating(emkit.RegressionMixture(2, n_init=1).fit(x, y), x)


def test_kmeans_one_feature_and_three(plot_dir):
    x = load_old_faithful().data[:, :1]
    model = emkit.KMeans(2, random_state=0).fit(x)
    (title, figure), _ = plotting.model_figures(model, x, feature_names=["eruptions"])
    check_figure(figure, plot_dir / "kmeans_1d.png")
    ax = figure.axes[0]
    labels = model.predict(x)
    # The stacked histogram holds every cluster's points; a line at every centre.
    heights = np.array([[bar.get_height() for bar in bars] for bars in ax.containers])
    np.testing.assert_array_equal(heights.sum(axis=1), np.bincount(labels))
    centres = [line.get_xdata()[0] for line in ax.get_lines()]
    np.testing.assert_allclose(centres, model.cluster_centers_[:, 0])
    X3 = load_iris().data[:, :3]
    model = emkit.KMeans(3, random_state=0).fit(X3)
    (_, figure), _ = plotting.model_figures(model, X3)
    assert [(ax.get_xlabel(), ax.get_ylabel()) for ax in figure.axes] == [
        ("feature 0", "feature 1"), ("feature 1", "feature 2")]


def test_model_figures_refuses_an_unfitted_model():
    with pytest.raises(ValueError, match="not fitted"):
        plotting.model_figures(emkit.GaussianMixture(2), np.zeros((5, 2)))
