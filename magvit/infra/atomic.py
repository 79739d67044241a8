"""Atomic file writes: temporary file in the same folder, flush + fsync, ``os.replace``.

A crash at any point leaves either the previous file or the new one, never a torn file.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp creates 0600; results should be readable like any file
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        _replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _replace(src: str, dst: Path) -> None:
    """The commit point of every atomic write (a separate function so tests can interrupt it)."""
    os.replace(src, dst)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_with(path: str | os.PathLike, write: Callable[[io.BytesIO], Any]) -> Path:
    """Serialise with ``write(buffer)`` in memory, then write atomically (e.g. ``fig.savefig``)."""
    buffer = io.BytesIO()
    write(buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    return atomic_write_with(path, lambda buf: torch.save(obj, buf))
