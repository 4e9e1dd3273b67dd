"""The decide stage of a sync: what a row still has to send, given what this job last confirmed for its lead.

Pure: no I/O. A lead seen for the first time is sent whole. Otherwise only the fields whose value changed in the
sheet since the last confirmed sync are sent (plus customer_phone), with the create flag false — the lead exists;
labels, products and added phones only where this job has not added them already; the note only when that text
was never delivered to the lead. A row with nothing left to send is ``unchanged``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from importer.fields import CREATE_FLAG, CUSTOMER_PHONE, NOTE

__all__ = ["ADDED_FIELDS", "Confirmed", "SyncDecision", "confirmed_after", "decide"]

#: Fields whose names are only ever added to a lead: a sync sends the ones this job has not added yet.
ADDED_FIELDS: tuple[str, ...] = ("add_labels", "add_products", "add_phones")
_NOT_COMPARED = frozenset({CUSTOMER_PHONE, CREATE_FLAG, NOTE, *ADDED_FIELDS})


@dataclass(frozen=True)
class Confirmed:
    """What this job last confirmed as written to a lead: field values, and the names it added."""

    fields: Mapping[str, Any] = field(default_factory=dict)
    added: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SyncDecision:
    """``send`` one request (whole, or only what changed), or the row is ``unchanged``."""

    verdict: Literal["send", "unchanged"]
    request: dict[str, Any] | None
    whole: bool


def decide(payload: Mapping[str, Any], confirmed: Confirmed | None, note_known: bool = False) -> SyncDecision:
    """What to send for ``payload`` (one upsert request of the mapping). ``note_known``: the lead already has
    this note from this tool (delivered, or perhaps delivered), so it is never sent again."""
    note = payload.get(NOTE)
    if confirmed is None:
        request = dict(payload)
        if note_known:
            request.pop(NOTE, None)
        return SyncDecision("send", request, whole=True)
    changes = {name: value for name, value in payload.items()
               if name not in _NOT_COMPARED and confirmed.fields.get(name, _ABSENT) != value}
    for name in ADDED_FIELDS:
        new = [item for item in payload.get(name) or () if item not in confirmed.added.get(name, frozenset())]
        if new:
            changes[name] = new
    if note is not None and not note_known:
        changes[NOTE] = note
    if not changes:
        return SyncDecision("unchanged", None, whole=False)
    return SyncDecision("send", {CUSTOMER_PHONE: payload[CUSTOMER_PHONE], CREATE_FLAG: False, **changes},
                        whole=False)


def confirmed_after(previous: Confirmed | None, sent: Mapping[str, Any]) -> Confirmed:
    """What is confirmed once ``sent`` (a request that succeeded) is on the lead."""
    fields = dict(previous.fields) if previous is not None else {}
    fields.update((name, value) for name, value in sent.items() if name not in _NOT_COMPARED)
    added = dict(previous.added) if previous is not None else {}
    for name in ADDED_FIELDS:
        if sent.get(name):
            added[name] = added.get(name, frozenset()) | frozenset(_names(sent[name]))
    return Confirmed(fields, added)


def _names(items: Iterable[Any]) -> Iterable[str]:
    return (str(item) for item in items)


class _Absent:
    """A field this job never sent: unequal to any value, ``None`` (a cleared field) included."""

    def __repr__(self) -> str:
        return "<absent>"


_ABSENT = _Absent()
