"""The page over HTTP, against a sandbox: the flow a person walks, and what it must never do."""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path

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
    assert re.search(r'name="field-0" value="customer_phone"', shown)
    finished = page.run(upload, "dry-run")
    assert counts(finished.page) == {"rows": 24, "valid": 22, "invalid": 2, "warnings": 8}
    bad = problem_row(finished.page, 7)
    assert re.search(r'<th scope="row" class="num">7</th>', bad)  # the row number: a header of its row
    assert re.search(r'<td class="cell-error">12345', bad)
    message = "invalid-phone: &#39;12345&#39; is not a valid phone number for region IN"
    assert bad.count("is not a valid phone number") == 1 and message in bad  # each problem once: in its cell
    duplicate = problem_row(finished.page, 13)  # a problem of no one column of the sheet stays in the row's own
    assert duplicate.count("duplicate-phone") == 1, duplicate
    only = page.get(f"/runs/{finished.name}", params={"code": "unknown-stage"}).text
    assert re.findall(r'class="problem-row" data-row="(\d+)"', only) == ["8", "24"]
    assert "Propsal" in problem_row(only, 24) and "did you mean" in problem_row(only, 24)
    assert "It was left out." in problem_row(only, 24)  # the page shows the value the row is sent without


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


def test_the_mapping_form_saves_what_it_shows_and_keeps_what_it_does_not(page: PageClient, tmp_path: Path) -> None:
    upload = page.upload(SAMPLE / "leads.csv")
    mapping = (SAMPLE.parent / "mappings" / "example.yaml").read_text(encoding="utf-8")
    answer = page.post(f"/imports/{upload}/mapping/file", files={"file": ("example.yaml", mapping.encode())})
    assert answer.status_code == 303
    assert page.get(f"/imports/{upload}/mapping.yaml").text == mapping
    form = {"rows": 4, "region": "IN", "create_if_missing": "1",
            "orig-0": "customer_phone", "field-0": "customer_phone", "source-0": "column", "column-0": "Phone",
            "orig-1": "lead_stage_name", "field-1": "lead_stage_name", "source-1": "column", "column-1": "Stage",
            "map-1": "Prospect = New Lead\nQualifed = Qualified", "strict-1": "1",
            "orig-2": "city", "field-2": "city", "source-2": "column", "column-2": "City", "remove-2": "1",
            "orig-3": "", "field-3": "business_name", "source-3": "template", "text-3": "{Company} ({City})"}
    assert page.post(f"/imports/{upload}/mapping", form).status_code == 303
    saved = tmp_path / "saved.yaml"
    saved.write_text(page.get(f"/imports/{upload}/mapping.yaml").text, encoding="utf-8")
    assert "The mapping fits this sheet." in page.get(f"/imports/{upload}").text
    loaded = load_mapping(saved)
    assert loaded.fields == ("customer_phone", "lead_stage_name", "business_name")
    text = saved.read_text(encoding="utf-8")
    assert "description: Leads sheet from the sales team" in text  # kept: the form does not show it
    assert "Qualifed: Qualified" in text and "strict: true" in text and "{Company} ({City})" in text


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
