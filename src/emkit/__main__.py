"""``python -m emkit``: the emkit command line (see :mod:`emkit.cli`)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
