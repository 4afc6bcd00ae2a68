"""emkit.onnx_export.export_onnx: the ONNX graph scores as the model does.

References: emkit's own predict / predict_proba / score_samples (what the
graph must reproduce), and, independently of emkit's scoring code, the
mixture density computed with scipy.stats.multivariate_normal from
``covariances_`` (never the precision factors the graph is built from).
"""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from emkit import BayesianGaussianMixture, GaussianMixture  # noqa: E402
from emkit._validation import InvalidParameterError  # noqa: E402
from emkit.onnx_export import export_onnx, scoring_layout  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

SKLEARN_TYPES = ("full", "tied", "diag", "spherical")
MCLUST_TYPES = ("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV",
                "VEV", "EVV", "VVV")
MULTIVARIATE_TYPES = SKLEARN_TYPES + MCLUST_TYPES
# Data away from the origin: a graph that expanded the quadratic forms about
# zero would lose its float32 digits here (see the module docstring).
OFFSET = 1000.0


def _blobs(rng, n, offset=OFFSET):
    X = rng.normal(size=(n, 3)) @ np.array([[1.0, 0.5, 0.0], [0.0, 2.0, 0.3], [0.0, 0.0, 0.5]])
    third = n // 3
    X[:third] += [3.0, -2.0, 1.0]
    X[third:2 * third] += [-3.0, 4.0, 0.0]
    return X + offset


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return _blobs(rng, 600), _blobs(rng, 1500)  # training, held-out


_MODELS = {}


def _fitted(covariance_type, X):
    if covariance_type not in _MODELS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence notes of a short fit
            _MODELS[covariance_type] = GaussianMixture(
                3, covariance_type=covariance_type, n_init=1, random_state=0).fit(X)
    return _MODELS[covariance_type]


def _run(model_proto, X):
    session = ort.InferenceSession(model_proto.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    return session.run(None, {"X": X})


def _full_covariances(model):
    cov = np.asarray(model.covariances_, dtype=np.float64)
    K, D = model.means_.shape
    if cov.ndim == 3:
        return cov
    if model.covariance_type == "tied":
        return np.broadcast_to(cov, (K, D, D))
    if model.covariance_type == "diag":
        return cov[:, :, None] * np.eye(D)
    return cov[:, None, None] * np.eye(D)


def _scipy_joint(model, X):
    """log w_k + log N(x | mu_k, Sigma_k) from covariances_, with scipy."""
    return np.column_stack([
        np.log(w) + multivariate_normal(mean, cov).logpdf(X)
        for w, mean, cov in zip(model.weights_, model.means_, _full_covariances(model))])


def _check_float32(model, X):
    X32 = X.astype(np.float32)
    label, proba, score = _run(export_onnx(model), X32)
    assert label.dtype == np.int64 and proba.dtype == score.dtype == np.float32
    assert label.shape == score.shape == (X.shape[0],)
    assert proba.shape == (X.shape[0], model.n_components)
    # Both sides see the same (float32-rounded) samples.
    X_seen = X32.astype(np.float64)
    expected = model.predict_proba(X_seen)
    np.testing.assert_allclose(proba, expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(score, model.score_samples(X_seen), rtol=1e-5)
    # Labels agree except where float32 rounding can decide a near tie.
    top_two = np.sort(expected, axis=1)[:, -2:]
    clear = top_two[:, 1] - top_two[:, 0] > 1e-4
    assert clear.mean() > 0.9
    np.testing.assert_array_equal(label[clear], model.predict(X_seen)[clear])


def _check_float64(model, X):
    label, proba, score = _run(export_onnx(model, dtype=np.float64), X)
    assert proba.dtype == score.dtype == np.float64
    joint = _scipy_joint(model, X)
    expected_score = logsumexp(joint, axis=1)
    np.testing.assert_allclose(score, expected_score, rtol=1e-10)
    np.testing.assert_allclose(proba, np.exp(joint - expected_score[:, None]), rtol=0,
                               atol=1e-10)
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=1e-12)
    np.testing.assert_allclose(score, model.score_samples(X), rtol=1e-12)
    np.testing.assert_array_equal(label, model.predict(X))


@pytest.mark.parametrize("covariance_type", MULTIVARIATE_TYPES)
def test_float32_graph_matches_emkit(covariance_type, data):
    X_train, X_test = data
    _check_float32(_fitted(covariance_type, X_train), X_test)


@pytest.mark.parametrize("covariance_type", MULTIVARIATE_TYPES)
def test_float64_graph_matches_scipy_and_emkit(covariance_type, data):
    X_train, X_test = data
    _check_float64(_fitted(covariance_type, X_train), X_test)


@pytest.mark.parametrize("covariance_type", ["E", "V"])
def test_univariate_structures(covariance_type):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 1)) * [[1.0]] + 50.0
    X[:150] += 4.0
    X[150:250] *= 3.0
    model = GaussianMixture(2, covariance_type=covariance_type, n_init=1,
                            random_state=0).fit(X)
    X_test = rng.normal(size=(500, 1)) * 3.0 + 52.0
    assert scoring_layout(model)[0] == "spherical"
    _check_float32(model, X_test)
    _check_float64(model, X_test)


@pytest.mark.parametrize("covariance_type, layout", [
    ("EII", "spherical"), ("VII", "spherical"), ("EEI", "diag"), ("VVI", "diag"),
    ("EEE", "tied"), ("VEE", "full"), ("VVV", "full"), ("tied", "tied")])
def test_mclust_structures_use_the_cheapest_exact_layout(covariance_type, layout, data):
    assert scoring_layout(_fitted(covariance_type, data[0]))[0] == layout


def test_zero_weight_component():
    # Known parameters: the graph's -inf log-weight must give probability 0, not NaN.
    model = GaussianMixture.from_params([0.5, 0.5, 0.0], [[0.0, 0.0], [3.0, 3.0], [1.0, 1.0]],
                                        [1.0, 2.0, 1.0], covariance_type="spherical")
    X = np.random.default_rng(2).normal(size=(50, 2)) * 2.0
    label, proba, score = _run(export_onnx(model, dtype=np.float64), X)
    assert np.all(proba[:, 2] == 0.0)
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(score, model.score_samples(X), rtol=1e-12)
    np.testing.assert_array_equal(label, model.predict(X))


def test_feature_names_are_kept(data):
    pd = pytest.importorskip("pandas")
    X_train, X_test = data
    columns = ["height", "width", "depth"]
    model = GaussianMixture(3, n_init=1, random_state=0).fit(
        pd.DataFrame(X_train, columns=columns))
    onx = export_onnx(model, dtype=np.float64)
    metadata = {prop.key: prop.value for prop in onx.metadata_props}
    assert json.loads(metadata["feature_names_in"]) == columns
    assert "height, width, depth" in onx.graph.input[0].doc_string
    frame = pd.DataFrame(X_test, columns=columns)
    label, proba, score = _run(onx, frame.to_numpy())
    np.testing.assert_allclose(proba, model.predict_proba(frame), atol=1e-12)
    np.testing.assert_allclose(score, model.score_samples(frame), rtol=1e-12)
    np.testing.assert_array_equal(label, model.predict(frame))


def test_wrong_width_and_dtype_are_refused_by_the_runtime(data):
    onx = export_onnx(_fitted("full", data[0]))
    with pytest.raises(Exception, match="invalid dimensions"):
        _run(onx, np.zeros((4, 2), dtype=np.float32))
    with pytest.raises(Exception, match="Unexpected input data type"):
        _run(onx, np.zeros((4, 3), dtype=np.float64))


def test_non_finite_rows_get_label_minus_one(data):
    X = data[1][:4].copy()
    X[0, 1], X[1, 2] = np.nan, np.inf
    for dtype in (np.float32, np.float64):
        label, proba, score = _run(export_onnx(_fitted("diag", data[0]), dtype=dtype),
                                   X.astype(dtype))
        np.testing.assert_array_equal(label[:2], [-1, -1])
        assert np.isnan(proba[:2]).all() and not np.isfinite(score[:2]).any()
        assert np.all(label[2:] >= 0) and np.isfinite(score[2:]).all()


def test_marginalizing_model_warns_that_the_graph_does_not(data):
    model = GaussianMixture(2, n_init=1, random_state=0, missing="marginalize").fit(data[0])
    with pytest.warns(UserWarning, match="does not"):
        export_onnx(model)


def test_writes_the_model_to_path(tmp_path, data):
    model = _fitted("tied", data[0])
    path = tmp_path / "gmm.onnx"
    onx = export_onnx(model, path, dtype=np.float64)
    assert onnx.load(os.fspath(path)).SerializeToString() == onx.SerializeToString()
    label, proba, score = _run(onnx.load(str(path)), data[1])
    np.testing.assert_allclose(score, model.score_samples(data[1]), rtol=1e-12)


def test_refuses_unfitted_and_other_estimators(data):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        export_onnx(GaussianMixture(2))
    from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

    for other in (SklearnGaussianMixture(2).fit(data[0]),
                  BayesianGaussianMixture(2, n_init=1, random_state=0).fit(data[0])):
        with pytest.raises(TypeError, match="emkit.GaussianMixture only"):
            export_onnx(other)


@pytest.mark.parametrize("dtype", [np.float16, "int64", "nonsense", None])
def test_refuses_other_dtypes(dtype, data):
    with pytest.raises(InvalidParameterError, match="dtype must be np.float32 or np.float64"):
        export_onnx(_fitted("full", data[0]), dtype=dtype)


def test_refuses_a_path_that_is_not_a_file_name(data):
    with pytest.raises(InvalidParameterError, match="path must be a file name"):
        export_onnx(_fitted("full", data[0]), path=3)


def test_missing_onnx_names_the_extra(monkeypatch, data):
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` fail
    with pytest.raises(ImportError, match=r"pip install emkit\[onnx\]"):
        export_onnx(_fitted("full", data[0]))


def test_import_emkit_does_not_import_onnx():
    code = ("import sys, emkit, emkit.onnx_export; "
            "assert 'onnx' not in sys.modules and 'onnxruntime' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, env=os.environ.copy())
