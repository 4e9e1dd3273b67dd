"""Looking after a state: its check, backups (one after each finished real run, the last 3 kept), an export, and
the run folders a job keeps (``--keep-runs``).

A backup of an SQLite state is a copy of its file once its WAL is checkpointed into it, writers held off while
it is copied, or else SQLite's online backup (consistent while a run writes); of a PostgreSQL state, the same
tables copied into a new SQLite file, so any backup opens the same way (``--state BACKUP``).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from importer.errors import ConfigError
from importer.report.records import Upkeep
from importer.run.stores.state import (
    ADVICE,
    APPLICATION_ID,
    SCHEMA_VERSION,
    SqliteDatabase,
    StateDatabase,
    SyncState,
)

__all__ = ["KEEP_BACKUPS", "StateCheck", "after_run", "backup_state", "check_state", "export_state", "held_backup",
           "prune_runs", "rotate_backup"]

KEEP_BACKUPS = 3
_BATCH = 5000
_COPY = {
    "job": "id, account, name",
    "run": "id, job_id, started_at, finished_at, input, report, counts, exit_code",
    "lead": "job_id, phone, digest, fields, added, confirmed_at, run_id",
    "note": "account, phone, digest, status, run_id, at",
    "imported_file": "job_id, digest, location, imported_at, run_id",
}


@dataclass(frozen=True, slots=True)
class StateCheck:
    """What ``state check`` found: where, the accounts and how many of each thing the state holds."""

    where: str
    accounts: list[str]
    counts: dict[str, int]

    def lines(self) -> list[str]:
        held = ", ".join(f"{n} {name}(s)" for name, n in self.counts.items())
        return [f"state {self.where}: ok (format version {SCHEMA_VERSION}; integrity checked): {held}",
                *(f"  account {account}" for account in self.accounts)]


def check_state(state: SyncState) -> StateCheck:
    """Integrity (SQLite's ``integrity_check``, every page read) and format; ConfigError naming the state if not."""
    if isinstance(state.db, SqliteDatabase):
        found = [row[0] for row in state.db.rows("PRAGMA integrity_check")]
        if found != ["ok"]:
            raise ConfigError(f"{state.where} is damaged ({'; '.join(found[:3])}): {ADVICE}")
    counts = {name: int(state.db.rows(f"SELECT count(*) FROM {name}")[0][0]) for name in ("job", "run", "lead", "note")}
    return StateCheck(state.where, state.accounts(), counts)


def backup_state(state: SyncState, dest: Path) -> Path:
    """A consistent copy of ``state`` at ``dest`` (a file; a folder gets a dated file inside), replacing nothing."""
    if dest.is_dir():
        dest = dest / f"state-{_stamp()}.sqlite"
    if dest.exists():
        raise ConfigError(f"{dest} exists already: a backup never replaces a file")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        if not (isinstance(state.db, SqliteDatabase) and _copy_settled_file(state.db, partial)):
            target = sqlite3.connect(partial)
            try:
                if isinstance(state.db, SqliteDatabase):
                    state.db.connection.backup(target)
                else:
                    _copy_tables(state.db, target)
            finally:
                target.close()
        partial.replace(dest)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise ConfigError(f"cannot back up {state.where} to {dest}: {exc}") from None
    return dest


def _copy_settled_file(db: SqliteDatabase, dest: Path) -> bool:
    """Copy the state's file as it is, when that file alone holds the whole state: its WAL checkpointed into it
    and emptied, then no other connection allowed to write (``BEGIN IMMEDIATE``) while it is copied. False, with
    nothing copied, when the WAL could not be emptied at once (another connection reading an older snapshot, a
    transaction open here): SQLite's online backup then copies it page by page. After each finished run the
    state is backed up: the 1,000,000 leads (471 MB) of ``benchmarks/bench_sync.py --first-night built`` took
    0.27-0.51 s this way (0.15-0.38 s of CPU) against 0.98-1.60 s page by page (0.65-0.70 s of CPU), four pairs
    back to back."""
    connection = db.connection
    if connection.in_transaction:
        return False
    waits = connection.execute("PRAGMA busy_timeout").fetchone()[0]
    connection.execute("PRAGMA busy_timeout = 0")  # a reader of an older snapshot: no wait, the other way
    try:
        busy = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    finally:
        connection.execute(f"PRAGMA busy_timeout = {int(waits)}")
    if busy:
        return False
    connection.execute("BEGIN IMMEDIATE")
    try:
        wal = Path(f"{db.path}-wal")
        if wal.exists() and wal.stat().st_size > 0:  # written between the checkpoint and the lock
            return False
        shutil.copyfile(db.path, dest)
        return True
    finally:
        connection.execute("ROLLBACK")


def _copy_tables(source: StateDatabase, target: sqlite3.Connection) -> None:
    """A PostgreSQL state's tables into an empty SQLite file with the state's own schema."""
    from importer.run.stores.state import _SCHEMA, ALWAYS

    target.executescript(_SCHEMA + ALWAYS)
    for table, columns in _COPY.items():
        rows = source.rows(f"SELECT {columns} FROM {table}")
        marks = ", ".join("?" * len(columns.split(",")))
        target.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                           [tuple(bytes(value) if isinstance(value, memoryview) else value for value in row)
                            for row in rows])
    target.commit()
    assert target.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def rotate_backup(state: SyncState, keep: int = KEEP_BACKUPS, run: int | None = None) -> Path | None:
    """After a finished real run (``run``: its id): a backup beside the state file (``<name>.backups/``), the last
    ``keep`` kept. A PostgreSQL state is the database's to back up: None.

    The oldest backups go first, so the disk never holds more than ``keep`` of them, even while the new one is
    written, and the new copy takes the memory the removed one held: writing the pages of a 471 MB state after the
    oldest copy was removed took 0.13-0.18 s, against 0.46-1.56 s while the system still held that copy's pages
    (``benchmarks/bench_sync.py --first-night built``'s state, copies back to back). A backup that then fails
    leaves the ``keep - 1`` newest."""
    if not isinstance(state.db, SqliteDatabase):
        return None
    made = _backups(state.db)
    for old in made[:max(len(made) - (keep - 1), 0)]:
        old.unlink(missing_ok=True)
    suffix = f"-run{run}" if run is not None else ""
    return backup_state(state, _backup_folder(state.db) / f"{state.db.path.stem}-{_stamp()}{suffix}.sqlite")


def held_backup(state: SyncState, run: int) -> Path | None:
    """After a finished real run that changed nothing in the state but its own line in the history: the newest
    backup, renamed for ``run``, when it was made (or renamed) for the run before it. It then holds every lead,
    note and file as ``run`` left them, and a copy would only repeat it: a nightly sync of an unchanged sheet
    keeps the backups of the last nights that changed something, and does not copy the state (471 MB for
    1,000,000 leads: 0.2-1.5 s of the unchanged rerun of ``benchmarks/bench_sync.py``). Runs take turns under the
    state's lock, so the run before ``run`` is the last one that could have changed the state; a run that stopped
    before its backup, or whose backup failed, leaves no backup made for it, and the next run makes one. None when
    a backup is to be made."""
    if not isinstance(state.db, SqliteDatabase):
        return None
    previous = state.db.rows("SELECT max(id) FROM run WHERE id < ?", (run,))[0][0]
    made = _backups(state.db)
    if previous is None or not made or not made[-1].stem.endswith(f"-run{previous}"):
        return None
    renamed = made[-1].with_name(f"{made[-1].stem.removesuffix(f'-run{previous}')}-run{run}.sqlite")
    try:
        made[-1].replace(renamed)
    except OSError:
        return None
    return renamed


def _backup_folder(db: SqliteDatabase) -> Path:
    return db.path.with_name(f"{db.path.name}.backups")


def _backups(db: SqliteDatabase) -> list[Path]:
    """The backups made after runs, oldest first."""
    return sorted(_backup_folder(db).glob(f"{db.path.stem}-*.sqlite"))


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def export_state(state: SyncState) -> Iterator[str]:
    """The state as JSON Lines: each job, each lead it confirmed (with the values), each note of the ledger (its
    text is not kept: a digest), each run."""
    jobs = {int(job): (account, name) for job, account, name in state.db.rows("SELECT id, account, name FROM job")}
    for _job, (account, name) in sorted(jobs.items()):
        yield _line({"type": "job", "account": account, "name": name})
    for job, started, finished, input_name, report, counts, exit_code in state.db.rows(
            "SELECT job_id, started_at, finished_at, input, report, counts, exit_code FROM run ORDER BY id"):
        account, name = jobs[int(job)]
        yield _line({"type": "run", "account": account, "job": name, "started_at": started, "finished_at": finished,
                     "input": input_name, "report": report, "counts": json.loads(counts or "{}"),
                     "exit_code": exit_code})
    for job, phone, fields, added, confirmed_at in state.db.rows(
            "SELECT job_id, phone, fields, added, confirmed_at FROM lead ORDER BY job_id, phone"):
        account, name = jobs[int(job)]
        yield _line({"type": "lead", "account": account, "job": name, "phone": phone, "fields": json.loads(fields),
                     "added": json.loads(added), "confirmed_at": _iso(confirmed_at)})
    for account, phone, digest, status, at in state.db.rows(
            "SELECT account, phone, digest, status, at FROM note ORDER BY account, phone"):
        yield _line({"type": "note", "account": account, "phone": phone, "sha256": bytes(digest).hex(),
                     "status": status, "at": _iso(at)})
    for job, digest, location, imported_at, run in state.db.rows(
            "SELECT job_id, digest, location, imported_at, run_id FROM imported_file ORDER BY job_id, imported_at"):
        account, name = jobs[int(job)]
        yield _line({"type": "imported_file", "account": account, "job": name, "sha256": digest,
                     "location": location, "imported_at": imported_at, "run": run})


def _line(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def _iso(at: float) -> str:
    return datetime.fromtimestamp(float(at), UTC).isoformat(timespec="seconds")


def prune_runs(state: SyncState, job: int, keep: int, open_folders: set[str]) -> list[Path]:
    """Remove the run folders of ``job`` beyond its ``keep`` newest finished runs; never a folder of a run that did
    not finish (exit 3, or still going) or that the journal still needs (``open_folders``), never the state."""
    finished = [Path(report) for (report,) in state.db.rows(
        "SELECT report FROM run WHERE job_id = ? AND exit_code IN (0, 1, 2) ORDER BY id DESC", (job,))]
    needed = {Path(folder).resolve() for folder in open_folders}
    removed = []
    for folder in finished[keep:]:
        if folder.resolve() in needed or not (folder / "summary.json").is_file():
            continue  # still needed, or not a run folder of ours (moved, removed by hand)
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


#: What a finished run's folder keeps only for ``--keep-payloads`` days: the exact requests and the before-images.
PAYLOAD_FILES = ("payloads.jsonl", "before.jsonl")


def drop_payloads(state: SyncState, job: int, days: float, current: Path) -> list[Path]:
    """Remove :data:`PAYLOAD_FILES` of the run folders that started more than ``days`` ago: the job's finished runs,
    and any run folder beside ``current`` (the run still writing its report, which keeps its own): dry runs and
    plans too. failures.csv and the rest stay, for re-importing and reading."""
    cutoff = datetime.now(UTC).timestamp() - days * 86400
    folders = {Path(report) for (report,) in state.db.rows(
        "SELECT report FROM run WHERE job_id = ? AND exit_code IN (0, 1)", (job,))}
    folders.update(path for path in current.parent.iterdir() if path.is_dir())
    removed = []
    for folder in sorted(folders - {current}):
        started = _started(folder)
        if started is None or started >= cutoff:
            continue
        for name in PAYLOAD_FILES:
            found = folder / name
            if found.is_file():
                found.unlink()
                removed.append(found)
    return removed


def _started(folder: Path) -> float | None:
    """When the run of ``folder`` started (its summary.json), or None for a folder that is not a finished run's."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        return datetime.fromisoformat(summary["started_at"]).timestamp()
    except (OSError, ValueError, KeyError, TypeError):
        return None


def after_run(state: SyncState, job: int, folder: Path, keep_runs: int | None, open_folders: set[str],
              keep_payloads: float | None = None, *, run: int | None = None, changed: bool = True) -> Upkeep:
    """What follows a finished real run (``run``: its id; ``changed``: it changed the state beyond its own line in
    the history): the state backed up beside itself (or the newest backup kept for it: :func:`held_backup`), the
    job's older payloads removed (``--keep-payloads``), and with ``--keep-runs`` its oldest run folders. A backup
    that cannot be made is a note in the summary, never a failed run."""
    done = Upkeep()
    if keep_payloads is not None:
        written = state.changes()
        done.payloads_removed = len(drop_payloads(state, job, keep_payloads, folder.resolve()))
        changed = changed or state.changes() != written
    try:
        held = held_backup(state, run) if run is not None and not changed else None
        made = held or rotate_backup(state, run=run)
        if made is not None:
            done.state_backup, done.state_backup_kept = str(made), held is not None
    except ConfigError as exc:
        done.state_backup_failed = str(exc)
    if keep_runs is not None:
        done.runs_removed = [str(folder) for folder in prune_runs(state, job, keep_runs, open_folders)]
    return done
