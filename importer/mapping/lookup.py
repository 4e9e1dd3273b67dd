"""Lookup tables for ``lookup: {file, key, value}``: a CSV file read once, when the mapping is loaded."""

from __future__ import annotations

import csv
from pathlib import Path

from importer.mapping.document import Document, KeyPath
from importer.mapping.spec import LookupSpec
from importer.mapping.values import fold


def load_lookup(document: Document, path: KeyPath, spec: LookupSpec) -> dict[str, str]:
    """``{folded key: value}`` from the CSV named by ``spec`` (relative to the mapping file)."""
    file = document.path.parent / spec.file
    rows = _read_rows(document, (*path, "file"), file)
    header = [cell.strip() for cell in rows[0]] if rows else []
    for option, column in (("key", spec.key), ("value", spec.value)):
        if column not in header:
            columns = ", ".join(header) or "none"
            raise document.error(
                (*path, option), f"column {column!r} is not in {spec.file} (its columns: {columns})"
            )
    key_at, value_at = header.index(spec.key), header.index(spec.value)
    table: dict[str, str] = {}
    for number, row in enumerate(rows[1:], start=2):
        key = fold(row[key_at]) if key_at < len(row) else ""
        value = row[value_at].strip() if value_at < len(row) else ""
        if not key:
            continue
        if table.setdefault(key, value) != value:
            message = (
                f"{spec.file} row {number}: key {row[key_at].strip()!r} is listed twice with different values"
            )
            raise document.error((*path, "key"), message)
    return table


def _read_rows(document: Document, path: KeyPath, file: Path) -> list[list[str]]:
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            return [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except FileNotFoundError:
        raise document.error(path, f"lookup file {str(file)!r} not found") from None
    except UnicodeDecodeError:
        raise document.error(path, f"lookup file {str(file)!r} is not UTF-8 text") from None
    except (OSError, csv.Error) as exc:
        raise document.error(path, f"cannot read lookup file {str(file)!r}: {exc}") from None
