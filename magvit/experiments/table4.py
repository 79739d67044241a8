"""Table 4 (multi-task generation on BAIR / SSv2 -> ``pushbot`` / ``shapes``): the table and claims C3 and C11.

Paper Sec. 4.4 and Tab. 4: a model trained unconditionally (UNC), one trained on frame prediction only (FP) and one
multi-task model (MT: the eight BAIR tasks, or the ten SSv2 tasks with the class-conditional CG and CFP), each
evaluated on every task of its benchmark by FVD, with the average over the tasks. The models, their generated clips
and scores are ``magvit.experiments.table4_eval`` (its names are re-exported here, so ``table4.evaluate_task`` etc.
keep working); this module turns the long table of evaluations into Table 4's layout, the paper-vs-ours view and the
verdicts of C3 and C11 (on ``magvit.experiments.verdicts``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from magvit.experiments import claims
from magvit.experiments.table4_eval import (
    BENCHMARK_TASKS,
    COLUMNS,
    METHODS,
    MT8,
    MT10,
    PAPER_AVERAGE,
    PLAYS,
    SIZES,
    UNC,
    ModelSpec,
    OnUnseenTask,
    SampleKey,
    cached_samples,
    check_benchmark,
    condition_reference,
    condition_reference_features,
    evaluate_task,
    evaluation_row,
    for_task,
    generate_clips,
    get_model,
    ordered,
    real_clips,
    sample_key,
    task_grid,
    to_uint8,
    training_tasks,
)
from magvit.experiments.verdicts import (
    NOT_REPRODUCED,
    NOT_TESTABLE,
    REPRODUCED,
    Estimate,
    Outcome,
    cap_seeds,
    combine,
    compare_rows,
)
from magvit.generative.sample import ClipFeatures
from magvit.infra.results import blank_missing
from magvit.metrics.paired import RowFeatures

# the evaluation's names, re-exported (``magvit.experiments.table4_eval``)
__all__ = ["BENCHMARK_TASKS", "COLUMNS", "METHODS", "MT8", "MT10", "PAPER_AVERAGE", "PLAYS", "SIZES", "UNC",
           "ModelSpec", "OnUnseenTask", "SampleKey", "average", "c3_claim", "c3_outcomes", "c3_parts", "c11_claim",
           "c11_paired", "cached_samples", "cap_to_seeds", "check_benchmark", "condition_reference",
           "condition_reference_features", "evaluate_task", "evaluation_row", "for_csv", "for_task", "generate_clips",
           "get_model", "ordered", "paired_features", "paper_side_by_side", "real_clips", "sample_key", "show",
           "show_outcome", "subset", "table4_claims", "task_estimates", "task_grid", "to_uint8", "training_tasks",
           "wide"]


def average(estimates: list[Estimate]) -> Estimate:
    """The mean of several tasks' FVDs with an interval from their half-widths, taken as independent errors:
    mean -/+ sqrt(sum of squared half-widths) / k."""
    if not estimates:
        raise ValueError("an average needs at least one estimate")
    k = len(estimates)
    value = sum(e.value for e in estimates) / k
    below = np.sqrt(sum((e.value - e.low) ** 2 for e in estimates)) / k
    above = np.sqrt(sum((e.high - e.value) ** 2 for e in estimates)) / k
    return Estimate(value, value - below, value + above)


def wide(long: pd.DataFrame) -> pd.DataFrame:
    """Table 4's layout: one row per (benchmark, method, seed), one column per task in the paper's order (FVD
    (proxy)), then ``average`` with ``average_low`` / ``average_high`` over the benchmark's tasks. A benchmark's
    missing task is an error: the average must cover them all."""
    rows = []
    for (benchmark, method, seed), part in long.groupby(["benchmark", "method", "seed"], sort=False):
        by_task = part.set_index("task")
        expected = BENCHMARK_TASKS[check_benchmark(benchmark)]
        missing = [t for t in expected if t not in by_task.index]
        if missing:
            raise ValueError(f"{method} seed {seed} on {benchmark} lacks tasks {missing}")
        avg = average([Estimate(by_task.loc[t, "fvd"], by_task.loc[t, "fvd_low"], by_task.loc[t, "fvd_high"])
                       for t in expected])
        row = {"benchmark": benchmark, "method": method, "training": part["training"].iloc[0], "seed": seed}
        row.update({t: by_task.loc[t, "fvd"] if t in expected else np.nan for t in COLUMNS})
        row.update({"average": avg.value, "average_low": avg.low, "average_high": avg.high})
        rows.append(row)
    return pd.DataFrame(rows)


def task_estimates(long: pd.DataFrame, benchmark: str, method: str, tasks: tuple[str, ...]) -> list[Estimate]:
    """One estimate per training seed (seed order): the average FVD (proxy) of ``method`` over ``tasks``."""
    part = long[(long.benchmark == benchmark) & (long.method == method)]
    out = []
    for _, runs in part.groupby("seed", sort=True):
        by_task = runs.set_index("task")
        out.append(average([Estimate(by_task.loc[t, "fvd"], by_task.loc[t, "fvd_low"], by_task.loc[t, "fvd_high"])
                            for t in tasks]))
    return out


def cap_to_seeds(verdict: str, seeds: int, required: int) -> str:
    """An ordering judged on fewer training seeds than the profile's cannot be ``reproduced`` nor ``not reproduced``
    (the training noise is not measured): ``not testable here`` (``verdicts.cap_seeds`` on an ``Outcome``)."""
    return NOT_TESTABLE if seeds < required and verdict in (REPRODUCED, NOT_REPRODUCED) else verdict


def show(estimates: list[Estimate]) -> str:
    return ", ".join(f"{e.value:.1f} [{e.low:.1f}, {e.high:.1f}]" for e in estimates)


def show_outcome(outcome: Outcome) -> str:
    """A part's verdict with its difference (paper's direction positive) and what it was computed on."""
    return outcome.shown()


# real clips' features and the generated clips' features per method label (``RowFeatures`` over the benchmark's
# tasks), for the paired bootstrap; None: judge from the rows' own FVD (proxy) intervals
Paired = tuple[np.ndarray, Mapping[str, RowFeatures]]


def paired_features(features: Mapping[tuple[ModelSpec, str], ClipFeatures], size: str = "B") -> dict[str, Paired]:
    """Per benchmark, the paired bootstrap's input from the per-clip features of each (model, task) evaluation
    (``sample.clip_features``): the real clips' features (clips 0..n-1, the same for every task) and one
    ``RowFeatures`` per method label of ``size``, seeds in order."""
    out: dict[str, Paired] = {}
    by_benchmark: dict[str, dict[str, dict[int, dict[str, np.ndarray]]]] = {}
    reals: dict[str, np.ndarray] = {}
    for (spec, task), f in features.items():
        if spec.size != size:
            continue
        real = reals.setdefault(spec.benchmark, f.real)
        if f.real.shape != real.shape or not np.array_equal(f.real, real):
            raise ValueError(f"{spec.label} seed {spec.seed} {task} was scored against other real clips")
        by_benchmark.setdefault(spec.benchmark, {}).setdefault(spec.label, {}).setdefault(spec.seed, {})[task] = f.fake
    for benchmark, rows in by_benchmark.items():
        out[benchmark] = (reals[benchmark], {m: RowFeatures(tuple(per_seed[s] for s in sorted(per_seed)))
                                             for m, per_seed in rows.items()})
    return out


def subset(row: RowFeatures, tasks: tuple[str, ...]) -> RowFeatures:
    """``row`` restricted to ``tasks``."""
    return RowFeatures(tuple({t: per_task[t] for t in tasks} for per_task in row.per_seed))


def c3_outcomes(long: pd.DataFrame, benchmark: str, size: str = "B", resolvable: bool | None = None,
                paired: Paired | None = None) -> tuple[list[Outcome], str]:
    """C3 on one benchmark, three orderings (lower FVD is better), each by the three-outcome rule on its difference
    (``verdicts.compare_rows``): MT beats UNC on the average over every task, MT beats FP on that average, and MT
    beats FP on the average over the tasks FP never saw. Returns (the parts' outcomes, our numbers)."""
    tasks = BENCHMARK_TASKS[check_benchmark(benchmark)]
    unseen = tuple(t for t in tasks if t != "FP")
    mt, unc, fp = (f"MAGVIT-{size}-{m}" for m in ("MT", "UNC", "FP"))
    est = {m: task_estimates(long, benchmark, m, tasks) for m in (mt, unc, fp)}
    unseen_mt, unseen_fp = (task_estimates(long, benchmark, m, unseen) for m in (mt, fp))

    def pair(better: str, worse: str, over: tuple[str, ...]) -> tuple | None:
        if paired is None:
            return None
        missing = [m for m in (better, worse) if m not in paired[1]]
        if missing:
            raise ValueError(f"the paired features lack {missing}")
        return paired[0], subset(paired[1][better], over), subset(paired[1][worse], over)

    parts = [compare_rows(est[mt], est[unc], resolvable=resolvable, paired=pair(mt, unc, tasks)),
             compare_rows(est[mt], est[fp], resolvable=resolvable, paired=pair(mt, fp, tasks)),
             compare_rows(unseen_mt, unseen_fp, resolvable=resolvable, paired=pair(mt, fp, unseen))]
    ours = (f"{benchmark}: average FVD (proxy) per seed, MT {show(est[mt])}; UNC {show(est[unc])}; "
            f"FP {show(est[fp])}; on FP's unseen tasks MT {show(unseen_mt)} vs FP {show(unseen_fp)}")
    return parts, ours


def c3_parts(long: pd.DataFrame, benchmark: str, size: str = "B") -> tuple[list[str], str]:
    """:func:`c3_outcomes`' verdicts and our numbers."""
    parts, ours = c3_outcomes(long, benchmark, size)
    return [p.verdict for p in parts], ours


C3_PARTS = ("MT over UNC", "MT over FP", "MT over FP on FP's unseen tasks")


def c3_claim(long: pd.DataFrame, required_seeds: int, setting: str = "",
             resolvable: bool | Mapping[str, bool | None] | None = None,
             paired: Mapping[str, Paired] | None = None) -> dict[str, str]:
    """C3 over every benchmark whose three B models are in ``long``: the parts' outcomes combined by
    ``verdicts.combine``, each ``not testable here`` where a model of the benchmark ran on fewer than
    ``required_seeds`` seeds (``verdicts.cap_seeds``). ``resolvable``: the evaluator's resolving power, one for all
    or per benchmark (None: unknown); ``paired``: per benchmark, the features for the paired bootstrap
    (:data:`Paired`)."""
    outcomes, names, texts, judged = [], [], [], []
    for benchmark in BENCHMARK_TASKS:
        part = long[(long.benchmark == benchmark) & (long["size"] == "B")]
        if set(part.method) != {f"MAGVIT-B-{m}" for m in METHODS}:
            continue
        judged.append(benchmark)
        seeds = int(part.groupby("method").seed.nunique().min())  # the row with the fewest seeds
        resolves = resolvable.get(benchmark) if isinstance(resolvable, Mapping) else resolvable
        parts, ours = c3_outcomes(long, benchmark, resolvable=resolves,
                                  paired=None if paired is None else paired.get(benchmark))
        parts = [cap_seeds(p, seeds, required_seeds) for p in parts]
        outcomes += parts
        names += [f"{benchmark} {n}" for n in C3_PARTS]
        texts.append(f"{ours} ({seeds} seed{'s' if seeds > 1 else ''}; parts: "
                     f"{'; '.join(show_outcome(p) for p in parts)})")
    if not outcomes:
        raise ValueError("C3 needs the UNC, FP and MT B models of at least one benchmark")
    return claims.verdict_row("C3", " | ".join(texts), combine(outcomes, names), setting,
                              benchmark=", ".join(judged))


def c11_claim(long: pd.DataFrame, references: dict[str, Estimate], required_seeds: int, benchmark: str = "shapes",
              setting: str = "", resolvable: bool | None = None,
              paired: tuple[np.ndarray, RowFeatures, Mapping[str, np.ndarray]] | None = None) -> dict[str, str]:
    """C11: for each of the benchmark's tasks, the MT B model beats the condition video through the tokenizer
    (``references[task]``, :func:`condition_reference`; the same for every seed), by the three-outcome rule on the
    difference (``verdicts.compare_rows``; with ``paired`` = (real features, the MT row's ``RowFeatures``, the
    tokenised V~'s features per task), the paired bootstrap), combined over the tasks by ``verdicts.combine`` and
    not testable here on fewer than ``required_seeds`` seeds."""
    tasks = BENCHMARK_TASKS[check_benchmark(benchmark)]
    missing = [t for t in tasks if t not in references]
    if missing:
        raise ValueError(f"C11 needs the condition-video reference of every task; missing {missing}")
    part = long[(long.benchmark == benchmark) & (long.method == "MAGVIT-B-MT")]
    if part.empty:
        raise ValueError(f"C11 needs the MT B model on {benchmark}")
    seeds = part.seed.nunique()
    outcomes, texts = [], []
    for t in tasks:
        ours = task_estimates(long, benchmark, "MAGVIT-B-MT", (t,))
        pair = None if paired is None else (paired[0], subset(paired[1], (t,)),
                                            RowFeatures.of(paired[2][t], task=t))
        outcome = cap_seeds(compare_rows(ours, [references[t]], resolvable=resolvable, paired=pair), seeds,
                            required_seeds)
        outcomes.append(outcome)
        texts.append(f"{t} {show(ours)} vs tokenised V~ {references[t].value:.1f}: {show_outcome(outcome)}")
    won = sum(o.verdict == REPRODUCED for o in outcomes)
    ours = (f"{benchmark}, one MT model on {len(tasks)} tasks, FVD (proxy) vs the condition video through the "
            f"tokenizer; resolved better on {won} of {len(tasks)} ({seeds} seed{'s' if seeds > 1 else ''}): "
            + "; ".join(texts))
    return claims.verdict_row("C11", ours, combine(outcomes, list(tasks)), setting, benchmark=benchmark)


def c11_paired(paired: Mapping[str, Paired], reference_features: Mapping[str, ClipFeatures],
               benchmark: str = "shapes") -> tuple[np.ndarray, RowFeatures, dict[str, np.ndarray]]:
    """:func:`c11_claim`'s ``paired`` from :func:`paired_features` and :func:`condition_reference_features`."""
    real, rows = paired[benchmark]
    for task, f in reference_features.items():
        if f.real.shape != real.shape or not np.array_equal(f.real, real):
            raise ValueError(f"the {task} reference was scored against other real clips than the models")
    return real, rows["MAGVIT-B-MT"], {t: f.fake for t, f in reference_features.items()}


def table4_claims(long: pd.DataFrame, references: dict[str, Estimate], required_seeds: int,
                  setting: str = "", resolvable: Mapping[str, bool | None] | None = None,
                  paired: Mapping[str, Paired] | None = None,
                  reference_features: Mapping[str, ClipFeatures] | None = None) -> pd.DataFrame:
    """The verdicts of C3 and C11 in the claims schema (``resolvable``: the evaluator's resolving power per
    benchmark, None where unknown; ``paired`` / ``reference_features``: the per-clip features for the paired
    bootstrap, :func:`paired_features` / :func:`condition_reference_features`, None to judge from the rows' own
    intervals)."""
    resolvable = resolvable or {}
    c11 = c11_paired(paired, reference_features) if paired and reference_features and "shapes" in paired else None
    return claims.verdict_table([c3_claim(long, required_seeds, resolvable=resolvable, paired=paired),
                                 c11_claim(long, references, required_seeds, resolvable=resolvable.get("shapes"),
                                           paired=c11)], setting)


def for_csv(table: pd.DataFrame) -> pd.DataFrame:
    """The wide table with the task columns a benchmark does not have left empty (``write_table`` refuses NaN in a
    metric column; an empty cell says "no such task here")."""
    return blank_missing(table, COLUMNS)


def paper_side_by_side(table: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """Paper vs ours, one row per (benchmark, method): the paper's per-task FVD and average beside our mean over
    seeds of FVD (proxy), for the tasks the paper's table gives on that benchmark."""
    rows = []
    for (benchmark, method), part in table.groupby(["benchmark", "method"], sort=False):
        theirs = paper[paper.method == method]
        for column in (*ordered(benchmark), "average"):
            paper_column = PAPER_AVERAGE[benchmark] if column == "average" else column
            shown = benchmark == "pushbot" or column in ("CG", "CFP", "average")  # the paper's SSv2 columns
            rows.append({"benchmark": f"{benchmark} ({PLAYS[benchmark]} stand-in)", "method": method, "task": column,
                         "paper_FVD": float(theirs[paper_column].iloc[0]) if shown and len(theirs) else np.nan,
                         "ours_FVD (proxy) mean": float(part[column].mean()),
                         "ours per seed": ", ".join(f"{v:.1f}" for v in part[column])})
    return pd.DataFrame(rows)
