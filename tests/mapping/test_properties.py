"""Mapping as a whole: the shipped example, digests, pickling, and apply() on arbitrary cell text."""

from __future__ import annotations

import csv
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.issues import CODES
from importer.mapping import Mapping, load_mapping
from importer.models import UPSERT_FIELDS, Row, UpsertLeadRequest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "mappings" / "example.yaml"
SAMPLE = ROOT / "sample_data" / "leads.csv"

EVERYTHING = """\
version: 1
description: every kind of field
defaults: {region: in, region_column: Country, create_if_missing: yes}
fields:
  customer_phone: Phone
  add_phones: {columns: [Mobile, Office], split: /}
  first_name: First Name
  email: {column: Email, split: ","}
  deal_value: Deal Value
  address.latitude: Lat
  address.text: {template: "{Street}, {City}"}
  lead_stage_name: {column: Stage, map: {Prospect: New Lead, x: null}, strict: true}
  lead_group_name: {column: Group, map: {In: Inbound}}
  add_labels: {column: Tags, split: ";", default: Imported}
  assignee_user_phone: {column: Owner, lookup: {file: owners.csv, key: email, value: phone}}
  create_customer_if_customer_phone_not_found: {column: Create, type: bool}
  source_type: {value: CSV_UPLOAD}
  customer_note: {template: "{{{Source}}}: {Notes}"}
"""
COLUMNS = [
    "Phone", "Mobile", "Office", "First Name", "Email", "Deal Value", "Lat", "Street", "City", "Stage",
    "Group", "Tags", "Owner", "Create", "Source", "Notes", "Country",
]  # fmt: skip


def everything(tmp_path: Path) -> Mapping:
    (tmp_path / "owners.csv").write_text("email,phone\nravi@example.com,+919876543210\n", encoding="utf-8")
    path = tmp_path / "all.yaml"
    path.write_text(EVERYTHING, encoding="utf-8")
    return load_mapping(path)


def test_example_mapping_loads_and_fits_the_sample_sheet() -> None:
    mapping = load_mapping(EXAMPLE)
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    mapping.check_columns(list(rows[0]), str(SAMPLE))
    assert mapping.region == "IN" and mapping.create_if_missing is True
    drafts = [mapping.apply(Row(number, cells)) for number, cells in enumerate(rows, start=2)]
    first, issues = drafts[0]
    assert issues == []
    assert first == {
        "source_type": "CSV_UPLOAD",
        "create_customer_if_customer_phone_not_found": True,
        "customer_phone": "+91 80000 00001",
        "first_name": "Asha",
        "last_name": "Kumar",
        "business_name": "Acme Pvt Ltd",
        "lead_stage_name": "Contacted",
        "lead_group_name": "Inbound",
        "assignee_user_phone": "+91 98765 43210",
        "source": "website-form",
        "email": ["asha@example.com"],
        "city": "Bengaluru",
        "deal_value": 75000,
        "add_labels": ["Hot", "Demo Requested"],
        "add_products": ["Growth Plan"],
        "customer_note": "Imported from website-form: Asked for a callback after 6 PM.",
        "address": {"text": "Acme Pvt Ltd, Bengaluru"},
    }
    codes = {issue.code for _, row_issues in drafts for issue in row_issues}
    assert codes <= CODES.keys()
    for draft, _ in drafts:
        assert "" not in draft.values()


def test_everything_mapping_builds_valid_api_requests(tmp_path: Path) -> None:
    mapping = everything(tmp_path)
    cells = dict.fromkeys(COLUMNS, "")
    cells |= {
        "Phone": "+919845012345", "Mobile": "+919845000001 / +919845000002", "Email": "a@example.com,b@x.in",
        "Deal Value": "₹ 1,50,000", "Lat": "12.97", "Street": "MG Road", "Stage": "prospect", "Group": "in",
        "Owner": "RAVI@example.com", "Create": "no", "Source": "expo", "Notes": "hi",
    }  # fmt: skip
    draft, issues = mapping.apply(Row(2, cells))
    assert issues == []
    assert draft["add_phones"] == ["+919845000001", "+919845000002"]
    assert draft["address"] == {"latitude": 12.97, "text": "MG Road"}
    assert draft["add_labels"] == ["Imported"]
    assert draft["create_customer_if_customer_phone_not_found"] is False
    assert draft["customer_note"] == "{expo}: hi"
    assert set(draft) <= set(UPSERT_FIELDS)
    UpsertLeadRequest.model_validate(draft)
    assert mapping.columns == frozenset(COLUMNS)


def test_digest_is_canonical(tmp_path: Path) -> None:
    def digest(text: str) -> str:
        path = tmp_path / "d.yaml"
        path.write_text(text, encoding="utf-8")
        return load_mapping(path).digest

    short = digest("version: 1\nfields:\n  customer_phone: Phone\n  city: City\n")
    assert len(short) == 64
    same = digest(
        "# reordered, long form\nfields:\n  city: {column: City}\n  customer_phone: Phone\nversion: 1\n"
    )
    assert same == short
    assert (
        digest("version: 1\ndefaults: {region: IN}\nfields:\n  customer_phone: Phone\n  city: City\n")
        == short
    )
    assert digest("version: 1\nfields:\n  customer_phone: Phone\n  city: Town\n") != short
    assert digest("version: 1\nfields:\n  customer_phone: Phone\n  city: {value: City}\n") != short


def test_digest_covers_lookup_tables(tmp_path: Path) -> None:
    before = everything(tmp_path).digest
    (tmp_path / "owners.csv").write_text("email,phone\nravi@example.com,+919876543211\n", encoding="utf-8")
    path = tmp_path / "all.yaml"
    assert load_mapping(path).digest != before


def test_pickle_round_trip(tmp_path: Path) -> None:
    mapping = everything(tmp_path)
    copy = pickle.loads(pickle.dumps(mapping))
    row = Row(9, dict.fromkeys(COLUMNS, "x") | {"Owner": "nobody", "Deal Value": "12,000"})
    assert copy.apply(row) == mapping.apply(row)
    assert (copy.digest, copy.columns, copy.path, copy.region_column) == (
        mapping.digest,
        mapping.columns,
        mapping.path,
        mapping.region_column,
    )
    assert repr(copy) == repr(mapping)


def test_repr_is_short_and_names_the_file(tmp_path: Path) -> None:
    mapping = everything(tmp_path)
    assert repr(mapping).startswith(f"Mapping(path={str(tmp_path / 'all.yaml')!r}, fields=['customer_phone'")


CELL_TEXT = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from(" ,;/{}@.₹$-+eE0123456789"),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(cells=st.fixed_dictionaries({column: CELL_TEXT for column in COLUMNS}), number=st.integers(2, 10**6))
def test_apply_never_raises_and_issues_are_known(
    tmp_path_factory: pytest.TempPathFactory, cells: dict[str, str], number: int
) -> None:
    mapping = _cached_everything(tmp_path_factory)
    draft, issues = mapping.apply(Row(number, cells))
    for issue in issues:
        assert issue.code in CODES
        assert issue.row == number
        assert issue.column in COLUMNS
    for value in draft.values():
        assert value != "" and value != []
        if isinstance(value, str):
            assert value == value.strip()
        if isinstance(value, list):
            assert len(value) == len(set(value)) and all(item and item == item.strip() for item in value)
    if not any(issue.is_error for issue in issues) and draft.get("customer_phone"):
        UpsertLeadRequest.model_validate(draft)


_CACHE: dict[str, Mapping] = {}


def _cached_everything(tmp_path_factory: pytest.TempPathFactory) -> Mapping:
    if "m" not in _CACHE:
        _CACHE["m"] = everything(tmp_path_factory.mktemp("everything"))
    return _CACHE["m"]
