"""superfone-import catalog: text and --json against the sandbox, and its one-line errors."""

from __future__ import annotations

import json

import pytest

from importer.api.catalog import Catalog
from importer.cli.catalog_view import catalog_document, catalog_text
from importer.cli.commands import main
from importer.sandbox import SandboxServer

EXPECTED_TEXT = """\
Labels (9)
  Archived        #607d8b on #ffffff  DISABLED
  Cold            #90caf9 on #000000
  Demo Requested  #3f51b5 on #ffffff
  Do Not Call     #9e9e9e on #ffffff
  Follow Up       #ff9800 on #000000
  Hot             #ff5722 on #ffffff
  Referral        #4caf50 on #ffffff
  VIP             #ffd700 on #000000
  Warm            #ffc107 on #000000

Lead stages (8)
    1  New Lead   INITIAL
    2  Contacted  NONE
    3  Qualified  NONE
    4  Proposal   NONE
    5  Follow-up  NONE            DUPLICATED: upserts naming it fail
    6  Follow-up  NONE            DUPLICATED: upserts naming it fail
    7  Won        FINAL_POSITIVE
    8  Lost       FINAL_NEGATIVE

Lead groups (5)
  Events    offline  DUPLICATED: upserts naming it fail
  Events    -        DUPLICATED: upserts naming it fail
  Inbound   -
  Outbound  -
  Partners  channel

Products (5)
  Enterprise Plan     99999 INR
  Growth Plan         2999 INR
  Legacy Plan         499 INR     DISABLED
  Onboarding Package  4999.5 INR
  Starter Plan        999 INR

Source types (7)
  CSV_UPLOAD
  FACEBOOK_INTEGRATION
  PHONE_CONTACT
  WHATSAPP_MESSAGE
  WHATSAPP_INTEGRATION
  PABBLY
  OTHERS
"""


@pytest.fixture
def keyed(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    monkeypatch.setenv("SF_API_KEY", sandbox.api_key)
    return sandbox


def test_catalog_text(keyed: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--base-url", keyed.base_url]) == 0
    captured = capsys.readouterr()
    assert captured.out == EXPECTED_TEXT
    assert captured.err == ""


def test_catalog_json(keyed: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--json", "--base-url", keyed.base_url]) == 0
    document = json.loads(capsys.readouterr().out)

    assert list(document) == ["labels", "lead_stages", "lead_groups", "products", "source_types", "duplicated"]
    assert document["duplicated"] == {"labels": [], "lead_stages": ["Follow-up"], "lead_groups": ["Events"],
                                      "products": []}
    assert [(s["position"], s["title"]) for s in document["lead_stages"]][:2] == [(1, "New Lead"), (2, "Contacted")]
    assert document["lead_stages"][0] == {"id": 9, "title": "New Lead", "type": "INITIAL", "position": 1,
                                          "status": "ACTIVE"}
    assert document["labels"][0] == {"id": 25, "title": "Archived", "status": "DISABLED", "colour": "#607d8b",
                                     "text_colour": "#ffffff"}
    assert document["products"][3] == {"id": 8, "title": "Onboarding Package", "price": 4999.5, "currency": "INR",
                                       "status": "ACTIVE"}
    assert [t["title"] for t in document["source_types"]][0] == "CSV_UPLOAD"
    assert [g["title"] for g in document["lead_groups"]] == ["Events", "Events", "Inbound", "Outbound", "Partners"]


def test_catalog_of_the_embedded_sandbox(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SF_API_KEY", raising=False)
    assert main(["catalog", "--sandbox"]) == 0
    assert capsys.readouterr().out == EXPECTED_TEXT


def test_catalog_without_a_key(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SF_API_KEY", raising=False)
    assert main(["catalog", "--base-url", "http://127.0.0.1:9/superfone"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("superfone-import: error: SF_API_KEY is not set: reading the catalog needs the "
                            "account's API key (or use --sandbox to see the local sandbox's)\n")


def test_catalog_with_a_wrong_key(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SF_API_KEY", "not-the-key")
    assert main(["catalog", "--base-url", sandbox.base_url]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "superfone-import: error: UnAuthorized, Please Provide Valid API Key\n")
    assert "not-the-key" not in captured.err


def test_catalog_server_unreachable(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SF_API_KEY", "some-key")
    assert main(["catalog", "--base-url", "http://127.0.0.1:9/superfone"]) == 2
    err = capsys.readouterr().err
    assert err == "superfone-import: error: could not connect to 127.0.0.1: connection refused\n"


def test_catalog_flags_shared_label_titles_and_empty_lists() -> None:
    catalog = Catalog.from_rows({
        "label": [{"id": 1, "title": "Hot", "colour": "#f00", "text_colour": "#fff", "status": "ACTIVE"},
                  {"id": 2, "title": "Hot", "colour": "#f00", "text_colour": "#fff", "status": "ACTIVE"}],
        "lead-stage": [{"id": 3, "title": "Later", "type": "NONE", "position": None, "status": "ACTIVE"},
                       {"id": 4, "title": "First", "type": "INITIAL", "position": 1, "status": "ACTIVE"}],
    })
    text = catalog_text(catalog)
    assert "  Hot  #f00 on #fff  DUPLICATED: several items share this title\n" in text
    assert "Lead groups (0)\n  (none)\n" in text
    assert [s["title"] for s in catalog_document(catalog)["lead_stages"]] == ["First", "Later"]  # no position: last
    assert [t["title"] for t in catalog_document(catalog)["source_types"]][-1] == "OTHERS"
