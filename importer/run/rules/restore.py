"""What undoing one lead takes: pure rules from its before-image and the lead as it is now.

Per field the run set (``sent``, :data:`~importer.report.before.SET_FIELDS`):

    the lead holds …                     outcome         request
    what it held before the run           already         —
    what the run wrote                    restored        the field back to its before value (null clears it)
    anything else                         edited-since    — (reported with both values)

An image whose ``before`` came from the sync state (``before_from: state``: the run changed only fields this job
had written, without reading the lead) is undone by the same rules: its fields go back to what this job had
written before the run (a ``restored`` line says so), where the lead still holds what the run wrote.

Labels the run added and the lead still has are removed (``label-removed``; ``label-gone`` when someone removed it
already); labels it removed are added back. The assignee: get-lead shows who, never their phone, so undo can put
"no one" back where the lead had no one (and the lead still has someone), not a previous person
(``not-restorable``, with their name). A lead the run created cannot be deleted (``created``); with
``--label-created NAME`` it is tagged with that label (``labelled``). Notes and added phones (and products, which
cannot be read back) stay: ``not-removable``. A lead gone since, or whose phone is another lead's now: ``gone``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from importer.checks.row import split_labels
from importer.fields import CREATE_FLAG, CUSTOMER_PHONE, NOTE
from importer.report.before import SET_FIELDS, BeforeImage, is_empty, lead_labels, lead_values
from importer.run.rules.snapshot import same_field

__all__ = ["UNDO_COLUMNS", "LeadUndo", "UndoLine", "undo_lead"]

UNDO_COLUMNS = ("_row", "phone", "lead_id", "what", "outcome", "run_wrote", "now", "before", "message")
#: Outcomes of a line that a write carries out (``would-…`` in a dry run; ``failed`` when the write failed).
WRITES = ("restored", "label-removed", "label-added-back", "labelled")
#: A restored field of an image whose ``before`` came from the sync state (the run did not read the lead).
_FROM_STATE = "back to what this job had written before the run (the sync state's value; the lead was not read)"
_NOT_REMOVABLE = {
    NOTE: "the API cannot remove a note from the lead's timeline",
    "add_phones": "the API cannot remove a phone from a lead",
    "add_products": "the API cannot remove a product from a lead",
}


class UndoLine(NamedTuple):
    """One line of undo.csv: what became of one field (or label, or the lead) of one lead."""

    row: int | None
    phone: str
    lead_id: int | None
    what: str
    outcome: str
    run_wrote: Any = None
    now: Any = None
    before: Any = None
    message: str = ""


@dataclass
class LeadUndo:
    """The requests that undo one lead (none, one, or two when labels are both removed and added back) and the
    report's lines."""

    requests: tuple[dict[str, Any], ...] = ()
    lines: list[UndoLine] = field(default_factory=list)


def undo_lead(image: BeforeImage, lead: dict[str, Any] | None, label_created: str | None = None) -> LeadUndo:
    """How to undo what the run recorded in ``image``, given the lead as get-lead shows it now (None: no lead)."""
    line = _Lines(image)
    if lead is None or (image.lead_id is not None and lead.get("id") != image.lead_id):
        why = "no lead has this phone any more" if lead is None else f"the phone is lead {lead.get('id')}'s now"
        return LeadUndo(lines=[line("lead", "gone", message=why)])
    lead_id = lead.get("id") if isinstance(lead.get("id"), int) else image.lead_id
    line.lead_id = lead_id
    undo = LeadUndo()
    request: dict[str, Any] = {}
    if image.existed is False:
        _created(image, lead, label_created, request, undo, line)
    else:
        _fields(image, lead, request, undo, line)
        _labels(image, lead, request, undo, line)
    undo.lines.extend(line(name, "not-removable", message=why) for name, why in _NOT_REMOVABLE.items()
                      if image.sent.get(name))
    if request:
        undo.requests = split_labels({CUSTOMER_PHONE: image.phone, CREATE_FLAG: False, **request})
    return undo


class _Lines:
    def __init__(self, image: BeforeImage) -> None:
        self.image = image
        self.lead_id = image.lead_id

    def __call__(self, what: str, outcome: str, run_wrote: Any = None, now: Any = None, before: Any = None,
                 message: str = "") -> UndoLine:
        return UndoLine(self.image.row, self.image.phone, self.lead_id, what, outcome, run_wrote, now, before,
                        message)


def _created(image: BeforeImage, lead: dict[str, Any], label: str | None, request: dict[str, Any], undo: LeadUndo,
             line: _Lines) -> None:
    message = "the run created this lead; the API cannot delete it (delete it in the dashboard)"
    undo.lines.append(line("lead", "created", message=message))
    if label is not None:
        if label in lead_labels(lead):
            undo.lines.append(line("labels", "already", now=label, message=f"already labelled {label!r}"))
        else:
            request["add_labels"] = [label]
            undo.lines.append(line("labels", "labelled", before=label, message=f"tagged {label!r} to find it"))


def _fields(image: BeforeImage, lead: dict[str, Any], request: dict[str, Any], undo: LeadUndo,
            line: _Lines) -> None:
    sent = {name: value for name, value in image.sent.items() if name in SET_FIELDS}
    now_values = lead_values(lead, sent)
    for name, wrote in sent.items():
        now, before = now_values.get(name), image.before.get(name)
        if name == "assignee_user_phone":
            _assignee(wrote, now, before, request, undo, line)
        elif _same(name, now, before):
            undo.lines.append(line(name, "already", wrote, now, before))
        elif _same(name, now, wrote):
            request[name] = _put_back(name, wrote, before)
            undo.lines.append(line(name, "restored", wrote, now, before, _FROM_STATE if image.from_state else ""))
        else:
            undo.lines.append(line(name, "edited-since", wrote, now, before,
                                   "changed since the run: left as it is"))


def _put_back(name: str, wrote: Any, before: Any) -> Any:
    """The request's value that puts ``before`` back: an address only with the keys the run set (null clears
    all five)."""
    if name == "address" and isinstance(wrote, dict):
        return {key: (before or {}).get(key) for key in wrote}
    return before


def _same(name: str, a: Any, b: Any) -> bool:
    a, b = (None if is_empty(value) else value for value in (a, b))
    if name == "address" and isinstance(a, dict) and isinstance(b, dict):
        return all(same_field(key, a.get(key), b.get(key)) for key in a.keys() | b.keys())
    return a is b is None or (a is not None and b is not None and same_field(name, a, b))


def _assignee(wrote: Any, now: Any, before: Any, request: dict[str, Any], undo: LeadUndo, line: _Lines) -> None:
    """get-lead names the assignee (``{"id", "first_name", "last_name"}``) but never their phone."""
    name = "assignee_user_phone"
    if _same_person(now, before):
        undo.lines.append(line(name, "already", wrote, _person(now), _person(before)))
    elif (wrote is None) != (now is None):
        undo.lines.append(line(name, "edited-since", wrote, _person(now), _person(before),
                               "changed since the run: left as it is"))
    elif before is None:
        request[name] = None
        undo.lines.append(line(name, "restored", wrote, _person(now), None))
    elif isinstance(before, dict) and before.get("phone"):
        request[name] = before["phone"]
        undo.lines.append(line(name, "restored", wrote, _person(now), _person(before)))
    else:
        undo.lines.append(line(name, "not-restorable", wrote, _person(now), _person(before),
                               "get-lead does not show the previous assignee's phone: reassign them by hand"))


def _same_person(now: Any, before: Any) -> bool:
    if now is None or before is None:
        return now is before
    return isinstance(now, dict) and isinstance(before, dict) and now.get("id") == before.get("id")


def _person(user: Any) -> Any:
    if not isinstance(user, dict):
        return user
    name = " ".join(str(part) for part in (user.get("first_name"), user.get("last_name")) if part)
    return name or f"user {user.get('id')}"


def _labels(image: BeforeImage, lead: dict[str, Any], request: dict[str, Any], undo: LeadUndo,
            line: _Lines) -> None:
    on_lead = set(lead_labels(lead))
    remove = []
    for label in image.sent.get("add_labels") or []:
        if label in on_lead:
            remove.append(label)
            undo.lines.append(line("labels", "label-removed", run_wrote=f"+{label}"))
        else:
            undo.lines.append(line("labels", "label-gone", run_wrote=f"+{label}",
                                   message="removed since the run"))
    add = []
    for label in image.sent.get("remove_labels") or []:
        if label in on_lead:
            undo.lines.append(line("labels", "already", run_wrote=f"-{label}", message="added back since the run"))
        else:
            add.append(label)
            undo.lines.append(line("labels", "label-added-back", run_wrote=f"-{label}"))
    if remove:
        request["remove_labels"] = remove
    if add:
        request["add_labels"] = add
