"""XLSX, XLSM, XLS and ODS through python-calamine, with every cell rendered as the text a person sees.

Before calamine touches a file, :func:`check_container` looks at its bytes and zip directory, so a zip
bomb, an encrypted workbook or a mislabelled file gets a clear one-line error instead of a crash.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from importer.errors import InputError
from importer.models import Row
from importer.sources.table import (
    MAX_CELL_BYTES,
    MAX_COLUMNS,
    Table,
    check_header,
    column_letter,
    input_error,
    is_blank,
    row_factory,
)

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_UNCOMPRESSED_BYTES = 1024**3
MAX_COMPRESSION_RATIO = 100
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


class WorkbookTable(Table):
    """One sheet of a workbook. calamine holds the sheet's cells; rows are rendered as text on the fly."""

    is_workbook = True

    def __init__(self, path: Path, kind: str, sheet: Any, sheet_name: str) -> None:
        super().__init__(path, [], sheet_name=sheet_name)
        self.kind = kind
        self._sheet = sheet
        self._first_column = sheet.start[1]
        self.header_row = 0
        self.columns, self.header_row = self._read_header()

    def _read_header(self) -> tuple[list[str], int]:
        for number, raw in enumerate(self._sheet.iter_rows(), start=1):
            cells = render_row(raw)
            if not is_blank(cells):
                return check_header(self.path, cells, number, self._first_column), number
        raise input_error(self.path, f"sheet {self.sheet_name!r} has no header row (it is empty)")

    def _batches(self, size: int) -> Iterator[list[Row]]:
        make_row, width = row_factory(self.columns), len(self.columns)
        raw_rows = self._sheet.iter_rows()
        for _ in islice(raw_rows, self.header_row):
            pass
        batch = []
        for number, raw in enumerate(raw_rows, start=self.header_row + 1):
            cells = [value if value.__class__ is str else cell_text(value) for value in raw]
            text = "".join(cells)
            if not text.strip():
                continue
            if len(text) > MAX_CELL_BYTES:
                self._refuse_huge_cells(cells, number)
            if len(cells) != width:
                cells = self._fit(cells, width, number)
            batch.append(make_row(number, cells))
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _refuse_huge_cells(self, cells: list[str], number: int) -> None:
        for index, cell in enumerate(cells):
            if len(cell) > MAX_CELL_BYTES:
                where = f"{column_letter(self._first_column + index)}{number}"
                raise input_error(self.path, f"cell {where} is larger than 1 MB", number)

    def _fit(self, cells: list[str], width: int, number: int) -> list[str]:
        if len(cells) < width:
            return cells + [""] * (width - len(cells))
        self._refuse_headless_values(cells, width, number)
        return cells[:width]

    def _refuse_headless_values(self, cells: list[str], width: int, number: int) -> None:
        for index in range(width, len(cells)):
            if cells[index].strip():
                letter = column_letter(self._first_column + index)
                raise input_error(
                    self.path,
                    f"cell {letter}{number} has a value but column {letter} has no header name",
                    number,
                )


def render_row(raw: Sequence[Any]) -> list[str]:
    """The cells of one calamine row as text (strings pass through untouched)."""
    return [value if value.__class__ is str else cell_text(value) for value in raw]


def cell_text(value: Any) -> str:
    """Text of a typed cell: whole floats without ".0", TRUE/FALSE, ISO 8601 dates and times."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
        return f"{sign}{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return "" if value is None else str(value)


def open_workbook(path: Path, kind: str, sheet: str | int | None) -> WorkbookTable:
    """Check the container, open it with calamine and read the header of the chosen sheet."""
    check_container(path, kind)
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet_name = pick_sheet(path, workbook, sheet)
        data = workbook.get_sheet_by_name(sheet_name)
    except InputError:
        raise
    except PasswordError:
        raise input_error(path, "is password-protected; remove the password and save it again") from None
    except BaseException as exc:  # calamine errors, and pyo3 panics (BaseException) on corrupt files
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        raise input_error(path, f"not a valid .{kind} file ({_short(exc)})") from None
    if data.start is None:
        raise input_error(path, f"sheet {sheet_name!r} has no header row (it is empty)")
    if data.width > MAX_COLUMNS:
        raise input_error(path, f"sheet {sheet_name!r} has {data.width} columns; at most {MAX_COLUMNS} are supported")
    return WorkbookTable(path, kind, data, sheet_name)


def pick_sheet(path: Path, workbook: Any, sheet: str | int | None) -> str:
    """Name of the sheet to read: the first visible worksheet by default, else by index (digits) or name."""
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    names: list[str] = list(workbook.sheet_names)
    if not names:
        raise input_error(path, "the workbook has no sheets")
    if sheet is None:
        for meta in workbook.sheets_metadata:
            if meta.visible == SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet:
                return str(meta.name)
        return names[0]
    wanted = str(sheet).strip()
    if wanted.isdigit() and int(wanted) < len(names):
        return names[int(wanted)]
    if wanted in names:
        return wanted
    folded = [name for name in names if name.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    listing = ", ".join(repr(name) for name in names)
    raise input_error(path, f"sheet {sheet!r} not found; the sheets are {listing} (or an index 0-{len(names) - 1})")


def check_container(path: Path, kind: str) -> None:
    """Refuse empty, mislabelled, encrypted and zip-bomb files before a reader opens them."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise input_error(path, f"cannot read the file ({exc.strerror or exc})") from None
    if not head:
        raise input_error(path, "the file is empty")
    if head.startswith(OLE2_MAGIC):
        _check_ole2(path, kind)
        return
    if kind == "xls":
        what = "an .xlsx workbook named .xls" if head.startswith(b"PK") else "not an Excel workbook"
        raise input_error(path, f"not a valid .xls file ({what}); save it again as .xlsx or CSV")
    _check_zip(path, kind)


def _check_ole2(path: Path, kind: str) -> None:
    """An OLE2 file is a real .xls, or an encrypted OOXML workbook (an ``EncryptedPackage`` stream)."""
    if _file_contains(path, _ENCRYPTED_PACKAGE):
        raise input_error(path, "is password-protected; remove the password and save it again")
    if kind != "xls":
        raise input_error(path, f"is an old Excel (.xls) workbook named .{kind}; rename it to .xls")


def _check_zip(path: Path, kind: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            manifest = _read_small(archive, "META-INF/manifest.xml") if kind == "ods" else b""
    except (zipfile.BadZipFile, OSError, EOFError):
        raise input_error(path, f"not a valid .{kind} file (not a zip archive)") from None
    if any(entry.flag_bits & 0x1 for entry in entries) or b"encryption-data" in manifest:
        raise input_error(path, "is password-protected; remove the password and save it again")
    unpacked = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries)
    if unpacked > MAX_UNCOMPRESSED_BYTES or unpacked > MAX_COMPRESSION_RATIO * max(packed, 1):
        raise input_error(
            path, f"looks like a zip bomb ({unpacked:,} bytes unpacked from {packed:,}); refusing to open it"
        )


def _read_small(archive: zipfile.ZipFile, name: str, limit: int = 1024 * 1024) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return b""
    return archive.read(info) if info.file_size <= limit else b""


def _file_contains(path: Path, needle: bytes, chunk_size: int = 1024 * 1024) -> bool:
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            if needle in tail + chunk[: len(needle)] or needle in chunk:
                return True
            tail = chunk[-len(needle) :]
    return False


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def workbook_sheets(path: Path) -> list[str]:
    """The names of a workbook's visible worksheets, in workbook order (a sheet picker's choices)."""
    kind = path.suffix.lower().lstrip(".")
    check_container(path, kind)
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        metadata = list(workbook.sheets_metadata)
    except BaseException as exc:  # calamine errors, and pyo3 panics (BaseException) on corrupt files
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        raise input_error(path, f"not a valid .{kind} file ({_short(exc)})") from None
    return [str(meta.name) for meta in metadata
            if meta.visible == SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet]
