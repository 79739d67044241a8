"""The paper's numbers, as typed from Yu et al. (CVPR 2023) into ``results/paper/``, and ours set beside them."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from magvit.infra.paths import paper_dir


def names() -> list[str]:
    return sorted(p.stem for p in paper_dir().glob("*.csv"))


def table(name: str) -> pd.DataFrame:
    """One paper table, e.g. ``table("table5_conditional_mtm")``."""
    path = paper_dir() / f"{name}.csv"
    if not path.exists():
        raise KeyError(f"no paper table {name!r}; available: {', '.join(names())}")
    return pd.read_csv(path)


def side_by_side(ours: pd.DataFrame, name: str, on: list[str], paper_columns: dict[str, str],
                 ours_columns: dict[str, str]) -> pd.DataFrame:
    """Paper vs ours, one row per row of ``ours``: paper table ``name``'s ``paper_columns`` (renamed to their values)
    beside ``ours``'s ``ours_columns`` (renamed likewise), matched on the ``on`` columns that both tables hold."""
    theirs = table(name)[[*on, *paper_columns]].rename(columns=paper_columns)
    mine = ours[[*on, *ours_columns]].rename(columns=ours_columns)
    return theirs.merge(mine, on=on, how="right")


def bar_chart(labels: list[str], ours: list[list[tuple[float, float, float]]], paper: list[float], *,
              ours_title: str, paper_title: str, figsize: tuple[float, float] = (10, 3)) -> Figure:
    """Two panels, ours beside the paper's, one bar per row: ours is the mean over runs (training seeds) with each
    run's value and interval as a dot with error bars (``ours[i]`` = [(value, low, high), ...]); the paper's is its
    published number."""
    fig, axes = plt.subplots(1, 2, figsize=figsize)
    x = np.arange(len(labels))
    axes[0].bar(x, [np.mean([v for v, _, _ in runs]) for runs in ours], color="tab:blue", alpha=0.6,
                label="mean over seeds")
    for i, runs in enumerate(ours):
        values = np.array(runs, dtype=float).reshape(-1, 3)
        offsets = np.linspace(-0.15, 0.15, len(values)) if len(values) > 1 else np.zeros(1)
        err = [values[:, 0] - values[:, 1], values[:, 2] - values[:, 0]]
        axes[0].errorbar(i + offsets, values[:, 0], yerr=err, fmt="o", color="k", markersize=3, capsize=2,
                         label="per seed, 95% interval" if i == 0 else None)
    axes[0].legend(fontsize=7)
    axes[0].set_title(ours_title, fontsize=8)
    axes[1].bar(x, paper, color="tab:gray")
    axes[1].set_title(paper_title, fontsize=8)
    for ax in axes:
        ax.set_xticks(x, labels, fontsize=7)
    return fig
