"""Pass one: map and check every row, in worker processes for large inputs, and spill the results to disk.

Mapping and phone checks are pure CPU work, so an input of :data:`PARALLEL_THRESHOLD_BYTES` or more is checked
in worker processes; a smaller one in this process (starting processes would cost more than it saves). Either
way the same function checks a unit of rows and writes its results to a part file of its own
(:mod:`importer.checks.spill`): only the unit's counts and the phones of its valid rows come back to this
process, for the cross-row index. The checked rows themselves never cross a process boundary.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import count
from pathlib import Path
from typing import NamedTuple, TypeVar

from importer.checks.row import RowChecker
from importer.checks.spill import CheckedBatch, acyclic, request_body, row_digest, write_part
from importer.models import Row
from importer.report.payloads import payload_line
from importer.sources.chunks import Chunk, plan_chunks, read_chunk
from importer.sources.delimited import DelimitedTable
from importer.sources.table import Table

T = TypeVar("T")

#: Inputs smaller than this are checked without worker processes.
PARALLEL_THRESHOLD_BYTES = 2_000_000


class CheckedPart(NamedTuple):
    """A unit of rows checked and spilled to ``path``: how many, how many invalid on their own, and the row
    numbers and phones (primary first) of its valid rows in sheet order, for the cross-row index."""

    path: str
    rows: int
    invalid: int
    numbers: list[int]
    phones: list[tuple[str, ...]]
    #: The customer phones of the unit's invalid rows that have one: their leads are in the sheet too.
    others: list[str]


def check_unit(checker: RowChecker, batches: Iterable[list[Row]], path: str,
               columns: list[str] | None) -> CheckedPart:
    """Check rows and write them to ``path``; ``columns``: keep each row's cells in that order."""
    total = invalid = 0
    numbers: list[int] = []
    phones: list[tuple[str, ...]] = []
    others: list[str] = []

    def checked() -> Iterator[CheckedBatch]:
        nonlocal total, invalid
        for rows in batches:
            batch = check_batch(checker, rows, columns)
            for number, row_phones, verdict in zip(batch.numbers, batch.phones, batch.verdicts, strict=True):
                if verdict == "send":
                    numbers.append(number)
                    phones.append(row_phones)
                elif row_phones:
                    others.append(row_phones[0])
            total += len(batch)
            invalid += batch.verdicts.count("invalid")
            yield batch

    with acyclic():  # reading, checking and spilling a unit makes no reference cycle
        write_part(path, checked())
    return CheckedPart(path, total, invalid, numbers, phones, others)


def check_batch(checker: RowChecker, rows: list[Row], columns: list[str] | None) -> CheckedBatch:
    """Map and check rows; ``columns``: keep each row's cells in that order."""
    batch = CheckedBatch(keep_cells=columns is not None)
    lines = bytearray()
    for row in rows:
        requests, phones, issues = checker.check(row)
        number = row.number
        bodies = [request_body(request) for request in requests]
        for body in bodies:
            lines += payload_line(number, body)
        batch.ends.append(len(lines))
        batch.digests.append(row_digest(bodies) if bodies else b"")
        batch.numbers.append(number)
        batch.phones.append(phones)
        batch.verdicts.append("send" if requests else "invalid")
        if issues:
            batch.issues[number] = issues
        if batch.cells is not None:
            batch.cells.append(tuple(row.cells.get(column, "") for column in columns or ()))
    batch.lines = bytes(lines)
    return batch


class _Worker:
    """What a worker process holds: the checker, the table when it reads ranges of the file itself, and the
    columns whose cells the results keep."""

    checker: RowChecker
    table: Table | None
    columns: list[str] | None


def _init_worker(checker: RowChecker, table: Table | None, columns: list[str] | None) -> None:
    _Worker.checker, _Worker.table, _Worker.columns = checker, table, columns


def _check_in_worker(unit: Chunk | list[Row], path: str) -> CheckedPart:
    if isinstance(unit, Chunk):
        assert isinstance(_Worker.table, DelimitedTable)
        return check_unit(_Worker.checker, read_chunk(_Worker.table, unit), path, _Worker.columns)
    return check_unit(_Worker.checker, [unit], path, _Worker.columns)


def default_workers(table: Table) -> int:
    """One process below :data:`PARALLEL_THRESHOLD_BYTES` (or on one core), else up to four."""
    cores = os.cpu_count() or 1
    try:
        size = table.path.stat().st_size
    except OSError:
        size = 0
    return max(1, min(4, cores)) if size >= PARALLEL_THRESHOLD_BYTES and cores > 1 else 1


def check_table(table: Table, checker: RowChecker, parts_dir: Path, *, workers: int = 1,
                keep_cells: bool = False) -> Iterator[CheckedPart]:
    """Check every row of ``table``; yield the checked parts in sheet order.

    ``workers > 1`` checks in that many processes: a CSV file in a splittable encoding is cut into byte ranges
    that the workers read themselves; any other input is read here and handed to them in batches.
    ``keep_cells``: results keep each row's cells (a real run writes them to successes.csv and failures.csv).
    """
    names = (str(parts_dir / f"part-{n:06d}.pickle") for n in count())
    columns = table.columns if keep_cells else None
    if workers <= 1:
        for batch in table.batches():
            yield check_unit(checker, [batch], next(names), columns)
        return
    chunks = plan_chunks(table) if isinstance(table, DelimitedTable) else None
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(checker, table if chunks is not None else None, columns)) as pool:
        units: Iterable[Chunk | list[Row]] = chunks if chunks is not None else table.batches()
        yield from _in_order((pool.submit(_check_in_worker, unit, next(names)) for unit in units), workers * 2)


def _in_order(futures: Iterable[Future[T]], ahead: int) -> Iterator[T]:
    """Results of futures as they are submitted, keeping at most ``ahead`` submitted but not yet consumed."""
    window: deque[Future[T]] = deque()
    try:
        for future in futures:
            window.append(future)
            if len(window) > ahead:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        for future in window:
            future.cancel()
