"""Opening the run's SQLite files (the journal, the sync state): one way, with one kind of refusal.

WAL with ``synchronous=NORMAL``: a call that has returned survives a crash of the process (``kill -9``); only a
crash of the whole machine may lose the last few. ``PRAGMA application_id`` tells a file of ours from any other
SQLite file, ``user_version`` a file a newer importer wrote. A file found damaged later, by any statement, is the
same one-line refusal (:class:`DamagedFile`), naming the file: never a traceback, never silently started over.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from importer.errors import ConfigError
from importer.private import tighten

__all__ = ["DamagedFile", "open_database"]

_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


class DamagedFile(ConfigError):
    """An SQLite file of the run (journal, sync state) is damaged: the run stops (exit 2), naming it."""


class _NamedConnection(sqlite3.Connection):
    """A connection whose damaged-file errors name the file and say what to do (set by :func:`open_database`)."""

    refusal = ("an SQLite file", "")  # (what the file is, the advice that ends the line)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) in _DAMAGED:
                what, tail = self.refusal
                raise DamagedFile(f"{what} ({exc}){tail}") from None
            raise


def open_database(path: Path, *, what: str, application_id: int, version: int, schema: str,
                  always: str = "", advice: str = "") -> sqlite3.Connection:
    """Open (creating if missing) the SQLite file ``path`` holding ``what`` ("an importer journal"): ``schema``
    for a new file, ``always`` (idempotent statements) on every open. Any problem is a one-line ConfigError;
    ``advice`` (what to do about a file that is not usable) ends the line."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():  # the -wal and -shm of a file moved away would be read as the new file's
            for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
        db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False,
                             factory=_NamedConnection)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"cannot open {what} at {path}: {exc}") from None
    assert isinstance(db, _NamedConnection)
    tighten(path)  # its owner's only, whatever the umask (-wal and -shm take the file's mode)
    tail = f": {advice}" if advice else ""
    db.refusal = (f"{path} is damaged, not usable as {what}", tail)
    try:
        _prepare(db, path, what=what, application_id=application_id, version=version, schema=schema,
                 always=always, tail=tail)
    except sqlite3.DatabaseError as exc:
        db.close()
        raise ConfigError(f"{path} is not usable as {what} ({exc}){tail}") from None
    except ConfigError:
        db.close()
        raise
    return db


#: Seconds a file another process is creating (or switching to WAL) is waited for: the connection's own timeout.
_BUSY_FOR = 30.0


def _prepare(db: sqlite3.Connection, path: Path, *, what: str, application_id: int, version: int, schema: str,
             always: str, tail: str) -> None:
    """Check the file is ours and of a version this importer reads, and set it up (WAL, schema). Two processes
    opening a new file at once (two runs started together) find it locked while the other one switches it to WAL,
    which SQLite does not wait for: each step is idempotent, so the whole is tried again until the other is done."""
    deadline = time.monotonic() + _BUSY_FOR
    while True:
        try:
            found = db.execute("PRAGMA user_version").fetchone()[0]
            if found > version:
                raise ConfigError(f"{path} was written by a newer importer (version {found} of its format, this "
                                  f"one reads {version}): upgrade, or use another --report-dir")
            has_tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
            if has_tables and db.execute("PRAGMA application_id").fetchone()[0] != application_id:
                raise ConfigError(f"{path} is an SQLite file but not {what}{tail}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            if not has_tables:
                db.executescript(f"BEGIN IMMEDIATE; {schema} COMMIT;")
            if always:
                db.executescript(always)
            return
        except sqlite3.OperationalError as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if getattr(exc, "sqlite_errorcode", None) != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)
