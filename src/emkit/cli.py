"""The ``emkit`` command line.

Subcommands
-----------
``emkit demo``
    Fit a Gaussian mixture to the bundled Old Faithful data, choosing the
    number of components by BIC, and plot it.
``emkit fit data.csv -k K [--model NAME] [-o model.emkit] [--labels FILE]``
    Fit any emkit model by name (:data:`MODELS`; a Gaussian mixture by
    default) to a CSV, Parquet or .npy file (HMMs: ``--sequence-column``;
    regression models: ``--target``; lda: a folder of .txt files or one
    document per line, tokenised by CountVectorizer); a range of K is chosen
    by BIC; save the model and write every row's label and probabilities.
``emkit predict model.emkit data.csv``, ``emkit score ...``, ``emkit sample model.emkit -n N``
    Use a saved model: labels and probabilities, the log-likelihood and
    criteria, or new samples.
``emkit select data.csv``
    Fit R mclust's grid (1 to 9 components x 14 covariance structures) and
    print the BIC (or ICL) table and the chosen model.
``emkit report data.csv -o report.html``
    A self-contained HTML page: data summary, selection table, the chosen
    model's parameters and plots, and the EM teaching view.

Adding a subcommand takes a ``_add_<name>_parser(subparsers)`` function that
sets ``func`` (a ``run(args) -> int``) as a default, listed in
:data:`_SUBCOMMANDS`; :func:`_add_data_arguments`, :func:`_add_model_arguments`,
:func:`read_numeric_csv`, :func:`fit_quietly` and :func:`format_fit_summary`
are there to be shared.

Input errors are reported as one line on stderr with exit code 2; a fit that
fails exits with 1.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
import warnings
from array import array
from pathlib import Path

import numpy as np

__all__ = ["main"]

_PROG = "emkit"
_COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
_MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none"})


class CLIError(Exception):
    """An error reported to the user as one line, without a traceback."""

    def __init__(self, message, exit_code=2):
        super().__init__(message)
        self.exit_code = exit_code


def _matplotlib_available() -> bool:
    """Whether plots can be drawn; says so (and how to get them) when not."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("\nmatplotlib is not installed, so no plot was written "
              "(pip install matplotlib).")
        return False
    return True


# --------------------------------------------------------------------------- main
def main(argv=None) -> int:
    """Run the ``emkit`` command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name; ``sys.argv[1:]`` if None.

    Returns
    -------
    int
        The exit code: 0 on success, 2 for usage or input errors, 1 when a fit fails.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return _exit_code(exc.code)
    try:
        return int(args.func(args))
    except CLIError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{_PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `emkit fit data.csv -k 2 | head`
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 141


def _exit_code(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def subcommand_parsers(parser=None) -> dict:
    """The subcommands' parsers by name, in the order ``emkit --help`` lists them.

    Parameters
    ----------
    parser : argparse.ArgumentParser, optional
        A parser from :func:`build_parser` (a new one if None).

    Returns
    -------
    dict of str to argparse.ArgumentParser
    """
    parser = build_parser() if parser is None else parser
    return dict(parser.subcommands)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Fit latent-variable models by Expectation-Maximization.",
        formatter_class=_HelpFormatter,
        epilog=f"Run '{_PROG} COMMAND --help' for a command's options and examples.\n\n"
               "examples:\n"
               "  emkit demo\n"
               "  emkit fit faithful.csv -k 1:6 -o best.emkit\n"
               "  emkit predict best.emkit new.csv -o labels.csv",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND",
                                       required=True)
    for add_parser in _SUBCOMMANDS:
        add_parser(subparsers)
    parser.subcommands = subparsers.choices  # name -> parser, for subcommand_parsers
    return parser


# ---------------------------------------------------------------- shared arguments
class _HelpFormatter(argparse.HelpFormatter):
    """Wraps prose paragraphs to the terminal; keeps paragraphs with indented lines
    (the examples, the list of models) as written."""

    def _fill_text(self, text, width, indent):
        paragraphs = []
        for paragraph in text.split("\n\n"):
            if any(line.startswith(" ") for line in paragraph.splitlines()):
                paragraphs.append("\n".join(indent + line for line in paragraph.splitlines()))
            else:
                paragraphs.append(super()._fill_text(paragraph, width, indent))
        return "\n\n".join(paragraphs)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _delimiter(text):
    named = {"\\t": "\t", "tab": "\t", "TAB": "\t", "space": " ", "semicolon": ";",
             "comma": ","}
    text = named.get(text, text)
    if len(text) != 1:
        raise argparse.ArgumentTypeError(
            f"the delimiter must be one character (or 'tab', '\\t'), got {text!r}")
    return text


def _add_data_arguments(parser, texts=False):
    """The CSV input arguments: ``csv``, ``--delimiter``, ``--header/--no-header``.

    ``texts``: the file may also be texts for a topic model (named in the help).
    """
    parser.add_argument("csv", metavar="data.csv",
                        help="data file, one sample per row: CSV (header optional), "
                             "Parquet (.parquet) or NumPy (.npy)"
                             + ("; lda: a folder of .txt files or a text file with one "
                                "document per line" if texts else ""))
    parser.add_argument("--columns", metavar="COLS",
                        help="the columns to use, by name or 0-based index: 'a,c' or '0,2' "
                             "(default: all)")
    parser.add_argument("--delimiter", type=_delimiter, default=",", metavar="CHAR",
                        help="field separator (default ','; 'tab' or '\\t' for tabs)")
    header = parser.add_mutually_exclusive_group()
    header.add_argument("--header", dest="header", action="store_const", const=True,
                        default=None, help="the first row is a header (default: detected; "
                        "a first row that is not all numbers is a header)")
    header.add_argument("--no-header", dest="header", action="store_const", const=False,
                        help="the first row is data")


def _add_progress_arguments(parser):
    """``--quiet`` / ``--progress``: the progress bar is shown when stderr is a terminal."""
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument("--quiet", action="store_true",
                          help="no progress bar (by default one is shown on a terminal for "
                               "fits longer than a second)")
    progress.add_argument("--progress", action="store_true",
                          help="show the progress bar even when stderr is not a terminal")


def _verbose(args):
    """The estimators' ``verbose``: 1 (the engine's progress bar) unless ``--quiet``;
    off by default where stderr is not a terminal (logs, pipes) unless ``--progress``."""
    if getattr(args, "quiet", False):
        return 0
    if getattr(args, "progress", False):
        return 1
    isatty = getattr(sys.stderr, "isatty", None)
    return 1 if isatty is not None and isatty() else 0


def _add_model_arguments(parser):
    """Gaussian-mixture options shared by fitting commands."""
    parser.add_argument("--covariance-type", choices=_COVARIANCE_TYPES, default="full",
                        help="covariance structure of the components (default: full)")
    parser.add_argument("--n-init", type=_positive_int, default=None, metavar="N",
                        help="EM restarts; the best is kept (default: the estimator's)")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="random seed, for reproducible results (default: 0)")


# ------------------------------------------------------------------------- demo
def _add_demo_parser(subparsers):
    parser = subparsers.add_parser(
        "demo", help="fit the bundled Old Faithful data, choosing K by BIC",
        formatter_class=_HelpFormatter,
        description="Fit Gaussian mixtures with 1 to 6 components to the Old Faithful "
                    "geyser data, keep the one with the lowest BIC, print it and plot it.",
        epilog="examples:\n  emkit demo\n  emkit demo --output-dir plots --seed 1")
    parser.add_argument("--output-dir", default=".", metavar="DIR",
                        help="where faithful_clusters.png is written (default: current "
                             "directory)")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="random seed (default: 0)")
    parser.add_argument("--n-init", type=_positive_int, default=None, metavar="N",
                        help="EM restarts per K (default: the estimator's)")
    _add_progress_arguments(parser)
    parser.set_defaults(func=run_demo)


def run_demo(args) -> int:
    """``emkit demo``: BIC selection of a Gaussian mixture on Old Faithful, then a plot."""
    from .datasets import load_old_faithful
    from .estimators.gaussian_mixture import GaussianMixture

    start = time.perf_counter()
    faithful = load_old_faithful()
    X, names = faithful.data, faithful.feature_names
    print(f"Old Faithful geyser: {X.shape[0]} eruptions; features: eruptions (length, min), "
          f"waiting (time to the next eruption, min).")
    extra = {} if args.n_init is None else {"n_init": args.n_init}
    print(f"Choosing the number of components K = 1..6 by BIC "
          f"(full covariance, random_state={args.seed}).\n")

    rows, fits = [], []
    for k in range(1, 7):
        model = GaussianMixture(k, covariance_type="full", random_state=args.seed,
                                verbose=_verbose(args), **extra)
        _report_warnings(fit_quietly(model, X), prefix=f"K={k}: ")
        model.set_params(verbose=0)  # the summary shows the library's default
        bic = model.bic(X)
        fits.append((bic, model))
        rows.append([str(k), _fixed(model.score(X) * X.shape[0]), _fixed(bic),
                     str(model.n_iter_), "yes" if model.converged_ else "no"])
    best = int(np.argmin([bic for bic, _ in fits]))
    rows[best].append("<- lowest BIC")
    print(_table(["K", "log-likelihood", "BIC", "EM iterations", "converged", ""], rows,
                 indent="  "))
    chosen = fits[best][1]
    print(f"\nChosen: K = {chosen.n_components}\n")
    print(format_fit_summary(chosen, X, names))

    output_dir = Path(args.output_dir)
    path = output_dir / "faithful_clusters.png"
    if _matplotlib_available():
        from .plotting import save_mixture_plot

        try:
            output_dir.mkdir(parents=True, exist_ok=True)
            save_mixture_plot(chosen, X, path, feature_names=names,
                              title=f"Old Faithful: {chosen.n_components}-component Gaussian "
                                    f"mixture (1- and 2-sigma ellipses)")
        except OSError as exc:
            raise CLIError(f"cannot write the plot to {path}: {exc.strerror or exc}") from None
        print(f"\nPlot written to {path}")
    print(f"\nDone in {time.perf_counter() - start:.1f} s.")
    return 0


# -------------------------------------------------------------------------- fit
# The models `emkit fit --model` knows: name -> (class name, kind, help).
# kind says what a model is fitted on:
#   "mixture"     fit(X)
#   "hmm"         fit(X, lengths): --sequence-column gives the sequences
#   "regression"  fit(X, y): --target names the response column
#   "text"        fit(counts): texts tokenised by CountVectorizer (or a count table)
# Everything else (BIC for a range of K, --labels, the summary) follows from the
# methods the class has, so a new model is one line here.
MODELS = {
    "gaussian": ("GaussianMixture", "mixture", "Gaussian mixture (default)"),
    "bernoulli": ("BernoulliMixture", "mixture", "mixture of independent binary features"),
    "poisson": ("PoissonMixture", "mixture", "mixture of independent counts"),
    "categorical": ("CategoricalMixture", "mixture", "mixture of categorical features"),
    "bayesian-gaussian": ("BayesianGaussianMixture", "mixture",
                          "variational Bayesian Gaussian mixture; K is an upper bound"),
    "student-t": ("StudentTMixture", "mixture", "mixture of multivariate Student-t (robust)"),
    "mfa": ("MixtureOfFactorAnalyzers", "mixture", "mixture of factor analyzers"),
    "kmeans": ("KMeans", "mixture", "k-means (hard assignments; no BIC, one K)"),
    "factor-analysis": ("FactorAnalysis", "mixture", "factor analysis; K factors"),
    "ppca": ("PPCA", "mixture", "probabilistic PCA; K components"),
    "regression": ("RegressionMixture", "regression",
                   "mixture of linear regressions of --target on the other columns"),
    "experts": ("MixtureOfExperts", "regression",
                "mixture of linear experts with softmax gating (--target)"),
    "gaussian-hmm": ("GaussianHMM", "hmm", "hidden Markov model, Gaussian emissions"),
    "gmm-hmm": ("GMMHMM", "hmm", "hidden Markov model, Gaussian-mixture emissions (--n-mix)"),
    "poisson-hmm": ("PoissonHMM", "hmm", "hidden Markov model, Poisson emissions"),
    "categorical-hmm": ("CategoricalHMM", "hmm", "hidden Markov model, categorical symbols"),
    "lda": ("LatentDirichletAllocation", "text",
            "topic model of texts: a folder of .txt files or one document per line"),
}

# Why a model takes one K only (printed when given a range); others: "it has no BIC".
_SINGLE_K = {
    "KMeans": "k-means has no likelihood (it is the zero-variance limit of a Gaussian "
              "mixture), so no BIC chooses K; give one K, or use --model gaussian",
    "BayesianGaussianMixture": "K is an upper bound that the variational fit prunes (unneeded "
                               "components empty out) and the model has no BIC, so a range of "
                               "K is not meaningful; give one generous K such as -k 10",
}

# The fitted attributes that format_model_summary prints, in this order (when small).
_SUMMARY_ATTRIBUTES = ("weights_", "cluster_centers_", "dofs_", "components_", "startprob_", "transmat_", "means_", "covariances_",
                       "rates_", "lambdas_", "probabilities_", "emissionprob_", "coef_",
                       "intercept_", "noise_variance_", "gating_coef_", "gating_intercept_")

# --flag -> the estimator parameter it sets; a flag the user gives to a model without the
# parameter is an error (not silently dropped).
_MODEL_FLAGS = {"covariance_type": "--covariance-type", "n_init": "--n-init",
                "max_iter": "--max-iter", "n_mix": "--n-mix", "missing": "--missing",
                "weight_concentration_prior_type": "--weight-prior",
                "learning_method": "--learning-method"}
_TABLE_SUFFIXES = (".csv", ".tsv", ".npy", ".parquet", ".pq")


def _model_name(text):
    key = text.strip().lower().replace("_", "-")
    by_class = {cls.lower(): name for name, (cls, _, _) in MODELS.items()}
    key = by_class.get(key.replace("-", ""), key)
    if key not in MODELS:
        raise argparse.ArgumentTypeError(
            f"unknown model {text!r}; choose one of {', '.join(MODELS)}")
    return key


def _kind_of(model):
    """The MODELS kind of a (loaded) estimator; "mixture" for classes not listed."""
    kinds = {cls: kind for cls, kind, _ in MODELS.values()}
    return kinds.get(type(model).__name__, "mixture")


def _document_frequency(text):
    """CountVectorizer's min_df/max_df: an integer count of documents or a float proportion."""
    try:
        value = int(text) if text.strip().lstrip("+").isdigit() else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a document count (2) or a proportion (0.5), got {text!r}") from None
    if value < 0 or (isinstance(value, float) and value > 1.0):
        raise argparse.ArgumentTypeError(
            f"a proportion of documents is between 0 and 1 (a count is an integer); got {text}")
    return value


def _add_sequence_target_arguments(parser):
    parser.add_argument("--sequence-column", metavar="COLUMN",
                        help="HMMs: the column (name or 0-based index) holding each row's "
                             "sequence id; rows of one sequence are consecutive")
    parser.add_argument("--target", metavar="COLUMN",
                        help="regression, experts: the response column (name or 0-based "
                             "index); the other columns (or --columns) are the inputs")


def _add_fit_parser(subparsers):
    models = "\n".join(f"  {name:18s} {help_}" for name, (_, _, help_) in MODELS.items())
    parser = subparsers.add_parser(
        "fit", help="fit a model (a Gaussian mixture by default) to a data file",
        formatter_class=_HelpFormatter,
        description="Fit an emkit model by EM to the numeric columns of a CSV, Parquet or "
                    ".npy file (or, for lda, to texts), print it, and optionally save it and "
                    "write every row's label and probabilities.\n\nModels (--model):\n"
                    + models,
        epilog="examples:\n"
               "  emkit fit faithful.csv -k 2\n"
               "  emkit fit faithful.csv -k 1:6 -o best.emkit      # K chosen by BIC\n"
               "  emkit fit data.csv -k 3 --columns a,c --covariance-type VVV --labels out.csv\n"
               "  emkit fit counts.npy -k 2 --model poisson\n"
               "  emkit fit faithful.csv -k 10 --model bayesian-gaussian\n"
               "  emkit fit series.csv -k 2 --model gaussian-hmm --sequence-column id\n"
               "  emkit fit series.csv -k 2 --model gmm-hmm --n-mix 2 --sequence-column id\n"
               "  emkit fit xy.csv -k 1:3 --model regression --target y -o reg.emkit\n"
               "  emkit fit texts/ -k 10 --model lda --stop-words english --min-df 2 "
               "-o lda.emkit\n"
               "  emkit fit abstracts.txt -k 5 --model lda --top-words 8   # a document a line")
    _add_data_arguments(parser, texts=True)
    parser.add_argument("-k", "--n-components", dest="n_components", type=_components_range,
                        required=True, metavar="K",
                        help="number of components (states, topics), or a range ('1:6', "
                             "'2,3') chosen by BIC")
    parser.add_argument("--model", type=_model_name, default="gaussian", metavar="NAME",
                        help="which model (default: gaussian; see above)")
    parser.add_argument("--covariance-type", default=None, metavar="TYPE",
                        help="Gaussian models: full, tied, diag, spherical or an mclust name "
                             "(EII ... VVV); default full for gaussian and gaussian-hmm, the "
                             "estimator's for the others")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="random seed, for reproducible results (default: 0)")
    _add_estimator_arguments(parser)
    _add_text_arguments(parser)
    parser.add_argument("-o", "--save", metavar="FILE",
                        help="save the fitted model (emkit's safe .emkit format)")
    parser.add_argument("--labels", "--output", dest="labels", metavar="FILE",
                        help="write a CSV with columns label,prob_0,...,prob_{K-1}, one row "
                             "per input row (regression: prediction first; lda: document "
                             "first)")
    _add_progress_arguments(parser)
    parser.set_defaults(func=run_fit)


def _add_estimator_arguments(parser):
    """The estimators' options and the data's extra columns (``fit`` and ``report``)."""
    parser.add_argument("--n-init", type=_positive_int, default=None, metavar="N",
                        help="EM restarts; the best is kept (default: the estimator's)")
    parser.add_argument("--max-iter", type=_positive_int, default=None, metavar="N",
                        help="EM iterations (lda: passes) per run (default: the estimator's)")
    parser.add_argument("--missing", choices=("error", "marginalize"), default="error",
                        help="NaN / empty cells: an error (default) or marginalised exactly "
                             "(mixtures)")
    _add_sequence_target_arguments(parser)
    parser.add_argument("--n-mix", type=_positive_int, default=None, metavar="M",
                        help="gmm-hmm: Gaussians in every state's emission mixture")
    parser.add_argument("--weight-prior", default=None,
                        choices=("dirichlet_process", "dirichlet_distribution"),
                        help="bayesian-gaussian: the prior of the weights (default: "
                             "dirichlet_process)")


def _add_text_arguments(parser):
    """The CountVectorizer and LDA options (``fit`` and ``report``)."""
    text = parser.add_argument_group(
        "texts (lda)", "A folder of .txt files (one document each) or a text file with one "
                       "document per line, tokenised by scikit-learn's CountVectorizer. "
                       "(A .csv/.npy/.parquet file is read as a document-term count table.)")
    text.add_argument("--min-df", type=_document_frequency, default=1, metavar="N|P",
                      help="drop words in fewer documents than this count (or proportion); "
                           "default 1")
    text.add_argument("--max-df", type=_document_frequency, default=1.0, metavar="N|P",
                      help="drop words in more documents than this proportion (or count); "
                           "default 1.0")
    text.add_argument("--max-features", type=_positive_int, default=None, metavar="N",
                      help="keep only the N most frequent words")
    text.add_argument("--stop-words", choices=("english", "none"), default="none",
                      help="drop scikit-learn's English stop words (default: none)")
    text.add_argument("--lowercase", action=argparse.BooleanOptionalAction, default=True,
                      help="lower-case the texts before tokenising (default: yes)")
    text.add_argument("--learning-method", choices=("batch", "online"), default=None,
                      help="variational EM on all documents per pass, or online mini-batches "
                           "(default: batch)")
    text.add_argument("--top-words", type=_positive_int, default=10, metavar="N",
                      help="words printed per topic (default: 10)")


def _build_model(args, n_components):
    """A fresh estimator for ``args.model`` with the options given; returns (model, kind)."""
    import inspect

    import emkit

    class_name, kind, _ = MODELS[args.model]
    cls = getattr(emkit, class_name)
    accepted = set(inspect.signature(cls.__init__).parameters)
    given = {"n_init": args.n_init, "max_iter": args.max_iter,
             "covariance_type": args.covariance_type,
             "n_mix": getattr(args, "n_mix", None),
             "missing": None if args.missing == "error" else args.missing,
             "weight_concentration_prior_type": getattr(args, "weight_prior", None),
             "learning_method": getattr(args, "learning_method", None)}
    given = {key: value for key, value in given.items() if value is not None}
    for key in given:
        if key not in accepted:
            raise CLIError(f"{_MODEL_FLAGS[key]} does not apply to --model {args.model}")
    if "covariance_type" not in given and class_name in ("GaussianMixture", "GaussianHMM"):
        given["covariance_type"] = "full"  # the command line's default since the start
    options = {"random_state": args.seed, **given}
    # verbose=1 is the engine's delayed progress bar (fit_em). LDA's verbose is
    # scikit-learn's line per pass on stdout instead, which would bury the
    # results, so LDA stays quiet.
    if "verbose" in accepted and kind != "text":
        options["verbose"] = _verbose(args)
    try:
        model = cls(n_components, **options)
    except (TypeError, ValueError) as exc:
        raise CLIError(f"--model {args.model}: {exc}") from None
    return model, kind


class _Inputs:
    """What a model is fitted on or applied to, read from one data file.

    ``X`` (n_samples, n_features) float64 (a sparse count matrix for texts),
    ``names`` its columns (the vocabulary for texts), ``lengths`` (HMMs),
    ``y`` (regression targets), ``documents`` (text names).
    """

    def __init__(self, X, names, *, lengths=None, y=None, documents=None):
        self.X, self.names, self.lengths, self.y, self.documents = X, names, lengths, y, documents

    @property
    def n_samples(self):
        return self.X.shape[0]

    def call_args(self, kind):
        """The positional arguments of fit, score, bic and predict_proba for ``kind``."""
        if kind == "hmm":
            return (self.X, self.lengths)
        if kind == "regression" and self.y is not None:
            return (self.X, self.y)
        return (self.X,)


def _fit_one(model, kind, inputs, lengths=None):
    """Fit ``model``; return the warning messages. ``inputs``: an _Inputs (or X, lengths)."""
    if not isinstance(inputs, _Inputs):
        inputs = _Inputs(inputs, None, lengths=lengths)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(*inputs.call_args(kind))
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
            raise CLIError(f"fitting failed: {exc}", exit_code=1) from None
    messages = []
    for warning in caught:
        text = f"{warning.category.__name__}: {warning.message}"
        if text not in messages:
            messages.append(text)
    return messages


def _criterion(model, kind, X, lengths=None):
    inputs = X if isinstance(X, _Inputs) else _Inputs(X, None, lengths=lengths)
    return model.bic(*inputs.call_args(kind))


def _total_log_likelihood(model, kind, inputs):
    """log p(data): HMMs' and LDA's ``score`` is a total, the others' a mean per sample."""
    score = float(model.score(*inputs.call_args(kind)))
    return score if kind in ("hmm", "text") else score * inputs.n_samples


def _probabilities(model, kind, inputs):
    """(extra leading columns, probabilities) of every row, or a CLIError if the model has none."""
    extra = []
    if kind == "text":
        extra.append(("document", inputs.documents))
        return extra, model.transform(inputs.X)
    if kind == "regression":
        extra.append(("prediction", [format(float(v), ".10g") for v in model.predict(inputs.X)]))
    if not hasattr(model, "predict_proba"):
        raise CLIError(f"a {type(model).__name__} gives no component probabilities")
    return extra, model.predict_proba(*inputs.call_args(kind))


def _check_data_flags(args, kind):
    """--sequence-column and --target against the model's kind (``fit`` and ``report``)."""
    if args.sequence_column and kind in ("regression", "text"):
        raise CLIError(f"--sequence-column applies to HMMs (and mixtures, which drop the id "
                       f"column), not --model {args.model}")
    if args.target and kind != "regression":
        raise CLIError(f"--target applies to the regression models (regression, experts), "
                       f"not --model {args.model}")
    if kind == "regression" and not args.target:
        raise CLIError(f"--model {args.model} needs --target COLUMN, the response column")


def run_fit(args) -> int:
    """``emkit fit``: fit a model to a data file, choosing K by BIC for a range."""
    class_name, kind, _ = MODELS[args.model]
    _check_data_flags(args, kind)
    if len(args.n_components) > 1:
        import emkit

        if not hasattr(getattr(emkit, class_name), "bic"):
            why = _SINGLE_K.get(class_name, "it has no BIC to choose K by; give one K")
            raise CLIError(f"--model {args.model} takes one K, not a range: {why}")
    inputs = _read_fit_inputs(args, kind)
    fits = []
    for k in args.n_components:
        if inputs.n_samples < k and kind != "text":  # topics may outnumber documents
            raise CLIError(f"{args.csv}: {inputs.n_samples} data row(s) but -k {k} components; "
                           f"need at least as many rows as components.")
        model, kind = _build_model(args, k)
        _report_warnings(_fit_one(model, kind, inputs),
                         prefix=f"K={k}: " if len(args.n_components) > 1 else "")
        score = _criterion(model, kind, inputs) if len(args.n_components) > 1 else 0.0
        fits.append((score, k, model))
    if len(fits) > 1:
        print(_table(["K", "BIC (lower is better)"],
                     [[str(k), _fixed(bic)] for bic, k, _ in fits], indent="  "))
    bic, k, model = min(fits, key=lambda fit: fit[0])
    if len(fits) > 1:
        print(f"\nChosen by BIC: K = {k}\n")
    if "verbose" in model.get_params():
        # The progress bar is the command line's; the printed and saved model has the
        # library's default, so a refit in Python is quiet.
        model.set_params(verbose=0)
    if kind == "text":
        if _is_text_path(args.csv):  # texts: keep what predict needs to tokenise new ones
            model.vocabulary_ = np.asarray(inputs.names, dtype=str)
            model.vectorizer_params_ = _vectorizer_params(args)
        print(format_topics_summary(model, inputs.X, inputs.names, n_words=args.top_words))
    elif class_name == "GaussianMixture" and not np.isnan(inputs.X).any():
        print(format_fit_summary(model, inputs.X, inputs.names))
    else:
        print(format_model_summary(model, inputs.X, inputs.names, inputs.lengths, y=inputs.y))
    if args.save:
        import emkit

        try:
            emkit.save(model, args.save)  # every estimator, with or without a save method
        except OSError as exc:
            raise CLIError(f"cannot write {args.save}: {exc.strerror or exc}") from None
        print(f"\nModel saved to {args.save} (load it with emkit.load or `emkit predict`)")
    if args.labels:
        extra, probabilities = _probabilities(model, kind, inputs)
        _write_assignments(args.labels, probabilities, extra)
        print(f"\nLabels and probabilities written to {args.labels}")
    return 0


# ------------------------------------------------------------ reading model inputs
def _read_fit_inputs(args, kind):
    vectorizer_flags = [flag for flag, value, default in (
        ("--min-df", args.min_df, 1), ("--max-df", args.max_df, 1.0),
        ("--max-features", args.max_features, None), ("--stop-words", args.stop_words, "none"),
        ("--no-lowercase", args.lowercase, True)) if value != default]
    if vectorizer_flags and not (kind == "text" and _is_text_path(args.csv)):
        raise CLIError(f"{vectorizer_flags[0]} applies to texts (--model lda on a folder or a "
                       f"text file), not to {args.csv}")
    if kind == "text":
        return _read_text_inputs(args)
    extra = args.target if kind == "regression" else args.sequence_column
    flag = "--target" if kind == "regression" else "--sequence-column"
    return _read_numeric_inputs(args, kind, extra, flag, allow_missing=args.missing != "error")


def _read_numeric_inputs(args, kind, extra, flag, allow_missing):
    """The _Inputs of a table; ``extra`` (a column token or None) is the target or sequence id."""
    if extra is None:
        X, names = read_table(args.csv, columns=args.columns, delimiter=args.delimiter,
                              header=args.header, allow_missing=allow_missing)
        return _Inputs(X, names)
    # The extra column names a column of the file; --columns picks the inputs among the rest.
    tokens = None if args.columns is None else [t.strip() for t in args.columns.split(",")]
    if tokens is None:
        X, names = read_table(args.csv, delimiter=args.delimiter, header=args.header,
                              allow_missing=allow_missing)
        j = _column_position(args.csv, names, extra, flag)
    else:
        if extra not in tokens:
            tokens.append(extra)
        j = tokens.index(extra)
        X, names = read_table(args.csv, columns=",".join(tokens), delimiter=args.delimiter,
                              header=args.header, allow_missing=allow_missing)
    column = X[:, j].copy()
    keep = [i for i in range(len(names)) if i != j]
    if not keep:
        raise CLIError(f"{args.csv}: no columns left besides {flag} {extra!r}")
    X, names = np.ascontiguousarray(X[:, keep]), [names[i] for i in keep]
    if flag == "--target":
        return _Inputs(X, names, y=column)
    return _Inputs(X, names, lengths=_sequence_lengths(args.csv, column, extra))


def _sequence_lengths(path, ids, column):
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    if np.unique(ids).size != starts.size:
        raise CLIError(f"{path}: the rows of a sequence in {column!r} must be consecutive; "
                       f"sort the file by that column first")
    return np.diff(np.r_[starts, ids.size])


def _split_sequences(args, X, names):
    """(X without the id column, names, lengths) for HMM input (for other subcommands;
    ``fit``, ``predict`` and ``score`` read it with :func:`_read_numeric_inputs`)."""
    if not args.sequence_column:
        return X, names, None
    j = _column_position(args.csv, names, args.sequence_column, "--sequence-column")
    lengths = _sequence_lengths(args.csv, X[:, j], args.sequence_column)
    keep = [i for i in range(len(names)) if i != j]
    return np.ascontiguousarray(X[:, keep]), [names[i] for i in keep], lengths


def _vectorizer_params(args):
    """The CountVectorizer options of ``emkit fit``'s text flags."""
    return {"min_df": args.min_df, "max_df": args.max_df, "max_features": args.max_features,
            "stop_words": None if args.stop_words == "none" else args.stop_words,
            "lowercase": bool(args.lowercase)}


def _is_text_path(path):
    return os.path.isdir(path) or Path(os.fspath(path)).suffix.lower() not in _TABLE_SUFFIXES


def read_texts(path):
    """Documents from a folder of .txt files (one each, sorted) or one document per line.

    Returns
    -------
    documents : list of str
    names : list of str
        The file (relative to the folder) or ``line N`` of every document.
    """
    name = os.fspath(path)
    if not os.path.exists(name):
        raise CLIError(f"{name}: no such file or folder")
    try:
        if os.path.isdir(name):
            files = sorted(p for p in Path(name).rglob("*.txt") if p.is_file())
            if not files:
                raise CLIError(f"{name}: no .txt files in the folder")
            documents = [p.read_text(encoding="utf-8-sig") for p in files]
            names = [p.relative_to(name).as_posix() for p in files]
        else:
            lines = Path(name).read_text(encoding="utf-8-sig").splitlines()
            kept = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
            if not kept:
                raise CLIError(f"{name}: the file has no documents (one per line)")
            names = [f"line {i}" for i, _ in kept]
            documents = [line for _, line in kept]
    except UnicodeDecodeError as exc:
        raise CLIError(f"{name}: not a UTF-8 text file ({exc.reason} at byte "
                       f"{exc.start})") from None
    except OSError as exc:
        raise CLIError(f"{name}: cannot read: {exc.strerror or exc}") from None
    return documents, names


def _read_text_inputs(args, model=None):
    """_Inputs of texts (or of a count table): counts, vocabulary, document names.

    ``model``: a saved topic model, whose ``vocabulary_`` and
    ``vectorizer_params_`` tokenise new texts as its own were; None fits a
    vocabulary with ``args``' flags.
    """
    if not _is_text_path(args.csv):
        if model is not None and hasattr(model, "vocabulary_"):
            raise CLIError(f"{args.csv}: the model was fitted on texts; give a folder of .txt "
                           f"files or a text file with one document per line")
        X, names = read_table(args.csv, columns=args.columns, delimiter=args.delimiter,
                              header=args.header)
        return _Inputs(X, names, documents=[str(i) for i in range(X.shape[0])])
    from sklearn.feature_extraction.text import CountVectorizer

    documents, doc_names = read_texts(args.csv)
    if model is not None:
        vectorizer = getattr(model, "vectorizer_params_", None)
        if vectorizer is None or not hasattr(model, "vocabulary_"):
            raise CLIError(f"{args.csv}: {args.model} was fitted on a count table, not on "
                           f"texts; give it a table with its {model.n_features_in_} columns")
        counter = CountVectorizer(vocabulary=[str(w) for w in model.vocabulary_],
                                  lowercase=vectorizer["lowercase"])
    else:
        counter = CountVectorizer(**_vectorizer_params(args))
    try:
        counts = counter.fit_transform(documents)
    except ValueError as exc:  # e.g. an empty vocabulary after --min-df/--stop-words
        raise CLIError(f"{args.csv}: {exc} (see --min-df, --max-df, --max-features, "
                       f"--stop-words)") from None
    return _Inputs(counts, [str(w) for w in counter.get_feature_names_out()],
                   documents=doc_names)


# ------------------------------------------------------------------ summaries
def format_model_summary(model, X, feature_names=None, lengths=None, *, y=None) -> str:
    """A short summary of any fitted emkit model: fit quality and its parameters.

    Parameters
    ----------
    model : fitted emkit estimator
    X : ndarray of shape (n_samples, n_features)
    feature_names : list of str, optional
    lengths : ndarray of shape (n_sequences,), optional
        HMMs: the sequence lengths.
    y : ndarray of shape (n_samples,), optional
        Regression models: the responses.
    """
    kind = "hmm" if lengths is not None or hasattr(model, "transmat_") else _kind_of(model)
    inputs = _Inputs(X, feature_names, lengths=lengths, y=y)
    if hasattr(model, "inertia_"):  # k-means: no likelihood
        quality = f"  inertia (within-cluster sum of squares): {_fixed(model.inertia_)}"
    else:
        quality = f"  log-likelihood: {_fixed(_total_log_likelihood(model, kind, inputs))}"
    if hasattr(model, "bic"):
        quality += f"   BIC: {_fixed(model.bic(*inputs.call_args(kind)))}"
    if kind == "regression":
        quality += " (of the target given the inputs)"
    lines = [f"Model: {' '.join(repr(model).split())}",
             f"  fitted on {X.shape[0]} samples x {X.shape[1]} feature(s)"
             + (f" in {len(lengths)} sequence(s)" if lengths is not None else ""),
             f"  converged: {'yes' if getattr(model, 'converged_', False) else 'NO'} after "
             f"{getattr(model, 'n_iter_', 0)} EM iteration(s)",
             quality]
    if type(model).__name__ in _SINGLE_K and hasattr(model, "weights_"):
        used = int((model.weights_ > 0.01).sum())
        lines.append(f"  components in use (weight > 1%): {used} of {model.n_components}")
    for name in _SUMMARY_ATTRIBUTES:
        value = getattr(model, name, None)
        if isinstance(value, np.ndarray) and value.size <= 200:
            shown = np.array2string(value, precision=4, suppress_small=True,
                                    max_line_width=100).replace("\n", "\n    ")
            lines += [f"  {name}:", f"    {shown}"]
    return "\n".join(lines)


def format_topics_summary(model, counts, vocabulary, n_words=10) -> str:
    """A fitted topic model: bound, perplexity, and every topic's prevalence and top words.

    Parameters
    ----------
    model : fitted LatentDirichletAllocation
    counts : {ndarray, sparse matrix} of shape (n_documents, n_words)
    vocabulary : sequence of str of length n_words
    n_words : int
        Words shown per topic.
    """
    from .topics import top_words

    prevalence = model.transform(counts).mean(axis=0)
    words = top_words(model, vocabulary, n=n_words)
    lines = [f"Model: {' '.join(repr(model).split())}",
             f"  {model.n_components} topic(s), fitted on {counts.shape[0]} document(s), "
             f"{counts.shape[1]} word(s) in the vocabulary",
             f"  {model.n_iter_} pass(es); variational bound {_fixed(model.score(counts))}, "
             f"perplexity {_num(model.perplexity(counts))}",
             "", "Topics (share of the documents' words, top words first):"]
    rows = [[str(k), _num(prevalence[k], 3), " ".join(words[k])]
            for k in range(model.n_components)]
    lines.append(_table(["topic", "share", "top words"], rows, indent="  "))
    return "\n".join(lines)


def _write_assignments(path, probabilities, extra=()):
    try:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            _write_probability_rows(handle, probabilities, extra, digits=10)
    except OSError as exc:
        raise CLIError(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_probability_rows(handle, probabilities, extra=(), digits=10):
    """CSV rows ``[extra..., label, prob_0, ...]``; ``extra``: (header, values) pairs."""
    K = probabilities.shape[1]
    labels = probabilities.argmax(axis=1)
    writer = csv.writer(handle)
    writer.writerow([header for header, _ in extra] + ["label"]
                    + [f"prob_{k}" for k in range(K)])
    for i, (label, row) in enumerate(zip(labels, probabilities)):
        writer.writerow([values[i] for _, values in extra] + [int(label)]
                        + [format(float(p), f".{digits}g") for p in row])


# ------------------------------------------------------------------ CSV reading
def _parse_cell(cell):
    """``float(cell)``, or None when the cell is not a number (missing markers give nan)."""
    try:
        return float(cell)
    except ValueError:
        return math.nan if cell.lower() in _MISSING_MARKERS else None


def read_table(path, *, columns=None, delimiter=",", header=None, allow_missing=False):
    """Read a data file by its suffix: .npy, .parquet, else CSV.

    Parameters
    ----------
    path : str or path-like
    columns : str or None
        Comma-separated column names or 0-based indices to keep.
    delimiter, header : see :func:`read_numeric_csv`
    allow_missing : bool
        Keep empty cells and NaN as NaN (for ``--missing marginalize``)
        instead of naming them as an error.

    Returns
    -------
    X : ndarray of shape (n_rows, n_columns), float64
    feature_names : list of str
    """
    name = os.fspath(path)
    suffix = Path(name).suffix.lower()
    if not os.path.exists(name):
        raise CLIError(f"{name}: no such file")
    if suffix == ".npy":
        try:
            X = np.load(name, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise CLIError(f"{name}: not a readable .npy array ({exc})") from None
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2 or X.dtype.kind not in "biuf":
            raise CLIError(f"{name}: expected a 2-D numeric array, got {X.ndim}-D {X.dtype}")
        X, names = np.asarray(X, dtype=np.float64), [f"x{j}" for j in range(X.shape[1])]
    elif suffix in (".parquet", ".pq"):
        try:
            import pandas as pd

            frame = pd.read_parquet(name)
        except ImportError as exc:
            raise CLIError(f"{name}: reading Parquet needs pandas and pyarrow "
                           f"(pip install pandas pyarrow): {exc}") from None
        except Exception as exc:  # pyarrow's errors have no common base here
            raise CLIError(f"{name}: not a readable Parquet file ({exc})") from None
        names = [str(column) for column in frame.columns]
        non_numeric = [c for c, dtype in zip(names, frame.dtypes) if dtype.kind not in "biuf"]
        if non_numeric and columns is None:
            raise CLIError(f"{name}: non-numeric column(s) {', '.join(non_numeric)}; pick the "
                           f"numeric ones with --columns")
        if non_numeric:
            X, names = _select_columns(name, frame, names, columns)
            columns = None
        else:
            X = frame.to_numpy(dtype=np.float64)
    else:
        X, names = _read_csv_table(name, delimiter, header, allow_missing)
    X, names = _select_columns(name, X, names, columns)
    if not allow_missing:
        bad = ~np.isfinite(X)
        if bad.any():
            row, column = map(int, np.argwhere(bad)[0])
            raise CLIError(f"{name}: row {row + 1}, column {names[column]!r} is missing or "
                           f"infinite; remove it or use --missing marginalize")
    return X, names


def _read_csv_table(name, delimiter, header, allow_missing):
    if not allow_missing:
        return read_numeric_csv(name, delimiter=delimiter, header=header)
    # With missing values allowed, empty cells and NA markers become NaN.
    import pandas as pd

    try:
        frame = pd.read_csv(name, sep=delimiter,
                            header=0 if header in (None, True) else None)
    except Exception as exc:
        raise CLIError(f"{name}: cannot read as CSV ({exc})") from None
    if header is None and all(_parse_cell(str(c)) is not None for c in frame.columns):
        frame = pd.read_csv(name, sep=delimiter, header=None)
    names = [str(c) if header is not False else f"x{j}" for j, c in enumerate(frame.columns)]
    try:
        return frame.to_numpy(dtype=np.float64), names
    except ValueError as exc:
        raise CLIError(f"{name}: non-numeric data ({exc})") from None


def _select_columns(name, X, names, columns):
    if columns is None:
        return X, names
    picked = [_column_position(name, names, part.strip()) for part in columns.split(",")]
    if hasattr(X, "iloc"):  # a DataFrame with non-numeric columns elsewhere
        try:
            return X.iloc[:, picked].to_numpy(dtype=np.float64), [names[i] for i in picked]
        except ValueError:
            raise CLIError(f"{name}: the chosen columns are not all numeric") from None
    return np.ascontiguousarray(X[:, picked]), [names[i] for i in picked]


def _column_position(name, names, token, flag=None):
    """The index of the column named ``token`` (a name, or a 0-based index) in ``names``."""
    if token in names:
        return names.index(token)
    if token.lstrip("-").isdigit() and -len(names) <= int(token) < len(names):
        return int(token) % len(names)
    raise CLIError(f"{name}: no column {token!r}{f' for {flag}' if flag else ''}; the columns "
                   f"are {', '.join(names)} (or indices 0..{len(names) - 1})")


def read_numeric_csv(path, *, delimiter=",", header=None):
    """Read a numeric CSV file, with one-line :class:`CLIError` messages for bad input.

    The rows are parsed as they are read into one growing float64 buffer, so
    the memory taken is that of the numbers (8 bytes a value), not of the text.

    Parameters
    ----------
    path : str or path-like
    delimiter : str, default=","
    header : bool or None, default=None
        Whether the first non-blank row is a header; None detects it: a first
        row with a cell that is neither a number nor a missing-value marker is
        a header.

    Returns
    -------
    X : ndarray of shape (n_rows, n_columns), float64, all finite
    feature_names : list of str
        From the header, or ``x0, x1, ...``.

    Raises
    ------
    CLIError
        Missing or unreadable file, empty file, a non-numeric cell (line and
        column named), rows of different lengths, missing or infinite values.
    """
    name = os.fspath(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return _parse_numeric_rows(name, csv.reader(handle, delimiter=delimiter), delimiter,
                                       header)
    except FileNotFoundError:
        raise CLIError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise CLIError(f"{name}: is a directory, not a CSV file (a folder of texts is "
                       f"for --model lda)") from None
    except PermissionError:
        raise CLIError(f"{name}: permission denied") from None
    except UnicodeDecodeError:
        raise CLIError(f"{name}: not a UTF-8 text file") from None
    except csv.Error as exc:
        raise CLIError(f"{name}: malformed CSV: {exc}") from None
    except OSError as exc:
        raise CLIError(f"{name}: cannot read: {exc.strerror or exc}") from None


def _parse_numeric_rows(name, reader, delimiter, header):
    """The values of ``reader``'s non-blank rows (see :func:`read_numeric_csv`)."""
    values = array("d")
    feature_names = None
    for row in reader:
        row = [cell.strip() for cell in row]
        if not any(row):  # skip blank lines
            continue
        line = reader.line_num
        if feature_names is None:
            first_line = line
            if header is None:
                header = any(_parse_cell(cell) is None for cell in row)
            if header:
                feature_names = [cell or f"x{j}" for j, cell in enumerate(row)]
                width_source = f"the header (line {line})"
                continue
            feature_names = [f"x{j}" for j in range(len(row))]
            width_source = f"line {line}"
        if len(row) != len(feature_names):
            raise CLIError(
                f"{name}: line {line} has {len(row)} field(s) but {width_source} has "
                f"{len(feature_names)}; every row needs the same number of columns (delimiter "
                f"{delimiter!r})")
        try:
            parsed = [float(cell) for cell in row]
            total = sum(parsed)
            clean = total - total == 0.0  # False for a nan or an infinity (or an overflow)
        except ValueError:
            clean = False
        if not clean:
            parsed = _checked_row(name, line, row, feature_names, delimiter)
        values.extend(parsed)
    if feature_names is None:
        raise CLIError(f"{name}: the file is empty")
    if not values:
        raise CLIError(f"{name}: no data rows, only a header (line {first_line})")
    # A view of the buffer: no second copy of the data.
    return np.frombuffer(values, dtype=np.float64).reshape(-1, len(feature_names)), feature_names


def _checked_row(name, line, row, feature_names, delimiter):
    """The values of one row, or the CLIError that names its first bad cell."""
    parsed = []
    for j, cell in enumerate(row):
        value = _parse_cell(cell)
        where = f"{name}: line {line}, column {j + 1} ({feature_names[j]!r})"
        if value is None:
            raise CLIError(f"{where}: {cell!r} is not a number"
                           + _delimiter_hint(cell, delimiter))
        if math.isnan(value):
            shown = "empty cell" if cell == "" else repr(cell)
            raise CLIError(f"{where}: missing value ({shown}); impute it or remove the "
                           f"row before fitting")
        if math.isinf(value):
            raise CLIError(f"{where}: infinite value ({cell!r}); remove the row or "
                           f"replace the value before fitting")
        parsed.append(value)
    return parsed


def _delimiter_hint(cell, delimiter):
    for candidate in (",", ";", "\t", " ", "|"):
        if candidate != delimiter and candidate in cell.strip():
            return f" (is the delimiter {candidate!r} rather than {delimiter!r}? see --delimiter)"
    return ""


# -------------------------------------------------------------------- fitting
def fit_quietly(model, X):
    """Fit ``model`` on ``X``; return the warning messages instead of printing them.

    Raises :class:`CLIError` (exit code 1) when the fit fails.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
            raise CLIError(f"fitting failed: {exc}", exit_code=1) from None
    messages = []
    for warning in caught:
        text = f"{warning.category.__name__}: {warning.message}"
        if text not in messages:
            messages.append(text)
    return messages


def _report_warnings(messages, prefix=""):
    for message in messages:
        print(f"{_PROG}: warning: {prefix}{message}", file=sys.stderr)


# ----------------------------------------------------------------- formatting
def _num(value, digits=5):
    return format(float(value), f".{digits}g")


def _fixed(value):
    return format(float(value), ".2f")


def _table(header, rows, indent=""):
    """Rows of strings as text columns: the first left-aligned, the others right-aligned."""
    widths = [max(len(str(row[j])) if j < len(row) else 0 for row in [header, *rows])
              for j in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [str(row[j]) if j < len(row) else "" for j in range(len(header))]
        text = "  ".join(cell.ljust(widths[j]) if j == 0 else cell.rjust(widths[j])
                         for j, cell in enumerate(cells))
        lines.append(indent + text.rstrip())
    return "\n".join(lines)


def format_fit_summary(model, X, feature_names=None) -> str:
    """A readable summary of a fitted Gaussian mixture.

    Parameters
    ----------
    model : fitted GaussianMixture
    X : ndarray of shape (n_samples, n_features)
        The data it was fitted on (for the log-likelihood, BIC and cluster sizes).
    feature_names : list of str, optional

    Returns
    -------
    str
        Model, convergence, log-likelihood, BIC/AIC, then weights, means and
        covariances as tables.
    """
    n, D = X.shape
    K = model.n_components
    names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(D)]
    loglik = float(model.score(X)) * n
    sizes = np.bincount(model.predict(X), minlength=K)
    lines = [
        f"Model: {' '.join(repr(model).split())}",
        f"  {K} component(s), {model.covariance_type} covariance, fitted on {n} samples x "
        f"{D} feature(s)",
        f"  converged: {'yes' if model.converged_ else 'NO'} after {model.n_iter_} EM "
        f"iteration(s) (best of n_init={model.n_init} restarts)",
        f"  log-likelihood: {_fixed(loglik)} ({_num(loglik / n)} per sample)",
        f"  BIC: {_fixed(model.bic(X))}   AIC: {_fixed(model.aic(X))}   "
        f"free parameters: {model.n_parameters()}",
    ]
    if getattr(model, "n_repairs_", 0):
        lines.append(f"  collapsed components re-seeded: {model.n_repairs_}")
    lines += ["", "Weights and means:"]
    rows = [[str(k), _num(model.weights_[k], 4), str(sizes[k]),
             *(_num(v) for v in model.means_[k])] for k in range(K)]
    lines.append(_table(["component", "weight", "n assigned", *names], rows, indent="  "))
    lines += ["", f"Covariances ({model.covariance_type}):"]
    lines.append(_format_covariances(model.covariances_, model.covariance_type, K, names))
    return "\n".join(lines)


def _matrix_table(matrix, names, indent):
    rows = [[names[i], *(_num(v) for v in matrix[i])] for i in range(len(names))]
    return _table(["", *names], rows, indent=indent)


def _format_covariances(covariances, covariance_type, K, names):
    covariances = np.asarray(covariances)
    if covariance_type == "full" or covariances.ndim == 3:  # mclust names: (K, D, D)
        blocks = [f"  component {k}:\n" + _matrix_table(covariances[k], names, "    ")
                  for k in range(K)]
        return "\n".join(blocks)
    if covariance_type == "tied":
        return "  shared by all components:\n" + _matrix_table(covariances, names, "    ")
    if covariance_type == "diag":
        rows = [[str(k), *(_num(v) for v in covariances[k])] for k in range(K)]
        return _table(["component", *(f"var({name})" for name in names)], rows, indent="  ")
    rows = [[str(k), _num(covariances[k])] for k in range(K)]
    return _table(["component", "variance (every feature)"], rows, indent="  ")


# ----------------------------------------------------------------------- select
def _components_range(text):
    """``"1:9"``, ``"1-9"``, ``"2,3,5"`` or ``"4"`` -> list of positive ints."""
    try:
        values = []
        for part in text.replace(" ", "").split(","):
            separator = ":" if ":" in part else ("-" if "-" in part[1:] else None)
            if separator:
                start, stop = part.split(separator, 1)
                values.extend(range(int(start), int(stop) + 1))
            else:
                values.append(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers of components like '1:9', '2,3,5' or '4'; got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"numbers of components must be >= 1; got {text!r}")
    return sorted(set(values))


def _add_select_parser(subparsers):
    parser = subparsers.add_parser(
        "select", help="choose the number of components and covariance structure (mclust)",
        description="Fit Gaussian mixtures over a grid of numbers of components and R "
                    "mclust's 14 covariance structures (EII ... VVV), each from one "
                    "hierarchical clustering as mclustBIC does, print the BIC (or ICL) "
                    "table and the chosen model.",
        formatter_class=_HelpFormatter,
        epilog="examples:\n  emkit select faithful.csv\n"
               "  emkit select data.csv -k 1:5 --covariance-types EEE,VVV --criterion icl\n"
               "  emkit select data.csv --prior default --table bic.csv --plot bic.png")
    _add_data_arguments(parser)
    parser.add_argument("-k", "--n-components", dest="n_components", type=_components_range,
                        default=list(range(1, 10)), metavar="RANGE",
                        help="numbers of components to try: '1:9' (default), '2,3,5', '4'")
    parser.add_argument("--covariance-types", default="all", metavar="NAMES",
                        help="'all' (mclust's 14 structures; E and V for one column) or "
                             "comma-separated names such as 'EEE,VVV,full'")
    parser.add_argument("--criterion", choices=("bic", "icl"), default="bic",
                        help="what chooses the model (default: bic)")
    parser.add_argument("--prior", choices=("none", "default"), default="none",
                        help="'default': mclust's conjugate prior (MAP), for all 14 structures")
    parser.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                        help="threads fitting structures concurrently (default: 1)")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="random seed (used for more than 2000 rows; default: 0)")
    parser.add_argument("--table", metavar="FILE",
                        help="write the full table (one row per fit, both BIC conventions) "
                             "as CSV")
    parser.add_argument("--plot", metavar="FILE",
                        help="write the criterion curves (mclust's plot.mclustBIC) to an image")
    _add_progress_arguments(parser)
    parser.set_defaults(func=run_select)


def run_select(args) -> int:
    """``emkit select``: mclust-style model selection on a CSV file."""
    from .selection import TABLE_COLUMNS, select_model

    X, names = read_table(args.csv, columns=args.columns, delimiter=args.delimiter,
                          header=args.header)
    if X.shape[0] < 2:
        raise CLIError(f"{args.csv}: {X.shape[0]} data row(s); model selection needs at "
                       f"least 2.")
    components = [k for k in args.n_components if k <= X.shape[0]]
    if not components:
        raise CLIError(f"{args.csv}: {X.shape[0]} data row(s), fewer than the smallest "
                       f"number of components asked for ({args.n_components[0]}).")
    types = args.covariance_types
    types = "all" if types.strip().lower() == "all" else [t.strip() for t in types.split(",")]
    start = time.perf_counter()
    try:
        result = select_model(X, n_components=components, covariance_types=types,
                              criterion=args.criterion,
                              prior=None if args.prior == "none" else "default",
                              n_jobs=args.jobs, random_state=args.seed,
                              verbose=_verbose(args))
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    except RuntimeError as exc:
        raise CLIError(f"model selection failed: {exc}", exit_code=1) from None
    elapsed = time.perf_counter() - start
    n_fits = len(result.rows)
    print(f"{args.csv}: {X.shape[0]} samples x {X.shape[1]} feature(s); {n_fits} fits "
          f"({len(result.n_components)} numbers of components x "
          f"{len(result.covariance_types)} covariance structures) in {elapsed:.2f} s.\n")
    print(result.summary())
    failed = [row for row in result.rows if row["status"] not in ("ok", "repaired")]
    if failed:
        print(f"\n{len(failed)} fit(s) failed (NA): "
              + ", ".join(f"{row['covariance_type']},{row['n_components']}" for row in failed))
    best = result.best_params_
    print(f"\nChosen by {args.criterion.upper()}: {best['covariance_type']} with "
          f"{best['n_components']} component(s), {args.criterion.upper()} "
          f"{result.best_score_:.3f} (mclust's convention; scikit-learn's: "
          f"{-result.best_score_:.3f})\n")
    print(format_fit_summary(result.best_estimator_, X, names))
    if args.table:
        try:
            with open(args.table, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(TABLE_COLUMNS)
                for row in result.rows:
                    writer.writerow([row[column] for column in TABLE_COLUMNS])
        except OSError as exc:
            raise CLIError(f"cannot write {args.table}: {exc.strerror or exc}") from None
        print(f"\nTable written to {args.table}")
    if args.plot:
        if _matplotlib_available():
            from .plotting import save_model_selection_plot

            try:
                save_model_selection_plot(result, args.plot,
                                          title=f"{Path(args.csv).name}: "
                                                f"{args.criterion.upper()} per structure")
            except OSError as exc:
                raise CLIError(f"cannot write the plot to {args.plot}: "
                               f"{exc.strerror or exc}") from None
            print(f"\nPlot written to {args.plot}")
    return 0


# ------------------------------------------------------ predict, score, sample
def _load_model(path):
    import emkit

    try:
        return emkit.load(path)
    except FileNotFoundError:
        raise CLIError(f"{path}: no such file") from None
    except (ValueError, OSError) as exc:
        raise CLIError(f"{path}: {exc}") from None


def _add_saved_model_argument(parser):
    parser.add_argument("model", metavar="model.emkit",
                        help="a model saved by `emkit fit -o` or model.save()")


def _add_predict_parser(subparsers):
    parser = subparsers.add_parser(
        "predict", help="labels and probabilities of new data under a saved model",
        formatter_class=_HelpFormatter,
        description="Write every row's most probable component (HMMs: state; lda: topic) "
                    "and the probabilities under a saved model. Regression models add the "
                    "predicted response; with --target the probabilities are given the "
                    "response too. Topic models read new texts with the saved vocabulary.",
        epilog="examples:\n  emkit predict best.emkit new.csv\n"
               "  emkit predict best.emkit new.csv -o labels.csv\n"
               "  emkit predict hmm.emkit series.csv --sequence-column id\n"
               "  emkit predict reg.emkit new_x.csv            # predictions of the response\n"
               "  emkit predict lda.emkit new_texts/ -o topics.csv")
    _add_saved_model_argument(parser)
    _add_data_arguments(parser, texts=True)
    _add_sequence_target_arguments(parser)
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write label,prob_0,... to FILE (default: print them)")
    parser.set_defaults(func=run_predict)


def _model_inputs(args, model, *, need_target=False):
    """The _Inputs of ``args.csv`` for the saved ``model``, checked against what it was fitted on."""
    kind = _kind_of(model)
    if kind == "text":
        inputs = _read_text_inputs(args, model)
    else:
        if args.target and kind != "regression":
            raise CLIError(f"--target applies to regression models; {args.model} holds a "
                           f"{type(model).__name__}")
        if need_target and kind == "regression" and not args.target:
            raise CLIError(f"scoring a {type(model).__name__} needs the response: give "
                           f"--target COLUMN")
        extra = args.target if kind == "regression" else args.sequence_column
        flag = "--target" if kind == "regression" else "--sequence-column"
        missing = getattr(model, "missing", "error") != "error"
        inputs = _read_numeric_inputs(args, kind, extra, flag, allow_missing=missing)
    expected = getattr(model, "n_features_in_", inputs.X.shape[1])
    if inputs.X.shape[1] != expected:
        hint = {"regression": "pick the inputs with --columns and the response with --target",
                "hmm": "pick them with --columns, the sequence ids with --sequence-column"}
        raise CLIError(f"{args.csv}: {inputs.X.shape[1]} column(s), but the model was fitted "
                       f"on {expected}; {hint.get(kind, 'pick them with --columns')}")
    return kind, inputs


def _model_data(args, model):
    """(X, names) of ``args.csv`` for the saved ``model`` (see :func:`_model_inputs`)."""
    _, inputs = _model_inputs(args, model)
    return inputs.X, inputs.names


def run_predict(args) -> int:
    """``emkit predict``: labels and probabilities under a saved model."""
    model = _load_model(args.model)
    kind, inputs = _model_inputs(args, model)
    try:
        extra, probabilities = _probabilities(model, kind, inputs)
    except ValueError as exc:
        raise CLIError(f"{args.csv}: {exc}") from None
    if args.output:
        _write_assignments(args.output, probabilities, extra)
        print(f"Labels and probabilities of {inputs.n_samples} rows written to {args.output}")
    else:
        _write_probability_rows(sys.stdout, probabilities, extra, digits=6)
    return 0


def _add_score_parser(subparsers):
    parser = subparsers.add_parser(
        "score", help="log-likelihood, BIC and AIC of data under a saved model",
        formatter_class=_HelpFormatter,
        description="Print the log-likelihood (total and per sample), BIC and AIC of a data "
                    "file under a saved model (regression models: of the response given the "
                    "inputs; lda: the variational bound and perplexity of new texts).",
        epilog="examples:\n  emkit score best.emkit test.csv\n"
               "  emkit score hmm.emkit series.csv --sequence-column id\n"
               "  emkit score reg.emkit test.csv --target y\n"
               "  emkit score lda.emkit held_out_texts/")
    _add_saved_model_argument(parser)
    _add_data_arguments(parser, texts=True)
    _add_sequence_target_arguments(parser)
    parser.set_defaults(func=run_score)


def run_score(args) -> int:
    """``emkit score``: how well a saved model explains a data file."""
    model = _load_model(args.model)
    kind, inputs = _model_inputs(args, model, need_target=True)
    n = inputs.n_samples
    try:
        total = _total_log_likelihood(model, kind, inputs)
        if kind == "text":
            quality = f"  perplexity: {_num(model.perplexity(inputs.X))}"
        elif hasattr(model, "bic"):
            call = inputs.call_args(kind)
            quality = f"  BIC: {_fixed(model.bic(*call))}   AIC: {_fixed(model.aic(*call))}"
        else:
            quality = None
    except ValueError as exc:
        raise CLIError(f"{args.csv}: {exc}") from None
    unit = "document" if kind == "text" else "sample"
    print(f"{args.csv}: {n} {unit}s under {type(model).__name__}")
    label = "variational bound" if kind == "text" else "log-likelihood"
    print(f"  {label}: {_fixed(total)} ({_num(total / n)} per {unit})")
    if quality:
        print(quality)
    return 0


def _add_sample_parser(subparsers):
    parser = subparsers.add_parser(
        "sample", help="draw samples from a saved model",
        formatter_class=_HelpFormatter,
        description="Draw samples from a saved model and write them as CSV (with each "
                    "sample's component or state in the last column).",
        epilog="examples:\n  emkit sample best.emkit -n 500 -o fake.csv\n"
               "  emkit sample best.emkit -n 5 --seed 1")
    _add_saved_model_argument(parser)
    parser.add_argument("-n", "--n-samples", type=_positive_int, default=100, metavar="N",
                        help="how many samples (default: 100)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed")
    parser.add_argument("-o", "--output", metavar="FILE", help="CSV file (default: print)")
    parser.set_defaults(func=run_sample)


def run_sample(args) -> int:
    """``emkit sample``: new data from a saved model."""
    model = _load_model(args.model)
    if _kind_of(model) == "regression":
        raise CLIError(f"{args.model}: a {type(model).__name__} draws responses for given "
                       f"inputs, not new samples; use model.sample(X) in Python")
    if not hasattr(model, "sample"):
        raise CLIError(f"{args.model}: a {type(model).__name__} cannot draw samples")
    X, labels = model.sample(args.n_samples, random_state=args.seed)
    header = [f"x{j}" for j in range(X.shape[1])] + ["component"]
    handle = sys.stdout
    try:
        if args.output:
            handle = open(args.output, "w", newline="", encoding="utf-8")
        writer = csv.writer(handle)
        writer.writerow(header)
        for row, label in zip(X, labels):
            writer.writerow([format(float(v), ".10g") for v in row] + [int(label)])
    except OSError as exc:
        raise CLIError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    finally:
        if handle is not sys.stdout:
            handle.close()
    if args.output:
        print(f"{args.n_samples} samples written to {args.output}")
    return 0


# ----------------------------------------------------------------------- report
def _add_report_parser(subparsers):
    models = "\n".join(f"  {name:18s} {help_}" for name, (_, _, help_) in MODELS.items())
    parser = subparsers.add_parser(
        "report", help="write a self-contained HTML report (selection, model, plots, EM view)",
        formatter_class=_HelpFormatter,
        description="Fit an emkit model (a Gaussian mixture by default) to a data file for "
                    "several numbers of components (states, topics, factors), choose one, "
                    "and write one HTML page, pictures embedded: the data summary, the "
                    "selection table (BIC/ICL; k-means: silhouette; lda: held-out "
                    "perplexity; gaussian: over covariance structures too), the chosen "
                    "model's parameters, its plots and the EM teaching view. Needs "
                    "matplotlib.\n\nModels (--model):\n" + models,
        epilog="examples:\n  emkit report data.csv -o report.html\n"
               "  emkit report data.csv -o report.html -k 1:9 --covariance-types all\n"
               "  emkit report counts.csv --model poisson -k 1:4 -o poisson.html\n"
               "  emkit report series.csv --model gaussian-hmm --sequence-column id "
               "-o hmm.html\n"
               "  emkit report xy.csv --model regression --target y -o reg.html\n"
               "  emkit report texts/ --model lda -k 2:10 --stop-words english -o lda.html")
    _add_data_arguments(parser, texts=True)
    parser.add_argument("-o", "--output", default="report.html", metavar="FILE",
                        help="the HTML file written (default: report.html)")
    parser.add_argument("--model", default="gaussian", metavar="NAME",
                        help="which model (default: gaussian; see above)")
    parser.add_argument("-k", "--n-components", dest="n_components", type=_components_range,
                        default=None, metavar="RANGE",
                        help="numbers of components (states, topics, factors) to try: '1:5', "
                             "'2,3,5', '4' (default: 1:5 for mixtures, 1:4 for HMMs, "
                             "2,4,...,10 topics, 10 for bayesian-gaussian)")
    parser.add_argument("--covariance-types", default=None, metavar="NAMES",
                        help="gaussian: 'all' (mclust's 14) or comma-separated names (default: "
                             "EII,VII,EEI,VVI,EEE,VVV; E,V for one column)")
    parser.add_argument("--covariance-type", default=None, metavar="TYPE",
                        help="one structure: full, tied, diag, spherical (gaussian: also an "
                             "mclust name, the grid's only one); default: the estimator's, "
                             "full for gaussian-hmm")
    parser.add_argument("--criterion", default=None,
                        choices=("bic", "icl", "aic", "silhouette", "perplexity"),
                        help="what chooses (default: bic; kmeans: silhouette; lda: "
                             "perplexity of held-out documents); icl: mixtures only")
    _add_estimator_arguments(parser)
    _add_text_arguments(parser)
    parser.add_argument("--teaching-iter", type=_positive_int, default=4, metavar="N",
                        help="EM iterations drawn in the teaching view (default: 4)")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="random seed (default: 0)")
    parser.set_defaults(func=run_report)


def run_report(args) -> int:
    """``emkit report``: a self-contained HTML report of a data file."""
    try:
        args.model = _model_name(args.model)
    except argparse.ArgumentTypeError as exc:
        raise CLIError(f"--model: {exc}") from None
    class_name, kind, _ = MODELS[args.model]
    _check_data_flags(args, kind)
    grid = args.model == "gaussian" and args.missing == "error"
    if args.covariance_types is not None and not grid:
        raise CLIError("--covariance-types is the Gaussian mixture's grid (--model gaussian "
                       "without --missing); for --model " + args.model + " give one "
                       "--covariance-type")
    if grid and args.n_init is not None:
        raise CLIError("--n-init does not apply to --model gaussian's grid: every cell starts "
                       "from mclust's hierarchical clustering (use --missing marginalize or "
                       "another --model for random restarts)")
    if grid and args.covariance_type is not None:
        if args.covariance_types is not None:
            raise CLIError("give --covariance-types (the grid) or --covariance-type, not both")
        args.covariance_types = args.covariance_type
    inputs = _read_fit_inputs(args, kind)
    if kind != "text" and inputs.n_samples < 2:
        raise CLIError(f"{args.csv}: {inputs.n_samples} data row(s); a report needs at "
                       f"least 2.")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CLIError("emkit report draws its pictures with matplotlib, which is not "
                       "installed; pip install matplotlib") from None
    from .report import write_report

    components = args.n_components
    if components is not None and kind != "text":  # topics may outnumber documents
        components = [k for k in components if k <= inputs.n_samples]
        if not components:
            raise CLIError(f"{args.csv}: {inputs.n_samples} data row(s), fewer than the "
                           f"smallest number of components asked for "
                           f"({args.n_components[0]}).")
    options = {"n_components": components, "criterion": args.criterion,
               "teaching_iter": args.teaching_iter, "random_state": args.seed,
               "title": f"emkit report: {Path(args.csv).name}"}
    if grid:
        types = args.covariance_types
        if types is not None and types.strip().lower() != "all":
            types = [t.strip() for t in types.split(",")]
        model = "gaussian"
        options["covariance_types"] = types
        if args.max_iter is not None:
            options["model_params"] = {"max_iter": args.max_iter}
    else:
        model, _ = _build_model(args, 1)
        if "verbose" in model.get_params():
            model.set_params(verbose=0)  # many fits; the page, not a bar, shows them
    if kind == "text":
        options.update(vocabulary=inputs.names, top_words=args.top_words)
    elif kind == "hmm":
        options.update(lengths=inputs.lengths, feature_names=inputs.names)
    elif kind == "regression":
        options.update(y=inputs.y, feature_names=inputs.names, target_name=args.target)
    else:
        options.update(feature_names=inputs.names)
    start = time.perf_counter()
    try:
        result = write_report(inputs.X, args.output, model=model, **options)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    except (RuntimeError, np.linalg.LinAlgError, FloatingPointError) as exc:
        raise CLIError(f"fitting failed: {exc}", exit_code=1) from None
    except OSError as exc:
        raise CLIError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    best = result.best_params_
    unit = {"hmm": "state", "text": "topic"}.get(kind, "component")
    if "covariance_type" in best:
        chosen = f"{best['covariance_type']} with {best['n_components']} component(s)"
    else:
        chosen = f"{best['n_components']} {unit}(s)"
    how = {"none": "nothing to choose", "perplexity": "chosen by held-out perplexity",
           "silhouette": "chosen by the silhouette"}.get(
               result.criterion, f"chosen by {result.criterion.upper()}")
    if kind == "text":
        shape = f"{inputs.n_samples} documents x {inputs.X.shape[1]} words"
    elif kind == "hmm":
        n_sequences = 1 if inputs.lengths is None else len(inputs.lengths)
        shape = (f"{inputs.n_samples} time steps x {inputs.X.shape[1]} feature(s) in "
                 f"{n_sequences} sequence(s)")
    else:
        shape = f"{inputs.n_samples} samples x {inputs.X.shape[1]} feature(s)"
    print(f"{args.csv}: {shape}; {type(result.best_estimator_).__name__}, {how}: {chosen}.")
    print(f"Report written to {args.output} in {time.perf_counter() - start:.1f} s.")
    return 0


# Subcommands, in the order --help lists them; append "_add_select_parser" etc. here.
_SUBCOMMANDS = (_add_demo_parser, _add_fit_parser, _add_select_parser, _add_predict_parser,
                _add_score_parser, _add_sample_parser, _add_report_parser)
