"""gsheets:// sources against the sandbox's Google endpoints: a real signed JWT for the token, values as shown."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from importer.errors import InputError
from importer.sandbox import SandboxServer
from importer.sources import open_table
from tests.sources.locate.conftest import Outcome, assert_nowhere, leads_of, one_error_line

EMAIL = "importer@sandbox-project.iam.gserviceaccount.com"
KEY_ID = "gsa-CANARY-4b1d9e7c02"
SHEET_ID = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
LEADS = [["Phone", "Name", "City"],
         [{"formatted": "098450 12345", "value": 9845012345}, "Asha"],  # trailing empty cell left out, as Google does
         ["+91 97000 00201", "Ravi", "Pune"]]


def _key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return _key()


@pytest.fixture
def google(fresh_sandbox: SandboxServer, keys: tuple[str, str], tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A service account registered with the sandbox, its JSON key file in GOOGLE_APPLICATION_CREDENTIALS, and
    the spreadsheet shared with it (a hidden first sheet, then "Leads")."""
    private, public = keys
    admin = f"{fresh_sandbox.admin_url}/google"
    requests.put(f"{admin}/accounts/{EMAIL}", json={"public_key": public}, timeout=10).raise_for_status()
    put_spreadsheet(fresh_sandbox, SHEET_ID, {"Archive": [["Old"]], "Leads": LEADS}, [EMAIL], hidden=["Archive"])
    key_file = tmp_path / "service-account.json"
    key_file.write_text(json.dumps({
        "type": "service_account", "project_id": "sandbox-project", "private_key_id": KEY_ID,
        "private_key": private, "client_email": EMAIL, "client_id": "1234567890",
        "token_uri": f"{fresh_sandbox.google_url}/token"}), encoding="utf-8")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    monkeypatch.setenv("SF_SHEETS_API_URL", f"{fresh_sandbox.google_url}/sheets")
    yield {"server": fresh_sandbox, "key_file": key_file, "private": private}


def put_spreadsheet(server: SandboxServer, spreadsheet: str, sheets: dict[str, Any], shared_with: list[str],
                    hidden: list[str] | None = None) -> None:
    requests.put(f"{server.admin_url}/google/spreadsheets/{spreadsheet}",
                 json={"sheets": sheets, "shared_with": shared_with, "hidden": hidden or []},
                 timeout=10).raise_for_status()


def secrets_of(google: dict[str, Any]) -> list[str]:
    """The key id, every line of the private key's body, and the access tokens the sandbox handed out."""
    body = [line for line in google["private"].splitlines() if line and not line.startswith("-----")]
    return [KEY_ID, *body, "ya29.sandbox-"]


def test_a_google_sheet_runs_end_to_end(google: dict[str, Any], cli: Callable[..., Outcome]) -> None:
    server = google["server"]
    outcome = cli("run", f"gsheets://{SHEET_ID}/Leads", server)
    assert outcome.code == 0, outcome.err
    leads = leads_of(server)
    assert leads["+919845012345"]["first_name"] == "Asha"  # 098450 12345 stayed text: never 9845012345.0
    assert leads["+919700000201"]["first_name"] == "Ravi"
    summary = json.loads((outcome.report() / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"] == f"gsheets://{SHEET_ID}/Leads"
    assert summary["source"]["kind"] == "gsheets" and summary["succeeded"] == 2
    calls = requests.get(f"{server.admin_url}/google/calls", timeout=10).json()
    assert [call["render"] for call in calls] == ["FORMATTED_VALUE"]
    assert assert_nowhere(secrets_of(google), outcome) >= 5


def test_without_a_sheet_name_the_first_visible_sheet_is_read(google: dict[str, Any]) -> None:
    with open_table(f"gsheets://{SHEET_ID}") as table:
        assert table.columns == ["Phone", "Name", "City"]
        rows = [row.cells for row in table.rows()]
        assert table.origin is not None and table.origin.location == f"gsheets://{SHEET_ID}/Leads"
        copy = table.path
    assert rows[0] == {"Phone": "098450 12345", "Name": "Asha", "City": ""}
    assert not copy.exists()  # closing the table removed the downloaded copy


@pytest.mark.parametrize(("source", "change", "expected"), [
    (f"gsheets://{SHEET_ID}/Leads", "unshared",
     f"access denied (403): share the spreadsheet with {EMAIL} (Viewer is enough)"),
    ("gsheets://1NoSuchSheetId/Leads", None, "no such spreadsheet (404)"),
    (f"gsheets://{SHEET_ID}/Nope", None, "the Sheets API answered 400: Unable to parse range: 'Nope'"),
    (f"gsheets://{SHEET_ID}/Leads", "unknown key", "Google refused the service account's token request "
                                                   "(invalid_grant)"),
    (f"gsheets://{SHEET_ID}/Leads", "no credentials",
     "set GOOGLE_APPLICATION_CREDENTIALS to the service account's JSON key file"),
    ("gsheets://", None, "write gsheets://SPREADSHEET_ID[/SHEET_NAME] (the id is in the sheet's URL, between /d/ "
                         "and /edit)"),
])
def test_what_stops_a_google_sheet_is_one_line(google: dict[str, Any], cli: Callable[..., Outcome],
                                               monkeypatch: pytest.MonkeyPatch, source: str, change: str | None,
                                               expected: str) -> None:
    server = google["server"]
    if change == "unshared":
        put_spreadsheet(server, SHEET_ID, {"Leads": LEADS}, ["someone-else@example.com"])
    elif change == "unknown key":
        requests.put(f"{server.admin_url}/google/accounts/{EMAIL}", json={"public_key": _key()[1]},
                     timeout=10).raise_for_status()
    elif change == "no credentials":
        monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    outcome = cli("run", source, server)
    line = one_error_line(outcome)
    assert line == f"superfone-import: error: {source}: {expected}"
    assert leads_of(server).keys().isdisjoint({"+919845012345"})  # nothing sent
    assert_nowhere(secrets_of(google), outcome)


def test_a_broken_key_file_is_named_not_quoted(google: dict[str, Any]) -> None:
    google["key_file"].write_text(json.dumps({"private_key": "-----BEGIN PRIVATE KEY-----\nCANARYbroken\n"}),
                                  encoding="utf-8")
    with pytest.raises(InputError) as caught:
        open_table(f"gsheets://{SHEET_ID}")
    assert "is not a service account key file" in str(caught.value) and "CANARY" not in str(caught.value)
