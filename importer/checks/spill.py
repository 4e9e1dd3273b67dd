"""Checked rows, and their spill files between the two passes of a run.

A :class:`CheckedRow` is made once, where its row is checked, and travels as is to the kind of run that acts on
it: only the cross-row verdicts can change it on the way (a few rows, when the sheet repeats a lead).

Cross-row verdicts are known only after the last row, so pass one writes each row to a part file and pass two
reads the parts back in sheet order. A part holds pickled lists of rows, one list per batch: memory stays flat
whatever the input's size.
"""

from __future__ import annotations

import gc
import hashlib
import pickle
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from copy import copy
from operator import itemgetter
from typing import Any, Literal, NamedTuple

from importer.checks.crossrow import CrossRowVerdicts
from importer.models import Issue, Row
from importer.report.payloads import parse_payload_lines
from importer.report.tasklines import parse_task_lines

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


class CheckedBatch:
    """Consecutive checked rows, stored by column: that is how they are written to a part and read back.

    A row's requests are kept as its payloads.jsonl lines (``lines[ends[i - 1]:ends[i]]``), made once where the
    row is checked: a dry run writes a batch's lines as they are, with no work per row (pass two of a 1,000,000-row
    dry run: 1.2 s, against 3.2 s with one record per row); the other kinds read a row's requests back with the
    format's one reader.
    Iterating a batch gives its rows as :class:`CheckedRow`; ``issues`` holds only the rows that have some.
    """

    __slots__ = ("numbers", "phones", "verdicts", "issues", "cells", "lines", "ends", "digests", "tasks")

    def __init__(self, keep_cells: bool) -> None:
        self.numbers: list[int] = []
        self.phones: list[tuple[str, ...]] = []
        self.verdicts: list[Verdict] = []
        self.issues: dict[int, tuple[Issue, ...]] = {}
        #: Per row, its cells as one text (:meth:`keep_cells`), or as a tuple when a cell holds the separator.
        self.cells: list[str | tuple[str, ...]] | None = [] if keep_cells else None
        self.lines = b""
        self.ends: list[int] = []
        #: Per row, a digest of its request bodies (empty for an invalid row): a sync tells an unchanged row by it.
        self.digests: list[bytes] = []
        #: The tasks.jsonl lines of the rows that have tasks, by row number.
        self.tasks: dict[int, bytes] = {}

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

    def keep_records(self, records: Iterable[Sequence[str]]) -> None:
        """:meth:`keep_cells` of records whose cells are those of the columns kept, in their order."""
        assert self.cells is not None
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
        if self.verdicts.count("send") == len(self.verdicts):
            return self.lines  # every row is sent (the common case, counted without a Python step per row)
        spans = list(zip([0, *self.ends], self.ends, self.verdicts, strict=False))
        if all(verdict == "send" or start == end for start, end, verdict in spans):
            return self.lines  # every row that has lines is sent
        return b"".join(self.lines[start:end] for start, end, verdict in spans if verdict == "send")

    def task_lines(self) -> bytes:
        """The tasks.jsonl lines of the rows whose verdict is ``send``."""
        if not self.tasks:
            return b""
        return b"".join(self.tasks[number] for number, verdict in zip(self.numbers, self.verdicts, strict=True)
                        if verdict == "send" and number in self.tasks)

    def settled(self, verdicts: CrossRowVerdicts) -> CheckedBatch:
        """A copy with the cross-row checks' issues and verdicts applied."""
        batch = copy(self)
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
        return (self.numbers, self.phones, self.verdicts, self.issues, self.cells, self.lines, self.ends, self.digests,
                self.tasks)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        (self.numbers, self.phones, self.verdicts, self.issues, self.cells, self.lines, self.ends,
         self.digests, self.tasks) = state


def row_digest(bodies: Iterable[bytes]) -> bytes:
    """A short digest of a row's request bodies: equal digests, equal requests."""
    digest = hashlib.blake2b(digest_size=12)
    for body in bodies:
        digest.update(body)
        digest.update(b"\n")
    return digest.digest()


def write_part(path: str, batches: Iterable[CheckedBatch]) -> None:
    with open(path, "wb") as stream:
        for batch in batches:
            pickle.dump(batch, stream, protocol=pickle.HIGHEST_PROTOCOL)


def read_part(path: str) -> Iterator[CheckedBatch]:
    """The batches of a part, in the order they were written."""
    with open(path, "rb") as stream:
        while True:
            try:
                with acyclic():
                    batch: CheckedBatch = pickle.load(stream)
            except EOFError:
                return
            yield batch
