"""Which files of the run folders still hold a person's phone, and rewriting them without those rows.

A row holds a phone when one of its cells, read as digits, contains the phone's national number — the way it
was typed (``098450 12345``, ``+91-98450-12345``) or as the report wrote it (``+919845012345``). CSV files
(failures, successes, issues, unchanged, …) and JSON Lines (payloads, before-images, tasks) lose those rows;
report.html loses those table rows; failures.xlsx those sheet rows.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import phonenumbers

__all__ = ["Holding", "find_holding", "national_numbers", "purge"]

_NOT_DIGITS = re.compile(r"\D+")
_ROW = re.compile(r"<tr\b.*?</tr>", re.S | re.I)
_CELL = re.compile(r"<t[dh]\b[^>]*>(.*?)</t[dh]>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
Holding = dict[Path, int]


def national_numbers(phones: Sequence[str]) -> list[str]:
    """The national significant numbers of E.164 phones (``+919845012345`` → ``9845012345``)."""
    found = []
    for phone in phones:
        try:
            found.append(str(phonenumbers.parse(phone).national_number))
        except phonenumbers.NumberParseException:
            found.append(_NOT_DIGITS.sub("", phone))
    return found


def _holds(text: str, numbers: Sequence[str]) -> bool:
    digits = _NOT_DIGITS.sub("", text)
    return any(number in digits for number in numbers) if digits else False


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _line_holds(line: str, numbers: Sequence[str]) -> bool:
    try:
        return any(_holds(text, numbers) for text in _strings(json.loads(line)))
    except ValueError:
        return _holds(line, numbers)


def _html_row_holds(row: str, numbers: Sequence[str]) -> bool:
    return any(_holds(_TAG.sub("", cell), numbers) for cell in _CELL.findall(row))


def _count(path: Path, numbers: Sequence[str]) -> int:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return len(_xlsx_rows(path, numbers))
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    if suffix == ".csv":
        return sum(1 for row in _csv_rows(text)[1:] if any(_holds(cell, numbers) for cell in row))
    if suffix == ".jsonl":
        return sum(1 for line in text.splitlines() if _line_holds(line, numbers))
    if suffix == ".html":
        return sum(1 for row in _ROW.findall(text) if _html_row_holds(row, numbers))
    return 0


def find_holding(folders: Iterable[Path], phones: Sequence[str]) -> Holding:
    """Every report file of ``folders`` holding one of ``phones``, with how many rows do."""
    numbers = national_numbers(phones)
    found: Holding = {}
    for folder in folders:
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if path.suffix.lower() in (".csv", ".jsonl", ".html", ".xlsx") and path.is_file():
                rows = _count(path, numbers)
                if rows:
                    found[path] = rows
    return found


def purge(holding: Holding, phones: Sequence[str]) -> None:
    """Rewrite each file of ``holding`` without the rows that hold one of ``phones`` (in place, atomically)."""
    numbers = national_numbers(phones)
    for path in holding:
        suffix = path.suffix.lower()
        if suffix == ".xlsx":
            _purge_xlsx(path, numbers)
            continue
        raw = path.read_bytes()
        bom = "\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""
        text = raw.decode("utf-8-sig", errors="replace")
        if suffix == ".csv":
            kept = _purged_csv(text, numbers)
        elif suffix == ".jsonl":
            kept = "".join(line for line in text.splitlines(keepends=True) if not _line_holds(line, numbers))
        else:
            kept = _ROW.sub(lambda match: "" if _html_row_holds(match.group(0), numbers) else match.group(0), text)
        _replace(path, (bom + kept).encode("utf-8"))


def _purged_csv(text: str, numbers: Sequence[str]) -> str:
    rows = _csv_rows(text)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n" if "\r\n" in text[:4096] else "\n")
    writer.writerows(rows[:1] + [row for row in rows[1:] if not any(_holds(cell, numbers) for cell in row)])
    return out.getvalue()


def _xlsx_rows(path: Path, numbers: Sequence[str]) -> list[int]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        sheet = book.worksheets[0]
        return [index for index, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2)
                if any(_holds(str(cell), numbers) for cell in row if cell is not None)]
    finally:
        book.close()


def _purge_xlsx(path: Path, numbers: Sequence[str]) -> None:
    from openpyxl import load_workbook

    rows = _xlsx_rows(path, numbers)
    book = load_workbook(path)
    for index in reversed(rows):
        book.worksheets[0].delete_rows(index)
    partial = path.with_name(f".{path.name}.partial")
    book.save(partial)
    partial.replace(path)


def _replace(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)
