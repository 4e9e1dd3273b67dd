"""A CSV file's records (cells by position, no dict a row) are mapped and checked exactly as its rows are: the
mapping's function of a record against its fields one by one, and the checks of a record against
``RowChecker.check_with_tasks``, for any cells, headers with a column missing or named twice, a catalog or none,
a region column, tasks, and the cells of failures.csv."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.api.catalog import Catalog
from importer.checks.parallel import Keep, check_batch, check_records
from importer.checks.row import RowChecker
from importer.mapping import Mapping, load_mapping
from importer.models import Row
from importer.sources.delimited import Records

MAPPING = """\
version: 1
defaults: {region: IN, on_invalid: drop}
fields:
  customer_phone: Phone
  add_phones: [Mobile, Other]
  assignee_user_phone: Owner
  first_name: First
  city: {column: City, default: Pune}
  email: Email
  deal_value: {column: Value, type: number, default: "5000"}
  lead_stage_name: {column: Stage, map: {hot: Won, cold: Lost, gone: null}}
  add_labels: {column: Tags, split: ";"}
  remove_labels: {columns: [Old, Older], split: ","}
  source: {column: Source, default: Sheet}
  source_type: Kind
  customer_note: {template: "From {Source}: {Notes}"}
  additional_info: {template: "{Notes}"}
  business_name: {columns: [Company, Firm]}
  address.text: {column: Since, type: date}
  address.additional: {template: "{City}"}
"""
COLUMNS = ["Phone", "Mobile", "Other", "Owner", "First", "City", "Email", "Value", "Stage", "Tags", "Old", "Older",
           "Source", "Kind", "Notes", "Company", "Firm", "Since", "Region"]
CELLS = st.sampled_from(["", " ", "x", " hot ", "gone", "cold", "Won", "Hot", "1.5L", "12,000", "lots", "a;b; a",
                         "Hot;Cold", "b,c", "2024-01-20", "20/01/2024", "a@b.co", "not mail", "9876543210",
                         "+91 98765 43210", "098765 43210", "98765", "+1 650 253 0000", "US", "in", "CSV_UPLOAD",
                         "FACEBOOK", "=1+2", "'=1+2"])
CATALOG = Catalog.from_rows({
    "label": [{"title": "Hot"}, {"title": "Cold", "status": "DISABLED"}],
    "lead-stage": [{"title": "Won"}, {"title": "Lost"}, {"title": "Lost"}],
    "lead-group": [{"title": "Inbound"}],
    "product": [{"title": "Growth Plan"}],
})
#: Cells a row's checks find nothing to say about (with the catalog: mostly), by column.
GOOD = {
    "Phone": ["9876543210", "+91 98765 43210", "098765 43210", "+91-98450-12345", "98450 12345", "(650) 253-0000"],
    "Mobile": ["", "9876543210", "98450 12345", "+91 98450 12346"],
    "Other": ["", "98450 12345", "(984) 501-2347"],
    "Owner": ["", "98450 12348"],
    "First": ["", "Asha", " Ravi "],
    "City": ["", "Pune"],
    "Email": ["", "a@b.co"],
    "Value": ["", "12,000", "1.5L", "2 Cr"],
    "Stage": ["", "hot", "cold", "Won", "gone"],
    "Tags": ["", "Hot", "a;b; a", "Hot;Cold"],
    "Old": ["", "b,c", "Hot"],
    "Older": ["", "Hot"],
    "Source": ["", "Expo", "Web"],
    "Kind": ["", "CSV_UPLOAD"],
    "Notes": ["", "call", "=1+2"],
    "Company": ["", "Acme"],
    "Firm": ["", "Acme"],
    "Since": ["", "2024-01-20", "45000"],
    "Region": ["", "IN", "in", "US"],
}
CLEAN = st.tuples(*(st.sampled_from(GOOD[column]) for column in COLUMNS)).map(list)
ANY = st.lists(CELLS, min_size=len(COLUMNS), max_size=len(COLUMNS))
#: Rows: clean ones (checked by position), any cells at all, and clean ones but for one cell.
ROWS = st.one_of(CLEAN, ANY, st.tuples(CLEAN, st.integers(0, len(COLUMNS) - 1), CELLS).map(
    lambda made: [*made[0][:made[1]], made[2], *made[0][made[1] + 1:]]))
HEADERS = st.sampled_from([
    COLUMNS,
    [column for column in COLUMNS if column not in ("Notes", "Mobile")],  # columns the mapping names are missing
    [*COLUMNS[:5], "Phone", *COLUMNS[5:]],  # a column named twice: the last one is the row's
])


_LOADED: dict[str, Mapping] = {}


def mapping_at(tmp_path: Path, text: str = MAPPING) -> Mapping:
    """The mapping of ``text``, as new: nothing remembered yet (a copy of the one loaded once)."""
    if text not in _LOADED:
        path = tmp_path / "m.yaml"
        path.write_text(text, encoding="utf-8")
        _LOADED[text] = load_mapping(path)
    return _LOADED[text].with_date_orders({})


def row_of(header: list[str], number: int, record: list[str]) -> Row:
    return Row(number, dict(zip(header, record, strict=True)))


def records_of(header: list[str], table: list[list[str]]) -> Records:
    cells = [(record * 2)[:len(header)] for record in table]
    return Records(list(range(2, len(cells) + 2)), cells)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(HEADERS, st.lists(ROWS, min_size=1, max_size=20))
def test_a_record_maps_as_its_row_does(tmp_path: Path, header: list[str], table: list[list[str]]) -> None:
    made, plain = mapping_at(tmp_path), mapping_at(tmp_path)
    records = records_of(header, table)
    apply = made.record_apply(header)
    for _ in range(2):  # the second time, every value is remembered
        for number, record in zip(records.numbers, records.cells, strict=True):
            assert apply(record, number) == plain.apply_plainly(row_of(header, number, record))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(HEADERS, st.lists(ROWS, min_size=1, max_size=20), st.sampled_from([None, CATALOG]), st.booleans(),
       st.booleans(), st.booleans())
def test_a_record_is_checked_as_its_row_is(tmp_path: Path, header: list[str], table: list[list[str]],
                                           catalog: Catalog | None, region_column: bool, tasks: bool,
                                           restore: bool) -> None:
    text = MAPPING
    if region_column:
        text = text.replace("region: IN,", "region: IN, region_column: Region,")
    if tasks:
        text += "tasks:\n  - type: CALLBACK_REQUEST\n    due: {column: Since}\n"
    records = records_of(header, table)
    by_record = RowChecker(mapping_at(tmp_path, text), catalog, restore_cells=restore)
    by_row = RowChecker(mapping_at(tmp_path, text), catalog, restore_cells=restore, now=by_record.now)
    check = by_record.record_check(header)
    for _ in range(2):
        for number, record in zip(records.numbers, records.cells, strict=True):
            assert check(record, number) == by_row.check_with_tasks(row_of(header, number, record))
    keep = Keep(columns=header, digests=True)
    rows = [row_of(header, number, record)
            for number, record in zip(records.numbers, records.cells, strict=True)]
    made, expected = check_records(by_record, records, header, keep), check_batch(by_row, rows, keep)
    for name in ("numbers", "phones", "verdicts", "issues", "lines", "ends", "digests", "tasks"):
        assert getattr(made, name) == getattr(expected, name), name
    if len(set(header)) == len(header):  # a row's dict keeps one cell of a column named twice
        assert made.cells == expected.cells


def test_most_rows_take_no_dict(tmp_path: Path) -> None:
    """The common row is checked by position: the dict of its cells is made only for a row that needs it."""
    checker = RowChecker(mapping_at(tmp_path), None)
    header = COLUMNS
    made: list[int] = []
    original = checker.check_with_tasks

    def by_row(row: Row):  # type: ignore[no-untyped-def]
        made.append(row.number)
        return original(row)

    checker.check_with_tasks = by_row  # type: ignore[method-assign]
    check = checker.record_check(header)
    good = dict.fromkeys(header, "")
    good.update(Phone="9876543210", Mobile="+91 98765 43211", First="Asha", Source="Expo", Notes="call", Kind="")
    bad = {**good, "Phone": "12345"}
    for number, cells in enumerate([good, good, bad, good], 2):
        check([cells[column] for column in header], number)
    assert made == [4]  # only the row with a bad phone
