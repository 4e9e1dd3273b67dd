"""plan.jsonl: what ``run --plan`` would do, line by line, machine-readable — what ``apply`` sends.

The first line says what was planned, with what and against which account::

    {"plan": 1, "input": "/abs/leads.csv", "input_digest": "<sha256 of its bytes>", "mapping": "/abs/map.yaml",
     "mapping_digest": "<the mapping's digest>", "base_url": "...", "org_id": 42, "sheet": null,
     "options": {"on_duplicate": "last", "job": null, ...}, "created_at": "2026-11-30T03:40:00+00:00"}

then one line per planned row, in sheet order::

    {"_row": 3, "verdict": "update", "customer_phone": "+919000000002", "lead_id": 12348,
     "requests": [{...}], "fallback": [], "read": {"city": "Chennai", "add_labels": []}, "message": ""}

``verdict`` is ``create``, ``update``, ``unchanged``, ``conflict`` or ``failed`` (the lookup failed).
``requests`` are the exact upsert bodies a run would send (two when labels are added and removed), ``fallback``
those sent instead if the lead turns out deleted (a sync's partial request). ``read`` holds the lead's values of
the fields the requests set (:func:`importer.run.rules.snapshot.lead_values`), None when no lead had the phone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.errors import ConfigError

__all__ = ["PLAN_FILE", "PlanHeader", "PlannedRow", "PlannedRows", "header_line", "planned_line", "read_header"]

PLAN_FILE = "plan.jsonl"
FORMAT = 1
#: Verdicts whose requests apply sends.
SENT_VERDICTS = ("create", "update")


@dataclass(frozen=True)
class PlanHeader:
    """The first line of plan.jsonl: the input and mapping (absolute paths and digests), the account, options."""

    input: str
    input_digest: str
    mapping: str
    mapping_digest: str
    base_url: str
    org_id: int | None
    sheet: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""


@dataclass(frozen=True)
class PlannedRow:
    """One planned row (see the module's docstring)."""

    row: int
    verdict: str
    customer_phone: str
    lead_id: int | None = None
    requests: tuple[dict[str, Any], ...] = ()
    fallback: tuple[dict[str, Any], ...] = ()
    read: dict[str, Any] | None = None
    message: str = ""

    @property
    def sent(self) -> bool:
        """apply sends this row's requests."""
        return self.verdict in SENT_VERDICTS and bool(self.requests)


def header_line(header: PlanHeader) -> bytes:
    record = {"plan": FORMAT, **header.__dict__}
    return json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"


def planned_line(planned: PlannedRow) -> bytes:
    record = {"_row": planned.row, "verdict": planned.verdict, "customer_phone": planned.customer_phone,
              "lead_id": planned.lead_id, "requests": list(planned.requests), "fallback": list(planned.fallback),
              "read": planned.read, "message": planned.message}
    return json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"


def _plan_path(folder: Path) -> Path:
    path = Path(folder) / PLAN_FILE
    if not path.is_file():
        raise ConfigError(f"{folder}: no {PLAN_FILE} here: not the folder of a `run --plan`")
    return path


def read_header(folder: Path) -> PlanHeader:
    """The header of ``folder``'s plan.jsonl; ConfigError (one line) when there is none or it is not one."""
    path = _plan_path(folder)
    with open(path, encoding="utf-8") as stream:
        first = stream.readline()
    try:
        record = json.loads(first)
        if record.pop("plan") != FORMAT:
            raise ValueError("unknown format")
        return PlanHeader(**record)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ConfigError(f"{path}: line 1 is not a plan header ({exc})") from None


class PlannedRows:
    """The planned rows of a plan.jsonl, streamed in sheet order: :meth:`take` asks for rows in increasing order,
    as the importer replays them, so a plan of a million rows is never held in memory."""

    def __init__(self, folder: Path) -> None:
        self.path = _plan_path(folder)
        self._lines = self._read()
        self._next: PlannedRow | None = next(self._lines, None)

    def _read(self) -> Iterator[PlannedRow]:
        with open(self.path, encoding="utf-8") as stream:
            stream.readline()
            for number, line in enumerate(stream, start=2):
                if line.strip():
                    yield self._parse(line, number)

    def _parse(self, line: str, number: int) -> PlannedRow:
        try:
            record = json.loads(line)
            return PlannedRow(int(record["_row"]), str(record["verdict"]), str(record["customer_phone"]),
                              record.get("lead_id"), tuple(record["requests"]), tuple(record.get("fallback") or ()),
                              record.get("read"), str(record.get("message") or ""))
        except (ValueError, TypeError, KeyError) as exc:
            raise ConfigError(f"{self.path}: line {number} is not a planned row ({exc})") from None

    def take(self, row: int) -> PlannedRow | None:
        """The plan of sheet row ``row`` (None when the plan has none); rows must be asked for in order."""
        while self._next is not None and self._next.row < row:
            self._next = next(self._lines, None)
        if self._next is not None and self._next.row == row:
            found, self._next = self._next, next(self._lines, None)
            return found
        return None

    def __iter__(self) -> Iterator[PlannedRow]:
        while self._next is not None:
            found, self._next = self._next, next(self._lines, None)
            yield found
