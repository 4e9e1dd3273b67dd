"""A state an earlier version kept in the report folder: merged once, losing nothing either side knows."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.errors import ConfigError
from importer.run.rules.sync import confirmed_after
from importer.run.stores.account import AccountState
from importer.run.stores.home import StateLocation
from importer.run.stores.merge import merge_state
from importer.run.stores.state import SyncState

ACCOUNT = "http://127.0.0.1:1/superfone#org=7"
OTHER = "http://127.0.0.1:1/superfone#org=8"


def confirmed(city: str) -> object:
    return confirmed_after(None, {"customer_phone": "+919845012345", "city": city})


def old_state(path: Path) -> None:
    with SyncState(path) as state:
        job = state.job(ACCOUNT, "nightly")
        run = state.start_run(job, "2026-11-01T01:00:00", "leads.csv", "reports/20261101-010000-leads")
        state.finish_run(run, "2026-11-01T01:01:00", {"rows_total": 2}, 0)
        for phone in ("+919845012345", "+919845012346"):
            state.confirm(job, run, phone, b"old", confirmed("Pune"))  # type: ignore[arg-type]
            state.set_note(ACCOUNT, phone, "called", "delivered", run)
        state.set_note(OTHER, "+919845012345", "another account's", "delivered", run)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_merged_once_and_never_losing_a_newer_confirmation(backend: str, tmp_path: Path,
                                                          request: pytest.FixtureRequest) -> None:
    old = tmp_path / "reports" / "state.sqlite"
    old_state(old)
    target = (StateLocation(path=tmp_path / "home.sqlite") if backend == "sqlite"
              else StateLocation(url=request.getfixturevalue("postgres_state")))
    with SyncState(target) as state:
        job = state.job(ACCOUNT, "nightly")
        newer = state.start_run(job, "2026-12-01T01:00:00", "leads.csv", "elsewhere")
        state.confirm(job, newer, "+919845012346", b"new", confirmed("Agra"))  # type: ignore[arg-type]
        merged = merge_state(state, old, ACCOUNT)
        assert merged is not None and (merged.jobs, merged.leads, merged.notes, merged.runs) == (1, 2, 2, 1)
        assert merged.line() == (f"state: merged {old.resolve()} (kept by an earlier version) into {state.where}: "
                                 "1 job(s), 2 lead(s), 2 note(s), 1 run(s)")
        stored = state.leads(job, ["+919845012345", "+919845012346"])
        assert {phone: lead.digest for phone, lead in stored.items()} == {"+919845012345": b"old",
                                                                         "+919845012346": b"new"}
        assert state.note_status(ACCOUNT, "+919845012346", "called") == "delivered"
        assert state.note_status(OTHER, "+919845012345", "another account's") is None  # not this account's
        assert [run.report for run in state.runs("nightly")] == ["elsewhere", "reports/20261101-010000-leads"]
        assert merge_state(state, old, ACCOUNT) is None  # once
        with SyncState(old) as written:  # an older importer wrote to it since: merged again, nothing doubled
            written.set_note(ACCOUNT, "+919845012399", "later", "delivered", 1)
        again = merge_state(state, old, ACCOUNT)
        assert again is not None and again.runs == 0 and len(state.runs("nightly")) == 2
        assert state.note_status(ACCOUNT, "+919845012399", "later") == "delivered"


def test_a_run_opens_its_accounts_state_with_the_old_one_merged(tmp_path: Path, state_home: Path) -> None:
    reports = tmp_path / "reports"
    old_state(reports / "state.sqlite")
    with AccountState(None, ACCOUNT, reports) as opened:
        assert Path(opened.state.where).parent == state_home / "states"
        assert len(opened.merged) == 1 and opened.merged[0].startswith("state: merged ")
        assert opened.state.note_status(ACCOUNT, "+919845012345", "called") == "delivered"
    with AccountState(None, ACCOUNT, reports) as opened:
        assert opened.merged == []
    with AccountState(None, "http://127.0.0.1:1/superfone#org=99", reports) as opened:
        assert opened.merged == []  # nothing of that account in the old file: nothing to say


def test_a_damaged_old_state_is_named_never_ignored(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "state.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x01" * 2000)
    with pytest.raises(ConfigError, match=r"reports[/\\]state\.sqlite"):
        AccountState(tmp_path / "home.sqlite", ACCOUNT, reports).open()
