"""Convergence monitoring shared by every EM fit.

EM converges linearly, often slowly: a rule that stops when one iteration gains
less than ``tol`` (scikit-learn's) can stop far short of the optimum when the
rate is close to one. The monitor therefore also projects the gain still to come
with Aitken's delta-squared estimate and stops only when both are below ``tol``.

Each rule's arithmetic is written once, as a pure function of a few floats
(:func:`aitken_converged`, :func:`relative_change_converged`): the rule
objects call it on the monitor's history, and a model's compiled kernel that
takes several EM updates in one call (see :class:`emkit._engine.em.EMModel`)
compiles the same function with numba and calls it on its own iterates, under
the rule's :meth:`ConvergenceMonitor.compiled_rule`. Both decide alike by
construction; the engine records the kernel's iterates and asks the rule
object again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["ConvergenceMonitor", "AitkenRule", "RelativeChangeRule", "FixedIterations",
           "CompiledRule", "AbsoluteChangeRule", "make_stopping_rule", "aitken_converged",
           "relative_change_converged", "RULE_AITKEN", "RULE_RELATIVE", "RULE_FIXED"]

# Codes of the rules for compiled kernels (:attr:`CompiledRule.code`).
RULE_AITKEN = 0
RULE_RELATIVE = 1
RULE_FIXED = 2


# The rules' arithmetic. Plain Python on floats only (math, comparisons), so
# that numba compiles these very functions into a model's kernel.
def aitken_converged(length, before_previous, previous, current, n_samples, tol):
    """Whether the last gain and Aitken's projection of the gains still to come
    are both below ``tol`` per sample.

    Parameters
    ----------
    length : int
        Objectives recorded since the last jump (a re-seed), ``current`` included.
    before_previous, previous, current : float
        The last three of them (``before_previous`` is not read when
        ``length < 3``, ``previous`` not when ``length < 2``).
    n_samples : float
        Total weight of the samples the objective sums over.
    tol : float

    Returns
    -------
    bool
    """
    if length < 2:
        return False
    if not math.isfinite(current):
        return False
    gain = (current - previous) / n_samples
    if abs(gain) >= tol:
        return False
    if length < 3 or gain <= 0:
        return True
    previous_gain = (previous - before_previous) / n_samples
    if previous_gain <= 0:
        return True
    rate = gain / previous_gain
    if rate >= 1:
        return False
    # Aitken: with a linear rate r the gains still to come sum to gain*r/(1-r).
    remaining = gain * rate / (1.0 - rate)
    return remaining < tol


def relative_change_converged(length, previous, current, tol):
    """R mclust's rule: ``|L_t - L_{t-1}| <= tol (1 + |L_t|)``.

    Parameters
    ----------
    length : int
        Log-likelihoods recorded since the last jump, ``current`` included.
    previous, current : float
        The last two (``previous`` is not read when ``length < 2``).
    tol : float

    Returns
    -------
    bool
    """
    if length < 2 or not math.isfinite(current):
        return False
    return abs(current - previous) <= tol * (1.0 + abs(current))


@dataclass(frozen=True)
class CompiledRule:
    """A stopping rule as a compiled kernel applies it to its own iterates.

    Attributes
    ----------
    code : int
        :data:`RULE_AITKEN` (on ``objectives``), :data:`RULE_RELATIVE` (on
        ``logliks``) or :data:`RULE_FIXED` (never converged).
    tol : float
    n_samples : float
    objectives, logliks : tuple of float
        The last (up to three) values recorded since the last jump, the
        current iterate's last: the kernel's iterates continue them.
    length : int
        Values recorded since the last jump (``len(objectives)`` or more).
    """

    code: int
    tol: float
    n_samples: float
    objectives: tuple
    logliks: tuple
    length: int


class AitkenRule:
    """emkit's default: the last gain and Aitken's projection of the gains
    still to come are both below ``tol`` per sample (:func:`aitken_converged`)."""

    code = RULE_AITKEN

    def converged(self, monitor):
        return monitor.aitken_converged

    def tolerance(self, monitor):
        return monitor.tol


class RelativeChangeRule:
    """R mclust's ``emControl(tol)``: stop when the log-likelihood changed by at
    most ``tol`` relative to ``1 + |L|`` (the log-likelihood, not the
    log-posterior, also under a prior, as mclust watches it;
    :func:`relative_change_converged`)."""

    code = RULE_RELATIVE

    def __init__(self, tol):
        self.tol = float(tol)

    def converged(self, monitor):
        values = monitor.logliks
        length = len(values) - monitor.segment_start
        return relative_change_converged(length, values[-2] if length >= 2 else math.nan,
                                         values[-1] if length >= 1 else math.nan, self.tol)

    def tolerance(self, monitor):
        return self.tol


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

    code = RULE_FIXED

    def converged(self, monitor):
        return False

    def tolerance(self, monitor):
        return 0.0


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
        self.extend((float(objective),), (float(objective if loglik is None else loglik),))

    def extend(self, objectives, logliks) -> None:
        """:meth:`record` every objective of a sequence (floats), in order:
        the updates a compiled kernel took in one call."""
        history, decreases, rtol = self.history, self.decreases, self.nonmonotone_rtol
        for objective in objectives:
            if history:
                previous = history[-1]
                drop = previous - objective
                if drop > rtol * max(1.0, abs(previous)):
                    decreases.append((len(history), drop))
            history.append(objective)
        self.logliks.extend(logliks)

    @property
    def converged(self) -> bool:
        """Whether the stopping rule says the run has converged."""
        return self.rule.converged(self)

    @property
    def aitken_converged(self) -> bool:
        """Whether the last gain and the projected remaining gain are below ``tol``
        (:func:`aitken_converged` on the history since the last jump)."""
        history = self.history
        length = len(history) - self.segment_start
        return aitken_converged(length, history[-3] if length >= 3 else math.nan,
                                history[-2] if length >= 2 else math.nan,
                                history[-1] if length >= 1 else math.nan,
                                self.n_samples, self.tol)

    def compiled_rule(self):
        """The stopping rule for a compiled kernel that continues this history.

        Returns
        -------
        CompiledRule or None
            None for a rule object without a compiled form (a custom rule:
            the engine then takes every EM update itself).
        """
        rule = self.rule
        # Exactly these classes: a subclass may judge differently.
        if type(rule) not in (AitkenRule, RelativeChangeRule, FixedIterations) \
                or not self.history:
            return None
        length = len(self.history) - self.segment_start
        keep = min(length, 3)
        return CompiledRule(code=rule.code, tol=float(rule.tolerance(self)),
                            n_samples=float(self.n_samples),
                            objectives=tuple(self.history[-keep:]),
                            logliks=tuple(self.logliks[-keep:]), length=length)
