"""The contract a component family meets to serve mixtures and HMMs alike.

A *component family* is the emission distribution of every hidden state: K
Gaussians, K Poisson rate vectors, K categorical distributions. Mixtures
(:class:`emkit.models.mixture.MixtureModel`) own only the weights, HMMs
(:class:`emkit.models.hmm.HMMModel`) only the start and transition
probabilities; both ask the family for everything else through the methods
below, so a new family (Bernoulli, Student-t, factor analysers) written once
serves both, with restarts, priors, SQUAREM, online EM and Dask for free.

All methods are pure functions of their arguments: a family holds only its
hyper-parameters (dimensions, prior, held-fixed names), never data or fitted
state, so it pickles to Dask workers and threads share it.

Two constructor keywords mean the same in every family that takes them:
``fixed`` (a frozenset of names from ``param_names``) holds those
parameters at their current values, the M-step returning them unchanged;
``allow_missing`` (bool, the families that are products over independent
features) makes NaN entries missing values, integrated out exactly: they
drop out of their sample's likelihood and of their feature's statistics
(see :mod:`emkit.components.observed`).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["Component", "CollapsibleComponent", "UnconstrainedComponent"]


@runtime_checkable
class Component(Protocol):
    """Emission family of K hidden states (the required part of the contract).

    Parameters are a dict of arrays whose leading axis is the component
    (``"means"`` of shape (K, D), ``"rates"`` of shape (K, D), ...).
    Statistics are a dict of float64 arrays that *add* over chunks, blocks
    and workers (the engine sums them), so an E-step over any partition of
    the data gives the same M-step.

    Attributes
    ----------
    param_names : tuple of str
        The parameters the family fits (and that ``fixed=`` may name).
    """

    param_names: tuple

    def features(self, X_chunk) -> Any:
        """Map a raw chunk of samples (n, ...) to what :meth:`log_prob` and
        :meth:`stats` consume (opaque to callers)."""

    def plan(self, params: dict) -> Any:
        """Per-iteration constants derived from ``params`` (Cholesky factors,
        log-rates), computed once per E-step and shared by every chunk."""

    def log_prob(self, plan, features) -> np.ndarray:
        """Log-density of every sample under every component, shape (n, K)."""

    def stats(self, resp: np.ndarray, features) -> dict:
        """Additive statistics of responsibilities ``resp`` (n, K), already
        multiplied by any sample weights. The caller adds ``"counts"`` (K,)."""

    def m_step(self, counts: np.ndarray, stats: dict, params: dict | None) -> dict:
        """New parameters from summed statistics; ``counts`` (K,) are the
        components' total responsibilities. ``params`` (None on the first
        M-step from responsibilities) supplies held-fixed values."""

    def log_prior(self, params: dict) -> float:
        """Log prior density of the parameters (0 for maximum likelihood), so
        that the engine's objective is log-likelihood + log-prior."""

    def sample(self, params: dict, component: int, n_samples: int, rng) -> np.ndarray:
        """``n_samples`` draws from one component, shape (n_samples, ...)."""

    def n_free_parameters(self, n_components: int) -> int:
        """Free scalars of K components (for BIC and AIC), held ones excluded."""


@runtime_checkable
class CollapsibleComponent(Component, Protocol):
    """A family whose likelihood can grow without bound on a degenerate set
    (a Gaussian shrinking onto a point): the engine's repair step asks it
    which components collapsed and re-seeds them."""

    def collapsed(self, params: dict, stats: dict) -> np.ndarray:
        """Boolean mask (K,) of components that collapsed, judged on their own
        points through ``stats``."""

    def reseed(self, params: dict, component: int, seed_point: np.ndarray,
               scale_covariance: np.ndarray) -> dict:
        """Parameters with ``component`` put back on the data at ``seed_point``."""


@runtime_checkable
class UnconstrainedComponent(Component, Protocol):
    """A family that offers unconstrained coordinates, so that accelerated
    steppers (SQUAREM) can extrapolate without leaving the parameter space."""

    def to_unconstrained(self, params: dict) -> np.ndarray | None:
        """The fitted parameters as one real vector (log-rates, Cholesky
        factors with log-diagonal, logits); None if the family has none."""

    def from_unconstrained(self, vector: np.ndarray, template: dict) -> dict | None:
        """Parameters from a vector of :meth:`to_unconstrained`'s layout, or
        None when the vector maps to an invalid point. ``template`` supplies
        held-fixed parameters and exact zeros."""
