"""The backend seam: the few named array operations that need a compiled kernel.

Model and component code is written against numpy's array API (matrix
products, reductions, ``exp``/``log``) plus the named operations below, each
of which has a compiled implementation (numba on the CPU) because plain
array expressions would take several passes over memory or a Python loop
over time steps. A backend is one object that provides every name in
:data:`OPERATIONS` and an array namespace ``xp``; a GPU backend (PyTorch)
is one more module that registers such an object, not a rewrite of the
models.

Models look the operations up at call time through :func:`ops`, so the
backend can be switched for a block of code::

    import emkit.backend
    with emkit.backend.use("numpy"):
        model.fit(X)

Only the ``"numpy"`` backend exists today (numba kernels on numpy arrays).

Operations
----------
normalize_rows(log_prob, log_weights, sample_weight=None) -> log_norm
    In place: add log-weights to a (n, K) block of log-densities, turn the
    rows into (weighted) responsibilities; returns ``log p(x_n)`` (n,).
log_density_from_quadratic(quadratic, offsets, log_norm) -> None
    In place: ``log_norm - 0.5 * max(quadratic + offsets, 0)`` on (n, K).
forward_backward(log_startprob, log_transmat, log_emission, lengths)
    -> (log_likelihood, posteriors (n, K), summed transition posteriors (K, K)).
forward_log_likelihood(log_startprob, log_transmat, log_emission, lengths)
viterbi(log_startprob, log_transmat, log_emission, lengths)
lda_doc_e_step(...), lda_doc_bound(...), lda_topic_bound(...),
dirichlet_expectation_2d(alpha), digamma(x)
    LDA's per-document coordinate ascent and bound terms (see
    :mod:`emkit.kernels.lda` for the arguments).
"""

from __future__ import annotations

import contextlib
import importlib

__all__ = ["OPERATIONS", "ops", "use", "register", "available", "Backend"]

OPERATIONS = (
    "normalize_rows",
    "log_density_from_quadratic",
    "forward_backward",
    "forward_log_likelihood",
    "viterbi",
    "lda_doc_e_step",
    "lda_doc_bound",
    "lda_topic_bound",
    "dirichlet_expectation_2d",
    "digamma",
)


class Backend:
    """A set of named operations and an array namespace.

    Parameters
    ----------
    name : str
    xp : module
        The array namespace the backend's arrays belong to (``numpy``).
    sources : dict of str to (module path, attribute)
        Where each operation lives; imported on first use, so importing emkit
        compiles and loads nothing.
    """

    def __init__(self, name, xp, sources):
        missing = set(OPERATIONS) - set(sources)
        if missing:
            raise ValueError(f"backend {name!r} lacks the operations {sorted(missing)}.")
        self.name, self.xp, self._sources = name, xp, dict(sources)
        self._loaded = {}

    def __getattr__(self, operation):
        if operation.startswith("_") or operation not in self._sources:
            raise AttributeError(f"backend {self.name!r} has no operation {operation!r}; "
                                 f"the operations are {OPERATIONS}.")
        function = self._loaded.get(operation)
        if function is None:
            module, attribute = self._sources[operation]
            function = getattr(importlib.import_module(module), attribute)
            self._loaded[operation] = function
        return function


def _numpy_backend():
    import numpy

    kernels = "emkit.kernels"
    return Backend("numpy", numpy, {
        "normalize_rows": (f"{kernels}.mixture", "normalize_rows"),
        "log_density_from_quadratic": (f"{kernels}.gaussian", "log_density_from_quadratic"),
        "forward_backward": (f"{kernels}.hmm", "forward_backward"),
        "forward_log_likelihood": (f"{kernels}.hmm", "forward_log_likelihood"),
        "viterbi": (f"{kernels}.hmm", "viterbi"),
        "lda_doc_e_step": (f"{kernels}.lda", "doc_e_step"),
        "lda_doc_bound": (f"{kernels}.lda", "doc_bound"),
        "lda_topic_bound": (f"{kernels}.lda", "topic_bound"),
        "dirichlet_expectation_2d": (f"{kernels}.lda", "dirichlet_expectation_2d"),
        "digamma": (f"{kernels}.lda", "digamma"),
    })


_FACTORIES = {"numpy": _numpy_backend}
_BUILT = {}
# Process-wide: the engine runs chunks on worker threads, which must see it too.
_STATE = {"name": "numpy"}


def register(name, factory):
    """Make a backend available under ``name``.

    Parameters
    ----------
    name : str
    factory : callable returning a :class:`Backend`
        Called once, on first use (so optional dependencies import lazily).
    """
    _FACTORIES[name] = factory
    _BUILT.pop(name, None)


def available():
    """Names of the registered backends, tuple of str."""
    return tuple(_FACTORIES)


def _get(name):
    backend = _BUILT.get(name)
    if backend is None:
        if name not in _FACTORIES:
            raise ValueError(f"Unknown backend {name!r}; choose one of {available()}.")
        backend = _BUILT[name] = _FACTORIES[name]()
    return backend


def ops():
    """The active backend (``"numpy"`` unless :func:`use` says otherwise)."""
    return _get(_STATE["name"])


@contextlib.contextmanager
def use(name):
    """Run a block of code on backend ``name`` (process-wide, restored after)."""
    backend = _get(name)
    previous = _STATE["name"]
    _STATE["name"] = backend.name
    try:
        yield backend
    finally:
        _STATE["name"] = previous
