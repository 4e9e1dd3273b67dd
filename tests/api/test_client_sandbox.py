"""SuperfoneClient against the sandbox on a loopback port: the real endpoints, shapes and messages."""

from __future__ import annotations

import pytest

from importer.api.client import SuperfoneClient
from importer.errors import AuthError, RejectedError
from importer.models import LIST_KINDS
from importer.sandbox import SandboxServer

PHONE = "+919700000101"


def test_upsert_then_get_lead(fresh_sandbox: SandboxServer) -> None:
    with SuperfoneClient(fresh_sandbox.base_url, fresh_sandbox.api_key) as client:
        client.upsert(
            {
                "customer_phone": PHONE,
                "create_customer_if_customer_phone_not_found": True,
                "first_name": "Asha",
                "add_phones": ["+919700000102"],
                "customer_note": "first contact",
            }
        )
        lead = client.get_lead("+919700000102")  # any phone of the lead finds it
        assert lead is not None
        assert lead["first_name"] == "Asha"
        assert [p["phone"] for p in lead["phones"]] == [PHONE, "+919700000102"]
        assert client.get_lead("+919700000199") is None
    assert fresh_sandbox.lead(PHONE)["notes"] == ["first contact"]  # type: ignore[index]


def test_rejections_carry_the_servers_message(fresh_sandbox: SandboxServer) -> None:
    with SuperfoneClient(fresh_sandbox.base_url, fresh_sandbox.api_key) as client:
        with pytest.raises(RejectedError) as info:
            client.upsert({"customer_phone": PHONE})
        assert (info.value.status, info.value.message) == (400, "Customer not found.")
        with pytest.raises(RejectedError) as info:
            client.upsert({"customer_phone": PHONE, "lead_stage_name": "Nope"})
        assert info.value.status == 404


def test_lists_return_every_row(sandbox: SandboxServer) -> None:
    with SuperfoneClient(sandbox.base_url, sandbox.api_key) as client:
        counts = {kind: len(client.list_all(kind)) for kind in LIST_KINDS}
        assert counts["source-type"] == 7
        assert all(counts.values())
        assert {row["title"] for row in client.list_labels()} >= {"Hot", "Cold", "VIP"}
        assert [row["title"] for row in client.list_source_types()][0] == "CSV_UPLOAD"
        assert len(client.list_lead_stages()) == counts["lead-stage"]
        assert len(client.list_lead_groups()) == counts["lead-group"]
        assert len(client.list_products()) == counts["product"]


def test_wrong_key_is_an_auth_error_without_the_key(fresh_sandbox: SandboxServer) -> None:
    wrong = "wrong-key-canary-77"
    with SuperfoneClient(fresh_sandbox.base_url, wrong) as client:
        with pytest.raises(AuthError) as info:
            client.list_labels()
    assert info.value.message == "UnAuthorized, Please Provide Valid API Key"
    assert wrong not in repr(info.value) and wrong not in repr(client)
