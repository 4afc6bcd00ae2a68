"""Tests for the ``emkit`` command line (emkit.cli) and emkit.plotting."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import emkit
from emkit import GaussianMixture
from emkit.cli import main, read_numeric_csv, subcommand_parsers

SRC = str(Path(emkit.__file__).resolve().parents[1])


def _two_blobs(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal([0.0, 0.0], 0.5, size=(n // 2, 2)),
                      rng.normal([5.0, 5.0], 0.5, size=(n - n // 2, 2))])


def _write_csv(path, rows, header=None):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def _read_output(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], np.array(rows[1:], dtype=float)


def _read_output_rows(path):
    """Header and rows as strings (for outputs with a text column)."""
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


# --------------------------------------------------------------------- demo
def test_demo_prints_bic_and_writes_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "plots"
    assert main(["demo", "--output-dir", str(out), "--seed", "0", "--n-init", "2"]) == 0
    printed = capsys.readouterr().out
    assert "BIC" in printed and "lowest BIC" in printed
    assert "Chosen: K = 2" in printed  # full covariance on Old Faithful: 2 by BIC
    assert "converged: yes" in printed
    assert "eruptions" in printed and "waiting" in printed
    png = out / "faithful_clusters.png"
    assert str(png) in printed
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_without_matplotlib(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["demo", "--output-dir", str(tmp_path), "--n-init", "1"]) == 0
    printed = capsys.readouterr().out
    assert "matplotlib is not installed" in printed
    assert "BIC" in printed
    assert not (tmp_path / "faithful_clusters.png").exists()


# ---------------------------------------------------------------------- fit
@pytest.mark.parametrize("header", [["a", "b"], None])
def test_fit_writes_labels_and_probabilities(tmp_path, capsys, header):
    X = _two_blobs()
    data = _write_csv(tmp_path / "data.csv", X.tolist(), header=header)
    output = tmp_path / "labels.csv"
    rc = main(["fit", str(data), "-k", "2", "--n-init", "2", "--seed", "1",
               "--output", str(output)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "BIC" in printed and "log-likelihood" in printed
    names = header or ["x0", "x1"]
    assert all(name in printed for name in names)
    columns, table = _read_output(output)
    assert columns == ["label", "prob_0", "prob_1"]
    assert table.shape == (40, 3)
    np.testing.assert_allclose(table[:, 1:].sum(axis=1), 1.0, atol=1e-8)
    np.testing.assert_array_equal(table[:, 0], table[:, 1:].argmax(axis=1))
    # The two blobs are separated: each gets one label.
    labels = table[:, 0].astype(int)
    assert len(set(labels[:20])) == 1 and len(set(labels[20:])) == 1
    assert labels[0] != labels[-1]


@pytest.mark.parametrize("covariance_type", ["tied", "diag", "spherical"])
def test_fit_covariance_types_and_tab_delimiter(tmp_path, capsys, covariance_type):
    data = tmp_path / "data.tsv"
    data.write_text("\n".join("\t".join(map(str, row)) for row in _two_blobs(30)) + "\n")
    rc = main(["fit", str(data), "-k", "2", "--n-init", "1", "--delimiter", "tab",
               "--covariance-type", covariance_type])
    assert rc == 0
    assert f"Covariances ({covariance_type})" in capsys.readouterr().out


def test_header_detection_and_overrides(tmp_path):
    numeric = _write_csv(tmp_path / "numeric.csv", [[1, 2], [3, 4], [5, 6]])
    X, names = read_numeric_csv(numeric)
    assert X.shape == (3, 2) and names == ["x0", "x1"]
    X, names = read_numeric_csv(numeric, header=True)
    assert X.shape == (2, 2) and names == ["1", "2"]

    labelled = _write_csv(tmp_path / "labelled.csv", [[1, 2], [3, 4]], header=["u", "v"])
    X, names = read_numeric_csv(labelled)
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert names == ["u", "v"]


def test_read_numeric_csv_values_round_trip(tmp_path):
    """Every value of a generated file comes back exactly (repr round-trips a float),
    through blank lines, padding, quoting, exponents, and rows whose sum overflows."""
    rng = np.random.RandomState(0)
    expected = rng.randn(2000, 4) * 10.0 ** rng.randint(-300, 300, size=(2000, 4))
    expected[5] = [1e308, 1e308, -0.0, 5e-324]  # finite, although the row's sum is not
    lines = ["u, v ,w,x"]
    for i, row in enumerate(expected):
        cells = [repr(float(value)) for value in row]
        if i % 7 == 0:
            cells[1] = f'"{cells[1]}"'
        if i % 11 == 0:
            cells[2] = f"  {cells[2]} "
        lines.append(",".join(cells))
        if i % 500 == 0:
            lines.append("")
    path = tmp_path / "generated.csv"
    path.write_text("\n".join(lines) + "\n")
    X, names = read_numeric_csv(path)
    assert names == ["u", "v", "w", "x"]
    assert X.dtype == np.float64 and X.flags.c_contiguous and X.flags.writeable
    np.testing.assert_array_equal(X, expected)
    assert np.signbit(X[5, 2])


BAD_FILES = {
    "missing": (None, "no such file"),
    "empty": ("", "the file is empty"),
    "blank lines only": ("\n\n", "the file is empty"),
    "header only": ("a,b\n", "no data rows"),
    "non-numeric": ("a,b\n1,2\n3,oops\n5,6\n", "line 3, column 2 ('b'): 'oops' is not a number"),
    "ragged": ("1,2\n3,4,5\n6,7\n", "line 2 has 3 field(s)"),
    "too few rows": ("a,b\n1,2\n3,4\n", "2 data row(s) but -k 3 components"),
    "nan": ("1,2\n3,nan\n5,6\n7,8\n", "line 2, column 2 ('x1'): missing value"),
    "empty cell": ("1,2\n3,\n5,6\n7,8\n", "impute it or remove the row"),
    "inf": ("1,2\n3,4\n-inf,6\n7,8\n", "line 3, column 1 ('x0'): infinite value"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_exit_2_with_one_line(tmp_path, capsys, case):
    content, fragment = BAD_FILES[case]
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_text(content)
    rc = main(["fit", str(path), "-k", "3" if case == "too few rows" else "2"])
    assert rc == 2
    captured = capsys.readouterr()
    assert fragment in captured.err
    assert captured.err.startswith("emkit: error: ")
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err


def test_no_header_flag_reports_the_header_cell(tmp_path, capsys):
    path = _write_csv(tmp_path / "data.csv", [[1, 2], [3, 4]], header=["a", "b"])
    assert main(["fit", str(path), "-k", "1", "--no-header"]) == 2
    assert "line 1, column 1" in capsys.readouterr().err


def test_usage_errors(capsys):
    assert main([]) == 2
    assert main(["fit", "x.csv"]) == 2  # -k is required
    assert main(["fit", "x.csv", "-k", "0"]) == 2
    assert main(["--version"]) == 0
    assert emkit.__version__ in capsys.readouterr().out


def test_python_m_emkit_help():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [SRC, *filter(None, [os.environ.get("PYTHONPATH")])]))
    result = subprocess.run([sys.executable, "-m", "emkit", "--help"], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "demo" in result.stdout and "fit" in result.stdout


# ----------------------------------------------------------------- plotting
COVARIANCES = {
    "full": np.array([[[2.0, 0.6], [0.6, 1.0]], [[0.5, -0.2], [-0.2, 0.3]]]),
    "tied": np.array([[2.0, 0.6], [0.6, 1.0]]),
    "diag": np.array([[4.0, 1.0], [0.25, 1.0]]),
    "spherical": np.array([1.0, 0.25]),
}


@pytest.mark.parametrize("covariance_type", list(COVARIANCES))
def test_plot_mixture_2d_ellipses(covariance_type):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure
    from matplotlib.patches import Ellipse

    from emkit.plotting import plot_mixture_2d

    covariances = COVARIANCES[covariance_type]
    model = GaussianMixture.from_params([0.5, 0.5], [[0.0, 0.0], [5.0, 5.0]], covariances,
                                        covariance_type=covariance_type)
    ax = Figure().add_subplot()
    assert plot_mixture_2d(model, _two_blobs(), ax=ax) is ax
    ellipses = [patch for patch in ax.patches if isinstance(patch, Ellipse)]
    assert len(ellipses) == 4  # 1- and 2-sigma for each of 2 components

    full = {"full": lambda c: c, "tied": lambda c: np.stack([c, c]),
            "diag": lambda c: np.stack([np.diag(row) for row in c]),
            "spherical": lambda c: c[:, None, None] * np.eye(2)}[covariance_type](covariances)
    for k in range(2):
        axes = np.sort(2.0 * np.sqrt(np.linalg.eigvalsh(full[k])))
        for n_std, ellipse in zip((1, 2), ellipses[2 * k:2 * k + 2]):
            np.testing.assert_allclose(np.sort([ellipse.width, ellipse.height]), n_std * axes)
            np.testing.assert_allclose(ellipse.center, model.means_[k])
            # The major axis points along the leading eigenvector.
            values, vectors = np.linalg.eigh(full[k])
            angle = np.radians(ellipse.angle)
            direction = np.array([np.cos(angle), np.sin(angle)])
            if values[1] > values[0] + 1e-12:
                assert abs(direction @ vectors[:, 1]) == pytest.approx(1.0)


# ------------------------------------------------- fit -o, predict, score, sample
def test_fit_range_save_then_predict_score_sample(tmp_path, capsys):
    X = emkit.datasets.load_old_faithful().data
    data = _write_csv(tmp_path / "faithful.csv", X.tolist(), header=["eruptions", "waiting"])
    saved = tmp_path / "best.emkit"
    assert main(["fit", str(data), "-k", "1:3", "-o", str(saved), "--quiet", "--n-init",
                 "3"]) == 0
    printed = capsys.readouterr().out
    assert "Chosen by BIC: K = " in printed and str(saved) in printed
    model = emkit.load(saved)
    # The chosen K is the BIC minimum over the range (checked here independently).
    bics = {k: GaussianMixture(k, random_state=0, n_init=3).fit(X).bic(X) for k in (1, 2, 3)}
    assert model.n_components == min(bics, key=bics.get)

    labels = tmp_path / "labels.csv"
    assert main(["predict", str(saved), str(data), "-o", str(labels)]) == 0
    header, values = _read_output(labels)
    np.testing.assert_array_equal(values[:, 0], model.predict(X))
    np.testing.assert_allclose(values[:, 1:], model.predict_proba(X), rtol=1e-9)

    assert main(["score", str(saved), str(data)]) == 0
    printed = capsys.readouterr().out
    assert f"{model.bic(X):.2f}" in printed

    sampled = tmp_path / "samples.csv"
    assert main(["sample", str(saved), "-n", "7", "-o", str(sampled), "--seed", "3"]) == 0
    header, values = _read_output(sampled)
    assert header[-1] == "component" and values.shape == (7, 3)
    np.testing.assert_allclose(values[:, :2], model.sample(7, random_state=3)[0], rtol=1e-9)


def test_columns_npy_models_and_sequences(tmp_path, capsys):
    X = emkit.datasets.load_old_faithful().data
    np.save(tmp_path / "faithful.npy", X)
    assert main(["fit", str(tmp_path / "faithful.npy"), "-k", "2", "--columns", "1",
                 "--quiet", "--n-init", "2"]) == 0
    assert "1 feature(s)" in capsys.readouterr().out
    counts = np.round(X)
    np.save(tmp_path / "counts.npy", counts)
    assert main(["fit", str(tmp_path / "counts.npy"), "-k", "2", "--model", "poisson",
                 "--quiet"]) == 0
    assert "rates_" in capsys.readouterr().out
    ids = np.repeat([1, 2], [136, 136])[:, None]
    _write_csv(tmp_path / "series.csv", np.hstack([ids, X]).tolist(), header=["id", "a", "b"])
    assert main(["fit", str(tmp_path / "series.csv"), "-k", "2", "--model", "gaussian-hmm",
                 "--sequence-column", "id", "--quiet"]) == 0
    assert "in 2 sequence(s)" in capsys.readouterr().out


@pytest.mark.parametrize("argv, fragment", [
    (["fit", "{data}", "-k", "2", "--columns", "nope"], "no column 'nope'"),
    (["fit", "{data}", "-k", "2", "--model", "gaussian-hmm", "--sequence-column", "zz"],
     "no column 'zz' for --sequence-column"),
    (["predict", "{data}", "{data}"], "is not an .emkit file"),
    (["predict", "{missing}", "{data}"], "no such file"),
    (["fit", "{missing}", "-k", "2"], "no such file"),
])
def test_new_commands_name_bad_input(tmp_path, capsys, argv, fragment):
    data = _write_csv(tmp_path / "d.csv", _two_blobs().tolist(), header=["a", "b"])
    argv = [a.format(data=data, missing=tmp_path / "missing.csv") for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


def test_unknown_model_is_a_usage_error(capsys):
    assert main(["fit", "x.csv", "-k", "2", "--model", "nonsense"]) == 2
    assert "unknown model 'nonsense'" in capsys.readouterr().err


# ------------------------------------------------------- regression models (--target)
def _two_lines(n=300, seed=0):
    """x, an unused column, and y on one of two lines: y = 1.5 x + 1 or y = -x."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=n)
    line = rng.integers(2, size=n)
    y = np.where(line, 1.5 * x + 1.0, -x) + 0.2 * rng.standard_normal(n)
    return np.column_stack([x, rng.standard_normal(n), y])


def test_regression_fit_predict_score_with_target(tmp_path, capsys):
    table = _two_lines()
    data = _write_csv(tmp_path / "xy.csv", table.tolist(), header=["x", "noise", "y"])
    saved = tmp_path / "reg.emkit"
    assert main(["fit", str(data), "-k", "1:3", "--model", "regression", "--target", "y",
                 "--columns", "x", "--n-init", "3", "-o", str(saved), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Chosen by BIC: K = 2" in printed
    model = emkit.load(saved)
    assert type(model).__name__ == "RegressionMixture" and model.n_features_in_ == 1
    assert model.verbose == 0  # the command line's progress bar is not saved
    X, y = table[:, :1], table[:, 2]
    # The library fit from the same options, and the known lines.
    direct = emkit.RegressionMixture(2, n_init=3, random_state=0).fit(X, y)
    np.testing.assert_allclose(model.coef_, direct.coef_)
    order = np.argsort(model.coef_[:, 0])
    np.testing.assert_allclose(model.coef_[order, 0], [-1.0, 1.5], atol=0.05)
    np.testing.assert_allclose(model.intercept_[order], [0.0, 1.0], atol=0.05)

    out = tmp_path / "pred.csv"
    # The target by index (2) instead of by name; without it, the gate's probabilities.
    assert main(["predict", str(saved), str(data), "--columns", "x", "--target", "2",
                 "-o", str(out)]) == 0
    header, values = _read_output(out)
    assert header == ["prediction", "label", "prob_0", "prob_1"]
    np.testing.assert_allclose(values[:, 0], model.predict(X), rtol=1e-9)
    np.testing.assert_allclose(values[:, 2:], model.predict_proba(X, y), rtol=1e-8,
                               atol=1e-12)
    assert main(["predict", str(saved), str(data), "--columns", "x", "-o", str(out)]) == 0
    np.testing.assert_allclose(_read_output(out)[1][:, 2:], model.predict_proba(X),
                               rtol=1e-8)

    capsys.readouterr()
    assert main(["score", str(saved), str(data), "--columns", "x", "--target", "y"]) == 0
    printed = capsys.readouterr().out
    assert f"BIC: {model.bic(X, y):.2f}" in printed
    assert f"log-likelihood: {model.score(X, y) * len(y):.2f}" in printed


def test_experts_fit_labels(tmp_path, capsys):
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, size=200)
    y = np.where(x < 0, -x, 2 * x) + 0.1 * rng.standard_normal(200)
    data = _write_csv(tmp_path / "xy.csv", np.column_stack([y, x]).tolist(), header=["y", "x"])
    labels = tmp_path / "labels.csv"
    assert main(["fit", str(data), "-k", "2", "--model", "experts", "--target", "0",
                 "--n-init", "2", "--labels", str(labels), "--quiet"]) == 0
    assert "gating_coef_" in capsys.readouterr().out
    direct = emkit.MixtureOfExperts(2, n_init=2, random_state=0).fit(x[:, None], y)
    header, values = _read_output(labels)
    np.testing.assert_allclose(values[:, 0], direct.predict(x[:, None]), rtol=1e-7)
    np.testing.assert_allclose(values[:, 2:], direct.predict_proba(x[:, None], y), rtol=1e-6,
                               atol=1e-10)


# -------------------------------------------------------- HMMs on sequence files
def test_hmm_predict_and_score_on_sequence_files(tmp_path, capsys):
    nile = emkit.datasets.load_nile().data.reshape(-1, 1)
    ids = np.repeat([7, 3], [60, 40])  # ids need not be sorted, only consecutive
    data = _write_csv(tmp_path / "nile.csv", np.column_stack([ids, nile]).tolist(),
                      header=["id", "volume"])
    saved = tmp_path / "hmm.emkit"
    assert main(["fit", str(data), "-k", "2", "--model", "gaussian-hmm", "--sequence-column",
                 "id", "-o", str(saved), "--quiet"]) == 0
    model = emkit.load(saved)
    lengths = [60, 40]
    direct = emkit.GaussianHMM(2, covariance_type="full", random_state=0).fit(nile, lengths)
    np.testing.assert_allclose(model.means_, direct.means_)
    out = tmp_path / "states.csv"
    assert main(["predict", str(saved), str(data), "--sequence-column", "id",
                 "-o", str(out)]) == 0
    _, values = _read_output(out)
    np.testing.assert_allclose(values[:, 1:], model.predict_proba(nile, lengths), rtol=1e-8,
                               atol=1e-12)
    capsys.readouterr()
    assert main(["score", str(saved), str(data), "--sequence-column", "id"]) == 0
    printed = capsys.readouterr().out
    assert f"log-likelihood: {model.score(nile, lengths):.2f}" in printed
    assert f"BIC: {model.bic(nile, lengths):.2f}" in printed
    # Scored as one sequence, the log-likelihood differs (the second start is a transition).
    assert main(["score", str(saved), str(data), "--columns", "volume"]) == 0
    assert f"log-likelihood: {model.score(nile):.2f}" in capsys.readouterr().out


def test_gmm_hmm_n_mix(tmp_path, capsys):
    X = emkit.datasets.load_old_faithful().data
    ids = np.repeat([1, 2], [136, 136])
    data = _write_csv(tmp_path / "series.csv", np.column_stack([ids, X]).tolist(),
                      header=["id", "a", "b"])
    saved = tmp_path / "gmmhmm.emkit"
    assert main(["fit", str(data), "-k", "2", "--model", "gmm-hmm", "--n-mix", "2",
                 "--sequence-column", "id", "--n-init", "2", "-o", str(saved), "--quiet"]) == 0
    model = emkit.load(saved)
    assert model.n_mix == 2
    direct = emkit.GMMHMM(2, n_mix=2, n_init=2, random_state=0).fit(X, [136, 136])
    assert model.score(X, [136, 136]) == pytest.approx(direct.score(X, [136, 136]))
    assert f"{direct.bic(X, [136, 136]):.2f}" in capsys.readouterr().out


# ------------------------------------------------- the variational Bayesian mixture
def test_bayesian_gaussian_one_k(tmp_path, capsys):
    X = emkit.datasets.load_old_faithful().data
    data = _write_csv(tmp_path / "faithful.csv", X.tolist(), header=["eruptions", "waiting"])
    saved = tmp_path / "vb.emkit"
    assert main(["fit", str(data), "-k", "6", "--model", "bayesian-gaussian", "--n-init", "2",
                 "-o", str(saved), "--quiet"]) == 0
    printed = capsys.readouterr().out
    direct = emkit.BayesianGaussianMixture(6, n_init=2, random_state=0).fit(X)
    used = int((direct.weights_ > 0.01).sum())
    assert f"components in use (weight > 1%): {used} of 6" in printed
    np.testing.assert_allclose(emkit.load(saved).weights_, direct.weights_)
    assert main(["fit", str(data), "-k", "4", "--model", "bayesian-gaussian", "--weight-prior",
                 "dirichlet_distribution", "--n-init", "1", "-o", str(saved), "--quiet"]) == 0
    assert emkit.load(saved).weight_concentration_prior_type == "dirichlet_distribution"
    assert main(["fit", str(data), "-k", "1:6", "--model", "bayesian-gaussian"]) == 2
    assert "a range of K is not meaningful" in capsys.readouterr().err


# ---------------------------------------------------------------- lda on texts
SPORT = "goal match team player score league coach season win ball".split()
MONEY = "market stock price bank trade profit share investor economy rate".split()


def _write_texts(folder, n=30, seed=0):
    """Documents about one of two disjoint word sets, with stop words and capitals."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    documents = []
    for i in range(n):
        words = rng.choice(SPORT if i % 2 else MONEY, size=30)
        documents.append("The " + " and ".join(words) + ". Zebra" * (i == 0))
        (folder / f"doc{i:02d}.txt").write_text(documents[-1], encoding="utf-8")
    return documents


def _printed_topics(printed, n_topics):
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("topic"))
    return [line.split()[2:] for line in lines[start + 1:start + 1 + n_topics]]


def test_lda_texts_fit_save_predict(tmp_path, capsys):
    from sklearn.feature_extraction.text import CountVectorizer

    documents = _write_texts(tmp_path / "texts")
    saved = tmp_path / "lda.emkit"
    labels = tmp_path / "topics.csv"
    assert main(["fit", str(tmp_path / "texts"), "-k", "2", "--model", "lda", "--max-iter",
                 "30", "--stop-words", "english", "--min-df", "2", "--top-words", "5",
                 "-o", str(saved), "--labels", str(labels)]) == 0
    printed = capsys.readouterr().out
    # Each topic's top words come from one of the two word sets (recovery).
    topics = _printed_topics(printed, 2)
    assert all(len(words) == 5 for words in topics)
    themes = [("sport" if set(words) <= set(SPORT) else
               "money" if set(words) <= set(MONEY) else "mixed") for words in topics]
    assert sorted(themes) == ["money", "sport"]

    model = emkit.load(saved)
    # The vocabulary CountVectorizer keeps with these options (stop words and the
    # one-document word "zebra" gone), saved on the model.
    counter = CountVectorizer(stop_words="english", min_df=2).fit(documents)
    np.testing.assert_array_equal(model.vocabulary_, counter.get_feature_names_out())
    assert "the" not in model.vocabulary_ and "zebra" not in model.vocabulary_
    header, values = _read_output_rows(labels)
    assert header == ["document", "label", "prob_0", "prob_1"]
    assert [row[0] for row in values] == [f"doc{i:02d}.txt" for i in range(30)]

    # New texts, one per line (a blank line is skipped), through the saved vocabulary.
    lines = tmp_path / "new.txt"
    new = ["bank profit market rate zebra", "", "goal goal league ball"]
    lines.write_text("\n".join(new) + "\n", encoding="utf-8")
    out = tmp_path / "new_topics.csv"
    assert main(["predict", str(saved), str(lines), "-o", str(out)]) == 0
    header, rows = _read_output_rows(out)
    assert [row[0] for row in rows] == ["line 1", "line 3"]
    expected = model.transform(counter.transform([new[0], new[2]]))
    np.testing.assert_allclose(np.array([row[2:] for row in rows], dtype=float), expected,
                               rtol=1e-8)
    capsys.readouterr()
    assert main(["score", str(saved), str(lines)]) == 0
    counts = counter.transform([new[0], new[2]])
    printed = capsys.readouterr().out
    assert f"perplexity: {model.perplexity(counts):.5g}" in printed
    assert f"variational bound: {model.score(counts):.2f}" in printed


@pytest.mark.parametrize("flags, check", [
    (["--no-lowercase"], lambda vocab: "The" in vocab and "the" not in vocab),
    ([], lambda vocab: "the" in vocab and "The" not in vocab),
    (["--max-features", "5"], lambda vocab: len(vocab) == 5),
    (["--max-df", "0.9"], lambda vocab: "the" not in vocab and "and" not in vocab),
    (["--learning-method", "online"], lambda vocab: "the" in vocab),
])
def test_lda_vectorizer_flags(tmp_path, capsys, flags, check):
    lines = tmp_path / "docs.txt"
    lines.write_text("\n".join(_write_texts(tmp_path / "texts", n=12)), encoding="utf-8")
    saved = tmp_path / "lda.emkit"
    assert main(["fit", str(lines), "-k", "2", "--model", "lda", "--max-iter", "3",
                 "-o", str(saved), *flags]) == 0
    assert "fitted on 12 document(s)" in capsys.readouterr().out
    model = emkit.load(saved)
    assert check(list(model.vocabulary_))
    assert model.learning_method == ("online" if "online" in flags else "batch")


def test_lda_on_a_count_table(tmp_path, capsys):
    counts = np.random.default_rng(0).poisson(1.0, size=(40, 12)).astype(float)
    np.save(tmp_path / "counts.npy", counts)
    saved = tmp_path / "lda.emkit"
    assert main(["fit", str(tmp_path / "counts.npy"), "-k", "3", "--model", "lda",
                 "-o", str(saved), "--top-words", "3"]) == 0
    direct = emkit.LatentDirichletAllocation(3, random_state=0).fit(counts)
    model = emkit.load(saved)
    np.testing.assert_allclose(model.components_, direct.components_)
    assert not hasattr(model, "vocabulary_")  # its words are the columns x0 ... x11
    out = tmp_path / "topics.csv"
    assert main(["predict", str(saved), str(tmp_path / "counts.npy"), "-o", str(out)]) == 0
    header, rows = _read_output_rows(out)
    np.testing.assert_allclose(np.array([row[2:] for row in rows], dtype=float),
                               direct.transform(counts), rtol=1e-8)


# ------------------------------------------------------------ help and errors
def test_help_lists_every_subcommand_and_each_has_examples(capsys):
    commands = subcommand_parsers()
    assert {"demo", "fit", "select", "predict", "score", "sample"} <= set(commands)
    assert main(["--help"]) == 0
    printed = capsys.readouterr().out
    for name in commands:
        assert f"    {name} " in printed
    for name in commands:
        assert main([name, "--help"]) == 0
        printed = capsys.readouterr().out
        examples = printed[printed.index("\nexample"):]
        assert f"emkit {name}" in examples, name
    assert all(name in commands["fit"].format_help() for name in emkit.cli.MODELS)


ERRORS = {
    "wrong number of columns": (["predict", "{saved}", "{wide}"],
                                "3 column(s), but the model was fitted on 2"),
    "target missing": (["fit", "{data}", "-k", "2", "--model", "regression"],
                       "needs --target COLUMN"),
    "target for a mixture": (["fit", "{data}", "-k", "2", "--target", "a"],
                             "--target applies to the regression models"),
    "bad target column": (["fit", "{data}", "-k", "2", "--model", "regression", "--target",
                           "zz"], "no column 'zz' for --target"),
    "flag the model lacks": (["fit", "{data}", "-k", "2", "--weight-prior",
                              "dirichlet_process"],
                             "--weight-prior does not apply to --model gaussian"),
    "range without BIC": (["fit", "{texts}", "-k", "2:3", "--model", "lda"],
                          "takes one K, not a range"),
    "folder without texts": (["fit", "{empty}", "-k", "2", "--model", "lda"],
                             "no .txt files in the folder"),
    "text not UTF-8": (["fit", "{latin1}", "-k", "2", "--model", "lda"],
                       "not a UTF-8 text file"),
    "no words left": (["fit", "{texts}", "-k", "2", "--model", "lda", "--min-df", "50"],
                      "see --min-df"),
    "unsorted sequences": (["fit", "{ids}", "-k", "2", "--model", "gaussian-hmm",
                            "--sequence-column", "id"], "must be consecutive"),
    "score without target": (["score", "{regression}", "{data}"], "give --target COLUMN"),
    "vectorizer flag on a table": (["fit", "{data}", "-k", "2", "--stop-words", "english"],
                                   "--stop-words applies to texts"),
    "texts for a table topic model": (["predict", "{table_lda}", "{texts}"],
                                      "was fitted on a count table, not on texts"),
    "a table for a text topic model": (["predict", "{text_lda}", "{data}"],
                                       "the model was fitted on texts"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_each_error_class_is_one_line_exit_2(tmp_path, capsys, case):
    argv, fragment = ERRORS[case]
    X = _two_blobs()
    paths = {"data": _write_csv(tmp_path / "d.csv", X.tolist(), header=["a", "b"]),
             "wide": _write_csv(tmp_path / "w.csv", np.c_[X, X[:, 0]].tolist()),
             "ids": _write_csv(tmp_path / "ids.csv", np.c_[np.arange(40) % 3, X].tolist(),
                               header=["id", "a", "b"])}
    if "{saved}" in argv:
        paths["saved"] = tmp_path / "m.emkit"
        GaussianMixture(2, random_state=0).fit(X).save(paths["saved"])
    if "{regression}" in argv:
        paths["regression"] = tmp_path / "r.emkit"
        emkit.RegressionMixture(1).fit(X[:, :1], X[:, 1]).save(paths["regression"])
    paths["texts"] = tmp_path / "t.txt"
    paths["texts"].write_text("one two\nthree four\n")
    if "{table_lda}" in argv:
        paths["table_lda"] = tmp_path / "table_lda.emkit"
        emkit.save(emkit.LatentDirichletAllocation(2, max_iter=2).fit(np.ones((3, 4))),
                   paths["table_lda"])
    if "{text_lda}" in argv:
        paths["text_lda"] = tmp_path / "text_lda.emkit"
        assert main(["fit", str(paths["texts"]), "-k", "2", "--model", "lda", "--max-iter",
                     "2", "-o", str(paths["text_lda"])]) == 0
        capsys.readouterr()
    paths["empty"] = tmp_path / "empty"
    paths["empty"].mkdir()
    paths["latin1"] = tmp_path / "latin1.txt"
    paths["latin1"].write_bytes("caf\xe9 cr\xe8me\n".encode("latin-1"))
    argv = [a.format(**paths) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("emkit: error: ") and fragment in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_progress_is_on_by_default_and_quiet_turns_it_off(monkeypatch):
    from emkit.cli import _build_model, build_parser

    parser = build_parser()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # as on a terminal
    for name in emkit.cli.MODELS:
        argv = ["fit", "x.csv", "-k", "2", "--model", name]
        if emkit.cli.MODELS[name][1] == "regression":
            argv += ["--target", "y"]
        loud, kind = _build_model(parser.parse_args(argv), 2)
        quiet, _ = _build_model(parser.parse_args(argv + ["--quiet"]), 2)
        # LDA's verbose prints scikit-learn's line per pass on stdout: left off.
        assert loud.verbose == (0 if kind == "text" else 1), name
        assert quiet.verbose == 0, name
    # In a log or a pipe the bar is off unless asked for.
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    argv = ["fit", "x.csv", "-k", "2"]
    assert _build_model(parser.parse_args(argv), 2)[0].verbose == 0
    assert _build_model(parser.parse_args(argv + ["--progress"]), 2)[0].verbose == 1


@pytest.mark.parametrize("model, extra", [
    ("gaussian", []), ("bayesian-gaussian", []), ("regression", ["--target", "b"]),
    ("experts", ["--target", "b"]), ("gmm-hmm", ["--n-mix", "2"]), ("poisson-hmm", []),
])
def test_fit_shows_the_progress_bar_unless_quiet(tmp_path, capsys, monkeypatch, model, extra):
    pytest.importorskip("tqdm")
    from emkit._engine import progress

    monkeypatch.setattr(progress, "DELAY", 0.0)  # show at once: these fits are quick
    data = _write_csv(tmp_path / "d.csv", np.abs(np.round(_two_blobs())).tolist(),
                      header=["a", "b"])
    argv = ["fit", str(data), "-k", "2", "--model", model, "--n-init", "1", *extra]
    assert main(argv + ["--progress"]) == 0  # stderr is not a terminal here
    assert "EM" in capsys.readouterr().err
    assert main(argv + ["--quiet"]) == 0
    assert "EM" not in capsys.readouterr().err
