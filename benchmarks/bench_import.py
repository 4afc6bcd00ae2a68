"""``import emkit`` against ``import sklearn.mixture``, each in fresh processes.

Usage::

    python benchmarks/bench_import.py [--repeats 5]

Prints the median wall time of a new Python process that only imports the
module (the interpreter's own start-up measured alone and subtracted), and
the ratio. The issue's goal: ``import emkit`` costs no more than importing
scikit-learn's mixture module. emkit's names load on first use, so the
first model built pays for scikit-learn and the compiled kernels instead;
``benchmarks/bench_cold_start.py`` times that.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def process_seconds(code, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    bare = process_seconds("pass", args.repeats)
    emkit_s = max(process_seconds("import emkit", args.repeats) - bare, 1e-3)
    sklearn_s = process_seconds("import sklearn.mixture", args.repeats) - bare
    first_model = process_seconds("import emkit; emkit.GaussianMixture", args.repeats) - bare
    print(f"python start-up         {bare:.3f} s (subtracted below)")
    print(f"import emkit            {emkit_s:.3f} s")
    print(f"import sklearn.mixture  {sklearn_s:.3f} s")
    print(f"ratio emkit / sklearn   {emkit_s / sklearn_s:.3f}  (goal <= 1)")
    print(f"emkit.GaussianMixture   {first_model:.3f} s  (first use: loads scikit-learn "
          f"and the kernels)")


if __name__ == "__main__":
    main()
