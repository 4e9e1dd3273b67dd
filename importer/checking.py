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
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import NamedTuple

from importer.checks import RowChecker
from importer.models import Issue, Row

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


def _dumps(payload: object) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def check_batch(checker: RowChecker, batch: list[Row]) -> list[RowResult]:
    results = []
    for row in batch:
        checked = checker.check(row)
        requests = tuple(_dumps(r) for r in checked.requests)
        results.append(RowResult(row.number, requests, checked.phones, checked.issues))
    return results


_worker_checker: RowChecker | None = None


def _init_worker(checker: RowChecker) -> None:
    global _worker_checker
    _worker_checker = checker


def _check_in_worker(batch: list[Row]) -> list[RowResult]:
    assert _worker_checker is not None
    return check_batch(_worker_checker, batch)


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def check_rows(
    batches: Iterable[list[Row]], checker: RowChecker, *, workers: int = 1
) -> Iterator[tuple[list[Row], list[RowResult]]]:
    """Yield (batch, results) in input order. ``workers > 1`` checks in that many processes."""
    if workers <= 1:
        for batch in batches:
            yield batch, check_batch(checker, batch)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(checker,)) as pool:
        window: deque[tuple[list[Row], Future[list[RowResult]]]] = deque()
        try:
            for batch in batches:
                window.append((batch, pool.submit(_check_in_worker, batch)))
                if len(window) > workers * 2:
                    done_batch, future = window.popleft()
                    yield done_batch, future.result()
            while window:
                done_batch, future = window.popleft()
                yield done_batch, future.result()
        finally:
            for _, future in window:
                future.cancel()
