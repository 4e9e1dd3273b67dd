"""The sandbox's PollyBot: Get Lead as seed 002 documents it (success, 404 LEAD_NOT_FOUND, 400 INVALID_ID_FORMAT)."""

from __future__ import annotations

import requests

BEARER = {"Authorization": "Bearer sk-workspace_demo"}


def get(server, lead_id: str, headers: dict[str, str] = BEARER) -> requests.Response:
    return requests.get(f"{server.pollybot_url}/api/v1/leads/{lead_id}", headers=headers, timeout=10)


def test_a_lead_is_the_complete_object_with_its_metadata(fresh_sandbox) -> None:
    answer = get(fresh_sandbox, "lead_aa49d53c31e4598b")
    assert answer.status_code == 200
    body = answer.json()
    assert body["success"] is True
    lead = body["data"]
    assert lead["id"] == "lead_aa49d53c31e4598b" and lead["name"] == "Pooja Menon"
    assert set(lead) >= {"id", "name", "email", "phone", "source", "status", "metadata", "createdAt", "updatedAt",
                         "workspaceId"}
    assert {"notes", "follow_up_date", "company"} <= set(lead["metadata"])


def test_documented_errors(fresh_sandbox) -> None:
    missing = get(fresh_sandbox, "lead_nonexistent123")
    assert missing.status_code == 404
    assert missing.json() == {"success": False, "error": "Lead not found", "code": "LEAD_NOT_FOUND", "details": {
        "leadId": "lead_nonexistent123", "message": "No lead found with this ID in your workspace"}}
    invalid = get(fresh_sandbox, "invalid-id")
    assert invalid.status_code == 400
    assert invalid.json() == {"success": False, "error": "Invalid lead ID format", "code": "INVALID_ID_FORMAT",
                              "details": {"leadId": "invalid-id", "expected": "lead_[alphanumeric string]",
                                          "message": "Lead IDs must start with 'lead_' followed by alphanumeric "
                                                     "characters"}}
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "sk-workspace_demo"}):
        assert get(fresh_sandbox, "lead_aa49d53c31e4598b", headers).status_code == 401
    assert [call["status"] for call in fresh_sandbox.source_requests()["pollybot"]] == [404, 400, 401, 401, 401]
