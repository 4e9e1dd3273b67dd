"""A real run (:class:`Send`): decide which checked rows to send, send them, and record every outcome twice —
in the journal (so a killed run resumes) and in the report (so people see each success and failure).

The decide stage is the sync's (:mod:`importer.run.kinds.ledger`): per job and account, a row whose lead already holds
it is ``unchanged`` and not sent; another sends only what changed; a note never reaches a lead twice. One run at a
time per account's state (:mod:`importer.run.stores.lock`); guards stop a broken nightly file before anything is
sent; leads gone from the input may be labelled or moved (``--on-missing``, :mod:`importer.run.kinds.missing`).

Resume rules of a run that did not go to the end (killed, stopped), keyed by (input content, mapping, target) and
row number:
- a row the journal has as succeeded, failed or in doubt is not sent again; its outcome goes into this report;
- a row left in flight by a killed run is sent again; if it carried a note, the note is dropped and the row is
  reported in doubt (the note may already be on the lead's timeline);
- ``--fresh`` forgets the journal; ``--retry-failed RUN_DIR`` sends only that run's failed and in-doubt rows.

A run that stops (:mod:`importer.run.engine.stop`: a signal, a quota-length Retry-After, the time limit, a full disk)
sends nothing new, lets the requests in flight finish, and reports every row it did not finish as ``rows_left``.
Such a row stays unconfirmed: a row none of whose requests may have been applied is put back in the journal and
the sync state as it was before (its note forgotten), so the next run sends it as if never tried; a row that may
have been partly applied stays in flight (the next run sends it again, without its note, and reports it in doubt).
The journal's run does not end, so running the same command again resumes.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

from importer.api.client import SuperfoneClient
from importer.errors import ApiError, ConfigError, StopRequested
from importer.models import FINAL_STATUSES
from importer.report import Summary
from importer.report.records import Journaled
from importer.run.context.kind import Access, RunContext
from importer.run.context.room import check_writable, disk_full
from importer.run.context.rows import CheckedBatch, CheckedRow
from importer.run.engine.recording import Recording
from importer.run.engine.sending import Sender
from importer.run.engine.stop import estimate_line
from importer.run.engine.tasks import DeliveryTasks, TaskRecords, task_lines
from importer.run.engine.work import Job, Outcome, Prepare, ReadLead
from importer.run.kinds.ledger import Decide, SyncDecide, SyncLedger, account_state
from importer.run.kinds.missing import MissingLeads
from importer.run.kinds.recorder import Recorder
from importer.run.rules.policy import kept_lines
from importer.run.stores.grouping import grouped
from importer.run.stores.journal import Journal, RowState
from importer.run.stores.state import SyncState
from importer.run.stores.upkeep import after_run

logger = logging.getLogger(__name__)

JOURNAL_NAME = "journal.sqlite"


class Send:
    """A real run: every row that passes the checks is sent, unless the journal has it done already."""

    name = "run"
    access = Access.WRITES

    def act(self, batches: Iterator[CheckedBatch], run: RunContext) -> None:
        Delivery(run).run(batches)

    def exit_code(self, summary: Summary) -> int:
        tasks = summary.tasks or {}
        return 1 if (summary.invalid or summary.failed or summary.in_doubt or tasks.get("failed")
                     or tasks.get("in_doubt")) else 0

    def lines(self, summary: dict[str, Any]) -> list[str]:
        return task_lines(summary) + kept_lines(summary)


@dataclass(frozen=True)
class Selection:
    """Which rows a real run sends: every row to send, or (``--retry-failed RUN_DIR``) only the rows an earlier run
    of the same input and mapping left failed or in doubt."""

    rows: frozenset[int] | None = None

    @classmethod
    def retrying(cls, journal: Journal, key: str, run_dir: Path) -> Selection:
        summary_path = run_dir / "summary.json"
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"--retry-failed {run_dir}: cannot read {summary_path.name} ({exc})") from None
        if summary.get("journal_key") != key:
            raise ConfigError(f"--retry-failed {run_dir}: that run imported another input or mapping")
        return cls(frozenset(row for row, state in journal.states(key).items()
                             if state.status in ("failed", "in_doubt")))

    @property
    def partial(self) -> bool:
        return self.rows is not None

    def leaves_out(self, number: int) -> bool:
        """A row ``--retry-failed`` does not send (counted ``skipped``)."""
        return self.rows is not None and number not in self.rows

    def resumes(self, state: RowState | None) -> bool:
        """A row the interrupted run being resumed already finished (reported as it ended, not sent again)."""
        return self.rows is None and state is not None and state.status in FINAL_STATUSES


class Delivery:
    """One real run's decide and act stages over the rows the importer hands it; its record is the
    :class:`~importer.run.kinds.recorder.Recorder`'s."""

    def __init__(self, run: RunContext, decider: Decide | None = None) -> None:
        assert run.client is not None
        self.run_context = run
        self.client: SuperfoneClient = run.client
        self.summary = run.summary
        self.writer = run.writer
        self._columns = run.table.columns
        self.decider: Decide = decider or SyncDecide()
        # The target is part of the key: the same sheet imported into two accounts is two imports.
        self.key = Journal.run_key(run.table.digest(), f"{run.mapping.digest}|{run.options.base_url}",
                                   *self.decider.key_extras)
        self._missing = MissingLeads(run)
        self.stop = run.stop
        self._left = 0  # rows to send that a stopped run did not reach

    def run(self, batches: Iterator[CheckedBatch]) -> None:
        run, options = self.run_context, self.run_context.options
        self.summary.journal = Journaled(self.key, options.base_url)  # where undo sends (never the key)
        opened = account_state(options, run.catalog.org_id if run.catalog else None)
        if opened.location.path is not None:
            check_writable(opened.location.path, "the sync state")
        check_writable(options.report_dir / JOURNAL_NAME, "the journal")
        with opened, opened.state.run_lock(opened.account), \
                Journal(options.report_dir / JOURNAL_NAME) as journal, self._task_records(journal) as records:
            state = opened.state
            ledger = self._open_ledger(state, opened.merged)
            ledger.before_forgetting = journal.commit
            missing = self._missing.jobs(state, ledger.job)
            if options.fresh:
                journal.forget(self.key)
                records.forget()
            selection = (Selection.retrying(journal, self.key, options.retry_failed) if options.retry_failed
                         else Selection())
            resuming = journal.interrupted(self.key)
            before = self.decider.before_write(journal, self.key, run.mapping.policies, undo=not options.no_undo)
            before.start(resuming)
            recorder = Recorder(self.key, journal, ledger, DeliveryTasks(records, ledger), before, self._missing,
                                self.writer, self.summary, run.progress, self.stop, options.report_dir,
                                states=journal.states(self.key) if resuming else {})
            journal.record_run(self.key, str(self.writer.folder), run.started.isoformat())
            ledger.run_id = state.start_run(ledger.job, run.started.isoformat(timespec="milliseconds"),
                                            self.summary.input, str(self.writer.folder.resolve()))  # any folder's
            written = state.changes()
            jobs = self._jobs(batches, recorder, selection)
            try:
                try:
                    with grouped(journal, state):  # fewer commits; each before a request that depends on it
                        self._send(chain(jobs, missing), recorder, selection.partial)
                except (OSError, sqlite3.Error) as exc:  # the last commit, on a disk that just filled up
                    recorder.stop_if_full(exc)
                if self.stop.requested:
                    for _ in jobs:  # the rows not reached: counted and reported, not sent
                        pass
            except BaseException:
                self._finish_run(state, ledger, 2)
                raise
            finally:
                try:
                    before.finish(self.writer.folder, self.summary)
                except OSError as exc:  # before.jsonl on a full disk: the journal keeps the before-images
                    recorder.stop_if_full(exc)
            if self.stop.requested:
                assert self.stop.reason is not None
                self.summary.stop(self.stop.reason, self.stop.detail, self._left + len(recorder.pending))
                self._finish_run(state, ledger, 3)  # the journal's run stays open: the same command resumes
                return
            journal.record_end(self.key, str(self.writer.folder))
            changed = bool(ledger.merged) or written is None or state.changes() != written
            state.finish_run(ledger.run_id, _now(), self._counts(), Send().exit_code(self.summary))
            if options.remember_file and run.table.origin is not None:  # a job's sync: each file once
                ledger.remember_file(run.table.origin.digest, run.table.origin.location, _now())
                changed = True
            self.summary.upkeep = after_run(state, ledger.job, self.writer.folder, options.keep_runs,
                                            journal.unfinished_folders(), options.keep_payloads,
                                            run=ledger.run_id, changed=changed)

    def _task_records(self, journal: Journal) -> TaskRecords:
        counts: dict[str, int] = {}
        if self.run_context.mapping.has_tasks:
            self.summary.tasks = counts
        return TaskRecords(journal, self.key, self.writer.folder, counts, self.summary.warnings_by_code)

    def _finish_run(self, state: SyncState, ledger: SyncLedger, exit_code: int) -> None:
        """The run's line in the history; on a full disk it stays unfinished there (the report says it all)."""
        try:
            state.finish_run(ledger.run_id, _now(), self._counts(), exit_code)
        except Exception as exc:
            if not disk_full(exc):
                raise

    def _open_ledger(self, state: SyncState, merged: list[str]) -> SyncLedger:
        run = self.run_context
        ledger = SyncLedger.of(state, run.options, run.catalog.org_id if run.catalog else None, run.mapping.path)
        ledger.merged = merged
        invalid = run.checked.invalid_alone + len(run.checked.verdicts.invalid)
        ledger.guard(run.table.path.name, run.checked.total, invalid)
        self.summary.sync = ledger.describe()
        return ledger

    def _send(self, jobs: Iterator[Job], recorder: Recorder, partial: bool) -> None:
        run, options = self.run_context, self.run_context.options
        warning = estimate_line(run.checked.to_send, options.rate, options.time_limit)
        if warning is not None and not partial:
            logger.warning("%s", warning)
            self.summary.time_limit_warning = warning
        sender = Sender(self.client, rate=options.rate, concurrency=options.concurrency, policy=options.retry,
                        stop=self.stop, max_wait=options.max_wait, on_wait=recorder.waiting)
        run.progress.start("sending", None if partial else run.checked.to_send)
        run.heartbeat.doing(lambda: self._doing(sender, recorder))
        try:
            # Recorded off the sending workers, in order, by one thread: 20,000 rows with notes, --no-undo, 16
            # workers, a busy machine (load 6–7): the workers' CPU 754–762 → 485–515 µs a row, the recording
            # thread's 220–234, the whole process 923–946 → 831–892; 12.0 → 9.5 SQLite statements a row.
            with Recording(recorder) as recording:
                sender.run(jobs, on_start=recording.started, on_outcome=recording.ended,
                           prepare=_guarded(recorder.before.prepare, recorder))
        finally:
            run.progress.finish()

    def _doing(self, sender: Sender, recorder: Recorder) -> str:
        done = self.summary.succeeded + self.summary.failed + self.summary.in_doubt
        waiting = recorder.waiting_until - time.monotonic()
        what = f"waiting {waiting:.0f} s more (the server asked, Retry-After)" if waiting > 0 else sender.activity()
        return f"sending: {done} rows done; {what}"

    def _counts(self) -> dict[str, int]:
        summary = self.summary
        return {name: getattr(summary, name) for name in (
            "rows_total", "valid", "invalid", "sent", "succeeded", "failed", "in_doubt", "skipped", "unchanged")}

    # --- decide ---------------------------------------------------------------------------------------------

    def _jobs(self, batches: Iterator[CheckedBatch], recorder: Recorder, selection: Selection) -> Iterator[Job]:
        for batch in batches:
            unchanged = self.decider.unchanged(batch, recorder.ledger) if not self.stop.requested else set()
            if unchanged and len(unchanged) == len(batch) and not selection.partial and not recorder.states:
                # a nightly rerun's batch: every row unchanged, reported at once, as the loop below would (a
                # 1,000,000-row rerun's pass two, two interleaved pairs: 8.60 s of CPU against 8.84, 8.99 against
                # 10.16; profiled, the loop's 1.2 µs a row in Python)
                recorder.unchanged(batch.numbers, batch.primaries)
                continue
            listed: tuple[list[int], list[str]] = ([], [])
            for index, (number, verdict) in enumerate(zip(batch.numbers, batch.verdicts, strict=True)):
                if verdict == "skipped":
                    continue
                if verdict == "invalid":
                    checked = batch.row_at(index)
                    self.writer.add_failure(checked.row(self._columns), checked.first_error())
                    continue
                state = recorder.states.get(number)
                if self.stop.requested:
                    self._not_reached(batch.row_at(index), state, recorder, selection)
                    continue
                if index in unchanged and not selection.partial and not selection.resumes(state):
                    listed[0].append(number)
                    listed[1].append(batch.primaries[index])
                    continue
                job = self._job(batch.row_at(index), batch.digests[index], state, recorder, selection)
                if job is not None:
                    yield job
            recorder.unchanged(*listed)

    def _job(self, checked: CheckedRow, digest: bytes, state: RowState | None, recorder: Recorder,
             selection: Selection) -> Job | None:
        """The job of a row that passed the checks, or None when the row is not sent (and is reported here)."""
        row = checked.row(self._columns)
        with recorder.lock:
            if selection.leaves_out(checked.number):
                self.summary.skipped += 1
                return None
            if selection.resumes(state):
                assert state is not None
                recorder.resumed(row, state)
                recorder.tasks.records.resumed(checked.number, checked.phones[0])
                return None
        decided = self.decider.decide(checked, digest, recorder.ledger)
        with recorder.lock:
            if decided.issues:
                self.summary.count_issues(decided.issues)
                self.writer.add_issues(decided.issues)
            if decided.refused:
                recorder.report(row, "failed", decided.refused)
                return None
            alone = decided.unchanged and bool(checked.tasks)  # the lead is unchanged, its tasks are not
            if decided.unchanged and not alone:
                self.summary.unchanged += 1
                self.writer.add_unchanged([checked.number], [checked.phones[0]])
                return None
            recorder.expect(row, decided.pending)
            recorder.tasks.expect(checked.number, checked.phones[0], checked.tasks, digest if alone else None)
        note_in_doubt = state is not None and (
            (state.status == "in_flight" and state.has_note) or state.status == "in_doubt")
        before = decided.pending.before if decided.pending is not None else None
        return Job(checked.number, decided.requests, frozenset(checked.phones), note_in_doubt, decided.fallback,
                   checked.tasks, confirmed=before.fields if before is not None else None)

    def _not_reached(self, checked: CheckedRow, state: RowState | None, recorder: Recorder,
                     selection: Selection) -> None:
        """A row to send that a stopped run did not get to: left for the next run (a row an earlier run finished,
        or one ``--retry-failed`` leaves out, is reported as usual)."""
        with recorder.lock:
            if selection.leaves_out(checked.number):
                self.summary.skipped += 1
            elif selection.resumes(state):
                assert state is not None
                recorder.resumed(checked.row(self._columns), state)
            else:
                self._left += 1


def _guarded(prepare: Prepare, recorder: Recorder) -> Prepare:
    """``prepare`` (the read before a write, which journals what it read) stopping the run on a full disk."""
    def guarded(job: Job, read: ReadLead) -> Job | Outcome:
        try:
            return prepare(job, read)
        except (StopRequested, ApiError):
            raise
        except Exception as exc:
            recorder.stop_if_full(exc)
            raise StopRequested("not sent: the run is stopping (no space left)") from exc

    return guarded


def _now() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="milliseconds")
