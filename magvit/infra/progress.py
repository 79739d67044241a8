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
  what a terminal would show at the end: the bar's final state. Nothing else in the notebook changes. The runner
  sets ``$MAGVIT_STUDY_RUNNER`` (``RUNNER_ENV``) in the kernels it starts.

``MAGVIT_PROGRESS`` unset or ``live`` (interactive Jupyter, a terminal) keeps tqdm's live bar.

Two rules on top, for every mode:

- a loop of at most one step draws no bar (a bar that never draws more than one step says nothing);
- sampling (:func:`sampling`, the loop over the batches of one (model, task)): a table samples dozens of
  (model, task) pairs, one batch or two each, so in summary mode or under the study runner the sampling of one
  table is **one line**: ``sampling: 62 (model, task) runs over 10 tasks (FP, FI, ...), 496 clips in 03:21``. A
  table is one notebook cell (its sampling summed and printed when the cell ends, below the cell's outputs) or the
  body of a :func:`sampling_table` block; elsewhere (a script in summary mode) each run prints its own line. Under
  the runner the bar of a run of several batches is still drawn for the status line, and erased when the run ends
  (``leave=False``: the cleaned copy keeps nothing of it). Interactively every run keeps its live bar.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sized
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm  # text bars: tqdm.auto warns in a kernel without ipywidgets

ENV = "MAGVIT_PROGRESS"
MODES = ("live", "summary")
RUNNER_ENV = "MAGVIT_STUDY_RUNNER"  # "1" in the kernel of a notebook that magvit.study executes


def mode() -> str:
    """The policy named by ``$MAGVIT_PROGRESS``: ``live`` (default) or ``summary``."""
    value = os.environ.get(ENV, "").strip().lower() or "live"
    if value not in MODES:
        raise ValueError(f"${ENV} must be one of {', '.join(MODES)}, got {os.environ[ENV]!r}")
    return value


def run_by_study() -> bool:
    """Whether this process is the kernel of a notebook executed by the study runner (``magvit.study``)."""
    return os.environ.get(RUNNER_ENV, "") == "1"


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


def _total(iterable: Iterable | None, kwargs: dict[str, Any]) -> int | None:
    if kwargs.get("total") is not None:
        return int(kwargs["total"])
    return len(iterable) if isinstance(iterable, Sized) else None


def progress(iterable: Iterable | None = None, *, desc: str, **kwargs: Any) -> tqdm:
    """``tqdm(iterable, desc=desc, **kwargs)`` under the package's policy (:func:`mode`): a live bar, or, with
    ``MAGVIT_PROGRESS=summary``, one line per run when it closes (steps, time, final postfix). A loop of at most one
    step draws nothing in either mode."""
    total = _total(iterable, kwargs)
    if total is not None and total <= 1:
        kwargs["disable"] = True
    if mode() == "summary":
        return SummaryBar(iterable, desc=desc, **kwargs)
    return tqdm(iterable, desc=desc, **kwargs)


# --- sampling: one line per table ----------------------------------------------------------------------------------

@dataclass
class SamplingTally:
    """The sampling runs of one table: (model, task) runs, their tasks in first-seen order, clips and seconds, and the
    runs whose clips came from the artifact cache instead."""

    runs: int = 0
    tasks: dict[str, None] = field(default_factory=dict)
    clips: int = 0
    seconds: float = 0.0
    cached: int = 0

    def add(self, task: str, clips: int, seconds: float) -> None:
        self.runs += 1
        self.tasks.setdefault(task, None)
        self.clips += clips
        self.seconds += seconds

    def line(self) -> str:
        """One line for the table (empty when nothing was sampled or loaded)."""
        if not self.runs:
            cached = f"{self.cached} (model, task) run{'s' * (self.cached != 1)}"
            return f"sampling: none, {cached} from the cache" if self.cached else ""
        tasks = f"{len(self.tasks)} task{'s' * (len(self.tasks) != 1)} ({', '.join(self.tasks)})"
        line = (f"sampling: {self.runs} (model, task) run{'s' * (self.runs != 1)} over {tasks}, {self.clips} clips "
                f"in {tqdm.format_interval(self.seconds)}")
        return f"{line}; {self.cached} more from the cache" if self.cached else line


_tables: list[SamplingTally] = []  # the open sampling_table blocks, innermost last
_cell: dict[str, Any] = {"tally": None, "shell": None}  # the current notebook cell's tally, and the shell it hooks


def _write(line: str, file: Any = None) -> None:
    if line:
        stream = file or sys.stderr
        stream.write(line + "\n")
        stream.flush()


def summarising() -> bool:
    """Whether sampling is reported per table (summary mode, or a notebook run by the study runner)."""
    return mode() == "summary" or run_by_study()


@contextlib.contextmanager
def sampling_table(file: Any = None) -> Iterator[SamplingTally]:
    """The sampling runs inside the block are one table: when :func:`summarising`, they draw no lasting bar and the
    block ends with one line (:meth:`SamplingTally.line`) on ``file`` (stderr by default)."""
    tally = SamplingTally()
    _tables.append(tally)
    try:
        yield tally
    finally:
        _tables.remove(tally)
        if summarising():
            _write(tally.line(), file)


def _shell() -> Any:
    """The running IPython shell, if this is a kernel (IPython is never imported here: a bare image may lack it)."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def _end_of_cell(*_: Any) -> None:
    """IPython's ``post_run_cell`` hook: the cell's sampling, if any, as one line in the cell's own output."""
    tally, _cell["tally"] = _cell["tally"], None
    if tally is not None:
        _write(tally.line())


def _current_tally() -> tuple[SamplingTally | None, bool]:
    """The tally a sampling run adds to, and whether the run must print it itself (no table or cell around it);
    ``(None, False)`` when sampling is not summarised (live bars)."""
    if not summarising():
        return None, False
    if _tables:
        return _tables[-1], False
    shell = _shell()
    if shell is None:
        return SamplingTally(), True
    if _cell["shell"] is not shell:
        shell.events.register("post_run_cell", _end_of_cell)
        _cell["shell"] = shell
    if _cell["tally"] is None:
        _cell["tally"] = SamplingTally()
    return _cell["tally"], False


def sampling(batches: Iterable, *, task: str, clips: int) -> Iterator:
    """Iterate the batches of one (model, task) sampling run under the policy: a live bar ``sampling {task}``
    interactively; when :func:`summarising`, the run adds its task, ``clips`` and time to its table's one line (a
    transient bar under the study runner, for its status line)."""
    tally, own_line = _current_tally()
    if tally is None:
        yield from progress(batches, desc=f"sampling {task}", mininterval=2.0)
        return
    live = run_by_study() and mode() == "live"
    bar = progress(batches, desc=f"sampling {task}", mininterval=2.0, leave=False) if live else None
    started = time.perf_counter()
    try:
        yield from (bar if bar is not None else batches)
    finally:
        if bar is not None:
            bar.close()
        tally.add(task, clips, time.perf_counter() - started)
        if own_line:
            _write(tally.line())


def sampled_from_cache() -> None:
    """A (model, task) whose clips the artifact cache held: counted in its table's line when :func:`summarising`
    (outside a table or cell, a run that samples nothing prints nothing)."""
    tally, own_line = _current_tally()
    if tally is not None and not own_line:
        tally.cached += 1
