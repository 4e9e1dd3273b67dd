"""summary.json: the run's figures, keys in the order the report contract lists them."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from importer.models import Issue
from importer.outcomes import StopReason
from importer.report.records import (
    ApplyEstimate,
    Journaled,
    LookupCounts,
    MissingCounts,
    ReadFacts,
    Stopped,
    SyncFacts,
    UndoFacts,
    Upkeep,
)

__all__ = ["SUMMARY_KEYS", "Summary", "duration_s", "ordered_summary", "summary_json"]

#: The contract's keys of summary.json, in the order they are written. Extra keys follow them.
SUMMARY_KEYS: tuple[str, ...] = (
    "input",
    "mapping",
    "dry_run",
    "started_at",
    "finished_at",
    "duration_s",
    "rows_total",
    "valid",
    "invalid",
    "sent",
    "succeeded",
    "failed",
    "in_doubt",
    "skipped",
    "warnings",
    "errors_by_code",
)


@dataclass
class Summary:
    """The figures of one run, counted as its rows are recorded. ``as_dict()`` gives summary.json's content
    (times left out when unset): the contract's keys, then what the kind of run recorded in the typed fields
    below (each None, or empty, until set: then written)."""

    input: str
    mapping: str
    dry_run: bool
    rows_total: int = 0
    valid: int = 0
    invalid: int = 0
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    in_doubt: int = 0
    skipped: int = 0
    warnings: int = 0
    errors_by_code: dict[str, int] = field(default_factory=Counter)
    warnings_by_code: dict[str, int] = field(default_factory=Counter)
    resumed: int = 0
    #: Rows a sync did not send: the job last confirmed exactly these values for their leads.
    unchanged: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # --- what a kind of run adds (importer.report.records) ---
    read: ReadFacts | None = None
    undo: UndoFacts | None = None
    #: apply: the plan's folder.
    plan_dir: str | None = None
    journal: Journaled | None = None
    #: The rows to send will not fit in ``--time-limit`` at ``--rate`` (the run's warning line).
    time_limit_warning: str | None = None
    #: Tasks counted by outcome (a real run: succeeded, existing, failed, in_doubt, skipped; else planned, skipped).
    tasks: dict[str, int] | None = None
    sync: SyncFacts | None = None
    missing: MissingCounts | None = None
    lookup: LookupCounts | None = None
    #: A real run's before-images written to before.jsonl.
    before_images: int | None = None
    #: get-lead requests: the reads before the writes, or a plan's or a verify's lookups.
    lookups: int | None = None
    #: Before-images taken from the sync state (the lead not read: its changed fields are this job's own).
    before_from_state: int | None = None
    no_undo: bool = False
    verify_note: str | None = None
    #: The mapping's field policies other than overwrite, and how many values each field's lead kept.
    policies: dict[str, str] | None = None
    kept: dict[str, int] | None = None
    apply: ApplyEstimate | None = None
    upkeep: Upkeep | None = None
    #: apply: rows not sent because their lead changed since the plan.
    stale: int | None = None
    stopped: Stopped | None = None
    failures_xlsx_truncated: bool = False
    #: The run's requests summed up (importer.api.timeline: totals, by kind and status, latency).
    requests: dict[str, Any] | None = None

    # --- what several places write ----------------------------------------------------------------------------

    def stop(self, reason: StopReason, detail: str = "", rows_left: int | None = None) -> None:
        """The run stopped before its end (the first stop wins): why, and how many rows it did not get to."""
        if self.stopped is None:
            self.stopped = Stopped(reason, detail or str(reason), rows_left)

    def stop_by_error(self, text: str) -> None:
        """An error ended the run after it began (a 401, a damaged file, Ctrl-C): ``stopped`` holds its text."""
        self.stopped = Stopped(StopReason.ERROR, text)

    @property
    def rows_left(self) -> int | None:
        return self.stopped.rows_left if self.stopped is not None else None

    def keep_policies(self, policies: Mapping[str, str], kept: Counter[str] | None = None) -> None:
        """The mapping's field policies (when it has any) and, for a kind that read the leads, what they kept."""
        if policies:
            self.policies = dict(policies)
            if kept is not None:
                self.kept = dict(kept.most_common())

    # --- counting -------------------------------------------------------------------------------------------

    def count_rows(self, verdicts: Sequence[str], issues: Iterable[Issue]) -> None:
        """Rows left the check stage, each with its verdict: ``send``, ``skipped`` (a duplicate sent elsewhere)
        or ``invalid``; ``issues`` are all of theirs."""
        invalid, skipped = verdicts.count("invalid"), verdicts.count("skipped")
        self.rows_total += len(verdicts)
        self.invalid += invalid
        self.valid += len(verdicts) - invalid
        self.skipped += skipped
        self.count_issues(issues)

    def count_issues(self, issues: Iterable[Issue]) -> None:
        for issue in issues:
            if issue.is_error:
                self.errors_by_code[issue.code] = self.errors_by_code.get(issue.code, 0) + 1
            else:
                self.warnings_by_code[issue.code] = self.warnings_by_code.get(issue.code, 0) + 1
                self.warnings += 1

    def count_outcome(self, status: str) -> None:
        """A row of a real run ended ``succeeded``, ``failed`` or ``in_doubt``."""
        if status == "succeeded":
            self.succeeded += 1
        elif status == "in_doubt":
            self.in_doubt += 1
        else:
            self.failed += 1

    def check_invariant(self) -> None:
        """Raise ValueError unless the row counts add up.

        A real run: ``rows_total = succeeded + failed + in_doubt + skipped + invalid + unchanged`` (+ ``rows_left``,
        the rows a stopped run did not send). A dry run: ``rows_total = valid + invalid``.
        """
        if self.dry_run:
            parts = {"valid": self.valid, "invalid": self.invalid}
        else:
            parts = {
                "succeeded": self.succeeded,
                "failed": self.failed,
                "in_doubt": self.in_doubt,
                "skipped": self.skipped,
                "invalid": self.invalid,
                "unchanged": self.unchanged,
            }
            if self.rows_left is not None:
                parts["rows_left"] = self.rows_left
        if sum(parts.values()) != self.rows_total:
            terms = " + ".join(f"{name} {count}" for name, count in parts.items())
            raise ValueError(f"rows_total {self.rows_total} != {terms} = {sum(parts.values())}")

    def as_dict(self) -> dict[str, Any]:
        """Contract keys in contract order (the times and ``duration_s`` only when set), then the issue counts
        by code (most frequent first), then what the kind of run recorded (:meth:`recorded`)."""
        values: dict[str, Any] = {}
        for name in SUMMARY_KEYS:
            if name == "duration_s":
                if self.started_at is not None and self.finished_at is not None:
                    values[name] = duration_s(self.started_at, self.finished_at)
            elif name == "errors_by_code":
                values[name] = _by_frequency(self.errors_by_code)
            elif getattr(self, name) is not None:
                values[name] = getattr(self, name)
        values["warnings_by_code"] = _by_frequency(self.warnings_by_code)
        if not self.dry_run or self.unchanged:
            if not self.dry_run:
                values["resumed"] = self.resumed
            values["unchanged"] = self.unchanged
        return {**values, **self.recorded()}

    def recorded(self) -> dict[str, Any]:
        """summary.json's keys beyond the counts, in one order, each only when set."""
        found: dict[str, Any] = {}
        parts: tuple[Any, ...] = (
            self.read, self.undo.head() if self.undo else None, _named("plan_dir", self.plan_dir), self.journal,
            _named("time_limit_warning", self.time_limit_warning), _named("tasks", self.tasks), self.sync,
            self.missing, self.lookup, _named("before_images", self.before_images), _named("lookups", self.lookups),
            _named("before_from_state", self.before_from_state), {"no_undo": True} if self.no_undo else None,
            _named("verify_note", self.verify_note),
            _named("policies", self.policies), _named("kept", self.kept), self.undo.tail() if self.undo else None,
            self.apply, self.upkeep, _named("stale", self.stale), self.stopped,
            {"failures_xlsx_truncated": True} if self.failures_xlsx_truncated else None,
            _named("requests", self.requests))
        for part in parts:
            if part is not None:
                found.update(part if isinstance(part, dict) else part.as_json())
        return found


def _named(key: str, value: Any) -> dict[str, Any] | None:
    return None if value is None else {key: value}


def _by_frequency(counts: Mapping[str, int]) -> dict[str, int]:
    """Most frequent first; codes as frequent as each other in the order they were first met."""
    return dict(Counter(counts).most_common())


def duration_s(started_at: datetime, finished_at: datetime) -> float:
    """Seconds between two times, to the millisecond."""
    return round((finished_at - started_at).total_seconds(), 3)


def ordered_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """``summary`` with the contract keys first, in contract order; ValueError naming any that is missing."""
    missing = [name for name in SUMMARY_KEYS if name not in summary]
    if missing:
        raise ValueError(f"summary is missing {', '.join(missing)}")
    ordered = {name: summary[name] for name in SUMMARY_KEYS}
    ordered.update((name, value) for name, value in summary.items() if name not in ordered)
    return ordered


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return (value if value.tzinfo is not None else value.astimezone()).isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"summary value of type {type(value).__name__} is not JSON")


def summary_json(summary: Mapping[str, Any]) -> str:
    """summary.json's text: contract order, ISO 8601 times with their zone, UTF-8 characters kept."""
    return json.dumps(ordered_summary(summary), indent=2, ensure_ascii=False, default=_json_value) + "\n"
