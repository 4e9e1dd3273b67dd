"""The :class:`Table` every reader returns, header checks, limits and error helpers shared by the readers."""

from __future__ import annotations

import ast
import hashlib
import types
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importer.errors import InputError
from importer.models import Row

if TYPE_CHECKING:
    from importer.sources.locate import SourceFile

#: Largest cell a text reader accepts; a bigger one is almost always an unclosed quote.
MAX_CELL_BYTES = 1024 * 1024
#: Widest sheet accepted; real lead sheets have tens of columns.
MAX_COLUMNS = 10_000
DEFAULT_BATCH_SIZE = 5000



class Table:
    """An opened sheet: its header and metadata now, its rows on demand through :meth:`batches`.

    Readers subclass it and implement :meth:`rows`. :meth:`batches` may be called more than once; every
    call reads the sheet again from the top and never holds more than one batch of rows.
    """

    kind: str = ""
    is_workbook: bool = False

    def __init__(
        self,
        path: Path,
        columns: list[str],
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        sheet_name: str | None = None,
    ) -> None:
        self.path = path
        self.columns = columns
        self.encoding = encoding
        self.delimiter = delimiter
        self.sheet_name = sheet_name

    #: Where the sheet was found when it was more than a local file (a glob, a folder, a URI, a ``.gz``): its
    #: display name, the file picked, its digest. None for a file opened as it is, a DataFrame or dicts.
    origin: SourceFile | None = None
    _owns_origin: bool = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path.name!r} kind={self.kind} columns={len(self.columns)}>"

    def found_at(self, origin: SourceFile, owned: bool) -> Table:
        """This table was read from ``origin``; ``owned``: :meth:`close` removes its downloaded copies."""
        self.origin, self._owns_origin = origin, owned
        return self

    def close(self) -> None:
        """Remove what was downloaded or unpacked to open this table (when the table opened its source itself)."""
        if self.origin is not None and self._owns_origin:
            self.origin.close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def digest(self) -> str:
        """SHA-256 (hex) of the input's bytes: the same digest means the same input."""
        if self.origin is not None and self.origin.path == self.path:
            return self.origin.digest
        digest = hashlib.sha256()
        with open(self.path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    def batches(self, size: int = DEFAULT_BATCH_SIZE) -> Iterator[list[Row]]:
        """Yield the data rows in lists of at most ``size`` rows, blank rows skipped (but counted)."""
        if size < 1:
            raise ValueError("batch size must be at least 1")
        return self._batches(size)

    def rows(self) -> Iterator[Row]:
        """Yield the data rows one by one. Readers override this or :meth:`_batches` (or both)."""
        for batch in self._batches(DEFAULT_BATCH_SIZE):
            yield from batch

    def _batches(self, size: int) -> Iterator[list[Row]]:
        rows = self.rows()
        while batch := list(islice(rows, size)):
            yield batch


def input_error(path: Path, message: str, row: int | None = None) -> InputError:
    """An :class:`InputError` whose one-line message starts with the file name, then the row if known."""
    where = f"{path.name}: row {row}: " if row is not None else f"{path.name}: "
    return InputError(where + message)


def column_letter(index: int) -> str:
    """Spreadsheet letter of a 0-based column index: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def is_blank(cells: Sequence[str]) -> bool:
    """True when every cell is empty or whitespace only."""
    return not "".join(cells).strip()


def check_header(path: Path, names: Sequence[str], row: int, first_column: int = 0) -> list[str]:
    """Validate a header row and return its column names (stripped, trailing unnamed columns dropped).

    ``first_column`` is the 0-based sheet column of ``names[0]``, so messages name the column a person sees.
    Raises :class:`InputError` for a sheet that is too wide, an unnamed column or two columns with one name.
    """
    columns = [name.strip() for name in names]
    while columns and not columns[-1]:
        columns.pop()
    if len(columns) > MAX_COLUMNS:
        raise input_error(path, f"the header has {len(columns)} columns; at most {MAX_COLUMNS} are supported", row)
    seen: dict[str, int] = {}
    for index, name in enumerate(columns):
        position = first_column + index
        if not name:
            raise input_error(path, f"column {position + 1} ({column_letter(position)}) has no name", row)
        if name in seen:
            raise input_error(path, f"columns {seen[name] + 1} and {position + 1} are both named {name!r}", row)
        seen[name] = position
    return columns


_ROW_TEMPLATE = """
def make_row(number, cells):
    row = new(Row)
    set_number(row, number)
    set_cells(row, CELLS)
    return row
"""


class _InsertCells(ast.NodeTransformer):
    def __init__(self, display: ast.Dict) -> None:
        self.display = display

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return self.display if node.id == "CELLS" else node


def row_factory(columns: Sequence[str]) -> Callable[[int, Sequence[str]], Row]:
    """A function ``(number, cells) -> Row`` for one header; ``cells`` must be exactly as long as it.

    The hot path of every reader. The function is compiled for this header: a dict display with constant
    keys and slot stores instead of ``Row(number, dict(zip(columns, cells)))``: reading the 1,000,000-row CSV of
    ``benchmarks/bench_validate.py`` takes 2.5 s instead of 3.3 s. Column names enter the code only as AST
    constants, never as source text.
    """
    number_slot, cells_slot = Row.__dict__.get("number"), Row.__dict__.get("cells")
    if not isinstance(number_slot, types.MemberDescriptorType) or not isinstance(
        cells_slot, types.MemberDescriptorType
    ):
        names = list(columns)
        return lambda number, cells: Row(number, dict(zip(names, cells, strict=True)))
    cells = ast.Name("cells", ast.Load())
    display = ast.Dict(
        keys=[ast.Constant(name) for name in columns],
        values=[ast.Subscript(cells, ast.Constant(index), ast.Load()) for index in range(len(columns))],
    )
    tree = ast.fix_missing_locations(_InsertCells(display).visit(ast.parse(_ROW_TEMPLATE)))
    namespace: dict[str, Any] = {
        "new": object.__new__,
        "Row": Row,
        "set_number": number_slot.__set__,
        "set_cells": cells_slot.__set__,
    }
    exec(compile(tree, "<row_factory>", "exec"), namespace)
    return namespace["make_row"]
