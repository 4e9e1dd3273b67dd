"""Read any lead sheet as text, exactly as typed, in batches of :class:`~importer.models.Row`.

    table = open_table("leads.xlsx", sheet="Leads")
    table.columns                      # header names, in sheet order
    for batch in table.batches(5000):  # lists of Row(number, cells); memory stays flat
        ...

``Row.number`` is the row a person sees (header = row 1; JSON: the 1-based record or line). Every problem
that stops reading raises :class:`~importer.errors.InputError` with a one-line message naming the file
and, where known, the row.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, cast

from importer.models import Row
from importer.sources.delimited import DelimitedTable, open_delimited
from importer.sources.jsonfile import JsonTable, open_json
from importer.sources.locate import DEFAULT_SETTLE, SourceFile, locate_source, move_source, needs_locating
from importer.sources.locate.formats import KINDS, WORKBOOK_KINDS
from importer.sources.records import RecordsTable, open_dataframe, open_records
from importer.sources.table import DEFAULT_BATCH_SIZE, MAX_CELL_BYTES, MAX_COLUMNS, Table, input_error
from importer.sources.workbook import WorkbookTable, cell_text, open_workbook

__all__ = [
    "KINDS",
    "MAX_CELL_BYTES",
    "MAX_COLUMNS",
    "DelimitedTable",
    "JsonTable",
    "RecordsTable",
    "Source",
    "SourceFile",
    "Table",
    "WorkbookTable",
    "cell_text",
    "locate_source",
    "move_source",
    "open_file",
    "open_source",
    "open_table",
    "read_rows",
]


def open_table(path: str | PathLike[str] | SourceFile, sheet: str | int | None = None, *, pick: str = "mtime",
               settle: float = DEFAULT_SETTLE) -> Table:
    """Open a sheet and read its header; rows come later from :meth:`Table.batches`.

    ``path``: a file, a glob or folder (its newest file: ``pick`` and ``settle`` as for
    :func:`~importer.sources.locate.locate_source`), a URI (``https://``, ``s3://``, ``sftp://``, ``gsheets://``),
    a ``.gz`` or ``.zip`` file, or a :class:`SourceFile` already located. ``Table.origin`` then says where the
    sheet was found; :meth:`Table.close` removes the copies the table downloaded itself.

    ``sheet`` (workbooks only) is a sheet name or a 0-based index (a string of digits counts as an index);
    by default the first visible sheet is read. Raises :class:`~importer.errors.InputError`.
    """
    if isinstance(path, SourceFile):
        return open_file(path.path, sheet).found_at(path, owned=False)
    if not needs_locating(path):
        return open_file(Path(path), sheet)
    found = locate_source(path, pick=pick, settle=settle)
    try:
        return open_file(found.path, sheet).found_at(found, owned=True)
    except BaseException:
        found.close()
        raise


def open_file(path: Path, sheet: str | int | None = None) -> Table:
    """Open one local file by its suffix (what :func:`open_table` does once the file is found)."""
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        supported = ", ".join(sorted(KINDS))
        raise input_error(path, f"unsupported file type {path.suffix or '(no extension)'!r}; use one of {supported}")
    if not path.exists():
        raise input_error(path, "file not found")
    if not path.is_file():
        raise input_error(path, "is not a file")
    if kind in WORKBOOK_KINDS:
        return open_workbook(path, kind, sheet)
    if sheet is not None:
        raise input_error(path, f"--sheet applies to workbooks only, not to a .{kind} file")
    if kind in ("json", "jsonl"):
        return open_json(path, kind)
    return open_delimited(path, kind)


#: What an import reads: a file path, glob, folder or URI, a located :class:`SourceFile`, a pandas DataFrame, or an
#: iterable of dicts (column → value).
Source = str | PathLike[str] | SourceFile | Iterable[Mapping[str, Any]] | Any


def open_source(source: Source, sheet: str | int | None = None, *, pick: str = "mtime",
                settle: float = DEFAULT_SETTLE) -> Table:
    """Open any source as a :class:`Table` (``pick`` and ``settle``: as for :func:`open_table`). pandas is never
    imported here: a DataFrame can only exist once the caller has imported it."""
    if isinstance(source, str | PathLike | SourceFile):
        return open_table(source, sheet, pick=pick, settle=settle)
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(source, pandas.DataFrame):
        return open_dataframe(source)
    if isinstance(source, Iterable) and not isinstance(source, str | bytes | Mapping):
        return open_records(cast(Iterable[Mapping[str, Any]], source))
    raise TypeError(f"cannot import from a {type(source).__name__}: give a file path, a pandas DataFrame "
                    "or an iterable of dicts")


def read_rows(
    path: str | PathLike[str], sheet: str | int | None = None, size: int = DEFAULT_BATCH_SIZE
) -> Iterator[list[Row]]:
    """Shortcut for ``open_table(path, sheet).batches(size)``; the header is checked before this returns."""
    return open_table(path, sheet).batches(size)
