"""The run journal: row states per run key, resume after a crash, --fresh, and refusing foreign files."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from importer.errors import ConfigError
from importer.report.before import BeforeImage
from importer.run.stores.journal import Journal, RowState, RunRecord, file_digest

KEY = Journal.run_key("input-digest", "mapping-digest")
T0 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def journal(tmp_path: Path):
    with Journal(tmp_path / "journal.sqlite", clock=FakeClock()) as opened:
        yield opened


def test_file_digest_is_sha256_of_the_bytes(tmp_path: Path) -> None:
    data = os.urandom(2_500_000)  # spans several 1 MB chunks
    path = tmp_path / "leads.csv"
    path.write_bytes(data)
    assert file_digest(path) == hashlib.sha256(data).hexdigest()


def test_run_key_is_stable_and_depends_on_every_part() -> None:
    assert Journal.run_key("a", "b") == Journal.run_key("a", "b")
    keys = {
        Journal.run_key("a", "b"),
        Journal.run_key("b", "a"),
        Journal.run_key("a", "c"),
        Journal.run_key("a", "b", "sheet=2"),
        Journal.run_key("a\0b", ""),
    }
    assert len(keys) == 5


def test_states_follow_in_flight_then_outcome(journal: Journal) -> None:
    journal.mark_in_flight(KEY, 2, has_note=True)
    journal.mark_in_flight(KEY, 3, has_note=False)
    journal.record(KEY, 3, "failed", "lead_stage_name not found")
    journal.mark_in_flight(KEY, 4, has_note=True)
    journal.record(KEY, 4, "in_doubt", "note may not have been added")

    assert journal.states(KEY) == {
        2: RowState("in_flight", "", True, T0 + timedelta(seconds=1)),
        3: RowState("failed", "lead_stage_name not found", False, T0 + timedelta(seconds=3)),
        4: RowState("in_doubt", "note may not have been added", True, T0 + timedelta(seconds=5)),
    }


def test_has_note_stays_set_once_a_note_may_have_been_sent(journal: Journal) -> None:
    journal.mark_in_flight(KEY, 2, has_note=True)
    journal.mark_in_flight(KEY, 2, has_note=False)  # the retry without the note
    assert journal.states(KEY)[2].has_note is True
    journal.record(KEY, 2, "in_doubt", "note may not have been added")
    assert journal.states(KEY)[2] == RowState(
        "in_doubt", "note may not have been added", True, T0 + timedelta(seconds=3)
    )


def test_record_without_mark_and_overwrite(journal: Journal) -> None:
    journal.record(KEY, 7, "failed", "timeout")
    journal.mark_in_flight(KEY, 7, has_note=False)
    assert journal.states(KEY)[7].status == "in_flight"
    assert journal.states(KEY)[7].message == ""
    journal.record(KEY, 7, "succeeded")
    assert journal.states(KEY)[7] == RowState("succeeded", "", False, T0 + timedelta(seconds=3))


def test_record_accepts_only_final_statuses(journal: Journal) -> None:
    with pytest.raises(ValueError, match="in_flight"):
        journal.record(KEY, 2, "in_flight")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="done"):
        journal.record(KEY, 2, "done")  # type: ignore[arg-type]
    assert journal.states(KEY) == {}


def test_keys_are_independent_and_forget_drops_only_one(journal: Journal) -> None:
    other = Journal.run_key("input-digest", "another-mapping")
    journal.record(KEY, 2, "succeeded")
    journal.record(other, 2, "failed", "bad")
    journal.record_run(KEY, "reports/a", T0)
    journal.record_run(other, "reports/b", T0)

    journal.forget(KEY)

    assert journal.states(KEY) == {}
    assert journal.runs(KEY) == []
    assert journal.states(other)[2].status == "failed"
    assert journal.runs(other) == [RunRecord(Path("reports/b"), T0)]
    journal.forget(KEY)  # forgetting an unknown key is a no-op
    journal.record(KEY, 2, "failed", "again")  # and the key can be used again
    assert journal.states(KEY)[2].message == "again"


def test_runs_are_listed_oldest_first_with_time_zones(journal: Journal) -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    journal.record_run(KEY, "reports/20240501-160000-leads", datetime(2024, 5, 1, 16, 0, tzinfo=ist))
    journal.record_run(KEY, "reports/20240501-090000-leads", datetime(2024, 5, 1, 9, 0, tzinfo=ist))
    journal.record_run(KEY, "reports/naive", datetime(2024, 5, 2, 9, 0))
    journal.record_run(KEY, Path("reports/text"), "2024-05-03T09:00:00+00:00")

    runs = journal.runs(KEY)
    assert [run.run_dir.name for run in runs] == [
        "20240501-090000-leads",
        "20240501-160000-leads",
        "naive",
        "text",
    ]
    assert runs[0].started_at == datetime(2024, 5, 1, 9, 0, tzinfo=ist)
    assert runs[3].started_at == datetime(2024, 5, 3, 9, 0, tzinfo=UTC)
    assert all(run.started_at.tzinfo is not None for run in runs)
    assert journal.runs(Journal.run_key("x", "y")) == []


def test_a_second_journal_sees_what_an_abandoned_connection_committed(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    crashed = Journal(path)
    for row in range(2, 102):
        crashed.mark_in_flight(KEY, row, has_note=row % 2 == 0)
        if row <= 90:
            crashed.record(KEY, row, "succeeded")
    # the first connection is never closed, as after a crash: its WAL is still there
    assert path.with_name("journal.sqlite-wal").exists()

    with Journal(path) as resumed:
        states = resumed.states(KEY)
    assert len(states) == 100
    assert {row for row, state in states.items() if state.status == "succeeded"} == set(range(2, 91))
    assert {row for row, state in states.items() if state.status == "in_flight"} == set(range(91, 102))
    assert states[92].has_note and not states[91].has_note
    crashed.close()


_WRITER = """
import sys
from importer.run.stores.journal import Journal
journal = Journal(sys.argv[1])
key = Journal.run_key("in", "map")
row = 2
while True:
    journal.mark_in_flight(key, row, has_note=True)
    journal.record(key, row, "succeeded", "ok")
    sys.stdout.write(f"{row}\\n")
    sys.stdout.flush()
    row += 1
"""


def test_sigkill_mid_writes_keeps_every_acknowledged_record(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    command = [sys.executable, "-c", _WRITER, str(path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=Path.cwd()) as child:
        assert child.stdout is not None
        acknowledged = [int(child.stdout.readline()) for _ in range(3000)]
        os.kill(child.pid, signal.SIGKILL)
        acknowledged += [int(line) for line in child.stdout.read().split()]
    assert child.returncode == -signal.SIGKILL

    with Journal(path) as resumed:
        states = resumed.states(Journal.run_key("in", "map"))
    assert all(states[row].status == "succeeded" for row in acknowledged)
    # at most the row being written when the signal landed is beyond the last acknowledgement
    assert max(states) <= acknowledged[-1] + 1
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()


def test_calls_from_several_threads(journal: Journal) -> None:
    def send(first: int) -> None:
        for row in range(first, first + 200):
            journal.mark_in_flight(KEY, row, has_note=False)
            journal.record(KEY, row, "succeeded")

    threads = [threading.Thread(target=send, args=(start,)) for start in (0, 1000, 2000, 3000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(journal.states(KEY)) == 800


def test_a_file_that_is_not_sqlite_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    path.write_text("_row,first_name\n2,Asha\n" * 200)
    with pytest.raises(ConfigError) as caught:
        Journal(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message


def test_a_foreign_sqlite_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with sqlite3.connect(path) as foreign:
        foreign.execute("CREATE TABLE leads (phone TEXT)")
    foreign.close()
    with pytest.raises(ConfigError, match="not an importer journal") as caught:
        Journal(path)
    assert str(path) in str(caught.value)


def test_a_newer_journal_version_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    Journal(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(ConfigError, match="newer importer") as caught:
        Journal(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_reopening_keeps_data_and_settings(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "journal.sqlite"
    with Journal(path) as journal:
        journal.record(KEY, 2, "succeeded")
        journal.close()  # closing twice is harmless
    with Journal(path) as journal:
        assert journal.states(KEY)[2].status == "succeeded"
        assert journal._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert journal._db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        assert repr(journal) == f"Journal({str(path)!r})"


def test_iter_states_streams_pages_in_row_order(journal: Journal) -> None:
    for row in (9, 2, 5, 3, 12, 7, 4):
        journal.record(KEY, row, "succeeded", f"row {row}")
    pairs = list(journal.iter_states(KEY, page_size=3))
    assert [row for row, _ in pairs] == [2, 3, 4, 5, 7, 9, 12]
    assert dict(pairs) == journal.states(KEY)
    assert pairs[0][1].message == "row 2"
    assert list(journal.iter_states(Journal.run_key("x", "y"))) == []


# --- before-images ------------------------------------------------------------------------------------------


def test_before_images_are_kept_until_the_key_starts_afresh(journal: Journal) -> None:
    key = Journal.run_key("input", "mapping")
    journal.record_before(key, 3, BeforeImage(3, "+919800000003", 30, True, {"city": "Pune"}, {"city": "Goa"}))
    journal.record_before(key, 2, BeforeImage(2, "+919800000002", None, False, {"city": None}, {"city": "Goa"}))
    journal.record_before(key, -1, BeforeImage(None, "+919800000009", 9, True, {"lead_stage_name": "Won"},
                                               {"lead_stage_name": "Lost"}))
    journal.before_outcome(key, 2, "+919800000002", "succeeded")
    journal.before_outcome(key, 3, "+919800000003", "failed", sent={"city": "Goa", "first_name": "A"})
    images = list(journal.before_images(key, page_size=2))
    assert [(image.row, image.phone, image.status) for image in images] == [
        (2, "+919800000002", "succeeded"), (3, "+919800000003", "failed"), (None, "+919800000009", "in_doubt")]
    assert images[1].sent == {"city": "Goa", "first_name": "A"} and images[1].lead_id == 30
    assert images[0].existed is False and images[2].existed is True
    assert list(journal.before_images(Journal.run_key("input", "other"))) == []
    journal.forget_before(key)
    assert list(journal.before_images(key)) == []


def test_a_lead_imaged_again_keeps_what_it_held_before_the_first_write(journal: Journal) -> None:
    key = Journal.run_key("input", "mapping")
    journal.record_before(key, 2, BeforeImage(2, "+919800000002", None, False, {"city": None},
                                              {"city": "Goa", "add_labels": ["Hot"], "customer_note": True}))
    journal.record_before(key, 2, BeforeImage(2, "+919800000002", 12, True, {"city": "Goa", "first_name": "A"},
                                              {"city": "Goa", "first_name": "B"}))
    [image] = journal.before_images(key)
    assert (image.lead_id, image.existed) == (12, False)
    assert image.before == {"city": None, "first_name": "A"}
    assert image.sent == {"city": "Goa", "add_labels": ["Hot"], "customer_note": True, "first_name": "B"}
    journal.forget(key)
    assert list(journal.before_images(key)) == []


def test_before_images_survive_a_reopen(tmp_path: Path) -> None:
    key = Journal.run_key("input", "mapping")
    with Journal(tmp_path / "journal.sqlite") as first:
        first.record_before(key, 5, BeforeImage(5, "+919800000005", 1, True, {"email": ["a@x.in"]},
                                                {"email": ["b@x.in"]}))
    with Journal(tmp_path / "journal.sqlite") as again:
        assert [image.before for image in again.before_images(key)] == [{"email": ["a@x.in"]}]
