"""Hidden Markov models: a Markov chain over states, any emission family.

The model owns only the start and transition probabilities; the emission
family (the very components the mixtures use: Gaussian, categorical,
Poisson, or a mixture of Gaussians per state) supplies features,
log-densities, statistics and its M-step. One E-step over a chunk of whole
sequences is

    emission log-densities (component)  ->  forward-backward (compiled kernel)
    ->  component statistics weighted by the state posteriors
        + expected start and transition counts,

and every statistic is a sum over time steps and sequences, so the EM engine
adds them across chunks like any other model's (see
:class:`emkit._engine.em.EMModel`). Baum-Welch is EM with these statistics.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, xlogy

from .._arguments import store_init_arguments
from .._engine.init import far_point
from ..components.coordinates import simplex_from_unconstrained, simplex_to_unconstrained
from .. import backend

__all__ = ["HiddenMarkovModel", "StateMixtureEmission", "dirichlet_map_rows",
           "dirichlet_log_density_rows"]


def dirichlet_map_rows(counts, concentration, previous=None):
    """MAP probability vectors (rows) under Dirichlet priors.

    Parameters
    ----------
    counts : ndarray of shape (..., K)
        Expected counts (start counts, or transition counts row by row).
    concentration : ndarray broadcastable to ``counts`` or None
        Dirichlet concentrations (>= 1); None is maximum likelihood.
    previous : ndarray like ``counts`` or None
        Rows kept where there is nothing to estimate from (no count, flat
        prior): any row is then a maximiser, and keeping the current one
        leaves e.g. the outgoing transitions of an unvisited state alone.

    Returns
    -------
    ndarray like ``counts``, rows summing to one.
    """
    numerators = counts if concentration is None else counts + concentration - 1.0
    numerators = np.maximum(numerators, 0.0)
    totals = numerators.sum(axis=-1, keepdims=True)
    if previous is None:
        previous = np.full_like(numerators, 1.0 / numerators.shape[-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, numerators / totals, previous)


def dirichlet_log_density_rows(probabilities, concentration):
    """Sum of the Dirichlet log-densities of the rows of ``probabilities``.

    A flat prior (all concentrations 1, or None) contributes 0 rather than
    its constant normaliser, so that without a prior the objective is the
    log-likelihood itself.
    """
    if concentration is None:
        return 0.0
    alpha = np.broadcast_to(concentration, probabilities.shape)
    if np.all(alpha == 1.0):
        return 0.0
    log_norm = gammaln(alpha.sum(axis=-1)) - gammaln(alpha).sum(axis=-1)
    return float(np.sum(log_norm + xlogy(alpha - 1.0, probabilities).sum(axis=-1)))


class HiddenMarkovModel:
    """A K-state HMM as pure functions for the EM engine.

    The model holds no data: the engine hands each E-step its chunk of
    whole sequences and :meth:`repair` the data object being fitted, so a
    pickled model (a Dask worker's copy) is its settings alone.

    Parameters
    ----------
    emission : component family
        ``features``, ``plan``, ``log_prob``, ``stats``, ``m_step``,
        ``log_prior`` (and optionally ``collapsed``/``reseed`` for repair),
        e.g. :class:`~emkit.components.gaussian.GaussianComponent`.
    n_states : int
    startprob_concentration : ndarray of shape (K,) or None
        Dirichlet prior on the start probabilities (MAP).
    transmat_concentration : ndarray of shape (K, K) or None
        Dirichlet prior on every row of the transition matrix, the sticky
        bonus already added to its diagonal.
    fixed : frozenset of str
        Any of ``"startprob"``, ``"transmat"``: held at their current values.

    Notes
    -----
    Parameters are a dict holding ``"startprob"`` (K,), ``"transmat"`` (K, K)
    and the emission's parameters. Statistics: ``"counts"`` (K,) state
    occupancies, ``"start"`` (K,), ``"trans"`` (K, K) and the emission's.
    """

    def __init__(self, emission, n_states, *, startprob_concentration=None,
                 transmat_concentration=None, fixed=frozenset()):
        store_init_arguments(self, locals())
        self.fixed = frozenset(fixed)

    # -- engine interface -----------------------------------------------------
    def e_step_plan(self, params):
        with np.errstate(divide="ignore"):
            log_startprob = np.log(params["startprob"])
            log_transmat = np.log(params["transmat"])
        return self.emission.plan(params), log_startprob, log_transmat

    def log_emission(self, emission_plan, X_chunk):
        """``log p(x_t | z_t = k)`` of a chunk (float64, (n, K)) and its features."""
        features = self.emission.features(X_chunk)
        log_prob = self.emission.log_prob(emission_plan, features)
        return np.asarray(log_prob, dtype=np.float64), features

    def e_step(self, plan, X_chunk, lengths, labels=None):
        """Forward-backward over a chunk of whole sequences.

        ``labels`` (partial labels, -1 where unknown) fix the state of the
        labelled time steps: every other state's emission there is
        impossible, so the objective is ``log p(x, z_t = y_t for labelled t)``
        and EM still never lowers it.
        """
        emission_plan, log_startprob, log_transmat = plan
        log_emission, features = self.log_emission(emission_plan, X_chunk)
        if labels is not None:
            labelled = np.flatnonzero(labels >= 0)
            if labelled.size:
                kept = log_emission[labelled, labels[labelled]]
                log_emission[labelled] = -np.inf
                log_emission[labelled, labels[labelled]] = kept
        loglik, posteriors, trans, start = backend.ops().forward_backward(
            log_startprob, log_transmat, log_emission, lengths)
        del log_emission
        stats = self.emission.stats(posteriors, features)
        stats["counts"] = posteriors.sum(axis=0)
        stats["start"] = start
        stats["trans"] = trans
        return stats, float(loglik.sum())

    def m_step(self, stats, params):
        new_params = self.emission.m_step(stats["counts"], stats, params)
        if params is not None:
            # held bit for bit (a component's centring round trip moves them by an ulp)
            for name in getattr(self.emission, "fixed", ()):
                if name in params:
                    new_params[name] = params[name]
        previous_start = None if params is None else params["startprob"]
        previous_trans = None if params is None else params["transmat"]
        if "startprob" in self.fixed and params is not None:
            new_params["startprob"] = params["startprob"]
        else:
            new_params["startprob"] = dirichlet_map_rows(
                stats["start"], self.startprob_concentration, previous_start)
        if "transmat" in self.fixed and params is not None:
            new_params["transmat"] = params["transmat"]
        else:
            new_params["transmat"] = dirichlet_map_rows(
                stats["trans"], self.transmat_concentration, previous_trans)
        return new_params

    # -- unconstrained coordinates (accelerated steppers) -----------------------
    def to_unconstrained(self, params):
        """Start probabilities as they are, log transition probabilities,
        then the emission's coordinates, as one vector; None when the
        emission has none.

        Not log start probabilities: fitted to one long sequence they head
        for a vertex of the simplex, and a probability falling geometrically
        is a straight line in logs, on which SQUAREM's step length (the ratio
        of the first to the second difference) is unbounded and swamps every
        other coordinate's. In probabilities the same fall is an ordinary
        geometric mode.
        """
        pack = getattr(self.emission, "to_unconstrained", None)
        emission_vector = None if pack is None else pack(params)
        if emission_vector is None:
            return None
        return np.concatenate([np.asarray(params["startprob"], dtype=np.float64).ravel(),
                               simplex_to_unconstrained(params["transmat"]), emission_vector])

    def from_unconstrained(self, vector, template):
        """Parameters from :meth:`to_unconstrained`'s vector (None if invalid);
        structural zeros of ``template`` (a left-right topology) stay zero;
        an extrapolated start probability at or below zero makes the vector
        invalid (None: the stepper falls back to plain EM)."""
        K = self.n_states
        params = self.emission.from_unconstrained(vector[K + K * K:], template)
        if params is None:
            return None
        start, transitions = vector[:K], vector[K:K + K * K]
        if "startprob" in self.fixed:
            params["startprob"] = template["startprob"]
        elif not np.isfinite(start).all():
            return None
        else:
            free = np.asarray(template["startprob"]) > 0
            if (start[free] <= 0).any():
                # Past the simplex: clipping to the smallest positive float
                # made that state's start all but impossible for good (EM
                # cannot raise a start probability from 1e-308), and so left
                # runs at a wrong vertex; plain EM's update is taken instead.
                return None
            start = np.where(free, start, 0.0)
            params["startprob"] = start / start.sum()
        params["transmat"] = (template["transmat"] if "transmat" in self.fixed
                              else simplex_from_unconstrained(transitions, template["transmat"]))
        if params["transmat"] is None:
            return None
        return params

    def log_prior(self, params):
        # A held-fixed parameter's prior is a constant: left out, so that a
        # fixed zero probability cannot make the objective -inf.
        total = self.emission.log_prior(params)
        if "startprob" not in self.fixed:
            total += dirichlet_log_density_rows(params["startprob"],
                                                self.startprob_concentration)
        if "transmat" not in self.fixed:
            total += dirichlet_log_density_rows(params["transmat"],
                                                self.transmat_concentration)
        return total

    def repair(self, params, stats, rng, data):
        """Re-seed the emissions of collapsed states (Gaussian emissions).

        A state whose covariance collapsed onto a few points is moved to a
        sample poorly explained by the current means (drawn from ``data``,
        the engine's SequenceData or DaskSequenceData: its ``reseed_rows``
        and ``center``), with a broad covariance, and made reachable again
        (its start and incoming transition probabilities raised to at least
        1/K).
        """
        collapsed_of = getattr(self.emission, "collapsed", None)
        if collapsed_of is None:
            return params, 0
        if set(self.emission.param_names) <= set(self.emission.fixed):
            return params, 0
        # Unlike a mixture component, a state may rightly be rare (visited in
        # a few steps only), so low occupancy alone is no collapse; a state
        # whose own steps have no spread (or none at all) still is.
        emission_stats = {"counts": stats["counts"], "moments": stats.get("moments")}
        if emission_stats["moments"] is None:
            return params, 0
        collapsed = np.flatnonzero(collapsed_of(params, emission_stats, min_count=0.0))
        if collapsed.size == 0:
            return params, 0
        K = self.n_states
        data_covariance = self.emission.data_covariance
        scale = data_covariance / max(K, 1) ** (2.0 / data_covariance.shape[0])
        for k in collapsed:
            seed = far_point(data.reseed_rows, params["means"], rng, fill=data.center)
            params = self.emission.reseed(params, k, seed, scale)
            # Made reachable again, but structural zeros (a left-right
            # topology; EM never revives a zero) stay zero.
            if "startprob" not in self.fixed and params["startprob"][k] > 0:
                startprob = np.array(params["startprob"], copy=True)
                startprob[k] = max(startprob[k], 1.0 / K)
                params["startprob"] = startprob / startprob.sum()
            if "transmat" not in self.fixed:
                transmat = np.array(params["transmat"], copy=True)
                incoming = transmat[:, k]
                transmat[:, k] = np.where(incoming > 0, np.maximum(incoming, 1.0 / K), 0.0)
                params["transmat"] = transmat / transmat.sum(axis=1, keepdims=True)
        return params, int(collapsed.size)

    # -- helpers for the estimators -------------------------------------------
    def stats_from_posteriors(self, data, posteriors):
        """Statistics of given state posteriors (for an initial M-step).

        Parameters
        ----------
        data : SequenceData
        posteriors : ndarray of shape (n_samples, K)
            E.g. one-hot k-means labels.

        Returns
        -------
        stats : dict
            What an E-step returns, with ``posteriors`` in place of the
            forward-backward posteriors and the transition counts of
            consecutive steps (``sum_t r_t r_{t+1}^T`` within sequences).
        """
        stats = None
        offset = 0
        for X_chunk, lengths, *_ in data.chunks():
            n = X_chunk.shape[0]
            resp = posteriors[offset:offset + n]
            chunk_stats = self.emission.stats(resp, self.emission.features(X_chunk))
            chunk_stats["counts"] = resp.sum(axis=0)
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
            chunk_stats["start"] = resp[starts].sum(axis=0)
            not_last = np.ones(n, dtype=bool)
            not_last[np.cumsum(lengths) - 1] = False
            steps = np.flatnonzero(not_last)
            chunk_stats["trans"] = resp[steps].T @ resp[steps + 1]
            if stats is None:
                stats = {name: np.array(value, dtype=np.float64) for name, value in
                         chunk_stats.items()}
            else:
                for name, value in chunk_stats.items():
                    stats[name] += value
            offset += n
        return stats


class _MixtureChunk:
    """Features of a chunk and, after ``log_prob``, the within-state
    responsibilities of the mixture components (what ``stats`` needs)."""

    __slots__ = ("features", "within")

    def __init__(self, features):
        self.features = features
        self.within = None


class StateMixtureEmission:
    """A mixture of M components per state, as one emission family.

    The K*M components are evaluated together as one flat component family
    (one feature-kernel GEMM for all of them); within a state the component
    responsibilities are normalised, and the state posterior times the
    within-state responsibility weighs each component's statistics.

    Parameters
    ----------
    component : GaussianComponent
        Flat family of K*M components (covariance type "full" when the
        mixture is tied per state).
    n_states, n_mix : int
    per_state_component : GaussianComponent or None
        For covariances tied within each state: a "tied" component whose
        M-step runs once per state on that state's M components.
    weights_concentration : float or ndarray of shape (K, M) or None
        Dirichlet prior on every state's mixture weights (>= 1).
    fix_weights : bool

    Notes
    -----
    Parameters: ``"weights"`` (K, M), ``"means"`` (K*M, D), ``"covariances"``
    and ``"precisions_cholesky"`` in the flat layout (tied: (K, D, D)).
    Statistics: ``"moments"`` and ``"component_counts"`` (K*M,).
    """

    def __init__(self, component, n_states, n_mix, *, per_state_component=None,
                 weights_concentration=None, fix_weights=False):
        store_init_arguments(self, locals())

    def _flat_params(self, params):
        if self.per_state_component is None:
            return params
        return {"means": params["means"],
                "precisions_cholesky": np.repeat(params["precisions_cholesky"], self.n_mix,
                                                 axis=0)}

    def features(self, X_chunk):
        return _MixtureChunk(self.component.features(X_chunk))

    def plan(self, params):
        with np.errstate(divide="ignore"):
            log_weights = np.log(params["weights"]).reshape(-1)
        return self.component.plan(self._flat_params(params)), log_weights

    def log_prob(self, plan, chunk):
        """``log sum_m w_km N(x | mu_km, Sigma_km)``, shape (n, K)."""
        component_plan, log_weights = plan
        joint = np.asarray(self.component.log_prob(component_plan, chunk.features),
                           dtype=np.float64)
        joint += log_weights
        n = joint.shape[0]
        joint = joint.reshape(n, self.n_states, self.n_mix)
        row_max = joint.max(axis=2, keepdims=True)
        row_max[~np.isfinite(row_max)] = 0.0
        with np.errstate(under="ignore"):   # far components: exactly 0 is right
            within = np.exp(joint - row_max)
        total = within.sum(axis=2, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            within /= total
            log_prob = np.log(total[:, :, 0]) + row_max[:, :, 0]
        chunk.within = np.nan_to_num(within, copy=False)
        return log_prob

    def stats(self, resp, chunk):
        if chunk.within is None:
            raise RuntimeError("stats() needs the chunk's log_prob() first.")
        n = resp.shape[0]
        component_resp = (resp[:, :, None] * chunk.within).reshape(n, -1)
        stats = self.component.stats(component_resp.astype(self.component.dtype, copy=False),
                                     chunk.features)
        stats["component_counts"] = component_resp.sum(axis=0)
        return stats

    def m_step(self, counts, stats, params):
        K, M = self.n_states, self.n_mix
        component_counts = stats["component_counts"]
        if self.per_state_component is None:
            new_params = self.component.m_step(component_counts, stats, params)
        else:
            means, covariances, prec_chol = [], [], []
            for k in range(K):
                block = slice(k * M, (k + 1) * M)
                state_params = None if params is None else {
                    "means": params["means"][block],
                    "covariances": params["covariances"][k],
                    "precisions_cholesky": params["precisions_cholesky"][k]}
                state = self.per_state_component.m_step(
                    component_counts[block], {"moments": stats["moments"][block]},
                    state_params)
                means.append(state["means"])
                covariances.append(state["covariances"])
                prec_chol.append(state["precisions_cholesky"])
            new_params = {"means": np.concatenate(means), "covariances": np.stack(covariances),
                          "precisions_cholesky": np.stack(prec_chol)}
        if self.fix_weights and params is not None:
            new_params["weights"] = params["weights"]
        else:
            previous = None if params is None else params["weights"]
            new_params["weights"] = dirichlet_map_rows(
                component_counts.reshape(K, M), self.weights_concentration, previous)
        return new_params

    # -- unconstrained coordinates (accelerated steppers) -----------------------
    def to_unconstrained(self, params):
        """Every state's mixture weights as log-probabilities, then the
        Gaussians' coordinates (means, Cholesky factors with log-diagonal or
        log-variances; see :meth:`GaussianComponent.to_unconstrained`), as
        one vector; None when the Gaussians have none.

        Covariances tied within each state are K full matrices in the flat
        "full" family's coordinates (one factor per state).
        """
        gaussian_vector = self.component.to_unconstrained(
            {"means": params["means"], "covariances": params["covariances"]})
        if gaussian_vector is None:
            return None
        return np.concatenate([simplex_to_unconstrained(params["weights"]), gaussian_vector])

    def from_unconstrained(self, vector, template):
        """Parameters from :meth:`to_unconstrained`'s vector (None if invalid);
        held-fixed weights and exact zero weights stay as in ``template``."""
        n_weights = self.n_states * self.n_mix
        params = self.component.from_unconstrained(vector[n_weights:], template)
        if params is None:
            return None
        params["weights"] = (template["weights"] if self.fix_weights else
                             simplex_from_unconstrained(vector[:n_weights], template["weights"]))
        if params["weights"] is None:
            return None
        return params

    def log_prior(self, params):
        if self.per_state_component is None:
            total = self.component.log_prior(params)
        else:
            M = self.n_mix
            total = sum(self.per_state_component.log_prior({
                "means": params["means"][k * M:(k + 1) * M],
                "covariances": params["covariances"][k],
                "precisions_cholesky": params["precisions_cholesky"][k]})
                for k in range(self.n_states))
        if not self.fix_weights:
            total += dirichlet_log_density_rows(params["weights"], self.weights_concentration)
        return total
