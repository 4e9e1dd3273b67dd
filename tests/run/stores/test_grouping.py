"""Grouped writes: while a run sends, the journal's and the state's writes share a transaction that another
reader sees only once committed (on demand, by age, at the end); an older journal gains the images' new column."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

from importer.report.before import BeforeImage
from importer.run.rules.sync import Confirmed
from importer.run.stores.grouping import grouped
from importer.run.stores.journal import Journal
from importer.run.stores.state import SyncState

KEY = Journal.run_key("input", "mapping")


def rows_seen(path: Path, table: str) -> int:
    """What another process would read now."""
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_grouped_journal_writes_are_seen_once_committed(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with Journal(path) as journal, grouped(journal, every=60):
        journal.mark_in_flight(KEY, 2, has_note=True)
        journal.record(KEY, 3, "succeeded")
        assert rows_seen(path, "row_state") == 0
        journal.commit()
        assert rows_seen(path, "row_state") == 2
        journal.record(KEY, 2, "succeeded")
        assert journal.states(KEY)[2].status == "succeeded"  # the run sees its own writes at once
    with Journal(path) as again:  # the end of the block committed the rest
        assert {row: state.status for row, state in again.states(KEY).items()} == {2: "succeeded", 3: "succeeded"}


def test_a_group_is_committed_when_it_is_older_than_its_interval(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with Journal(path) as journal, grouped(journal, every=0.05):
        journal.record(KEY, 2, "failed", "refused")
        deadline = time.monotonic() + 10
        while rows_seen(path, "row_state") == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert rows_seen(path, "row_state") == 1


def test_grouped_state_writes_and_their_commit(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with SyncState(path) as state:
        job = state.job("account", "nightly")
        run = state.start_run(job, "2026-12-05T01:30:00", "leads.csv", "reports/x")
        with grouped(state, every=60):
            state.set_note("account", "+919800000001", "hello", "sending", run)
            state.confirm(job, run, "+919800000001", b"digest", Confirmed({"city": "Pune"}))
            assert (rows_seen(path, "note"), rows_seen(path, "lead")) == (0, 0)
            state.commit()
            assert (rows_seen(path, "note"), rows_seen(path, "lead")) == (1, 1)
            state.set_note("account", "+919800000001", "hello", "delivered", run)
        assert state.note_status("account", "+919800000001", "hello") == "delivered"
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT status FROM note").fetchall() == [("delivered",)]


def test_images_from_the_state_keep_their_mark_and_a_lead_created_again_loses_it(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.sqlite") as journal:
        image = BeforeImage(2, "+919800000001", None, True, {"city": "Pune"}, {"city": "Goa"}, from_state=True)
        journal.record_before(KEY, 2, image, merge=False)
        journal.record_before(KEY, 3, BeforeImage(3, "+919800000002", None, True, {"city": "Agra"}, {"city": "Goa"},
                                                  from_state=True))
        journal.before_outcome(KEY, 2, "+919800000001", "succeeded")
        journal.before_outcome(KEY, 3, "+919800000002", "succeeded", {"city": "Goa", "first_name": "Asha"},
                               created=True)
        two, three = journal.before_images(KEY)
    assert (two.from_state, two.existed, two.before, two.status) == (True, True, {"city": "Pune"}, "succeeded")
    assert (three.from_state, three.existed, three.before, three.sent) == (
        False, False, {}, {"city": "Goa", "first_name": "Asha"})


def test_a_journal_of_an_earlier_version_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with Journal(path) as journal:
        journal.record_before(KEY, 2, BeforeImage(2, "+919800000001", 5, True, {"city": "Pune"}, {"city": "Goa"}))
    with closing(sqlite3.connect(path)) as db:  # as an earlier importer left it: no from_state column
        db.executescript("CREATE TABLE old AS SELECT key_id, row, phone, lead_id, existed, before, sent, status "
                         "FROM before_image; DROP TABLE before_image; ALTER TABLE old RENAME TO before_image;")
    with Journal(path) as journal:
        (image,) = journal.before_images(KEY)
        assert (image.lead_id, image.before, image.from_state) == (5, {"city": "Pune"}, False)


def test_a_last_commit_that_fails_still_commits_the_other_store_and_ends_the_grouping(tmp_path: Path) -> None:
    """A disk that fills just before the block's end: the error comes out of the block (the run turns it into a
    stop), the other store's writes are committed all the same, and neither store groups any longer."""
    import pytest

    class FullDisk:
        def __init__(self) -> None:
            self.grouping = True

        def group(self, active: bool) -> None:
            self.grouping = active
            if not active:
                raise sqlite3.OperationalError("database or disk is full")

        def commit(self, older_than: float = 0.0) -> None:
            pass

    full, path = FullDisk(), tmp_path / "journal.sqlite"
    with Journal(path) as journal:
        with pytest.raises(sqlite3.OperationalError, match="disk is full"):
            with grouped(full, journal, every=60):
                journal.record(KEY, 2, "succeeded")
        assert rows_seen(path, "row_state") == 1  # committed after the first store's failure
        journal.record(KEY, 3, "succeeded")  # on its own: the grouping is over
        assert rows_seen(path, "row_state") == 2
    assert full.grouping is False
