"""Guess how a delimited text file is written: its encoding and its delimiter, from a sample of its start."""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

from importer.sources.table import input_error

SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")

#: Single-byte encodings charset-normalizer cannot tell apart from cp1252 on short Western text.
_WESTERN_LOOKALIKES = frozenset(
    {
        "cp1250", "cp1252", "cp1257", "cp1258", "cp775", "cp850", "cp437", "latin_1", "iso8859_1",
        "iso8859_2", "iso8859_4", "iso8859_10", "iso8859_13", "iso8859_15", "mac_latin2", "mac_roman",
    }
)  # fmt: skip

#: Magic numbers of files people save with the wrong extension, and what to say about them.
_BINARY_MAGIC = (
    (b"PK\x03\x04", "looks like a zip archive (an .xlsx or .ods workbook?), not delimited text"),
    (b"\xd0\xcf\x11\xe0", "looks like an old Excel (.xls) workbook, not delimited text"),
    (b"%PDF", "is a PDF document, not delimited text"),
)


def read_sample(path: Path, size: int = SAMPLE_BYTES) -> bytes:
    """The first ``size`` bytes of a file, with a one-line error for a missing or unreadable file."""
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise input_error(path, f"cannot read the file ({exc.strerror or exc})") from None


def detect_encoding(path: Path, sample: bytes) -> str:
    """Name the codec that reads the file; the codec drops a byte order mark itself.

    Order: byte order marks, UTF-16 without BOM (NUL pattern), UTF-8, then charset-normalizer on the sample
    (Western look-alikes read as cp1252). Raises :class:`InputError` for a binary file. Stray NUL bytes in
    text are left for the reader, which names their row.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for magic, message in _BINARY_MAGIC:
        if sample.startswith(magic):
            raise input_error(path, message)
    if b"\x00" in sample and (utf16 := _utf16_without_bom(sample)):
        return utf16
    if _is_utf8(sample):
        return "utf-8"
    return _guess_legacy_encoding(path, sample)


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 text of mostly ASCII has a NUL in every other byte: name its byte order, else None."""
    pairs = len(sample) // 2 or 1
    odd_nuls = sample[1::2].count(0) / pairs
    even_nuls = sample[0::2].count(0) / pairs
    if odd_nuls > 0.3 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.3 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def _is_utf8(sample: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=len(sample) < SAMPLE_BYTES)
    except UnicodeDecodeError:
        return False
    return True


def _guess_legacy_encoding(path: Path, sample: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise input_error(path, "cannot tell the text encoding; is this a binary file? Save it as UTF-8 CSV")
    encoding = str(best.encoding)
    if encoding in _WESTERN_LOOKALIKES:
        try:
            sample.decode("cp1252")
        except UnicodeDecodeError:
            return "latin_1"
        return "cp1252"
    return encoding


def detect_delimiter(text: str, suffix: str, truncated: bool = True) -> str:
    """Pick the delimiter among , ; tab | that splits the first lines most consistently (``.tsv`` → tab).

    Each candidate parses the sample with the csv module (so quoted delimiters do not count); the winner
    gives the header more than one field and the most rows with as many fields as the header.
    ``truncated`` says the sample stops before the end of the file (its last line is then ignored).
    """
    if suffix == ".tsv":
        return "\t"
    lines = text.splitlines(keepends=True)
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # the sample ends in the middle of a line
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        widths = _field_counts(lines[:50], delimiter)
        if not widths or widths[0] < 2:
            continue
        agreement = sum(width == widths[0] for width in widths) / len(widths)
        score = (agreement, widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    """Field count of each non-blank record in ``lines`` (stops quietly at a malformed record)."""
    counts: list[int] = []
    try:
        for record in csv.reader(lines, delimiter=delimiter):
            if record:
                counts.append(len(record))
    except csv.Error:
        pass
    return counts
