"""The report folder of one run, written as the run goes (rows are streamed, never held in memory)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol

from importer.api.timeline import CSV_COLUMNS, RequestRecord
from importer.errors import ConfigError
from importer.models import Issue, Row
from importer.report.cells import safe_cells, xlsx_text
from importer.report.html import SHOWN_ISSUES, render_html
from importer.report.summary import Summary, summary_json

__all__ = ["ISSUE_COLUMNS", "RESERVED_COLUMNS", "ReportWriter", "failure_cells", "original_columns", "run_folder_name"]

ISSUE_COLUMNS = ("_row", "column", "severity", "code", "message", "value")
#: Columns the report adds; an input column of the same name (a re-imported report file) is not copied.
RESERVED_COLUMNS = ("_row", "_error")
#: Data rows a worksheet can hold below its header; further failures are in failures.csv only.
XLSX_MAX_ROWS = 1_048_575


class CopiedLines(Protocol):
    """Lines that copy themselves to the end of a file (a batch's lines still in its part)."""

    def copy_to(self, target: IO[bytes], /) -> None: ...


class _CsvWriter(Protocol):
    def writerow(self, row: Iterable[str], /) -> Any: ...

    def writerows(self, rows: Iterable[Iterable[object]], /) -> Any: ...


def run_folder_name(started_at: datetime, input_path: Path | str) -> str:
    """``<YYYYmmdd-HHMMSS>-<input stem>``, the time as given (its own zone)."""
    return f"{started_at:%Y%m%d-%H%M%S}-{Path(input_path).stem}"


def original_columns(columns: Sequence[str]) -> list[str]:
    """The input's columns a report file repeats: all but the report's own ``_row`` and ``_error``."""
    return [column for column in columns if column not in RESERVED_COLUMNS]


def failure_cells(columns: Sequence[str], row: Row, error: str) -> list[str]:
    """A line of failures.csv (and failures.xlsx): the row's original cells, ``_row``, ``_error``."""
    return [*(row.cells.get(column, "") for column in columns), str(row.number), error]


def _create_run_folder(report_dir: Path, name: str) -> Path:
    """Create ``report_dir/name``, or ``name-2``, ``name-3``, … when taken (safe against concurrent runs)."""
    report_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    attempt = 1
    while True:
        folder = report_dir / (name if attempt == 1 else f"{name}-{attempt}")
        try:
            folder.mkdir(mode=0o700)  # a lead's data: its owner's (importer.private)
        except FileExistsError:
            attempt += 1
        else:
            return folder


def _local_now() -> datetime:
    return datetime.now().astimezone()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.astimezone()


class _FailuresWorkbook:
    """failures.xlsx, streamed with openpyxl's write-only mode; every cell is a string cell."""

    def __init__(self, path: Path, header: list[str]) -> None:
        from openpyxl import Workbook  # only workbook inputs pay for importing openpyxl

        self.path = path
        self.truncated = False
        self._rows = 0
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet("failures")
        self._append(header)

    def add(self, cells: list[str]) -> None:
        if self._rows >= XLSX_MAX_ROWS:
            self.truncated = True
            return
        self._rows += 1
        self._append(cells)

    def _append(self, cells: list[str]) -> None:
        # Neutralised text never starts with "=", so openpyxl makes it a string cell, except for the
        # error literals ("#N/A", …): those are forced to strings explicitly (slower, hence only them).
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ERROR_CODES

        row: list[str | WriteOnlyCell] = [xlsx_text(text) for text in cells]
        for index, text in enumerate(row):
            if text in ERROR_CODES:
                cell = WriteOnlyCell(self._sheet, value=text)
                cell.data_type = "s"
                row[index] = cell
        self._sheet.append(row)

    def save(self) -> None:
        self._book.save(self.path)


class ReportWriter:
    """Writes ``<report_dir>/<YYYYmmdd-HHMMSS>-<input stem>/`` as the run goes.

    issues.csv, successes.csv and failures.csv are created at once (header only, so they exist even when
    empty); payloads.jsonl only in a dry run; failures.xlsx only when ``workbook``. CSV files are UTF-8 with a
    BOM (so Excel shows accented names), written by the csv module (minimal quoting, CRLF lines), and every
    cell, headers included, is neutralised against formula injection.
    ``columns`` are the input's headers; ``_row`` and ``_error`` among them are replaced by the report's own.
    Calls may come from several threads.
    """

    def __init__(
        self,
        report_dir: Path,
        input_path: Path,
        *,
        columns: list[str],
        workbook: bool,
        dry_run: bool,
        started_at: datetime,
        clock: Callable[[], datetime] = _local_now,
    ) -> None:
        self.input_path = Path(input_path)
        self.dry_run = dry_run
        self.started_at = _aware(started_at)
        self._clock = clock
        self._lock = threading.Lock()
        self._columns = original_columns(columns)
        self._issues_total = 0
        self._shown_issues: list[Issue] = []  # the first few, for report.html
        self._open: list[IO[Any]] = []
        self._closed = False
        self._workbook: _FailuresWorkbook | None = None
        try:
            self.folder = _create_run_folder(Path(report_dir), run_folder_name(started_at, input_path))
            self._issues = self._open_csv("issues.csv", list(ISSUE_COLUMNS))
            self._successes = self._open_csv("successes.csv", [*self._columns, "_row"])
            self._failures = self._open_csv("failures.csv", [*self._columns, *RESERVED_COLUMNS])
            self._unchanged: IO[str] | None = None
            self._payloads = self._open_binary("payloads.jsonl") if dry_run else None
            if workbook:
                header = [*self._columns, *RESERVED_COLUMNS]
                self._workbook = _FailuresWorkbook(self.folder / "failures.xlsx", header)
        except OSError as exc:
            self._close_files()
            raise ConfigError(f"cannot write the report in {report_dir}: {exc.strerror or exc}") from None

    def _open_binary(self, name: str) -> IO[bytes]:
        stream = open(self.folder / name, "wb")
        self._open.append(stream)
        return stream

    def _open_text(self, name: str, encoding: str) -> IO[str]:
        stream = open(self.folder / name, "w", encoding=encoding, newline="")
        self._open.append(stream)
        return stream

    def _open_csv(self, name: str, header: list[str]) -> _CsvWriter:
        table = csv.writer(self._open_text(name, "utf-8-sig"))
        table.writerow(safe_cells(header))
        return table

    # --- rows ---------------------------------------------------------------------------------------------

    def add_issues(self, issues: Iterable[Issue]) -> None:
        """Append issues to issues.csv (the summary counts them)."""
        with self._lock:
            for issue in issues:
                row = "" if issue.row is None else str(issue.row)
                cells = (row, issue.column, issue.severity, issue.code, issue.message, issue.value)
                self._issues.writerow(safe_cells(cells))
                self._issues_total += 1
                if len(self._shown_issues) < SHOWN_ISSUES:
                    self._shown_issues.append(issue)

    def add_payloads(self, lines: bytes | CopiedLines) -> None:
        """Dry run: append payloads.jsonl lines (made by :func:`~importer.report.payloads.payload_line`), as bytes
        or lines that copy themselves. A real run writes none."""
        if self._payloads is None:
            return
        with self._lock:
            if isinstance(lines, bytes):
                self._payloads.write(lines)
            else:
                lines.copy_to(self._payloads)

    def add_unchanged(self, numbers: Sequence[int], phones: Sequence[str]) -> None:
        """Rows a sync did not send (their leads already hold them), by number and customer phone: lines of
        unchanged.csv, made on first use."""
        if not numbers:
            return
        # A customer phone is E.164 ("+…"): written with the apostrophe that keeps spreadsheets from reading it as
        # a formula, as safe_cells would. The lines are the csv module's, made by one join (nothing in them needs
        # quoting): the 1,000,000 lines of an unchanged nightly run cost 0.14 s of CPU instead of 0.52 s.
        lines = "".join([f"{number},'{phone}\r\n" for number, phone in zip(numbers, phones, strict=True)])
        if '"' in lines or not len(numbers) == lines.count(",") == lines.count("\r") == lines.count("\n"):
            quoted = io.StringIO()
            csv.writer(quoted).writerows((number, f"'{phone}") for number, phone in zip(numbers, phones, strict=True))
            lines = quoted.getvalue()
        with self._lock:
            if self._unchanged is None:
                self._unchanged = self._open_text("unchanged.csv", "utf-8-sig")
                csv.writer(self._unchanged).writerow(safe_cells(["_row", "customer_phone"]))
            self._unchanged.write(lines)

    def add_success(self, row: Row) -> None:
        """Append the row's original cells and ``_row`` to successes.csv."""
        cells = [*self._original(row), str(row.number)]
        with self._lock:
            self._successes.writerow(safe_cells(cells))

    def add_failure(self, row: Row, error: str) -> None:
        """Append the row's original cells, ``_row`` and ``_error`` to failures.csv (and failures.xlsx)."""
        cells = failure_cells(self._columns, row, error)
        with self._lock:
            self._failures.writerow(safe_cells(cells))
            if self._workbook is not None:
                self._workbook.add(cells)

    def _original(self, row: Row) -> list[str]:
        return [row.cells.get(column, "") for column in self._columns]

    # --- figures ------------------------------------------------------------------------------------------

    @property
    def workbook_truncated(self) -> bool:
        """True when failures.xlsx hit the worksheet's row limit (failures.csv still has every row)."""
        return self._workbook is not None and self._workbook.truncated

    # --- closing ------------------------------------------------------------------------------------------

    def finish(self, summary: Summary, *, finished_at: datetime | None = None,
               requests: RequestRecord | None = None) -> Path:
        """Close every file and write summary.json (and report.html) from ``summary``; return the run folder.

        The summary's start time defaults to the writer's, its finish time to ``finished_at`` or now. A value in
        summary value that is not JSON is a TypeError (the other files are closed all the same).
        ``requests``: the run's requests as its client's timeline recorded them (a run that sent or read leads):
        written to requests.csv, summed up in summary.json's ``requests`` and charted in report.html.
        """
        with self._lock:
            summary.started_at = summary.started_at or self.started_at
            summary.finished_at = _aware(finished_at) if finished_at is not None else (
                summary.finished_at or self._clock())
            if requests is not None:
                summary.requests = requests.summary()
            try:
                text = summary_json(summary.as_dict())
                if requests is not None:
                    self._write_requests(requests)
            finally:
                self._close_files()
            files = sorted({"summary.json", *(path.name for path in self.folder.iterdir() if path.is_file()
                                              and not path.name.startswith(".") and "." in path.name
                                              and not path.name.endswith(".partial"))} - {"report.html"})
            page = render_html(json.loads(text), self._shown_issues, self._issues_total, requests, files)
            (self.folder / "report.html").write_text(page, encoding="utf-8")
            partial = self.folder / "summary.json.partial"
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, self.folder / "summary.json")
        return self.folder

    def _write_requests(self, requests: RequestRecord) -> None:
        with open(self.folder / "requests.csv", "w", encoding="utf-8-sig", newline="") as stream:
            table = csv.writer(stream)
            table.writerow(CSV_COLUMNS)
            table.writerows(requests.rows())

    def discard(self) -> None:
        """Close the files and remove the run folder: the run was refused before it did anything."""
        with self._lock:
            self._close_files()
        shutil.rmtree(self.folder, ignore_errors=True)

    def close(self) -> None:
        """Close the files without a summary (an aborted run); what was written stays. Idempotent."""
        with self._lock:
            self._close_files()

    def _close_files(self) -> None:
        if self._closed:
            return
        self._closed = True
        streams, self._open = self._open, []
        try:
            if self._workbook is not None:
                self._workbook.save()
        finally:
            for stream in streams:
                stream.close()

    def __enter__(self) -> ReportWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
