"""Backups of an SQLite state: a copy that opens as a state and holds everything committed, whether the file is
copied as it is or (another connection reading an older snapshot, a transaction open) page by page."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from importer.checks.spill import row_digest
from importer.run.rules.sync import confirmed_after
from importer.run.stores import upkeep
from importer.run.stores.state import SyncState
from importer.run.stores.upkeep import backup_state, check_state, rotate_backup

ACCOUNT = "http://127.0.0.1:1/superfone#org=7"


def confirm(state: SyncState, job: int, run: int, count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        phone = f"+9198450{number:05d}"
        state.confirm(job, run, phone, row_digest([phone.encode()]),
                      confirmed_after(None, {"customer_phone": phone, "city": f"City {number}"}))


def leads(path: Path) -> list[tuple[str, str]]:
    with SyncState(path) as copy:
        assert check_state(copy).counts["lead"] >= 0  # it opens as a state, its integrity checked
        return [(row[0], row[1]) for row in copy.db.rows("SELECT phone, fields FROM lead ORDER BY phone")]


@pytest.fixture
def state(tmp_path: Path) -> SyncState:
    opened = SyncState(tmp_path / "state.sqlite")
    job = opened.job(ACCOUNT, "nightly")
    run = opened.start_run(job, "2026-12-01T01:00:00+00:00", "leads.csv", "reports/x")
    confirm(opened, job, run, 300)  # committed, in the WAL: not yet in the file itself
    yield opened
    opened.close()


def test_a_backup_holds_every_lead_committed_and_is_the_file_copied(state: SyncState, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    paged: list[object] = []
    real_copy = upkeep._copy_settled_file
    monkeypatch.setattr(upkeep, "_copy_settled_file", lambda db, dest: paged.append(dest) or real_copy(db, dest))
    expected = leads(Path(state.where))
    copy = backup_state(state, tmp_path / "copy.sqlite")
    assert len(paged) == 1 and leads(copy) == expected and len(expected) == 300
    state.confirm(state.job(ACCOUNT, "nightly"), 1, "+919845099999", b"x" * 12,
                  confirmed_after(None, {"customer_phone": "+919845099999"}))  # the state still writes afterwards
    assert len(leads(Path(state.where))) == 301


def test_a_reader_of_an_older_snapshot_makes_it_a_page_by_page_copy(state: SyncState, tmp_path: Path) -> None:
    reader = sqlite3.connect(state.where, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM lead").fetchone()[0] == 300  # holds its snapshot
    confirm(state, state.job(ACCOUNT, "nightly"), 1, 50, start=300)
    try:
        assert not upkeep._copy_settled_file(state.db, tmp_path / "not-made.sqlite")  # the WAL cannot be emptied
        assert not (tmp_path / "not-made.sqlite").exists()
        copy = backup_state(state, tmp_path / "copy.sqlite")
    finally:
        reader.close()
    assert len(leads(copy)) == 350


def test_a_transaction_open_here_is_left_alone(state: SyncState, tmp_path: Path) -> None:
    state.group(True)
    confirm(state, state.job(ACCOUNT, "nightly"), 1, 10, start=300)  # grouped: a transaction left open
    assert state.db.connection.in_transaction  # type: ignore[attr-defined]
    assert not upkeep._copy_settled_file(state.db, tmp_path / "not-made.sqlite")  # type: ignore[arg-type]
    assert not (tmp_path / "not-made.sqlite").exists()
    state.group(False)  # its writes are committed as ever
    assert len(leads(Path(state.where))) == 310


def test_rotation_keeps_the_last_three(state: SyncState) -> None:
    made = [rotate_backup(state) for _ in range(5)]
    kept = sorted(Path(f"{state.where}.backups").glob("*.sqlite"))
    assert kept == sorted(path for path in made if path is not None)[-3:]
    assert all(len(leads(path)) == 300 for path in kept)


def test_the_oldest_backup_goes_before_the_new_one_is_written(state: SyncState,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    folder = Path(f"{state.where}.backups")
    made = [rotate_backup(state) for _ in range(3)]
    held_while_copying: list[int] = []
    copy = upkeep.shutil.copyfile

    def counting_copy(source: Path, dest: Path) -> Path:
        held_while_copying.append(len(list(folder.glob("*.sqlite"))))
        return copy(source, dest)

    monkeypatch.setattr(upkeep.shutil, "copyfile", counting_copy)
    newest = rotate_backup(state)
    assert held_while_copying == [2]  # never more than three copies on the disk
    assert sorted(folder.glob("*.sqlite")) == [*sorted(p for p in made if p is not None)[1:], newest]

    def full_disk(source: Path, dest: Path) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(upkeep.shutil, "copyfile", full_disk)
    monkeypatch.setattr(upkeep, "_copy_settled_file", lambda db, dest: full_disk(db.path, dest))
    with pytest.raises(upkeep.ConfigError, match="No space left"):
        rotate_backup(state)
    kept = sorted(folder.glob("*.sqlite"))  # the two newest are left, whole
    assert len(kept) == 2 and kept[-1] == newest and all(len(leads(path)) == 300 for path in kept)
    assert not list(folder.glob(".*partial"))


def test_a_run_that_changed_nothing_keeps_the_newest_backup(state: SyncState, tmp_path: Path) -> None:
    folder = Path(f"{state.where}.backups")
    job = state.job(ACCOUNT, "nightly")

    def run(change: int, *, finish: bool = True) -> upkeep.Upkeep | None:
        """A run that confirms ``change`` more leads, as a real run does: its changes counted between its start
        and its end."""
        number = state.start_run(job, "2026-12-02T01:00:00+00:00", "leads.csv", str(tmp_path))
        written = state.changes()
        if change:
            confirm(state, job, number, change, start=len(leads(Path(state.where))))
        if not finish:  # stopped before its backup (killed, a full disk)
            return None
        changed = state.changes() != written
        state.finish_run(number, "2026-12-02T01:05:00+00:00", {}, 0)
        return upkeep.after_run(state, job, tmp_path, None, set(), run=number, changed=changed)

    first = run(5)
    assert first is not None and not first.state_backup_kept and first.state_backup is not None
    unchanged = run(0)
    assert unchanged is not None and unchanged.state_backup_kept
    (kept,) = sorted(folder.glob("*.sqlite"))  # the same copy, renamed for the run that changed nothing
    assert str(kept) == unchanged.state_backup and not Path(first.state_backup).exists()
    assert len(leads(kept)) == 305 and unchanged.as_json()["state_backup_kept"] is True
    again = run(0)
    assert again is not None and again.state_backup_kept and len(list(folder.glob("*.sqlite"))) == 1
    changed = run(3)
    assert changed is not None and not changed.state_backup_kept and len(list(folder.glob("*.sqlite"))) == 2
    assert changed.state_backup is not None and len(leads(Path(changed.state_backup))) == 308
    run(4, finish=False)  # its changes are in no backup: the next run makes one, though it changes nothing
    after_stop = run(0)
    assert after_stop is not None and not after_stop.state_backup_kept
    assert after_stop.state_backup is not None and len(leads(Path(after_stop.state_backup))) == 312
    assert len(list(folder.glob("*.sqlite"))) == 3
    assert len(leads(Path(changed.state_backup))) == 308  # an older backup is never touched
