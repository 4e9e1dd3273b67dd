"""One run at a time per state file: an exclusive lock held for the whole run.

The lock is ``fcntl.flock`` on ``<state>.lock``: the kernel releases it when its holder exits, however it exits
(``kill -9`` included), so a lock left by a dead process is simply free again — there is no stale lock to break,
and two processes can never both believe they hold it. The file also says who holds it (pid, host, start time),
for the one-line refusal the second run prints.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from importer.errors import ConfigError

__all__ = ["Holder", "RunLock", "RunLocked"]


class RunLocked(ConfigError):
    """Another run holds the lock (exit 2: nothing was sent)."""


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a lock: process id, host name and when the run started."""

    pid: int
    host: str
    started_at: str

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, started {self.started_at}"


class RunLock:
    """``with RunLock(state_path): …`` runs the body alone; a second holder gets :class:`RunLocked` at once."""

    def __init__(self, state_path: Path | str) -> None:
        self.path = Path(f"{state_path}.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            who = holder.describe() if holder is not None else "another process"
            raise RunLocked(f"another run is using {self.path.with_suffix('')}: {who}") from None
        me = Holder(os.getpid(), socket.gethostname(), datetime.now(UTC).astimezone().isoformat(timespec="seconds"))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_as_dict(me)).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _as_dict(holder: Holder) -> dict[str, object]:
    return {"pid": holder.pid, "host": holder.host, "started_at": holder.started_at}


def _read_holder(fd: int) -> Holder | None:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"null")
        return Holder(int(data["pid"]), str(data["host"]), str(data["started_at"]))
    except (ValueError, TypeError, KeyError):
        return None  # the holder is still writing, or an old format: say "another process"
