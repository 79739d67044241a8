"""Rules that turn measured numbers into a claim's verdict (stated here, applied by notebooks).

A measurement is ``Estimate(value, low, high)``: a point estimate with a (bootstrap or over-seed)
interval. For "A beats B" with lower-is-better metrics (FVD):
- ``reproduced``: A's whole interval lies below B's (the ordering is resolved by our noise);
- ``partly``: A's point estimate is below B's but the intervals overlap;
- ``not reproduced``: A's point estimate is not below B's.
A chain "A > B > C" is reproduced when every adjacent pair is, not reproduced when no pair holds
even in point estimate, and partly otherwise.
"""

from __future__ import annotations

from magvit.metrics.estimate import Estimate

REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_TESTABLE = (
    "reproduced", "partly", "not reproduced", "not testable here",
)
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_TESTABLE)

__all__ = ["NOT_REPRODUCED", "NOT_TESTABLE", "PARTLY", "REPRODUCED", "VERDICTS", "Estimate", "beats",
           "beats_across_seeds", "chain", "chain_across_seeds", "combine_pairs", "seed_spread"]


def beats(a: Estimate, b: Estimate, lower_is_better: bool = True) -> str:
    """Verdict for "a is better than b"."""
    if not lower_is_better:
        a, b = Estimate(-a.value, -a.high, -a.low), Estimate(-b.value, -b.high, -b.low)
    if a.high < b.low:
        return REPRODUCED
    if a.value < b.value:
        return PARTLY
    return NOT_REPRODUCED


def chain(estimates: list[Estimate], lower_is_better: bool = True) -> str:
    """Verdict for ``estimates[0] > estimates[1] > ...`` (each better than the next)."""
    if len(estimates) < 2:
        raise ValueError("a chain needs at least two estimates")
    return combine_pairs([beats(a, b, lower_is_better) for a, b in zip(estimates, estimates[1:], strict=False)])


def combine_pairs(pairs: list[str]) -> str:
    """A chain's verdict from its adjacent pairs': reproduced when every pair is, not reproduced when every pair is,
    not testable here when any pair is (and neither of those), partly otherwise."""
    if all(p == REPRODUCED for p in pairs):
        return REPRODUCED
    if all(p == NOT_REPRODUCED for p in pairs):
        return NOT_REPRODUCED
    if NOT_TESTABLE in pairs:
        return NOT_TESTABLE
    return PARTLY


def seed_spread(per_seed: list[Estimate]) -> float:
    """Range of the point estimates over training seeds (0 for one seed)."""
    values = [e.value for e in per_seed]
    return max(values) - min(values)


def beats_across_seeds(a: list[Estimate], b: list[Estimate], lower_is_better: bool = True) -> str:
    """Verdict for "a is better than b" from one estimate per training seed of each (same seeds, same order).

    - ``not testable here``: the seeds' spread (the larger range of the two rows' point estimates) is at least
      the difference of their means: training noise alone could make either order;
    - ``reproduced``: for every seed, a's interval lies wholly on the better side of b's (``beats``);
    - ``partly``: a's mean is better than b's, beyond the seed spread, but not so for every seed's intervals;
    - ``not reproduced``: b's mean is better than a's beyond the seed spread.
    """
    if len(a) != len(b) or not a:
        raise ValueError(f"need one estimate per seed for both rows, got {len(a)} and {len(b)}")
    mean_a = sum(e.value for e in a) / len(a)
    mean_b = sum(e.value for e in b) / len(b)
    if abs(mean_a - mean_b) <= max(seed_spread(a), seed_spread(b)):
        return NOT_TESTABLE
    if all(beats(x, y, lower_is_better) == REPRODUCED for x, y in zip(a, b, strict=True)):
        return REPRODUCED
    better = mean_a < mean_b if lower_is_better else mean_a > mean_b
    return PARTLY if better else NOT_REPRODUCED


def chain_across_seeds(rows: list[list[Estimate]], lower_is_better: bool = True) -> str:
    """Verdict for ``rows[0] > rows[1] > ...`` with one estimate per seed in each row (``combine_pairs``)."""
    if len(rows) < 2:
        raise ValueError("a chain needs at least two rows")
    return combine_pairs([beats_across_seeds(a, b, lower_is_better) for a, b in zip(rows, rows[1:], strict=False)])
