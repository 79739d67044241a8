"""Table 7's learning check: the claims C4, C5, C6 are judged only on tokenizers that learned (full-budget rows
within 2 dB PSNR of the shared tokenizer, the same orderings at half and full budget), on synthetic tables."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from magvit import profiles
from magvit.config import TokenizerConfig
from magvit.experiments import claims, table7
from magvit.experiments.table7 import AVERAGE, CENTRAL, PAPER_DESIGN, TATS, VQ2D, ZEROS, B, L
from magvit.experiments.verdicts import (
    NOT_CONVERGED,
    NOT_TESTABLE,
    OVERRULING,
    PARTLY,
    REPRODUCED,
    Estimate,
    Outcome,
    agrees,
    judge,
    overrule,
)
from magvit.infra.artifacts import config_key
from magvit.tokenizer.train import TokenizerKey

SHARED_PSNR = 25.5  # the shared tokenizer's PSNR on shapes
# mean FVD (proxy) per row in the paper's order at both budgets: B < 2D-VQ, central < average < B, L < B
FVD = {VQ2D: 130.0, B: 100.0, CENTRAL: 60.0, AVERAGE: 80.0, L: 70.0}


def budget_table(fvd: dict[str, dict[str, float]] | None = None, psnr: dict[str, float] | None = None,
                 ) -> pd.DataFrame:
    """Two seeds per (budget, model) with an interval of +-3 around each seed's FVD (proxy); ``fvd``: per budget,
    rows whose mean differs from :data:`FVD`; ``psnr``: full-budget rows whose PSNR differs from 24.5 dB (within
    2 dB of the shared tokenizer's)."""
    fvd, psnr = fvd or {}, psnr or {}
    rows = []
    for budget in table7.BUDGETS:
        for model, value in {**FVD, **fvd.get(budget, {})}.items():
            for seed, offset in enumerate((-1.0, 1.0)):
                v = value + offset
                rows.append({"budget": budget, "model": model, "seed": seed, "fvd_proxy": v, "fvd_low": v - 3,
                             "fvd_high": v + 3, "psnr": psnr.get(model, 24.5) if budget == "full" else 20.0})
    return pd.DataFrame(rows)


def consistency_table() -> pd.DataFrame:
    """Reflect ahead of zeros at the half budget, behind at the full one (C10 must read the half pair)."""
    shares = {("half", "reflect"): 0.8, ("half", "zeros"): 0.5, ("full", "reflect"): 0.3, ("full", "zeros"): 0.6}
    return pd.DataFrame([{"budget": b, "padding": p, "seed": s, "equal_all": v, "low": v - 0.01, "high": v + 0.01}
                         for (b, p), v in shares.items() for s in (0, 1)])


def by_claim(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_index("claim")


def test_converged_rows_give_the_interval_verdict():
    table = budget_table()
    check = by_claim(table7.convergence(table, SHARED_PSNR))
    assert list(check.index) == ["C4", "C5", "C6"] and check["converged"].all()
    assert not any(r.startswith(NOT_CONVERGED) for r in check["reason"])
    assert check.loc["C4", "psnr_bar"] == pytest.approx(23.5) and check.loc["C4", "lowest_psnr"] == pytest.approx(24.5)
    out = by_claim(table7.table7_claims(table, consistency_table(), convergence=check.reset_index()))
    plain = by_claim(table7.table7_claims(table, consistency_table()))
    assert out["verdict"].to_dict() == plain["verdict"].to_dict()
    assert out.loc["C4", "verdict"] == REPRODUCED and out.loc["C4", "difference"] == pytest.approx(30.0)
    assert out.loc["C6", "verdict"] == REPRODUCED
    assert out.loc["C5", "verdict"] == REPRODUCED and "central over average" in out.loc["C5", "reason"]


def test_a_row_below_the_psnr_bar_makes_its_claims_not_testable():
    table = budget_table(psnr={L: SHARED_PSNR - 3.0})  # 22.5 dB, below 23.5
    check = by_claim(table7.convergence(table, SHARED_PSNR))
    assert check["converged"].to_dict() == {"C4": True, "C5": True, "C6": False}
    reason = check.loc["C6", "reason"]
    assert reason.startswith(NOT_CONVERGED) and f"{L} 22.5 dB" in reason and "23.5 dB" in reason
    assert f"{B} 24.5" not in reason  # only the row below the bar is named
    assert check.loc["C6", "lowest_row"] == L and check.loc["C6", "lowest_psnr"] == pytest.approx(22.5)
    out = by_claim(table7.table7_claims(table, consistency_table(), convergence=check.reset_index()))
    c6 = out.loc["C6"]
    # not testable, with the reason, yet the interval of the difference is kept (and still shown)
    assert c6["verdict"] == NOT_TESTABLE and c6["reason"].startswith(NOT_CONVERGED) and L in c6["reason"]
    assert c6["difference"] == pytest.approx(30.0) and c6["difference_low"] > 0
    assert "the interval alone gives reproduced" in c6["reason"]
    assert out.loc["C4", "verdict"] == REPRODUCED  # a claim that does not read L is judged
    assert all(claims.consistent(r) for _, r in out.reset_index().iterrows())


def test_an_ordering_that_flips_between_budgets_is_not_testable():
    # 2D-VQ better than B at the half budget, worse at the full one: the early ordering is not the trained one
    table = budget_table(fvd={"half": {VQ2D: 90.0}})
    check = by_claim(table7.convergence(table, SHARED_PSNR))
    assert check["converged"].to_dict() == {"C4": False, "C5": True, "C6": True}
    reason = check.loc["C4", "reason"]
    assert reason.startswith(NOT_CONVERGED) and f"{B} vs {VQ2D}" in reason and "below the bar" not in reason
    assert check.loc["C4", "flipped"] == f"{B} vs {VQ2D}"
    assert f"{VQ2D} 90.0" in check.loc["C4", "fvd_half"] and f"{VQ2D} 130.0" in check.loc["C4", "fvd_full"]
    out = by_claim(table7.table7_claims(table, consistency_table(), convergence=check.reset_index()))
    assert out.loc["C4", "verdict"] == NOT_TESTABLE and out.loc["C4", "difference"] == pytest.approx(30.0)


def test_c5_reads_both_links_of_its_chain():
    # average vs scratch flips (average worse than B at the half budget); central vs average keeps its order
    table = budget_table(fvd={"half": {AVERAGE: 110.0, CENTRAL: 60.0}})
    check = by_claim(table7.convergence(table, SHARED_PSNR))
    assert not check.loc["C5", "converged"] and check.loc["C5", "flipped"] == f"{AVERAGE} vs {B}"
    assert f"{CENTRAL} vs {AVERAGE}" not in check.loc["C5", "reason"]
    # a row below the bar in the chain's middle is named too, with the flipped link
    low = by_claim(table7.convergence(budget_table(fvd={"half": {AVERAGE: 110.0}}, psnr={AVERAGE: 21.0}),
                                      SHARED_PSNR)).loc["C5", "reason"]
    assert f"{AVERAGE} 21.0 dB" in low and f"{AVERAGE} vs {B}" in low
    # the chain's verdict is overruled though it is no single comparison (no difference of its own)
    out = by_claim(table7.table7_claims(table, consistency_table(), convergence=check.reset_index()))
    assert out.loc["C5", "verdict"] == NOT_TESTABLE and out.loc["C5", "reason"].startswith(NOT_CONVERGED)
    assert out.loc["C5", "difference"] == "" and "interval alone gives reproduced" in out.loc["C5", "reason"]
    # where both links agree but only one is resolved, the converged chain is partly reproduced
    close = budget_table(fvd={"half": {CENTRAL: 79.0}, "full": {CENTRAL: 79.0}})
    judged = by_claim(table7.table7_claims(close, consistency_table(),
                                           convergence=table7.convergence(close, SHARED_PSNR)))
    assert judged.loc["C5", "verdict"] == PARTLY


def test_claims_read_the_full_budget_and_c10_the_half_pair():
    # half-budget rows that would contradict C4 are not what it is judged on
    table = budget_table(fvd={"half": {B: 200.0}})
    out = by_claim(table7.table7_claims(table, consistency_table()))
    assert out.loc["C4", "verdict"] == REPRODUCED and "99.00" in out.loc["C4", "ours"]
    assert out.loc["C10", "verdict"] == REPRODUCED and out.loc["C10", "difference"] == pytest.approx(0.3)
    # a table without budgets (written before them) is read whole, as before
    old = budget_table().query("budget == 'full'").drop(columns="budget")
    plain = consistency_table().query("budget == 'half'").drop(columns="budget")
    assert by_claim(table7.table7_claims(old, plain))["verdict"].to_dict() == out["verdict"].to_dict()


def test_the_learning_check_needs_both_budgets():
    with pytest.raises(ValueError, match="'budget' column"):
        table7.convergence(budget_table().drop(columns="budget"), SHARED_PSNR)
    with pytest.raises(ValueError, match=f"missing: {L} \\(half\\)"):
        table7.convergence(budget_table().query(f"not (budget == 'half' and model == '{L}')"), SHARED_PSNR)
    with pytest.raises(ValueError, match="one row for C4"):
        table7.table7_claims(budget_table(), consistency_table(),
                             convergence=table7.convergence(budget_table(), SHARED_PSNR).iloc[1:])


def test_budgets_of_the_configs():
    p = profiles.get("cpu", device="cpu")
    with pytest.raises(ValueError, match="unknown Table 7 budget 'double'"):
        table7.table7_configs(p, "double")
    half, full = table7.table7_configs(p, "half"), table7.table7_configs(p, "full")
    assert {c.steps for c in full.values()} == {p.tokenizer.table7_steps}
    assert {c.steps for c in half.values()} == {p.tokenizer.table7_steps // 2}
    assert all(c.warmup_steps <= max(1, c.steps // 5) for c in half.values())  # the warm-up scales with the steps
    # the claim rows at both budgets, the rows no claim reads at the half budget only
    assert set(full) == set(table7.CLAIM_ROWS) and set(half) == set(table7.CLAIM_ROWS) | {TATS, ZEROS, PAPER_DESIGN}
    # C10's pair (B and its zero-padding twin) has equal steps at the half budget, and they differ only in padding
    assert half[ZEROS] == replace(half[B], padding="zeros")
    # a half-budget model is its own cached artifact (steps is keyed); the full budget's are the single-budget ones
    def key(cfg: TokenizerConfig) -> str:
        return config_key(TokenizerKey(cfg, p.data.num_frames, p.data.resolution), 0)

    assert all(key(half[m]) != key(full[m]) for m in full)
    # the default: every row at the full steps, the table from before the two budgets (callers that predate them)
    legacy = table7.table7_configs(p)
    assert set(legacy) == set(half) and all(legacy[m] == full[m] for m in full)
    assert {c.steps for c in legacy.values()} == {p.tokenizer.table7_steps}
    assert table7.budget_steps(profiles.get("smoke", device="cpu"), "half") >= 1


def test_central_and_average_share_their_2d_pretraining_per_budget(monkeypatch):
    from magvit.tokenizer import train

    seen = []
    monkeypatch.setattr(train, "get_tokenizer", lambda profile, cfg, seed, store: (seen.append(cfg), None))
    p = profiles.get("cpu", device="cpu")
    for budget in table7.BUDGETS:
        configs = table7.table7_configs(p, budget)
        for name in (CENTRAL, AVERAGE):
            train.pretrained_2d(p, configs[name], 0, None)
    assert len(seen) == 4 and seen[0] == seen[1] and seen[2] == seen[3] and seen[0] != seen[2]


def test_not_converged_overrules_any_interval():
    assert NOT_CONVERGED in OVERRULING
    resolved = Estimate(5.0, 1.0, 9.0)
    assert agrees(resolved, NOT_TESTABLE, f"{NOT_CONVERGED}: x below the bar")
    assert not agrees(resolved, NOT_TESTABLE, "some other reason")
    kept = Outcome(NOT_TESTABLE, f"{NOT_CONVERGED}: x", resolved)
    assert kept.difference == resolved
    over = overrule(judge(resolved), f"{NOT_CONVERGED}: x")
    assert over.verdict == NOT_TESTABLE and over.difference == resolved
    with pytest.raises(ValueError, match="overrules an interval"):
        overrule(judge(resolved), "a reason that overrules nothing")
    row = claims.verdict_row("C4", "x", NOT_TESTABLE, difference=resolved, reason=NOT_CONVERGED)
    assert claims.consistent(row)


def test_the_statement_says_which_claims_are_judged_and_why():
    both = table7.convergence_statement(table7.convergence(budget_table(), SHARED_PSNR))
    assert "**25.5 dB**" in both and "**23.5 dB**" in both and "(2 dB less)" in both
    assert "**The rows converged**: C4, C5, C6 are judged" in both and "not testable" not in both
    assert f"- **C6: judged.** Its rows at the full budget ({L} 24.5, {B} 24.5 dB)" in both
    # C6's L below the bar and C4's ordering flipped: each says so with the numbers of the check
    table = budget_table(fvd={"half": {VQ2D: 90.0}}, psnr={L: 21.0})
    check = table7.convergence(table, SHARED_PSNR)
    some = table7.convergence_statement(check)
    assert "**Some rows converged**: C5 judged; C4, C6 *not testable here*" in some
    lines = {line.split("**")[1]: line for line in some.splitlines() if line.startswith("- **")}
    assert set(lines) == {"C4: not testable here", "C5: judged.", "C6: not testable here"}
    assert f"{NOT_CONVERGED}: {L} 21.0 dB below the bar of 23.5 dB" in lines["C6: not testable here"]
    assert f"{B} vs {VQ2D}" in lines["C4: not testable here"] and f"{VQ2D} 90.0" in lines["C4: not testable here"]
    # every row below the bar: none judged, and the statement says what that means for the verdicts
    none = table7.convergence_statement(table7.convergence(budget_table(psnr=dict.fromkeys(FVD, 20.0)), SHARED_PSNR))
    assert "**The rows have not converged**: C4, C5, C6 are *not testable here*" in none
    assert "not how the trained tokenizers the paper compares rank" in none and "judged." not in none


def test_the_rows_that_stand_for_table7():
    p = profiles.get("smoke", device="cpu")
    configs = {b: table7.table7_configs(p, b) for b in table7.BUDGETS}
    setup = table7.setup_table(configs)
    assert list(table7.table7_configs(p)) == list(table7.ROWS)  # Table 7's order is the configs' order
    assert len(setup) == len(table7.CLAIM_ROWS) * 2 + len(table7.SHORT_ROWS)
    assert setup.groupby("budget")["steps"].unique().map(list).to_dict() == {
        "half": [table7.budget_steps(p, "half")], "full": [p.tokenizer.table7_steps]}
    assert set(setup[setup.short].model) == set(table7.SHORT_ROWS) and set(setup[setup.short].budget) == {"half"}
    # the claim rows at the full budget, the short rows at the half budget, labelled, in Table 7's order
    rows = [{"budget": b, "model": m, "seed": s} for b in table7.BUDGETS for m in table7.BUDGET_ROWS[b]
            for s in (1, 0)]
    shown = table7.shown_rows(pd.DataFrame(rows))
    assert list(shown.label[::2]) == [VQ2D, f"{TATS} (short)", B, L, AVERAGE, CENTRAL, f"{ZEROS} (short)",
                                      f"{PAPER_DESIGN} (short)"]
    assert list(shown.seed[:2]) == [0, 1]
    assert (shown.budget == shown.model.map(lambda m: "half" if m in table7.SHORT_ROWS else "full")).all()
    # the models (or logs) of one seed by the same labels, from {(seed, budget): {model: x}}
    runs = {(0, b): {m: (b, m) for m in table7.BUDGET_ROWS[b]} for b in table7.BUDGETS}
    picked = table7.shown_runs(runs, 0)
    assert list(picked) == list(shown.label[::2])
    assert picked[B] == ("full", B) and picked[f"{TATS} (short)"] == ("half", TATS)
