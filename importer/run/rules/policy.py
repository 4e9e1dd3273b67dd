"""The field write policies, applied to one row's requests once its lead has been read. Pure: no I/O.

Given the requests a row would send (whole, or only what changed since the job's last sync), the lead as get-lead
returned it just before (None: no lead has the customer phone) and the mapping's policies:

- ``create_only``: an existing lead gets none of the field; ``fill_empty``: it gets the field only where its value
  is empty (null, blank, no e-mail, no stage…; ``address`` key by key). A value left out this way is **kept** —
  counted per field — unless the lead holds that very value already. A lead the row creates gets everything.
- Labels, products and extra phones are only ever added: the lead is sent only the labels and phones it lacks
  (products cannot be read back, so all of them), and ``remove_labels`` only the labels it has. Those are not
  counted as kept: nothing of the lead's was protected.
- A request left with nothing to change on an existing lead is not sent; a row with no request left is not sent
  at all (its lead already holds, or keeps, everything).
- When the customer phone is not the primary phone of the lead get-lead finds (another lead's extra phone), the
  upsert cannot update that lead: the requests go as they are and the API answers.

The result also says what the write will change: ``sent`` and ``before``, the before-image's two halves
(:mod:`importer.report.before`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from importer.fields import CREATE_FLAG, CUSTOMER_PHONE, NOTE
from importer.mapping.policies import FILL_FIELDS
from importer.report.before import is_empty, lead_labels, lead_phones, lead_values

__all__ = ["Applied", "apply_policies", "dry_run_lines", "kept_lines", "sent_record"]

_KEYS = (CUSTOMER_PHONE, CREATE_FLAG)
_ADDED = ("add_labels", "add_products", "add_phones")


@dataclass(frozen=True, slots=True)
class Applied:
    """A row's requests after its policies: what to send, which fields were kept (field → policy), and the
    before-image's ``sent`` and ``before``."""

    requests: tuple[dict[str, Any], ...]
    kept: dict[str, str] = field(default_factory=dict)
    sent: dict[str, Any] = field(default_factory=dict)
    before: dict[str, Any] = field(default_factory=dict)


def apply_policies(requests: Sequence[Mapping[str, Any]], lead: Mapping[str, Any] | None,
                   policies: Mapping[str, str]) -> Applied:
    """The requests to send to ``lead`` (None: the row creates it) under ``policies`` (field → policy)."""
    phone = str(requests[0]["customer_phone"])
    if lead is not None and (lead_phones(lead) or [phone])[0] != phone:
        sent = sent_record(requests)
        return Applied(tuple(dict(request) for request in requests), {}, sent, lead_values(lead, sent))
    kept: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for request in requests:
        filtered = _filter(request, lead, policies, kept)
        if any(name not in _KEYS for name in filtered) or (lead is None and not out):
            out.append(filtered)
    sent = sent_record(out)
    return Applied(tuple(out), kept, sent, lead_values(lead, sent))


def sent_record(requests: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The before-image's ``sent``: the requests' fields merged, without the lead's key, the note as ``true``."""
    sent: dict[str, Any] = {}
    for request in requests:
        for name, value in request.items():
            if name in _KEYS:
                continue
            sent[name] = True if name == NOTE else value
    return sent


def _filter(request: Mapping[str, Any], lead: Mapping[str, Any] | None, policies: Mapping[str, str],
            kept: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in request.items():
        if name in _KEYS:
            out[name] = value
        elif name == "address" and isinstance(value, Mapping):
            address = _address(value, lead, policies, kept)
            if address:
                out[name] = address
        elif lead is None:
            if name != "remove_labels":  # a lead being created has no label to remove
                out[name] = value
        elif (policy := policies.get(name, "overwrite")) != "overwrite" and _keeps(policy, name, lead):
            if not _same(value, lead_values(lead, {name: None}).get(name)):
                kept[name] = policy
        elif name in _ADDED or name == "remove_labels":
            items = _added(name, value, lead)
            if items:
                out[name] = items
        else:
            out[name] = value
    return out


def _keeps(policy: str, name: str, lead: Mapping[str, Any]) -> bool:
    """Whether an existing ``lead`` keeps its value of ``name`` under ``policy``."""
    if policy == "create_only":
        return True
    current = lead_values(lead, {name: None}).get(name)
    return name in FILL_FIELDS and not is_empty(current)


def _address(value: Mapping[str, Any], lead: Mapping[str, Any] | None, policies: Mapping[str, str],
             kept: dict[str, str]) -> dict[str, Any]:
    if lead is None:
        return dict(value)
    stored = lead.get("address") or {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"address.{key}"
        policy = policies.get(name, "overwrite")
        if policy == "create_only" or (policy == "fill_empty" and not is_empty(stored.get(key))):
            if not _same(item, stored.get(key)):
                kept[name] = policy
        else:
            out[key] = item
    return out


def _same(wanted: Any, current: Any) -> bool:
    """Whether the lead holds ``wanted`` already (then leaving it out keeps nothing): numbers as numbers, e-mail
    lists as sets ignoring case, empty as empty."""
    if is_empty(wanted) or is_empty(current):
        return is_empty(wanted) and is_empty(current)
    if isinstance(wanted, int | float) and isinstance(current, int | float):
        return float(wanted) == float(current)
    if isinstance(wanted, list) and isinstance(current, list):
        return {str(item).casefold() for item in wanted} == {str(item).casefold() for item in current}
    return bool(wanted == current)


def _added(name: str, value: Any, lead: Mapping[str, Any]) -> list[Any]:
    items = list(value or ())
    if name == "add_labels":
        have = set(lead_labels(lead))
        return [item for item in items if item not in have]
    if name == "remove_labels":
        have = set(lead_labels(lead))
        return [item for item in items if item in have]
    if name == "add_phones":
        have = set(lead_phones(lead))
        return [item for item in items if item not in have]
    return items  # products cannot be read back: all of them are sent



# --- what the terminal says ----------------------------------------------------------------------------------


def kept_lines(summary: Mapping[str, Any], plan: bool = False) -> list[str]:
    """The closing line about the values field policies kept (a plan: would keep), when the mapping has any."""
    policies = summary.get("policies") or {}
    if not policies:
        return []
    kept = summary.get("kept") or {}
    verb = "would keep" if plan else "kept"
    if not kept:
        return [f"policies {verb} nothing: no lead had a value its policy protects"]
    counts = ", ".join(f"{name} ×{count} ({policies.get(name, '?')})" for name, count in kept.items())
    return [f"{verb} by policy: {counts}: the leads' own values {'would stay' if plan else 'were not overwritten'}"]


def dry_run_lines(summary: Mapping[str, Any]) -> list[str]:
    """What a dry run says about policies: it reads no lead, so it cannot apply them."""
    policies = summary.get("policies") or {}
    if not policies:
        return []
    named = ", ".join(f"{name} ({policy})" for name, policy in policies.items())
    return [f"policies: {named} are applied per lead when sent; a dry run reads no lead, so payloads.jsonl shows "
            "these fields as the sheet has them (run --plan shows what each lead would keep)"]
