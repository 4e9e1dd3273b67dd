"""The parts of summary.json a kind of run adds to the contract's counts, each a typed record written by the one
place that knows it (:class:`~importer.report.summary.Summary` holds them and writes them out, in one order).

Each record's ``as_json()`` gives its keys of summary.json; a record left unset writes none.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from importer.outcomes import StopReason

__all__ = ["ApplyEstimate", "Journaled", "LookupCounts", "MissingCounts", "ReadFacts", "Stopped", "SyncFacts",
           "UndoFacts", "Upkeep"]


@dataclass
class ReadFacts:
    """What the run read: whether names were checked against the account's catalog, the worksheet, where the
    source lives (a located file: ``{scheme, location, …}``) and why names went unchecked."""

    catalog_checked: bool
    sheet: str | None
    source: dict[str, Any] | None = None
    offline_note: str | None = None

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"catalog_checked": self.catalog_checked, "sheet": self.sheet}
        if self.source is not None:
            found["source"] = self.source
        if self.offline_note is not None:
            found["offline_note"] = self.offline_note
        return found


@dataclass
class Stopped:
    """Why a run ended before its end. A requested stop says its reason, in words (``detail``), and how many rows
    it did not get to (``rows_left``, None when not counted); an error (:attr:`StopReason.ERROR`) writes only its
    text, as ``stopped``."""

    reason: StopReason
    detail: str = ""
    rows_left: int | None = None

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any]
        if self.reason is StopReason.ERROR:
            found = {"stopped": self.detail}
        else:
            found = {"stopped": str(self.reason), "stopped_because": self.detail or str(self.reason)}
        if self.rows_left is not None:
            found["rows_left"] = self.rows_left
        return found


@dataclass
class Journaled:
    """The run's key in the journal (None: a dry undo, which journals nothing) and, for a run that writes leads,
    the API it wrote to (where undo sends; never the key)."""

    key: str | None
    base_url: str | None = None

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"journal_key": self.key}
        if self.base_url is not None:
            found["base_url"] = self.base_url
        return found


@dataclass
class SyncFacts:
    """The sync job the run belongs to, where its state lives, and the states merged into it."""

    job: str
    state: str
    merged: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"job": self.job, "state": self.state}
        if self.merged:
            found["state_merged"] = self.merged
        return found


@dataclass
class MissingCounts:
    """``--on-missing``: how many of the job's leads the input lacks, what was done to them (``label:NAME``), and
    how each of those requests ended."""

    leads: int
    action: str
    by_status: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {"missing": {"leads": self.leads, "action": self.action, **self.by_status}}


@dataclass
class LookupCounts:
    """A kind that reads leads back (``plan``, ``verify``): its name and its rows counted by verdict."""

    mode: str
    counts: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {"mode": self.mode, self.mode: self.counts}


@dataclass
class ApplyEstimate:
    """A plan's estimate of its apply: requests (upserts, and a lookup a lead first) and the time at ``rate``."""

    upserts: int
    lookups: int
    rate: float

    @property
    def requests(self) -> int:
        return self.upserts + self.lookups

    @property
    def seconds(self) -> float:
        return round(self.requests / self.rate, 1) if self.rate > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"apply": {"requests": self.requests, "upserts": self.upserts, "lookups": self.lookups,
                          "rate": self.rate, "seconds": self.seconds}}


@dataclass
class UndoFacts:
    """An undo: the run it undoes, the label its created leads get, what became of each field (undo.csv's
    outcomes, counted) and, in a dry run, how many leads it would write."""

    of: str
    label_created: str | None
    fields: Counter[str] = field(default_factory=Counter)
    would_write: int = 0

    def head(self) -> dict[str, Any]:
        return {"undo_of": self.of, "label_created": self.label_created}

    def tail(self) -> dict[str, Any]:
        found: dict[str, Any] = {"would_write": self.would_write} if self.would_write else {}
        found["fields"] = dict(self.fields)
        return found


@dataclass
class Upkeep:
    """What followed a finished real run: payloads removed, the state's backup (or why it could not be made), the
    job's run folders removed (``--keep-runs``)."""

    payloads_removed: int = 0
    state_backup: str | None = None
    #: The run changed nothing in the state: ``state_backup`` is the newest backup, renamed for it, not a new copy.
    state_backup_kept: bool = False
    state_backup_failed: str | None = None
    runs_removed: list[str] | None = None

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"payloads_removed": self.payloads_removed} if self.payloads_removed else {}
        if self.state_backup is not None:
            found["state_backup"] = self.state_backup
            if self.state_backup_kept:
                found["state_backup_kept"] = True
        if self.state_backup_failed is not None:
            found["state_backup_failed"] = self.state_backup_failed
        if self.runs_removed is not None:
            found["runs_removed"] = self.runs_removed
        return found
