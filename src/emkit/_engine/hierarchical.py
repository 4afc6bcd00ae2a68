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

Cost: O(n^2) memory and O(n^2) numpy work per merge, a few seconds for
n = 2000 and D small.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

__all__ = ["hierarchical_partition", "hierarchical_partitions", "hc_merges", "hc_transform", "qclass"]

_USES = ("VARS", "STD", "PCR", "PCS", "SPH", "SVD")


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
        # columns that are not finite afterwards (constant columns).
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
        Z = X - X.mean(axis=0)
        Sigma = Z.T @ Z / n
        _, s, Vt = np.linalg.svd(Sigma)
        Z = Z @ Vt.T / np.sqrt(s)
        return Z[:, np.all(np.isfinite(Z), axis=0)]
    # SVD
    Z = standardise(X)
    _, d, Vt = np.linalg.svd(Z, full_matrices=False)
    k = min(Z.shape)
    return Z @ Vt[:k].T / np.sqrt(d[:k])


def _batched_det(A):
    """Determinants of a stack of small matrices (explicit formulas for D <= 3)."""
    p = A.shape[-1]
    if p == 1:
        return A[..., 0, 0]
    if p == 2:
        return A[..., 0, 0] * A[..., 1, 1] - A[..., 0, 1] * A[..., 1, 0]
    if p == 3:
        return (
            A[..., 0, 0] * (A[..., 1, 1] * A[..., 2, 2] - A[..., 1, 2] * A[..., 2, 1])
            - A[..., 0, 1] * (A[..., 1, 0] * A[..., 2, 2] - A[..., 1, 2] * A[..., 2, 0])
            + A[..., 0, 2] * (A[..., 1, 0] * A[..., 2, 1] - A[..., 1, 1] * A[..., 2, 0])
        )
    return np.linalg.det(A)


def _terms(n, tr, logdet_part, alpha, p):
    """n * log(|W/n| + (tr + alpha)/n); the determinant only counts for n > p."""
    det = np.where(n > p, logdet_part, 0.0)
    return n * np.log(det + (tr + alpha) / n)


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
    Z = np.asarray(Z, dtype=float)
    n, p = Z.shape
    Zc = Z - Z.mean(axis=0)
    alpha = max(alpha * float(np.sum(Zc * Zc)) / (n * p), np.finfo(float).eps)

    # per-slot cluster statistics
    cnt = np.ones(n)
    mean = Z.copy()
    W = np.zeros((n, p, p))
    tr = np.zeros(n)
    term = np.full(n, np.log(alpha))
    name = np.arange(n)  # smallest observation index in the slot's cluster

    def pair_costs(i, js):
        """Merge costs of slot i with slots js (vectorised) and merged stats."""
        ni, nj = cnt[i], cnt[js]
        nij = ni + nj
        diff = mean[i] - mean[js]
        w = (ni * nj / nij)[:, None, None] * np.einsum("ka,kb->kab", diff, diff)
        Wij = W[i] + W[js] + w
        trij = np.trace(Wij, axis1=1, axis2=2)
        det = np.maximum(_batched_det(Wij / nij[:, None, None]), 0.0)
        tij = _terms(nij, trij, det, alpha, p)
        return tij - term[i] - term[js]

    # full symmetric cost matrix of the active slots 0..lg-1
    Dm = np.full((n, n), np.inf)
    for i in range(n - 1):
        js = np.arange(i + 1, n)
        c = pair_costs(i, js)
        Dm[i, js] = c
        Dm[js, i] = c

    merges = np.empty((n - 1, 2), dtype=int)
    costs = np.empty(n - 1)

    # Column minima over the rows above the diagonal: colmin[j] = min_{i<j}
    # Dm[i, j], attained last (largest i) at colarg[j].  The global choice is
    # then the smallest colmin, last (largest j) among ties, which is the
    # Fortran's "last minimum in the order (1,2), (1,3), (2,3), (1,4), ...".
    colmin = np.full(n, np.inf)
    colarg = np.zeros(n, dtype=int)

    def recompute_column(k):
        col = Dm[:k, k]
        r = k - 1 - int(np.argmin(col[::-1]))
        colmin[k] = col[r]
        colarg[k] = r

    for k in range(1, n):
        recompute_column(k)

    def row_changed(r, lg, skip):
        # entries Dm[r, k], k > r, have new values
        ks = np.arange(r + 1, lg)
        ks = ks[~np.isin(ks, skip)]
        if ks.size == 0:
            return
        new = Dm[r, ks]
        better = (new < colmin[ks]) | ((new == colmin[ks]) & (r > colarg[ks]))
        colmin[ks[better]] = new[better]
        colarg[ks[better]] = r
        stale = ks[(~better) & (colarg[ks] == r) & (new > colmin[ks])]
        for k in stale:
            recompute_column(int(k))

    lg = n
    for step in range(n - 1):
        m = colmin[1:lg].min()
        j = int(np.flatnonzero(colmin[1:lg] == m)[-1]) + 1
        i = int(colarg[j])
        merges[step] = sorted((name[i], name[j]))
        costs[step] = m

        # merged statistics into slot i
        ni, nj = cnt[i], cnt[j]
        nij = ni + nj
        diff = mean[i] - mean[j]
        W[i] = W[i] + W[j] + (ni * nj / nij) * np.outer(diff, diff)
        mean[i] = (ni * mean[i] + nj * mean[j]) / nij
        cnt[i] = nij
        tr[i] = np.trace(W[i])
        det = float(_batched_det(W[i] / nij))
        term[i] = _terms(np.array(nij), np.array(tr[i]), max(det, 0.0), alpha, p)
        name[i] = min(name[i], name[j])

        # the cluster in the last slot moves into slot j (Fortran's wardsw)
        last = lg - 1
        moved = j != last
        if moved:
            cnt[j], mean[j], W[j], tr[j], term[j], name[j] = (
                cnt[last], mean[last].copy(), W[last].copy(), tr[last], term[last], name[last]
            )
            Dm[j, :lg] = Dm[last, :lg]
            Dm[:lg, j] = Dm[:lg, last]
            Dm[j, j] = np.inf
        Dm[last, :] = np.inf
        Dm[:, last] = np.inf
        colmin[last] = np.inf
        lg -= 1
        if lg > 1:
            others = np.delete(np.arange(lg), i)
            c = pair_costs(i, others)
            Dm[i, others] = c
            Dm[others, i] = c
        # refresh the column minima touched by the move and the merge
        full = [k for k in ((j,) if moved and j < lg else ()) + (i,) if k >= 1]
        for k in full:
            recompute_column(k)
        row_changed(i, lg, full)
        if moved and j < lg:
            row_changed(j, lg, full)
    return merges, costs


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
    x = np.asarray(x, dtype=float).ravel()
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
    Z = hc_transform(X, use)
    merges, _ = hc_merges(Z)
    return _cut(merges, n, K)


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
    if p == 1 or n > max_samples or model.upper() != "VVV":
        return {k: hierarchical_partition(X, k, model=model, use=use, max_samples=max_samples,
                                          random_state=random_state) for k in ks}
    for k in ks:
        if not 1 <= k <= n:
            raise ValueError(f"n_components must be in [1, n_samples={n}], got {k}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains non-finite values")
    merges, _ = hc_merges(hc_transform(X, use))
    return {k: _cut(merges, n, k) for k in ks}
