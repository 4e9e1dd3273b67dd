"""What differs between a dry run, a real run, a plan and a verify: one :class:`RunKind` handed to the importer.

The importer reads, maps and checks the rows and records each one (its issues, its counts); the kind decides
what to do with the rows that pass and does it (writes their payloads, sends them, or reads their leads back).
A new kind of run is a new class with these few members, in the package of what it does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from importer.api.catalog import Catalog
from importer.api.client import SuperfoneClient
from importer.mapping import Mapping
from importer.report import ReportWriter, Summary
from importer.run.context.options import Progress, RunOptions
from importer.run.context.rows import CheckedBatch, CheckedRows
from importer.run.engine.heartbeat import Heartbeat
from importer.run.engine.stop import Stop
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


class Access(Enum):
    """What a kind of run does with the account, declared once per kind: ``OPTIONAL`` (a dry run: names are checked
    against it when a key is given), ``READS`` (plan, verify: a key, not ``--offline``), ``WRITES`` (run, apply;
    summary.json's ``dry_run`` is its opposite)."""

    OPTIONAL = "optional"
    READS = "reads"
    WRITES = "writes"

    @property
    def writes(self) -> bool:
        return self is Access.WRITES

    @property
    def needs_key(self) -> bool:
        return self is not Access.OPTIONAL


class RunKind(Protocol):
    """One kind of run: its name, what it does with the account (:class:`Access`), and what it does with the rows."""

    name: str
    access: Access

    def act(self, batches: Iterator[CheckedBatch], run: RunContext) -> None:
        """Decide and act on every row, in sheet order (the importer has recorded each one's issues)."""
        ...

    def exit_code(self, summary: Summary) -> int:
        """0 when everything went as planned, else 1 (the importer's own failures are exit code 2)."""
        ...

    def lines(self, summary: dict[str, Any]) -> list[str]:
        """What this kind adds to the closing summary on the terminal (``summary``: summary.json's content)."""
        ...
