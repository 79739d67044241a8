"""Rules that turn measured numbers into a claim's verdict (stated here, applied by the experiment modules).

Every comparison "A beats B" is judged on the interval of the *difference* of the two rows, signed so that a
positive difference is the paper's direction (for FVD, lower is better: difference = d(B) - d(A)):

- ``reproduced``: the whole interval of the difference is above 0;
- ``not reproduced``: the whole interval is below 0 (a contradiction of the paper, reported as such);
- ``not testable here`` otherwise, with its reason: :data:`INCONCLUSIVE` (the interval covers 0) or
  :data:`UNRESOLVED` (the evaluator's resolving power, an input: ``resolvable=False``); :data:`FEW_SEEDS` and
  :data:`NOT_CONVERGED` (models that have not learned) overrule any interval too (:func:`overrule`).

The best interval is the paired one (``magvit.metrics.paired``: both rows scored on the same real clips, clip indices
resampled jointly, training seeds resampled hierarchically as rliable's stratified bootstrap, Agarwal et al. 2021).
Where only each row's own interval is known (:class:`Estimate`), :func:`difference` combines them as independent
errors, which is conservative when the rows share their real clips. ``partly`` is left for claims made of several
comparisons (:func:`combine`): some reproduced and none contradicted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from magvit.metrics.estimate import Estimate
from magvit.metrics.kernel import kvd
from magvit.metrics.paired import RowFeatures, choose_distance, paired_difference, simulate_rows

REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_TESTABLE = (
    "reproduced", "partly", "not reproduced", "not testable here",
)
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_TESTABLE)
INCONCLUSIVE = "inconclusive: the interval of the difference covers 0"
UNRESOLVED = "the evaluator cannot resolve differences of this size here"
CONTRADICTED = "the whole interval of the difference is against the paper"
RESOLVED = "the whole interval of the difference is in the paper's direction"
FEW_SEEDS = "fewer training seeds than the profile's: the training noise is not measured"
# the models compared have not learned far enough for their ordering to say anything about trained ones (Tab. 7:
# ``table7.convergence``)
NOT_CONVERGED = "the tokenizers have not converged"
OVERRULING = (UNRESOLVED, FEW_SEEDS, NOT_CONVERGED)  # reasons that make any interval "not testable here"
UNPAIRED = "FVD (proxy), from the rows' own intervals, unpaired"

__all__ = ["CONTRADICTED", "Estimate", "FEW_SEEDS", "INCONCLUSIVE", "NOT_CONVERGED", "NOT_REPRODUCED", "NOT_TESTABLE",
           "OVERRULING", "Outcome", "PARTLY", "REPRODUCED", "RESOLVED", "UNPAIRED", "UNRESOLVED", "VERDICTS", "agrees",
           "allowed", "beats", "beats_across_seeds", "calibration", "calibration_figure", "cap_seeds", "chain",
           "chain_across_seeds", "chain_outcome", "combine", "combine_pairs", "compare", "compare_across_seeds",
           "compare_features", "compare_rows", "contrast_across_seeds", "difference", "difference_across_seeds",
           "judge", "overrule", "seed_spread", "with_basis"]


@dataclass(frozen=True)
class Outcome:
    """The verdict of one comparison (or of a claim made of several) with its reason and, for one comparison, the
    interval of the difference (paper's direction positive)."""

    verdict: str
    reason: str
    difference: Estimate | None = None
    basis: str = ""  # what the difference was computed on (distance, paired or not)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.difference is not None and not agrees(self.difference, self.verdict, self.reason):
            raise ValueError(f"verdict {self.verdict!r} disagrees with the difference {self.difference}")

    def __str__(self) -> str:
        return self.verdict

    def shown(self, digits: int = 3) -> str:
        """The verdict with its difference and basis, e.g. ``reproduced, difference 8.2 [6.3, 10.5] (KVD ...)``."""
        d = self.difference
        if d is None:
            return self.verdict
        text = f"{self.verdict}, difference {d.value:.{digits}g} [{d.low:.{digits}g}, {d.high:.{digits}g}]"
        return f"{text} ({self.basis})" if self.basis else text


def allowed(diff: Estimate) -> str:
    """The verdict the interval of a difference gives by itself (paper's direction positive)."""
    return REPRODUCED if diff.low > 0 else NOT_REPRODUCED if diff.high < 0 else NOT_TESTABLE


def agrees(diff: Estimate, verdict: str, reason: str = "") -> bool:
    """Whether ``verdict`` is the one ``diff`` gives, or ``not testable here`` for a reason that overrules any
    interval (:data:`OVERRULING`: the evaluator cannot resolve differences of this size; too few training seeds; the
    models compared have not converged)."""
    return verdict == allowed(diff) or (verdict == NOT_TESTABLE and any(r in reason for r in OVERRULING))


def with_basis(outcome: Outcome, basis: str) -> Outcome:
    """``outcome`` with what its difference was computed on appended to its reason."""
    return replace(outcome, reason=f"{outcome.reason} ({basis})", basis=basis) if basis else outcome


def cap_seeds(outcome: Outcome, seeds: int, required: int) -> Outcome:
    """A comparison judged on fewer training seeds than the profile's is ``not testable here`` (:data:`FEW_SEEDS`);
    where its interval (or the resolving power) already made it so, :data:`FEW_SEEDS` is added to its reason, so that
    every verdict that rests on too few seeds says so."""
    if seeds >= required:
        return outcome
    few = f"{FEW_SEEDS} ({seeds} < {required})"
    if outcome.verdict == NOT_TESTABLE:
        return outcome if FEW_SEEDS in outcome.reason else replace(outcome, reason=f"{outcome.reason}; {few}")
    return replace(outcome, verdict=NOT_TESTABLE, reason=few)


def overrule(outcome: Outcome, reason: str) -> Outcome:
    """``outcome`` made ``not testable here`` for ``reason``, which must contain one of :data:`OVERRULING`; its
    difference is kept, so the row still shows what the interval alone would say."""
    if not any(r in reason for r in OVERRULING):
        raise ValueError(f"only a reason of {OVERRULING} overrules an interval, got {reason!r}")
    return replace(outcome, verdict=NOT_TESTABLE, reason=reason)


def compare_rows(a: Sequence[Estimate], b: Sequence[Estimate], lower_is_better: bool = True,
                 resolvable: bool | None = None, paired: tuple | None = None, basis: str = UNPAIRED,
                 num_bootstrap: int = 1000) -> Outcome:
    """"a beats b" for two rows of one estimate per training seed. With ``paired`` = (real features, a's
    ``RowFeatures``, b's ``RowFeatures``) the difference is the paired hierarchical bootstrap
    (``magvit.metrics.paired``) of KVD (or FVD at >= 10 clips per feature); without, :func:`difference_across_seeds`
    of the rows' own intervals (``basis`` names them)."""
    if paired is None:
        return with_basis(compare_across_seeds(a, b, lower_is_better, resolvable), basis)
    return compare_features(*paired, lower_is_better=lower_is_better, resolvable=resolvable,
                            num_bootstrap=num_bootstrap)


def compare_features(real: np.ndarray, better: RowFeatures, worse: RowFeatures, lower_is_better: bool = True,
                     resolvable: bool | None = None, num_bootstrap: int = 1000, seed: int = 0) -> Outcome:
    """"``better`` beats ``worse``" from per-clip features (``paired.RowFeatures``, both scored against ``real``):
    the paired hierarchical bootstrap of the difference of KVD (below ~10 clips per feature) or FVD, judged by
    :func:`judge`. ``lower_is_better=False`` is not a distance and is refused."""
    if not lower_is_better:
        raise ValueError("feature distances are lower-is-better")
    feats = np.asarray(next(iter(better.per_seed[0].values())))
    distance = choose_distance(*feats.shape)
    diff = paired_difference(real, better, worse, distance, num_bootstrap, seed)
    name = "KVD (proxy)" if distance == "kvd" else "FVD (proxy)"
    return with_basis(judge(diff, resolvable), f"{name}, paired bootstrap over clips and seeds")


def judge(diff: Estimate, resolvable: bool | None = None) -> Outcome:
    """The three-outcome rule on the interval of a difference (paper's direction positive). ``resolvable``: whether
    the evaluator resolves differences of this size here (None: unknown, no effect; False: not testable)."""
    if not all(math.isfinite(x) for x in (diff.value, diff.low, diff.high)):
        raise ValueError(f"the difference must be finite, got {diff}")
    if resolvable is False:
        return Outcome(NOT_TESTABLE, UNRESOLVED, diff)
    if diff.low > 0:
        return Outcome(REPRODUCED, RESOLVED, diff)
    if diff.high < 0:
        return Outcome(NOT_REPRODUCED, CONTRADICTED, diff)
    return Outcome(NOT_TESTABLE, INCONCLUSIVE, diff)


def difference(a: Estimate, b: Estimate, lower_is_better: bool = True) -> Estimate:
    """The difference "a better than b" (positive: a is better) from the rows' own intervals, their errors taken as
    independent (half-widths added in quadrature on each side). Conservative when both rows were scored on the same
    real clips (their errors are then positively correlated); the paired bootstrap (``magvit.metrics.paired``) is
    the sharper interval when the per-clip features are at hand."""
    if not lower_is_better:
        a, b = Estimate(-a.value, -a.high, -a.low), Estimate(-b.value, -b.high, -b.low)
    value = b.value - a.value
    below = math.hypot(b.value - b.low, a.high - a.value)
    above = math.hypot(b.high - b.value, a.value - a.low)
    return Estimate(value, value - below, value + above)


def compare(a: Estimate, b: Estimate, lower_is_better: bool = True, resolvable: bool | None = None) -> Outcome:
    """"a beats b" by :func:`judge` on :func:`difference`."""
    return judge(difference(a, b, lower_is_better), resolvable)


def beats(a: Estimate, b: Estimate, lower_is_better: bool = True, resolvable: bool | None = None) -> str:
    """Verdict for "a is better than b" (:func:`compare`'s verdict)."""
    return compare(a, b, lower_is_better, resolvable).verdict


def seed_spread(per_seed: Sequence[Estimate]) -> float:
    """Range of the point estimates over training seeds (0 for one seed)."""
    values = [e.value for e in per_seed]
    return max(values) - min(values)


def contrast_across_seeds(terms: Sequence[tuple[float, Sequence[Estimate]]]) -> Estimate:
    """The contrast sum_k w_k * mean over seeds of row k (one estimate per training seed, the same seeds in every
    row, or one estimate for a row without seeds), positive in the paper's direction, from the rows' own intervals.

    The seeds of a row are scored on the same real clips and conditions, so they share the evaluation noise: it is
    not averaged down over seeds (the per-seed half-widths are combined as a root mean square, not divided by
    sqrt(seeds)). The training noise is what a bootstrap over seeds gives the mean of the per-seed contrasts, about
    their range with two seeds: the distance from the mean to the lowest and the highest. The rows' errors are taken
    as independent and everything is added in quadrature on each side (the paired hierarchical bootstrap,
    ``magvit.metrics.paired``, replaces this when the per-clip features are at hand)."""
    if not terms:
        raise ValueError("a contrast needs at least one row")
    seeds = max(len(row) for _, row in terms)
    if any(len(row) not in (1, seeds) for _, row in terms):
        raise ValueError(f"need one estimate per seed in every row (or one), got {[len(r) for _, r in terms]}")
    values, below, above = [], [], []
    for s in range(seeds):
        picked = [(w, row[s if len(row) > 1 else 0]) for w, row in terms]
        values.append(sum(w * e.value for w, e in picked))
        # a positive weight carries the row's lower error into the contrast's lower side, a negative its upper
        below.append(math.sqrt(sum((w * (e.value - e.low) if w > 0 else -w * (e.high - e.value)) ** 2
                                   for w, e in picked)))
        above.append(math.sqrt(sum((w * (e.high - e.value) if w > 0 else -w * (e.value - e.low)) ** 2
                                   for w, e in picked)))
    value = sum(values) / seeds
    below_eval = math.sqrt(sum(x ** 2 for x in below) / seeds)
    above_eval = math.sqrt(sum(x ** 2 for x in above) / seeds)
    return Estimate(value, value - math.hypot(below_eval, value - min(values)),
                    value + math.hypot(above_eval, max(values) - value))


def difference_across_seeds(a: Sequence[Estimate], b: Sequence[Estimate], lower_is_better: bool = True) -> Estimate:
    """The difference "a better than b" of the means over training seeds (:func:`contrast_across_seeds` of
    (+1, b), (-1, a) for lower-is-better, the opposite for higher-is-better); ``b`` may be one estimate (a
    reference without seeds)."""
    if not a or len(b) not in (1, len(a)):
        raise ValueError(f"need one estimate per seed for both rows (or one for b), got {len(a)} and {len(b)}")
    sign = 1.0 if lower_is_better else -1.0
    return contrast_across_seeds([(sign, b), (-sign, a)])


def compare_across_seeds(a: Sequence[Estimate], b: Sequence[Estimate], lower_is_better: bool = True,
                         resolvable: bool | None = None) -> Outcome:
    """"a beats b" by :func:`judge` on :func:`difference_across_seeds`."""
    return judge(difference_across_seeds(a, b, lower_is_better), resolvable)


def beats_across_seeds(a: Sequence[Estimate], b: Sequence[Estimate], lower_is_better: bool = True,
                       resolvable: bool | None = None) -> str:
    """Verdict for "a is better than b" from one estimate per training seed of each (:func:`compare_across_seeds`).
    Two seeds that agree do not resolve an ordering by themselves: they share the evaluation noise."""
    if len(a) != len(b) or not a:
        raise ValueError(f"need one estimate per seed for both rows, got {len(a)} and {len(b)}")
    return compare_across_seeds(a, b, lower_is_better, resolvable).verdict


def combine(parts: Sequence[Outcome], names: Sequence[str] | None = None) -> Outcome:
    """A claim made of several comparisons: ``reproduced`` when every part is; ``not reproduced`` when any part is
    contradicted; ``partly`` when some are reproduced and none contradicted; ``not testable here`` when none is
    either. One part is that part's outcome. The reason names the parts (``names``) behind the verdict."""
    if not parts:
        raise ValueError("a claim needs at least one comparison")
    if len(parts) == 1:
        return parts[0]
    names = list(names) if names is not None else [f"part {i + 1}" for i in range(len(parts))]
    if len(names) != len(parts):
        raise ValueError(f"{len(parts)} parts but {len(names)} names")
    verdicts = [p.verdict for p in parts]

    def which(verdict: str) -> str:
        return ", ".join(n for n, v in zip(names, verdicts, strict=True) if v == verdict)

    if all(v == REPRODUCED for v in verdicts):
        return Outcome(REPRODUCED, f"every part reproduced ({which(REPRODUCED)})")
    if NOT_REPRODUCED in verdicts:
        return Outcome(NOT_REPRODUCED, f"contradicted: {which(NOT_REPRODUCED)}")
    if REPRODUCED in verdicts:
        return Outcome(PARTLY, f"reproduced: {which(REPRODUCED)}; not testable here: {which(NOT_TESTABLE)}")
    reasons = sorted({p.reason for p in parts})
    return Outcome(NOT_TESTABLE, "; ".join(reasons) if len(reasons) == 1 else
                   "; ".join(f"{n}: {p.reason}" for n, p in zip(names, parts, strict=True)))


def combine_pairs(pairs: Sequence[str]) -> str:
    """:func:`combine` on bare verdicts; a ``partly`` part (a sub-claim's) counts as some reproduced, none
    contradicted."""
    if not pairs:
        raise ValueError("a claim needs at least one comparison")
    if all(p == REPRODUCED for p in pairs):
        return REPRODUCED
    if NOT_REPRODUCED in pairs:
        return NOT_REPRODUCED
    if any(p in (REPRODUCED, PARTLY) for p in pairs):
        return PARTLY
    return NOT_TESTABLE


def chain_outcome(differences: Sequence[Estimate], names: Sequence[str] | None = None,
                  resolvable: bool | None = None) -> Outcome:
    """A chain "A > B > C ..." from the differences of its adjacent pairs (each positive in the paper's direction),
    combined by :func:`combine`."""
    if not differences:
        raise ValueError("a chain needs at least one adjacent pair")
    return combine([judge(d, resolvable) for d in differences], names)


def chain(estimates: Sequence[Estimate], lower_is_better: bool = True, resolvable: bool | None = None) -> str:
    """Verdict for ``estimates[0] > estimates[1] > ...`` (each better than the next)."""
    if len(estimates) < 2:
        raise ValueError("a chain needs at least two estimates")
    return chain_outcome([difference(a, b, lower_is_better) for a, b in zip(estimates, estimates[1:], strict=False)],
                         resolvable=resolvable).verdict


def chain_across_seeds(rows: Sequence[Sequence[Estimate]], lower_is_better: bool = True,
                       resolvable: bool | None = None) -> str:
    """Verdict for ``rows[0] > rows[1] > ...`` with one estimate per seed in each row."""
    if len(rows) < 2:
        raise ValueError("a chain needs at least two rows")
    return chain_outcome([difference_across_seeds(a, b, lower_is_better) for a, b in zip(rows, rows[1:],
                                                                                          strict=False)],
                         resolvable=resolvable).verdict


# --- calibration on simulated rows (notebook 12, tests/test_verdicts.py) -------------------------------------------

def calibration(simulations: int = 200, clip_counts: Sequence[int] = (32, 128), feature_dim: int = 64,
                shift: float = 0.15, num_bootstrap: int = 200, seed: int = 0) -> pd.DataFrame:
    """The rules on simulated rows (``magvit.metrics.paired.simulate_rows``, two training seeds per row, KVD): per
    clip count and scenario, how often each verdict comes out, for the paired hierarchical interval and for the
    unpaired one (:func:`compare_across_seeds` on each row's own per-seed KVD intervals). Scenarios: ``same`` (two
    rows of one distribution), ``shifted`` (the second row worse by ``shift`` in every feature), ``chain same``
    and ``chain shifted`` (three rows, 0 / shift / 2 shift, judged as a chain). ``width`` is the median width of
    the interval of the difference (for chains, of the first pair)."""
    rng = np.random.default_rng(seed)
    records = []
    scenarios = {"same": (0.0, 0.0), "shifted": (0.0, shift), "chain same": (0.0, 0.0, 0.0),
                 "chain shifted": (0.0, shift, 2 * shift)}
    for n in clip_counts:
        for name, shifts in scenarios.items():
            for sim in range(simulations):
                real, rows = simulate_rows(rng, n, feature_dim, shifts)
                pairs = list(zip(rows, rows[1:], strict=False))
                paired = [paired_difference(real, a, b, "kvd", num_bootstrap, seed=sim) for a, b in pairs]
                own = [[kvd(real, f["-"], num_bootstrap, seed=sim * 7 + i).estimate() for i, f in enumerate(r.per_seed)]
                       for r in rows]
                unpaired = [difference_across_seeds(own[k], own[k + 1]) for k in range(len(pairs))]
                for method, diffs in (("paired", paired), ("unpaired", unpaired)):
                    outcome = chain_outcome(diffs)
                    records.append({"clips": n, "scenario": name, "method": method, "simulation": sim,
                                    "verdict": outcome.verdict, "width": diffs[0].high - diffs[0].low})
    df = pd.DataFrame(records)
    rates = (df.groupby(["clips", "scenario", "method"], sort=False)["verdict"].value_counts(normalize=True)
             .unstack(fill_value=0.0).reindex(columns=list(VERDICTS), fill_value=0.0))
    widths = df.groupby(["clips", "scenario", "method"], sort=False)["width"].median().rename("width")
    return rates.join(widths).reset_index().assign(simulations=simulations)


def calibration_figure(table: pd.DataFrame) -> Figure:
    """:func:`calibration`'s verdict rates as stacked bars, one panel per clip count."""
    colours = {REPRODUCED: "#4c9a2a", PARTLY: "#e0b000", NOT_REPRODUCED: "#c0392b", NOT_TESTABLE: "#8a8a8a"}
    counts = sorted(table["clips"].unique())
    fig, axes = plt.subplots(1, len(counts), figsize=(5.5 * len(counts), 3.6), squeeze=False, sharey=True)
    for ax, n in zip(axes[0], counts, strict=True):
        part = table[table["clips"] == n].reset_index(drop=True)
        labels = [f"{r.scenario}\n{r.method}" for r in part.itertuples()]
        bottom = np.zeros(len(part))
        for verdict in VERDICTS:
            ax.bar(range(len(part)), part[verdict], bottom=bottom, color=colours[verdict], label=verdict)
            bottom += part[verdict].to_numpy()
        ax.axhline(0.9, color="black", lw=0.8, ls="--")
        ax.set_xticks(range(len(part)), labels, fontsize=6.5, rotation=30, ha="right")
        ax.set_title(f"{n} clips per row, {int(part['simulations'].iloc[0])} simulations each", fontsize=9)
    axes[0, 0].set_ylabel("share of verdicts")
    axes[0, -1].legend(fontsize=7, loc="lower right")
    fig.suptitle("the verdict rules on simulated rows (dashed: 90%)", fontsize=10)
    fig.tight_layout()
    return fig
