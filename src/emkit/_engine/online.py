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

Everything here is model-agnostic. :func:`online_em_step` is one update
with the running statistics kept at the scale of the whole data set; a model
whose running statistics start from its parameters gives
``stats_from_params(params, total_weight)`` (LDA). :class:`StepwiseEM` is the
stepper that mixtures and HMMs use for ``partial_fit`` and
``fit(strategy="online")``: it keeps the running statistics *per sample*
(each batch's statistics divided by its total weight), so that batches of any
size blend on one scale, and it starts them from the first batch's E-step
(``rho = 1``), so that no model needs ``stats_from_params``. Its memory is
one set of statistics, whatever the number of samples streamed.

Statistics blended across batches must be sums of the same functions of
the samples: a Gaussian component's moments are taken about a centre fixed
once (at the first batch), never re-centred per batch.
"""

from __future__ import annotations

import numpy as np

from .._validation import InvalidParameterError, check_integer, check_learning_decay, check_real
from .em import commit_e_step, expectation

__all__ = ["STRATEGIES", "check_online_settings", "check_first_batch", "step_size", "blend",
           "scale_stats", "online_em_step", "StepwiseEM", "shuffled_batches", "shuffled_passes",
           "stepwise_passes"]

# fit(strategy=...): batch EM over all the data, or stepwise EM over
# mini-batches followed by a batch EM polish.
STRATEGIES = ("batch", "online")


def check_online_settings(learning_offset, learning_decay, batch_size, online_passes):
    """Validate an estimator's online hyper-parameters (named errors).

    Parameters
    ----------
    learning_offset : float
        ``t0 >= 0`` of the step size (see :func:`step_size`).
    learning_decay : float
        ``kappa`` in ``(0.5, 1]``.
    batch_size : int
        Items per mini-batch of ``fit(strategy="online")``, at least 1.
    online_passes : int
        Stepwise passes of ``fit(strategy="online")``, at least 1.
    """
    check_real(learning_offset, "learning_offset", minimum=0.0,
               hint="A typical value is learning_offset=1.")
    check_learning_decay(learning_decay)
    check_integer(batch_size, "batch_size", minimum=1)
    check_integer(online_passes, "online_passes", minimum=1)


def check_first_batch(batch_size, n_components):
    """``fit(strategy="online")`` starts every component from its first
    mini-batch, which therefore needs at least ``n_components`` samples."""
    if batch_size < n_components:
        raise InvalidParameterError(
            f"batch_size={batch_size} is below n_components={n_components}; the first "
            f"mini-batch initialises every component. Use a batch_size of a few thousand.")


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


def online_em_step(model, params, batch, *, rho, total_weight, stats=None, rng=None):
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
        Running statistics at the scale ``total_weight``; ``None`` derives them
        from ``params`` with ``model.stats_from_params`` (exact whenever params
        came from an M-step), or, when ``rho == 1``, needs none: the
        mini-batch's scaled statistics replace them.
    rng : numpy RandomState or None
        The run's random state, for models whose E-step draws random numbers
        (see :func:`emkit._engine.em.plan_e_step`).

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
    if getattr(model, "m_step_reads_data", False):
        # Its M-step reads the samples (the experts' gating Newton steps), and
        # running statistics are all that stepwise EM keeps of them.
        raise ValueError("stepwise EM cannot pass the data to an M-step that reads it "
                         "(m_step_reads_data); fit this model by batch EM.")
    if stats is None and rho != 1.0:
        stats = model.stats_from_params(params, total_weight)
    batch_stats, batch_objective = expectation(model, params, batch, rng=rng)
    # A stochastic step is always taken: the batch's latent state is kept.
    commit_e_step(batch)
    scaled = scale_stats(batch_stats, total_weight / batch.total_weight)
    stats = scaled if stats is None else blend(stats, scaled, rho)
    return model.m_step(stats, params), stats, batch_objective


class StepwiseEM:
    """Stepwise EM (Cappé & Moulines 2009), the online stepper of every model.

    Step ``t`` (``t = 0, 1, ...``) evaluates the model's E-step on one batch
    ``B_t`` at the current parameters and moves the running *per-sample*
    statistics towards the batch's mean statistics::

        s_0 = s(B_0) / |B_0|                                   (rho_0 = 1)
        s_t = (1 - rho_t) s_{t-1} + rho_t s(B_t) / |B_t|,   rho_t = (t + t0) ** -kappa
        params_t = m_step(W_t * s_t)

    ``|B|`` is a batch's total (frequency) weight and ``W_t`` the scale the
    M-step sees (``scale``; by default the total weight streamed so far).
    Per-sample statistics blend alike whatever the batch sizes, and scaled
    by ``W`` they are what an E-step over ``W`` samples would sum to, so
    priors, penalties and collapse tests weigh against ``W`` samples, as in
    batch EM over the data seen: with ``W = N`` the fixed points are those
    of batch EM on a data set of ``N`` samples.

    Parameters
    ----------
    learning_offset : float
        ``t0 >= 0``; larger values shrink the early steps.
    learning_decay : float
        ``kappa`` in ``(0.5, 1]`` (Robbins-Monro: ``sum rho = inf``,
        ``sum rho**2 < inf``).
    max_repairs : int
        Collapsed components re-seeded (over all steps) before repair stops.

    Attributes
    ----------
    stats : dict or None
        Running per-sample statistics (None before the first step).
    n_steps : int
        Steps taken.
    weight_seen : float
        Total weight of all batches streamed.
    n_repairs : int
        Components re-seeded so far.
    """

    def __init__(self, learning_offset, learning_decay, *, max_repairs=10):
        self.learning_offset = check_real(learning_offset, "learning_offset", minimum=0.0)
        self.learning_decay = check_learning_decay(learning_decay)
        self.max_repairs = int(max_repairs)
        self.stats = None
        self.n_steps = 0
        self.weight_seen = 0.0
        self.n_repairs = 0

    def resume(self, model, params, *, scale, n_steps):
        """Continue from ``params`` as if ``n_steps`` steps had led there.

        The running statistics become ``model.stats_from_params(params,
        scale) / scale`` (those whose M-step is ``params``) and the next step
        size is ``(n_steps + t0) ** -kappa``: Hoffman, Blei & Bach's online
        LDA (scikit-learn's), whose first update already blends the initial
        topics with ``rho = (t0 + 1) ** -kappa``, and whose ``partial_fit``
        calls continue from the fitted parameters and the step counter.

        Parameters
        ----------
        model : EMModel with ``stats_from_params``
        params : dict
        scale : float
            Total weight the statistics stand for.
        n_steps : int
            Steps counted so far (scikit-learn's ``n_batch_iter_``, from 1).

        Returns
        -------
        self
        """
        self.stats = scale_stats(model.stats_from_params(params, float(scale)),
                                 1.0 / float(scale))
        self.n_steps = int(n_steps)
        return self

    def next_rho(self):
        """The step size of the next step: 1 for the first, else ``(t + t0) ** -kappa``."""
        if self.stats is None:
            return 1.0
        return step_size(self.n_steps, self.learning_offset, self.learning_decay)

    def step(self, model, params, batch, *, scale=None, rng=None):
        """One stepwise update from one batch.

        Parameters
        ----------
        model : EMModel
            The model's pure functions (E-step, M-step, ``repair``).
        params : dict
            Current parameters; the batch's E-step runs at them.
        batch : data object
            ``chunks()`` (or ``map_e_step``) and ``total_weight``.
        scale : float or None
            Total weight the M-step sees the statistics at; None is
            :attr:`weight_seen` (after this batch).
        rng : numpy RandomState or None
            For re-seeding collapsed components (None never re-seeds) and
            for E-steps that draw random numbers.

        Returns
        -------
        params : dict
            The M-step of the blended statistics.
        batch_objective : float
            The batch's log-likelihood at the *old* ``params`` (unscaled).
        """
        weight = float(batch.total_weight)
        if not weight > 0:
            raise ValueError("A batch of total weight 0 carries no statistics; pass samples "
                             "with positive sample_weight.")
        rho = self.next_rho()
        scale = self.weight_seen + weight if scale is None else float(scale)
        running = None if self.stats is None else scale_stats(self.stats, scale)
        new_params, stats, batch_objective = online_em_step(
            model, params, batch, rho=rho, total_weight=scale, stats=running, rng=rng)
        if rng is not None and self.n_repairs < self.max_repairs:
            repaired, n_repaired = model.repair(new_params, stats, rng, batch)
            if n_repaired:
                # The running statistics still describe the collapsed
                # component; they restart from this batch at the re-seed.
                self.n_repairs += n_repaired
                new_params, stats, _ = online_em_step(model, repaired, batch, rho=1.0,
                                                      total_weight=scale, rng=rng)
        self.stats = scale_stats(stats, 1.0 / scale)
        self.n_steps += 1
        self.weight_seen += weight
        return new_params, batch_objective


def shuffled_batches(n_items, batch_size, rng):
    """Index arrays of one pass over ``n_items`` items in random order.

    Parameters
    ----------
    n_items : int
        Samples (mixtures) or whole sequences (HMMs).
    batch_size : int
        At most this many items per batch: the pass is cut into
        ``ceil(n_items / batch_size)`` batches of equal size (give or take
        one), because every batch gets a full step whatever its size, and a
        small remainder batch would be a needlessly noisy step.
    rng : numpy RandomState

    Yields
    ------
    ndarray of int, sorted
        The items of one batch (sorted, so that slicing keeps their order).
    """
    order = rng.permutation(n_items)
    for part in np.array_split(order, -(-n_items // batch_size)):
        yield np.sort(part)


def shuffled_passes(n_items, batch_size, rng, batch_of):
    """Passes over ``n_items`` items in fresh random orders, as batches.

    Parameters
    ----------
    n_items, batch_size, rng
        See :func:`shuffled_batches`.
    batch_of : callable ``(indices) -> data object``
        Builds one batch from the indices of its items.

    Returns
    -------
    first : data object
        The first batch of the first pass, built at once (it starts the fit).
    make_pass : callable ``(pass_index) -> iterator of data objects``
        The batches of one pass (the first pass begins with ``first``); for
        :func:`stepwise_passes`, which calls it once per pass, in order.
    """
    first_pass = shuffled_batches(n_items, batch_size, rng)
    first = batch_of(next(first_pass))

    def make_pass(pass_index):
        if pass_index == 0:
            yield first
            yield from map(batch_of, first_pass)
        else:
            yield from map(batch_of, shuffled_batches(n_items, batch_size, rng))

    return first, make_pass


def stepwise_passes(stepwise, params, make_pass, model_of, *, n_passes, scale=None, rng=None,
                    on_pass=None, until=None):
    """Stream passes of batches through one :class:`StepwiseEM`.

    Parameters
    ----------
    stepwise : StepwiseEM
    params : dict
        Starting parameters.
    make_pass : callable ``(pass_index) -> iterable of batches``
        The batches (data objects) of one pass.
    model_of : callable ``(batch) -> EMModel``
        The model for one batch (models may hold their batch, e.g. to
        re-seed collapsed components on its samples).
    n_passes : int
    scale, rng
        See :meth:`StepwiseEM.step`.
    on_pass : callable ``(pass_index, mean_batch_objective)`` or None
        Called after every pass (progress lines).
    until : callable ``(pass_index, params) -> bool`` or None
        Called after every pass (after ``on_pass``); True stops streaming
        (an evaluation of the full objective under a stopping rule of
        :mod:`emkit._engine.monitor`, say).

    Returns
    -------
    params : dict
    pass_objectives : list of float
        Per pass, the batches' objectives (each at the parameters before its
        step) summed and divided by their total weight: a running, slightly
        stale estimate of the per-sample objective.
    """
    pass_objectives = []
    for pass_index in range(n_passes):
        objective = weight = 0.0
        for batch in make_pass(pass_index):
            params, batch_objective = stepwise.step(model_of(batch), params, batch,
                                                    scale=scale, rng=rng)
            objective += batch_objective
            weight += float(batch.total_weight)
        pass_objectives.append(objective / weight if weight > 0 else float("nan"))
        if on_pass is not None:
            on_pass(pass_index, pass_objectives[-1])
        if until is not None and until(pass_index, params):
            break
    return params, pass_objectives
