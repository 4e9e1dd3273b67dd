"""PollyBot's Get Lead (seed 002), served by the sandbox under ``/pollybot``.

    GET /pollybot/api/v1/leads/{leadId}    Authorization: Bearer <key>
    (base URL for pull: POLLYBOT_BASE_URL=http://127.0.0.1:<port>/pollybot)

As documented: 200 ``{"success": true, "data": {lead}}``; 404 ``LEAD_NOT_FOUND`` and 400 ``INVALID_ID_FORMAT``
with their documented bodies. Where the page is silent, the sandbox chooses: a missing or wrong Bearer key is
401 ``{"success": false, "error": "Unauthorized", "code": "UNAUTHORIZED"}``. Leads come from
``pollybot_leads.jsonl`` beside this module (``sample_data/pollybot_leads.jsonl`` links to it); the key from the
sandbox's knobs (``sk-workspace_demo`` by default).
"""

from __future__ import annotations

import hmac
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from importer.errors import ConfigError
from importer.sandbox.knobs import SandboxConfig

LEADS_FILE = Path(__file__).with_name("pollybot_leads.jsonl")
_LEAD_ID = re.compile(r"lead_[A-Za-z0-9]+")


def load_leads(path: Path = LEADS_FILE) -> dict[str, dict[str, Any]]:
    """The JSON Lines export, by lead id."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"sandbox: cannot read {path} ({exc.strerror or exc})") from None
    leads: dict[str, dict[str, Any]] = {}
    for line in lines:
        if line.strip():
            lead = json.loads(line)
            leads[lead["id"]] = lead
    return leads


def _failure(status: int, error: str, code: str, details: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"success": False, "error": error, "code": code}
    if details is not None:
        body["details"] = details
    return JSONResponse(body, status_code=status)


class PollyBotApi:
    """The leads and a log of the ids asked (never the key)."""

    def __init__(self, leads: dict[str, dict[str, Any]]) -> None:
        self._leads = leads
        self.calls: list[dict[str, Any]] = []

    def reset(self) -> None:
        self.calls.clear()

    def answer(self, config: SandboxConfig, lead_id: str, authorization: str) -> Response:
        entry: dict[str, Any] = {"id": lead_id, "time": time.time()}
        self.calls.append(entry)
        response = self._respond(config, lead_id, authorization)
        entry["status"] = response.status_code
        return response

    def _respond(self, config: SandboxConfig, lead_id: str, authorization: str) -> Response:
        expected = f"Bearer {config.pollybot_api_key}"
        if not hmac.compare_digest(authorization.encode(), expected.encode()):
            return _failure(401, "Unauthorized", "UNAUTHORIZED")
        if not _LEAD_ID.fullmatch(lead_id):
            return _failure(400, "Invalid lead ID format", "INVALID_ID_FORMAT", {
                "leadId": lead_id, "expected": "lead_[alphanumeric string]",
                "message": "Lead IDs must start with 'lead_' followed by alphanumeric characters"})
        lead = self._leads.get(lead_id)
        if lead is None:
            return _failure(404, "Lead not found", "LEAD_NOT_FOUND", {
                "leadId": lead_id, "message": "No lead found with this ID in your workspace"})
        return JSONResponse({"success": True, "data": lead})


def pollybot_router(api: PollyBotApi, config: Callable[[], SandboxConfig]) -> APIRouter:
    router = APIRouter(tags=["PollyBot (source CRM)"])

    @router.get("/api/v1/leads/{lead_id}", summary="Get a lead by id (PollyBot)")
    async def get_lead(lead_id: str, request: Request) -> Response:
        return api.answer(config(), lead_id, request.headers.get("authorization", ""))

    return router
