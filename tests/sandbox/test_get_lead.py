"""Sandbox contract: GET /enterprise/api/lead?phone= (seed 000).

The seeded lead answers exactly like the seed's example; the four documented errors; any phone matches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from importer.models import LeadOut

if TYPE_CHECKING:
    from conftest import SandboxApi

#: Seed 000's success example, verbatim. The sandbox's seed holds this very lead.
SEED_000_EXAMPLE = {
    "data": {
        "id": 12345,
        "org_id": 42,
        "first_name": "Asha",
        "last_name": "Kumar",
        "email": ["asha@example.com"],
        "website": None,
        "business_name": "Acme Pvt Ltd",
        "additional_info": None,
        "city": "Bengaluru",
        "deal_value": 50000,
        "status": "ACTIVE",
        "source": "website-form",
        "source_type": "OTHERS",
        "address": {"text": None, "additional": None, "initials": None, "latitude": None, "longitude": None},
        "assignee_user_id": 678,
        "lead_stage_id": 9,
        "lead_group_id": 3,
        "created_at": "2026-04-01T10:30:00.000Z",
        "updated_at": "2026-05-12T08:15:00.000Z",
        "phones": [
            {"phone": "+918000000001", "customer_id": 12345},
            {"phone": "+918000000002", "customer_id": 12345},
        ],
        "labels": [
            {"id": 17, "title": "Hot", "colour": "#ff5722", "text_colour": "#ffffff", "status": "ACTIVE"}
        ],
        "lead_stage": {
            "id": 9,
            "title": "New Lead",
            "org_id": 42,
            "status": "ACTIVE",
            "type": "INITIAL",
            "position": 1,
        },
        "lead_group": {"id": 3, "title": "Inbound", "org_id": 42, "status": "ACTIVE", "type": None},
        "assignee_user": {"id": 678, "first_name": "Ravi", "last_name": "Patel"},
    },
    "message": "success",
}


def test_seeded_lead_is_the_seed_example_byte_for_byte(api: SandboxApi) -> None:
    response = api.get_lead("+918000000001")
    assert response.status_code == 200
    assert response.json() == SEED_000_EXAMPLE
    assert list(response.json()["data"]) == list(SEED_000_EXAMPLE["data"])  # same key order
    LeadOut.model_validate(response.json())


@pytest.mark.parametrize("phone", ["+918000000001", "+918000000002"])
def test_any_phone_of_the_lead_matches(api: SandboxApi, phone: str) -> None:
    assert api.get_lead(phone).json()["data"]["id"] == 12345


def test_phone_added_by_upsert_matches(api: SandboxApi) -> None:
    api.upsert({"customer_phone": "+918000000001", "add_phones": ["+918000000003"]})
    assert api.get_lead("+918000000003").json()["data"]["id"] == 12345


def test_url_encoded_plus_is_required(api: SandboxApi) -> None:
    raw = api.session.get(api.url("lead") + "?phone=+918000000001", headers=api.headers, timeout=30)
    assert (raw.status_code, raw.json()) == (400, {"message": "Invalid phone number"})
    encoded = api.session.get(api.url("lead") + "?phone=%2B918000000001", headers=api.headers, timeout=30)
    assert encoded.status_code == 200


@pytest.mark.parametrize(
    ("phone", "status", "message"),
    [
        (None, 400, "Phone query parameter is required"),
        ("", 400, "Phone query parameter is required"),
        ("8000000001", 400, "Invalid phone number"),
        ("+91800000000x", 400, "Invalid phone number"),
        ("+919999999999", 404, "Customer not found"),
    ],
)
def test_errors(api: SandboxApi, phone: str | None, status: int, message: str) -> None:
    response = api.get_lead(phone)
    assert (response.status_code, response.json()) == (status, {"message": message})


def test_wrong_key_is_401(api: SandboxApi) -> None:
    response = api.session.get(
        api.url("lead"), params={"phone": "+918000000001"}, headers={"x-api-key": "nope"}, timeout=30
    )
    assert (response.status_code, response.json()) == (
        401,
        {"message": "UnAuthorized, Please Provide Valid API Key"},
    )


def test_every_seeded_lead_validates_against_the_model(api: SandboxApi) -> None:
    for inspected in api.server.leads():
        LeadOut.model_validate(api.get_lead(inspected["phones"][-1]).json())
