"""The one progress-bar policy of the package: live bars for a person, one line per run in a saved notebook.

A tqdm bar redraws its line with carriage returns. A terminal or a live Jupyter cell shows only the latest
state, but a notebook executed by papermill stores every redraw as its own output, so the executed copy of a
study notebook carried hundreds of ``step 37/300 [00:16<01:51, ...`` lines before its table. Two remedies, one
for each way a notebook is run:

- ``MAGVIT_PROGRESS=summary`` (for ``papermill`` or ``nbconvert --execute`` by hand): :func:`progress` draws no
  live bar and prints one line when the run ends, the bar's final state: its name, steps, time and last postfix
  (the losses, for ``magvit.infra.train.fit``);
- the study runner (``magvit.study``) keeps live bars, which its status line shows as they run, and passes the
  executed copy through ``magvit.infra.notebooks.clean_notebook_file``, which keeps of every redrawn line only
  what a terminal would show at the end: the bar's final state. Nothing else in the notebook changes.

``MAGVIT_PROGRESS`` unset or ``live`` (interactive Jupyter, a terminal) keeps tqdm's live bar.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm  # text bars: tqdm.auto warns in a kernel without ipywidgets

ENV = "MAGVIT_PROGRESS"
MODES = ("live", "summary")


def mode() -> str:
    """The policy named by ``$MAGVIT_PROGRESS``: ``live`` (default) or ``summary``."""
    value = os.environ.get(ENV, "").strip().lower() or "live"
    if value not in MODES:
        raise ValueError(f"${ENV} must be one of {', '.join(MODES)}, got {os.environ[ENV]!r}")
    return value


class _Discard:
    """A file that drops what tqdm draws (summary mode draws once, at the end)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class SummaryBar(tqdm):
    """A tqdm that draws nothing while it runs and prints its final state as one line when it closes."""

    def __init__(self, *args: Any, summary_file: Any = None, **kwargs: Any) -> None:
        self._summary_file = summary_file
        self._summarised = False
        kwargs.update(file=_Discard(), mininterval=float("inf"), maxinterval=float("inf"), leave=False)
        super().__init__(*args, **kwargs)

    def close(self) -> None:
        if not self._summarised and not self.disable:
            self._summarised = True
            stream = self._summary_file or sys.stderr
            stream.write(str(self).rstrip() + "\n")
            stream.flush()
        super().close()


def progress(iterable: Iterable | None = None, *, desc: str, **kwargs: Any) -> tqdm:
    """``tqdm(iterable, desc=desc, **kwargs)`` under the package's policy (:func:`mode`): a live bar, or, with
    ``MAGVIT_PROGRESS=summary``, one line per run when it closes (steps, time, final postfix)."""
    if mode() == "summary":
        return SummaryBar(iterable, desc=desc, **kwargs)
    return tqdm(iterable, desc=desc, **kwargs)
