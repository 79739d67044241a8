"""The artifact store: trained models and computed features cached by config.

An artifact is ``<cache>/<kind>/<key>.pt`` plus a JSON sidecar ``<key>.json`` (config, seed, git
commit, torch version, device, created). The key is a stable hash of the config dataclass, the seed
and ``FORMAT_VERSION``, so notebooks share models and any notebook can run alone: it trains what is
missing. Writes are atomic; loads use ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import torch

from magvit.atomic import atomic_torch_save, atomic_write_text
from magvit.paths import REPO_ROOT, cache_dir

FORMAT_VERSION = 1


class ConfigMismatchError(ValueError):
    """A checkpoint was made with another config than the one requested."""


def config_dict(config: Any) -> dict:
    """A JSON-ready dict of a (nested) config dataclass, tuples as lists."""
    if dataclasses.is_dataclass(config):
        return json.loads(json.dumps(dataclasses.asdict(config)))
    if isinstance(config, dict):
        return json.loads(json.dumps(config))
    raise TypeError(f"config must be a dataclass or dict, got {type(config).__name__}")


def config_key(config: Any, seed: int, version: int = FORMAT_VERSION) -> str:
    """Stable 16-hex-digit hash of (config, seed, format version); any field change is a new key."""
    payload = json.dumps(
        {"config": config_dict(config), "type": type(config).__name__, "seed": int(seed), "v": version},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def config_diff(expected: dict, found: dict, prefix: str = "") -> list[str]:
    """Dotted names of the fields where two config dicts differ, with both values."""
    diffs = []
    for name in sorted(set(expected) | set(found)):
        a, b = expected.get(name, "<missing>"), found.get(name, "<missing>")
        if isinstance(a, dict) and isinstance(b, dict):
            diffs += config_diff(a, b, f"{prefix}{name}.")
        elif a != b:
            diffs.append(f"{prefix}{name}: requested {a!r}, checkpoint has {b!r}")
    return diffs


def check_config(expected: Any, found: dict, what: str = "checkpoint") -> None:
    """Raise :class:`ConfigMismatchError` naming every differing field."""
    diffs = config_diff(config_dict(expected), found)
    if diffs:
        raise ConfigMismatchError(
            f"{what} was made with a different config; differing fields:\n  " + "\n  ".join(diffs)
        )


def git_commit(root: Path = REPO_ROOT) -> str:
    """HEAD's short hash, with "+dirty" when the tracked code (magvit/, notebooks/) differs from HEAD:
    a result made from uncommitted code must not pass for the commit's."""
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=5)
        return out.stdout.strip()

    try:
        head = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "magvit", "notebooks")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head + ("+dirty" if dirty else "")) if head else "unknown"


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ArtifactStore:
    """Cache of torch state dicts keyed by ``(kind, config, seed)``."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else cache_dir()

    def path(self, kind: str, config: Any, seed: int) -> Path:
        return self.root / kind / f"{config_key(config, seed)}.pt"

    def exists(self, kind: str, config: Any, seed: int) -> bool:
        return self.path(kind, config, seed).exists()

    def save(self, kind: str, config: Any, seed: int, state: dict, device: str = "cpu",
             extra: dict | None = None) -> Path:
        """Write ``state`` and its sidecar atomically (the sidecar last: it marks completion)."""
        path = self.path(kind, config, seed)
        atomic_torch_save(state, path)
        sidecar = {
            "kind": kind, "config_type": type(config).__name__, "config": config_dict(config),
            "seed": int(seed), "format_version": FORMAT_VERSION, "git_commit": git_commit(),
            "torch_version": torch.__version__, "device": str(device), "created": utc_now(),
            **(extra or {}),
        }
        atomic_write_text(path.with_suffix(".json"), json.dumps(sidecar, indent=2, sort_keys=True))
        return path

    def load(self, kind: str, config: Any, seed: int, map_location: str = "cpu") -> dict:
        """Load an artifact; its sidecar's config must equal ``config`` field by field."""
        return load_checkpoint(self.path(kind, config, seed), config, map_location)

    def sidecar(self, kind: str, config: Any, seed: int) -> dict:
        return json.loads(self.path(kind, config, seed).with_suffix(".json").read_text())

    def delete(self, kind: str, config: Any, seed: int) -> None:
        path = self.path(kind, config, seed)
        for p in (path, path.with_suffix(".json")):
            p.unlink(missing_ok=True)


def load_checkpoint(path: str | Path, config: Any, map_location: str = "cpu") -> dict:
    """Load ``path`` (weights only) after checking its sidecar's config against ``config``."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no artifact at {path}")
    meta_path = path.with_suffix(".json")
    if not meta_path.exists():
        raise FileNotFoundError(f"artifact {path} has no sidecar {meta_path.name}; it is incomplete")
    meta = json.loads(meta_path.read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise ConfigMismatchError(
            f"{path} has format version {meta.get('format_version')}, this code reads {FORMAT_VERSION}"
        )
    check_config(config, meta["config"], what=str(path))
    return torch.load(path, map_location=map_location, weights_only=True)
