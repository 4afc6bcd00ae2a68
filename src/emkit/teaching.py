"""The EM teaching view: the log-likelihood, the ELBO and the KL gap per half-step.

For any distribution ``q(z)`` over the hidden components,

    log p(x | theta) = ELBO(q, theta) + KL(q || p(z | x, theta)),
    ELBO(q, theta)   = sum_n sum_k q_nk [log pi_k p(x_n | k, theta) - log q_nk].

The E-step sets ``q`` to the posterior at the current ``theta``: the KL term
is zero and the ELBO touches the log-likelihood. The M-step raises the ELBO
over ``theta`` with ``q`` held; the log-likelihood rises at least as much,
because a KL gap opens (the new posterior differs from the old ``q``), which
the next E-step closes. :func:`explain_em` computes these numbers for a
Gaussian mixture, one row per half-step, from emkit's own E- and M-steps.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.special import xlogy

__all__ = ["explain_em", "EMTrace"]


@dataclass
class EMTrace:
    """What :func:`explain_em` returns.

    Attributes
    ----------
    rows : list of dict
        One per half-step, in order: ``iteration`` (0 for the start),
        ``step`` ("E" or "M"), ``log_likelihood`` (at the current
        parameters), ``elbo`` (of the current ``q`` at the current
        parameters) and ``kl`` (their difference, KL(q || posterior) >= 0).
    params : list of dict
        The parameters after every M-step, the start first: ``weights``
        (K,), ``means`` (K, D), ``covariances`` (the model's layout).
    responsibilities : list of ndarray of shape (n_samples, n_components)
        ``q`` after every E-step.
    """

    rows: list = field(default_factory=list)
    params: list = field(default_factory=list)
    responsibilities: list = field(default_factory=list)

    def column(self, name):
        """One column of the table as an array, e.g. ``trace.column("kl")``."""
        return np.array([row[name] for row in self.rows])

    def to_frame(self):
        """The table as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.rows)

    def __str__(self):
        lines = [f"{'iter':>4s} {'step':>4s} {'log-likelihood':>15s} {'ELBO':>15s} {'KL':>12s}"]
        for row in self.rows:
            lines.append(f"{row['iteration']:4d} {row['step']:>4s} {row['log_likelihood']:15.6f} "
                         f"{row['elbo']:15.6f} {row['kl']:12.3e}")
        return "\n".join(lines)


def _elbo(q, log_joint):
    """``sum q (log_joint - log q)``, with ``0 log 0 = 0``."""
    return float(np.sum(q * log_joint) - np.sum(xlogy(q, q)))


def _posterior_terms(model, X):
    """(log p(x_n), log pi_k p(x_n | k), p(k | x_n)) at ``model``'s parameters."""
    log_density = model.score_samples(X).astype(np.float64)
    resp = model.predict_proba(X)
    with np.errstate(divide="ignore"):
        log_joint = log_density[:, None] + np.log(resp)
    # A zero posterior has log-joint -inf; q is zero there too, and 0 * -inf is 0.
    log_joint = np.where(np.isfinite(log_joint), log_joint, -1e300)
    return log_density, log_joint, resp


def explain_em(model, X, n_iter=5):
    """Run ``n_iter`` EM iterations of a Gaussian mixture and record every half-step.

    Parameters
    ----------
    model : emkit.GaussianMixture
        Fitted (its parameters are the start) or not (its ``weights_init``,
        ``means_init`` and ``precisions_init`` are, or else one
        initialisation of its ``init_params``). Its ``covariance_type`` and
        ``fixed`` are kept; the trace is of plain maximum-likelihood EM
        (``reg_covar=0``, no prior), so that every number is exactly the
        formula above.
    X : array-like of shape (n_samples, n_features)
    n_iter : int, default=5

    Returns
    -------
    EMTrace
        ``2 n_iter + 1`` rows: the start's E-step, then an M-step and an
        E-step per iteration. Along the rows the log-likelihood never
        decreases, the ELBO never decreases, ``kl`` is 0 (to rounding) after
        every E-step and ``>= 0`` after every M-step.

    Examples
    --------
    >>> import numpy as np, emkit
    >>> x = np.array([-1.2, -0.8, -0.5, 0.9, 1.3, 1.8])[:, None]
    >>> start = emkit.GaussianMixture(2, covariance_type="spherical", weights_init=[0.5, 0.5],
    ...                               means_init=[[-0.5], [1.0]], precisions_init=[1.0, 1.0])
    >>> trace = emkit.explain_em(start, x, n_iter=2)
    >>> [row["step"] for row in trace.rows]
    ['E', 'M', 'E', 'M', 'E']
    >>> kl = trace.column("kl")
    >>> bool(kl[1] > 0), bool(abs(kl[2]) < 1e-9)
    (True, True)
    """
    from .estimators.gaussian_mixture import GaussianMixture
    from ._validation import check_integer, validate_samples

    if not isinstance(model, GaussianMixture):
        raise TypeError(f"explain_em explains a GaussianMixture; got {type(model).__name__}.")
    n_iter = check_integer(n_iter, "n_iter", minimum=0)
    settings = {**model.get_params(), "reg_covar": 0.0, "prior": None,
                "weight_concentration": None, "n_init": 1, "tol": 0.0, "warm_start": False,
                "accelerate": "none", "verbose": 0}
    X = validate_samples(GaussianMixture(), X, reset=True, min_samples=model.n_components)
    if hasattr(model, "means_"):
        current = GaussianMixture.from_params(model.weights_, model.means_, model.covariances_,
                                              covariance_type=model.covariance_type)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zero iterations never "converge"
            current = GaussianMixture(**{**settings, "max_iter": 0}).fit(X)

    trace = EMTrace()

    def record(iteration, step, q, state):
        log_density, log_joint, _ = state
        loglik = float(log_density.sum())
        elbo = _elbo(q, log_joint)
        # Computed, not assumed: after an E-step it is zero to rounding.
        trace.rows.append({"iteration": iteration, "step": step, "log_likelihood": loglik,
                           "elbo": elbo, "kl": loglik - elbo})

    def params_of(fitted):
        return {"weights": fitted.weights_.copy(), "means": fitted.means_.copy(),
                "covariances": fitted.covariances_.copy()}

    state = _posterior_terms(current, X)
    q = state[2]
    trace.params.append(params_of(current))
    trace.responsibilities.append(q)
    record(0, "E", q, state)
    for iteration in range(1, n_iter + 1):
        # One M-step from q: emkit's own, started from the current parameters.
        step = GaussianMixture(**{**settings, "max_iter": 1,
                                  "weights_init": current.weights_,
                                  "means_init": current.means_,
                                  "precisions_init": current.precisions_})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            step.fit(X)
        current = GaussianMixture.from_params(step.weights_, step.means_, step.covariances_,
                                              covariance_type=model.covariance_type)
        state = _posterior_terms(current, X)
        trace.params.append(params_of(current))
        record(iteration, "M", q, state)          # old q, new parameters: the gap opens
        q = state[2]
        trace.responsibilities.append(q)
        record(iteration, "E", q, state)          # q := posterior: the gap closes
    return trace
