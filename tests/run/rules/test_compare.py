"""compare: a payload against a lead as get-lead shows it."""

from __future__ import annotations

from typing import Any

import pytest

from importer.run.rules.compare import Mismatch, compare, merge_requests, same_emails, same_value, show


def lead(**fields: Any) -> dict[str, Any]:
    """A get-lead ``data`` object like the seed's Asha Kumar, with ``fields`` replaced."""
    base: dict[str, Any] = {
        "id": 12345, "first_name": "Asha", "last_name": "Kumar", "email": ["asha@example.com"],
        "website": None,
        "business_name": "Acme Pvt Ltd", "additional_info": None, "city": "Bengaluru", "deal_value": 50000,
        "source": "website-form", "source_type": "OTHERS",
        "address": {"text": None, "additional": None, "initials": None, "latitude": None, "longitude": None},
        "phones": [{"phone": "+918000000001", "customer_id": 12345},
                   {"phone": "+918000000002", "customer_id": 12345}],
        "labels": [{"id": 17, "title": "Hot", "colour": "#ff5722", "text_colour": "#ffffff",
                    "status": "ACTIVE"}],
        "lead_stage": {"id": 9, "title": "New Lead"}, "lead_group": {"id": 3, "title": "Inbound"},
        "assignee_user": {"id": 678, "first_name": "Ravi", "last_name": "Patel"},
    }
    base.update(fields)
    return base


PHONE = {"customer_phone": "+918000000001"}


@pytest.mark.parametrize(("wanted", "stored", "same"), [
    (50000, 50000.0, True),
    (50000.0, 50000, True),
    (120000.5, 120000.5, True),
    (0.1 + 0.2, 0.3, True),
    (50000, 50001, False),
    ("50000", 50000, False),
    (True, 1, False),
    ("Asha", "Asha", True),
    ("Asha", "asha", False),
    (None, None, True),
    (None, "", False),
])
def test_same_value(wanted: Any, stored: Any, same: bool) -> None:
    assert same_value(wanted, stored) is same


@pytest.mark.parametrize(("wanted", "stored", "same"), [
    (["a@x.in"], ["a@x.in"], True),
    (["A@X.in"], ["a@x.in"], True),
    (["a@x.in", "b@x.in"], ["b@x.in", "a@x.in"], True),
    (["a@x.in", "a@x.in"], ["a@x.in"], True),
    (["a@x.in"], ["a@x.in", "b@x.in"], False),
    (["a@x.in"], None, False),
    ([], None, True),
])
def test_same_emails(wanted: list[str], stored: list[str] | None, same: bool) -> None:
    assert same_emails(wanted, stored) is same


def test_identical_payload_is_the_same() -> None:
    payload = {**PHONE, "first_name": "Asha", "deal_value": 50000.0, "email": ["ASHA@example.com"],
               "lead_stage_name": "New Lead", "lead_group_name": "Inbound", "add_labels": ["Hot"],
               "add_phones": ["+918000000002"], "create_customer_if_customer_phone_not_found": True}
    assert compare(payload, lead()).same


def test_plain_fields_name_old_and_new() -> None:
    payload = {**PHONE, "first_name": "asha", "city": "Mysuru", "deal_value": 75000, "website": None}
    result = compare(payload, lead())
    assert [m.as_change() for m in result.mismatches] == [
        'first_name: "Asha" → "asha"',
        'city: "Bengaluru" → "Mysuru"',
        "deal_value: 50000 → 75000",
    ]
    assert [m.as_difference() for m in result.mismatches][1] == 'city: expected "Mysuru", stored "Bengaluru"'


def test_null_clears_a_field() -> None:
    result = compare({**PHONE, "city": None}, lead())
    assert result.mismatches == (Mismatch("city", "set", None, "Bengaluru"),)
    assert result.mismatches[0].as_change() == 'city: "Bengaluru" → none'


def test_stage_and_group_compare_titles_case_sensitively() -> None:
    result = compare({**PHONE, "lead_stage_name": "new lead", "lead_group_name": "Inbound"}, lead())
    assert [m.as_change() for m in result.mismatches] == ['lead_stage_name: "New Lead" → "new lead"']
    cleared = compare({**PHONE, "lead_stage_name": None}, lead(lead_stage=None))
    assert cleared.same


def test_labels_added_must_be_present_and_removed_absent() -> None:
    result = compare({**PHONE, "add_labels": ["Hot", "VIP", "VIP"], "remove_labels": ["Hot", "Cold"]}, lead())
    assert [m.as_change() for m in result.mismatches] == ['labels: + "VIP"', 'labels: - "Hot"']
    assert [m.as_difference() for m in result.mismatches] == [
        'labels: "VIP" expected, not on the lead',
        'labels: "Hot" should be removed, still on the lead',
    ]
    assert not compare({**PHONE, "add_labels": ["hot"]}, lead()).same  # label titles are exact


def test_add_phones_must_be_on_the_lead() -> None:
    result = compare({**PHONE, "add_phones": ["+918000000002", "+918000000009"]}, lead())
    assert [m.as_change() for m in result.mismatches] == ['add_phones: + "+918000000009"']


def test_address_compares_only_the_keys_sent() -> None:
    stored = {"text": "12 Marina Road", "additional": "Floor 2", "initials": "MR", "latitude": 13.05,
              "longitude": 80.28}
    same = compare({**PHONE, "address": {"text": "12 Marina Road", "latitude": 13.050}}, lead(address=stored))
    assert same.same
    result = compare({**PHONE, "address": {"text": "14 Marina Road"}}, lead(address=stored))
    assert [m.as_change() for m in result.mismatches] == ['address.text: "12 Marina Road" → "14 Marina Road"']
    cleared = compare({**PHONE, "address": None}, lead(address=stored))
    assert [m.field for m in cleared.mismatches] == [f"address.{k}" for k in stored]


def test_assignee_only_someone_versus_no_one() -> None:
    same_person_unknown = compare({**PHONE, "assignee_user_phone": "+919876543211"}, lead())
    assert same_person_unknown.same
    assert same_person_unknown.notes == (
        "assignee set to +919876543211 (now Ravi Patel; get-lead shows no phone to compare)",)
    nobody = compare({**PHONE, "assignee_user_phone": "+919876543211"}, lead(assignee_user=None))
    assert [m.as_change() for m in nobody.mismatches] == ['assignee: none → "+919876543211"']
    unassign = compare({**PHONE, "assignee_user_phone": None}, lead())
    assert [m.as_change() for m in unassign.mismatches] == ['assignee: "Ravi Patel" → none']


def test_products_and_notes_become_notes() -> None:
    result = compare({**PHONE, "add_products": ["Growth Plan"], "customer_note": "Called back"}, lead())
    assert result.same
    assert result.notes == ('products cannot be read back ("Growth Plan")', "note will be added")


def test_merge_requests_joins_the_label_split() -> None:
    first = {**PHONE, "first_name": "Asha", "add_labels": ["VIP"]}
    second = {**PHONE, "remove_labels": ["Hot"]}
    assert merge_requests([first, second]) == {**first, "remove_labels": ["Hot"]}


def test_show() -> None:
    assert [show(v) for v in (None, 50000.0, 4999.5, "Asha", ["a", "b"], True)] == [
        "none", "50000", "4999.5", '"Asha"', '["a", "b"]', "True"]
