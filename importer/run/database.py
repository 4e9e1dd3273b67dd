"""Opening the run's SQLite files (the journal, the sync state): one way, with one kind of refusal.

WAL with ``synchronous=NORMAL``: a call that has returned survives a crash of the process (``kill -9``); only a
crash of the whole machine may lose the last few. ``PRAGMA application_id`` tells a file of ours from any other
SQLite file, ``user_version`` a file a newer importer wrote.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from importer.errors import ConfigError

__all__ = ["open_database"]


def open_database(path: Path, *, what: str, application_id: int, version: int, schema: str,
                  always: str = "") -> sqlite3.Connection:
    """Open (creating if missing) the SQLite file ``path`` holding ``what`` ("an importer journal"): ``schema``
    for a new file, ``always`` (idempotent statements) on every open. Any problem is a one-line ConfigError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"cannot open {what} at {path}: {exc}") from None
    try:
        found = db.execute("PRAGMA user_version").fetchone()[0]
        if found > version:
            raise ConfigError(f"{path} was written by a newer importer (version {found} of its format, this one "
                              f"reads {version}): upgrade, or use another --report-dir")
        has_tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
        if has_tables and db.execute("PRAGMA application_id").fetchone()[0] != application_id:
            raise ConfigError(f"{path} is an SQLite file but not {what}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        if not has_tables:
            db.executescript(f"BEGIN IMMEDIATE; {schema} COMMIT;")
        if always:
            db.executescript(always)
    except sqlite3.DatabaseError as exc:
        db.close()
        raise ConfigError(f"{path} is not usable as {what} ({exc})") from None
    except ConfigError:
        db.close()
        raise
    return db
