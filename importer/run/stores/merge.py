"""A state an earlier version kept elsewhere, merged into the account's state the first time it is seen.

Earlier versions kept the sync state in ``<report-dir>/state.sqlite`` (the page: in its work folder's
``reports``). Such a file knows which notes were delivered: ignoring it would send them again. So the first run of
an account that finds one merges what it holds of that account (jobs, leads and their confirmed values, the notes
ledger, runs) and says so in one line. The file itself is left as it is; ``merged`` remembers it (by size and
modification time), so it is merged again only if an older importer wrote to it since.

Merging never loses what either side knows: a lead keeps the newer of its two confirmations, a note known to
either side stays known, a run already there is not copied twice.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from importer.run.stores.state import SqliteDatabase, StateDatabase, SyncState

__all__ = ["Merged", "merge_state"]

_BATCH = 5000
_LEAD = ("INSERT INTO lead (job_id, phone, digest, fields, added, confirmed_at, run_id) VALUES (?, ?, ?, ?, ?, ?, ?) "
         "ON CONFLICT (job_id, phone) DO UPDATE SET digest = excluded.digest, fields = excluded.fields, "
         "added = excluded.added, confirmed_at = excluded.confirmed_at, run_id = excluded.run_id "
         "WHERE excluded.confirmed_at > lead.confirmed_at")
_NOTE = ("INSERT INTO note (account, phone, digest, status, run_id, at) VALUES (?, ?, ?, ?, ?, ?) "
         "ON CONFLICT (account, phone, digest) DO NOTHING")


@dataclass(frozen=True, slots=True)
class Merged:
    """What one merge copied, and from where."""

    source: Path
    into: str
    jobs: int
    leads: int
    notes: int
    runs: int

    @property
    def anything(self) -> bool:
        return bool(self.jobs or self.notes)

    def line(self) -> str:
        return (f"state: merged {self.source} (kept by an earlier version) into {self.into}: {self.jobs} job(s), "
                f"{self.leads} lead(s), {self.notes} note(s), {self.runs} run(s)")


def _fingerprint(path: Path) -> str:
    found = path.stat()
    return f"{found.st_size}:{found.st_mtime_ns}"


def merge_state(state: SyncState, source: Path, account: str) -> Merged | None:
    """Merge what ``source`` (an SQLite sync state) holds of ``account`` into ``state``; None when it was merged
    already (and not written since) or is the state itself."""
    if not source.is_file() or _same_file(source, state.where):
        return None
    source = source.resolve()
    fingerprint = _fingerprint(source)
    known = state.db.rows("SELECT fingerprint FROM merged WHERE source = ? AND account = ?", (str(source), account))
    if known and known[0][0] == fingerprint:
        return None
    old = SqliteDatabase(source)  # a damaged or foreign file: one line naming it, never ignored
    try:
        with state.db.transaction():
            merged = _copy(old, state, account, source)
            state.db.rows("INSERT INTO merged (source, account, fingerprint, at) VALUES (?, ?, ?, ?) "
                          "ON CONFLICT (source, account) DO UPDATE SET fingerprint = excluded.fingerprint, "
                          "at = excluded.at", (str(source), account, fingerprint, time.time()))
    finally:
        old.close()
    return merged


def _copy(old: SqliteDatabase, state: SyncState, account: str, source: Path) -> Merged:
    target = state.db
    jobs = old.rows("SELECT id, name FROM job WHERE account = ?", (account,))
    leads = runs = 0
    for old_job, name in jobs:
        target.rows("INSERT INTO job (account, name) VALUES (?, ?) ON CONFLICT (account, name) DO NOTHING",
                    (account, name))
        job = int(target.rows("SELECT id FROM job WHERE account = ? AND name = ?", (account, name))[0][0])
        run_ids = _copy_runs(old, target, old_job, job)
        runs += sum(1 for new in run_ids.values() if new > 0)
        cursor = old.connection.execute("SELECT phone, digest, fields, added, confirmed_at, run_id FROM lead "
                                        "WHERE job_id = ?", (old_job,))
        while batch := cursor.fetchmany(_BATCH):
            target.many(_LEAD, [(job, phone, bytes(digest), fields, added, at, abs(run_ids.get(run, 0)))
                                for phone, digest, fields, added, at, run in batch])
            leads += len(batch)
    notes = 0
    cursor = old.connection.execute("SELECT phone, digest, status, at FROM note WHERE account = ?", (account,))
    while batch := cursor.fetchmany(_BATCH):
        target.many(_NOTE, [(account, phone, bytes(digest), status, 0, at) for phone, digest, status, at in batch])
        notes += len(batch)
    return Merged(source, state.where, len(jobs), leads, notes, runs)


def _copy_runs(old: SqliteDatabase, target: StateDatabase, old_job: int, job: int) -> dict[int, int]:
    """The job's runs copied (those not there yet): old id → new id (negative: it was there already)."""
    ids: dict[int, int] = {}
    for old_id, started, finished, input_name, report, counts, exit_code in old.rows(
            "SELECT id, started_at, finished_at, input, report, counts, exit_code FROM run WHERE job_id = ? "
            "ORDER BY id", (old_job,)):
        there = target.rows("SELECT id FROM run WHERE job_id = ? AND started_at = ? AND report = ?",
                            (job, started, report))
        if there:
            ids[old_id] = -int(there[0][0])
            continue
        ids[old_id] = int(target.rows(
            "INSERT INTO run (job_id, started_at, finished_at, input, report, counts, exit_code) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (job, started, finished, input_name, report, counts, exit_code))[0][0])
    return ids


def _same_file(one: Path, other: str) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False
