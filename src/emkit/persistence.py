"""Saving and loading fitted models in a safe, versioned format.

A ``.emkit`` file is a zip archive written by :func:`numpy.savez`: one entry
per array (fitted attributes, array-valued hyper-parameters) plus
``__manifest__``, a UTF-8 JSON document stored as bytes that names the class,
the format version, the library versions, every hyper-parameter and every
fitted attribute, and a SHA-256 digest of the arrays. Loading reads it with
``allow_pickle=False``: nothing in the file is executed, only classes on an
allow-list (emkit's estimators and its priors) are instantiated, and a file
that was altered after saving (a digest mismatch), comes from a newer format
version, or names an unknown class is refused with a ``ValueError`` that
says which.

Round trips are exact: every array is stored bit for bit, so a loaded model
predicts and scores exactly as the saved one did. Pickle keeps working too;
this format is for files from elsewhere, which pickle cannot safely open.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile

import numpy as np

__all__ = ["save", "load", "FORMAT_VERSION", "SaveMixin"]

FORMAT = "emkit-model"
FORMAT_VERSION = 1
_MANIFEST = "__manifest__"


# -- encoding -----------------------------------------------------------------
class _Encoder:
    """Turns hyper-parameters and fitted state into JSON plus named arrays."""

    def __init__(self):
        self.arrays = {}

    def value(self, value, where):
        # Python scalars are exact in JSON (floats by their shortest repr);
        # numpy scalars keep their dtype as 0-d arrays.
        if value is None or isinstance(value, (bool, str, int, float)):
            return value
        if isinstance(value, np.generic):
            return self.array(np.asarray(value), where, scalar=True)
        if isinstance(value, np.ndarray):
            return self.array(value, where)
        if isinstance(value, (tuple, list)):
            items = [self.value(item, f"{where}.{i}") for i, item in enumerate(value)]
            return {"tuple" if isinstance(value, tuple) else "list": items}
        if isinstance(value, dict) and all(isinstance(key, str) for key in value):
            return {"dict": {key: self.value(item, f"{where}.{key}")
                             for key, item in value.items()}}
        if isinstance(value, np.random.RandomState):
            return {"random_state": self.value(value.get_state(), f"{where}.state")}
        name = _prior_name(type(value))
        if name is not None:
            return {"prior": name, "state": self.value(dict(vars(value)), f"{where}.state")}
        raise TypeError(f"{where} is a {type(value).__name__}, which an .emkit file cannot "
                        f"hold; use pickle for this model.")

    def array(self, value, where, scalar=False):
        if value.dtype.hasobject:
            raise TypeError(f"{where} is an object array, which an .emkit file cannot hold; "
                            f"use pickle for this model.")
        key = f"a{len(self.arrays)}"
        # Stored as they are: .npy keeps Fortran order, so products with the
        # loaded arrays round exactly as with the saved ones.
        self.arrays[key] = value
        return {"scalar" if scalar else "array": key}


class _Decoder:
    def __init__(self, arrays):
        self.arrays = arrays

    def value(self, encoded):
        if encoded is None or isinstance(encoded, (bool, str, int, float)):
            return encoded
        if not isinstance(encoded, dict) or len(encoded) not in (1, 2):
            raise ValueError(f"the file holds an unreadable value {encoded!r}; it was not "
                             f"written by emkit.save or has been altered.")
        if "prior" in encoded:
            cls = _prior_class(encoded["prior"])
            prior = cls.__new__(cls)
            prior.__dict__.update(self.value(encoded["state"]))
            return prior
        (kind, content), = encoded.items()
        if kind in ("array", "scalar"):
            if content not in self.arrays:
                raise ValueError(f"the file lacks the array {content!r}; it is truncated or "
                                 f"altered.")
            array = self.arrays[content]
            return array[()] if kind == "scalar" else array
        if kind == "tuple":
            return tuple(self.value(item) for item in content)
        if kind == "list":
            return [self.value(item) for item in content]
        if kind == "dict":
            return {key: self.value(item) for key, item in content.items()}
        if kind == "random_state":
            state = np.random.RandomState()
            state.set_state(self.value(content))
            return state
        raise ValueError(f"the file holds a value of unknown kind {kind!r}; it was written by "
                         f"a newer emkit or has been altered.")


# -- the allow-list -------------------------------------------------------------
def _estimator_classes():
    import emkit
    from sklearn.base import BaseEstimator

    classes = {}
    for name in emkit.__all__:
        candidate = getattr(emkit, name, None)
        if isinstance(candidate, type) and issubclass(candidate, BaseEstimator):
            classes[name] = candidate
    return classes


def _prior_name(cls):
    from . import priors

    name = cls.__name__
    return name if name in priors.__all__ and getattr(priors, name) is cls else None


def _prior_class(name):
    from . import priors

    if name not in priors.__all__ or not isinstance(getattr(priors, name, None), type):
        raise ValueError(f"the file names an unknown prior class {name!r}; only emkit.priors "
                         f"classes load.")
    return getattr(priors, name)


def _digest(arrays):
    hasher = hashlib.sha256()
    for key in sorted(arrays):
        array = np.asarray(arrays[key])
        hasher.update(key.encode())
        hasher.update(array.dtype.str.encode())
        hasher.update(repr(array.shape).encode())
        hasher.update(np.ascontiguousarray(array).tobytes())
    return hasher.hexdigest()


def _versions():
    import numpy
    import scipy
    import sklearn

    from . import __version__

    return {"emkit": __version__, "numpy": numpy.__version__, "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__}


# -- public API -----------------------------------------------------------------
def save(model, path):
    """Write a fitted (or unfitted) emkit estimator to ``path``.

    Parameters
    ----------
    model : an emkit estimator
        Its hyper-parameters and fitted ndarray attributes (of any shape,
        e.g. ``means_`` of shape (n_components, n_features)) are stored exactly.
    path : str or os.PathLike
        Written as given (``.emkit`` is the usual suffix).

    Raises
    ------
    TypeError
        ``model`` is not an emkit estimator, or holds state the format
        cannot represent (pickle it instead).

    Examples
    --------
    >>> import os, tempfile
    >>> from emkit import GaussianMixture, save
    >>> from emkit.datasets import load_old_faithful
    >>> model = GaussianMixture(2, n_init=1, random_state=0).fit(load_old_faithful().data)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "faithful.emkit")
    ...     save(model, path)
    ...     print(os.path.getsize(path) > 0)
    True
    """
    classes = _estimator_classes()
    name = type(model).__name__
    if classes.get(name) is not type(model):
        raise TypeError(f"emkit.save writes emkit estimators; got {type(model).__module__}."
                        f"{name}.")
    encoder = _Encoder()
    params = model.get_params(deep=False)
    fitted = {key: value for key, value in vars(model).items() if key not in params}
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": name,
        "versions": _versions(),
        "params": {key: encoder.value(value, key) for key, value in params.items()},
        "state": {key: encoder.value(value, key) for key, value in fitted.items()},
    }
    manifest["digest"] = _digest(encoder.arrays)
    payload = np.frombuffer(json.dumps(manifest, sort_keys=True).encode("utf-8"),
                            dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **{_MANIFEST: payload}, **encoder.arrays)
    with open(os.fspath(path), "wb") as handle:
        handle.write(buffer.getvalue())


def load(path):
    """Read an estimator written by :func:`save`.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    model : the saved emkit estimator, with its hyper-parameters and fitted
        attributes exactly as they were.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not an .emkit file, a newer format version, an unknown class, or a
        file altered after saving (its arrays no longer match the digest).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from emkit import GaussianMixture, load, save
    >>> from emkit.datasets import load_old_faithful
    >>> X = load_old_faithful().data
    >>> model = GaussianMixture(2, n_init=1, random_state=0).fit(X)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "faithful.emkit")
    ...     save(model, path)
    ...     restored = load(path)
    >>> type(restored).__name__, np.array_equal(restored.means_, model.means_)
    ('GaussianMixture', True)
    >>> restored.predict(X).shape
    (272,)
    """
    path = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        reason = ("it holds pickled objects, which emkit never loads" if "pickle" in str(error)
                  else str(error))
        raise ValueError(f"{path} is not an .emkit file ({reason}).") from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is not an .emkit file (it holds a single array).")
    with archive:
        if _MANIFEST not in archive.files:
            raise ValueError(f"{path} is not an .emkit file (no manifest).")
        try:
            arrays = {key: archive[key] for key in archive.files if key != _MANIFEST}
            manifest = json.loads(archive[_MANIFEST].tobytes().decode("utf-8"))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile) as error:
            raise ValueError(f"{path} is damaged or altered: {error}.") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{path} is not an .emkit model file.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"{path} was written in .emkit format version {version}, newer than "
                         f"this emkit reads ({FORMAT_VERSION}); upgrade emkit to load it.")
    if manifest.get("digest") != _digest(arrays):
        raise ValueError(f"{path} has been altered since it was saved: its arrays do not "
                         f"match the digest in its manifest.")
    classes = _estimator_classes()
    name = manifest.get("class")
    if name not in classes:
        raise ValueError(f"{path} names the class {name!r}, which is not an emkit estimator; "
                         f"only emkit's own classes load.")
    decoder = _Decoder(arrays)
    params = {key: decoder.value(value) for key, value in manifest["params"].items()}
    model = classes[name](**params)
    for key, value in manifest["state"].items():
        setattr(model, key, decoder.value(value))
    return model


class SaveMixin:
    """``save(path)`` for an estimator (see :func:`emkit.persistence.save`)."""

    def save(self, path):
        """Write this estimator to ``path`` in emkit's safe format; read it
        back with :func:`emkit.load`.

        Parameters
        ----------
        path : str or os.PathLike

        Examples
        --------
        >>> import os, tempfile
        >>> from emkit import GaussianMixture
        >>> from emkit.datasets import load_old_faithful
        >>> model = GaussianMixture(2, n_init=1, random_state=0).fit(load_old_faithful().data)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = os.path.join(folder, "faithful.emkit")
        ...     model.save(path)
        ...     print(os.path.getsize(path) > 0)
        True
        """
        save(self, path)
