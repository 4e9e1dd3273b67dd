"""Sandbox contract: POST /enterprise/api/lead (seed 001).

Every row of the seed's error table with its exact status and message, the add_phones rules, null clearing,
unknown names ignored, the notes timeline, and "a rejected request changes nothing".
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest
import requests

if TYPE_CHECKING:
    from conftest import SandboxApi

ASHA = "+918000000001"  # seed lead 12345, secondary +918000000002
MEERA = "+919000000002"  # seed lead 12348, secondary +919000000003
SHARED = "+919000000001"  # primary phone of seed leads 12346 and 12347
NEW = "+919123456789"


def lead(api: SandboxApi, phone: str) -> dict[str, Any] | None:
    return api.server.lead(phone)


def test_success_body_is_exact(api: SandboxApi) -> None:
    response = api.upsert({"customer_phone": ASHA, "city": "Mysuru"})
    assert response.status_code == 200
    assert response.json() == {"data": None, "message": "success"}
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "Customer phone is required to identify the record to update"),
        ({"first_name": "A"}, 400, "Customer phone is required to identify the record to update"),
        ({"customer_phone": None}, 400, "Customer phone is required to identify the record to update"),
        ({"customer_phone": "98765 43210"}, 400, "Invalid phone number."),
        ({"customer_phone": "+91800"}, 400, "Invalid phone number."),
        ({"customer_phone": ASHA, "add_phones": ["+918000000009", "12345"]}, 400, "Invalid phone number."),
        ({"customer_phone": NEW}, 400, "Customer not found."),
        (
            {"customer_phone": NEW, "create_customer_if_customer_phone_not_found": False},
            400,
            "Customer not found.",
        ),
        ({"customer_phone": SHARED}, 400, "Customer phone exists in multiple contact"),
        (
            {"customer_phone": ASHA, "add_labels": ["Hot"], "remove_labels": ["Cold"]},
            400,
            "add_labels and remove_labels cannot be used in the same request",
        ),
        (
            {"customer_phone": ASHA, "assignee_user_phone": "9876543210"},
            400,
            "Assignee user's phone is invalid",
        ),
        ({"customer_phone": ASHA, "assignee_user_phone": "+919876543299"}, 404, "Assignee user not found"),
        (
            {"customer_phone": ASHA, "assignee_user_phone": "+919876543213"},
            400,
            "Assignee user is not part of your team",
        ),
        ({"customer_phone": ASHA, "lead_stage_name": "Negotiation"}, 404, "Lead stage name not found"),
        ({"customer_phone": ASHA, "lead_stage_name": "new lead"}, 404, "Lead stage name not found"),
        (
            {"customer_phone": ASHA, "lead_stage_name": "Follow-up"},
            400,
            "Multiple lead stages found with this name. Provide unique",
        ),
        ({"customer_phone": ASHA, "lead_group_name": "Webinar"}, 404, "Lead group name not found"),
        (
            {"customer_phone": ASHA, "lead_group_name": "Events"},
            400,
            "Multiple lead groups found with this name. Provide unique",
        ),
    ],
)
def test_error_table(api: SandboxApi, body: dict[str, Any], status: int, message: str) -> None:
    response = api.upsert(body)
    assert (response.status_code, response.json()) == (status, {"message": message})


def test_add_phone_of_another_lead_fails_with_documented_prefix(api: SandboxApi) -> None:
    response = api.upsert({"customer_phone": ASHA, "add_phones": ["+918000000005", "+919000000003"]})
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("Phone number +919000000003 in add_phones is already present in different customer")
    assert "12348" in message
    assert lead(api, ASHA)["phones"] == ["+918000000001", "+918000000002"]  # nothing applied


def test_rejected_request_changes_nothing(api: SandboxApi) -> None:
    before = api.server.leads()
    body = {
        "customer_phone": ASHA,
        "first_name": "Changed",
        "add_labels": ["VIP"],
        "add_phones": ["+918000000007"],
        "customer_note": "never written",
        "lead_group_name": "Events",
    }
    assert api.upsert(body).status_code == 400
    assert api.server.leads() == before


def test_create_new_lead_with_every_field(api: SandboxApi) -> None:
    body = {
        "customer_phone": NEW,
        "create_customer_if_customer_phone_not_found": True,
        "first_name": "Kiran",
        "last_name": "Rao",
        "email": ["kiran@example.com", "k.rao@example.com"],
        "website": "https://rao.example",
        "address": {"text": "1 MG Road", "latitude": 12.97},
        "city": "Bengaluru",
        "business_name": "Rao & Co",
        "additional_info": "met at expo",
        "deal_value": 1234.5,
        "source": "expo",
        "source_type": "CSV_UPLOAD",
        "assignee_user_phone": "+919876543211",
        "lead_stage_name": "Qualified",
        "lead_group_name": "Partners",
        "add_labels": ["Warm", "Referral"],
        "add_products": ["Growth Plan", "Onboarding Package"],
        "add_phones": ["+918000000011"],
        "customer_note": "Wants a demo.",
    }
    assert api.upsert(body).status_code == 200
    created = api.get_lead(NEW).json()["data"]
    assert created["id"] > 12348
    assert [phone["phone"] for phone in created["phones"]] == [NEW, "+918000000011"]
    assert {phone["customer_id"] for phone in created["phones"]} == {created["id"]}
    assert created["status"] == "ACTIVE"
    assert created["address"] == {
        "text": "1 MG Road",
        "additional": None,
        "initials": None,
        "latitude": 12.97,
        "longitude": None,
    }
    assert created["deal_value"] == 1234.5
    assert [label["title"] for label in created["labels"]] == ["Warm", "Referral"]
    assert created["lead_stage"]["title"] == "Qualified"
    assert created["lead_group"]["title"] == "Partners"
    assert created["assignee_user"] == {"id": 679, "first_name": "Priya", "last_name": "Sharma"}
    assert created["created_at"].endswith("Z") and created["updated_at"] is None
    inspected = lead(api, NEW)
    assert inspected["products"] == ["Growth Plan", "Onboarding Package"]
    assert inspected["notes"] == ["Wants a demo."]


class TestAddPhones:
    def test_appended_in_order_after_existing(self, api: SandboxApi) -> None:
        response = api.upsert({"customer_phone": ASHA, "add_phones": ["+918000000003", "+918000000004"]})
        assert response.status_code == 200
        assert lead(api, ASHA)["phones"] == [ASHA, "+918000000002", "+918000000003", "+918000000004"]

    def test_duplicates_in_array_collapse(self, api: SandboxApi) -> None:
        api.upsert({"customer_phone": ASHA, "add_phones": ["+918000000003", "+918000000003"]})
        assert lead(api, ASHA)["phones"] == [ASHA, "+918000000002", "+918000000003"]

    def test_phone_already_on_lead_is_skipped(self, api: SandboxApi) -> None:
        response = api.upsert({"customer_phone": ASHA, "add_phones": ["+918000000002", ASHA, "+918000000003"]})
        assert response.status_code == 200
        assert lead(api, ASHA)["phones"] == [ASHA, "+918000000002", "+918000000003"]

    def test_new_lead_starts_with_customer_phone(self, api: SandboxApi) -> None:
        body = {
            "customer_phone": NEW,
            "create_customer_if_customer_phone_not_found": True,
            "add_phones": [NEW, "+918000000021", "+918000000022"],
        }
        assert api.upsert(body).status_code == 200
        assert lead(api, NEW)["phones"] == [NEW, "+918000000021", "+918000000022"]

    def test_secondary_phone_of_another_lead_fails_for_a_new_lead(self, api: SandboxApi) -> None:
        body = {
            "customer_phone": NEW,
            "create_customer_if_customer_phone_not_found": True,
            "add_phones": [ASHA],
        }
        response = api.upsert(body)
        assert response.status_code == 400
        assert response.json()["message"].startswith(f"Phone number {ASHA} in add_phones is already present")
        assert lead(api, NEW) is None

    def test_invalid_entry_fails_whole_request(self, api: SandboxApi) -> None:
        response = api.upsert({"customer_phone": ASHA, "add_phones": ["+918000000003", "+1555"]})
        assert response.json() == {"message": "Invalid phone number."}
        assert lead(api, ASHA)["phones"] == [ASHA, "+918000000002"]


class TestPrimaryPhoneMatching:
    """Open question 6: upsert matches primary phones only; get-lead matches any phone."""

    def test_secondary_phone_is_not_found_without_create(self, api: SandboxApi) -> None:
        assert api.upsert({"customer_phone": "+918000000002"}).json() == {"message": "Customer not found."}

    def test_secondary_phone_is_not_reused_by_create(self, api: SandboxApi) -> None:
        body = {"customer_phone": "+918000000002", "create_customer_if_customer_phone_not_found": True}
        response = api.upsert(body)
        assert response.status_code == 400
        assert "already present in different customer" in response.json()["message"]
        assert len(api.server.leads()) == 4

    def test_shared_primary_is_found_by_get_lead(self, api: SandboxApi) -> None:
        assert api.get_lead(SHARED).json()["data"]["id"] == 12346


class TestFieldSemantics:
    def test_null_clears_assignee_stage_and_group(self, api: SandboxApi) -> None:
        body = {
            "customer_phone": ASHA,
            "assignee_user_phone": None,
            "lead_stage_name": None,
            "lead_group_name": None,
        }
        assert api.upsert(body).status_code == 200
        data = api.get_lead(ASHA).json()["data"]
        assert (data["assignee_user_id"], data["lead_stage_id"], data["lead_group_id"]) == (None, None, None)
        assert (data["assignee_user"], data["lead_stage"], data["lead_group"]) == (None, None, None)

    def test_omitted_fields_are_unchanged(self, api: SandboxApi) -> None:
        before = api.get_lead(ASHA).json()["data"]
        assert api.upsert({"customer_phone": ASHA}).status_code == 200
        after = api.get_lead(ASHA).json()["data"]
        assert after["updated_at"] != before["updated_at"]
        assert {**after, "updated_at": None} == {**before, "updated_at": None}

    def test_plain_values_are_set_and_null_clears(self, api: SandboxApi) -> None:
        api.upsert({"customer_phone": ASHA, "city": "Mysuru", "business_name": None, "deal_value": 75000})
        data = api.get_lead(ASHA).json()["data"]
        assert (data["city"], data["business_name"], data["deal_value"]) == ("Mysuru", None, 75000)

    def test_email_replaces(self, api: SandboxApi) -> None:
        api.upsert({"customer_phone": ASHA, "email": ["new@example.com"]})
        assert api.get_lead(ASHA).json()["data"]["email"] == ["new@example.com"]

    def test_address_merges_key_by_key(self, api: SandboxApi) -> None:
        api.upsert({"customer_phone": MEERA, "address": {"text": "14 Marina Road", "latitude": None}})
        address = api.get_lead(MEERA).json()["data"]["address"]
        assert address == {
            "text": "14 Marina Road",
            "additional": "Floor 2",
            "initials": "MR",
            "latitude": None,
            "longitude": 80.28,
        }

    def test_unknown_and_disabled_labels_and_products_are_ignored(self, api: SandboxApi) -> None:
        body = {
            "customer_phone": ASHA,
            "add_labels": ["Nope", "VIP", "Archived", "hot", "Hot"],
            "add_products": ["Mystery Box", "Legacy Plan", "Enterprise Plan"],
        }
        assert api.upsert(body).status_code == 200
        inspected = lead(api, ASHA)
        assert inspected["labels"] == ["Hot", "VIP"]
        assert inspected["products"] == ["Starter Plan", "Enterprise Plan"]

    def test_remove_labels(self, api: SandboxApi) -> None:
        assert api.upsert({"customer_phone": MEERA, "remove_labels": ["VIP", "Unknown"]}).status_code == 200
        assert lead(api, MEERA)["labels"] == ["Referral"]

    def test_empty_label_lists_are_still_both_given(self, api: SandboxApi) -> None:
        response = api.upsert({"customer_phone": ASHA, "add_labels": [], "remove_labels": []})
        assert response.status_code == 400

    def test_unknown_source_type_is_rejected(self, api: SandboxApi) -> None:
        response = api.upsert({"customer_phone": ASHA, "source_type": "WEBSITE"})
        assert response.status_code == 400
        assert response.json()["message"].startswith("source_type must be one of CSV_UPLOAD")


class TestNotes:
    def test_each_accepted_note_is_appended_in_order(self, api: SandboxApi) -> None:
        for text in ("first", "second", "first"):
            assert api.upsert({"customer_phone": ASHA, "customer_note": text}).status_code == 200
        assert lead(api, ASHA)["notes"] == [
            "First contact through the website form.",
            "first",
            "second",
            "first",
        ]

    def test_notes_are_not_returned_by_get_lead(self, api: SandboxApi) -> None:
        api.upsert({"customer_phone": ASHA, "customer_note": "secret plan"})
        assert "secret plan" not in api.get_lead(ASHA).text

    def test_blank_note_is_not_added(self, api: SandboxApi) -> None:
        api.upsert({"customer_phone": MEERA, "customer_note": "  "})
        assert lead(api, MEERA)["notes"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"customer_phone": 5}, "customer_phone must be a string"),
        ({"customer_phone": ASHA, "email": "x@example.com"}, "email must be an array of strings"),
        ({"customer_phone": ASHA, "email": [1]}, "email must be an array of strings"),
        ({"customer_phone": ASHA, "deal_value": "10"}, "deal_value must be a number"),
        ({"customer_phone": ASHA, "deal_value": True}, "deal_value must be a number"),
        ({"customer_phone": ASHA, "create_customer_if_customer_phone_not_found": "yes"}, "must be a boolean"),
        ({"customer_phone": ASHA, "address": "MG Road"}, "address must be an object"),
        ({"customer_phone": ASHA, "address": {"street": "x"}}, "Unknown field: address.street"),
        ({"customer_phone": ASHA, "address": {"latitude": "12"}}, "address.latitude must be a number"),
        ({"customer_phone": ASHA, "add_labels": "Hot"}, "add_labels must be an array of strings"),
        ({"customer_phone": ASHA, "add_phones": [918000000003]}, "add_phones must be an array of strings"),
        ({"customer_phone": ASHA, "phone": ASHA}, "Unknown field: phone"),
    ],
)
def test_wrong_json_types_are_400(api: SandboxApi, body: dict[str, Any], message: str) -> None:
    response = api.upsert(body)
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_concurrent_creates_of_one_phone_make_one_lead(api: SandboxApi) -> None:
    body = {"customer_phone": NEW, "create_customer_if_customer_phone_not_found": True, "customer_note": "x"}

    def send(_: int) -> int:
        with requests.Session() as session:
            return session.post(api.url("lead"), json=body, headers=api.headers, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, range(16)))
    assert statuses == [200] * 16
    created = [inspected for inspected in api.server.leads() if NEW in inspected["phones"]]
    assert len(created) == 1
    assert created[0]["notes"] == ["x"] * 16


def test_concurrent_claims_of_one_phone_let_exactly_one_win(api: SandboxApi) -> None:
    def claim(owner: str) -> int:
        with requests.Session() as session:
            body = {"customer_phone": owner, "add_phones": ["+918000000099"]}
            return session.post(api.url("lead"), json=body, headers=api.headers, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(claim, [ASHA, MEERA] * 4))
    owners = [inspected["id"] for inspected in api.server.leads() if "+918000000099" in inspected["phones"]]
    assert len(owners) == 1
    winner_claims = 4  # the winner's four requests succeed (the phone is then its own), the other's fail
    assert statuses == [200] * winner_claims + [400] * 4
