"""Model-based agglomerative hierarchical clustering (mclust's ``hc``), used to start EM.

R mclust starts every ``Mclust``/``mclustBIC`` fit from the partition of a
model-based hierarchical clustering: ``hc(data, modelName = "VVV",
use = "SVD")`` followed by ``hclass(hcPairs, G)``.  This module reproduces
that partition in pure numpy.

The agglomeration (``hcVVV``, Fraley 1998; Fraley & Raftery 2002) starts from
singletons and repeatedly merges the pair of clusters whose merge increases
the *classification* criterion the least.  With ``alpha`` a small trace
regulariser the cost of a cluster ``c`` with ``n_c`` points, scatter matrix
``W_c`` and ``tr_c = tr(W_c)`` is (mclust's ``vvvtij``, ``beta = 1``)::

    term(c) = n_c * log( |W_c / n_c| + (tr_c + alpha) / n_c )

(the determinant is 0 while ``n_c <= D``), i.e. the VVV classification
log-likelihood made finite for small clusters by the trace term; a singleton
costs ``log(alpha)``.  The pair ``(i, j)`` with the smallest
``term(i u j) - term(i) - term(j)`` is merged; ties go to the *last* pair in
mclust's scan order (pairs ordered by the larger slot index, then by the
smaller), and after a merge the cluster in the last slot moves into the
freed slot, exactly as the Fortran does, so that even tied costs (duplicated
observations) are resolved the same way.  ``alpha = tr(Z^T Z)/(n D)`` for
centred data ``Z`` (``hcVVV(..., alpha = 1)`` times ``traceW(Z/sqrt(nD))``).

Before clustering, ``use`` transforms the data like ``mclust::hc``; the
default ``"SVD"`` (``mclust.options("hcUse")``) is
``Z = scale(X) %*% V %*% diag(1/sqrt(d))`` with ``scale(X) = U diag(d) V^T``,
i.e. the standardised data rotated onto its principal axes and divided by
the square roots of the singular values.  The clustering is invariant to the
signs of the singular vectors.

Univariate data: mclust does not run ``hc`` but cuts the data at quantiles
(``qclass``); so does :func:`hierarchical_partition` for D = 1.

Large data: as ``mclustBIC`` does when ``n > mclust.options("subset")``
(2000), only a random subset of ``max_samples`` rows is clustered; the other
rows are then assigned by one classification step: a VVV Gaussian (mean,
covariance, weight) is estimated from each subset cluster and each remaining
point goes to the component with the largest posterior.  (mclust instead runs
the M-step of the model being fitted on the subset and an E-step on all the
data; the hard version here keeps this function model-free.)

Cost: O(n^2) memory and O(n) compiled work per merge (O(n^2) when a column
minimum must be recomputed): milliseconds for a few hundred samples, about a
second for n = 2000 and D small.
"""

from __future__ import annotations

import math
from typing import Optional

import numba
import numpy as np

__all__ = ["hierarchical_partition", "hierarchical_partitions", "hc_merges", "hc_transform", "qclass"]

_USES = ("VARS", "STD", "PCR", "PCS", "SPH", "SVD")


def _power_of_two_scaled(A, axis=None):
    """``A`` divided by a power of two near its largest magnitude (per column for axis=0).

    Scaling by a power of two is exact in floating point, so every later
    sum, product, square root and quotient gives bit for bit the result of
    the unscaled arithmetic, wherever that does not underflow or overflow;
    and on the scaled values (magnitudes below 1) squares cannot underflow
    to zero or overflow to infinity, at any scale of the data (1e-300 data
    squared underflows to 0; 1e300 data squared overflows). The scale-free
    steps below (standardising, whitening, posterior classification) thus
    do not depend on the data's units.
    """
    with np.errstate(invalid="ignore"):
        largest = np.max(np.abs(A), axis=axis, keepdims=axis is not None)
    _, exponent = np.frexp(np.where(np.isfinite(largest), largest, 0.0))
    return np.ldexp(A, -exponent)


def hc_transform(X, use: str = "SVD"):
    """Transform the data as ``mclust::hc(..., use=use)`` does before clustering.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
    use : {"SVD", "VARS", "STD", "PCR", "PCS", "SPH"}

    Returns
    -------
    Z : ndarray, shape (n_samples, n_features')
    """
    X = np.asarray(X, dtype=float)
    use = use.upper()
    if use not in _USES:
        raise ValueError(f"use must be one of {_USES}, got {use!r}")
    n, p = X.shape

    def standardise(A):
        # R's scale(): centre and divide by the sample sd (n - 1); drop
        # columns that are not finite afterwards (constant columns). The
        # exact power-of-two rescaling keeps the squares in range.
        A = _power_of_two_scaled(A, axis=0)
        sd = A.std(axis=0, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            Z = (A - A.mean(axis=0)) / sd
        return Z[:, np.all(np.isfinite(Z), axis=0)]

    if use == "VARS":
        return X.copy()
    if use == "STD":
        return standardise(X)
    if use == "PCR":
        Z = standardise(X)
        _, _, Vt = np.linalg.svd(Z, full_matrices=False)
        return Z @ Vt.T
    if use == "PCS":
        Z = X - X.mean(axis=0)
        _, _, Vt = np.linalg.svd(Z, full_matrices=False)
        Z = Z @ Vt.T
        return Z[:, np.all(np.isfinite(Z), axis=0)]
    if use == "SPH":
        Z = _power_of_two_scaled(X)  # whitened: the scale drops out
        Z = Z - Z.mean(axis=0)
        Sigma = Z.T @ Z / n
        _, s, Vt = np.linalg.svd(Sigma)
        Z = Z @ Vt.T / np.sqrt(s)
        return Z[:, np.all(np.isfinite(Z), axis=0)]
    # SVD
    Z = standardise(X)
    _, d, Vt = np.linalg.svd(Z, full_matrices=False)
    k = min(Z.shape)
    return Z @ Vt[:k].T / np.sqrt(d[:k])


def hc_merges(Z, alpha: float = 1.0):
    """Merge sequence of mclust's ``hcVVV`` on already transformed data.

    Parameters
    ----------
    Z : array-like, shape (n_samples, n_features)
    alpha : float, default 1.0
        Multiplier of the trace regulariser (``hcVVV``'s ``alpha``).

    Returns
    -------
    merges : ndarray, shape (n_samples - 1, 2), int
        Row ``m`` holds the two observation sets merged at step ``m``, each
        named by the smallest observation index it contains.
    costs : ndarray, shape (n_samples - 1,)
        The merge costs ``term(i u j) - term(i) - term(j)``.
    """
    Z = np.ascontiguousarray(Z, dtype=float)
    n, p = Z.shape
    if p == 0 or not np.all(np.isfinite(Z)):
        raise ValueError(
            f"Z must be a finite array with at least one column; got shape {Z.shape}. "
            f"(After hc_transform, constant columns are dropped: data whose every "
            f"column is constant cannot be clustered.)")
    Zc = Z - Z.mean(axis=0)
    alpha = max(alpha * float(np.sum(Zc * Zc)) / (n * p), np.finfo(float).eps)
    merges = np.empty((max(n - 1, 0), 2), dtype=np.int64)
    costs = np.empty(max(n - 1, 0))
    if n > 1:
        _hc_merges(Z, alpha, merges, costs)
    return merges, costs


# The agglomeration is a loop of n merges, each touching O(n) pairs: compiled,
# it costs milliseconds for a few hundred points where numpy calls per merge
# cost a tenth of a second. The arithmetic is written in the order of the
# reference formulas so that tied costs (duplicate points) tie exactly.
@numba.njit(cache=True, nogil=True)
def _det_small(A):
    p = A.shape[0]
    if p == 1:
        return A[0, 0]
    if p == 2:
        return A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0]
    if p == 3:
        return (
            A[0, 0] * (A[1, 1] * A[2, 2] - A[1, 2] * A[2, 1])
            - A[0, 1] * (A[1, 0] * A[2, 2] - A[1, 2] * A[2, 0])
            + A[0, 2] * (A[1, 0] * A[2, 1] - A[1, 1] * A[2, 0])
        )
    return np.linalg.det(A)


@numba.njit(cache=True, nogil=True)
def _term(n, trace, det, alpha, p):
    """n * log(|W/n| + (tr + alpha)/n); the determinant only counts for n > p."""
    if not n > p:
        det = 0.0
    return n * math.log(det + (trace + alpha) / n)


@numba.njit(cache=True, nogil=True)
def _pair_cost(i, j, cnt, mean, W, term, alpha, work):
    """Cost term(i u j) - term(i) - term(j) of merging slots i and j."""
    p = mean.shape[1]
    ni = cnt[i]
    nj = cnt[j]
    nij = ni + nj
    factor = ni * nj / nij
    trace = 0.0
    for a in range(p):
        for b in range(p):
            work[a, b] = (W[i, a, b] + W[j, a, b]) + factor * (
                (mean[i, a] - mean[j, a]) * (mean[i, b] - mean[j, b]))
    for a in range(p):
        trace += work[a, a]
    for a in range(p):
        for b in range(p):
            work[a, b] = work[a, b] / nij
    det = max(_det_small(work), 0.0)
    return _term(nij, trace, det, alpha, p) - term[i] - term[j]


@numba.njit(cache=True, nogil=True)
def _recompute_column(k, Dm, colmin, colarg):
    # min over rows above the diagonal, the last (largest row) among ties
    best = np.inf
    arg = k - 1
    for r in range(k):
        if Dm[r, k] <= best:
            best = Dm[r, k]
            arg = r
    colmin[k] = best
    colarg[k] = arg


@numba.njit(cache=True, nogil=True)
def _row_changed(r, lg, skip_a, skip_b, Dm, colmin, colarg):
    # entries Dm[r, k], k > r, have new values
    for k in range(r + 1, lg):
        if k == skip_a or k == skip_b:
            continue
        new = Dm[r, k]
        if new < colmin[k] or (new == colmin[k] and r > colarg[k]):
            colmin[k] = new
            colarg[k] = r
        elif colarg[k] == r and new > colmin[k]:
            _recompute_column(k, Dm, colmin, colarg)


@numba.njit(cache=True, nogil=True)
def _hc_merges(Z, alpha, merges, costs):
    n, p = Z.shape
    cnt = np.ones(n)
    mean = Z.copy()
    W = np.zeros((n, p, p))
    tr = np.zeros(n)
    term = np.full(n, math.log(alpha))
    name = np.arange(n)  # smallest observation index in the slot's cluster
    work = np.empty((p, p))

    # full symmetric cost matrix of the active slots 0..lg-1
    Dm = np.full((n, n), np.inf)
    for i in range(n - 1):
        for j in range(i + 1, n):
            c = _pair_cost(i, j, cnt, mean, W, term, alpha, work)
            Dm[i, j] = c
            Dm[j, i] = c

    # Column minima over the rows above the diagonal: colmin[j] = min_{i<j}
    # Dm[i, j], attained last (largest i) at colarg[j].  The global choice is
    # then the smallest colmin, last (largest j) among ties, which is the
    # Fortran's "last minimum in the order (1,2), (1,3), (2,3), (1,4), ...".
    colmin = np.full(n, np.inf)
    colarg = np.zeros(n, dtype=np.int64)
    for k in range(1, n):
        _recompute_column(k, Dm, colmin, colarg)

    lg = n
    for step in range(n - 1):
        m = np.inf
        j = 1
        for k in range(1, lg):
            if colmin[k] <= m:
                m = colmin[k]
                j = k
        i = colarg[j]
        merges[step, 0] = min(name[i], name[j])
        merges[step, 1] = max(name[i], name[j])
        costs[step] = m

        # merged statistics into slot i
        ni = cnt[i]
        nj = cnt[j]
        nij = ni + nj
        factor = ni * nj / nij
        for a in range(p):
            for b in range(p):
                W[i, a, b] = (W[i, a, b] + W[j, a, b]) + factor * (
                    (mean[i, a] - mean[j, a]) * (mean[i, b] - mean[j, b]))
        for a in range(p):
            mean[i, a] = (ni * mean[i, a] + nj * mean[j, a]) / nij
        cnt[i] = nij
        trace = 0.0
        for a in range(p):
            trace += W[i, a, a]
        tr[i] = trace
        for a in range(p):
            for b in range(p):
                work[a, b] = W[i, a, b] / nij
        term[i] = _term(nij, tr[i], max(_det_small(work), 0.0), alpha, p)
        name[i] = min(name[i], name[j])

        # the cluster in the last slot moves into slot j (Fortran's wardsw)
        last = lg - 1
        moved = j != last
        if moved:
            cnt[j] = cnt[last]
            mean[j] = mean[last]
            W[j] = W[last]
            tr[j] = tr[last]
            term[j] = term[last]
            name[j] = name[last]
            for k in range(lg):
                Dm[j, k] = Dm[last, k]
            for k in range(lg):
                Dm[k, j] = Dm[k, last]
            Dm[j, j] = np.inf
        Dm[last, :] = np.inf
        Dm[:, last] = np.inf
        colmin[last] = np.inf
        lg -= 1
        if lg > 1:
            for k in range(lg):
                if k != i:
                    c = _pair_cost(i, k, cnt, mean, W, term, alpha, work)
                    Dm[i, k] = c
                    Dm[k, i] = c
        # refresh the column minima touched by the move and the merge
        skip_a = j if (moved and j < lg and j >= 1) else -1
        skip_b = i if i >= 1 else -1
        if skip_a >= 0:
            _recompute_column(skip_a, Dm, colmin, colarg)
        if skip_b >= 0:
            _recompute_column(skip_b, Dm, colmin, colarg)
        _row_changed(i, lg, skip_a, skip_b, Dm, colmin, colarg)
        if moved and j < lg:
            _row_changed(j, lg, skip_a, skip_b, Dm, colmin, colarg)


def _relabel_first_appearance(labels):
    """Consecutive labels 0..K-1 in order of first appearance (mclust's partconv)."""
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    mapping = np.empty(order.size, dtype=int)
    mapping[order] = np.arange(order.size)
    uniq = np.unique(labels)
    return mapping[np.searchsorted(uniq, labels)]


def _cut(merges, n, n_components):
    """Partition after n - n_components merges (mclust's hclass)."""
    labels = np.arange(n)
    for a, b in merges[: n - n_components]:
        lo, hi = min(a, b), max(a, b)
        labels[labels == hi] = lo
    return _relabel_first_appearance(labels)


def qclass(x, k: int):
    """mclust's ``qclass``: cut univariate data into ``k`` quantile classes.

    Parameters
    ----------
    x : array-like, shape (n_samples,)
    k : int

    Returns
    -------
    labels : ndarray, shape (n_samples,), ints 0..k-1
    """
    # The quantiles and the margin eps scale exactly with the data; at 1e-300
    # the unscaled standard deviation would underflow to 0 and the largest
    # points would fall outside every class.
    x = _power_of_two_scaled(np.asarray(x, dtype=float).ravel())
    eps = x.std(ddof=1) * np.sqrt(np.finfo(float).eps) if x.size > 1 else 0.0
    q = np.array([np.nan])
    m = k
    while q.size < k + 1:
        m += 1
        q = np.unique(np.quantile(x, np.linspace(0.0, 1.0, m)))
        if m > x.size + k + 2:  # fewer distinct values than classes
            break
    if q.size > k + 1:
        dq = np.diff(q)
        nr = q.size - k - 1
        drop = np.argsort(dq, kind="stable")[:nr]
        q = np.delete(q, drop)
    q[0] = x.min() - eps
    q[-1] = x.max() + eps
    cl = np.full(x.size, -1)
    for i in range(q.size - 1):
        cl[(x >= q[i]) & (x < q[i + 1])] = i
    return cl


def _classify_rest(X, sub_idx, sub_labels, K):
    """Assign every row to a VVV Gaussian fitted to each subset cluster (hard E-step)."""
    n, p = X.shape
    # The classification is unchanged by a common rescaling (the log
    # determinants shift every component alike); rescaling keeps the
    # covariances in range.
    X = _power_of_two_scaled(X)
    logp = np.empty((n, K))
    tot_var = np.cov(X[sub_idx].T).reshape(p, p)
    ridge = 1e-6 * np.trace(tot_var) / p + np.finfo(float).tiny
    for k in range(K):
        Xk = X[sub_idx[sub_labels == k]]
        nk = Xk.shape[0]
        mu = Xk.mean(axis=0)
        R = Xk - mu
        S = R.T @ R / nk if nk > p else np.diag(np.diag(tot_var))
        S = S + ridge * np.eye(p)
        L = np.linalg.cholesky(S)
        Y = np.linalg.solve(L, (X - mu).T)
        logp[:, k] = (
            np.log(nk / sub_idx.size)
            - np.log(np.diagonal(L)).sum()
            - 0.5 * np.sum(Y * Y, axis=0)
        )
    labels = np.argmax(logp, axis=1)
    labels[sub_idx] = sub_labels
    return labels


def hierarchical_partition(
    X,
    n_components: int,
    *,
    model: str = "VVV",
    use: str = "SVD",
    max_samples: int = 2000,
    random_state=None,
):
    """Initial partition from mclust's model-based hierarchical clustering.

    Reproduces ``hclass(hc(X, modelName = "VVV", use = "SVD"), K)``, the
    partition ``Mclust``/``mclustBIC`` start EM from.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
    n_components : int
        K, the number of clusters wanted (1 <= K <= n_samples).
    model : {"VVV"}, default "VVV"
        The agglomeration criterion (only mclust's default, VVV, is
        implemented).  Ignored for univariate data, which is cut at
        quantiles as mclust does (``qclass``).
    use : {"SVD", "VARS", "STD", "PCR", "PCS", "SPH"}, default "SVD"
        Data transformation applied first (``mclust.options("hcUse")``).
    max_samples : int, default 2000
        If ``n_samples > max_samples``, cluster a random subset of this size
        (mclust's ``mclust.options("subset")``) and assign the other rows by
        one hard classification step (see the module docstring).
    random_state : None, int or numpy Generator
        Seeds the subset choice only; with ``n_samples <= max_samples`` the
        result is deterministic and independent of it.

    Returns
    -------
    labels : ndarray, shape (n_samples,), int
        Cluster labels 0..K-1, numbered in order of first appearance (so
        that, where the partitions agree, they equal mclust's ``hclass``
        column minus one).
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError("X must be 2-dimensional")
    n, p = X.shape
    K = int(n_components)
    if not 1 <= K <= n:
        raise ValueError(f"n_components must be in [1, n_samples={n}], got {K}")
    if model.upper() != "VVV":
        raise NotImplementedError("only model='VVV' (mclust's default) is implemented")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains non-finite values")
    if K == 1:
        return np.zeros(n, dtype=int)
    if p == 1:
        return _relabel_first_appearance(qclass(X[:, 0], K))
    if n > max_samples:
        rng = np.random.default_rng(random_state)
        sub = np.sort(rng.choice(n, size=max_samples, replace=False))
        sub_labels = hierarchical_partition(X[sub], K, model=model, use=use,
                                            max_samples=max_samples)
        return _relabel_first_appearance(_classify_rest(X, sub, sub_labels, K))
    merges, _ = hc_merges(_transformed(X, use))
    return _cut(merges, n, K)


def _transformed(X, use):
    """hc_transform(X, use), refusing data with no varying column (nothing to agglomerate)."""
    Z = hc_transform(X, use)
    if Z.shape[1] == 0:
        raise ValueError(
            "X has no varying feature: every column is constant, so the hierarchical "
            "start has nothing to split. Use one component, or check the data (all "
            "samples are the same point).")
    return Z


def hierarchical_partitions(X, n_components_list, *, model: str = "VVV", use: str = "SVD",
                            max_samples: int = 2000, random_state=None):
    """Partitions for several K from a single agglomeration (mclust's ``hclass(h, G)``).

    Same parameters as :func:`hierarchical_partition` but ``n_components_list``
    is an iterable of K; the hierarchy is built once, as ``mclustBIC`` does
    for ``G = 1:9``.

    Returns
    -------
    dict
        ``{K: labels (n_samples,)}``.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    n, p = X.shape
    ks = [int(k) for k in n_components_list]
    if p == 1 or n > max_samples or model.upper() != "VVV" or all(k == 1 for k in ks):
        return {k: hierarchical_partition(X, k, model=model, use=use, max_samples=max_samples,
                                          random_state=random_state) for k in ks}
    for k in ks:
        if not 1 <= k <= n:
            raise ValueError(f"n_components must be in [1, n_samples={n}], got {k}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains non-finite values")
    merges, _ = hc_merges(_transformed(X, use))
    return {k: _cut(merges, n, k) for k in ks}
