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
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

from importer.api.client import SuperfoneClient
from importer.errors import ApiError, ConfigError, StopRequested
from importer.models import FINAL_STATUSES, Row
from importer.report import Summary
from importer.run.context.kind import RunContext
from importer.run.context.room import check_writable, disk_full
from importer.run.context.rows import CheckedBatch, CheckedRow
from importer.run.engine.sending import Sender
from importer.run.engine.stop import estimate_line
from importer.run.engine.tasks import DeliveryTasks, TaskRecords, task_lines
from importer.run.engine.work import NOTE, Job, Outcome, Prepare, ReadLead
from importer.run.kinds.ledger import Decide, Pending, SyncDecide, SyncLedger, account_state
from importer.run.kinds.missing import MissingLeads
from importer.run.kinds.prior import PriorRead
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
    writes = True
    reads_account = False

    def act(self, batches: Iterator[CheckedBatch], run: RunContext) -> None:
        Delivery(run).run(batches)

    def exit_code(self, summary: Summary) -> int:
        tasks = summary.extra.get("tasks") or {}
        return 1 if (summary.invalid or summary.failed or summary.in_doubt or tasks.get("failed")
                     or tasks.get("in_doubt")) else 0

    def lines(self, summary: dict[str, Any]) -> list[str]:
        return task_lines(summary) + kept_lines(summary)


def retry_rows(journal: Journal, key: str, run_dir: Path) -> set[int]:
    """Rows of an earlier run (same input and mapping) that failed or are in doubt."""
    summary_path = run_dir / "summary.json"
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--retry-failed {run_dir}: cannot read {summary_path.name} ({exc})") from None
    if summary.get("journal_key") != key:
        raise ConfigError(f"--retry-failed {run_dir}: that run imported another input or mapping")
    return {row for row, state in journal.states(key).items() if state.status in ("failed", "in_doubt")}


class Delivery:
    """One real run's decide, act and record stages, over the rows the importer hands it."""

    _tasks: DeliveryTasks

    def __init__(self, run: RunContext, decider: Decide | None = None) -> None:
        assert run.client is not None
        self.run_context = run
        self.client: SuperfoneClient = run.client
        self.summary = run.summary
        self.writer = run.writer
        self._columns = run.table.columns
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[Row, Pending | None]] = {}
        self.decider: Decide = decider or SyncDecide()
        # The target is part of the key: the same sheet imported into two accounts is two imports.
        self.key = Journal.run_key(run.table.digest(), f"{run.mapping.digest}|{run.options.base_url}",
                                   *self.decider.key_extras)
        self._journal: Journal | None = None
        self._ledger: SyncLedger | None = None
        self._prior: PriorRead | None = None
        self._missing = MissingLeads(run)
        self.stop = run.stop
        self._states: dict[int, RowState] = {}
        self._left = 0  # rows to send that a stopped run did not reach
        self._waiting_until = 0.0  # a Retry-After being waited through (time.monotonic)

    def run(self, batches: Iterator[CheckedBatch]) -> None:
        run, options = self.run_context, self.run_context.options
        self.summary.extra["journal_key"] = self.key
        self.summary.extra["base_url"] = options.base_url  # where undo sends (never the key)
        opened = account_state(options, run.catalog.org_id if run.catalog else None)
        if opened.location.path is not None:
            check_writable(opened.location.path, "the sync state")
        check_writable(options.report_dir / JOURNAL_NAME, "the journal")
        with opened, opened.state.run_lock(opened.account), \
                Journal(options.report_dir / JOURNAL_NAME) as journal, self._task_records() as records:
            state = opened.state
            self._journal, self._ledger = journal, self._open_ledger(state, opened.merged)
            self._ledger.before_forgetting = journal.commit
            self._tasks = DeliveryTasks(records, self._ledger)
            missing = self._missing.jobs(state, self._ledger.job)
            if options.fresh:
                journal.forget(self.key)
                records.forget()
            only = retry_rows(journal, self.key, options.retry_failed) if options.retry_failed else None
            resuming = journal.interrupted(self.key)
            states = journal.states(self.key) if resuming else {}
            self._states = states
            if self.decider.prepare is None:  # apply reads its leads itself, and records the plan's reads
                self._prior = PriorRead(journal, self.key, run.mapping.policies, undo=not options.no_undo)
                self._prior.start(resuming)
            journal.record_run(self.key, str(self.writer.folder), run.started.isoformat())
            self._ledger.run_id = state.start_run(self._ledger.job, run.started.isoformat(timespec="milliseconds"),
                                                  self.summary.input,
                                                  str(self.writer.folder.resolve()))  # any folder's runs
            jobs = self._jobs(batches, states, only)
            try:
                with grouped(journal, state):  # fewer commits; each before a request that depends on it
                    self._send(chain(jobs, missing), only is not None)
                if self.stop.requested:
                    for _ in jobs:  # the rows not reached: counted and reported, not sent
                        pass
            except BaseException:
                self._finish_run(state, 2)
                raise
            finally:
                if self._prior is not None:
                    try:
                        self._prior.finish(self.writer.folder, self.summary.extra)
                    except OSError as exc:  # before.jsonl on a full disk: the journal keeps the before-images
                        self._stop_if_full(exc)
            if self.stop.requested:
                self._stopped(state)
                return
            journal.record_end(self.key, str(self.writer.folder))
            state.finish_run(self._ledger.run_id, _now(), self._counts(), Send().exit_code(self.summary))
            if options.remember_file and run.table.origin is not None:  # a job's sync: each file once
                self._ledger.remember_file(run.table.origin.digest, run.table.origin.location, _now())
            self.summary.extra.update(after_run(state, self._ledger.job, self.writer.folder, options.keep_runs,
                                                journal.unfinished_folders(), options.keep_payloads))

    def _task_records(self) -> TaskRecords:
        counts: dict[str, int] = {}
        if self.run_context.mapping.has_tasks:
            self.summary.extra["tasks"] = counts
        return TaskRecords(self.run_context.options.report_dir / JOURNAL_NAME, self.key, self.writer.folder, counts,
                           self.summary.warnings_by_code)

    def _stopped(self, state: SyncState) -> None:
        """The run stopped: the summary says why and how many rows are left; the journal's run stays open."""
        assert self._ledger is not None
        self.summary.extra.update({"stopped": self.stop.reason, "stopped_because": self.stop.detail,
                                   "rows_left": self._left + len(self._pending)})
        self._finish_run(state, 3)

    def _finish_run(self, state: SyncState, exit_code: int) -> None:
        """The run's line in the history; on a full disk it stays unfinished there (the report says it all)."""
        assert self._ledger is not None
        try:
            state.finish_run(self._ledger.run_id, _now(), self._counts(), exit_code)
        except Exception as exc:
            if not disk_full(exc):
                raise

    def _open_ledger(self, state: SyncState, merged: list[str]) -> SyncLedger:
        run = self.run_context
        ledger = SyncLedger.of(state, run.options, run.catalog.org_id if run.catalog else None, run.mapping.path)
        ledger.merged = merged
        invalid = run.checked.invalid_alone + len(run.checked.verdicts.invalid)
        ledger.guard(run.table.path.name, run.checked.total, invalid)
        self.summary.extra.update(ledger.describe())
        return ledger

    def _send(self, jobs: Iterator[Job], partial: bool) -> None:
        run, options = self.run_context, self.run_context.options
        warning = estimate_line(run.checked.to_send, options.rate, options.time_limit)
        if warning is not None and not partial:
            logger.warning("%s", warning)
            self.summary.extra["time_limit_warning"] = warning
        sender = Sender(self.client, rate=options.rate, concurrency=options.concurrency, policy=options.retry,
                        stop=self.stop, max_wait=options.max_wait, on_wait=self._on_wait)
        prepare = self._guarded(self._prior.prepare if self._prior is not None else self.decider.prepare)
        run.progress.start("sending", None if partial else run.checked.to_send)
        run.heartbeat.doing(lambda: self._doing(sender))
        try:
            sender.run(jobs, on_start=self._on_start, on_outcome=self._on_outcome, prepare=prepare)
        finally:
            run.progress.finish()

    def _guarded(self, prepare: Prepare | None) -> Prepare | None:
        """``prepare`` (the read before a write, which journals what it read) stopping the run on a full disk."""
        if prepare is None:
            return None

        def guarded(job: Job, read: ReadLead) -> Job | Outcome:
            try:
                return prepare(job, read)
            except (StopRequested, ApiError):
                raise
            except Exception as exc:
                self._stop_if_full(exc)
                raise StopRequested("not sent: the run is stopping (no space left)") from exc

        return guarded

    def _doing(self, sender: Sender) -> str:
        done = self.summary.succeeded + self.summary.failed + self.summary.in_doubt
        waiting = self._waiting_until - time.monotonic()
        what = f"waiting {waiting:.0f} s more (the server asked, Retry-After)" if waiting > 0 else sender.activity()
        return f"sending: {done} rows done; {what}"

    def _on_wait(self, seconds: float) -> None:
        """A Retry-After the run waits through: shown on the progress bar until it is over."""
        self._waiting_until = max(self._waiting_until, time.monotonic() + seconds)
        self.run_context.progress.status(f"waiting {seconds:.0f} s (server asked)")

    def _counts(self) -> dict[str, int]:
        summary = self.summary
        return {name: getattr(summary, name) for name in (
            "rows_total", "valid", "invalid", "sent", "succeeded", "failed", "in_doubt", "skipped", "unchanged")}

    # --- decide ---------------------------------------------------------------------------------------------

    def _jobs(self, batches: Iterator[CheckedBatch], states: dict[int, RowState],
              only: set[int] | None) -> Iterator[Job]:
        assert self._ledger is not None
        for batch in batches:
            unchanged = self.decider.unchanged(batch, self._ledger) if not self.stop.requested else set()
            listed: list[tuple[int, str]] = []
            for index, (number, verdict) in enumerate(zip(batch.numbers, batch.verdicts, strict=True)):
                if verdict == "skipped":
                    continue
                if verdict == "invalid":
                    checked = batch.row_at(index)
                    self.writer.add_failure(checked.row(self._columns), checked.first_error())
                    continue
                state = states.get(number)
                if self.stop.requested:
                    self._not_reached(batch.row_at(index), state, only)
                    continue
                if index in unchanged and only is None and not (state and state.status in FINAL_STATUSES):
                    listed.append((number, batch.phones[index][0]))
                    continue
                job = self._job(batch.row_at(index), batch.digests[index], state, only)
                if job is not None:
                    yield job
            self._list_unchanged(listed)

    def _list_unchanged(self, rows: list[tuple[int, str]]) -> None:
        with self._lock:
            self.summary.unchanged += len(rows)
            self.writer.add_unchanged(rows)
        self.run_context.progress.advance(len(rows))

    def _job(self, checked: CheckedRow, digest: bytes, state: RowState | None, only: set[int] | None) -> Job | None:
        """The job of a row that passed the checks, or None when the row is not sent (and is reported here)."""
        assert self._ledger is not None
        row = checked.row(self._columns)
        with self._lock:
            if only is not None and checked.number not in only:
                self.summary.skipped += 1
                return None
            if only is None and state is not None and state.status in FINAL_STATUSES:
                self._resume(row, state)
                self._tasks.records.resumed(checked.number, checked.phones[0])
                return None
        decided = self.decider.decide(checked, digest, self._ledger)
        with self._lock:
            if decided.issues:
                self.summary.count_issues(decided.issues)
                self.writer.add_issues(decided.issues)
            if decided.refused:
                self._record(row, "failed", decided.refused)
                return None
            alone = decided.unchanged and bool(checked.tasks)  # the lead is unchanged, its tasks are not
            if decided.unchanged and not alone:
                self._list_unchanged_locked(checked)
                return None
            self._pending[checked.number] = (row, decided.pending)
            self._tasks.expect(checked.number, checked.phones[0], checked.tasks, digest if alone else None)
        note_in_doubt = state is not None and (
            (state.status == "in_flight" and state.has_note) or state.status == "in_doubt")
        before = decided.pending.before if decided.pending is not None else None
        return Job(checked.number, decided.requests, frozenset(checked.phones), note_in_doubt, decided.fallback,
                   checked.tasks, before.fields if before is not None else None)

    def _not_reached(self, checked: CheckedRow, state: RowState | None, only: set[int] | None) -> None:
        """A row to send that a stopped run did not get to: left for the next run (a row an earlier run finished,
        or one ``--retry-failed`` leaves out, is reported as usual)."""
        with self._lock:
            if only is not None and checked.number not in only:
                self.summary.skipped += 1
            elif only is None and state is not None and state.status in FINAL_STATUSES:
                self._resume(checked.row(self._columns), state)
            else:
                self._left += 1

    def _list_unchanged_locked(self, checked: CheckedRow) -> None:
        self.summary.unchanged += 1
        self.writer.add_unchanged([(checked.number, checked.phones[0])])

    def _resume(self, row: Row, state: RowState) -> None:
        """A row a previous, interrupted run already finished: report it, do not send it again."""
        self.summary.resumed += 1
        self._record(row, state.status, state.message)

    # --- act and record (sender callbacks, called one at a time) --------------------------------------------

    def _on_start(self, job: Job) -> None:
        assert self._journal is not None and self._ledger is not None
        if job.row < 0:  # a lead gone from the input
            return
        has_note = any(NOTE in request for request in job.requests) and not job.note_in_doubt
        durable = has_note or job.note_in_doubt or (self._prior is not None and self._prior.durable(job.row))
        try:  # (on disk before the request goes, with what it depends on, when ``durable``; a note always)
            self._journal.mark_in_flight(self.key, job.row, has_note=has_note or job.note_in_doubt, commit=durable)
            pending = self._pending[job.row][1]
            if pending is not None:
                self._ledger.sending(pending)
        except Exception as exc:
            self._stop_if_full(exc)
            raise StopRequested("not sent: the run is stopping (no space left)") from exc
        with self._lock:
            self.summary.sent += bool(job.requests)  # a job of tasks alone sends no upsert

    def _on_outcome(self, outcome: Outcome) -> None:
        assert self._journal is not None and self._ledger is not None
        try:
            if self._prior is not None:
                whole = self._pending[outcome.row][1] if outcome.row >= 0 and outcome.fell_back else None
                self._prior.outcome(outcome, (whole.whole,) if whole is not None else ())
            if outcome.row < 0:
                self._missing.record(outcome)
                return
            if outcome.stopped:
                self._put_back(outcome)
                return
            # tasks are journaled before their row; a phone: sent for its tasks alone
            if outcome.tasks:
                self._journal.commit()  # (the tasks' own connection writes next)
            alone = self._tasks.record(outcome)
            self._journal.record(self.key, outcome.row, outcome.status, outcome.message)
            with self._lock:
                row, pending = self._pending.pop(outcome.row)
                try:
                    if pending is not None:
                        self._ledger.outcome(self._tasks.settled_pending(pending, outcome), outcome.status,
                                             outcome.fell_back)
                finally:
                    if alone is not None:
                        self.summary.unchanged += 1
                        self.writer.add_unchanged([(row.number, alone)])
                        self.run_context.progress.advance(1)
                    else:
                        self._record(row, outcome.status, outcome.message)
        except Exception as exc:
            # (the journal still has the row in flight: the next run sends it again, without its note)
            self._stop_if_full(exc)

    def _put_back(self, outcome: Outcome) -> None:
        """A row the run stopped before it ended: unless any of it may have been applied, the journal and the
        sync state forget it was being sent (its note too), so the next run sends it as if never tried."""
        assert self._journal is not None and self._ledger is not None
        if outcome.maybe_applied:
            return  # left in flight, as a killed run leaves it
        self._journal.restore(self.key, outcome.row, self._states.get(outcome.row))
        pending = self._pending[outcome.row][1]
        if pending is not None:
            self._ledger.outcome(pending, "failed", False)  # confirms nothing, forgets the note
        with self._lock:
            self.summary.sent -= 1

    def _stop_if_full(self, exc: Exception) -> None:
        """A full disk stops the run (``disk-full``); any other error is re-raised."""
        if not disk_full(exc):
            raise exc
        if self.stop.request("disk-full", f"no space left on the disk of {self.run_context.options.report_dir}"):
            logger.warning("no space left on the disk of %s (%s): stopping the run",
                           self.run_context.options.report_dir, exc)

    def _record(self, row: Row, status: str, message: str) -> None:
        if self._waiting_until and time.monotonic() >= self._waiting_until:
            self._waiting_until = 0.0
            self.run_context.progress.status("")
        self.summary.count_outcome(status)
        if status == "succeeded":
            self.writer.add_success(row)
        else:
            self.writer.add_failure(row, message)
        self.run_context.progress.advance(1, failed=int(status != "succeeded"))


def _now() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="milliseconds")
