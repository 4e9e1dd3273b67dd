"""One run at a time per state file: an exclusive lock held for the whole run.

The lock is the operating system's (``flock`` on POSIX, ``LockFileEx`` on Windows, through filelock) on
``<state>.lock``: it is released when its holder exits, however it exits (``kill -9`` included), so a lock left by
a dead process is simply free again: there is no stale lock to break, and two processes can never both believe
they hold it. ``<state>.holder`` says who holds it (pid, host, start time), for the one-line refusal the second run
prints; it is only read while the lock is taken, so one left behind by a killed run is never believed.

A state in PostgreSQL is locked by the database instead (:mod:`importer.run.stores.postgres`).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from importer.errors import ConfigError

__all__ = ["Holder", "RunLock", "RunLocked", "who_holds"]


class RunLocked(ConfigError):
    """Another run holds the lock (exit 2: nothing was sent)."""


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a lock: process id, host name and when the run started."""

    pid: int
    host: str
    started_at: str

    @classmethod
    def me(cls) -> Holder:
        return cls(os.getpid(), socket.gethostname(), datetime.now(UTC).astimezone().isoformat(timespec="seconds"))

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        try:
            data = json.loads(text or "null")
            return cls(int(data["pid"]), str(data["host"]), str(data["started_at"]))
        except (ValueError, TypeError, KeyError):
            return None  # the holder is still writing, or an old format: say "another process"

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, started {self.started_at}"

    def dumps(self) -> str:
        return json.dumps(asdict(self))


class RunLock:
    """``with RunLock(state_path): …`` runs the body alone; a second holder gets :class:`RunLocked` at once."""

    def __init__(self, state_path: Path | str) -> None:
        self.state = Path(state_path)
        self.path = Path(f"{state_path}.lock")
        self.holder_path = Path(f"{state_path}.holder")
        self._lock = FileLock(self.path, timeout=0, is_singleton=False, thread_local=False)

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            who = who_holds(lambda: _read(self.holder_path))
            raise RunLocked(f"another run is using {self.state}: {who}") from None
        except OSError as exc:
            raise ConfigError(f"cannot lock {self.state} ({self.path}): {exc.strerror or exc}") from None
        self.holder_path.write_text(Holder.me().dumps(), encoding="utf-8")

    def release(self) -> None:
        if not self._lock.is_locked:
            return
        try:
            self.holder_path.write_text("", encoding="utf-8")
        finally:
            self._lock.release()

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _read(path: Path) -> Holder | None:
    try:
        return Holder.parse(path.read_text(encoding="utf-8"))
    except OSError:
        return None


def who_holds(read: Callable[[], Holder | None], tries: int = 25, pause: float = 0.02) -> str:
    """Who holds a lock, as a refusal names it (``pid … on …``, or "another process"): ``read`` again a little
    while for a holder that has just taken the lock and is still writing who it is (two runs started together
    reach the lock within the same millisecond)."""
    for _ in range(tries - 1):
        holder = read()
        if holder is not None:
            return holder.describe()
        time.sleep(pause)
    holder = read()
    return holder.describe() if holder is not None else "another process"
