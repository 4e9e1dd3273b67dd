"""run --plan against the sandbox: exact classifications, plan.csv, summary counts, exit codes, GET only."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from importer.api.retry import RetryPolicy
from importer.cli.commands import main
from importer.mapping import load_mapping
from importer.report import restore
from importer.run.context.options import RunOptions
from importer.run.journey.pipeline import Importer
from importer.run.kinds.plan import Plan, plan_row
from importer.sandbox import SandboxServer
from tests import inputs

MAPPING = """\
version: 1
defaults:
  region: IN
  create_if_missing: {create}
fields:
  customer_phone: Phone
  add_phones: [Mobile]
  first_name: First Name
  last_name: Last Name
  city: City
  deal_value: {{column: Deal Value, type: number}}
  lead_stage_name: Stage
  add_labels: {{column: Tags, split: ";"}}
  customer_note: Notes
"""

HEADER = ["First Name", "Last Name", "Phone", "Mobile", "City", "Deal Value", "Stage", "Tags", "Notes"]
ROWS = [
    ["Asha", "Kumar", "+918000000001", "", "Bengaluru", "50000", "New Lead", "Hot", ""],  # 2 unchanged
    ["Meera", "Iyer", "+919000000002", "+919000000003", "Mumbai", "120000.5", "Won", "Hot", "Called"],  # 3 update
    ["Ravi", "Rao", "+919811100001", "", "Pune", "", "", "", ""],  # 4 create
    ["Asha", "Kumar", "+918000000002", "", "", "", "", "", ""],  # 5 conflict: Asha's secondary phone
    ["Kiran", "Das", "+919811100002", "+919000000001", "", "", "", "", ""],  # 6 conflict: add_phones of Vikram
    ["", "", "12345", "", "", "", "", "", ""],  # 7 invalid phone
]

SECONDARY = ("customer phone +918000000002 is not the primary phone of lead 12345 (Asha Kumar) (that is "
             "+918000000001): it is another lead's secondary phone, or several leads share it (\"Customer phone "
             "exists in multiple contact\"); the upsert would fail")
ADD_PHONE = ("add_phones +919000000001 belongs to lead 12346 (Vikram Singh): the upsert would fail (\"Phone "
             "number +919000000001 in add_phones is already present in different customer\")")


def write_inputs(folder: Path, rows: list[list[str]], create: bool = True) -> tuple[Path, Path]:
    return inputs.write_inputs(folder, HEADER, rows, MAPPING.format(create="true" if create else "false"))


def run_plan(server: SandboxServer, folder: Path, rows: list[list[str]], monkeypatch: pytest.MonkeyPatch,
             create: bool = True) -> tuple[int, Path]:
    monkeypatch.setenv("SF_API_KEY", server.api_key)
    sheet, mapping = write_inputs(folder, rows, create)
    reports = folder / "reports"
    code = main(["run", str(sheet), "-m", str(mapping), "--plan", "--base-url", server.base_url,
                 "--report-dir", str(reports), "--quiet", "--rate", "1000"])
    (run_folder,) = reports.iterdir()
    return code, run_folder


def read_plan(folder: Path) -> list[dict[str, str]]:
    with open(folder / "plan.csv", encoding="utf-8-sig", newline="") as stream:
        return [{key: restore(value) for key, value in row.items()} for row in csv.DictReader(stream)]


def test_plan_classifies_every_row(fresh_sandbox: SandboxServer, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, folder = run_plan(fresh_sandbox, tmp_path, ROWS, monkeypatch)

    assert code == 1  # a conflict and an invalid row
    plan = read_plan(folder)
    assert [(p["_row"], p["action"], p["customer_phone"], p["lead_id"]) for p in plan] == [
        ("2", "unchanged", "+918000000001", "12345"),
        ("3", "update", "+919000000002", "12348"),
        ("4", "create", "+919811100001", ""),
        ("5", "conflict", "+918000000002", "12345"),
        ("6", "conflict", "+919811100002", ""),
    ]
    assert [p["changes"] for p in plan] == [
        "", 'city: "Chennai" → "Mumbai"; lead_stage_name: "Qualified" → "Won"; labels: + "Hot"', "", "", ""]
    assert [p["message"] for p in plan] == ["", "note will be added", "", SECONDARY, ADD_PHONE]

    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["plan"] == {"create": 1, "update": 1, "unchanged": 1, "conflict": 2}
    assert (summary["rows_total"], summary["valid"], summary["invalid"], summary["sent"]) == (6, 5, 1, 0)
    assert summary["dry_run"] is True
    out = capsys.readouterr().out.splitlines()
    assert out[-3:] == ["plan: 1 create, 1 update, 1 unchanged, 2 conflict (6 lookups, nothing sent)",
                        "plan: apply will make 4 requests (2 upserts, 2 lookups): under 0.1 s at 1000/s",
                        f"report: {folder}"]


def test_plan_sends_nothing_and_reads_only(fresh_sandbox: SandboxServer, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    before = fresh_sandbox.leads()
    run_plan(fresh_sandbox, tmp_path, ROWS, monkeypatch)

    log = fresh_sandbox.requests()
    assert log and {entry["method"] for entry in log} == {"GET"}
    lookups = [entry for entry in log if entry["path"].endswith("/enterprise/api/lead")]
    assert len(lookups) == 6  # 5 customer phones + the add_phones number of row 6 (row 3 has its own)
    assert fresh_sandbox.leads() == before


def test_plan_without_changes_exits_0(fresh_sandbox: SandboxServer, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    code, folder = run_plan(fresh_sandbox, tmp_path, ROWS[:3], monkeypatch)

    assert code == 0
    assert [p["action"] for p in read_plan(folder)] == ["unchanged", "update", "create"]


def test_plan_says_a_create_would_fail_without_create_if_missing(
        fresh_sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, folder = run_plan(fresh_sandbox, tmp_path, ROWS[2:3], monkeypatch, create=False)

    assert code == 1
    (row,) = read_plan(folder)
    assert (row["action"], row["message"]) == (
        "create", 'would fail: "Customer not found." (create_if_missing is false)')
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["plan"] == {"create": 1, "update": 0, "unchanged": 0, "conflict": 0, "would_fail": 1}


def test_plan_cells_are_neutralised(fresh_sandbox: SandboxServer, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [["=HYPERLINK(1)", "Kumar", "+918000000001", "", "Bengaluru", "50000", "New Lead", "Hot", ""]]
    _, folder = run_plan(fresh_sandbox, tmp_path, rows, monkeypatch)

    text = (folder / "plan.csv").read_text(encoding="utf-8-sig")
    assert "'+918000000001" in text
    assert all(not cell.startswith(("=", "+", "-", "@")) for line in csv.reader(text.splitlines()) for cell in line)
    assert read_plan(folder)[0]["changes"] == 'first_name: "Asha" → "=HYPERLINK(1)"'


def test_plan_without_key_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SF_API_KEY", raising=False)
    sheet, mapping = write_inputs(tmp_path, ROWS[:1])

    code = main(["run", str(sheet), "-m", str(mapping), "--plan", "--report-dir", str(tmp_path / "r")])

    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SF_API_KEY" in err


def test_plan_with_a_wrong_key_stops_after_one_request(fresh_sandbox: SandboxServer, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    sheet, mapping = write_inputs(tmp_path, ROWS)
    monkeypatch.setenv("SF_API_KEY", "wrong-key")

    code = main(["run", str(sheet), "-m", str(mapping), "--plan", "--base-url", fresh_sandbox.base_url,
                 "--report-dir", str(tmp_path / "r"), "--quiet"])

    assert code == 2
    assert capsys.readouterr().err == "superfone-import: error: UnAuthorized, Please Provide Valid API Key\n"
    assert len(fresh_sandbox.requests()) == 1


def test_plan_row_detects_a_shared_primary_phone() -> None:
    """Several leads with one primary phone: get-lead answers with a lead listing another phone first."""
    lead = {"id": 7, "first_name": "Vikram", "phones": [{"phone": "+919000000009"}, {"phone": "+919000000001"}]}
    plan = plan_row({"customer_phone": "+919000000001"}, {"+919000000001": lead}.get)
    assert (plan.action, plan.lead_id) == ("conflict", 7)
    assert "Customer phone exists in multiple contact" in plan.message


def test_plan_retries_server_errors_on_lookups(fresh_sandbox: SandboxServer, tmp_path: Path) -> None:
    # seed 2: the five catalog lists get through, then three lookups in a row answer 503
    fresh_sandbox.configure(fail_before=0.4, fault_reads=True, fault_seed=2)
    sheet, mapping = write_inputs(tmp_path, ROWS)
    options = RunOptions(base_url=fresh_sandbox.base_url, api_key=fresh_sandbox.api_key, rate=1000,
                         report_dir=tmp_path / "reports", retry=RetryPolicy(base=0.001, cap=0.01))

    try:
        result = Importer(sheet, mapping, options, kind=Plan()).run()
    finally:
        fresh_sandbox.configure(fail_before=0.0, fault_reads=False)  # later tests may share the server

    statuses = [entry["status"] for entry in fresh_sandbox.requests() if entry["path"].endswith("/api/lead")]
    assert statuses.count(503) == 3 and statuses.count(200) + statuses.count(404) == 6
    assert result.exit_code == 1
    assert result.summary["plan"] == {"create": 1, "update": 1, "unchanged": 1, "conflict": 2}
    assert [p["action"] for p in read_plan(result.folder)] == ["unchanged", "update", "create", "conflict",
                                                               "conflict"]


def test_a_plan_leaves_the_callers_options_alone(fresh_sandbox: SandboxServer, tmp_path: Path) -> None:
    sheet, mapping = write_inputs(tmp_path, ROWS)
    options = RunOptions(base_url=fresh_sandbox.base_url, api_key=fresh_sandbox.api_key, rate=1000,
                         report_dir=tmp_path / "reports")
    before = dataclasses.replace(options)
    result = Importer(sheet, mapping, options, kind=Plan()).run()
    assert result.summary["dry_run"] is True and result.summary["sent"] == 0
    assert options == before and options.dry_run is False  # the same options can run the import next


def test_plan_jsonl_holds_the_requests_and_the_values_read(fresh_sandbox: SandboxServer, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _, folder = run_plan(fresh_sandbox, tmp_path, ROWS, monkeypatch)

    header, *rows = [json.loads(line) for line in (folder / "plan.jsonl").read_text(encoding="utf-8").splitlines()]
    assert header["plan"] == 1 and header["org_id"] == 42 and header["base_url"] == fresh_sandbox.base_url
    assert header["input"] == str((tmp_path / "leads.csv").resolve())
    assert header["input_digest"] == hashlib.sha256((tmp_path / "leads.csv").read_bytes()).hexdigest()
    assert header["mapping_digest"] == load_mapping(tmp_path / "mapping.yaml").digest
    assert [(row["_row"], row["verdict"], row["lead_id"]) for row in rows] == [
        (2, "unchanged", 12345), (3, "update", 12348), (4, "create", None), (5, "conflict", 12345),
        (6, "conflict", None)]
    update = rows[1]
    assert update["requests"] == [{
        "create_customer_if_customer_phone_not_found": True, "customer_phone": "+919000000002",
        "first_name": "Meera", "last_name": "Iyer", "city": "Mumbai", "lead_stage_name": "Won",
        "customer_note": "Called", "add_phones": ["+919000000003"], "deal_value": 120000.5, "add_labels": ["Hot"]}]
    assert update["read"] == {"first_name": "Meera", "last_name": "Iyer", "city": "Chennai",
                              "lead_stage_name": "Qualified", "add_phones": ["+919000000003"],
                              "deal_value": 120000.5, "add_labels": []}
    assert rows[2]["read"] is None
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    # apply re-reads each lead it writes (row 3 and row 4) and sends their one request each
    assert summary["apply"] == {"requests": 4, "upserts": 2, "lookups": 2, "rate": 1000.0, "seconds": 0.0}


def test_plan_applies_field_policies_to_the_leads_it_reads(fresh_sandbox: SandboxServer, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SF_API_KEY", fresh_sandbox.api_key)
    sheet, mapping = write_inputs(tmp_path, ROWS[:3])
    mapping.write_text(mapping.read_text(encoding="utf-8")
                       .replace("  city: City\n", "  city: {column: City, policy: fill_empty}\n")
                       .replace("  lead_stage_name: Stage\n",
                                "  lead_stage_name: {column: Stage, policy: create_only}\n"),
                       encoding="utf-8")
    code = main(["run", str(sheet), "-m", str(mapping), "--plan", "--base-url", fresh_sandbox.base_url,
                 "--report-dir", str(tmp_path / "reports"), "--quiet", "--rate", "1000"])
    (folder,) = (tmp_path / "reports").iterdir()
    assert code == 0
    plan = read_plan(folder)
    assert [(p["action"], p["changes"]) for p in plan] == [
        ("unchanged", ""),  # Asha holds the sheet's city and stage already: nothing kept
        ("update", 'labels: + "Hot"; city: keeps "Chennai" (fill_empty; the sheet has "Mumbai"); '
                   'lead_stage_name: keeps "Qualified" (create_only; the sheet has "Won")'),
        ("create", ""),
    ]
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["kept"] == {"city": 1, "lead_stage_name": 1}
    assert capsys.readouterr().out.splitlines()[-2] == (
        "would keep by policy: city ×1 (fill_empty), lead_stage_name ×1 (create_only): the leads' own values "
        "would stay")
    assert fresh_sandbox.lead("+919000000002")["city"] == "Chennai"  # a plan never writes
    update = [json.loads(line) for line in (folder / "plan.jsonl").read_text(encoding="utf-8").splitlines()][2]
    assert "city" not in update["requests"][0] and "lead_stage_name" not in update["requests"][0]
    assert update["requests"][0]["first_name"] == "Meera" and "city" not in update["read"]
