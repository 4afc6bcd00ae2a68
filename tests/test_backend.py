"""The backend seam: named compiled operations behind one lookup."""

import numpy as np
import pytest

import emkit
from emkit import backend


def test_numpy_backend_provides_every_operation():
    ops = backend.ops()
    assert ops.name == "numpy" and ops.xp is np
    for name in backend.OPERATIONS:
        assert callable(getattr(ops, name))


def test_unknown_names_are_explained():
    with pytest.raises(ValueError, match="Unknown backend 'cupy'"):
        with backend.use("cupy"):
            pass
    with pytest.raises(AttributeError, match="has no operation 'fft'"):
        backend.ops().fft


def test_models_call_through_the_active_backend():
    # A registered backend is used by the fit: count the calls it serves.
    calls = {"normalize_rows": 0}
    numpy_ops = backend.ops()

    def counting_normalize_rows(*args, **kwargs):
        calls["normalize_rows"] += 1
        return numpy_ops.normalize_rows(*args, **kwargs)

    def factory():
        sources = {name: ("emkit.backend", "_unused") for name in backend.OPERATIONS}
        counting = backend.Backend("counting", np, sources)
        for name in backend.OPERATIONS:
            counting._loaded[name] = getattr(numpy_ops, name)
        counting._loaded["normalize_rows"] = counting_normalize_rows
        return counting

    backend.register("counting", factory)
    X = np.random.default_rng(0).normal(size=(300, 2))
    with backend.use("counting"):
        # PoissonMixture runs the generic mixture E-step, which normalises rows.
        emkit.PoissonMixture(2, n_init=1, max_iter=5, random_state=0).fit(
            np.round(np.abs(X) * 3))
    assert calls["normalize_rows"] > 0
    assert backend.ops().name == "numpy"


def test_a_backend_must_provide_every_operation():
    with pytest.raises(ValueError, match="lacks the operations"):
        backend.Backend("partial", np, {"normalize_rows": ("emkit.kernels.mixture",
                                                           "normalize_rows")})
