"""``gsheets://SPREADSHEET_ID[/SHEET_NAME]`` sources: a Google Sheet read through the Sheets API (``gsheets`` extra).

A Google service account signs in (its JSON key file named by ``GOOGLE_APPLICATION_CREDENTIALS``; the token from
the JSON's ``token_uri``, scope ``spreadsheets.readonly``, through google-auth); sharing the sheet with the
service account's e-mail is all the user does. Values are read as the sheet shows them (``FORMATTED_VALUE``), so
``098450 12345`` stays text, and written to a CSV file the delimited reader opens. ``SF_SHEETS_API_URL`` replaces
``https://sheets.googleapis.com`` (tests, proxies). Without a sheet name the first visible sheet is read.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from importer.errors import InputError
from importer.sources.locate.extras import require
from importer.sources.locate.found import Scratch, SourceFile
from importer.sources.locate.uri import Address
from importer.sources.locate.web import TIMEOUTS, check_scheme

API_URL = "https://sheets.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/spreadsheets.readonly"
CREDENTIALS_VARIABLE = "GOOGLE_APPLICATION_CREDENTIALS"


def api_url() -> str:
    return (os.environ.get("SF_SHEETS_API_URL") or API_URL).rstrip("/")


def locate_sheet(address: Address) -> SourceFile:
    """Read the sheet's values and write them to a CSV file in a scratch folder."""
    where = address.display
    require("gsheets", "google.auth", "google.oauth2.service_account")
    spreadsheet, title = _parts(address.text, where)
    check_scheme(api_url(), "SF_SHEETS_API_URL")
    credentials = _credentials(where)
    from google.auth.transport.requests import AuthorizedSession

    with AuthorizedSession(credentials) as session:
        title = title or _first_sheet(session, spreadsheet, where, credentials)
        values = _values(session, spreadsheet, title, where, credentials)
    scratch = Scratch()
    try:
        target = scratch.file(f"{title}.csv")
        _write_csv(values, target)
    except BaseException:
        scratch.close()
        raise
    location = f"gsheets://{spreadsheet}/{title}"
    return SourceFile(where, location, target, "gsheets", None, target.stat().st_size, scratch)


def _parts(text: str, where: str) -> tuple[str, str | None]:
    rest = text.strip()[len("gsheets://"):].split("?", 1)[0]
    spreadsheet, _, title = rest.partition("/")
    if not spreadsheet or not all(character.isalnum() or character in "-_" for character in spreadsheet):
        raise InputError(f"{where}: write gsheets://SPREADSHEET_ID[/SHEET_NAME] (the id is in the sheet's URL, "
                         "between /d/ and /edit)")
    return spreadsheet, unquote(title.rstrip("/")) or None


def _credentials(where: str) -> Any:
    from google.oauth2 import service_account

    named = os.environ.get(CREDENTIALS_VARIABLE)
    if not named:
        raise InputError(f"{where}: set {CREDENTIALS_VARIABLE} to the service account's JSON key file")
    if not Path(named).is_file():
        raise InputError(f"{where}: {CREDENTIALS_VARIABLE} names {named}, which is not a file")
    try:
        info = json.loads(Path(named).read_text(encoding="utf-8"))
        check_scheme(str(info["token_uri"]), f"{named}: token_uri")
        return service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # their texts may quote the key: not shown
        raise InputError(f"{where}: {named} is not a service account key file (JSON with client_email, "
                         "private_key and token_uri)") from None


def _first_sheet(session: Any, spreadsheet: str, where: str, credentials: Any) -> str:
    answer = _get(session, f"/v4/spreadsheets/{quote(spreadsheet)}",
                  {"fields": "sheets.properties(title,hidden)"}, where, credentials)
    for sheet in answer.get("sheets") or []:
        properties = sheet.get("properties") or {}
        if not properties.get("hidden") and isinstance(properties.get("title"), str):
            return str(properties["title"])
    raise InputError(f"{where}: the spreadsheet has no visible sheet")


def _values(session: Any, spreadsheet: str, title: str, where: str, credentials: Any) -> list[list[str]]:
    whole_sheet = "'" + title.replace("'", "''") + "'"
    answer = _get(session, f"/v4/spreadsheets/{quote(spreadsheet)}/values/{quote(whole_sheet, safe='')}",
                  {"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"}, where, credentials)
    values = answer.get("values") or []
    if not values or not any(str(cell).strip() for cell in values[0]):
        raise InputError(f"{where}: the sheet {title!r} is empty (no header in row 1)")
    return [[str(cell) for cell in row] for row in values]


def _get(session: Any, path: str, params: dict[str, str], where: str, credentials: Any) -> dict[str, Any]:
    import requests
    from google.auth import exceptions

    try:
        answer = session.get(api_url() + path, params=params, timeout=TIMEOUTS)
    except exceptions.RefreshError as exc:
        raise InputError(f"{where}: Google refused the service account's token request"
                         f"{_oauth_error(exc)}") from None
    except (exceptions.TransportError, requests.RequestException) as exc:
        raise InputError(f"{where}: cannot reach Google ({type(exc).__name__})") from None
    if answer.status_code == 403:
        raise InputError(f"{where}: access denied (403): share the spreadsheet with "
                         f"{credentials.service_account_email} (Viewer is enough)")
    if answer.status_code == 404:
        raise InputError(f"{where}: no such spreadsheet (404)")
    if answer.status_code >= 400:
        raise InputError(f"{where}: the Sheets API answered {answer.status_code}{_api_message(answer)}")
    try:
        body = answer.json()
    except ValueError:
        raise InputError(f"{where}: the Sheets API answered with something other than JSON") from None
    return body if isinstance(body, dict) else {}


def _oauth_error(exc: Exception) -> str:
    """`` (invalid_grant)``: the OAuth error code of a refused token request, never its free text."""
    data = exc.args[1] if len(exc.args) > 1 else None
    code = data.get("error") if isinstance(data, dict) else None
    return f" ({code})" if isinstance(code, str) and code.replace("_", "").isalnum() else ""


def _api_message(answer: Any) -> str:
    try:
        message = answer.json().get("error", {}).get("message")
    except (ValueError, AttributeError):
        return ""
    return f": {' '.join(str(message).split())[:200]}" if message else ""


def _write_csv(values: list[list[str]], target: Path) -> None:
    """The values as CSV, every field quoted (so the delimiter is never in doubt), short rows padded."""
    width = len(values[0])
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        for row in values:
            writer.writerow(row + [""] * (width - len(row)))
