"""The names the Superfone API gives the fields of an upsert that the importer itself acts on, declared once.
(:data:`importer.models.UPSERT_FIELDS` lists every field with its type.)"""

from __future__ import annotations

__all__ = ["ADD_LABELS", "ADD_PHONES", "ADD_PRODUCTS", "ADDRESS", "CREATE_FLAG", "CUSTOMER_PHONE", "LEAD_STAGE",
           "NOTE", "REMOVE_LABELS"]

CUSTOMER_PHONE = "customer_phone"
#: Create the lead when no lead has the customer phone (the mapping's ``defaults.create_if_missing``).
CREATE_FLAG = "create_customer_if_customer_phone_not_found"
#: The lead's note: added to its timeline, never twice.
NOTE = "customer_note"
ADD_LABELS = "add_labels"
REMOVE_LABELS = "remove_labels"
ADD_PHONES = "add_phones"
ADD_PRODUCTS = "add_products"
LEAD_STAGE = "lead_stage_name"
ADDRESS = "address"
