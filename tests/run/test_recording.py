"""The recording thread: starts and outcomes recorded in order, from one thread, into a real journal; a durable
start on disk before its worker goes on; everything queued recorded by close; a full disk refuses the starts of
its batch and stops the run; any other error halts the workers and is raised at the end."""

from __future__ import annotations

import errno
import json
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest
import requests

from importer.errors import StopRequested
from importer.run.context.options import RunOptions
from importer.run.context.room import disk_full
from importer.run.engine.recording import Recording
from importer.run.engine.stop import Stop
from importer.run.engine.work import Job, Outcome
from importer.run.journey.pipeline import Importer
from importer.run.stores.grouping import grouped
from importer.run.stores.journal import Journal
from importer.run.stores.state import note_digest
from tests.loopback import QuietHandler, serving
from tests.run.test_importer import write_sheet

KEY = Journal.run_key("input", "mapping")


def job(row: int, note: bool = False) -> Job:
    payload = {"customer_phone": f"+9198{row:08d}", **({"customer_note": "hello"} if note else {})}
    return Job(row, (payload,), frozenset({payload["customer_phone"]}))


class JournalRecord:
    """Starts and outcomes into a real journal; ``full`` rows (or the commit) fail as on a full disk."""

    def __init__(self, journal: Journal, stop: Stop) -> None:
        self.journal = journal
        self.stop = stop
        self.events: list[tuple[str, int]] = []
        self.threads: set[str] = set()
        self.full: set[int] = set()
        self.commit_full = False
        self.broken: set[int] = set()

    def durable(self, job: Job) -> bool:
        return any("customer_note" in request for request in job.requests)

    def started(self, job: Job, durable: bool) -> None:
        self._write(job.row)
        self.journal.mark_in_flight(KEY, job.row, has_note=durable)
        self.events.append(("start", job.row))

    def ended(self, outcome: Outcome) -> None:
        self._write(outcome.row)
        self.journal.record(KEY, outcome.row, outcome.status)
        self.events.append(("end", outcome.row))

    def commit(self, durable: list[Job]) -> None:
        if self.commit_full:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.journal.commit()

    def failed(self, exc: BaseException) -> None:
        if not disk_full(exc):
            raise exc
        self.stop.request("disk-full", "no space left")

    def _write(self, row: int) -> None:
        self.threads.add(threading.current_thread().name)
        if row in self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        if row in self.broken:
            raise ValueError(f"row {row}: a bug")


def on_disk(path: Path) -> dict[int, tuple[str, int]]:
    """The journal's rows as another process reads them now: row → (status, has_note)."""
    with closing(sqlite3.connect(path)) as db:
        return {row: (status, has_note) for row, status, has_note in
                db.execute("SELECT row, status, has_note FROM row_state")}


def test_starts_and_outcomes_are_recorded_in_the_order_handed_over_by_one_thread(tmp_path: Path) -> None:
    handed: list[tuple[str, int]] = []
    lock = threading.Lock()  # the sender's callback lock: one worker hands something over at a time
    with Journal(tmp_path / "journal.sqlite") as journal, grouped(journal):
        record = JournalRecord(journal, Stop())
        with Recording(record) as recording:
            def work(rows: range) -> None:
                for row in rows:
                    with lock:
                        wait = recording.started(job(row, note=row % 3 == 0))
                        handed.append(("start", row))
                    if wait is not None:
                        wait()
                    with lock:
                        recording.ended(Outcome(row, "succeeded"))
                        handed.append(("end", row))

            workers = [threading.Thread(target=work, args=(range(i * 100, i * 100 + 100),)) for i in range(8)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        assert record.events == handed
        assert record.threads == {"recording"}
        assert {state.status for state in journal.states(KEY).values()} == {"succeeded"}


def test_a_durable_start_is_on_disk_before_its_worker_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with Journal(path) as journal, grouped(journal, every=60):  # nothing committed by age during the test
        with Recording(JournalRecord(journal, Stop())) as recording:
            assert recording.started(job(2)) is None  # no note: its worker does not wait
            wait = recording.started(job(3, note=True))
            assert wait is not None
            wait()
            assert on_disk(path) == {2: ("in_flight", 0), 3: ("in_flight", 1)}  # with what was queued before it


def test_close_records_everything_queued(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.sqlite") as journal, grouped(journal):
        record = JournalRecord(journal, Stop())
        with Recording(record) as recording:
            for row in range(1000):
                recording.started(job(row))
                recording.ended(Outcome(row, "failed", "refused"))
        assert len(record.events) == 2000
        assert len(journal.states(KEY)) == 1000


def test_a_full_disk_refuses_the_starts_of_its_batch_and_stops_the_run(tmp_path: Path) -> None:
    stop = Stop()
    with Journal(tmp_path / "journal.sqlite") as journal, grouped(journal, every=60):
        record = JournalRecord(journal, stop)
        record.commit_full = True
        with Recording(record) as recording:
            wait = recording.started(job(2, note=True))
            assert wait is not None
            with pytest.raises(StopRequested):
                wait()  # its job is not sent
            assert stop.reason == "disk-full"
            record.commit_full = False
            record.full = {4}
            recording.ended(Outcome(3, "succeeded"))  # the recording goes on: a stopped run still ends its rows
            wait = recording.started(job(4, note=True))
            assert wait is not None
            with pytest.raises(StopRequested):
                wait()  # its own write failed
            recording.ended(Outcome(5, "succeeded"))
        assert ("end", 5) in record.events


def test_any_other_error_halts_the_workers_and_is_raised_at_the_end(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.sqlite") as journal, grouped(journal):
        record = JournalRecord(journal, Stop())
        record.broken = {3}
        recording = Recording(record).__enter__()
        recording.ended(Outcome(3, "succeeded"))
        with pytest.raises(ValueError, match="a bug"):  # refused with it, queued or not
            wait = recording.started(job(4, note=True))
            assert wait is not None
            wait()
        with pytest.raises(ValueError, match="a bug"):
            recording.ended(Outcome(5, "succeeded"))  # a worker handing something over now is halted
        with pytest.raises(ValueError, match="a bug"):
            recording.close()
        assert ("end", 5) not in record.events


def test_a_note_is_in_flight_in_the_journal_and_sending_in_the_state_on_disk_before_it_reaches_the_server(
        fresh_sandbox, tmp_path: Path) -> None:
    """A real run through a loopback proxy that, as each request carrying a note arrives, reads the journal and the
    sync state the way another process would: the note's row is in flight with its note, the note ``sending``."""
    sheet, mapping = write_sheet(tmp_path, 60)
    journal, state = tmp_path / "reports" / "journal.sqlite", tmp_path / "state.sqlite"
    seen: list[tuple[str, bool, bool]] = []

    class Proxy(QuietHandler):
        def do_GET(self) -> None:
            self.forward(b"")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            payload = json.loads(body)
            if "customer_note" in payload:
                phone, row = payload["customer_phone"], int(payload["first_name"].split()[-1]) + 2
                with closing(sqlite3.connect(journal)) as db:
                    marked = db.execute("SELECT 1 FROM row_state WHERE row = ? AND status = 'in_flight' "
                                        "AND has_note = 1", (row,)).fetchone() is not None
                with closing(sqlite3.connect(state)) as db:
                    sending = db.execute("SELECT 1 FROM note WHERE phone = ? AND digest = ? AND status = 'sending'",
                                         (phone, note_digest(payload["customer_note"]))).fetchone() is not None
                seen.append((phone, marked, sending))
            self.forward(body)

        def forward(self, body: bytes) -> None:
            answer = requests.request(self.command, fresh_sandbox.base_url.rsplit("/superfone", 1)[0] + self.path,
                                      data=body or None, headers={"x-api-key": self.headers["x-api-key"],
                                                                  "Content-Type": "application/json"}, timeout=10)
            self.reply(answer.status_code, {"Content-Type": "application/json"}, answer.content)

    with serving(Proxy) as url:
        options = RunOptions(base_url=f"{url}/superfone", api_key=fresh_sandbox.api_key,
                             report_dir=tmp_path / "reports", rate=1000.0, concurrency=8, state=state, no_undo=True)
        result = Importer(sheet, mapping, options).run()
    assert result.exit_code == 0
    assert len(seen) == 60 and all(marked and sending for _, marked, sending in seen), seen
