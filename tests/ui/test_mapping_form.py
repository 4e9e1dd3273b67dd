"""The mapping as a form and back: what the form shows, what it saves, what it keeps without showing."""

from __future__ import annotations

from pathlib import Path

from importer.mapping import load_mapping
from importer.mapping.document import read_document
from importer.ui.mapping_form import form_rows, map_text, mapping_from_form, mapping_yaml, parse_map

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


def test_each_field_becomes_a_row_and_shapes_the_form_cannot_show_are_kept_as_yaml() -> None:
    data = {"version": "1", "fields": {
        "customer_phone": "Phone", "add_phones": ["Mobile", "Office"],
        "lead_stage_name": {"column": "Stage", "map": {"Prospect": "New Lead", "(none)": None}, "strict": "true"},
        "add_labels": {"value": ["Imported", "Hot"]},
        "assignee_user_phone": {"column": "Owner", "lookup": {"file": "o.csv", "key": "email", "value": "phone"}}}}
    rows = form_rows(data)
    assert [row.name for row in rows] == [*data["fields"], ""]  # and a blank row to add a field
    phone, phones, stage, labels, owner, _ = rows
    assert (phone.source, phone.column) == ("column", "Phone")
    assert (phones.source, phones.columns) == ("columns", ["Mobile", "Office"])
    assert stage.map_text == "Prospect = New Lead\n(none) = " and stage.strict
    assert not labels.editable and labels.yaml == "add_labels:\n  value:\n  - Imported\n  - Hot"
    assert owner.editable and owner.kept == ["lookup"]


def test_a_map_reads_back_as_written() -> None:
    table = {"Prospect": "New Lead", "Qualifed": "Qualified", "(none)": None}
    assert parse_map(map_text(table)) == table
    assert parse_map("\n a = b = c \n\n") == {"a": "b = c"}


def test_the_form_saves_a_mapping_the_loader_takes_keeping_what_it_does_not_show(tmp_path: Path) -> None:
    saved = read_document(MAPPINGS / "leadsquared.yaml").data
    rows = form_rows(saved)
    owner = next(index for index, row in enumerate(rows) if row.kept == ["lookup"])
    form: dict[str, object] = {"rows": len(rows), "region": "in", "create_if_missing": ""}
    for index, row in enumerate(rows):
        form.update({f"orig-{index}": row.name, f"field-{index}": row.name, f"source-{index}": row.source,
                     f"column-{index}": row.column, f"columns-{index}": row.columns, f"text-{index}": row.text,
                     f"type-{index}": row.type, f"split-{index}": row.split, f"default-{index}": row.default,
                     f"map-{index}": row.map_text, f"strict-{index}": "1" if row.strict else ""})
        if not row.editable:
            form[f"keep-{index}"] = "1"
    form[f"default-{owner}"] = "+919876543210"
    data = mapping_from_form(form, saved)
    assert data["defaults"]["region"] == "IN" and data["defaults"]["create_if_missing"] is False
    assert data["description"] == saved["description"]
    assert data["fields"]["assignee_user_phone"]["lookup"] == saved["fields"]["assignee_user_phone"]["lookup"]
    assert data["fields"]["assignee_user_phone"]["default"] == "+919876543210"
    owners = tmp_path / "sample_data" / "owners.csv"  # the preset's lookup file, relative to the mapping
    owners.parent.mkdir()
    owners.write_bytes((MAPPINGS.parent / "sample_data" / "owners.csv").read_bytes())
    path = tmp_path / "mappings" / "edited.yaml"
    path.parent.mkdir()
    path.write_text(mapping_yaml(data, "leads.csv"), encoding="utf-8")
    mapping = load_mapping(path)
    assert set(mapping.fields) == set(saved["fields"]) and not mapping.create_if_missing


def test_a_removed_row_goes_and_a_new_one_comes_in_its_short_form() -> None:
    saved = {"version": "1", "fields": {"customer_phone": "Phone", "city": "City"}}
    form = {"rows": "3", "region": "IN", "create_if_missing": "1",
            "orig-0": "customer_phone", "field-0": "customer_phone", "source-0": "column", "column-0": "Phone",
            "orig-1": "city", "field-1": "city", "source-1": "column", "column-1": "City", "remove-1": "1",
            "orig-2": "", "field-2": " add_phones ", "source-2": "columns", "columns-2": ["Mobile", "Office"]}
    assert mapping_from_form(form, saved)["fields"] == {"customer_phone": "Phone", "add_phones": ["Mobile", "Office"]}
