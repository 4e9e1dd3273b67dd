"""tasks.jsonl: one line per task a run would create (a dry run, a plan), ``{"_row": n, "customer_phone": …,
"task": {...}}``: the create-task body (reference §4.1), sent to the lead of that phone once its upsert went through.

The one writer (:func:`task_line`) and the one reader (:func:`parse_task_lines`) of the format; checked rows keep
their tasks as these lines, made once where the row is checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["TASKS_JSONL", "parse_task_lines", "read_task_lines", "task_line"]

TASKS_JSONL = "tasks.jsonl"


def task_line(row: int, phone: str, task: dict[str, Any]) -> bytes:
    record = {"_row": row, "customer_phone": phone, "task": task}
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": ")).encode("utf-8") + b"\n"


def parse_task_lines(data: bytes) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """``(row, customer_phone, task)`` for every line of ``data``, in order."""
    for line in data.splitlines():
        if line.strip():
            record = json.loads(line)
            yield int(record["_row"]), str(record["customer_phone"]), record["task"]


def read_task_lines(path: str | Path) -> Iterator[tuple[int, str, dict[str, Any]]]:
    yield from parse_task_lines(Path(path).read_bytes())
