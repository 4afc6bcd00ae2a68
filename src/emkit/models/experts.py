"""Mixture of experts: softmax gating on the inputs over a regression family.

The model (Jacobs, Jordan, Nowlan & Hinton 1991; Jordan & Jacobs 1994) is

    p(y | x) = sum_k g_k(x) p_k(y | x),   g(x) = softmax(V a(x)),

with ``a(x) = [x - c_x, 1]`` and the last expert's gating row held at zero
(the softmax is unchanged by a common shift, so that row is the reference).
The experts are any regression component family
(:class:`~emkit.components.linear_regression.LinearRegressionComponent`);
this model owns only the gating, as :class:`~emkit.models.mixture.MixtureModel`
owns only the weights.

How the gating M-step fits the engine's contract
------------------------------------------------
The gating part of the expected complete-data log-likelihood is

    Q(V) = sum_n sum_k r_nk log g_k(x_n) = <V, S> - L(V),
    S_k = sum_n r_nk a_n,   L(V) = sum_n w_n log sum_k exp(v_k^T a_n).

The responsibilities enter only through ``S``, an additive statistic; the
rest, ``L(V)`` with its gradient and Hessian, depends on the inputs and the
trial ``V`` alone. So the E-step returns additive statistics only (``S`` and
``L``, its gradient and Hessian at the current ``V``, which give the first
Newton direction without a pass), and the M-step evaluates ``L`` at trial
points (with the gradient and Hessian there, for the next direction) by
further passes over the data, through the engine's own
:func:`~emkit._engine.em.expectation` (chunks, threads, any data object's
map-reduce) with a small gating-only model. The model holds no data: it
declares ``m_step_reads_data``, and the engine hands its M-step the data
object being fitted (``m_step(stats, params, data)``, see
:class:`~emkit._engine.em.EMModel`), as it hands re-seeding its data in
:class:`~emkit.models.mixture.MixtureModel`.
Each Newton step is accepted only if ``Q`` does not fall, halving the step
until it does (or keeping ``V``): the M-step never lowers ``Q``, so the
log-likelihood never decreases (generalised EM).
"""

from __future__ import annotations

import math

import numpy as np

from .._engine.em import expectation, responsibility_stats
from .. import backend

__all__ = ["MixtureOfExpertsModel", "gating_design", "gating_log_proba", "gating_statistics"]

# Step halvings before a Newton direction is given up (the step is then 2^-30).
_MAX_HALVINGS = 30


def _log_partition(logits):
    """Row-wise ``log sum_k exp(logits)`` (numpy passes: a few K columns make
    scipy's general logsumexp the slowest step of an E-step)."""
    top = logits.max(axis=1)
    shifted = np.exp(logits - top[:, None])
    return np.log(shifted.sum(axis=1)) + top


def gating_log_proba(design, gating):
    """Log gating probabilities ``log g_k(x_n)`` (n, K) and ``log sum_k exp(v_k^T a_n)`` (n,).

    Parameters
    ----------
    design : ndarray of shape (n, P)
        ``[x - c_x, 1]``.
    gating : ndarray of shape (K - 1, P)
        Gating rows of the first K - 1 experts (the last is zero).
    """
    logits = np.zeros((design.shape[0], gating.shape[0] + 1))
    logits[:, :-1] = design @ gating.T
    log_partition = _log_partition(logits)
    logits -= log_partition[:, None]
    return logits, log_partition


class _GatingPass:
    """The data-only part of the gating objective at given gating rows, as an
    engine model: ``L(V)``, ``sum w g a`` and the negative Hessian of ``L``."""

    parallel_chunks = True

    def __init__(self, center, hessian):
        self.center = center
        self.hessian = hessian

    def e_step_plan(self, gating):
        return gating

    def e_step(self, gating, X_chunk, weights, *_):
        design = gating_design(X_chunk, self.center)
        log_gate, log_partition = gating_log_proba(design, gating)
        return gating_statistics(design, log_gate, log_partition, weights, self.hessian), 0.0


def gating_design(X_chunk, center):
    """``[x - c_x, 1]`` of a joint chunk ``[X, y]``, shape (n, D + 1)."""
    X_chunk = np.asarray(X_chunk, dtype=np.float64)
    D = center.shape[0]
    design = np.empty((X_chunk.shape[0], D + 1))
    np.subtract(X_chunk[:, :D], center, out=design[:, :D])
    design[:, D] = 1.0
    return design


def gating_statistics(design, log_gate, log_partition, weights, hessian=True):
    """Additive statistics of the data-only part ``L(V)`` of the gating objective.

    Parameters
    ----------
    design : ndarray of shape (n, P)
    log_gate, log_partition : the two results of :func:`gating_log_proba` at V
    weights : ndarray of shape (n,) or None
    hessian : bool

    Returns
    -------
    dict
        ``"gate_log_partition"`` (0-d): ``L(V)``; ``"gate_prob_sums"``
        (K - 1, P): ``sum_n w_n g_nk a_n``, its gradient; and, when
        ``hessian``, ``"gate_hessian"`` ((K-1) P, (K-1) P): its Hessian
        ``sum_n w_n (diag g_n - g_n g_n^T) kron a_n a_n^T`` (positive
        semi-definite), over the first K - 1 experts.
    """
    n, P = design.shape
    K1 = log_gate.shape[1] - 1
    probs = np.exp(log_gate[:, :K1])
    weighted_probs = probs if weights is None else probs * weights[:, None]
    stats = {"gate_log_partition": np.asarray(
                 log_partition.sum() if weights is None else weights @ log_partition),
             "gate_prob_sums": weighted_probs.T @ design}
    if hessian:
        # (g kron a) rows: the outer-product part; the diagonal blocks sum w g_k a a^T.
        product = (probs[:, :, None] * design[:, None, :]).reshape(n, K1 * P)
        weighted = product if weights is None else product * weights[:, None]
        matrix = -(weighted.T @ product)
        diagonal = (weighted.T @ design).reshape(K1, P, P)
        for k in range(K1):
            matrix[k * P:(k + 1) * P, k * P:(k + 1) * P] += diagonal[k]
        stats["gate_hessian"] = matrix
    return stats


class MixtureOfExpertsModel:
    """A K-expert mixture with softmax gating, as pure functions for the engine.

    Parameters
    ----------
    component : LinearRegressionComponent (or another regression family)
        The experts; their samples are joint rows ``[X, y]``.
    n_components : int
    input_center : ndarray of shape (D,)
        The centre of the gating design (the inputs' mean).
    gating_steps : int
        Newton steps per M-step: each costs one pass over the data to test
        its trial point (one more per halving).
    gating_alpha : float
        Gaussian prior precision on the gating slopes (not the intercepts);
        0 is maximum likelihood. Keeps the gating finite when the regimes
        are separable in x (else the slopes grow without bound, slowly).
    fix_gating : bool
        Hold the gating at its initial values.
    """

    parallel_chunks = True
    # The gating M-step walks the inputs: the engine passes m_step its data.
    m_step_reads_data = True

    def __init__(self, component, n_components, *, input_center, gating_steps=3,
                 gating_alpha=0.0, fix_gating=False):
        self.component = component
        self.n_components = int(n_components)
        self.input_center = np.asarray(input_center, dtype=np.float64)
        self.gating_steps = int(gating_steps)
        self.gating_alpha = float(gating_alpha)
        self.fix_gating = fix_gating

    # -- parameters in the centred gating design --------------------------------
    def centered_gating(self, params):
        """Gating rows (K - 1, D + 1) in the centred design, from the uncentred
        ``gating_coef`` (K, D) and ``gating_intercept`` (K,) (relative to the last)."""
        coef = np.asarray(params["gating_coef"], dtype=np.float64)
        intercept = np.asarray(params["gating_intercept"], dtype=np.float64)
        coef = coef[:-1] - coef[-1]
        intercept = intercept[:-1] - intercept[-1] + coef @ self.input_center
        return np.column_stack([coef, intercept])

    def uncentered_gating(self, gating):
        """``(gating_coef (K, D), gating_intercept (K,))``, the last row zero."""
        D = self.input_center.shape[0]
        coef = np.vstack([gating[:, :D], np.zeros((1, D))])
        intercept = np.append(gating[:, D] - gating[:, :D] @ self.input_center, 0.0)
        return coef, intercept

    # -- engine interface -----------------------------------------------------
    def e_step_plan(self, params):
        return self.component.plan(params), self.centered_gating(params)

    def e_step(self, plan, X_chunk, weights, *_):
        """Expert statistics, the gating statistics at the current gating, and
        the chunk's log-likelihood ``sum_n w_n log sum_k g_k(x_n) p_k(y_n | x_n)``."""
        component_plan, gating = plan
        features = self.component.features(X_chunk)
        design = gating_design(X_chunk, self.input_center)
        log_gate, log_partition = gating_log_proba(design, gating)
        resp = self.component.log_prob(component_plan, features)
        resp += log_gate
        log_norm = backend.ops().normalize_rows(resp, np.zeros(self.n_components), weights)
        loglik = float(log_norm.sum() if weights is None else weights @ log_norm)
        stats = self.component.stats(resp, features)
        stats["counts"] = resp.sum(axis=0, dtype=np.float64)
        if not self.fix_gating:
            stats["gate_resp_sums"] = resp[:, :-1].T @ design
            stats.update(gating_statistics(design, log_gate, log_partition, weights))
        return stats, loglik

    def m_step(self, stats, params, data):
        """Experts by their own M-step; gating by guarded Newton steps on Q(V).

        ``stats`` must come from an E-step over ``data`` at ``params`` (or,
        with ``params`` None, from :meth:`stats_from_responsibilities` of
        ``data``): the gating statistics in them are those of ``params``'
        gating, and every trial gating is evaluated by a pass over ``data``
        (the engine's data object; :func:`emkit._engine.em.maximize`).
        """
        new_params = self.component.m_step(stats["counts"], stats, params)
        if self.fix_gating and params is not None:
            new_params["gating_coef"] = params["gating_coef"]
            new_params["gating_intercept"] = params["gating_intercept"]
            return new_params
        K1, P = self.n_components - 1, self.input_center.shape[0] + 1
        if params is None:
            gating = np.zeros((K1, P))
            current = self._gating_pass(gating, True, data)
        else:
            gating = self.centered_gating(params)
            current = stats
        gating = self._newton(gating, stats["gate_resp_sums"], current, data)
        new_params["gating_coef"], new_params["gating_intercept"] = \
            self.uncentered_gating(gating)
        return new_params

    def _penalty(self, gating):
        """``alpha / 2 * ||slopes||^2`` (intercepts are not penalised)."""
        return 0.5 * self.gating_alpha * float(np.sum(gating[:, :-1] ** 2))

    def _objective(self, gating, resp_sums, log_partition):
        return float(np.sum(gating * resp_sums)) - float(log_partition) - self._penalty(gating)

    def _newton(self, gating, resp_sums, current, data):
        """Up to ``gating_steps`` Newton steps on the penalised Q(V), each
        halved until Q does not fall (or dropped): Q never decreases."""
        K1, P = gating.shape
        total = max(float(data.total_weight), 1.0)
        penalised = np.zeros((K1, P))
        penalised[:, :-1] = self.gating_alpha
        objective = self._objective(gating, resp_sums, current["gate_log_partition"])
        for step in range(self.gating_steps):
            gradient = (resp_sums - current["gate_prob_sums"] - penalised * gating).ravel()
            hessian = current["gate_hessian"] + np.diag(penalised.ravel())
            direction = _solve_symmetric(hessian, gradient)
            decrement = float(gradient @ direction)
            if not (decrement > 1e-14 * total):
                break
            last = step == self.gating_steps - 1
            length, accepted = 1.0, False
            for _ in range(_MAX_HALVINGS):
                trial = gating + length * direction.reshape(K1, P)
                trial_stats = self._gating_pass(trial, not last, data)
                trial_objective = self._objective(trial, resp_sums,
                                                  trial_stats["gate_log_partition"])
                if math.isfinite(trial_objective) and trial_objective >= objective:
                    accepted = True
                    break
                length *= 0.5
            if not accepted:
                break
            gating, current, objective = trial, trial_stats, trial_objective
        return gating

    def _gating_pass(self, gating, hessian, data):
        """``L``, its gradient (and Hessian) at ``gating`` over all of ``data``."""
        stats, _ = expectation(_GatingPass(self.input_center, hessian), gating, data)
        return stats

    def log_prior(self, params):
        """The experts' log-prior plus a N(0, 1/alpha) log-density per gating
        slope (0 for alpha = 0, maximum likelihood; intercepts are flat)."""
        total = self.component.log_prior(params)
        if self.gating_alpha > 0 and not self.fix_gating:
            gating = self.centered_gating(params)
            total += (-self._penalty(gating)
                      + 0.5 * gating[:, :-1].size * math.log(self.gating_alpha / (2.0 * math.pi)))
        return total

    def repair(self, params, stats, rng, data):
        """Regression experts have no collapse test: nothing to re-seed."""
        return params, 0

    # -- unconstrained coordinates (accelerated steppers) -----------------------
    def to_unconstrained(self, params):
        """Centred gating rows, then the experts' coordinates, as one vector."""
        expert_vector = self.component.to_unconstrained(params)
        return np.concatenate([self.centered_gating(params).ravel(), expert_vector])

    def from_unconstrained(self, vector, template):
        """Parameters from :meth:`to_unconstrained`'s vector (None if invalid)."""
        if not np.isfinite(vector).all():
            return None
        size = (self.n_components - 1) * (self.input_center.shape[0] + 1)
        params = self.component.from_unconstrained(vector[size:], template)
        if params is None:
            return None
        if self.fix_gating:
            params["gating_coef"] = template["gating_coef"]
            params["gating_intercept"] = template["gating_intercept"]
        else:
            params["gating_coef"], params["gating_intercept"] = self.uncentered_gating(
                vector[:size].reshape(self.n_components - 1, -1))
        return params

    # -- helpers for the estimators --------------------------------------------
    def stats_from_responsibilities(self, resp, data):
        """Summed expert and gating statistics of given responsibilities.

        Parameters
        ----------
        resp : ndarray of shape (n_samples, n_components)
        data : SampleData
            The joint rows ``[X, y]`` that ``resp`` belongs to.

        Returns
        -------
        stats : dict
            What an E-step returns for the experts and ``S``; the gating
            statistics of a starting gating are computed by the M-step.
        """
        return responsibility_stats(data, resp, self._responsibility_chunk_stats)

    def _responsibility_chunk_stats(self, X_chunk, resp):
        stats = self.component.stats(resp, self.component.features(X_chunk))
        stats["counts"] = resp.sum(axis=0)
        stats["gate_resp_sums"] = resp[:, :-1].T @ gating_design(X_chunk, self.input_center)
        return stats


def _solve_symmetric(matrix, vector):
    """``matrix^-1 vector`` for a positive semi-definite ``matrix`` (minimum-norm
    on its null space, e.g. a constant input column)."""
    try:
        solution = np.linalg.solve(matrix, vector)
        if np.isfinite(solution).all():
            return solution
    except np.linalg.LinAlgError:
        pass
    return np.linalg.lstsq(matrix, vector, rcond=None)[0]
