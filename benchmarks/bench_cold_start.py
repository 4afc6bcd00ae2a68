"""First-call cost: import + first fit of each model in a fresh Python process.

Usage::

    python benchmarks/bench_cold_start.py                  # numba JIT from an empty cache
    python benchmarks/bench_cold_start.py --models lda hmm_gaussian
    python benchmarks/bench_cold_start.py --install        # fresh `pip install .`, new venv
    python benchmarks/bench_cold_start.py --install --no-build-isolation

Each model is timed in its own new interpreter, from before ``import emkit``
to the end of its first fit (data loading included):

* ``cold``: numba's cache is empty. ``NUMBA_CACHE_DIR`` points at a new
  temporary directory, and numba consults that directory before the
  ``__pycache__`` folders next to the sources (its locators are tried in the
  order user-provided, in-tree, user-wide), so no cache written earlier, in
  the tree or elsewhere, is read. This is a fresh install without build-time
  compilation: every kernel the fit touches is JIT-compiled.
* ``cached``: the same command again in the same cache directory (a second
  session).
* with ``--install``: the project (a copy of the tree without caches) is
  installed with ``pip install`` into a new virtual environment
  (``--system-site-packages``, so the dependencies come from this Python; pip
  builds it in its usual isolated build environment unless
  ``--no-build-isolation``), and the runs use that installation with
  ``NUMBA_CACHE_DIR`` unset, as a user would: ``cold`` is a first session
  after the install (the installed package is restored to what pip wrote
  before each one, so whatever the build compiled is all there is),
  ``cached`` the next session.

It prints cold, cached and cold - cached per model, then the same for a whole
"first session" (every model in one process), with peak resident memory and
how many kernels each session had to compile (numba's cache misses: the
load-independent figure; 0 means everything was loaded).

Goal (issue 8): cold - cached below 1 s for every model and cold below 3 s.
The machine may be shared: the figures are single runs (``--repeats`` takes
the best of several for the cached side).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_PROLOGUE = """
import resource, sys, time, warnings
_t0 = time.perf_counter()
warnings.simplefilter("ignore")
import numpy as np
import emkit
from emkit import datasets
"""

# One first fit per model, on bundled or tiny generated data.
MODELS = {
    "gmm_full": """
X = datasets.load_old_faithful().data
emkit.GaussianMixture(2, covariance_type="full", random_state=0).fit(X)
""",
    "gmm_VVV": """
X = datasets.load_old_faithful().data
emkit.GaussianMixture(3, covariance_type="VVV", random_state=0).fit(X)
""",
    "gmm_EEV": """
X = datasets.load_old_faithful().data
emkit.GaussianMixture(3, covariance_type="EEV", random_state=0).fit(X)
""",
    "select_model": """
X = datasets.load_old_faithful().data
emkit.select_model(X)
""",
    "hmm_gaussian": """
X = datasets.load_old_faithful().data
emkit.GaussianHMM(2, random_state=0).fit(X)
""",
    "hmm_gmm": """
X = datasets.load_old_faithful().data
emkit.GMMHMM(2, n_mix=2, random_state=0).fit(X)
""",
    "hmm_categorical": """
X = np.random.RandomState(0).randint(0, 4, size=(500, 1))
emkit.CategoricalHMM(2, random_state=0).fit(X)
""",
    "hmm_poisson": """
X = np.random.RandomState(0).poisson(3.0, size=(500, 2))
emkit.PoissonHMM(2, random_state=0).fit(X)
""",
    "lda": """
X = datasets.load_reuters().data
emkit.LatentDirichletAllocation(10, random_state=0).fit(X)
""",
}

_EPILOGUE = """
_seconds = time.perf_counter() - _t0
_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
# Kernels compiled in this session (numba found no cached version): load-independent.
from numba.core.registry import CPUDispatcher
_compiled = 0
for _name in list(sys.modules):
    if _name.startswith("emkit"):
        for _value in vars(sys.modules[_name]).values():
            if isinstance(_value, CPUDispatcher) and _value.__module__ == _name:
                _compiled += sum(_value.stats.cache_misses.values())
print("RESULT", _seconds, _rss_mib, _compiled, emkit.__file__)
"""


def _script(names):
    return _PROLOGUE + "".join(MODELS[name] for name in names) + _EPILOGUE


def run_once(python, names, env, cwd):
    """Seconds, peak RSS (MiB), kernels compiled and emkit's file of one fresh process
    fitting ``names``."""
    completed = subprocess.run([python, "-c", _script(names)], env=env, cwd=cwd,
                               capture_output=True, text=True, timeout=1800)
    if completed.returncode != 0:
        raise RuntimeError(f"{names} failed:\n{completed.stderr[-3000:]}")
    line = [row for row in completed.stdout.splitlines() if row.startswith("RESULT")][-1]
    _, seconds, rss, compiled, where = line.split(" ", 4)
    return float(seconds), float(rss), int(compiled), where


def _base_env():
    env = dict(os.environ)
    for name in ("NUMBA_CACHE_DIR", "NUMBA_DISABLE_JIT", "PYTHONPATH"):
        env.pop(name, None)
    return env


def jit_setup(tmp):
    """Interpreter and environment maker for runs of the source tree, cache in ``tmp``."""
    env = _base_env()
    env["PYTHONPATH"] = str(ROOT / "src")

    def make_env(name):
        cache = Path(tmp) / f"cache-{name}"
        cache.mkdir(exist_ok=True)
        return dict(env, NUMBA_CACHE_DIR=str(cache))
    return sys.executable, make_env


def install_setup(tmp, build_isolation):
    """Install the project into a new venv; its interpreter and environment maker.

    Every ``cold`` run starts from the installation as pip left it: the
    installed package is restored from a pristine copy first, so that a cache
    written by an earlier run is never reused."""
    venv = Path(tmp) / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    python = str(venv / "bin" / "python")
    # A copy of the tree without build outputs or caches, so that none is reused.
    source = Path(tmp) / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "*.egg-info", "__pycache__", ".venv"))
    command = [python, "-m", "pip", "install", "-q", "--no-deps", str(source)]
    if not build_isolation:
        command.insert(-1, "--no-build-isolation")
    started = time.perf_counter()
    subprocess.run(command, check=True, env=_base_env())
    print(f"pip install took {time.perf_counter() - started:.0f} s")
    locate = "import emkit, os; print(os.path.dirname(emkit.__file__))"
    where = subprocess.run([python, "-c", locate], check=True, capture_output=True, text=True,
                           env=_base_env(), cwd=tmp).stdout.strip()
    pristine = Path(tmp) / "pristine"
    shutil.copytree(where, pristine)

    def fresh(name):
        shutil.rmtree(where)
        shutil.copytree(pristine, where)
        return python

    def make_env(name):
        return _base_env()
    return fresh, make_env


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--install", action="store_true",
                        help="time a fresh `pip install` of the project instead of the tree")
    parser.add_argument("--no-build-isolation", action="store_true",
                        help="with --install: build with this environment's setuptools")
    parser.add_argument("--repeats", type=int, default=1,
                        help="cached runs per model (the best is reported)")
    parser.add_argument("--no-session", action="store_true",
                        help="skip the all-models-in-one-process run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="emkit-cold-") as tmp:
        if args.install:
            install, make_env = install_setup(tmp, not args.no_build_isolation)
        else:
            python, make_env = jit_setup(tmp)
            install = lambda name: python  # noqa: E731
        runs = [(name, [name]) for name in args.models]
        if not args.no_session:
            runs.append(("first session (all)", args.models))
        print(f"{'model':<22}{'cold s':>9}{'cached s':>10}{'cold-cached':>13}"
              f"{'cold RSS MiB':>14}{'cached RSS':>12}{'compiled cold/cached':>22}")
        where = None
        for label, names in runs:
            key = label.split()[0]
            interpreter = install(key)
            env = make_env(key)
            cold, cold_rss, cold_compiled, where = run_once(interpreter, names, env, tmp)
            cached = [run_once(interpreter, names, env, tmp) for _ in range(args.repeats)]
            best, best_rss, best_compiled, _ = min(cached)
            print(f"{label:<22}{cold:9.2f}{best:10.2f}{cold - best:13.2f}"
                  f"{cold_rss:14.0f}{best_rss:12.0f}{cold_compiled:>14}/{best_compiled}",
                  flush=True)
        print(f"\nemkit imported from {where}")
        print("Goal: cold - cached < 1 s and cold < 3 s for every model.")


if __name__ == "__main__":
    main()
