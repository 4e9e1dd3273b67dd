"""A payload against what get-lead shows: the changes a plan names, the differences verify finds.

Pure functions over two JSON objects: the payload (a row's requests merged into one) and a lead as get-lead
returns it. The rules follow the upsert's behaviour (reference §2.1, seed 001):

- a plain field the payload sets must equal the stored value exactly (case matters: the API stores what it
  is sent); ``null`` clears it; numbers compare as numbers (50000 equals 50000.0);
- ``email`` is an array that replaces the stored one: same addresses, ignoring case, order and repeats;
- ``address`` merges key by key: only the keys the payload sets are compared;
- ``lead_stage_name`` / ``lead_group_name`` compare with the title of the lead's stage / group;
- ``add_labels`` must be on the lead, ``remove_labels`` must not, ``add_phones`` must be among its phones;
- ``assignee_user_phone``: get-lead shows the user but not their phone: only "someone" vs "no one" compares;
- ``add_products`` and ``customer_note`` cannot be read back at all: they become notes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from importer.fields import NOTE

__all__ = [
    "PLAIN_FIELDS",
    "Comparison",
    "Mismatch",
    "compare",
    "merge_requests",
    "same_emails",
    "same_value",
    "show",
]

#: Payload fields stored as they are sent, under the same name in get-lead's answer.
PLAIN_FIELDS: tuple[str, ...] = (
    "first_name", "last_name", "website", "city", "business_name", "additional_info", "deal_value", "source",
    "source_type",
)
_NAMED = {"lead_stage_name": "lead_stage", "lead_group_name": "lead_group"}
_ADDRESS_KEYS = ("text", "additional", "initials", "latitude", "longitude")

Kind = Literal["set", "add", "remove"]


def show(value: Any) -> str:
    """A stored or wanted value as a person reads it: strings quoted, numbers plain, null as ``none``."""
    if value is None:
        return "none"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(show(item) for item in value) + "]"
    return str(value)


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One field where the payload and the lead disagree.

    ``kind`` ``set``: the field should hold ``wanted`` but holds ``stored``; ``add``: ``wanted`` should be in
    the list (labels, phones) and is not; ``remove``: ``wanted`` should not be in the list and is.
    """

    field: str
    kind: Kind
    wanted: Any
    stored: Any = None

    def as_change(self) -> str:
        """How a plan names it: ``city: "Pune" → "Mumbai"``, ``labels: + "Hot"``, ``labels: - "Cold"``."""
        if self.kind == "add":
            return f"{self.field}: + {show(self.wanted)}"
        if self.kind == "remove":
            return f"{self.field}: - {show(self.wanted)}"
        return f"{self.field}: {show(self.stored)} → {show(self.wanted)}"

    def as_difference(self) -> str:
        """How verify names it: ``city: expected "Mumbai", stored "Pune"``."""
        if self.kind == "add":
            return f"{self.field}: {show(self.wanted)} expected, not on the lead"
        if self.kind == "remove":
            return f"{self.field}: {show(self.wanted)} should be removed, still on the lead"
        return f"{self.field}: expected {show(self.wanted)}, stored {show(self.stored)}"


@dataclass(frozen=True, slots=True)
class Comparison:
    """The mismatches of one payload against one lead, and what could not be compared (``notes``)."""

    mismatches: tuple[Mismatch, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def same(self) -> bool:
        return not self.mismatches


def merge_requests(requests: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One payload from a row's requests (add_labels and remove_labels travel apart; keys never clash)."""
    merged: dict[str, Any] = {}
    for request in requests:
        merged.update(request)
    return merged


def same_value(wanted: Any, stored: Any) -> bool:
    """Exact equality, except that numbers compare as numbers (50000 == 50000.0, "50000" != 50000)."""
    if _is_number(wanted) and _is_number(stored):
        return math.isclose(float(wanted), float(stored), rel_tol=1e-12, abs_tol=1e-9)
    if _is_number(wanted) or _is_number(stored):
        return False
    return bool(wanted == stored)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def same_emails(wanted: list[str] | None, stored: list[str] | None) -> bool:
    """The same addresses, ignoring case, order and repeats; ``None`` and ``[]`` are both "no email"."""
    return {email.strip().casefold() for email in wanted or []} == {
        email.strip().casefold() for email in stored or []
    }


def compare(payload: dict[str, Any], lead: dict[str, Any]) -> Comparison:
    """Every field ``payload`` sets that ``lead`` does not hold, in payload field order, plus notes."""
    mismatches: list[Mismatch] = []
    notes: list[str] = []
    for name, wanted in payload.items():
        if name in PLAIN_FIELDS:
            if not same_value(wanted, lead.get(name)):
                mismatches.append(Mismatch(name, "set", wanted, lead.get(name)))
        elif name == "email":
            if not same_emails(wanted, lead.get("email")):
                mismatches.append(Mismatch(name, "set", wanted, lead.get("email")))
        elif name == "address":
            mismatches.extend(_address(wanted, lead.get("address") or {}))
        elif name in _NAMED:
            stored = _title(lead.get(_NAMED[name]))
            if wanted != stored:
                mismatches.append(Mismatch(name, "set", wanted, stored))
        elif name in ("add_labels", "remove_labels"):
            mismatches.extend(_labels(name, wanted or [], lead))
        elif name == "add_phones":
            phones = _phones(lead)
            missing = [phone for phone in dict.fromkeys(wanted or []) if phone not in phones]
            mismatches.extend(Mismatch("add_phones", "add", phone) for phone in missing)
        elif name == "assignee_user_phone":
            _assignee(wanted, lead.get("assignee_user"), mismatches, notes)
        elif name == "add_products" and wanted:
            notes.append(f"products cannot be read back ({', '.join(show(p) for p in wanted)})")
        elif name == NOTE and wanted:
            notes.append("note will be added")
    return Comparison(tuple(mismatches), tuple(notes))


def _title(ref: Any) -> str | None:
    return ref.get("title") if isinstance(ref, dict) else None


def _phones(lead: dict[str, Any]) -> list[str]:
    return [str(entry.get("phone")) for entry in lead.get("phones") or [] if isinstance(entry, dict)]


def _address(wanted: dict[str, Any] | None, stored: dict[str, Any]) -> list[Mismatch]:
    """Only the keys the payload sets; ``address: null`` clears every key."""
    keys = wanted if wanted is not None else dict.fromkeys(_ADDRESS_KEYS)
    return [
        Mismatch(f"address.{key}", "set", value, stored.get(key))
        for key, value in keys.items()
        if not same_value(value, stored.get(key))
    ]


def _labels(name: str, titles: list[str], lead: dict[str, Any]) -> list[Mismatch]:
    on_lead = {_title(label) for label in lead.get("labels") or []}
    if name == "add_labels":
        return [Mismatch("labels", "add", title) for title in dict.fromkeys(titles) if title not in on_lead]
    return [Mismatch("labels", "remove", title) for title in dict.fromkeys(titles) if title in on_lead]


def _assignee(wanted: str | None, stored: Any, mismatches: list[Mismatch], notes: list[str]) -> None:
    """get-lead names the assignee but not their phone: compare "someone" with "no one", note the rest."""
    if wanted is None:
        if stored:
            mismatches.append(Mismatch("assignee", "set", None, _person(stored)))
    elif not stored:
        mismatches.append(Mismatch("assignee", "set", wanted, None))
    else:
        notes.append(f"assignee set to {wanted} (now {_person(stored)}; get-lead shows no phone to compare)")


def _person(user: Any) -> str:
    if not isinstance(user, dict):
        return "someone"
    name = " ".join(part for part in (user.get("first_name"), user.get("last_name")) if part)
    return name or f"user {user.get('id')}"
