"""Convergence monitoring shared by every EM fit.

EM converges linearly, often slowly: a rule that stops when one iteration gains
less than ``tol`` (scikit-learn's) can stop far short of the optimum when the
rate is close to one. The monitor therefore also projects the gain still to come
with Aitken's delta-squared estimate and stops only when both are below ``tol``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["ConvergenceMonitor", "AitkenRule", "RelativeChangeRule", "AbsoluteChangeRule",
           "FixedIterations", "make_stopping_rule"]


class AitkenRule:
    """emkit's default: the last gain and Aitken's projection of the gains
    still to come are both below ``tol`` per sample."""

    def converged(self, monitor):
        return monitor.aitken_converged


class RelativeChangeRule:
    """R mclust's ``emControl(tol)``: stop when the log-likelihood changed by at
    most ``tol`` relative to ``1 + |L|`` (the log-likelihood, not the
    log-posterior, also under a prior, as mclust watches it)."""

    def __init__(self, tol):
        self.tol = float(tol)

    def converged(self, monitor):
        values = monitor.logliks[monitor.segment_start:]
        if len(values) < 2 or not math.isfinite(values[-1]):
            return False
        return abs(values[-1] - values[-2]) <= self.tol * (1.0 + abs(values[-1]))


class AbsoluteChangeRule:
    """Stop when a monitored quantity changed by less than ``tol`` (absolute)
    between the last two records: scikit-learn's ``perp_tol`` for online LDA,
    where the quantity is the perplexity ``exp(-bound / n_words)``.

    Parameters
    ----------
    tol : float
        Threshold on ``|q(h[-1]) - q(h[-2])|`` (strict, as scikit-learn's).
    quantity : callable ``(objective) -> float`` or None
        Maps a recorded objective to the watched quantity; None watches the
        objective itself.
    """

    def __init__(self, tol, quantity=None):
        self.tol = float(tol)
        self.quantity = quantity

    def converged(self, monitor):
        values = monitor.history[monitor.segment_start:]
        if len(values) < 2:
            return False
        last, previous = values[-1], values[-2]
        if self.quantity is not None:
            last, previous = self.quantity(last), self.quantity(previous)
        return math.isfinite(last) and abs(last - previous) < self.tol


class FixedIterations:
    """Never converged: run exactly ``max_iter`` iterations."""

    def converged(self, monitor):
        return False


def make_stopping_rule(stopping, tol):
    """A rule object from a name ("aitken", "relative", "fixed") or a rule itself."""
    if not isinstance(stopping, str):
        return stopping
    if stopping == "aitken":
        return AitkenRule()
    if stopping == "relative":
        return RelativeChangeRule(tol)
    if stopping == "fixed":
        return FixedIterations()
    raise ValueError(f"stopping must be 'aitken', 'relative' or 'fixed'; got {stopping!r}.")


@dataclass
class ConvergenceMonitor:
    """Record the objective after every iteration and decide convergence.

    Parameters
    ----------
    tol : float
        Threshold on the *mean* (per-sample) objective, so that it does not
        scale with the number of samples. Convergence is declared when the last
        gain and the projected remaining gain are both below it.
    n_samples : float
        Number (or total weight) of samples the objective sums over.
    nonmonotone_rtol : float
        Relative size of a decrease that is tolerated as floating-point noise.
    rule : AitkenRule, RelativeChangeRule or FixedIterations
        The stopping rule :attr:`converged` applies (Aitken by default).

    Attributes
    ----------
    history : list of float
        The objective (log-likelihood, or log-posterior under a prior) after
        every E-step, starting with the initial parameters.
    decreases : list of (int, float)
        ``(iteration, drop)`` for every decrease larger than rounding noise:
        a decrease means an M-step that is not a true maximisation.
    """

    tol: float
    n_samples: float
    nonmonotone_rtol: float = 1e-9
    rule: object = field(default_factory=AitkenRule)
    history: list = field(default_factory=list)
    # The log-likelihood part of every recorded objective (for rules that
    # watch it alone); equal to ``history`` without a prior.
    logliks: list = field(default_factory=list)
    decreases: list = field(default_factory=list)
    # Index in ``history`` where the current stretch of EM iterations began
    # (after the last jump); convergence looks only at values from there on.
    segment_start: int = 0

    def record_jump(self, objective: float, loglik: float | None = None) -> None:
        """Append the objective of parameters that did not come from an M-step
        (a re-seed): it may be lower, and the stopping rule starts afresh."""
        self.history.append(float(objective))
        self.logliks.append(float(objective if loglik is None else loglik))
        self.segment_start = len(self.history) - 1

    def record(self, objective: float, loglik: float | None = None) -> None:
        """Append ``objective`` and note it if it is lower than the last one."""
        self.logliks.append(float(objective if loglik is None else loglik))
        if self.history:
            previous = self.history[-1]
            drop = previous - objective
            noise = self.nonmonotone_rtol * max(1.0, abs(previous))
            if drop > noise:
                self.decreases.append((len(self.history), drop))
        self.history.append(float(objective))

    @property
    def converged(self) -> bool:
        """Whether the stopping rule says the run has converged."""
        return self.rule.converged(self)

    @property
    def aitken_converged(self) -> bool:
        """Whether the last gain and the projected remaining gain are below ``tol``."""
        length = len(self.history) - self.segment_start
        if length < 2:
            return False
        if not math.isfinite(self.history[-1]):
            return False
        gain = (self.history[-1] - self.history[-2]) / self.n_samples
        if abs(gain) >= self.tol:
            return False
        if length < 3 or gain <= 0:
            return True
        previous_gain = (self.history[-2] - self.history[-3]) / self.n_samples
        if previous_gain <= 0:
            return True
        rate = gain / previous_gain
        if rate >= 1:
            return False
        # Aitken: with a linear rate r the gains still to come sum to gain*r/(1-r).
        remaining = gain * rate / (1.0 - rate)
        return remaining < self.tol
