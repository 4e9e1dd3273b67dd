"""What the wizard reads from the sheet: a few values of each column, the distinct values of a field with how many
rows hold each, and the rows a date column's order is decided from. At most :data:`SCAN_ROWS` rows are read."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

from importer.mapping.values import fold
from importer.models import Row
from importer.sources import Table
from importer.ui.wizard.roles import SEPARATORS, spec_columns

#: Rows read to count values and decide date orders (the page says so when a sheet has more).
SCAN_ROWS = 100_000
#: Rows looked at for each column's first values.
SAMPLE_ROWS = 200
SAMPLES = 3


def batches(table: Table, limit: int = SCAN_ROWS) -> Iterator[list[Row]]:
    """The sheet's rows in batches, up to ``limit`` rows."""
    left = limit
    for batch in table.batches(min(limit, 5_000)):
        if left <= 0:
            return
        yield batch[:left]
        left -= len(batch)


def samples(table: Table, columns: Sequence[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Each column's first few distinct values, and the separator its values use (";" when none)."""
    rows = [row for batch in islice(batches(table, SAMPLE_ROWS), 1) for row in batch]
    shown: dict[str, list[str]] = {}
    separators: dict[str, str] = {}
    for column in columns:
        values = [text for row in rows if (text := (row.cells.get(column) or "").strip())]
        shown[column] = list(dict.fromkeys(values))[:SAMPLES]
        separators[column] = next((sep for sep in SEPARATORS if any(sep in value for value in values)), ";")
    return shown, separators


def count_values(table: Table, specs: Mapping[str, Any]) -> tuple[dict[str, list[tuple[str, int]]], int, bool]:
    """Per field of ``specs``: its distinct values (case and spaces ignored: the first spelling seen) with their
    rows, most first; then the rows read and whether that was the whole sheet."""
    counts: dict[str, dict[str, list[Any]]] = {name: {} for name in specs}
    read = 0
    for batch in batches(table, SCAN_ROWS + 1):
        for row in batch:
            read += 1
            if read > SCAN_ROWS:
                break
            for name, spec in specs.items():
                for value in cell_values(row.cells, spec):
                    found = counts[name].setdefault(fold(value), [value, 0])
                    found[1] += 1
    ordered = {name: sorted(((value, count) for value, count in found.values()), key=lambda item: -item[1])
               for name, found in counts.items()}
    return ordered, min(read, SCAN_ROWS), read <= SCAN_ROWS


def cell_values(cells: Mapping[str, str], spec: Any) -> list[str]:
    """The values a field reads from one row: the first non-blank column (every column for a list field with a
    separator), split at its separator."""
    how, columns = spec_columns(spec)
    split = spec.get("split") if isinstance(spec, dict) else None
    texts = [text for column in columns if (text := (cells.get(column) or "").strip())]
    if not split:
        return texts[:1]
    return [item for text in texts for part in text.split(split) if (item := part.strip())]
