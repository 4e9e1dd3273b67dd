"""CSV and TSV: the stdlib csv reader (C speed), strict quoting, every cell kept as the text typed."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import IO, NamedTuple

from importer.errors import InputError
from importer.models import Row
from importer.sources.sniffing import SAMPLE_BYTES, detect_delimiter, detect_encoding, read_sample
from importer.sources.table import MAX_CELL_BYTES, Table, check_header, input_error, is_blank, row_factory

_SCAN_CHUNK = 1024 * 1024


class Records(NamedTuple):
    """Consecutive data records of a delimited file, each as long as the header, and their row numbers;
    ``text``: the file's text of exactly these records, when it was read in ranges (:mod:`importer.sources.chunks`)."""

    numbers: list[int]
    cells: list[list[str]]
    text: RecordsText | None = None


class RecordsText(NamedTuple):
    """The text of consecutive records as the file holds it, read again into the same records when asked for.

    A real run keeps every row's cells for its report files, but writes them only for the rows it reports there
    (failures, successes): a nightly sync that finds every row unchanged writes none. Keeping a batch's text is one
    slice, where keeping its cells is a join a row: the 1,000,000-row unchanged rerun of
    ``benchmarks/bench_sync.py``: 0.45 µs a row of the checking processes' CPU, and 0.1 s of the importer's
    reading them back, for cells no report wrote."""

    text: str
    delimiter: str | None
    width: int

    def records(self) -> list[list[str]]:
        """The records, fitted to the header as :meth:`DelimitedTable.records_in` fits them."""
        fitted = (fit_record(record, self.width) for record in _reader(io.StringIO(self.text, newline=""),
                                                                         self.delimiter))
        return [record for record in fitted if record is not None]


class DelimitedTable(Table):
    """A CSV or TSV file. ``header_row`` is the record number of the header (1 unless blank lines lead)."""

    def __init__(self, path: Path, kind: str, columns: list[str], encoding: str, delimiter: str, header_row: int):
        super().__init__(path, columns, encoding=encoding, delimiter=delimiter)
        self.kind = kind
        self.header_row = header_row

    def _batches(self, size: int) -> Iterator[list[Row]]:
        with _open_text(self.path, self.encoding) as handle:
            records = _reader(handle, self.delimiter)
            for _ in islice(records, self.header_row):  # read once already, when the file was opened
                pass
            yield from self.rows_in(records, self.header_row, size)

    def rows_in(self, records: Iterator[list[str]], number: int, size: int) -> Iterator[list[Row]]:
        """Batches of rows made of csv ``records`` whose first one is row ``number + 1``; errors name the row."""
        make_row = row_factory(self.columns)
        for batch in self.records_in(records, number, size):
            yield list(map(make_row, batch.numbers, batch.cells))

    def records_in(self, records: Iterator[list[str]], number: int, size: int) -> Iterator[Records]:
        """:meth:`rows_in`'s batches as the csv module reads them: each record fitted to the header's width (a
        checking process maps the cells by position, with no dict a row), and its row number."""
        width = len(self.columns)
        numbers: list[int] = []
        cells: list[list[str]] = []
        try:
            for record in records:
                number += 1
                if len(record) != width or not (record[0].strip() or "".join(record).strip()):
                    fitted = self._fit(record, width, number)
                    if fitted is None:
                        continue
                    record = fitted
                numbers.append(number)
                cells.append(record)
                if len(cells) >= size:
                    yield Records(numbers, cells)
                    numbers, cells = [], []
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _read_error(self, exc, number + 1) from None
        if cells:
            yield Records(numbers, cells)

    def _fit(self, record: list[str], width: int, number: int) -> list[str] | None:
        """Pad a short record, drop empty trailing extras; None for a blank record."""
        fitted = fit_record(record, width)
        if fitted is not None and len(fitted) != width:
            raise input_error(self.path, f"has {len(record)} cells but the header names only {width} columns",
                              number)
        return fitted


def fit_record(record: list[str], width: int) -> list[str] | None:
    """A record padded to ``width`` cells, or without its blank cells beyond them; None for a blank record, the
    record as it is when cells beyond ``width`` hold text."""
    if is_blank(record):
        return None
    if len(record) < width:
        return record + [""] * (width - len(record))
    if is_blank(record[width:]):
        return record[:width]
    return record


def open_delimited(path: Path, kind: str) -> DelimitedTable:
    """Open a CSV/TSV file: detect its encoding and delimiter, check for NUL bytes and read the header."""
    sample = read_sample(path)
    if not sample.strip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n"):
        raise input_error(path, "the file is empty" if not sample else "the file has only blank lines")
    encoding = detect_encoding(path, sample)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample)
    delimiter = detect_delimiter(text, path.suffix.lower(), truncated=len(sample) >= SAMPLE_BYTES)
    if kind == "csv" and delimiter == "\t" and path.suffix.lower() != ".csv":
        kind = "tsv"
    if not encoding.startswith("utf-16"):
        _refuse_nul_bytes(path, encoding, delimiter)
    table = DelimitedTable(path, kind, [], encoding, delimiter, header_row=0)
    table.columns, table.header_row = _read_header(table)
    return table


def _read_header(table: DelimitedTable) -> tuple[list[str], int]:
    """The first non-blank record, checked as a header, and its record number."""
    with _open_text(table.path, table.encoding) as handle:
        number = 0
        try:
            for record in _reader(handle, table.delimiter):
                number += 1
                if not is_blank(record):
                    if record[0].startswith("\ufeff"):
                        record[0] = record[0][1:]
                    return check_header(table.path, record, number), number
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _read_error(table, exc, number + 1) from None
    raise input_error(table.path, "no header row: the file has only blank lines")


def _open_text(path: Path, encoding: str | None) -> IO[str]:
    try:
        return path.open("r", encoding=encoding, newline="", errors="strict")
    except OSError as exc:
        raise input_error(path, f"cannot read the file ({exc.strerror or exc})") from None


def _reader(handle: IO[str], delimiter: str | None) -> Iterator[list[str]]:
    csv.field_size_limit(MAX_CELL_BYTES)
    return csv.reader(handle, delimiter=delimiter or ",", strict=True)


def _read_error(table: DelimitedTable, exc: Exception, number: int) -> InputError:
    """Turn a csv or decoding error into one line naming the file and the row it happened in."""
    if isinstance(exc, UnicodeDecodeError):
        offset, byte = _first_undecodable_byte(table.path, table.encoding or "utf-8")
        row = _row_at_offset(table, offset)
        return input_error(
            table.path,
            f"byte 0x{byte:02X} (offset {offset}) is not valid {table.encoding} text; save the file as UTF-8",
            row,
        )
    detail = str(exc)
    if "field larger than field limit" in detail:
        message = "a cell is larger than 1 MB (is a quote left open?)"
    elif "unexpected end of data" in detail:
        message = "a quoted cell is never closed (unterminated quote)"
    else:
        message = f"malformed {table.kind.upper()} ({detail})"
    return input_error(table.path, message, number)


def _refuse_nul_bytes(path: Path, encoding: str, delimiter: str) -> None:
    """NUL never occurs in 8-bit or UTF-8 text: find the first one (memchr speed) and name its row."""
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_SCAN_CHUNK):
            found = chunk.find(b"\x00")
            if found >= 0:
                table = DelimitedTable(path, "csv", [], encoding, delimiter, header_row=0)
                row = _row_at_offset(table, offset + found)
                raise input_error(path, "contains a NUL byte; this looks like a binary file, not text", row)
            offset += len(chunk)


def _first_undecodable_byte(path: Path, encoding: str) -> tuple[int, int]:
    """Offset and value of the first byte ``encoding`` cannot decode (error path only)."""
    plain = "utf-8" if encoding == "utf-8-sig" else encoding  # keeps exception offsets absolute
    decoder = codecs.getincrementaldecoder(plain)()
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_SCAN_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                pending = len(decoder.getstate()[0]) if hasattr(decoder, "getstate") else 0
                position = offset - pending + exc.start
                handle.seek(position)
                return position, handle.read(1)[0]
            offset += len(chunk)
    return offset, 0


def _row_at_offset(table: DelimitedTable, offset: int) -> int:
    """The record number (as a person counts rows) that contains byte ``offset`` (error path only)."""
    with table.path.open("rb") as handle:
        prefix = handle.read(offset)
    text = prefix.decode(table.encoding or "utf-8", errors="replace")
    records = 0
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=table.delimiter or ","):
            records += 1
    except csv.Error:
        pass
    return records + 1 if not text or text.endswith(("\n", "\r")) else max(records, 1)
