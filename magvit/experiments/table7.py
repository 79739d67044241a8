"""Table 7 (tokenizer ablation) and the padding-consistency test of Sec. 3.1 (claims C4, C5, C6, C10).

Every Table 7 model of one budget trains the same number of steps on ``shapes`` clips (UCF-101's role) with the
profile's recipe (GAN + LeCam, the same perceptual stand-in), and is judged by reconstruction FVD (proxy) and IS
(proxy) on held-out ``shapes`` clips. "B" and "L" are half and full base width of the profile's tokenizer (paper: 64
and 128 filters). The 2D-VQ and the TATS-style model use the B widths, as the inflated models do, so the rows differ
in design, not in size.

Two budgets: ``full`` (``TokenizerConfig.table7_steps``) and ``half``. The paper compares trained tokenizers; an
ordering of models that have not learned says how fast each learns its first steps, not how well it ends up (a
2D-VQ that compresses 4x less learns its first steps faster). So C4, C5 and C6 are judged on the full-budget rows
only where :func:`convergence` finds them learned: within 2 dB PSNR of the shared tokenizer on ``shapes``, and every
ordering the claim reads the same at half and full budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from magvit import data
from magvit.config import Profile, TokenizerConfig
from magvit.experiments import claims
from magvit.experiments.learning_curves import without_adaptations
from magvit.experiments.verdicts import NOT_CONVERGED, Estimate, Outcome, combine, compare_rows, overrule
from magvit.infra.artifacts import ArtifactStore
from magvit.tokenizer.model import VQTokenizer
from magvit.tokenizer.train import get_tokenizer

VQ2D, TATS, B, L = "2D-VQ", "TATS 3D-VQ", "MAGVIT 3D-VQ-B", "MAGVIT 3D-VQ-L"
AVERAGE, CENTRAL = "MAGVIT 3D-VQ-B average", "MAGVIT 3D-VQ-B central"
ZEROS, PAPER_DESIGN = "MAGVIT 3D-VQ-B zeros", "MAGVIT 3D-VQ-B paper design"

# our row -> (the paper's tokenizer, the paper's init) in results/paper/table7_tokenizer.csv
PAPER_ROWS = {
    VQ2D: ("MaskGIT 2D-VQ", "scratch"),
    TATS: ("TATS 3D-VQ", "scratch"),
    B: ("MAGVIT 3D-VQ-B", "scratch"),
    L: ("MAGVIT 3D-VQ-L", "scratch"),
    AVERAGE: ("MAGVIT 3D-VQ-B", "imagenet-average-inflation"),
    CENTRAL: ("MAGVIT 3D-VQ-B", "imagenet-central-inflation"),
}

# the comparisons each claim reads, (better, worse) in the paper's direction (Tab. 7: lower recon FVD is better)
CLAIM_COMPARISONS: dict[str, tuple[tuple[str, str], ...]] = {
    "C4": ((B, VQ2D),),  # the 3D-VQ beats the 2D-VQ despite 4x more compression
    "C5": ((CENTRAL, AVERAGE), (AVERAGE, B)),  # central > average > scratch inflation
    "C6": ((L, B),),  # the larger tokenizer beats the smaller
}
PART_NAMES = {"C5": ("central over average", "average over scratch")}  # a chain's parts, as its reason names them
BUDGETS = ("half", "full")
# the rows C4, C5 and C6 read: trained at both budgets, judged on the full one where the two orderings agree
CLAIM_ROWS = (VQ2D, B, CENTRAL, AVERAGE, L)
# rows no learning check reads, trained at the half budget only (short): TATS and the paper's design are shown, not
# judged; the zero-padding twin is C10's, and a fair C10 pair needs equal steps, so C10 is judged at the half budget
SHORT_ROWS = (TATS, ZEROS, PAPER_DESIGN)
C10_BUDGET = "half"
BUDGET_ROWS = {"half": CLAIM_ROWS + SHORT_ROWS, "full": CLAIM_ROWS}
# every row in Table 7's order (the order of table7_configs), and the mark of a row shown at the half budget
ROWS = (VQ2D, TATS, B, L, AVERAGE, CENTRAL, ZEROS, PAPER_DESIGN)
SHORT = " (short)"


def check_budget(budget: str) -> None:
    if budget not in BUDGETS:
        raise ValueError(f"unknown Table 7 budget {budget!r}; choose from {', '.join(BUDGETS)}")


def budget_steps(profile: Profile, budget: str) -> int:
    """Training steps of every Table 7 model of ``budget``: ``table7_steps`` (full) or half of it (half)."""
    check_budget(budget)
    full = profile.tokenizer.table7_steps
    return full if budget == "full" else max(1, full // 2)


def all_configs(profile: Profile, steps: int) -> dict[str, TokenizerConfig]:
    """Every Table 7 row (plus :data:`ZEROS`, the zero-padding twin for C10, and :data:`PAPER_DESIGN`, the B model
    without the scale adaptations), each trained ``steps`` steps, with the profile's scale adaptations."""
    base = profile.tokenizer
    # reflect padding is the paper's MAGVIT design (Sec. 3.1) whatever the shared tokenizer uses (cpu: zeros, for speed)
    large = replace(base, dataset="shapes", steps=steps, warmup_steps=min(base.warmup_steps, max(1, steps // 5)),
                    padding="reflect")
    small = replace(large, filters=max(8, large.filters // 2), discriminator_filters=max(8, large.filters // 2))
    return {
        VQ2D: replace(small, kind="vq2d"),
        TATS: replace(small, kind="tats3d", padding="zeros"),
        B: small,
        L: large,
        AVERAGE: replace(small, init="average"),
        CENTRAL: replace(small, init="central"),
        ZEROS: replace(small, padding="zeros"),
        # the paper's exact design at the B widths (no scale adaptation), learned or not: not part of a claim
        PAPER_DESIGN: without_adaptations(small),
    }


def table7_configs(profile: Profile, budget: str | None = None) -> dict[str, TokenizerConfig]:
    """The tokenizers of Table 7 trained at ``budget`` (:data:`BUDGET_ROWS`): "full", the rows C4-C6 read at
    ``table7_steps``; "half", every row at half the steps (the warm-up scaled with them). ``None`` (the default, so
    that callers from before the two budgets read as they did): every row at the full steps, the single-budget table
    (its claim rows are the full budget's cached models). The inflated rows' 2D pretraining
    (``tokenizer.train.pretrained_2d``, the same steps as the row) is keyed by their config less ``init``: central and
    average of one budget share it."""
    if budget is None:
        return all_configs(profile, profile.tokenizer.table7_steps)
    configs = all_configs(profile, budget_steps(profile, budget))
    return {name: cfg for name, cfg in configs.items() if name in BUDGET_ROWS[budget]}


def setup_table(configs: dict[str, dict[str, TokenizerConfig]]) -> pd.DataFrame:
    """One row per (budget, model) of ``configs`` ({budget: :func:`table7_configs` of it}) with its design, steps
    and warm-up; ``short``: a row no learning check reads, trained at the half budget only (:data:`SHORT_ROWS`)."""
    return pd.DataFrame([{"budget": budget, "model": name, "short": name in SHORT_ROWS, "kind": c.kind,
                          "filters": c.filters, "init": c.init, "padding": c.padding, "steps": c.steps,
                          "warmup": c.warmup_steps, "batch": c.batch_size, "data": c.dataset,
                          "perceptual_weight": c.perceptual_weight}
                         for budget, by_model in configs.items() for name, c in by_model.items()])


def shown_budget(model: str) -> str:
    """The budget that stands for ``model`` in Table 7 (beside the paper, in the figures): the full one for a row
    the claims read, the half one for a short row (:data:`SHORT_ROWS`, trained at it only)."""
    return "half" if model in SHORT_ROWS else "full"


def row_label(model: str) -> str:
    """``model`` as Table 7 shows it: a short row marked :data:`SHORT`."""
    return model + SHORT if model in SHORT_ROWS else model


def shown_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``table`` (one per ``budget``, ``model`` and ``seed``) that stand for Table 7: each model at
    :func:`shown_budget`, in :data:`ROWS` order and seed order, with its ``label`` (:func:`row_label`)."""
    rows = table[table["budget"] == table["model"].map(shown_budget)].copy()
    rows["label"] = rows["model"].map(row_label)
    order = rows["model"].map({m: i for i, m in enumerate(ROWS)}).fillna(len(ROWS))
    return rows.assign(_order=order).sort_values(["_order", "seed"], kind="stable").drop(columns="_order") \
        .reset_index(drop=True)


def shown_runs(by_run: dict, seed: int) -> dict:
    """Of ``by_run`` ({(seed, budget): {model: x}}, e.g. models or loss logs of :func:`train_table7`), the entries of
    ``seed`` that stand for Table 7 (:func:`shown_budget`), by :func:`row_label`, in :data:`ROWS` order."""
    return {row_label(m): by_run[seed, shown_budget(m)][m] for m in ROWS
            if (seed, shown_budget(m)) in by_run and m in by_run[seed, shown_budget(m)]}


def shifted_token_match(tokenizer: VQTokenizer, wide: torch.Tensor, shift: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Equal-token map of the same content at two positions (Sec. 3.1, C10) and its border mask.

    ``wide`` clips [B, 3, T, H, W + shift] are cropped to two windows ``shift`` pixels apart; the
    content at token column j of the shifted window is the content at column j + shift / stride of the
    first. Returns ``equal`` [B, t, h, w - shift / stride] (bool) and ``border`` [h, w - shift / stride]:
    positions where either window's token touches the image border (where padding decides what it sees).
    """
    stride = tokenizer.compression[2]
    res = tokenizer.data.resolution
    if shift % stride or not 0 < shift < res:
        raise ValueError(f"shift must be a positive multiple of the token stride {stride} below {res}, got {shift}")
    if wide.shape[-1] != res + shift or wide.shape[-2] != res:
        raise ValueError(f"wide clips must be H x (W + shift) = {res} x {res + shift}, got {tuple(wide.shape[-2:])}")
    d = shift // stride
    ids_a = tokenizer.encode(wide[..., :res])[..., d:]  # [B, t, h, w - d]
    ids_b = tokenizer.encode(wide[..., shift:])[..., :-d]
    equal = ids_a == ids_b
    w = equal.shape[-1]
    # column j is at the border in window b (j = 0) or in window a (j = w - 1); rows 0 and h - 1 in both
    border = torch.zeros(equal.shape[-2:], dtype=torch.bool, device=equal.device)
    border[:, [0, w - 1]] = True
    border[[0, -1], :] = True
    return equal, border


def token_consistency(tokenizer: VQTokenizer, wide: torch.Tensor, shift: int) -> dict[str, float]:
    """Share of equal token ids for shifted content: over all corresponding positions, at the border, inside,
    with a 95% normal interval over clips for the overall share (``low``, ``high``)."""
    equal, border = shifted_token_match(tokenizer, wide, shift)
    per_clip = equal.flatten(1).float().mean(1).cpu().numpy()
    share = float(per_clip.mean())
    half = 1.96 * per_clip.std(ddof=1) / np.sqrt(len(per_clip)) if len(per_clip) > 1 else 0.0
    return {"shift_px": shift, "equal_all": share, "low": max(0.0, share - half), "high": min(1.0, share + half),
            "equal_border": float(equal[..., border].float().mean()),
            "equal_interior": float(equal[..., ~border].float().mean()) if (~border).any() else float("nan"),
            "clips": len(per_clip)}


def wide_shapes_clips(profile: Profile, num: int, shift: int, seed: int = 0) -> torch.Tensor:
    """Held-out ``shapes`` clips rendered at (R + shift)^2, cropped to R x (R + shift): one scene, two windows."""
    r = profile.data.resolution
    video, _ = data.get_batch(data.load("shapes", "test", profile.data.num_frames, r + shift, seed), range(num))
    return video[..., :r, :]


def per_seed(table: pd.DataFrame, key: str, name: str, value: str, low: str, high: str) -> list[Estimate]:
    """The estimates of row ``name`` (column ``key``), one per training seed in seed order."""
    rows = table[table[key] == name].sort_values("seed")
    return [Estimate(getattr(r, value), getattr(r, low), getattr(r, high)) for r in rows.itertuples()]


def at_budget(table: pd.DataFrame, budget: str) -> pd.DataFrame:
    """The rows of ``budget``; a table without a ``budget`` column (written before the two budgets) as it is."""
    return table[table["budget"] == budget] if "budget" in table.columns else table


def claim_rows(claim: str) -> list[str]:
    """The Table 7 rows ``claim`` reads, in the order its comparisons name them."""
    return list(dict.fromkeys(m for pair in CLAIM_COMPARISONS[claim] for m in pair))


def same_order(fvd: pd.Series, better: str, worse: str) -> bool:
    """Whether ``better`` vs ``worse`` is ordered alike by mean FVD (proxy) (``fvd`` by (budget, model)) at both
    budgets; a tie is an ordering of its own."""
    signs = {np.sign(fvd[budget, worse] - fvd[budget, better]) for budget in BUDGETS}
    return len(signs) == 1


def shown_pairs(fvd: pd.Series, budget: str, pairs: Sequence[tuple[str, str]]) -> str:
    """The mean FVD (proxy) of each compared pair at ``budget``, e.g. ``A 12.3 vs B 45.6``."""
    return "; ".join(f"{a} {fvd[budget, a]:.1f} vs {b} {fvd[budget, b]:.1f}" for a, b in pairs)


def convergence(table: pd.DataFrame, shared_psnr: float, tolerance_db: float = 2.0) -> pd.DataFrame:
    """Table 7's learning check, one row per claim (C4, C5, C6). A claim is judged (``converged``) only where every
    row it reads has, at the full budget, a mean PSNR over seeds of at least ``shared_psnr - tolerance_db``
    (``shared_psnr``: the shared tokenizer's on ``shapes``, what a tokenizer of this study reaches when trained), and
    each of its comparisons (:data:`CLAIM_COMPARISONS`) has the same ordering of the mean FVD (proxy) over seeds at
    the half and the full budget. ``table``: one row per (``budget``, ``model``, ``seed``) with ``fvd_proxy`` and
    ``psnr``. ``reason`` starts with ``verdicts.NOT_CONVERGED`` where a claim is not judged, and names the rows below
    the bar and the comparisons whose ordering flipped."""
    if "budget" not in table.columns:
        raise ValueError("the learning check needs a 'budget' column (half and full)")
    missing = [f"{m} ({b})" for b in BUDGETS for m in CLAIM_ROWS
               if not ((table["budget"] == b) & (table["model"] == m)).any()]
    if missing:
        raise ValueError(f"the learning check needs every claim row at both budgets; missing: {', '.join(missing)}")
    fvd = table.groupby(["budget", "model"])["fvd_proxy"].mean()
    psnr = at_budget(table, "full").groupby("model")["psnr"].mean()
    bar = shared_psnr - tolerance_db
    records = []
    for claim, pairs in CLAIM_COMPARISONS.items():
        read = claim_rows(claim)
        below = [m for m in read if not psnr[m] >= bar]  # a missing (NaN) PSNR is not above the bar
        flipped = [(a, b) for a, b in pairs if not same_order(fvd, a, b)]

        parts = []
        if below:
            parts.append(", ".join(f"{m} {psnr[m]:.1f} dB" for m in below)
                         + f" below the bar of {bar:.1f} dB (the shared tokenizer's {shared_psnr:.1f} dB on shapes"
                         f" less {tolerance_db:g} dB) at the full budget")
        if flipped:
            parts.append("the ordering by FVD (proxy) of " + ", ".join(f"{a} vs {b}" for a, b in flipped)
                         + f" differs between the half and the full budget (half: {shown_pairs(fvd, 'half', flipped)};"
                         f" full: {shown_pairs(fvd, 'full', flipped)})")
        reason = (f"{NOT_CONVERGED}: " + "; ".join(parts) if parts else
                  f"every row within {tolerance_db:g} dB of the shared tokenizer's PSNR ({bar:.1f} dB or more) at the "
                  "full budget, and every ordering the same at half and full budget")
        lowest = min(read, key=lambda m: psnr[m])
        records.append({"claim": claim, "converged": not parts, "reason": reason, "shared_psnr": shared_psnr,
                        "psnr_bar": bar, "lowest_psnr": psnr[lowest], "lowest_row": lowest,
                        "psnr_full": ", ".join(f"{m} {psnr[m]:.1f}" for m in read),
                        "fvd_half": shown_pairs(fvd, "half", pairs), "fvd_full": shown_pairs(fvd, "full", pairs),
                        "flipped": ", ".join(f"{a} vs {b}" for a, b in flipped)})
    return pd.DataFrame(records)


def convergence_statement(check: pd.DataFrame) -> str:
    """Markdown for :func:`convergence`'s table ``check``: the bar, and for each claim whether it is judged or
    ``not testable here`` and why, in the numbers of the table."""
    shared, bar = float(check["shared_psnr"].iloc[0]), float(check["psnr_bar"].iloc[0])
    judged = [r.claim for r in check.itertuples() if r.converged]
    not_judged = [r.claim for r in check.itertuples() if not r.converged]
    lines = [f"The shared tokenizer reconstructs these held-out `shapes` clips at **{shared:.1f} dB** PSNR; a Table 7 "
             f"row counts as learned at **{bar:.1f} dB** or more at the full budget ({shared - bar:g} dB less), and a "
             "claim is judged only where all its rows have learned and each of its orderings by FVD (proxy) is the "
             "same at the half and the full budget."]
    if not not_judged:
        lines.append(f"**The rows converged**: {', '.join(judged)} are judged on the full-budget rows.")
    elif not judged:
        lines.append(f"**The rows have not converged**: {', '.join(not_judged)} are *not testable here* whatever "
                     "their intervals (the verdict table keeps each interval, and its reason says what it alone "
                     "would give). An ordering of tokenizers that have not learned says how fast each learns its "
                     "first steps, not how the trained tokenizers the paper compares rank.")
    else:
        lines.append(f"**Some rows converged**: {', '.join(judged)} judged; {', '.join(not_judged)} *not testable "
                     "here* whatever their intervals (the verdict table keeps each interval): an ordering of "
                     "tokenizers that have not learned says how fast each learns its first steps, not how the "
                     "trained tokenizers the paper compares rank.")
    for r in check.itertuples():
        if r.converged:
            lines.append(f"- **{r.claim}: judged.** Its rows at the full budget ({r.psnr_full} dB) are all at or above "
                         f"the bar (lowest: {r.lowest_row}, {r.lowest_psnr:.1f} dB), and FVD (proxy) orders them the "
                         f"same at the half budget ({r.fvd_half}) and the full budget ({r.fvd_full}).")
        else:
            lines.append(f"- **{r.claim}: not testable here**, {r.reason}.")
    return "\n\n".join(lines[:2]) + "\n\n" + "\n".join(lines[2:])


def learned(claim: str, outcome: Outcome, checked: pd.DataFrame | None) -> Outcome:
    """``outcome``, or ``not testable here`` (its interval kept) where :func:`convergence` (``checked``) finds that
    ``claim``'s tokenizers have not converged."""
    if checked is None:
        return outcome
    row = checked[checked["claim"] == claim]
    if len(row) != 1:
        raise ValueError(f"the convergence table needs one row for {claim}, got {len(row)}")
    if bool(row["converged"].iloc[0]):
        return outcome
    return overrule(outcome, f"{row['reason'].iloc[0]}; on these rows the interval alone gives {outcome.verdict} "
                             f"({outcome.reason})")


def table7_claims(table: pd.DataFrame, consistency: pd.DataFrame, setting: str = "",
                  resolvable: bool | None = None, paired: tuple | None = None,
                  convergence: pd.DataFrame | None = None) -> pd.DataFrame:
    """Verdicts of C4, C5, C6 (lower FVD (proxy) is better) and C10 (higher consistency is better), in the
    ``magvit.experiments.claims`` schema, from one row per (model, seed) with its bootstrap interval: each ordering
    by the three-outcome rule on its difference over seeds (``verdicts.compare_rows``; a chain's adjacent pairs
    combined by ``verdicts.combine``). ``resolvable``: the evaluator's resolving power on shapes (None: unknown; C10
    is not judged by the evaluator); ``paired``: (real features, {model: ``RowFeatures``}) for the paired bootstrap
    of the reconstructions (None: from the rows' own intervals; the full-budget models' features where ``table`` has
    budgets). ``ours`` lists each row's estimate per seed: value [95% interval].

    Where ``table`` and ``consistency`` have a ``budget`` column, C4-C6 read the full-budget rows and C10 the
    half-budget pair (:data:`C10_BUDGET`); ``convergence`` (:func:`convergence`'s table) makes a claim whose
    tokenizers have not converged ``not testable here`` (``verdicts.NOT_CONVERGED``), its interval kept."""
    checked = convergence  # the argument shadows the function of that name
    table = at_budget(table, "full")
    est = {m: per_seed(table, "model", m, "fvd_proxy", "fvd_low", "fvd_high") for m in table["model"].unique()}

    def show(*models: str) -> str:
        return "; ".join(f"{m}: " + ", ".join(f"{e.value:.2f} [{e.low:.2f}, {e.high:.2f}]" for e in est[m])
                         for m in models)

    def outcome(better: str, worse: str) -> Outcome:
        pair = None if paired is None else (paired[0], paired[1][better], paired[1][worse])
        return compare_rows(est[better], est[worse], resolvable=resolvable, paired=pair)

    def judged(claim: str) -> Outcome:
        parts = [outcome(a, b) for a, b in CLAIM_COMPARISONS[claim]]
        return learned(claim, combine(parts, PART_NAMES.get(claim)), checked)

    rows = [claims.verdict_row(claim, show(*claim_rows(claim)), judged(claim)) for claim in CLAIM_COMPARISONS]
    # the consistency interval is over clips (1.96 x the standard error of the per-clip share)
    pair = at_budget(consistency, C10_BUDGET)
    reflect = per_seed(pair, "padding", "reflect", "equal_all", "low", "high")
    zeros = per_seed(pair, "padding", "zeros", "equal_all", "low", "high")

    def share(runs: list[Estimate]) -> str:
        return ", ".join(f"{e.value:.3f} [{e.low:.3f}, {e.high:.3f}]" for e in runs)

    c10 = compare_rows(reflect, zeros, lower_is_better=False,
                       basis="share of equal tokens, intervals over clips and seeds")
    rows.append(claims.verdict_row("C10", f"share of equal tokens, reflect: {share(reflect)}; zeros: {share(zeros)}",
                                   c10))
    return claims.verdict_table(rows, setting, benchmark="shapes")


def train_table7(profile: Profile, seed: int = 0, store: ArtifactStore | None = None, budget: str | None = None,
                 ) -> tuple[dict[str, VQTokenizer], dict[str, pd.DataFrame]]:
    """Train (or load from the cache) the Table 7 tokenizers of ``budget`` (:func:`table7_configs`: "half", "full",
    or None for every row at the full steps); returns models and loss logs by row name."""
    models, logs = {}, {}
    for name, cfg in table7_configs(profile, budget).items():
        models[name], logs[name] = get_tokenizer(profile, cfg, seed, store)
    return models, logs
