"""Forgetting a person: their lead's data out of the state (confirmed values, the notes ledger), out of the state's
backups and out of the journals (before-images, task outcomes). The next sync then treats the phone as never seen:
the row is sent whole again, its note once. Freed pages are wiped (``VACUUM``), so the data is not left in the file.

What still holds the phone in run folders is found and, when asked, rewritten by :mod:`importer.report.purge`; the
lead in Superfone itself is the account's to delete.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from importer.run.stores.database import open_database
from importer.run.stores.journal import _SCHEMA as JOURNAL_SCHEMA
from importer.run.stores.journal import APPLICATION_ID as JOURNAL_ID
from importer.run.stores.journal import SCHEMA_VERSION as JOURNAL_VERSION
from importer.run.stores.state import SqliteDatabase, SyncState

__all__ = ["Forgotten", "forget_in_journal", "forget_in_state"]


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What was removed from one file: its name and how many of each thing."""

    where: str
    counts: dict[str, int]

    def line(self) -> str:
        held = ", ".join(f"{n} {name}" for name, n in self.counts.items())
        return f"forgotten in {self.where}: {held}"


def _marks(phones: Sequence[str]) -> str:
    return ",".join("?" * len(phones))


def forget_in_state(state: SyncState, phones: Sequence[str]) -> list[Forgotten]:
    """Remove the phones' leads (every job) and notes (every account) from ``state`` and from its backups."""
    found = [_forget_state_rows(state, phones)]
    if isinstance(state.db, SqliteDatabase):
        state.db.rows("VACUUM")
        folder = state.db.path.with_name(f"{state.db.path.name}.backups")
        for backup in sorted(folder.glob("*.sqlite")) if folder.is_dir() else []:
            with SyncState(backup) as copy:
                found.append(_forget_state_rows(copy, phones))
                copy.db.rows("VACUUM")
    return found


def _forget_state_rows(state: SyncState, phones: Sequence[str]) -> Forgotten:
    marks = _marks(phones)
    with state.db.transaction():
        leads = state.db.rows(f"DELETE FROM lead WHERE phone IN ({marks}) RETURNING phone", phones)
        notes = state.db.rows(f"DELETE FROM note WHERE phone IN ({marks}) RETURNING phone", phones)
    return Forgotten(state.where, {"lead record(s)": len(leads), "note(s) of the ledger": len(notes)})


def forget_in_journal(path: Path, phones: Sequence[str]) -> Forgotten:
    """Remove the phones' before-images and task outcomes from the journal at ``path``."""
    db = open_database(path, what="an importer journal", application_id=JOURNAL_ID, version=JOURNAL_VERSION,
                       schema=JOURNAL_SCHEMA)
    try:
        counts = {"before-image(s)": _delete(db, f"DELETE FROM before_image WHERE phone IN ({_marks(phones)})",
                                             phones)}
        counts["task record(s)"] = sum(_delete(db, "DELETE FROM task_state WHERE outcomes LIKE ?", (f"%{phone}%",))
                                       for phone in phones)
        db.execute("VACUUM")
    finally:
        db.close()
    return Forgotten(str(path), counts)


def _delete(db: sqlite3.Connection, sql: str, params: Sequence[str]) -> int:
    try:
        return db.execute(sql, params).rowcount
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0  # a journal of a run that never kept before-images or tasks
        raise
