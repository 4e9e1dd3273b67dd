"""Every issue code, declared once: its severity and what it means. docs/issue-codes.md lists them.

    issue("unknown-stage", row, column, message, value)       # an Issue with the code's severity
    issue("duplicate-phone", row, column, message, severity="error")

Emitters name their code literally (no f-strings), so ``grep unknown-stage importer/`` finds where it comes from.
An undeclared code raises ``ValueError``, and so does a severity other than the declared one unless the code
says when it may take the other (``otherwise``): a typo fails in the tests, not in a report.
"""

from __future__ import annotations

from dataclasses import dataclass

from importer.models import Issue, Severity

__all__ = ["CODES", "IssueCode", "issue"]


#: What a code does to its row, the "effect" column of docs/issue-codes.md: a bad value of a field is left out by
#: default (the field's ``on_invalid: drop``) and keeps the row from being sent with ``on_invalid: reject``.
DROPS = "drops the field; rejects the row with `on_invalid: reject`"
DROPS_IF_STRICT = "rejects the row (`strict: true`); drops the field with `on_invalid: drop`"
DROPS_LOOKUP = "drops the field; rejects the row with `strict: true` (unless `on_invalid: drop`)"
DROPS_PHONE = ("rejects the row for `customer_phone`; drops the phone of another field, or rejects the row with "
               "`on_invalid: reject`")
REJECTS = "rejects the row"
KEEPS = "keeps the row"


@dataclass(frozen=True, slots=True)
class IssueCode:
    """One code: its (default) severity, a one-line meaning, and when it takes the other severity ("" = never);
    ``effect``: what it does to the row (one of the texts above)."""

    severity: Severity
    meaning: str
    otherwise: str = ""
    effect: str = ""

    def __post_init__(self) -> None:
        if not self.effect:
            object.__setattr__(self, "effect", REJECTS if self.severity == "error" else KEEPS)


_REJECTED = "with `on_invalid: reject`"
_PHONE_DROPPED = "for `add_phones` and `assignee_user_phone`, unless `on_invalid: reject`"

CODES: dict[str, IssueCode] = {
    # the mapping (importer.mapping.plans)
    "unmapped-value":
        IssueCode("error", "a cell is not one of the keys of its field's `map`, and the field is `strict`",
                  otherwise="with `on_invalid: drop`", effect=DROPS_IF_STRICT),
    "unknown-lookup-value":
        IssueCode("warning", "a cell is not in its field's `lookup` file",
                  otherwise="with `strict: true`", effect=DROPS_LOOKUP),
    "invalid-email":
        IssueCode("warning", "an `email` cell is not an e-mail address", otherwise=_REJECTED, effect=DROPS),
    "invalid-number":
        IssueCode("warning", "a `number` field's cell is not one number (amounts such as `1.5L`, `₹ 4,50,000`, "
                             "`2 Cr`, `45k` are)", otherwise=_REJECTED, effect=DROPS),
    "invalid-bool":
        IssueCode("warning", "a `bool` field's cell is not true/false, yes/no, y/n or 1/0", otherwise=_REJECTED,
                  effect=DROPS),
    "invalid-date":
        IssueCode("warning", "a `date` / `datetime` field's cell is not a date in a supported form (or, with "
                             "`date_format`, not in that format either); a task's time is always an error",
                  otherwise=_REJECTED, effect=DROPS),
    # phones (importer.checks.row; PhoneProblem codes from importer.phones.normalise)
    "missing-phone":
        IssueCode("error", "the row has no customer phone"),
    "empty-phone":
        IssueCode("error", "a phone cell holds no digits once quotes, `tel:` and separators are removed",
                  otherwise=_PHONE_DROPPED, effect=DROPS_PHONE),
    "invalid-phone":
        IssueCode("error", "a phone cell is not a valid number (for the row's region when it has no `+`)",
                  otherwise=_PHONE_DROPPED, effect=DROPS_PHONE),
    "lossy-excel-number":
        IssueCode("error", "Excel rounded a phone to scientific notation (`9.87654E+09`); its digits are lost",
                  otherwise=_PHONE_DROPPED, effect=DROPS_PHONE),
    "invalid-region":
        IssueCode("error", "the region (`defaults.region` or the `region_column` cell) is not a known ISO code",
                  otherwise=_PHONE_DROPPED, effect=DROPS_PHONE),
    "phone-extension-dropped":
        IssueCode("warning", "a phone had an extension (`x123`), dropped: the API stores E.164 numbers only"),
    # names against the account's catalog (importer.checks.row)
    "unknown-source-type":
        IssueCode("warning", "`source_type` is not one of the account's source types (offline: the documented seven)",
                  otherwise=_REJECTED, effect=DROPS),
    "unknown-stage":
        IssueCode("warning", "`lead_stage_name` is not the name of a lead stage of the account",
                  otherwise=_REJECTED, effect=DROPS),
    "duplicate-stage":
        IssueCode("warning", "several lead stages of the account have that name, so the API refuses it",
                  otherwise=_REJECTED, effect=DROPS),
    "unknown-group":
        IssueCode("warning", "`lead_group_name` is not the name of a lead group of the account",
                  otherwise=_REJECTED, effect=DROPS),
    "duplicate-group":
        IssueCode("warning", "several lead groups of the account have that name, so the API refuses it",
                  otherwise=_REJECTED, effect=DROPS),
    "unknown-label":
        IssueCode("warning", "a label to add or remove is not in the account; the API would silently ignore it"),
    "unknown-product":
        IssueCode("warning", "a product to add is not in the account; the API would silently ignore it"),
    # across rows (importer.checks.crossrow)
    "duplicate-phone":
        IssueCode("warning",
                  "the same customer phone is on several rows; `--on-duplicate` picks which one, if any, is sent",
                  otherwise="with `--on-duplicate error`"),
    "phone-owned-by-other-row":
        IssueCode("error", "a phone of the row is already a phone of another row's lead"),
    # tasks (importer.mapping.tasks, importer.checks.tasks)
    "unknown-task-type":
        IssueCode("error", "a task's type read from the sheet is not one of the API's six task types"),
    "task-past-due":
        IssueCode("warning", "a task's due time has passed: no task is created (`past_due: create` creates it)"),
    "invalid-notify-at":
        IssueCode("error", "a task's `notify_at` is not after now, or is after its due time (the API refuses it)"),
    "several-open-tasks":
        IssueCode("warning", "a row has several non-reminder tasks: creating each completes the one before it"),
    # the sync's decide stage (importer.run.kinds.ledger)
    "note-in-doubt":
        IssueCode("warning", "the row's note may already be on the lead (an earlier delivery is in doubt): not sent "
                             "again unless `--repeat-notes`"),
    # pull from a source CRM (importer.pull)
    "invalid-lead-id":
        IssueCode("error", "a PollyBot lead id is not `lead_` followed by letters and digits; it is not asked for"),
    "several-leads-match":
        IssueCode("warning", "LeadSquared has several leads with the phone; the first it returns (the most recent "
                             "activity) is kept"),
    "pull-failed":
        IssueCode("error", "the source CRM refused the request or kept failing after the retries; the next pull "
                           "asks again"),
}


def issue(code: str, row: int | None, column: str, message: str, value: str = "", *,
          severity: Severity | None = None) -> Issue:
    """An :class:`Issue` with ``code``'s declared severity; ``severity`` only for a code declared with ``otherwise``."""
    declared = CODES.get(code)
    if declared is None:
        raise ValueError(f"undeclared issue code {code!r}: add it to importer.issues.CODES")
    if severity is None:
        severity = declared.severity
    elif severity != declared.severity and not declared.otherwise:
        raise ValueError(f"issue code {code!r} is always {declared.severity!r}, not {severity!r}")
    return Issue(row, column, severity, code, message, value)
