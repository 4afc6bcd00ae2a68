"""Conjugate priors for MAP-EM: posteriors, modes and exact log-densities.

This module is a small toolkit of conjugate priors that an EM M-step can use
to turn maximum-likelihood updates into maximum-a-posteriori (MAP) updates.

Classes
-------
Beta
    Prior on a Bernoulli/binomial success probability.
Dirichlet
    Prior on a probability vector (mixture weights, categorical parameters).
Gamma
    Prior on a Poisson rate (and, via
    :meth:`Gamma.update_gaussian_precision`, on a Gaussian precision with
    known mean).
Normal
    Prior on the mean of a Gaussian whose noise variance is *known*.
NormalInverseWishart
    Joint prior on the mean and covariance of a multivariate Gaussian.

Every class offers ``update`` (returns the posterior, a new object of the
same class; the prior is never modified), ``mode`` (the MAP estimate),
``mean``, ``logpdf`` (an exact, normalised log-density) and ``sample``.

Helper functions for a Gaussian-mixture M-step
----------------------------------------------
dirichlet_map_weights
    MAP mixture weights from (expected) component counts.
niw_map_gaussian, niw_map_gaussians
    MAP mean and covariance of one / K Gaussian components from weighted
    sufficient statistics (the responsibilities are the weights).
default_prior
    The NormalInverseWishart hyperparameters of R mclust's ``defaultPrior``.

Pseudo-counts
-------------
Conjugate hyperparameters read as data you pretend to have seen before the
real data arrive, which makes them easy to choose and to explain:

* ``Beta(a, b)``: for the MAP estimate (the mode) it counts as ``a - 1`` prior
  successes and ``b - 1`` prior failures, because the posterior mode after
  ``s`` successes in ``t`` trials is ``(s + a - 1) / (t + a + b - 2)``.  For
  the posterior *mean* the pseudo-counts are ``a`` and ``b`` instead.  Hence
  ``Beta(1, 1)`` (flat) leaves the MLE ``s / t`` unchanged, ``Beta(2, 2)``
  adds one success and one failure (Laplace smoothing of the MAP).
* ``Dirichlet(alpha)``: ``alpha_k - 1`` prior observations of category ``k``
  for the mode.  ``alpha_k < 1`` is a *negative* pseudo-count, i.e. a
  sparsity-inducing prior; see :func:`dirichlet_map_weights` for how that is
  handled.
* ``Gamma(shape, rate)`` on a Poisson rate: ``shape - 1`` prior events
  observed over ``rate`` units of prior exposure (for the mode).
* ``Normal(loc, variance)`` on a Gaussian mean with noise variance
  ``sigma**2``: worth ``sigma**2 / variance`` prior observations at ``loc``.
* ``NormalInverseWishart(loc, shrinkage, dof, scale)``: ``shrinkage``
  (kappa) prior observations located at ``loc`` for the mean; ``dof`` (nu)
  is roughly the number of prior observations for the covariance and
  ``scale`` (Psi) their scatter matrix.  mclust's default ``shrinkage=0.01``
  is therefore a hundredth of an observation: it regularises covariances
  (through ``scale``) while barely moving the means.

Parametrisations follow scipy.stats where one exists: Gamma uses a *rate*
(``scipy.stats.gamma(shape, scale=1/rate)``), the inverse-Wishart part of the
NIW has density proportional to
``|Sigma|^{-(nu + D + 1)/2} exp(-tr(Psi Sigma^{-1}) / 2)`` exactly as
``scipy.stats.invwishart(df=nu, scale=Psi)`` and as mclust's ``scale``.

References
----------
Fraley, C. and Raftery, A. E. (2007). Bayesian regularization for normal
mixture estimation and model-based clustering. Journal of Classification
24, 155-181.

Murphy, K. P. (2012). Machine Learning: A Probabilistic Perspective, sec. 4.6.3.

Gelman, A. et al. (2013). Bayesian Data Analysis, 3rd ed., sec. 3.6.
"""

from __future__ import annotations

import numbers
from typing import Any, Optional, Tuple, Union

import numpy as np
from scipy import stats
from scipy.special import gammaln, multigammaln, xlogy

__all__ = [
    "Beta",
    "Dirichlet",
    "Gamma",
    "Normal",
    "NormalInverseWishart",
    "dirichlet_map_weights",
    "niw_map_gaussian",
    "niw_map_gaussians",
    "default_prior",
]

RandomStateLike = Union[None, int, np.random.Generator, np.random.RandomState]
SizeLike = Union[None, int, Tuple[int, ...]]

# Tolerance for "these weights sum to one" and "this matrix is symmetric".
# Loose enough for round-off from EM arithmetic, tight enough to catch a
# forgotten normalisation or a transposed argument.
_SUM_TOL = 1e-9
_SYM_RTOL = 1e-8


# ---------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------
def _positive_scalar(owner: str, name: str, value: Any, hint: str = "") -> float:
    """Return ``value`` as a float after checking it is finite and > 0."""
    suffix = f" ({hint})" if hint else ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{owner}: `{name}` must be a finite number > 0, got {value!r}{suffix}"
        ) from None
    if not np.isfinite(number) or number <= 0:
        raise ValueError(f"{owner}: `{name}` must be > 0, got {value}{suffix}")
    return number


def _finite_array(owner: str, name: str, value: Any, ndim: Optional[int] = None) -> np.ndarray:
    """Return ``value`` as a float array, checking finiteness and ndim."""
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: `{name}` must be numeric, got {value!r}") from None
    if ndim is not None and array.ndim != ndim:
        raise ValueError(
            f"{owner}: `{name}` must be {ndim}-dimensional, got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{owner}: `{name}` must contain only finite values (no NaN/inf)")
    return array


def _weights_like(owner: str, weights: Any, shape: Tuple[int, ...]) -> np.ndarray:
    """Validate optional non-negative observation weights (None -> ones)."""
    if weights is None:
        return np.ones(shape)
    w = _finite_array(owner, "weights", weights)
    if w.shape != shape:
        raise ValueError(
            f"{owner}: `weights` must have one entry per observation, shape {shape}, "
            f"got {w.shape}"
        )
    if np.any(w < 0):
        raise ValueError(f"{owner}: `weights` must be >= 0 (e.g. responsibilities)")
    return w


def _readonly(array: np.ndarray) -> np.ndarray:
    # Priors are shared between EM iterations and components; freezing the
    # stored arrays stops an in-place edit from silently changing them.
    array = np.array(array, dtype=float, copy=True)
    array.flags.writeable = False
    return array


def _as_generator(random_state: RandomStateLike):
    """Accept a seed, a Generator or a legacy RandomState."""
    if isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        return random_state
    return np.random.default_rng(random_state)


def _size_tuple(size: SizeLike) -> Tuple[int, ...]:
    if size is None:
        return ()
    if isinstance(size, numbers.Integral):
        return (int(size),)
    return tuple(int(s) for s in size)


def _symmetric_positive_definite(owner: str, name: str, value: Any, dim: int) -> np.ndarray:
    matrix = _finite_array(owner, name, value)
    if matrix.ndim == 0 and dim == 1:
        matrix = matrix.reshape(1, 1)
    if matrix.shape != (dim, dim):
        raise ValueError(f"{owner}: `{name}` must have shape ({dim}, {dim}), got {matrix.shape}")
    if not np.allclose(matrix, matrix.T, rtol=_SYM_RTOL, atol=_SYM_RTOL * np.abs(matrix).max()):
        raise ValueError(
            f"{owner}: `{name}` must be symmetric; pass (M + M.T) / 2 if the asymmetry is round-off"
        )
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"{owner}: `{name}` must be positive definite; add a small ridge, "
            f"e.g. {name} + 1e-6 * np.eye({dim})"
        ) from None
    return matrix


def _clipped_simplex_mode(numerators: np.ndarray) -> Optional[np.ndarray]:
    """Normalise ``max(numerators, 0)``; None when nothing positive remains."""
    clipped = np.maximum(numerators, 0.0)
    total = clipped.sum(axis=-1, keepdims=True)
    if np.any(total <= 0):
        return None
    return clipped / total


# ---------------------------------------------------------------------------
# Beta
# ---------------------------------------------------------------------------
class Beta:
    """Beta(a, b) prior on a success probability ``p`` in [0, 1].

    Density ``p^(a-1) (1-p)^(b-1) / B(a, b)``.  For the MAP estimate ``a - 1``
    and ``b - 1`` act as prior successes and failures (see module docstring).

    Parameters
    ----------
    a : float
        First shape parameter (> 0): "successes" pseudo-count.
    b : float
        Second shape parameter (> 0): "failures" pseudo-count.

    Examples
    --------
    7 successes in 10 trials update a Beta(2, 3) prior:

    >>> from emkit.priors import Beta
    >>> posterior = Beta(2, 3).update(successes=7, trials=10)
    >>> posterior
    Beta(a=9.0, b=6.0)
    >>> round(posterior.mode(), 4), round(posterior.mean(), 4)
    (0.6154, 0.6)
    """

    __slots__ = ("_a", "_b")

    def __init__(self, a: float, b: float) -> None:
        hint = "use 1 for a flat prior, 2 to add one pseudo-observation"
        self._a = _positive_scalar("Beta", "a", a, hint)
        self._b = _positive_scalar("Beta", "b", b, hint)

    @property
    def a(self) -> float:
        """First shape parameter."""
        return self._a

    @property
    def b(self) -> float:
        """Second shape parameter."""
        return self._b

    def __repr__(self) -> str:
        return f"Beta(a={self._a!r}, b={self._b!r})"

    def update(self, successes=None, trials=None, *, observations=None, weights=None) -> "Beta":
        """Return the posterior after binomial or Bernoulli data.

        Either pass ``successes`` and ``trials`` (scalars, or arrays of equal
        shape for several binomial experiments), or pass ``observations``:
        an array of 0/1 outcomes, or of fractional outcomes in [0, 1] such as
        expected values from an E-step.

        Parameters
        ----------
        successes : float or array_like, optional
            Number of successes per experiment, ``0 <= successes <= trials``.
        trials : float or array_like, optional
            Number of trials per experiment (same shape as ``successes``).
        observations : array_like of shape (n,), optional, keyword-only
            Outcomes in [0, 1]; mutually exclusive with ``successes``/``trials``.
        weights : array_like, optional, keyword-only
            Non-negative weight per experiment / observation (e.g. the
            responsibilities of an EM component).  Default: all ones.

        Returns
        -------
        Beta
            ``Beta(a + sum w*successes, b + sum w*(trials - successes))``.
        """
        if observations is not None:
            if successes is not None or trials is not None:
                raise ValueError(
                    "Beta.update: pass either `observations` or `successes` and `trials`, not both"
                )
            outcomes = _finite_array("Beta.update", "observations", observations).ravel()
            if np.any((outcomes < 0) | (outcomes > 1)):
                raise ValueError("Beta.update: `observations` must lie in [0, 1] (0/1 outcomes)")
            w = _weights_like("Beta.update", weights, outcomes.shape)
            n_success = float(np.sum(w * outcomes))
            n_failure = float(np.sum(w * (1.0 - outcomes)))
        else:
            if successes is None or trials is None:
                raise ValueError(
                    "Beta.update: pass both `successes` and `trials`, or `observations=`"
                )
            s = _finite_array("Beta.update", "successes", successes)
            t = _finite_array("Beta.update", "trials", trials)
            if s.shape != t.shape:
                raise ValueError(
                    f"Beta.update: `successes` and `trials` must have the same shape, "
                    f"got {s.shape} and {t.shape}"
                )
            if np.any(s < 0) or np.any(s > t):
                raise ValueError("Beta.update: need 0 <= `successes` <= `trials`")
            w = _weights_like("Beta.update", weights, s.shape)
            n_success = float(np.sum(w * s))
            n_failure = float(np.sum(w * (t - s)))
        return Beta(self._a + n_success, self._b + n_failure)

    def mode(self) -> float:
        """MAP estimate of ``p``.

        ``(a - 1) / (a + b - 2)`` when ``a, b >= 1`` (not both 1).  When one
        parameter is < 1 the density is unbounded at that end and the mode
        is that end (0 if ``a < 1 < b``, 1 if ``b < 1 < a``), the same
        clipping rule as :func:`dirichlet_map_weights`.

        Raises
        ------
        ValueError
            If ``a <= 1`` and ``b <= 1``: the density is flat (``a = b = 1``)
            or has two infinite peaks, so there is no unique mode.
        """
        mode = _clipped_simplex_mode(np.array([self._a - 1.0, self._b - 1.0]))
        if mode is None:
            raise ValueError(
                f"Beta.mode: no unique mode for a={self._a}, b={self._b} "
                "(need a > 1 or b > 1); update with data first or use mean()"
            )
        return float(mode[0])

    def mean(self) -> float:
        """Posterior/prior mean ``a / (a + b)``."""
        return self._a / (self._a + self._b)

    def logpdf(self, value):
        """Log-density at ``value`` (scalar or array; -inf outside [0, 1])."""
        return stats.beta.logpdf(value, self._a, self._b)

    def sample(self, size: SizeLike = None, random_state: RandomStateLike = None):
        """Draw samples; a float when ``size`` is None, else an array of shape ``size``."""
        rng = _as_generator(random_state)
        draws = rng.beta(self._a, self._b, size=size)
        return float(draws) if size is None else draws


# ---------------------------------------------------------------------------
# Dirichlet
# ---------------------------------------------------------------------------
class Dirichlet:
    """Dirichlet(alpha) prior on a probability vector ``w`` of length K.

    Density ``Gamma(sum alpha) / prod Gamma(alpha_k) * prod w_k^(alpha_k - 1)``
    with respect to Lebesgue measure on the first K-1 coordinates (the same
    convention as ``scipy.stats.dirichlet``).

    Parameters
    ----------
    concentration : array_like of shape (K,)
        Concentration parameters alpha (all > 0, K >= 2).  ``alpha_k - 1`` is
        the pseudo-count of category ``k`` for the MAP estimate.

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.priors import Dirichlet
    >>> posterior = Dirichlet([2.0, 2.0, 2.0]).update(np.array([3, 0, 1]))  # counts (K,)
    >>> posterior
    Dirichlet(concentration=[5.0, 2.0, 3.0])
    >>> posterior.mode().round(3)
    array([0.571, 0.143, 0.286])
    """

    __slots__ = ("_concentration",)

    def __init__(self, concentration) -> None:
        alpha = _finite_array("Dirichlet", "concentration", concentration, ndim=1)
        if alpha.size < 2:
            raise ValueError(
                f"Dirichlet: `concentration` needs at least 2 entries, got {alpha.size} "
                "(use Beta for two categories or Dirichlet.symmetric(alpha, K))"
            )
        if np.any(alpha <= 0):
            raise ValueError(
                f"Dirichlet: `concentration` must be > 0 everywhere, got {alpha.tolist()} "
                "(use 1 for a flat prior)"
            )
        self._concentration = _readonly(alpha)

    @classmethod
    def symmetric(cls, concentration: float, n_categories: int) -> "Dirichlet":
        """Dirichlet with the same ``concentration`` for all ``n_categories``."""
        alpha = _positive_scalar("Dirichlet.symmetric", "concentration", concentration)
        if not isinstance(n_categories, numbers.Integral) or n_categories < 2:
            raise ValueError(
                f"Dirichlet.symmetric: `n_categories` must be an integer >= 2, got {n_categories!r}"
            )
        return cls(np.full(int(n_categories), alpha))

    @property
    def concentration(self) -> np.ndarray:
        """Concentration vector alpha, shape (K,) (read-only)."""
        return self._concentration

    @property
    def n_categories(self) -> int:
        """Number of categories K."""
        return self._concentration.size

    def __repr__(self) -> str:
        return f"Dirichlet(concentration={self._concentration.tolist()!r})"

    def update(self, counts) -> "Dirichlet":
        """Return the posterior ``Dirichlet(alpha + counts)``.

        Parameters
        ----------
        counts : array_like of shape (K,) or (n, K)
            Non-negative (possibly fractional, i.e. expected) counts per
            category.  A 2-D array, e.g. one-hot rows or an E-step
            responsibility matrix, is summed over its rows first.

        Returns
        -------
        Dirichlet
        """
        c = _finite_array("Dirichlet.update", "counts", counts)
        if c.ndim == 2:
            c = c.sum(axis=0)
        if c.shape != self._concentration.shape:
            raise ValueError(
                f"Dirichlet.update: `counts` must have shape ({self.n_categories},) or "
                f"(n, {self.n_categories}), got {np.shape(counts)}"
            )
        if np.any(c < 0):
            raise ValueError("Dirichlet.update: `counts` must be >= 0")
        return Dirichlet(self._concentration + c)

    def mode(self) -> np.ndarray:
        """MAP probability vector, shape (K,).

        ``(alpha - 1) / sum(alpha - 1)`` when every ``alpha_k >= 1``.  For
        ``alpha_k < 1`` the density is unbounded on the face ``w_k = 0``; the
        conventional MAP used here (and in :func:`dirichlet_map_weights`)
        clips such numerators at 0 and renormalises.

        Raises
        ------
        ValueError
            If every ``alpha_k <= 1`` (flat or unbounded in every corner: no
            unique mode).
        """
        mode = _clipped_simplex_mode(self._concentration - 1.0)
        if mode is None:
            raise ValueError(
                "Dirichlet.mode: no unique mode when every concentration <= 1; "
                "update with counts first or use mean()"
            )
        return mode

    def mean(self) -> np.ndarray:
        """Mean ``alpha / sum(alpha)``, shape (K,)."""
        return self._concentration / self._concentration.sum()

    def logpdf(self, weights):
        """Exact normalised log-density.

        Parameters
        ----------
        weights : array_like of shape (K,) or (..., K)
            Probability vectors.  Points off the simplex (a negative entry
            or a sum differing from 1 by more than 1e-9) get -inf.  Zero
            entries are allowed: they give -inf, 0 or +inf contributions for
            ``alpha_k`` >, = or < 1.

        Returns
        -------
        float or ndarray of shape (...)
        """
        w = np.asarray(weights, dtype=float)
        alpha = self._concentration
        if w.shape[-1:] != alpha.shape:
            raise ValueError(
                f"Dirichlet.logpdf: `weights` must have last dimension {alpha.size}, got shape {w.shape}"
            )
        log_norm = gammaln(alpha.sum()) - gammaln(alpha).sum()
        # xlogy gives 0 * log(0) = 0, so alpha_k = 1 with w_k = 0 is fine.
        result = log_norm + xlogy(alpha - 1.0, np.clip(w, 0.0, None)).sum(axis=-1)
        off_simplex = np.any(w < 0, axis=-1) | (np.abs(w.sum(axis=-1) - 1.0) > _SUM_TOL)
        result = np.where(off_simplex, -np.inf, result)
        return float(result) if result.ndim == 0 else result

    def sample(self, size: SizeLike = None, random_state: RandomStateLike = None) -> np.ndarray:
        """Draw probability vectors, shape ``size + (K,)`` ((K,) if size is None)."""
        rng = _as_generator(random_state)
        return rng.dirichlet(self._concentration, size=size)


# ---------------------------------------------------------------------------
# Gamma
# ---------------------------------------------------------------------------
class Gamma:
    """Gamma(shape, rate) prior on a positive rate ``lam``.

    Density ``rate^shape / Gamma(shape) * lam^(shape-1) * exp(-rate * lam)``
    (``scipy.stats.gamma(shape, scale=1/rate)``).  Conjugate to a Poisson
    rate (:meth:`update`) and to a Gaussian precision with known mean
    (:meth:`update_gaussian_precision`).

    Parameters
    ----------
    shape : float
        Shape (> 0); ``shape - 1`` prior events for the MAP.
    rate : float
        Rate (> 0); units of prior exposure.

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.priors import Gamma
    >>> posterior = Gamma(2.0, 1.0).update(np.array([3, 5, 4]))  # Poisson counts
    >>> posterior
    Gamma(shape=14.0, rate=4.0)
    >>> round(posterior.mode(), 3)
    3.25
    """

    __slots__ = ("_shape", "_rate")

    def __init__(self, shape: float, rate: float) -> None:
        self._shape = _positive_scalar("Gamma", "shape", shape, "e.g. 1 plus the prior event count")
        self._rate = _positive_scalar(
            "Gamma", "rate", rate, "the rate is 1/scale; e.g. the prior exposure"
        )

    @property
    def shape(self) -> float:
        """Shape parameter."""
        return self._shape

    @property
    def rate(self) -> float:
        """Rate parameter (inverse scale)."""
        return self._rate

    def __repr__(self) -> str:
        return f"Gamma(shape={self._shape!r}, rate={self._rate!r})"

    def update(self, counts, exposure=None, weights=None) -> "Gamma":
        """Posterior for a Poisson rate: ``counts_i ~ Poisson(lam * exposure_i)``.

        Parameters
        ----------
        counts : array_like of shape (n,)
            Non-negative event counts (fractional expected counts allowed).
        exposure : float or array_like of shape (n,), optional
            Exposure of each observation (time, area, ...); a scalar applies
            to every observation.  Default 1 per observation.
        weights : array_like of shape (n,), optional
            Non-negative observation weights (e.g. responsibilities).

        Returns
        -------
        Gamma
            ``Gamma(shape + sum w*counts, rate + sum w*exposure)``; with unit
            exposure and weights that is ``Gamma(shape + sum counts, rate + n)``.
        """
        x = _finite_array("Gamma.update", "counts", counts).ravel()
        if np.any(x < 0):
            raise ValueError("Gamma.update: `counts` must be >= 0")
        if exposure is None:
            t = np.ones_like(x)
        else:
            t = _finite_array("Gamma.update", "exposure", exposure)
            if np.any(t < 0):
                raise ValueError("Gamma.update: `exposure` must be >= 0")
            try:
                t = np.broadcast_to(t, x.shape)
            except ValueError:
                raise ValueError(
                    f"Gamma.update: `exposure` must be a scalar or have shape {x.shape}, got {t.shape}"
                ) from None
        w = _weights_like("Gamma.update", weights, x.shape)
        return Gamma(self._shape + float(np.sum(w * x)), self._rate + float(np.sum(w * t)))

    def update_gaussian_precision(self, data, known_mean: float, weights=None) -> "Gamma":
        """Posterior for the precision ``tau`` of ``N(known_mean, 1/tau)`` data.

        Parameters
        ----------
        data : array_like of shape (n,)
        known_mean : float
        weights : array_like of shape (n,), optional

        Returns
        -------
        Gamma
            ``Gamma(shape + W/2, rate + sum w (x - known_mean)^2 / 2)`` with
            ``W = sum w``.
        """
        x = _finite_array("Gamma.update_gaussian_precision", "data", data).ravel()
        mu = float(known_mean)
        w = _weights_like("Gamma.update_gaussian_precision", weights, x.shape)
        return Gamma(
            self._shape + 0.5 * float(w.sum()),
            self._rate + 0.5 * float(np.sum(w * (x - mu) ** 2)),
        )

    def mode(self) -> float:
        """MAP estimate ``(shape - 1) / rate``; 0 when ``shape <= 1``.

        For ``shape < 1`` the density is unbounded at 0, which is therefore
        reported as the mode.
        """
        return max(self._shape - 1.0, 0.0) / self._rate

    def mean(self) -> float:
        """Mean ``shape / rate``."""
        return self._shape / self._rate

    def logpdf(self, value):
        """Log-density at ``value`` (scalar or array; -inf for negative values)."""
        return stats.gamma.logpdf(value, self._shape, scale=1.0 / self._rate)

    def sample(self, size: SizeLike = None, random_state: RandomStateLike = None):
        """Draw samples; a float when ``size`` is None, else an array of shape ``size``."""
        rng = _as_generator(random_state)
        draws = rng.gamma(self._shape, 1.0 / self._rate, size=size)
        return float(draws) if size is None else draws


# ---------------------------------------------------------------------------
# Normal (prior on a Gaussian mean, known noise variance)
# ---------------------------------------------------------------------------
class Normal:
    """Normal(loc, variance) prior on the mean ``mu`` of 1-D Gaussian data.

    The data noise variance is *known* and passed to :meth:`update`.

    Parameters
    ----------
    loc : float
        Prior mean of ``mu``.
    variance : float
        Prior variance of ``mu`` (> 0); not the noise variance.

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.priors import Normal
    >>> posterior = Normal(0.0, 1.0).update(np.array([1.0, 2.0, 3.0]), noise_variance=1.0)
    >>> posterior
    Normal(loc=1.5, variance=0.25)
    >>> round(posterior.mode(), 3)
    1.5
    """

    __slots__ = ("_loc", "_variance")

    def __init__(self, loc: float, variance: float) -> None:
        loc_array = _finite_array("Normal", "loc", loc)
        if loc_array.ndim != 0:
            raise ValueError(f"Normal: `loc` must be a scalar, got shape {loc_array.shape}")
        self._loc = float(loc_array)
        self._variance = _positive_scalar(
            "Normal", "variance", variance,
            "the prior variance of the mean; use a large value such as 1e6 for a vague prior",
        )

    @property
    def loc(self) -> float:
        """Prior mean of ``mu``."""
        return self._loc

    @property
    def variance(self) -> float:
        """Prior variance of ``mu``."""
        return self._variance

    def __repr__(self) -> str:
        return f"Normal(loc={self._loc!r}, variance={self._variance!r})"

    def update(self, data, noise_variance: float, weights=None) -> "Normal":
        """Posterior of ``mu`` given ``data_i ~ N(mu, noise_variance)``.

        Parameters
        ----------
        data : array_like of shape (n,)
        noise_variance : float
            Known variance of each observation (> 0).
        weights : array_like of shape (n,), optional
            Non-negative weights; a weight ``w`` scales that observation's
            precision to ``w / noise_variance``.

        Returns
        -------
        Normal
            Precision ``1/variance + W/noise_variance``; mean the
            precision-weighted average of ``loc`` and the weighted data mean.
        """
        x = _finite_array("Normal.update", "data", data).ravel()
        sigma2 = _positive_scalar("Normal.update", "noise_variance", noise_variance)
        w = _weights_like("Normal.update", weights, x.shape)
        precision = 1.0 / self._variance + w.sum() / sigma2
        # Working in natural parameters (precision, precision*mean) keeps the
        # zero-weight case exact: it returns the prior unchanged.
        mean = (self._loc / self._variance + np.sum(w * x) / sigma2) / precision
        return Normal(float(mean), float(1.0 / precision))

    def mode(self) -> float:
        """MAP estimate (equals the mean for a Gaussian)."""
        return self._loc

    def mean(self) -> float:
        """Mean ``loc``."""
        return self._loc

    def logpdf(self, value):
        """Log-density of ``mu`` at ``value`` (scalar or array)."""
        return stats.norm.logpdf(value, loc=self._loc, scale=np.sqrt(self._variance))

    def sample(self, size: SizeLike = None, random_state: RandomStateLike = None):
        """Draw samples; a float when ``size`` is None, else an array of shape ``size``."""
        rng = _as_generator(random_state)
        draws = rng.normal(self._loc, np.sqrt(self._variance), size=size)
        return float(draws) if size is None else draws


# ---------------------------------------------------------------------------
# Normal-inverse-Wishart
# ---------------------------------------------------------------------------
class NormalInverseWishart:
    """Normal-inverse-Wishart prior on a Gaussian mean and covariance.

    ``Sigma ~ InvWishart(dof, scale)`` and ``mu | Sigma ~ N(loc, Sigma / shrinkage)``,
    i.e. the (kappa, nu, Psi) parametrisation of Murphy (2012) and of mclust
    (``shrinkage``, ``dof``, ``scale``).  The inverse-Wishart density is
    ``scipy.stats.invwishart(df=dof, scale=scale)``.

    Parameters
    ----------
    loc : array_like of shape (D,)
        Prior mean of ``mu`` (a scalar is read as D = 1).
    shrinkage : float
        kappa > 0: number of prior pseudo-observations at ``loc``.
    dof : float
        nu > D - 1: inverse-Wishart degrees of freedom.
    scale : array_like of shape (D, D)
        Psi, symmetric positive definite inverse-Wishart scale matrix.

    Notes
    -----
    MAP convention.  :meth:`mode` returns the *joint* mode of (mu, Sigma):
    ``mu = loc`` and ``Sigma = scale / (dof + D + 2)``.  The joint density is
    ``IW(Sigma) * N(mu | loc, Sigma/kappa)``; at ``mu = loc`` the normal
    factor contributes an extra ``|Sigma|^{-1/2}``, which moves the
    inverse-Wishart's own mode ``Psi / (nu + D + 1)`` (available as
    :meth:`marginal_covariance_mode`) to ``Psi / (nu + D + 2)``.

    This is also exactly mclust's convention (Fraley & Raftery 2007): for a
    component with weighted statistics (n_k, xbar_k, W_k) mclust's M-step
    returns ``Sigma_k = (Psi + W_k + kappa n_k/(kappa + n_k)
    (xbar_k - loc)(xbar_k - loc)^T) / (nu + n_k + D + 2)``, which is the
    joint mode of the posterior NIW since nu_post = nu + n_k (checked against
    mclust's Fortran ``mnxxxp``: ``pdof + n + p + 1``, plus 1 when
    ``shrinkage > 0``).  So ``posterior.mode()[1] ==
    posterior.map_covariance()`` and MAP-EM with this class reproduces mclust.
    (With ``shrinkage = 0``, which this class does not allow because the
    prior on mu would be improper, mclust uses ``nu + n_k + D + 1``.)

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.priors import NormalInverseWishart
    >>> prior = NormalInverseWishart(np.zeros(2), 1.0, 4.0, np.eye(2))
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [1.0, 1.0]])  # (n, D)
    >>> posterior = prior.update(X)
    >>> posterior.shrinkage, posterior.dof
    (5.0, 8.0)
    >>> mean, covariance = posterior.mode()  # shapes (D,) and (D, D)
    >>> mean.round(3)
    array([0.8, 0.8])
    >>> covariance.round(3)
    array([[0.317, 0.15 ],
           [0.15 , 0.317]])
    """

    __slots__ = ("_loc", "_shrinkage", "_dof", "_scale", "_scale_chol", "_scale_logdet")

    def __init__(self, loc, shrinkage: float, dof: float, scale) -> None:
        owner = "NormalInverseWishart"
        loc_array = _finite_array(owner, "loc", loc)
        if loc_array.ndim == 0:
            loc_array = loc_array.reshape(1)
        if loc_array.ndim != 1:
            raise ValueError(f"{owner}: `loc` must have shape (D,), got {loc_array.shape}")
        dim = loc_array.size
        self._loc = _readonly(loc_array)
        self._shrinkage = _positive_scalar(
            owner, "shrinkage", shrinkage, "kappa; mclust's default is 0.01"
        )
        dof_value = _positive_scalar(owner, "dof", dof, f"mclust's default is D + 2 = {dim + 2}")
        if dof_value <= dim - 1:
            raise ValueError(
                f"{owner}: `dof` must be > D - 1 = {dim - 1}, got {dof} "
                f"(mclust's default is D + 2 = {dim + 2})"
            )
        self._dof = dof_value
        scale_matrix = _symmetric_positive_definite(owner, "scale", scale, dim)
        self._scale = _readonly(scale_matrix)
        chol = np.linalg.cholesky(scale_matrix)
        self._scale_chol = _readonly(chol)
        self._scale_logdet = float(2.0 * np.log(np.diag(chol)).sum())

    # -- attributes ---------------------------------------------------------
    @property
    def loc(self) -> np.ndarray:
        """Prior mean of mu, shape (D,) (read-only)."""
        return self._loc

    @property
    def shrinkage(self) -> float:
        """kappa."""
        return self._shrinkage

    @property
    def dof(self) -> float:
        """nu."""
        return self._dof

    @property
    def scale(self) -> np.ndarray:
        """Psi, shape (D, D) (read-only)."""
        return self._scale

    @property
    def dimension(self) -> int:
        """D, the data dimension."""
        return self._loc.size

    def __repr__(self) -> str:
        return (
            f"NormalInverseWishart(loc={self._loc.tolist()!r}, shrinkage={self._shrinkage!r}, "
            f"dof={self._dof!r}, scale={self._scale.tolist()!r})"
        )

    # -- updates -------------------------------------------------------------
    def update(self, X, weights=None) -> "NormalInverseWishart":
        """Posterior after (optionally weighted) observations.

        Parameters
        ----------
        X : array_like of shape (n, D)
            Observations (shape (n,) is accepted when D = 1).
        weights : array_like of shape (n,), optional
            Non-negative weights, e.g. one column of a responsibility matrix.

        Returns
        -------
        NormalInverseWishart
        """
        owner = "NormalInverseWishart.update"
        data = _finite_array(owner, "X", X)
        if data.ndim == 1 and self.dimension == 1:
            data = data[:, None]
        if data.ndim != 2 or data.shape[1] != self.dimension:
            raise ValueError(f"{owner}: `X` must have shape (n, {self.dimension}), got {data.shape}")
        w = _weights_like(owner, weights, data.shape[:1])
        weight_sum = float(w.sum())
        if weight_sum == 0.0:
            return self
        mean = w @ data / weight_sum
        centred = data - mean
        scatter = (centred * w[:, None]).T @ centred
        return self.update_from_stats(weight_sum, mean, scatter)

    def update_from_stats(self, weight_sum: float, mean, scatter) -> "NormalInverseWishart":
        """Posterior from weighted sufficient statistics (an EM M-step's view).

        Parameters
        ----------
        weight_sum : float
            ``W = sum_n w_n`` (>= 0), e.g. the expected component count n_k.
        mean : array_like of shape (D,)
            Weighted mean ``xbar = sum_n w_n x_n / W``.  Ignored when W = 0.
        scatter : array_like of shape (D, D)
            ``sum_n w_n (x_n - xbar)(x_n - xbar)^T`` (about ``xbar``, *not*
            divided by W).  Ignored when W = 0.

        Returns
        -------
        NormalInverseWishart
            kappa_n = kappa + W, nu_n = nu + W,
            loc_n = (kappa loc + W xbar) / kappa_n,
            Psi_n = Psi + S + kappa W / kappa_n (xbar - loc)(xbar - loc)^T.
        """
        weight_sum, mean, scatter = _check_stats(
            "NormalInverseWishart.update_from_stats", self.dimension,
            np.asarray(weight_sum, dtype=float)[None], np.asarray(mean, dtype=float)[None],
            np.asarray(scatter, dtype=float)[None],
        )
        loc_n, kappa_n, nu_n, psi_n = _niw_posterior_arrays(self, weight_sum, mean, scatter)
        return NormalInverseWishart(loc_n[0], kappa_n[0], nu_n[0], psi_n[0])

    # -- summaries -----------------------------------------------------------
    def mode(self) -> Tuple[np.ndarray, np.ndarray]:
        """Joint mode (MAP) of (mu, Sigma): ``(loc, scale / (dof + D + 2))``.

        See the class Notes for why D + 2 and how it matches mclust.

        Returns
        -------
        mean : ndarray of shape (D,)
        covariance : ndarray of shape (D, D)
        """
        return self._loc.copy(), self.map_covariance()

    def map_covariance(self) -> np.ndarray:
        """mclust's MAP covariance ``scale / (dof + D + 2)``, shape (D, D).

        Identical to ``mode()[1]`` (Fraley & Raftery 2007 use the joint mode).
        """
        return self._scale / (self._dof + self.dimension + 2.0)

    def marginal_covariance_mode(self) -> np.ndarray:
        """Mode of the inverse-Wishart marginal of Sigma, ``scale / (dof + D + 1)``."""
        return self._scale / (self._dof + self.dimension + 1.0)

    def mean(self) -> Tuple[np.ndarray, np.ndarray]:
        """Mean of (mu, Sigma): ``(loc, scale / (dof - D - 1))``.

        Raises
        ------
        ValueError
            If ``dof <= D + 1`` (the mean of Sigma is infinite).
        """
        excess = self._dof - self.dimension - 1.0
        if excess <= 0:
            raise ValueError(
                f"NormalInverseWishart.mean: E[Sigma] is infinite for dof <= D + 1 "
                f"(dof={self._dof}, D={self.dimension}); use mode() instead"
            )
        return self._loc.copy(), self._scale / excess

    # -- density -------------------------------------------------------------
    def logpdf(self, mean, covariance):
        """Exact normalised joint log-density ``log N(mean | loc, cov/kappa) + log IW(cov)``.

        Parameters
        ----------
        mean : array_like of shape (D,) or (..., D)
        covariance : array_like of shape (D, D) or (..., D, D)
            Symmetric matrices; non-positive-definite ones get -inf.

        Returns
        -------
        float or ndarray of shape (...)
        """
        dim = self.dimension
        mu = np.asarray(mean, dtype=float)
        cov = np.asarray(covariance, dtype=float)
        if dim == 1 and mu.ndim == 0:
            mu = mu.reshape(1)
        if dim == 1 and cov.ndim == 0:
            cov = cov.reshape(1, 1)
        if mu.shape[-1:] != (dim,) or cov.shape[-2:] != (dim, dim) or mu.shape[:-1] != cov.shape[:-2]:
            raise ValueError(
                f"NormalInverseWishart.logpdf: need `mean` (..., {dim}) and `covariance` "
                f"(..., {dim}, {dim}) with matching batch shapes, got {mu.shape} and {cov.shape}"
            )
        asym = np.abs(cov - np.swapaxes(cov, -1, -2)).max(initial=0.0)
        if asym > _SYM_RTOL * max(np.abs(cov).max(initial=0.0), 1e-300):
            raise ValueError("NormalInverseWishart.logpdf: `covariance` must be symmetric")

        batch_shape = mu.shape[:-1]
        mu_flat = mu.reshape(-1, dim)
        cov_flat = cov.reshape(-1, dim, dim)
        out = np.full(mu_flat.shape[0], -np.inf)
        chol, valid = _batched_cholesky(cov_flat)
        if np.any(valid):
            L = chol[valid]
            logdet_cov = 2.0 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(axis=-1)
            # tr(Psi Sigma^{-1}) = ||L^{-1} C||_F^2 with Sigma = L L^T, Psi = C C^T.
            half_solved = np.linalg.solve(L, np.broadcast_to(self._scale_chol, L.shape))
            trace_term = np.sum(half_solved**2, axis=(-2, -1))
            z = np.linalg.solve(L, (mu_flat[valid] - self._loc)[..., None])[..., 0]
            mahalanobis = np.sum(z**2, axis=-1)
            nu, kappa = self._dof, self._shrinkage
            log_inv_wishart = (
                0.5 * nu * self._scale_logdet
                - 0.5 * nu * dim * np.log(2.0)
                - multigammaln(0.5 * nu, dim)
                - 0.5 * (nu + dim + 1.0) * logdet_cov
                - 0.5 * trace_term
            )
            log_normal = (
                -0.5 * dim * np.log(2.0 * np.pi)
                + 0.5 * dim * np.log(kappa)
                - 0.5 * logdet_cov
                - 0.5 * kappa * mahalanobis
            )
            out[valid] = log_inv_wishart + log_normal
        out = out.reshape(batch_shape)
        return float(out) if out.ndim == 0 else out

    # -- sampling ------------------------------------------------------------
    def sample(self, size: SizeLike = None, random_state: RandomStateLike = None):
        """Draw (mu, Sigma) pairs.

        Sigma is drawn by the Bartlett decomposition, then
        ``mu ~ N(loc, Sigma / shrinkage)``.

        Returns
        -------
        means : ndarray of shape size + (D,)
        covariances : ndarray of shape size + (D, D)
        """
        rng = _as_generator(random_state)
        shape = _size_tuple(size)
        n_draws = int(np.prod(shape)) if shape else 1
        dim = self.dimension
        # Bartlett: A lower-triangular, A_ii^2 ~ chi2(nu - i), A_ij ~ N(0,1)
        # below the diagonal, gives A A^T ~ Wishart(nu, I).  Then
        # Sigma = C (A A^T)^{-1} C^T ~ InvWishart(nu, C C^T) with C = chol(Psi),
        # which avoids inverting Psi.
        bartlett = np.tril(rng.standard_normal((n_draws, dim, dim)), k=-1)
        chi2 = rng.chisquare(self._dof - np.arange(dim), size=(n_draws, dim))
        bartlett[:, np.arange(dim), np.arange(dim)] = np.sqrt(chi2)
        factor = self._scale_chol @ np.swapaxes(np.linalg.inv(bartlett), -1, -2)
        covariances = factor @ np.swapaxes(factor, -1, -2)
        covariances = 0.5 * (covariances + np.swapaxes(covariances, -1, -2))
        noise = rng.standard_normal((n_draws, dim))
        cov_chol = np.linalg.cholesky(covariances)
        means = self._loc + (cov_chol @ noise[..., None])[..., 0] / np.sqrt(self._shrinkage)
        return means.reshape(shape + (dim,)), covariances.reshape(shape + (dim, dim))


def _batched_cholesky(matrices: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Cholesky factors of a (m, D, D) stack plus a mask of the PD ones."""
    try:
        return np.linalg.cholesky(matrices), np.ones(matrices.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        # numpy fails the whole stack if one matrix is not PD; redo one by one.
        factors = np.zeros_like(matrices)
        valid = np.zeros(matrices.shape[0], dtype=bool)
        for index, matrix in enumerate(matrices):
            try:
                factors[index] = np.linalg.cholesky(matrix)
                valid[index] = True
            except np.linalg.LinAlgError:
                pass
        return factors, valid


def _check_stats(owner, dim, weight_sums, means, scatters):
    """Validate stacked (K,), (K, D), (K, D, D) sufficient statistics."""
    if dim == 1:
        if means.ndim == 1:
            means = means[:, None]
        if scatters.ndim == 1:
            scatters = scatters[:, None, None]
    n_comp = weight_sums.shape[0] if weight_sums.ndim == 1 else None
    if (
        weight_sums.ndim != 1
        or means.shape != (n_comp, dim)
        or scatters.shape != (n_comp, dim, dim)
    ):
        raise ValueError(
            f"{owner}: expected weight sums (K,), means (K, {dim}) and scatters (K, {dim}, {dim}) "
            f"(single component: scalar, ({dim},), ({dim}, {dim})); got {weight_sums.shape}, "
            f"{means.shape}, {scatters.shape}"
        )
    if not np.all(np.isfinite(weight_sums)) or np.any(weight_sums < 0):
        raise ValueError(f"{owner}: weight sums must be finite and >= 0, got {weight_sums}")
    empty = weight_sums == 0
    # An empty component's mean is 0/0 in a typical M-step; it carries no
    # information, so replace it rather than let NaN propagate.
    means = np.where(empty[:, None], 0.0, means)
    scatters = np.where(empty[:, None, None], 0.0, scatters)
    if not (np.all(np.isfinite(means)) and np.all(np.isfinite(scatters))):
        raise ValueError(f"{owner}: means and scatters must be finite for non-empty components")
    return weight_sums, means, scatters


def _niw_posterior_arrays(prior: NormalInverseWishart, weight_sums, means, scatters):
    """Posterior NIW hyperparameters for K stacked statistic sets."""
    kappa, nu, loc, psi = prior.shrinkage, prior.dof, prior.loc, prior.scale
    kappa_n = kappa + weight_sums
    # For an empty component weight_sums == 0 so the mean is irrelevant;
    # using loc makes the correction term exactly zero.
    diff = np.where((weight_sums == 0)[:, None], 0.0, means - loc)
    loc_n = loc + (weight_sums / kappa_n)[:, None] * diff
    correction = (kappa * weight_sums / kappa_n)[:, None, None] * (diff[:, :, None] * diff[:, None, :])
    psi_n = psi + scatters + correction
    # Symmetrise: a caller's scatter may be asymmetric at round-off level and
    # a downstream Cholesky should see an exactly symmetric matrix.
    psi_n = 0.5 * (psi_n + np.swapaxes(psi_n, -1, -2))
    return loc_n, kappa_n, nu + weight_sums, psi_n


# ---------------------------------------------------------------------------
# M-step helpers
# ---------------------------------------------------------------------------
def dirichlet_map_weights(counts, concentration) -> np.ndarray:
    """MAP mixture weights under a Dirichlet prior.

    Parameters
    ----------
    counts : array_like of shape (K,)
        Expected component counts ``n_k = sum_n r_nk`` (>= 0).
    concentration : float or array_like of shape (K,)
        Dirichlet concentration alpha (> 0), shared or per component.

    Returns
    -------
    ndarray of shape (K,)
        ``max(n_k + alpha_k - 1, 0) / sum_j max(n_j + alpha_j - 1, 0)``.

    Notes
    -----
    With ``alpha_k >= 1`` this is the usual ``(n_k + alpha_k - 1) / (N + sum
    alpha - K)``.  With ``alpha_k < 1`` a small component can get a negative
    numerator: the posterior density is then unbounded as ``w_k -> 0``, so
    its weight is set to 0 (the component is pruned) and the others are
    renormalised, as in sparse-Dirichlet MAP-EM (e.g. Figueiredo & Jain,
    2002).  If every numerator clips to 0 (no maximiser exists) the
    posterior mean ``(n + alpha) / sum(n + alpha)`` is returned so that an
    EM step never fails; ``concentration=1`` gives the MLE ``n / N``.

    Examples
    --------
    >>> from emkit.priors import dirichlet_map_weights
    >>> dirichlet_map_weights([6.0, 3.0, 1.0], 1.0)  # flat prior: n / N
    array([0.6, 0.3, 0.1])
    >>> dirichlet_map_weights([6.0, 3.0, 1.0], 2.0).round(3)
    array([0.538, 0.308, 0.154])
    """
    n = _finite_array("dirichlet_map_weights", "counts", counts, ndim=1)
    if np.any(n < 0):
        raise ValueError("dirichlet_map_weights: `counts` must be >= 0")
    alpha = _finite_array("dirichlet_map_weights", "concentration", concentration)
    if alpha.ndim > 1 or (alpha.ndim == 1 and alpha.shape != n.shape):
        raise ValueError(
            f"dirichlet_map_weights: `concentration` must be a scalar or have shape {n.shape}, "
            f"got {alpha.shape}"
        )
    if np.any(alpha <= 0):
        raise ValueError("dirichlet_map_weights: `concentration` must be > 0 (1 gives the MLE)")
    alpha = np.broadcast_to(alpha, n.shape)
    weights = _clipped_simplex_mode(n + alpha - 1.0)
    if weights is None:
        posterior = n + alpha
        weights = posterior / posterior.sum()
    return weights


def niw_map_gaussians(weight_sums, means, scatters, prior: NormalInverseWishart):
    """MAP means and covariances of K Gaussian components under one NIW prior.

    Vectorised :func:`niw_map_gaussian`; formulas of Fraley & Raftery (2007)
    as implemented in mclust (conjugate prior, "VVV" model).

    Parameters
    ----------
    weight_sums : array_like of shape (K,)
        ``n_k = sum_n r_nk`` (>= 0).
    means : array_like of shape (K, D)
        Weighted means ``xbar_k``; ignored (may be NaN) where ``n_k == 0``.
    scatters : array_like of shape (K, D, D)
        ``W_k = sum_n r_nk (x_n - xbar_k)(x_n - xbar_k)^T``; ignored where
        ``n_k == 0``.
    prior : NormalInverseWishart
        Shared prior (loc mu_p, shrinkage kappa, dof nu, scale Psi).

    Returns
    -------
    map_means : ndarray of shape (K, D)
        ``(n_k xbar_k + kappa mu_p) / (n_k + kappa)``.
    map_covariances : ndarray of shape (K, D, D)
        ``(Psi + W_k + kappa n_k / (kappa + n_k) (xbar_k - mu_p)(xbar_k - mu_p)^T)
        / (nu + n_k + D + 2)``.  An empty component gets the prior mode
        ``(mu_p, Psi / (nu + D + 2))``.

    Examples
    --------
    The second component is empty and gets the prior mode:

    >>> import numpy as np
    >>> from emkit.priors import NormalInverseWishart, niw_map_gaussians
    >>> prior = NormalInverseWishart(np.zeros(2), 1.0, 4.0, np.eye(2))
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [1.0, 1.0]])
    >>> xbar = X.mean(axis=0)
    >>> means = np.vstack([xbar, [np.nan, np.nan]])                 # (K, D)
    >>> scatters = np.stack([(X - xbar).T @ (X - xbar), np.zeros((2, 2))])  # (K, D, D)
    >>> map_means, map_covariances = niw_map_gaussians(np.array([4.0, 0.0]), means, scatters, prior)
    >>> map_means.round(3)
    array([[0.8, 0.8],
           [0. , 0. ]])
    >>> map_covariances.shape, map_covariances[1].round(3).tolist()
    ((2, 2, 2), [[0.125, 0.0], [0.0, 0.125]])
    """
    if not isinstance(prior, NormalInverseWishart):
        raise ValueError(
            f"niw_map_gaussians: `prior` must be a NormalInverseWishart, got {type(prior).__name__}"
        )
    weight_sums, means, scatters = _check_stats(
        "niw_map_gaussians", prior.dimension,
        np.asarray(weight_sums, dtype=float), np.asarray(means, dtype=float),
        np.asarray(scatters, dtype=float),
    )
    loc_n, _, nu_n, psi_n = _niw_posterior_arrays(prior, weight_sums, means, scatters)
    # Joint posterior mode: Psi_n / (nu_n + D + 2) (see NormalInverseWishart Notes).
    covariances = psi_n / (nu_n + prior.dimension + 2.0)[:, None, None]
    return loc_n, covariances


def niw_map_gaussian(weight_sum, mean, scatter, prior: NormalInverseWishart):
    """MAP mean and covariance of one Gaussian component under an NIW prior.

    Parameters
    ----------
    weight_sum : float
        ``n_k = sum_n r_nk`` (>= 0).
    mean : array_like of shape (D,)
        Weighted mean ``xbar = sum_n r_nk x_n / n_k``.
    scatter : array_like of shape (D, D)
        ``sum_n r_nk (x_n - xbar)(x_n - xbar)^T`` (not divided by n_k).
    prior : NormalInverseWishart

    Returns
    -------
    map_mean : ndarray of shape (D,)
        ``(n_k xbar + kappa mu_p) / (n_k + kappa)``.
    map_covariance : ndarray of shape (D, D)
        ``(Psi + scatter + kappa n_k/(kappa + n_k) (xbar - mu_p)(xbar - mu_p)^T)
        / (nu + n_k + D + 2)``, i.e. mclust's M-step (Fraley & Raftery 2007);
        equals ``prior.update_from_stats(weight_sum, mean, scatter).mode()``.

    Examples
    --------
    >>> import numpy as np
    >>> from emkit.priors import NormalInverseWishart, niw_map_gaussian
    >>> prior = NormalInverseWishart(np.zeros(2), 1.0, 4.0, np.eye(2))
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [1.0, 1.0]])
    >>> xbar = X.mean(axis=0)
    >>> mean, covariance = niw_map_gaussian(4.0, xbar, (X - xbar).T @ (X - xbar), prior)
    >>> mean.round(3)
    array([0.8, 0.8])
    >>> covariance.round(3)
    array([[0.317, 0.15 ],
           [0.15 , 0.317]])
    """
    if not isinstance(prior, NormalInverseWishart):
        raise ValueError(
            f"niw_map_gaussian: `prior` must be a NormalInverseWishart, got {type(prior).__name__}"
        )
    weight_sum = np.asarray(weight_sum, dtype=float)
    if weight_sum.ndim != 0:
        raise ValueError(
            "niw_map_gaussian: `weight_sum` must be a scalar; use niw_map_gaussians for K components"
        )
    means, covariances = niw_map_gaussians(
        weight_sum[None], np.asarray(mean, dtype=float)[None],
        np.asarray(scatter, dtype=float)[None], prior,
    )
    return means[0], covariances[0]


def default_prior(X, n_components: int, *, shrinkage: float = 0.01) -> NormalInverseWishart:
    """NormalInverseWishart with R mclust's ``defaultPrior`` hyperparameters.

    Matches ``mclust::defaultPrior(data, G, modelName)`` for the ellipsoidal
    models (``"VVV"`` and relatives; for D = 1 it also matches ``"V"``/``"E"``):

    * ``loc = colMeans(X)``
    * ``shrinkage = 0.01``
    * ``dof = D + 2``
    * ``scale = cov(X) / G^(2/D)`` with R's unbiased (n - 1) covariance;
      for D = 1 this is ``var(X) / G^2``.  When ``n <= D`` the covariance is
      singular and mclust (and this function) uses the diagonal matrix of
      column variances instead.

    Parameters
    ----------
    X : array_like of shape (n, D)
        Data (shape (n,) is read as D = 1); n >= 2.
    n_components : int
        G, the number of mixture components (>= 1).
    shrinkage : float, keyword-only
        kappa override (mclust's ``priorControl(shrinkage=...)``); must be > 0.

    Returns
    -------
    NormalInverseWishart

    Examples
    --------
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.priors import default_prior
    >>> prior = default_prior(load_old_faithful().data, 2)
    >>> prior.loc.round(2), prior.shrinkage, prior.dof, prior.scale.shape
    (array([ 3.49, 70.9 ]), 0.01, 4.0, (2, 2))
    """
    data = _finite_array("default_prior", "X", X)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2:
        raise ValueError(f"default_prior: `X` must have shape (n, D), got {data.shape}")
    n_samples, dim = data.shape
    if n_samples < 2:
        raise ValueError(f"default_prior: `X` needs at least 2 rows to estimate a covariance, got {n_samples}")
    if (
        isinstance(n_components, bool)
        or not isinstance(n_components, numbers.Integral)
        or n_components < 1
    ):
        raise ValueError(f"default_prior: `n_components` must be an integer >= 1, got {n_components!r}")
    if n_samples > dim:
        covariance = np.atleast_2d(np.cov(data, rowvar=False, ddof=1))
    else:
        covariance = np.diag(np.var(data, axis=0, ddof=1))
    scale = covariance / float(n_components) ** (2.0 / dim)
    return NormalInverseWishart(
        loc=data.mean(axis=0), shrinkage=shrinkage, dof=dim + 2.0, scale=scale
    )
