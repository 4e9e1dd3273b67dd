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
import signal
import sys
import warnings
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import NamedTuple, TypeVar

from importer.api.body import request_body
from importer.checks.crossrow import PhoneClaims
from importer.checks.row import Checked, RowChecker
from importer.checks.spill import CheckedBatch, acyclic, row_digest, write_part
from importer.mapping import Mapping
from importer.mapping.profile import DateProfiles
from importer.models import Row
from importer.profiling import profile_this_process
from importer.report.payloads import payload_line
from importer.report.tasklines import task_line
from importer.sources.chunks import Chunk, plan_chunks, read_chunk_records
from importer.sources.delimited import DelimitedTable, Records
from importer.sources.table import Table, row_factory
from importer.threads import only_fork_safe_threads

T = TypeVar("T")

#: Inputs smaller than this are checked without worker processes.
PARALLEL_THRESHOLD_BYTES = 2_000_000


class CheckedPart(NamedTuple):
    """A unit of rows checked and spilled to ``path``: how many, how many invalid on their own, and the row
    numbers and phones (primary first) of its valid rows in sheet order, for the cross-row index."""

    path: str
    rows: int
    invalid: int
    claims: PhoneClaims
    #: The customer phones of the unit's invalid rows that have one: their leads are in the sheet too.
    others: list[str]
    #: What the unit's date cells allow (the mapping has dates whose day/month order is decided per input).
    dates: DateProfiles | None = None


@dataclass(frozen=True)
class Keep:
    """What checked rows keep besides their requests and issues: their cells in the order of ``columns`` (a real
    run writes them to its report files) and ``digests`` of their requests (a sync tells unchanged rows by them;
    ``benchmarks/bench_validate.py``'s 1,000,000-row dry run needs neither: 14.3 s without them, 15.6 s with)."""

    columns: list[str] | None = None
    digests: bool = False


def check_unit(checker: RowChecker, batches: Iterable[list[Row]] | Iterable[Records], path: str, keep: Keep,
               seen: dict[str, set[str]] | None = None, after_first_rows: bool = False,
               header: list[str] | None = None) -> CheckedPart:
    """Check rows and write them to ``path``, keeping what ``keep`` says; profile their date cells when the
    mapping decides its date orders per input (:mod:`importer.mapping.profile`; ``seen``: the date cells this
    process looked at in the units it checked before this one, in sheet order; ``after_first_rows``: as
    :class:`DateProfiles` says). ``batches`` of a CSV file's :class:`Records` come with their ``header``."""
    total = invalid = 0
    numbers: list[int] = []
    phones: list[tuple[str, ...]] = []
    others: list[str] = []
    mapping = checker.mapping
    dates = (DateProfiles(mapping, seen, after_first_rows=after_first_rows)
             if isinstance(mapping, Mapping) and mapping.date_sources else None)

    def checked() -> Iterator[CheckedBatch]:
        nonlocal total, invalid
        for rows in batches:
            if isinstance(rows, Records):
                assert header is not None
                if dates is not None:
                    dates.add_records(rows.numbers, rows.cells, header, mapping)  # type: ignore[arg-type]
                batch = check_records(checker, rows, header, keep)
            else:
                if dates is not None:
                    dates.add(rows, mapping)  # type: ignore[arg-type]  # a Mapping, as dates says
                batch = check_batch(checker, rows, keep)
            if dates is not None:
                dates.add_failures(batch.issues)
            bad = batch.verdicts.count("invalid")
            if not bad:  # most batches: every row's phones go to the cross-row index, with no loop here
                numbers.extend(batch.numbers)
                phones.extend(batch.phones)
            else:
                for number, row_phones, verdict in zip(batch.numbers, batch.phones, batch.verdicts, strict=True):
                    if verdict == "send":
                        numbers.append(number)
                        phones.append(row_phones)
                    elif row_phones:
                        others.append(row_phones[0])
            total += len(batch)
            invalid += bad
            yield batch

    with acyclic():  # reading, checking and spilling a unit makes no reference cycle
        write_part(path, checked())
    return CheckedPart(path, total, invalid, PhoneClaims.of(numbers, phones), others, dates)


def check_batch(checker: RowChecker, rows: list[Row], keep: Keep) -> CheckedBatch:
    """Map and check rows, keeping what ``keep`` says."""
    batch = _checked(map(checker.check_with_tasks, rows), [row.number for row in rows], keep)
    if keep.columns is not None:
        batch.keep_cells(rows, keep.columns)
    return batch


def check_records(checker: RowChecker, records: Records, header: list[str], keep: Keep) -> CheckedBatch:
    """:func:`check_batch` of a CSV file's records (the cells of ``header``'s columns, by position)."""
    batch = _checked(map(checker.record_check(header), records.cells, records.numbers), records.numbers, keep)
    if keep.columns is not None:
        if keep.columns == header:
            batch.keep_records(records.cells, records.text)
        else:
            make_row = row_factory(header)
            batch.keep_cells(map(make_row, records.numbers, records.cells), keep.columns)
    return batch


def _checked(results: Iterable[Checked], numbers: list[int], keep: Keep) -> CheckedBatch:
    """A batch of the rows ``numbers`` checked as ``results`` say."""
    batch = CheckedBatch(keep_cells=keep.columns is not None)
    lines = bytearray()
    ends, kept_phones, verdicts = batch.ends, batch.phones, batch.verdicts
    digests = batch.digests if keep.digests else None
    for number, (requests, phones, issues, tasks) in zip(numbers, results, strict=True):
        if len(requests) == 1 and digests is None and not tasks:  # a dry run's row: 0.35 µs less than the loop
            lines += payload_line(number, request_body(requests[0]))
        else:
            bodies = [request_body(request) for request in requests]
            for body in bodies:
                lines += payload_line(number, body)
            if tasks:  # a sync sends a row again when its tasks changed, so they are part of its digest
                batch.tasks[number] = b"".join(task_line(number, phones[0], task) for task in tasks)
                bodies.append(batch.tasks[number])
            if digests is not None:
                digests.append(row_digest(bodies) if bodies else b"")
        ends.append(len(lines))
        kept_phones.append(phones)
        verdicts.append("send" if requests else "invalid")
        if issues:
            batch.issues[number] = issues
    batch.numbers = numbers
    batch.lines = bytes(lines)
    return batch


class _Worker:
    """What a worker process holds: the checker, the table when it reads ranges of the file itself, and what the
    results keep."""

    checker: RowChecker
    table: Table | None
    keep: Keep
    seen: dict[str, set[str]]  # date cells profiled by this process (it gets its units in sheet order)
    after_first_rows: bool


def _init_worker(checker: RowChecker, table: Table | None, keep: Keep, profile_dir: str | None,
                 after_first_rows: bool) -> None:
    _ignore_stops()
    profile_this_process(profile_dir)
    _Worker.checker, _Worker.table, _Worker.keep, _Worker.seen = checker, table, keep, {}
    _Worker.after_first_rows = after_first_rows


def _ignore_stops() -> None:
    # A stop is the parent's to decide (Ctrl-C reaches the whole process group, systemd signals every process of
    # the service): the checking processes finish their work, and end with the pool.
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"):  # those this OS has
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)


def _check_in_worker(unit: Chunk | list[Row], path: str) -> CheckedPart:
    if isinstance(unit, Chunk):
        assert isinstance(_Worker.table, DelimitedTable)
        return check_unit(_Worker.checker, read_chunk_records(_Worker.table, unit), path, _Worker.keep,
                          _Worker.seen, _Worker.after_first_rows, _Worker.table.columns)
    return check_unit(_Worker.checker, [unit], path, _Worker.keep, _Worker.seen, _Worker.after_first_rows)


def default_workers(table: Table) -> int:
    """One process below :data:`PARALLEL_THRESHOLD_BYTES` (or on one core), else up to four."""
    cores = os.cpu_count() or 1
    try:
        size = table.path.stat().st_size
    except OSError:
        size = 0
    return max(1, min(4, cores)) if size >= PARALLEL_THRESHOLD_BYTES and cores > 1 else 1


def start_method(profile_dir: str | None = None) -> str:
    """How the checking processes start: forked from this process on Linux while it runs no thread but those
    marked :func:`~importer.threads.fork_safe` (the run's heartbeat) and is not being profiled, so that they do
    not import the importer again (the 1,000,000-row dry run of ``benchmarks/bench_validate.py``, three
    interleaved pairs: 5.56-5.71 s against 5.86-6.05 s spawned, 0.3-0.6 s less of the checking processes' CPU);
    spawned anywhere else: a fork copies the locks that other threads may hold at that moment (the page's server,
    a progress bar's monitor, the in-process sandbox), macOS's system libraries do not survive one, Windows has
    none, and a profiler would be copied into each child."""
    if sys.platform == "linux" and hasattr(os, "fork") and profile_dir is None and only_fork_safe_threads():
        return "fork"
    return "spawn"


def check_table(table: Table, checker: RowChecker, parts_dir: Path, *, workers: int = 1,
                keep: Keep = Keep(), profile_dir: str | None = None,
                after_first_rows: bool = False) -> Iterator[CheckedPart]:
    """Check every row of ``table``; yield the checked parts in sheet order.

    ``workers > 1`` checks in that many processes: a CSV file in a splittable encoding is cut into byte ranges
    that the workers read themselves; any other input is read here and handed to them in batches.
    ``keep``: what the results keep besides requests and issues; ``profile_dir``: as for :func:`profile_table`;
    ``after_first_rows``: the date profiles come after those of the sheet's first rows (:class:`DateProfiles`).
    """
    names = (str(parts_dir / f"part-{n:06d}.pickle") for n in count())
    if workers <= 1:
        seen: dict[str, set[str]] = {}
        for batch in table.batches():
            yield check_unit(checker, [batch], next(names), keep, seen, after_first_rows)
        return
    chunks = plan_chunks(table) if isinstance(table, DelimitedTable) else None
    context = multiprocessing.get_context(start_method(profile_dir))
    with warnings.catch_warnings(), ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker,
            initargs=(checker, table if chunks is not None else None, keep, profile_dir, after_first_rows)) as pool:
        # Python 3.12+ warns of any fork beside another thread: the only others are fork_safe (start_method)
        warnings.filterwarnings("ignore", r"This process .* is multi-threaded, use of fork\(\)", DeprecationWarning)
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
