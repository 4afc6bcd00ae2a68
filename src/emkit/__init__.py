"""emkit: latent-variable models fitted by Expectation-Maximization.

One EM engine (restarts with screening, convergence monitoring, collapse
repair, chunked data) drives every model; each model supplies additive
sufficient statistics, an M-step and a log-likelihood.
"""

from . import datasets, priors
from .estimators.bayesian_gaussian_mixture import BayesianGaussianMixture
from .estimators.bernoulli_mixture import BernoulliMixture
from .estimators.categorical_mixture import CategoricalMixture
from .estimators.gaussian_mixture import GaussianMixture
from .estimators.hmm import GMMHMM, CategoricalHMM, GaussianHMM, PoissonHMM
from .estimators.lda import LatentDirichletAllocation
from .estimators.poisson_mixture import PoissonMixture
from .estimators.regression_mixture import MixtureOfExperts, RegressionMixture
from .selection import ModelSelection, select_model
from .persistence import load, save
from .teaching import explain_em
from .topics import top_words, topic_coherence

__all__ = [
    "GaussianMixture",
    "PoissonMixture",
    "BernoulliMixture",
    "CategoricalMixture",
    "RegressionMixture",
    "MixtureOfExperts",
    "BayesianGaussianMixture",
    "select_model",
    "ModelSelection",
    "GaussianHMM",
    "GMMHMM",
    "CategoricalHMM",
    "PoissonHMM",
    "LatentDirichletAllocation",
    "topic_coherence",
    "top_words",
    "datasets",
    "priors",
    "save",
    "load",
    "explain_em",
]
__version__ = "0.1.0"
