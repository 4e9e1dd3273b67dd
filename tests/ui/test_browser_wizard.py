"""The mapping wizard in a real browser (headless Chromium), against a sandbox: sample_data/leads.csv mapped without
touching the YAML, its dry run's counts, the YAML view round-tripping the wizard's mapping, axe-core on each step.

Screenshots, as test_browser.py makes them: ``wizard-1-columns`` … ``wizard-5-dry-run``.
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.ui.conftest import SAMPLE, Shot
from tests.ui.test_browser import assert_accessible, by_id, counts, css, run_to_report, upload, wait_for


def select(element: Any) -> Any:
    from selenium.webdriver.support.select import Select

    return Select(element)


def column_select(browser: Any, column: str) -> Any:
    """The dropdown of what ``column`` becomes, found through its visible label."""
    label = next(item for item in css(browser, "#column-table label") if item.text == column)
    return select(by_id(browser, label.get_attribute("for")))


def value_select(browser: Any, field: str, value: str) -> Any:
    row = next(r for r in css(browser, f"#values-{field} tr.value-row") if r.get_attribute("data-value") == value)
    label = row.find_element("css selector", "label")
    assert label.text == value
    return select(by_id(browser, label.get_attribute("for")))


def step(browser: Any, button: str, form: str) -> None:
    by_id(browser, button).click()
    wait_for(lambda: by_id(browser, form) and browser.execute_script("return document.readyState") == "complete",
             what=form)


def choices_shown(browser: Any, url: str) -> dict[str, str]:
    """What every control of the three steps shows (id → the option selected, or a box's value)."""
    shown: dict[str, str] = {}
    for name in ("columns", "values", "fields"):
        browser.get(f"{url}?step={name}")
        wait_for(lambda name=name: by_id(browser, f"{name}-form"), what=name)
        for element in css(browser, f"#{name}-form select"):
            shown[element.get_attribute("id")] = select(element).first_selected_option.get_attribute("value")
        for element in css(browser, f"#{name}-form input:not([type=hidden])"):
            shown[element.get_attribute("name")] = str(element.get_attribute("value")) + str(element.is_selected())
    return shown


def picture(browser: Any, shots: Shot, name: str, at: str = "mapping") -> None:
    """A screenshot from the element ``at`` down (the wizard's steps are long pages)."""
    browser.execute_script("document.getElementById(arguments[0]).scrollIntoView()", at)
    shots(name)


def mapping_text(browser: Any, url: str) -> str:
    return str(browser.execute_script(
        "return fetch(arguments[0]).then((answer) => answer.text())", f"{url}/mapping.yaml"))


def test_the_wizard_maps_the_sample_sheet_without_yaml_and_the_yaml_view_round_trips_it(
        browser: Any, shots: Shot, page_url: str) -> None:
    browser.set_window_size(1280, 1400)  # this module's own browser: room for a step in one picture
    upload(browser, page_url, SAMPLE / "leads.csv")
    sheet_url = browser.current_url.split("?")[0].split("#")[0]
    # 1. Columns: each with its first values and what it becomes, in words
    notes = column_select(browser, "Notes")
    assert notes.first_selected_option.text == "Note"
    assert column_select(browser, "Tags").first_selected_option.text == "Labels (one per ';')"
    assert column_select(browser, "Mobile").first_selected_option.text == "Other phones"
    samples = next(r for r in css(browser, "tr.column-row") if r.get_attribute("data-column") == "Stage")
    assert [item.text for item in samples.find_elements("css selector", ".sample")] == [
        "Contacted", "New Lead", "Qualified"]
    assert select(by_id(browser, "preset")).first_selected_option.text == "recognised from its headers"
    notes.select_by_visible_text("Don't import")
    picture(browser, shots, "wizard-1-columns")
    assert_accessible(browser, "wizard: columns")
    step(browser, "save-columns", "values-form")

    # 2. Values: each distinct stage, group and label with the account's names, the typos matched by the suggestion
    typo = value_select(browser, "lead_stage_name", "Propsal")
    assert typo.first_selected_option.text == "Proposal"
    assert [option.text for option in typo.options] == [
        "New Lead", "Contacted", "Qualified", "Proposal", "Follow-up (2 lead stages of the account have this name)",
        "Won", "Lost", "as in the sheet: Propsal", "leave empty", "don't import the row"]
    value_select(browser, "lead_stage_name", "Qualifed").select_by_visible_text("Qualified")
    value_select(browser, "lead_stage_name", "Lost").select_by_visible_text("don't import the row")
    value_select(browser, "lead_group_name", "Events").select_by_visible_text("Partners")
    value_select(browser, "add_labels", "Platinum").select_by_visible_text("VIP")
    picture(browser, shots, "wizard-2-values")
    assert_accessible(browser, "wizard: values")
    step(browser, "save-values", "fields-form")

    # 3. Fields: overwrite / fill blanks only / only on new leads; dates (none in this sheet)
    city = select(by_id(browser, css(browser, 'tr.policy-row[data-field="city"] label')[0].get_attribute("for")))
    assert [option.text for option in city.options] == ["overwrite", "fill blanks only", "only on new leads"]
    city.select_by_visible_text("fill blanks only")
    assert by_id(browser, "no-dates").text == "No column is read as a date by this mapping."
    picture(browser, shots, "wizard-3-fields")
    assert_accessible(browser, "wizard: fields")
    step(browser, "save-fields", "fields-form")
    assert by_id(browser, "mapping-ok").text == "The mapping fits this sheet."

    written = yaml.safe_load(mapping_text(browser, sheet_url))
    fields = written["fields"]
    assert "customer_note" not in fields and fields["city"] == {"column": "City", "policy": "fill_empty"}
    assert fields["lead_stage_name"]["strict"] is True and "Lost" not in fields["lead_stage_name"]["map"]
    assert fields["lead_stage_name"]["map"]["Propsal"] == "Proposal"
    assert fields["lead_group_name"]["map"]["Events"] == "Partners"
    assert fields["add_labels"]["map"] == {"Platinum": "VIP"}

    # The YAML view: one click away, the same mapping; saved as it is, the wizard shows the same choices
    before, text = choices_shown(browser, sheet_url), mapping_text(browser, sheet_url)
    by_id(browser, "step-yaml").click()
    wait_for(lambda: by_id(browser, "yaml").is_displayed(), what="the YAML view")
    assert by_id(browser, "yaml").get_attribute("value") == text
    picture(browser, shots, "wizard-4-yaml", "yaml-view")
    assert_accessible(browser, "wizard: YAML")
    by_id(browser, "save-yaml").click()
    wait_for(lambda: "step=fields" in browser.current_url and by_id(browser, "fields-form"), what="the wizard")
    assert mapping_text(browser, sheet_url) == text
    assert choices_shown(browser, sheet_url) == before

    # The dry run, with the counts the choices give
    run_to_report(browser, "dry-run")
    # rows 7 and 14: phones that are no numbers; row 20: a lost lead, not imported. Warnings: rows 3 and 13
    # share a phone (both), row 15's extension, row 19's e-mail. Row 9 (Events) and row 12 (Platinum) are fine now.
    assert counts(browser) == {"rows": 24, "valid": 21, "invalid": 3, "warnings": 4}
    assert sorted(int(row.get_attribute("data-row")) for row in css(browser, "tr.problem-row")) == [
        3, 7, 13, 14, 15, 19, 20]
    lost = css(browser, 'tr[data-row="20"] td.cell-error')[0].text
    assert "unmapped-value: 'Lost' is not in the map" in lost
    shots("wizard-5-dry-run")
    assert_accessible(browser, "wizard: dry run")
