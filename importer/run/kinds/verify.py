"""``verify``: after an import, read every row's lead back with get-lead and say whether it arrived.

Each valid row that a run would send is looked up by its customer phone and reported as

    ok         the lead holds everything the row set (see :mod:`importer.run.rules.compare` for the rules)
    missing    no lead has the customer phone
    different  the lead is there but some fields differ (``field: expected …, stored …``), the customer
               phone is not its primary phone, or an add_phones number is not on it
    failed     the lookup itself failed (after retries)

Products and notes cannot be read back through the API; the summary says so once. verify.csv has one line per
row; summary.json gets ``verify: {ok, missing, different}``. Exit code 1 when any row is missing, different or
could not be looked up; invalid rows (never sent) are reported in issues.csv and do not change the exit code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from importer.api.catalog import Catalog
from importer.errors import ApiError
from importer.report import Summary
from importer.run.context.kind import Access, RunContext
from importer.run.context.rows import CheckedBatch
from importer.run.kinds.reading import Fetch, ReadBack, Target, primary_phone, targets
from importer.run.rules.compare import compare

__all__ = ["UNCHECKED_NOTE", "VERIFY_COLUMNS", "RowCheck", "Verify", "verify_lines", "verify_row"]

VERIFY_COLUMNS = ("_row", "status", "customer_phone", "lead_id", "differences")
UNCHECKED_NOTE = "products and notes cannot be read back through the API: they were not checked"


@dataclass(frozen=True, slots=True)
class RowCheck:
    """How one row's lead compares with what the row set."""

    status: str
    lead_id: int | None = None
    differences: tuple[str, ...] = ()


def verify_row(payload: dict[str, Any], fetch: Fetch, catalog: Catalog | None = None) -> RowCheck:
    """Look the row's lead up and compare it with the (merged) payload.

    With the account's ``catalog``, label and product names it lacks are not expected on the lead: the API
    drops them silently, and the run already warned about each one (unknown-label, unknown-product).
    """
    if catalog is not None:
        payload = _known_names_only(payload, catalog)
    phone = str(payload["customer_phone"])
    lead = fetch(phone)
    if lead is None:
        return RowCheck("missing")
    lead_id = lead.get("id") if isinstance(lead.get("id"), int) else None
    differences = [mismatch.as_difference() for mismatch in compare(payload, lead).mismatches]
    primary = primary_phone(lead)
    if primary != phone:
        differences.insert(0, f"customer_phone: expected the primary phone, the lead's primary is {primary}")
    return RowCheck("different" if differences else "ok", lead_id, tuple(differences))


def _known_names_only(payload: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    kept = dict(payload)
    for field, names in (("add_labels", catalog.labels), ("remove_labels", catalog.labels),
                         ("add_products", catalog.products)):
        if field in kept:
            kept[field] = [name for name in kept[field] if names.verdict(name) == "ok"]
    return kept


VERIFY = ReadBack("verify.csv", VERIFY_COLUMNS, "verify", ("ok", "missing", "different"),
                  problems=("missing", "different", "failed"), phase="verifying")


class Verify:
    """``verify``: see :mod:`importer.run.kinds.verify`."""

    name = "verify"
    access = Access.READS

    def act(self, batches: Iterator[CheckedBatch], run: RunContext) -> None:
        catalog = run.catalog
        VERIFY.run(targets(batches, run), run, lambda target, fetch: verify_row(target.payload, fetch, catalog), _line)
        run.summary.verify_note = UNCHECKED_NOTE

    def exit_code(self, summary: Summary) -> int:
        return 1 if VERIFY.has_problems(summary) else 0

    def lines(self, summary: dict[str, Any]) -> list[str]:
        return verify_lines(summary)


def _line(target: Target, outcome: RowCheck | ApiError) -> tuple[str, list[str]]:
    if isinstance(outcome, ApiError):
        outcome = RowCheck("failed", None, (f"lookup failed: {outcome.message}",))
    lead_id = "" if outcome.lead_id is None else str(outcome.lead_id)
    differences = "; ".join(outcome.differences)
    return outcome.status, [str(target.row), outcome.status, target.customer_phone, lead_id, differences]


def verify_lines(summary: dict[str, Any]) -> list[str]:
    """Summary lines of a verify run: counts per status and the note about products and notes."""
    counts = summary.get("verify") or {}
    parts = [f"{counts.get(status, 0)} {status}" for status in VERIFY.statuses]
    if counts.get("failed"):
        parts.append(f"{counts['failed']} not looked up")
    return ["verify: " + ", ".join(parts), "note: " + UNCHECKED_NOTE]
