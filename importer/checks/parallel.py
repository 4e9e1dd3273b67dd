"""Map and check rows in parallel, in batches, and hand results back in sheet order.

Mapping and phone checks are pure CPU work (phonenumbers alone manages ~49k numbers/s per core), so large inputs are
checked in worker processes while the main process reads the next batches. Small inputs are checked inline: starting
processes would cost more than it saves. Results carry each row's requests already serialised as JSON, so the main
process only writes or sends them.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from array import array
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import count
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import NamedTuple, TypeVar

from importer.checks.row import RowChecker
from importer.models import Issue, Row
from importer.sources.chunks import Chunk, plan_chunks, read_chunk
from importer.sources.delimited import DelimitedTable
from importer.sources.table import Table

T = TypeVar("T")

#: Byte ranges whose full results (cells and requests) travel back to the main process.
RESULT_CHUNK_BYTES = 1024 * 1024

#: Inputs with fewer rows than this (as estimated from the file size) are checked without worker processes.
PARALLEL_THRESHOLD_BYTES = 2_000_000


class RowResult(NamedTuple):
    """The outcome of checking one row: JSON of each request to send (none when invalid), phones, issues.

    A named tuple: a million of them cross process boundaries and a spill file, and tuples pickle fastest.
    """

    number: int
    requests: tuple[str, ...]
    phones: tuple[str, ...]
    issues: tuple[Issue, ...]


def _unserialisable(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# json.dumps builds a new C encoder on every call; a million rows are cheaper with one encoder made up front.
# It writes what json.dumps(payload, ensure_ascii=False, separators=(",", ":")) writes.
_encoder = c_make_encoder(None, _unserialisable, encode_basestring, None, ":", ",", False, False, True) \
    if c_make_encoder is not None else None


def _dumps(payload: object) -> str:
    if _encoder is None:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return "".join(_encoder(payload, 0))


Checked = tuple[RowResult, tuple[str, ...] | None]
"""A row's result and, when the caller needs them (real runs), its cells in column order."""


def check_batch(checker: RowChecker, batch: list[Row], columns: list[str] | None = None) -> list[Checked]:
    out: list[Checked] = []
    for row in batch:
        requests, phones, issues = checker.check(row)
        values = tuple(row.cells.get(c, "") for c in columns) if columns is not None else None
        out.append((RowResult(row.number, tuple(_dumps(r) for r in requests), phones, issues), values))
    return out


class _Worker:
    """What a worker process holds: the checker, and the table when it reads ranges of the file itself."""

    checker: RowChecker
    table: Table | None
    columns: list[str] | None


def _init_worker(checker: RowChecker, table: Table | None, columns: list[str] | None) -> None:
    _Worker.checker, _Worker.table, _Worker.columns = checker, table, columns


def _check_rows_in_worker(batch: list[Row]) -> list[Checked]:
    return check_batch(_Worker.checker, batch, _Worker.columns)


def _check_chunk_in_worker(chunk: Chunk) -> list[Checked]:
    assert isinstance(_Worker.table, DelimitedTable)
    out: list[Checked] = []
    for batch in read_chunk(_Worker.table, chunk):
        out.extend(check_batch(_Worker.checker, batch, _Worker.columns))
    return out


class DryUnit(NamedTuple):
    """What a dry run keeps of a unit of rows. Payload lines went to the file ``part``; the phones of valid rows
    come as integer keys (E.164 without "+"): ``rows[i]`` has primary ``keys[i]``, and ``add_rows[j]`` has the
    additional phone ``add_keys[j]`` — arrays, because a million of them cross from the workers."""

    part: str
    total: int
    invalid: int
    rows: array[int]
    keys: array[int]
    add_rows: array[int]
    add_keys: array[int]
    issues: list[Issue]


def check_batches_dry(checker: RowChecker, batches: Iterable[list[Row]], part: str) -> DryUnit:
    """Check rows and write each valid row's payload lines (payloads.jsonl format) to the file ``part``."""
    rows, keys, add_rows, add_keys = array("q"), array("q"), array("q"), array("q")
    issues: list[Issue] = []
    total = 0
    with open(part, "w", encoding="utf-8") as out:
        for batch in batches:
            lines = []
            total += len(batch)
            for row in batch:
                requests, phones, row_issues = checker.check(row)
                number = row.number
                if requests:
                    for request in requests:
                        lines.append(f'{{"_row": {number}, "payload": {_dumps(request)}}}\n')
                    rows.append(number)
                    keys.append(int(phones[0][1:]))
                    for phone in phones[1:]:
                        add_rows.append(number)
                        add_keys.append(int(phone[1:]))
                if row_issues:
                    issues.extend(row_issues)
            out.write("".join(lines))
    return DryUnit(part, total, total - len(rows), rows, keys, add_rows, add_keys, issues)


def _dry_unit_in_worker(unit: Chunk | list[Row], part: str) -> DryUnit:
    if isinstance(unit, Chunk):
        assert isinstance(_Worker.table, DelimitedTable)
        return check_batches_dry(_Worker.checker, read_chunk(_Worker.table, unit), part)
    return check_batches_dry(_Worker.checker, [unit], part)


def check_table_dry(table: Table, checker: RowChecker, parts_dir: Path, *, workers: int = 1) -> Iterator[DryUnit]:
    """A dry run's pass one: like :func:`check_table`, but payloads never travel back to this process."""
    names = (str(parts_dir / f"part-{n:06d}.jsonl") for n in count())
    if workers <= 1:
        for batch in table.batches():
            yield check_batches_dry(checker, [batch], next(names))
        return
    chunks = plan_chunks(table) if isinstance(table, DelimitedTable) else None
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(checker, table if chunks is not None else None, None)) as pool:
        units: Iterable[Chunk | list[Row]] = chunks if chunks is not None else table.batches()
        yield from _in_order((pool.submit(_dry_unit_in_worker, u, next(names)) for u in units), workers * 2)


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def check_table(table: Table, checker: RowChecker, *, workers: int = 1,
                keep_values: bool = False) -> Iterator[list[Checked]]:
    """Yield lists of checked rows in sheet order. ``workers > 1`` checks in that many processes.

    A CSV file in a splittable encoding is cut into byte ranges that the workers read themselves; any other
    input is read here and handed to the workers in batches.
    """
    columns = table.columns if keep_values else None
    if workers <= 1:
        for batch in table.batches():
            yield check_batch(checker, batch, columns)
        return
    # Results here carry every row's cells and requests back to this process: smaller ranges, less in flight.
    chunks = plan_chunks(table, RESULT_CHUNK_BYTES) if isinstance(table, DelimitedTable) else None
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(checker, table if chunks is not None else None, columns)) as pool:
        if chunks is not None:
            units: Iterable[Future[list[Checked]]] = (pool.submit(_check_chunk_in_worker, c) for c in chunks)
        else:
            units = (pool.submit(_check_rows_in_worker, batch) for batch in table.batches())
        yield from _in_order(units, ahead=workers * 2)


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
