"""``--on-missing label:NAME|stage:NAME``: the leads a job synced before that tonight's input lacks.

The API has no delete: such a lead gets the label, or moves to the stage, so that people can find it. A run
refuses (exit 2, nothing sent) to touch more than ``--max-missing`` percent of the job's leads: a truncated file
must not relabel the whole account.
"""

from __future__ import annotations

import csv
from collections import Counter
from typing import Any

from importer.fields import ADD_LABELS, CREATE_FLAG, CUSTOMER_PHONE, LEAD_STAGE
from importer.report.cells import safe_cells
from importer.report.records import MissingCounts
from importer.run.context.kind import RunContext
from importer.run.context.settings import parse_on_missing
from importer.run.engine.work import Job, Outcome
from importer.run.kinds.ledger import GuardError
from importer.run.stores.state import SyncState

__all__ = ["MissingLeads", "parse_on_missing"]


class MissingLeads:
    """The jobs for the leads gone from the input, and their outcomes (summary and missing.csv)."""

    def __init__(self, run: RunContext) -> None:
        self.run = run
        self.action, self.name = parse_on_missing(run.options.on_missing)
        self.phones: dict[int, str] = {}
        self.counts: Counter[str] = Counter()

    def jobs(self, state: SyncState, job: int) -> list[Job]:
        if self.action == "keep":
            return []
        synced = state.phones(job)
        present = self.run.checked.present()
        missing = [phone for phone in synced if phone not in present]
        limit = self.run.options.max_missing / 100 * len(synced)
        if len(missing) > limit:
            raise GuardError(f"{len(missing)} of the job's {len(synced)} leads are not in {self.run.table.path.name}:"
                             f" more than --max-missing {self.run.options.max_missing:g}%, so none is touched and "
                             "nothing is sent (check the file, or raise --max-missing)")
        self._check_name()
        change: dict[str, Any] = {ADD_LABELS: [self.name]} if self.action == "label" else {
            LEAD_STAGE: self.name}
        self.phones = {-(index + 1): phone for index, phone in enumerate(missing)}
        self.run.summary.missing = MissingCounts(len(missing), f"{self.action}:{self.name}", self.counts)
        return [Job(row, ({CUSTOMER_PHONE: phone, CREATE_FLAG: False, **change},), frozenset({phone}))
                for row, phone in self.phones.items()]

    def _check_name(self) -> None:
        catalog = self.run.catalog
        names = None if catalog is None else catalog.labels if self.action == "label" else catalog.stages
        if names is not None and names.verdict(self.name) != "ok":
            raise GuardError(f"--on-missing {self.action}:{self.name}: the account has no usable {self.action} "
                             f"named '{self.name}' ({names.verdict(self.name)})")

    def record(self, outcome: Outcome) -> None:
        """One missing lead's outcome (called one at a time by the sender)."""
        self.counts[outcome.status] += 1
        path = self.run.writer.folder / "missing.csv"
        new = not path.exists()
        with path.open("a", encoding="utf-8-sig" if new else "utf-8", newline="") as stream:
            table = csv.writer(stream)
            if new:
                table.writerow(["customer_phone", "action", "status", "message"])
            table.writerow(safe_cells([self.phones[outcome.row], f"{self.action}:{self.name}", outcome.status,
                                       outcome.message]))
