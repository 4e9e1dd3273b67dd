"""The files pull writes: the leads (JSON Lines, appended) and the misses (CSV, appended), and what an earlier
pull into the same files already did, so a second run skips it.

Each lead line is the lead object exactly as the source CRM answered it, plus ``_source_key``: the phone or
id it was pulled with (columns starting with ``_`` are never mapped, so the file imports as an export would).
A line cut short by a kill is dropped when the file is opened again; its key is asked again.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from importer.errors import InputError
from importer.report.cells import restore, safe_cells

KEY_FIELD = "_source_key"
#: A lead's id in its source CRM (LeadSquared's ProspectID, PollyBot's id), or None.
LeadId = Callable[[dict[str, Any]], str | None]
MISSES_HEADER = ("_row", "key", "reason")


def misses_path_for(out: Path) -> Path:
    """``leads.jsonl`` → ``leads.misses.csv``, beside it."""
    return out.with_name(f"{out.stem}.misses.csv")


class PullOutput:
    """The output and misses files of one pull, opened for appending; ``done`` holds the keys already there and
    ``leads`` the ids (``lead_id`` of a line) of the leads already written."""

    def __init__(self, out: Path, misses: Path, lead_id: LeadId = lambda _: None) -> None:
        self.out = out
        self.misses = misses
        self.leads: set[str] = set()
        self.pulled: set[str] = _pulled_keys(out, lead_id, self.leads)
        self.missed: set[str] = _missed_keys(misses)
        self._leads: IO[str] | None = None
        self._misses: IO[str] | None = None
        self._miss_writer: Any = None

    @property
    def done(self) -> set[str]:
        return self.pulled | self.missed

    def __enter__(self) -> PullOutput:
        try:
            self.out.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._leads = open(self.out, "a", encoding="utf-8", newline="\n")
            new = not self.misses.exists() or self.misses.stat().st_size == 0
            self._misses = open(self.misses, "a", encoding="utf-8", newline="")
        except OSError as exc:
            self.close()
            raise InputError(f"{exc.filename}: cannot write it ({exc.strerror or exc})") from None
        self._miss_writer = csv.writer(self._misses)
        if new:
            self._miss_writer.writerow(MISSES_HEADER)
            self._misses.flush()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        for stream in (self._leads, self._misses):
            if stream is not None:
                stream.close()
        self._leads = self._misses = None

    def write_lead(self, key: str, lead: dict[str, Any], lead_id: str | None) -> None:
        """One line, flushed: a kill after this call keeps the lead."""
        assert self._leads is not None
        self._leads.write(json.dumps({**lead, KEY_FIELD: key}, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._leads.flush()
        self.pulled.add(key)
        if lead_id is not None:
            self.leads.add(lead_id)

    def write_miss(self, row: int, key: str, reason: str) -> None:
        assert self._misses is not None
        self._miss_writer.writerow(safe_cells((str(row), key, reason)))
        self._misses.flush()
        self.missed.add(key)


def _pulled_keys(path: Path, lead_id: LeadId, leads: set[str]) -> set[str]:
    """The ``_source_key`` of every complete line (and each line's lead id into ``leads``); a last line without its
    newline (a kill) is cut off."""
    if not path.exists():
        return set()
    keys: set[str] = set()
    with open(path, "rb+") as stream:
        data = stream.read()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            stream.truncate(end)
    for number, line in enumerate(data[:end].splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise InputError(f"{path.name}: line {number} is not JSON: not a file pull wrote "
                             "(give another --out)") from None
        key = record.get(KEY_FIELD) if isinstance(record, dict) else None
        if not isinstance(key, str):
            raise InputError(f"{path.name}: line {number} has no {KEY_FIELD}: not a file pull wrote "
                             "(give another --out)")
        keys.add(key)
        identity = lead_id(record)
        if identity is not None:
            leads.add(identity)
    return keys


def _missed_keys(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with open(path, encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    if rows and tuple(rows[0]) != MISSES_HEADER:
        raise InputError(f"{path.name}: not a misses file pull wrote (its header is not {','.join(MISSES_HEADER)})")
    return {restore(row[1]) for row in rows[1:] if len(row) >= 2}


__all__ = ["KEY_FIELD", "PullOutput", "misses_path_for"]
