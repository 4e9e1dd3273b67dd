"""Google Sheets as a ``gsheets://`` source reads it, served by the sandbox under ``/google`` (loopback tests).

    POST /google/token                                          a service account's signed JWT → access token
    GET  /google/sheets/v4/spreadsheets/{id}?fields=…           the sheets' titles (and hidden flags)
    GET  /google/sheets/v4/spreadsheets/{id}/values/{range}     a whole sheet's values (``'Title'``)

(``SF_SHEETS_API_URL=http://127.0.0.1:<port>/google/sheets``; the service account JSON's ``token_uri`` is
``http://127.0.0.1:<port>/google/token``.) The token request is checked as Google checks it: grant type
``urn:ietf:params:oauth:grant-type:jwt-bearer``, an RS256 JWT signed by the private key of a service account the
test registered (its public key), ``aud`` Google's token URI or this endpoint, a scope that reads spreadsheets,
not expired; else 400 ``invalid_grant``. The API answers Google's way: 401 for a missing or unknown token,
403 ``The caller does not have permission`` when the spreadsheet is not shared with the account, 404 for an unknown
id, 400 ``Unable to parse range`` for an unknown sheet. Values: ``FORMATTED_VALUE`` (the default) gives each
cell's text as the sheet shows it, ``UNFORMATTED_VALUE`` its value; trailing empty cells and rows are left out,
as Google does.

Admin (loopback only, like the rest of ``/__sandbox``):

    PUT /__sandbox/google/accounts/{email}          {"public_key": "-----BEGIN PUBLIC KEY-----…"}
    PUT /__sandbox/google/spreadsheets/{id}         {"sheets": {"Leads": [["Phone"], ["098450 12345"]]},
                                                     "shared_with": [email], "hidden": []}
        a cell is its text, or {"formatted": "098450 12345", "value": 9845012345}
    GET /__sandbox/google/calls                     the API calls: path, render option, status
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
READ_SCOPES = frozenset({"https://www.googleapis.com/auth/spreadsheets.readonly",
                         "https://www.googleapis.com/auth/spreadsheets"})
TOKEN_SECONDS = 3600
#: The audience google-auth signs for whatever the token_uri (Google accepts it), besides the endpoint's own URL.
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


class GoogleSheets:
    """Service accounts (e-mail → public key PEM), spreadsheets and the access tokens handed out."""

    def __init__(self) -> None:
        self.accounts: dict[str, str] = {}
        self.spreadsheets: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, tuple[str, float]] = {}
        self.calls: list[dict[str, Any]] = []

    def reset(self) -> None:
        self.accounts.clear()
        self.spreadsheets.clear()
        self.tokens.clear()
        self.calls.clear()

    def grant(self, form: dict[str, str], endpoint_path: str) -> Response:
        """The token endpoint: a signed JWT in, an access token out (or Google's 400 ``invalid_grant``)."""
        if form.get("grant_type") != GRANT_TYPE:
            return _oauth_error("unsupported_grant_type", "Invalid grant_type")
        try:
            import google.auth  # noqa: F401
        except ImportError:
            return JSONResponse({"error": "server_error", "error_description": "the sandbox checks signed JWTs "
                                 "with google-auth: pip install 'superfone-importer[gsheets]'"}, status_code=501)
        claims = self._verified(form.get("assertion", ""), endpoint_path)
        if isinstance(claims, str):
            return _oauth_error("invalid_grant", claims)
        token = "ya29.sandbox-" + secrets.token_urlsafe(24)
        self.tokens[token] = (str(claims["iss"]), time.time() + TOKEN_SECONDS)
        return JSONResponse({"access_token": token, "expires_in": TOKEN_SECONDS, "token_type": "Bearer"})

    def _verified(self, assertion: str, endpoint_path: str) -> dict[str, Any] | str:
        """The JWT's claims, or why it is refused (google-auth checks the signature: the ``gsheets`` extra)."""
        from google.auth import jwt

        try:
            issuer = str(jwt.decode(assertion, verify=False).get("iss", ""))
        except (ValueError, TypeError):
            return "Invalid JWT."
        public_key = self.accounts.get(issuer)
        if public_key is None:
            return "Invalid JWT Signature."  # Google's answer for a key it does not know
        try:
            claims = jwt.decode(assertion, certs=public_key, audience=None)
        except ValueError:
            return "Invalid JWT Signature."
        audience = str(claims.get("aud", ""))
        if audience != GOOGLE_TOKEN_URI and not audience.endswith(endpoint_path):
            return "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."
        if not READ_SCOPES & set(str(claims.get("scope", "")).split()):
            return "Invalid OAuth scope or ID token audience provided."
        return claims

    def sheet_titles(self, spreadsheet: str, authorization: str) -> Response:
        found = self._readable(spreadsheet, authorization, "metadata")
        if isinstance(found, Response):
            return found
        hidden = set(found.get("hidden", []))
        return JSONResponse({"sheets": [{"properties": {"title": title, **({"hidden": True} if title in hidden
                                                                            else {})}}
                                        for title in found["sheets"]]})

    def values(self, spreadsheet: str, cell_range: str, render: str, authorization: str) -> Response:
        found = self._readable(spreadsheet, authorization, cell_range, render)
        if isinstance(found, Response):
            return found
        title = _title(cell_range)
        rows = found["sheets"].get(title)
        if rows is None:
            return self._answer(_api_error(400, f"Unable to parse range: {cell_range}", "INVALID_ARGUMENT"))
        values = _trimmed([[_shown(cell, render) for cell in row] for row in rows])
        body: dict[str, Any] = {"range": f"'{title}'!A1:ZZZ{len(values)}", "majorDimension": "ROWS"}
        if values:
            body["values"] = values
        return self._answer(JSONResponse(body))

    def _readable(self, spreadsheet: str, authorization: str, what: str,
                  render: str = "") -> dict[str, Any] | Response:
        self.calls.append({"spreadsheet": spreadsheet, "range": what, "render": render})
        account = self._account(authorization)
        if account is None:
            return self._answer(_api_error(401, "Request had invalid authentication credentials.",
                                           "UNAUTHENTICATED"))
        found = self.spreadsheets.get(spreadsheet)
        if found is None:
            return self._answer(_api_error(404, "Requested entity was not found.", "NOT_FOUND"))
        if account not in found.get("shared_with", []):
            return self._answer(_api_error(403, "The caller does not have permission", "PERMISSION_DENIED"))
        return found

    def _answer(self, response: Response) -> Response:
        self.calls[-1]["status"] = response.status_code
        return response

    def _account(self, authorization: str) -> str | None:
        scheme, _, token = authorization.partition(" ")
        held = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if held is None or held[1] < time.time():
            return None
        return held[0]


def _title(cell_range: str) -> str:
    """The sheet a whole-sheet range names: ``'It''s'`` → ``It's``; ``Leads`` → ``Leads``."""
    text = unquote(cell_range)
    if text.startswith("'") and text.endswith("'") and len(text) > 1:
        return text[1:-1].replace("''", "'")
    return text


def _shown(cell: Any, render: str) -> Any:
    if isinstance(cell, dict):
        return cell.get("value") if render == "UNFORMATTED_VALUE" else cell.get("formatted", "")
    return cell


def _trimmed(rows: list[list[Any]]) -> list[list[Any]]:
    kept = []
    for row in rows:
        while row and row[-1] in ("", None):
            row = row[:-1]
        kept.append(row)
    while kept and not kept[-1]:
        kept.pop()
    return kept


def _oauth_error(code: str, description: str) -> JSONResponse:
    return JSONResponse({"error": code, "error_description": description}, status_code=400)


def _api_error(status: int, message: str, reason: str) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message, "status": reason}}, status_code=status)


def google_router(book: GoogleSheets) -> APIRouter:
    router = APIRouter(tags=["Google Sheets (gsheets:// sources)"], include_in_schema=False)

    @router.post("/token")
    async def token(request: Request) -> Response:
        form = await request.form()
        return book.grant({key: str(value) for key, value in form.items()}, request.url.path)

    @router.get("/sheets/v4/spreadsheets/{spreadsheet}")
    async def titles(spreadsheet: str, request: Request) -> Response:
        return book.sheet_titles(spreadsheet, request.headers.get("authorization", ""))

    @router.get("/sheets/v4/spreadsheets/{spreadsheet}/values/{cell_range:path}")
    async def values(spreadsheet: str, cell_range: str, request: Request) -> Response:
        render = request.query_params.get("valueRenderOption", "FORMATTED_VALUE")
        return book.values(spreadsheet, cell_range, render, request.headers.get("authorization", ""))

    return router


def google_admin_router(book: GoogleSheets) -> APIRouter:
    router = APIRouter(tags=["sandbox admin: Google Sheets"], include_in_schema=False)

    @router.put("/accounts/{email}")
    async def add_account(email: str, request: Request) -> Response:
        body = await request.json()
        book.accounts[email] = str(body["public_key"])
        return JSONResponse({"message": "added"})

    @router.put("/spreadsheets/{spreadsheet}")
    async def put_spreadsheet(spreadsheet: str, request: Request) -> Response:
        body = await request.json()
        book.spreadsheets[spreadsheet] = {"sheets": dict(body.get("sheets", {})),
                                          "shared_with": list(body.get("shared_with", [])),
                                          "hidden": list(body.get("hidden", []))}
        return JSONResponse({"message": "stored"})

    @router.get("/calls")
    async def calls() -> Response:
        return JSONResponse(book.calls)

    return router
