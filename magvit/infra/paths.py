"""Where the study reads and writes: repository root, results, artifact cache.

Results layout: the default profile (``cpu``, the committed study) writes to ``results/``; every other
profile writes to ``results/<profile>/`` (``results/smoke/`` is ignored by git), so a run at another
profile never overwrites the committed numbers. ``results/paper/`` holds the paper's own tables, so
the ``paper`` profile writes to ``results/paper_run/``. ``$MAGVIT_RESULTS`` overrides all of them
(tests, nbval).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# The profile whose results are the committed study in results/ itself (= magvit.profiles.DEFAULT_PROFILE;
# not imported from there so that this module stays free of torch).
COMMITTED_PROFILE = "cpu"
# Folders of results/ that belong to no profile; a profile of that name gets "<name>_run" instead.
RESERVED = ("paper", "figures", "notebooks", "diagnostics")


def results_dir(profile: str) -> Path:
    """``$MAGVIT_RESULTS`` if set, else ``results/`` for ``cpu`` and ``results/<profile>/`` otherwise
    (``results/<profile>_run/`` for a name in ``RESERVED``, e.g. ``paper``)."""
    if not isinstance(profile, str) or not profile or Path(profile).name != profile or profile.startswith("."):
        raise ValueError(f"results_dir needs a profile name that can name a folder, got {profile!r}")
    override = os.environ.get("MAGVIT_RESULTS")
    if override:
        return Path(override)
    return committed_results_dir(profile)


def committed_results_dir(profile: str) -> Path:
    """Where the repository keeps ``profile``'s results, whatever ``$MAGVIT_RESULTS`` says (notebook 12 shows the
    committed profiles side by side)."""
    if profile == COMMITTED_PROFILE:
        return REPO_ROOT / "results"
    return REPO_ROOT / "results" / (f"{profile}_run" if profile in RESERVED else profile)


def figures_dir(profile: str) -> Path:
    path = results_dir(profile) / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """``$MAGVIT_CACHE`` or ``.cache/magvit`` in the repository: trained models and features."""
    return Path(os.environ.get("MAGVIT_CACHE") or REPO_ROOT / ".cache" / "magvit")


def paper_dir() -> Path:
    """The paper's tables, copied into the repository (never read from ../shared at run time)."""
    return REPO_ROOT / "results" / "paper"
