"""before.jsonl: what a real run found on each lead just before it wrote to it — what ``undo`` restores.

One JSON line per lead a real run (or an apply) sent an upsert for, in the order the rows ended::

    {"_row": 7, "phone": "+919812345678", "lead_id": 1234, "existed": true,
     "before": {"city": "Pune", "lead_stage_name": null},
     "sent": {"city": "Mumbai", "lead_stage_name": "Won", "add_labels": ["Hot"], "customer_note": true},
     "status": "succeeded"}

- ``_row``: the sheet row (null for a lead the run touched because it was gone from the input, ``--on-missing``).
- ``phone``: the customer phone the upsert was keyed on. ``lead_id``: get-lead's id (null when no lead had the
  phone, or when the lead was not read). ``existed``: whether a lead had the phone just before the first write;
  null when it was not read (``--no-undo``).
- ``sent``: the upsert's fields (customer_phone and the create flag left out) as they were sent: ``add_labels``,
  ``add_products``, ``add_phones`` hold only what the lead did not already have (all of them when the lead was not
  read), ``remove_labels`` only what it had; ``customer_note`` is ``true`` when a note was sent (never its text).
- ``before``: for every field of ``sent`` that sets a value (:data:`SET_FIELDS`), the lead's value just before the
  write, in the upsert's terms (:func:`lead_values`); ``null`` means empty. Empty when the lead was not read.
- ``status``: ``succeeded``, ``failed`` or ``in_doubt`` (a write that may or may not have been applied).
- ``before_from``: only on a line whose lead was not read: ``"state"``, its ``before`` is what this job confirmed
  for those fields in its last run (the sync state's values; a run skips the read when it changes nothing but
  fields this job wrote, and no policy needs the lead's values). ``lead_id`` is then null.

Values follow get-lead, named as the upsert names them: a stage or group is its title; ``email`` is a list;
``address`` holds only the keys that were sent; ``assignee_user_phone`` is null (no one) or get-lead's
``assignee_user`` object ``{"id", "first_name", "last_name"}``, because get-lead never shows the assignee's phone.

The run keeps each image in its journal before the first write to that lead (so ``kill -9`` and a resume keep
it); this file is written from there when the run ends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.fields import NOTE

__all__ = [
    "ADDED_FIELDS",
    "BEFORE_FILE",
    "SET_FIELDS",
    "BeforeImage",
    "before_line",
    "is_empty",
    "lead_labels",
    "lead_phones",
    "lead_values",
    "merge_images",
    "parse_before_line",
    "read_before_images",
    "write_before_images",
]

BEFORE_FILE = "before.jsonl"
#: Upsert fields that set a value on the lead (what ``before`` records and an undo can put back).
SET_FIELDS: tuple[str, ...] = (
    "first_name", "last_name", "email", "website", "address", "city", "business_name", "additional_info",
    "deal_value", "source", "source_type", "assignee_user_phone", "lead_stage_name", "lead_group_name",
)
#: Upsert fields that only add to a lead (what ``sent`` lists as added).
ADDED_FIELDS: tuple[str, ...] = ("add_labels", "add_products", "add_phones")
ADDRESS_KEYS: tuple[str, ...] = ("text", "additional", "initials", "latitude", "longitude")
_NAMED = {"lead_stage_name": "lead_stage", "lead_group_name": "lead_group"}


@dataclass(frozen=True, slots=True)
class BeforeImage:
    """One line of before.jsonl (see the module's docstring for each field)."""

    row: int | None
    phone: str
    lead_id: int | None
    existed: bool | None
    before: dict[str, Any] = field(default_factory=dict)
    sent: dict[str, Any] = field(default_factory=dict)
    status: str = "in_doubt"
    #: ``before`` holds what this job last confirmed (the sync state), not a read of the lead.
    from_state: bool = False

    def as_dict(self) -> dict[str, Any]:
        line = {"_row": self.row, "phone": self.phone, "lead_id": self.lead_id, "existed": self.existed,
                "before": self.before, "sent": self.sent, "status": self.status}
        return {**line, "before_from": "state"} if self.from_state else line


def before_line(image: BeforeImage) -> bytes:
    """The JSON line of ``image`` (UTF-8, ending in a newline)."""
    return json.dumps(image.as_dict(), ensure_ascii=False, separators=(", ", ": ")).encode("utf-8") + b"\n"


def parse_before_line(line: bytes | str) -> BeforeImage:
    """The image of one line of before.jsonl; ValueError when it is not one."""
    record = json.loads(line)
    if not isinstance(record, dict) or not isinstance(record.get("phone"), str):
        raise ValueError("not a before-image line: expected an object with a phone")
    row, lead_id, existed = record.get("_row"), record.get("lead_id"), record.get("existed")
    return BeforeImage(
        row=int(row) if row is not None else None,
        phone=record["phone"],
        lead_id=int(lead_id) if lead_id is not None else None,
        existed=bool(existed) if existed is not None else None,
        before=dict(record.get("before") or {}),
        sent=dict(record.get("sent") or {}),
        status=str(record.get("status") or "in_doubt"),
        from_state=record.get("before_from") == "state",
    )


def read_before_images(run_dir: str | Path) -> Iterator[BeforeImage]:
    """Every image of a run folder's before.jsonl, in file order, read a line at a time.

    Raises FileNotFoundError when the folder has no before.jsonl (not a real run, or a run that never ended);
    ValueError naming the line when a line is not an image.
    """
    path = Path(run_dir) / BEFORE_FILE
    with path.open("rb") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                yield parse_before_line(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: {exc}") from None


# --- a lead's values in the upsert's terms -------------------------------------------------------------------


def is_empty(value: Any) -> bool:
    """A value that means "nothing there": null, blank text, an empty list, an address with no key set."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return not value
    if isinstance(value, Mapping):
        return all(is_empty(item) for item in value.values())
    return False


def lead_values(lead: Mapping[str, Any] | None, sent: Mapping[str, Any]) -> dict[str, Any]:
    """What ``lead`` (get-lead's ``data``; None: no lead) holds for each field of ``sent`` that sets a value,
    named as the upsert names it; empty values are ``None``. ``address`` holds only the keys ``sent`` sets."""
    values: dict[str, Any] = {}
    for name in sent:
        if name not in SET_FIELDS:
            continue
        if name == "address":
            stored = (lead or {}).get("address") or {}
            wanted = sent[name] if isinstance(sent[name], Mapping) else dict.fromkeys(ADDRESS_KEYS)
            values[name] = {key: _value(stored.get(key)) for key in wanted}
        else:
            values[name] = _value(_stored(lead, name)) if lead is not None else None
    return values


def _stored(lead: Mapping[str, Any], name: str) -> Any:
    if name in _NAMED:
        ref = lead.get(_NAMED[name])
        return ref.get("title") if isinstance(ref, Mapping) else None
    if name == "assignee_user_phone":
        user = lead.get("assignee_user")
        if not isinstance(user, Mapping):
            return None
        return {key: user.get(key) for key in ("id", "first_name", "last_name")}
    return lead.get(name)


def _value(value: Any) -> Any:
    return None if is_empty(value) else value


def lead_labels(lead: Mapping[str, Any] | None) -> list[str]:
    """The titles of the lead's labels."""
    return [str(label.get("title")) for label in (lead or {}).get("labels") or [] if isinstance(label, Mapping)]


def lead_phones(lead: Mapping[str, Any] | None) -> list[str]:
    """Every phone of the lead, primary first."""
    return [str(entry.get("phone")) for entry in (lead or {}).get("phones") or [] if isinstance(entry, Mapping)]


def merge_images(first: BeforeImage, again: BeforeImage) -> BeforeImage:
    """The image of a lead written to twice for one import (a killed run's row sent again on resume): what the lead
    held before the *first* write wins (the second read may show the first write), fields only the second write
    sends are added, and what was added is what either write added."""
    sent = {**first.sent, **again.sent}
    for name in (*ADDED_FIELDS, "remove_labels"):
        items = list(first.sent.get(name) or ()) + [
            item for item in again.sent.get(name) or () if item not in (first.sent.get(name) or ())]
        if items:
            sent[name] = items
    if first.sent.get(NOTE) or again.sent.get(NOTE):
        sent[NOTE] = True
    before = {**again.before, **first.before}
    if isinstance(first.before.get("address"), Mapping) and isinstance(again.before.get("address"), Mapping):
        before["address"] = {**again.before["address"], **first.before["address"]}
    existed = first.existed if first.existed is not None else again.existed
    lead_id = first.lead_id if first.lead_id is not None else again.lead_id
    from_state = first.from_state or (again.from_state and bool(again.before.keys() - first.before.keys()))
    return BeforeImage(first.row, first.phone, lead_id, existed, before, sent, again.status, from_state)


def write_before_images(path: Path, images: Iterable[BeforeImage]) -> int:
    """Write ``images`` to ``path`` (replacing it); returns how many lines were written."""
    count = 0
    with path.open("wb") as stream:
        for image in images:
            stream.write(before_line(image))
            count += 1
    return count
