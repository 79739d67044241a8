"""The paper's numbers, as typed from Yu et al. (CVPR 2023) into ``results/paper/``."""

from __future__ import annotations

import pandas as pd

from magvit.paths import paper_dir


def names() -> list[str]:
    return sorted(p.stem for p in paper_dir().glob("*.csv"))


def table(name: str) -> pd.DataFrame:
    """One paper table, e.g. ``table("table5_conditional_mtm")``."""
    path = paper_dir() / f"{name}.csv"
    if not path.exists():
        raise KeyError(f"no paper table {name!r}; available: {', '.join(names())}")
    return pd.read_csv(path)
