"""emkit.save / emkit.load: a safe, versioned format with exact round trips."""

import io
import json
import pickle
import warnings
import zipfile

import numpy as np
import pytest

import emkit
from emkit.datasets import load_old_faithful, load_reuters


def _faithful():
    return load_old_faithful().data


def _sequences():
    return np.random.default_rng(0).integers(0, 3, size=(120, 1))


CASES = {
    "GaussianMixture": lambda: (emkit.GaussianMixture(2, n_init=2, random_state=0), _faithful()),
    "GaussianMixture-VEV-prior": lambda: (emkit.GaussianMixture(
        2, covariance_type="VEV", prior="default", random_state=0, n_init=2), _faithful()),
    "PoissonMixture": lambda: (emkit.PoissonMixture(2, random_state=0, n_init=2),
                               np.round(_faithful())),
    "BernoulliMixture": lambda: (emkit.BernoulliMixture(2, random_state=0, n_init=2),
                                 (_faithful() > _faithful().mean(axis=0)).astype(float)),
    "CategoricalMixture": lambda: (emkit.CategoricalMixture(2, random_state=0, n_init=2),
                                   np.hstack([_sequences(), _sequences()[::-1]])),
    "BayesianGaussianMixture": lambda: (emkit.BayesianGaussianMixture(
        4, random_state=0, n_init=1), _faithful()),
    "StudentTMixture": lambda: (emkit.StudentTMixture(2, random_state=0, n_init=1),
                                _faithful()),
    "FactorAnalysis": lambda: (emkit.FactorAnalysis(1), _faithful()),
    "PPCA": lambda: (emkit.PPCA(1), _faithful()),
    "MixtureOfFactorAnalyzers": lambda: (emkit.MixtureOfFactorAnalyzers(
        2, n_factors=1, random_state=0), _faithful()),
    "KMeans": lambda: (emkit.KMeans(2, random_state=0), _faithful()),
    "GaussianHMM": lambda: (emkit.GaussianHMM(2, random_state=0), _faithful()),
    "GMMHMM": lambda: (emkit.GMMHMM(2, n_mix=2, random_state=0), _faithful()),
    "CategoricalHMM": lambda: (emkit.CategoricalHMM(2, random_state=0), _sequences()),
    "PoissonHMM": lambda: (emkit.PoissonHMM(2, random_state=0), np.round(_faithful())),
    "LatentDirichletAllocation": lambda: (emkit.LatentDirichletAllocation(
        3, max_iter=3, random_state=0), load_reuters().data[:100]),
}


def _fit(name):
    model, X = CASES[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    return model, X


def _scores(model, X):
    out = [model.score(X)]
    for method in ("predict_proba", "score_samples", "transform", "predict"):
        if hasattr(model, method):
            out.append(getattr(model, method)(X))
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_is_exact(name, tmp_path):
    model, X = _fit(name)
    path = tmp_path / "model.emkit"
    emkit.save(model, path)
    loaded = emkit.load(path)
    assert type(loaded) is type(model)
    assert repr(loaded.get_params()) == repr(model.get_params())
    for before, after in zip(_scores(model, X), _scores(loaded, X)):
        np.testing.assert_array_equal(np.asarray(after), np.asarray(before))
    for key, value in vars(model).items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(loaded, key), value)
            assert getattr(loaded, key).dtype == value.dtype


def test_save_method_and_unfitted_models(tmp_path):
    model, X = _fit("GaussianHMM")
    model.save(tmp_path / "hmm.emkit")
    np.testing.assert_array_equal(emkit.load(tmp_path / "hmm.emkit").predict(X), model.predict(X))
    emkit.save(emkit.GaussianMixture(4, covariance_type="diag"), tmp_path / "new.emkit")
    fresh = emkit.load(tmp_path / "new.emkit")
    assert fresh.n_components == 4 and not hasattr(fresh, "means_")


def test_pickle_still_works():
    model, X = _fit("GaussianMixture")
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).score_samples(X),
                                  model.score_samples(X))


def _rewrite(path, edit_manifest=None, edit_arrays=None):
    archive = dict(np.load(path, allow_pickle=False))
    manifest = json.loads(archive.pop("__manifest__").tobytes())
    if edit_manifest:
        edit_manifest(manifest)
    if edit_arrays:
        edit_arrays(archive)
    buffer = io.BytesIO()
    np.savez(buffer, __manifest__=np.frombuffer(json.dumps(manifest).encode(), np.uint8),
             **archive)
    path.write_bytes(buffer.getvalue())


def test_tampered_arrays_are_refused(tmp_path):
    model, _ = _fit("GaussianMixture")
    path = tmp_path / "m.emkit"
    model.save(path)

    def nudge(arrays):
        key = sorted(arrays)[0]
        arrays[key] = arrays[key] + 1
    _rewrite(path, edit_arrays=nudge)
    with pytest.raises(ValueError, match="altered since it was saved"):
        emkit.load(path)


def test_newer_format_and_foreign_classes_are_refused(tmp_path):
    model, _ = _fit("PoissonMixture")
    path = tmp_path / "m.emkit"
    model.save(path)
    _rewrite(path, edit_manifest=lambda m: m.update(format_version=99))
    with pytest.raises(ValueError, match="format version 99, newer"):
        emkit.load(path)
    model.save(path)
    _rewrite(path, edit_manifest=lambda m: m.update({"class": "Popen"}))
    with pytest.raises(ValueError, match="not an emkit estimator"):
        emkit.load(path)
    model.save(path)

    def foreign_prior(manifest):
        manifest["params"]["prior"] = {"prior": "os.system", "state": {"dict": {}}}
    _rewrite(path, edit_manifest=foreign_prior)
    with pytest.raises(ValueError, match="unknown prior class"):
        emkit.load(path)


def test_pickled_payloads_never_run(tmp_path):
    # An object array (a pickle inside the zip) is refused by allow_pickle=False.
    path = tmp_path / "evil.emkit"
    model, _ = _fit("PoissonMixture")
    model.save(path)
    with zipfile.ZipFile(path, "a") as archive:
        buffer = io.BytesIO()
        np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
        archive.writestr("payload.npy", buffer.getvalue())
    with pytest.raises(ValueError, match="damaged or altered"):
        emkit.load(path)


@pytest.mark.parametrize("content, message", [
    (b"not a zip", "is not an .emkit file"),
    (None, "is not an .emkit file"),
])
def test_other_files_are_named(tmp_path, content, message):
    path = tmp_path / "x.emkit"
    if content is None:
        np.save(tmp_path / "x.npy", np.zeros(3))
        path = tmp_path / "x.npy"
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        emkit.load(path)
    with pytest.raises(FileNotFoundError):
        emkit.load(tmp_path / "missing.emkit")


def test_only_emkit_estimators_save(tmp_path):
    from sklearn.mixture import GaussianMixture

    with pytest.raises(TypeError, match="writes emkit estimators"):
        emkit.save(GaussianMixture(), tmp_path / "sk.emkit")


def test_regression_models_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (300, 1))
    y = np.where(rng.random(300) < 0.5, 1.5 * X[:, 0] + 1, -X[:, 0]) + 0.2 * rng.normal(size=300)
    for model in (emkit.RegressionMixture(2, random_state=0),
                  emkit.MixtureOfExperts(2, random_state=0, gating_alpha=0.1)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
        model.save(tmp_path / "r.emkit")
        loaded = emkit.load(tmp_path / "r.emkit")
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
        np.testing.assert_array_equal(loaded.predict_proba(X, y), model.predict_proba(X, y))
        assert loaded.score(X, y) == model.score(X, y)
