"""A dry run: check and report, send nothing; and what a sync run would send, for the kinds that say so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from importer.api.body import request_body
from importer.report import Summary
from importer.report.payloads import payload_line
from importer.run.context.kind import Access, RunContext
from importer.run.context.rows import CheckedBatch, CheckedRow
from importer.run.engine.tasks import PlannedTasks, task_lines
from importer.run.kinds.ledger import Decided, SyncLedger, reading_ledger
from importer.run.rules.policy import dry_run_lines

__all__ = ["DryRun", "sync_decisions"]


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
    access = Access.OPTIONAL

    def act(self, batches: Iterator[CheckedBatch], run: RunContext) -> None:
        planned = PlannedTasks(run.writer.folder, run.summary, run.mapping.has_tasks)  # tasks.jsonl
        run.summary.keep_policies(run.mapping.policies)
        with reading_ledger(run.options, run.catalog.org_id if run.catalog else None, run.mapping.path,
                            online=run.client is not None) as ledger:
            if ledger is None:
                for batch in planned.tap(batches):
                    run.writer.add_payloads(batch.sent_payloads())
                    if run.stop.requested:
                        break
                planned.finish()
                return
            run.summary.sync = ledger.describe()
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
