"""Locks between processes: ``fcntl.flock`` on a ``.lock`` file, with its holder written into it.

Two notebooks or two studies sharing one cache or one results folder must neither train the same artifact
twice nor lose each other's rows. ``flock`` is released by the kernel when its holder dies, even by SIGKILL,
so a crashed run never leaves a stale lock behind; a waiter that gives up names the live holder instead.
The ``.lock`` file itself stays: deleting it would let a waiter lock a file that no longer has a name while
a newcomer locks a new one. POSIX only (Linux, macOS), like the rest of the study's tooling.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Longer than any training of the smoke/cpu/gpu profiles: a waiter normally waits for the holder to finish
# training and then loads its result. The paper profile trains for days: raise $MAGVIT_LOCK_TIMEOUT there.
DEFAULT_TIMEOUT_S = 6 * 3600.0


class LockTimeout(TimeoutError):
    """Another live process held the lock for longer than the timeout."""


def lock_timeout() -> float:
    """``$MAGVIT_LOCK_TIMEOUT`` in seconds, else :data:`DEFAULT_TIMEOUT_S`."""
    raw = os.environ.get("MAGVIT_LOCK_TIMEOUT")
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also catches NaN
        raise ValueError(f"$MAGVIT_LOCK_TIMEOUT must be a number of seconds >= 0, got {raw!r}")
    return value


def holder(path: str | os.PathLike) -> dict | None:
    """What the current holder wrote into the lock file (pid, host, since, what), or None if unknown."""
    try:
        info = json.loads(Path(path).read_text())
    except (OSError, ValueError):  # no file, or read while the holder was writing it
        return None
    return info if isinstance(info, dict) else None


def describe(info: dict | None) -> str:
    if not info:
        return "an unknown process (it has not written its name yet)"
    return (f"pid {info.get('pid')} on host {info.get('host')} since {info.get('since')}"
            + (f" ({info['what']})" if info.get("what") else ""))


@contextmanager
def file_lock(path: str | os.PathLike, what: str = "", timeout: float | None = None,
              poll_s: float = 0.05) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block.

    Waits at most ``timeout`` seconds (``None``: :func:`lock_timeout`), telling stderr once whom it waits
    for; then raises :class:`LockTimeout` naming the holder's pid, host and start time.
    """
    path = Path(path)
    timeout = lock_timeout() if timeout is None else float(timeout)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        started = time.monotonic()
        deadline = started + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = time.monotonic()
                if now >= deadline:
                    raise LockTimeout(
                        f"gave up after {timeout:g} s waiting for the lock {path}, held by {describe(holder(path))}. "
                        "If that process is hung, stop it (a dead process releases the lock by itself); if it is "
                        "still working, wait for it or raise $MAGVIT_LOCK_TIMEOUT (seconds)") from None
                info = holder(path)
                # say once whom we wait for; a holder writes its name just after locking, so give it a moment
                if not told and (info or now - started > 1.0):
                    print(f"waiting for {path.name} ({what or 'lock'}): held by {describe(info)}",
                          file=sys.stderr, flush=True)
                    told = True
                time.sleep(min(poll_s, deadline - now))
                poll_s = min(1.0, poll_s * 1.5)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "what": what,
                "since": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
