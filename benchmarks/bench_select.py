"""Model selection on Old Faithful: emkit's select_model vs R mclust's mclustBIC.

Usage::

    python benchmarks/bench_select.py               # 7 timed runs of each, medians
    python benchmarks/bench_select.py --repeats 3 --n-jobs 2

Both fit the same grid, G = 1..9 components x 14 covariance structures (126
EM fits, each from the cut at G of one hierarchical clustering, no restarts,
mclust's stopping rule), after one untimed warm-up run (numba's compiled
kernels load from their cache; R loads mclust). R is run through ``Rscript``
in a subprocess and times ``mclustBIC(faithful)`` itself with
``system.time``, so its start-up is not counted; without Rscript or mclust
the R side is skipped with a message. The two are timed alternately so that
load from other processes on the machine hits both alike. Also checks that
both choose the same model and how many of the 126 BICs agree within 0.1.

Goal (issue 3): emkit's median below mclust's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import time

import numpy as np

from emkit import datasets
from emkit.selection import BIC_MCLUST, select_model

_R_SCRIPT = r"""
suppressPackageStartupMessages(library(mclust))
X <- as.matrix(faithful)
invisible(mclustBIC(X))  # warm-up
t <- system.time(b <- mclustBIC(X))[["elapsed"]]
best <- summary(b, X)
cat(sprintf('{"seconds": %.6f, "model": "%s", "G": %d, "bic": [%s]}\n', t,
            best$modelName, best$G,
            paste(sprintf("%.10f", as.vector(t(b[, mclust.options("emModelNames")]))),
                  collapse = ",")))
"""


def time_mclust():
    """One timed mclustBIC(faithful) in R, or None when R or mclust is missing."""
    if shutil.which("Rscript") is None:
        return None
    completed = subprocess.run(["Rscript", "-e", _R_SCRIPT], capture_output=True, text=True,
                               timeout=300)
    if completed.returncode != 0:
        return None
    return json.loads(completed.stdout.strip().splitlines()[-1])


def time_emkit(X, n_jobs):
    started = time.perf_counter()
    result = select_model(X, n_jobs=n_jobs)
    return time.perf_counter() - started, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--n-jobs", type=int, default=None)
    args = parser.parse_args()

    X = datasets.load_old_faithful().data
    time_emkit(X, args.n_jobs)  # warm-up: loads (or compiles) the numba kernels
    emkit_times, mclust_times, mclust_run = [], [], None
    for _ in range(args.repeats):
        seconds, result = time_emkit(X, args.n_jobs)
        emkit_times.append(seconds)
        run = time_mclust()
        if run is not None:
            mclust_times.append(run["seconds"])
            mclust_run = run

    best = result.best_params_
    print(f"Old Faithful (272 x 2), G = 1..9 x 14 structures = {len(result.rows)} fits")
    print(f"emkit select_model (n_jobs={args.n_jobs}): "
          f"median {statistics.median(emkit_times):.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in emkit_times)}); "
          f"chose {best['covariance_type']},{best['n_components']} BIC {result.best_score_:.3f}")
    if mclust_run is None:
        print("mclust: skipped (Rscript or the R package mclust is not available)")
        return
    ratio = statistics.median(emkit_times) / statistics.median(mclust_times)
    print(f"mclust mclustBIC:            median {statistics.median(mclust_times):.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in mclust_times)}); "
          f"chose {mclust_run['model']},{mclust_run['G']}")
    verdict = "faster" if ratio < 1 else "slower"
    print(f"ratio emkit / mclust = {ratio:.2f} ({1 / ratio:.1f}x {verdict})")
    reference = np.array(mclust_run["bic"], dtype=float)  # G-major, mclust's model order
    ours = np.array([row[BIC_MCLUST] for row in result.rows])
    difference = ours - reference
    within = int(np.sum(np.abs(difference) <= 0.1))
    better = [(row["covariance_type"], row["n_components"], round(d, 3))
              for row, d in zip(result.rows, difference) if d > 0.1]
    worse = [(row["covariance_type"], row["n_components"], round(d, 3))
             for row, d in zip(result.rows, difference) if d < -0.1]
    print(f"BIC cells within 0.1 of mclust: {within}/{len(ours)}; better: {better}; "
          f"worse: {worse}")


if __name__ == "__main__":
    main()
