"""The results writer: every CSV of ``results/`` goes through ``write_table``, every figure through
``save_figure`` (GIFs: ``magvit.infra.plots.save_gif``), each into its profile's folder (``magvit.infra.paths``).

Each row gets provenance columns (profile, seeds, device, git commit, torch version, UTC time), the
write is atomic, and NaN/inf in a metric column is refused with the column's name: a table with a
silent NaN is worse than no table.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from magvit.infra.artifacts import git_commit, utc_now
from magvit.infra.atomic import atomic_write_text, atomic_write_with
from magvit.infra.checks import check_seed
from magvit.infra.paths import figures_dir, results_dir

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PROVENANCE = ("profile", "seeds", "device", "git_commit", "torch_version", "created_utc")


def write_table(df: pd.DataFrame, name: str, *, profile: str, seeds: int | Iterable[int],
                device: str = "cpu") -> Path:
    """Write ``df`` to ``<results of profile>/<name>.csv`` atomically with provenance columns; return the path."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"write_table expects a pandas DataFrame, got {type(df).__name__}")
    clash = [c for c in PROVENANCE if c in df.columns]
    if clash:
        raise ValueError(f"table {name!r} already has provenance column(s) {clash}")
    for column in df.columns:
        values = df[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            bad = ~np.isfinite(values.to_numpy(dtype=float))
            if bad.any():
                rows = list(np.flatnonzero(bad)[:5])
                raise ValueError(f"table {name!r}: metric column {column!r} has NaN/inf in rows {rows}")
    if isinstance(seeds, str) or not isinstance(seeds, Iterable):
        seeds = [seeds]
    seeds = [check_seed(s, "seeds") for s in seeds]
    out = df.copy()
    out["profile"] = profile
    out["seeds"] = " ".join(map(str, seeds))
    out["device"] = str(device)
    out["git_commit"] = git_commit()
    out["torch_version"] = torch.__version__
    out["created_utc"] = utc_now()
    path = results_dir(profile) / f"{name}.csv"
    atomic_write_text(path, out.to_csv(index=False))
    return path


def blank_missing(df: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy of ``df`` whose NaN cells in ``columns`` are left empty: "not measured here", which ``write_table``
    accepts where it refuses NaN in a metric column."""
    out = df.copy()
    for column in columns:
        if column in out and out[column].isna().any():
            out[column] = out[column].astype(object).where(out[column].notna(), "")
    return out


def checked(df: pd.DataFrame, decimals: int) -> pd.DataFrame:
    """``df`` as a ``# NBVAL_CHECK_OUTPUT`` cell prints it: float columns rounded to ``decimals``, negative
    zeros made ``0.0``.

    The last bits of a float depend on the reduction order (BLAS build, thread count), so a checked cell
    must round well above that noise; and a difference that is exactly zero on one machine is ``-0.0`` on
    another, which rounding keeps, hence the ``+ 0.0``.
    """
    out = df.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(decimals) + 0.0  # -0.0 + 0.0 == +0.0 in IEEE arithmetic
    return out


def read_table(name: str, *, profile: str) -> pd.DataFrame:
    path = results_dir(profile) / f"{name}.csv"
    if not path.exists():
        raise FileNotFoundError(f"no results table {path}; run the notebook that writes {name!r} first")
    return pd.read_csv(path)


STAMP_GID = "magvit-profile-stamp"


def stamp_profile(fig: Figure, profile: str) -> None:
    """Write ``profile <name>`` into the figure's lower-right corner, so that a figure copied out of its
    folder still says which profile made it; a second call replaces the stamp instead of adding one."""
    for text in [t for t in fig.texts if t.get_gid() == STAMP_GID]:
        text.remove()
    fig.text(0.995, 0.005, f"profile {profile}", ha="right", va="bottom", fontsize=6, color="0.4",
             gid=STAMP_GID)


def save_figure(fig: Figure, name: str, *, profile: str) -> Path:
    """Stamp ``fig`` with its profile and save it atomically as ``<results of profile>/figures/<name>``
    (PNG unless ``name`` has a suffix)."""
    path = figures_dir(profile) / (name if Path(name).suffix else f"{name}.png")
    stamp_profile(fig, profile)
    atomic_write_with(path, lambda buf: fig.savefig(buf, format=path.suffix[1:], dpi=110,
                                                    bbox_inches="tight"))
    return path
