"""A measurement with its interval: the value type shared by the metrics and the verdict rules.

It lives at the metrics floor so that ``magvit.metrics`` imports nothing from ``magvit.experiments``
(package floors: config < infra < data < metrics < tokenizer < generative < experiments < study).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Estimate:
    """A point estimate ``value`` with a (bootstrap or over-seed) interval ``[low, high]`` that contains it."""

    value: float
    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low <= self.value <= self.high:
            raise ValueError(f"interval [{self.low}, {self.high}] does not contain {self.value}")


@dataclass(frozen=True)
class DistanceResult:
    """A distance between two feature sets (FVD, KVD) with its bootstrap interval and the sample counts behind it."""

    value: float
    low: float
    high: float
    n_real: int
    n_fake: int
    num_bootstrap: int
    number_format: ClassVar[str] = ".4g"  # how __str__ writes the value and the interval

    def estimate(self) -> Estimate:
        return Estimate(self.value, self.low, self.high)

    def __str__(self) -> str:
        f = self.number_format
        return f"{self.value:{f}} [{self.low:{f}}, {self.high:{f}}] (n={self.n_real}/{self.n_fake})"
