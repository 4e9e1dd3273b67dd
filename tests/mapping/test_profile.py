"""The day/month order of a date column, decided from all its values: never per cell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from importer.errors import ConfigError
from importer.mapping import Mapping, load_mapping
from importer.mapping.profile import resolve_date_orders
from importer.models import Row

MAPPING = """\
version: 1
defaults: {timezone: UTC}
fields:
  customer_phone: Phone
  additional_info: {column: Due, type: datetime}
  source: {column: Since, type: date}
"""


def load(tmp_path: Path, text: str = MAPPING) -> Mapping:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


def rows(column: str, *values: str, **others: str) -> list[list[Row]]:
    return [[Row(number, {"Phone": "9876543210", column: value, **others})
             for number, value in enumerate(values, start=2)]]


def mapped(mapping: Mapping, batches: list[list[Row]]) -> list[tuple[dict[str, Any], list[str]]]:
    resolved = resolve_date_orders(mapping, batches, "leads.csv")
    return [(draft, [found.message for found in issues])
            for draft, issues in (resolved.apply(row) for batch in batches for row in batch)]


def test_one_day_above_twelve_makes_the_column_day_first(tmp_path: Path) -> None:
    batches = rows("Due", "03/04/2024", "", "25/12/2024 10:00", "2024-01-20", "13/13/2024", Since="2024-08-07")
    results = mapped(load(tmp_path), batches)
    assert [draft.get("additional_info") for draft, _ in results] == [
        "2024-04-03T00:00:00Z", None, "2024-12-25T10:00:00Z", "2024-01-20T00:00:00Z", None]
    assert results[4][1][0] == "'13/13/2024' is not a date (the column is read as dd/mm/yyyy); it was left out"


def test_one_month_first_value_makes_the_column_month_first(tmp_path: Path) -> None:
    results = mapped(load(tmp_path), rows("Due", "03/04/2024", "12/31/2024"))
    assert [draft["additional_info"] for draft, _ in results] == ["2024-03-04T00:00:00Z", "2024-12-31T00:00:00Z"]


def test_each_column_decides_for_itself(tmp_path: Path) -> None:
    batches = [[Row(2, {"Phone": "1", "Due": "25/01/2024", "Since": "01/25/2024"}),
                Row(3, {"Phone": "1", "Due": "03/04/2024", "Since": "03/04/2024"})]]
    results = mapped(load(tmp_path), batches)
    assert results[1][0]["additional_info"] == "2024-04-03T00:00:00Z"
    assert results[1][0]["source"] == "2024-03-04"


def test_a_column_whose_dates_fit_both_orders_is_an_error_naming_two_of_them(tmp_path: Path) -> None:
    mapping = load(tmp_path)
    with pytest.raises(ConfigError) as caught:
        resolve_date_orders(mapping, rows("Due", "2024-01-05", "03/04/2024", "", "05/06/2024", "01/02/2024"),
                            "leads.csv")
    assert str(caught.value) == (
        f"{tmp_path / 'm.yaml'}:5: fields.additional_info: column 'Due' of leads.csv: its dates fit both "
        "dd/mm/yyyy and mm/dd/yyyy ('03/04/2024' in row 3 and '05/06/2024' in row 5); add date_format: "
        '"%d/%m/%Y" or date_format: "%m/%d/%Y" to say which')


def test_one_ambiguous_value_repeated_is_named_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"its dates fit both dd/mm/yyyy and mm/dd/yyyy \('03/04/2024' in row 2\);"):
        resolve_date_orders(load(tmp_path), rows("Due", "03/04/2024", "03/04/2024"), "leads.csv")


def test_a_column_mixing_both_orders_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"column 'Due' of leads.csv: its dates mix dd/mm/yyyy \('25/01/2024' in "
                                          r"row 2\) and mm/dd/yyyy \('01/25/2024' in row 4\)"):
        resolve_date_orders(load(tmp_path), rows("Due", "25/01/2024", "03/04/2024", "01/25/2024"), "leads.csv")


def test_date_format_settles_an_ambiguous_column(tmp_path: Path) -> None:
    mapping = load(tmp_path, MAPPING.replace("type: datetime}", "type: datetime, date_format: '%m/%d/%Y'}"))
    results = mapped(mapping, rows("Due", "03/04/2024", "05/06/2024 10:30", "20 Jan 2024", "25/01/2024"))
    assert [draft.get("additional_info") for draft, _ in results] == [
        "2024-03-04T00:00:00Z", "2024-05-06T10:30:00Z", "2024-01-20T00:00:00Z", None]
    assert results[3][1] == ["'25/01/2024' does not match date_format '%m/%d/%Y' and is not an ISO 8601 date; "
                             "it was left out"]


def test_columns_without_two_number_dates_need_no_decision(tmp_path: Path) -> None:
    mapping = load(tmp_path)
    batches = rows("Due", "2024-01-20T10:00:00Z", "45311.5", "Jan 20, 2024", "junk")
    assert resolve_date_orders(mapping, batches, "x.csv").date_sources[0].reader.orders == {}


def test_the_mapping_is_left_as_it_was_for_the_next_input(tmp_path: Path) -> None:
    mapping = load(tmp_path)
    day_first = resolve_date_orders(mapping, rows("Due", "25/01/2024", "03/04/2024"), "a.csv")
    month_first = resolve_date_orders(mapping, rows("Due", "01/25/2024", "03/04/2024"), "b.csv")
    row = Row(2, {"Phone": "1", "Due": "03/04/2024", "Since": ""})
    assert day_first.apply(row)[0]["additional_info"] == "2024-04-03T00:00:00Z"
    assert month_first.apply(row)[0]["additional_info"] == "2024-03-04T00:00:00Z"
    assert [found.code for found in mapping.apply(row)[1]] == ["invalid-date"]  # never guessed per cell


def test_a_template_is_profiled_as_rendered(tmp_path: Path) -> None:
    text = MAPPING.replace("{column: Due, type: datetime}", '{template: "{Day} {Time}", type: datetime}')
    batches = [[Row(2, {"Phone": "1", "Day": "03/04/2024", "Time": "10:00", "Since": ""}),
                Row(3, {"Phone": "1", "Day": "04/30/2024", "Time": "", "Since": ""})]]
    results = mapped(load(tmp_path, text), batches)
    assert [draft["additional_info"] for draft, _ in results] == ["2024-03-04T10:00:00Z", "2024-04-30T00:00:00Z"]


def test_a_mapping_without_dates_is_returned_as_is(tmp_path: Path) -> None:
    mapping = load(tmp_path, "version: 1\nfields:\n  customer_phone: Phone\n")
    assert resolve_date_orders(mapping, iter(()), "x.csv") is mapping
