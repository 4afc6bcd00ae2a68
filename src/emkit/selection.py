"""Choosing the number of components and the covariance structure, as R mclust does.

:func:`select_model` fits a Gaussian mixture for every pair (number of
components G, covariance structure) of a grid, the way ``mclust::mclustBIC``
does: all fits start from one model-based hierarchical clustering of the data
(one tree, cut at every G), each cell runs a single EM (no restarts) to
mclust's stopping rule, and the cells are compared by BIC or ICL.

Conventions. BIC and ICL are reported both ways, with the direction in the
column name: scikit-learn's ``bic = -2 log L + p log n`` (lower is better)
and mclust's ``BIC = 2 log L - p log n`` (higher is better). ICL (Biernacki,
Celeux & Govaert 2000; mclust's ``icl``) penalises the BIC by the entropy of
the classification: ``ICL = BIC + 2 sum_n log max_k z_nk`` in mclust's sign.
Parameter counts are mclust's (``nMclustParams``).

References
----------
Fraley, C. and Raftery, A. E. (2002). Model-based clustering, discriminant
analysis, and density estimation. JASA 97, 611-631.
Scrucca, L., Fop, M., Murphy, T. B. and Raftery, A. E. (2016). mclust 5.
The R Journal 8, 289-317.
"""

from __future__ import annotations

import math
import numbers
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._engine.progress import progress_bar
from ._engine.hierarchical import hierarchical_partitions
from ._engine.init import INIT_METHODS, initial_responsibilities, one_hot
from ._validation import (
    InvalidParameterError,
    check_choice,
    check_gaussian_scale,
    check_integer,
    check_prior,
    check_random_state,
    check_real,
    validate_samples,
)
from .components._structured import is_structure
from .components.gaussian import feature_scales
from .components._structures import (
    SKLEARN_ALIASES,
    STRUCTURES,
    UNIVARIATE_STRUCTURES,
    n_parameters,
)
from .estimators.gaussian_mixture import GaussianMixture

__all__ = ["select_model", "ModelSelection", "TABLE_COLUMNS"]

BIC_SKLEARN = "bic_sklearn (lower is better)"
BIC_MCLUST = "bic_mclust (higher is better)"
ICL_SKLEARN = "icl_sklearn (lower is better)"
ICL_MCLUST = "icl_mclust (higher is better)"
TABLE_COLUMNS = ("n_components", "covariance_type", "log_likelihood", "n_parameters",
                 BIC_SKLEARN, BIC_MCLUST, ICL_SKLEARN, ICL_MCLUST, "converged", "n_iter",
                 "status")
_CRITERIA = {"bic": BIC_MCLUST, "icl": ICL_MCLUST}
# mclust's emControl(tol) for EM: stop when |L_t - L_{t-1}| <= tol (1 + |L_t|).
MCLUST_TOL = 1e-5
_VALID_TYPES = STRUCTURES + UNIVARIATE_STRUCTURES + tuple(SKLEARN_ALIASES)


def _structures_for(covariance_types, n_features):
    """The grid's covariance types, validated, in mclust's order for "all"."""
    if isinstance(covariance_types, str) and covariance_types == "all":
        return list(UNIVARIATE_STRUCTURES if n_features == 1 else STRUCTURES)
    if isinstance(covariance_types, str):
        covariance_types = [covariance_types]
    if not isinstance(covariance_types, (list, tuple)):
        raise InvalidParameterError(
            f"covariance_types must be 'all', a covariance type name or a list of names; "
            f"got {covariance_types!r}.")
    names = []
    for name in covariance_types:
        try:
            check_choice(name, "covariance_types", _VALID_TYPES)
        except InvalidParameterError as error:
            raise InvalidParameterError(
                f"unknown covariance type {name!r} in covariance_types ('all' or a list of "
                f"names). {error}") from None
        if name in UNIVARIATE_STRUCTURES and n_features != 1:
            raise InvalidParameterError(
                f"covariance_types: {name!r} is mclust's model for one feature; X has "
                f"{n_features}. Use the multivariate names {STRUCTURES} (or 'all').")
        if name not in names:
            names.append(name)
    if not names:
        raise InvalidParameterError("covariance_types is empty; pass 'all' or at least one "
                                    "covariance type name.")
    return names


def _components_list(n_components, n_samples):
    values = n_components
    if isinstance(values, numbers.Number) or isinstance(values, (str, bytes)) or not (
            np.iterable(values)):
        values = [values]
    try:
        checked = sorted({check_integer(k, "n_components", minimum=1) for k in values})
    except InvalidParameterError:
        raise InvalidParameterError(
            f"n_components must be an integer >= 1 or a list of them (e.g. range(1, 10)); "
            f"got {n_components!r}.") from None
    if not checked:
        raise InvalidParameterError("n_components is empty; pass at least one number of "
                                    "components, e.g. range(1, 10).")
    if checked[-1] > n_samples:
        raise InvalidParameterError(
            f"n_components goes up to {checked[-1]} but X has only {n_samples} samples; "
            f"each component needs at least one sample.")
    return checked


def _initial_responsibilities(X, components, init_params, random_state):
    """Starting responsibilities per G, shared by every structure (as in mclustBIC)."""
    if init_params == "hierarchical":
        # One agglomeration, cut at every G (mclust's hc + hclass).
        partitions = hierarchical_partitions(X, components, random_state=random_state)
        return {G: one_hot(partitions[G], G) for G in components}
    return {G: initial_responsibilities(X, G, init_params, random_state) for G in components}


def _fit_cell(X, data_covariance, resp, G, covariance_type, settings):
    """Fit one grid cell; returns (row dict, estimator or None)."""
    n = X.shape[0]
    estimator = GaussianMixture(G, covariance_type=covariance_type, n_init=1,
                                init_params=settings["init_params"], tol=settings["tol"],
                                reg_covar=settings["reg_covar"], max_iter=settings["max_iter"],
                                prior=settings["prior"],
                                random_state=settings["random_state"])
    row = {"n_components": G, "covariance_type": covariance_type}
    try:
        # mclust's collapse rule: only numerically singular covariances count.
        result = estimator.fit_from_responsibilities(
            X, resp, data_covariance=data_covariance, relative_tol=settings["relative_tol"],
            collapse="singular", feature_scales=settings["feature_scales"])
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as error:
        row.update(_empty_row(estimator, G, X.shape[1]), status=f"failed: {error}")
        return row, None
    loglik, log_max_z = estimator.icl_terms(X)
    n_parameters = estimator.n_parameters()
    penalty = n_parameters * math.log(n)
    if result.degenerate or not np.isfinite(loglik):
        # mclust reports NA for a fit whose covariances became singular.
        row.update(_empty_row(estimator, G, X.shape[1]), status="degenerate",
                   converged=False, n_iter=int(result.n_iter))
        return row, estimator
    bic = 2.0 * loglik - penalty
    icl = bic + 2.0 * log_max_z
    row.update({
        "log_likelihood": loglik, "n_parameters": n_parameters,
        BIC_SKLEARN: -bic, BIC_MCLUST: bic, ICL_SKLEARN: -icl, ICL_MCLUST: icl,
        "converged": bool(result.converged), "n_iter": int(result.n_iter),
        "status": "repaired" if result.n_repairs else "ok",
    })
    return row, estimator


def _empty_row(estimator, G, D):
    """A row of NaN criteria (mclust's NA) with the cell's parameter count."""
    name = estimator.covariance_type
    count = n_parameters(name if is_structure(name) else SKLEARN_ALIASES[name], G, D)
    return {"log_likelihood": np.nan, "n_parameters": count, BIC_SKLEARN: np.nan,
            BIC_MCLUST: np.nan, ICL_SKLEARN: np.nan, ICL_MCLUST: np.nan,
            "converged": False, "n_iter": 0}


def select_model(X, n_components=range(1, 10), covariance_types="all", *, criterion="bic",
                 prior=None, n_jobs=None, init_params="hierarchical", tol=MCLUST_TOL,
                 max_iter=10000, reg_covar=0.0, random_state=0, verbose=0):
    """Fit Gaussian mixtures over a grid of sizes and structures and pick one by BIC or ICL.

    The grid of ``mclust::mclustBIC``: every cell starts from the same
    partition for its number of components G (by default the cut at G of one
    model-based hierarchical clustering, mclust's ``hc``), runs one EM to
    mclust's stopping rule and is scored; on the same data the table
    reproduces mclust's (see ``benchmarks/mclust_reference.R``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        At least 2 samples. One feature is a column, shape (n_samples, 1): a
        1-D array is rejected, as by ``best_estimator_.predict`` and every
        scikit-learn estimator (pass ``x.reshape(-1, 1)``).
    n_components : int or iterable of int, default=range(1, 10)
        The numbers of components G tried (mclust's ``G = 1:9``).
    covariance_types : "all", str or list of str, default="all"
        "all" is mclust's 14 structures EII, VII, EEI, VEI, EVI, VVI, EEE,
        VEE, EVE, VVE, EEV, VEV, EVV, VVV (E and V for one feature); any of
        those names or scikit-learn's "full", "tied", "diag", "spherical".
    criterion : {"bic", "icl"}, default="bic"
        What picks ``best_estimator_``.
    prior : None, "default" or NormalInverseWishart, default=None
        Conjugate prior (MAP estimation) for every cell; "default" is
        mclust's ``priorControl()`` (:func:`emkit.priors.default_prior` for
        each G), here for all 14 structures. BIC is then computed from the
        log-likelihood at the MAP parameters, as mclust does.
    n_jobs : int or None, default=None
        Threads fitting the structures concurrently (the compiled EM releases
        the GIL); None or 1 fits them one after the other, -1 uses every core.
    init_params : str, default="hierarchical"
        Starting partition per G, shared by every structure: "hierarchical"
        (deterministic for up to 2000 samples, then a random subset is
        clustered) or one of GaussianMixture's other ``init_params``.
    tol : float, default=1e-5
        EM stops when ``|L_t - L_{t-1}| <= tol (1 + |L_t|)``, mclust's rule
        (``emControl(tol)``); the same stopping point is what makes the
        table agree with mclust's to a few thousandths. Smaller values run
        each fit closer to its optimum.
    max_iter : int, default=10000
        EM iterations per cell.
    reg_covar : float, default=0.0
        Added to the covariance diagonals (as ``reg_covar * n_k`` to every
        scatter, which keeps each structure's constraints). mclust adds none.
    random_state : int, RandomState or None, default=0
        Used by random initialisations, large-data subsets and the re-seeding
        of collapsed components; fixed by default so that the table is
        reproducible, as mclust's is (its fits use no random numbers below
        2000 samples). Every cell starts its own generator from it, so the
        table does not depend on ``n_jobs``.
    verbose : int, default=0
        1: a progress bar over the grid's fits (tqdm, when installed), shown
        once the grid has run for a second.

    Returns
    -------
    ModelSelection
        ``table``, ``best_estimator_``, ``best_params_``, ``estimators_`` and
        ``plot()``.

    Examples
    --------
    >>> from emkit import select_model
    >>> from emkit.datasets import load_old_faithful
    >>> result = select_model(load_old_faithful().data)
    >>> result.best_params_
    {'n_components': 3, 'covariance_type': 'EEE'}
    """
    # Everything is checked here, before any fit, so that a bad argument is
    # named instead of failing every cell of the grid.
    check_choice(criterion, "criterion", tuple(_CRITERIA))
    X = validate_samples(None, X, reset=True, min_samples=2,
                         min_samples_reason="model selection compares fits of at least two "
                                            "samples")
    X = np.ascontiguousarray(X, dtype=np.float64)
    scales = feature_scales(X)
    check_gaussian_scale(X, scales)
    n, D = X.shape
    components = _components_list(n_components, n)
    structures = _structures_for(covariance_types, D)
    check_prior(prior, D)
    check_choice(init_params, "init_params", INIT_METHODS)
    tol = check_real(tol, "tol", minimum=0.0, hint=f"mclust's default is tol={MCLUST_TOL}.")
    max_iter = check_integer(max_iter, "max_iter", minimum=0)
    reg_covar = check_real(reg_covar, "reg_covar", minimum=0.0,
                           hint="mclust adds none (reg_covar=0).")
    n_jobs = check_integer(n_jobs, "n_jobs", allow_none=True)
    if n_jobs is not None and n_jobs < 1 and n_jobs != -1:
        raise InvalidParameterError(
            f"n_jobs must be None, a number of threads >= 1, or -1 for every core; got "
            f"{n_jobs}.")
    verbose = check_integer(verbose, "verbose", minimum=0, allow_bool=True)
    rng = check_random_state(random_state)
    starts = _initial_responsibilities(X, components, init_params, rng)
    centered = X - X.mean(axis=0)
    data_covariance = centered.T @ centered / n
    settings = {"init_params": init_params, "tol": tol, "reg_covar": reg_covar,
                "max_iter": max_iter, "prior": prior, "random_state": random_state,
                "relative_tol": tol, "feature_scales": scales}

    bar = (progress_bar("select_model", total=len(components) * len(structures), unit="fit")
           if verbose else None)

    def fit_structure(covariance_type):
        fits = []
        for G in components:
            fits.append(_fit_cell(X, data_covariance, starts[G], G, covariance_type, settings))
            if bar is not None:
                bar.update(1, cell=f"{covariance_type},{G}")
        return fits

    workers = os.cpu_count() if n_jobs == -1 else (n_jobs or 1)
    try:
        if workers > 1 and len(structures) > 1:
            with ThreadPoolExecutor(max_workers=int(workers)) as pool:
                per_structure = list(pool.map(fit_structure, structures))
        else:
            per_structure = [fit_structure(name) for name in structures]
    finally:
        if bar is not None:
            bar.close()
    cells = {(row["n_components"], row["covariance_type"]): (row, estimator)
             for fits in per_structure for row, estimator in fits}
    # Rows ordered as mclust's table: by G, then structure.
    ordered = [cells[(G, name)] for G in components for name in structures]
    return ModelSelection([row for row, _ in ordered],
                          {(row["n_components"], row["covariance_type"]): estimator
                           for row, estimator in ordered},
                          criterion=criterion, n_samples=n)


class ModelSelection:
    """Outcome of :func:`select_model`: the scored grid and the chosen mixture.

    Attributes
    ----------
    table : pandas.DataFrame or list of dict
        One row per (G, covariance type), mclust's order (G, then structure),
        with columns :data:`TABLE_COLUMNS`: ``log_likelihood``,
        ``n_parameters``, BIC and ICL in both conventions (the column name
        says which way is better), ``converged``, ``n_iter`` and ``status``
        ("ok", "repaired" when collapsed components were re-seeded,
        "degenerate" or "failed: ..." with NaN criteria, as mclust's NA).
        A DataFrame when pandas is installed.
    rows : list of dict
        The same rows, always as dicts.
    estimators_ : dict
        ``{(G, covariance_type): fitted GaussianMixture}`` (None for failed cells).
    criterion : {"bic", "icl"}
    best_params_ : dict
        ``{"n_components": G, "covariance_type": name}`` of the best cell.
    best_estimator_ : GaussianMixture
        Its fitted mixture.
    best_score_ : float
        Its criterion, mclust's convention (higher is better).

    Examples
    --------
    >>> from emkit import select_model
    >>> from emkit.datasets import load_old_faithful
    >>> result = select_model(load_old_faithful().data, n_components=[1, 2],
    ...                       covariance_types=["VVV"])
    >>> type(result).__name__, len(result.rows)
    ('ModelSelection', 2)
    >>> result.best_params_
    {'n_components': 2, 'covariance_type': 'VVV'}
    >>> result.best_estimator_.means_.shape
    (2, 2)
    """

    def __init__(self, rows, estimators, *, criterion, n_samples):
        self.rows = rows
        self.estimators_ = estimators
        self.criterion = criterion
        self.n_samples = n_samples
        column = _CRITERIA[criterion]
        scores = np.array([row[column] for row in rows], dtype=float)
        if not np.isfinite(scores).any():
            raise RuntimeError("every fit of the grid failed; see the table's status column.")
        best = int(np.nanargmax(scores))
        self.best_params_ = {"n_components": rows[best]["n_components"],
                             "covariance_type": rows[best]["covariance_type"]}
        self.best_estimator_ = estimators[(rows[best]["n_components"],
                                           rows[best]["covariance_type"])]
        self.best_score_ = float(scores[best])

    @property
    def table(self):
        try:
            import pandas as pd
        except ImportError:
            return [dict(row) for row in self.rows]
        return pd.DataFrame(self.rows, columns=list(TABLE_COLUMNS))

    @property
    def n_components(self):
        """The G values of the grid, ascending."""
        return sorted({row["n_components"] for row in self.rows})

    @property
    def covariance_types(self):
        """The structures of the grid, in order."""
        return list(dict.fromkeys(row["covariance_type"] for row in self.rows))

    def scores(self, criterion=None, convention="mclust"):
        """The criterion as a (G, structure) matrix, like mclust's BIC table.

        Parameters
        ----------
        criterion : {"bic", "icl"}, optional
            Defaults to the selection's.
        convention : {"mclust", "sklearn"}, default="mclust"

        Returns
        -------
        ndarray of shape (len(n_components), len(covariance_types))
            NaN where the fit failed.
        """
        criterion = criterion or self.criterion
        if criterion not in _CRITERIA or convention not in ("mclust", "sklearn"):
            raise ValueError("criterion must be 'bic' or 'icl', convention 'mclust' or "
                             "'sklearn'.")
        column = (_CRITERIA[criterion] if convention == "mclust" else
                  {"bic": BIC_SKLEARN, "icl": ICL_SKLEARN}[criterion])
        Gs, names = self.n_components, self.covariance_types
        matrix = np.full((len(Gs), len(names)), np.nan)
        for row in self.rows:
            matrix[Gs.index(row["n_components"]), names.index(row["covariance_type"])] = (
                row[column])
        return matrix

    def top(self, n_best=3, criterion=None):
        """The ``n_best`` best cells as ``[(covariance_type, G, score), ...]`` (mclust's
        "Top 3 models"), mclust's convention."""
        column = _CRITERIA[criterion or self.criterion]
        ranked = sorted((row for row in self.rows if np.isfinite(row[column])),
                        key=lambda row: -row[column])
        return [(row["covariance_type"], row["n_components"], row[column])
                for row in ranked[:n_best]]

    def summary(self, criterion=None):
        """The criterion table (mclust's print of ``mclustBIC``) and the best models, as text."""
        criterion = criterion or self.criterion
        matrix = self.scores(criterion)
        names = self.covariance_types
        width = max(10, *(len(name) + 1 for name in names))
        label = "BIC" if criterion == "bic" else "ICL"
        lines = [f"{label}, mclust's convention (higher is better; scikit-learn's "
                 f"{label.lower()} is its negative):",
                 "G".rjust(3) + "".join(name.rjust(width) for name in names)]
        for G, values in zip(self.n_components, matrix):
            cells = "".join(("NA" if not np.isfinite(v) else f"{v:.3f}").rjust(width)
                            for v in values)
            lines.append(str(G).rjust(3) + cells)
        top = ", ".join(f"{name},{G} ({score:.3f})" for name, G, score in self.top(3, criterion))
        lines.append("")
        lines.append(f"Top 3 models by {label}: {top}")
        return "\n".join(lines)

    def plot(self, ax=None, criterion=None, **kwargs):
        """Criterion curves per structure against G, like mclust's ``plot.mclustBIC``.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        criterion : {"bic", "icl"}, optional
        **kwargs : passed to :func:`emkit.plotting.plot_model_selection`

        Returns
        -------
        matplotlib Axes
        """
        from .plotting import plot_model_selection

        return plot_model_selection(self, ax=ax, criterion=criterion, **kwargs)

    def __repr__(self):
        best = self.best_params_
        return (f"ModelSelection({len(self.rows)} fits; best by {self.criterion.upper()}: "
                f"{best['covariance_type']} with {best['n_components']} components, "
                f"{self.criterion.upper()} {self.best_score_:.3f} (mclust's convention))")
