"""LeadSquared's Get a Lead by Phone Number (seed 003), served by the sandbox under ``/leadsquared``.

    GET /leadsquared/v2/LeadManagement.svc/RetrieveLeadByPhoneNumber?accessKey=…&secretKey=…&phone=…
    (base URL for pull: LSQ_HOST=http://127.0.0.1:<port>/leadsquared)

As documented: 200 with a JSON list of lead objects (string values or null), matched on the Phone and Mobile
fields, most recent activity first when several match, an empty list when none does; 401 for wrong keys; 429
beyond 25 calls in 5 seconds. Where the page is silent, the sandbox chooses (and docs/sandbox.md says so): errors are
``{"Status": "Error", "ExceptionType": …, "ExceptionMessage": …}``; a phone holding anything but digits (spaces,
hyphens, ``+``) is a 400, since the page asks for none; the limit counts every call with a valid key in the last
``leadsquared_window_s`` seconds (a sliding window; knobs ``leadsquared_limit`` / ``leadsquared_window_s``), with
no Retry-After (the page promises none). Leads come from ``leadsquared_leads.csv`` beside this module
(``sample_data/leadsquared_leads.csv`` links to it); keys from the sandbox's knobs (``demo-access-key`` /
``demo-secret-key`` by default).
"""

from __future__ import annotations

import csv
import hmac
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from importer.errors import ConfigError
from importer.phones.normalise import Phone, normalise_phone
from importer.sandbox.knobs import SandboxConfig

LEADS_FILE = Path(__file__).with_name("leadsquared_leads.csv")
PATH = "/v2/LeadManagement.svc/RetrieveLeadByPhoneNumber"
#: Documented fields a lead object carries even when the export has no column for them.
_DOCUMENTED = ("ProspectID", "ProspectAutoId", "FirstName", "LastName", "EmailAddress", "Company", "Origin", "Phone",
               "Mobile", "Fax", "Website", "TimeZone", "JobTitle", "Source", "SourceMedium", "Notes",
               "SourceCampaign", "DoNotEmail", "DoNotCall", "ProspectStage", "Score", "Revenue", "EngagementScore",
               "ProspectActivityDate_Max", "OwnerId", "CreatedOn", "ModifiedOn", "mx_City", "mx_State",
               "mx_Country", "OwnerIdName", "OwnerIdEmailAddress", "LastModifiedOn")


def _error(status: int, kind: str, text: str) -> JSONResponse:
    return JSONResponse({"Status": "Error", "ExceptionType": kind, "ExceptionMessage": text}, status_code=status)


def load_leads(path: Path = LEADS_FILE) -> list[dict[str, Any]]:
    """The CSV export's rows as API lead objects: every documented field, empty cells as null."""
    try:
        with open(path, encoding="utf-8", newline="") as stream:
            rows = list(csv.DictReader(stream))
    except OSError as exc:
        raise ConfigError(f"sandbox: cannot read {path} ({exc.strerror or exc})") from None
    leads = []
    for row in rows:
        lead: dict[str, Any] = dict.fromkeys(_DOCUMENTED)
        lead.update({key: value if value != "" else None for key, value in row.items()})
        lead["ProspectActivityDate_Max"] = lead["ProspectActivityDate_Max"] or lead["ModifiedOn"]
        lead["Total"], lead["CanUpdate"] = "1", "true"
        leads.append(lead)
    return leads


def _e164(text: str | None) -> str | None:
    result = normalise_phone(text or "", "IN")
    return result.e164 if isinstance(result, Phone) else None


class LeadSquaredApi:
    """The leads, the sliding window of recent calls and a log of the phones asked (never the keys)."""

    def __init__(self, leads: list[dict[str, Any]], clock: Callable[[], float] = time.monotonic) -> None:
        self._leads = leads
        self._by_phone: dict[str, list[dict[str, Any]]] = {}
        for lead in leads:
            for phone in {_e164(lead.get("Phone")), _e164(lead.get("Mobile"))} - {None}:
                self._by_phone.setdefault(str(phone), []).append(lead)
        self._clock = clock
        self._recent: deque[float] = deque()
        self.calls: list[dict[str, Any]] = []

    def reset(self) -> None:
        self._recent.clear()
        self.calls.clear()

    def find(self, phone: str) -> list[dict[str, Any]]:
        """Leads whose Phone or Mobile is ``phone``, read with or without its country code; most recent first."""
        found: dict[int, dict[str, Any]] = {}
        for candidate in {_e164(phone), _e164("+" + phone)} - {None}:
            for lead in self._by_phone.get(str(candidate), []):
                found[id(lead)] = lead
        return sorted(found.values(), key=lambda lead: lead.get("ProspectActivityDate_Max") or "", reverse=True)

    def admit(self, config: SandboxConfig) -> bool:
        """Count one call; False when it is over ``leadsquared_limit`` calls in the last window."""
        now = self._clock()
        while self._recent and self._recent[0] <= now - config.leadsquared_window_s:
            self._recent.popleft()
        if len(self._recent) >= config.leadsquared_limit:
            return False
        self._recent.append(now)
        return True

    def answer(self, config: SandboxConfig, query: dict[str, str]) -> Response:
        access, secret = query.get("accessKey") or "", query.get("secretKey") or ""
        phone = query.get("phone")
        entry: dict[str, Any] = {"phone": phone, "time": time.time()}
        self.calls.append(entry)
        response = self._respond(config, access, secret, phone)
        entry["status"] = response.status_code
        return response

    def _respond(self, config: SandboxConfig, access: str, secret: str, phone: str | None) -> Response:
        if not (_same(access, config.leadsquared_access_key) and _same(secret, config.leadsquared_secret_key)):
            return _error(401, "MXUnAuthorizedAccessException", "Invalid access key or secret key")
        if not self.admit(config):
            limit, window = config.leadsquared_limit, config.leadsquared_window_s
            text = f"API calls exceeded the limit of {limit} in {window:g} second(s)"
            return _error(429, "MXAPIRateLimitExceededException", text)
        if not phone:
            return _error(400, "MXInvalidInputException", "Phone is required")
        if not phone.isascii() or not phone.isdigit():
            return _error(400, "MXInvalidInputException",
                          "Phone must be digits only: no spaces, hyphens or any other character")
        return JSONResponse(self.find(phone))


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def leadsquared_router(api: LeadSquaredApi, config: Callable[[], SandboxConfig]) -> APIRouter:
    router = APIRouter(tags=["LeadSquared (source CRM)"])

    @router.get(PATH, summary="Get a lead by phone number (LeadSquared)")
    async def retrieve_lead_by_phone_number(request: Request) -> Response:
        return api.answer(config(), dict(request.query_params))

    return router
