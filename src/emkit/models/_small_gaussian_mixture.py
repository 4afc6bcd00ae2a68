"""Gaussian mixture model whose E-step is one compiled pass (small in-memory data).

Same pure functions as :class:`~emkit.models.mixture.MixtureModel` (the
engine cannot tell them apart); ``e_step_plan`` and ``e_step`` call
:func:`emkit.kernels.structured_gaussian.fused_mixture_e_step`, which returns the
same statistics as the feature-kernel E-step for a fraction of its fixed cost
per call. Worth it when a chunk holds a few thousand samples or fewer, where
the fixed cost dominates (model-selection grids, small data).

:meth:`SmallGaussianMixtureModel.compiled_updates` goes further for the
mclust structures: the engine's loop hands it many EM updates at once
(structured M-step, weights, fused E-step: one compiled call), which it
takes while the engine's own stopping rule, compiled, says to go on. On a
few hundred samples the Python between the kernels of one iteration costs
twice the kernels themselves, and a model-selection grid runs thousands of
iterations. The engine records the updates, judges convergence with its rule
object and takes every update itself once the kernel declines (a component
to re-seed, a numerical failure).
"""

from __future__ import annotations

import numpy as np

from ..kernels.structured_gaussian import (
    LAYOUT_CODES,
    STRUCTURE_CODES,
    UPDATES_DECLINED,
    em_updates,
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
    """:class:`MixtureModel` over a :class:`GaussianComponent`, with a fused E-step.

    Parameters
    ----------
    component, n_components, weight_concentration, fix_weights
        As :class:`MixtureModel`'s.
    compiled_runs : bool, default=False
        Offer the engine :meth:`compiled_updates` (mclust structures only).
        Its collapse test runs where a call ends, not at every update, so it
        is for fits that start from a partition and rarely re-seed (R
        mclust's ``me``: :meth:`GaussianMixture.fit_from_responsibilities`).
    """

    def __init__(self, component, n_components, *, weight_concentration=None,
                 fix_weights=False, compiled_runs=False):
        super().__init__(component, n_components,
                         weight_concentration=weight_concentration, fix_weights=fix_weights)
        self.compiled_runs = compiled_runs

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

    def stats_from_responsibilities(self, resp, data):
        """Summed statistics of given responsibilities (see MixtureModel), in one pass."""
        component = self.component
        layout = "full" if component.layout == "tied" else component.layout
        weights = (None if data.sample_weight is None
                   else np.ascontiguousarray(data.sample_weight, dtype=np.float64))
        return responsibility_moments(np.ascontiguousarray(data.X, dtype=np.float64),
                                      component.center, resp, layout, weights)

    def compiled_updates(self, params, stats, n_updates, rule, data):
        """Up to ``n_updates`` EM updates from ``params`` in one compiled call.

        The engine's optional model hook (see :class:`emkit._engine.em.EMModel`):
        :func:`~emkit.kernels.structured_gaussian.em_updates` takes the updates
        the engine's EM step would take and stops where ``rule`` (the run's
        stopping rule) says the run has converged. The component's collapse
        test runs on the last update; the updates are declined if it fails.

        Parameters
        ----------
        params : dict
            Current parameters (weights, means, (K, D, D) covariances and
            layout precision factors).
        stats : dict
            Statistics of their E-step (``moments``, ``counts``).
        n_updates : int
        rule : CompiledRule
            :meth:`emkit._engine.monitor.ConvergenceMonitor.compiled_rule`.
        data : SampleData
            The data being fitted (the engine's; the kernel walks ``X`` and
            ``sample_weight`` itself).

        Returns
        -------
        (params, stats, objectives, logliks) or None
            The last update's parameters and statistics and the objective and
            log-likelihood after every update; None when the engine must take
            the updates itself (an option the kernel does not cover, a
            component to re-seed, a numerical failure).
        """
        component = self.component
        if (not self.compiled_runs or component.structure is None or component.fixed
                or self.fix_weights or self.weight_concentration is not None):
            return None
        K, D = self.n_components, component.n_features
        code = LAYOUT_CODES[component.layout]
        means = np.array(params["means"] - component.center, dtype=np.float64, order="C")
        covariances = np.array(params["covariances"], dtype=np.float64, order="C")
        weights = np.array(params["weights"], dtype=np.float64)
        factors = np.array(params["precisions_cholesky"], dtype=np.float64, order="C")
        factors = factors.reshape(K, 1, -1) if code else factors
        moments = np.array(stats["moments"], dtype=np.float64, order="C")
        counts = np.array(stats["counts"], dtype=np.float64)
        # The prior's terms, or the reg_covar penalty's (a prior with no
        # pseudo-counts), which the compiled M-step and objective use alike.
        prior_terms = component.map_terms(K)
        has_prior = prior_terms is not None
        if prior_terms is None:
            prior_terms = (0.0, np.zeros(D), np.zeros(K), np.zeros((K, D, D)))
        kappa, loc_centered, prior_counts, prior_scatter = prior_terms
        sample_weight = (_NO_WEIGHTS if data.sample_weight is None
                         else np.ascontiguousarray(data.sample_weight, dtype=np.float64))
        n_seed = len(rule.objectives)
        objectives = np.empty(n_seed + int(n_updates))
        logliks = np.empty_like(objectives)
        objectives[:n_seed], logliks[:n_seed] = rule.objectives, rule.logliks
        outcome, n_done = em_updates(
            np.ascontiguousarray(data.X, dtype=np.float64), sample_weight, component.center,
            STRUCTURE_CODES[component.structure], code, means, covariances, weights, factors,
            moments, counts, int(n_updates), rule.code, rule.tol, rule.n_samples, objectives,
            logliks, n_seed, rule.length, has_prior, float(kappa), loc_centered, prior_counts,
            prior_scatter, 1000, 1e-10, float(component.scales.weight_unit),
            float(component.min_count))
        if outcome == UPDATES_DECLINED or n_done == 0:
            return None
        fitted = {"weights": weights, "means": means + component.center,
                  "covariances": covariances,
                  "precisions_cholesky": factors.reshape(np.shape(params["precisions_cholesky"]))}
        fitted_stats = {"moments": moments, "counts": counts}
        if component.collapsed(fitted, fitted_stats).any():
            return None
        done = slice(n_seed, n_seed + n_done)
        return fitted, fitted_stats, objectives[done], logliks[done]
