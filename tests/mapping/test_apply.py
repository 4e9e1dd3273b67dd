"""Mapping.apply: drafts with API field names, blank cells left out, row problems as Issue records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from importer.errors import ConfigError
from importer.mapping import Mapping, load_mapping
from importer.models import Issue, Row

FLAG = "create_customer_if_customer_phone_not_found"


def mapping_of(tmp_path: Path, fields: str, defaults: str = "") -> Mapping:
    text = (
        "version: 1\n" + (f"defaults:\n{defaults}" if defaults else "") + "fields:\n  customer_phone: Phone\n"
    )
    path = tmp_path / "m.yaml"
    path.write_text(text + fields, encoding="utf-8")
    return load_mapping(path)


def apply(mapping: Mapping, number: int = 2, **cells: str) -> tuple[dict[str, Any], list[Issue]]:
    return mapping.apply(Row(number, {key.replace("_", " "): value for key, value in cells.items()}))


def test_plain_columns_are_stripped_and_blank_cells_left_out(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  first_name: First Name\n  last_name: Last Name\n  city: City\n")
    draft, issues = apply(mapping, Phone=" 98450 12345 ", First_Name="  Asha ", Last_Name="   ")
    assert draft == {FLAG: True, "customer_phone": "98450 12345", "first_name": "Asha"}
    assert issues == []


def test_create_flag_follows_defaults(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "", defaults="  create_if_missing: no\n")
    assert mapping.create_if_missing is False
    assert apply(mapping, Phone="1")[0] == {FLAG: False, "customer_phone": "1"}


def test_create_flag_per_row_falls_back_to_defaults(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, f"  {FLAG}: Create\n", defaults="  create_if_missing: false\n")
    assert apply(mapping, Phone="1", Create="Yes")[0][FLAG] is True
    assert apply(mapping, Phone="1", Create="")[0][FLAG] is False
    draft, issues = apply(mapping, Phone="1", Create="maybe")
    assert draft[FLAG] is False
    message = "'maybe' is not true or false (expected true/false, yes/no, y/n, 1/0)"
    assert issues == [Issue(2, "Create", "warning", "invalid-bool", f"{message}; it was left out", "maybe")]
    strict = mapping_of(tmp_path, f"  {FLAG}: {{column: Create, on_invalid: reject}}\n")
    assert apply(strict, Phone="1", Create="maybe")[1] == [Issue(2, "Create", "error", "invalid-bool", message,
                                                                 "maybe")]


def test_phone_fields_stay_raw(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  assignee_user_phone: Owner\n  add_phones: [Mobile, Office]\n")
    draft, _ = apply(
        mapping, Phone="(080) 4123-4567", Owner=" 98765 43210 ", Mobile="+91-99000", Office="0091 97"
    )
    assert draft["customer_phone"] == "(080) 4123-4567"
    assert draft["assignee_user_phone"] == "98765 43210"
    assert draft["add_phones"] == ["+91-99000", "0091 97"]


@pytest.mark.parametrize(
    ("fields", "cells", "expected"),
    [
        ("  add_labels: Tags\n", {"Tags": " Hot;VIP "}, ["Hot;VIP"]),
        ("  add_labels: {column: Tags, split: ';'}\n", {"Tags": " Hot; ;VIP;Hot ; "}, ["Hot", "VIP"]),
        ("  add_labels: [A, B]\n", {"A": "x", "B": " "}, ["x"]),
        ("  add_labels: {columns: [A, B], split: ','}\n", {"A": "x, y", "B": "y,z"}, ["x", "y", "z"]),
        ("  add_labels: {column: Tags, split: ';'}\n", {"Tags": " ; "}, None),
        ("  add_labels: {column: Tags, split: ';', default: 'New;Web'}\n", {"Tags": ""}, ["New", "Web"]),
        (
            "  add_labels: {column: Tags, split: ';', map: {h: Hot, hot: Hot}}\n",
            {"Tags": "h;hot;HOT"},
            ["Hot"],
        ),
        ("  add_labels: {column: Tags, split: ';', map: {none: null}}\n", {"Tags": "none;VIP"}, ["VIP"]),
        ("  remove_labels: {value: [Cold, Cold, Lost]}\n", {}, ["Cold", "Lost"]),
        ("  add_products: {template: '{Plan} Plan'}\n", {"Plan": "Growth"}, ["Growth Plan"]),
    ],
)
def test_list_fields(tmp_path: Path, fields: str, cells: dict[str, str], expected: list[str] | None) -> None:
    mapping = mapping_of(tmp_path, fields)
    draft, issues = mapping.apply(Row(2, {"Phone": "1", **cells}))
    key = fields.split(":")[0].strip()
    assert draft.get(key) == expected
    assert issues == []


def test_constant_lists_are_fresh_per_row(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  add_labels: {value: [Imported]}\n")
    first, _ = apply(mapping, Phone="1")
    first["add_labels"].append("changed")
    assert apply(mapping, Phone="2")[0]["add_labels"] == ["Imported"]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("50000", 50000),
        ("50,000", 50000),
        ("1,50,000", 150000),
        ("₹ 50,000", 50000),
        ("$1,200.50", 1200.5),
        ("50000.0", 50000),
        (" 7e3 ", 7000),
        ("Rs. 5,000/-", 5000),
        ("-12.5", -12.5),
        ("5 USD", 5),
    ],
)
def test_numbers(tmp_path: Path, cell: str, expected: float) -> None:
    mapping = mapping_of(tmp_path, "  deal_value: Deal Value\n")
    draft, issues = apply(mapping, Phone="1", Deal_Value=cell)
    assert draft["deal_value"] == expected
    assert type(draft["deal_value"]) is type(expected)
    assert issues == []


@pytest.mark.parametrize("cell", ["abc", "1,5", "nan", "inf", "1e999", "12-34", "1.2.3", "₹", "1.5L-2L", "call"])
def test_not_a_number_is_left_out_with_a_warning_or_rejects_the_row(tmp_path: Path, cell: str) -> None:
    dropping = mapping_of(tmp_path, "  deal_value: {column: Deal Value, type: number}\n")
    draft, issues = apply(dropping, 7, Phone="1", Deal_Value=cell)
    assert "deal_value" not in draft
    message = f"{cell!r} is not a number"
    assert issues == [Issue(7, "Deal Value", "warning", "invalid-number", f"{message}; it was left out", cell)]
    rejecting = mapping_of(tmp_path, "  deal_value: {column: Deal Value, type: number, on_invalid: reject}\n")
    draft, issues = apply(rejecting, 7, Phone="1", Deal_Value=cell)
    assert "deal_value" not in draft
    assert issues == [Issue(7, "Deal Value", "error", "invalid-number", message, cell)]


def test_address_parts_build_a_nested_object(tmp_path: Path) -> None:
    fields = (
        "  address.text: Street\n  address.initials: {value: KA}\n"
        "  address.latitude: Lat\n  address.longitude: Lon\n"
    )
    mapping = mapping_of(tmp_path, fields)
    draft, _ = apply(mapping, Phone="1", Street=" 1 MG Road ", Lat="12.97", Lon="")
    assert draft["address"] == {"initials": "KA", "text": "1 MG Road", "latitude": 12.97}
    assert mapping_of(tmp_path, "  address.text: Street\n").apply(Row(2, {"Phone": "1"}))[0] == {
        FLAG: True,
        "customer_phone": "1",
    }


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("true", True),
        ("YES", True),
        ("y", True),
        ("1", True),
        ("False", False),
        ("no", False),
        ("N", False),
        ("0", False),
    ],
)
def test_bools(tmp_path: Path, cell: str, expected: bool) -> None:
    mapping = mapping_of(tmp_path, f"  {FLAG}: {{column: Create, type: bool}}\n")
    assert apply(mapping, Phone="1", Create=cell)[0][FLAG] is expected


def test_invalid_email_is_a_warning_and_only_that_address_is_dropped(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  email: {columns: [Email, Email 2], split: ','}\n")
    draft, issues = apply(mapping, Phone="1", Email="a@example.com, nope@example", Email_2="b@example.in")
    assert draft["email"] == ["a@example.com", "b@example.in"]
    message = "'nope@example' is not an e-mail address; it was left out"
    assert issues == [Issue(2, "Email", "warning", "invalid-email", message, "nope@example")]
    draft, issues = apply(mapping, Phone="1", Email="asha at example.com")
    assert "email" not in draft and [issue.code for issue in issues] == ["invalid-email"]


def test_email_type_string_skips_the_check(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  email: {column: Email, type: string}\n")
    assert apply(mapping, Phone="1", Email="whatever")[0]["email"] == ["whatever"]


STAGE_MAP = (
    "  lead_stage_name: {column: Stage, map: {Prospect: New Lead, Customer: Won, '(none)': null, skip: ''}}\n"
)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Prospect", "New Lead"),
        (" prospect ", "New Lead"),
        ("CUSTO MER", "Won"),
        ("Qualified", "Qualified"),
        ("(none)", None),
        ("skip", "<absent>"),
        ("", "<absent>"),
    ],
)
def test_map(tmp_path: Path, cell: str, expected: str | None) -> None:
    draft, issues = apply(mapping_of(tmp_path, STAGE_MAP), Phone="1", Stage=cell)
    assert draft.get("lead_stage_name", "<absent>") == expected
    assert issues == []


def test_map_to_null_sends_json_null(tmp_path: Path) -> None:
    draft, _ = apply(mapping_of(tmp_path, STAGE_MAP), Phone="1", Stage="(none)")
    assert "lead_stage_name" in draft and draft["lead_stage_name"] is None


def test_strict_map_reports_unmapped_values(tmp_path: Path) -> None:
    fields = "  lead_group_name: {column: Group, map: {In: Inbound, Out: Outbound}, strict: true}\n"
    mapping = mapping_of(tmp_path, fields)
    assert apply(mapping, Phone="1", Group="in")[0]["lead_group_name"] == "Inbound"
    draft, issues = apply(mapping, 3, Phone="1", Group="Partners")
    assert "lead_group_name" not in draft
    message = "'Partners' is not in the map (expected one of: 'In', 'Out')"
    assert issues == [Issue(3, "Group", "error", "unmapped-value", message, "Partners")]


def test_map_keys_and_targets_are_the_text_typed(tmp_path: Path) -> None:
    fields = "  city: {column: C, map: {yes: on, 007: 1.50, null: x}}\n  source: {value: 0x1F}\n"
    mapping = mapping_of(tmp_path, fields)
    assert apply(mapping, Phone="1", C="yes")[0]["city"] == "on"
    assert apply(mapping, Phone="1", C="007")[0]["city"] == "1.50"
    assert apply(mapping, Phone="1", C="null")[0]["city"] == "x"
    assert apply(mapping, Phone="1")[0]["source"] == "0x1F"


def test_default_fills_blank_cells_before_conversion(tmp_path: Path) -> None:
    fields = (
        "  city: {column: City, default: Bengaluru}\n"
        "  deal_value: {column: Value, default: 0}\n"
        "  lead_stage_name: {column: Stage, default: p, map: {p: Prospect}}\n"
    )
    draft, _ = apply(mapping_of(tmp_path, fields), Phone="1", City="  ")
    assert (draft["city"], draft["deal_value"], draft["lead_stage_name"]) == ("Bengaluru", 0, "Prospect")


def test_columns_on_a_single_field_take_the_first_non_blank(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  website: [Site, Company Site]\n  deal_value: {columns: [A, B]}\n")
    draft, issues = apply(mapping, Phone="1", Site=" ", Company_Site="example.com", A="", B="x")
    assert draft["website"] == "example.com"
    assert issues == [Issue(2, "B", "warning", "invalid-number", "'x' is not a number; it was left out", "x")]


@pytest.mark.parametrize(
    ("template", "cells", "expected"),
    [
        ("Imported from {Source}: {Notes}", {"Source": "Expo", "Notes": " met "}, "Imported from Expo: met"),
        ("Imported from {Source}: {Notes}", {"Source": "Expo", "Notes": ""}, "Imported from Expo"),
        ("{Company}, {City}", {"Company": "", "City": "Kochi"}, "Kochi"),
        ("{Company}, {City}", {"Company": "", "City": ""}, None),
        ("- {Notes} -", {"Notes": ""}, None),
        ("{{{Notes}}} {{literal}}", {"Notes": "x"}, "{x} {literal}"),
        ("{metadata.company} / {Deal Value}", {"metadata.company": "Acme", "Deal Value": "5"}, "Acme / 5"),
        ("{ Notes }", {"Notes": "spaced"}, "spaced"),
    ],
)
def test_templates(tmp_path: Path, template: str, cells: dict[str, str], expected: str | None) -> None:
    mapping = mapping_of(tmp_path, f"  customer_note: {{template: {template!r}}}\n")
    draft, _ = mapping.apply(Row(2, {"Phone": "1", **cells}))
    assert draft.get("customer_note") == expected


@pytest.mark.parametrize(
    ("value", "key", "expected"),
    [
        ("CSV_UPLOAD", "source_type", "CSV_UPLOAD"),
        ("' 50,000 '", "deal_value", 50000),
        ("null", "lead_stage_name", None),
        ("[a@example.com]", "email", ["a@example.com"]),
        ("true", FLAG, True),
    ],
)
def test_constants(tmp_path: Path, value: str, key: str, expected: Any) -> None:
    draft, _ = apply(mapping_of(tmp_path, f"  {key}: {{value: {value}}}\n"), Phone="1")
    assert draft[key] == expected


def test_constant_email_must_be_valid(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"m.yaml:4: fields.email.value\[1\]: 'bad' is not an e-mail address"
    ):
        mapping_of(tmp_path, "  email: {value: [a@example.com, bad]}\n")


def write_owners(
    tmp_path: Path,
    text: str = "email,phone\nravi@example.com,+919876543210\nPRIYA@example.com , 98765 43211\n",
) -> None:
    (tmp_path / "owners.csv").write_text(text, encoding="utf-8")


LOOKUP = "  assignee_user_phone: {column: Owner, lookup: {file: owners.csv, key: email, value: phone}}\n"


def test_lookup_translates_case_insensitively(tmp_path: Path) -> None:
    write_owners(tmp_path)
    mapping = mapping_of(tmp_path, LOOKUP)
    assert apply(mapping, Phone="1", Owner=" Ravi@Example.com ")[0]["assignee_user_phone"] == "+919876543210"
    assert apply(mapping, Phone="1", Owner="priya@example.com")[0]["assignee_user_phone"] == "98765 43211"
    draft, issues = apply(mapping, 4, Phone="1", Owner="nobody@example.com")
    assert "assignee_user_phone" not in draft
    message = "'nobody@example.com' is not in owners.csv; assignee_user_phone left out"
    assert issues == [Issue(4, "Owner", "warning", "unknown-lookup-value", message, "nobody@example.com")]


def test_strict_lookup_is_an_error(tmp_path: Path) -> None:
    write_owners(tmp_path)
    mapping = mapping_of(tmp_path, LOOKUP.replace("}}", "}, strict: true}"))
    _, issues = apply(mapping, Phone="1", Owner="nobody")
    assert [(issue.severity, issue.code) for issue in issues] == [("error", "unknown-lookup-value")]


@pytest.mark.parametrize(
    ("owners", "lookup", "expected"),
    [
        (None, LOOKUP, "4: fields.assignee_user_phone.lookup.file: lookup file '{dir}/owners.csv' not found"),
        (
            "mail,phone\n",
            LOOKUP,
            "4: fields.assignee_user_phone.lookup.key: column 'email' is not in owners.csv "
            "(its columns: mail, phone)",
        ),
        (
            "email,phone\na@x.in,1\nA@X.IN,2\n",
            LOOKUP,
            "4: fields.assignee_user_phone.lookup.key: owners.csv row 3: key 'A@X.IN' is listed twice "
            "with different values",
        ),
    ],
)
def test_lookup_file_problems(tmp_path: Path, owners: str | None, lookup: str, expected: str) -> None:
    if owners is not None:
        write_owners(tmp_path, owners)
    with pytest.raises(ConfigError) as caught:
        mapping_of(tmp_path, lookup)
    assert str(caught.value) == f"{tmp_path / 'm.yaml'}:" + expected.format(dir=tmp_path)


def test_columns_and_column_for(tmp_path: Path) -> None:
    fields = (
        "  add_phones: [Mobile, Office]\n  customer_note: {template: '{Source}: {Notes}'}\n"
        "  source_type: {value: OTHERS}\n"
    )
    mapping = mapping_of(tmp_path, fields, defaults="  region_column: Country\n")
    assert mapping.columns == frozenset({"Phone", "Mobile", "Office", "Source", "Notes", "Country"})
    assert mapping.region == "IN" and mapping.region_column == "Country"
    assert mapping.column_for("customer_phone") == "Phone"
    assert mapping.column_for("add_phones") == "Mobile"
    assert mapping.column_for("customer_note") == "Source"
    assert mapping.column_for("source_type") == "source_type"


def test_check_columns_suggests_and_lists(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "  first_name: First Name\n  deal_value: Deal Value\n")
    mapping.check_columns(["Phone", "First Name", "Deal Value", "Extra"], "leads.csv")
    with pytest.raises(ConfigError) as caught:
        mapping.check_columns(["Phone", "first name", "Deal value (INR)", "_row", "_error"], "leads.csv")
    assert str(caught.value) == (
        f"{tmp_path / 'm.yaml'}:4: fields.first_name: column 'First Name' is not in leads.csv; "
        "did you mean 'first name'? (its columns: 'Phone', 'first name', 'Deal value (INR)')"
    )
    with pytest.raises(ConfigError) as caught:
        mapping.check_columns(["Phone", "First Name", "Amount"], "sheet 'Leads'")
    assert str(caught.value) == (
        f"{tmp_path / 'm.yaml'}:5: fields.deal_value: column 'Deal Value' is not in sheet 'Leads' "
        "(its columns: 'Phone', 'First Name', 'Amount')"
    )


def test_check_columns_points_at_list_items_and_templates(tmp_path: Path) -> None:
    mapping = mapping_of(
        tmp_path, "  add_phones:\n    - Mobile\n    - Ofice\n  customer_note: {template: '{Nots}'}\n"
    )
    with pytest.raises(ConfigError, match=r"m.yaml:6: fields.add_phones\[1\]: column 'Ofice' .* 'Office'"):
        mapping.check_columns(["Phone", "Mobile", "Office", "Notes"], "x.csv")
    with pytest.raises(
        ConfigError, match=r"m.yaml:7: fields.customer_note.template: column 'Nots' .* 'Notes'"
    ):
        mapping.check_columns(["Phone", "Mobile", "Ofice", "Notes"], "x.csv")


def test_region_column_is_checked(tmp_path: Path) -> None:
    mapping = mapping_of(tmp_path, "", defaults="  region_column: Country\n")
    with pytest.raises(ConfigError, match=r"m.yaml:3: defaults.region_column: column 'Country' .*'country'"):
        mapping.check_columns(["Phone", "country"], "x.csv")


def test_missing_cells_count_as_blank(tmp_path: Path) -> None:
    fields = (
        "  first_name: F\n  add_labels: {column: T, split: ';'}\n  deal_value: D\n"
        "  customer_note: {template: 'n {N}'}\n"
    )
    draft, issues = mapping_of(tmp_path, fields).apply(Row(2, {}))
    assert draft == {FLAG: True, "customer_note": "n"}
    assert issues == []
