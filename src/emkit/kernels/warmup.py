"""Compile emkit's numba kernels once, into numba's on-disk cache.

emkit's compiled kernels are numba functions with ``cache=True``: the first
call of each compiles it (about a minute for all of them) and stores the
machine code next to its source file, in ``__pycache__``; later sessions
load it in milliseconds. Numba keys that cache on the numba version, the
CPU, the Python version and a hash of the source file's contents (not its
path or modification time), so code compiled on this machine for these
files stays valid wherever the files are copied.

:func:`warm_up` calls every kernel through the public estimators, on tiny
data, so that exactly the specialisations of ordinary use are compiled
(the estimators pass the kernels C-contiguous float64 and int64 arrays
whatever the input, so small data compile the same code as large data).
The build (``setup.py``) runs it on the package it is about to install, so
that a first session after ``pip install`` loads instead of compiling. Run
it yourself after installing a wheel built on another machine, or when the
cache directory was not writable at build time::

    python -m emkit.kernels.warmup

Where numba is told to cache elsewhere (``NUMBA_CACHE_DIR``), it writes
there instead.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

__all__ = ["warm_up"]


def _mixtures(rng):
    from ..estimators.gaussian_mixture import GaussianMixture
    from ..components._structures import STRUCTURES
    from ..selection import select_model

    X = np.vstack([rng.normal(0.0, 1.0, size=(30, 3)), rng.normal(4.0, 0.5, size=(30, 3))])
    # More samples and features than the fused small-data path takes.
    wide = np.vstack([rng.normal(0.0, 1.0, size=(600, 9)), rng.normal(3.0, 1.0, size=(600, 9))])
    for data in (X, wide):
        for covariance_type in ("full", "tied", "diag", "spherical") + tuple(STRUCTURES):
            model = GaussianMixture(2, covariance_type=covariance_type, random_state=0,
                                    max_iter=5, n_init=1).fit(data)
            model.predict_proba(data)
            model.score(data)
            model.sample(3, random_state=0)
    for init_params in ("hierarchical", "kmeans", "random"):
        GaussianMixture(2, init_params=init_params, random_state=0, max_iter=3).fit(X)
    GaussianMixture(2, covariance_type="VVV", prior="default", random_state=0,
                    max_iter=3).fit(X)
    GaussianMixture(2, random_state=0, max_iter=3).fit(X, sample_weight=np.ones(len(X)))
    GaussianMixture(2, covariance_type="V", random_state=0, max_iter=3).fit(X[:, :1])
    # float32 input: today converted to float64, but any float32 kernel is compiled here too.
    for covariance_type in ("full", "tied", "diag", "spherical", "VVV"):
        GaussianMixture(2, covariance_type=covariance_type, random_state=0,
                        max_iter=3).fit(X.astype(np.float32)).score(X.astype(np.float32))
    select_model(X, n_components=range(1, 3))
    select_model(X, n_components=range(1, 3), prior="default", criterion="icl")
    select_model(X[:, :1], n_components=range(1, 3))


def _wider_family(rng):
    from ..estimators.bayesian_gaussian_mixture import BayesianGaussianMixture
    from ..estimators.student_t_mixture import StudentTMixture

    X = np.vstack([rng.normal(0.0, 1.0, size=(30, 3)), rng.normal(4.0, 0.5, size=(30, 3))])
    quick = dict(random_state=0, max_iter=3, n_init=1)
    for covariance_type in ("full", "diag", "spherical", "VVV"):
        for data in (X, X.astype(np.float32)):
            StudentTMixture(2, covariance_type=covariance_type, **quick).fit(data) \
                .predict_proba(data)
    for covariance_type in ("full", "tied", "diag", "spherical"):
        BayesianGaussianMixture(2, covariance_type=covariance_type, **quick).fit(X).score(X)
    from ..estimators.kmeans import KMeans

    KMeans(2, n_init=1, random_state=0).fit(X).predict(X)


def _hmms(rng):
    from ..estimators.hmm import GMMHMM, CategoricalHMM, GaussianHMM, PoissonHMM

    X = np.concatenate([rng.normal(0.0, 1.0, size=(40, 2)), rng.normal(3.0, 1.0, size=(40, 2))])
    lengths = [50, 30]
    quick = dict(random_state=0, max_iter=3, n_init=1)
    models = [GaussianHMM(2, covariance_type=covariance_type, **quick)
              for covariance_type in ("diag", "full", "spherical", "tied")]
    models += [GMMHMM(2, n_mix=2, covariance_type=covariance_type, **quick)
               for covariance_type in ("diag", "full")]
    runs = [(model, X) for model in models]
    runs.append((CategoricalHMM(2, **quick), rng.randint(0, 3, size=(80, 1))))
    runs.append((PoissonHMM(2, **quick), rng.poisson(2.0, size=(80, 2))))
    for model, data in runs:
        for fit_lengths in (None, lengths):
            model.fit(data, fit_lengths)
            model.score(data, fit_lengths)
            model.predict(data, fit_lengths)
            model.predict_proba(data, fit_lengths)
            model.decode(data, fit_lengths, algorithm="map")
        model.sample(5, random_state=0)


def _topics(rng):
    from scipy import sparse

    from ..estimators.lda import LatentDirichletAllocation
    from ..topics import topic_coherence

    counts = rng.poisson(0.3, size=(40, 60)).astype(np.float64)
    counts[:, 0] += 1.0  # no empty document
    for X in (sparse.csr_matrix(counts), counts, counts.astype(np.float32)):
        for method in ("batch", "online"):
            model = LatentDirichletAllocation(3, learning_method=method, max_iter=3,
                                              random_state=0).fit(X)
            model.transform(X)
            model.perplexity(X)
            model.score(X)
        model.partial_fit(X)
        topic_coherence(model, X, top_n=5)
        topic_coherence(model, X, top_n=5, measure="npmi")


def warm_up(verbose=False):
    """Compile (or load from the cache) every kernel emkit calls in ordinary use.

    Parameters
    ----------
    verbose : bool, default=False
        Print the seconds each family of models took.

    Returns
    -------
    float
        Seconds taken in all.
    """
    started = time.perf_counter()
    rng = np.random.RandomState(0)
    with warnings.catch_warnings():
        # Three iterations on tiny data warn about convergence; that is expected here.
        warnings.simplefilter("ignore")
        for family in (_mixtures, _wider_family, _hmms, _topics):
            begun = time.perf_counter()
            family(rng)
            if verbose:
                print(f"emkit warm-up: {family.__name__[1:]} {time.perf_counter() - begun:.1f} s",
                      flush=True)
    return time.perf_counter() - started


def main(argv=None):
    seconds = warm_up(verbose=True)
    print(f"emkit warm-up: compiled kernels cached in {seconds:.1f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
