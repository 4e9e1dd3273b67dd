"""A real run (:class:`Send`): decide which checked rows to send, send them, and record every outcome twice —
in the journal (so a killed run resumes) and in the report (so people see each success and failure).

Resume rules, keyed by (input content, mapping, target) and row number:
- a row the journal has as succeeded, failed or in doubt is not sent again; its outcome goes into this report;
- a row left in flight by a killed run is sent again; if it carried a note, the note is dropped and the row is
  reported in doubt (the note may already be on the lead's timeline);
- ``--fresh`` forgets the journal; ``--retry-failed RUN_DIR`` sends only that run's failed and in-doubt rows.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from importer.api.client import SuperfoneClient
from importer.errors import ConfigError
from importer.models import FINAL_STATUSES, Row
from importer.report import Summary
from importer.run.journal import Journal, RowState
from importer.run.kind import RunContext
from importer.run.rows import CheckedBatch, CheckedRow
from importer.run.sending import NOTE, Job, Outcome, Sender

JOURNAL_NAME = "journal.sqlite"


class Send:
    """A real run: every row that passes the checks is sent, unless the journal has it done already."""

    name = "run"
    writes = True
    reads_account = False

    def act(self, batches: Iterator[CheckedBatch], run: RunContext) -> None:
        Delivery(run).run(row for batch in batches for row in batch)

    def exit_code(self, summary: Summary) -> int:
        return 1 if (summary.invalid or summary.failed or summary.in_doubt) else 0

    def lines(self, summary: dict[str, Any]) -> list[str]:
        return []


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

    def __init__(self, run: RunContext) -> None:
        assert run.client is not None
        self.run_context = run
        self.client: SuperfoneClient = run.client
        self.summary = run.summary
        self.writer = run.writer
        self._columns = run.table.columns
        self._lock = threading.Lock()
        self._pending: dict[int, Row] = {}
        # The target is part of the key: the same sheet imported into two accounts is two imports.
        self.key = Journal.run_key(run.table.digest(), f"{run.mapping.digest}|{run.options.base_url}")
        self._journal: Journal | None = None

    def run(self, rows: Iterator[CheckedRow]) -> None:
        run, options = self.run_context, self.run_context.options
        self.summary.extra["journal_key"] = self.key
        options.report_dir.mkdir(parents=True, exist_ok=True)
        with Journal(options.report_dir / JOURNAL_NAME) as journal:
            self._journal = journal
            if options.fresh:
                journal.forget(self.key)
            only = retry_rows(journal, self.key, options.retry_failed) if options.retry_failed else None
            states = journal.states(self.key)
            journal.record_run(self.key, str(self.writer.folder), run.started.isoformat())
            sender = Sender(self.client, rate=options.rate, concurrency=options.concurrency, policy=options.retry)
            run.progress.start("sending", None if only is not None else run.checked.to_send)
            try:
                sender.run(self._jobs(rows, states, only), on_start=self._on_start, on_outcome=self._on_outcome)
            finally:
                run.progress.finish()

    # --- decide ---------------------------------------------------------------------------------------------

    def _jobs(self, rows: Iterator[CheckedRow], states: dict[int, RowState], only: set[int] | None) -> Iterator[Job]:
        for checked in rows:
            if checked.verdict == "skipped":
                continue
            row = checked.row(self._columns)
            if checked.verdict == "invalid":
                self.writer.add_failure(row, checked.first_error())
                continue
            if only is not None and checked.number not in only:
                with self._lock:
                    self.summary.skipped += 1
                continue
            state = states.get(checked.number)
            with self._lock:
                if only is None and state is not None and state.status in FINAL_STATUSES:
                    self._resume(row, state)
                    continue
                self._pending[checked.number] = row
            note_in_doubt = state is not None and (
                (state.status == "in_flight" and state.has_note) or state.status == "in_doubt")
            yield Job(checked.number, checked.requests, frozenset(checked.phones), note_in_doubt)

    def _resume(self, row: Row, state: RowState) -> None:
        """A row a previous, interrupted run already finished: report it, do not send it again."""
        self.summary.resumed += 1
        self._record(row, state.status, state.message)

    # --- act and record (sender callbacks, called one at a time) --------------------------------------------

    def _on_start(self, job: Job) -> None:
        assert self._journal is not None
        has_note = any(NOTE in request for request in job.requests) and not job.note_in_doubt
        self._journal.mark_in_flight(self.key, job.row, has_note=has_note or job.note_in_doubt)
        with self._lock:
            self.summary.sent += 1

    def _on_outcome(self, outcome: Outcome) -> None:
        assert self._journal is not None
        self._journal.record(self.key, outcome.row, outcome.status, outcome.message)
        with self._lock:
            self._record(self._pending.pop(outcome.row), outcome.status, outcome.message)

    def _record(self, row: Row, status: str, message: str) -> None:
        self.summary.count_outcome(status)
        if status == "succeeded":
            self.writer.add_success(row)
        else:
            self.writer.add_failure(row, message)
        self.run_context.progress.advance(1, failed=int(status != "succeeded"))
