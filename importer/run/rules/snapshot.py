"""What a lead holds of the fields a row's requests touch: the values a plan reads, and apply checks again.

Pure functions over a payload (a row's requests merged into one) and a lead as get-lead returns it. The values are
keyed by the request's field names, so they read like the request: ``{"city": "Pune", "lead_stage_name":
"Qualified", "add_labels": ["Hot"]}`` — for a list the request adds to (``add_labels``, ``remove_labels``,
``add_phones``) the items of the request the lead already has; for ``address`` the keys the request sets; for
``assignee_user_phone`` the lead's assignee as get-lead names them (``{"id", "first_name", "last_name"}``: it
shows no phone) or None. ``add_products`` and ``customer_note`` cannot be read back: they have no value.
"""

from __future__ import annotations

from typing import Any

from importer.run.rules.compare import PLAIN_FIELDS, same_emails, same_value

__all__ = ["changed_fields", "lead_values", "same_field"]

_ADDRESS_KEYS = ("text", "additional", "initials", "latitude", "longitude")
_NAMED = {"lead_stage_name": "lead_stage", "lead_group_name": "lead_group"}
Lead = dict[str, Any]


def lead_values(payload: dict[str, Any], lead: Lead) -> dict[str, Any]:
    """The lead's values of every field ``payload`` sets, in payload order (see the module's docstring)."""
    values: dict[str, Any] = {}
    for name, wanted in payload.items():
        if name in PLAIN_FIELDS or name == "email":
            values[name] = lead.get(name)
        elif name == "address":
            stored = lead.get("address") or {}
            keys = wanted if isinstance(wanted, dict) else dict.fromkeys(_ADDRESS_KEYS)
            values[name] = {key: stored.get(key) for key in keys}
        elif name in _NAMED:
            ref = lead.get(_NAMED[name])
            values[name] = ref.get("title") if isinstance(ref, dict) else None
        elif name in ("add_labels", "remove_labels"):
            on_lead = {label.get("title") for label in lead.get("labels") or [] if isinstance(label, dict)}
            values[name] = [title for title in dict.fromkeys(wanted or []) if title in on_lead]
        elif name == "add_phones":
            phones = {entry.get("phone") for entry in lead.get("phones") or [] if isinstance(entry, dict)}
            values[name] = [phone for phone in dict.fromkeys(wanted or []) if phone in phones]
        elif name == "assignee_user_phone":
            user = lead.get("assignee_user")
            values[name] = ({key: user.get(key) for key in ("id", "first_name", "last_name")}
                            if isinstance(user, dict) else None)
    return values


def changed_fields(read: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """The fields of ``read`` whose value ``now`` differs (numbers as numbers, e-mails ignoring case and order)."""
    return [name for name, value in read.items() if not same_field(name, value, now.get(name))]


def same_field(name: str, read: Any, now: Any) -> bool:
    """Two values of the upsert field ``name`` are the same (numbers as numbers, e-mails ignoring case and order,
    an address key by key, a list as a set)."""
    if name == "email":
        return same_emails(read, now)
    if isinstance(read, dict) and isinstance(now, dict):
        return read.keys() == now.keys() and all(same_value(read[key], now[key]) for key in read)
    if isinstance(read, list) and isinstance(now, list):
        return sorted(map(str, read)) == sorted(map(str, now))
    return same_value(read, now)
