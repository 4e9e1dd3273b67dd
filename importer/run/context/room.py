"""Room on disk for a run's report: checked before anything is sent, and kept aside while the run goes.

Before a run acts, :func:`check_room` wants the report folder's file system to hold a rough estimate of what the
run will write (the report files copy the input's cells: twice its size, plus the journal's and the sync state's
bytes per row, plus the reserve). :class:`Reserve` then holds ``RESERVE_BYTES`` in a file of the run folder: when
the disk fills during the run, the run stops (``disk-full``), the reserve is given back, and summary.json and
report.html still fit.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

from importer.errors import ConfigError

__all__ = ["RESERVE_BYTES", "Reserve", "check_room", "check_writable", "disk_full"]

#: Room kept for summary.json, report.html (at most 500 issues) and the report files' last buffers.
RESERVE_BYTES = 1024 * 1024
#: What a row costs in the journal and the sync state (the state's 478 bytes a lead, rounded up).
ROW_BYTES = 600
RESERVE_NAME = ".room-for-the-report"
_FULL = (errno.ENOSPC, errno.EDQUOT)


def disk_full(exc: BaseException) -> bool:
    """True for an error that says the disk (or the user's quota) is full: an OSError, or SQLite's SQLITE_FULL."""
    if isinstance(exc, OSError):
        return exc.errno in _FULL
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return False


def needed_bytes(input_bytes: int, rows: int, writes: bool) -> int:
    """A rough estimate of what a run writes: the report files (twice the input), the journal and the state."""
    return 2 * input_bytes + (ROW_BYTES * rows if writes else 0) + RESERVE_BYTES


def check_room(folder: Path, input_bytes: int, rows: int, writes: bool) -> None:
    """ConfigError (one line) when the file system of ``folder`` has less room than the run's estimate."""
    needed = needed_bytes(input_bytes, rows, writes)
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise ConfigError(f"not enough room for the report in {folder.parent}: {_size(free)} free, about "
                          f"{_size(needed)} needed for {rows} rows: nothing sent (free some space or use "
                          "another --report-dir)")


def check_writable(path: Path, what: str) -> None:
    """ConfigError (one line) unless the file ``path`` (``what``: "the sync state") can be created or written,
    and its folder too (SQLite writes its -wal file there). Tried, not asked: permissions lie to root."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".{path.name}.probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        if path.exists():
            with open(path, "r+b"):
                pass
    except OSError as exc:
        raise ConfigError(f"cannot write {what} at {path}: {exc.strerror or exc}: nothing sent") from None


class Reserve:
    """``RESERVE_BYTES`` held in a hidden file of the run folder until :meth:`release` (idempotent)."""

    def __init__(self, folder: Path, size: int = RESERVE_BYTES) -> None:
        self.path = folder / RESERVE_NAME
        try:
            with open(self.path, "wb") as stream:
                stream.write(b"\0" * size)  # written, not just sized: a sparse file would hold no room
        except OSError as exc:
            self.path.unlink(missing_ok=True)
            raise ConfigError(f"not enough room for the report in {folder.parent}: "
                              f"{exc.strerror or exc}: nothing sent") from None

    def release(self) -> None:
        self.path.unlink(missing_ok=True)


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MB"
