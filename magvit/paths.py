"""Where the study reads and writes: repository root, results, artifact cache."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def results_dir() -> Path:
    """``$MAGVIT_RESULTS`` or ``results/`` in the repository (tests point it at a temp dir)."""
    return Path(os.environ.get("MAGVIT_RESULTS") or REPO_ROOT / "results")


def figures_dir() -> Path:
    path = results_dir() / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """``$MAGVIT_CACHE`` or ``.cache/magvit`` in the repository: trained models and features."""
    return Path(os.environ.get("MAGVIT_CACHE") or REPO_ROOT / ".cache" / "magvit")


def paper_dir() -> Path:
    """The paper's tables, copied into the repository (never read from ../shared at run time)."""
    return REPO_ROOT / "results" / "paper"
