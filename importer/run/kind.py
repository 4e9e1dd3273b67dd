"""What differs between a dry run, a real run, a plan and a verify: one :class:`RunKind` handed to the importer.

The importer reads, maps and checks the rows and records each one (its issues, its counts); the kind decides
what to do with the rows that pass and does it (writes their payloads, sends them, or reads their leads back).
A new kind of run is a new class with these few members, in the package of what it does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from importer.api.body import request_body
from importer.api.catalog import Catalog
from importer.api.client import SuperfoneClient
from importer.mapping import Mapping
from importer.report import ReportWriter, Summary
from importer.report.payloads import payload_line
from importer.run.heartbeat import Heartbeat
from importer.run.ledger import Decided, SyncLedger, reading_ledger
from importer.run.options import Progress, RunOptions
from importer.run.policy import dry_run_lines
from importer.run.rows import CheckedBatch, CheckedRow, CheckedRows
from importer.run.stopping import Stop
from importer.run.tasks import PlannedTasks, task_lines
from importer.sources import Table


@dataclass
class RunContext:
    """Everything a kind of run may use while it acts: the run's options, the account (``client`` and
    ``catalog`` are None when the run is offline), the input, the report being written and its counts, the run's
    stop (a kind checks it between rows, and hands it to what waits or sends) and its heartbeat (what the run is
    doing, logged every half minute)."""

    options: RunOptions
    client: SuperfoneClient | None
    catalog: Catalog | None
    table: Table
    mapping: Mapping
    checked: CheckedRows
    writer: ReportWriter
    summary: Summary
    progress: Progress
    started: datetime
    stop: Stop = field(default_factory=Stop)
    heartbeat: Heartbeat = field(default_factory=Heartbeat)


class RunKind(Protocol):
    """One kind of run. ``writes``: it sends writes to the account (summary.json's ``dry_run`` is its opposite);
    ``reads_account``: it needs the account even for a dry run (an API key, not ``--offline``)."""

    name: str
    writes: bool
    reads_account: bool

    def act(self, batches: Iterator[CheckedBatch], run: RunContext) -> None:
        """Decide and act on every row, in sheet order (the importer has recorded each one's issues)."""
        ...

    def exit_code(self, summary: Summary) -> int:
        """0 when everything went as planned, else 1 (the importer's own failures are exit code 2)."""
        ...

    def lines(self, summary: dict[str, Any]) -> list[str]:
        """What this kind adds to the closing summary on the terminal (``summary``: summary.json's content)."""
        ...


def sync_decisions(ledger: SyncLedger, batch: CheckedBatch,
                   run: RunContext) -> Iterator[tuple[CheckedRow, Decided]]:
    """For a run that says what a sync run would send (a dry run, a plan): the batch's rows that would be sent,
    with what would be sent (no request: the row's lead is unchanged but its tasks would be sent). Unchanged rows
    are counted, and the decide stage's issues recorded, here."""
    unchanged = ledger.unchanged(batch)
    run.summary.unchanged += len(unchanged)
    for index, verdict in enumerate(batch.verdicts):
        if verdict != "send" or index in unchanged:
            continue
        row = batch.row_at(index)
        decided = ledger.decide(row, batch.digests[index])
        if decided.issues:
            run.summary.count_issues(decided.issues)
            run.writer.add_issues(decided.issues)
        run.summary.unchanged += decided.unchanged
        if decided.requests or row.tasks:
            yield row, decided


class DryRun:
    """Check and report, send nothing: payloads.jsonl holds exactly what a real run would send — under the sync's
    rules when the account is known and its job has a state: rows its leads already hold are counted
    ``unchanged``, and the others show only what would be sent. Field policies other than overwrite need each lead's
    values, which a dry run does not read: their fields show as the sheet has them, and the closing lines say so
    (``run --plan`` applies them)."""

    name = "dry run"
    writes = False
    reads_account = False

    def act(self, batches: Iterator[CheckedBatch], run: RunContext) -> None:
        planned = PlannedTasks(run.writer.folder, run.summary, run.mapping.has_tasks)  # tasks.jsonl
        if run.mapping.policies:
            run.summary.extra["policies"] = dict(run.mapping.policies)
        with reading_ledger(run.options, run.catalog.org_id if run.catalog else None, run.mapping.path,
                            online=run.client is not None) as ledger:
            if ledger is None:
                for batch in planned.tap(batches):
                    run.writer.add_payloads(batch.sent_lines())
                    if run.stop.requested:
                        break
                planned.finish()
                return
            run.summary.extra.update(ledger.describe())
            for batch in batches:
                decisions = list(sync_decisions(ledger, batch, run))
                run.writer.add_payloads(b"".join(payload_line(row.number, request_body(request))
                                                 for row, decided in decisions for request in decided.requests))
                planned.add(b"".join(batch.tasks.get(row.number, b"") for row, _ in decisions))
                if run.stop.requested:
                    break
        planned.finish()

    def exit_code(self, summary: Summary) -> int:
        return 1 if summary.invalid else 0

    def lines(self, summary: dict[str, Any]) -> list[str]:
        return task_lines(summary) + dry_run_lines(summary)
