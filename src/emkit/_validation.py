"""Input validation at the public boundary, with messages that name the fix."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils.validation import check_array, validate_data

__all__ = ["validate_samples", "check_sample_weight", "check_parameter_array"]


def _nonfinite_message(X, name):
    bad_rows = np.flatnonzero(~np.isfinite(X).all(axis=1))
    shown = ", ".join(str(i) for i in bad_rows[:5]) + (", ..." if bad_rows.size > 5 else "")
    kind = "NaN" if np.isnan(X).any() else "infinity"
    return (f"Input {name} contains {kind} in {bad_rows.size} row(s) (rows {shown}). "
            f"Remove or impute those rows before fitting (e.g. sklearn.impute.SimpleImputer); "
            f"values must be finite numbers, not NaN or infinity.")


def validate_samples(estimator, X, *, reset, min_samples=1, name="X", allow_nan=False):
    """Validate a 2-D sample matrix for ``estimator`` and return a float array.

    float32 and float64 are kept as they are (float32 stays float32 in the
    heavy products); anything else numeric is converted to float64. The
    caller's array is never modified: models only read from it.

    Raises
    ------
    ValueError
        With a message naming ``name`` and what to do, for non-numeric data,
        NaN/inf, wrong dimensionality, or fewer than ``min_samples`` samples.
    """
    try:
        X = validate_data(estimator, X, reset=reset, dtype=[np.float64, np.float32],
                          ensure_all_finite=False, ensure_min_samples=1)
    except ValueError as error:
        message = str(error)
        if "could not convert" in message or "convert string" in message:
            raise ValueError(
                f"Input {name} must contain only numbers; {message}. Encode categorical "
                f"columns numerically or drop them."
            ) from error
        if "Expected 2D array" in message:
            raise ValueError(
                f"Input {name} must be 2-D of shape (n_samples, n_features). {message}"
            ) from error
        raise
    if not allow_nan and not np.isfinite(X).all():
        raise ValueError(_nonfinite_message(X, name))
    if X.shape[0] < min_samples:
        raise ValueError(
            f"Input {name} has {X.shape[0]} sample(s) but at least {min_samples} are "
            f"needed (n_samples must be >= n_components={min_samples}); pass more samples "
            f"or lower n_components."
        )
    return X


def check_sample_weight(sample_weight, n_samples, name="sample_weight"):
    """Validate frequency weights: 1-D, finite, non-negative, not all zero.

    Returns None when ``sample_weight`` is None (the fast unweighted path).
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, float(sample_weight))
    weights = check_array(sample_weight, ensure_2d=False, dtype=np.float64,
                          ensure_all_finite=False, input_name=name)
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        raise ValueError(
            f"{name} must have shape ({n_samples},), one weight per sample; got "
            f"shape {weights.shape}."
        )
    if not np.isfinite(weights).all():
        raise ValueError(f"{name} contains NaN or infinity; weights must be finite.")
    if (weights < 0).any():
        raise ValueError(f"{name} must be non-negative; got a minimum of {weights.min()}.")
    if weights.sum() <= 0:
        raise ValueError(f"{name} sums to zero; at least one sample needs a positive weight.")
    return weights


def check_parameter_array(value, shape, name, *, positive=False, simplex=False):
    """Validate a user-supplied parameter (e.g. ``means_init``) and copy it as float64."""
    array = np.array(value, dtype=np.float64, copy=True)
    if array.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; got {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite; it contains NaN or infinity.")
    if positive and (array <= 0).any():
        raise ValueError(f"{name} must be strictly positive.")
    if simplex:
        if (array < 0).any() or (array > 1).any():
            raise ValueError(f"{name} must lie in [0, 1]; got {array}.")
        if not np.isclose(array.sum(), 1.0, atol=1e-6):
            raise ValueError(
                f"{name} must sum to 1; it sums to {array.sum():.6g}. Normalise it first."
            )
    return array


# ---------------------------------------------------------------------------
# Hyper-parameters, sequence lengths and model parameters (HMMs; general use)
# ---------------------------------------------------------------------------
__all__ += ["check_positive_integer", "check_real", "check_lengths_bounded",
            "check_probability_rows", "check_covariances"]


def check_positive_integer(value, name, *, minimum=1):
    """An integer hyper-parameter such as ``n_components``, at least ``minimum``.

    ``True``/``False`` are rejected although Python counts them as integers:
    ``n_components=True`` is a mistake, not one component.

    Returns
    -------
    int
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {value!r} of type "
                        f"{type(value).__name__}.")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}.")
    return int(value)


def check_real(X, name="X"):
    """Reject complex input instead of silently dropping its imaginary part.

    Returns ``X`` unchanged otherwise (the caller converts it).
    """
    dtype = getattr(X, "dtype", None)
    if dtype is None:
        try:
            dtype = np.asarray(X).dtype
        except (TypeError, ValueError):
            return X
    if np.issubdtype(dtype, np.complexfloating):
        raise ValueError(f"Input {name} is complex (dtype {dtype}); observations must be real "
                         f"numbers. Pass the real part (np.real) or the modulus (np.abs) "
                         f"explicitly if that is what you mean.")
    if dtype == object:
        try:
            values = np.ravel(np.asarray(X, dtype=object))
            has_complex = any(isinstance(v, complex) for v in values)
        except (TypeError, ValueError):
            has_complex = False
        if has_complex:
            raise ValueError(f"Input {name} contains complex numbers; observations must be "
                             f"real numbers.")
    return X


def check_lengths_bounded(lengths, n_samples, name="lengths"):
    """Reject sequence lengths that exceed ``n_samples`` before anything sums them.

    Every length is positive and they must add up to ``n_samples``, so none
    can exceed it; checking that first means the sum cannot overflow int64
    (``[2**62] * 4`` would otherwise wrap around to a plausible total).
    Returns ``lengths`` unchanged; the full check follows.
    """
    if lengths is None:
        return None
    array = np.asarray(lengths)
    if array.size and np.issubdtype(array.dtype, np.number) \
            and not np.issubdtype(array.dtype, np.complexfloating):
        with np.errstate(invalid="ignore"):
            too_long = array > n_samples
        if np.any(too_long):
            raise ValueError(f"{name} contains a sequence length of {array[too_long].flat[0]} "
                             f"but X has only {n_samples} samples; the lengths must add up "
                             f"to X.shape[0].")
    return lengths


def check_probability_rows(value, shape, name):
    """Probability vectors (rows along the last axis) of the given shape, as float64.

    Rows must be finite, non-negative and sum to 1 within 1e-6; rows off by
    more than round-off are renormalised, the others kept bit for bit (so a
    parameter held fixed stays exactly what the user gave). The message
    names ``name``.
    """
    try:
        array = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of probabilities of shape "
                         f"{tuple(shape)}.") from None
    if array.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; got {array.shape}.")
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError(f"{name} must hold finite non-negative probabilities.")
    sums = array.sum(axis=-1)
    if not np.allclose(sums, 1.0, rtol=0.0, atol=1e-6):
        raise ValueError(f"{name} must sum to 1 along its last axis; got sums "
                         f"{np.round(sums, 6).tolist()}. Normalise it first.")
    off = np.abs(sums - 1.0) > 1e-12
    if np.any(off):
        array = np.where(off[..., None], array / sums[..., None], array)
    return array


_COVARIANCE_LAYOUTS = {"full": "(n_components, n_features, n_features)",
                       "tied": "(n_features, n_features)",
                       "diag": "(n_components, n_features)",
                       "spherical": "(n_components,)"}


def check_covariances(value, covariance_type, n_components, n_features, name="covariances"):
    """Covariance parameters in the compact layout of ``covariance_type``, validated.

    full (K, D, D), tied (D, D), diag (K, D), spherical (K,): finite;
    variances strictly positive; matrices symmetric (to 1e-8 relative) and
    positive definite. Nothing is repaired: a negative variance is an error,
    not a tiny one.

    Returns
    -------
    ndarray, float64 copy (matrices exactly symmetrised)
    """
    if covariance_type not in _COVARIANCE_LAYOUTS:
        raise ValueError(f"covariance_type must be one of {tuple(_COVARIANCE_LAYOUTS)}; "
                         f"got {covariance_type!r}.")
    K, D = n_components, n_features
    shape = {"full": (K, D, D), "tied": (D, D), "diag": (K, D), "spherical": (K,)}[
        covariance_type]
    try:
        array = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array of shape {shape}.") from None
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape} = "
                         f"{_COVARIANCE_LAYOUTS[covariance_type]} for covariance_type="
                         f"{covariance_type!r}; got {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite; it contains NaN or infinity.")
    if covariance_type in ("diag", "spherical"):
        if (array <= 0).any():
            raise ValueError(f"{name} must be strictly positive (they are variances); got a "
                             f"minimum of {array.min():.6g}.")
        return array
    stack = array[None] if covariance_type == "tied" else array
    for k, matrix in enumerate(stack):
        label = name if covariance_type == "tied" else f"{name}[{k}]"
        scale = np.abs(matrix).max(initial=0.0)
        if not np.allclose(matrix, matrix.T, rtol=0.0, atol=1e-8 * max(scale, 1e-300)):
            raise ValueError(f"{label} must be symmetric.")
        symmetric = 0.5 * (matrix + matrix.T)
        try:
            np.linalg.cholesky(symmetric)
        except np.linalg.LinAlgError:
            raise ValueError(f"{label} must be positive definite; its smallest eigenvalue is "
                             f"{np.linalg.eigvalsh(symmetric).min():.6g}.") from None
    symmetric = 0.5 * (stack + np.swapaxes(stack, -1, -2))
    return symmetric[0] if covariance_type == "tied" else symmetric
