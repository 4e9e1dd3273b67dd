"""Hostile mapping files, end to end: each one stops the run with exit 2 and one line on stderr naming the
mapping file, the line and the key where there is one, before anything is sent (boxed: 512 MB, 5 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.errors import ConfigError
from importer.mapping import load_mapping
from tests.system.test_hostile_inputs import assert_refused, posts, run_against

SHEET = "Phone,Name,Stage\r\n+919700000001,Asha,New Lead\r\n+919700000002,Ravi,Contacted\r\n"
GOOD = "version: 1\nfields:\n  customer_phone: Phone\n  first_name: Name\n"


def _alias_bomb(levels: int = 9) -> str:
    """YAML's billion laughs: each anchor lists the previous one nine times (9**9 strings once expanded)."""
    lines = ["version: 1", "fields:", "  customer_phone: Phone", f"x0: &x0 [{', '.join(['lol'] * 9)}]"]
    for level in range(1, levels + 1):
        lines.append(f"x{level}: &x{level} [{', '.join([f'*x{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


#: name → (mapping text, fragments of the one error line). The line starts "<path>:<line>".
MAPPINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "syntax": ("version: 1\nfields:\n  customer_phone: [Phone\n  first_name: Name\n", ("YAML syntax error",)),
    "tab-indent": ("version: 1\nfields:\n\tcustomer_phone: Phone\n", ("mapping.yaml:3", "YAML syntax error")),
    "python-object": ("version: 1\nfields:\n  customer_phone: !!python/object/apply:os.system [touch pwned]\n",
                      ("mapping.yaml:3", "fields.customer_phone", "unsupported YAML tag !!python/object/apply")),
    "python-name": ("version: 1\nfields: !!python/name:os.system\n", ("mapping.yaml:2", "unsupported YAML tag")),
    "unknown-top-key": (GOOD + "versoin: 2\n", ("mapping.yaml:5", "versoin")),
    "unknown-field": ("version: 1\nfields:\n  customer_phone: Phone\n  phone_number: Name\n",
                      ("mapping.yaml:4", "phone_number")),
    "unknown-option": ("version: 1\nfields:\n  customer_phone: {column: Phone, splt: ';'}\n",
                       ("mapping.yaml:3", "splt")),
    "missing-column": ("version: 1\nfields:\n  customer_phone: Phone\n  first_name: Full Name\n",
                       ("mapping.yaml:4", "'Full Name' is not in sheet.csv")),
    "wrong-type-version": ("version: one\nfields:\n  customer_phone: Phone\n", ("mapping.yaml:1", "version")),
    "wrong-type-bool": ("version: 1\ndefaults:\n  create_if_missing: maybe\nfields:\n  customer_phone: Phone\n",
                        ("mapping.yaml:3", "create_if_missing")),
    "wrong-type-fields": ("version: 1\nfields: [Phone, Name]\n", ("mapping.yaml:2", "fields")),
    "top-level-list": ("- Phone\n- Name\n", ("mapping.yaml:1",)),
    "empty": ("", ("mapping file is empty",)),
    "alias-bomb": (_alias_bomb(), ("mapping.yaml:", "more than 250,000 values (YAML aliases")),
}


@pytest.mark.parametrize("name", sorted(MAPPINGS))
def test_hostile_mapping_is_refused_in_one_line(name: str, fresh_sandbox, tmp_path: Path) -> None:
    text, fragments = MAPPINGS[name]
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(text, encoding="utf-8")
    finished = run_against(fresh_sandbox, sheet, mapping, tmp_path)
    line = assert_refused(finished, str(mapping), *fragments)
    assert "Traceback" not in line
    assert posts(fresh_sandbox) == []
    assert not (tmp_path / "pwned").exists()


def test_mapping_that_is_not_text(fresh_sandbox, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_bytes(b"\xff\xfe\x00garbage\x80\x81")
    finished = run_against(fresh_sandbox, sheet, mapping, tmp_path)
    assert_refused(finished, str(mapping), "not UTF-8")
    assert posts(fresh_sandbox) == []


def test_alias_bomb_is_refused_fast_in_the_library(tmp_path: Path) -> None:
    mapping = tmp_path / "bomb.yaml"
    mapping.write_text(_alias_bomb(levels=12), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bomb.yaml:\d+: x\d+.*YAML aliases repeating each other"):
        load_mapping(mapping)


def test_aliases_within_reason_still_work(tmp_path: Path) -> None:
    mapping = tmp_path / "aliases.yaml"
    mapping.write_text("version: 1\nfields:\n  customer_phone: &phone Phone\n  add_phones: [*phone]\n"
                       "  add_labels: {column: Name, split: &sep ';'}\n  add_products: {column: Stage, split: *sep}\n",
                       encoding="utf-8")
    assert load_mapping(mapping).column_for("add_phones") == "Phone"
