"""Input validation at the public boundary, with messages that name the fix."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils.validation import check_array, validate_data

__all__ = ["validate_samples", "check_sample_weight", "check_parameter_array",
           "reject_complex"]


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


def check_gaussian_scale(X, scales, name="X"):
    """Reject data whose Gaussian parameters float64 cannot hold.

    A Gaussian fit needs variances and precisions of the data's spread, so a
    feature whose spread is below about 1e-140 (variance 1e-280) or above
    1e140 would underflow or overflow into a NaN model. Such data are
    rejected by name; anything in between fits exactly as a rescaled copy would.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated finite (or NaN for missing) data.
    scales : FeatureScales
        Its measured scales (:func:`emkit.components.gaussian.feature_scales`).
    name : str
        The argument's name in messages.

    Raises
    ------
    ValueError
        Naming ``name``, the feature and the fix (rescale).
    """
    from .components.gaussian import MAX_SPREAD, MIN_SPREAD

    spreads = (np.sqrt(scales.local_variance) if scales.local_scale is None
               else scales.local_scale)
    with np.errstate(invalid="ignore"):
        magnitudes = np.nanmax(np.abs(np.asarray(X, dtype=np.float64)), axis=0) \
            if X.shape[0] else np.zeros(X.shape[1])
    too_small = (~scales.constant) & (spreads < MIN_SPREAD)
    too_large = (spreads > MAX_SPREAD) | (np.nan_to_num(magnitudes) > MAX_SPREAD)
    for bad, size in ((too_small, "small"), (too_large, "large")):
        if bad.any():
            feature = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"Input {name} is too {size} in scale to fit Gaussian components in float64: "
                f"feature {feature} has spread {spreads[feature]:.3g} and magnitude "
                f"{magnitudes[feature]:.3g}, so its variances or precisions would underflow "
                f"or overflow. Rescale {name} (e.g. divide each feature by its standard "
                f"deviation, or use sklearn.preprocessing.StandardScaler) before fitting; "
                f"spreads between {MIN_SPREAD:.0e} and {MAX_SPREAD:.0e} fit exactly as a "
                f"rescaled copy would."
            )

def _is_complex(value):
    """Whether ``value`` holds complex numbers, without numpy functions on it (array-likes
    that are not arrays may refuse them) and without converting arrays."""
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if kind is None and hasattr(value, "dtypes"):  # a DataFrame: one dtype per column
        return any(getattr(dtype, "kind", None) == "c" for dtype in value.dtypes)
    if kind is None:
        try:
            kind = np.asarray(value).dtype.kind
        except (TypeError, ValueError):  # ragged or odd input: the caller's checks name it
            return False
    return kind == "c"


def reject_complex(value, name, what="real numbers"):
    """Raise a ValueError naming ``name`` if ``value`` holds complex numbers.

    Converting complex input to float silently drops the imaginary part (numpy
    only warns), so every boundary that converts must reject it first. The
    message starts with scikit-learn's wording, which its estimator checks expect.
    """
    if _is_complex(value):
        raise ValueError(
            f"Complex data not supported: {name} has complex values; it must hold {what}. "
            f"Pass the real part (np.real) or the magnitude (np.abs) if that is what you mean."
        )
