"""Resolving power of the study's instrument, measured before any verdict.

A study must show that its instrument can see a difference of the size its claims are about. The reference
MAGVIT-B (COMMIT, the profile's B transformer) is trained at fractions of its budget (1/8, 1/2, 1 of the profile's
steps, ``table1.scaled_steps``: the full-budget model is the tables' own cached artifact, and on ``shapes`` CG the
1/2 model is Table 1's at ``cpu``; where Table 1 trains longer than the profile's steps, at ``gpu``, the CG budget is
Table 1's, :func:`reference_config`) on ``shapes`` CG and ``pushbot`` FP. Each model generates clips conditioned on
the same held-out test clips ``0..n-1`` (``magvit.generative.sample.sample_clips``, the same sampling seed), which are
scored by the proxy evaluator: FVD (proxy) with its bootstrap interval (``magvit.metrics.fvd``), and on CG the
evaluator's class accuracy of the generated clips against the class they were conditioned on (its ``label`` head)
and IS (proxy). Because every row is conditioned on the same clips, the difference of a row from the full-budget row
is bootstrapped *paired* (:func:`paired_bootstrap`: one resampling of the clip indices serves the real clips and
both rows' generated clips), which is tighter than comparing two independent intervals; in FVD (proxy) and in the
distance the verdicts use at this clip count (KVD below ~10 clips per feature), which is what :func:`resolves`
judges. Beside them: the tokenizer floor (the real clips encoded and decoded: what a transformer that predicted
every token right would score) and the evaluator's class accuracy on the real clips.

Notebook API: ``df = measure(P)``, ``write(df, P)`` (``results/resolving_power.csv``), ``figure(df)``; every table
notebook prints ``statement(folder, benchmark)``, and verdict rules can call ``resolves(folder, benchmark)`` or
``qualify(claims, folder)``. The rule of :func:`resolves` is stated in its docstring.
"""

from __future__ import annotations

import gc
from fractions import Fraction
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from magvit import data as video_data
from magvit.config import Profile, TransformerConfig
from magvit.experiments.table1 import scaled_steps, size_config
from magvit.experiments.tables23 import BENCHMARKS as FP_BENCHMARKS
from magvit.experiments.verdicts import NOT_TESTABLE
from magvit.generative.sample import sample_clips
from magvit.generative.tasks import check_task, is_class_conditional
from magvit.generative.train import get_transformer
from magvit.infra import results
from magvit.infra.artifacts import ArtifactStore
from magvit.infra.checks import check_seed
from magvit.infra.paths import REPO_ROOT
from magvit.metrics import ProxyEvaluator, fvd, get_evaluator, inception_score
from magvit.metrics.frechet import check_features
from magvit.metrics.kernel import interval
from magvit.metrics.paired import RowFeatures, choose_distance, contrast
from magvit.tokenizer.evaluate import reconstruct

TABLE = "resolving_power"
BENCHMARKS: tuple[tuple[str, str], ...] = (("shapes", "CG"), ("pushbot", "FP"))
FRACTIONS: tuple[float, ...] = (1 / 8, 1 / 2, 1.0)
# the columns a verdict reads, then what this module adds (``write`` adds the provenance columns after them)
COLUMNS = ("benchmark", "task", "budget_fraction", "steps", "fvd", "fvd_low", "fvd_high", "class_accuracy")
EXTRA_COLUMNS = (
    "seed", "num_samples",
    # paired bootstrap of (this row - the largest-budget row) over the shared conditioning clips, in FVD (proxy) and
    # in the distance the verdicts use at this clip count (KVD below ~10 clips per feature)
    "fvd_diff", "fvd_diff_low", "fvd_diff_high", "verdict_distance", "verdict_diff", "verdict_diff_low",
    "verdict_diff_high",
    "class_accuracy_low", "class_accuracy_high", "accuracy_diff", "accuracy_diff_low", "accuracy_diff_high",
    "is_proxy",
    # references on the same clips
    "real_class_accuracy", "chance", "floor_fvd", "floor_class_accuracy",
)
# columns that are NaN by design on a task without classes (left empty in the CSV)
CLASS_COLUMNS = ("class_accuracy", "class_accuracy_low", "class_accuracy_high", "accuracy_diff", "accuracy_diff_low",
                 "accuracy_diff_high", "is_proxy", "real_class_accuracy", "chance", "floor_class_accuracy")
CONFIDENCE = 0.95


def _cond_frames(benchmark: str, task: str) -> int:
    """The condition frames the tables train with (Table 2's per benchmark for FP; 1 otherwise), so that the
    full-budget model is the tables' cached one."""
    return FP_BENCHMARKS[benchmark].cond_frames if task == "FP" and benchmark in FP_BENCHMARKS else 1


def reference_config(profile: Profile, task: str) -> TransformerConfig:
    """The reference MAGVIT-B at its full budget on ``task``: the profile's B; on a class-conditional task, Table 1's
    B where Table 1 trains longer (``tables.table1_train_fraction`` > 1, the gpu profile: class conditioning needs
    thousands of steps), so that Table 1's MAGVIT-B-CG is the reference's full-budget model there, as it is its 1/2
    model at ``cpu``."""
    if is_class_conditional(task) and profile.tables.table1_train_fraction > 1:
        return size_config(profile, "B", profile.tables.table1_train_fraction)
    return profile.transformer


def check_fractions(fractions: tuple[float, ...] | list[float]) -> tuple[float, ...]:
    """Budget fractions in (0, 1], at least two, distinct; returned sorted ascending."""
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) < 2:
        raise ValueError(f"resolving power compares budgets: need at least 2 fractions, got {fractions}")
    bad = [f for f in fractions if not 0 < f <= 1]
    if bad:
        raise ValueError(f"budget fractions must lie in (0, 1], got {bad}")
    if len(set(fractions)) != len(fractions):
        raise ValueError(f"budget fractions must be distinct, got {fractions}")
    return tuple(sorted(fractions))


def paired_bootstrap(real_feats: np.ndarray, fake_a: np.ndarray, fake_b: np.ndarray,
                     correct_a: np.ndarray | None = None, correct_b: np.ndarray | None = None,
                     num_bootstrap: int = 200, seed: int = 0) -> dict[str, float | str]:
    """FVD(real, a) - FVD(real, b), the same difference in the distance the verdicts use at this clip count
    (``metrics.paired.choose_distance``: KVD below ~10 clips per feature, else FVD) and, given per-clip correctness,
    accuracy(a) - accuracy(b), each with a 95% interval from a paired bootstrap: clip ``i`` of ``a`` and ``b`` was
    conditioned on real clip ``i``, so each draw resamples the indices once and takes the same rows of all three sets
    (``metrics.paired.contrast``, the verdicts' own bootstrap, for the distances).

    Returns ``fvd_diff, fvd_diff_low, fvd_diff_high``, ``verdict_distance`` with ``verdict_diff, verdict_diff_low,
    verdict_diff_high`` and, with correctness, ``accuracy_diff, ...``. The verdict distance is what
    :func:`resolves` judges: a gate must measure what the claims are judged by.
    """
    real = check_features(real_feats, "real_feats")
    a, b = check_features(fake_a, "fake_a"), check_features(fake_b, "fake_b")
    if not len(real) == len(a) == len(b):
        raise ValueError(f"a paired bootstrap needs as many clips in every set: real {len(real)}, a {len(a)}, "
                         f"b {len(b)}")
    with_accuracy = correct_a is not None and correct_b is not None
    if with_accuracy:
        correct_a, correct_b = np.asarray(correct_a, dtype=float), np.asarray(correct_b, dtype=float)
        if correct_a.shape != (len(real),) or correct_b.shape != (len(real),):
            raise ValueError(f"correctness vectors must have shape ({len(real)},), got {correct_a.shape} and "
                             f"{correct_b.shape}")
    if num_bootstrap < 1:
        raise ValueError(f"num_bootstrap must be >= 1, got {num_bootstrap}")
    rows = [(1.0, RowFeatures.of(a)), (-1.0, RowFeatures.of(b))]
    fvd_diff = contrast(real, rows, "fvd", num_bootstrap, seed, CONFIDENCE)
    distance = choose_distance(len(real), real.shape[1])
    verdict_diff = fvd_diff if distance == "fvd" else contrast(real, rows, distance, num_bootstrap, seed, CONFIDENCE)
    out: dict[str, float | str] = {
        "fvd_diff": fvd_diff.value, "fvd_diff_low": fvd_diff.low, "fvd_diff_high": fvd_diff.high,
        "verdict_distance": distance, "verdict_diff": verdict_diff.value, "verdict_diff_low": verdict_diff.low,
        "verdict_diff_high": verdict_diff.high}
    if with_accuracy:
        rng = np.random.default_rng(seed)
        acc_draws = [correct_a[idx].mean() - correct_b[idx].mean()
                     for idx in (rng.integers(0, len(real), len(real)) for _ in range(num_bootstrap))]
        acc_value = float(correct_a.mean() - correct_b.mean())
        low, high = interval(np.array(acc_draws), acc_value, CONFIDENCE)
        out |= {"accuracy_diff": acc_value, "accuracy_diff_low": low, "accuracy_diff_high": high}
    return out


def accuracy_interval(correct: np.ndarray) -> tuple[float, float]:
    """95% Wilson score interval of an accuracy from per-clip correctness."""
    correct = np.asarray(correct, dtype=float)
    n, p, z = len(correct), float(correct.mean()), 1.959964
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, min(centre - half, p)), min(1.0, max(centre + half, p))


def table_clips(profile: Profile) -> int:
    """Generated clips per row of Tables 1-3 (notebooks 06-07): the count the resolving power is measured at by
    default, so that its intervals are those of the tables' rows (Tables 4-5 score fewer per task, see
    :func:`statement`'s ``clips``)."""
    return max(2 * profile.tables.fvd_groups, int(profile.tables.eval_samples * profile.tables.eval_fraction))


def measure(profile: Profile, seed: int = 0, benchmarks: tuple[tuple[str, str], ...] = BENCHMARKS,
            fractions: tuple[float, ...] = FRACTIONS, *, num_samples: int | None = None,
            evaluator: ProxyEvaluator | None = None, store: ArtifactStore | None = None) -> pd.DataFrame:
    """Train (or load) the reference MAGVIT-B at each budget fraction on each (benchmark, task), generate
    ``num_samples`` clips (default :func:`table_clips`, 128 at ``cpu``) conditioned on the same held-out test clips, and
    score them; one row per (benchmark, task, fraction) with :data:`COLUMNS` and :data:`EXTRA_COLUMNS`.

    ``fvd_diff*`` / ``accuracy_diff*``: this row minus the largest-budget row of its (benchmark, task), paired
    bootstrap (:func:`paired_bootstrap`, ``profile.eval.num_bootstrap`` draws); 0 on that row itself.
    """
    check_seed(seed)
    fractions = check_fractions(fractions)
    for benchmark, task in benchmarks:
        check_task(task)
        if benchmark not in video_data.BENCHMARKS:
            raise ValueError(f"unknown benchmark {benchmark!r}; choose from {', '.join(video_data.BENCHMARKS)}")
    n = int(num_samples or table_clips(profile))
    if n < 2:
        raise ValueError(f"num_samples must be at least 2 (FVD needs a covariance), got {n}")
    evaluator = evaluator or get_evaluator(profile, store=store)
    num_classes = video_data.num_classes("shapes")
    T, R = profile.data.num_frames, profile.data.resolution
    rows = []
    for benchmark, task in benchmarks:
        classes = is_class_conditional(task)
        _, labels = video_data.get_batch(video_data.load(benchmark, "test", T, R), range(n))
        target = labels["label"].numpy()
        if classes and (target < 0).any():
            raise ValueError(f"task {task} is class-conditional but {benchmark} clips have no class label")
        real_feats, fakes, corrects, floor = None, {}, {}, {}
        for fraction in fractions:
            cfg = scaled_steps(reference_config(profile, task), fraction)
            model, _ = get_transformer(profile, benchmark, task, "commit", cfg=cfg,
                                       cond_frames=_cond_frames(benchmark, task), seed=seed, store=store)
            samples = sample_clips(model, task, n, profile.eval.batch_size, seed=seed)
            if real_feats is None:  # the same real clips condition every row; the tokenizer is shared too
                real_feats = evaluator.features(samples.real)
                recon = reconstruct(model.tokenizer, samples.real)
                floor["fvd"] = fvd(real_feats, evaluator.features(recon), 0).value
                if classes:
                    floor["accuracy"] = float((evaluator.predict(recon, "label") == target).mean())
                    floor["real_accuracy"] = float((evaluator.predict(samples.real, "label") == target).mean())
                del recon
            fakes[fraction] = evaluator.features(samples.fake)
            est = fvd(real_feats, fakes[fraction], profile.eval.num_bootstrap, seed)
            row = {"benchmark": benchmark, "task": task, "budget_fraction": fraction, "steps": cfg.steps,
                   "fvd": est.value, "fvd_low": est.low, "fvd_high": est.high, "class_accuracy": np.nan,
                   "seed": seed, "num_samples": n}
            if classes:
                corrects[fraction] = evaluator.predict(samples.fake, "label") == target
                low, high = accuracy_interval(corrects[fraction])
                splits = min(profile.tables.fvd_groups or 10, n)  # as sample.score: the tables' IS splits
                is_mean, _ = inception_score(evaluator.class_probs(samples.fake), splits=splits)
                row |= {"class_accuracy": float(corrects[fraction].mean()), "class_accuracy_low": low,
                        "class_accuracy_high": high, "is_proxy": is_mean, "real_class_accuracy": floor["real_accuracy"],
                        "chance": 1 / num_classes, "floor_class_accuracy": floor["accuracy"]}
            rows.append(row | {"floor_fvd": floor["fvd"]})
            del model, samples
            gc.collect()
        full = fractions[-1]
        for row in rows[-len(fractions):]:
            f = row["budget_fraction"]
            row |= paired_bootstrap(real_feats, fakes[f], fakes[full], corrects.get(f), corrects.get(full),
                                    num_bootstrap=max(1, profile.eval.num_bootstrap), seed=seed)
    df = pd.DataFrame(rows)
    return df.reindex(columns=list(COLUMNS) + list(EXTRA_COLUMNS))


def write(df: pd.DataFrame, profile: Profile) -> Path:
    """Write ``df`` (from :func:`measure`) to ``<results of profile>/resolving_power.csv`` with the provenance
    columns of ``results.write_table``; cells that do not apply (class columns on FP) are left empty."""
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"resolving-power table lacks column(s) {missing}; make it with measure()")
    seeds = sorted({int(s) for s in df["seed"]}) if "seed" in df else list(profile.seeds)
    return results.write_table(results.blank_missing(df, CLASS_COLUMNS), TABLE, profile=profile.name, seeds=seeds,
                               device=profile.device)


def read(folder: str | Path) -> pd.DataFrame | None:
    """``<folder>/resolving_power.csv`` or None when it does not exist."""
    path = Path(folder) / f"{TABLE}.csv"
    return pd.read_csv(path) if path.exists() else None


def _rows(folder: str | Path, benchmark: str) -> pd.DataFrame | None:
    table = read(folder)
    if table is None or "benchmark" not in table:
        return None
    rows = table[table["benchmark"] == benchmark]
    return rows if len(rows) else None


def _check(rows: pd.DataFrame) -> dict[str, bool]:
    """The parts of :func:`resolves`' rule for the rows of one (benchmark, task, seed)."""
    rows = rows.sort_values("budget_fraction")
    small, full = rows.iloc[0], rows.iloc[-1]
    smaller = rows.iloc[:-1]
    # the paired difference in the distance the verdicts use (older CSVs: FVD (proxy) only)
    diff = "verdict_diff" if "verdict_diff_high" in rows and smaller["verdict_diff_high"].notna().all() else "fvd_diff"
    paired_fvd = f"{diff}_high" in rows and smaller[f"{diff}_high"].notna().all()
    if paired_fvd:  # no smaller budget beats the full one beyond the interval of D(f) - D(1)
        parts = {"fvd_improves": bool((smaller[f"{diff}_high"] >= 0).all())}
    else:  # without paired intervals: the point estimates fall at every budget step
        parts = {"fvd_improves": bool(np.all(np.diff(rows["fvd"].to_numpy(dtype=float)) < 0))}
    if paired_fvd and pd.notna(small.get(f"{diff}_low")):  # paired: (1/8 - full) > 0 beyond its interval
        parts["fvd_resolved"] = bool(small[f"{diff}_low"] > 0)
    else:  # independent intervals that do not overlap
        parts["fvd_resolved"] = bool(small["fvd_low"] > full["fvd_high"])
    accuracy = pd.to_numeric(rows["class_accuracy"], errors="coerce")
    if accuracy.notna().all():
        paired_accuracy = "accuracy_diff_low" in rows and smaller["accuracy_diff_low"].notna().all()
        if paired_accuracy:  # no smaller budget recognised better than the full one beyond its interval
            parts["accuracy_improves"] = bool((smaller["accuracy_diff_low"] <= 0).all())
        else:
            parts["accuracy_improves"] = bool(np.all(np.diff(accuracy.to_numpy(dtype=float)) > 0))
        if "accuracy_diff_high" in rows and pd.notna(small.get("accuracy_diff_high")):
            parts["accuracy_resolved"] = bool(small["accuracy_diff_high"] < 0)
        elif "class_accuracy_high" in rows and pd.notna(small.get("class_accuracy_high")):
            parts["accuracy_resolved"] = bool(small["class_accuracy_high"] < full["class_accuracy_low"])
        else:
            parts["accuracy_resolved"] = parts["accuracy_improves"]
    return parts


def _groups(rows: pd.DataFrame) -> list[pd.DataFrame]:
    keys = [k for k in ("task", "seed") if k in rows]
    return [g for _, g in rows.groupby(keys, sort=True)] if keys else [rows]


def resolves(folder: str | Path, benchmark: str) -> bool | None:
    """Does the instrument resolve the reference model's training budget on ``benchmark``?

    The rule, for every (task, seed) of the benchmark's rows in ``<folder>/resolving_power.csv``, from the smallest
    budget fraction to the largest (1/8, 1/2, 1):

    - FVD (proxy) improves with the budget: no smaller budget beats the full one beyond the paired interval of
      FVD(f) - FVD(1) (its upper bound is not below 0). A wiggle between neighbouring budgets inside the noise does
      not contradict the instrument; a significant reversal does (the gpu run's pushbot FP: 368 at 1/2 against 382
      at 1, a paired difference of -14.0 [-21.0, -5.7], although the rows' own intervals overlap).
      Without the paired columns: the point estimates fall at every step;
    - the smallest-vs-largest FVD difference exceeds its interval: the paired bootstrap's lower bound of
      FVD(1/8) - FVD(1) is above 0 (without the paired columns: the two rows' own intervals do not overlap);
    - on a class-conditional task (``class_accuracy`` filled), likewise for the class accuracy of the generated
      clips: no smaller budget recognised better than the full one beyond the paired interval (without it: a strict
      rise at every step), and the paired interval of accuracy(1/8) - accuracy(1) lies below 0 (without it: the
      rows' Wilson intervals do not overlap).

    True when all hold, False when any fails, None when the CSV or the benchmark's rows are missing or a (task, seed)
    has fewer than two budgets.
    """
    rows = _rows(folder, benchmark)
    if rows is None:
        return None
    groups = _groups(rows)
    if any(g["budget_fraction"].nunique() < 2 for g in groups):
        return None
    return all(all(_check(g).values()) for g in groups)


PART_TEXT = {
    "fvd_improves": ("the distance the verdicts use does not fall with the budget (a smaller budget beats the full "
                     "one)"),
    "fvd_resolved": "the smallest-vs-largest-budget difference in the distance the verdicts use is inside its interval",
    "accuracy_improves": ("the class accuracy of the generated clips does not rise with the budget (a smaller budget "
                          "beats the full one)"),
    "accuracy_resolved": "the smallest-vs-largest-budget class-accuracy difference is inside its interval",
}


def _describe(rows: pd.DataFrame) -> str:
    rows = rows.sort_values("budget_fraction")
    small, full = rows.iloc[0], rows.iloc[-1]
    fvds = " -> ".join(f"{v:.1f}" for v in rows["fvd"])
    budgets = ", ".join(str(Fraction(f).limit_denominator(1024)) for f in rows["budget_fraction"])
    text = (f"{small['task']}: FVD (proxy) {fvds} at {budgets} of the budget ({int(small['steps'])} to "
            f"{int(full['steps'])} steps)")
    if pd.notna(small.get("fvd_diff")):
        text += (f", paired difference {small['fvd_diff']:.1f} "
                 f"[{small['fvd_diff_low']:.1f}, {small['fvd_diff_high']:.1f}]")
    if pd.notna(small.get("verdict_diff")) and small.get("verdict_distance") not in (None, "fvd"):
        # the verdicts judge this distance here: show its difference too (KVD is small; 3 significant digits)
        text += (f"; in {str(small['verdict_distance']).upper()}, the distance the verdicts use at this clip count, "
                 f"{small['verdict_diff']:.3g} [{small['verdict_diff_low']:.3g}, {small['verdict_diff_high']:.3g}]")
    if pd.notna(small.get("floor_fvd")):
        text += f", tokenizer floor {small['floor_fvd']:.1f}"
    accuracy = pd.to_numeric(rows["class_accuracy"], errors="coerce")
    if accuracy.notna().all():
        text += "; class accuracy of the generated clips " + " -> ".join(f"{v:.3f}" for v in accuracy)
        if pd.notna(small.get("chance")):
            text += f" (chance {small['chance']:.3f}"
            if pd.notna(small.get("real_class_accuracy")):
                text += f", real clips {small['real_class_accuracy']:.3f}"
            text += ")"
    return text


def _shown(folder: str | Path) -> str:
    """``folder`` relative to the repository when it lies in it (``results``), else as given: a reader of an executed
    notebook has no use for the absolute path of the machine that ran it."""
    try:
        return Path(folder).resolve().relative_to(REPO_ROOT.resolve()).as_posix()
    except ValueError:
        return str(folder)


def statement(folder: str | Path, benchmark: str, clips: int | None = None) -> str:
    """One sentence for a table notebook: whether its comparisons on ``benchmark`` are within the resolved range.

    ``clips``: the generated clips per row of the calling table; where it is fewer than the resolving power was
    measured at, the sentence says so (the table's intervals are wider than the ones resolved here)."""
    verdict = resolves(folder, benchmark)
    if verdict is None:
        return (f"Resolving power on {benchmark}: not measured ({TABLE}.csv has no rows for it in {_shown(folder)}), "
                f"so this table cannot say whether its instrument sees differences of the size its claims are about.")
    rows = _rows(folder, benchmark)
    described = "; ".join(_describe(g) for g in _groups(rows))
    measured = int(rows["num_samples"].min()) if "num_samples" in rows else None
    if clips is not None and measured is not None and clips < measured:
        described += (f"; measured on {measured} clips per row, this table scores {clips}, so its intervals are "
                      f"wider than these")
    if verdict:
        return (f"Resolving power on {benchmark}: the instrument resolves the reference MAGVIT-B's training budget "
                f"({described}), so this table's comparisons on {benchmark} are within the resolved range for "
                f"differences as large as a budget change of that size.")
    failed = [PART_TEXT[k] for k in PART_TEXT if any(not _check(g).get(k, True) for g in _groups(rows))]
    return (f"Resolving power on {benchmark}: the instrument does NOT resolve the reference MAGVIT-B's training budget "
            f"({described}; {'; '.join(failed)}), so this table's comparisons are outside the resolved range and its "
            f"verdicts on {benchmark} cannot tell the compared models apart.")


def qualify(claims: pd.DataFrame, folder: str | Path, downgrade: bool = True) -> pd.DataFrame:
    """``claims`` (``magvit.experiments.claims`` schema) with every row on a benchmark the instrument does not
    resolve (``resolves`` is False) marked: a note appended to ``ours`` and, with ``downgrade``, the verdict set to
    "not testable here". Rows on benchmarks that resolve, or were not measured, are left as they are."""
    out = claims.copy()
    for benchmark in out["benchmark"].dropna().unique():
        if resolves(folder, benchmark) is False:
            sel = out["benchmark"] == benchmark
            out.loc[sel, "ours"] = out.loc[sel, "ours"].astype(str) + (
                f"; the instrument does not resolve the reference model's training budget on {benchmark} ({TABLE}.csv)")
            if downgrade:
                out.loc[sel, "verdict"] = NOT_TESTABLE
    return out


def figure(df: pd.DataFrame) -> Figure:
    """FVD (proxy) with its interval against the budget fraction per (benchmark, task), the tokenizer floor dashed;
    and, where a task has classes, the class accuracy of the generated clips with chance and the real clips'."""
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"resolving-power table lacks column(s) {missing}")
    accuracy = pd.to_numeric(df["class_accuracy"], errors="coerce")
    with_classes = bool(accuracy.notna().any())
    fig, axes = plt.subplots(1, 2 if with_classes else 1, figsize=(8.4 if with_classes else 4.4, 3.2), squeeze=False)
    ax_fvd = axes[0, 0]
    for i, ((benchmark, task), rows) in enumerate(df.groupby(["benchmark", "task"], sort=False)):
        rows = rows.sort_values("budget_fraction")
        x = rows["budget_fraction"].to_numpy(dtype=float)
        y = rows["fvd"].to_numpy(dtype=float)
        err = np.stack([y - rows["fvd_low"].to_numpy(dtype=float), rows["fvd_high"].to_numpy(dtype=float) - y])
        ax_fvd.errorbar(x, y, yerr=err, marker="o", capsize=3, color=f"C{i}", label=f"{benchmark} {task}")
        if "floor_fvd" in rows and rows["floor_fvd"].notna().any():
            ax_fvd.axhline(float(rows["floor_fvd"].iloc[0]), color=f"C{i}", linestyle="--", linewidth=1,
                           label=f"{benchmark} tokenizer floor")
        acc = pd.to_numeric(rows["class_accuracy"], errors="coerce")
        if with_classes and acc.notna().all():
            ax = axes[0, 1]
            a = acc.to_numpy(dtype=float)
            if "class_accuracy_low" in rows:
                lo = pd.to_numeric(rows["class_accuracy_low"], errors="coerce").to_numpy(dtype=float)
                hi = pd.to_numeric(rows["class_accuracy_high"], errors="coerce").to_numpy(dtype=float)
                ax.errorbar(x, a, yerr=np.stack([a - lo, hi - a]), marker="o", capsize=3, color=f"C{i}",
                            label=f"{benchmark} {task} generated")
            else:
                ax.plot(x, a, marker="o", color=f"C{i}", label=f"{benchmark} {task} generated")
            for column, style, name in (("chance", ":", "chance"), ("real_class_accuracy", "-.", "real clips"),
                                        ("floor_class_accuracy", "--", "tokenizer floor")):
                if column in rows and pd.to_numeric(rows[column], errors="coerce").notna().any():
                    ax.axhline(float(rows[column].iloc[0]), color="grey", linestyle=style, linewidth=1, label=name)
    ticks = sorted(set(df["budget_fraction"].astype(float)))
    for ax in axes[0]:
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks, [str(Fraction(t).limit_denominator(1024)) for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("training budget (fraction of the profile's steps)")
        ax.legend(fontsize=6)
    ax_fvd.set_ylabel("FVD (proxy), lower is better")
    ax_fvd.set_title("reference MAGVIT-B at fractions of its budget", fontsize=8)
    if with_classes:
        axes[0, 1].set_ylabel("evaluator's class accuracy")
        axes[0, 1].set_title("class of the generated clips vs their condition", fontsize=8)
    fig.tight_layout()
    return fig
