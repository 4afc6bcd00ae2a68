"""emkit report: the HTML page, checked as HTML and in a real headless browser (chromium).

Pages of a Gaussian mixture (Old Faithful), a Gaussian HMM (the Nile) and LDA
(the Reuters sample written out as a folder of texts), made by the command line,
and of every other model of the registry through the Python API.

The browser tests use Debian's chromium; when it is missing the setup installs it
with apt-get (as root, with network), and skips with the reason where it cannot.
The screenshots are written under pytest's tmp dir, to be looked at (set
EMKIT_REPORT_SHOTS=DIR to keep them in DIR).
"""

import base64
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import emkit  # noqa: E402
from emkit.cli import main  # noqa: E402
from emkit.cli import MODELS  # noqa: E402
from emkit.datasets import load_iris, load_nile, load_old_faithful, load_reuters  # noqa: E402
from emkit.report import SECTIONS, build_report, write_report  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    """Section ids, image sources, external references and table cells of a page."""

    def __init__(self):
        super().__init__()
        self.sections, self.images, self.external, self.bold_cells = [], [], [], []
        self.image_alts, self.headings = [], []
        self._in_best = self._in_heading = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs.get("id"))
        if tag == "img":
            self.images.append(attrs.get("src", ""))
            self.image_alts.append(attrs.get("alt", ""))
        self._in_heading = tag in ("h2", "h3")
        for key in ("src", "href"):
            value = attrs.get(key)
            if value and not value.startswith("data:"):
                self.external.append(value)
        if tag == "link" or tag == "script":
            self.external.append(tag)
        self._in_best = tag == "td" and "best" in (attrs.get("class") or "")

    def handle_data(self, data):
        if self._in_heading:
            self.headings.append(data)
            self._in_heading = False
        if self._in_best:
            self.bold_cells.append(data)
            self._in_best = False


def _parse(path):
    page = _Page()
    page.feed(open(path, encoding="utf-8").read())
    return page


@pytest.fixture(scope="module")
def faithful_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    faithful = load_old_faithful()
    csv_path = folder / "faithful.csv"
    np.savetxt(csv_path, faithful.data, delimiter=",", header=",".join(faithful.feature_names),
               comments="")
    html_path = folder / "report.html"
    assert main(["report", str(csv_path), "-o", str(html_path)]) == 0
    return faithful, html_path


def test_page_has_every_section_and_is_self_contained(faithful_report):
    _, html_path = faithful_report
    page = _parse(html_path)
    assert page.sections == [key for key, _ in SECTIONS]
    assert page.external == []
    assert len(page.images) >= 5  # selection, mixture, uncertainty, history, teaching
    assert "The objective per EM iteration" in page.image_alts
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_SIGNATURE


def test_page_shows_the_selection_it_made(faithful_report):
    faithful, html_path = faithful_report
    # The same grid, run here: the page's highlighted cells are its best BIC and ICL.
    result = emkit.select_model(faithful.data, n_components=range(1, 6),
                                covariance_types=["EII", "VII", "EEI", "VVI", "EEE", "VVV"])
    page = _parse(html_path)
    best_bic = float(page.bold_cells[0])
    best_icl = float(page.bold_cells[1])
    assert best_bic == pytest.approx(np.nanmax(result.scores("bic")), abs=1e-3)
    assert best_icl == pytest.approx(np.nanmax(result.scores("icl")), abs=1e-3)
    text = open(html_path, encoding="utf-8").read()
    best = result.best_params_
    assert (f"<b>{best['covariance_type']}</b> with <b>{best['n_components']}</b>") in text
    # The chosen model's weights are printed.
    for weight in result.best_estimator_.weights_:
        assert f"<td>{float(weight):.4g}</td>" in text


@pytest.mark.parametrize("columns", [[0], [0, 1, 2, 3]])
def test_write_report_one_and_many_features(columns, tmp_path):
    iris = load_iris()
    X = iris.data[:, columns].copy()
    before = X.copy()
    path = tmp_path / "iris.html"
    result = write_report(X, path, feature_names=[iris.feature_names[j] for j in columns],
                          n_components=range(1, 4), teaching_iter=2)
    np.testing.assert_array_equal(X, before)  # the caller's array is untouched
    page = _parse(path)
    assert page.sections == [key for key, _ in SECTIONS]
    assert result.best_estimator_.means_.shape[1] == len(columns)
    # One feature: histogram, history, selection, teaching (no uncertainty plot).
    assert len(page.images) == (4 if len(columns) == 1 else 5)


def test_report_errors_are_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,x\n")
    assert main(["report", str(bad), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "not a number" in err
    with pytest.raises(ValueError, match="feature_names"):
        write_report(np.ones((5, 2)), tmp_path / "r.html", feature_names=["only one"])


def _chromium():
    """The chromium executable, installed with apt-get when missing; None with a reason."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found, None
    if os.environ.get("EMKIT_NO_BROWSER_INSTALL"):
        return None, "EMKIT_NO_BROWSER_INSTALL is set"
    if shutil.which("apt-get") is None:
        return None, "chromium is not installed and there is no apt-get to install it"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return None, "chromium is not installed and installing it needs root (apt-get)"
    try:
        done = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends",
                               "chromium"], capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"apt-get install chromium failed: {exc}"
    found = shutil.which("chromium")
    if done.returncode or not found:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
        return None, f"apt-get install chromium failed: {tail[0]}"
    return found, None


@pytest.fixture(scope="module")
def chromium():
    executable, reason = _chromium()
    if executable is None:
        pytest.skip(f"no headless browser for the report test: {reason}")
    return executable


def _browser(chromium, *arguments, timeout=120):
    # --no-sandbox: chromium refuses to run as root with its sandbox (containers, CI).
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--hide-scrollbars", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def _shot_folder(tmp_path_factory):
    kept = os.environ.get("EMKIT_REPORT_SHOTS")
    if kept:
        os.makedirs(kept, exist_ok=True)
        return __import__("pathlib").Path(kept)
    return tmp_path_factory.mktemp("screenshot")


def _check_in_browser(chromium, html_path, shot, min_images):
    """The DOM chromium builds has every section, heading and image; a screenshot of it."""
    url = html_path.resolve().as_uri()
    dom = _browser(chromium, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    # The DOM the browser built (not the file's text) has every section, heading and image.
    for key, heading in SECTIONS:
        assert re.search(rf'<section id="{key}">\s*<h2>{re.escape(heading)}</h2>', dom.stdout)
    assert dom.stdout.count("<img ") >= min_images
    result = _browser(chromium, f"--screenshot={shot}", "--window-size=1200,6000", url)
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 50_000
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[:2] == (6000, 1200)
    # Not a blank page: the upper part holds text, tables and pictures.
    upper = pixels[:3000, :, :3]
    assert (upper < 0.5).mean() > 0.005


def test_report_in_a_headless_browser(faithful_report, chromium, tmp_path_factory):
    _, html_path = faithful_report
    _check_in_browser(chromium, html_path, _shot_folder(tmp_path_factory) / "report.png", 5)


# ------------------------------------------------------------------ the Nile's HMM
@pytest.fixture(scope="module")
def nile_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nile")
    nile = load_nile()
    csv_path = folder / "nile.csv"
    # One series: every row has the same sequence id.
    table = np.column_stack([np.ones(nile.data.size), nile.years, nile.data])
    np.savetxt(csv_path, table, delimiter=",", header="id,year,volume", comments="",
               fmt=["%d", "%d", "%.1f"])
    html_path = folder / "hmm.html"
    assert main(["report", str(csv_path), "--model", "gaussian-hmm", "--sequence-column",
                 "id", "--columns", "volume", "-k", "1:3", "-o", str(html_path)]) == 0
    return nile, html_path


def _cells(text, heading):
    """The rows (lists of cell texts) of the first table after ``heading``."""
    table = text.split(heading, 1)[1].split("<table>", 1)[1].split("</table>", 1)[0]
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row) for row in table.split("<tr>")[1:]]


def test_hmm_report_selects_states_by_bic(nile_report):
    nile, html_path = nile_report
    text = open(html_path, encoding="utf-8").read()
    page = _parse(html_path)
    assert page.sections == [key for key, _ in SECTIONS]
    assert page.external == []
    assert "100 time steps x 1 feature(s) in 1 sequence(s)" in text
    rows = {row[0]: row for row in _cells(text, "<h2>Model selection</h2>")[1:]}
    # One state is one Gaussian: by hand, log L = -n/2 (log(2 pi var) + 1) with the ML
    # variance, 2 free parameters, BIC = -2 log L + 2 log n.
    x, n = nile.data, nile.data.size
    loglik = -n / 2 * (np.log(2 * np.pi * x.var()) + 1)
    assert float(rows["1"][1]) == pytest.approx(loglik, rel=1e-6)
    assert rows["1"][2] == "2"
    assert float(rows["1"][3]) == pytest.approx(-2 * loglik + 2 * np.log(n), rel=1e-6)
    # Two states of one feature: 1 start + 2 transition + 2 means + 2 variances.
    assert rows["2"][2] == "7" and rows["3"][2] == "14"
    bics = {k: float(rows[k][3]) for k in rows}
    assert min(bics, key=bics.get) == "2"  # the level change near 1898
    assert "Chosen by BIC (lower is better): <b>2</b> state(s)." in text
    assert page.bold_cells == [rows["2"][3]]
    # The transition matrix printed is the chosen model's, rows summing to 1.
    transitions = _cells(text, "<h3>Transition probabilities")
    matrix = np.array([[float(v) for v in row[1:]] for row in transitions[1:]])
    assert matrix.shape == (2, 2)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-4)
    assert "the trace of the objective its EM raises" in text
    assert "Baum-Welch" in text and "It never decreased" in text
    assert {"Transition probabilities", "The objective per EM iteration"} <= set(
        page.image_alts)


def test_hmm_report_in_a_headless_browser(nile_report, chromium, tmp_path_factory):
    _, html_path = nile_report
    _check_in_browser(chromium, html_path, _shot_folder(tmp_path_factory) / "hmm.png", 4)


# ------------------------------------------------------------------- Reuters' LDA
@pytest.fixture(scope="module")
def reuters_texts(tmp_path_factory):
    """The Reuters sample as a folder of .txt files, every word written count times."""
    folder = tmp_path_factory.mktemp("reuters") / "texts"
    folder.mkdir()
    reuters = load_reuters()
    counts = reuters.data.tocsr()
    for d in range(counts.shape[0]):
        row = counts[d]
        words = [f"{reuters.vocabulary[w]} " * int(c) for w, c in zip(row.indices, row.data)]
        (folder / f"doc{d:03d}.txt").write_text("".join(words), encoding="utf-8")
    return reuters, folder


@pytest.fixture(scope="module")
def lda_report(reuters_texts):
    reuters, folder = reuters_texts
    html_path = folder.parent / "lda.html"
    assert main(["report", str(folder), "--model", "lda", "-k", "2,5,8", "-o",
                 str(html_path)]) == 0
    return reuters, folder, html_path


def test_lda_report_summarises_the_texts_and_chooses_by_held_out_perplexity(lda_report):
    from sklearn.feature_extraction.text import CountVectorizer

    reuters, folder, html_path = lda_report
    text = open(html_path, encoding="utf-8").read()
    page = _parse(html_path)
    assert page.sections == [key for key, _ in SECTIONS]
    # The vocabulary and the tokens as scikit-learn's CountVectorizer reads the folder.
    files = sorted(folder.glob("*.txt"))
    counts = CountVectorizer().fit_transform([f.read_text() for f in files])
    assert (f"<p>{len(files)} documents; a vocabulary of {counts.shape[1]} words; "
            f"{int(counts.sum())} word tokens") in text
    rows = _cells(text, "<h2>Model selection</h2>")[1:]
    held_out = {row[0]: float(row[3]) for row in rows}
    assert list(held_out) == ["2", "5", "8"]
    best = min(held_out, key=held_out.get)
    assert page.bold_cells == [rows[list(held_out).index(best)][3]]
    assert f"Chosen by held-out perplexity (lower is better): <b>{best}</b> topic(s)." in text
    assert "scored on the other 79" in text  # a fifth of the 395 documents
    topics = _cells(text, "<h3>Topics:")[1:]
    assert len(topics) == int(best)
    shares = [float(row[2]) for row in topics]
    assert sum(shares) == pytest.approx(1.0, abs=5e-3)
    assert all(len(row[1].split()) == 10 for row in topics)
    assert "Variational EM" in text
    assert {"Topic prevalence", "The objective per EM iteration"} <= set(page.image_alts)


def test_lda_report_in_a_headless_browser(lda_report, chromium, tmp_path_factory):
    _, _, html_path = lda_report
    _check_in_browser(chromium, html_path, _shot_folder(tmp_path_factory) / "lda.png", 4)


# --------------------------------------------------------- every model, by the API
def _data_for(name, kind):
    X = load_old_faithful().data[::3]  # 91 eruptions keep the fits short
    if name in ("bernoulli", "categorical"):
        return {"X": (X > np.median(X, axis=0)).astype(float)
                + (name == "categorical") * (X > np.percentile(X, 80, axis=0))}
    if name == "poisson":
        return {"X": np.round(X)}
    if kind == "hmm":
        y = load_nile().data[:, None]
        if name == "poisson-hmm":
            return {"X": np.round(y / 100), "lengths": [50, 50]}
        if name == "categorical-hmm":
            return {"X": (y > 900).astype(float), "lengths": [50, 50]}
        return {"X": y, "lengths": [50, 50]}
    if kind == "regression":
        return {"X": X[:, :1], "y": X[:, 1], "target_name": "waiting"}
    if kind == "text":
        return {"X": load_reuters().data[:60], "vocabulary": load_reuters().vocabulary}
    return {"X": X}


@pytest.mark.parametrize("name", [name for name in MODELS if name != "gaussian"])
def test_every_model_has_a_report(name, tmp_path):
    kind = MODELS[name][1]
    data = _data_for(name, kind)
    before = {key: np.array(value, copy=True) for key, value in data.items()
              if isinstance(value, np.ndarray)}
    K = {"bayesian-gaussian": [4], "lda": [2, 3], "factor-analysis": [1],
         "ppca": [1]}.get(name, [1, 2])
    page, result = build_report(**data, model=name, n_components=K, teaching_iter=2)
    for key, value in before.items():
        np.testing.assert_array_equal(data[key], value)  # the caller's arrays untouched
    path = tmp_path / "r.html"
    path.write_text(page, encoding="utf-8")
    parsed = _parse(path)
    assert parsed.sections == [key for key, _ in SECTIONS]
    assert parsed.external == []
    for src in parsed.images:
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_SIGNATURE
    model = result.best_estimator_
    assert type(model).__name__ == MODELS[name][0]
    assert f"a {type(model).__name__}; every picture" in page
    expected = {"kmeans": "silhouette", "lda": "perplexity", "bayesian-gaussian": "none",
                "factor-analysis": "none", "ppca": "none"}.get(name, "bic")
    assert result.criterion == expected
    if expected == "bic":  # the highlighted cell is the chosen model's BIC
        args = {"hmm": (data["X"], data.get("lengths")),
                "regression": (data["X"], data.get("y"))}.get(kind, (data["X"],))
        assert float(parsed.bold_cells[0]) == pytest.approx(model.bic(*args), rel=1e-7)
    # The teaching view: the E/M steps for Gaussian-type mixtures, else the objective.
    teaching = page.split('<section id="teaching">', 1)[1]
    if MODELS[name][0] in ("BayesianGaussianMixture", "StudentTMixture",
                           "MixtureOfFactorAnalyzers", "KMeans"):
        assert "KL = log-likelihood - ELBO" in teaching
    assert "the trace of the objective" in teaching
    assert "iteration</th>" in teaching


def test_kmeans_report_chooses_by_the_silhouette(tmp_path):
    from sklearn.metrics import silhouette_score

    X = load_old_faithful().data
    page, result = build_report(X, model="kmeans", n_components=[1, 2, 3, 4])
    rows = result.rows
    assert np.isnan(rows[0]["silhouette"])  # undefined for one cluster
    for row, model in zip(rows[1:], result.fits[1:]):  # scikit-learn's, of the same labels
        assert row["silhouette"] == pytest.approx(silhouette_score(X, model.predict(X)),
                                                  rel=1e-9)
        assert row["inertia"] == pytest.approx(
            ((X - model.cluster_centers_[model.predict(X)]) ** 2).sum(), rel=1e-9)
    best = int(np.nanargmax([row["silhouette"] for row in rows]))
    assert result.best_index == best and result.best_params_ == {"n_components": 2}
    assert "Chosen by silhouette (higher is better): <b>2</b> cluster(s)." in page


def test_report_model_errors(tmp_path, capsys):
    X = load_old_faithful().data
    with pytest.raises(ValueError, match="model must be one of gaussian, bernoulli"):
        build_report(X, model="gaussian-mixture-of-doom")
    with pytest.raises(ValueError, match="'bic' or 'aic'"):
        build_report(load_nile().data[:, None], model="gaussian-hmm", criterion="icl",
                     n_components=[1, 2])
    with pytest.raises(ValueError, match="requires y"):
        build_report(X, model="regression")
    with pytest.raises(ValueError, match="upper bound"):
        build_report(X, model="bayesian-gaussian", n_components=[2, 3])
    with pytest.raises(ValueError, match="only max_iter"):
        build_report(X, model_params={"covariance_type": "diag"})
    with pytest.raises(ValueError, match="add up to"):
        build_report(X, model="gaussian-hmm", lengths=[100, 100])
    # The command line: one line on stderr, exit code 2.
    csv_path = tmp_path / "faithful.csv"
    np.savetxt(csv_path, X, delimiter=",", header="eruptions,waiting", comments="")
    for argv, message in [
            (["--model", "nonsense"], "--model: unknown model 'nonsense'; choose one of"),
            (["--model", "regression"], "--model regression needs --target COLUMN"),
            (["--model", "poisson", "--covariance-types", "EEE"], "--covariance-types is"),
            (["--model", "kmeans", "--criterion", "bic"], "'silhouette'"),
            (["--model", "gaussian-hmm", "--sequence-column", "nope"], "no column 'nope'")]:
        assert main(["report", str(csv_path), "-o", str(tmp_path / "r.html"), *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, (argv, err)
    assert main(["report", str(tmp_path / "no_texts"), "--model", "lda"]) == 2
    assert "no such file or folder" in capsys.readouterr().err
