"""Checked rows, and their spill files between the two passes of a run.

A :class:`CheckedRow` is made once, where its row is checked, and travels as is to the kind of run that acts on
it: only the cross-row verdicts can change it on the way (a few rows, when the sheet repeats a lead).

Cross-row verdicts are known only after the last row, so pass one writes each row to a part file and pass two
reads the parts back in sheet order. A part holds its batches one after the other, each as a pickle of everything
but its payloads.jsonl lines, then those lines as they are: memory stays flat whatever the input's size, and a dry
run copies a batch's lines from its part to payloads.jsonl without reading them into this process
(:class:`SpilledLines`).
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import IO, Any, Literal, NamedTuple

from importer.checks.crossrow import CrossRowVerdicts
from importer.checks.packing import pack_phones, primary_phones, unpack_phones
from importer.models import Issue, Row
from importer.report.payloads import parse_payload_lines
from importer.report.tasklines import parse_task_lines
from importer.sources.delimited import RecordsText

#: Between the cells of a row kept as one text (:meth:`CheckedBatch.keep_cells`): the ASCII unit separator.
CELL_SEPARATOR = "\x1f"

#: ``send`` the row; ``skipped``: another row with the same customer phone is sent instead; ``invalid``: an
#: error of its own or across rows.
Verdict = Literal["send", "skipped", "invalid"]


class CheckedRow(NamedTuple):
    """One row on its way: its number, each request to send (none when invalid), its phones (primary
    first), every issue (its own, then the cross-row ones), its verdict, and its cells when the run keeps them
    (a real run writes them to successes.csv and failures.csv). A named tuple: a million of them are pickled."""

    number: int
    requests: tuple[dict[str, Any], ...]
    phones: tuple[str, ...]
    issues: tuple[Issue, ...]
    verdict: Verdict
    cells: tuple[str, ...] | None
    #: The create-task bodies of the row's tasks (reference §4.1), made once their lead's upsert went through.
    tasks: tuple[dict[str, Any], ...] = ()

    def row(self, columns: list[str]) -> Row:
        """The row as read (its cells must have been kept)."""
        return Row(self.number, dict(zip(columns, self.cells or (), strict=False)))

    def first_error(self) -> str:
        """The row's errors in one line, for failures.csv."""
        errors = [f"{issue.code}: {issue.message}" for issue in self.issues if issue.is_error]
        return "; ".join(errors) if errors else "invalid row"


@contextmanager
def acyclic() -> Iterator[None]:
    """Pause the cyclic garbage collector around code that makes many objects but no reference cycles
    (reference counting frees them all). It would re-scan every live batch of rows again and again: checking
    200,000 rows takes 5.0 s instead of 6.0 s without it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class SpilledLines(NamedTuple):
    """The payloads.jsonl lines of a batch read back from its part: bytes ``offset:offset + length`` of ``path``."""

    path: str
    offset: int
    length: int

    def read(self) -> bytes:
        with open(self.path, "rb") as stream:
            stream.seek(self.offset)
            return stream.read(self.length)

    def copy_to(self, target: IO[bytes]) -> None:
        """Append the lines to ``target``, a file open for writing at its end, without reading them into this
        process where the OS copies between files itself (``os.copy_file_range``, Linux)."""
        target.flush()
        with open(self.path, "rb") as source:
            copied = _copy_in_kernel(source, target, self.offset, self.length)
            if copied:
                target.seek(0, os.SEEK_END)  # the buffered writer picks up where the copy left the file
            if copied < self.length:
                source.seek(self.offset + copied)
                _copy_in_blocks(source, target, self.length - copied)


#: The block of :func:`_copy_in_blocks`.
COPY_BLOCK = 1024 * 1024


def _copy_in_kernel(source: IO[bytes], target: IO[bytes], offset: int, length: int) -> int:
    """Copy ``length`` bytes of ``source`` from ``offset`` to ``target``'s position with ``os.copy_file_range``;
    the bytes copied (fewer when the OS has no such call or refuses it for these files: the caller copies the
    rest)."""
    copy_range = getattr(os, "copy_file_range", None)
    if copy_range is None:
        return 0
    copied = 0
    try:
        while copied < length:
            done = copy_range(source.fileno(), target.fileno(), length - copied, offset + copied)
            if done == 0:
                break
            copied += done
    except OSError:
        pass  # across file systems on some kernels, or a file system without it: copied in blocks instead
    return copied


def _copy_in_blocks(source: IO[bytes], target: IO[bytes], length: int) -> None:
    buffer = memoryview(bytearray(min(COPY_BLOCK, length)))
    while length > 0:
        read = source.readinto(buffer[:min(len(buffer), length)])  # type: ignore[attr-defined]
        if not read:
            raise EOFError(f"{source.name}: a spilled part ends early")
        target.write(buffer[:read])
        length -= read


class CheckedBatch:
    """Consecutive checked rows, stored by column: that is how they are written to a part and read back.

    A row's requests are kept as its payloads.jsonl lines (``lines[ends[i - 1]:ends[i]]``), made once where the
    row is checked: a dry run writes a batch's lines as they are, with no work per row (pass two of a 1,000,000-row
    dry run: 1.2 s, against 3.2 s with one record per row); the other kinds read a row's requests back with the
    format's one reader. A batch read back from its part reads its lines when first asked for them
    (:meth:`sent_payloads` gives them still on disk).
    Iterating a batch gives its rows as :class:`CheckedRow`; ``issues`` holds only the rows that have some.
    """

    __slots__ = ("numbers", "_phones", "_packed_phones", "_primaries", "verdicts", "issues", "_cells", "_cells_text",
                 "_lines", "_spilled", "ends", "digests", "tasks")

    def __init__(self, keep_cells: bool) -> None:
        self.numbers: list[int] = []
        self._phones: list[tuple[str, ...]] | None = []
        self._packed_phones: str | None = None  # the phones as a part holds them, while _phones is None
        self._primaries: list[str] | None = None
        self.verdicts: list[Verdict] = []
        self.issues: dict[int, tuple[Issue, ...]] = {}
        self._cells: list[str | tuple[str, ...]] | None = [] if keep_cells else None
        self._cells_text: RecordsText | None = None  # the records' text, while _cells is None
        self._lines: bytes | None = b""
        self._spilled: SpilledLines | None = None  # where the lines are while _lines is None
        self.ends: list[int] = []
        #: Per row, a digest of its request bodies (empty for an invalid row): a sync tells an unchanged row by it.
        self.digests: list[bytes] = []
        #: The tasks.jsonl lines of the rows that have tasks, by row number.
        self.tasks: dict[int, bytes] = {}

    @property
    def phones(self) -> list[tuple[str, ...]]:
        """Per row, its phones (primary first)."""
        if self._phones is None:
            assert self._packed_phones is not None
            self._phones = unpack_phones(self._packed_phones)
        return self._phones

    @phones.setter
    def phones(self, phones: list[tuple[str, ...]]) -> None:
        self._phones, self._packed_phones, self._primaries = phones, None, None

    @property
    def primaries(self) -> list[str]:
        """Per row, its customer phone ("" for a row without one). A sync's pass two looks up each lead by it:
        taken from the packed text without a tuple a row, once (a 1,000,000-row sync's pass two, profiled: 2.3-2.7
        s unpacking every row's phones and taking the first three times over, 0.26 s for this list)."""
        if self._primaries is None:
            if self._phones is None and self._packed_phones is not None:
                self._primaries = primary_phones(self._packed_phones)
            else:
                self._primaries = [phones[0] if phones else "" for phones in self.phones]
        return self._primaries

    @property
    def cells(self) -> list[str | tuple[str, ...]] | None:
        """Per row, its cells as one text (:meth:`keep_cells`), or as a tuple when a cell holds the separator (or
        when read again from the records' text: :meth:`keep_records`); None when the batch keeps no cells."""
        if self._cells is None and self._cells_text is not None:
            self._cells = list(map(tuple, self._cells_text.records()))
            if len(self._cells) != len(self.numbers):
                raise ValueError(f"rows {self.numbers[0]}-{self.numbers[-1]}: their text holds {len(self._cells)} "
                                 f"records")
        return self._cells

    @property
    def lines(self) -> bytes:
        """The payloads.jsonl lines of every row, in row order."""
        if self._lines is None:
            assert self._spilled is not None
            self._lines = self._spilled.read()
        return self._lines

    @lines.setter
    def lines(self, lines: bytes) -> None:
        self._lines, self._spilled = lines, None

    def __len__(self) -> int:
        return len(self.numbers)

    def __iter__(self) -> Iterator[CheckedRow]:
        return (self.row_at(index) for index in range(len(self.numbers)))

    def keep_cells(self, rows: Iterable[Row], columns: list[str]) -> None:
        """Keep each row's cells in the order of ``columns`` ("" for a column it lacks), joined into one text: a
        real run keeps every row's cells, and one object a row instead of one a cell is cheaper to keep, pickle and
        read back (the 100,000 rows of 12 cells of ``benchmarks/bench_sync.py``'s sheet: 0.10-0.16 s of CPU
        against 0.28-0.47 s for a tuple a row). A row with a cell that holds the separator (or that lacks a
        column) is kept as a tuple."""
        assert self.cells is not None
        get = itemgetter(*columns) if len(columns) > 1 else lambda cells: tuple(cells[name] for name in columns)
        join, extra = CELL_SEPARATOR.join, len(columns) - 1
        for row in rows:
            try:
                joined = join(get(row.cells))
                if joined.count(CELL_SEPARATOR) == extra:
                    self.cells.append(joined)
                    continue
            except (KeyError, TypeError):
                pass
            self.cells.append(tuple(row.cells.get(column, "") for column in columns))

    def keep_records(self, records: Iterable[Sequence[str]], text: RecordsText | None = None) -> None:
        """:meth:`keep_cells` of records whose cells are those of the columns kept, in their order; with their
        ``text``, that text alone, read again into cells only when they are asked for (:class:`RecordsText`)."""
        assert self.cells is not None
        if text is not None and not self._cells:
            self._cells, self._cells_text = None, text
            return
        join = CELL_SEPARATOR.join
        for record in records:
            joined = join(record)
            self.cells.append(joined if joined.count(CELL_SEPARATOR) == len(record) - 1 else tuple(record))

    def row_at(self, index: int) -> CheckedRow:
        """The batch's ``index``-th row, its requests read back from its payloads.jsonl lines."""
        number = self.numbers[index]
        start, end = self.ends[index - 1] if index else 0, self.ends[index]
        requests = tuple(payload for _, payload in parse_payload_lines(self.lines[start:end]))
        kept = self.cells[index] if self.cells is not None else None
        cells = tuple(kept.split(CELL_SEPARATOR)) if isinstance(kept, str) else kept
        lines = self.tasks.get(number)
        tasks = tuple(task for _, _, task in parse_task_lines(lines)) if lines else ()
        return CheckedRow(number, requests, self.phones[index], self.issues.get(number, ()), self.verdicts[index],
                          cells, tasks)

    def sent_lines(self) -> bytes:
        """The payloads.jsonl lines of the rows whose verdict is ``send``."""
        sent = self.sent_payloads()
        return sent.read() if isinstance(sent, SpilledLines) else sent

    def sent_payloads(self) -> bytes | SpilledLines:
        """:meth:`sent_lines`, or where they are in the batch's part when they are all its lines and have not
        been read yet: a dry run copies them from there (pass two of ``benchmarks/bench_validate.py``'s
        1,000,000-row dry run: 0.97-1.38 s of CPU → 0.44-0.52 s; the 426 MB of lines were read into this process
        and written out again)."""
        if self._every_line_sent():
            return self._spilled if self._lines is None and self._spilled is not None else self.lines
        spans = zip([0, *self.ends], self.ends, self.verdicts, strict=False)
        lines = self.lines
        return b"".join(lines[start:end] for start, end, verdict in spans if verdict == "send")

    def _every_line_sent(self) -> bool:
        if self.verdicts.count("send") == len(self.verdicts):
            return True  # every row is sent (the common case, counted without a Python step per row)
        spans = zip([0, *self.ends], self.ends, self.verdicts, strict=False)
        return all(verdict == "send" or start == end for start, end, verdict in spans)  # every row that has lines

    def task_lines(self) -> bytes:
        """The tasks.jsonl lines of the rows whose verdict is ``send``."""
        if not self.tasks:
            return b""
        return b"".join(self.tasks[number] for number, verdict in zip(self.numbers, self.verdicts, strict=True)
                        if verdict == "send" and number in self.tasks)

    def settled(self, verdicts: CrossRowVerdicts) -> CheckedBatch:
        """A copy with the cross-row checks' issues and verdicts applied (its lines still where they were)."""
        batch = CheckedBatch.__new__(CheckedBatch)
        for name in CheckedBatch.__slots__:
            setattr(batch, name, getattr(self, name))
        batch.verdicts = [
            "invalid" if verdict == "invalid" or number in verdicts.invalid
            else "skipped" if number in verdicts.skipped else verdict
            for number, verdict in zip(self.numbers, self.verdicts, strict=True)]
        batch.issues = dict(self.issues)
        for number in self.numbers:
            if number in verdicts.issues:
                batch.issues[number] = batch.issues.get(number, ()) + tuple(verdicts.issues[number])
        return batch

    def all_issues(self) -> list[Issue]:
        """Every issue of the batch, in row order."""
        if not self.issues:
            return []
        return [issue for number in self.numbers if number in self.issues for issue in self.issues[number]]

    def __getstate__(self) -> tuple[Any, ...]:
        cells = self._cells_text if self._cells is None and self._cells_text is not None else self._cells
        return (self.numbers, self.phones, self.verdicts, self.issues, cells, self.lines, self.ends, self.digests,
                self.tasks)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        (self.numbers, self._phones, self.verdicts, self.issues, cells, self._lines, self.ends,
         self.digests, self.tasks) = state
        self._cells, self._cells_text = (None, cells) if isinstance(cells, RecordsText) else (cells, None)
        self._spilled = self._packed_phones = self._primaries = None


def row_digest(bodies: Iterable[bytes]) -> bytes:
    """A short digest of a row's request bodies: equal digests, equal requests."""
    digest = hashlib.blake2b(digest_size=12)
    for body in bodies:
        digest.update(body)
        digest.update(b"\n")
    return digest.digest()


#: Lines of a batch read back from its part this short are read with the rest of the batch (not worth a copy).
INLINE_LINES = 64 * 1024


def write_part(path: str, batches: Iterable[CheckedBatch]) -> None:
    """Write ``batches`` to a part: for each, a pickle of all but its lines (their length in their place), then
    its lines."""
    with open(path, "wb") as stream:
        for batch in batches:
            lines = batch.lines
            numbers, phones, *state = batch.__getstate__()
            state[3] = len(lines)  # (verdicts, issues, cells, lines, ...)
            pickle.dump((numbers, pack_phones(phones), *state), stream, protocol=pickle.HIGHEST_PROTOCOL)
            stream.write(lines)


def read_part(path: str) -> Iterator[CheckedBatch]:
    """The batches of a part, in the order they were written; the lines of a large batch stay in the part until
    asked for (:attr:`CheckedBatch.lines`, :meth:`CheckedBatch.sent_payloads`)."""
    with open(path, "rb") as stream:
        while True:
            try:
                with acyclic():
                    state = pickle.load(stream)
            except EOFError:
                return
            batch = CheckedBatch.__new__(CheckedBatch)
            numbers, phones, verdicts, issues, cells, length, *rest = state
            packed = phones if isinstance(phones, str) else None
            if length <= INLINE_LINES:
                batch.__setstate__((numbers, phones, verdicts, issues, cells, stream.read(length), *rest))
            else:
                batch.__setstate__((numbers, phones, verdicts, issues, cells, None, *rest))
                batch._spilled = SpilledLines(path, stream.tell(), length)
                stream.seek(length, os.SEEK_CUR)
            if packed is not None:
                batch._phones, batch._packed_phones = None, packed
            yield batch
