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
    unconstrained coordinates with a clamped, adaptive step length, a
    stabilising EM update from the extrapolated point, and the plain EM point
    whenever the objective would fall or the proposal is invalid. The
    objective of every accepted iterate is at least the plain EM one, so the
    monitored history never decreases. The E-step at the extrapolated point
    gives both its objective (the safeguard) and the statistics of the
    stabilising update: an extrapolation that already beats the second EM
    point is kept and its stabilising update is the next cycle's first EM
    update (three E-steps per cycle); one that does not is replaced by its
    stabilising update if that beats it (four), else by the EM point.

The unconstrained coordinates come from the model
(``model.to_unconstrained(params) -> 1-D array or None`` and
``model.from_unconstrained(vector, template) -> params or None``): log
weights, Cholesky factors with log-diagonal, log rates. A model without them,
or that returns None, is stepped by plain EM.
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

    Parameters
    ----------
    step_min : float
        Smallest step length; 1 makes the extrapolated point the second EM
        update (no extrapolation).
    step_max : float
        Initial largest step length; multiplied by ``step_factor`` each time
        a step of that length is accepted, divided by it when one is rejected
        (R's ``step.max0`` and ``mstep``).
    step_factor : float
    """

    def __init__(self, step_min=1.0, step_max=1.0, step_factor=4.0):
        self.step_min = float(step_min)
        self.step_max0 = self.step_max = float(step_max)
        self.step_factor = float(step_factor)
        self.n_accepted = 0
        self.n_rejected = 0

    def step(self, run):
        model = run.model
        to_unconstrained = getattr(model, "to_unconstrained", None)
        start = run.params
        start_vector = None if to_unconstrained is None else to_unconstrained(start)
        if start_vector is None:
            run.em_updates()
            return
        # Two EM updates; a re-seed ends the cycle as plain EM.
        start_objective = run.objective
        if not run.em_step(check_convergence=False):
            return
        first = run.params
        if not run.em_step(check_convergence=False):
            return
        # Converged when plain EM's own stopping rule holds for this pair of
        # updates *and* the whole cycle gained less than the tolerance: right
        # after an extrapolation the pair's gains mis-state EM's rate, so the
        # rule alone could stop while extrapolation still makes progress.
        monitor = run.monitor
        if monitor.converged and (run.objective - start_objective) < monitor.tol * monitor.n_samples:
            run.converged = True
            return
        second, second_objective = run.params, run.objective
        first_vector, second_vector = to_unconstrained(first), to_unconstrained(second)
        if first_vector is None or second_vector is None:
            return
        r = first_vector - start_vector
        v = second_vector - 2.0 * first_vector + start_vector
        sv2 = float(v @ v)
        if not (sv2 > 0 and math.isfinite(sv2)):
            return
        alpha = math.sqrt(float(r @ r) / sv2)
        alpha = min(max(alpha, self.step_min), self.step_max)
        if alpha <= 1.0:
            # The extrapolation would be the second EM point itself; as in R,
            # a step at the largest length lets the next one be longer.
            if alpha == self.step_max:
                self.step_max *= self.step_factor
            return
        proposal = model.from_unconstrained(start_vector + 2.0 * alpha * r + alpha**2 * v,
                                            second)
        accepted = proposal is not None and run.try_proposal(proposal, second_objective)
        if accepted:
            self.n_accepted += 1
            if alpha == self.step_max:
                self.step_max *= self.step_factor
        else:
            # try_proposal left the run on the second EM point.
            self.n_rejected += 1
            if alpha == self.step_max:
                self.step_max = max(self.step_max0, self.step_max / self.step_factor)


def make_stepper(accelerate):
    """The stepper for an estimator's ``accelerate`` parameter."""
    if accelerate == "none":
        return PlainEM()
    if accelerate == "squarem":
        return Squarem()
    raise ValueError(f"accelerate must be one of {ACCELERATIONS}; got {accelerate!r}.")
