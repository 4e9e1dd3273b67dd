"""The sandbox under fire: schemathesis generates requests from the sandbox's own OpenAPI document
(``/openapi.json``) for every Superfone endpoint and checks each answer: never a 5xx, and always a status,
content type, headers and body that the document itself declares. The admin API (``/__sandbox``, where the
deliberate fault knobs live) is left out; the knobs stay at their defaults, which inject no faults."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from importer.sandbox import SandboxServer

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
API = "/superfone/enterprise/api"
OPERATIONS = [("POST", f"{API}/lead"), ("GET", f"{API}/lead"), *(("GET", f"{API}/{kind}") for kind in
              ("label", "lead-stage", "lead-group", "product", "source-type")),
              ("POST", f"{API}/lead/{{lead_id}}/task"), ("POST", f"{API}/lead/{{lead_id}}/task/complete"),
              ("GET", f"{API}/lead/{{lead_id}}/task")]


def test_the_document_lists_exactly_these_api_operations(sandbox: SandboxServer) -> None:
    schema = load_schema(sandbox)
    listed = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert {entry for entry in listed if entry[1].startswith("/superfone/")} == set(OPERATIONS)


CASES = [(method, path, GenerationMode.POSITIVE) for method, path in OPERATIONS]
CASES.append(("POST", f"{API}/lead", GenerationMode.NEGATIVE))  # the GETs declare no input to break


def load_schema(server: SandboxServer) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(server.base_url.removesuffix("/superfone") + "/openapi.json")


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=lambda value: getattr(value, "value", value))
def test_sandbox_answers_by_its_own_schema(method: str, path: str, mode: GenerationMode,
                                           fresh_sandbox: SandboxServer) -> None:
    knobs = fresh_sandbox.config_now()
    assert knobs["rate"] is None and not any(knobs[name] for name in ("fail_before", "fail_after", "drop_after"))
    operation = load_schema(fresh_sandbox)[path][method]
    headers = {"x-api-key": fresh_sandbox.api_key}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answers_by_schema(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    answers_by_schema()
    shape = re.compile(re.escape(path).replace(re.escape("{lead_id}"), "[^/]+"))
    calls = [entry for entry in fresh_sandbox.requests()
             if shape.fullmatch(entry["path"]) and entry["method"] == method]
    assert calls and all(entry["status"] < 500 for entry in calls)


#: Query parameters the routes read but the document does not declare (so schemathesis cannot vary them).
QUERY = {f"{API}/lead": ("phone",), **{f"{API}/{kind}": ("page", "page_size") for kind in
                                       ("label", "lead-stage", "lead-group", "product", "source-type")}}
hostile_text = st.text(max_size=30) | st.sampled_from(["0", "-1", "1e9", "99999999999999999999", "+91", "NaN", ""])


@pytest.mark.parametrize("path", sorted(QUERY))
def test_undeclared_query_parameters_never_break_the_sandbox(path: str, fresh_sandbox: SandboxServer) -> None:
    operation = load_schema(fresh_sandbox)[path]["GET"]
    headers = {"x-api-key": fresh_sandbox.api_key}

    @given(query=st.fixed_dictionaries({}, optional={name: hostile_text for name in QUERY[path]}))
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answers_by_schema(query: dict[str, str]) -> None:
        operation.Case(query=query).call_and_validate(headers=headers, checks=CHECKS)

    answers_by_schema()
