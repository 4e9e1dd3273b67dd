"""Sandbox admin API under /__sandbox: lead inspection and deletion, request log, knobs, reset, and the loopback
guard."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest
import requests

from importer.sandbox import Sandbox, SandboxConfig, create_app, load_seed

if TYPE_CHECKING:
    from conftest import SandboxApi

ASHA = "+918000000001"
LOG_KEYS = {"method", "path", "status", "started", "finished", "customer_phone", "has_note", "fault", "retry_after",
            "fields"}


def test_leads_show_everything_including_products_and_notes(api: SandboxApi) -> None:
    leads = api.server.leads()
    assert [lead["id"] for lead in leads] == [12345, 12346, 12347, 12348]
    asha = leads[0]
    assert asha == {
        "id": 12345,
        "phones": ["+918000000001", "+918000000002"],
        "first_name": "Asha",
        "last_name": "Kumar",
        "website": None,
        "business_name": "Acme Pvt Ltd",
        "additional_info": None,
        "city": "Bengaluru",
        "email": ["asha@example.com"],
        "deal_value": 50000,
        "source": "website-form",
        "source_type": "OTHERS",
        "status": "ACTIVE",
        "address": {"text": None, "additional": None, "initials": None, "latitude": None, "longitude": None},
        "labels": ["Hot"],
        "products": ["Starter Plan"],
        "lead_stage": "New Lead",
        "lead_group": "Inbound",
        "assignee_user_phone": "+919876543210",
        "created_at": "2026-04-01T10:30:00.000Z",
        "updated_at": "2026-05-12T08:15:00.000Z",
        "notes": ["First contact through the website form."],
    }


def test_request_log_records_each_api_request(api: SandboxApi) -> None:
    before = api.server.requests()
    assert before == []
    api.upsert({"customer_phone": ASHA, "customer_note": "hello"})
    api.upsert({"customer_phone": 5})
    api.get_lead(ASHA)
    log = api.server.requests()
    assert [(entry["method"], entry["path"], entry["status"]) for entry in log] == [
        ("POST", "/superfone/enterprise/api/lead", 200),
        ("POST", "/superfone/enterprise/api/lead", 400),
        ("GET", "/superfone/enterprise/api/lead", 200),
    ]
    assert [(entry["customer_phone"], entry["has_note"]) for entry in log] == [
        (ASHA, True),
        (None, False),
        (None, False),
    ]
    for entry in log:
        assert set(entry) == LOG_KEYS
        assert entry["started"] <= entry["finished"]
        assert entry["fault"] is None and entry["retry_after"] is None
    assert [entry["fields"] for entry in log] == [["customer_note", "customer_phone"], ["customer_phone"], None]
    assert log[0]["finished"] <= log[1]["started"]
    api.server.clear_requests()
    assert api.server.requests() == []


def test_request_counts_hold_every_request_by_endpoint_beyond_the_log(api: SandboxApi) -> None:
    api.server.configure(log_limit=2)
    try:
        api.upsert({"customer_phone": ASHA})
        api.upsert({"customer_phone": ASHA})
        api.get_lead(ASHA)
        api.get("label")
        lead_id = api.server.lead(ASHA)["id"]
        api.get(f"lead/{lead_id}/task")
        assert len(api.server.requests()) == 2  # the log keeps the newest two; the counts keep all five
        assert api.server.request_counts() == {"total": 5, "by_endpoint": {
            "GET /enterprise/api/label": 1, "GET /enterprise/api/lead": 1, "GET /enterprise/api/lead/:id/task": 1,
            "POST /enterprise/api/lead": 2}}
        api.server.clear_requests()
        assert api.server.request_counts() == {"total": 0, "by_endpoint": {}}
        api.get_lead(ASHA)
        api.server.reset()
        assert api.server.request_counts() == {"total": 0, "by_endpoint": {}}
    finally:
        api.server.configure(log_limit=1_000_000)


def test_request_log_names_an_upserts_fields_but_never_their_values(api: SandboxApi) -> None:
    api.upsert({"customer_phone": ASHA, "first_name": "Zanele", "customer_note": "call after 6", "add_labels": []})
    api.upsert({})
    api.upsert([{"customer_phone": ASHA}])
    api.post_raw(b'{"customer_phone": ')
    api.get("label")
    log = api.server.requests()
    assert [(entry["status"], entry["fields"]) for entry in log] == [
        (200, ["add_labels", "customer_note", "customer_phone", "first_name"]),
        (400, []),
        (400, None),
        (400, None),
        (200, None),
    ]
    assert "Zanele" not in json.dumps(log) and "call after 6" not in json.dumps(log)


def test_config_patch_merges_and_validates(api: SandboxApi) -> None:
    config = api.server.configure(rate=50, burst=10)
    assert (config["rate"], config["burst"], config["latency_ms"]) == (50, 10, 0)
    assert api.server.configure(latency_ms=5)["rate"] == 50
    assert "api_key" not in api.server.config_now()
    response = requests.patch(api.server.admin_url + "/config", json={"fail_after": 3}, timeout=30)
    assert response.status_code == 400
    assert "--fail-after must be a probability" in response.json()["message"]
    response = requests.patch(api.server.admin_url + "/config", json={"nope": 1}, timeout=30)
    assert (response.status_code, response.json()) == (400, {"message": "sandbox: unknown knob 'nope'"})
    response = requests.patch(api.server.admin_url + "/config", data=b"[", timeout=30)
    assert response.status_code == 400


def test_reset_restores_seed_and_clears_log_but_keeps_knobs(api: SandboxApi) -> None:
    seeded = api.server.leads()
    api.upsert({"customer_phone": "+919123456789", "create_customer_if_customer_phone_not_found": True})
    api.upsert({"customer_phone": ASHA, "city": "Goa", "customer_note": "n"})
    api.server.configure(latency_ms=1)
    api.server.reset()
    assert api.server.leads() == seeded
    assert api.server.requests() == []
    assert api.server.config_now()["latency_ms"] == 1
    api.server.reset(config=True)
    assert api.server.config_now()["latency_ms"] == 0


def test_deleting_a_lead_by_a_secondary_phone(api: SandboxApi) -> None:
    api.upsert({"customer_phone": ASHA, "add_labels": ["Warm"], "add_products": ["Growth Plan"], "customer_note": "n"})
    assert api.server.delete_lead("+918000000002") is True
    assert [lead["id"] for lead in api.server.leads()] == [12346, 12347, 12348]
    assert api.server.lead(ASHA) is None
    for phone in (ASHA, "+918000000002"):
        response = api.get_lead(phone)
        assert (response.status_code, response.json()) == (404, {"message": "Customer not found"})


def test_after_a_delete_upsert_fails_or_creates_a_new_lead(api: SandboxApi) -> None:
    assert api.server.delete_lead(ASHA) is True
    for flag in ({}, {"create_customer_if_customer_phone_not_found": False}):
        response = api.upsert({"customer_phone": ASHA, **flag})
        assert (response.status_code, response.json()) == (400, {"message": "Customer not found."})
    created = api.upsert({"customer_phone": ASHA, "create_customer_if_customer_phone_not_found": True})
    assert created.status_code == 200
    lead = api.get_lead(ASHA).json()["data"]
    assert lead["id"] not in (12345, 12346, 12347, 12348)
    assert ([phone["phone"] for phone in lead["phones"]], lead["labels"]) == ([ASHA], [])
    inspected = api.server.lead(ASHA)
    assert inspected is not None and (inspected["products"], inspected["notes"]) == ([], [])
    assert api.get_lead("+918000000002").status_code == 404  # the old secondary phone went with the old lead


def test_a_recreated_lead_never_gets_the_deleted_leads_id(api: SandboxApi) -> None:
    last = "+919000000002"  # the seed's highest id
    assert api.get_lead(last).json()["data"]["id"] == 12348
    assert api.server.delete_lead(last) is True
    api.upsert({"customer_phone": last, "create_customer_if_customer_phone_not_found": True})
    assert api.get_lead(last).json()["data"]["id"] == 12349


def test_deleting_a_shared_phone_takes_one_lead_at_a_time(api: SandboxApi) -> None:
    shared = "+919000000001"  # the primary phone of 12346 and 12347
    assert api.server.delete_lead(shared) is True
    assert api.get_lead(shared).json()["data"]["id"] == 12347
    assert api.server.delete_lead(shared) is True
    assert api.server.delete_lead(shared) is False
    assert [lead["id"] for lead in api.server.leads()] == [12345, 12348]


def test_deleting_an_unknown_phone_is_404_json(api: SandboxApi) -> None:
    before = api.server.leads()
    response = requests.delete(api.server.admin_url + "/leads/%2B919999999999", timeout=30)
    assert (response.status_code, response.json()) == (404, {"message": "No lead has the phone +919999999999"})
    assert api.server.delete_lead("+919999999999") is False
    assert api.server.leads() == before


def test_delete_needs_no_key_and_is_not_logged(api: SandboxApi) -> None:
    response = requests.delete(api.server.admin_url + "/leads/%2B918000000001", timeout=30)
    assert (response.status_code, response.json()) == (200, {"message": "deleted", "id": 12345})
    assert api.server.requests() == []


def test_admin_needs_no_key_and_is_not_logged(api: SandboxApi) -> None:
    assert requests.get(api.server.admin_url + "/config", timeout=30).status_code == 200
    api.server.leads()
    assert api.server.requests() == []


def test_unknown_admin_path_is_404_json(api: SandboxApi) -> None:
    response = requests.get(api.server.admin_url + "/nothing", timeout=30)
    assert (response.status_code, response.json()) == (404, {"message": "Not found"})


async def _call(app: Any, path: str, client: tuple[str, int], method: str = "GET") -> tuple[int, Any]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"sandbox")],
        "client": client,
        "server": ("127.0.0.1", 8765),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    body = b"".join(message.get("body", b"") for message in sent[1:])
    return sent[0]["status"], json.loads(body)


@pytest.mark.parametrize(
    ("host", "status"), [("10.0.0.5", 403), ("192.168.1.20", 403), ("127.0.0.1", 200), ("::1", 200)]
)
def test_admin_answers_loopback_clients_only(host: str, status: int) -> None:
    sandbox = Sandbox(SandboxConfig(), load_seed())
    try:
        got, body = asyncio.run(_call(create_app(sandbox), "/__sandbox/config", (host, 40000)))
    finally:
        sandbox.close()
    assert got == status
    if status == 403:
        assert body == {"message": "The sandbox admin API only answers loopback clients"}


@pytest.mark.parametrize(("host", "status"), [("10.0.0.5", 403), ("127.0.0.1", 200)])
def test_delete_answers_loopback_clients_only(host: str, status: int) -> None:
    sandbox = Sandbox(SandboxConfig(), load_seed())
    try:
        got, _ = asyncio.run(_call(create_app(sandbox), f"/__sandbox/leads/{ASHA}", (host, 40000), "DELETE"))
        still_there = sandbox.store.find_lead(ASHA) is not None
    finally:
        sandbox.close()
    assert (got, still_there) == (status, status == 403)
