"""Sandbox HTTP surface: x-api-key on every endpoint, malformed input, unknown paths and wrong methods.

Every error is a JSON ``{"message": ...}`` with a 4xx status, never a 500 or a stack trace. The OpenAPI
document states the documented contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import requests

if TYPE_CHECKING:
    from conftest import SandboxApi

UNAUTHORIZED = {"message": "UnAuthorized, Please Provide Valid API Key"}
CALLS = [
    ("POST", "lead"),
    ("GET", "lead?phone=%2B918000000001"),
    ("GET", "label"),
    ("GET", "lead-stage"),
    ("GET", "lead-group"),
    ("GET", "product"),
    ("GET", "source-type"),
]


@pytest.mark.parametrize(("method", "path"), CALLS)
@pytest.mark.parametrize(
    "headers", [{}, {"x-api-key": "wrong"}, {"x-api-key": ""}, {"x-api-keys": "demo-key"}]
)
def test_missing_or_wrong_key_is_401(
    api: SandboxApi, method: str, path: str, headers: dict[str, str]
) -> None:
    response = api.session.request(method, api.url(path), json={}, headers=headers, timeout=30)
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


@pytest.mark.parametrize(("method", "path"), CALLS)
@pytest.mark.parametrize("name", ["x-api-key", "X-API-Key", "X-API-KEY", "x-Api-kEy"])
def test_header_name_in_any_case_is_accepted(api: SandboxApi, method: str, path: str, name: str) -> None:
    body = {"customer_phone": "+918000000001"}
    response = api.session.request(method, api.url(path), json=body, headers={name: "demo-key"}, timeout=30)
    assert response.status_code == 200


def test_rejected_key_writes_nothing(api: SandboxApi) -> None:
    before = api.server.leads()
    body = {"customer_phone": "+918000000001", "customer_note": "sneaky", "city": "X"}
    assert api.upsert(body, headers={"x-api-key": "nope"}).status_code == 401
    assert api.server.leads() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{", "Malformed JSON body"),
        (b'{"customer_phone": "+918000000001",}', "Malformed JSON body"),
        (b'{"customer_phone": NaN}', "Malformed JSON body"),
        (b"\xff\xfe", "Malformed JSON body"),
        (b"", "Request body must be a JSON object"),
        (b"[]", "Request body must be a JSON object"),
        (b'"+918000000001"', "Request body must be a JSON object"),
        (b"null", "Request body must be a JSON object"),
    ],
)
def test_malformed_bodies_are_400_json(api: SandboxApi, data: bytes, message: str) -> None:
    response = api.post_raw(data)
    assert (response.status_code, response.json()) == (400, {"message": message})


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/superfone/enterprise/api/leads", 404, "Not found"),
        ("GET", "/superfone/enterprise/api/lead/12345/tasks", 404, "Not found"),
        ("PUT", "/superfone/enterprise/api/lead/12345/task", 405, "Method not allowed"),
        ("GET", "/superfone/", 404, "Not found"),
        ("GET", "/nowhere", 404, "Not found"),
        ("DELETE", "/superfone/enterprise/api/lead", 405, "Method not allowed"),
        ("PUT", "/superfone/enterprise/api/lead", 405, "Method not allowed"),
        ("POST", "/superfone/enterprise/api/label", 405, "Method not allowed"),
        ("PATCH", "/superfone/enterprise/api/product", 405, "Method not allowed"),
    ],
)
def test_unknown_paths_and_wrong_methods(
    api: SandboxApi, method: str, path: str, status: int, message: str
) -> None:
    root = api.server.base_url.removesuffix("/superfone")
    response = api.session.request(method, root + path, headers=api.headers, timeout=30)
    assert (response.status_code, response.json()) == (status, {"message": message})


def test_unknown_api_path_without_key_is_401(api: SandboxApi) -> None:
    response = requests.get(api.server.base_url + "/enterprise/api/secret", timeout=30)
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


def test_openapi_document_states_the_contract(api: SandboxApi) -> None:
    root = api.server.base_url.removesuffix("/superfone")
    document = requests.get(root + "/openapi.json", timeout=30).json()
    paths = document["paths"]
    lead = paths["/superfone/enterprise/api/lead"]
    assert lead["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LeadOut"
    }
    body_schema = lead["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema["required"] == ["customer_phone"]
    assert "$ref" not in str(body_schema)
    assert {"400", "401", "404"} <= set(lead["post"]["responses"])
    for endpoint in ("label", "lead-stage", "lead-group", "product", "source-type"):
        assert f"/superfone/enterprise/api/{endpoint}" in paths
    assert "PageOut_LabelRow_" in document["components"]["schemas"]
