"""The one EM loop.

Every model that emkit fits supplies a handful of pure functions (see
:class:`EMModel`); restarts, warm starts, convergence monitoring, repair of
collapsed components and the walk over data chunks live here, once.

The E-step is evaluated at the parameters that are returned, so the recorded
objective of the last iteration is exactly the objective of the fitted model
(scikit-learn's ``lower_bound_`` lags one M-step behind its parameters).
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol

import numpy as np

from .accel import PlainEM, make_stepper
from .monitor import ConvergenceMonitor, make_stopping_rule
from .progress import progress_bar
from .threads import chunk_workers, map_chunks

__all__ = ["EMModel", "FitResult", "expectation", "chunked_expectation", "fit_em", "add_stats",
           "plan_e_step", "commit_e_step", "maximize", "responsibility_stats"]


class EMModel(Protocol):
    """What a model gives the engine. Parameters and statistics are dicts of arrays.

    A model holds no data: the engine holds the data object and hands it to
    whatever reads the samples (the E-step gets each chunk; ``repair``,
    ``compiled_updates`` and a data-reading M-step get the data object). A
    model is therefore a pure function of (parameters, data), and its
    pickled copy, which a Dask cluster ships to the workers at every
    iteration, is only its settings.

    ``e_step_plan(params)``
        Precompute what every chunk's E-step needs (Cholesky factors, log-weights).
    ``e_step(plan, *chunk) -> (stats, loglik)``
        Sufficient statistics of one chunk (they add across chunks) and the
        chunk's log-likelihood.
    ``m_step(stats, params) -> params``
        Maximise the expected complete-data log-likelihood (plus log-prior);
        ``params`` are the current ones, for warm-started inner iterations and
        parameters held fixed.
    ``m_step_reads_data`` (optional attribute, default False)
        True when the M-step needs the samples themselves, not only the
        summed statistics: the mixture of experts' gating M-step evaluates its
        objective at trial gatings, each a further pass over the inputs. The
        engine then calls ``m_step(stats, params, data)`` with the data
        object whose E-step gave ``stats`` (see :func:`maximize`), and the
        model makes its passes with :func:`expectation` over it, so chunks,
        threads and a data object's own map-reduce (Dask blocks on the
        workers) serve them as they serve the E-step. Stepwise (online) EM,
        whose statistics are running averages over batches, cannot offer
        such an M-step the data its statistics came from: it does not take
        these models.
    ``log_prior(params) -> float``
        Zero for maximum likelihood; the log-density of the prior for MAP.
    ``repair(params, stats, rng, data) -> (params, n_repaired)``
        Detect and re-seed collapsed components; ``n_repaired = 0`` when all
        is well. ``data`` is the data object being fitted: re-seeds draw their
        points from it (``data.reseed_rows`` where a cluster offers a
        client-side sample).
    ``parallel_chunks`` (optional attribute, default False)
        True when ``e_step`` is thread-safe and gains from running chunks on
        all cores (one BLAS thread each; see :mod:`emkit._engine.threads`).
    ``compiled_updates(params, stats, n, rule, data)`` (optional)
        Up to ``n`` EM updates from ``params`` (whose E-step over ``data``,
        the data object being fitted, gave ``stats``) in one call of a
        compiled kernel, for models whose Python between
        kernels costs more than the kernels (small data). It stops where
        ``rule`` (a :class:`~emkit._engine.monitor.CompiledRule`: the run's
        stopping rule, whose arithmetic the kernel compiles from
        :mod:`emkit._engine.monitor`) holds, and returns ``(params, stats,
        objectives, logliks)``: the last update's parameters and statistics,
        the objective and log-likelihood after each update. None declines:
        the engine then takes every update of the run itself. The engine
        records the updates and judges convergence with its rule object;
        the model's collapse test must hold at the last update.
    ``random_e_step`` (optional attribute, default False)
        True when the E-step needs random numbers (LDA's fresh document
        starts): ``e_step_plan(params, rng=rng)`` then receives the run's
        random state and puts what the E-step needs in the plan, so that the
        E-step itself stays a pure function and equal seeds give equal fits.

    Per-sample latent state kept between E-steps (LDA's per-document
    ``gamma``) belongs to the data object, not to the model: such a data
    object's ``map_e_step`` hands the committed state to the model's E-step,
    keeps the state the E-step returns as *pending*, and makes it the
    committed state only when the engine calls ``data.commit_e_step()``,
    which it does exactly when the E-step's parameters become the run's
    current iterate (see :func:`commit_e_step`). A rejected SQUAREM proposal
    therefore leaves nothing behind.
    """

    def e_step_plan(self, params: dict) -> Any: ...

    def e_step(self, plan: Any, *chunk) -> tuple[dict, float]: ...

    def m_step(self, stats: dict, params: dict) -> dict: ...

    def log_prior(self, params: dict) -> float: ...

    def repair(self, params: dict, stats: dict, rng, data) -> tuple[dict, int]: ...


@dataclass
class FitResult:
    """Outcome of one EM run, or the best of several restarts.

    Attributes
    ----------
    params : dict
        Fitted parameters.
    objective : float
        Log-likelihood (or log-posterior) of ``params``.
    history : list of float
        Objective after every E-step of this run, the initial parameters first.
    converged : bool
    n_iter : int
        Number of M-steps taken.
    n_repairs : int
        Collapsed components re-seeded during the run.
    repairs : list of int
        Iterations (indices into ``history``) whose parameters came from a
        re-seed: the objective may fall there, as a re-seed leaves the EM path
        on purpose; between them it never decreases.
    degenerate : bool
        True when collapse persisted after the allowed repairs.
    decreases : list of (int, float)
        Iterations where the objective fell by more than rounding noise.
    init_index : int
        Which restart this run was.
    stats : dict
        Sufficient statistics of the last E-step (at ``params``).
    n_e_steps : int
        E-steps the run evaluated (an accelerated run's measure of work).
    history_e_steps : list of int
        E-steps evaluated when each entry of ``history`` was recorded (an
        accelerated run evaluates some that it does not keep), so the work to
        reach a given objective can be read off.
    """

    params: dict
    objective: float
    history: list
    converged: bool
    n_iter: int
    n_repairs: int = 0
    repairs: list = field(default_factory=list)
    degenerate: bool = False
    decreases: list = field(default_factory=list)
    init_index: int = 0
    stats: dict | None = None
    n_e_steps: int = 0
    history_e_steps: list = field(default_factory=list)

    def better_than(self, other: "FitResult | None") -> bool:
        """Non-degenerate fits beat degenerate ones; then the higher objective wins."""
        if other is None:
            return True
        if self.degenerate != other.degenerate:
            return not self.degenerate
        if not np.isfinite(other.objective):
            return bool(np.isfinite(self.objective))
        return self.objective > other.objective


def add_stats(total: dict | None, new: dict) -> dict:
    """Add statistics dict ``new`` into ``total`` (in place when possible)."""
    if total is None:
        return {name: np.array(value, dtype=np.float64, copy=True) for name, value in new.items()}
    for name, value in new.items():
        total[name] += value
    return total


def responsibility_stats(data, resp, chunk_stats, dtype=np.float64) -> dict:
    """Summed statistics of given responsibilities, chunk by chunk (for an
    initial M-step from a partition, say).

    Parameters
    ----------
    data : SampleData
        The samples (``X``, ``sample_weight``, ``chunk_size``).
    resp : ndarray of shape (n_samples, n_components)
        Responsibilities of ``data``'s rows; not modified.
    chunk_stats : callable
        ``chunk_stats(X_chunk, resp_chunk) -> dict`` of additive statistics,
        given a chunk's rows and its responsibilities already multiplied by
        the frequency weights (a fresh ``dtype`` array it may keep).
    dtype : numpy dtype
        Precision of the responsibilities handed to ``chunk_stats``.

    Returns
    -------
    stats : dict
        ``chunk_stats``' results summed over the chunks, in float64.

    Examples
    --------
    >>> import numpy as np
    >>> from emkit._engine.data import SampleData
    >>> data = SampleData(np.arange(6.0).reshape(3, 2), np.array([1.0, 2.0, 1.0]))
    >>> stats = responsibility_stats(data, np.eye(2)[[0, 1, 1]],
    ...                              lambda X, r: {"counts": r.sum(axis=0)})
    >>> stats["counts"]
    array([1., 3.])
    """
    stats = None
    for start in range(0, data.n_samples, data.chunk_size):
        stop = start + data.chunk_size
        chunk_resp = np.array(resp[start:stop], dtype=dtype, copy=True)
        if data.sample_weight is not None:
            chunk_resp *= data.sample_weight[start:stop, None].astype(dtype, copy=False)
        stats = add_stats(stats, chunk_stats(data.X[start:stop], chunk_resp))
    return stats


def maximize(model: EMModel, stats: dict, params: dict | None, data) -> dict:
    """The model's M-step from ``stats``: ``model.m_step(stats, params)``, or
    ``model.m_step(stats, params, data)`` for a model that declares
    ``m_step_reads_data`` (see :class:`EMModel`). ``data`` must be the data
    whose E-step gave ``stats``."""
    if getattr(model, "m_step_reads_data", False):
        return model.m_step(stats, params, data)
    return model.m_step(stats, params)


def plan_e_step(model: EMModel, params: dict, rng=None):
    """``model.e_step_plan(params)``; a model with ``random_e_step`` also gets
    ``rng`` (the run's random state), from which its plan draws the E-step's
    random numbers."""
    if rng is not None and getattr(model, "random_e_step", False):
        return model.e_step_plan(params, rng=rng)
    return model.e_step_plan(params)


def commit_e_step(data) -> None:
    """Make the latent state of ``data``'s last E-step its committed state.

    Called when that E-step's parameters are accepted as the current iterate;
    a no-op for data objects without per-sample state (no ``commit_e_step``).
    """
    commit = getattr(data, "commit_e_step", None)
    if commit is not None:
        commit()


def expectation(model: EMModel, params: dict, data, rng=None) -> tuple[dict, float]:
    """One E-step over all of ``data``: summed statistics and log-likelihood.

    The data object owns the map-reduce: one with a ``map_e_step(model, plan)``
    method evaluates the E-step over its blocks itself (a Dask array's blocks
    on the workers, say) and returns the summed statistics and log-likelihood;
    for any other the engine walks ``data.chunks()`` here, on all cores when
    the model's E-step allows it. ``rng`` reaches models whose E-step draws
    random numbers (see :func:`plan_e_step`).
    """
    plan = plan_e_step(model, params, rng)
    map_e_step = getattr(data, "map_e_step", None)
    if map_e_step is not None:
        stats, loglik = map_e_step(model, plan)
        return stats, float(loglik)
    return chunked_expectation(model, plan, data)


def chunked_expectation(model: EMModel, plan, data, parallel=True) -> tuple[dict, float]:
    """The E-step at ``plan`` over ``data.chunks()``, summed; on all cores
    when ``parallel`` and the model's E-step allow it. The walk of one
    process, whether over in-memory data or over one Dask block on a worker
    (there the scheduler runs blocks in parallel: ``parallel=False``)."""
    stats = None
    loglik = 0.0
    if parallel and getattr(model, "parallel_chunks", False) \
            and getattr(data, "n_chunks", 1) > 1 and chunk_workers() > 1:
        results = map_chunks(lambda *chunk: model.e_step(plan, *chunk), data.chunks())
    else:
        results = (model.e_step(plan, *chunk) for chunk in data.chunks())
    for chunk_stats, chunk_loglik in results:
        stats = add_stats(stats, chunk_stats)
        loglik += chunk_loglik
    return stats, float(loglik)


class _Run:
    """One EM run that can be advanced a few iterations at a time.

    Restart screening (see :func:`fit_em`) advances every run briefly, then
    only the most promising ones to convergence, so a run is resumable state.
    """

    def __init__(self, model, data, params, *, tol, max_repairs, rng, verbose, init_index,
                 stepper=None, stopping="aitken", max_iter=None):
        self.model, self.data, self.rng = model, data, rng
        # M-steps the whole run may take (None: only advance's n_steps bound it).
        self.max_iter = max_iter
        self.stepper = PlainEM() if stepper is None else stepper
        self.n_e_steps = 0
        self.max_repairs, self.verbose, self.init_index = max_repairs, verbose, init_index
        # float32 data carry ~1e-7 relative error per sample into the objective.
        single = getattr(data, "dtype", None) == np.float32
        self.monitor = ConvergenceMonitor(tol=tol, n_samples=data.total_weight,
                                          nonmonotone_rtol=2e-6 if single else 1e-9,
                                          rule=make_stopping_rule(stopping, tol))
        self.params = params
        self.stats, loglik = self._expectation(params)
        commit_e_step(data)
        self.monitor.record(loglik + model.log_prior(params), loglik)
        self.history_e_steps = [self.n_e_steps]
        self.n_iter = 0
        # Updates the current step may take (see advance and iterations_left).
        self.budget = 0
        # Once the model's compiled updates decline (a re-seed is due, say),
        # the run takes every update itself, repairs at every M-step included.
        self.compiled = getattr(model, "compiled_updates", None)
        self.n_repairs = 0
        self.repairs = []
        self.converged = False
        self.degenerate = False

    @property
    def objective(self):
        return self.monitor.history[-1]

    @property
    def iterations_left(self):
        """M-steps the run may still take: to its ``max_iter``, else to the
        end of the current :meth:`advance`. A stepper whose step takes
        several M-steps keeps within it; it may pass the end of an advance
        (restart screening's ``screen_iter``) as long as the run has room."""
        if self.max_iter is None:
            return self.budget
        return self.max_iter - self.n_iter

    @property
    def finished(self):
        return self.converged or self.degenerate

    def advance(self, n_steps, on_step=None):
        """Take stepper steps (plain EM: one EM update each, or a compiled
        call's worth; SQUAREM: a cycle of updates) until ``n_steps`` more
        M-steps are taken; stop early at convergence.

        Collapsed components are re-seeded up to ``max_repairs`` times; past
        that the run is marked degenerate and ends on the M-step's own
        parameters (an honest EM iterate, not a fresh re-seed).

        Parameters
        ----------
        n_steps : int
            M-steps to take (:attr:`budget` tells the stepper what is left;
            a multi-update step may pass it within :attr:`iterations_left`).
        on_step : callable, optional
            ``on_step(n_taken)`` after every step, with the M-steps it took
            (a progress bar's update). Steps are the same with or without it.
        """
        stop = self.n_iter + n_steps
        while self.n_iter < stop and not self.finished:
            self.budget = stop - self.n_iter
            before = self.n_iter
            self.stepper.step(self)
            if on_step is not None:
                on_step(self.n_iter - before)

    def em_updates(self):
        """Plain EM updates, as many as the step may take (:attr:`budget`): in
        one call of the model's ``compiled_updates`` when it has them (see
        :class:`EMModel`), else one :meth:`em_step`.

        The compiled updates come back with their objectives; they are
        recorded and judged here as :meth:`em_step` records and judges its own,
        by the same monitor and stopping rule.
        """
        rule = None if self.compiled is None else self.monitor.compiled_rule()
        taken = None if rule is None else self.compiled(self.params, self.stats,
                                                        max(self.budget, 1), rule, self.data)
        if taken is None:
            self.compiled = None
            self.em_step()
            return
        self.params, self.stats, objectives, logliks = taken
        objectives = objectives.tolist()
        self.monitor.extend(objectives, logliks.tolist())
        if self.verbose >= 2:
            for index, objective in enumerate(objectives, start=self.n_iter + 1):
                print(f"  init {self.init_index} iter {index:4d}  objective {objective:.6f}")
        self.n_iter += len(objectives)
        self.history_e_steps.extend(range(self.n_e_steps + 1,
                                          self.n_e_steps + len(objectives) + 1))
        self.n_e_steps += len(objectives)
        self.converged = self.monitor.converged

    def m_step(self, stats, params):
        """The model's M-step from ``stats`` (with this run's data where the model reads it)."""
        return maximize(self.model, stats, params, self.data)

    def em_step(self, check_convergence=True):
        """One EM update from the current parameters, recorded in the monitor.

        Parameters
        ----------
        check_convergence : bool
            Whether the stopping rule judges this update. An accelerated
            stepper asks only after a pair of plain EM updates, whose gains
            are the ones the rule's projection is made for.

        Returns
        -------
        bool
            False when the update re-seeded a component (off the EM path).
        """
        model = self.model
        new_params = self.m_step(self.stats, self.params)
        # A run past its re-seed budget ends here, on the M-step's own parameters.
        repaired, n_repaired = model.repair(new_params, self.stats, self.rng, self.data)
        if n_repaired and self.n_repairs + n_repaired > self.max_repairs:
            self.degenerate = True
            n_repaired = 0
        elif n_repaired:
            new_params = repaired
        self.n_iter += 1
        self.params = new_params
        self.stats, loglik = self._expectation(new_params)
        commit_e_step(self.data)
        objective = loglik + model.log_prior(new_params)
        if n_repaired:
            self.n_repairs += n_repaired
            self.repairs.append(len(self.monitor.history))
            # A re-seed moves the parameters off the EM path on purpose, so
            # the objective may jump down here: that is not an M-step failure.
            self.monitor.record_jump(objective, loglik)
        else:
            self.monitor.record(objective, loglik)
            if check_convergence:
                self.converged = self.monitor.converged
        self.history_e_steps.append(self.n_e_steps)
        if self.verbose >= 2:
            print(f"  init {self.init_index} iter {self.n_iter:4d}  objective {objective:.6f}")
        return not n_repaired

    def try_proposal(self, proposal, floor):
        """Make the EM update of ``proposal`` (an extrapolation, say) the
        current iterate if its objective is at least ``floor``.

        Two E-steps: one at the proposal, whose statistics give its EM update
        (SQUAREM's stabilising step), and one at that update, whose objective
        is judged against ``floor`` and whose statistics feed the next
        M-step. The update is kept rather than the proposal itself: EM damps
        the error an extrapolation puts in the quickly converging directions,
        so the next extrapolation starts from a point on EM's slow path (as R
        SQUAREM's does). On failure nothing changes: the data's latent state
        stays committed at the current iterate (see :func:`commit_e_step`).

        Returns
        -------
        bool
        """
        model = self.model
        try:
            stats, loglik = self._expectation(proposal)
            if not math.isfinite(loglik + model.log_prior(proposal)):
                return False
            proposal = self.m_step(stats, proposal)
            if model.repair(proposal, stats, self.rng, self.data)[1]:
                return False
            stats, loglik = self._expectation(proposal)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            # An extrapolation far outside anything the data support (a rate
            # of 1e22, transition probabilities of 1e-277), or its EM update,
            # can be beyond what a kernel evaluates: an invalid proposal, as
            # R SQUAREM's tryCatch around its fixed-point map treats it, not
            # a failed fit.
            return False
        objective = loglik + model.log_prior(proposal)
        if not (math.isfinite(objective) and objective >= floor):
            return False
        self.n_iter += 1
        self.params, self.stats = proposal, stats
        commit_e_step(self.data)
        # Recorded, not judged: the extrapolation's gain says nothing of the
        # rate of EM itself (a plain EM triple does; see the stepper).
        self.monitor.record(objective, loglik)
        self.history_e_steps.append(self.n_e_steps)
        if self.verbose >= 2:
            print(f"  init {self.init_index} iter {self.n_iter:4d}  objective {objective:.6f}"
                  f"  (extrapolated)")
        return True

    def _expectation(self, params):
        self.n_e_steps += 1
        return expectation(self.model, params, self.data, rng=self.rng)

    def result(self):
        return FitResult(
            params=self.params, objective=self.objective, history=self.monitor.history,
            converged=self.converged, n_iter=self.n_iter, n_repairs=self.n_repairs,
            repairs=list(self.repairs), degenerate=self.degenerate, decreases=self.monitor.decreases,
            init_index=self.init_index, stats=self.stats, n_e_steps=self.n_e_steps,
            history_e_steps=list(self.history_e_steps),
        )


def fit_em(
    model: EMModel,
    data,
    initializations: Iterable[dict],
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    random_state: np.random.RandomState | int | None = None,
    max_repairs: int = 10,
    screen_iter: int | None = None,
    n_refine: int = 3,
    verbose: int = 0,
    accelerate: str = "none",
    stopping="aitken",
) -> FitResult:
    """Run EM from each initialisation and keep the best run.

    Parameters
    ----------
    model : EMModel
        The model's pure functions.
    data : object with ``chunks()`` and ``total_weight``
        The data strategy (see :mod:`emkit._engine.data`).
    initializations : iterable of dict
        Starting parameters, one per restart; generated lazily so that a
        restart's initialisation costs nothing until it runs.
    max_iter : int
        M-steps per run.
    tol : float
        Convergence threshold on the per-sample objective (see
        :class:`~emkit._engine.monitor.ConvergenceMonitor`).
    random_state : numpy RandomState or int
        Used to re-seed collapsed components. An integer seed becomes a
        RandomState only when a re-seed first needs one (building one costs
        about 0.1 ms, much of a small fit that never re-seeds).
    max_repairs : int
        Re-seeds allowed per run before the run counts as degenerate.
    screen_iter : int or None
        If set, every restart first runs only this many iterations and just
        the ``n_refine`` best continue to ``max_iter`` (emEM). None runs every
        restart to the end.
    n_refine : int
        Restarts continued after screening.
    verbose : int
        0 silent; 1 a progress bar over restarts and iterations (when tqdm
        is installed and the fit takes longer than a second; otherwise one
        line per restart); 2 one line per iteration.
    accelerate : {"none", "squarem"}
        The stepper of every run (see :mod:`emkit._engine.accel`).
    stopping : {"aitken", "relative", "fixed"} or a rule object
        The stopping rule (see :mod:`emkit._engine.monitor`): Aitken's
        projection on the per-sample objective (``tol``), mclust's relative
        change of the log-likelihood (``tol`` relative), or ``max_iter``
        iterations exactly.

    Returns
    -------
    FitResult
        The best run: non-degenerate first, then the highest objective.
    """
    if random_state is None:
        rng = np.random.RandomState()
    elif isinstance(random_state, numbers.Integral):
        rng = _SeededOnUse(int(random_state))
    else:
        rng = random_state
    bar = progress_bar("EM", unit="iter") if verbose == 1 else None
    try:
        return _fit_runs(model, data, initializations, max_iter=max_iter, tol=tol, rng=rng,
                         max_repairs=max_repairs, screen_iter=screen_iter, n_refine=n_refine,
                         verbose=verbose, accelerate=accelerate, stopping=stopping, bar=bar)
    finally:
        if bar is not None:
            bar.close()


def _advance(run, n_steps, bar):
    """``run.advance(n_steps)``, the bar (when one shows the progress) updated
    after every step; the steps are those of a run without a bar."""
    if bar is None:
        run.advance(n_steps)
        return
    run.advance(n_steps, on_step=lambda taken: bar.update(
        taken, restart=run.init_index, objective=f"{run.objective:.6g}"))


def _fit_runs(model, data, initializations, *, max_iter, tol, rng, max_repairs, screen_iter,
              n_refine, verbose, accelerate, stopping, bar):
    runs = []
    for init_index, params in enumerate(initializations):
        started = time.perf_counter()
        run = _Run(model, data, params, tol=tol, max_repairs=max_repairs, rng=rng,
                   stepper=make_stepper(accelerate), stopping=stopping,
                   verbose=verbose, init_index=init_index, max_iter=max_iter)
        _advance(run, max_iter if screen_iter is None else min(screen_iter, max_iter), bar)
        run.seconds = time.perf_counter() - started
        runs.append(run)
    if not runs:
        raise ValueError("fit_em needs at least one initialisation")
    if screen_iter is not None and screen_iter < max_iter:
        # emEM (Biernacki, Celeux & Govaert 2003): the objective after a short
        # run ranks the restarts well, so only the best few are run to the end.
        ranked = sorted(runs, key=_rank_key, reverse=True)
        for run in ranked[:n_refine]:
            started = time.perf_counter()
            _advance(run, max_iter - run.n_iter, bar)
            run.seconds += time.perf_counter() - started
        runs = ranked[:n_refine]
    best = None
    for run in runs:
        result = run.result()
        if verbose >= 2 or (verbose == 1 and bar is None):
            print(
                f"init {run.init_index}: objective {result.objective:.6f} after {result.n_iter} "
                f"iterations ({'converged' if result.converged else 'not converged'}"
                f"{', degenerate' if result.degenerate else ''}) in {run.seconds:.3f} s"
            )
        if result.better_than(best):
            best = result
    return best


class _SeededOnUse:
    """A RandomState from ``seed``, built when first used: the same draws as
    ``np.random.RandomState(seed)``, at no cost to a run that draws none."""

    def __init__(self, seed):
        self._seed = seed
        self._rng = None

    def __getattr__(self, name):
        if self._rng is None:
            self._rng = np.random.RandomState(self._seed)
        return getattr(self._rng, name)


def _rank_key(run):
    return (not run.degenerate, run.objective if np.isfinite(run.objective) else -np.inf)
