"""emkit: latent-variable models fitted by Expectation-Maximization.

One EM engine (restarts with screening, convergence monitoring, collapse
repair, chunked data) drives every model; each model supplies additive
sufficient statistics, an M-step and a log-likelihood.

The public names below are imported on first use (PEP 562), so ``import
emkit`` loads neither scikit-learn nor the compiled kernels until a model
is used.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Public name -> the module that defines it (relative to this package).
_EXPORTS = {
    "GaussianMixture": ".estimators.gaussian_mixture",
    "PoissonMixture": ".estimators.poisson_mixture",
    "BernoulliMixture": ".estimators.bernoulli_mixture",
    "CategoricalMixture": ".estimators.categorical_mixture",
    "RegressionMixture": ".estimators.regression_mixture",
    "MixtureOfExperts": ".estimators.regression_mixture",
    "BayesianGaussianMixture": ".estimators.bayesian_gaussian_mixture",
    "StudentTMixture": ".estimators.student_t_mixture",
    "FactorAnalysis": ".estimators.factor_analysis",
    "PPCA": ".estimators.factor_analysis",
    "MixtureOfFactorAnalyzers": ".estimators.mixture_of_factor_analyzers",
    "KMeans": ".estimators.kmeans",
    "select_model": ".selection",
    "ModelSelection": ".selection",
    "GaussianHMM": ".estimators.hmm",
    "GMMHMM": ".estimators.hmm",
    "CategoricalHMM": ".estimators.hmm",
    "PoissonHMM": ".estimators.hmm",
    "LatentDirichletAllocation": ".estimators.lda",
    "topic_coherence": ".topics",
    "top_words": ".topics",
    "save": ".persistence",
    "load": ".persistence",
    "export_onnx": ".onnx_export",
    "explain_em": ".teaching",
}
_SUBMODULES = ("datasets", "priors", "plotting", "report", "backend")

__all__ = list(_EXPORTS) + ["datasets", "priors"]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'emkit' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
