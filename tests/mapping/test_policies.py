"""Field write policies in the mapping: each field's policy, the default, and errors naming file:line:key."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.errors import ConfigError
from importer.mapping import Mapping, load_mapping

PHONE = "version: 1\nfields:\n  customer_phone: Phone\n"


def load(tmp_path: Path, text: str) -> Mapping:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


def error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{tmp_path / 'm.yaml'}:")
    return message.split(":", 1)[1]


def test_without_policies_every_field_overwrites(tmp_path: Path) -> None:
    mapping = load(tmp_path, PHONE + "  city: City\n  add_labels: {column: Tags, split: ';'}\n")
    assert mapping.policies == {}


def test_a_field_takes_its_own_policy(tmp_path: Path) -> None:
    mapping = load(tmp_path, PHONE + "  city: {column: City, policy: fill_empty}\n"
                   "  lead_stage_name: {column: Stage, policy: create_only}\n"
                   "  address.text: {column: Street, policy: fill_empty}\n"
                   "  first_name: {column: First, policy: overwrite}\n"
                   "  customer_note: {template: 'Imported: {Notes}', policy: create_only}\n"
                   "  add_labels: {value: Imported, policy: create_only}\n")
    assert mapping.policies == {"city": "fill_empty", "lead_stage_name": "create_only",
                                "address.text": "fill_empty", "customer_note": "create_only",
                                "add_labels": "create_only"}


def test_the_default_applies_where_it_means_something(tmp_path: Path) -> None:
    fields = ("  city: City\n  address.text: Street\n  add_labels: Tags\n  customer_note: Notes\n"
              "  remove_labels: Old\n  last_name: {column: Last, policy: overwrite}\n")
    fill = load(tmp_path, "version: 1\ndefaults: {policy: fill_empty}\nfields:\n  customer_phone: Phone\n" + fields)
    assert fill.policies == {"city": "fill_empty", "address.text": "fill_empty"}
    create = load(tmp_path, "version: 1\ndefaults: {policy: create_only}\nfields:\n  customer_phone: Phone\n"
                  + fields)
    assert create.policies == {"city": "create_only", "address.text": "create_only", "add_labels": "create_only",
                               "customer_note": "create_only", "remove_labels": "create_only"}


def test_a_policy_changes_the_mapping_digest(tmp_path: Path) -> None:
    plain = load(tmp_path, PHONE + "  city: City\n").digest
    assert load(tmp_path, PHONE + "  city: {column: City, policy: fill_empty}\n").digest != plain
    assert load(tmp_path, "version: 1\ndefaults: {policy: create_only}\nfields:\n  customer_phone: Phone\n"
                "  city: City\n").digest != plain


@pytest.mark.parametrize(("text", "expected"), [
    (PHONE + "  city: {column: City, policy: keep}\n",
     "4: fields.city.policy: expected one of overwrite, fill_empty, create_only"),
    ("version: 1\ndefaults:\n  policy: fill-empty\nfields:\n  customer_phone: Phone\n",
     "3: defaults.policy: expected one of overwrite, fill_empty, create_only"),
    (PHONE + "  city: {column: City, polcy: fill_empty}\n",
     "4: fields.city.polcy: unknown key 'polcy'; did you mean 'policy'?"),
    ("version: 1\nfields:\n  customer_phone: {column: Phone, policy: create_only}\n",
     "3: fields.customer_phone.policy: customer_phone takes no policy: it says which lead the row is for"),
    (PHONE + "  add_labels:\n    column: Tags\n    policy: fill_empty\n",
     "6: fields.add_labels.policy: add_labels is only ever added, never overwritten: fill_empty does not apply "
     "(create_only adds them only to a lead the row creates)"),
    (PHONE + "  customer_note: {column: Notes, policy: fill_empty}\n",
     "4: fields.customer_note.policy: a note is only ever added and cannot be read back: fill_empty does not "
     "apply (create_only adds it only to a lead the row creates)"),
    (PHONE + "  remove_labels: {column: Old, policy: create_only}\n",
     "4: fields.remove_labels.policy: remove_labels takes no policy: it only ever changes a lead that exists"),
])
def test_a_policy_error_names_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    assert error(tmp_path, text) == expected
