"""payloads.jsonl: one line per request a dry run would send, ``{"_row": n, "payload": {...}}``.

The one writer and the one reader of the format. Requests arrive as JSON text (serialised once, where the row
was checked), so a line is written without parsing or encoding the payload again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["payload_lines", "read_payloads"]


def payload_lines(row: int, requests: Iterable[str]) -> str:
    """The lines of one row: each request's JSON text wrapped with the row number."""
    return "".join(f'{{"_row": {int(row)}, "payload": {text}}}\n' for text in requests)


def read_payloads(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row, payload)`` for every line of a payloads.jsonl file, in file order."""
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                yield int(record["_row"]), record["payload"]
