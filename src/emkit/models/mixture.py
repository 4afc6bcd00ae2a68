"""Finite mixtures: mixing weights over any component family.

The mixture owns only the weights and the normalisation of responsibilities;
the component family (Gaussian, and later Bernoulli, Poisson, ...) supplies
features, log-densities, statistics and its M-step. This is the model object
the EM engine drives (see :class:`emkit._engine.em.EMModel`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from .._arguments import store_init_arguments
from .._engine.em import responsibility_stats
from .._engine.init import far_point
from ..components.coordinates import simplex_from_unconstrained, simplex_to_unconstrained
from ..components.counts import safe_counts
from .. import backend

__all__ = ["MixtureModel", "sample_mixture"]


class MixtureModel:
    """A K-component mixture, as pure functions for the EM engine.

    The model holds no data: whatever reads the data (re-seeding, the
    statistics of given responsibilities) takes the data object as an
    argument, so a pickled model (a Dask worker's copy, every iteration) is
    its few parameters and settings.

    Parameters
    ----------
    component : GaussianComponent (or another family with the same methods)
    n_components : int
    weight_concentration : float or ndarray of shape (K,) or None
        Dirichlet prior on the weights (MAP); None for maximum likelihood.
    fix_weights : bool
        Hold the weights at their initial values.
    """

    # The E-step is pure and its kernels release the GIL: chunks run on all cores.
    parallel_chunks = True

    def __init__(self, component, n_components, *, weight_concentration=None,
                 fix_weights=False):
        store_init_arguments(self, locals())

    # -- engine interface -----------------------------------------------------
    def e_step_plan(self, params):
        with np.errstate(divide="ignore"):
            log_weights = np.log(params["weights"])
        return self.component.plan(params), log_weights

    def e_step(self, plan, X_chunk, weights, labels=None):
        """Statistics and log-likelihood of one chunk.

        ``labels`` (partial labels, -1 for unlabelled samples) fix the
        labelled samples' responsibilities to their component: the objective
        is then ``sum_unlabelled log p(x) + sum_labelled log pi_y p(x | y)``,
        which EM still never lowers (semi-supervised EM).
        """
        component_plan, log_weights = plan
        features = self.component.features(X_chunk)
        resp = self.component.log_prob(component_plan, features)
        labelled = None if labels is None else np.flatnonzero(labels >= 0)
        if labelled is not None and labelled.size:
            label_of = labels[labelled]
            label_joint = resp[labelled, label_of].astype(np.float64) + log_weights[label_of]
        # One compiled pass: add log-weights, log-sum-exp, weighted responsibilities.
        log_norm = backend.ops().normalize_rows(resp, log_weights, weights)
        if labelled is not None and labelled.size:
            log_norm[labelled] = label_joint
            resp[labelled] = 0.0
            resp[labelled, label_of] = 1.0 if weights is None else weights[labelled]
        loglik = float(log_norm.sum() if weights is None else weights @ log_norm)
        stats = self.component.stats(resp, features)
        stats["counts"] = resp.sum(axis=0, dtype=np.float64)
        return stats, loglik

    def m_step(self, stats, params):
        counts = stats["counts"]
        new_params = self.component.m_step(counts, stats, params)
        if self.fix_weights and params is not None:
            new_params["weights"] = params["weights"]
        else:
            new_params["weights"] = self._weights_m_step(counts)
        return new_params

    def _weights_m_step(self, counts):
        if self.weight_concentration is None:
            weights = safe_counts(counts)
        else:
            from ..priors import dirichlet_map_weights

            weights = dirichlet_map_weights(counts, self.weight_concentration)
        return weights / weights.sum()

    def log_prior(self, params):
        total = self.component.log_prior(params)
        if self.weight_concentration is not None:
            alpha = np.broadcast_to(np.asarray(self.weight_concentration, dtype=float),
                                    (self.n_components,))
            with np.errstate(divide="ignore", invalid="ignore"):
                log_terms = np.where(alpha == 1.0, 0.0, (alpha - 1.0) * np.log(params["weights"]))
            total += float(gammaln(alpha.sum()) - gammaln(alpha).sum() + log_terms.sum())
        return total

    # -- unconstrained coordinates (accelerated steppers) -----------------------
    def to_unconstrained(self, params):
        """Log-weights, then the component family's coordinates, as one vector;
        None when the family has none (the stepper then takes plain EM steps)."""
        pack = getattr(self.component, "to_unconstrained", None)
        component_vector = None if pack is None else pack(params)
        if component_vector is None:
            return None
        return np.concatenate([simplex_to_unconstrained(params["weights"]), component_vector])

    def from_unconstrained(self, vector, template):
        """Parameters from :meth:`to_unconstrained`'s vector (None if invalid);
        ``template`` supplies held-fixed parameters and exact zeros."""
        K = self.n_components
        if not np.isfinite(vector).all():
            return None
        params = self.component.from_unconstrained(vector[K:], template)
        if params is None:
            return None
        params["weights"] = (template["weights"] if self.fix_weights
                             else simplex_from_unconstrained(vector[:K], template["weights"]))
        return None if params["weights"] is None else params

    def repair(self, params, stats, rng, data):
        """Re-seed collapsed components on poorly explained samples of ``data``
        (the engine's data object; the model holds none)."""
        collapsed_of = getattr(self.component, "collapsed", None)
        if collapsed_of is None:
            return params, 0
        collapsed = np.flatnonzero(collapsed_of(params, stats))
        if collapsed.size == 0:
            return params, 0
        scale = self.component.data_covariance / max(self.n_components, 1) ** (
            2.0 / self.component.n_features)
        for k in collapsed:
            seed = far_point(_reseed_rows(data), params["means"], rng)
            params = self.component.reseed(params, k, seed, scale)
            if not self.fix_weights:
                weights = np.array(params["weights"], copy=True)
                weights[k] = max(weights[k], 1.0 / self.n_components)
                params["weights"] = weights / weights.sum()
        return params, int(collapsed.size)

    # -- helpers for the estimators --------------------------------------------
    def stats_from_responsibilities(self, resp, data):
        """Summed statistics of given responsibilities (for an initial M-step).

        Parameters
        ----------
        resp : ndarray of shape (n_samples, n_components)
        data : SampleData
            The samples ``resp`` belongs to (frequency weights applied).

        Returns
        -------
        stats : dict
            The same statistics an E-step returns, with ``resp`` in place of
            the posterior responsibilities.
        """
        return responsibility_stats(data, resp, self._responsibility_chunk_stats,
                                    dtype=getattr(self.component, "dtype", np.float64))

    def _responsibility_chunk_stats(self, X_chunk, resp):
        """The component statistics and ``counts`` of one chunk's (weighted)
        responsibilities ``resp`` (n, K): an E-step's, without the E-step."""
        stats = self.component.stats(resp, self.component.features(X_chunk))
        stats["counts"] = resp.sum(axis=0, dtype=np.float64)
        return stats


def _reseed_rows(data):
    """The rows re-seeds draw from: a cluster's client-side sample, or the data."""
    rows = getattr(data, "reseed_rows", None)
    return data.X if rows is None else rows


def sample_mixture(weights, component, params, n_samples, rng):
    """``n_samples`` draws from a fitted mixture of ``component`` families.

    Parameters
    ----------
    weights : ndarray of shape (n_components,)
    component : a Component (its ``sample`` draws from one component)
    params : dict
        The family's parameters.
    n_samples : int
    rng : numpy RandomState

    Returns
    -------
    X : ndarray of shape (n_samples, ...)
    labels : ndarray of shape (n_samples,)
        The component of every sample, sorted (as scikit-learn does).
    """
    counts = rng.multinomial(n_samples, np.asarray(weights, dtype=np.float64))
    samples = [component.sample(params, k, int(count), rng) for k, count in enumerate(counts)]
    return np.vstack(samples), np.repeat(np.arange(len(counts)), counts)
