"""The study runner: execute the numbered notebooks in order with papermill.

    python -m magvit.study --profile cpu [--only 03 05] [--seed 0] [--parallel 4]

Each executed notebook is saved to ``<results of profile>/notebooks/`` (``results/`` for ``cpu``,
``results/<profile>/`` otherwise, see ``magvit.infra.paths``); the wall time, profile, seed and status of
each is appended to ``study_log.csv`` there. While a notebook runs, a status line on stderr names it,
its cell and the latest progress line the kernel printed (the training loops' step, loss and time
left). A failing notebook stops the run with a non-zero exit that names the notebook, the failing
cell's error and the path of the executed copy.

``--parallel N`` (the one-GPU study): the notebooks run in the phases of ``PHASES``: 00; 01-03 (they make the models
every later notebook shares: the proxy evaluator, the tokenizer); 04-10; 11; 12. The notebooks of one phase run as up
to N concurrent processes (each one runs
``python -m magvit.study --only NN``; the artifact locks of ``magvit.infra.locks`` make one shared cache safe: two
notebooks that need the same model wait for one another instead of training it twice), then 12. Each child's
status lines go to ``notebooks/NN_name.log`` beside its executed copy. 11 (Fig. 5 timings) and 12 run alone.

The Jupyter stack (nbformat, papermill, pyzmq, jupyter_client) is imported only when a notebook runs, so
``import magvit.study`` (``write_claims``, the tests) works without it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from magvit import profiles
from magvit.experiments import claims, summary
from magvit.infra.artifacts import git_commit, utc_now
from magvit.infra.atomic import atomic_write_text
from magvit.infra.locks import file_lock
from magvit.infra.notebooks import clean_notebook_file
from magvit.infra.paths import REPO_ROOT, results_dir
from magvit.infra.progress import RUNNER_ENV

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
# papermill resolves "python3" to the interpreter running it (jupyter_client swaps a bare "python"
# in the kernelspec for sys.executable), so the kernel is always this environment's Python.
KERNEL = "python3"
# A piped log (CI, `make reproduce > log`) gets a status line at most this often; a terminal gets every
# update (the kernel's bars already redraw at most every 2 s), since a skipped one could stay on screen stale.
LOG_EVERY_S = 30.0
# A tqdm line: "n/total [elapsed<remaining" (magvit.infra.train.fit: "step 120/500 [01:10<03:40, ..., loss=...]").
PROGRESS = re.compile(r"\d+/\d+ \[\d")


class NotebookFailed(RuntimeError):
    pass


# --parallel N runs the study in phases (first and last notebook number of each); a phase's notebooks run as up to N
# concurrent processes. 00 measures the machine (alone); 01-03 are independent of one another (03 waits on the
# evaluator's lock only for its last evaluation if 02 is still training it); 04-10 need only what 00-03 made (the
# evaluator, the tokenizer); 11 times generation (Fig. 5, C8) on an idle GPU; 12 reads everything.
PHASES = ((0, 0), (1, 3), (4, 10), (11, 11), (12, 12))
PARALLEL_FIRST, PARALLEL_LAST = 4, 10  # the main concurrent phase
# start order within a phase: longest first, so the last to start is short. Only --parallel uses it (the gpu profile):
# the order of the gpu study's predicted times (benchmarks/predict_gpu_times.py), where Table 1's CG models make 06 the
# longest; started 5th, as the cpu times ordered it, it would end the phase ~40 s later
LONGEST_FIRST = ("06", "10", "08", "09", "05", "07", "04", "03", "02", "01")
JUPYTER_STACK = {"nbformat": "nbformat", "papermill": "papermill", "zmq": "pyzmq", "jupyter_client": "jupyter_client"}


def _jupyter(module: str) -> Any:
    """Import one module of the Jupyter stack, or say which packages running notebooks needs."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"running notebooks needs {module} ({JUPYTER_STACK[module]}), which is not installed: "
                          f"{err}. Install the project's dependencies (papermill, nbformat, nbclient, jupyter_client, "
                          "ipykernel, pyzmq); the library itself does not need them") from err


@cache
def _encrypted_kernel_manager() -> type:
    """The kernel manager class (built on first use: jupyter_client is imported only to run notebooks)."""
    _jupyter("jupyter_client")
    base = importlib.import_module("jupyter_client.manager").AsyncKernelManager

    class EncryptedKernelManager(base):
        """A kernel manager that hands the kernel CurveZMQ keys, so its local sockets are encrypted.

        ipykernel >= 7 prints "Kernel is running over TCP without encryption ... susceptible to eavesdropping"
        for a kernel started without keys. The kernel only listens on 127.0.0.1 either way; provisioning keys
        (the remedy the warning names) is cheaper than explaining the warning at every notebook.
        """

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            zmq = _jupyter("zmq")
            if zmq.has("curve"):
                self.curve_publickey, self.curve_secretkey = zmq.curve_keypair()

    return EncryptedKernelManager


def __getattr__(name: str) -> Any:
    """``study.zmq``, ``study.papermill``, ``study.nbformat``, ``study.EncryptedKernelManager``: imported on first
    use (PEP 562), so that importing this module needs no Jupyter stack."""
    if name in ("zmq", "papermill", "nbformat"):
        return _jupyter(name)
    if name == "EncryptedKernelManager":
        return _encrypted_kernel_manager()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Status:
    """One line of progress: notebook i/n, its code cell k/m, elapsed time, and the cell's latest progress
    bar (else its latest output line: a warning printed between two redraws must not hide the bar).

    On a terminal the line is rewritten in place; on a pipe a line is printed when a notebook starts and
    then at most every ``LOG_EVERY_S`` seconds, so a log shows progress without a flood.
    """

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.total, self.index, self.name = total, 0, ""
        self.cell, self.cells = 0, 0
        self.latest = self.progress = ""
        self.started = self.last_shown = 0.0
        self.shown_width = 0

    def notebook_start(self, index: int, notebook: Path, code_cells: int) -> None:
        self.index, self.name, self.cells, self.cell = index, notebook.name, code_cells, 0
        self.latest = self.progress = ""
        self.started = time.perf_counter()
        self.show(force=True)

    def cell_start(self, **_: Any) -> None:  # nbclient's on_cell_execute hook (cell=, cell_index=)
        self.cell += 1
        self.latest = self.progress = ""
        self.show()

    def kernel_output(self, text: str) -> None:
        """Keep the last non-blank segment: tqdm redraws with carriage returns, prints end with newlines."""
        segments = [s.strip() for s in re.split(r"[\r\n]", text) if s.strip()]
        if segments:
            self.latest = segments[-1]
            self.progress = next((s for s in reversed(segments) if PROGRESS.search(s)), self.progress)
            self.show()

    def line(self) -> str:
        elapsed = time.strftime("%H:%M:%S", time.gmtime(time.perf_counter() - self.started))
        head = f"[{self.index}/{self.total}] {self.name} cell {self.cell}/{self.cells} {elapsed}"
        shown = self.progress or self.latest
        return f"{head} | {shown}" if shown else head

    def show(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not (force or self.tty) and now - self.last_shown < LOG_EVERY_S:
            return
        self.last_shown = now
        if self.tty:
            width = shutil.get_terminal_size().columns - 1
            text = self.line()[:width]
            self.stream.write("\r" + text.ljust(self.shown_width))
            self.shown_width = len(text)
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def finish(self, message: str) -> None:
        """End the notebook's status with a permanent line (the wall time and where its copy went)."""
        if self.tty and self.shown_width:
            self.stream.write("\r" + " " * self.shown_width + "\r")
            self.shown_width = 0
        self.stream.write(message + "\n")
        self.stream.flush()


class _KernelStream:
    """The file papermill writes a kernel's stdout/stderr chunks to: feeds them to the status line."""

    def __init__(self, status: Status) -> None:
        self.status = status

    def write(self, text: str) -> int:
        self.status.kernel_output(text)
        return len(text)

    def flush(self) -> None:
        pass


def count_code_cells(notebook: Path) -> int:
    """Code cells papermill will run: the non-blank ones, plus the parameters cell it injects."""
    nb = _jupyter("nbformat").read(notebook, as_version=4)
    return 1 + sum(c.cell_type == "code" and bool(c.source.strip()) for c in nb.cells)


def find_notebooks(only: list[str] | None = None, notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The numbered notebooks ``NN_name.ipynb`` in order, optionally only those whose NN is listed."""
    found = sorted(p for p in Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise FileNotFoundError(f"no numbered notebooks (NN_name.ipynb) in {notebooks_dir}")
    if only:
        wanted = {o.zfill(2) for o in only}
        unknown = wanted - {p.name[:2] for p in found}
        if unknown:
            raise ValueError(f"no notebook numbered {sorted(unknown)}; have {[p.name for p in found]}")
        found = [p for p in found if p.name[:2] in wanted]
    return found


def append_log(row: dict, path: Path) -> None:
    """Append one row to the study log, rewriting it atomically; under a lock, since two studies sharing a
    results folder would otherwise each read the log, add a row and overwrite the other's row."""
    with file_lock(path.with_name(f".{path.name}.lock"), what=f"appending to {path.name}"):
        log = pd.read_csv(path) if path.exists() else pd.DataFrame()
        log = pd.concat([log, pd.DataFrame([row])], ignore_index=True)
        atomic_write_text(path, log.to_csv(index=False))


@contextlib.contextmanager
def runner_environment() -> Iterator[None]:
    """``$MAGVIT_STUDY_RUNNER=1`` while a kernel starts, so the notebook knows the runner executes it
    (``magvit.infra.progress``: live bars for the status line, one line of sampling per table in the copy)."""
    previous = os.environ.get(RUNNER_ENV)
    os.environ[RUNNER_ENV] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(RUNNER_ENV, None)
        else:
            os.environ[RUNNER_ENV] = previous


def run_notebook(notebook: Path, profile: str, seed: int, out_dir: Path, status: Status | None = None) -> Path:
    """Execute one notebook with ``profile``/``seed`` injected; return the executed copy's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / notebook.name
    hooks: dict[str, Any] = {}
    if status is not None:
        stream = _KernelStream(status)
        hooks = {"stdout_file": stream, "stderr_file": stream, "on_cell_execute": status.cell_start}
    papermill = _jupyter("papermill")
    try:
        with runner_environment():  # the kernel inherits it: its sampling prints one line per table
            papermill.execute_notebook(
                str(notebook), str(output), parameters={"profile": profile, "seed": seed},
                kernel_name=KERNEL, cwd=str(notebook.parent), progress_bar=False,
                kernel_manager_class=_encrypted_kernel_manager(), **hooks,
            )
    except papermill.PapermillExecutionError as err:
        raise NotebookFailed(
            f"notebook {notebook.name} failed in cell {err.exec_count}: {err.ename}: {err.evalue}\n"
            f"executed copy: {output}"
        ) from None
    finally:  # the live bars fed the status line; the executed copy keeps each bar's final line only
        if output.exists():
            clean_notebook_file(output)
    return output


def run_study(profile: str, seed: int = 0, only: list[str] | None = None,
              notebooks_dir: Path = NOTEBOOKS_DIR, stream: TextIO | None = None, parallel: int = 0,
              keep_going: bool = False) -> list[Path]:
    """Run the notebooks (all, or ``only``) in order; ``parallel`` > 1: by ``PHASES``, each phase's notebooks as up
    to that many concurrent processes. ``keep_going``: a failed notebook does not stop the others (a lent GPU's one
    call: every notebook that can run does); ``NotebookFailed`` names every failure at the end."""
    profiles.get(profile)  # fail early on an unknown profile
    notebooks = find_notebooks(only, notebooks_dir)
    if parallel < 0:
        raise ValueError(f"parallel must be >= 0 (0 or 1: one notebook at a time), got {parallel}")
    if parallel > 1:
        outputs, failures = [], []
        for first, last in PHASES:
            phase = [nb for nb in notebooks if first <= int(nb.name[:2]) <= last]
            try:
                if len(phase) > 1:
                    outputs += run_concurrently(profile, seed, phase, parallel, notebooks_dir, stream, keep_going)
                elif phase:
                    outputs += run_study(profile, seed, [phase[0].name[:2]], notebooks_dir, stream)
            except NotebookFailed as err:
                if not keep_going:
                    raise
                failures.append(str(err))
        write_claims(results_dir(profile))
        if failures:
            raise NotebookFailed("; ".join(failures))
        return outputs
    out_dir = results_dir(profile) / "notebooks"
    log_path = results_dir(profile) / "study_log.csv"
    status = Status(len(notebooks), stream)
    if not _jupyter("zmq").has("curve"):  # no keys to hand out: the kernel warns over TCP; say once why it is harmless
        status.finish("note: this libzmq has no CurveZMQ, so each kernel warns that it runs over TCP without "
                      "encryption; it listens on 127.0.0.1 only")
    outputs, failures = [], []
    for i, notebook in enumerate(notebooks, 1):
        started, commit, t0 = utc_now(), git_commit(), time.perf_counter()  # the code the notebook starts from
        status.notebook_start(i, notebook, count_code_cells(notebook))
        state = "ok"
        try:
            outputs.append(run_notebook(notebook, profile, seed, out_dir, status))
        except NotebookFailed as err:
            state = "failed"
            if not keep_going:
                raise
            failures.append(str(err))
        except BaseException:
            state = "failed"
            raise
        finally:
            wall = time.perf_counter() - t0
            append_log({"notebook": notebook.name, "profile": profile, "seed": seed, "status": state,
                        "wall_s": round(wall, 1), "started_utc": started, "git_commit": commit}, log_path)
            status.finish(f"[{i}/{len(notebooks)}] {notebook.name} {state} in {wall / 60:.1f} min "
                          f"-> {_shown(out_dir / notebook.name)}")
    write_claims(results_dir(profile))
    if failures:
        raise NotebookFailed("; ".join(failures))
    return outputs


def run_concurrently(profile: str, seed: int, notebooks: list[Path], parallel: int,
                     notebooks_dir: Path = NOTEBOOKS_DIR, stream: TextIO | None = None,
                     keep_going: bool = False) -> list[Path]:
    """Run ``notebooks`` as up to ``parallel`` child studies (``python -m magvit.study --only NN``), longest first.

    Each child appends its own row to ``study_log.csv`` (under the log's lock) and writes its status lines to
    ``notebooks/NN_name.log``. A failure stops new starts (``keep_going``: it does not); the running ones finish,
    then ``NotebookFailed`` names every failed notebook and its log."""
    stream = stream or sys.stderr
    out_dir = results_dir(profile) / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    rank = {nn: i for i, nn in enumerate(LONGEST_FIRST)}
    queue = sorted(notebooks, key=lambda nb: (rank.get(nb.name[:2], len(rank)), nb.name))
    running: dict[Path, tuple[subprocess.Popen, float, Any]] = {}
    failed: list[str] = []
    done: list[Path] = []
    env = {**os.environ, "MAGVIT_PROFILE": profile}
    while queue or running:
        while queue and (keep_going or not failed) and len(running) < parallel:
            nb = queue.pop(0)
            log = open(out_dir / f"{nb.stem}.log", "w")  # noqa: SIM115 (closed when the child ends)
            cmd = [sys.executable, "-m", "magvit.study", "--profile", profile, "--seed", str(seed),
                   "--only", nb.name[:2], "--notebooks-dir", str(notebooks_dir)]
            running[nb] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT),
                           time.perf_counter(), log)
            stream.write(f"[parallel] started {nb.name} ({len(running)} running, {len(queue)} waiting)\n")
            stream.flush()
        time.sleep(0.5)
        for nb, (proc, t0, log) in list(running.items()):
            if proc.poll() is None:
                continue
            log.close()
            del running[nb]
            state = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
            stream.write(f"[parallel] {nb.name} {state} in {(time.perf_counter() - t0) / 60:.1f} min "
                         f"(log: {_shown(out_dir / f'{nb.stem}.log')})\n")
            stream.flush()
            if proc.returncode:
                failed.append(f"{nb.name} (log {out_dir / f'{nb.stem}.log'}, executed copy {out_dir / nb.name})")
            else:
                done.append(out_dir / nb.name)
    if failed:
        raise NotebookFailed("notebook(s) failed in the parallel run: " + "; ".join(failed)
                             + (f"; not started: {', '.join(nb.name for nb in queue)}" if queue else ""))
    return sorted(done)


def write_claims(folder: Path) -> Path | None:
    """``claims.csv`` in a profile's results folder: the union of its ``claims_*.csv`` with every registered claim
    (``summary.collect``: unjudged ones as "no result yet"), in claim order; nothing when no notebook has written
    verdicts yet."""
    if claims.collect(folder).empty:
        return None
    union = summary.collect(folder)  # every registered claim: unjudged ones as "no result yet"
    path = folder / "claims.csv"
    atomic_write_text(path, union.to_csv(index=False))
    return path


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (shorter lines), else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m magvit.study", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default=None,
                        help=f"one of {', '.join(profiles.PROFILES)} (default: $MAGVIT_PROFILE or cpu)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="+", metavar="NN", help="run only these notebook numbers")
    parser.add_argument("--notebooks-dir", type=Path, default=NOTEBOOKS_DIR)
    parser.add_argument("--parallel", type=int, default=0, metavar="N",
                        help="run the notebooks in phases (00 | 01-03 | 04-10 | 11 | 12), each as up to N processes")
    parser.add_argument("--keep-going", action="store_true",
                        help="run every notebook even when one fails (exit 1 at the end, naming each failure)")
    args = parser.parse_args(argv)
    profile = profiles.resolve_name(args.profile)
    try:
        profiles.get(profile)
        where = results_dir(profile)
        print(f"study on profile {profile!r}, seed {args.seed}: results -> {_shown(where)}"
              + (" ($MAGVIT_RESULTS)" if os.environ.get("MAGVIT_RESULTS") else ""), file=sys.stderr)
        outputs = run_study(profile, args.seed, args.only, args.notebooks_dir, parallel=args.parallel,
                            keep_going=args.keep_going)
    except (NotebookFailed, ValueError, FileNotFoundError) as err:
        print(f"study failed: {err}", file=sys.stderr)
        return 1
    print(f"ran {len(outputs)} notebook(s) on profile {profile!r}; executed copies in {_shown(where / 'notebooks')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
