"""``superfone-import apply PLAN_DIR``: send exactly what a plan (``run --plan``) said, once.

A real run whose decide stage is the plan (:class:`PlannedDecide`), through the same :class:`Delivery` as ``run``:
the same rate limit, retries, journal (a killed apply resumes), sync state and notes-never-twice rules.

- Before anything is read from the account, the input file and the mapping must be the planned ones (their
  digests, :func:`check_plan`), and the plan must not have been applied already (``applied.json`` in the plan's
  folder names the run that applied it; an apply that was interrupted is resumed, not refused).
- Rows the plan found ``create`` or ``update`` are sent with the plan's requests. Just before its first write,
  each lead is read again: one that no longer holds the values the plan read (or a lead that appeared where the
  plan found none) is ``stale``: not sent, failed with ``stale: …``, listed in stale.csv.
- Rows the plan found ``unchanged`` (or did not plan: unchanged since the job's last run) are unchanged;
  ``conflict`` rows and rows the plan could not look up fail with the plan's message, unsent.
- before.jsonl records, for each lead apply sent an upsert for, the values the plan read (what ``undo`` restores).

The rows apply did not send (stale, or a lead that could not be read again) are kept in ``applied.json`` with the
run, so that an apply resumed after a stop still lists them in stale.csv and leaves them out of before.jsonl.
"""

from __future__ import annotations

import csv
import json
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from importer.errors import ConfigError, StopRequested
from importer.fields import ADD_LABELS, ADD_PHONES, ADDRESS, CREATE_FLAG, CUSTOMER_PHONE, NOTE, REMOVE_LABELS
from importer.outcomes import Cause
from importer.report import Summary, neutralise
from importer.report.before import BEFORE_FILE, SET_FIELDS, BeforeImage, is_empty, write_before_images
from importer.report.planned import PlanHeader, PlannedRow, PlannedRows, read_header
from importer.run.context.kind import Access, RunContext
from importer.run.context.rows import CheckedBatch, CheckedRow
from importer.run.engine.work import Job, Outcome, ReadLead
from importer.run.kinds.ledger import Decided, Pending, SyncLedger
from importer.run.kinds.prior import BeforeWrite, ReadOnly
from importer.run.kinds.send import JOURNAL_NAME, Delivery, Send
from importer.run.rules.compare import compare, merge_requests
from importer.run.rules.snapshot import changed_fields, lead_values
from importer.run.stores.journal import Journal, RowState, file_digest

__all__ = ["APPLIED_FILE", "Apply", "PlannedDecide", "before_image", "check_plan", "staleness", "write_before",
           "write_stale"]

APPLIED_FILE = "applied.json"


def check_plan(folder: Path, header: PlanHeader, mapping_digest: str | None = None) -> None:
    """ConfigError (one line, nothing sent) unless the plan's input and mapping are as planned and it was not
    applied yet. ``mapping_digest``: the digest of the mapping as loaded now (None: load it to see)."""
    applied = applied_by(folder)
    if applied is not None:
        raise ConfigError(f"{folder}: this plan was applied already, by the run {applied}")
    if not header.input_digest:
        raise ConfigError(f"{folder}: the plan was made from rows handed in as data, not from a file")
    for what, path, digest in (("input", header.input, header.input_digest),
                               ("mapping", header.mapping, header.mapping_digest)):
        if not Path(path).is_file():
            raise ConfigError(f"{folder}: the plan's {what} file {path} is gone")
        if what == "input" and file_digest(path) != digest:
            raise ConfigError(f"{path} changed since the plan in {folder} was made: plan again")
    if mapping_digest is None:
        from importer.mapping import load_mapping

        mapping_digest = load_mapping(header.mapping).digest
    if mapping_digest != header.mapping_digest:
        raise ConfigError(f"{header.mapping} changed since the plan in {folder} was made: plan again")


def applied_by(folder: Path) -> str | None:
    """The run folder of the apply that finished this plan, or None."""
    record = _applied(folder)
    return str(record["run"]) if record.get("finished") else None


def _applied(folder: Path) -> dict[str, Any]:
    try:
        record = json.loads((Path(folder) / APPLIED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _mark_applied(folder: Path, run_dir: Path, finished: bool, unsent: Unsent) -> None:
    record = {"run": str(run_dir), "finished": finished, "at": datetime.now(UTC).isoformat(timespec="seconds"),
              "stale": {str(row): reason for row, reason in sorted(unsent.stale.items())},
              "unread": sorted(unsent.unread)}
    partial = Path(folder) / (APPLIED_FILE + ".partial")
    partial.write_text(json.dumps(record) + "\n", encoding="utf-8")
    os.replace(partial, Path(folder) / APPLIED_FILE)


def staleness(planned: PlannedRow, lead: dict[str, Any] | None) -> str | None:
    """Why the lead no longer is what the plan read (None: it is, or it holds what the plan sends already — an
    apply killed after the write, resumed), in one line."""
    if lead is not None and planned.requests and not compare(merge_requests(planned.requests), lead).mismatches:
        return None
    if planned.read is None:
        return None if lead is None else f"a lead with this phone appeared since the plan (lead {lead.get('id')})"
    if lead is None:
        return "the lead is gone since the plan"
    if planned.lead_id is not None and lead.get("id") != planned.lead_id:
        return f"the phone belongs to lead {lead.get('id')} now, not to lead {planned.lead_id}"
    now = lead_values(merge_requests(planned.requests), lead)
    changed = changed_fields(planned.read, now)
    if not changed:
        return None
    return "changed since the plan: " + "; ".join(
        f"{name}: plan read {_show(planned.read.get(name))}, now {_show(now.get(name))}" for name in changed)


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclass
class Unsent:
    """The rows apply did not send: stale ones (row → why) and those whose lead could not be read again."""

    stale: dict[int, str] = field(default_factory=dict)
    unread: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, record: dict[str, Any]) -> Unsent:
        """What an earlier, unfinished apply of the plan recorded in applied.json."""
        stale, unread = record.get("stale"), record.get("unread")
        return cls({int(row): str(why) for row, why in stale.items()} if isinstance(stale, dict) else {},
                   {int(row) for row in unread} if isinstance(unread, list) else set())

    def __contains__(self, row: object) -> bool:
        return row in self.stale or row in self.unread


class PlannedDecide:
    """The decide stage of apply: the plan's requests, row by row (see :mod:`importer.run.kinds.apply`).
    ``unsent``: the rows it does not send (with those of the earlier apply it resumes)."""

    def __init__(self, folder: Path, unsent: Unsent | None = None) -> None:
        self.unsent = unsent if unsent is not None else Unsent()
        self.rows = PlannedRows(folder)
        self.key_extras: tuple[str, ...] = ("apply", file_digest(self.rows.path))
        self._batch: dict[int, PlannedRow | None] = {}
        self._waiting: dict[int, PlannedRow] = {}
        self._lock = threading.Lock()

    def unchanged(self, batch: CheckedBatch, ledger: SyncLedger) -> set[int]:
        self._batch = {number: self.rows.take(number) for number in batch.numbers}
        found: set[int] = set()
        for index, (number, verdict) in enumerate(zip(batch.numbers, batch.verdicts, strict=True)):
            planned = self._batch[number]
            if verdict == "send" and (planned is None or planned.verdict == "unchanged"):
                found.add(index)
        return found

    def decide(self, row: CheckedRow, digest: bytes, ledger: SyncLedger) -> Decided:
        planned = self._batch.get(row.number)
        if planned is None or planned.verdict == "unchanged":
            return Decided(unchanged=True)
        if not planned.sent:
            return Decided(False, refused=f"{planned.verdict} in the plan: {planned.message}".rstrip(": "))
        decided = ledger.decide(row, digest)  # for the sync state and the notes already delivered
        requests, fallback = planned.requests, planned.fallback
        merged = merge_requests(requests)
        if NOTE in merged and (decided.pending is None or NOTE not in decided.pending.whole):
            # delivered (or perhaps delivered) since the plan was made: a note never reaches a lead twice
            requests, fallback = _without_note(requests), _without_note(fallback)
            merged.pop(NOTE)
        pending = replace(decided.pending, request=merged, note=merged.get(NOTE)) if decided.pending else \
            Pending(planned.customer_phone, digest, merged, merged, None, merged.get(NOTE))
        with self._lock:
            self._waiting[row.number] = planned
        return Decided(False, requests, fallback, pending, decided.issues)

    def before_write(self, journal: Journal, key: str, policies: Mapping[str, str], undo: bool) -> BeforeWrite:
        """The plan's reads are its before-images (written when the apply ends): a look, nothing kept."""
        return ReadOnly(self.prepare)

    def prepare(self, job: Job, read: ReadLead) -> Job | Outcome:
        """Read the lead again just before the first write: a lead that changed since the plan is not sent."""
        with self._lock:
            planned = self._waiting.pop(job.row)
        try:
            lead = read(planned.customer_phone)
        except StopRequested:
            raise  # the row is put back: the next apply sends it
        except BaseException:
            with self._lock:
                self.unsent.unread.add(job.row)
            raise
        reason = staleness(planned, lead)
        with self._lock:
            if reason is not None:
                self.unsent.stale[job.row] = reason
            else:
                self.unsent.stale.pop(job.row, None)
                self.unsent.unread.discard(job.row)
        if reason is not None:
            return Outcome(job.row, "failed", f"stale: {reason}", cause=Cause.STALE)
        return job


def _without_note(requests: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
    return tuple({key: value for key, value in request.items() if key != NOTE} for request in requests)


class Apply:
    """``superfone-import apply PLAN_DIR``: see :mod:`importer.run.kinds.apply`. Hand it to the importer with the plan's
    input and mapping (:func:`apply_options` gives the options the plan was made with)."""

    name = "apply"
    access = Access.WRITES

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.header = read_header(self.folder)

    def act(self, batches: Iterator[CheckedBatch], run: RunContext) -> None:
        check_plan(self.folder, self.header, run.mapping.digest)
        if run.table.digest() != self.header.input_digest:
            raise ConfigError(f"{run.table.path} is not the input the plan in {self.folder} was made from")
        if run.catalog is not None and self.header.org_id is not None and run.catalog.org_id != self.header.org_id:
            raise ConfigError(f"{self.folder}: the plan was made for account {self.header.org_id}, "
                              f"the API key is of account {run.catalog.org_id}")
        run.summary.plan_dir = str(self.folder)
        record = _applied(self.folder)
        decider = PlannedDecide(self.folder, Unsent.of(record) if record and not record.get("finished") else None)
        _mark_applied(self.folder, run.writer.folder, False, decider.unsent)
        delivery = Delivery(run, decider)
        try:
            delivery.run(batches)
        finally:  # what was not sent, kept for the apply that resumes this one
            _mark_applied(self.folder, run.writer.folder, False, decider.unsent)
        with Journal(run.options.report_dir / JOURNAL_NAME) as journal:
            states = journal.states(delivery.key)
        run.summary.stale = write_stale(run.writer.folder, decider.unsent.stale)
        write_before(run.writer.folder, self.folder, states, decider.unsent)
        if not run.stop.requested:  # a stopped apply is resumed by the same command, not refused
            _mark_applied(self.folder, run.writer.folder, True, decider.unsent)

    def exit_code(self, summary: Summary) -> int:
        return Send().exit_code(summary)  # a failed or in-doubt task counts as in a run

    def lines(self, summary: dict[str, Any]) -> list[str]:
        stale = summary.get("stale") or 0
        listed = ", see stale.csv" if stale else ""
        return [*Send().lines(summary),
                f"apply: the plan in {self.folder} is applied; {stale} stale (changed since the plan: not sent"
                f"{listed})"]


def write_stale(run_dir: Path, stale_rows: dict[int, str]) -> int:
    """stale.csv: ``_row,reason`` of every row not sent because its lead changed since the plan."""
    stale = sorted(stale_rows.items())
    with open(run_dir / "stale.csv", "w", encoding="utf-8-sig", newline="") as stream:
        table = csv.writer(stream)
        table.writerow(["_row", "reason"])
        table.writerows([str(row), neutralise(reason)] for row, reason in stale)
    return len(stale)


def write_before(run_dir: Path, plan_dir: Path, states: dict[int, RowState], unsent: Unsent) -> int:
    """before.jsonl from the plan's reads: one line per lead apply sent an upsert for."""
    return write_before_images(run_dir / BEFORE_FILE, _images(plan_dir, states, unsent))


def _images(plan_dir: Path, states: dict[int, RowState], unsent: Unsent) -> Iterator[BeforeImage]:
    for planned in PlannedRows(plan_dir):
        state = states.get(planned.row)
        if not planned.sent or state is None or state.status == "in_flight" or planned.row in unsent:
            continue
        yield before_image(planned, state.status)


def before_image(planned: PlannedRow, status: str) -> BeforeImage:
    """What a planned row changed: the values the plan read of the fields it set, and what it sent."""
    merged = merge_requests(planned.requests)
    read = planned.read or {}
    sent: dict[str, Any] = {}
    before: dict[str, Any] = {}
    for name, value in merged.items():
        if name in (CUSTOMER_PHONE, CREATE_FLAG):
            continue
        if name in (ADD_LABELS, ADD_PHONES):
            sent[name] = [item for item in value or [] if item not in (read.get(name) or [])]
        elif name == REMOVE_LABELS:
            sent[name] = list(read.get(name) or [])
        elif name == NOTE:
            sent[name] = True
        else:
            sent[name] = value
        if name == ADDRESS and isinstance(value, dict):
            stored = read.get(name) or {}
            before[name] = {key: None if is_empty(stored.get(key)) else stored.get(key) for key in value}
        elif name in SET_FIELDS:
            stored = read.get(name)
            before[name] = None if is_empty(stored) else stored
    return BeforeImage(planned.row, planned.customer_phone, planned.lead_id, planned.read is not None, before, sent,
                       status)
