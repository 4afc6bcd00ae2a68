"""ONNX export of a fitted :class:`emkit.GaussianMixture`'s scoring.

The graph is written with ``onnx.helper`` rather than through skl2onnx's
converter for :class:`sklearn.mixture.GaussianMixture`: that converter gives
the same three outputs but evaluates the diagonal and spherical quadratic
forms expanded (``x^2 p - 2 x mu p + mu^2 p``) about the origin, which in
float32 loses its digits once the data sit far from zero (measured with
skl2onnx 1.20, "diag", 3 components of 4 features: probabilities off by
3e-3 with the features offset by 100, by 0.26 offset by 1000). Here every sample is first centred on the mixture's mean, as emkit's
own E-step does, and the differences to the means are taken before they are
scaled, so float32 graphs agree with emkit to float32 rounding. Only the
``onnx`` package is needed to export; any ONNX runtime runs the result.
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np

__all__ = ["export_onnx"]

# Opset 17 / IR version 8 (onnx 1.12, onnxruntime 1.13 and later): every
# operator used here exists there, and older runtimes can still load the file.
_OPSET = 17
_IR_VERSION = 8
INPUT_NAME = "X"
OUTPUT_NAMES = ("label", "probabilities", "score_samples")
_INSTALL_HINT = "pip install emkit[onnx]"


def _import_onnx():
    try:
        import onnx
    except ImportError as error:
        raise ImportError(
            f"emkit.export_onnx needs the onnx package, which is not installed; "
            f"install it with `{_INSTALL_HINT}` (or `pip install onnx`).") from error
    return onnx


def _check_model(model):
    """The fitted emkit GaussianMixture to export, or a clear error."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from .estimators.gaussian_mixture import GaussianMixture

    # Exactly the class: a subclass may score differently from its parameters.
    if type(model) is not GaussianMixture:
        raise TypeError(
            f"export_onnx exports emkit.GaussianMixture only; got "
            f"{type(model).__module__}.{type(model).__qualname__}. (scikit-learn's own "
            f"estimators convert with skl2onnx.)")
    try:
        check_is_fitted(model, ("weights_", "means_", "precisions_cholesky_"))
    except NotFittedError:
        raise NotFittedError(
            "This GaussianMixture is not fitted yet; call fit (or build it with "
            "GaussianMixture.from_params) before export_onnx.") from None
    return model


def _check_dtype(dtype):
    from ._validation import InvalidParameterError

    try:
        # np.dtype(None) is float64; None here is more likely a slip than a choice.
        resolved = None if dtype is None else np.dtype(dtype)
    except TypeError:
        resolved = None
    # Not `resolved in (...)`: dtype == None is True for float64.
    if resolved is None or resolved.name not in ("float32", "float64"):
        raise InvalidParameterError(
            f"dtype must be np.float32 or np.float64 (the graph's input and output "
            f"type); got {dtype!r}.")
    return resolved


def scoring_layout(model):
    """The precision layout the graph evaluates, and its factors in float64.

    scikit-learn's four names are stored in their own layouts. mclust's
    structures store (K, D, D) factors; the isotropic ones ("EII", "VII",
    "E", "V") reduce to one scale per component, the diagonal ones to one
    per feature, and "EEE" (one common covariance) to a single tied factor.

    Parameters
    ----------
    model : fitted emkit.GaussianMixture

    Returns
    -------
    layout : {"full", "tied", "diag", "spherical"}
    factors : ndarray
        ``precisions_cholesky_`` in that layout: (K, D, D), (D, D), (K, D) or (K,).
    """
    from .components._structured import (
        is_structure,
        layout_from_full_precision_cholesky,
        structure_layout,
        structure_name,
    )

    factors = np.asarray(model.precisions_cholesky_, dtype=np.float64)
    if not is_structure(model.covariance_type):
        return model.covariance_type, factors
    structure = structure_name(model.covariance_type, model.means_.shape[1])
    layout = structure_layout(structure)
    if layout != "full":
        reduced = layout_from_full_precision_cholesky(factors, layout)
        # Only a shortcut: the full factors are exact for every structure, so
        # fall back to them if the stored ones do not have the expected form.
        if np.array_equal(factors, _expand(reduced, layout, factors.shape[1])):
            return layout, reduced
        return "full", factors
    if structure == "EEE" and np.array_equal(factors, np.broadcast_to(factors[0], factors.shape)):
        return "tied", factors[0]
    return "full", factors


def _expand(factors, layout, n_features):
    if layout == "diag":
        return factors[:, :, None] * np.eye(n_features)
    return factors[:, None, None] * np.eye(n_features)


def _log_det(factors, layout, n_components, n_features):
    """``log |det U_k|`` of every component's precision factor (K,).

    slogdet rather than the diagonal's logs: the full factors of mclust's
    structures need not be triangular, only satisfy ``U U^T = precision``.
    """
    if layout == "full":
        return np.linalg.slogdet(factors)[1]
    if layout == "tied":
        return np.full(n_components, np.linalg.slogdet(factors)[1])
    if layout == "diag":
        return np.log(factors).sum(axis=1)
    return n_features * np.log(factors)


def _graph(model, dtype):
    """The scoring graph's nodes, initializers and value infos."""
    from onnx import TensorProto, helper, numpy_helper

    weights = np.asarray(model.weights_, dtype=np.float64)
    means = np.asarray(model.means_, dtype=np.float64)
    K, D = means.shape
    layout, factors = scoring_layout(model)

    # Centre on the mixture's mean (as emkit's E-step does), rounded to the
    # graph's dtype first so that x - c and mu - c are taken about one point.
    center = (weights @ means).astype(dtype).astype(np.float64)
    centred_means = means - center
    with np.errstate(divide="ignore"):
        log_weights = np.log(weights)
    # Everything per component that does not depend on x, folded in float64.
    offset = log_weights + _log_det(factors, layout, K, D) - 0.5 * D * np.log(2.0 * np.pi)

    initializers = []

    def constant(name, value, kind=None):
        array = np.asarray(value, dtype=dtype if kind is None else kind)
        initializers.append(numpy_helper.from_array(array, name))
        return name

    nodes = [helper.make_node("Sub", [INPUT_NAME, constant("center", center)], ["Xc"])]
    axis_last = constant("axis_last", [2], np.int64)
    if layout in ("full", "tied"):
        # One matrix product for every component: columns k*D..k*D+D-1 of W
        # are component k's factor, so (Xc W)[n, k] reshapes to y_nk = (x_n - c) U_k.
        if layout == "full":
            W = np.transpose(factors, (1, 0, 2)).reshape(D, K * D)
            shifts = np.einsum("ki,kij->kj", centred_means, factors)
            shape = [-1, K, D]
        else:
            W = factors
            shifts = centred_means @ factors
            shape = [-1, 1, D]
        nodes += [
            helper.make_node("MatMul", ["Xc", constant("factors", W)], ["XcU"]),
            helper.make_node("Reshape", ["XcU", constant("split_shape", shape, np.int64)],
                             ["XcU_k"]),
            # (N, K, D) - (K, D): (x_n - mu_k) U_k for every component.
            helper.make_node("Sub", ["XcU_k", constant("shifts", shifts)], ["Y"]),
            helper.make_node("Mul", ["Y", "Y"], ["Y2"]),
            helper.make_node("ReduceSum", ["Y2", axis_last], ["mahalanobis"], keepdims=0),
        ]
    else:
        # Differences first, scaled after: (x_n - mu_k) * u_k, shape (N, K, D).
        nodes += [
            helper.make_node("Unsqueeze", ["Xc", constant("axis_middle", [1], np.int64)],
                             ["Xc_1"]),
            helper.make_node("Sub", ["Xc_1", constant("centred_means", centred_means)],
                             ["diff"]),
        ]
        if layout == "diag":
            nodes += [
                helper.make_node("Mul", ["diff", constant("factors", factors)], ["Y"]),
                helper.make_node("Mul", ["Y", "Y"], ["Y2"]),
                helper.make_node("ReduceSum", ["Y2", axis_last], ["mahalanobis"], keepdims=0),
            ]
        else:
            nodes += [
                helper.make_node("Mul", ["diff", "diff"], ["diff2"]),
                helper.make_node("ReduceSum", ["diff2", axis_last], ["distance2"], keepdims=0),
                helper.make_node("Mul", ["distance2", constant("precisions", factors**2)],
                                 ["mahalanobis"]),
            ]
    axis_1 = constant("axis_1", [1], np.int64)
    nodes += [
        # joint[n, k] = log pi_k + log N(x_n | mu_k, Sigma_k), shape (N, K).
        helper.make_node("Mul", ["mahalanobis", constant("minus_half", -0.5)], ["half"]),
        helper.make_node("Add", ["half", constant("offset", offset)], ["joint"]),
        # logsumexp about the row's maximum, so no term overflows or all underflow.
        helper.make_node("ReduceMax", ["joint"], ["row_max"], axes=[1], keepdims=1),
        helper.make_node("Sub", ["joint", "row_max"], ["shifted"]),
        helper.make_node("Exp", ["shifted"], ["expd"]),
        helper.make_node("ReduceSum", ["expd", axis_1], ["row_sum"], keepdims=1),
        helper.make_node("Div", ["expd", "row_sum"], [OUTPUT_NAMES[1]]),
        helper.make_node("Log", ["row_sum"], ["log_row_sum"]),
        helper.make_node("Add", ["log_row_sum", "row_max"], ["log_norm"]),
        helper.make_node("Squeeze", ["log_norm", axis_1], [OUTPUT_NAMES[2]]),
        # A row whose log-likelihood is not finite (NaN or infinite input)
        # gets label -1 rather than whatever ArgMax makes of NaN.
        helper.make_node("ArgMax", ["joint"], ["argmax"], axis=1, keepdims=0),
        helper.make_node("IsNaN", [OUTPUT_NAMES[2]], ["score_nan"]),
        helper.make_node("IsInf", [OUTPUT_NAMES[2]], ["score_inf"]),
        helper.make_node("Or", ["score_nan", "score_inf"], ["unscorable"]),
        helper.make_node("Where", ["unscorable", constant("no_label", -1, np.int64), "argmax"],
                         [OUTPUT_NAMES[0]]),
    ]
    elem = TensorProto.FLOAT if dtype == np.float32 else TensorProto.DOUBLE
    names = getattr(model, "feature_names_in_", None)
    described = "" if names is None else "; columns " + ", ".join(map(str, names))
    inputs = [helper.make_tensor_value_info(INPUT_NAME, elem, ["N", D],
                                            doc_string=f"samples, shape (N, {D}){described}")]
    outputs = [
        helper.make_tensor_value_info(
            OUTPUT_NAMES[0], TensorProto.INT64, ["N"],
            doc_string="predict: most probable component, -1 where the "
                       "log-likelihood is not finite"),
        helper.make_tensor_value_info(OUTPUT_NAMES[1], elem, ["N", K],
                                      doc_string="predict_proba: p(k | x)"),
        helper.make_tensor_value_info(OUTPUT_NAMES[2], elem, ["N"],
                                      doc_string="score_samples: log p(x)"),
    ]
    return helper.make_graph(nodes, "emkit_GaussianMixture", inputs, outputs, initializers,
                             doc_string=f"GaussianMixture scoring, {K} components, "
                                        f"covariance_type={model.covariance_type!r}")


def export_onnx(model, path=None, *, dtype=np.float32):
    """An ONNX graph of a fitted GaussianMixture's ``predict``, ``predict_proba``
    and ``score_samples``.

    Every covariance type is supported: scikit-learn's four, and mclust's 14
    structures (and "E"/"V"), which are evaluated as isotropic, diagonal, tied
    ("EEE") or full as their structure allows. The graph centres the samples
    on the mixture's mean before the quadratic forms, as emkit does, so a
    float32 graph agrees with emkit to float32 rounding and a float64 one to
    float64 rounding.

    Parameters
    ----------
    model : emkit.GaussianMixture
        Fitted (or built with :meth:`GaussianMixture.from_params`).
    path : str or os.PathLike, optional
        Where to write the model (``.onnx``); nothing is written when None.
    dtype : {np.float32, np.float64}, default=np.float32
        Type of the graph's input ``X`` and its float outputs. The runtime
        refuses input of the other type.

    Returns
    -------
    onnx.ModelProto
        Input ``"X"``: float tensor of shape (N, n_features); a different
        number of columns is refused by the runtime. Outputs, in order:

        - ``"label"``: int64 of shape (N,), as ``model.predict``; -1 for a row
          whose log-likelihood is not finite (NaN or infinite entries, which
          emkit's own methods reject or, with ``missing="marginalize"``,
          marginalise; the graph does neither).
        - ``"probabilities"``: shape (N, n_components), as ``model.predict_proba``.
        - ``"score_samples"``: shape (N,), as ``model.score_samples``.

        Column order follows the model's features; a model fitted on a
        DataFrame keeps its ``feature_names_in_`` in the input's description
        and in the metadata entry ``"feature_names_in"`` (a JSON list).

    Raises
    ------
    ImportError
        If the ``onnx`` package is missing (``pip install emkit[onnx]``).
    TypeError
        If ``model`` is not an :class:`emkit.GaussianMixture`.
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.

    Warns
    -----
    UserWarning
        For a model with ``missing="marginalize"``: the graph does not
        marginalise NaN entries (their rows get NaN and label -1).

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime
    >>> from emkit import GaussianMixture
    >>> from emkit.datasets import load_old_faithful
    >>> from emkit.onnx_export import export_onnx
    >>> X = load_old_faithful().data
    >>> model = GaussianMixture(2, n_init=1, random_state=0).fit(X)
    >>> onx = export_onnx(model)
    >>> session = onnxruntime.InferenceSession(onx.SerializeToString(),
    ...                                        providers=["CPUExecutionProvider"])
    >>> label, proba, score = session.run(None, {"X": X.astype(np.float32)})
    >>> label.shape, proba.shape, score.shape
    ((272,), (272, 2), (272,))
    >>> bool((label == model.predict(X)).all())
    True
    >>> bool(np.allclose(proba, model.predict_proba(X), atol=1e-5))
    True
    >>> bool(np.allclose(score, model.score_samples(X), rtol=1e-5))
    True
    """
    onnx = _import_onnx()
    from onnx import helper

    from . import __version__

    model = _check_model(model)
    dtype = _check_dtype(dtype)
    if path is not None and not isinstance(path, (str, os.PathLike)):
        from ._validation import InvalidParameterError

        raise InvalidParameterError(
            f"path must be a file name (str or os.PathLike) or None; got {path!r}.")
    if getattr(model, "missing", "error") == "marginalize":
        warnings.warn(
            "This GaussianMixture marginalises missing values (missing='marginalize'); "
            "the exported graph does not: rows with NaN get NaN probabilities and "
            "log-likelihood and label -1. Impute them first (model.impute) if needed.",
            UserWarning, stacklevel=2)

    onnx_model = helper.make_model(
        _graph(model, dtype), producer_name="emkit", producer_version=__version__,
        opset_imports=[helper.make_opsetid("", _OPSET)], ir_version=_IR_VERSION,
        doc_string="emkit.GaussianMixture: outputs label (predict), probabilities "
                   "(predict_proba), score_samples (log-density)")
    metadata = {
        "emkit_estimator": "GaussianMixture",
        "covariance_type": str(model.covariance_type),
        "n_components": str(model.means_.shape[0]),
        "n_features": str(model.means_.shape[1]),
    }
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        metadata["feature_names_in"] = json.dumps([str(name) for name in names])
    helper.set_model_props(onnx_model, metadata)
    onnx.checker.check_model(onnx_model, full_check=True)
    if path is not None:
        onnx.save_model(onnx_model, os.fspath(path))
    return onnx_model
