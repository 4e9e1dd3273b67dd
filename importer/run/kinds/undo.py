"""``superfone-import undo RUN_DIR``: put back what a real run (or an apply) changed, where nobody changed it since.

The run's before.jsonl says, per lead, what it wrote and what the lead held before. Undo reads each lead again
just before writing to it (:class:`~importer.run.engine.sending.Sender` ``prepare``, so reads and writes share the rate
limit and the retries) and decides field by field (:mod:`importer.run.rules.restore`); undo.csv has one line per field,
label or lead with what became of it.

An undo is journaled like a run (key: the before.jsonl's digest, ``undo`` and the target): killed, it resumes where
it stopped when run again (a lead it was writing is read again, and what it already put back counts as
``already``); once it went to the end, a second undo of the same run does nothing (:meth:`Undo.done_by`). Its
preview (:class:`UndoPreview`) only reads: undo.csv says what it would do (``would-…``), nothing is written or
journaled.

Counts per lead: ``succeeded`` (its undo went through), ``failed``, ``unchanged`` (nothing to write: all already
as before, edited since, created without ``--label-created``, gone), ``skipped`` (its write had failed in the run:
there is nothing to undo).
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from importer.api.client import SuperfoneClient
from importer.api.retry import Retrying
from importer.api.timeline import RequestTimeline
from importer.errors import ConfigError
from importer.outcomes import Cause
from importer.report import ReportWriter, Summary, neutralise
from importer.report.before import BEFORE_FILE, BeforeImage, read_before_images
from importer.report.records import Journaled, UndoFacts
from importer.run.context.options import NullProgress, Progress, RunOptions
from importer.run.context.result import RunResult
from importer.run.engine.sending import Sender
from importer.run.engine.stop import Stop
from importer.run.engine.work import Job, Outcome, ReadLead
from importer.run.kinds.send import JOURNAL_NAME
from importer.run.rules.restore import UNDO_COLUMNS, WRITES, LeadUndo, UndoLine, undo_lead
from importer.run.stores.journal import Journal, RowState, file_digest

__all__ = ["UNDO_FILE", "Undo", "UndoPreview"]

UNDO_FILE = "undo.csv"


class Undo:
    """One undo of the run in ``run_dir`` against ``options``' account (see :mod:`importer.run.kinds.undo`)."""

    #: An undo writes; its preview (:class:`UndoPreview`) only reads.
    dry_run = False

    def __init__(self, run_dir: Path, options: RunOptions, *, label_created: str | None = None,
                 progress: Progress | None = None, stop: Stop | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.stop = stop if stop is not None else Stop()
        self.options = options
        self.label_created = label_created
        self.progress = progress or NullProgress()
        self.path = self.run_dir / BEFORE_FILE
        if not self.path.is_file():
            raise ConfigError(f"{self.run_dir}: no {BEFORE_FILE} here: not the folder of a real run or an apply "
                              "(or one made with --no-undo, or that did not end)")
        self.key = Journal.run_key(file_digest(self.path), "undo", options.base_url.rstrip("/"))
        self._lock = threading.Lock()
        self._images: dict[int, BeforeImage] = {}
        self._decided: dict[int, LeadUndo] = {}

    def done_by(self) -> Path | None:
        """The folder of the undo of this run that went to the end, or None."""
        path = self.options.report_dir / JOURNAL_NAME
        if not path.is_file():
            return None
        with Journal(path) as journal:
            runs = journal.runs(self.key)
            return runs[-1].run_dir if runs and not journal.interrupted(self.key) else None

    def run(self) -> RunResult:
        """Undo the run (``stop``: a signal, ``--time-limit`` or a quota-length wait ends it early, resumable)."""
        if not self.options.api_key:
            raise ConfigError("SF_API_KEY is not set: undo reads and writes the account")
        if self.options.time_limit is not None:
            self.stop.limit_time(self.options.time_limit)
        try:
            return self._run(self.options.api_key, datetime.now(UTC).astimezone())
        finally:
            self.stop.close()

    def _run(self, api_key: str, started: datetime) -> RunResult:
        timeline = RequestTimeline(started)  # the undo's requests, for requests.csv and report.html
        with SuperfoneClient(self.options.base_url, api_key,
                             pool_size=self.options.concurrency, observer=timeline) as client:
            self._check_label(client)
            with ReportWriter(self.options.report_dir, Path(f"undo-{self.run_dir.name}"), columns=["phone"],
                              workbook=False, dry_run=self.dry_run, started_at=started) as writer:
                summary = Summary(str(self.run_dir), "", self.dry_run, started_at=started)
                summary.rows_total = summary.valid = sum(1 for _ in read_before_images(self.run_dir))
                summary.undo = UndoFacts(str(self.run_dir), self.label_created)
                with open(writer.folder / UNDO_FILE, "w", encoding="utf-8-sig", newline="") as stream:
                    report = _UndoReport(stream, summary, summary.undo, self.progress, self.decided)
                    self._act(client, writer, report)
                if self.stop.reason is not None:
                    summary.stop(self.stop.reason, self.stop.detail, summary.rows_total - report.ended)
                else:
                    summary.check_invariant()
                folder = writer.finish(summary, requests=timeline.record())
        return RunResult(folder, summary.as_dict(), 1 if summary.failed or summary.in_doubt else 0)

    def _check_label(self, client: SuperfoneClient) -> None:
        if self.label_created is None:
            return
        retrying = Retrying(self.options.retry, stop=self.stop, max_wait=self.options.max_wait)
        labels = retrying.call(client.list_labels)
        active = [str(label.get("title")) for label in labels if label.get("status", "ACTIVE") == "ACTIVE"]
        if self.label_created not in active:
            raise ConfigError(f"--label-created {self.label_created}: no such label in the account (labels are "
                              f"made in the dashboard; the account has: {', '.join(active) or 'none'})")

    def _sender(self, client: SuperfoneClient) -> Sender:
        return Sender(client, rate=self.options.rate, concurrency=self.options.concurrency,
                      policy=self.options.retry, stop=self.stop, max_wait=self.options.max_wait)

    def _act(self, client: SuperfoneClient, writer: ReportWriter, report: _UndoReport) -> None:
        sender = self._sender(client)
        with Journal(self.options.report_dir / JOURNAL_NAME) as journal:
            states = journal.states(self.key) if journal.interrupted(self.key) else {}
            journal.record_run(self.key, str(writer.folder), report.summary.started_at or datetime.now(UTC))
            report.summary.journal = Journaled(self.key)

            def on_start(job: Job) -> None:
                journal.mark_in_flight(self.key, job.row, has_note=False)
                report.summary.sent += 1

            def on_outcome(outcome: Outcome) -> None:
                if outcome.stopped:  # left in flight: the next undo reads the lead again and finishes it
                    self.decided(outcome.row, outcome.message)
                    return
                lines = report.record(outcome)
                journal.record(self.key, outcome.row, outcome.status, json.dumps(_journaled(outcome, lines)))

            self.progress.start("undoing", report.summary.rows_total)
            try:
                sender.run(self._jobs(states, report), on_start=on_start, on_outcome=on_outcome,
                           prepare=self._decide)
            finally:
                self.progress.finish()
            if not self.stop.requested:
                journal.record_end(self.key, str(writer.folder))

    def _jobs(self, states: dict[int, RowState], report: _UndoReport) -> Iterator[Job]:
        """One job per lead of before.jsonl (numbered by line); what a killed undo finished is reported as is."""
        for number, image in enumerate(read_before_images(self.run_dir), start=1):
            if self.stop.requested:
                return
            state = states.get(number)
            if state is not None and state.status != "in_flight":
                report.resume(state)
                continue
            if image.status == "failed" or image.existed is None:
                report.lines(_unsent(image), "skipped")
                continue
            with self._lock:
                self._images[number] = image
            yield Job(number, ({"customer_phone": image.phone},), frozenset({image.phone}))

    def _decide(self, job: Job, read: ReadLead) -> Job | Outcome:
        """Just before the lead's write: read it, decide, and send the requests (a dry run sends none)."""
        with self._lock:
            image = self._images[job.row]
        undo = undo_lead(image, read(image.phone), self.label_created)
        with self._lock:
            self._decided[job.row] = undo
        if not undo.requests:
            return Outcome(job.row, "succeeded", "nothing to write", cause=Cause.NOTHING_TO_RESTORE)
        if self.dry_run:  # a preview sends nothing
            return Outcome(job.row, "succeeded", "would write", cause=Cause.WOULD_RESTORE)
        return Job(job.row, undo.requests, job.phones)

    def decided(self, row: int, message: str) -> LeadUndo:
        """What was decided for a lead that ended (a lead that could not be read: one line saying why)."""
        with self._lock:
            image = self._images.pop(row)
            undo = self._decided.pop(row, None)
        if undo is None:
            return LeadUndo(lines=[UndoLine(image.row, image.phone, image.lead_id, "lead", "failed",
                                            message=message)])
        return undo


class UndoPreview(Undo):
    """What undo would do (``undo --dry-run``, the page's preview): every lead read, nothing written or journaled;
    undo.csv says ``would-…``."""

    dry_run = True

    def _act(self, client: SuperfoneClient, writer: ReportWriter, report: _UndoReport) -> None:
        report.summary.journal = Journaled(None)

        def on_outcome(outcome: Outcome) -> None:
            if not outcome.stopped:
                report.record(outcome)

        self.progress.start("reading", report.summary.rows_total)
        try:
            self._sender(client).run(self._jobs({}, report), on_start=lambda job: None, on_outcome=on_outcome,
                                     prepare=self._decide)
        finally:
            self.progress.finish()


def _unsent(image: BeforeImage) -> list[UndoLine]:
    why = ("the run's write to this lead failed: nothing to undo" if image.status == "failed"
           else "the run did not read this lead before writing (--no-undo): nothing recorded to put back")
    return [UndoLine(image.row, image.phone, image.lead_id, "lead", "skipped" if image.status == "failed"
                     else "not-recorded", message=why)]


def _journaled(outcome: Outcome, lines: list[UndoLine]) -> dict[str, Any]:
    return {"message": outcome.message, "cause": outcome.cause, "lines": [list(line) for line in lines]}


class _UndoReport:
    """undo.csv and the counts, written as leads end (called one at a time)."""

    def __init__(self, stream: IO[str], summary: Summary, facts: UndoFacts, progress: Progress,
                 decided: Callable[[int, str], LeadUndo]) -> None:
        self.table = csv.writer(stream)
        self.table.writerow(UNDO_COLUMNS)
        self.summary = summary
        self.progress = progress
        self.decided = decided
        self.facts = facts
        self.outcomes = facts.fields
        self.ended = 0  # leads reported

    def record(self, outcome: Outcome) -> list[UndoLine]:
        lines = self.decided(outcome.row, outcome.message).lines
        if outcome.cause is Cause.WOULD_RESTORE:
            lines = [line._replace(outcome=f"would-{line.outcome}") if line.outcome in WRITES else line
                     for line in lines]
            self.facts.would_write += 1
        elif outcome.status != "succeeded":
            lines = [line._replace(outcome="failed", message=outcome.message) if line.outcome in WRITES else line
                     for line in lines]
        wrote = outcome.cause not in (Cause.NOTHING_TO_RESTORE, Cause.WOULD_RESTORE)
        self.lines(lines, outcome.status if wrote or outcome.status != "succeeded" else "unchanged")
        return lines

    def resume(self, state: RowState) -> None:
        """A lead a killed undo finished: its lines as the journal kept them."""
        record = json.loads(state.message)
        lines = [UndoLine(*line) for line in record["lines"]]
        nothing = state.status == "succeeded" and record.get("cause") == Cause.NOTHING_TO_RESTORE
        self.summary.resumed += 1
        self.lines(lines, "unchanged" if nothing else state.status)

    def lines(self, lines: list[UndoLine], status: str) -> None:
        self.ended += 1
        for line in lines:
            self.outcomes[line.outcome] += 1
            self.table.writerow([neutralise(_cell(value)) for value in line])
        if status == "unchanged":
            self.summary.unchanged += 1
        elif status == "skipped":
            self.summary.skipped += 1
        else:
            self.summary.count_outcome(status)
        self.progress.advance(1, failed=int(status in ("failed", "in_doubt")))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
