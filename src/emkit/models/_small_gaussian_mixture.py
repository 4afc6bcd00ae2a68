"""Gaussian mixture model whose E-step is one compiled pass (small in-memory data).

Same pure functions as :class:`~emkit.models.mixture.MixtureModel` (the
engine cannot tell them apart); ``e_step_plan`` and ``e_step`` call
:func:`emkit.kernels.structured_gaussian.fused_mixture_e_step`, which returns the
same statistics as the feature-kernel E-step for a fraction of its fixed cost
per call. Worth it when a chunk holds a few thousand samples or fewer, where
the fixed cost dominates (model-selection grids, small data).

:meth:`SmallGaussianMixtureModel.run_compiled` goes further for the mclust
structures: the whole EM run (E-step, structured M-step, collapse test,
stopping rule) is one compiled call. On a few hundred samples the Python
between the kernels of one iteration costs twice the kernels themselves, and
a model-selection grid runs thousands of iterations. It returns what
:func:`emkit._engine.em.fit_em` would for one start, or None when the engine
must take over (a collapsed component to re-seed, a numerical failure, or an
option the compiled loop does not cover).
"""

from __future__ import annotations

import numpy as np

from .._engine.em import FitResult, expectation
from .._engine.monitor import ConvergenceMonitor
from ..kernels.structured_gaussian import (
    LAYOUT_CODES,
    STRUCTURE_CODES,
    RULE_MONITOR,
    RULE_RELATIVE,
    STOPPED_CONVERGED,
    STOPPED_MAX_ITER,
    em_run,
    fused_mixture_e_step,
    responsibility_moments,
)
from .mixture import MixtureModel

__all__ = ["SmallGaussianMixtureModel", "FUSED_MAX_SAMPLES", "FUSED_MAX_FEATURES"]

# Above these sizes the BLAS feature kernels win (they scale, this is serial;
# measured on Old Faithful tiled: 2x faster at 272 samples, even at ~2000).
FUSED_MAX_SAMPLES = 1024
FUSED_MAX_FEATURES = 8
_NO_WEIGHTS = np.empty(0)


class SmallGaussianMixtureModel(MixtureModel):
    """:class:`MixtureModel` over a :class:`GaussianComponent`, with a fused E-step."""

    def e_step_plan(self, params):
        component = self.component
        with np.errstate(divide="ignore"):
            log_weights = np.log(params["weights"])
        prec_chol = params["precisions_cholesky"]
        layout = component.layout
        if layout == "tied":
            K = params["means"].shape[0]
            prec_chol = np.broadcast_to(prec_chol, (K,) + prec_chol.shape)
            layout = "full"
        return (np.ascontiguousarray(params["means"] - component.center),
                np.ascontiguousarray(prec_chol, dtype=np.float64), layout, log_weights)

    def e_step(self, plan, X_chunk, weights):
        means_centered, prec_chol, layout, log_weights = plan
        X_chunk = np.ascontiguousarray(X_chunk, dtype=np.float64)
        if weights is not None:
            weights = np.ascontiguousarray(weights, dtype=np.float64)
        return fused_mixture_e_step(X_chunk, self.component.center, means_centered, prec_chol,
                                    layout, log_weights, weights)

    def stats_from_responsibilities(self, resp):
        """Summed statistics of given responsibilities (see MixtureModel), in one pass."""
        component, data = self.component, self.data
        layout = "full" if component.layout == "tied" else component.layout
        weights = (None if data.sample_weight is None
                   else np.ascontiguousarray(data.sample_weight, dtype=np.float64))
        return responsibility_moments(np.ascontiguousarray(data.X, dtype=np.float64),
                                      component.center, resp, layout, weights)

    def run_compiled(self, params, *, max_iter, tol, relative):
        """One EM run from ``params`` in a single compiled call.

        Parameters
        ----------
        params : dict
            Starting parameters (weights, means, (K, D, D) covariances and
            layout precision factors), e.g. from an initial M-step.
        max_iter : int
        tol : float
        relative : bool
            True: stop as R mclust does, ``|L_t - L_{t-1}| <= tol (1 + |L_t|)``;
            False: :class:`~emkit._engine.monitor.ConvergenceMonitor`'s rule.

        Returns
        -------
        FitResult or None
            None when the engine must take over (see the module docstring).
        """
        component = self.component
        if (component.structure is None or component.fixed or self.fix_weights
                or self.weight_concentration is not None):
            return None
        data = self.data
        K, D = self.n_components, component.n_features
        code = LAYOUT_CODES[component.layout]
        means = np.array(params["means"] - component.center, dtype=np.float64, order="C")
        covariances = np.array(params["covariances"], dtype=np.float64, order="C")
        weights = np.array(params["weights"], dtype=np.float64)
        factors = np.array(params["precisions_cholesky"], dtype=np.float64, order="C")
        factors = factors.reshape(K, 1, -1) if code else factors
        # The prior's terms, or the reg_covar penalty's (a prior with no
        # pseudo-counts), which the compiled M-step and objective use alike.
        prior_terms = component._map_terms(K)
        has_prior = prior_terms is not None
        if prior_terms is None:
            prior_terms = (0.0, np.zeros(D), np.zeros(K), np.zeros((K, D, D)))
        kappa, loc_centered, prior_counts, prior_scatter = prior_terms
        sample_weight = (_NO_WEIGHTS if data.sample_weight is None
                         else np.ascontiguousarray(data.sample_weight, dtype=np.float64))
        history = np.empty(max_iter + 1)
        outcome, n_iter, n_hist = em_run(
            np.ascontiguousarray(data.X, dtype=np.float64), sample_weight,
            float(data.total_weight), component.center, STRUCTURE_CODES[component.structure],
            code, means, covariances, weights, factors, int(max_iter),
            RULE_RELATIVE if relative else RULE_MONITOR, float(tol), 0.0,
            has_prior, float(kappa), loc_centered, prior_counts,
            prior_scatter, 1000, 1e-10, np.zeros((D, D)),
            # Only the count rule runs inside; the whole collapse test runs
            # once on the result below (and the engine redoes a run that fails it).
            -1.0, float(component.min_count * component.scales.weight_unit), history)
        if outcome not in (STOPPED_CONVERGED, STOPPED_MAX_ITER):
            return None
        # The engine's bookkeeping of decreases, replayed on the history.
        monitor = ConvergenceMonitor(tol=tol, n_samples=data.total_weight)
        for value in history[:n_hist]:
            monitor.record(value)
        fitted = {"weights": weights, "means": means + component.center,
                  "covariances": covariances,
                  "precisions_cholesky": factors.reshape(np.shape(params["precisions_cholesky"]))}
        stats, _ = expectation(self, fitted, data)
        if component.collapsed(fitted, stats).any():
            return None
        return FitResult(params=fitted, objective=float(history[n_hist - 1]),
                         history=monitor.history, converged=outcome == STOPPED_CONVERGED,
                         n_iter=int(n_iter), decreases=monitor.decreases)
