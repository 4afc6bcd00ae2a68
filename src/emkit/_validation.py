"""Input validation at the public boundary, with messages that name the fix.

Every public function and estimator validates its arguments here, so that a
bad argument is answered at the boundary by a message that names it and says
what to pass instead, never by an error from deep inside:

* :func:`validate_samples`: sample matrices ``X`` (2-D, real, finite, not
  empty, enough samples);
* :func:`check_integer`, :func:`check_real`, :func:`check_bool`,
  :func:`check_choice`, :func:`check_random_state`: scalar parameters
  (bools are not integers; NaN is never a valid number);
* :func:`check_parameter_array`, :func:`check_covariance_parameter`,
  :func:`check_prior`: user-supplied model parameters.

Parameter errors are :class:`InvalidParameterError`, a ValueError that is
also a TypeError (as scikit-learn's), so either ``except`` catches them.
"""

from __future__ import annotations

import difflib
import numbers
import warnings

import numpy as np
from scipy import sparse
from sklearn.utils import check_random_state as _sklearn_check_random_state
from sklearn.utils.validation import check_array, validate_data

__all__ = ["validate_samples", "check_sample_weight", "check_parameter_array",
           "InvalidParameterError", "check_integer", "check_real", "check_bool",
           "check_choice", "check_random_state", "check_covariance_parameter", "check_prior",
           "reject_complex", "check_gaussian_scale"]


def _nonfinite_message(X, name):
    bad_rows = np.flatnonzero(~np.isfinite(X).all(axis=1))
    shown = ", ".join(str(i) for i in bad_rows[:5]) + (", ..." if bad_rows.size > 5 else "")
    kind = "NaN" if np.isnan(X).any() else "infinity"
    return (f"Input {name} contains {kind} in {bad_rows.size} row(s) (rows {shown}). "
            f"Remove or impute those rows before fitting (e.g. sklearn.impute.SimpleImputer); "
            f"values must be finite numbers, not NaN or infinity.")


def _container_kind(X):
    if hasattr(X, "iloc"):
        return "pandas Series" if getattr(X, "ndim", None) == 1 else "pandas DataFrame"
    return "array"


def _precheck_samples(X, name, min_samples):
    """What can be said about ``X`` before converting it, with the fix in the message.

    Returns ``X`` itself, or ``np.asarray(X)`` for containers without a shape
    (lists): they are converted once here instead of inside scikit-learn.
    """
    if isinstance(X, np.matrix):
        raise TypeError(f"Input {name} is a numpy.matrix, which is not supported; pass "
                        f"np.asarray({name}) (a 2-D ndarray) instead.")
    if sparse.issparse(X):
        raise TypeError(f"Input {name} is a sparse matrix; sparse input is not supported. "
                        f"Pass a dense array instead, e.g. {name}.toarray().")
    if X is None:
        raise ValueError(f"Input {name} is None; pass a 2-D array of shape "
                         f"(n_samples, n_features).")
    if not hasattr(X, "shape") or not hasattr(X, "ndim"):
        try:
            X = np.asarray(X)
        except ValueError as error:  # ragged nested lists
            raise ValueError(
                f"Input {name} could not be read as a 2-D array ({error}); every row "
                f"must hold the same number of values (n_features)."
            ) from error
    ndim, shape, kind = X.ndim, tuple(X.shape), _container_kind(X)
    a_kind = ("an " if kind == "array" else "a ") + kind
    if ndim == 0:
        raise ValueError(f"Input {name} must be 2-D, of shape (n_samples, n_features); got "
                         f"a scalar. Reshape your data, e.g. np.array([[value]]).")
    if ndim == 1:
        column, row = ((f"{name}.to_frame()", f"{name}.to_frame().T") if kind == "pandas Series"
                       else (f"{name}.reshape(-1, 1)", f"{name}.reshape(1, -1)"))
        raise ValueError(
            f"Input {name} must be 2-D, of shape (n_samples, n_features); got a 1-D {kind} "
            f"of shape {shape}. Reshape your data: {column} if it holds one feature, or "
            f"{row} if it is one sample."
        )
    if ndim > 2:
        raise ValueError(
            f"Input {name} must be 2-D, of shape (n_samples, n_features); got {a_kind} "
            f"with dim {ndim} (shape {shape}). Reshape your data to one row per sample, e.g. "
            f"{name}.reshape({name}.shape[0], -1)."
        )
    if shape[0] == 0:
        raise ValueError(
            f"Input {name} has 0 sample(s) (shape={shape}) while a minimum of "
            f"{max(min_samples, 1)} is required; pass a non-empty array of shape "
            f"(n_samples, n_features)."
        )
    if shape[1] == 0:
        raise ValueError(
            f"Input {name} has 0 feature(s) (shape={shape}) while a minimum of 1 is "
            f"required; pass at least one column."
        )
    dtypes = [X.dtype] if hasattr(X, "dtype") else list(getattr(X, "dtypes", []))
    kinds = {getattr(dtype, "kind", "O") for dtype in dtypes}
    if "c" in kinds:
        # "Complex data not supported" is scikit-learn's wording (its checks match it).
        raise ValueError(
            f"Complex data not supported: input {name} holds complex numbers. The models "
            f"are for real data: pass {name}.real if the imaginary parts are zero, or "
            f"np.hstack([{name}.real, {name}.imag]) to model both parts as features."
        )
    if kinds & {"U", "S"}:
        raise ValueError(
            f"Input {name} must contain only numbers; it holds strings. Convert it with "
            f"{name}.astype(float) if they are numbers, or encode categorical columns "
            f"numerically."
        )
    return X


def _conversion_error(error, name):
    """The same kind of exception as ``error``, saying what ``name`` must be."""
    message = str(error)
    if "could not convert" in message or "convert string" in message:
        text = (f"Input {name} must contain only numbers; {message}. Encode categorical "
                f"columns numerically or drop them.")
    elif "Complex data not supported" in message or "complex" in message.lower():
        text = (f"Complex data not supported: input {name} must contain only real "
                f"numbers ({message.splitlines()[0]}). Pass {name}.real, or the real and "
                f"imaginary parts as separate features.")
    elif "argument must be" in message:  # objects numpy cannot read as numbers
        text = (f"Input {name} must contain only real numbers; {message}. Convert every "
                f"entry to a number first.")
    elif "features, but" in message and "expecting" in message:
        text = (f"{message} Pass {name} with the same columns, in the same order, as "
                f"the data the model was fitted on.")
    else:
        text = f"Input {name} is not a valid sample matrix: {message}"
    return type(error)(text)


def _is_plain_float_matrix(X, estimator):
    return (type(X) is np.ndarray and X.dtype in (np.float64, np.float32)
            and not hasattr(estimator, "feature_names_in_"))


def _check_n_features(estimator, X, reset):
    if estimator is None:
        return
    if reset:
        estimator.n_features_in_ = X.shape[1]
        return
    expected = getattr(estimator, "n_features_in_", None)
    if expected is not None and X.shape[1] != expected:
        # scikit-learn's wording (its estimator checks match it).
        raise ValueError(f"X has {X.shape[1]} features, but {type(estimator).__name__} is "
                         f"expecting {expected} features as input.")


def validate_samples(estimator, X, *, reset, min_samples=1, name="X", allow_nan=False,
                     min_samples_reason=None):
    """Validate a 2-D sample matrix for ``estimator`` and return a float array.

    float32 and float64 are kept as they are (float32 stays float32 in the
    heavy products); anything else numeric is converted to float64. The
    caller's array is never modified: models only read from it.

    Parameters
    ----------
    estimator : estimator or None
        Records ``n_features_in_`` (and ``feature_names_in_``) when ``reset``,
        and checks them otherwise; None for functions (no such record).
    X : array-like of shape (n_samples, n_features)
    reset : bool
    min_samples : int, default=1
    name : str, default="X"
        The argument's name, used in every message.
    allow_nan : bool, default=False
    min_samples_reason : str, optional
        Why ``min_samples`` are needed and what else to change, for the
        message; defaults to GaussianMixture's (``n_components``).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64 or float32

    Raises
    ------
    ValueError
        With a message naming ``name`` and what to do: a 0-D, 1-D or 3-D
        array, no samples or no features, complex numbers, strings, NaN/inf,
        or fewer than ``min_samples`` samples.
    TypeError
        np.matrix, sparse matrices, and objects that are not numbers.
    """
    X = _precheck_samples(X, name, min_samples)
    try:
        if _is_plain_float_matrix(X, estimator):
            # What validate_data would do to a float ndarray (return it as it
            # is, record or check n_features_in_), at a tenth of its cost:
            # select_model validates once per cell of its grid.
            _check_n_features(estimator, X, reset)
        elif estimator is None:
            X = check_array(X, dtype=[np.float64, np.float32], ensure_all_finite=False,
                            ensure_min_samples=1, input_name=name)
        else:
            X = validate_data(estimator, X, reset=reset, dtype=[np.float64, np.float32],
                              ensure_all_finite=False, ensure_min_samples=1)
    except (ValueError, TypeError) as error:
        raise _conversion_error(error, name) from error
    if not allow_nan and not np.isfinite(X).all():
        raise ValueError(_nonfinite_message(X, name))
    if X.shape[0] < min_samples:
        reason = min_samples_reason or (
            f"n_samples must be >= n_components={min_samples}; pass more samples or lower "
            f"n_components")
        raise ValueError(
            f"Input {name} has {X.shape[0]} sample(s) but at least {min_samples} are "
            f"needed ({reason})."
        )
    return X


# ------------------------------------------------------------------ parameters
class InvalidParameterError(ValueError, TypeError):
    """A parameter of the wrong type or out of range (catchable as either error)."""


def _shown(value):
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def check_integer(value, name, *, minimum=None, maximum=None, allow_none=False,
                  allow_bool=False):
    """Validate an integer parameter and return it as a Python int.

    Parameters
    ----------
    value : object
    name : str
        The parameter's name, used in the message.
    minimum, maximum : int, optional
        Inclusive bounds.
    allow_none : bool, default=False
        Accept (and return) None.
    allow_bool : bool, default=False
        Accept True/False (e.g. ``verbose``); otherwise bools are rejected:
        ``n_components=True`` is a mistake, not the number 1.

    Raises
    ------
    InvalidParameterError
    """
    if value is None and allow_none:
        return None
    bounds = _bounds_text(minimum, maximum)
    if _is_bool(value):
        if allow_bool:
            return int(value)
        raise InvalidParameterError(
            f"{name} must be an integer{bounds}, not a bool; got {value!r}. Pass a number, "
            f"e.g. {name}={max(minimum or 1, 1)}.")
    if not isinstance(value, numbers.Integral):
        hint = ""
        if isinstance(value, numbers.Real) and np.isfinite(value) and float(value).is_integer():
            hint = f" Pass {name}={int(value)}."
        raise InvalidParameterError(
            f"{name} must be an integer{bounds}{' or None' if allow_none else ''}; got "
            f"{_shown(value)}.{hint}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise InvalidParameterError(f"{name} must be an integer{bounds}; got {value}.")
    return value


def _bounds_text(minimum, maximum, inclusive=True):
    low = ">=" if inclusive else ">"
    if minimum is not None and maximum is not None:
        return f" in [{minimum}, {maximum}]"
    if minimum is not None:
        return f" {low} {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def check_real(value, name, *, minimum=None, inclusive=True, allow_inf=False, hint=""):
    """Validate a real-valued parameter (never NaN) and return it as a float.

    Parameters
    ----------
    value : object
    name : str
    minimum : float, optional
        Lower bound, included when ``inclusive``: ``minimum=0`` is
        non-negative, ``minimum=0, inclusive=False`` positive.
    allow_inf : bool, default=False
    hint : str, optional
        Appended to the message (e.g. a typical value).

    Raises
    ------
    InvalidParameterError
    """
    bounds = _bounds_text(minimum, None, inclusive)
    hint = f" {hint}" if hint else ""
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(
            f"{name} must be a real number{bounds}; got {_shown(value)}.{hint}")
    number = float(value)
    if np.isnan(number) or (np.isinf(number) and not allow_inf):
        raise InvalidParameterError(
            f"{name} must be a finite number{bounds}; got {number}.{hint}")
    if minimum is not None and (number < minimum or (not inclusive and number == minimum)):
        raise InvalidParameterError(f"{name} must be{bounds}; got {number}.{hint}")
    return number


def check_learning_decay(value, name="learning_decay"):
    """Validate the exponent ``kappa`` of an online step size ``(t + t0) ** -kappa``.

    Stochastic approximation converges for ``0.5 < kappa <= 1`` (Robbins-Monro:
    the steps sum to infinity, their squares do not).

    Raises
    ------
    InvalidParameterError
    """
    hint = "A typical value is 0.6; larger values forget the early batches faster."
    number = check_real(value, name, minimum=0.5, inclusive=False, hint=hint)
    if number > 1.0:
        raise InvalidParameterError(f"{name} must be in (0.5, 1]; got {number}. {hint}")
    return number


def check_bool(value, name):
    """Validate a True/False parameter and return it as a Python bool."""
    if not _is_bool(value):
        raise InvalidParameterError(f"{name} must be True or False; got {_shown(value)}.")
    return bool(value)


def check_choice(value, name, choices, *, types=()):
    """Validate a parameter that takes one of a few values (or an instance of ``types``).

    Parameters
    ----------
    value : object
    name : str
    choices : sequence
        The accepted values (strings, None, ...), compared with ``==`` only
        against values of the same type, so an unknown string such as
        ``prior="bogus"`` is rejected instead of read as a default.
    types : tuple of type, optional
        Also accepted: instances of these (e.g. a prior object).

    Returns
    -------
    value

    Raises
    ------
    InvalidParameterError
        Naming the accepted values and, for a misspelt string, the closest one.
    """
    if types and isinstance(value, types):
        return value
    for choice in choices:
        if value is choice or (type(value) is type(choice) and value == choice):
            return value
    accepted = ", ".join(repr(choice) for choice in choices)
    if types:
        accepted += " or an instance of " + " / ".join(t.__name__ for t in types)
    suggestion = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(
            value, [c for c in choices if isinstance(c, str)], n=1, cutoff=0.6)
        if not close:
            close = [c for c in choices if isinstance(c, str) and c.lower() == value.lower()]
        if close:
            suggestion = f" Did you mean {close[0]!r}?"
    raise InvalidParameterError(
        f"{name} must be one of {accepted}; got {_shown(value)}.{suggestion}")


def check_random_state(value, name="random_state", *, build=True):
    """A numpy RandomState from None, an int or a RandomState (scikit-learn's rule).

    With ``build=False`` only the argument is checked and returned (building
    a RandomState from a seed costs about 0.1 ms).
    """
    if _is_bool(value):
        raise InvalidParameterError(
            f"{name} must be None, an integer seed or a numpy RandomState; got {value!r}.")
    if not build and (value is None or isinstance(value, np.random.RandomState) or (
            isinstance(value, numbers.Integral) and 0 <= value < 2**32)):
        return value
    try:
        return _sklearn_check_random_state(value)
    except ValueError as error:
        raise InvalidParameterError(
            f"{name} must be None, an integer seed in [0, 2**32 - 1] or a numpy "
            f"RandomState; got {_shown(value)}."
        ) from error


def check_prior(prior, n_features, name="prior"):
    """Validate a conjugate-prior argument: None, "default" or a NormalInverseWishart.

    Parameters
    ----------
    prior : object
    n_features : int or None
        The data's dimension, checked against the prior's when known.

    Returns
    -------
    prior
    """
    from .priors import NormalInverseWishart

    check_choice(prior, name, (None, "default"), types=(NormalInverseWishart,))
    if isinstance(prior, NormalInverseWishart) and n_features is not None:
        dimension = np.shape(prior.loc)[0] if np.ndim(prior.loc) else 1
        if dimension != n_features:
            raise InvalidParameterError(
                f"{name} has dimension {dimension} but X has {n_features} features; build "
                f"the prior for {n_features} features (e.g. emkit.priors.default_prior(X, "
                f"n_components)).")
    return prior


def _relative_asymmetry(matrices):
    scale = np.abs(matrices).max(axis=(-2, -1))
    scale = np.where(scale > 0, scale, 1.0)
    return np.abs(matrices - np.swapaxes(matrices, -1, -2)).max(axis=(-2, -1)) / scale


def check_covariance_parameter(value, shape, name, *, covariance_type, layout,
                               kind="covariance"):
    """Validate user covariances or precisions and return them as a float64 copy.

    Every covariance type's rule: the shape, finite entries, strictly positive
    variances (``diag``/``spherical``), and symmetric positive-definite,
    non-singular matrices (``full``/``tied``, and every (K, D, D) stack). The
    singularity test is scale-free: it looks at the matrix rescaled to unit
    diagonal (a correlation matrix), so data measured in any unit passes.

    Parameters
    ----------
    value : array-like
    shape : tuple of int
        Expected shape: (K, D, D), (D, D) (tied), (K, D) (diag) or (K,) (spherical).
    name : str
        The argument's name (e.g. "precisions_init").
    covariance_type : str
        For the messages, which also keep scikit-learn's wording ("The
        parameter 'full precision' should have the shape of ...").
    layout : {"full", "tied", "diag", "spherical"}
        What the matrices may be. A (K, D, D) stack with layout "diag" must
        be diagonal, with "spherical" a multiple of the identity (mclust's
        diagonal and isotropic structures).
    kind : {"covariance", "precision"}

    Raises
    ------
    ValueError
    """
    label = f"'{covariance_type} {kind}'"
    try:
        array = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be an array of numbers ({kind} parameters); "
                         f"{error}.") from error
    shape = tuple(shape)
    if array.shape != shape:
        raise ValueError(
            f"{name}: The parameter {label} should have the shape of {shape}, but got "
            f"{array.shape}. Pass one {kind} per component in the layout of covariance_type.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: {label} must be finite; it contains NaN or infinity.")
    if array.ndim <= 2 and not (layout == "tied" and array.ndim == 2):
        if (array <= 0).any():
            raise ValueError(
                f"{name}: {label} should be positive; got a minimum of {array.min():.6g}. "
                f"Variances and precisions must be > 0.")
        return array
    matrices = array.reshape((-1,) + array.shape[-2:])
    D = matrices.shape[-1]
    bad = np.flatnonzero(_relative_asymmetry(matrices) > 1e-8)
    if bad.size:
        raise ValueError(
            f"{name}: {label} should be symmetric, positive-definite; matrix {bad[0]} is "
            f"not symmetric. Pass (M + M.T) / 2 if the asymmetry is round-off.")
    diagonals = np.diagonal(matrices, axis1=1, axis2=2)
    bad = np.flatnonzero((diagonals <= 0).any(axis=1))
    if bad.size == 0:
        scale = 1.0 / np.sqrt(diagonals)
        correlations = matrices * scale[:, :, None] * scale[:, None, :]
        smallest = np.linalg.eigvalsh(correlations)[:, 0]
        # A matrix whose unit-diagonal form is numerically singular has no
        # usable inverse at any scale.
        bad = np.flatnonzero(smallest <= 10 * D * np.finfo(np.float64).eps)
    if bad.size:
        raise ValueError(
            f"{name}: {label} should be symmetric, positive-definite; matrix {bad[0]} is "
            f"not (it is singular or has a non-positive eigenvalue). Every {kind} must be "
            f"invertible: add a small ridge to the diagonal or fix the matrix.")
    off_diagonal = matrices * (1.0 - np.eye(D))
    scale = np.abs(diagonals).max(axis=1)
    if layout in ("diag", "spherical") and array.ndim == 3:
        bad = np.flatnonzero(np.abs(off_diagonal).max(axis=(1, 2)) > 1e-10 * scale)
        if bad.size:
            raise ValueError(
                f"{name}: covariance_type={covariance_type!r} is a diagonal structure, so "
                f"every {kind} must be a diagonal matrix; matrix {bad[0]} has off-diagonal "
                f"entries.")
    if layout == "spherical" and array.ndim == 3:
        spread = diagonals.max(axis=1) - diagonals.min(axis=1)
        bad = np.flatnonzero(spread > 1e-10 * scale)
        if bad.size:
            raise ValueError(
                f"{name}: covariance_type={covariance_type!r} is an isotropic structure, so every "
                f"{kind} must be a multiple of the identity; matrix {bad[0]} is not.")
    return array


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


def check_partial_labels(labels, n_samples, n_components, name="labels"):
    """Validate partial labels for semi-supervised EM.

    Parameters
    ----------
    labels : array-like of int of shape (n_samples,) or None
        The component index (0 .. n_components - 1) of a labelled sample, -1
        for an unlabelled one.
    n_samples, n_components : int

    Returns
    -------
    labels : ndarray of intp of shape (n_samples,), or None when ``labels``
        is None or labels nothing.
    """
    if labels is None:
        return None
    reject_complex(labels, name, "integers")
    try:
        array = np.asarray(labels)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a 1-D array of integers; {error}.") from error
    if array.ndim != 1 or array.shape[0] != n_samples:
        raise ValueError(f"{name} must have shape ({n_samples},), one entry per sample "
                         f"(-1 for unlabelled); got shape {array.shape}.")
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise ValueError(f"{name} contains NaN or infinity; mark unlabelled samples "
                             f"with -1, not NaN.")
        if (array != np.round(array)).any():
            raise ValueError(f"{name} must hold integer component indices; got "
                             f"non-integer values such as {array[array != np.round(array)][0]}.")
    elif array.dtype.kind not in "iub":
        raise ValueError(f"{name} must hold integer component indices (-1 for unlabelled); "
                         f"got dtype {array.dtype}.")
    array = array.astype(np.intp)
    bad = (array < -1) | (array >= n_components)
    if bad.any():
        raise ValueError(f"{name} must be -1 (unlabelled) or a component index in "
                         f"0..{n_components - 1}; got {array[bad][0]}. Map your classes to "
                         f"component indices first.")
    return array if (array >= 0).any() else None


def check_parameter_array(value, shape, name, *, positive=False, simplex=False, label=None):
    """Validate a user-supplied parameter (e.g. ``means_init``) and copy it as float64.

    Parameters
    ----------
    value : array-like
    shape : tuple of int
    name : str
        The argument's name, first in every message.
    positive : bool, default=False
        Every entry must be > 0.
    simplex : bool, default=False
        Entries in [0, 1] summing to 1 (mixture weights).
    label : str, optional
        scikit-learn's name for the parameter (e.g. "weights" for
        ``weights_init``), so its wording "The parameter 'weights' should
        have the shape of ..." is kept. Defaults to ``name``.
    """
    label = label or name
    try:
        array = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be an array of numbers; {error}.") from error
    if array.shape != tuple(shape):
        raise ValueError(f"{name}: The parameter '{label}' should have the shape of "
                         f"{tuple(shape)}, but got {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite; it contains NaN or infinity.")
    if positive and (array <= 0).any():
        raise ValueError(f"{name} must be strictly positive; got a minimum of "
                         f"{array.min():.6g}.")
    if simplex:
        if (array < 0).any() or (array > 1).any():
            raise ValueError(f"{name}: The parameter '{label}' should be in the range "
                             f"[0, 1]; got {array}.")
        if not np.isclose(array.sum(), 1.0, atol=1e-6):
            raise ValueError(
                f"{name}: The parameter '{label}' should be normalized, but got "
                f"sum({label}) = {array.sum():.5f}. Divide it by its sum first."
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

    spreads = scales.local_scale
    # Column extremes, not |X|: no temporary the size of the data.
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column
        magnitudes = (np.maximum(np.nanmax(X, axis=0), -np.nanmin(X, axis=0)).astype(np.float64)
                      if X.shape[0] else np.zeros(X.shape[1]))
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


# ---------------------------------------------------------------------------
# Hyper-parameters, sequence lengths and model parameters (HMMs; general use)
# ---------------------------------------------------------------------------
__all__ += ["check_lengths_bounded", "check_probability_rows", "check_covariances"]


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

    full (K, D, D), tied (D, D), diag (K, D), spherical (K,): the rules of
    :func:`check_covariance_parameter` (finite, variances strictly positive,
    matrices symmetric and positive definite). Nothing is repaired: a negative
    variance is an error, not a tiny one.

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
    array = check_covariance_parameter(value, shape, name, covariance_type=covariance_type,
                                       layout=covariance_type)
    if covariance_type in ("diag", "spherical"):
        return array
    return 0.5 * (array + np.swapaxes(array, -1, -2))


# ---------------------------------------------------------------------------
# Discrete samples (counts, binary values, category levels)
# ---------------------------------------------------------------------------
__all__ += ["check_discrete_samples", "check_levels_below", "MISSING_OPTIONS"]

# How a model treats NaN entries: "error" rejects them by name; "marginalize"
# treats them as missing at random and integrates them out exactly.
MISSING_OPTIONS = ("error", "marginalize")


def check_discrete_samples(X, *, kind, name="X", n_features=None, maximum=None,
                           allow_nan=False, nan_hint="", integer_hint="", owner="the model"):
    """Validate a 2-D array of non-negative integer observations.

    One boundary for every discrete family (Poisson counts, binary values,
    category levels), so they reject the same mistakes with the same words.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_samples,)
        One feature may be passed as a 1-D array.
    kind : str
        What the entries are, plural ("counts", "binary values"), used in
        every message.
    name : str
        The argument's name, first in every message.
    n_features : int or None
        The number of features the model was fitted with, if any.
    maximum : float or None
        Largest allowed value (1 for binary data).
    allow_nan : bool
        Keep NaN entries (missing values) instead of rejecting them.
    nan_hint, integer_hint : str
        The fix to name for a NaN or for a non-integer value.
    owner : str
        Who expects ``n_features`` (the estimator's class name).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
        A new array when ``X`` was converted; NaN kept where allowed.

    Raises
    ------
    ValueError
        For NaN (unless allowed), infinity, negative, non-integer or too
        large values, a wrong shape or number of features (an
        :class:`InvalidParameterError`, also a TypeError, for entries that
        are not numbers).
    """
    if sparse.issparse(X):
        raise ValueError(f"{name} is a sparse matrix; sparse input is not supported here. "
                         f"Pass a dense array ({name}.toarray()).")
    reject_complex(X, name, f"non-negative integer {kind}")
    try:
        array = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidParameterError(f"{name} must contain non-negative integer {kind}; got "
                                    f"entries that are not numbers ({error}).") from None
    one_dimensional = array.ndim == 1
    if one_dimensional:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D of shape (n_samples, n_features); got shape "
                         f"{array.shape}.")
    for axis, what in ((0, "sample"), (1, "feature")):
        if array.shape[axis] == 0:  # scikit-learn's wording, which its checks expect
            raise ValueError(f"Found array with 0 {what}(s) (shape={array.shape}) while a "
                             f"minimum of 1 is required: {name} is empty.")
    nan = np.isnan(array)
    if nan.any() and not allow_nan:
        raise ValueError(f"{name} contains NaN. {nan_hint}".rstrip())
    values = array[~nan] if nan.any() else array
    if np.isinf(values).any():
        raise ValueError(f"{name} contains infinity; {kind} must be finite.")
    if values.size and values.min() < 0:
        raise ValueError(f"Negative values in data passed to {name}: {name} contains negative "
                         f"{kind} (minimum {values.min()}); {kind} are >= 0.")
    if not np.all(values == np.round(values)):
        bad = values[values != np.round(values)][:3].tolist()
        raise ValueError(f"{name} must contain integer {kind}; got non-integer values such as "
                         f"{bad}. {integer_hint}".rstrip())
    if maximum is not None and values.size and values.max() > maximum:
        raise ValueError(f"{name} must contain {kind} between 0 and {maximum:g}; got "
                         f"{values.max():g}. {integer_hint}".rstrip())
    if n_features is not None and array.shape[1] != n_features:
        hint = (f" Reshape your data: {name}.reshape(1, -1) for one sample, "
                f"{name}.reshape(-1, 1) for one feature." if one_dimensional else "")
        raise ValueError(f"{name} has {array.shape[1]} features, but {owner} is expecting "
                         f"{n_features} features as input.{hint}")
    return array


def check_levels_below(values, n_levels, name="X", *, kind, advice):
    """Reject discrete observations at or above their number of levels.

    The range check every categorical family shares, so a symbol outside an
    HMM's alphabet and a level outside a mixture feature's are reported in
    the same words.

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_features)
        Validated non-negative integer observations (NaN entries, missing
        values, are never too large).
    n_levels : int, ndarray of int of shape (n_features,), or None
        The number of levels: one int for a single alphabet, else one per
        feature (the message then names the feature). None: no bound.
    name : str
        The argument's name, first in the message.
    kind : str
        What one entry is, singular ("symbol", "level").
    advice : str
        The fix, ending the message.

    Raises
    ------
    ValueError
        For the first feature with an entry at or above its number of levels.

    Examples
    --------
    >>> check_levels_below(np.array([[0., 1.], [1., 2.]]), [2, 2], kind="level",
    ...                    advice="pass n_levels.")
    Traceback (most recent call last):
    ...
    ValueError: X has level 2 in feature 1, which has only 2 levels (0..1); pass n_levels.
    """
    if n_levels is None:
        return
    per_feature = np.ndim(n_levels) > 0
    limits = np.asarray(n_levels) if per_feature else np.full(values.shape[1], n_levels)
    with np.errstate(invalid="ignore"):  # NaN compares False: missing values pass
        too_large = values >= limits[None, :]
    if not too_large.any():
        return
    feature = int(np.flatnonzero(too_large.any(axis=0))[0])
    largest, count = int(np.nanmax(values[:, feature])), int(limits[feature])
    where = f" in feature {feature}, which has" if per_feature else ", but the model has"
    raise ValueError(f"{name} has {kind} {largest}{where} only {count} {kind}s "
                     f"(0..{count - 1}); {advice}")


# ---------------------------------------------------------------------------
# Responses of conditional models (regression mixtures, mixtures of experts)
# ---------------------------------------------------------------------------
__all__ += ["check_target"]


def check_target(y, n_samples, *, name="y", owner="This estimator"):
    """Validate a real response: one finite value per sample.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, 1)
        A column vector is accepted with scikit-learn's DataConversionWarning.
    n_samples : int
        The number of rows of ``X``.
    name : str
        The argument's name in messages.
    owner : str
        Who needs it, for the message when ``y`` is None.

    Returns
    -------
    y : ndarray of shape (n_samples,), float64
        A new array (the caller's is never modified).

    Raises
    ------
    ValueError
        ``y`` None (scikit-learn's wording "requires y to be passed"), not
        numbers, complex, not one column, of the wrong length, or NaN/inf.
    """
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None; pass "
                         f"the response as an array of shape ({n_samples},).")
    reject_complex(y, name)
    kind = getattr(getattr(y, "dtype", None), "kind", None)
    if kind in ("U", "S"):
        raise ValueError(f"{name} must contain real numbers; it holds strings. Convert it with "
                         f"{name}.astype(float) if they are numbers.")
    try:
        array = np.array(y, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must contain only real numbers ({error}); convert every "
                         f"entry to a number first.") from None
    if array.ndim == 2 and array.shape[1] == 1:
        from sklearn.exceptions import DataConversionWarning

        warnings.warn("A column-vector y was passed when a 1d array was expected. Please "
                      "change the shape of y to (n_samples,), for example using ravel().",
                      DataConversionWarning, stacklevel=3)
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} should be a 1d array of shape ({n_samples},); got shape "
                         f"{array.shape}. Fit one model per response column.")
    if array.shape[0] != n_samples:
        raise ValueError(f"{name} has {array.shape[0]} values but X has {n_samples} samples; "
                         f"pass one response per row of X.")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        kind = "NaN" if np.isnan(array[bad]).any() else "infinity"
        shown = ", ".join(str(i) for i in bad[:5]) + (", ..." if bad.size > 5 else "")
        raise ValueError(f"Input {name} contains {kind} in {bad.size} value(s) (rows {shown}); "
                         f"drop or impute those samples: responses must be finite.")
    return array
