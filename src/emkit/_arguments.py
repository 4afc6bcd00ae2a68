"""Constructors that keep their arguments as attributes of the same names.

A low module (it imports nothing from emkit) so that both the estimators and
the engine-level models can use it: models must not import estimators.
"""

from __future__ import annotations

__all__ = ["store_init_arguments"]


def store_init_arguments(instance, arguments):
    """Store every ``__init__`` argument, unchanged, as the attribute of its name.

    scikit-learn's contract for an estimator's ``__init__``: record each
    parameter as given (``get_params`` reads them back by the signature's
    names, ``clone`` rebuilds from them; validation waits for ``fit``). The
    engine's models keep their settings the same way. Called before
    ``__init__`` binds any other local name, as
    ``store_init_arguments(self, locals())``, when ``locals()`` holds the
    arguments and nothing else; an attribute that must be converted is
    assigned again after it.

    Parameters
    ----------
    instance : object
        The instance being initialised.
    arguments : mapping of str to object
        ``locals()`` of its ``__init__``: ``self`` (and ``__class__``, present
        when ``__init__`` uses ``super()``) are skipped.

    Examples
    --------
    >>> class Model:
    ...     def __init__(self, n_components=1, *, tol=1e-6):
    ...         store_init_arguments(self, locals())
    >>> vars(Model(3))
    {'n_components': 3, 'tol': 1e-06}
    """
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(instance, name, value)
