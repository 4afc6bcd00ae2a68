"""Online (stochastic) EM: step sizes and blending of sufficient statistics.

Batch EM maps the statistics of *all* the data to parameters. Online EM
(Cappé & Moulines 2009; for LDA, Hoffman, Blei & Bach 2010) sees one
mini-batch at a time, scales its statistics up to the size of the whole
data set and moves the running statistics a step ``rho_t`` towards them::

    s_t = (1 - rho_t) * s_{t-1} + rho_t * (N / |B_t|) * s(B_t)
    params_t = m_step(s_t)

With ``sum rho_t = inf`` and ``sum rho_t**2 < inf`` (Robbins-Monro; for
``rho_t = (offset + t)**-decay`` that is ``0.5 < decay <= 1``) this is a
stochastic approximation that converges to a stationary point of the batch
objective. Whenever the M-step is affine in the statistics (LDA's
``lambda = eta + s``) blending the statistics is the same as blending the
parameters, which is how Hoffman et al. write it.

Everything here is model-agnostic: a model takes part by giving the engine
its usual E-step and M-step plus ``stats_from_params(params, total_weight)``,
the statistics whose M-step returns ``params`` (the starting point of the
running statistics).
"""

from __future__ import annotations

import numpy as np

from .em import expectation

__all__ = ["step_size", "blend", "scale_stats", "online_em_step"]


def step_size(t, offset, decay):
    """Robbins-Monro step size ``rho_t = (offset + t) ** (-decay)``.

    Parameters
    ----------
    t : int or float
        Update counter (scikit-learn's ``n_batch_iter_``, starting at 1).
    offset : float
        ``tau_0 >= 0``: down-weights the first, noisiest updates.
    decay : float
        ``kappa``; ``0.5 < kappa <= 1`` guarantees convergence, ``kappa = 0``
        gives ``rho = 1`` (plain batch EM when each batch is all the data).

    Returns
    -------
    float
        The step size in ``(0, 1]`` for valid arguments.
    """
    base = float(offset) + float(t)
    if base <= 0:
        raise ValueError(
            f"step_size needs offset + t > 0; got offset={offset!r}, t={t!r}. Use a "
            f"positive learning_offset or start the counter t at 1."
        )
    return float(base ** (-float(decay)))


def blend(old, new, rho):
    """Convex combination ``(1 - rho) * old + rho * new``.

    Parameters
    ----------
    old, new : ndarray, float, or dict of them with the same keys and shapes
        Running and fresh statistics (or parameters).
    rho : float
        Weight of ``new``, in ``[0, 1]``.

    Returns
    -------
    Same type as ``old``: new arrays; the inputs are not modified.
    """
    if isinstance(old, dict):
        return {name: blend(old[name], new[name], rho) for name in old}
    return (1.0 - rho) * np.asarray(old, dtype=np.float64) + rho * np.asarray(
        new, dtype=np.float64)


def scale_stats(stats, factor):
    """Every statistic of ``stats`` (a dict of arrays) times ``factor``, as new arrays."""
    return {name: np.asarray(value, dtype=np.float64) * factor for name, value in stats.items()}


def online_em_step(model, params, batch, *, rho, total_weight, stats=None):
    """One online EM update from one mini-batch.

    Parameters
    ----------
    model : EMModel with ``stats_from_params``
        The model's pure functions (see :class:`emkit._engine.em.EMModel`).
    params : dict
        Current parameters; the E-step runs at them.
    batch : data object
        The mini-batch: ``chunks()`` and ``total_weight`` like any data object.
    rho : float
        Step size (see :func:`step_size`).
    total_weight : float
        Size of the whole data set (``total_samples``): the mini-batch
        statistics are scaled by ``total_weight / batch.total_weight``.
    stats : dict or None
        Running statistics; ``None`` derives them from ``params`` with
        ``model.stats_from_params`` (exact whenever params came from an M-step).

    Returns
    -------
    params : dict
        ``model.m_step`` of the blended statistics.
    stats : dict
        The blended running statistics.
    batch_objective : float
        The E-step's objective of the mini-batch at the *old* ``params``
        (unscaled).
    """
    if stats is None:
        stats = model.stats_from_params(params, total_weight)
    batch_stats, batch_objective = expectation(model, params, batch)
    scaled = scale_stats(batch_stats, total_weight / batch.total_weight)
    stats = blend(stats, scaled, rho)
    return model.m_step(stats, params), stats, batch_objective
