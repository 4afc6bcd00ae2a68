"""verbose=1 shows a tqdm progress bar over restarts and iterations; verbose=0 nothing."""

import numpy as np
import pytest

import emkit
from emkit._engine import progress


@pytest.fixture
def faithful():
    return emkit.datasets.load_old_faithful().data


def test_bar_shows_iterations_and_objective(faithful, capsys, monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(progress, "DELAY", 0.0)  # show at once: this fit is quick
    model = emkit.GaussianMixture(3, n_init=3, random_state=0, verbose=1).fit(faithful)
    err = capsys.readouterr().err
    assert "EM" in err and "iter" in err
    assert "objective=" in err and "restart=" in err
    assert model.n_iter_ > 0


def test_quick_fits_and_verbose_0_print_nothing(faithful, capsys, monkeypatch):
    # A fit shorter than the delay prints nothing (60 s: robust on a loaded machine).
    monkeypatch.setattr(progress, "DELAY", 60.0)
    emkit.GaussianMixture(2, n_init=2, random_state=0).fit(faithful)
    emkit.GaussianMixture(2, n_init=2, random_state=0, verbose=1).fit(faithful)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_the_bar_changes_no_result(faithful, monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(progress, "DELAY", 0.0)
    quiet = emkit.GaussianHMM(2, random_state=0).fit(faithful)
    shown = emkit.GaussianHMM(2, random_state=0, verbose=1).fit(faithful)
    np.testing.assert_array_equal(quiet.means_, shown.means_)
    np.testing.assert_array_equal(quiet.history_, shown.history_)


def test_select_model_bar_counts_the_grid(faithful, capsys, monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(progress, "DELAY", 0.0)
    quiet = emkit.select_model(faithful, n_components=range(1, 3), covariance_types=["EII", "VVV"])
    shown = emkit.select_model(faithful, n_components=range(1, 3),
                               covariance_types=["EII", "VVV"], verbose=1)
    err = capsys.readouterr().err
    assert "select_model" in err and "/4 [" in err  # a bar over the 4 fits
    loglik = [row["log_likelihood"] for row in quiet.rows]
    assert loglik == [row["log_likelihood"] for row in shown.rows]
