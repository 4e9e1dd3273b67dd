"""Field write policies: which policy each mapped field takes, from its own ``policy:`` or ``defaults.policy``.

    overwrite    the row's value is written (the default: every mapping without policies keeps its meaning)
    fill_empty   written only where the lead has no value (or the row creates the lead)
    create_only  written only to a lead the row creates; an existing lead keeps what it has

Labels, products and extra phones are only ever added, whatever the policy; ``create_only`` adds them (and a note)
only to a lead the row creates. What each policy does to a lead is decided when the lead is read
(:mod:`importer.run.rules.policy`); here the mapping is only checked: a policy that cannot mean anything on a field is
a mapping error, and ``defaults.policy`` applies to the fields it means something for.
"""

from __future__ import annotations

from importer.fields import CREATE_FLAG, CUSTOMER_PHONE, NOTE

__all__ = ["FILL_FIELDS", "POLICIES", "field_on_invalid", "field_policy"]

POLICIES = ("overwrite", "fill_empty", "create_only")
#: Fields whose value replaces the lead's: what ``fill_empty`` applies to (``address.*`` key by key).
FILL_FIELDS = frozenset({
    "first_name", "last_name", "email", "website", "city", "business_name", "additional_info", "deal_value",
    "source", "source_type", "assignee_user_phone", "lead_stage_name", "lead_group_name",
})
_ADDED = frozenset({"add_labels", "add_products", "add_phones"})


def field_policy(name: str, own: str | None, default: str) -> str:
    """The policy of field ``name`` (``address.text`` for an address part): its ``own`` if given, else the
    mapping's ``default`` where that means something for the field, else overwrite. ValueError (the message
    for the mapping error) when ``own`` cannot apply to the field."""
    if own is not None:
        problem = _problem(name, own)
        if problem:
            raise ValueError(problem)
        return own
    if default == "fill_empty":
        return default if _fills(name) else "overwrite"
    if default == "create_only":
        return "overwrite" if name in (CUSTOMER_PHONE, CREATE_FLAG) else default
    return "overwrite"


def _fills(name: str) -> bool:
    return name in FILL_FIELDS or name.startswith("address.")


def _problem(name: str, policy: str) -> str | None:
    if policy == "overwrite":
        return None
    if name in (CUSTOMER_PHONE, CREATE_FLAG):
        return f"{name} takes no policy: it says which lead the row is for"
    if name == "remove_labels":
        return "remove_labels takes no policy: it only ever changes a lead that exists"
    if policy == "fill_empty" and name in _ADDED:
        return (f"{name} is only ever added, never overwritten: fill_empty does not apply "
                "(create_only adds them only to a lead the row creates)")
    if policy == "fill_empty" and name == NOTE:
        return ("a note is only ever added and cannot be read back: fill_empty does not apply "
                "(create_only adds it only to a lead the row creates)")
    return None


def field_on_invalid(name: str, own: str | None, strict: bool, default: str | None) -> str:
    """``drop`` or ``reject``, what a bad value of field ``name`` does: its ``own`` ``on_invalid``; else reject for
    a ``strict`` field; else the mapping's ``default``; else drop. ``customer_phone`` identifies the lead: it always
    rejects (ValueError, the message for the mapping error, when told to drop)."""
    if name == "customer_phone":
        if own == "drop":
            raise ValueError("customer_phone identifies the lead: a row without a valid one is never sent (expected "
                             "reject)")
        return "reject"
    if own is not None:
        return own
    return "reject" if strict else default or "drop"
