"""PollyBot's Get Lead (``GET {baseUrl}/api/v1/leads/{leadId}``, Bearer key), as seed 002 documents it.

200 answers ``{"success": true, "data": {lead}}``; 404 with ``code: LEAD_NOT_FOUND`` means no such lead; 400
``INVALID_ID_FORMAT`` is what an id not shaped ``lead_[alphanumeric]`` gets, which is why pull checks ids
before asking (:func:`importer.pull.keys.lead_id_problem`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from importer.errors import ApiError, RejectedError
from importer.pull.http import SourceClient, SourceHttp, check_secret, check_source_url

ENV_BASE_URL, ENV_API_KEY = "POLLYBOT_BASE_URL", "POLLYBOT_API_KEY"
NOT_FOUND = "LEAD_NOT_FOUND"


@dataclass(frozen=True)
class PollyBotAccount:
    """``base_url`` (the documentation's ``${baseUrl}``, e.g. ``https://your-domain.com``) and the workspace key."""

    base_url: str
    api_key: str = field(repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> PollyBotAccount:
        """From ``POLLYBOT_BASE_URL`` and ``POLLYBOT_API_KEY``; ConfigError names what is missing or wrong."""
        key = check_secret(environ.get(ENV_API_KEY, ""), ENV_API_KEY)
        url = check_secret(environ.get(ENV_BASE_URL, ""), ENV_BASE_URL)
        return cls(check_source_url(url, ENV_BASE_URL, (key,)), key)


class PollyBotClient(SourceClient):
    """Reads leads by id."""

    def __init__(self, account: PollyBotAccount, session: requests.Session | None = None) -> None:
        self._account = account
        self._base_url = account.base_url
        self._http = SourceHttp(account.base_url, (account.api_key,),
                                headers={"Authorization": f"Bearer {account.api_key}"}, session=session)

    def lead(self, lead_id: str) -> dict[str, Any] | None:
        """The lead with ``lead_id``, or None when PollyBot answers 404 ``LEAD_NOT_FOUND``."""
        try:
            _, document = self._http.get(f"/api/v1/leads/{quote(lead_id, safe='')}")
        except RejectedError as exc:
            if exc.status == 404 and exc.message.endswith(f"({NOT_FOUND})"):
                return None
            raise
        data = document.get("data") if isinstance(document, dict) else None
        if not isinstance(data, dict):
            raise ApiError("unexpected PollyBot response: no lead object in data", status=200)
        return data
