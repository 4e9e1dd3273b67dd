"""payloads.jsonl: one line per request a dry run would send, ``{"_row": n, "payload": {...}}``.

The one writer (:func:`payload_line`) and the one reader (:func:`parse_payload_lines`) of the format. A request
arrives as the JSON body the API would receive (serialised once, where its row was checked), so a line is made
without parsing or encoding the payload again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["parse_payload_lines", "payload_line", "read_payloads"]


def payload_line(row: int, body: bytes) -> bytes:
    """The line of one request of row ``row``."""
    return b'{"_row": %d, "payload": %s}\n' % (row, body)


def parse_payload_lines(data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row, payload)`` for every line of ``data``, in order."""
    for line in data.splitlines():
        if line.strip():
            record = json.loads(line)
            yield int(record["_row"]), record["payload"]


def read_payloads(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row, payload)`` for every line of a payloads.jsonl file, in file order."""
    yield from parse_payload_lines(Path(path).read_bytes())
