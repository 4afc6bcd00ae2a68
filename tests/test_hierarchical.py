"""mclust's model-based hierarchical initialisation (hc VVV, use = "SVD") vs R mclust 6.0.0.

Reference partitions come from ``benchmarks/mclust_reference.R``.
"""

import csv
from pathlib import Path

import numpy as np
import pytest

from emkit._engine.hierarchical import (
    hc_merges,
    hc_transform,
    hierarchical_partition,
    hierarchical_partitions,
    qclass,
)

DATA = Path(__file__).parent / "data"
FAITHFUL = (
    Path(__file__).parents[1] / "src" / "emkit" / "datasets" / "data" / "old_faithful.csv"
)


def _read(name):
    with open(DATA / name) as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array(rows[1:], dtype=float)


def _ari(a, b):
    """Adjusted Rand index (no sklearn needed)."""
    a = np.unique(a, return_inverse=True)[1]
    b = np.unique(b, return_inverse=True)[1]
    C = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(C, (a, b), 1)
    comb = lambda x: x * (x - 1) / 2.0  # noqa: E731
    s, sa, sb = comb(C).sum(), comb(C.sum(1)).sum(), comb(C.sum(0)).sum()
    exp = sa * sb / comb(a.size)
    den = 0.5 * (sa + sb) - exp
    return 1.0 if den == 0 else (s - exp) / den


@pytest.fixture(scope="module")
def faithful():
    return np.loadtxt(FAITHFUL, delimiter=",", skiprows=1)


@pytest.fixture(scope="module")
def faithful_partitions(faithful):
    return hierarchical_partitions(faithful, range(1, 10))


def test_faithful_partitions_equal_mclust(faithful_partitions):
    head, cl = _read("mclust_faithful_hc.csv")
    assert head == [f"K{k}" for k in range(1, 10)]
    for K in range(1, 10):
        ref = cl[:, K - 1].astype(int) - 1
        lab = faithful_partitions[K]
        assert _ari(lab, ref) == pytest.approx(1.0)
        # labels numbered by first appearance, like mclust's hclass
        np.testing.assert_array_equal(lab, ref)


def test_faithful_merge_sequence_equals_mclust(faithful):
    _, pairs = _read("mclust_faithful_hcpairs.csv")
    merges, costs = hc_merges(hc_transform(faithful, "SVD"))
    assert merges.shape == (271, 2)
    np.testing.assert_array_equal(np.sort(merges, axis=1) + 1, np.sort(pairs.astype(int), axis=1))
    assert np.all(np.isfinite(costs))


def test_iris_partitions_equal_mclust():
    _, A = _read("mclust_iris_hc.csv")
    X, cl = A[:, :4], A[:, 4:].astype(int)
    parts = hierarchical_partitions(X, range(1, 10))
    for K in range(1, 10):
        np.testing.assert_array_equal(parts[K], cl[:, K - 1] - 1)


def test_single_call_matches_batch_and_is_deterministic(faithful, faithful_partitions):
    lab = hierarchical_partition(faithful, 3)
    np.testing.assert_array_equal(lab, faithful_partitions[3])
    np.testing.assert_array_equal(lab, hierarchical_partition(faithful, 3, random_state=99))
    assert lab.dtype.kind == "i" and set(lab) == {0, 1, 2}


def test_svd_transform_is_mclust_scaled_svd(faithful):
    Z = hc_transform(faithful, "SVD")
    S = (faithful - faithful.mean(0)) / faithful.std(0, ddof=1)
    d = np.linalg.svd(S, compute_uv=False)
    # Z^T Z = diag(d): rotated onto principal axes, divided by sqrt(d)
    np.testing.assert_allclose(Z.T @ Z, np.diag(d), atol=1e-9)
    for use in ("VARS", "STD", "PCR", "PCS", "SPH"):
        assert hc_transform(faithful, use).shape == faithful.shape
    with pytest.raises(ValueError):
        hc_transform(faithful, "BAD")


def test_subset_path_assigns_everything():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (150, 2)), rng.normal(6, 1, (150, 2))])
    lab = hierarchical_partition(X, 2, max_samples=120, random_state=1)
    assert lab.shape == (300,) and set(lab) == {0, 1}
    truth = np.repeat([0, 1], 150)
    assert _ari(lab, truth) > 0.95
    lab2 = hierarchical_partition(X, 2, max_samples=120, random_state=1)
    np.testing.assert_array_equal(lab, lab2)


def test_univariate_uses_quantile_classes():
    x = np.arange(10.0)
    np.testing.assert_array_equal(qclass(x, 2), [0] * 5 + [1] * 5)
    lab = hierarchical_partition(x[:, None], 3)
    assert set(lab) == {0, 1, 2}
    assert np.all(np.diff(lab) >= 0)


def test_bad_arguments(faithful):
    with pytest.raises(ValueError):
        hierarchical_partition(faithful, 0)
    with pytest.raises(NotImplementedError):
        hierarchical_partition(faithful, 2, model="EII")
    assert np.all(hierarchical_partition(faithful, 1) == 0)
