"""A measurement with its interval: the value type shared by the metrics and the verdict rules.

It lives at the metrics floor so that ``magvit.metrics`` imports nothing from ``magvit.experiments``
(package floors: config < infra < data < metrics < tokenizer < generative < experiments < study).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Estimate:
    """A point estimate ``value`` with a (bootstrap or over-seed) interval ``[low, high]`` that contains it."""

    value: float
    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low <= self.value <= self.high:
            raise ValueError(f"interval [{self.low}, {self.high}] does not contain {self.value}")
