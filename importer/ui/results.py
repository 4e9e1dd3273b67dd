"""What the page shows of a run folder: its counts, the rows with problems (cells and messages), the plan.

Read from the files the run wrote (summary.json, issues.csv, plan.csv) and from the sheet itself, through the same
readers as the command line; CSV cells are restored exactly (:func:`importer.report.restore`).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.report import restore
from importer.report.cells import safe_cells
from importer.report.writer import RESERVED_COLUMNS, failure_cells, original_columns
from importer.sources import Table

#: Rows a page lists at most; the CSV files have every one.
SHOWN_ROWS = 200
#: Files of a run folder the page offers to download, in this order (those that exist).
DOWNLOADS = ("failures.csv", "failures.xlsx", "issues.csv", "plan.csv", "plan.jsonl", "successes.csv",
             "unchanged.csv", "missing.csv", "verify.csv", "payloads.jsonl", "before.jsonl", "undo.csv", "summary.json",
             "report.html")
COUNTS = ("rows_total", "valid", "invalid", "warnings", "unchanged", "sent", "succeeded", "failed", "in_doubt",
          "skipped")
COUNT_NAMES = {"rows_total": "rows", "valid": "valid", "invalid": "invalid", "warnings": "warnings",
               "unchanged": "unchanged", "sent": "sent", "succeeded": "succeeded", "failed": "failed",
               "in_doubt": "in doubt", "skipped": "skipped (duplicates)"}


def read_summary(folder: Path) -> dict[str, Any]:
    data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def run_kind(summary: dict[str, Any]) -> str:
    """``plan``, ``verify``, ``undo preview``, ``undo``, ``dry run`` or ``run`` — what the run folder is the report
    of."""
    if "undo_of" in summary:
        return "undo preview" if summary.get("dry_run") else "undo"
    if "plan" in summary:
        return "plan"
    if "verify" in summary:
        return "verify"
    return "dry run" if summary.get("dry_run") else "run"


def counts(summary: dict[str, Any], kind: str) -> list[tuple[str, str, int]]:
    """(key, label, number) of the counts that mean something for this kind of run."""
    keys = COUNTS if kind == "run" else COUNTS[:5]
    return [(key, COUNT_NAMES[key], int(summary.get(key) or 0)) for key in keys
            if key in summary and (key != "unchanged" or summary.get(key))]


def read_csv(path: Path) -> Iterator[dict[str, str]]:
    """A report CSV's records with every cell restored as written."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [restore(name) for name in next(reader, [])]
        for cells in reader:
            yield dict(zip(header, (restore(cell) for cell in cells), strict=False))


@dataclass(frozen=True)
class Listed:
    """One line of issues.csv, as read back (the run emitted it; the page only shows it)."""

    row: int | None
    column: str
    severity: str
    code: str
    message: str
    value: str


def read_issues(folder: Path) -> list[Listed]:
    return [Listed(int(r["_row"]) if r.get("_row", "").isdigit() else None, r.get("column", ""),
                   r.get("severity", ""), r.get("code", ""), r.get("message", ""), r.get("value", ""))
            for r in read_csv(folder / "issues.csv")]


@dataclass
class Cell:
    text: str
    severity: str = ""
    messages: list[str] = field(default_factory=list)


@dataclass
class ProblemRow:
    """A row with problems: each cell with its own, and ``issues`` those of no column of the sheet (each problem
    is shown once)."""

    number: int
    cells: list[Cell]
    issues: list[Listed]


@dataclass
class ProblemTable:
    """The sheet's rows that have issues (of ``code``, when filtered), each cell with its issues."""

    columns: list[str]
    rows: list[ProblemRow]
    matching: int
    codes: list[tuple[str, str, int]]
    unplaced: list[Listed]


def problem_table(table: Table, issues: list[Listed], code: str | None = None,
                  limit: int = SHOWN_ROWS) -> ProblemTable:
    """The rows with issues, read again from the sheet; ``codes`` is (code, severity, rows) for the filter."""
    by_row: dict[int, list[Listed]] = defaultdict(list)
    for issue in issues:
        if issue.row is not None:
            by_row[issue.row].append(issue)
    tally = Counter((issue.code, issue.severity) for issue in issues)
    codes = sorted(((c, s, n) for (c, s), n in tally.items()), key=lambda item: (item[1] != "error", item[0]))
    wanted = sorted(number for number, found in by_row.items() if not code or any(i.code == code for i in found))
    chosen = set(wanted[:limit])
    rows: list[ProblemRow] = []
    for batch in table.batches() if chosen else ():
        for row in batch:
            if row.number in chosen:
                rows.append(_problem_row(table.columns, row.number, row.cells, by_row[row.number]))
        if len(rows) == len(chosen):
            break
    unplaced = [issue for issue in issues if issue.row is None and (not code or issue.code == code)]
    return ProblemTable(list(table.columns), rows, len(wanted), codes, unplaced)


def _problem_row(columns: list[str], number: int, cells: dict[str, str], issues: list[Listed]) -> ProblemRow:
    shown = []
    for column in columns:
        cell = Cell(cells.get(column, ""))
        for issue in issues:
            if issue.column == column:
                cell.messages.append(f"{issue.code}: {issue.message}")
                if cell.severity != "error":
                    cell.severity = issue.severity
        shown.append(cell)
    known = set(columns)
    return ProblemRow(number, shown, [issue for issue in issues if issue.column not in known])


@dataclass
class Change:
    """One field a plan would change: ``old`` → ``new`` (``old`` empty for an addition: ``+ new``)."""

    field: str
    old: str
    new: str
    sign: str = ""


@dataclass
class PlanRow:
    row: str
    action: str
    customer_phone: str
    lead_id: str
    changes: list[Change]
    message: str


def plan_rows(folder: Path, action: str | None = None, limit: int = SHOWN_ROWS) -> tuple[list[PlanRow], int]:
    """plan.csv's rows (of ``action``, when filtered), the first ``limit`` of them, and how many match."""
    rows: list[PlanRow] = []
    matching = 0
    for record in read_csv(folder / "plan.csv"):
        if action and record.get("action") != action:
            continue
        matching += 1
        if len(rows) < limit:
            rows.append(PlanRow(record.get("_row", ""), record.get("action", ""), record.get("customer_phone", ""),
                                record.get("lead_id", ""), parse_changes(record.get("changes", "")),
                                record.get("message", "")))
    return rows, matching


def parse_changes(text: str) -> list[Change]:
    """plan.csv's ``changes`` (``city: "Pune" → "Mumbai"; labels: + "Hot"``) as :class:`Change` s; quoted values
    may hold ``;`` and arrows of their own."""
    changes = []
    for part in _split_outside_quotes(text, "; "):
        name, _, rest = part.partition(": ")
        if rest[:2] in ("+ ", "- "):
            changes.append(Change(name, "", rest[2:], rest[0]))
            continue
        pieces = _split_outside_quotes(rest, " → ")
        old, new = (pieces[0], pieces[1]) if len(pieces) == 2 else ("", rest)
        changes.append(Change(name, old, new))
    return changes


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts, start, index, quoted = [], 0, 0, False
    while index < len(text):
        char = text[index]
        if quoted and char == "\\":
            index += 2
            continue
        if char == '"':
            quoted = not quoted
        elif not quoted and text.startswith(separator, index):
            parts.append(text[start:index])
            index += len(separator)
            start = index
            continue
        index += 1
    if text:
        parts.append(text[start:])
    return parts


#: What the page names the dry run's rows with errors (a dry run's failures.csv stays empty: it keeps no cells).
ROWS_WITH_ERRORS = "rows-with-errors.csv"


def rows_with_errors(table: Table, issues: list[Listed]) -> str:
    """The sheet's rows that have an error, as failures.csv holds a run's failed rows (the original cells, then
    ``_row`` and ``_error``; neutralised the same way): fix them and upload the file again, with the same
    mapping."""
    errors: dict[int, list[str]] = defaultdict(list)
    for issue in issues:
        if issue.row is not None and issue.severity == "error":
            errors[issue.row].append(f"{issue.code}: {issue.message}")
    columns = original_columns(table.columns)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(safe_cells([*columns, *RESERVED_COLUMNS]))
    for batch in table.batches() if errors else ():
        for row in batch:
            if row.number in errors:
                writer.writerow(safe_cells(failure_cells(columns, row, "; ".join(errors[row.number]))))
    return "\ufeff" + text.getvalue()


def downloads(folder: Path) -> list[str]:
    return [name for name in DOWNLOADS if (folder / name).is_file()]
