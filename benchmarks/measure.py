"""What every benchmark prints besides its own figures, and how it says a claim does not hold.

- The load average (1 minute) before and after the run: a figure is quoted in the README only when both are below
  1 (a quiet machine). Where the system has no load average (Windows), it prints ``n/a``.
- Every HTTP request the sandbox received (GETs included), split by method and endpoint, from its request counts
  (``/__sandbox/requests/counts``: every request since the log was cleared, however many).
- ``Claims``: each qualitative claim of the README the run can contradict (requests per row, a note never twice…),
  printed as ``claim ok`` or ``CLAIM FAILS``; the benchmark then exits non-zero.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from importer.models import LIST_KINDS

LEAD = "/enterprise/api/lead"
#: The catalog's list calls a run makes before sending (labels, stages, groups, products, source types).
CATALOG = tuple(f"GET /enterprise/api/{kind}" for kind in LIST_KINDS)
QUIET = 1.0


def load_average() -> float | None:
    """The 1-minute load average, or None where the system has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _shown(load: float | None) -> str:
    return "n/a" if load is None else f"{load:.2f}"


@contextmanager
def load_watch() -> Iterator[None]:
    """Print the load average before and after the block, and whether the machine was quiet both times."""
    before = load_average()
    print(f"load average before: {_shown(before)}")
    yield
    after = load_average()
    if before is None or after is None:
        verdict = "no load average on this system: say how quiet the machine was"
    elif before < QUIET and after < QUIET:
        verdict = "a quiet machine (below 1 before and after)"
    else:
        verdict = "NOT a quiet machine (1 or more before or after): do not quote these figures"
    print(f"load average after: {_shown(after)}; {verdict}")


def _admin(port: int, path: str, method: str = "GET") -> Any:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/__sandbox{path}", method=method)
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)


def request_counts(port: int) -> dict[str, int]:
    """Every request the sandbox on ``port`` received since its log was cleared: ``{"GET /enterprise/api/lead":
    n, ...}``."""
    counts: dict[str, int] = _admin(port, "/requests/counts")["by_endpoint"]
    return counts


def clear_requests(port: int) -> None:
    _admin(port, "/requests", "DELETE")


def total(counts: dict[str, int]) -> int:
    return sum(counts.values())


def reads(counts: dict[str, int]) -> int:
    """get-lead requests."""
    return counts.get(f"GET {LEAD}", 0)


def writes(counts: dict[str, int]) -> int:
    """upserts."""
    return counts.get(f"POST {LEAD}", 0)


def catalog(counts: dict[str, int]) -> int:
    return sum(counts.get(name, 0) for name in CATALOG)


def split(counts: dict[str, int]) -> str:
    """``4,005 requests: 2,000 GET /enterprise/api/lead, 2,000 POST /enterprise/api/lead, 1 GET …``."""
    if not counts:
        return "0 requests"
    parts = ", ".join(f"{count:,} {name}" for name, count in sorted(counts.items(), key=lambda item: -item[1]))
    return f"{total(counts):,} requests: {parts}"


class Claims:
    """The README's qualitative claims a benchmark checks; any that fails makes the exit code 1."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def check(self, holds: bool, claim: str) -> bool:
        print(f"    {'claim ok' if holds else 'CLAIM FAILS'}: {claim}")
        if not holds:
            self.failed.append(claim)
        return holds

    def exit_code(self) -> int:
        if self.failed:
            print(f"{len(self.failed)} claim(s) of the README do not hold: " + "; ".join(self.failed))
        return 1 if self.failed else 0
