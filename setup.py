"""Build hook: compile emkit's numba kernels into the package being built.

The metadata is in pyproject.toml. This file only extends ``build_py``: after
the package is laid out in the build directory (or, for an editable install,
in ``src/``), it runs ``python -m emkit.kernels.warmup`` on that copy, so that
numba's cache files land in its ``__pycache__`` folders and go into the wheel
with the sources. Numba keys those files on the numba version, the CPU and a
hash of each source file's contents, so a ``pip install`` on this machine
starts with every kernel compiled (see ``emkit.kernels.warmup``).

The warm-up runs, in order of preference, with the interpreter's own
packages (where emkit is being installed, whose numba will read the cache;
pip's build isolation hides them through PYTHONPATH and PYTHONNOUSERSITE) or
with the build environment's. If neither can import emkit's dependencies, or
``EMKIT_NO_PRECOMPILE=1`` is set, the build goes on without it and the
kernels compile on first use instead.
"""

import os
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

_DEPENDENCIES = "import numba, numpy, scipy, sklearn, threadpoolctl"


def _environments(package_root):
    base = {name: value for name, value in os.environ.items()
            if name not in ("NUMBA_CACHE_DIR", "NUMBA_DISABLE_JIT")}
    base["PYTHONDONTWRITEBYTECODE"] = "1"  # only numba's files, no .pyc of the build paths
    target = {name: value for name, value in base.items()
              if name not in ("PYTHONPATH", "PYTHONNOUSERSITE")}
    target["PYTHONPATH"] = package_root
    build = dict(base)
    build["PYTHONPATH"] = os.pathsep.join(
        [package_root] + ([base["PYTHONPATH"]] if base.get("PYTHONPATH") else []))
    return (("installation", target), ("build", build))


def precompile(package_root, announce=print):
    """Run emkit's warm-up on the package under ``package_root``; True if it ran."""
    if os.environ.get("EMKIT_NO_PRECOMPILE", "") not in ("", "0"):
        announce("emkit: EMKIT_NO_PRECOMPILE set; kernels will compile on first use")
        return False
    for label, env in _environments(package_root):
        probe = subprocess.run([sys.executable, "-c", _DEPENDENCIES], env=env,
                               capture_output=True)
        if probe.returncode != 0:
            continue
        announce(f"emkit: compiling the numba kernels with the {label} environment's numba "
                 f"(about a minute)")
        done = subprocess.run([sys.executable, "-m", "emkit.kernels.warmup"], env=env,
                              cwd=package_root)
        if done.returncode == 0:
            return True
        announce("emkit: the kernel warm-up failed; kernels will compile on first use")
        return False
    announce("emkit: numba not importable at build time; kernels will compile on first use")
    return False


class BuildPyWithKernels(build_py):
    """``build_py``, then the numba warm-up on the built (or, editable, source) package."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            root = os.path.abspath(self.get_package_dir("emkit"))
            root = os.path.dirname(root)
        else:
            root = os.path.abspath(self.build_lib)
        precompile(root, announce=lambda message: print(message, file=sys.stderr, flush=True))


setup(cmdclass={"build_py": BuildPyWithKernels})
