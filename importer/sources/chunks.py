"""Split a CSV file into byte ranges of whole records, so several processes can read one file at once.

A record ends at a newline that is outside quotes. In RFC 4180 text a quote inside a quoted cell is written twice,
so "outside quotes" is "an even number of quote bytes since the start of the body": counting bytes is enough, and
``bytes.count`` runs at memory speed. That holds for encodings in which the quote and newline bytes cannot occur
inside another character (UTF-8 and the 8-bit code pages); other files are read in one stream.

Each range carries the row number of its first record, so rows keep the numbers a person sees in the sheet.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

from importer.models import Row
from importer.sources.delimited import DelimitedTable, Records, RecordsText, _read_error, _reader
from importer.sources.table import row_factory

#: Encodings whose quote and newline bytes never appear inside another character.
SPLITTABLE = frozenset({"utf-8", "utf-8-sig", "ascii", "cp1252", "latin-1", "iso-8859-1", "windows-1252"})
#: Size of a range: small enough that the last one leaves the other workers idle only briefly (a 1,000,000-row
#: dry run on 2 cores: 14.5 s with 2 MB, 15.0 s with 1 MB, 15.1 s with 4 MB).
CHUNK_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes ``start:end`` of the file hold whole records; the first one is row ``first_row``."""

    start: int
    end: int
    first_row: int


#: Every byte but the quote and the newline (:func:`records_in` drops them).
_NEITHER_QUOTE_NOR_NEWLINE = bytes(byte for byte in range(256) if byte not in b'"\n')


def records_in(data: bytes) -> int:
    """Newlines outside quotes in ``data``, which starts outside quotes."""
    if b'"' not in data:
        return data.count(b"\n")
    # Only the quotes and newlines matter: kept alone, then without the quotes that follow one another (a pair
    # changes no newline's side), most files have no quote left; the newlines of the quoted parts are taken from
    # all of them otherwise. No Python step per quoted cell: planning the 1,000,000-row CSV of
    # benchmarks/bench_validate.py, a quoted note on each row, 0.5 s → 0.19 s splitting every chunk at its quotes
    # → 0.07 s.
    marks = data.translate(None, _NEITHER_QUOTE_NOR_NEWLINE).replace(b'""', b"")
    if b'"' not in marks:
        return marks.count(b"\n")
    return marks.count(b"\n") - b"".join(marks.split(b'"')[1::2]).count(b"\n")


def _offset_after(data: bytes, records: int) -> int | None:
    """Byte offset just after the ``records``-th record terminator of ``data``, or None if not within it."""
    position = quotes = seen = 0
    while seen < records:
        newline = data.find(b"\n", position)
        if newline < 0:
            return None
        quotes += data.count(b'"', position, newline)
        position = newline + 1
        if quotes % 2 == 0:
            seen += 1
    return position


def _cut(data: bytes) -> int:
    """Length of the longest prefix of ``data`` that ends with a record terminator (0 if none)."""
    end = len(data)
    while True:
        newline = data.rfind(b"\n", 0, end)
        if newline < 0:
            return 0
        if data.count(b'"', 0, newline) % 2 == 0:
            return newline + 1
        end = newline


def plan_chunks(table: DelimitedTable, size: int | None = None) -> Iterator[Chunk] | None:
    """Byte ranges covering every data record, found as they are consumed (so workers can start on the first
    while the rest of the file is scanned); None when the file must be read as one stream."""
    size = size or CHUNK_BYTES
    if (table.encoding or "").lower() not in SPLITTABLE:
        return None
    with table.path.open("rb") as handle:
        head = handle.read(max(size, 1024 * 1024))
    if b"\r" in head and head.count(b"\r") != head.count(b"\r\n"):
        return None  # bare CR line ends: let the csv module find the records
    body = _offset_after(head, table.header_row)
    if body is None:
        return None
    return _chunks_from(table, body, size)


def _chunks_from(table: DelimitedTable, start: int, size: int) -> Iterator[Chunk]:
    row, carry = table.header_row + 1, b""
    with table.path.open("rb") as handle:
        handle.seek(start)
        while block := handle.read(size):
            data = carry + block
            cut = _cut(data)
            if cut:
                yield Chunk(start, start + cut, row)
                row += records_in(data[:cut])
                start += cut
            carry = data[cut:]
    if carry.strip():
        yield Chunk(start, start + len(carry), row)


def read_chunk(table: DelimitedTable, chunk: Chunk, size: int = 5000) -> Iterator[list[Row]]:
    """The data rows of one range, in batches, numbered and checked exactly as :meth:`Table.batches` does."""
    make_row = row_factory(table.columns)
    for batch in read_chunk_records(table, chunk, size):
        yield list(map(make_row, batch.numbers, batch.cells))


def read_chunk_records(table: DelimitedTable, chunk: Chunk, size: int = 5000) -> Iterator[Records]:
    """:func:`read_chunk`'s batches as records (:meth:`DelimitedTable.records_in`)."""
    with table.path.open("rb") as handle:
        handle.seek(chunk.start)
        data = handle.read(chunk.end - chunk.start)
    encoding = "utf-8" if table.encoding == "utf-8-sig" else table.encoding or "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _read_error(table, exc, chunk.first_row) from None
    stream = io.StringIO(text, newline="")
    start, width = 0, len(table.columns)
    # The reader takes a record's lines as it reads it, so after a batch's last record the stream is at its end.
    for batch in table.records_in(_reader(stream, table.delimiter), chunk.first_row - 1, size):
        end = stream.tell()
        yield batch._replace(text=RecordsText(text[start:end], table.delimiter, width))
        start = end
