"""emkit.select_model against R mclust 6.0.0's mclustBIC / mclustICL (issue 3).

Reference tables come from ``benchmarks/mclust_reference.R`` and
``benchmarks/mclust_select_reference.R`` (tests/data/mclust_*); R is not
needed to run these tests.
"""

import csv
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import emkit._engine.hierarchical as hierarchical
import emkit.datasets
from emkit.cli import main
from emkit.components._structures import STRUCTURES
from emkit.datasets import load_old_faithful
from emkit.selection import (
    BIC_MCLUST,
    BIC_SKLEARN,
    ICL_MCLUST,
    ICL_SKLEARN,
    TABLE_COLUMNS,
    select_model,
)

DATA = Path(__file__).parent / "data"
FAITHFUL_CSV = Path(emkit.datasets.__file__).parent / "data" / "old_faithful.csv"


def _mclust(name, value):
    with open(DATA / name) as handle:
        return {(int(row["G"]), row["model"]): (float(row[value]) if row[value] != "NA"
                                                else math.nan)
                for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def faithful():
    return load_old_faithful().data


@pytest.fixture(scope="module")
def grid(faithful):
    return select_model(faithful)


# ------------------------------------------------------------- the BIC grid
def test_chooses_mclusts_model(grid):
    assert grid.best_params_ == {"n_components": 3, "covariance_type": "EEE"}
    assert grid.best_score_ == pytest.approx(-2314.316, abs=0.01)
    best = grid.rows[[(row["n_components"], row["covariance_type"]) for row in grid.rows]
                     .index((3, "EEE"))]
    assert best["log_likelihood"] == pytest.approx(-1126.326, abs=0.005)
    assert best[BIC_SKLEARN] == pytest.approx(2314.316, abs=0.01)
    assert grid.best_estimator_.n_components == 3
    assert grid.best_estimator_.covariance_type == "EEE"


def test_every_cell_matches_mclust_or_beats_it(grid):
    """Each of the 126 BICs is within 0.1 of mclust's, or higher because EM
    found a higher likelihood (our exact VVE M-step; mclust's orientation
    update drops the volumes, see covariance_mstep(mclust_compatible=...))."""
    bic = _mclust("mclust_faithful_bic.csv", "BIC")
    loglik = _mclust("mclust_faithful_bic.csv", "loglik")
    npar = _mclust("mclust_faithful_bic.csv", "npar")
    assert [(row["n_components"], row["covariance_type"]) for row in grid.rows] == list(bic)
    better = []
    for row in grid.rows:
        key = (row["n_components"], row["covariance_type"])
        assert row["status"] == "ok" and row["converged"]
        assert row["n_parameters"] == npar[key]
        difference = row[BIC_MCLUST] - bic[key]
        if difference > 0.1:
            assert row["log_likelihood"] > loglik[key] + 0.05
            better.append(key)
        else:
            assert abs(difference) <= 0.1, key
    assert all(name == "VVE" for _, name in better)
    assert len(better) <= 5


def test_table_conventions(grid):
    rows = grid.rows
    for row in rows:
        assert row[BIC_SKLEARN] == pytest.approx(-row[BIC_MCLUST])
        assert row[ICL_SKLEARN] == pytest.approx(-row[ICL_MCLUST])
        assert row[BIC_MCLUST] == pytest.approx(
            2 * row["log_likelihood"] - row["n_parameters"] * math.log(272))
        assert row[ICL_MCLUST] <= row[BIC_MCLUST] + 1e-9  # the entropy penalty is >= 0
    pd = pytest.importorskip("pandas")
    table = grid.table
    assert isinstance(table, pd.DataFrame)
    assert tuple(table.columns) == TABLE_COLUMNS
    assert len(table) == 126
    scores = grid.scores()
    assert scores.shape == (9, 14)
    assert scores[2, STRUCTURES.index("EEE")] == pytest.approx(-2314.316, abs=0.01)
    assert grid.top(1)[0][:2] == ("EEE", 3)
    assert "EEE,3" in grid.summary()


def test_icl_matches_mclust(faithful, grid):
    """ICL = BIC + 2 sum log max z (mclustICL), where the fits are mclust's (not VVE)."""
    icl = _mclust("mclust_faithful_icl.csv", "ICL")
    for row in grid.rows:
        if row["covariance_type"] != "VVE":
            key = (row["n_components"], row["covariance_type"])
            assert row[ICL_MCLUST] == pytest.approx(icl[key], abs=0.1), key
    by_icl = select_model(faithful, criterion="icl", covariance_types=["VVV", "EEE", "VEE"])
    # mclust's ICL ranking among these (VVE aside): VVV,2 then VEE,2
    assert by_icl.best_params_ == {"n_components": 2, "covariance_type": "VVV"}
    assert by_icl.best_score_ == pytest.approx(icl[(2, "VVV")], abs=0.01)


def test_univariate_matches_mclust(faithful):
    bic = _mclust("mclust_waiting_bic.csv", "BIC")
    result = select_model(faithful[:, [1]], n_components=range(1, 7))
    assert result.covariance_types == ["E", "V"]
    for row in result.rows:
        key = (row["n_components"], row["covariance_type"])
        assert row[BIC_MCLUST] == pytest.approx(bic[key], abs=0.01), key
    assert result.best_params_ == {"n_components": 2, "covariance_type": "E"}


# ---------------------------------------------------------------- the prior
def test_prior_matches_mclust_where_its_formulas_are_reproduced(faithful):
    """mclustBIC(faithful, G = 1:4, prior = priorControl()). VII, VVI, EEE and VVV
    use mclust's own MAP formulas; mclust 6.0.0 departs from Fraley & Raftery
    (2007) for EII and VEV (covariance_mstep(mclust_compatible=True) has
    them, but they are not the mode of a posterior, so EM could not be
    monotone with them), reports unshrunk means for EEI and EEV, and has no
    prior for VEE, EVE, VVE and EVV."""
    bic = _mclust("mclust_faithful_bic_prior.csv", "BIC")
    result = select_model(faithful, n_components=range(1, 5), prior="default")
    for row in result.rows:
        key = (row["n_components"], row["covariance_type"])
        assert np.isfinite(row[BIC_MCLUST]) and row["status"] == "ok"
        if key[1] in ("VII", "VVI", "EEE", "VVV") or (key[0] == 1 and np.isfinite(bic[key])):
            assert row[BIC_MCLUST] == pytest.approx(bic[key], abs=0.01), key
        elif key[0] == 1:  # no prior in mclust; one component: the VVV prior
            assert row[BIC_MCLUST] == pytest.approx(bic[(1, "VVV")], abs=0.01), key


# ------------------------------------------------- one tree, determinism, jobs
def test_one_hierarchical_tree_for_all_G(faithful, monkeypatch):
    calls = []
    original = hierarchical.hc_merges

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(hierarchical, "hc_merges", counting)
    first = select_model(faithful, n_components=range(2, 6), covariance_types=["EEE", "VVV"])
    assert len(calls) == 1
    second = select_model(faithful, n_components=range(2, 6), covariance_types=["EEE", "VVV"],
                          n_jobs=2)
    np.testing.assert_array_equal(first.scores(), second.scores())  # deterministic


def test_collapsing_components_are_repaired_or_reported(faithful):
    """Six copies of one point: components that shrink onto them are re-seeded
    by the engine ("repaired") or, if that keeps happening, reported with NaN
    criteria ("degenerate", mclust's NA); the table stays reproducible."""
    X = np.vstack([faithful, np.repeat([[3.0, 100.0]], 6, axis=0)])
    grid = dict(n_components=[4, 6, 7], covariance_types=["VVV", "VEV", "EEE"])
    first = select_model(X, **grid)
    statuses = {row["status"] for row in first.rows}
    assert statuses <= {"ok", "repaired", "degenerate"}
    assert statuses & {"repaired", "degenerate"}
    for row in first.rows:
        assert np.isnan(row[BIC_MCLUST]) == (row["status"] == "degenerate")
    np.testing.assert_array_equal(first.scores(), select_model(X, **grid).scores())


def test_other_initialisations_and_names(faithful):
    result = select_model(faithful, n_components=[2, 3], covariance_types=["full", "VVV"],
                          init_params="kmeans", random_state=0)
    scores = result.scores()
    np.testing.assert_allclose(scores[:, 0], scores[:, 1], atol=1e-6)  # full is VVV
    assert result.estimators_[(2, "full")].covariances_.shape == (2, 2, 2)
    with pytest.raises(ValueError, match="unknown covariance type"):
        select_model(faithful, covariance_types=["XYZ"])
    with pytest.raises(ValueError, match="criterion"):
        select_model(faithful, criterion="aic")
    with pytest.raises(ValueError, match="one feature"):
        select_model(faithful, covariance_types=["E"])


def test_table_without_pandas(faithful, monkeypatch):
    result = select_model(faithful, n_components=[1, 2], covariance_types=["EII"])
    monkeypatch.setitem(sys.modules, "pandas", None)
    table = result.table
    assert isinstance(table, list) and len(table) == 2
    assert set(table[0]) == set(TABLE_COLUMNS)


def test_plot_draws_mclusts_curves(grid):
    pytest.importorskip("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure()
    FigureCanvasAgg(figure)
    ax = grid.plot(ax=figure.add_subplot())
    assert len(ax.get_lines()) == 14
    assert [line.get_label() for line in ax.get_lines()] == list(STRUCTURES)
    eee = ax.get_lines()[STRUCTURES.index("EEE")]
    np.testing.assert_allclose(eee.get_xdata(), range(1, 10))
    assert np.nanmax(eee.get_ydata()) == pytest.approx(-2314.316, abs=0.01)
    assert "BIC" in ax.get_ylabel()


# --------------------------------------------------------------------- CLI
def test_cli_select(tmp_path, capsys):
    table = tmp_path / "table.csv"
    code = main(["select", str(FAITHFUL_CSV), "-k", "1:4", "--covariance-types",
                 "EEE,VVV,EII", "--table", str(table)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Chosen by BIC: EEE with 3 component(s), BIC -2314.316" in printed
    assert "-2314.316" in printed and "EII" in printed
    assert "eruptions" in printed  # the chosen model's summary
    with open(table, newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == TABLE_COLUMNS
    assert len(rows) == 1 + 4 * 3


def test_cli_select_errors(tmp_path, capsys):
    assert main(["select", str(FAITHFUL_CSV), "--covariance-types", "ABC"]) == 2
    assert "unknown covariance type" in capsys.readouterr().err
    assert main(["select", str(FAITHFUL_CSV), "-k", "0:3"]) == 2
    assert "must be >= 1" in capsys.readouterr().err
