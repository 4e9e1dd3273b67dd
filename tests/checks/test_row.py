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


@pytest.fixture(scope="module")
def rejecting(tmp_path_factory: pytest.TempPathFactory) -> Mapping:
    """The same mapping, with every field's ``on_invalid: reject``."""
    path = tmp_path_factory.mktemp("mapping") / "m.yaml"
    path.write_text(MAPPING.replace("{region: IN}", "{region: IN, on_invalid: reject}"), encoding="utf-8")
    return load_mapping(path)


def issues_of(mapping: Mapping, *, catalog: Catalog | None = CATALOG, **cells: str) -> tuple[Issue, ...]:
    return RowChecker(mapping, catalog).check(Row(2, cells))[2]


def requests_of(mapping: Mapping, *, catalog: Catalog | None = CATALOG, **cells: str) -> tuple[dict, ...]:
    return RowChecker(mapping, catalog).check(Row(2, cells))[0]


def left_out(issue: Issue) -> Issue:
    """``issue`` as the default ``on_invalid: drop`` reports it: a warning that says the value was left out."""
    message = issue.message
    message = f"{message} It was left out." if message.endswith("?") else f"{message}; it was left out"
    return Issue(issue.row, issue.column, "warning", issue.code, message, issue.value)


def test_a_clean_row_has_no_issues(mapping: Mapping) -> None:
    issues = issues_of(mapping, Phone=PHONE, Stage="New Lead", Group="Inbound", Tags="Hot", Products="Growth Plan")
    assert issues == ()


BAD_NAMES = (
    ({"Stage": "new lead", "Group": "Partners"}, (
        Issue(2, "Stage", "error", "unknown-stage", "the account has no stage named 'new lead'; did you mean "
              "'New Lead'?", "new lead"),
        Issue(2, "Group", "error", "duplicate-group", "2 groups in the account are named 'Partners': the API "
              "refuses ambiguous group names; rename one in the dashboard", "Partners"),
    )),
    ({"Stage": "Won", "Group": "Sales"}, (
        Issue(2, "Stage", "error", "duplicate-stage", "2 stages in the account are named 'Won': the API refuses "
              "ambiguous stage names; rename one in the dashboard", "Won"),
        Issue(2, "Group", "error", "unknown-group", "the account has no group named 'Sales'", "Sales"),
    )),
)


@pytest.mark.parametrize(("cells", "errors"), BAD_NAMES)
def test_unknown_and_duplicated_stage_and_group_names_are_left_out(mapping: Mapping, cells, errors) -> None:
    assert issues_of(mapping, Phone=PHONE, **cells) == tuple(left_out(error) for error in errors)
    assert requests_of(mapping, Phone=PHONE, **cells) == ({"customer_phone": "+919845012345",
                                                          "create_customer_if_customer_phone_not_found": True},)


@pytest.mark.parametrize(("cells", "errors"), BAD_NAMES)
def test_with_on_invalid_reject_bad_names_are_errors(rejecting: Mapping, cells, errors) -> None:
    assert issues_of(rejecting, Phone=PHONE, **cells) == errors
    assert requests_of(rejecting, Phone=PHONE, **cells) == ()


def test_unknown_labels_and_products_are_warnings(mapping: Mapping) -> None:
    ignored = "the API would silently ignore it"
    assert issues_of(mapping, Phone=PHONE, Tags="Hot;Cold", Untag="Warm", Products="Growth") == (
        Issue(2, "Tags", "warning", "unknown-label", f"the account has no label named 'Cold': {ignored} (it is "
              "disabled)", "Cold"),
        Issue(2, "Untag", "warning", "unknown-label", f"the account has no label named 'Warm': {ignored}", "Warm"),
        Issue(2, "Products", "warning", "unknown-product", f"the account has no product named 'Growth': {ignored}"
              "; did you mean 'Growth Plan'?", "Growth"),
    )


def test_unknown_source_type_is_checked_offline_too(mapping: Mapping, rejecting: Mapping) -> None:
    expected = Issue(2, "Source", "error", "unknown-source-type", "the account has no source-type named "
                     "'csv_upload'; did you mean 'CSV_UPLOAD'?", "csv_upload")
    assert issues_of(rejecting, catalog=None, Phone=PHONE, Source="csv_upload") == (expected,)
    assert issues_of(mapping, catalog=None, Phone=PHONE, Source="csv_upload") == (left_out(expected),)
    assert "source_type" not in requests_of(mapping, catalog=None, Phone=PHONE, Source="csv_upload")[0]


def test_phone_issues(mapping: Mapping, rejecting: Mapping) -> None:
    assert issues_of(mapping, Stage="New Lead") == (
        Issue(2, "Phone", "error", "missing-phone", "no customer phone in this row"),
    )
    cells = {"Phone": "98450 12345 x12", "Mobile": "12345/9.87654E+09/98450 54321", "Owner": "'"}
    extension, *errors = issues_of(rejecting, **cells)
    assert issues_of(mapping, **cells) == (extension, *(left_out(error) for error in errors))
    assert requests_of(mapping, **cells) == ({"customer_phone": "+919845012345", "add_phones": ["+919845054321"],
                                              "create_customer_if_customer_phone_not_found": True},)
    assert requests_of(rejecting, **cells) == ()
    assert (extension, *errors) == (
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
