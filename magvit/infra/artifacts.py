"""The artifact store: trained models and computed features cached by config.

An artifact is ``<cache>/<kind>/<key>.pt`` plus a JSON sidecar ``<key>.json`` (config, seed, git
commit, torch version, device, created, and the file's ``size`` and ``sha256``). The key is a stable hash
of the config dataclass, the seed and ``FORMAT_VERSION``, so notebooks share models and any notebook can
run alone: it trains what is missing. Writes are atomic; loads use ``torch.load(weights_only=True)``.

Integrity: a load checks the file's size and SHA-256 against its sidecar before unpickling. torch alone
would load a bit-flipped tensor silently (tried: a flipped bit in a float gave 500.125 for 500.0) and
report a truncated file as "PytorchStreamReader failed reading zip archive", naming no file. Anything
wrong with a file raises :class:`ArtifactDamagedError` naming it; ``magvit.infra.train.fit`` catches that, moves
the damaged pair to ``<kind>/damaged/`` and retrains. Sidecars written before the hash existed have no
``sha256``: they load unverified (torch's own errors still become ``ArtifactDamagedError``) and ``fit``
records their hash on that first load.

Concurrency: :meth:`ArtifactStore.lock` is a file lock per artifact (``<key>.lock``, ``magvit.infra.locks``);
``fit`` trains and saves under it, so two processes never train one artifact at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import pickle
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from magvit.config import KEYED, UNLESS_DEFAULT
from magvit.infra.atomic import atomic_write_bytes, atomic_write_text
from magvit.infra.checks import check_seed
from magvit.infra.locks import file_lock
from magvit.infra.paths import REPO_ROOT, cache_dir

# 2: keys and sidecars leave out the fields a config declares ``unkeyed`` (a notebook-only field keeps models cached)
FORMAT_VERSION = 2


class ConfigMismatchError(ValueError):
    """A checkpoint was made with another config than the one requested."""


class ArtifactDamagedError(RuntimeError):
    """An artifact's file or sidecar is missing, truncated, altered or unreadable."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path, self.reason = Path(path), reason
        sidecar = self.path.with_suffix(".json").name
        super().__init__(
            f"artifact {self.path} is damaged: {reason}. Delete it and its sidecar {sidecar} (or move them out of "
            "the cache) and rerun: the code that made it retrains it (magvit.infra.train.fit does so by itself)")


def keyed_fields(value: Any) -> Any:
    """``value`` with every (nested) dataclass turned into a dict of its keyed fields: those not declared
    ``magvit.config.unkeyed`` (fields that cannot change trained weights), and those declared
    ``keyed_unless_default`` only where they are set to something other than their default."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        def keyed(f: dataclasses.Field) -> bool:
            mode = f.metadata.get(KEYED, True)
            return getattr(value, f.name) != f.default if mode == UNLESS_DEFAULT else bool(mode)
        return {f.name: keyed_fields(getattr(value, f.name)) for f in dataclasses.fields(value) if keyed(f)}
    if isinstance(value, list | tuple):
        return [keyed_fields(v) for v in value]
    if isinstance(value, dict):
        return {k: keyed_fields(v) for k, v in value.items()}
    return value


def config_dict(config: Any) -> dict:
    """A JSON-ready dict of a (nested) config dataclass's keyed fields, tuples as lists."""
    if dataclasses.is_dataclass(config):
        return json.loads(json.dumps(keyed_fields(config)))
    if isinstance(config, dict):
        return json.loads(json.dumps(config))
    raise TypeError(f"config must be a dataclass or dict, got {type(config).__name__}")


def config_key(config: Any, seed: int, version: int = FORMAT_VERSION) -> str:
    """Stable 16-hex-digit hash of (config, seed, format version); any keyed field's change is a new key."""
    payload = json.dumps(
        {"config": config_dict(config), "type": type(config).__name__, "seed": check_seed(seed), "v": version},
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

    # a copy of the working tree run elsewhere (a lent GPU machine: its .git, if any, is not this checkout's) is
    # told the commit it was sent from in $MAGVIT_GIT_COMMIT
    if os.environ.get("MAGVIT_GIT_COMMIT"):
        return os.environ["MAGVIT_GIT_COMMIT"]
    try:
        head = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "magvit", "notebooks")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head + ("+dirty" if dirty else "")) if head else "unknown"


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def file_digest(path: Path) -> tuple[int, str]:
    """(size in bytes, SHA-256 hex) of a file, read in 1 MiB blocks."""
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
            size += len(block)
    return size, h.hexdigest()


def read_sidecar(path: str | os.PathLike) -> dict:
    """The sidecar of artifact ``path``; :class:`ArtifactDamagedError` if it is missing or unreadable."""
    meta_path = Path(path).with_suffix(".json")
    try:
        meta = json.loads(meta_path.read_text())
    except FileNotFoundError:
        raise ArtifactDamagedError(path, f"it has no sidecar {meta_path.name}, so it is incomplete (the run that "
                                         "wrote it stopped before finishing, or the sidecar was deleted)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ArtifactDamagedError(path, f"its sidecar {meta_path.name} is not readable JSON ({err})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise ArtifactDamagedError(path, f"its sidecar {meta_path.name} lacks the config it was made with")
    return meta


def verify_file(path: str | os.PathLike, meta: dict) -> bool:
    """Check ``path`` against the size and SHA-256 its sidecar ``meta`` records.

    Returns False when the sidecar predates the hash (nothing to check), True when the file matches;
    raises :class:`ArtifactDamagedError` otherwise.
    """
    if "sha256" not in meta:
        return False
    size, digest = file_digest(Path(path))
    if size != meta.get("size"):
        raise ArtifactDamagedError(path, f"it has {size} bytes, its sidecar records {meta.get('size')} "
                                         "(truncated or extended: a half-copied cache, a full disk, a bad sector)")
    if digest != meta["sha256"]:
        raise ArtifactDamagedError(path, "its SHA-256 differs from the one its sidecar records (altered bytes: a "
                                         "bad sector, a faulty copy, or an edit)")
    return True


def load_checkpoint(path: str | os.PathLike, config: Any, map_location: str = "cpu") -> dict:
    """Load ``path`` (weights only) after checking its sidecar's config against ``config`` and the file
    against the sidecar's size and hash. A damaged file raises :class:`ArtifactDamagedError` naming it."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no artifact at {path}")
    meta = read_sidecar(path)
    if meta.get("format_version") != FORMAT_VERSION:
        raise ConfigMismatchError(
            f"{path} has format version {meta.get('format_version')}, this code reads {FORMAT_VERSION}"
        )
    check_config(config, meta["config"], what=str(path))
    verify_file(path, meta)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:  # weights_only refused to build an object: the file holds code
        detail = next((line.strip() for line in str(err).splitlines() if "Unsupported global" in line),
                      _first_line(err))
        raise ArtifactDamagedError(path, "it holds pickled objects other than tensors and containers, which "
                                         f"torch.load(weights_only=True) refuses to build ({detail}); it was not "
                                         "written by this store, do not load it with weights_only=False") from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError) as err:  # e.g. a torn zip (unhashed sidecar)
        raise ArtifactDamagedError(path, f"torch cannot read it ({type(err).__name__}: {_first_line(err)})") from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


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
        """Write ``state`` and its sidecar atomically (the sidecar last: it marks completion and holds the
        file's size and hash)."""
        path = self.path(kind, config, seed)
        buffer = io.BytesIO()
        torch.save(state, buffer)
        payload = buffer.getvalue()
        atomic_write_bytes(path, payload)
        sidecar = {
            "kind": kind, "config_type": type(config).__name__, "config": config_dict(config),
            "seed": int(seed), "format_version": FORMAT_VERSION, "git_commit": git_commit(),
            "torch_version": torch.__version__, "device": str(device), "created": utc_now(),
            "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest(),
            **(extra or {}),
        }
        atomic_write_text(path.with_suffix(".json"), json.dumps(sidecar, indent=2, sort_keys=True))
        return path

    def load(self, kind: str, config: Any, seed: int, map_location: str = "cpu") -> dict:
        """Load an artifact; its sidecar's config must equal ``config`` field by field, and the file must
        match the size and hash its sidecar records (:class:`ArtifactDamagedError` otherwise)."""
        return load_checkpoint(self.path(kind, config, seed), config, map_location)

    def sidecar(self, kind: str, config: Any, seed: int) -> dict:
        return read_sidecar(self.path(kind, config, seed))

    def is_verified(self, kind: str, config: Any, seed: int) -> bool:
        """Whether the artifact's sidecar records a hash (False for sidecars written before it existed)."""
        try:
            return "sha256" in self.sidecar(kind, config, seed)
        except ArtifactDamagedError:
            return False

    def record_hash(self, kind: str, config: Any, seed: int) -> None:
        """Add size and hash to an older sidecar (call it after the file loaded cleanly, under the lock)."""
        path = self.path(kind, config, seed)
        meta = read_sidecar(path)
        meta["size"], meta["sha256"] = file_digest(path)
        atomic_write_text(path.with_suffix(".json"), json.dumps(meta, indent=2, sort_keys=True))

    def delete(self, kind: str, config: Any, seed: int) -> None:
        path = self.path(kind, config, seed)
        for p in (path, path.with_suffix(".json")):
            p.unlink(missing_ok=True)

    def quarantine(self, kind: str, config: Any, seed: int) -> Path:
        """Move a damaged artifact and its sidecar to ``<kind>/damaged/`` (kept for inspection, out of the
        way of a retraining); return the moved ``.pt`` path."""
        path = self.path(kind, config, seed)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        dest = path.parent / "damaged" / f"{path.stem}.{stamp}.{os.getpid()}.pt"
        dest.parent.mkdir(parents=True, exist_ok=True)
        for src, dst in ((path, dest), (path.with_suffix(".json"), dest.with_suffix(".json"))):
            if src.exists():
                os.replace(src, dst)
        return dest

    @contextmanager
    def lock(self, kind: str, config: Any, seed: int, what: str = "",
             timeout: float | None = None) -> Iterator[None]:
        """Exclusive lock on artifact ``(kind, config, seed)`` between processes (``<key>.lock`` beside it)."""
        path = self.path(kind, config, seed).with_suffix(".lock")
        with file_lock(path, what=what or f"{kind} {path.stem}", timeout=timeout):
            yield
