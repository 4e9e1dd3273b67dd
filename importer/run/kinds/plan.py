"""``run --plan``: a dry run that also reads the account and says what each row would do to it.

After pass one, every valid row that would be sent is looked up with get-lead (by its customer phone, and
by each ``add_phones`` number the lead does not already have) and classified:

    create     no lead has the customer phone (create_if_missing false: "would fail: Customer not found.")
    update     the lead whose primary phone is the customer phone exists; each change is named, old → new
    unchanged  that lead already holds everything the row sets (a note would still be added: said so)
    conflict   the row's phones belong to other leads: the customer phone is not the primary phone of the
               lead get-lead finds (another lead's secondary phone, or several leads share it), or an
               add_phones number is on another lead. The upsert would fail.
    failed     the lookup itself failed (after retries); the row could not be planned

Field policies apply as a real run applies them, with the lead just read: a value the lead would keep is not a
change but named as kept (``city: keeps "Pune" (fill_empty; the sheet has "Goa")``) and counted in ``kept``.

plan.csv has one line per planned row; summary.json gets ``plan: {create, update, unchanged, conflict}``.
plan.jsonl (:mod:`importer.report.planned`) holds the same rows machine-readable: the exact requests and the
lead's values the plan read, under a header with the input's and the mapping's digests; ``superfone-import apply``
sends exactly that. The summary says how many requests apply will make and how long that takes at ``--rate``.
Nothing is ever sent: only GET requests. Exit code 1 when any row is invalid, in conflict, would fail or
could not be looked up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from importer.api.body import request_body
from importer.errors import ApiError
from importer.fields import CREATE_FLAG, NOTE
from importer.report import Summary, before
from importer.report.payloads import payload_line
from importer.report.planned import PLAN_FILE, PlanHeader, PlannedRow, header_line, planned_line
from importer.report.records import ApplyEstimate
from importer.run.context.kind import Access, RunContext
from importer.run.context.rows import CheckedBatch
from importer.run.engine.tasks import PlannedTasks, task_lines
from importer.run.kinds.dry import sync_decisions
from importer.run.kinds.ledger import SyncLedger, reading_ledger
from importer.run.kinds.reading import Fetch, Lead, ReadBack, Target, lead_name, lead_phones, primary_phone, targets
from importer.run.rules.compare import compare, merge_requests, show
from importer.run.rules.policy import apply_policies, kept_lines
from importer.run.rules.snapshot import lead_values
from importer.run.stores.home import redact_url

__all__ = ["PLAN_COLUMNS", "Plan", "RowPlan", "plan_lines", "plan_row"]

PLAN_COLUMNS = ("_row", "action", "customer_phone", "lead_id", "changes", "message")
WOULD_FAIL_NOT_FOUND = 'would fail: "Customer not found." (create_if_missing is false)'


@dataclass(frozen=True, slots=True)
class RowPlan:
    """What one row would do: ``action``, the lead it would touch, the changes by name, and notes."""

    action: str
    lead_id: int | None = None
    changes: tuple[str, ...] = ()
    message: str = ""
    would_fail: bool = False
    #: The lead's values of the fields the row sets (None: no lead has the phone).
    read: dict[str, Any] | None = None
    #: Fields the lead would keep because of their policy.
    kept: tuple[str, ...] = ()
    #: The requests apply sends once the field policies left out what the lead keeps (None: the row's own).
    requests: tuple[dict[str, Any], ...] | None = None


def plan_row(payload: dict[str, Any], fetch: Fetch, policies: Mapping[str, str] | None = None,
             sent: tuple[dict[str, Any], ...] = ()) -> RowPlan:
    """Classify one row's (merged) payload against the account, looking phones up with ``fetch``; the mapping's
    field ``policies`` leave out of its requests (``sent``, merged into ``payload``) what the lead would keep,
    named in the changes (``city: keeps "Pune" (fill_empty; the sheet has "Goa")``).
    """
    phone = str(payload["customer_phone"])
    lead = fetch(phone)
    if lead is None:
        return _plan_create(payload, fetch)
    lead_id, read = _id(lead), lead_values(payload, lead)
    primary = primary_phone(lead)
    if primary != phone:
        return RowPlan("conflict", lead_id, read=read, message=(
            f"customer phone {phone} is not the primary phone of lead {lead_name(lead)} (that is {primary}): "
            "it is another lead's secondary phone, or several leads share it (\"Customer phone exists in "
            "multiple contact\"); the upsert would fail"))
    clash = _foreign_phone(payload, lead, fetch)
    if clash is not None:
        return RowPlan(clash.action, clash.lead_id, message=clash.message, read=read)
    if policies:
        return _plan_update(payload, lead, policies, sent or (payload,))
    comparison = compare(payload, lead)
    action = "update" if comparison.mismatches else "unchanged"
    changes = tuple(mismatch.as_change() for mismatch in comparison.mismatches)
    return RowPlan(action, lead_id, changes, "; ".join(comparison.notes), read=read)


def _plan_update(payload: dict[str, Any], lead: Lead, policies: Mapping[str, str],
                 sent: tuple[dict[str, Any], ...]) -> RowPlan:
    """An existing lead under field policies: what it would keep, and the requests apply would send it."""
    applied = apply_policies(sent, lead, policies)
    merged = merge_requests(applied.requests)
    comparison = compare(merged, lead)
    changes = tuple(mismatch.as_change() for mismatch in comparison.mismatches) + tuple(
        _kept(name, policy, payload, lead) for name, policy in applied.kept.items())
    return RowPlan("update" if comparison.mismatches else "unchanged", _id(lead), changes,
                   "; ".join(comparison.notes), read=lead_values(merged, lead), kept=tuple(applied.kept),
                   requests=applied.requests)


def _kept(name: str, policy: str, payload: dict[str, Any], lead: Lead) -> str:
    """``city: keeps "Pune" (fill_empty; the sheet has "Goa")``."""
    if name.startswith("address."):
        key = name.removeprefix("address.")
        stored, wanted = (lead.get("address") or {}).get(key), (payload.get("address") or {}).get(key)
    else:
        stored, wanted = before.lead_values(lead, {name: None}).get(name), payload.get(name)
    if isinstance(stored, dict):  # an assignee: get-lead shows their name, never their phone
        stored = " ".join(str(part) for part in (stored.get("first_name"), stored.get("last_name")) if part) \
            or f"user {stored.get('id')}"
    return f"{name}: keeps {show(stored)} ({policy}; the sheet has {show(wanted)})"


def _plan_create(payload: dict[str, Any], fetch: Fetch) -> RowPlan:
    clash = _foreign_phone(payload, None, fetch)
    if clash is not None:
        return clash
    notes = []
    would_fail = payload.get(CREATE_FLAG) is not True
    if would_fail:
        notes.append(WOULD_FAIL_NOT_FOUND)
    if payload.get(NOTE):
        notes.append("note will be added")
    return RowPlan("create", None, (), "; ".join(notes), would_fail)


def _foreign_phone(payload: dict[str, Any], lead: Lead | None, fetch: Fetch) -> RowPlan | None:
    """A conflict when an add_phones number the lead lacks belongs to another lead; else None."""
    own = set(lead_phones(lead)) if lead is not None else {str(payload["customer_phone"])}
    for extra in dict.fromkeys(payload.get("add_phones") or []):
        if extra in own:
            continue
        other = fetch(extra)
        if other is not None and (lead is None or _id(other) != _id(lead)):
            return RowPlan("conflict", _id(lead) if lead is not None else None, message=(
                f"add_phones {extra} belongs to lead {lead_name(other)}: the upsert would fail "
                f"(\"Phone number {extra} in add_phones is already present in different customer\")"))
    return None


def _id(lead: Lead) -> int | None:
    value = lead.get("id")
    return value if isinstance(value, int) else None


PLAN = ReadBack("plan.csv", PLAN_COLUMNS, "plan", ("create", "update", "unchanged", "conflict"),
                problems=("conflict", "failed", "would_fail"), phase="planning")


class Plan:
    """``run --plan``: see :mod:`importer.run.kinds.plan`."""

    name = "plan"
    access = Access.READS

    def act(self, batches: Iterator[CheckedBatch], run: RunContext) -> None:
        would_fail = 0
        recorder = PlanRecorder(run)
        kept: Counter[str] = Counter()
        policies = run.mapping.policies

        def line(target: Target, outcome: RowPlan | ApiError) -> tuple[str, list[str]]:
            nonlocal would_fail
            if isinstance(outcome, ApiError):
                outcome = RowPlan("failed", message=f"lookup failed: {outcome.message}")
            would_fail += outcome.would_fail
            recorder.add(target, outcome)
            kept.update(outcome.kept)
            lead_id = "" if outcome.lead_id is None else str(outcome.lead_id)
            changes = "; ".join(outcome.changes)
            return outcome.action, [str(target.row), outcome.action, target.customer_phone, lead_id, changes,
                                    outcome.message]

        planned = PlannedTasks(run.writer.folder, run.summary, run.mapping.has_tasks)  # tasks.jsonl
        with reading_ledger(run.options, run.catalog.org_id if run.catalog else None, run.mapping.path,
                            online=True) as ledger, recorder:
            rows = targets(planned.tap(batches), run) if ledger is None else _sync_targets(batches, run, ledger,
                                                                                         planned)
            PLAN.run(rows, run, lambda target, fetch: plan_row(target.payload, fetch, policies, target.requests), line)
        planned.finish()
        run.summary.keep_policies(policies, kept)
        if would_fail and run.summary.lookup is not None:
            run.summary.lookup.counts["would_fail"] = would_fail
        run.summary.apply = recorder.estimate(run.options.rate)

    def exit_code(self, summary: Summary) -> int:
        return 1 if summary.invalid or PLAN.has_problems(summary) else 0

    def lines(self, summary: dict[str, Any]) -> list[str]:
        return plan_lines(summary) + task_lines(summary) + kept_lines(summary, plan=True)


class PlanRecorder:
    """Writes plan.jsonl as the plan goes (its header first) and counts the requests apply will make."""

    def __init__(self, run: RunContext) -> None:
        self.run = run
        self.upserts = 0
        self.lookups = 0
        self._stream: IO[bytes] | None = None

    def __enter__(self) -> PlanRecorder:
        run = self.run
        self._stream = open(run.writer.folder / PLAN_FILE, "wb")
        self._stream.write(header_line(plan_header(run)))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stream is not None:
            self._stream.close()

    def add(self, target: Target, plan: RowPlan) -> None:
        assert self._stream is not None
        requests = target.requests if plan.requests is None else plan.requests
        planned = PlannedRow(target.row, plan.action, target.customer_phone, plan.lead_id,
                             requests, target.fallback, plan.read, plan.message)
        if planned.sent:
            self.upserts += len(planned.requests)
            self.lookups += 1
        self._stream.write(planned_line(planned))

    def estimate(self, rate: float) -> ApplyEstimate:
        """What apply will send: the planned upserts, one lookup a lead first, and the time at ``rate``."""
        return ApplyEstimate(self.upserts, self.lookups, rate)


def plan_header(run: RunContext) -> PlanHeader:
    """plan.jsonl's first line: what apply checks before it sends anything."""
    options = run.options
    try:
        input_digest = run.table.digest()
    except OSError:  # rows handed in as a DataFrame or dicts: there is no file to check against
        input_digest = ""
    return PlanHeader(
        input=str(run.table.path.resolve()), input_digest=input_digest, mapping=str(run.mapping.path.resolve()),
        mapping_digest=run.mapping.digest, base_url=options.base_url,
        org_id=run.catalog.org_id if run.catalog else None, sheet=options.sheet,
        options={"on_duplicate": options.on_duplicate, "job": options.job,
                 "state": redact_url(str(options.state)) if options.state else None, "full": options.full,
                 "repeat_notes": options.repeat_notes, "allow_shrink": options.allow_shrink,
                 "allow_invalid": options.allow_invalid},
        created_at=datetime.now(UTC).isoformat(timespec="seconds"))


def _sync_targets(batches: Iterator[CheckedBatch], run: RunContext, ledger: SyncLedger,
                  planned: PlannedTasks) -> Iterator[Target]:
    """Under the sync's rules: rows the job's leads already hold are not planned (counted unchanged); the others
    are planned with what a run would send them (only the changed fields of a lead the job has synced)."""
    run.summary.sync = ledger.describe()
    for batch in batches:
        lines: list[bytes] = []
        for row, decided in sync_decisions(ledger, batch, run):
            lines.extend(payload_line(row.number, request_body(request)) for request in decided.requests)
            planned.add(batch.tasks.get(row.number, b""))
            if decided.requests:  # else the lead is unchanged, and only its tasks would be sent
                yield Target(row.number, merge_requests(decided.requests), row.phones, decided.requests,
                             decided.fallback)
        run.writer.add_payloads(b"".join(lines))


def plan_lines(summary: dict[str, Any]) -> list[str]:
    """Summary lines of a plan: the counts per action, and what could not be planned."""
    counts = summary.get("plan") or {}
    parts = [f"{counts.get(action, 0)} {action}" for action in PLAN.statuses]
    lines = ["plan: " + ", ".join(parts) + f" ({summary.get('lookups', 0)} lookups, nothing sent)"]
    apply = summary.get("apply")
    if apply:
        lines.append(f"plan: apply will make {apply['requests']} requests ({apply['upserts']} upserts, "
                     f"{apply['lookups']} lookups): {_duration(apply['seconds'])} at {apply['rate']:g}/s")
    if summary.get("unchanged"):
        lines.append(f"plan: {summary['unchanged']} rows unchanged since the job's last run: not sent, not looked up")
    if counts.get("would_fail"):
        lines.append(f"plan: {counts['would_fail']} created rows would fail ({show('Customer not found.')}: "
                     "create_if_missing is false)")
    if counts.get("failed"):
        lines.append(f"plan: {counts['failed']} rows could not be looked up (see plan.csv)")
    return lines


def _duration(seconds: float) -> str:
    """``about 4.2 s``, ``about 12 min 30 s``, ``about 3 h 5 min``, ``under 0.1 s``."""
    if seconds < 0.1:
        return "under 0.1 s"
    if seconds < 60:
        return f"about {seconds:g} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"about {minutes} min {rest} s" if rest else f"about {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min" if minutes else f"about {hours} h"
