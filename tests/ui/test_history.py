"""The history page over HTTP: the account's runs from its state (the page's and the command line's), their
reports, and undo: its dry run first, then, confirmed, the undo itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from importer.cli.commands import main
from importer.sandbox import SandboxServer
from importer.ui.history import counts_in_words, exit_in_words, local_time
from tests.ui.client import PageClient
from tests.ui.conftest import SAMPLE

ASHA = "+918000000001"


def history_rows(page: str) -> list[str]:
    return re.findall(r'<tr class="history-run" data-run="\d+">(.*?)</tr>', page, re.S)


def cli_run(page: PageClient, upload: str, sandbox: SandboxServer, folder: Path,
            monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of two rows from the command line, into the page's state, reporting into a folder of its own."""
    mapping = folder / "nightly.yaml"
    mapping.write_bytes(page.get(f"/imports/{upload}/mapping.yaml").content)
    sheet = folder / "two.csv"
    lines = (SAMPLE / "leads.csv").read_text(encoding="utf-8").splitlines()
    sheet.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    monkeypatch.setenv("SF_API_KEY", sandbox.api_key)
    state = folder.parent / "work" / "sandbox-state.sqlite"  # the page fixture's (tests/ui/conftest.py)
    assert main(["run", str(sheet), "-m", str(mapping), "--base-url", sandbox.base_url, "--state", str(state),
                 "--report-dir", str(folder / "reports"), "--quiet", "--rate", "1000"]) == 0


def test_history_lists_the_page_s_and_the_command_line_s_runs_with_their_reports(
        page: PageClient, ui_sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert 'href="/history"' in page.get("/").text
    assert "No run has been sent to this account yet" in page.get("/history").text
    upload = page.upload(SAMPLE / "leads.csv")
    page.run(upload, "dry-run")  # not a real run: not in the state
    sent = page.run(upload, "send")
    (tmp_path / "cli").mkdir()
    cli_run(page, upload, ui_sandbox, tmp_path / "cli", monkeypatch)

    shown = page.get("/history").text
    rows = history_rows(shown)
    assert len(rows) == 2
    assert "two.csv" in rows[0] and "2 rows: 2 succeeded" in rows[0] and "every row went through" in rows[0]
    assert "leads.csv" in rows[1] and "24 rows: 18 succeeded, 3 failed, 1 skipped, 2 invalid" in rows[1]
    assert f'href="/runs/{sent.name}"' in rows[1]
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+</td>", rows[1])  # local time, to the second
    elsewhere = re.search(r'href="(/history/runs/\d+/report.html)"', rows[0])
    assert elsewhere, rows[0]
    report = page.get(elsewhere.group(1))
    assert report.status_code == 200 and "two.csv" in report.text
    assert "script-src" not in report.headers["content-security-policy"]
    linked = re.findall(r'<a href="([^"]+)">', report.text)  # relative: beside report.html, here too
    assert "failures.csv" in linked and "summary.json" in linked
    assert page.get(elsewhere.group(1).replace("report.html", "failures.csv")).headers[
        "content-disposition"].startswith("attachment")
    assert page.get(elsewhere.group(1).replace("report.html", "journal.sqlite")).status_code == 404
    assert ui_sandbox.api_key not in shown
    assert page.get("/history/runs/999999/report.html").status_code == 404


def test_undo_from_the_history_previews_then_puts_back_what_the_run_changed(
        page: PageClient, ui_sandbox: SandboxServer) -> None:
    upload = page.upload(SAMPLE / "leads.csv")
    sent = page.run(upload, "send")
    assert ui_sandbox.lead(ASHA)["lead_stage"] == "Contacted"
    run_id = re.search(r'action="/history/runs/(\d+)/undo"', page.get("/history").text).group(1)  # type: ignore[union-attr]

    preview = page.wait(page.post(f"/history/runs/{run_id}/undo").headers["location"])
    assert preview["state"] == "done" and preview["kind"] == "undo preview", preview
    assert (preview["done"], preview["total"]) == (21, 21)
    shown = page.get(f"/runs/{preview['run']}").text
    assert ui_sandbox.lead(ASHA)["lead_stage"] == "Contacted"  # a preview writes nothing
    asha = re.findall(r'<tr class="undo-line" data-row="2">(.*?)</tr>', shown, re.S)
    assert any("lead_stage_name" in line and "would be put back" in line and "New Lead" in line for line in asha)
    assert any("customer_note" in line and "cannot be removed through the API" in line for line in asha)
    assert f"Undo {sent.name} now" in shown

    undone = page.wait(page.post(f"/runs/{preview['run']}/undo").headers["location"])
    assert undone["state"] == "done" and undone["kind"] == "undo", undone
    assert ui_sandbox.lead(ASHA)["lead_stage"] == "New Lead"
    result = page.get(f"/runs/{undone['run']}").text
    assert "What undo did, lead by lead" in result and "put back" in result
    again = page.get(f"/runs/{preview['run']}").text
    assert 'id="undone-already"' in again and 'id="undo-confirm"' not in again
    refused = page.post(f"/runs/{preview['run']}/undo")
    assert refused.status_code == 400 and "was undone already" in refused.text


def test_undo_of_a_run_the_state_does_not_know_is_not_found(page: PageClient) -> None:
    assert page.post("/history/runs/424242/undo").status_code == 404
    assert page.post("/runs/20260101-000000-leads/undo").status_code == 404


def test_words_for_counts_exits_and_times() -> None:
    assert counts_in_words({}) == "did not finish"
    assert counts_in_words({"rows_total": 3, "succeeded": 3, "failed": 0}) == "3 rows: 3 succeeded"
    assert exit_in_words(None) == "did not finish" and exit_in_words(3).startswith("stopped before the end")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+", local_time("2026-12-05T21:18:52.123456+00:00"))
    assert local_time("yesterday") == "yesterday"
