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

from dataclasses import dataclass

REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_TESTABLE = (
    "reproduced", "partly", "not reproduced", "not testable here",
)


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low <= self.value <= self.high:
            raise ValueError(f"interval [{self.low}, {self.high}] does not contain {self.value}")


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
    pairs = [beats(a, b, lower_is_better) for a, b in zip(estimates, estimates[1:], strict=False)]
    if all(p == REPRODUCED for p in pairs):
        return REPRODUCED
    if all(p == NOT_REPRODUCED for p in pairs):
        return NOT_REPRODUCED
    return PARTLY
