"""Gaussian mixture model whose E-step is one compiled pass (small in-memory data).

Same pure functions as :class:`~emkit.models.mixture.MixtureModel` (the
engine cannot tell them apart); ``e_step_plan`` and ``e_step`` call
:func:`emkit.kernels.structured_gaussian.fused_mixture_e_step`, which returns the
same statistics as the feature-kernel E-step for a fraction of its fixed cost
per call. Worth it when a chunk holds a few thousand samples or fewer, where
the fixed cost dominates (model-selection grids, small data).

:meth:`SmallGaussianMixtureModel.compiled_iterations` goes further for the
mclust structures: a block of EM iterations (structured M-step, weights,
fused E-step) in one compiled call, whose iterates the engine's loop then
judges with its own stopping rule and collapse test. On a few hundred
samples the Python between the kernels of one iteration costs twice the
kernels themselves, and a model-selection grid runs thousands of iterations.
"""

from __future__ import annotations

import numpy as np

from ..kernels.structured_gaussian import (
    LAYOUT_CODES,
    STRUCTURE_CODES,
    em_iterations,
    fused_mixture_e_step,
    responsibility_moments,
)
from .mixture import MixtureModel

__all__ = ["SmallGaussianMixtureModel", "CompiledIterates", "FUSED_MAX_SAMPLES",
           "FUSED_MAX_FEATURES"]

# Above these sizes the BLAS feature kernels win (they scale, this is serial;
# measured on Old Faithful tiled: 2x faster at 272 samples, even at ~2000).
FUSED_MAX_SAMPLES = 1024
FUSED_MAX_FEATURES = 8
_NO_WEIGHTS = np.empty(0)


class CompiledIterates:
    """Iterates of a compiled block: objectives at once, parameters on demand.

    Attributes
    ----------
    objectives, logliks : ndarray of shape (n_done,)
    """

    def __init__(self, out, n_done, center, factor_shape):
        self._out, self._center, self._factor_shape = out, center, factor_shape
        self.objectives = out["objectives"][:n_done]
        self.logliks = out["logliks"][:n_done]

    def __len__(self):
        return self.objectives.shape[0]

    def params(self, i):
        """Parameters after iteration ``i``."""
        out = self._out
        return {"weights": out["weights"][i], "means": out["means"][i] + self._center,
                "covariances": out["covariances"][i],
                "precisions_cholesky": out["factors"][i].reshape(self._factor_shape)}

    def stats(self, i):
        """Statistics of iteration ``i``'s E-step."""
        return {"moments": self._out["moments"][i], "counts": self._out["counts"][i]}


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

    def compiled_iterations(self, params, stats, n_iterations):
        """Up to ``n_iterations`` EM iterations from ``params`` in one compiled call.

        The engine's plain EM stepper calls this instead of one Python
        iteration at a time (see :class:`emkit._engine.accel.PlainEM`) and
        judges every iterate itself: stopping rule, collapse test, decreases.

        Parameters
        ----------
        params : dict
            Current parameters.
        stats : dict
            Their E-step's statistics (``moments``, ``counts``).
        n_iterations : int

        Returns
        -------
        CompiledIterates or None
            The completed iterations; None when this model has no compiled
            iterations (no mclust structure, held parameters, a Dirichlet
            prior on the weights).
        """
        component = self.component
        if (component.structure is None or component.fixed or self.fix_weights
                or self.weight_concentration is not None):
            return None
        data = self.data
        K, D = self.n_components, component.n_features
        code = LAYOUT_CODES[component.layout]
        factor_shape = np.shape(params["precisions_cholesky"])
        factors_layout = (K, D, D) if code == 0 else (K, 1, D if code == 1 else 1)
        # The prior's terms, or the reg_covar penalty's (a prior with no
        # pseudo-counts), which the compiled M-step and objective use alike.
        prior_terms = component._map_terms(K)
        has_prior = prior_terms is not None
        if prior_terms is None:
            prior_terms = (0.0, np.zeros(D), np.zeros(K), np.zeros((K, D, D)))
        kappa, loc_centered, prior_counts, prior_scatter = prior_terms
        sample_weight = (_NO_WEIGHTS if data.sample_weight is None
                         else np.ascontiguousarray(data.sample_weight, dtype=np.float64))
        n = int(n_iterations)
        moments = np.ascontiguousarray(stats["moments"], dtype=np.float64)
        out = dict(means=np.empty((n, K, D)), covariances=np.empty((n, K, D, D)),
                   weights=np.empty((n, K)), factors=np.empty((n,) + factors_layout),
                   moments=np.empty((n,) + moments.shape), counts=np.empty((n, K)),
                   objectives=np.empty(n), logliks=np.empty(n))
        done = em_iterations(
            np.ascontiguousarray(data.X, dtype=np.float64), sample_weight, component.center,
            STRUCTURE_CODES[component.structure], code, moments,
            np.ascontiguousarray(stats["counts"], dtype=np.float64),
            np.ascontiguousarray(params["covariances"], dtype=np.float64), has_prior,
            float(kappa), loc_centered, prior_counts, prior_scatter, 1000, 1e-10,
            out["means"], out["covariances"], out["weights"], out["factors"], out["moments"],
            out["counts"], out["objectives"], out["logliks"])
        return CompiledIterates(out, done, component.center, factor_shape)
