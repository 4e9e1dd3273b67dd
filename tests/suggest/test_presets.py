"""The migration presets (packaged in importer/suggest/presets/, linked from mappings/) and the sample exports in
sample_data/: they load, fit their exports and import into the sandbox with the expected result, row by row.
They are loaded as users run them, ``-m mappings/<preset>.yaml``, so their lookup files resolve from mappings/."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from importer.api.client import SuperfoneClient
from importer.mapping import load_mapping
from importer.models import Row
from importer.run.context.options import RunOptions
from importer.run.context.result import RunResult
from importer.run.journey.pipeline import Importer
from importer.sandbox import SandboxServer
from importer.sources import open_table
from importer.suggest.suggester import PRESETS, PRESETS_DIR, preset_path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data"
CATALOG = yaml.safe_load((SAMPLES / "catalog.yaml").read_text(encoding="utf-8"))
UNIQUE_STAGES = {s["title"] for s in CATALOG["lead_stages"]} - {"Follow-up"}

#: Headers of the exports the hubspot / salesforce / zoho presets expect, and one lead for each.
OTHER_EXPORTS: dict[str, dict[str, str]] = {
    "hubspot": {
        "Record ID": "501", "First Name": "Kavya", "Last Name": "Nair", "Email": "kavya@nair.example",
        "Phone Number": "+91 98450 77001", "Mobile Phone Number": "98450 77002",
        "Company Name": "Nair Spices", "City": "Kochi", "Lifecycle Stage": "Marketing Qualified Lead",
        "Lead Status": "",
        "Contact owner": "Priya Sharma", "Create Date": "2026-01-05 10:00",
    },
    "salesforce": {
        "Id": "00Q5g00000AbCdE", "FirstName": "Rohan", "LastName": "Joshi", "Email": "rohan@joshi.example",
        "Phone": "(020) 2612 3456", "MobilePhone": "+91 98450 77003", "Company": "Joshi Steel",
        "City": "Pune", "Street": "14 FC Road", "Website": "joshi.example", "Status": "Working - Contacted",
        "LeadSource": "Web", "Rating": "Hot", "Description": "Wants 40 seats", "Owner.Email":
        "arjun.mehta@acme-sales.in",
    },
    "zoho": {
        "Lead Id": "zcrm_77", "First Name": "Farhan", "Last Name": "Khan", "Email": "farhan@khan.example",
        "Phone": "", "Mobile": "098450 77004", "Company": "Khan Logistics", "City": "Mumbai",
        "Lead Status": "Pre-Qualified", "Lead Source": "Trade Show", "Lead Owner": "Ravi Patel",
        "Description": "Met at the Mumbai expo",
    },
}  # fmt: skip
EXPECTED_DRAFT: dict[str, dict[str, Any]] = {
    "hubspot": {"customer_phone": "+91 98450 77001", "lead_stage_name": "Qualified",
                "assignee_user_phone": "+919876543211", "add_phones": ["98450 77002"]},
    "salesforce": {"customer_phone": "(020) 2612 3456", "lead_stage_name": "Contacted",
                   "assignee_user_phone": "+919876543212", "add_labels": ["Hot"],
                   "additional_info": "Wants 40 seats"},
    "zoho": {"customer_phone": "098450 77004", "lead_stage_name": "Qualified",
             "assignee_user_phone": "+919876543210", "source": "Trade Show"},
}


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def sample_for(name: str, tmp_path: Path) -> Path:
    if name == "leadsquared":
        return SAMPLES / "leadsquared_leads.csv"
    if name == "pollybot":
        return SAMPLES / "pollybot_leads.jsonl"
    return write_csv(tmp_path / f"{name}_export.csv", [OTHER_EXPORTS[name]])


def checkout_preset(name: str) -> Path:
    """``mappings/<name>.yaml``: the link users pass with ``-m``; lookup files resolve next to it."""
    return ROOT / "mappings" / f"{name}.yaml"


def preset_data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(preset_path(name).read_text(encoding="utf-8"))
    return data


# --- presets, offline ------------------------------------------------------------------------------------


def test_every_preset_file_is_listed() -> None:
    linked = {path.stem for path in (ROOT / "mappings").glob("*.yaml")} - {"example"}
    assert linked == {path.stem for path in PRESETS_DIR.glob("*.yaml")} == set(PRESETS)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_and_fits_its_export(name: str, tmp_path: Path) -> None:
    mapping = load_mapping(checkout_preset(name))
    table = open_table(sample_for(name, tmp_path))
    mapping.check_columns(table.columns, table.path.name)  # raises ConfigError on a missing column
    assert "customer_phone" in mapping.fields


@pytest.mark.parametrize("name", PRESETS)
def test_preset_says_what_it_expects_and_what_to_adjust(name: str) -> None:
    text = preset_path(name).read_text(encoding="utf-8")
    assert text.startswith("# Preset: ")
    assert "Adjust before a real migration:" in text
    assert "superfone-import catalog" in text


@pytest.mark.parametrize("name", PRESETS)
def test_preset_stage_map_targets_the_accounts_stages(name: str) -> None:
    stage = preset_data(name)["fields"]["lead_stage_name"]
    targets = {target for target in stage["map"].values() if target}
    assert targets <= UNIQUE_STAGES
    assert {"New Lead", "Contacted", "Qualified", "Lost"} <= targets


@pytest.mark.parametrize("name", ["hubspot", "salesforce", "zoho"])
def test_other_crm_presets_map_their_export_row(name: str) -> None:
    mapping = load_mapping(checkout_preset(name))
    draft, issues = mapping.apply(Row(2, OTHER_EXPORTS[name]))
    assert issues == []
    assert draft.items() >= EXPECTED_DRAFT[name].items()
    assert draft["source_type"] == "CSV_UPLOAD"


def test_owners_table_holds_the_team_and_the_inactive_user() -> None:
    with (SAMPLES / "owners.csv").open(encoding="utf-8", newline="") as handle:
        owners = list(csv.DictReader(handle))
    assert [owner["phone"] for owner in owners] == [user["phone"] for user in CATALOG["users"]]
    emails = {owner["email"] for owner in owners}
    with (SAMPLES / "leadsquared_leads.csv").open(encoding="utf-8", newline="") as handle:
        sheet = list(csv.DictReader(handle))
    assert {row["OwnerIdEmailAddress"] for row in sheet} - emails == {"karan.shah@acme-sales.in"}


def test_samples_are_big_enough_and_nested() -> None:
    with (SAMPLES / "leadsquared_leads.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 50
    assert {"ProspectID", "mx_City", "mx_State", "OwnerIdEmailAddress", "ProspectStage"} <= set(rows[0])
    both = [row for row in rows if row["Phone"] and row["Mobile"]]
    assert len(both) >= 10
    leads = [json.loads(line) for line in (SAMPLES / "pollybot_leads.jsonl").read_text("utf-8").splitlines()]
    assert len(leads) >= 50
    assert all(isinstance(lead["metadata"]["interests"], list) for lead in leads)


# --- presets against the sandbox -------------------------------------------------------------------------


@pytest.fixture
def client(fresh_sandbox: SandboxServer) -> Iterator[SuperfoneClient]:
    client = SuperfoneClient(fresh_sandbox.base_url, fresh_sandbox.api_key)
    yield client
    client.close()


def run_import(server: SandboxServer, sheet: Path, preset: str, tmp_path: Path) -> RunResult:
    options = RunOptions(base_url=server.base_url, api_key=server.api_key, report_dir=tmp_path, fresh=True,
                         rate=500.0)
    return Importer(sheet, checkout_preset(preset), options).run()


def failures(result: RunResult) -> dict[str, str]:
    with (result.folder / "failures.csv").open(encoding="utf-8-sig", newline="") as handle:
        return {row["_row"]: row["_error"] for row in csv.DictReader(handle)}


def counts(result: RunResult) -> dict[str, int]:
    keys = ("rows_total", "valid", "invalid", "skipped", "sent", "succeeded", "failed", "in_doubt")
    return {key: result.summary[key] for key in keys}


def test_leadsquared_export_imports_into_the_sandbox(
    fresh_sandbox: SandboxServer, client: SuperfoneClient, tmp_path: Path
) -> None:
    result = run_import(fresh_sandbox, SAMPLES / "leadsquared_leads.csv", "leadsquared", tmp_path)

    assert counts(result) == {"rows_total": 60, "valid": 57, "invalid": 3, "skipped": 1, "sent": 56,
                              "succeeded": 54, "failed": 2, "in_doubt": 0}
    assert result.exit_code == 1
    assert result.summary["errors_by_code"] == {"invalid-phone": 1, "missing-phone": 1,
                                                "phone-owned-by-other-row": 1}
    assert result.summary["warnings_by_code"]["unknown-stage"] == 2  # rows 11 and 50: sent without their stage
    failed = failures(result)
    assert "not part of your team" in failed["17"]  # the inactive owner Neha
    assert "multiple contact" in failed["29"]  # +919000000001 belongs to two sandbox leads
    assert set(failed) == {"17", "20", "23", "29", "47"}  # row 12 is skipped, not failed

    both = client.get_lead("+917022140005")  # row 9: Phone 9845040005, Mobile 070221 40005
    assert both is not None
    assert [p["phone"] for p in both["phones"]] == ["+919845040005", "+917022140005"]
    assert both["lead_stage"]["title"] == "Qualified"
    assert both["assignee_user"]["first_name"] == "Ravi"  # ravi.patel@… through owners.csv
    assert both["source_type"] == "CSV_UPLOAD"

    equal = client.get_lead("+919845040003")  # row 7: Phone and Mobile are the same number
    assert equal is not None and [p["phone"] for p in equal["phones"]] == ["+919845040003"]
    assert (equal["first_name"], equal["last_name"], equal["city"]) == ("Sneha", "Das", "Pune")
    assert equal["address"]["text"] == "154 Link Road" and equal["deal_value"] == 75000.5

    mobile_only = client.get_lead("+917022140004")  # row 8: no Phone, the Mobile becomes the key
    assert mobile_only is not None and [p["phone"] for p in mobile_only["phones"]] == ["+917022140004"]

    assert client.get_lead("+919845040001") is not None  # row 5 "098450 40001"
    assert client.get_lead("+919845040002") is not None  # row 6 "+91-98450-40002"

    duplicate = client.get_lead("+919845040012")  # rows 12 and 26: the later row wins
    assert duplicate is not None and duplicate["lead_stage"]["title"] == "Qualified"

    unassigned = client.get_lead("+919845095028")  # row 14: owner missing from owners.csv
    assert unassigned is not None and unassigned["assignee_user"] is None

    asha = client.get_lead("+918000000001")  # row 32 updates the existing lead, keeping its phones
    assert asha is not None and asha["id"] == 12345 and asha["lead_stage"]["title"] == "Won"
    assert [p["phone"] for p in asha["phones"]] == ["+918000000001", "+918000000002"]

    do_not_call = client.get_lead("+919845019707")  # row 55: DoNotCall = 1
    assert do_not_call is not None
    assert [label["title"] for label in do_not_call["labels"]] == ["Do Not Call"]
    nurturing = client.get_lead("+919845071271")  # row 11: an unknown stage, left out; the lead is sent
    assert nurturing is not None and nurturing["lead_stage"] is None

    varun = client.get_lead("+919845000000")  # row 2: mx_Follow_Up_Date 2027-01-05 04:30:00 (UTC)
    assert varun is not None
    [task] = client.list_tasks(varun["id"])
    assert (task["type"], task["due_date"][:16]) == ("FOLLOW_UP_CALL", "2027-01-05T04:30")
    notes = fresh_sandbox.lead("+919845000000")["notes"]
    assert notes[0] == ("Imported from LeadSquared (ProspectID 0b49fd7d-e834-4862-9d48-f2a330eb2cd7, created "
                        "2025-11-01 10:00:00.000 UTC). Asked for a demo next week.")
    assert notes[-1] == "LeadSquared follow-up (Prospect): Asked for a demo next week."
    assert result.summary["tasks"] == {"succeeded": 42, "failed": 2}  # the 2 rows the API refused get no task


def test_pollybot_export_imports_into_the_sandbox(
    fresh_sandbox: SandboxServer, client: SuperfoneClient, tmp_path: Path
) -> None:
    result = run_import(fresh_sandbox, SAMPLES / "pollybot_leads.jsonl", "pollybot", tmp_path)

    assert counts(result) == {"rows_total": 55, "valid": 53, "invalid": 2, "skipped": 1, "sent": 52,
                              "succeeded": 52, "failed": 0, "in_doubt": 0}
    assert result.summary["errors_by_code"] == {"invalid-phone": 1, "missing-phone": 1}
    assert result.summary["warnings_by_code"]["unknown-stage"] == 1  # line 8: sent without its stage
    assert result.summary["warnings_by_code"]["invalid-email"] == 1

    kept = client.get_lead("+919123450010")  # lines 10 and 19: the later record wins
    assert kept is not None
    assert (kept["first_name"], kept["last_name"]) == ("Ananya", "Menon")  # the full name, split
    assert kept["lead_stage"]["title"] == "Qualified"
    assert sorted(label["title"] for label in kept["labels"]) == ["Demo Requested", "Warm"]
    assert kept["source_type"] == "OTHERS"
    assert kept["additional_info"].startswith("Job title: Procurement Lead\nCampaign: ")
    notes = fresh_sandbox.lead("+919123450010")["notes"]  # metadata.notes: in the lead's note
    assert any(note.startswith("Imported from PollyBot (lead lead_") and note.endswith(". Wants pricing for 10 seats")
               for note in notes)
    assert result.summary["tasks"] == {"succeeded": 45}  # line 8 is sent without its unknown stage, with its task
    [task] = client.list_tasks(kept["id"])  # follow_up_date 2027-01-22: a call due that day, 10:00 IST
    assert (task["type"], task["due_date"][:16]) == ("FOLLOW_UP_CALL", "2027-01-22T04:30")
    assert notes[-1] == "PollyBot follow-up: Wants pricing for 10 seats"  # the task's note, on the timeline

    converted = client.get_lead("+919123490056")  # line 25: converted → Won
    assert converted is not None
    assert converted["lead_stage"]["title"] == "Won" and converted["business_name"] == "Kaveri Logistics"

    for phone in ("+919123450003", "+919123450004", "+919123450005"):  # local formats of lines 3–5
        assert client.get_lead(phone) is not None
    single = client.get_lead("+919123439595")  # line 6: one-word name, no e-mail
    assert single is not None and single["first_name"] == "Rahul" and single["email"] is None
