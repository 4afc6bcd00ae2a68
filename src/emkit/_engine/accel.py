"""Steppers: how the EM loop moves from one iterate to the next.

The engine's loop (:class:`emkit._engine.em._Run`) asks its stepper for one
*step* at a time; a step takes one or more EM updates through
``run.em_step()`` (M-step, repair, E-step, bookkeeping) and may propose
parameters of its own. Every model gets every stepper.

:class:`PlainEM`
    One EM update per step.
:class:`Squarem`
    Varadhan & Roland's (2008) squared extrapolation, scheme 3, safeguarded as
    R's ``SQUAREM`` package does: two EM updates, an extrapolation in
    unconstrained coordinates with a clamped, adaptive step length, and the
    stabilising EM update of the extrapolated point as the next iterate
    (extrapolating again from there, as R does, rather than from the
    extrapolated point itself, whose error in the fast directions EM has not
    yet damped, cut the median E-steps to benchmarks/bench_accel.py's target
    on Old Faithful from 66 to 50); plain EM's second
    update whenever the objective would fall below the first update's or the
    proposal is invalid. The second update's E-step is skipped unless the
    cycle falls back to it or the stopping rule needs it, so an accepted
    cycle costs three E-steps, and the monitored history never decreases.

The unconstrained coordinates come from the model
(``model.to_unconstrained(params) -> 1-D array or None`` and
``model.from_unconstrained(vector, template) -> params or None``): log
weights, Cholesky factors with log-diagonal, log rates. A model without them,
or that returns None, is stepped by plain EM. An extrapolation is invalid,
and its cycle falls back to plain EM's update, when the model cannot map it
back (None: a probability it would make zero, which EM could never revive; a
rate that overflows) or a kernel cannot evaluate it (see
:meth:`emkit._engine.em._Run.try_proposal`).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["PlainEM", "Squarem", "make_stepper", "ACCELERATIONS"]

ACCELERATIONS = ("none", "squarem")


class PlainEM:
    """One EM update per step, or as many as the model's compiled updates take
    in one call (see ``compiled_updates`` in :class:`emkit._engine.em.EMModel`)."""

    def step(self, run):
        run.em_updates()


class Squarem:
    """SQUAREM, scheme 3 (Varadhan & Roland 2008), with R SQUAREM's safeguards.

    One cycle from the current iterate ``p0`` (whose E-step is known): its EM
    update ``p1`` (one E-step, recorded), the M-step ``p2`` of ``p1`` (no
    E-step), the extrapolation ``x = p0 + 2 a r + a^2 v`` in the model's
    unconstrained coordinates (``r = p1 - p0``, ``v = p2 - 2 p1 + p0``,
    ``a = |r| / |v|`` clamped to ``[step_min, step_max]``), and, as in R, the
    EM update of ``x`` (the stabilising step) as the next iterate when its
    objective is at least ``p1``'s (two E-steps: at ``x`` and at its update).
    Otherwise the cycle falls back to ``p2`` (one E-step): three E-steps for
    an accepted cycle, four for a rejected one, and every recorded objective
    is at least the one before it.

    ``step_max`` is multiplied by ``step_factor`` each time a step of that
    length is accepted and divided by it (not below its initial value) when
    one is rejected (R's ``step.max0`` and ``mstep``).

    The stopping rule judges plain EM triples only: once a cycle gains less
    than ``tol`` per sample, the next one evaluates ``p2`` too, and the run
    stops when the rule holds for ``(p0, p1, p2)`` and the cycle gained less
    than ``tol``. Right after an extrapolation the EM pair's gains mis-state
    EM's rate, so neither test alone is safe.

    Parameters
    ----------
    step_min : float
        Smallest step length; 1 makes the extrapolated point ``p2`` itself
        (no extrapolation).
    step_max : float
        Initial largest step length: 4, not R's 1, which spends the first
        cycles growing it (median E-steps to bench_accel's target on Old
        Faithful over 40 starts: 38 against 43; Hasselblad's Poisson mixture
        and the HMMs alike).
    step_factor : float

    A cycle counts its M-steps in ``run.n_iter`` (three when accepted: ``p1``,
    ``p2`` and the stabilising update; two when it falls back), so an
    estimator's ``n_iter_`` is M-steps under every stepper and ``max_iter``
    bounds them: where a whole cycle would pass the run's ``max_iter``
    (``run.iterations_left``) the stepper takes plain EM updates instead,
    the stopping rule judging them once every gain it reads is a plain EM
    update's. ``max_iter=1`` is then one EM update, as without
    acceleration. (A cycle may pass the end of restart screening, by up to
    two M-steps, rather than break off there.)

    Attributes
    ----------
    n_accepted, n_rejected : int
        Extrapolations kept and fallen back from.
    """

    # M-steps an accepted cycle takes (p1, p2, the stabilising update).
    cycle_updates = 3

    def __init__(self, step_min=1.0, step_max=4.0, step_factor=4.0):
        self.step_min = float(step_min)
        self.step_max0 = self.step_max = float(step_max)
        self.step_factor = float(step_factor)
        self.n_accepted = 0
        self.n_rejected = 0
        # Whether the next cycle evaluates p2 for the stopping rule.
        self.check = False
        # Plain EM gains at the end of the record since the last cycle (see _plain_update).
        self.plain_gains = 0

    def step(self, run):
        model = run.model
        to_unconstrained = getattr(model, "to_unconstrained", None)
        start = run.params
        start_vector = None if to_unconstrained is None else to_unconstrained(start)
        if start_vector is None:
            run.em_updates()
            return
        if run.iterations_left < self.cycle_updates:
            self._plain_update(run)
            return
        self.plain_gains = 0
        start_objective = run.objective
        # A re-seed ends the cycle as plain EM.
        if not run.em_step(check_convergence=False):
            return
        first, floor = run.params, run.objective
        if self.check:
            if not run.em_step(check_convergence=False):
                return
            if self._converged(run, start_objective):
                return
            second, floor = run.params, run.objective
        else:
            second = run.m_step(run.stats, first)
            if model.repair(second, run.stats, run.rng, run.data)[1]:
                # The re-seed is the engine's to make (its budget, its record).
                run.em_step()
                return
            run.n_iter += 1
        first_vector, second_vector = to_unconstrained(first), to_unconstrained(second)
        alpha = None
        if first_vector is not None and second_vector is not None:
            r = first_vector - start_vector
            v = second_vector - 2.0 * first_vector + start_vector
            sv2 = float(v @ v)
            if sv2 > 0 and math.isfinite(sv2):
                alpha = min(max(math.sqrt(float(r @ r) / sv2), self.step_min), self.step_max)
        if alpha is None or alpha <= 1.0:
            # The extrapolation would be p2 itself; as in R, a step at the
            # largest length lets the next one be longer.
            if alpha is not None and alpha == self.step_max:
                self.step_max *= self.step_factor
            self._fall_back(run, start_objective)
            return
        proposal = model.from_unconstrained(start_vector + 2.0 * alpha * r + alpha**2 * v,
                                            second)
        if proposal is not None and run.try_proposal(proposal, floor):
            self.n_accepted += 1
            if alpha == self.step_max:
                self.step_max *= self.step_factor
            self.check = run.objective - start_objective < run.monitor.tol * run.monitor.n_samples
        else:
            self.n_rejected += 1
            if alpha == self.step_max:
                self.step_max = max(self.step_max0, self.step_max / self.step_factor)
            self._fall_back(run, start_objective)

    def _plain_update(self, run):
        """One plain EM update where a whole cycle would pass ``max_iter``.

        The stopping rule reads the last two gains of the record (one when
        the run, or the stretch since a re-seed, has only two objectives;
        see :mod:`emkit._engine.monitor`), which an extrapolation's gain
        would mis-state: it is asked only once those gains are all plain EM
        updates' (two plain updates after a cycle; one at the start of a
        run, so that ``max_iter=1`` can converge as plain EM does).
        """
        if not run.em_step(check_convergence=False):
            self.plain_gains = 0  # a re-seed: off the EM path
            return
        self.plain_gains += 1
        monitor = run.monitor
        read = min(2, len(monitor.history) - monitor.segment_start - 1)
        if self.plain_gains >= read:
            self._converged(run, monitor.history[-1 - read])

    def _fall_back(self, run, start_objective):
        """End the cycle on p2, plain EM's second update (evaluated unless it
        was already), and judge convergence on the plain triple."""
        if not self.check:
            run.n_iter -= 1  # p2's M-step is taken again, now with its E-step
            if not run.em_step(check_convergence=False):
                return
        self.check = False
        self._converged(run, start_objective)

    def _converged(self, run, start_objective):
        monitor = run.monitor
        gained = run.objective - start_objective
        run.converged = monitor.converged and gained < monitor.tol * monitor.n_samples
        return run.converged


def make_stepper(accelerate):
    """The stepper for an estimator's ``accelerate`` parameter."""
    if accelerate == "none":
        return PlainEM()
    if accelerate == "squarem":
        return Squarem()
    raise ValueError(f"accelerate must be one of {ACCELERATIONS}; got {accelerate!r}.")
