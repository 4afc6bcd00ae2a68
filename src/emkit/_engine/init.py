"""Initial partitions for mixture-type models.

Each strategy returns responsibilities of shape (n_samples, n_components);
the model turns them into parameters with one M-step, so every model that can
take responsibilities gets every strategy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["INIT_METHODS", "initial_responsibilities", "nearest_center_labels", "one_hot", "clamp_to_labels", "far_point",
           "align_to_labels", "start_for_labels"]

INIT_METHODS = ("kmeans", "k-means++", "random", "random_from_data", "hierarchical")


def one_hot(labels: np.ndarray, n_components: int, dtype=np.float64) -> np.ndarray:
    """Hard responsibilities from labels, shape (n_samples, n_components)."""
    resp = np.zeros((labels.shape[0], n_components), dtype=dtype)
    resp[np.arange(labels.shape[0]), labels] = 1.0
    return resp


def nearest_center_labels(X: np.ndarray, centers: np.ndarray, chunk_size: int = 65536) -> np.ndarray:
    """Index of the nearest centre (Euclidean) for every sample, chunked."""
    centers = np.asarray(centers, dtype=np.float64)
    center_norms = np.einsum("kd,kd->k", centers, centers)
    labels = np.empty(X.shape[0], dtype=np.intp)
    for start in range(0, X.shape[0], chunk_size):
        block = np.asarray(X[start : start + chunk_size], dtype=np.float64)
        distances = center_norms - 2.0 * block @ centers.T
        labels[start : start + chunk_size] = distances.argmin(axis=1)
    return labels


def initial_responsibilities(X, n_components, method, random_state, sample_weight=None):
    """Responsibilities to start EM from.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_components : int
    method : {"kmeans", "k-means++", "random", "random_from_data", "hierarchical"}
        ``"kmeans"``: one run of Lloyd's k-means (scikit-learn's KMeans);
        ``"k-means++"``: k-means++ seeding, then every sample to its nearest seed;
        ``"random"``: random soft responsibilities (scikit-learn's "random");
        ``"random_from_data"``: distinct random samples as seeds, then nearest seed;
        ``"hierarchical"``: mclust-style model-based agglomeration (deterministic).
        scikit-learn's "k-means++" and "random_from_data" give responsibility only
        to the seed points themselves, so every initial covariance is just
        ``reg_covar``; assigning all samples gives usable covariances.
    random_state : numpy RandomState
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    resp : ndarray of shape (n_samples, n_components)
    """
    n_samples = X.shape[0]
    K = n_components
    if method == "kmeans":
        from sklearn.cluster import KMeans

        labels = KMeans(n_clusters=K, n_init=1, random_state=random_state).fit(
            X, sample_weight=sample_weight
        ).labels_
        return one_hot(labels, K)
    if method == "k-means++":
        from sklearn.cluster import kmeans_plusplus

        centers, _ = kmeans_plusplus(
            np.asarray(X, dtype=np.float64), K, random_state=random_state,
            sample_weight=sample_weight,
        )
        return one_hot(nearest_center_labels(X, centers), K)
    if method == "random":
        resp = random_state.uniform(size=(n_samples, K))
        return resp / resp.sum(axis=1, keepdims=True)
    if method == "random_from_data":
        probabilities = None
        if sample_weight is not None:
            probabilities = sample_weight / sample_weight.sum()
        seeds = random_state.choice(n_samples, size=K, replace=False, p=probabilities)
        return one_hot(nearest_center_labels(X, X[seeds]), K)
    if method == "hierarchical":
        from .hierarchical import hierarchical_partition

        labels = hierarchical_partition(X, K, random_state=random_state)
        return one_hot(labels, K)
    raise ValueError(f"init_params must be one of {INIT_METHODS}, got {method!r}")


def clamp_to_labels(resp, labels):
    """Responsibilities with labelled samples fixed to their component.

    Parameters
    ----------
    resp : ndarray of shape (n_samples, n_components)
        Not modified.
    labels : ndarray of int of shape (n_samples,) or None
        Component index, or -1 for an unlabelled sample.

    Returns
    -------
    resp : ndarray of shape (n_samples, n_components)
        A copy with one-hot rows for labelled samples (``resp`` itself when
        ``labels`` is None).
    """
    if labels is None:
        return resp
    labelled = np.flatnonzero(labels >= 0)
    resp = np.array(resp, dtype=np.float64, copy=True)
    resp[labelled] = 0.0
    resp[labelled, labels[labelled]] = 1.0
    return resp


def far_point(rows, means, rng, *, fill=None, max_candidates=4096):
    """A row drawn with probability proportional to its squared distance to
    the nearest of ``means`` (k-means++ seeding): where a re-seeded component
    is put, so that it lands where the current components explain least.

    Parameters
    ----------
    rows : ndarray of shape (n, D)
        Candidate points (NaN entries are replaced by ``fill``).
    means : ndarray of shape (K, D)
    rng : numpy RandomState
    fill : ndarray of shape (D,) or None
        Replacement for missing entries (the data's centre).
    max_candidates : int
        At most this many rows are looked at (a uniform subset).

    Returns
    -------
    ndarray of shape (D,)
    """
    n = rows.shape[0]
    candidates = rng.choice(n, size=min(n, max_candidates), replace=False)
    points = np.asarray(rows[candidates], dtype=np.float64)
    if fill is not None:
        points = np.where(np.isnan(points), fill, points)
    distances = ((points[:, None, :] - means[None, :, :]) ** 2).sum(-1).min(axis=1)
    total = distances.sum()
    if not np.isfinite(total) or total <= 0:
        return points[0]
    return points[rng.choice(points.shape[0], p=distances / total)]


def align_to_labels(resp, labels):
    """Initial responsibilities with their columns permuted to agree with partial labels.

    An unsupervised starting partition names its clusters arbitrarily;
    clamping the labelled rows to their components without renaming would
    split every cluster between two components. The permutation maximises
    the labelled rows' responsibility for their own component (Hungarian).

    Parameters
    ----------
    resp : ndarray of shape (n_samples, n_components)
    labels : ndarray of int of shape (n_samples,) or None

    Returns
    -------
    ndarray of shape (n_samples, n_components)
    """
    if labels is None:
        return resp
    from scipy.optimize import linear_sum_assignment

    labelled = labels >= 0
    K = resp.shape[1]
    # agreement[j, k]: responsibility of initial cluster j for rows labelled k.
    agreement = np.stack([resp[labelled & (labels == k)].sum(axis=0) for k in range(K)],
                         axis=1)
    rows, columns = linear_sum_assignment(-agreement)
    order = np.empty(K, dtype=np.intp)
    order[columns] = rows
    return resp[:, order]


def start_for_labels(resp, labels):
    """Starting responsibilities that agree with partial labels: the
    partition's components renamed to match them (:func:`align_to_labels`),
    then the labelled rows clamped (:func:`clamp_to_labels`)."""
    return clamp_to_labels(align_to_labels(resp, labels), labels)
