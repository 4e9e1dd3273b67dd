"""verify against the sandbox (ok / different / missing, exit codes) and the LeadReader it shares with --plan."""

from __future__ import annotations

import csv
import json
import random
import threading
from pathlib import Path
from typing import Any

import pytest

from importer.api.client import SuperfoneClient
from importer.api.retry import RetryPolicy
from importer.cli.commands import main
from importer.errors import ApiError, AuthError, RejectedError, TransientError, UncertainError
from importer.report import restore
from importer.run.engine.reads import LeadReader
from importer.sandbox import SandboxServer
from tests.fakes import FakeClock
from tests.inputs import write_inputs

MAPPING = """\
version: 1
defaults: {region: IN, create_if_missing: true}
fields:
  customer_phone: Phone
  add_phones: [Mobile]
  first_name: First Name
  city: City
  email: Email
  deal_value: {column: Deal Value, type: number}
  lead_stage_name: Stage
  add_labels: {column: Tags, split: ";"}
  add_products: {column: Products, split: ";"}
  customer_note: Notes
"""
HEADER = ["First Name", "Phone", "Mobile", "City", "Email", "Deal Value", "Stage", "Tags", "Products", "Notes"]
ROWS = [
    ["Asha", "+918000000001", "", "Mysuru", "ASHA@example.com", "75000", "Contacted", "VIP", "", "Met again"],
    ["Ravi", "+919811100001", "+919811100009", "Pune", "", "4999.50", "", "Hot;Warm", "Growth Plan", "New"],
    ["Kiran", "+919811100002", "", "Delhi", "kiran@example.in", "", "Won", "", "", ""],
]


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_sandbox: SandboxServer) -> tuple[Path, Path]:
    monkeypatch.setenv("SF_API_KEY", fresh_sandbox.api_key)
    return write_inputs(tmp_path, HEADER, ROWS, MAPPING)


def cli(command: str, server: SandboxServer, sheet: Path, mapping: Path, reports: Path) -> tuple[int, Path]:
    code = main([command, str(sheet), "-m", str(mapping), "--base-url", server.base_url, "--report-dir",
                 str(reports), "--quiet", "--rate", "1000"])
    newest = max((p for p in reports.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime_ns)
    return code, newest


def read_verify(folder: Path) -> list[tuple[str, ...]]:
    with open(folder / "verify.csv", encoding="utf-8-sig", newline="") as stream:
        return [tuple(restore(cell) for cell in row) for row in csv.reader(stream)]


def summary(folder: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return result


def test_verify_after_an_import_is_all_ok(fresh_sandbox: SandboxServer, inputs: tuple[Path, Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    sheet, mapping = inputs
    assert cli("run", fresh_sandbox, sheet, mapping, tmp_path / "reports")[0] == 0
    fresh_sandbox.clear_requests()
    capsys.readouterr()

    code, folder = cli("verify", fresh_sandbox, sheet, mapping, tmp_path / "reports")

    assert code == 0
    rows = read_verify(folder)
    assert rows[0] == ("_row", "status", "customer_phone", "lead_id", "differences")
    assert [(row[0], row[1], row[2], row[4]) for row in rows[1:]] == [
        ("2", "ok", "+918000000001", ""), ("3", "ok", "+919811100001", ""), ("4", "ok", "+919811100002", "")]
    assert rows[1][3] == "12345" and rows[2][3].isdigit()
    assert summary(folder)["verify"] == {"ok": 3, "missing": 0, "different": 0}
    assert {entry["method"] for entry in fresh_sandbox.requests()} == {"GET"}
    out = capsys.readouterr().out.splitlines()
    assert out[-3:] == ["verify: 3 ok, 0 missing, 0 different",
                        "note: products and notes cannot be read back through the API: they were not checked",
                        f"report: {folder}"]


def test_verify_reports_a_lead_changed_behind_the_importers_back(
        fresh_sandbox: SandboxServer, inputs: tuple[Path, Path], tmp_path: Path) -> None:
    sheet, mapping = inputs
    cli("run", fresh_sandbox, sheet, mapping, tmp_path / "reports")
    with SuperfoneClient(fresh_sandbox.base_url, fresh_sandbox.api_key) as client:
        client.upsert({"customer_phone": "+919811100001", "city": "Goa", "remove_labels": ["Hot"]})
        client.upsert({"customer_phone": "+918000000001", "email": ["other@example.com"], "deal_value": 75000.0})

    code, folder = cli("verify", fresh_sandbox, sheet, mapping, tmp_path / "reports")

    assert code == 1
    assert [(row[1], row[4]) for row in read_verify(folder)[1:]] == [
        ("different", 'email: expected ["ASHA@example.com"], stored ["other@example.com"]'),
        ("different", 'city: expected "Pune", stored "Goa"; labels: "Hot" expected, not on the lead'),
        ("ok", ""),
    ]
    assert summary(folder)["verify"] == {"ok": 1, "missing": 0, "different": 2}


def test_verify_reports_missing_leads(fresh_sandbox: SandboxServer, inputs: tuple[Path, Path],
                                      tmp_path: Path) -> None:
    sheet, mapping = inputs
    cli("run", fresh_sandbox, sheet, mapping, tmp_path / "reports")
    fresh_sandbox.reset()  # the account as it was: the two new leads are gone, Asha is back as seeded

    code, folder = cli("verify", fresh_sandbox, sheet, mapping, tmp_path / "reports")

    assert code == 1
    rows = read_verify(folder)[1:]
    assert [(row[0], row[1], row[3]) for row in rows] == [("2", "different", "12345"), ("3", "missing", ""),
                                                          ("4", "missing", "")]
    assert rows[0][4].split("; ") == [
        'city: expected "Mysuru", stored "Bengaluru"', 'lead_stage_name: expected "Contacted", stored "New Lead"',
        "deal_value: expected 75000, stored 50000", 'labels: "VIP" expected, not on the lead']
    assert summary(folder)["verify"] == {"ok": 0, "missing": 2, "different": 1}


# --- LeadReader -----------------------------------------------------------------------------------------


class ScriptedClient:
    """get_lead answers from a script per phone: exceptions are raised, anything else returned."""

    def __init__(self, script: dict[str, list[Any]] | None = None) -> None:
        self.script = script or {}
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def get_lead(self, phone: str) -> dict[str, Any] | None:
        with self._lock:
            self.calls.append(phone)
            steps = self.script.get(phone)
            answer = steps.pop(0) if steps else {"id": int(phone[1:]), "phones": [{"phone": phone}]}
        if isinstance(answer, Exception):
            raise answer
        return answer


def reader(client: ScriptedClient, clock: FakeClock, concurrency: int = 1, rate: float = 0) -> LeadReader:
    policy = RetryPolicy(max_attempts=3, base=0.5, cap=4.0, random=random.Random(7))
    return LeadReader(client, rate=rate, concurrency=concurrency, policy=policy, clock=clock, sleep=clock.sleep)


def test_reader_retries_transient_errors_and_honours_retry_after() -> None:
    clock = FakeClock()
    client = ScriptedClient({"+1": [TransientError("busy", status=503), UncertainError("lost", status=500)],
                             "+2": [TransientError("slow down", status=429, retry_after=2.0)]})
    lead_reader = reader(client, clock)

    results = list(lead_reader.read(["+1", "+2"], lead_reader.get))

    assert [(phone, lead["id"]) for phone, lead in results] == [("+1", 1), ("+2", 2)]  # type: ignore[index]
    assert client.calls == ["+1", "+1", "+1", "+2", "+2"]
    assert lead_reader.requests == 5
    assert 2.0 in [round(s, 6) for s in clock.sleeps]  # the Retry-After, waited through the shared limiter
    assert lead_reader.limiter.throttle_count == 1


def test_reader_gives_up_per_row_and_carries_on() -> None:
    clock = FakeClock()
    client = ScriptedClient({"+1": [RejectedError("Invalid phone number", status=400)],
                             "+2": [TransientError("busy", status=503)] * 3})

    lead_reader = reader(client, clock)
    results = dict(lead_reader.read(["+1", "+2", "+3"], lead_reader.get))

    assert isinstance(results["+1"], RejectedError) and isinstance(results["+2"], TransientError)
    assert results["+3"] == {"id": 3, "phones": [{"phone": "+3"}]}
    assert client.calls.count("+1") == 1 and client.calls.count("+2") == 3


def test_reader_stops_at_the_first_401_after_one_request() -> None:
    phones = [f"+{n}" for n in range(1, 40)]
    client = ScriptedClient({phone: [AuthError("UnAuthorized", status=401)] for phone in phones})
    lead_reader = reader(client, FakeClock(), concurrency=8)

    with pytest.raises(AuthError):
        list(lead_reader.read(phones, lead_reader.get))
    assert client.calls == ["+1"]


def test_reader_keeps_input_order_with_many_workers() -> None:
    phones = [f"+{n}" for n in range(1, 200)]
    client = ScriptedClient()
    lead_reader = LeadReader(client, rate=0, concurrency=16)

    results = list(lead_reader.read(phones, lambda phone: lead_reader.get(phone)))

    assert [phone for phone, _ in results] == phones
    assert all(lead == {"id": int(p[1:]), "phones": [{"phone": p}]} for p, lead in results)
    assert sorted(client.calls) == sorted(phones)


def test_reader_closed_early_starts_no_new_lookups() -> None:
    client = ScriptedClient()
    lead_reader = LeadReader(client, rate=0, concurrency=2)
    results = lead_reader.read([f"+{n}" for n in range(1, 1000)], lead_reader.get)
    next(results)
    next(results)
    results.close()
    assert len(client.calls) < 20
    with pytest.raises(ApiError):
        lead_reader.get("+5")


def test_labels_and_products_the_account_lacks_are_not_expected_on_the_lead() -> None:
    from importer.api.catalog import Catalog
    from importer.run.kinds.verify import verify_row

    catalog = Catalog.from_rows({"label": [{"title": "Hot"}], "product": [{"title": "Starter Plan"}]})
    lead = {"id": 1, "phones": [{"phone": "+919845012345", "customer_id": 1}], "labels": [{"title": "Hot"}]}
    payload = {"customer_phone": "+919845012345", "add_labels": ["Hot", "product_b"], "add_products": ["Nope"]}
    assert verify_row(payload, lambda phone: lead, catalog).status == "ok"
    without_catalog = verify_row(payload, lambda phone: lead)
    assert without_catalog.status == "different" and "product_b" in without_catalog.differences[0]
