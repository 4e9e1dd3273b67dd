"""The import, end to end: read → map → check → (dry run: report | real run: send, journal, report).

Pass one maps and checks every row (in worker processes for large inputs) and spills the results; pass two replays
them in sheet order with the cross-row verdicts, and either writes the dry-run report or feeds the sender.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from importer.api.catalog import Catalog
from importer.api.client import SuperfoneClient
from importer.checks.crossrow import CrossRowIndex, CrossRowVerdicts
from importer.checks.parallel import PARALLEL_THRESHOLD_BYTES, check_table, check_table_dry, default_workers
from importer.checks.row import RowChecker
from importer.errors import ApiError, ConfigError, InputError
from importer.mapping import Mapping, load_mapping
from importer.models import Issue
from importer.report import ReportWriter
from importer.run.delivery import Delivery
from importer.run.options import NullProgress, Progress, RunOptions, Tally
from importer.run.spill import Spill, Spilled
from importer.sources import Table, open_table


@dataclass
class RunResult:
    folder: Path
    summary: dict[str, Any]
    exit_code: int


@dataclass
class Prepared:
    """Everything pass one produced."""

    table: Table
    mapping: Mapping
    spill: Spill[Any]  # Spilled rows, or (a dry run with ``parts``) issues
    verdicts: CrossRowVerdicts
    catalog: Catalog | None
    #: A plain dry run: payload lines were written to these files by the checking workers, and the spill holds
    #: only issues.
    parts: list[str] | None = None
    #: (rows, rows invalid on their own): cross-row verdicts come on top.
    counts: tuple[int, int] = (0, 0)

    def replay(self, writer: ReportWriter, tally: Tally) -> Iterator[tuple[Spilled, tuple[Issue, ...], str]]:
        """Pass two's walk over the spilled rows, in sheet order: each row's issues (its own, then the cross-row
        ones) are written and counted, and the row comes with its verdict: "invalid", "skipped" (an earlier
        duplicate) or "send"."""
        verdicts = self.verdicts
        for spilled in self.spill.replay():
            result = spilled.result
            issues = result.issues + tuple(verdicts.issues.get(result.number, ()))
            tally.rows_total += 1
            tally.count_issues(issues)
            writer.add_issues(issues)
            if not result.requests or result.number in verdicts.invalid:
                tally.invalid += 1
                yield spilled, issues, "invalid"
                continue
            tally.valid += 1
            if result.number in verdicts.skipped:
                tally.skipped += 1
                yield spilled, issues, "skipped"
            else:
                yield spilled, issues, "send"

    @property
    def to_send(self) -> int:
        """Rows that pass every check and are not skipped as duplicates."""
        dropped = self.verdicts.invalid | self.verdicts.skipped
        return self.counts[0] - self.counts[1] - len(dropped)


#: A column only the importer's own report files have: such an input is a failures file being re-imported.
REPORT_ROW_COLUMN = "_row"


def _issue_row(issue: Issue) -> int:
    return issue.row or 0


def _payload_row(line: str) -> int:
    """The row number of a payloads.jsonl line, which starts ``{"_row": <n>,``."""
    return int(line[9:line.index(",", 9)])


def utcnow() -> datetime:
    return datetime.now(UTC).astimezone()


class Importer:
    """One run of one sheet with one mapping. ``run()`` returns the report folder, summary and exit code."""

    #: A dry run lets the checking workers write payload lines themselves (subclasses that replay rows: False).
    payload_parts = True

    def __init__(self, sheet: str | Path, mapping: str | Path, options: RunOptions | None = None,
                 progress: Progress | None = None) -> None:
        self.sheet_path = Path(sheet)
        self.mapping_path = Path(mapping)
        self.options = options or RunOptions()
        self.progress = progress or NullProgress()

    def run(self) -> RunResult:
        started = utcnow()
        table = open_table(self.sheet_path, self.options.sheet)
        mapping = load_mapping(self.mapping_path)
        mapping.check_columns(table.columns, source=table.path.name)
        with ExitStack() as stack:
            client = self._client()
            if client is not None:
                stack.callback(client.close)
            catalog = self._catalog(client)
            if self.options.dry_run and self.payload_parts:
                parts_dir = Path(stack.enter_context(TemporaryDirectory(prefix="superfone-import-")))
                prepared = self._pass_one_dry(table, mapping, catalog, parts_dir)
            else:
                prepared = self._pass_one(table, mapping, catalog)
            if prepared.counts[0] == 0:
                raise InputError(f"{table.path.name}: no data rows below the header: nothing to import")
            stack.enter_context(prepared.spill)
            writer = stack.enter_context(ReportWriter(
                self.options.report_dir, table.path, columns=table.columns, workbook=table.is_workbook,
                dry_run=self.options.dry_run, started_at=started))
            tally, extra = self._pass_two(client, prepared, writer, started)
            summary = self._summary(prepared, tally, started, extra)
            folder = writer.finish(summary)
        return RunResult(folder, summary, self._exit_code(tally))

    def _pass_two(self, client: SuperfoneClient | None, prepared: Prepared, writer: ReportWriter,
                  started: datetime) -> tuple[Tally, dict[str, Any]]:
        """The dry-run report or the delivery; subclasses (plan, verify) read the account here instead."""
        if self.options.dry_run:
            return self._dry_run(prepared, writer), {}
        assert client is not None
        return self._deliver(client, prepared, writer, started)

    def _deliver(self, client: SuperfoneClient, prepared: Prepared, writer: ReportWriter,
                 started: datetime) -> tuple[Tally, dict[str, Any]]:
        delivery = Delivery(client, prepared, writer, self.options, self.progress)
        try:
            return delivery.run(started)
        except (ApiError, KeyboardInterrupt) as exc:
            # The run stops (401, Ctrl-C): keep the report of what was done; the journal resumes the rest.
            reason = str(exc) if isinstance(exc, ApiError) else "interrupted"
            writer.finish(self._summary(prepared, delivery.tally, started, {"stopped": reason}))
            raise

    # --- set-up -------------------------------------------------------------------------------------------

    def _client(self) -> SuperfoneClient | None:
        key = self.options.api_key
        if not key:
            if not self.options.dry_run:
                raise ConfigError("SF_API_KEY is not set: a real import needs the account's API key "
                                  "(use --dry-run to check the sheet without it, or --sandbox to try it locally)")
            return None
        if self.options.dry_run and self.options.offline:
            return None
        return SuperfoneClient(self.options.base_url, key, pool_size=self.options.concurrency)

    def _catalog(self, client: SuperfoneClient | None) -> Catalog | None:
        if client is None:
            return None
        self.progress.start("catalog", None)
        catalog = Catalog.fetch(client, self.options.retry)
        self.progress.finish()
        return catalog

    def _workers(self, table: Table) -> int:
        if self.options.workers is not None:
            return self.options.workers
        try:
            size = table.path.stat().st_size
        except OSError:
            size = 0
        return default_workers() if size >= PARALLEL_THRESHOLD_BYTES and (os.cpu_count() or 1) > 1 else 1

    # --- pass one: map, check, index ----------------------------------------------------------------------

    def _pass_one(self, table: Table, mapping: Mapping, catalog: Catalog | None) -> Prepared:
        checker, index = self._checker_and_index(table, mapping, catalog)
        spill: Spill[Spilled] = Spill()
        self.progress.start("checking", None)
        checked = check_table(table, checker, workers=self._workers(table), keep_values=not self.options.dry_run)
        rows = invalid = 0
        for results in checked:
            for result, _ in results:
                index.add(result.number, result.phones, bool(result.requests))
                invalid += not result.requests
            spill.write([Spilled(result, values) for result, values in results])
            rows += len(results)
            self.progress.advance(len(results))
        self.progress.finish()
        return Prepared(table, mapping, spill, index.finish(), catalog, counts=(rows, invalid))

    def _checker_and_index(self, table: Table, mapping: Mapping,
                           catalog: Catalog | None) -> tuple[RowChecker, CrossRowIndex]:
        checker = RowChecker(mapping, catalog, restore_cells=REPORT_ROW_COLUMN in table.columns)
        index = CrossRowIndex(self.options.on_duplicate, mapping.column_for("customer_phone"),
                              mapping.column_for("add_phones"))
        return checker, index

    def _pass_one_dry(self, table: Table, mapping: Mapping, catalog: Catalog | None, parts_dir: Path) -> Prepared:
        checker, index = self._checker_and_index(table, mapping, catalog)
        issues: Spill[Issue] = Spill()
        parts, rows, invalid = [], 0, 0
        self.progress.start("checking", None)
        for unit in check_table_dry(table, checker, parts_dir, workers=self._workers(table)):
            parts.append(unit.part)
            index.add_many(unit.rows, unit.keys, unit.add_rows, unit.add_keys)
            rows += unit.total
            invalid += unit.invalid
            if unit.issues:
                issues.write(unit.issues)
            self.progress.advance(unit.total)
        self.progress.finish()
        return Prepared(table, mapping, issues, index.finish(), catalog, parts, (rows, invalid))

    # --- dry run ------------------------------------------------------------------------------------------

    def _dry_run(self, prepared: Prepared, writer: ReportWriter) -> Tally:
        if prepared.parts is not None:
            return self._dry_run_from_parts(prepared, prepared.parts, writer)
        tally = Tally()
        for spilled, _, verdict in prepared.replay(writer, tally):
            if verdict == "send":
                writer.add_payload_json(spilled.result.number, spilled.result.requests)
        return tally

    def _dry_run_from_parts(self, prepared: Prepared, parts: list[str], writer: ReportWriter) -> Tally:
        """Issues merged in row order with the cross-row verdicts; payload lines copied, minus dropped rows."""
        verdicts = prepared.verdicts
        rows, invalid = prepared.counts
        tally = Tally(rows_total=rows, invalid=invalid + len(verdicts.invalid))
        tally.skipped = len(verdicts.skipped - verdicts.invalid)
        tally.valid = rows - tally.invalid
        extra = sorted((issue for found in verdicts.issues.values() for issue in found), key=_issue_row)
        merged = heapq.merge(prepared.spill.replay(), extra, key=_issue_row)
        for batch in iter(lambda: list(islice(merged, 10_000)), []):
            tally.count_issues(batch)
            writer.add_issues(batch)
        dropped = verdicts.invalid | verdicts.skipped
        for part in parts:
            if not dropped:
                writer.add_payload_file(part)
                continue
            with open(part, encoding="utf-8") as lines:
                writer.add_payload_lines("".join(line for line in lines if _payload_row(line) not in dropped))
        return tally

    # --- summary ------------------------------------------------------------------------------------------

    def _summary(self, prepared: Prepared, tally: Tally, started: datetime,
                 extra: dict[str, Any]) -> dict[str, Any]:
        finished = utcnow()
        summary: dict[str, Any] = {
            "input": str(self.sheet_path),
            "mapping": str(self.mapping_path),
            "dry_run": self.options.dry_run,
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": finished.isoformat(timespec="seconds"),
            "duration_s": round((finished - started).total_seconds(), 3),
            "rows_total": tally.rows_total,
            "valid": tally.valid,
            "invalid": tally.invalid,
            "sent": tally.sent,
            "succeeded": tally.succeeded,
            "failed": tally.failed,
            "in_doubt": tally.in_doubt,
            "skipped": tally.skipped,
            "warnings": tally.warnings,
            "errors_by_code": dict(tally.errors_by_code.most_common()),
            "warnings_by_code": dict(tally.warnings_by_code.most_common()),
            "catalog_checked": prepared.catalog is not None,
            "sheet": prepared.table.sheet_name,
        }
        if prepared.catalog is None:
            summary["offline_note"] = ("catalog checks skipped (offline or no API key): stage, group, label "
                                       "and product names were not checked against the account")
        summary.update(extra)
        return summary

    def _exit_code(self, tally: Tally) -> int:
        if self.options.dry_run:
            return 1 if tally.invalid else 0
        return 1 if (tally.invalid or tally.failed or tally.in_doubt) else 0
