"""A nightly sync's first night, recorded without sending: the account's sync state as a real first run leaves it.

A real first run of 1,000,000 rows into the sandbox takes over half an hour (a get-lead and an upsert a row); what
the second night meets is only the state that run wrote. :class:`FirstNight` is a kind of run that reads, maps and
checks the sheet as any run does (the same digests of each row's requests), then records every row that passes
exactly as a real run records a row whose upsert succeeded: the sync ledger's own decide stage
(:meth:`SyncLedger.decide`) and its own record of the outcome (:meth:`SyncLedger.outcome`: the row's digest and
confirmed values, its note delivered), in a run of the job's history, followed by the state's backup
(:func:`after_run`). Nothing is sent, nothing is read from the account but its catalog.

What it does not write is the journal: a real run's journal keeps each row's outcome and before-image under the first
run's key, which the second night reads only to learn that run finished (one look-up, whatever its size).

:func:`same_state` holds such a state against one a real run wrote for the same sheet (``bench_sync.py`` checks it
before it measures): the same leads with the same digests, values and added names, the same notes.

    SF_API_KEY=bench-key python benchmarks/first_night.py SHEET -m MAPPING --base-url URL --report-dir DIR
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from importer import Importer  # noqa: E402
from importer.report import Summary  # noqa: E402
from importer.run.context.kind import Access, RunContext  # noqa: E402
from importer.run.context.options import RunOptions  # noqa: E402
from importer.run.context.rows import CheckedBatch  # noqa: E402
from importer.run.kinds.ledger import SyncLedger, account_state  # noqa: E402
from importer.run.stores.upkeep import after_run  # noqa: E402


class FirstNight:
    """Record every row that passes the checks as succeeded, the way a real run's recorder does (nothing sent)."""

    name = "run"
    access = Access.WRITES
    #: The state it wrote (once it acted).
    where = ""

    def act(self, batches: Iterator[CheckedBatch], run: RunContext) -> None:
        options, summary = run.options, run.summary
        org_id = run.catalog.org_id if run.catalog is not None else None
        with account_state(options, org_id) as opened:
            state = opened.state
            self.where = state.where
            ledger = SyncLedger.of(state, options, org_id, run.mapping.path)
            ledger.run_id = state.start_run(ledger.job, run.started.isoformat(timespec="milliseconds"),
                                            summary.input, str(run.writer.folder.resolve()))
            state.group(True)  # one transaction a batch, as a run's grouped writes make a few
            for batch in batches:
                unchanged = ledger.unchanged(batch)  # also tells the ledger which leads it never confirmed
                for index, verdict in enumerate(batch.verdicts):
                    if verdict != "send":
                        continue
                    if index in unchanged:
                        summary.unchanged += 1
                        continue
                    decided = ledger.decide(batch.row_at(index), batch.digests[index])
                    if decided.pending is None:
                        summary.unchanged += 1
                        continue
                    summary.sent += 1
                    ledger.outcome(decided.pending, "succeeded", fell_back=False)
                    summary.count_outcome("succeeded")
                state.commit()
            state.group(False)
            counts = {name: getattr(summary, name) for name in (
                "rows_total", "valid", "invalid", "sent", "succeeded", "failed", "in_doubt", "skipped", "unchanged")}
            state.finish_run(ledger.run_id, datetime.now(UTC).isoformat(timespec="milliseconds"), counts,
                             self.exit_code(summary))
            after_run(state, ledger.job, run.writer.folder, None, set(), run=ledger.run_id)

    def exit_code(self, summary: Summary) -> int:
        return 1 if summary.invalid else 0

    def lines(self, summary: dict[str, Any]) -> list[str]:
        return []


def _content(path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """A state's leads and notes, without when and by which run (they differ between any two runs)."""
    with sqlite3.connect(path) as db:
        leads = db.execute("SELECT job.account, job.name, phone, digest, fields, added FROM lead "
                           "JOIN job ON job.id = lead.job_id ORDER BY 1, 2, 3").fetchall()
        notes = db.execute("SELECT account, phone, digest, status FROM note ORDER BY 1, 2, 3").fetchall()
    return leads, notes


def same_state(real: Path, built: Path) -> tuple[bool, str]:
    """Whether ``built`` holds what ``real`` holds (leads, notes), and a line saying how many or what differs."""
    real_leads, real_notes = _content(real)
    built_leads, built_notes = _content(built)
    if real_leads == built_leads and real_notes == built_notes:
        return True, f"the same {len(real_leads):,} leads and {len(real_notes):,} notes"
    differ = sum(a != b for a, b in zip(real_leads, built_leads, strict=False))
    return False, (f"real {len(real_leads):,} leads, {len(real_notes):,} notes; built {len(built_leads):,} leads "
                   f"({differ:,} of the first ones differ), {len(built_notes):,} notes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sheet", type=Path)
    parser.add_argument("-m", "--mapping", type=Path, required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--report-dir", type=Path, required=True)
    parser.add_argument("--rate", help="ignored (nothing is sent): the run's arguments are taken as they are")
    parser.add_argument("--concurrency", help="ignored, as --rate")
    args = parser.parse_args()
    options = RunOptions(base_url=args.base_url, api_key=os.environ.get("SF_API_KEY"), report_dir=args.report_dir)
    night = FirstNight()
    result = Importer(args.sheet, args.mapping, options, kind=night).run()
    counts = result.summary
    print(f"{counts['rows_total']:,} rows: {counts['succeeded']:,} recorded as succeeded, {counts['invalid']:,} "
          f"invalid, {counts['skipped']:,} skipped, {counts['unchanged']:,} unchanged (nothing sent); state "
          f"{night.where}")
    print(f"report: {result.folder}")


if __name__ == "__main__":
    main()
