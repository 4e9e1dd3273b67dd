"""Upsert-lead rules (seed 001): turn a request body into a :class:`LeadChange`, or a :class:`Rejection`.

Every input is checked before anything is written, so a rejected request changes nothing. Checks run in
this order and the first failure answers:

 1. unknown field → 400 ``Unknown field: {name}``
 2. ``customer_phone`` missing, null or "" → 400 ``Customer phone is required to identify the record to …``
 3. JSON types of every field → 400 ``{field} must be ...`` (e.g. ``email must be an array of strings``)
 4. ``customer_phone``, then every ``add_phones`` value, not E.164 → 400 ``Invalid phone number.``
 5. ``add_labels`` and ``remove_labels`` both given (non-null) → 400
 6. ``source_type`` not one of the seven source types → 400 (open question 5: the sandbox rejects it)
 7. ``assignee_user_phone``: not E.164 → 400; no such user → 404; user not active → 400
 8. ``lead_stage_name``, then ``lead_group_name``: unknown → 404; several with that title → 400
 9. the lead: ``customer_phone`` is the primary phone of several leads → 400 ``Customer phone exists in
    multiple contact``; of none → 400 ``Customer not found.`` unless the create flag is ``true``
10. ``add_phones``: a phone of another lead → 400 ``Phone number {phone} in add_phones is already present in
    different customer (lead id {id})``

Choices where the docs are silent (reference §6):
- ``customer_phone`` matches **primary phones only** (open question 6: "identified by its primary phone").
  When the lead would be created but the phone is a *secondary* phone of another lead, the request fails: 400
  ``Customer phone {phone} is already present in different customer (lead id {id})``, so a phone never belongs
  to two leads (get-lead, which matches any phone, stays unambiguous).
- Plain fields and ``email``/``address``: omitted = unchanged, a value = set, ``null`` = cleared. ``email``
  is an array that replaces the old one. ``address`` merges key by key into the stored one.
- Unknown or DISABLED labels and products are ignored; labels already attached are not attached twice.
- ``customer_note`` is appended to the lead's timeline unless it is empty or blank.
"""

from __future__ import annotations

from typing import Any

from importer.models import ADDRESS_FIELDS, SOURCE_TYPES, UPSERT_FIELDS
from importer.phones.normalise import is_e164
from importer.sandbox.catalog import Catalog
from importer.sandbox.store import PLAIN_FIELDS, LeadChange, Store

PHONE_REQUIRED = "Customer phone is required to identify the record to update"
INVALID_PHONE = "Invalid phone number."
_ELSEWHERE = "already present in different customer"

_TYPE_NAMES = {
    "phone": "a string",
    "string": "a string",
    "bool": "a boolean",
    "number": "a number",
    "string[]": "an array of strings",
    "phone[]": "an array of strings",
    "address": "an object",
}


class Rejection(Exception):
    """The API's answer to a request it refuses: a status and the exact message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def plan_upsert(body: dict[str, Any], catalog: Catalog, store: Store) -> LeadChange:
    """Check ``body`` against the catalogue and the leads; call inside ``store.transaction()``."""
    _check_shape(body)
    phone: str = body["customer_phone"]
    add_phones: list[str] = body.get("add_phones") or []
    if not is_e164(phone) or not all(is_e164(extra) for extra in add_phones):
        raise Rejection(400, INVALID_PHONE)
    if body.get("add_labels") is not None and body.get("remove_labels") is not None:
        raise Rejection(400, "add_labels and remove_labels cannot be used in the same request")
    source_type = body.get("source_type")
    if source_type is not None and source_type not in SOURCE_TYPES:
        raise Rejection(400, f"source_type must be one of {', '.join(SOURCE_TYPES)}")
    columns = {name: body[name] for name in (*PLAIN_FIELDS, "email") if name in body}
    if "assignee_user_phone" in body:
        columns["assignee_user_id"] = _assignee_id(catalog, body["assignee_user_phone"])
    if "lead_stage_name" in body:
        columns["lead_stage_id"] = _named_id(catalog, "lead-stage", body["lead_stage_name"])
    if "lead_group_name" in body:
        columns["lead_group_id"] = _named_id(catalog, "lead-group", body["lead_group_name"])
    lead_id = _resolve_lead(store, phone, body.get("create_customer_if_customer_phone_not_found") is True)
    if "address" in body:
        columns["address"] = _merged_address(store, lead_id, body["address"])
    note = body.get("customer_note")
    return LeadChange(
        customer_phone=phone,
        lead_id=lead_id,
        columns=columns,
        new_phones=_new_phones(store, lead_id, phone, add_phones),
        add_label_ids=_active_ids(catalog, "label", body.get("add_labels")),
        remove_label_ids=_active_ids(catalog, "label", body.get("remove_labels")),
        add_product_ids=_active_ids(catalog, "product", body.get("add_products")),
        note=note if note and note.strip() else None,
    )


def _check_shape(body: dict[str, Any]) -> None:
    for name in body:
        if name not in UPSERT_FIELDS:
            raise Rejection(400, f"Unknown field: {name}")
    if body.get("customer_phone") in (None, ""):
        raise Rejection(400, PHONE_REQUIRED)
    for name, value in body.items():
        kind = UPSERT_FIELDS[name]
        if value is not None and not _has_type(kind, value):
            raise Rejection(400, f"{name} must be {_TYPE_NAMES[kind]}")
    address = body.get("address")
    if isinstance(address, dict):
        for key, value in address.items():
            if key not in ADDRESS_FIELDS:
                raise Rejection(400, f"Unknown field: address.{key}")
            if value is not None and not _has_type(ADDRESS_FIELDS[key], value):
                raise Rejection(400, f"address.{key} must be {_TYPE_NAMES[ADDRESS_FIELDS[key]]}")


def _has_type(kind: str, value: Any) -> bool:
    if kind in ("phone", "string"):
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind in ("string[]", "phone[]"):
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, dict)


def _assignee_id(catalog: Catalog, phone: str | None) -> int | None:
    if phone is None:
        return None
    if not is_e164(phone):
        raise Rejection(400, "Assignee user's phone is invalid")
    user = catalog.users_by_phone.get(phone)
    if user is None:
        raise Rejection(404, "Assignee user not found")
    if not user.active:
        raise Rejection(400, "Assignee user is not part of your team")
    return user.id


def _named_id(catalog: Catalog, endpoint: str, title: str | None) -> int | None:
    if title is None:
        return None
    what, plural = ("stage", "stages") if endpoint == "lead-stage" else ("group", "groups")
    rows = catalog.active_by_title(endpoint, title)
    if not rows:
        raise Rejection(404, f"Lead {what} name not found")
    if len(rows) > 1:
        raise Rejection(400, f"Multiple lead {plural} found with this name. Provide unique")
    return int(rows[0]["id"])


def _resolve_lead(store: Store, phone: str, create: bool) -> int | None:
    """The lead whose primary phone is ``phone``; None when a new lead is to be created."""
    matches = store.leads_with_primary(phone)
    if len(matches) > 1:
        raise Rejection(400, "Customer phone exists in multiple contact")
    if matches:
        return matches[0]
    if not create:
        raise Rejection(400, "Customer not found.")
    owners = store.owners(phone)
    if owners:
        raise Rejection(400, f"Customer phone {phone} is {_ELSEWHERE} (lead id {owners[0]})")
    return None


def _new_phones(store: Store, lead_id: int | None, phone: str, add_phones: list[str]) -> list[str]:
    """``add_phones`` without repeats and without phones the lead has; another lead's phone fails."""
    known = set(store.phones(lead_id)) if lead_id is not None else {phone}
    fresh: list[str] = []
    for extra in dict.fromkeys(add_phones):
        if extra in known:
            continue
        others = [owner for owner in store.owners(extra) if owner != lead_id]
        if others:
            raise Rejection(
                400,
                f"Phone number {extra} in add_phones is {_ELSEWHERE} (lead id {others[0]})",
            )
        fresh.append(extra)
    return fresh


def _merged_address(store: Store, lead_id: int | None, address: dict[str, Any] | None) -> Any:
    if address is None:
        return None
    current = store.address(lead_id) if lead_id is not None else {}
    return {**current, **address}


def _active_ids(catalog: Catalog, endpoint: str, titles: list[str] | None) -> list[int]:
    ids: list[int] = []
    for title in dict.fromkeys(titles or []):
        ids.extend(int(row["id"]) for row in catalog.active_by_title(endpoint, title))
    return ids
