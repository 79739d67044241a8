"""The registry of the paper's claims that the study judges: one :class:`Claim` per id, with its statement, the
paper's evidence and numbers, the notebook that tests it and the rule that turns our numbers into a verdict.

Every notebook writes its verdicts through :func:`verdict_row` / :func:`verdict_table`, so every
``claims_*.csv`` has the same columns (:data:`COLUMNS`), and :func:`collect` is their union. The rules themselves
are code in the experiment modules (``magvit.experiments.table6.decoding_claims``, ``table7.table7_claims``,
``figure5.c8_verdict``), built on ``magvit.experiments.verdicts``; each claim's ``rule`` names that code and says
what it does. Every comparison is judged on the interval of its difference, not a point estimate: the row carries it in
``difference``, ``difference_low``, ``difference_high`` (paper's direction positive) with the ``reason``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from magvit.experiments.verdicts import VERDICTS, Estimate, Outcome, agrees
from magvit.infra.results import blank_missing


@dataclass(frozen=True)
class Claim:
    """One claim of the paper: what it says, where the paper shows it, and how this study judges it."""

    id: str
    statement: str
    evidence: str  # the paper's table / figure / section
    paper: str  # the paper's numbers behind the claim ("" where the claim is qualitative)
    notebook: str  # the notebook(s) of this study that test it
    rule: str  # the verdict rule, with the function that applies it ("" while no notebook tests it yet)


# Every comparison below is judged on the interval of its difference, positive in the paper's direction
# (``verdicts.judge``): reproduced when the whole interval is above 0, not reproduced when it is wholly below (a
# contradiction), not testable here otherwise (the reason is stated). A claim of several comparisons is combined by
# ``verdicts.combine``: partly when some are reproduced and none is contradicted.
_RULE = ("the three-outcome rule on the interval of the difference (verdicts.judge; paired bootstrap of KVD over "
         "clips and seeds where the per-clip features are given, else from the rows' FVD (proxy) intervals, "
         "verdicts.contrast_across_seeds)")
# Table 7's tokenizers are compared only once they have learned (Tab. 7 compares trained models)
_LEARNED = ("judged on the full-budget rows, not testable here where the tokenizers have not converged by "
            "table7.convergence: a row it reads more than 2 dB PSNR below the shared tokenizer's on shapes, or an "
            "ordering that differs between the half and the full budget")
CLAIMS: dict[str, Claim] = {c.id: c for c in [
    Claim("C1", "COMMIT (full) beats latent masking on FP and MT8", "Tab. 5",
          "BAIR FVD: FP 48 vs 74, MT8 33 vs 151", "09_table5",
          f"table5.c1_claim: full COMMIT beats latent masking on FP and on the MT8 average, each by {_RULE}; "
          "combined by verdicts.combine; a column on fewer seeds than the profile's is not testable here"),
    Claim("C2", "COMMIT with Lmask alone is far worse; +Lrecons recovers most; +Lrefine is best", "Tab. 5",
          "BAIR FP FVD 388 -> 51 -> 48; MT8 143 -> 53 -> 33", "09_table5",
          f"table5.c2_claim: per column with the three COMMIT rows, full beats mask+recons, mask+recons beats mask, "
          f"and +L_recons recovers most (the contrast mask/2 + full/2 - recons > 0), each by {_RULE}; combined by "
          "verdicts.combine"),
    Claim("C3", "The multi-task model beats single-task models on the task average; single-task models are poor on "
          "tasks unseen in training", "Tab. 4", "BAIR average FVD: MT 32.8 vs UNC 150.6, FP 201.1; SSv2: 43.4 vs "
          "258.8, 402.9", "08_table4",
          f"table4.c3_claim: per benchmark, MT beats UNC and FP on the task average, and MT beats FP on the tasks FP "
          f"never saw, each by {_RULE}; combined by verdicts.combine, a benchmark on fewer seeds than the "
          "profile's not testable here"),
    Claim("C4", "The 3D-VQ reconstructs better than the 2D-VQ despite 4x more compression", "Tab. 7",
          "UCF-101 recon FVD: MAGVIT 3D-VQ-B 127 vs MaskGIT 2D-VQ 240 (scratch)", "10_table7",
          f"table7.table7_claims: 3D-VQ-B beats 2D-VQ by {_RULE}; {_LEARNED}"),
    Claim("C5", "Central inflation beats average inflation, which beats training from scratch", "Tab. 7",
          "UCF-101 recon FVD, 3D-VQ-B: central 58 < average 103 < scratch 127", "10_table7",
          f"table7.table7_claims: central beats average and average beats scratch, each by {_RULE}; combined by "
          f"verdicts.combine; {_LEARNED}"),
    Claim("C6", "The larger model beats the smaller one", "Tabs. 1, 2, 7",
          "UCF-101 CG FVD 76 vs 159, IS 89.27 vs 83.55 (Tab. 1); FP FVD BAIR 62 vs 76, K600 9.9 vs 24.5 (Tab. 2); "
          "UCF-101 recon FVD: 3D-VQ-L 45 vs 3D-VQ-B 127 (Tab. 7)", "06_table1, 07_tables2_3, 10_table7",
          f"L beats B by {_RULE}, per table: table7.table7_claims on the 3D-VQ-L vs 3D-VQ-B reconstructions "
          f"({_LEARNED}); "
          "table1.table1_claims on MAGVIT-L-CG vs MAGVIT-B-CG by FVD (proxy) and by IS (proxy) (higher is better), "
          "combined by verdicts.combine; tables23.tables23_claims on MAGVIT-L-FP vs MAGVIT-B-FP, one row per "
          "benchmark where L was trained; with fewer than two training seeds a Table 1-3 verdict is not testable "
          "here"),
    Claim("C7", "COMMIT decoding in 12 steps beats MaskGIT decoding and is at least as good as AR with 85x fewer "
          "steps", "Tab. 6", "FVD 76 vs MaskGIT 3D-VQ 122, 2D-VQ 222, AR 91 (Tab. 6)", "05_decoding",
          f"table6.decoding_claims: COMMIT beats MaskGIT-3D, COMMIT beats MaskGIT-2D, and COMMIT at least as good as "
          f"AR (no margin: shown when COMMIT is resolved better, contradicted when AR is), each by {_RULE}; "
          "combined by verdicts.combine; each row is one training seed, so where the profile has more seeds every "
          "part is not testable here and says it rests on one (verdicts.cap_seeds)"),
    Claim("C8", "Generation is about 60x faster than an AR transformer of the same size and two orders of magnitude "
          "faster than diffusion", "Fig. 5", "AR 60x slower, diffusion ~100x slower; 37 fps on a V100",
          "11_figure5",
          "figure5.c8_verdict: the speed-up ratios are measured once, without an interval: each reproduced at >= "
          "half the paper's (AR 30x, diffusion 50x), partly when COMMIT is faster by less, not reproduced when not "
          "faster; combined by verdicts.combine_pairs"),
    Claim("C9", "The 3D-VQ's 4x shorter sequence makes the transformer faster", "Tab. 6",
          "sequence 1024 vs 4096 (Tab. 6)", "05_decoding",
          "table6.decoding_claims: MaskGIT-3D beats MaskGIT-2D on seconds per clip by the three-outcome rule on the "
          "interval of the difference (verdicts.compare, each row's interval the spread over batches)"),
    Claim("C10", "Reflect padding gives more consistent tokens for the same content at different positions",
          "Sec. 3.1", "", "10_table7",
          "table7.table7_claims: reflect beats zeros on the share of equal tokens at a one-token shift, higher is "
          "better, by the three-outcome rule on the interval of the difference over seeds "
          "(verdicts.compare_rows, each seed's interval over clips), both models at Table 7's half budget"),
    Claim("C11", "One model does all ten tasks", "Tab. 4, Fig. 6",
          "SSv2 ten-task model: average FVD 43.4 (B), 27.3 (L); CG 94.7, CFP 59.3 (B)", "08_table4",
          f"table4.c11_claim: for each of the ten shapes tasks, the MT model beats the condition video taken as the "
          f"output, encoded and decoded by the same tokenizer, by {_RULE}; combined by verdicts.combine"),
]}

# the columns of every claims_*.csv (results.write_table adds the provenance columns after them): ``difference``,
# ``difference_low``, ``difference_high`` is the interval of the difference behind a one-comparison verdict, positive
# in the paper's direction (blank where the row is not one comparison), ``reason`` why the verdict follows from it
COLUMNS = ("claim", "benchmark", "statement", "paper", "ours", "verdict", "difference", "difference_low",
           "difference_high", "reason", "rule", "setting")
DIFFERENCE = ("difference", "difference_low", "difference_high")


def get(claim_id: str) -> Claim:
    if claim_id not in CLAIMS:
        raise KeyError(f"unknown claim {claim_id!r}; the registry has {', '.join(CLAIMS)}")
    return CLAIMS[claim_id]


def verdict_row(claim_id: str, ours: str, verdict: str | Outcome, setting: str = "", benchmark: str = "",
                difference: Estimate | None = None, reason: str = "") -> dict[str, str | float]:
    """One row of a claims table: the registry's statement, paper numbers and rule, with our numbers and verdict.
    ``benchmark``: the stand-in the row was measured on (``pushbot``, ``shapes``, ``scenes``; ``-`` for speed).
    ``verdict`` may be a ``verdicts.Outcome``, which brings its ``difference`` and ``reason``; a row with a
    difference must have the verdict its interval gives (``verdicts.judge``)."""
    if isinstance(verdict, Outcome):
        difference = verdict.difference if difference is None else difference
        reason = reason or verdict.reason
        verdict = verdict.verdict
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    if difference is not None and not agrees(difference, verdict, reason):
        raise ValueError(f"{claim_id}: verdict {verdict!r} disagrees with the interval of the difference {difference} "
                         f"(reason {reason!r})")
    claim = get(claim_id)
    diff = (difference.value, difference.low, difference.high) if difference is not None else (None,) * 3
    return {"claim": claim.id, "benchmark": benchmark, "statement": claim.statement, "paper": claim.paper,
            "ours": ours, "verdict": verdict, **dict(zip(DIFFERENCE, diff, strict=True)), "reason": reason,
            "rule": claim.rule, "setting": setting}


def consistent(row: dict | pd.Series) -> bool:
    """Whether a claims row's verdict is the one its interval of the difference gives: a row
    without a difference (not one comparison, or written before the columns existed) is consistent by default."""
    values = [row.get(c, None) for c in DIFFERENCE]
    if any(v is None or v == "" or (isinstance(v, float) and pd.isna(v)) for v in values):
        return True
    return agrees(Estimate(*(float(v) for v in values)), str(row["verdict"]), str(row.get("reason", "")))


def verdict_table(rows: Iterable[dict[str, str]], setting: str | None = None,
                  benchmark: str | None = None) -> pd.DataFrame:
    """Rows of :func:`verdict_row` as a DataFrame in the schema :data:`COLUMNS`; ``setting`` / ``benchmark`` fill
    every row's; a missing difference is an empty cell."""
    # a row that is not one comparison has no difference: an empty cell ("not a comparison"), never NaN
    df = blank_missing(pd.DataFrame(list(rows), columns=list(COLUMNS)), DIFFERENCE)
    if setting is not None:
        df["setting"] = setting
    if benchmark is not None:
        df["benchmark"] = benchmark
    return df


def table() -> pd.DataFrame:
    """The registry as a table (notebook 00)."""
    return pd.DataFrame([(c.id, c.statement, c.evidence, c.paper, c.notebook, c.rule) for c in CLAIMS.values()],
                        columns=["claim", "statement", "paper_evidence", "paper", "notebook", "rule"])


def collect(folder: str | Path) -> pd.DataFrame:
    """The union of every ``claims_*.csv`` in ``folder`` (a profile's results folder), in claim order."""
    tables = [pd.read_csv(p) for p in sorted(Path(folder).glob("claims_*.csv"))]
    if not tables:
        return pd.DataFrame(columns=list(COLUMNS))
    union = pd.concat(tables, ignore_index=True)
    order = {cid: i for i, cid in enumerate(CLAIMS)}
    return union.sort_values("claim", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
