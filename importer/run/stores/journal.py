"""The run journal: one SQLite file that remembers, per row, what became of it, so a killed run can resume.

A run is identified by :meth:`Journal.run_key` — a digest of the input's bytes and of the mapping (plus any
other argument that changes what is sent). Rows are keyed by their sheet row number within that key.

Durability: the database runs in WAL mode with ``synchronous=NORMAL`` and every call is its own transaction,
except while a run sends (:func:`~importer.run.stores.grouping.grouped`): then the writes go into one transaction,
committed before any request whose outcome depends on them and at least every 0.1 s. A committed write is in the
WAL file, which survives a crash of the process (``kill -9``); only a crash of the whole machine (power loss) may
lose the last few. Nothing about the API key is stored here.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, TypeVar, get_args

from importer.models import FINAL_STATUSES, FinalStatus
from importer.run.stores.database import open_database
from importer.run.stores.grouping import WriteGroup
from importer.run.stores.images import BEFORE_IMAGE_TABLE, BeforeImages, add_image_columns
from importer.run.stores.task_state import TASK_TABLE, TaskStates

__all__ = ["FINAL_STATUSES", "Journal", "RowState", "RunRecord", "Status", "file_digest"]

#: A row being sent, or what finally became of it (:data:`importer.models.FINAL_STATUSES`: what
#: :meth:`Journal.record` accepts).
Status = Literal["in_flight", FinalStatus]
STATUSES: tuple[str, ...] = ("in_flight", *FINAL_STATUSES)

SCHEMA_VERSION = 1
#: ``PRAGMA application_id`` of a journal ("SFIJ"), so a foreign SQLite file is recognised as such.
APPLICATION_ID = 0x5346494A
_CHUNK = 1024 * 1024
T = TypeVar("T")
#: What to do about a journal that is not usable: it is never silently started over (that could send notes again).
ADVICE = ("move it away to start a new journal (the sync state still keeps notes from being sent "
          "twice), or use another --report-dir")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS run_key (
    id INTEGER PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS row_state (
    key_id INTEGER NOT NULL REFERENCES run_key (id),
    row INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ({", ".join(repr(s) for s in STATUSES)})),
    message TEXT NOT NULL DEFAULT '',
    has_note INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL,
    PRIMARY KEY (key_id, row)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run (
    key_id INTEGER NOT NULL REFERENCES run_key (id),
    run_dir TEXT NOT NULL,
    started_at TEXT NOT NULL,
    PRIMARY KEY (key_id, run_dir)
) WITHOUT ROWID;
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {SCHEMA_VERSION};
"""

#: The report folders of every key whose newest run has no end.
_UNFINISHED = ("SELECT run_dir FROM run WHERE key_id IN (SELECT last.key_id FROM run AS last WHERE last.started_at = "
               "(SELECT max(started_at) FROM run WHERE key_id = last.key_id) AND NOT EXISTS (SELECT 1 FROM run_end "
               "WHERE run_end.key_id = last.key_id AND run_end.run_dir = last.run_dir))")
_RUN_END = """
CREATE TABLE IF NOT EXISTS run_end (
    key_id INTEGER NOT NULL REFERENCES run_key (id),
    run_dir TEXT NOT NULL,
    PRIMARY KEY (key_id, run_dir)
) WITHOUT ROWID;
"""
# has_note is sticky: once a request carrying the row's note may have been sent, a later attempt without the
# note must not make a resumed run forget it (a note must never reach a lead twice).
_MARK_IN_FLIGHT = """
INSERT INTO row_state (key_id, row, status, message, has_note, updated_at)
VALUES (?, ?, 'in_flight', '', ?, ?)
ON CONFLICT (key_id, row) DO UPDATE SET
    status = 'in_flight', message = '', has_note = has_note OR excluded.has_note,
    updated_at = excluded.updated_at
"""
_RECORD = """
INSERT INTO row_state (key_id, row, status, message, has_note, updated_at) VALUES (?, ?, ?, ?, 0, ?)
ON CONFLICT (key_id, row) DO UPDATE SET
    status = excluded.status, message = excluded.message, updated_at = excluded.updated_at
"""
_PAGE_OF_STATES = """
SELECT row, status, message, has_note, updated_at FROM row_state
WHERE key_id = ? AND row > ? ORDER BY row LIMIT ?
"""


@dataclass(frozen=True, slots=True)
class RowState:
    """What the journal knows about one row.

    ``has_note`` is true when a request carrying the row's ``customer_note`` may have been sent at some point.
    """

    status: Status
    message: str
    has_note: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One report folder written under a run key."""

    run_dir: Path
    started_at: datetime


def file_digest(path: Path | str) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Journal(BeforeImages, TaskStates):
    """Row outcomes (and before-images, :class:`BeforeImages`) per run key, in an SQLite file (created if missing).

    Safe to share between threads; calls are serialised by an internal lock as well as by the caller.
    """

    def __init__(self, path: Path | str, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._key_ids: dict[str, int] = {}
        self._db = self._connect()
        self._group = WriteGroup(lambda: self._db.execute("BEGIN IMMEDIATE"), lambda: self._db.execute("COMMIT"),
                                 lambda: self._db.execute("ROLLBACK"))

    # --- opening ------------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = open_database(self.path, what="an importer journal", application_id=APPLICATION_ID, advice=ADVICE,
                           version=SCHEMA_VERSION, schema=_SCHEMA, always=_RUN_END + BEFORE_IMAGE_TABLE + TASK_TABLE)
        add_image_columns(db)
        return db

    # --- grouped writes (importer.run.stores.grouping) ----------------------------------------------------

    def group(self, active: bool) -> None:
        """Group the writes into fewer transactions (``active``), or commit them and stop grouping."""
        with self._lock:
            self._group.switch(active)

    def commit(self, older_than: float = 0.0) -> None:
        """Commit the grouped writes (those of a transaction opened ``older_than`` seconds ago or more)."""
        with self._lock:
            self._group.commit(older_than)

    def _write(self, statement: Callable[[], T]) -> T:
        return self._group.write(statement)

    # --- keys ---------------------------------------------------------------------------------------------

    @staticmethod
    def run_key(input_digest: str, mapping_digest: str, *extras: str) -> str:
        """A stable key for "the same command on the same data".

        ``extras`` are further arguments that change what is sent (sheet name, duplicate policy, …).
        """
        text = "\0".join(("superfone-importer/run-key/1", input_digest, mapping_digest, *extras))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _key_id(self, key: str, *, create: bool) -> int | None:
        key_id = self._key_ids.get(key)
        if key_id is not None:
            return key_id
        if create:
            self._db.execute("INSERT OR IGNORE INTO run_key (digest) VALUES (?)", (key,))
        found = self._db.execute("SELECT id FROM run_key WHERE digest = ?", (key,)).fetchone()
        if found is None:
            return None
        self._key_ids[key] = found[0]
        return int(found[0])

    # --- rows ---------------------------------------------------------------------------------------------

    def mark_in_flight(self, key: str, row: int, has_note: bool) -> None:
        """Note, before the first request of a row, that it is being sent (and whether it carries a note)."""
        with self._lock:
            key_id = self._key_id(key, create=True)
            self._write(lambda: self._db.execute(_MARK_IN_FLIGHT, (key_id, row, int(has_note),
                                                                   self._clock().timestamp())))

    def record(self, key: str, row: int, status: Status, message: str = "") -> None:
        """Record the final outcome of a row: ``succeeded``, ``failed`` or ``in_doubt``."""
        if status not in FINAL_STATUSES:
            expected = ", ".join(FINAL_STATUSES)
            raise ValueError(f"not a final row status: {status!r} (expected one of {expected})")
        with self._lock:
            key_id = self._key_id(key, create=True)
            self._write(lambda: self._db.execute(_RECORD, (key_id, row, status, message,
                                                           self._clock().timestamp())))

    def restore(self, key: str, row: int, previous: RowState | None) -> None:
        """Put a row back as it was before this run marked it in flight (``previous``: None when the journal did
        not know it): nothing of it was sent, so it must not look sent to the next run."""
        with self._lock:
            key_id = self._key_id(key, create=True)
            if previous is None:
                self._write(lambda: self._db.execute("DELETE FROM row_state WHERE key_id = ? AND row = ?",
                                                     (key_id, row)))
                return
            self._write(lambda: self._db.execute(
                "UPDATE row_state SET status = ?, message = ?, has_note = ?, updated_at = ? "
                "WHERE key_id = ? AND row = ?",
                (previous.status, previous.message, int(previous.has_note), previous.updated_at.timestamp(),
                 key_id, row)))

    def states(self, key: str) -> dict[int, RowState]:
        """Every row the journal knows under ``key``: row number → :class:`RowState`.

        About 200 bytes per row; for very large inputs :meth:`iter_states` streams the same in row order.
        """
        return dict(self.iter_states(key))

    def iter_states(self, key: str, *, page_size: int = 10_000) -> Iterator[tuple[int, RowState]]:
        """``(row, RowState)`` pairs under ``key`` in row order, read a page at a time."""
        statuses: dict[str, Status] = {s: s for s in get_args(Status)}  # one str object per status
        after = -1
        while True:
            with self._lock:
                key_id = self._key_id(key, create=False)
                if key_id is None:
                    return
                page = self._db.execute(_PAGE_OF_STATES, (key_id, after, page_size)).fetchall()
            for row, status, message, has_note, stamp in page:
                yield (
                    row,
                    RowState(statuses[status], message, bool(has_note), datetime.fromtimestamp(stamp, UTC)),
                )
            if len(page) < page_size:
                return
            after = page[-1][0]

    def forget(self, key: str) -> None:
        """Drop everything recorded under ``key`` (``--fresh``)."""
        with self._lock:
            key_id = self._key_id(key, create=False)
            if key_id is None:
                return
            self._group.commit()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM row_state WHERE key_id = ?", (key_id,))
                self._db.execute("DELETE FROM before_image WHERE key_id = ?", (key_id,))
                self._db.execute("DELETE FROM run WHERE key_id = ?", (key_id,))
                self._db.execute("DELETE FROM run_key WHERE id = ?", (key_id,))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            del self._key_ids[key]

    # --- runs ---------------------------------------------------------------------------------------------

    def record_run(self, key: str, run_dir: Path | str, started_at: datetime | str) -> None:
        """Remember that the report folder ``run_dir`` belongs to ``key`` (start time: datetime or ISO)."""
        if isinstance(started_at, str):
            started_at = datetime.fromisoformat(started_at)
        with self._lock:
            self._group.commit()
            key_id = self._key_id(key, create=True)
            self._db.execute(
                "INSERT OR REPLACE INTO run (key_id, run_dir, started_at) VALUES (?, ?, ?)",
                (key_id, str(run_dir), _aware(started_at).isoformat()),
            )

    def record_end(self, key: str, run_dir: Path | str) -> None:
        """The run writing ``run_dir`` went to the end: the next run of the same key starts afresh."""
        with self._lock:
            self._group.commit()
            key_id = self._key_id(key, create=True)
            self._db.execute("INSERT OR IGNORE INTO run_end (key_id, run_dir) VALUES (?, ?)", (key_id, str(run_dir)))

    def interrupted(self, key: str) -> bool:
        """True when the last run under ``key`` did not go to the end (killed, stopped): it is to be resumed."""
        runs = self.runs(key)
        if not runs:
            return False
        with self._lock:
            key_id = self._key_id(key, create=False)
            ended = self._db.execute("SELECT 1 FROM run_end WHERE key_id = ? AND run_dir = ?",
                                     (key_id, str(runs[-1].run_dir))).fetchone()
        return ended is None

    def unfinished_folders(self) -> set[str]:
        """Every report folder of a key whose last run did not go to the end: a resume may still need them."""
        with self._lock:
            found = self._db.execute(_UNFINISHED).fetchall()
        return {row[0] for row in found}

    def runs(self, key: str) -> list[RunRecord]:
        """The report folders written under ``key``, oldest first."""
        with self._lock:
            key_id = self._key_id(key, create=False)
            if key_id is None:
                return []
            found = self._db.execute("SELECT run_dir, started_at FROM run WHERE key_id = ?", (key_id,))
            records = [RunRecord(Path(folder), datetime.fromisoformat(started)) for folder, started in found]
        return sorted(records, key=lambda record: (record.started_at, str(record.run_dir)))

    # --- lifetime -----------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database (idempotent; grouped writes are committed)."""
        with self._lock:
            try:
                self._group.commit()
            finally:
                self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"


def _aware(moment: datetime) -> datetime:
    """``moment`` with a time zone (a naive time is taken as local time)."""
    return moment if moment.tzinfo is not None else moment.astimezone()
