"""Where a whole study run's minutes go: each notebook's wall time (``study_log.csv``) split by what its progress
bars and sampling lines report (tokenizer, evaluator and transformer training, sampling, other bars, the rest).

Reads the executed notebooks of one profile's results (``results/notebooks`` for `cpu`) and the study log's last
run of each notebook (the run its executed copy comes from); writes ``results/diagnostics/study_costs.csv`` (one row
per notebook and stage) and ``results/figures/diagnostics/study_costs.png``. The input to the budget: which stages a
claim rests on and what each costs on the CPU the run was measured on (``results/machine.csv``).

    .venv/bin/python benchmarks/study_costs.py [--profile cpu] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pandas as pd

from magvit.infra import results
from magvit.infra.paths import results_dir

# a finished tqdm bar: "<desc>: step 1100/1100 [20:31<00:00, ..." or "<desc>: 100%|...| 4/4 [03:38<00:00, ..."
BAR = re.compile(r"^(?P<desc>[^:\r\n]+?): (?:step )?(?:\s*100%\|[^|]*\| )?(?P<n>\d+)/(?P=n) "
                 r"\[(?P<elapsed>(?:\d+:)?\d+:\d+)<")
# a sampling table's one line under the study runner (magvit.infra.progress.SamplingTally.line)
SAMPLING_LINE = re.compile(r"^sampling: \d+ \(model, task\) runs?.* in (?P<elapsed>(?:\d+:)?\d+:\d+)")
STAGES = ("tokenizer", "evaluator", "transformer", "sampling", "other bars", "rest")


def seconds(interval: str) -> float:
    """tqdm's ``[h:]mm:ss`` as seconds."""
    parts = [int(p) for p in interval.split(":")]
    if len(parts) not in (2, 3):
        raise ValueError(f"not a tqdm interval: {interval!r}")
    return float(sum(p * 60 ** i for i, p in enumerate(reversed(parts))))


def stage_of(desc: str) -> str:
    """The stage a progress bar's description names."""
    desc = desc.strip().lower()
    for prefix, stage in (("tokenizer", "tokenizer"), ("proxy evaluator", "evaluator"), ("transformer", "transformer"),
                          ("sampling", "sampling")):
        if desc.startswith(prefix):
            return stage
    return "other bars"


def output_lines(notebook: dict) -> list[str]:
    """Every line of every stream output of an executed notebook, split at tqdm's carriage returns too."""
    lines = []
    for cell in notebook["cells"]:
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            lines += re.split(r"[\r\n]+", "".join(text) if isinstance(text, list) else text)
    return lines


def bar_seconds(lines: list[str]) -> dict[str, float]:
    """Seconds per stage over the finished bars and sampling lines in ``lines`` (a bar's final state counted once
    even where tqdm printed it twice in a row)."""
    by_stage: dict[str, float] = {}
    previous = None
    for line in lines:
        line = line.strip()
        if line == previous:
            continue
        previous = line
        if m := SAMPLING_LINE.match(line):
            stage, elapsed = "sampling", m["elapsed"]
        elif m := BAR.match(line):
            stage, elapsed = stage_of(m["desc"]), m["elapsed"]
        else:
            continue
        by_stage[stage] = by_stage.get(stage, 0.0) + seconds(elapsed)
    return by_stage


def last_run(log: pd.DataFrame) -> pd.DataFrame:
    """Each notebook's last ``ok`` row of the study log: the run its executed copy in ``notebooks/`` comes from."""
    return log[log.status == "ok"].groupby("notebook", sort=True).tail(1).sort_values("notebook")


def study_costs(folder: Path) -> pd.DataFrame:
    """One row per (notebook, stage) of the run in ``folder`` (a profile's results): the stage's seconds beside the
    notebook's wall time; ``rest`` is the wall time no bar accounts for (metrics, figures, imports)."""
    runs = last_run(pd.read_csv(folder / "study_log.csv"))
    rows = []
    for run in runs.itertuples():
        path = folder / "notebooks" / run.notebook
        if not path.exists():
            raise FileNotFoundError(f"{path}: the study log names it but the executed notebook is missing; rerun "
                                    f"`python -m magvit.study --only {run.notebook[:2]}`")
        by_stage = bar_seconds(output_lines(json.loads(path.read_text(encoding="utf-8"))))
        by_stage["rest"] = max(0.0, run.wall_s - sum(by_stage.values()))
        for stage in STAGES:
            if by_stage.get(stage):
                rows.append({"notebook": run.notebook.removesuffix(".ipynb"), "stage": stage,
                             "seconds": round(by_stage[stage], 1), "notebook_wall_s": run.wall_s,
                             "run_commit": run.git_commit, "started_utc": run.started_utc})
    return pd.DataFrame(rows)


def figure(costs: pd.DataFrame):  # noqa: ANN201 (matplotlib Figure)
    import matplotlib.pyplot as plt

    minutes = costs.pivot_table(index="notebook", columns="stage", values="seconds", aggfunc="sum", sort=False) / 60
    minutes = minutes[[s for s in STAGES if s in minutes.columns]].fillna(0.0)
    fig, ax = plt.subplots(figsize=(8, 3.2))
    minutes.plot.bar(stacked=True, ax=ax, width=0.8)
    total = costs.groupby("notebook", sort=False).notebook_wall_s.first().sum() / 60
    ax.set_ylabel("minutes")
    commits = ", ".join(costs.run_commit.unique())
    ax.set_title(f"where the study's {total:.0f} minutes go (commit {commits})", fontsize=10)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--seed", type=int, default=0, help="the study seed of the run (provenance)")
    args = parser.parse_args()
    folder = results_dir(args.profile)
    costs = study_costs(folder)
    path = results.write_table(costs, "diagnostics/study_costs", profile=args.profile, seeds=args.seed)
    results.save_figure(figure(costs), "diagnostics/study_costs", profile=args.profile)
    summary = costs.pivot_table(index="notebook", columns="stage", values="seconds", aggfunc="sum", sort=False)
    print((summary / 60).round(1).to_string(na_rep=""))
    print(f"total {costs.groupby('notebook').notebook_wall_s.first().sum() / 60:.1f} min; wrote {path}")


if __name__ == "__main__":
    main()
