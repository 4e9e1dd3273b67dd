"""Pass two of a real run: turn checked rows into jobs, send them, and record every outcome twice —
in the journal (so a killed run resumes) and in the report (so people see each success and failure).

Resume rules, keyed by (input content, mapping) and row number:
- a row the journal has as succeeded, failed or in doubt is not sent again; its outcome goes into this report;
- a row left in flight by a killed run is sent again; if it carried a note, the note is dropped and the row is
  reported in doubt (the note may already be on the lead's timeline);
- ``--fresh`` forgets the journal; ``--retry-failed RUN_DIR`` sends only that run's failed and in-doubt rows.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importer.api.client import SuperfoneClient
from importer.errors import ConfigError
from importer.models import Issue, Row
from importer.report import ReportWriter
from importer.run.journal import Journal, RowState, file_digest
from importer.run.options import Progress, RunOptions, Tally
from importer.run.sending import Job, Outcome, Sender

if TYPE_CHECKING:
    from importer.run.importer import Prepared

JOURNAL_NAME = "journal.sqlite"
DONE = ("succeeded", "failed", "in_doubt")


def first_error(issues: tuple[Issue, ...]) -> str:
    errors = [f"{i.code}: {i.message}" for i in issues if i.is_error]
    return "; ".join(errors) if errors else "invalid row"


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
    def __init__(self, client: SuperfoneClient, prepared: Prepared, writer: ReportWriter,
                 options: RunOptions, progress: Progress) -> None:
        self.client = client
        self.prepared = prepared
        self.writer = writer
        self.options = options
        self.progress = progress
        self.tally = Tally()
        self._lock = threading.Lock()
        self._pending: dict[int, Row] = {}
        self._key = ""
        self._journal: Journal | None = None

    def run(self, started: datetime) -> tuple[Tally, dict[str, Any]]:
        table, mapping = self.prepared.table, self.prepared.mapping
        # The target is part of the key: the same sheet imported into two accounts is two imports.
        self._key = Journal.run_key(file_digest(table.path), f"{mapping.digest}|{self.options.base_url}")
        self.options.report_dir.mkdir(parents=True, exist_ok=True)
        with Journal(self.options.report_dir / JOURNAL_NAME) as journal:
            self._journal = journal
            if self.options.fresh:
                journal.forget(self._key)
            only = retry_rows(journal, self._key, self.options.retry_failed) if self.options.retry_failed else None
            states = journal.states(self._key)
            journal.record_run(self._key, str(self.writer.folder), started.isoformat())
            sender = Sender(self.client, rate=self.options.rate, concurrency=self.options.concurrency,
                            policy=self.options.retry)
            self.progress.start("sending", None if only is not None else self.prepared.to_send)
            try:
                sender.run(self._jobs(states, only), on_start=self._on_start, on_outcome=self._on_outcome)
            finally:
                self.progress.finish()
        return self.tally, {"journal_key": self._key, "resumed": self.tally.resumed}

    # --- jobs ---------------------------------------------------------------------------------------------

    def _jobs(self, states: dict[int, RowState], only: set[int] | None) -> Iterator[Job]:
        columns = self.prepared.table.columns
        for spilled, issues, verdict in self.prepared.replay(self.writer, self.tally):
            number = spilled.result.number
            row = Row(number, dict(zip(columns, spilled.values or (), strict=False)))
            if verdict == "invalid":
                self.writer.add_failure(row, first_error(issues))
                continue
            if verdict == "skipped":
                continue
            if only is not None and number not in only:
                self.tally.skipped += 1
                continue
            state = states.get(number)
            with self._lock:
                if only is None and state is not None and state.status in DONE:
                    self._resume(row, state)
                    continue
                self._pending[number] = row
            note_in_doubt = state is not None and (
                (state.status == "in_flight" and state.has_note) or state.status == "in_doubt")
            requests = tuple(json.loads(text) for text in spilled.result.requests)
            yield Job(number, requests, frozenset(spilled.result.phones), note_in_doubt)

    def _resume(self, row: Row, state: RowState) -> None:
        """A row a previous, interrupted run already finished: report it, do not send it again."""
        self.tally.resumed += 1
        self._count(state.status)
        if state.status == "succeeded":
            self.writer.add_success(row)
        else:
            self.writer.add_failure(row, state.message)
        self.progress.advance(1, failed=int(state.status != "succeeded"))

    # --- sender callbacks (called serialised by the sender) -----------------------------------------------

    def _on_start(self, job: Job) -> None:
        assert self._journal is not None
        has_note = any("customer_note" in request for request in job.requests) and not job.note_in_doubt
        self._journal.mark_in_flight(self._key, job.row, has_note=has_note or job.note_in_doubt)
        with self._lock:
            self.tally.sent += 1

    def _on_outcome(self, outcome: Outcome) -> None:
        assert self._journal is not None
        self._journal.record(self._key, outcome.row, outcome.status, outcome.message)
        with self._lock:
            row = self._pending.pop(outcome.row)
            self._count(outcome.status)
            if outcome.status == "succeeded":
                self.writer.add_success(row)
            else:
                self.writer.add_failure(row, outcome.message)
        self.progress.advance(1, failed=int(outcome.status != "succeeded"))

    def _count(self, status: str) -> None:
        if status == "succeeded":
            self.tally.succeeded += 1
        elif status == "in_doubt":
            self.tally.in_doubt += 1
        else:
            self.tally.failed += 1
