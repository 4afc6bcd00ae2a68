"""plotting.model_figures and the plots of every estimator beyond the Gaussian mixture.

Every class emkit exports gets its figures here: a class added to emkit without
a fitted example below (and pictures in model_figures) fails
``test_every_exported_class_is_covered``. Every PNG is written under pytest's
tmp dir (folder ``model_plots``) and checked by test_plotting's ``check_figure``
(titles, axis labels, no overlapping or clipped text).
"""

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


# name -> (data, fitted model, keyword arguments of model_figures)
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
        return X2, emkit.StudentTMixture(2, n_init=1, random_state=0).fit(X2), {}
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
        x, y = _regression_data()
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
