"""The study runner: execute the numbered notebooks in order with papermill.

    python -m magvit.study --profile cpu [--only 03 05] [--seed 0]

Each executed notebook is saved to ``results/notebooks/``; the wall time, profile, seed and status of
each is appended to ``results/study_log.csv``. A failing notebook stops the run with a non-zero exit
that names the notebook, the failing cell's error and the path of the executed copy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from magvit import profiles
from magvit.artifacts import git_commit, utc_now
from magvit.atomic import atomic_write_text
from magvit.paths import REPO_ROOT, results_dir

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
# papermill resolves "python3" to the interpreter running it (jupyter_client swaps a bare "python"
# in the kernelspec for sys.executable), so the kernel is always this environment's Python.
KERNEL = "python3"


class NotebookFailed(RuntimeError):
    pass


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
    """Append one row to the study log, rewriting it atomically."""
    log = pd.read_csv(path) if path.exists() else pd.DataFrame()
    log = pd.concat([log, pd.DataFrame([row])], ignore_index=True)
    atomic_write_text(path, log.to_csv(index=False))


def run_notebook(notebook: Path, profile: str, seed: int, out_dir: Path) -> Path:
    """Execute one notebook with ``profile``/``seed`` injected; return the executed copy's path."""
    import papermill

    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / notebook.name
    try:
        papermill.execute_notebook(
            str(notebook), str(output), parameters={"profile": profile, "seed": seed},
            kernel_name=KERNEL, cwd=str(notebook.parent), progress_bar=False,
        )
    except papermill.PapermillExecutionError as err:
        raise NotebookFailed(
            f"notebook {notebook.name} failed in cell {err.exec_count}: {err.ename}: {err.evalue}\n"
            f"executed copy: {output}"
        ) from None
    return output


def run_study(profile: str, seed: int = 0, only: list[str] | None = None,
              notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    profiles.get(profile)  # fail early on an unknown profile
    notebooks = find_notebooks(only, notebooks_dir)
    out_dir = results_dir(profile) / "notebooks"
    log_path = results_dir(profile) / "study_log.csv"
    outputs = []
    for notebook in tqdm(notebooks, desc=f"study ({profile})", unit="notebook"):
        started, commit, t0 = utc_now(), git_commit(), time.perf_counter()  # the code the notebook starts from
        status = "ok"
        try:
            outputs.append(run_notebook(notebook, profile, seed, out_dir))
        except BaseException:
            status = "failed"
            raise
        finally:
            append_log({"notebook": notebook.name, "profile": profile, "seed": seed, "status": status,
                        "wall_s": round(time.perf_counter() - t0, 1), "started_utc": started,
                        "git_commit": commit}, log_path)
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m magvit.study", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default=None,
                        help=f"one of {', '.join(profiles.PROFILES)} (default: $MAGVIT_PROFILE or cpu)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="+", metavar="NN", help="run only these notebook numbers")
    parser.add_argument("--notebooks-dir", type=Path, default=NOTEBOOKS_DIR)
    args = parser.parse_args(argv)
    profile = profiles.resolve_name(args.profile)
    try:
        outputs = run_study(profile, args.seed, args.only, args.notebooks_dir)
    except (NotebookFailed, ValueError, FileNotFoundError) as err:
        print(f"study failed: {err}", file=sys.stderr)
        return 1
    print(f"ran {len(outputs)} notebook(s) on profile {profile!r}; executed copies in "
          f"{results_dir(profile) / 'notebooks'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
