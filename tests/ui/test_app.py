"""The page over HTTP, against a sandbox: the flow a person walks, and what it must never do."""

from __future__ import annotations

import csv
import html
import re
import time
from pathlib import Path

import yaml

from importer.mapping import load_mapping
from tests.ui.client import PageClient
from tests.ui.conftest import SAMPLE


def counts(page: str) -> dict[str, int]:
    found = re.findall(r'<span class="number">(\d+)</span> <span class="label">([^<]+)</span>', page)
    return {label: int(number) for number, label in found}


def problem_row(page: str, number: int) -> str:
    match = re.search(rf'<tr class="problem-row" data-row="{number}">(.*?)</tr>', page, re.S)
    assert match, f"row {number} is not listed"
    return match.group(1)


def test_a_sheet_gets_a_suggested_mapping_and_its_dry_run_shows_counts_and_bad_cells(page: PageClient) -> None:
    upload = page.upload(SAMPLE / "leads.csv")
    shown = page.get(f"/imports/{upload}").text
    assert "The mapping fits this sheet." in shown
    assert re.search(r'<label for="role-2">Phone</label>', shown)
    assert re.search(r'<option value="customer_phone" selected>Phone number</option>', shown)
    finished = page.run(upload, "dry-run")
    assert counts(finished.page) == {"rows": 24, "valid": 22, "invalid": 2, "warnings": 6}
    bad = problem_row(finished.page, 7)
    assert re.search(r'<th scope="row" class="num">7</th>', bad)  # the row number: a header of its row
    assert re.search(r'<td class="cell-error">12345', bad)
    message = "invalid-phone: &#39;12345&#39; is not a valid phone number for region IN"
    assert bad.count("is not a valid phone number") == 1 and message in bad  # each problem once: in its cell
    duplicate = problem_row(finished.page, 13)  # a problem of no one column of the sheet stays in the row's own
    assert duplicate.count("duplicate-phone") == 1, duplicate
    assert "unknown-stage" not in finished.page  # the sheet's typos were matched to the account's stages
    only = page.get(f"/runs/{finished.name}", params={"code": "duplicate-group"}).text
    assert re.findall(r'class="problem-row" data-row="(\d+)"', only) == ["9"]
    assert "duplicate-group" in problem_row(only, 9) and "Events" in problem_row(only, 9)


def test_the_plan_shows_each_change_old_to_new(page: PageClient) -> None:
    upload = page.upload(SAMPLE / "leads.csv")
    finished = page.run(upload, "plan")
    assert {k: v for k, v in counts(finished.page).items() if k in ("create", "update", "conflict")} == {
        "create": 18, "update": 2, "conflict": 1}
    row = re.search(r'<tr class="plan-row action-update" data-row="2">(.*?)</tr>', finished.page, re.S)
    assert row, "row 2 is an update"
    assert re.search(r'<span class="field">lead_stage_name</span>:\s*<span class="old">&#34;New Lead&#34;</span> → '
                     r'<span class="new">&#34;Contacted&#34;</span>', row.group(1))
    creates = page.get(f"/runs/{finished.name}", params={"action": "create"}).text
    assert set(re.findall(r'class="plan-row action-(\w+)"', creates)) == {"create"}


def test_a_send_reports_progress_to_the_end_and_its_failures_re_import(page: PageClient, tmp_path: Path) -> None:
    upload = page.upload(SAMPLE / "leads.csv")
    finished = page.run(upload, "send")
    status = finished.status
    assert (status["phase"], status["done"], status["total"], status["failed"]) == ("sending", 21, 21, 3)
    assert (status["state"], status["phase_text"], status["eta_text"]) == ("done", "done", "none")
    assert counts(finished.page)["succeeded"] == 18 and counts(finished.page)["failed"] == 3
    assert 'id="report-frame" src="/runs/' in finished.page
    failures = page.get(f"/runs/{finished.name}/files/failures.csv")
    assert failures.headers["content-disposition"].startswith("attachment")
    saved = tmp_path / "failures.csv"
    saved.write_bytes(failures.content)
    with saved.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 + 2  # the three the API refused, the two invalid
    again = page.upload(saved)
    assert "The mapping fits this sheet." in page.get(f"/imports/{again}").text
    report = page.get(f"/runs/{finished.name}/files/report.html")
    assert report.headers["content-type"].startswith("text/html")
    assert "script-src" not in report.headers["content-security-policy"]


def test_a_workbook_offers_its_sheets(page: PageClient) -> None:
    upload = page.upload(SAMPLE / "leads.xlsx")
    shown = page.get(f"/imports/{upload}").text
    assert re.findall(r'<option value="(\w+)" ?(?:selected)?>\1</option>', shown.split('id="sheet"')[1].split(
        "</select>")[0]) == ["Leads", "Notes"]
    assert page.post(f"/imports/{upload}/sheet", {"sheet": "Nope"}).status_code == 400
    assert page.post(f"/imports/{upload}/sheet", {"sheet": "Leads"}).status_code == 303
    assert counts(page.run(upload, "dry-run").page)["rows"] == 24


def control_for(page: str, label: str) -> str:
    """The name of the control a visible label is for (the wizard's labels are the columns and the values)."""
    found = re.search(rf'<label for="([^"]+)">{re.escape(label)}</label>', page)
    assert found, f"no label {label!r}"
    name = re.search(rf'name="([^"]+)" id="{found.group(1)}"', page)
    assert name, found.group(1)
    return name.group(1)


def selected(page: str, name: str) -> str:
    select = re.search(rf'<select name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    assert select, name
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(1))
    return html.unescape(chosen.group(1)) if chosen else ""


def wizard_form(page: str) -> dict[str, str]:
    """Every select of a wizard step as it is shown (what a person who changes nothing posts)."""
    return {name: selected(page, name) for name in re.findall(r'<select name="([^"]+)"', page)
            if name not in ("preset", "sheet")}


def test_the_wizard_writes_what_a_person_chose_and_keeps_the_rest(page: PageClient, tmp_path: Path) -> None:
    upload = page.upload(SAMPLE / "leads.csv")
    mapping = (SAMPLE.parent / "mappings" / "example.yaml").read_text(encoding="utf-8")
    answer = page.post(f"/imports/{upload}/mapping/file", files={"file": ("example.yaml", mapping.encode())})
    assert answer.status_code == 303
    shown = page.get(f"/imports/{upload}?step=columns").text
    assert selected(shown, control_for(shown, "Mobile")) == "add_phones"
    assert "also read by customer_note (template; change that in the YAML)" in shown  # Notes: in a template
    unchanged = page.post(f"/imports/{upload}/wizard/columns", wizard_form(shown))
    assert unchanged.headers["location"] == f"/imports/{upload}?step=values#mapping"
    assert page.get(f"/imports/{upload}/mapping.yaml").text == mapping  # nothing changed: the file, comments too
    form = {**wizard_form(shown), control_for(shown, "Mobile"): ""}
    assert page.post(f"/imports/{upload}/wizard/columns", form).status_code == 303
    values = page.get(f"/imports/{upload}?step=values").text
    typo = control_for(values, "Qualifed")
    assert selected(values, typo) == "to:Qualified"  # the example's own map
    lost = control_for(values, "Lost")
    page.post(f"/imports/{upload}/wizard/values", {**wizard_form(values), typo: "to:Won", lost: "skip"})
    fields = page.get(f"/imports/{upload}?step=fields").text
    assert selected(fields, "policy-city") == "overwrite"
    page.post(f"/imports/{upload}/wizard/fields", {**wizard_form(fields), "policy-city": "fill_empty",
                                                   "region": "in", "create_if_missing": "1"})
    saved = tmp_path / "saved.yaml"
    saved.write_text(page.get(f"/imports/{upload}/mapping.yaml").text, encoding="utf-8")
    assert "The mapping fits this sheet." in page.get(f"/imports/{upload}").text
    loaded = load_mapping(saved)
    assert "add_phones" not in loaded.fields and loaded.policies == {"city": "fill_empty"}
    data = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert data["description"] == "Leads sheet from the sales team (sample_data/leads.csv)"  # kept
    assert data["fields"]["city"] == {"column": "City", "default": "Bengaluru", "policy": "fill_empty"}
    assert data["fields"]["customer_note"] == {"template": "Imported from {Source}: {Notes}"}
    stage = data["fields"]["lead_stage_name"]
    assert stage["strict"] is True and "Lost" not in stage["map"] and stage["map"]["Qualifed"] == "Won"
    assert stage["map"]["(none)"] is None and stage["map"]["Prospect"] == "New Lead"  # not in the sheet: kept
    assert stage["map"]["Propsal"] == "Proposal"  # the best guess shown, written
    finished = page.run(upload, "dry-run")
    # rows 7 and 14: bad phones; row 20: Lost, not imported. Warnings: rows 3 and 13 share a phone, 9 (Events:
    # two groups of the account), 12 (Platinum: no such label), 15 (an extension), 19 (an e-mail)
    assert counts(finished.page) == {"rows": 24, "valid": 21, "invalid": 3, "warnings": 6}
    assert "Lost" in problem_row(finished.page, 20) and "unmapped-value" in problem_row(finished.page, 20)


def test_the_sheet_comes_from_a_preset_and_the_mapping_starts_again_from_it(page: PageClient) -> None:
    upload = page.upload(SAMPLE / "leadsquared_leads.csv")
    shown = page.get(f"/imports/{upload}").text
    assert selected(shown, "preset") == "leadsquared"  # recognised from its headers
    answer = page.post(f"/imports/{upload}/wizard/preset", {"preset": "zoho"})
    assert answer.headers["location"] == f"/imports/{upload}?step=columns#mapping"
    assert "description: Zoho CRM leads export" in page.get(f"/imports/{upload}/mapping.yaml").text
    assert selected(page.get(f"/imports/{upload}").text, "preset") == "zoho"
    assert page.post(f"/imports/{upload}/wizard/preset", {"preset": "nope"}).status_code == 404


def test_a_broken_mapping_says_where_and_nothing_can_run(page: PageClient) -> None:
    upload = page.upload(SAMPLE / "leads.csv")
    answer = page.post(f"/imports/{upload}/mapping/yaml", {"yaml": "version: 1\nfields:\n  customer_phone: Fone\n"})
    assert answer.status_code == 303
    shown = page.get(f"/imports/{upload}").text
    problem = re.search(r'id="mapping-problem">([^<]*)<', shown).group(1)  # type: ignore[union-attr]
    assert "mapping.yaml:3: fields.customer_phone: column &#39;Fone&#39; is not in leads.csv" in problem
    assert re.search(r'id="dry-run" disabled', shown)
    refused = page.post(f"/imports/{upload}/run", {"kind": "dry-run"})
    assert refused.status_code == 400 and "is not in leads.csv" in refused.text
    assert page.get("/").text.count("/runs/") == 0  # no run was started
    for text, wizard in (("version: 1\nfields: Phone\n", False),
                         ("version: 1\nfields:\n  lead_stage_name: {column: Stage, map: [a]}\n", True)):
        page.post(f"/imports/{upload}/mapping/yaml", {"yaml": text})  # the wizard shows what it can, no traceback
        shown = [page.get(f"/imports/{upload}", params={"step": step}) for step in ("columns", "values", "fields")]
        assert [answer.status_code for answer in shown] == [200] * 3
        assert ('id="no-wizard"' not in shown[0].text) is wizard


def sending_for_a_while(status: dict[str, object]) -> bool:
    return status["phase"] == "sending" and int(str(status["done"])) >= 2


def test_a_send_stopped_from_the_page_reports_what_is_left_and_the_next_send_finishes(page: PageClient,
                                                                                      ui_sandbox) -> None:
    upload = page.upload(SAMPLE / "leads.csv")
    ui_sandbox.configure(latency_ms=150)
    job = page.start(upload, "send", rate="4", concurrency="1")
    deadline = time.monotonic() + 30
    while not sending_for_a_while(page.get(job + "/status").json()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert page.post(job + "/stop").status_code == 303
    status = page.wait(job)
    assert status["state"] == "done" and status["stop_requested"]
    shown = page.get(f"/runs/{status['run']}").text
    left = int(re.search(r'id="stopped">Stopped before the end \(stopped from the page\): (\d+) rows left unsent',
                         shown).group(1))  # type: ignore[union-attr]
    assert 0 < left < 21 and 'id="next-send"' in shown
    ui_sandbox.configure(latency_ms=0)
    rest = page.run(upload, "send")
    assert 0 < counts(rest.page)["sent"] <= left and "Stopped before the end" not in rest.page


def test_the_rows_with_problems_read_well_and_download(page: PageClient, tmp_path: Path) -> None:
    upload = page.upload(SAMPLE / "leads.csv")
    finished = page.run(upload, "dry-run")
    assert '<thead><tr><th scope="col" class="num">row</th>' in finished.page
    link = re.search(r'<a class="button" href="([^"]+)" id="download-problem-rows" download>Download the rows with '
                     r"problems</a>", finished.page)
    assert link and link.group(1) == f"/runs/{finished.name}/rows-with-errors.csv"
    answer = page.get(link.group(1))
    assert answer.headers["content-disposition"] == 'attachment; filename="leads-rows-with-errors.csv"'
    saved = tmp_path / "fixed.csv"
    saved.write_bytes(answer.content)
    with saved.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["_row"] for row in rows] == ["7", "14"] and rows[0]["Phone"] == "12345"
    assert rows[0]["_error"].startswith("invalid-phone: '12345' is not a valid phone number")
    again = page.upload(saved)  # as a run's failures.csv: it imports with the same mapping
    assert "The mapping fits this sheet." in page.get(f"/imports/{again}").text
    sent = page.run(upload, "send")
    assert f'href="/runs/{sent.name}/files/failures.csv" id="download-problem-rows"' in sent.page
    style = page.get("/static/style.css").text
    sheet = [line for line in style.splitlines() if line.startswith(".sheet")]
    assert any("overflow-wrap: break-word; word-break: normal" in line for line in sheet)  # at spaces first
    assert not any("anywhere" in line for line in sheet)
    assert ".sheet thead th { position: sticky; top: 0;" in style and ".sheet tbody th { position: sticky; left: 0;" \
        in style
