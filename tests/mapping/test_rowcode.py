"""The function made for a mapping (importer.mapping.rowcode) maps every row exactly as the mapping's fields do
one by one, remembered values or not, and names nothing of the mapping file in its code."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.mapping import Mapping, load_mapping
from importer.models import Row

MAPPING = """\
version: 1
defaults: {region: IN, on_invalid: drop}
fields:
  customer_phone: Phone
  add_phones: [Mobile]
  first_name: First
  city: {column: City, default: Pune}
  email: Email
  deal_value: {column: Value, type: number, default: "5000"}
  lead_stage_name: {column: Stage, map: {hot: Qualified, cold: Lost, gone: null}}
  add_labels: {column: Tags, split: ";"}
  remove_labels: {columns: [Old, Older], split: ","}
  add_products: {column: Products, split: ";", map: {a: Alpha}, strict: true, on_invalid: drop}
  source: {column: Source, default: Sheet}
  customer_note: {template: "From {Source}: {Notes}"}
  additional_info: {column: Due, type: datetime}
  business_name: {columns: [Company, Firm]}
  address.text: {column: Since, type: date}
  address.additional: {template: "{City}"}
  address.latitude: {value: "12.97"}
  address.initials: {column: Firm, default: NA}
  source_type: {value: CSV_UPLOAD}
"""

COLUMNS = ("Phone", "Mobile", "First", "City", "Email", "Value", "Stage", "Tags", "Old", "Older", "Products",
           "Source", "Notes", "Due", "Company", "Firm", "Since", "'); import os #")
CELLS = st.sampled_from(["", " ", "x", " hot ", "HOT", "gone", "cold", "1.5L", "2 Cr", "12,000", "lots", "a;b; a",
                         "a;;c", "a", "b,c", "2024-01-20", "20/01/2024", "03/04/2024", "45000", "a@b.co", "not mail",
                         "9876543210", "+91 98765 43210", "Expo", "23/03/2026 18:45", "03/04/2024 00:15",
                         "31/02/2026 10:00"])


def mapping_at(tmp_path: Path, text: str = MAPPING) -> Mapping:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path).with_date_orders({})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(CELLS, min_size=len(COLUMNS), max_size=len(COLUMNS)), min_size=1, max_size=30),
       st.sampled_from([{}, {0: "dmy", 1: "dmy"}, {0: "mdy"}]))
def test_the_made_function_maps_as_the_fields_do(tmp_path: Path, table: list[list[str]], orders: dict) -> None:
    made, plain = mapping_at(tmp_path).with_date_orders(orders), mapping_at(tmp_path).with_date_orders(orders)
    rows = [Row(number, dict(zip(COLUMNS, cells, strict=True))) for number, cells in enumerate(table, 2)]
    for _ in range(2):  # the second time, every value is remembered
        for row in rows:
            assert made.apply(row) == plain.apply_plainly(row)


def test_rows_missing_columns_and_day_first_dates(tmp_path: Path) -> None:
    made = mapping_at(tmp_path).with_date_orders({0: "dmy", 1: "dmy"})
    rows = [Row(2, {"Phone": "9876543210"}), Row(3, {"Phone": "1", "Due": "03/04/2024", "Since": "03/04/2024"})]
    for row in rows * 2:
        assert made.apply(row) == made.apply_plainly(row)
    assert made.apply(rows[1])[0]["address"]["text"] == "2024-04-03"


def test_copies_make_their_own_function(tmp_path: Path) -> None:
    mapping = mapping_at(tmp_path)
    row = Row(2, {"Phone": "9876543210", "Value": "1.5L", "Tags": "a;b"})
    expected = mapping.apply(row)
    for other in (copy.deepcopy(mapping), pickle.loads(pickle.dumps(mapping))):
        assert other._compiled is None
        assert other.apply(row) == expected
        assert other._compiled is not mapping._compiled


def test_the_code_names_nothing_of_the_mapping_file(tmp_path: Path) -> None:
    mapping = mapping_at(tmp_path, MAPPING.replace("First\n", "\"'); import os #\"\n"))
    mapping.apply(Row(2, {"Phone": "9876543210", "'); import os #": "Asha"}))
    code = mapping._compiled.__code__  # type: ignore[union-attr]
    assert not any(isinstance(constant, str) and ("import" in constant or "First" in constant)
                   for constant in code.co_consts)
    assert mapping.apply(Row(2, {"Phone": "1", "'); import os #": "Asha"}))[0]["first_name"] == "Asha"


def test_text_of_the_address_is_read_in_place(tmp_path: Path) -> None:
    """A part of the address sent as it is reads its cell by position, as a top-level field does: no dict of the
    record's cells is made for it (the plan's own fill would need one)."""
    mapping = mapping_at(tmp_path, "version: 1\nfields:\n  customer_phone: Phone\n  address.text: Street\n")
    apply = mapping.record_apply(["Phone", "Street"])
    assert "cellsof" not in " ".join(apply.__code__.co_varnames + apply.__code__.co_names)
    assert apply(["9876543210", " 12 MG Road "], 2)[0]["address"] == {"text": "12 MG Road"}
    assert "address" not in apply(["9876543210", " "], 3)[0]
