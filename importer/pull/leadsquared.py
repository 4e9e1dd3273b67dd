"""LeadSquared's Get a Lead by Phone Number (``RetrieveLeadByPhoneNumber``), as seed 003 documents it.

    GET https://{host}/v2/LeadManagement.svc/RetrieveLeadByPhoneNumber?accessKey=…&secretKey=…&phone=…

200 answers a JSON list of lead objects: empty when no lead has the phone, several when more than one does
(most recent activity first). The keys travel in the query string: :class:`~importer.pull.http.SourceHttp`
keeps them out of every message. The documented limit is 25 calls in 5 seconds (429 beyond it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from importer.errors import ApiError
from importer.pull.http import SourceClient, SourceHttp, check_secret, check_source_url

PATH = "/v2/LeadManagement.svc/RetrieveLeadByPhoneNumber"
#: The documented limit: 25 calls in 5 seconds.
CALLS, PER_SECONDS = 25, 5.0
ENV_HOST, ENV_ACCESS_KEY, ENV_SECRET_KEY = "LSQ_HOST", "LSQ_ACCESS_KEY", "LSQ_SECRET_KEY"


@dataclass(frozen=True)
class LeadSquaredAccount:
    """Where and how to call: ``base_url`` (``https://api-in21.leadsquared.com``, or any base URL) and the keys."""

    base_url: str
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> LeadSquaredAccount:
        """From ``LSQ_HOST`` (a host name, or a base URL such as the sandbox's), ``LSQ_ACCESS_KEY`` and
        ``LSQ_SECRET_KEY``. ConfigError names the variable that is missing or wrong, never a key's value."""
        access = check_secret(environ.get(ENV_ACCESS_KEY, ""), ENV_ACCESS_KEY)
        secret = check_secret(environ.get(ENV_SECRET_KEY, ""), ENV_SECRET_KEY)
        host = check_secret(environ.get(ENV_HOST, ""), ENV_HOST)
        url = host if "://" in host else f"https://{host}"
        return cls(check_source_url(url, ENV_HOST, (access, secret)), access, secret)


class LeadSquaredClient(SourceClient):
    """Looks leads up by phone. ``phone`` must already be digits only (see :func:`importer.pull.keys.phone_key`)."""

    def __init__(self, account: LeadSquaredAccount, session: requests.Session | None = None) -> None:
        self._account = account
        self._base_url = account.base_url
        self._http = SourceHttp(account.base_url, (account.access_key, account.secret_key), session=session)

    def leads_by_phone(self, phone: str) -> list[dict[str, Any]]:
        """Every lead LeadSquared returns for ``phone``, in its order (empty: none has it)."""
        params = {"accessKey": self._account.access_key, "secretKey": self._account.secret_key, "phone": phone}
        _, document = self._http.get(PATH, params)
        if not isinstance(document, list) or not all(isinstance(lead, dict) for lead in document):
            raise ApiError("unexpected LeadSquared response: not a list of leads", status=200)
        return document
