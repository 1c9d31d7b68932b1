"""One writer per run name: a lock file made exclusively (O_EXCL) beside ``outputs/<name>/``.

``O_EXCL`` creation is atomic on local disks and on SMB/NFS shares alike, where fcntl locks
are not reliable. The file holds the holder's pid, host and start time. A lock left by a
process of this host that no longer exists is stale and is taken over (with a note); a
live one, or one from another computer, makes the second run refuse with exit 3.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sufficiency.errors import OutputExistsError


class RunLockedError(OutputExistsError):
    """Another run of the same name is writing (exit 3, like an existing run's outputs)."""


@dataclass(frozen=True)
class LockHolder:
    """Who holds a lock: process id, host name and when it started (ISO time)."""

    pid: int
    host: str
    since: str

    @classmethod
    def me(cls) -> LockHolder:
        """The holder that is this process, now."""
        return cls(os.getpid(), socket.gethostname(),
                   dt.datetime.now().astimezone().isoformat(timespec="seconds"))

    @classmethod
    def read(cls, path: Path) -> LockHolder | None:
        """The holder written in ``path`` (None: unreadable, e.g. half written)."""
        try:
            pid, host, since = path.read_text(encoding="utf-8").split("\n")[:3]
            return cls(int(pid), host, since)
        except (OSError, ValueError):
            return None

    def text(self) -> str:
        """The lock file's content: pid, host, start time, one per line."""
        return f"{self.pid}\n{self.host}\n{self.since}\n"

    def is_gone(self) -> bool:
        """Whether this holder's process has ended (only knowable on this host)."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


def lock_path(folder: Path) -> Path:
    """The lock file of an output folder: ``outputs/<name>.lock`` beside ``outputs/<name>/``."""
    return folder.with_name(f"{folder.name}.lock")


@contextlib.contextmanager
def run_lock(folder: Path, notes: list[str] | None = None) -> Iterator[None]:
    """Hold the lock of output ``folder`` for the block; refuse if another run holds it.

    ``notes`` receives a line when a stale lock was taken over.
    """
    path = lock_path(folder)
    made = [p for p in (path.parent, *path.parent.parents) if not p.exists()]  # deepest first
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _acquire(path, notes if notes is not None else [])
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
    finally:
        for empty in made:  # leave no empty outputs/ behind a run that wrote nothing
            with contextlib.suppress(OSError):
                empty.rmdir()


def _acquire(path: Path, notes: list[str]) -> None:
    """Create ``path`` exclusively; take over a stale lock once; otherwise refuse."""
    for _ in range(2):
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            holder = LockHolder.read(path)
            if holder is None or not holder.is_gone():
                raise _locked(path, holder) from None
            notes.append(f"took over a stale lock ({path}) left by process {holder.pid}, "
                         f"which ended without removing it")
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(LockHolder.me().text())
        return
    raise _locked(path, LockHolder.read(path))


def _locked(path: Path, holder: LockHolder | None) -> RunLockedError:
    who = ("another run" if holder is None
           else f"process {holder.pid} on {holder.host} (since {holder.since})")
    return RunLockedError(
        f"{who} is planning a run of this name and holds {path}; wait for it to finish, or "
        "change `name` in the run TOML. If that run is no longer running (for example its "
        "computer was switched off), delete the lock file and rerun")
