"""The sync state, in an SQLite file and in PostgreSQL alike: leads per account and job, notes per account and
lead, runs for history."""

from __future__ import annotations

import multiprocessing
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from importer.checks.spill import row_digest
from importer.errors import ConfigError
from importer.run.rules.sync import confirmed_after
from importer.run.stores.home import StateLocation
from importer.run.stores.state import SyncState

ACCOUNT = "http://127.0.0.1:1/superfone#org-7"
PHONE = "+919845012345"


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Path | StateLocation:
    if request.param == "sqlite":
        return tmp_path / "state.sqlite"
    return StateLocation(url=request.getfixturevalue("postgres_state"))


def test_leads_are_kept_per_job_and_read_back(where: Path | StateLocation) -> None:
    with SyncState(where) as state:
        nightly, other = state.job(ACCOUNT, "nightly"), state.job(ACCOUNT, "other")
        assert state.job(ACCOUNT, "nightly") == nightly != other
        run = state.start_run(nightly, "2026-11-30T01:00:00+00:00", "leads.csv", "reports/x")
        confirmed = confirmed_after(None, {"customer_phone": PHONE, "city": "Pune", "add_labels": ["Hot"]})
        state.confirm(nightly, run, PHONE, row_digest([b"{}"]), confirmed)
        stored = state.leads(nightly, [PHONE, "+910000000000"])
        assert list(stored) == [PHONE] and stored[PHONE].confirmed == confirmed
        assert state.digests(nightly, [PHONE]) == {PHONE: row_digest([b"{}"])}
        assert state.leads(other, [PHONE]) == {} and state.phones(nightly) == [PHONE]


def test_many_phones_are_looked_up_in_chunks(where: Path | StateLocation) -> None:
    with SyncState(where) as state:
        job = state.job(ACCOUNT, "nightly")
        phones = [f"+9198{i:08d}" for i in range(2500)]
        for phone in phones:
            state.confirm(job, 1, phone, b"d", confirmed_after(None, {"customer_phone": phone}))
        assert len(state.digests(job, phones)) == 2500


def test_notes_are_per_account_and_lead_whatever_the_job(where: Path | StateLocation) -> None:
    with SyncState(where) as state:
        assert state.note_status(ACCOUNT, PHONE, "hello") is None
        state.set_note(ACCOUNT, PHONE, "hello", "sending", 1)
        assert state.note_status(ACCOUNT, PHONE, "hello") == "sending"
        state.set_note(ACCOUNT, PHONE, "hello", "delivered", 1)
        assert state.note_status(ACCOUNT, PHONE, "hello") == "delivered"
        assert state.note_status(ACCOUNT, PHONE, "hello!") is None
        assert state.note_status("another account", PHONE, "hello") is None
        state.set_note(ACCOUNT, "+911111111111", "x", "sending", 1)
        state.set_note(ACCOUNT, "+911111111111", "x", None, 1)  # refused: it never reached the lead
        assert state.note_status(ACCOUNT, "+911111111111", "x") is None


def test_runs_are_history(where: Path | StateLocation) -> None:
    with SyncState(where) as state:
        job = state.job(ACCOUNT, "nightly")
        first = state.start_run(job, "t1", "a.csv", "r1")
        state.finish_run(first, "t2", {"rows_total": 10, "invalid": 1}, 1)
        second = state.start_run(job, "t3", "b.csv", "r2")  # still running (or killed)
        assert state.last_finished(job) == {"rows_total": 10, "invalid": 1}
        runs = state.runs("nightly")
        assert [run.id for run in runs] == [second, first] and runs[1].exit_code == 1 and runs[0].finished_at is None
        assert [run.id for run in state.runs(limit=1)] == [second] and state.runs("other") == []


def test_the_files_a_job_imported_per_account(where: Path | StateLocation) -> None:
    base = "http://127.0.0.1:1/superfone"
    with SyncState(where) as state:
        nightly = state.job(f"{base}#org=7", "nightly")
        elsewhere = state.job("http://127.0.0.1:2/superfone#org=7", "nightly")
        state.remember_file(nightly, "aa", "exports/leads-1.csv", "2026-12-01T01:30:00+05:30", 1)
        state.remember_file(nightly, "bb", "exports/leads-2.csv", "2026-12-02T01:30:00+05:30", 2)
        state.remember_file(nightly, "aa", "exports/leads-1b.csv", "2026-12-03T01:30:00+05:30", 3)  # same content
        state.remember_file(elsewhere, "cc", "exports/x.csv", "2026-12-04T01:30:00+05:30", 4)
        found = state.imported_files("nightly", base + "/")
        assert [(item.digest, item.location, item.run_id) for item in found] == [
            ("aa", "exports/leads-1b.csv", 3), ("bb", "exports/leads-2.csv", 2)]
        assert found[0].account == f"{base}#org=7" and state.imported_files("other", base) == []


def test_a_state_of_an_earlier_version_gains_the_imported_files(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    SyncState(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE imported_file")
    with SyncState(path) as state:
        state.remember_file(state.job(ACCOUNT, "nightly"), "aa", "a.csv", "t", 1)


def test_a_foreign_file_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(ConfigError, match="is an SQLite file but not a sync state"):
        SyncState(path)
    text = tmp_path / "text.sqlite"
    text.write_text("not a database at all, but long enough to look like a header........")
    with pytest.raises(ConfigError, match="not usable as a sync state"):
        SyncState(text)


def _open_state(path: str, barrier: Any) -> str:
    barrier.wait()
    try:
        SyncState(Path(path)).close()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ok"


def test_processes_opening_a_new_state_at_once_all_open_it(tmp_path: Path) -> None:
    """Two runs started together create the same new state file: neither is refused while the other switches it
    to WAL (before: 'database is locked, not usable' in 5 of 60 tries of three processes)."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(3, mp_context=context) as pool:
        for attempt in range(40):
            path = tmp_path / f"state-{attempt}.sqlite"
            barrier = manager.Barrier(3)
            results = list(pool.map(_open_state, [str(path)] * 3, [barrier] * 3))
            assert results == ["ok"] * 3
            with SyncState(path) as state:
                assert state.accounts() == []
