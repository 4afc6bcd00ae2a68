"""emkit report: the HTML page, checked as HTML and in a real headless browser (chromium).

The browser test uses Debian's chromium; when it is missing the setup installs it
with apt-get (as root, with network), and skips with the reason where it cannot.
The screenshot is written under pytest's tmp dir, to be looked at.
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
from emkit.datasets import load_iris, load_old_faithful  # noqa: E402
from emkit.report import SECTIONS, write_report  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    """Section ids, image sources, external references and table cells of a page."""

    def __init__(self):
        super().__init__()
        self.sections, self.images, self.external, self.bold_cells = [], [], [], []
        self._in_best = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs.get("id"))
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for key in ("src", "href"):
            value = attrs.get(key)
            if value and not value.startswith("data:"):
                self.external.append(value)
        if tag == "link" or tag == "script":
            self.external.append(tag)
        self._in_best = tag == "td" and "best" in (attrs.get("class") or "")

    def handle_data(self, data):
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


def test_report_in_a_headless_browser(faithful_report, chromium, tmp_path_factory):
    _, html_path = faithful_report
    url = html_path.resolve().as_uri()
    dom = _browser(chromium, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    # The DOM the browser built (not the file's text) has every section, heading and image.
    for key, heading in SECTIONS:
        assert re.search(rf'<section id="{key}">\s*<h2>{re.escape(heading)}</h2>', dom.stdout)
    assert dom.stdout.count("<img ") >= 5
    shot = tmp_path_factory.mktemp("screenshot") / "report.png"
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
