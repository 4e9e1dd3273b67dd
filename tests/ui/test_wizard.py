"""The mapping wizard's steps, without a page: what each shows of a mapping, and what each writes back."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from importer.api.catalog import Catalog
from importer.mapping import load_mapping
from importer.mapping.document import read_document
from importer.models import Row
from importer.sources import open_table
from importer.suggest.suggester import PRESETS, preset_of, preset_path, suggest_mapping
from importer.ui.mapping_text import mapping_yaml
from importer.ui.wizard import choices, fields, roles, sheet

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def seed_catalog() -> Catalog:
    seed = yaml.safe_load((SAMPLE / "catalog.yaml").read_text(encoding="utf-8"))
    return Catalog.from_rows({"label": seed["labels"], "lead-stage": seed["lead_stages"],
                              "lead-group": seed["lead_groups"], "product": seed["products"]})


def as_read(text: str) -> dict[str, Any]:
    """``text`` read as the page reads a mapping (every scalar the text typed)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mapping.yaml"
        path.write_text(text, encoding="utf-8")
        return dict(read_document(path).data)


def suggested(catalog: Catalog | None = None) -> dict[str, Any]:
    return as_read(suggest_mapping(open_table(SAMPLE / "leads.csv"), catalog=catalog).yaml)


def role_of(data: dict[str, Any], columns: list[str]) -> dict[str, str]:
    return {item.column: item.role for item in roles.column_roles(data, columns)}


COLUMNS = list(open_table(SAMPLE / "leads.csv").columns)


def test_each_column_shows_what_it_becomes_and_other_phones_stand_in_for_the_phone() -> None:
    shown = role_of(suggested(), COLUMNS)
    assert shown == {"First Name": "first_name", "Last Name": "last_name", "Phone": "customer_phone",
                     "Mobile": "add_phones", "Email": "email", "Company": "business_name", "City": "city",
                     "Stage": "lead_stage_name", "Group": "lead_group_name", "Tags": "add_labels",
                     "Products": "add_products", "Deal Value": "deal_value", "Owner Phone": "assignee_user_phone",
                     "Source": "source", "Notes": "customer_note"}
    assert roles.role_words("add_labels", "|") == "Labels (one per '|')"
    assert roles.role_words("full_name") == "Full name (split)" and roles.role_words("") == "Don't import"


def test_a_column_changed_leaves_every_field_it_was_in_and_fills_its_new_one() -> None:
    data = suggested()
    before = roles.column_roles(data, COLUMNS)
    after = {"Mobile": "", "Notes": "", "Company": "additional_info", "City": "defaults.region_column",
             "First Name": "full_name", "Last Name": "", "Tags": "add_labels"}
    changed = roles.with_roles(data, before, after, {"Tags": "|"})
    assert changed["fields"]["customer_phone"] == {"columns": ["Phone"]}
    assert "add_phones" not in changed["fields"] and "customer_note" not in changed["fields"]
    assert changed["fields"]["additional_info"] == "Company" and "business_name" not in changed["fields"]
    assert changed["fields"]["full_name"] == "First Name" and "first_name" not in changed["fields"]
    assert changed["defaults"]["region_column"] == "City" and "city" not in changed["fields"]
    assert changed["fields"]["add_labels"] == data["fields"]["add_labels"]  # unchanged role: as it was
    assert data == suggested()  # the mapping given is left as it was
    assert role_of(changed, COLUMNS) == {**role_of(data, COLUMNS), **after}


def test_a_new_phone_column_comes_before_the_other_phones_that_stand_in() -> None:
    data = {"version": 1, "fields": {"customer_phone": {"columns": ["Phone", "Mobile"]}, "add_phones": ["Mobile"]}}
    before = roles.column_roles(data, ["Phone", "Mobile", "Work"])
    changed = roles.with_roles(data, before, {"Work": "customer_phone"})
    assert changed["fields"]["customer_phone"] == {"columns": ["Phone", "Work", "Mobile"]}
    again = roles.with_roles(data, before, {"Work": "add_phones"})
    assert again["fields"]["add_phones"] == ["Mobile", "Work"]
    assert again["fields"]["customer_phone"] == {"columns": ["Phone", "Mobile", "Work"]}


@pytest.mark.parametrize("preset", PRESETS)
def test_nothing_changed_in_a_step_leaves_any_mapping_exactly_as_it_was(preset: str) -> None:
    data = read_document(preset_path(preset)).data
    columns = sorted(roles.column_uses(data))
    before = roles.column_roles(data, columns)
    assert roles.with_roles(data, before, {item.column: item.role for item in before}) == data
    policies = fields.field_policies(data)
    assert fields.with_policies(data, policies, {item.field: item.policy for item in policies}) == data
    dates = fields.date_columns(data)
    assert fields.with_orders(data, dates, {item.key: item.chosen for item in dates}) == data
    for name in choices.value_field_names(data):
        spec = data["fields"][name]
        values = [(str(key), 1) for key in spec.get("map") or {}] if isinstance(spec, dict) else []
        view = choices.value_field(name, spec, values, None)
        assert choices.with_choices(data, view, {c.value: c.choice for c in view.choices}) == data
    assert preset_of(data) == preset


def test_values_show_the_account_names_with_the_best_guess_for_a_value_the_map_does_not_mention() -> None:
    catalog = seed_catalog()
    data = suggested()  # suggested without the account's names: the stage map names each value as it is
    spec = {"column": "Stage"}
    view = choices.value_field("lead_stage_name", spec, [("New Lead", 8), ("Qualifed", 1), ("Junk", 1)],
                               catalog.stages)
    new, typo, junk = view.choices
    assert (new.choice, new.guessed) == ("to:New Lead", False)
    assert (typo.meaning, typo.choice, typo.guessed) == ("keep", "to:Qualified", True)
    assert (junk.choice, junk.guessed) == ("keep", False)
    words = dict(typo.options)
    assert words["keep"] == "as in the sheet: Qualifed" and "keep" not in dict(new.options)
    assert words["empty"] == "leave empty" and words["skip"] == "don't import the row"
    assert words["to:Follow-up"] == "Follow-up (2 lead stages of the account have this name)"
    assert list(words)[:3] == ["to:New Lead", "to:Contacted", "to:Qualified"]
    assert data["fields"]["lead_stage_name"]["map"]["Qualifed"] == "Qualifed"


def test_values_chosen_are_written_in_the_map_and_dont_import_makes_it_strict(tmp_path: Path) -> None:
    data = {"version": 1, "fields": {"customer_phone": "Phone", "lead_stage_name": "Stage"}}
    counted = [("New Lead", 8), ("Qualifed", 1), ("Junk", 1), ("Lost", 1)]
    view = choices.value_field("lead_stage_name", "Stage", counted, seed_catalog().stages)
    changed = choices.with_choices(data, view, {"Junk": "skip", "Lost": "empty"})
    assert changed["fields"]["lead_stage_name"] == {
        "column": "Stage", "map": {"New Lead": "New Lead", "Qualifed": "Qualified", "Lost": ""}, "strict": True}
    again = choices.value_field("lead_stage_name", changed["fields"]["lead_stage_name"], counted,
                                seed_catalog().stages)
    assert [c.choice for c in again.choices] == ["to:New Lead", "to:Qualified", "skip", "empty"]
    assert not any(c.guessed for c in again.choices)
    plain = choices.with_choices(changed, again, {"Junk": "keep"})  # no value left out: not strict any more
    assert plain["fields"]["lead_stage_name"] == {"column": "Stage", "map": {
        "New Lead": "New Lead", "Qualifed": "Qualified", "Lost": ""}}  # Junk: sent as it is
    path = tmp_path / "m.yaml"
    path.write_text(mapping_yaml(changed, "leads.csv"), encoding="utf-8")
    _, issues = load_mapping(path).apply(Row(5, {"Phone": "9845012345", "Stage": "junk"}))
    assert [issue.code for issue in issues] == ["unmapped-value"] and issues[0].severity == "error"


def test_a_guess_shown_is_written_taken_or_turned_down() -> None:
    data = {"version": 1, "fields": {"customer_phone": "Phone", "lead_stage_name": "Stage"}}
    view = choices.value_field("lead_stage_name", "Stage", [("Qualifed", 1)], seed_catalog().stages)
    taken = choices.with_choices(data, view, {})
    assert taken["fields"]["lead_stage_name"] == {"column": "Stage", "map": {"Qualifed": "Qualified"}}
    turned_down = choices.with_choices(data, view, {"Qualifed": "keep"})
    assert turned_down["fields"]["lead_stage_name"] == {"column": "Stage", "map": {"Qualifed": "Qualifed"}}
    shown = choices.value_field("lead_stage_name", turned_down["fields"]["lead_stage_name"], [("Qualifed", 1)],
                                seed_catalog().stages)
    assert shown.choices[0].choice == "keep" and not shown.choices[0].guessed


def test_policies_in_words_only_those_a_field_can_take_and_the_default_written_as_nothing() -> None:
    data = {"version": 1, "defaults": {"policy": "fill_empty"},
            "fields": {"customer_phone": "Phone", "city": "City", "add_labels": {"column": "Tags", "split": ";"},
                       "full_name": "Name"}}
    shown = {item.field: (item.policy, item.allowed) for item in fields.field_policies(data)}
    assert shown == {"city": ("fill_empty", ["overwrite", "fill_empty", "create_only"]),
                     "add_labels": ("overwrite", ["overwrite", "create_only"]),
                     "full_name": ("fill_empty", ["overwrite", "fill_empty", "create_only"])}
    before = fields.field_policies(data)
    changed = fields.with_policies(data, before, {"city": "overwrite", "add_labels": "create_only",
                                                  "full_name": "fill_empty", "customer_phone": "create_only"})
    assert changed["fields"] == {"customer_phone": "Phone", "city": {"column": "City", "policy": "overwrite"},
                                 "add_labels": {"column": "Tags", "split": ";", "policy": "create_only"},
                                 "full_name": "Name"}
    back = fields.with_policies(changed, fields.field_policies(changed), {"city": "fill_empty"})
    assert back["fields"]["city"] == "City"
    assert fields.POLICY_WORDS == {"overwrite": "overwrite", "fill_empty": "fill blanks only",
                                   "create_only": "only on new leads"}


def rows(*cells: str) -> list[list[Row]]:
    return [[Row(number, {"Follow-up": text}) for number, text in enumerate(cells, start=2)]]


def test_a_date_column_shows_the_order_decided_and_saying_otherwise_writes_its_date_format() -> None:
    data = {"version": 1, "fields": {"customer_phone": "Phone"},
            "tasks": [{"type": "FOLLOW_UP_CALL", "due": "Follow-up"}]}
    found = fields.date_columns(data)
    fields.decide_orders(found, rows("03/04/2024", "25/01/2024 10:00"))
    assert [(item.key, item.decided, item.why) for item in found] == [
        ("tasks.0.due", "dmy", "its dates are written dd/mm/yyyy")]
    changed = fields.with_orders(data, found, {"tasks.0.due": "mdy"})
    assert changed["tasks"][0]["due"] == {"column": "Follow-up", "date_format": "%m/%d/%Y"}
    assert [item.chosen for item in fields.date_columns(changed)] == ["mdy"]
    unsure = fields.date_columns(data)
    fields.decide_orders(unsure, rows("03/04/2024", "05/06/2024"))
    assert unsure[0].decided == "" and "fit both dd/mm/yyyy and mm/dd/yyyy" in unsure[0].why
    assert fields.with_orders(changed, fields.date_columns(changed), {"tasks.0.due": ""})["tasks"][0]["due"] == \
        "Follow-up"


def test_values_are_counted_case_and_spaces_ignored_and_labels_one_per_separator() -> None:
    counted, read, whole = sheet.count_values(open_table(SAMPLE / "leads.csv"), {
        "lead_stage_name": "Stage", "add_labels": {"column": "Tags", "split": ";"}})
    assert (read, whole) == (24, True)
    assert counted["lead_stage_name"][:3] == [("New Lead", 8), ("Contacted", 6), ("Qualified", 3)]
    assert ("Platinum", 1) in counted["add_labels"] and counted["add_labels"][0] == ("Hot", 7)


def test_the_wizard_to_yaml_and_back_shows_the_same_choices_and_writes_the_same_text(tmp_path: Path) -> None:
    """Every step changed once; the YAML written reads back to the same mapping, and that mapping shows the same
    choices in every step and writes the same YAML again."""
    catalog = seed_catalog()
    table = open_table(SAMPLE / "leads.csv")
    data = suggested(catalog)
    data = roles.with_roles(data, roles.column_roles(data, COLUMNS), {"Notes": "", "Source": "additional_info"})
    data = _choose(data, table, catalog, {"Events": "skip", "Platinum": "empty", "Lost": "to:Won"})
    data = fields.with_policies(data, fields.field_policies(data), {"city": "fill_empty",
                                                                    "lead_stage_name": "create_only"})
    text = mapping_yaml(data, "leads.csv")
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    load_mapping(path).check_columns(table.columns, "leads.csv")
    read_back = as_read(text)
    assert _shown(read_back, table, catalog) == _shown(data, table, catalog)
    unchanged = _choose(read_back, table, catalog, {})
    assert unchanged == read_back  # nothing chosen: nothing written
    assert mapping_yaml(read_back, "leads.csv") == text
    assert read_back["fields"]["lead_group_name"] == {"column": "Group", "map": {
        "Inbound": "Inbound", "Outbound": "Outbound", "Partners": "Partners"}, "strict": "true"}
    assert read_back["fields"]["city"] == {"column": "City", "policy": "fill_empty"}


def _choose(data: dict[str, Any], table: Any, catalog: Catalog, wanted: dict[str, str]) -> dict[str, Any]:
    names = choices.value_field_names(data)
    counted, _, _ = sheet.count_values(table, {name: data["fields"][name] for name in names})
    for name in names:
        view = choices.value_field(name, data["fields"][name], counted[name], choices.names_for(name, catalog))
        posted = {c.value: wanted.get(c.value, c.choice) for c in view.choices}
        data = choices.with_choices(data, view, posted)
    return data


def _shown(data: dict[str, Any], table: Any, catalog: Catalog) -> list[Any]:
    names = choices.value_field_names(data)
    counted, _, _ = sheet.count_values(table, {name: data["fields"][name] for name in names})
    values = [(name, [(c.value, c.choice) for c in choices.value_field(
        name, data["fields"][name], counted[name], choices.names_for(name, catalog)).choices]) for name in names]
    policies = [(item.field, item.policy) for item in fields.field_policies(data)]
    return [role_of(data, COLUMNS), values, policies]
