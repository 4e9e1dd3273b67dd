"""Rows that are already in memory: a pandas DataFrame, or any iterable of dicts (column → value).

Notebooks and ETL scripts hold data this way. Values become text the way a workbook's typed cells do (whole
floats without ".0", dates in ISO 8601); missing values (None, NaN, NaT) are empty cells. Row numbers are those
the same data would have in a sheet: the header is row 1, the first record row 2.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from importer.errors import InputError
from importer.models import Row
from importer.sources.table import Table, check_header, is_blank, row_factory
from importer.sources.workbook import cell_text


class RecordsTable(Table):
    """Records held in memory as tuples of cell text, in column order."""

    kind = "records"

    def __init__(self, name: str, columns: list[str], records: list[tuple[str, ...]]) -> None:
        super().__init__(Path(name), columns)
        self._records = records

    def rows(self) -> Iterator[Row]:
        make_row = row_factory(self.columns)
        for number, cells in enumerate(self._records, start=2):
            if not is_blank(cells):
                yield make_row(number, cells)

    def digest(self) -> str:
        """SHA-256 of the header and every cell, so a resumed run recognises the same data."""
        digest = hashlib.sha256()
        for cells in (self.columns, *self._records):
            digest.update("\x1f".join(cells).encode("utf-8", "surrogatepass") + b"\x1e")
        return digest.hexdigest()


def value_text(value: Any) -> str:
    """A value as cell text; a missing one (None, NaN, NaT) is an empty cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or type(value).__name__ == "NaTType":
        return ""
    return cell_text(value)


def open_records(records: Iterable[Mapping[str, Any]], name: str = "records") -> RecordsTable:
    """Dicts as a table: its columns are every key, in the order they first appear."""
    rows = list(records)
    columns: dict[str, None] = {}
    for position, record in enumerate(rows):
        if not isinstance(record, Mapping):
            raise InputError(f"{name}: record {position + 1} is a {type(record).__name__}, not a dict")
        columns.update(dict.fromkeys(str(key) for key in record))
    header = check_header(Path(name), list(columns), row=1)
    cells = [tuple(value_text(_get(record, column)) for column in header) for record in rows]
    return RecordsTable(name, header, cells)


def _get(record: Mapping[str, Any], column: str) -> Any:
    return record[column] if column in record else next((v for k, v in record.items() if str(k) == column), None)


def open_dataframe(frame: Any, name: str = "dataframe") -> RecordsTable:
    """A pandas DataFrame as a table: its column labels are the header, its index is ignored."""
    header = check_header(Path(name), [str(label) for label in frame.columns], row=1)
    values = frame.astype(object).where(frame.notna(), None)
    cells = [tuple(value_text(value) for value in record) for record in values.itertuples(index=False, name=None)]
    return RecordsTable(name, header, cells)
