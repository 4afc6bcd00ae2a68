"""Peak memory of ``emkit fit`` on a large CSV, against pandas.read_csv.

Usage::

    python benchmarks/bench_cli_csv.py [--rows 500000] [--columns 5]

Writes a CSV of ``--rows`` x ``--columns`` random numbers at full precision
(about 47 MB with the defaults; a header row), then runs in fresh processes
and reports each one's peak resident memory and time:

* ``import``: ``import emkit.cli`` only (the baseline every run pays);
* ``read``: ``emkit.cli.read_numeric_csv`` on the file;
* ``pandas``: ``pandas.read_csv(...).to_numpy()``, the peer;
* ``fit``: the whole command ``python -m emkit fit data.csv -k 2``.

Goal (issue 8): reading costs at most about twice the file size above the
baseline (it was 828 MB peak for ``emkit fit`` on a 47 MB file, rows kept as
lists of strings).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

_MEASURE = """
import resource, sys, time
started = time.perf_counter()
{body}
print("RESULT", time.perf_counter() - started,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
"""

BODIES = {
    "import": "import emkit.cli",
    "read": "import emkit.cli\nX, _ = emkit.cli.read_numeric_csv(sys.argv[1])",
    "pandas": "import emkit.cli, pandas\nX = pandas.read_csv(sys.argv[1]).to_numpy()",
    "fit": ("import emkit.cli, contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    emkit.cli.main(['fit', sys.argv[1], '-k', '2', '--seed', '0'])"),
}


def measure(body, path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    completed = subprocess.run([sys.executable, "-c", _MEASURE.format(body=body), str(path)],
                               capture_output=True, text=True, env=env, timeout=3600)
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-2000:])
    line = [row for row in completed.stdout.splitlines() if row.startswith("RESULT")][-1]
    _, seconds, rss = line.split()
    return float(seconds), float(rss)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--columns", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="emkit-csv-") as tmp:
        path = Path(tmp) / "data.csv"
        rng = np.random.RandomState(0)
        X = rng.randn(args.rows, args.columns) * 10.0 ** rng.randint(-3, 4, size=args.columns)
        started = time.perf_counter()
        np.savetxt(path, X, delimiter=",", fmt="%.17g",
                   header=",".join(f"f{j}" for j in range(args.columns)), comments="")
        size_mb = path.stat().st_size / 2**20
        print(f"{path.name}: {args.rows} x {args.columns}, {size_mb:.1f} MiB "
              f"(written in {time.perf_counter() - started:.1f} s); numeric array "
              f"{X.nbytes / 2**20:.1f} MiB")
        results = {}
        for label, body in BODIES.items():
            try:
                results[label] = measure(body, path)
            except RuntimeError as exc:
                print(f"{label}: failed: {exc}")
                continue
            seconds, rss = results[label]
            extra = rss - results["import"][1] if "import" in results else float("nan")
            print(f"{label:<8} {seconds:7.2f} s  peak {rss:7.0f} MiB  above import "
                  f"{extra:7.0f} MiB  ({extra / size_mb:.2f} x file)")
        if "read" in results and "pandas" in results:
            base = results["import"][1]
            print(f"read / pandas: time {results['read'][0] / results['pandas'][0]:.2f}, "
                  f"memory above import "
                  f"{(results['read'][1] - base) / max(results['pandas'][1] - base, 1):.2f}")


if __name__ == "__main__":
    main()
