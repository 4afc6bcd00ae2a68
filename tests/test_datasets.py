"""Tests for emkit.datasets: shapes, dtypes, known values and packaging.

Known values are read off the source files by eye (first/last rows) or
recomputed here from the raw text, independently of the loaders' parsers.
"""

import fnmatch
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from emkit.datasets import load_iris, load_nile, load_old_faithful, load_reuters

DATA = resources.files("emkit.datasets").joinpath("data")
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


@pytest.fixture(scope="module")
def reuters():
    return load_reuters()


def test_old_faithful():
    bunch = load_old_faithful()
    assert bunch.data.shape == (272, 2)
    assert bunch.data.dtype == np.float64
    assert bunch.feature_names == ["eruptions", "waiting"]
    np.testing.assert_array_equal(bunch.data[0], [3.6, 79.0])
    np.testing.assert_array_equal(bunch.data[-1], [4.467, 74.0])
    assert "Azzalini" in bunch.DESCR
    assert "frame" not in bunch


def test_iris_wraps_sklearn():
    from sklearn import datasets

    bunch = load_iris()
    reference = datasets.load_iris()
    assert bunch.data.shape == (150, 4)
    assert bunch.data.dtype == np.float64
    np.testing.assert_array_equal(bunch.data, reference.data)
    np.testing.assert_array_equal(bunch.target, reference.target)
    assert list(bunch.target_names) == ["setosa", "versicolor", "virginica"]
    assert bunch.feature_names == list(reference.feature_names)
    assert np.bincount(bunch.target).tolist() == [50, 50, 50]


def test_nile():
    bunch = load_nile()
    assert bunch.data.shape == (100,)
    assert bunch.data.dtype == np.float64
    assert bunch.years.shape == (100,)
    assert np.issubdtype(bunch.years.dtype, np.integer)
    np.testing.assert_array_equal(bunch.years, np.arange(1871, 1971))
    assert bunch.data[0] == 1120.0
    assert bunch.data[-1] == 740.0
    assert bunch.feature_names == ["volume"]
    # The level drops after 1898, the change a 2-state HMM finds.
    before, after = bunch.data[bunch.years < 1898], bunch.data[bunch.years >= 1899]
    assert before.mean() - after.mean() > 200


def test_reuters_shape_and_types(reuters):
    assert sparse.issparse(reuters.data)
    assert reuters.data.format == "csr"
    assert reuters.data.shape == (395, 4258)
    assert reuters.data.dtype == np.float64
    assert reuters.data.nnz == 60114
    assert len(reuters.vocabulary) == 4258
    assert len(reuters.titles) == 395
    assert reuters.vocabulary[:3] == ["church", "pope", "years"]
    assert reuters.titles[0].startswith("UK: Prince Charles spearheads")
    assert all(isinstance(title, str) and title for title in reuters.titles)


def test_reuters_matches_raw_ldac(reuters):
    """Row nnz equals the leading distinct-term count; counts match the raw text."""
    lines = [line.split() for line in
             DATA.joinpath("reuters", "reuters.ldac").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    assert len(lines) == 395
    distinct = np.array([int(fields[0]) for fields in lines])
    np.testing.assert_array_equal(np.diff(reuters.data.indptr), distinct)
    totals = [sum(int(field.split(":")[1]) for field in fields[1:]) for fields in lines]
    np.testing.assert_array_equal(np.asarray(reuters.data.sum(axis=1)).ravel(), totals)
    # Spot-check one entry: document 0 uses word 12 five times (first line "... 12:5 ...").
    assert "12:5" in lines[0]
    assert reuters.data[0, 12] == 5.0
    assert reuters.data.data.min() >= 1.0


def test_data_files_found_via_importlib_resources():
    for name in ("old_faithful.csv", "nile.csv"):
        assert DATA.joinpath(name).is_file()
    for name in ("reuters.ldac", "reuters.tokens", "reuters.titles"):
        assert DATA.joinpath("reuters", name).is_file()


def test_package_data_declared_for_every_file():
    """Every bundled file matches a pyproject package-data pattern, so wheels carry it."""
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    patterns = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["package-data"][
        "emkit.datasets"]
    root = Path(str(DATA)).parent
    files = [path.relative_to(root).as_posix() for path in root.joinpath("data").rglob("*")
             if path.is_file() and "__pycache__" not in path.parts]
    assert files
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name


def test_frames():
    pd = pytest.importorskip("pandas")
    faithful = load_old_faithful(as_frame=True)
    assert isinstance(faithful.frame, pd.DataFrame)
    assert list(faithful.frame.columns) == ["eruptions", "waiting"]
    np.testing.assert_array_equal(faithful.frame.to_numpy(), faithful.data)

    nile = load_nile(as_frame=True)
    assert list(nile.frame.columns) == ["year", "volume"]
    assert nile.frame.loc[0, "year"] == 1871 and nile.frame.loc[0, "volume"] == 1120.0

    iris = load_iris(as_frame=True)
    assert iris.frame.shape == (150, 5)
    assert isinstance(iris.data, np.ndarray)
    np.testing.assert_array_equal(iris.frame["target"].to_numpy(), iris.target)


def test_as_frame_without_pandas(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        load_old_faithful(as_frame=True)
    assert load_old_faithful().data.shape == (272, 2)


@pytest.mark.parametrize("loader", [load_old_faithful, load_iris, load_nile, load_reuters])
def test_docstrings_name_the_source(loader):
    assert "Source:" in loader.__doc__
