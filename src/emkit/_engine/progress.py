"""Progress bars for long fits (tqdm, an optional dependency).

A fit asks for progress with ``verbose=1``. The bar counts EM iterations
across restarts, shows the current restart and objective, and appears only
once the fit has run for ``delay`` seconds, so quick fits print nothing.
Without tqdm installed a one-time hint says how to get it, and the fit
prints the plain per-restart lines instead.
"""

from __future__ import annotations

import sys
import warnings

__all__ = ["ProgressBar", "progress_bar"]

_HINT_GIVEN = []
# Seconds a fit runs before its bar appears (quick fits print nothing).
DELAY = 1.0


class ProgressBar:
    """A tqdm bar with the few calls the engine makes.

    Parameters
    ----------
    description : str
        Shown before the bar ("EM", "select_model", ...).
    total : int or None
        Steps expected, when known (grid fits); None counts without a total.
    unit : str
    delay : float or None
        Seconds before the bar first appears (None: :data:`DELAY`).
    """

    def __init__(self, description, total=None, unit="it", delay=None):
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, desc=description, unit=unit,
                         delay=DELAY if delay is None else delay,
                         file=sys.stderr, leave=False, dynamic_ncols=True)

    def update(self, n=1, **postfix):
        """Advance by ``n`` steps; ``postfix`` (restart=, objective=) is shown after the bar."""
        if postfix:
            self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(n)

    def close(self):
        self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def progress_bar(description, total=None, unit="it"):
    """A :class:`ProgressBar`, or None when tqdm is not installed (hinted once)."""
    try:
        return ProgressBar(description, total=total, unit=unit)
    except ImportError:
        if not _HINT_GIVEN:
            _HINT_GIVEN.append(True)
            warnings.warn("verbose=1 shows a progress bar when tqdm is installed "
                          "(pip install tqdm, or emkit[progress]); printing lines instead.",
                          UserWarning, stacklevel=3)
        return None
