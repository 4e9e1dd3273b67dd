"""The sync state: one SQLite file that remembers, per target account and job, what each lead was last confirmed
to hold, which notes this tool delivered to which lead, and every run.

- The account is the API's base URL plus the account's ``org_id`` as the list endpoints report it; never the key.
- A job is a name (``--job``, by default the mapping file's stem): one nightly import of one sheet.
- Per lead (customer phone, E.164): the digest of the row last confirmed (a row whose digest is the same is
  ``unchanged`` without looking further), the field values and added names confirmed, when, by which run.
- Notes are per account and lead, whatever the job: a note is ``sending`` from just before its request goes until
  its outcome is known, then ``delivered`` or ``in_doubt``; a refused request forgets it. Any of the three keeps
  the same text from being sent to that lead again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from importer.run.database import open_database
from importer.run.sync import Confirmed

__all__ = ["JobRun", "NoteStatus", "StoredLead", "SyncState", "note_digest"]

SCHEMA_VERSION = 1
#: ``PRAGMA application_id`` of a sync state ("SFIS").
APPLICATION_ID = 0x53464953
NoteStatus = Literal["sending", "delivered", "in_doubt"]

_SCHEMA = f"""
CREATE TABLE job (id INTEGER PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL, UNIQUE (account, name));
CREATE TABLE lead (
    job_id INTEGER NOT NULL REFERENCES job (id),
    phone TEXT NOT NULL,
    digest BLOB NOT NULL,
    fields TEXT NOT NULL,
    added TEXT NOT NULL,
    confirmed_at REAL NOT NULL,
    run_id INTEGER NOT NULL,
    PRIMARY KEY (job_id, phone)
) WITHOUT ROWID;
CREATE TABLE note (
    account TEXT NOT NULL,
    phone TEXT NOT NULL,
    digest BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'delivered', 'in_doubt')),
    run_id INTEGER NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (account, phone, digest)
) WITHOUT ROWID;
CREATE TABLE run (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES job (id),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    input TEXT NOT NULL,
    report TEXT NOT NULL,
    counts TEXT,
    exit_code INTEGER
);
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {SCHEMA_VERSION};
"""
#: What to do about a state that is not usable: never silently started over (it knows which notes were delivered).
ADVICE = ("restore it from a backup, or use another --state (a new state knows no delivered note: "
          "notes could be sent again)")
_LOOKUP_CHUNK = 900  # SQL variables per lookup: well under SQLite's limit


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


class SyncState:
    """The state file (created if missing). Thread-safe: sending workers confirm rows through one connection."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        return open_database(self.path, what="a sync state", application_id=APPLICATION_ID, advice=ADVICE,
                             version=SCHEMA_VERSION,
                             schema=_SCHEMA)

    # --- jobs and runs ------------------------------------------------------------------------------------

    def job(self, account: str, name: str) -> int:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO job (account, name) VALUES (?, ?)", (account, name))
            return int(self._db.execute("SELECT id FROM job WHERE account = ? AND name = ?",
                                        (account, name)).fetchone()[0])

    def start_run(self, job: int, started_at: str, input_name: str, report: str) -> int:
        with self._lock:
            cursor = self._db.execute("INSERT INTO run (job_id, started_at, input, report) VALUES (?, ?, ?, ?)",
                                      (job, started_at, input_name, report))
            return int(cursor.lastrowid or 0)

    def finish_run(self, run: int, finished_at: str, counts: dict[str, Any], exit_code: int) -> None:
        with self._lock:
            self._db.execute("UPDATE run SET finished_at = ?, counts = ?, exit_code = ? WHERE id = ?",
                             (finished_at, json.dumps(counts), exit_code, run))

    def runs(self, job: str | None = None, limit: int | None = None) -> list[JobRun]:
        """Runs, newest first (of every job, or of the job named ``job``)."""
        query = ("SELECT run.id, job.name, job.account, started_at, finished_at, input, report, counts, exit_code "
                 "FROM run JOIN job ON job.id = run.job_id" + (" WHERE job.name = ?" if job else "") +
                 " ORDER BY run.id DESC" + (" LIMIT ?" if limit else ""))
        params: list[Any] = [value for value in (job, limit) if value]
        with self._lock:
            found = self._db.execute(query, params).fetchall()
        return [JobRun(row[0], row[1], row[2], row[3], row[4], row[5], row[6], json.loads(row[7] or "{}"), row[8])
                for row in found]

    def last_finished(self, job: int) -> dict[str, Any] | None:
        """The counts of the job's last run that went to the end (exit code 0 or 1), or None."""
        with self._lock:
            found = self._db.execute("SELECT counts FROM run WHERE job_id = ? AND exit_code IN (0, 1) "
                                     "ORDER BY id DESC LIMIT 1", (job,)).fetchone()
        return json.loads(found[0]) if found else None

    # --- leads --------------------------------------------------------------------------------------------

    def leads(self, job: int, phones: Sequence[str]) -> dict[str, StoredLead]:
        """What the job confirmed for each of ``phones`` it has seen."""
        return {phone: StoredLead(digest, _confirmed(fields, added))
                for phone, digest, fields, added in self._lookup(job, phones, "digest, fields, added")}

    def digests(self, job: int, phones: Sequence[str]) -> dict[str, bytes]:
        """Only the row digests: enough to tell unchanged rows, without decoding their fields."""
        return dict(self._lookup(job, phones, "digest"))

    def _lookup(self, job: int, phones: Sequence[str], columns: str) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = []
        with self._lock:
            for start in range(0, len(phones), _LOOKUP_CHUNK):
                chunk = phones[start:start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                found.extend(self._db.execute(
                    f"SELECT phone, {columns} FROM lead WHERE job_id = ? AND phone IN ({marks})", (job, *chunk)))
        return found

    def confirm(self, job: int, run: int, phone: str, digest: bytes, confirmed: Confirmed) -> None:
        fields = json.dumps(dict(confirmed.fields), ensure_ascii=False, separators=(",", ":"))
        added = json.dumps({name: sorted(names) for name, names in confirmed.added.items()}, ensure_ascii=False)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO lead (job_id, phone, digest, fields, added, confirmed_at, run_id)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?)", (job, phone, digest, fields, added, time.time(), run))

    def phones(self, job: int) -> list[str]:
        """Every lead the job has synced."""
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT phone FROM lead WHERE job_id = ?", (job,))]

    # --- notes --------------------------------------------------------------------------------------------

    def note_status(self, account: str, phone: str, text: str) -> NoteStatus | None:
        with self._lock:
            found = self._db.execute("SELECT status FROM note WHERE account = ? AND phone = ? AND digest = ?",
                                     (account, phone, note_digest(text))).fetchone()
        return found[0] if found else None

    def set_note(self, account: str, phone: str, text: str, status: NoteStatus | None, run: int) -> None:
        """Record a note's status; ``None``: it certainly did not reach the lead (forget it)."""
        key = (account, phone, note_digest(text))
        with self._lock:
            if status is None:
                self._db.execute("DELETE FROM note WHERE account = ? AND phone = ? AND digest = ?", key)
            else:
                self._db.execute("INSERT OR REPLACE INTO note (account, phone, digest, status, run_id, at) "
                                 "VALUES (?, ?, ?, ?, ?, ?)", (*key, status, run, time.time()))

    # --- lifetime -----------------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SyncState:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _confirmed(fields: str, added: str) -> Confirmed:
    return Confirmed(json.loads(fields), {name: frozenset(names) for name, names in json.loads(added).items()})
