"""``mapping suggest``: known exports start from their preset; unknown sheets are guessed from their headers
and values; every suggestion loads with load_mapping and fits the sheet it was made for."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from importer.errors import ConfigError
from importer.mapping import Mapping, load_mapping
from importer.models import Row
from importer.sources import open_table
from importer.suggest.headers import guess_header
from importer.suggest.render import flow
from importer.suggest.suggester import PRESETS, PRESETS_DIR, Suggestion, preset_path, suggest_mapping

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data"


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def suggest_file(sheet: Path, tmp_path: Path) -> tuple[Suggestion, Mapping, dict[str, Any]]:
    """Suggest for ``sheet``, save the YAML, load it and check it against the sheet's columns."""
    table = open_table(sheet)
    suggestion = suggest_mapping(table)
    saved = tmp_path / "suggested.yaml"
    saved.write_text(suggestion.yaml, encoding="utf-8")
    mapping = load_mapping(saved)
    mapping.check_columns(table.columns, table.path.name)
    return suggestion, mapping, yaml.safe_load(suggestion.yaml)["fields"]


# --- known exports -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sheet", "preset", "phone"),
    [("leadsquared_leads.csv", "leadsquared", "Phone"), ("pollybot_leads.jsonl", "pollybot", "phone")],
)
def test_sample_exports_are_recognised(sheet: str, preset: str, phone: str, tmp_path: Path) -> None:
    suggestion, mapping, fields = suggest_file(SAMPLES / sheet, tmp_path)

    assert suggestion.preset == preset and suggestion.score == 1.0
    assert mapping.column_for("customer_phone") == phone
    assert fields["lead_stage_name"] == yaml.safe_load(preset_path(preset).read_text("utf-8"))["fields"][
        "lead_stage_name"
    ]
    assert "superfone-import catalog" in suggestion.yaml
    assert suggestion.unmapped
    for column in suggestion.unmapped:
        assert column in suggestion.yaml.split("# Columns not mapped")[1]


def test_leadsquared_owner_lookup_becomes_a_commented_line(tmp_path: Path) -> None:
    suggestion, mapping, fields = suggest_file(SAMPLES / "leadsquared_leads.csv", tmp_path)
    assert "assignee_user_phone" not in fields  # its owners table lives next to the preset, not here
    assert "  # assignee_user_phone: {column: OwnerIdEmailAddress, lookup: {file: owners.csv, key: email" \
           in suggestion.yaml
    assert "OwnerIdEmailAddress" in suggestion.unmapped
    note = "Imported from LeadSquared (ProspectID {ProspectID}, created {CreatedOn} UTC). {Notes}"
    assert fields["customer_note"] == {"template": note}


@pytest.mark.parametrize(("sample", "due", "kind", "timezone"), [
    ("leadsquared_leads.csv", "mx_Follow_Up_Date", "datetime", "UTC"),
    ("pollybot_leads.jsonl", "metadata.follow_up_date", "date", None)])
def test_a_suggestion_keeps_the_presets_tasks_and_time_zone(sample: str, due: str, kind: str, timezone: str | None,
                                                            tmp_path: Path) -> None:
    suggestion, mapping, _ = suggest_file(SAMPLES / sample, tmp_path)
    data = yaml.safe_load(suggestion.yaml)
    assert [(task["type"], task["due"]) for task in data["tasks"]] == [
        ("FOLLOW_UP_CALL", {"column": due, "type": kind})]
    assert data["defaults"].get("timezone") == timezone
    assert mapping.has_tasks and due not in suggestion.unmapped


def test_a_preset_task_whose_due_column_is_missing_is_left_out(tmp_path: Path) -> None:
    header = ["ProspectID", "FirstName", "Phone", "ProspectStage", "Notes", "mx_City", "EmailAddress", "LastName",
              "Company", "Source", "Website", "mx_Street1", "Revenue", "OwnerIdEmailAddress", "CreatedOn"]
    sheet = write_csv(tmp_path / "ls.csv", header, [["x1", "A", "9845012345"] + [""] * 12])
    suggestion, mapping, _ = suggest_file(sheet, tmp_path)
    assert "tasks" not in yaml.safe_load(suggestion.yaml) and not mapping.has_tasks


def test_preset_fields_whose_columns_are_missing_are_left_out(tmp_path: Path) -> None:
    header = ["ProspectID", "FirstName", "LastName", "EmailAddress", "Phone", "Company", "Source",
              "ProspectStage", "mx_City", "Notes", "OwnerIdEmailAddress", "mx_Street1", "Website", "Revenue"]
    sheet = write_csv(tmp_path / "ls.csv", header, [["x1", "A", "B", "a@b.in", "9845012345"] + [""] * 9])
    suggestion, mapping, fields = suggest_file(sheet, tmp_path)

    assert suggestion.preset == "leadsquared" and suggestion.score is not None and suggestion.score < 1
    assert fields["customer_phone"] == {"columns": ["Phone"]}
    assert "add_phones" not in fields and "add_products" not in fields and "add_labels" not in fields
    assert "left out of the preset (columns missing): add_phones (Mobile)" in suggestion.yaml


EXPORT_HEADERS = {
    "hubspot": ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
                "Company Name", "City", "State/Region", "Lifecycle Stage", "Lead Status", "Contact owner"],
    "salesforce": ["Id", "FirstName", "LastName", "Email", "Phone", "MobilePhone", "Company", "City", "State",
                   "Status", "LeadSource", "Rating", "Owner.Email", "CreatedDate"],
    "zoho": ["Lead Id", "First Name", "Last Name", "Email", "Phone", "Mobile", "Company", "City",
             "Lead Status", "Lead Source", "Lead Owner", "Created Time"],
}  # fmt: skip


@pytest.mark.parametrize("name", ["hubspot", "salesforce", "zoho"])
def test_other_crm_exports_are_recognised(name: str, tmp_path: Path) -> None:
    header = EXPORT_HEADERS[name]
    row = ["98450 11111" if "Phone" in column else "" for column in header]
    sheet = write_csv(tmp_path / "export.csv", header, [row])
    suggestion, mapping, fields = suggest_file(sheet, tmp_path)
    assert suggestion.preset == name
    assert suggestion.score is not None and suggestion.score >= 0.6
    assert "lead_stage_name" in fields and "assignee_user_phone" not in fields


def test_a_generic_sheet_is_not_taken_for_a_crm_export(tmp_path: Path) -> None:
    # leads.csv shares First Name, Email, Phone, Mobile, Company, City with Zoho, but not its Lead Status.
    suggestion, mapping, fields = suggest_file(SAMPLES / "leads.csv", tmp_path)
    assert suggestion.preset is None
    assert fields["customer_phone"] == {"columns": ["Phone", "Mobile"]}
    assert fields["add_phones"] == ["Mobile"]
    assert fields["deal_value"] == {"column": "Deal Value", "type": "number"}
    assert fields["assignee_user_phone"] == "Owner Phone"
    assert fields["add_labels"] == {"column": "Tags", "split": ";"}
    assert fields["lead_stage_name"]["column"] == "Stage"
    assert fields["lead_stage_name"]["map"]["Qualifed"] == "Qualifed"  # a scaffold: values as in the sheet
    assert fields["lead_group_name"]["column"] == "Group"
    assert fields["source_type"] == {"value": "CSV_UPLOAD"}
    assert suggestion.unmapped == []
    draft, issues = mapping.apply(Row(2, {"Phone": "98450 12345", "Tags": "Hot;VIP", "Stage": "won",
                                          "Deal Value": "₹ 1,20,000"}))
    assert issues == []
    assert draft["add_labels"] == ["Hot", "VIP"] and draft["deal_value"] == 120000
    assert draft["lead_stage_name"] == "Won"


def test_preset_helpers() -> None:
    assert preset_path("zoho") == ROOT / "importer" / "suggest" / "presets" / "zoho.yaml"
    assert all(preset_path(name).is_file() for name in PRESETS)
    with pytest.raises(ConfigError, match="unknown preset 'pipedrive'"):
        preset_path("pipedrive")


def test_no_presets_folder_means_guessing(tmp_path: Path) -> None:
    table = open_table(SAMPLES / "leadsquared_leads.csv")
    suggestion = suggest_mapping(table, presets_dir=tmp_path / "nowhere")
    assert suggestion.preset is None and suggestion.score is None
    fields = yaml.safe_load(suggestion.yaml)["fields"]
    assert fields["customer_phone"] == {"columns": ["Phone", "Mobile"]}
    assert fields["email"] == "EmailAddress" and fields["city"] == "mx_City"
    assert fields["first_name"] == "FirstName" and fields["lead_stage_name"]["column"] == "ProspectStage"


# --- header synonyms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Mobile No", "phone"), ("Mobile No.", "phone"), ("Contact Number", "phone"), ("WhatsApp", "phone"),
        ("Cell", "phone"), ("whatsapp_number", "phone"), ("Moblie No", "phone"),
        ("Alternate Mobile No", "phone"),
        ("E-mail", "email"), ("Email ID", "email"), ("customerEmailId", "email"), ("EMAIL_ADDRESS", "email"),
        ("Organisation", "business_name"), ("Firm", "business_name"), ("Company Name", "business_name"),
        ("Compnay", "business_name"), ("metadata.company", "business_name"),
        ("Lead Owner", "owner"), ("OwnerIdEmailAddress", "owner"), ("Assigned To", "owner"),
        ("Stage", "lead_stage_name"), ("Status", "lead_stage_name"), ("Lead Status", "lead_stage_name"),
        ("Tags", "add_labels"), ("Labels", "add_labels"), ("Remarks", "customer_note"),
        ("Comments", "customer_note"), ("Description", "additional_info"), ("Amount", "deal_value"),
        ("Value", "deal_value"), ("Deal Size", "deal_value"), ("First_Name", "first_name"),
        ("LAST NAME", "last_name"), ("Surname", "last_name"), ("Full Name", "full_name"),
        ("Name", "full_name"),
        ("mx_City", "city"), ("Town", "city"), ("Address Line 2", "address.additional"),
        ("Street Address", "address.text"), ("Lead Source", "source"), ("Company Website", "website"),
        ("Owner Phone", "assignee_user_phone"), ("Country", "country"), ("Products", "add_products"),
    ],
)  # fmt: skip
def test_header_synonyms(header: str, field: str) -> None:
    guess = guess_header(header)
    assert guess is not None and guess.field == field


@pytest.mark.parametrize("header", ["State", "Pincode", "ProspectID", "Created On", "Job Title", "zzz", "#"])
def test_headers_without_a_field(header: str) -> None:
    assert guess_header(header) is None


def test_exact_synonyms_beat_weak_ones() -> None:
    stage, status = guess_header("Stage"), guess_header("Status")
    assert stage is not None and status is not None and stage.score > status.score


# --- guessing an unknown sheet -------------------------------------------------------------------------

UNKNOWN_HEADER = ["Sr No", "Customer Name", "WhatsApp", "Mobile No", "E-mail", "Alt Email", "Organisation",
                  "Lead Owner", "Status", "Deal Size", "Tags", "Remarks", "Pincode", "Country", "_row"]
UNKNOWN_ROWS = [
    ["1", "Asha Kumar", "", "98450 11111", "asha@x.in", "", "Acme", "ravi@acme.in", "Hot lead", "50,000",
     "Hot, VIP", "call back", "560001", "IN", "2"],
    ["2", "Ravi Rao", "+91 98450 22222", "98450 22223", "", "ravi@y.in", "Rao & Co", "priya@acme.in", "Won",
     "", "", "", "560002", "IN", "3"],
    ["3", "Meena", "", "98450 33333", "meena@z.in", "", "", "ravi@acme.in", "hot lead", "1,00,000", "Cold",
     "", "560003", "AE", "4"],
]  # fmt: skip


def test_unknown_sheet_guesses(tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "leads.csv", UNKNOWN_HEADER, UNKNOWN_ROWS)
    suggestion, mapping, fields = suggest_file(sheet, tmp_path)

    assert suggestion.preset is None
    # Mobile No is filled on every row, WhatsApp on one: the fuller column is the primary phone.
    assert fields["customer_phone"] == {"columns": ["Mobile No", "WhatsApp"]}
    assert fields["add_phones"] == ["WhatsApp"]
    assert fields["full_name"] == "Customer Name" and "first_name" not in fields
    assert fields["email"] == ["E-mail", "Alt Email"]
    assert fields["business_name"] == "Organisation"
    assert fields["deal_value"] == {"column": "Deal Size", "type": "number"}
    assert fields["add_labels"] == {"column": "Tags", "split": ","}
    assert fields["customer_note"] == "Remarks"
    assert fields["lead_stage_name"] == {"column": "Status", "map": {"Hot lead": "Hot lead", "Won": "Won"}}
    assert "assignee_user_phone" not in fields
    commented = "# assignee_user_phone: {column: Lead Owner, lookup: {file: owners.csv, key: email"
    assert commented in suggestion.yaml
    assert yaml.safe_load(suggestion.yaml)["defaults"]["region_column"] == "Country"
    assert suggestion.unmapped == ["Sr No", "Lead Owner", "Pincode"]  # _row is never mapped nor listed
    assert "whole name" in suggestion.yaml  # the full-name caveat is spelt out

    draft, issues = mapping.apply(Row(2, dict(zip(UNKNOWN_HEADER, UNKNOWN_ROWS[1], strict=True))))
    assert issues == []
    assert draft["customer_phone"] == "98450 22223" and draft["add_phones"] == ["+91 98450 22222"]
    assert draft["email"] == ["ravi@y.in"]


def test_phone_column_found_by_its_values(tmp_path: Path) -> None:
    header = ["Ref", "Reach at", "Who"]
    rows = [["1001", "98450 11111", "A"], ["1002", "+91 98450 22222", "B"], ["1003", "098450 33333", "C"]]
    suggestion, mapping, fields = suggest_file(write_csv(tmp_path / "s.csv", header, rows), tmp_path)
    assert fields["customer_phone"] == "Reach at"
    assert "(its values)" in suggestion.yaml
    assert suggestion.unmapped == ["Ref", "Who"]


def test_header_contradicted_by_values_is_not_mapped(tmp_path: Path) -> None:
    header = ["Phone", "Phone Type", "Email Opt Out", "Value"]
    rows = [["9845011111", "Mobile", "false", "high"], ["9845022222", "Landline", "true", "low"]]
    suggestion, _, fields = suggest_file(write_csv(tmp_path / "s.csv", header, rows), tmp_path)
    assert fields["customer_phone"] == "Phone"
    assert not {"add_phones", "email", "deal_value"} & set(fields)
    assert suggestion.unmapped == ["Phone Type", "Email Opt Out", "Value"]


def test_a_sheet_without_phones_still_gets_a_loadable_mapping(tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "s.csv", ["Name", "City"], [["Asha", "Pune"]])
    suggestion, mapping, fields = suggest_file(sheet, tmp_path)
    assert fields["customer_phone"] == "Name"
    assert "NO phone-like column found" in suggestion.yaml


def test_awkward_headers_and_values_are_quoted(tmp_path: Path) -> None:
    header = ["Mobile: primary", "#Tags", "Stage [old]", "yes", "E-mail, work"]
    rows = [["98450 11111", "a|b", "1", "x", "a@b.in"], ["98450 22222", "", "null", "y", ""]]
    suggestion, mapping, fields = suggest_file(write_csv(tmp_path / "s.csv", header, rows), tmp_path)
    assert fields["customer_phone"] == "Mobile: primary"
    assert fields["lead_stage_name"] == {"column": "Stage [old]", "map": {"1": "1", "null": "null"}}
    assert fields["email"] == "E-mail, work"
    assert mapping.apply(Row(2, dict(zip(header, rows[0], strict=True))))[0]["lead_stage_name"] == "1"


@pytest.mark.parametrize(
    ("value", "text"),
    [(";", '";"'), ("Phone", "Phone"), ("1", '"1"'), ("a: b", '"a: b"'), (None, "null"), (True, "true"),
     ("x\ny", '"x\\ny"'), ({"a": ["b", "c d"]}, "{a: [b, c d]}"), ("Zoë", "Zoë")],
)  # fmt: skip
def test_flow_yaml(value: Any, text: str) -> None:
    assert flow(value) == text
    assert yaml.safe_load(f"k: {text}")["k"] == (value if value is not True else True)


@pytest.mark.parametrize("name", PRESETS)
def test_mappings_folder_links_to_the_packaged_presets(name: str) -> None:
    checkout = ROOT / "mappings" / f"{name}.yaml"
    assert checkout.is_symlink() and os.readlink(checkout) == f"../importer/suggest/presets/{name}.yaml"
    assert checkout.resolve() == (PRESETS_DIR / f"{name}.yaml").resolve()


def test_lookup_files_resolve_next_to_the_path_given_not_the_link_target() -> None:
    mapping = load_mapping(ROOT / "mappings" / "leadsquared.yaml")  # ../sample_data/owners.csv from mappings/
    draft, _ = mapping.apply(Row(2, {"Phone": "98450 12345", "OwnerIdEmailAddress": "ravi.patel@acme-sales.in"}))
    assert draft["assignee_user_phone"] == "+919876543210"
    with pytest.raises(ConfigError, match=r"presets/\.\./sample_data/owners\.csv' not found"):
        load_mapping(preset_path("leadsquared"))


def test_with_the_account_names_a_stage_or_group_column_maps_only_the_values_that_are_not_names() -> None:
    from importer.api.catalog import Catalog

    seed = yaml.safe_load((SAMPLES / "catalog.yaml").read_text(encoding="utf-8"))
    catalog = Catalog.from_rows({"lead-stage": seed["lead_stages"], "lead-group": seed["lead_groups"]})
    fields = yaml.safe_load(suggest_mapping(open_table(SAMPLES / "leads.csv"), catalog=catalog).yaml)["fields"]
    assert fields["lead_stage_name"] == {"column": "Stage", "map": {"Qualifed": "Qualified", "Propsal": "Proposal"}}
    assert fields["lead_group_name"] == "Group"  # every group of the sheet is a name of the account
