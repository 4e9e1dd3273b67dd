"""The sync state: what each lead was last confirmed to hold, per target account and job, which notes this tool
delivered to which lead, and every run. One SQLite file per account by default (:mod:`.home` says where), or the
same tables in PostgreSQL (:mod:`.postgres`) for a team's machines.

- The account is the API's base URL plus the account's ``org_id`` as the list endpoints report it; never the key.
- A job is a name (``--job``, by default the mapping file's stem): one nightly import of one sheet.
- Per lead (customer phone, E.164): the digest of the row last confirmed (a row whose digest is the same is
  ``unchanged`` without looking further), the field values and added names confirmed, when, by which run.
- Notes are per account and lead, whatever the job: a note is ``sending`` from just before its request goes until
  its outcome is known, then ``delivered`` or ``in_doubt``; a refused request forgets it. Any of the three keeps
  the same text from being sent to that lead again.

The SQL is written once, for both databases (``?`` placeholders, ``ON CONFLICT`` upserts, ``RETURNING``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol

from importer.run.rules.sync import Confirmed
from importer.run.stores.database import open_database
from importer.run.stores.grouping import WriteGroup
from importer.run.stores.home import StateLocation
from importer.run.stores.lock import RunLock
from importer.run.stores.schema import SQLITE_IMPORTED, SQLITE_MERGED, SQLITE_TABLES

__all__ = ["ImportedFile", "JobRun", "NoteStatus", "SqliteDatabase", "StateDatabase", "StoredLead", "SyncState",
           "note_digest"]

SCHEMA_VERSION = 1
#: ``PRAGMA application_id`` of a sync state ("SFIS").
APPLICATION_ID = 0x53464953
NoteStatus = Literal["sending", "delivered", "in_doubt"]
#: What the file is made of: the tables (importer.run.stores.schema) and its marks.
_SCHEMA = f"""{SQLITE_TABLES}
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {SCHEMA_VERSION};
"""
MERGED_TABLE = SQLITE_MERGED
#: What every open runs: idempotent statements that bring a state of an earlier version up to date.
ALWAYS = SQLITE_MERGED + SQLITE_IMPORTED
#: What to do about a state that is not usable: never silently started over (it knows which notes were delivered).
ADVICE = ("restore it from a backup (superfone-import state backup), or use another --state (a new state knows no "
          "delivered note: notes could be sent again)")
_LOOKUP_CHUNK = 900  # SQL variables per lookup: well under SQLite's limit


class StateDatabase(Protocol):
    """One connection to a state's database. SQL uses ``?`` placeholders; every statement is its own transaction
    unless inside :meth:`transaction`."""

    where: str

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def transaction(self) -> AbstractContextManager[None]: ...

    def begin(self) -> None:
        """Open a transaction that later calls join, until :meth:`commit` or :meth:`rollback`."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def run_lock(self, account: str) -> AbstractContextManager[object]:
        """One run at a time: held for the whole run; a second holder gets RunLocked at once."""
        ...

    def close(self) -> None: ...


class SqliteDatabase:
    """A state in one SQLite file (WAL; see :mod:`importer.run.stores.database`); its run lock is a file lock
    beside it, for the whole file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self._db = open_database(path, what="a sync state", application_id=APPLICATION_ID, advice=ADVICE,
                                 version=SCHEMA_VERSION, schema=_SCHEMA, always=ALWAYS)

    @property
    def connection(self) -> sqlite3.Connection:
        return self._db

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._db.execute(sql, params).fetchall()

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def begin(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self._db.execute("COMMIT")

    def rollback(self) -> None:
        self._db.execute("ROLLBACK")

    def run_lock(self, account: str) -> AbstractContextManager[object]:
        return RunLock(self.path)

    def close(self) -> None:
        self._db.close()


def open_state_database(location: StateLocation) -> StateDatabase:
    if location.url is not None:
        from importer.run.stores.postgres import PostgresDatabase

        return PostgresDatabase(location.url)
    assert location.path is not None
    return SqliteDatabase(location.path)


def note_digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class StoredLead:
    """What a job confirmed for one lead."""

    digest: bytes
    confirmed: Confirmed


@dataclass(frozen=True, slots=True)
class JobRun:
    """One run of a job, as ``history`` shows it."""

    id: int
    job: str
    account: str
    started_at: str
    finished_at: str | None
    input: str
    report: str
    counts: dict[str, Any]
    exit_code: int | None


@dataclass(frozen=True, slots=True)
class ImportedFile:
    """A file a job imported (from a glob or folder): its content's SHA-256 (hex), where it was, when, which run."""

    account: str
    job: str
    digest: str
    location: str
    imported_at: str
    run_id: int


class SyncState:
    """A sync state (created if missing): ``SyncState(path)``, ``SyncState(location)`` or over an open
    :class:`StateDatabase`. Thread-safe: sending workers confirm rows through one connection."""

    def __init__(self, where: Path | str | StateLocation | StateDatabase) -> None:
        if isinstance(where, (str, Path)):
            where = StateLocation(path=Path(where))
        self._lock = threading.Lock()
        self.db: StateDatabase = open_state_database(where) if isinstance(where, StateLocation) else where
        self.where = self.db.where
        self._group = WriteGroup(self.db.begin, self.db.commit, self.db.rollback)

    def group(self, active: bool) -> None:
        """Group the confirmations and notes into fewer transactions (:mod:`importer.run.stores.grouping`), or
        commit them and stop grouping."""
        with self._lock:
            self._group.switch(active)

    def commit(self, older_than: float = 0.0) -> None:
        """Commit the grouped writes (those of a transaction opened ``older_than`` seconds ago or more)."""
        with self._lock:
            self._group.commit(older_than)

    def _write(self, sql: str, params: Sequence[Any]) -> None:
        with self._lock:
            self._group.write(lambda: self.db.rows(sql, params))

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self.db.rows(sql, params)

    def run_lock(self, account: str) -> AbstractContextManager[object]:
        return self.db.run_lock(account)

    # --- jobs and runs ------------------------------------------------------------------------------------

    def job(self, account: str, name: str) -> int:
        with self._lock:
            self.db.rows("INSERT INTO job (account, name) VALUES (?, ?) ON CONFLICT (account, name) DO NOTHING",
                         (account, name))
            return int(self.db.rows("SELECT id FROM job WHERE account = ? AND name = ?", (account, name))[0][0])

    def accounts(self) -> list[str]:
        return [row[0] for row in self._rows("SELECT DISTINCT account FROM job ORDER BY account")]

    def changes(self) -> int | None:
        """Rows written through this state's connection so far (None for a PostgreSQL state): equal counts before
        and after some work, nothing written by it."""
        return self.db.connection.total_changes if isinstance(self.db, SqliteDatabase) else None

    def start_run(self, job: int, started_at: str, input_name: str, report: str) -> int:
        return int(self._rows("INSERT INTO run (job_id, started_at, input, report) VALUES (?, ?, ?, ?) RETURNING id",
                              (job, started_at, input_name, report))[0][0])

    def finish_run(self, run: int, finished_at: str, counts: dict[str, Any], exit_code: int) -> None:
        self._rows("UPDATE run SET finished_at = ?, counts = ?, exit_code = ? WHERE id = ?",
                   (finished_at, json.dumps(counts), exit_code, run))

    def runs(self, job: str | None = None, limit: int | None = None, account: str | None = None) -> list[JobRun]:
        """Runs, newest first (of every job, or of the job named ``job``; of every account, or of ``account``)."""
        where = [clause for clause, value in (("job.name = ?", job), ("job.account = ?", account)) if value]
        query = ("SELECT run.id, job.name, job.account, started_at, finished_at, input, report, counts, exit_code "
                 "FROM run JOIN job ON job.id = run.job_id" + (" WHERE " + " AND ".join(where) if where else "") +
                 " ORDER BY started_at DESC, run.id DESC" + (" LIMIT ?" if limit else ""))
        params: list[Any] = [value for value in (job, account, limit) if value]
        return [JobRun(row[0], row[1], row[2], row[3], row[4], row[5], row[6], json.loads(row[7] or "{}"), row[8])
                for row in self._rows(query, params)]

    def last_finished(self, job: int) -> dict[str, Any] | None:
        """The counts of the job's last run that went to the end (exit code 0 or 1), or None."""
        found = self._rows("SELECT counts FROM run WHERE job_id = ? AND exit_code IN (0, 1) "
                           "ORDER BY started_at DESC, id DESC LIMIT 1", (job,))
        return json.loads(found[0][0]) if found else None

    # --- leads --------------------------------------------------------------------------------------------

    def leads(self, job: int, phones: Sequence[str]) -> dict[str, StoredLead]:
        """What the job confirmed for each of ``phones`` it has seen."""
        return {phone: StoredLead(bytes(digest), _confirmed(fields, added))
                for phone, digest, fields, added in self._lookup(job, phones, "digest, fields, added")}

    def digests(self, job: int, phones: Sequence[str]) -> dict[str, bytes]:
        """Only the row digests: enough to tell unchanged rows, without decoding their fields."""
        return {phone: bytes(digest) for phone, digest in self._lookup(job, phones, "digest")}

    def _lookup(self, job: int, phones: Sequence[str], columns: str) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = []
        with self._lock:
            for start in range(0, len(phones), _LOOKUP_CHUNK):
                chunk = phones[start:start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                found.extend(self.db.rows(
                    f"SELECT phone, {columns} FROM lead WHERE job_id = ? AND phone IN ({marks})", (job, *chunk)))
        return found

    def confirm(self, job: int, run: int, phone: str, digest: bytes, confirmed: Confirmed) -> None:
        fields = json.dumps(dict(confirmed.fields), ensure_ascii=False, separators=(",", ":"))
        added = json.dumps({name: sorted(names) for name, names in confirmed.added.items()}, ensure_ascii=False)
        self._write(_UPSERT_LEAD, (job, phone, digest, fields, added, time.time(), run))

    def phones(self, job: int) -> list[str]:
        """Every lead the job has synced."""
        return [row[0] for row in self._rows("SELECT phone FROM lead WHERE job_id = ?", (job,))]

    # --- notes --------------------------------------------------------------------------------------------

    def note_status(self, account: str, phone: str, text: str) -> NoteStatus | None:
        found = self._rows("SELECT status FROM note WHERE account = ? AND phone = ? AND digest = ?",
                           (account, phone, note_digest(text)))
        return found[0][0] if found else None

    def set_note(self, account: str, phone: str, text: str, status: NoteStatus | None, run: int) -> None:
        """Record a note's status; ``None``: it certainly did not reach the lead (forget it)."""
        key = (account, phone, note_digest(text))
        if status is None:
            self._write("DELETE FROM note WHERE account = ? AND phone = ? AND digest = ?", key)
        else:
            self._write(_UPSERT_NOTE, (*key, status, run, time.time()))

    # --- files a job imported ------------------------------------------------------------------------------

    def remember_file(self, job: int, digest: str, location: str, imported_at: str, run: int) -> None:
        """The job imported the file whose content has ``digest`` (its run ``run`` finished)."""
        self._rows(_UPSERT_FILE, (job, digest, location, imported_at, run))

    def imported_files(self, job: str, base_url: str) -> list[ImportedFile]:
        """The files the job named ``job`` imported into any account at ``base_url``, newest first."""
        prefix = base_url.rstrip("/") + "#org="
        found = self._rows(
            "SELECT job.account, job.name, f.digest, f.location, f.imported_at, f.run_id FROM imported_file f "
            "JOIN job ON job.id = f.job_id WHERE job.name = ? AND substr(job.account, 1, ?) = ? "
            "ORDER BY f.imported_at DESC, f.run_id DESC", (job, len(prefix), prefix))
        return [ImportedFile(row[0], row[1], row[2], row[3], row[4], int(row[5])) for row in found]

    # --- lifetime -----------------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            try:
                self._group.commit()
            finally:
                self.db.close()

    def __enter__(self) -> SyncState:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


_UPSERT_LEAD = ("INSERT INTO lead (job_id, phone, digest, fields, added, confirmed_at, run_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, phone) DO UPDATE SET digest = excluded.digest, "
                "fields = excluded.fields, added = excluded.added, confirmed_at = excluded.confirmed_at, "
                "run_id = excluded.run_id")
_UPSERT_FILE = ("INSERT INTO imported_file (job_id, digest, location, imported_at, run_id) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (job_id, digest) DO UPDATE SET location = excluded.location, "
                "imported_at = excluded.imported_at, run_id = excluded.run_id")
_UPSERT_NOTE = ("INSERT INTO note (account, phone, digest, status, run_id, at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (account, phone, digest) DO UPDATE SET status = excluded.status, "
                "run_id = excluded.run_id, at = excluded.at")


def _confirmed(fields: str, added: str) -> Confirmed:
    return Confirmed(json.loads(fields), {name: frozenset(names) for name, names in json.loads(added).items()})
