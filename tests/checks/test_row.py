"""RowChecker: phone and catalog-name issues, with their codes, severities, columns, messages and values."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.api.catalog import Catalog
from importer.checks.row import RowChecker
from importer.mapping import Mapping, load_mapping
from importer.models import Issue, Row

MAPPING = """\
version: 1
defaults: {region: IN}
fields:
  customer_phone: Phone
  add_phones: {column: Mobile, split: /}
  assignee_user_phone: Owner
  source_type: Source
  lead_stage_name: Stage
  lead_group_name: Group
  add_labels: {column: Tags, split: ";"}
  remove_labels: {column: Untag, split: ";"}
  add_products: {column: Products, split: ";"}
"""

CATALOG = Catalog.from_rows({
    "label": [{"title": "Hot"}, {"title": "Cold", "status": "DISABLED"}],
    "lead-stage": [{"title": "New Lead"}, {"title": "Won"}, {"title": "Won"}],
    "lead-group": [{"title": "Inbound"}, {"title": "Partners"}, {"title": "Partners"}],
    "product": [{"title": "Growth Plan"}],
})

PHONE = "98450 12345"


@pytest.fixture(scope="module")
def mapping(tmp_path_factory: pytest.TempPathFactory) -> Mapping:
    path = tmp_path_factory.mktemp("mapping") / "m.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return load_mapping(path)


def issues_of(mapping: Mapping, *, catalog: Catalog | None = CATALOG, **cells: str) -> tuple[Issue, ...]:
    return RowChecker(mapping, catalog).check(Row(2, cells))[2]


def test_a_clean_row_has_no_issues(mapping: Mapping) -> None:
    issues = issues_of(mapping, Phone=PHONE, Stage="New Lead", Group="Inbound", Tags="Hot", Products="Growth Plan")
    assert issues == ()


def test_unknown_and_duplicated_stage_and_group_names_are_errors(mapping: Mapping) -> None:
    assert issues_of(mapping, Phone=PHONE, Stage="new lead", Group="Partners") == (
        Issue(2, "Stage", "error", "unknown-stage", "the account has no stage named 'new lead'; did you mean "
              "'New Lead'?", "new lead"),
        Issue(2, "Group", "error", "duplicate-group", "2 groups in the account are named 'Partners': the API "
              "refuses ambiguous group names; rename one in the dashboard", "Partners"),
    )
    assert issues_of(mapping, Phone=PHONE, Stage="Won", Group="Sales") == (
        Issue(2, "Stage", "error", "duplicate-stage", "2 stages in the account are named 'Won': the API refuses "
              "ambiguous stage names; rename one in the dashboard", "Won"),
        Issue(2, "Group", "error", "unknown-group", "the account has no group named 'Sales'", "Sales"),
    )


def test_unknown_labels_and_products_are_warnings(mapping: Mapping) -> None:
    ignored = "the API would silently ignore it"
    assert issues_of(mapping, Phone=PHONE, Tags="Hot;Cold", Untag="Warm", Products="Growth") == (
        Issue(2, "Tags", "warning", "unknown-label", f"the account has no label named 'Cold': {ignored} (it is "
              "disabled)", "Cold"),
        Issue(2, "Untag", "warning", "unknown-label", f"the account has no label named 'Warm': {ignored}", "Warm"),
        Issue(2, "Products", "warning", "unknown-product", f"the account has no product named 'Growth': {ignored}"
              "; did you mean 'Growth Plan'?", "Growth"),
    )


def test_unknown_source_type_is_an_error_offline_too(mapping: Mapping) -> None:
    expected = Issue(2, "Source", "error", "unknown-source-type", "the account has no source-type named "
                     "'csv_upload'; did you mean 'CSV_UPLOAD'?", "csv_upload")
    assert issues_of(mapping, catalog=None, Phone=PHONE, Source="csv_upload") == (expected,)


def test_phone_issues(mapping: Mapping) -> None:
    assert issues_of(mapping, Stage="New Lead") == (
        Issue(2, "Phone", "error", "missing-phone", "no customer phone in this row"),
    )
    assert issues_of(mapping, Phone="98450 12345 x12", Mobile="12345/9.87654E+09", Owner="'") == (
        Issue(2, "Phone", "warning", "phone-extension-dropped", "extension 12 dropped: the API stores E.164 numbers "
              "only", "98450 12345 x12"),
        Issue(2, "Mobile", "error", "invalid-phone", "'12345' is not a valid phone number for region IN", "12345"),
        Issue(2, "Mobile", "error", "lossy-excel-number", "'9.87654E+09' is a number Excel rounded to 6 significant "
              "digits, so the phone number cannot be recovered; format the column as text and export the sheet "
              "again", "9.87654E+09"),
        Issue(2, "Owner", "error", "empty-phone", "the phone number is blank", "'"),
    )


def test_an_unknown_region_is_reported_on_the_phone(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\ndefaults: {region: IN, region_column: Country}\nfields:\n  customer_phone: Phone\n",
                    encoding="utf-8")
    issues = RowChecker(load_mapping(path), None).check(Row(2, {"Phone": PHONE, "Country": "Atlantis"}))[2]
    assert issues == (Issue(2, "Phone", "error", "invalid-region", "'Atlantis' is not a known region code (use an "
                            "ISO code such as IN)", PHONE),)
