"""The journal's record of each row's follow-up tasks (per run key and row), so a resumed run reports the tasks a
killed one created and never creates them again (:class:`~importer.run.stores.journal.Journal` holds it)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["TASK_TABLE", "TaskStates"]

T = TypeVar("T")

TASK_TABLE = """
CREATE TABLE IF NOT EXISTS task_state (
    run_key TEXT NOT NULL, row INTEGER NOT NULL, outcomes TEXT NOT NULL, PRIMARY KEY (run_key, row)
) WITHOUT ROWID
"""


class TaskStates:
    """The task calls of the journal (its connection, lock and grouped writes): a row's task outcomes as JSON."""

    _lock: threading.Lock
    _db: sqlite3.Connection

    def _write(self, statement: Callable[[], T]) -> T:
        raise NotImplementedError

    def record_tasks(self, key: str, row: int, outcomes: str) -> None:
        """A row's task outcomes (JSON), written with the row's other records (before its own outcome)."""
        with self._lock:
            self._write(lambda: self._db.execute("INSERT OR REPLACE INTO task_state VALUES (?, ?, ?)",
                                                 (key, row, outcomes)))

    def task_outcomes(self, key: str, row: int) -> str | None:
        """The task outcomes a run of ``key`` recorded for ``row`` (JSON), or None."""
        with self._lock:
            found = self._db.execute("SELECT outcomes FROM task_state WHERE run_key = ? AND row = ?",
                                     (key, row)).fetchone()
        return None if found is None else str(found[0])

    def forget_tasks(self, key: str) -> None:
        """``--fresh``: drop the task outcomes of ``key``."""
        with self._lock:
            self._write(lambda: self._db.execute("DELETE FROM task_state WHERE run_key = ?", (key,)))
