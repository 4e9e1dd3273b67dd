"""Reading leads back for ``run --plan`` and ``verify``: :class:`ReadBack` looks up every checked row that would be
sent, through the engine's :class:`~importer.run.engine.reads.LeadReader`, and writes one line per row to a CSV in
the run folder.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from importer.errors import StopRequested
from importer.report import Summary, neutralise
from importer.report.records import LookupCounts
from importer.run.context.kind import RunContext
from importer.run.context.rows import CheckedBatch
from importer.run.engine.reads import Fetch, Lead, LeadReader
from importer.run.rules.compare import merge_requests

__all__ = ["Fetch", "Lead", "ReadBack", "Target"]


@dataclass(frozen=True, slots=True)
class Target:
    """A valid row that would be sent: its number, its requests merged into one payload, its phones, and the
    requests themselves (``fallback``: sent instead when the lead turns out deleted, see the sync)."""

    row: int
    payload: dict[str, Any]
    phones: tuple[str, ...]
    requests: tuple[dict[str, Any], ...] = ()
    fallback: tuple[dict[str, Any], ...] = ()

    @property
    def customer_phone(self) -> str:
        return str(self.payload.get("customer_phone", ""))


#: Looks a row's lead up (in a worker thread) and returns what it found; turns that into (status, CSV cells).
Examine = Callable[[Target, Fetch], Any]
Line = Callable[[Target, Any], tuple[str, list[str]]]


@dataclass(frozen=True)
class ReadBack:
    """How a kind of run that reads leads back reports them: one CSV line per row, counted by status.

    ``statuses`` are always in the summary (zeros included); ``problems`` make the exit code 1 (and count as
    failed on the progress bar).
    """

    file_name: str
    columns: tuple[str, ...]
    summary_key: str
    statuses: tuple[str, ...]
    problems: tuple[str, ...]
    phase: str

    def run(self, targets: Iterator[Target], run: RunContext, examine: Examine, line: Line) -> Counter[str]:
        """Look up every row that would be sent (``targets``), write ``file_name``."""
        assert run.client is not None
        counts: Counter[str] = Counter()
        reader = LeadReader(run.client, run.options.rate, run.options.concurrency, run.options.retry,
                            stop=run.stop, max_wait=run.options.max_wait)
        run.progress.start(self.phase, None)
        try:
            with open(run.writer.folder / self.file_name, "w", encoding="utf-8-sig", newline="") as stream:
                table = csv.writer(stream)
                table.writerow([neutralise(c) for c in self.columns])
                for target, outcome in reader.read(targets, lambda t: examine(t, reader.get)):
                    status, cells = line(target, outcome)
                    counts[status] += 1
                    table.writerow([neutralise(cell) for cell in cells])
                    run.progress.advance(1, failed=int(status in self.problems))
        except StopRequested:
            pass  # the run stopped: the rows looked up so far are reported (summary.json says it stopped)
        finally:
            run.progress.finish()
        found = {status: counts[status] for status in self.statuses}
        found.update((status, n) for status, n in counts.items() if status not in found)
        run.summary.lookup = LookupCounts(self.summary_key, found)
        run.summary.lookups = reader.requests
        return counts

    def has_problems(self, summary: Summary) -> bool:
        counts = summary.lookup.counts if summary.lookup is not None else {}
        return any(counts.get(status) for status in self.problems)


def targets(batches: Iterator[CheckedBatch], run: RunContext) -> Iterator[Target]:
    """The rows that would be sent, their payloads written to payloads.jsonl as a dry run writes them."""
    for batch in batches:
        if run.stop.requested:
            return
        run.writer.add_payloads(batch.sent_lines())
        for row in batch:
            if row.verdict == "send":
                yield Target(row.number, merge_requests(row.requests), row.phones, row.requests)


def lead_name(lead: Lead) -> str:
    """``12345 (Asha Kumar)``: how messages name a lead."""
    name = " ".join(str(part) for part in (lead.get("first_name"), lead.get("last_name")) if part)
    return f"{lead.get('id')} ({name})" if name else str(lead.get("id"))


def primary_phone(lead: Lead) -> str | None:
    phones = lead.get("phones") or []
    first = phones[0] if phones else None
    return str(first.get("phone")) if isinstance(first, dict) else None


def lead_phones(lead: Lead) -> list[str]:
    return [str(entry.get("phone")) for entry in lead.get("phones") or [] if isinstance(entry, dict)]
