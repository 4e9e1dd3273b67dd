"""apply_policies: what a row sends to a lead under its field policies, and what the lead keeps."""

from __future__ import annotations

from typing import Any

from importer.run.rules.policy import apply_policies, sent_record

PHONE = "+919812345678"
KEY = {"customer_phone": PHONE, "create_customer_if_customer_phone_not_found": True}


def lead(**fields: Any) -> dict[str, Any]:
    return {"id": 7, "phones": [{"phone": PHONE, "customer_id": 7}], "labels": [], "lead_stage": None,
            "lead_group": None, "assignee_user": None, "address": None, **fields}


FILLED = lead(first_name="Asha", city="Pune", email=["a@x.in"], lead_stage={"id": 1, "title": "New Lead"},
              assignee_user={"id": 3, "first_name": "Ravi", "last_name": None},
              address={"text": "MG Road", "latitude": None}, labels=[{"id": 1, "title": "Hot"}],
              phones=[{"phone": PHONE, "customer_id": 7}, {"phone": "+919812345670", "customer_id": 7}])
EMPTY = lead(first_name="", city=None, email=[])
ROW = {**KEY, "first_name": "Zoë", "city": "Goa", "email": ["z@x.in"], "lead_stage_name": "Won",
       "assignee_user_phone": "+919000000001", "address": {"text": "Beach Rd", "latitude": 15.5}}


def test_overwrite_sends_every_value_and_records_what_it_replaces() -> None:
    applied = apply_policies([ROW], FILLED, {})
    assert applied.requests == (ROW,)
    assert applied.kept == {}
    assert applied.before == {"first_name": "Asha", "city": "Pune", "email": ["a@x.in"],
                              "lead_stage_name": "New Lead",
                              "assignee_user_phone": {"id": 3, "first_name": "Ravi", "last_name": None},
                              "address": {"text": "MG Road", "latitude": None}}


def test_fill_empty_keeps_filled_values_and_fills_empty_ones() -> None:
    policies = {name: "fill_empty" for name in ("first_name", "city", "email", "lead_stage_name",
                                                "assignee_user_phone", "address.text", "address.latitude")}
    filled = apply_policies([ROW], FILLED, policies)
    assert filled.requests == ({**KEY, "address": {"latitude": 15.5}},)
    assert filled.kept == {"first_name": "fill_empty", "city": "fill_empty", "email": "fill_empty",
                           "lead_stage_name": "fill_empty", "assignee_user_phone": "fill_empty",
                           "address.text": "fill_empty"}
    assert filled.sent == {"address": {"latitude": 15.5}} and filled.before == {"address": {"latitude": None}}
    empty = apply_policies([ROW], EMPTY, policies)
    assert empty.requests == (ROW,) and empty.kept == {}
    assert empty.before["first_name"] is None and empty.before["email"] is None


def test_create_only_leaves_an_existing_lead_alone_and_fills_a_new_one() -> None:
    policies = {"city": "create_only", "first_name": "create_only"}
    assert apply_policies([ROW], EMPTY, policies).kept == {"city": "create_only", "first_name": "create_only"}
    assert "city" not in apply_policies([ROW], EMPTY, policies).requests[0]
    created = apply_policies([ROW], None, policies)
    assert created.requests == (ROW,) and created.kept == {}
    assert created.before == {name: None for name in ROW if name not in KEY} | {
        "address": {"text": None, "latitude": None}}


def test_a_row_with_nothing_left_for_an_existing_lead_sends_nothing() -> None:
    applied = apply_policies([{**KEY, "city": "Goa"}], FILLED, {"city": "fill_empty"})
    assert applied.requests == () and applied.kept == {"city": "fill_empty"} and applied.sent == {}


def test_a_new_lead_is_created_even_with_nothing_but_its_phone() -> None:
    applied = apply_policies([{**KEY, "city": "Goa"}], None, {"city": "fill_empty"})
    assert applied.requests == ({**KEY, "city": "Goa"},)


def test_labels_and_phones_are_only_added_and_never_counted_as_kept() -> None:
    requests = [{**KEY, "add_labels": ["Hot", "New"], "add_phones": ["+919812345670", "+919812345671"],
                 "add_products": ["Starter Plan"]},
                {"customer_phone": PHONE, "remove_labels": ["Hot", "Cold"]}]
    applied = apply_policies(requests, FILLED, {"add_labels": "overwrite"})
    assert applied.requests == (
        {**KEY, "add_labels": ["New"], "add_phones": ["+919812345671"], "add_products": ["Starter Plan"]},
        {"customer_phone": PHONE, "remove_labels": ["Hot"]})
    assert applied.kept == {}
    assert applied.sent == {"add_labels": ["New"], "add_phones": ["+919812345671"],
                            "add_products": ["Starter Plan"], "remove_labels": ["Hot"]}
    assert applied.before == {}


def test_labels_the_lead_has_already_leave_no_request() -> None:
    applied = apply_policies([{**KEY, "add_labels": ["Hot"]}], FILLED, {})
    assert applied.requests == ()


def test_create_only_labels_and_note_go_to_new_leads_only() -> None:
    row = {**KEY, "add_labels": ["Imported"], "customer_note": "from the fair"}
    policies = {"add_labels": "create_only", "customer_note": "create_only"}
    assert apply_policies([row], FILLED, policies).kept == policies
    created = apply_policies([row], None, policies)
    assert created.requests == (row,) and created.sent == {"add_labels": ["Imported"], "customer_note": True}


def test_a_phone_that_is_another_leads_extra_phone_goes_as_it_is() -> None:
    other = lead(phones=[{"phone": "+919000000009", "customer_id": 9}, {"phone": PHONE, "customer_id": 9}],
                 city="Pune")
    applied = apply_policies([{**KEY, "city": "Goa"}], other, {"city": "create_only"})
    assert applied.requests == ({**KEY, "city": "Goa"},) and applied.kept == {}


def test_sent_record_hides_the_note_and_the_key() -> None:
    assert sent_record([{**KEY, "customer_note": "secret text", "city": "Goa"}]) == {
        "customer_note": True, "city": "Goa"}


def test_a_value_the_lead_holds_already_is_not_counted_as_kept() -> None:
    row = {**KEY, "city": "Pune", "email": ["A@X.IN"], "first_name": "Asha", "deal_value": 5.0,
           "address": {"text": "MG Road"}}
    policies = {"city": "fill_empty", "email": "fill_empty", "first_name": "create_only", "deal_value": "create_only",
                "address.text": "fill_empty"}
    applied = apply_policies([row], {**FILLED, "deal_value": 5}, policies)
    assert applied.requests == () and applied.kept == {}
