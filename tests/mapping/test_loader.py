"""load_mapping: every error is one line naming the file, line and key path, and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.errors import ConfigError
from importer.mapping import load_mapping

PHONE = "version: 1\nfields:\n  customer_phone: Phone\n"


def write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    message = str(caught.value)
    assert "\n" not in message
    prefix = f"{path}:"
    assert message.startswith(prefix)
    return message[len(prefix) :]


ERRORS = [
    # (mapping text, message after "<file>:")
    (
        PHONE + "  first_name: {colum: First}\n",
        "4: fields.first_name.colum: unknown key 'colum'; did you mean 'column'?",
    ),
    (
        PHONE + "  frist_name: First\n",
        "4: fields.frist_name: unknown API field 'frist_name'; did you mean 'first_name'?",
    ),
    (
        PHONE + "  notes: N\n",
        "4: fields.notes: unknown API field 'notes'; expected one of: customer_phone, "
        "create_customer_if_customer_phone_not_found, first_name, last_name, email, website, city, "
        "business_name, additional_info, deal_value, source, source_type, assignee_user_phone, "
        "lead_stage_name, lead_group_name, add_labels, remove_labels, add_products, add_phones, "
        "customer_note, address.text, address.additional, address.initials, address.latitude, "
        "address.longitude, full_name",
    ),
    (PHONE + "  E-Mail: E\n", "4: fields.E-Mail: unknown API field 'E-Mail'; did you mean 'email'?"),
    (
        PHONE + "  Lead Stage Name: S\n",
        "4: fields.Lead Stage Name: unknown API field 'Lead Stage Name'; did you mean 'lead_stage_name'?",
    ),
    (
        PHONE + "  address: Addr\n",
        "4: fields.address: set the address through its parts: address.text, address.additional, "
        "address.initials, address.latitude, address.longitude",
    ),
    (
        PHONE + "  address.txt: A\n",
        "4: fields.address.txt: unknown API field 'address.txt'; did you mean 'address.text'?",
    ),
    (
        "version: 2\nfields:\n  customer_phone: Phone\n",
        "1: version: expected 1 (the only mapping format version), got 2",
    ),
    (
        "version: one\nfields:\n  customer_phone: P\n",
        "1: version: expected 1 (the only mapping format version)",
    ),
    (
        "fields:\n  customer_phone: Phone\n",
        "1: version: required; expected 1 (the only mapping format version)",
    ),
    (
        "version: 1\nfields:\n  first_name: F\n",
        "2: fields: customer_phone is required (the column with each lead's phone)",
    ),
    (
        "version: 1\n",
        "1: fields: required; expected an object of API field: column, e.g. customer_phone: Phone",
    ),
    (
        "version: 1\nfields: [a, b]\n",
        "2: fields: expected an object of API field: column, e.g. customer_phone: Phone",
    ),
    ("version: 1\nfeilds:\n  customer_phone: P\n", "2: feilds: unknown key 'feilds'; did you mean 'fields'?"),
    (
        "version: 1\nextra: 1\nfields:\n  customer_phone: P\n",
        "2: extra: unknown key 'extra'; expected one of: version, description, defaults, fields, tasks",
    ),
    (
        PHONE + "  first_name:\n",
        "4: fields.first_name: expected a column name, a list of columns, or an object with one of "
        "column / columns / value / template",
    ),
    (
        "version: 1\ndefaults:\n  regoin: IN\nfields:\n  customer_phone: P\n",
        "3: defaults.regoin: unknown key 'regoin'; did you mean 'region'?",
    ),
    (
        "version: 1\ndefaults:\n  region: XX\nfields:\n  customer_phone: P\n",
        "3: defaults.region: 'XX' is not a country code; expected one such as IN, US, GB",
    ),
    (
        "version: 1\ndefaults:\n  create_if_missing: perhaps\nfields:\n  customer_phone: P\n",
        "3: defaults.create_if_missing: expected true or false",
    ),
    (
        "version: 1\ndefaults:\n  region_column: _region\nfields:\n  customer_phone: P\n",
        "3: defaults.region_column: column '_region' starts with '_': such columns are written by the "
        "importer and never mapped",
    ),
    (
        PHONE + "  deal_value: {column: D, type: numbr}\n",
        "4: fields.deal_value.type: expected one of string, number, phone, email, bool, date, datetime",
    ),
    (
        PHONE + "  first_name: {column: F, type: number}\n",
        "4: fields.first_name.type: type number does not fit first_name (string); expected string, email, date "
        "or datetime",
    ),
    (
        PHONE + "  deal_value: {column: D, type: string}\n",
        "4: fields.deal_value.type: type string does not fit deal_value (number); expected number",
    ),
    (
        PHONE + "  deal_value: {column: D, type: date}\n",
        "4: fields.deal_value.type: type date does not fit deal_value (number); expected number",
    ),
    (
        PHONE + "  source: {column: S, date_format: '%d/%m/%Y'}\n",
        "4: fields.source.date_format: date_format is only for type: date or type: datetime",
    ),
    (
        PHONE + "  source: {column: S, type: date, date_format: '%d/%m'}\n",
        "4: fields.source.date_format: '%d/%m' needs a day (%d), a month (%m, %b or %B) and a year (%Y or %y); "
        'e.g. "%d/%m/%Y" or "%m/%d/%Y %H:%M"',
    ),
    (
        PHONE + "  source: {column: S, type: date, date_format: '%d/%m/%Y %Q'}\n",
        "4: fields.source.date_format: '%d/%m/%Y %Q' is not a strptime format ('Q' is a bad "
        "directive in format '%d/%m/%Y %Q')",
    ),
    (
        PHONE + "  source: {value: '03/04/2024', type: date}\n",
        "4: fields.source.value: expected a date such as 2024-04-03 (ISO 8601): a constant cannot be read "
        "day-first or month-first",
    ),
    (
        "version: 1\ndefaults:\n  timezone: Asia/Kolcata\nfields:\n  customer_phone: P\n",
        "3: defaults.timezone: unknown time zone 'Asia/Kolcata'; did you mean 'Asia/Kolkata'?",
    ),
    (
        "version: 1\ndefaults:\n  timezone: Nowhere/Atall\nfields:\n  customer_phone: P\n",
        "3: defaults.timezone: unknown time zone 'Nowhere/Atall' (an IANA name such as Asia/Kolkata or UTC)",
    ),
    (
        PHONE + "  first_name: {column: F, template: '{G}'}\n",
        "4: fields.first_name: expected exactly one of column / columns / value / template "
        "(found column and template)",
    ),
    (
        PHONE + "  first_name: {default: x}\n",
        "4: fields.first_name: expected exactly one of column / columns / value / template (found none)",
    ),
    (
        PHONE + "  first_name: {column: F, split: ';'}\n",
        "4: fields.first_name.split: split is only for list fields "
        "(email, add_labels, remove_labels, add_products, add_phones)",
    ),
    (
        PHONE + "  add_labels: {column: T, split: ''}\n",
        '4: fields.add_labels.split: expected a separator such as ";"',
    ),
    (
        "version: 1\nfields:\n  customer_phone: _row\n",
        "3: fields.customer_phone: column '_row' starts with '_': such columns are written by the "
        "importer and never mapped",
    ),
    (
        PHONE + "  add_phones: [Mobile, _error]\n",
        "4: fields.add_phones[1]: column '_error' starts with '_': such columns are written by the "
        "importer and never mapped",
    ),
    (
        PHONE + "  customer_note: {template: 'x {_error}'}\n",
        "4: fields.customer_note.template: column '_error' starts with '_': such columns are written by the "
        "importer and never mapped",
    ),
    (
        PHONE + "  customer_note: {template: 'x {Notes'}\n",
        "4: fields.customer_note.template: '{' at character 3 is not closed; write '{{' for a brace",
    ),
    (
        PHONE + "  customer_note: {template: 'x } {Notes}'}\n",
        "4: fields.customer_note.template: a lone '}' at character 3; write '}}' for a brace",
    ),
    (
        PHONE + "  customer_note: {template: 'a {} b'}\n",
        "4: fields.customer_note.template: empty placeholder at character 3; expected {Column Name}",
    ),
    (
        PHONE + "  customer_note: {template: 'no columns {{here}}'}\n",
        "4: fields.customer_note.template: the template names no {Column}; use value: for a constant",
    ),
    (
        PHONE + "  city: {column: C, strict: true}\n",
        "4: fields.city.strict: strict needs a map or a lookup to check values against",
    ),
    (
        PHONE + "  city: {column: C, map: {a: b}, strict: maybe}\n",
        "4: fields.city.strict: expected true or false",
    ),
    (
        PHONE + "  city: {column: C, map: [a, b]}\n",
        "4: fields.city.map: expected an object of cell value: replacement",
    ),
    (
        PHONE + "  city:\n    column: C\n    map:\n      a: [b]\n",
        "7: fields.city.map.a: expected a replacement value (text or a number) or null",
    ),
    (
        PHONE + "  city: {column: C, map: {Pune: A, pune: B}}\n",
        "4: fields.city.map.pune: map keys 'Pune' and 'pune' match the same cells "
        "(case and spaces are ignored) but map to different values",
    ),
    (PHONE + "  customer_phone: Mobile\n", "4: fields.customer_phone: duplicate key (first given on line 3)"),
    (PHONE + "  deal_value: {value: lots}\n", "4: fields.deal_value.value: 'lots' is not a number"),
    (
        PHONE + "  city: {value: [a, b]}\n",
        "4: fields.city.value: expected a single value: city is not a list field",
    ),
    (
        PHONE + "  city: {value: '  '}\n",
        "4: fields.city.value: expected a value; use null to clear the field",
    ),
    (
        PHONE + "  city: {value: x, map: {a: b}}\n",
        "4: fields.city.map: map cannot be used with value (a constant)",
    ),
    (
        "version: 1\nfields:\n  customer_phone: {value: null}\n",
        "3: fields.customer_phone.value: customer_phone cannot be null",
    ),
    (
        PHONE + "  add_phones:\n    - Mobile\n    - [x]\n",
        "6: fields.add_phones[1]: expected a column name",
    ),
    (PHONE + "  add_phones: []\n", "4: fields.add_phones: expected at least one column name"),
    (
        PHONE + "  first_name: {column: '  '}\n",
        "4: fields.first_name.column: expected a column name, got an empty one",
    ),
    (
        PHONE + "  city: {column: C, map: {a: b}, lookup: {file: o.csv, key: k, value: v}}\n",
        "4: fields.city.lookup: use either map or lookup, not both",
    ),
    (
        PHONE + "  assignee_user_phone: {column: O, lookup: {file: o.csv, key: email}}\n",
        "4: fields.assignee_user_phone.lookup.value: required; expected a column name of the lookup file",
    ),
    (
        PHONE + "  create_customer_if_customer_phone_not_found: {column: C, type: string}\n",
        "4: fields.create_customer_if_customer_phone_not_found.type: type string does not fit "
        "create_customer_if_customer_phone_not_found (bool); expected bool",
    ),
    # YAML-level problems
    (
        "version: 1\nfields:\n  customer_phone: !!python/object/apply:os.system [ls]\n",
        "3: fields.customer_phone: unsupported YAML tag !!python/object/apply:os.system; "
        "only plain values, lists and mappings are allowed",
    ),
    (
        "version: 1\nfields:\n  customer_phone: !!binary aGVsbG8=\n",
        "3: fields.customer_phone: unsupported YAML tag !!binary; "
        "only plain values, lists and mappings are allowed",
    ),
    (
        PHONE + "  first_name:\n    <<: {column: X}\n",
        "5: fields.first_name: unsupported key: a merge key (<<); keys must be plain text",
    ),
    (
        "version: 1\nfields:\n  customer_phone: [Phone\n",
        "4:1: YAML syntax error: expected ',' or ']', but got '<stream end>'",
    ),
    (
        "version: 1\n\tfields: x\n",
        "2:1: YAML syntax error: found character '\\t' that cannot start any token",
    ),
    (
        "version: 1\nfields:\n  customer_phone: {column: Phone, on_invalid: drop}\n",
        "3: fields.customer_phone.on_invalid: customer_phone identifies the lead: a row without a valid one is "
        "never sent (expected reject)",
    ),
    (
        PHONE + "  deal_value: {column: Deal, type: number, on_invalid: skip}\n",
        "4: fields.deal_value.on_invalid: expected drop (leave the bad value out, send the row) or reject (do not "
        "send the row)",
    ),
    (
        "version: 1\ndefaults:\n  number_locale: XX\n" + PHONE.removeprefix("version: 1\n"),
        "3: defaults.number_locale: unknown number locale 'XX'; expected one of IN, US, GB, AE, SG, AU, CA, DE, FR, "
        "ES, IT, NL, BR, ID, EU",
    ),
    (
        PHONE + "tasks:\n  - type: CALLBACK_REQUEST\n    due: {column: Due, on_invalid: drop}\n",
        "6: tasks[0].due.on_invalid: on_invalid is for fields: a task whose type or time is not valid is never "
        "created",
    ),
    ("- a\n- b\n", "1: expected a mapping with version, defaults and fields at the top level"),
    (
        "version: 1\n---\nversion: 1\n",
        "2:1: YAML syntax error: expected a single document in the stream, but found another document",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS, ids=[expected.split(":")[1] for _, expected in ERRORS])
def test_mapping_error_names_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    assert load_error(tmp_path, text) == expected


def test_recursive_alias_is_an_error_not_a_crash(tmp_path: Path) -> None:
    message = load_error(tmp_path, PHONE + "  add_labels: &a [*a]\n")
    assert "nested too deeply" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the mapping file is empty; expected version, defaults and fields"),
        (b"# only a comment\n", "the mapping file is empty; expected version, defaults and fields"),
        (b"version: 1\n\xff\xfe", "the mapping file is not UTF-8 text (bad byte at offset 11)"),
    ],
)
def test_unusable_file_is_one_clear_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match="^") as caught:
        load_mapping(path)
    assert str(caught.value) == f"{path}: {expected}"


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_mapping(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: mapping file not found"
    with pytest.raises(ConfigError) as caught:
        load_mapping(tmp_path)
    assert str(caught.value) == f"{tmp_path}: is a folder, expected a mapping file (.yaml)"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + PHONE.encode())
    assert load_mapping(path).fields == ("customer_phone",)


def test_python_tag_is_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    text = f"version: 1\nfields:\n  customer_phone: !!python/object/apply:os.system ['touch {marker}']\n"
    load_error(tmp_path, text)
    assert not marker.exists()
