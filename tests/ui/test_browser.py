"""The whole flow in a real browser (headless Chromium), against a sandbox, asserting what a person sees.

One browser for the module. Each step saves a screenshot: in ``--screenshots DIR`` when given (the pictures of
docs/page.md: ``--screenshots docs/screenshots``), else in a ``screenshots`` folder under pytest's temporary
folder (its path is printed by ``pytest -s``). Left out, in one line, where Chromium is missing (see browser.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from importer.sandbox import SandboxServer
from tests.report.hostile import HOSTILE_TEXTS
from tests.ui.conftest import SAMPLE, Shot
from tests.ui.test_safety import hostile_sheet

#: axe-core's impacts that fail a page (minor and moderate ones are listed by axe but do not fail it).
BLOCKING = ("serious", "critical")


def axe_violations(browser: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page the browser shows, injected by the test only (the page itself loads
    nothing from elsewhere). Frames are left out: report.html is shown in a sandboxed frame with no script, and
    is checked on its own."""
    from axe_selenium_python import Axe

    axe = Axe(browser)
    axe.inject()
    found = axe.run(options='{"iframes": false, "resultTypes": ["violations"]}')
    return list(found["violations"])


def assert_accessible(browser: Any, page_name: str) -> None:
    """No serious or critical axe-core violation on the page; each one is reported with its id and targets."""
    blocking = [v for v in axe_violations(browser) if v.get("impact") in BLOCKING]
    lines = [f"{v['id']} ({v['impact']}): {v['help']} at "
             + ", ".join(" ".join(node["target"]) for node in v["nodes"]) for v in blocking]
    assert not blocking, f"{page_name}: {len(blocking)} serious or critical accessibility violations:\n" + "\n".join(
        lines)


def wait_for(condition: Callable[[], Any], timeout: float = 60, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Exception:  # an element not there yet, or replaced while read
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        time.sleep(0.05)


def by_tag_text(browser: Any, tag: str) -> list[str]:
    return [element.text for element in css(browser, tag)]


def by_id(browser: Any, element_id: str) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, element_id)


def css(browser: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(browser.find_elements(By.CSS_SELECTOR, selector))


def counts(browser: Any) -> dict[str, int]:
    shown = {}
    for item in css(browser, "#counts li"):
        number, label = item.text.split(None, 1)
        shown[label] = int(number)
    return shown


def upload(browser: Any, url: str, sheet: Path) -> None:
    browser.get(url + "/")
    by_id(browser, "file").send_keys(str(sheet))  # choosing the file sends it
    wait_for(lambda: "/imports/" in browser.current_url and by_id(browser, "columns-form"), what="the mapping")


def drop(browser: Any, url: str, sheet: Path) -> None:
    """Drop a file on the start page, as a person drags one from their file manager."""
    browser.get(url + "/")
    wait_for(lambda: browser.execute_script("return document.body.dataset.ready") == "true", what="the page's script")
    browser.execute_script("""
        const transfer = new DataTransfer();
        transfer.items.add(new File([arguments[0]], arguments[1], {type: "text/csv"}));
        const zone = document.getElementById("upload-form");
        zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true, cancelable: true}));
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
    """, sheet.read_text(encoding="utf-8"), sheet.name)
    wait_for(lambda: "/imports/" in browser.current_url and by_id(browser, "columns-form"), what="the mapping")


def run_to_report(browser: Any, button: str) -> None:
    by_id(browser, button).click()
    wait_for(lambda: "/runs/" in browser.current_url and by_id(browser, "counts"), what="the run's page")


def fix_stage_map(browser: Any) -> None:
    """The sheet's typo 'Qualifed' is one of the stage values: its dropdown offers the account's 'Qualified'."""
    from selenium.webdriver.support.select import Select

    by_id(browser, "save-columns").click()
    row = wait_for(lambda: next(r for r in css(browser, "#values-lead_stage_name tr.value-row")
                                if r.get_attribute("data-value") == "Qualifed"), what="the stage values")
    Select(row.find_element("css selector", "select")).select_by_visible_text("Qualified")
    by_id(browser, "save-values").click()
    wait_for(lambda: by_id(browser, "fields-form") and by_id(browser, "mapping-ok"), what="the saved mapping")


def test_the_whole_flow_on_the_sample_sheet(browser: Any, shots: Shot, page_url: str, ui_sandbox: SandboxServer,
                                            tmp_path: Path) -> None:
    browser.get(page_url + "/")
    assert by_id(browser, "key-state").text == "key set (the sandbox's)"
    shots("1-start")
    assert_accessible(browser, "start")
    upload(browser, page_url, SAMPLE / "leads.csv")
    assert by_id(browser, "mapping-ok").text == "The mapping fits this sheet."
    shots("2-mapping")
    assert_accessible(browser, "import/mapping")
    fix_stage_map(browser)
    css(browser, "#yaml-view summary")[0].click()
    assert "Qualifed: Qualified" in by_id(browser, "yaml").get_attribute("value")
    by_id(browser, "download-mapping").click()
    shots("3-mapping-yaml")
    assert_accessible(browser, "mapping as YAML")

    run_to_report(browser, "dry-run")
    assert counts(browser) == {"rows": 24, "valid": 22, "invalid": 2, "warnings": 6}
    bad = wait_for(lambda: css(browser, 'tr[data-row="7"] td.cell-error'), what="row 7's bad cell")[0]
    assert bad.text.splitlines() == ["12345", "invalid-phone: '12345' is not a valid phone number for region IN"]
    assert bad.value_of_css_property("background-color") == "rgba(253, 217, 217, 1)"
    assert words_broken(browser, "#problem-table td") == []
    assert_header_and_row_numbers_stay(browser)
    assert by_id(browser, "download-problem-rows").text == "Download the rows with problems"
    shots("4-dry-run")
    assert_accessible(browser, "dry run")
    from selenium.webdriver.support.select import Select

    Select(by_id(browser, "code-filter")).select_by_value("duplicate-group")
    wait_for(lambda: "code=duplicate-group" in browser.current_url, what="the filter")
    assert [row.get_attribute("data-row") for row in css(browser, "tr.problem-row")] == ["9"]
    dropped = css(browser, 'tr[data-row="9"] td.cell-warning')[0].text  # an ambiguous group: left out, not the lead
    assert "2 groups in the account are named 'Events'" in dropped
    shots("5-dry-run-filtered")
    assert_accessible(browser, "dry run, filtered")

    run_to_report(browser, "next-plan")
    update = wait_for(lambda: css(browser, 'tr.plan-row[data-row="2"]'), what="the plan's row 2")[0]
    assert update.find_element("css selector", "td:nth-child(2)").text == "update"
    assert '"New Lead" → "Contacted"' in update.text and "lead_stage_name" in update.text
    shots("6-plan")
    assert_accessible(browser, "plan")

    ui_sandbox.configure(throttle=0.3, throttle_retry_after=0.05, fault_seed=7)
    by_id(browser, "back-to-sheet").click()
    rate = wait_for(lambda: css(browser, "#send-form input[name=rate]"), what="the send form")[0]
    rate.clear()
    rate.send_keys("20")
    by_id(browser, "send").click()
    browser.switch_to.alert.accept()
    wait_for(lambda: by_id(browser, "done").text not in ("0", ""), what="progress")
    shots("7-sending")
    assert_accessible(browser, "sending")
    # the page moves on to the report 0.4 s after "done": the finished view is read in one go
    sent = wait_for(lambda: _finished_send(browser), what="the end of the send")
    assert (sent["done"], sent["total"]) == ("21", "21")  # 22 valid, 1 duplicate
    assert int(sent["throttled"]) > 0 and int(sent["retries"]) >= int(sent["throttled"])
    assert (sent["phase"], sent["eta"]) == ("done", "none")
    assert sent["slow-down"].startswith(f"The server asked us to slow down ({sent['throttled']} times)")
    assert not sent["busy"]  # the header no longer says a send is going on
    shots("8-sent")
    wait_for(lambda: "/runs/" in browser.current_url and by_id(browser, "report-frame"), what="the report")
    assert {k: counts(browser)[k] for k in ("succeeded", "failed")} == {"succeeded": 18, "failed": 3}
    browser.switch_to.frame(by_id(browser, "report-frame"))
    assert wait_for(lambda: css(browser, "h1"), what="report.html")[0].text == "import: leads.csv"
    assert "In doubt" in by_tag_text(browser, "th") and "failures.csv" in [a.text for a in css(browser, "a")]
    assert_charts_render(browser)
    browser.switch_to.default_content()
    browser.execute_script("document.getElementById('report').scrollIntoView()")
    shots("9-report")
    assert_accessible(browser, "run/report")

    by_id(browser, "file-failures-csv").click()
    failures = wait_for(lambda: _downloaded(browser.downloads, "failures.csv"), what="failures.csv")
    mapping = wait_for(lambda: _downloaded(browser.downloads, "leads-mapping.yaml"), what="the mapping")
    account = {"SF_BASE_URL": ui_sandbox.base_url, "SF_API_KEY": ui_sandbox.api_key}
    again = subprocess.run([sys.executable, "-m", "importer", "validate", str(failures), "-m", str(mapping),
                            "--report-dir", str(tmp_path / "again")],
                           capture_output=True, text=True, timeout=120, env={**os.environ, **account})
    assert again.returncode == 1, again.stderr
    assert again.stdout.startswith("failures.csv: 5 rows: 3 valid, 2 invalid"), again.stdout


def words_broken(browser: Any, selector: str) -> list[str]:
    """Words (letters and digits, up to 15 of them) the page breaks over two lines in the cells ``selector`` finds
    (a line may still end after a hyphen, as text does)."""
    return list(browser.execute_script("""
        const broken = [];
        document.querySelectorAll(arguments[0]).forEach((cell) => {
          const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const found of node.data.matchAll(/[\\p{L}\\p{N}]{2,15}/gu)) {
              const range = document.createRange();
              range.setStart(node, found.index);
              range.setEnd(node, found.index + found[0].length);
              const lines = new Set(Array.from(range.getClientRects(), (rect) => Math.round(rect.top)));
              if (lines.size > 1) broken.push(found[0]);
            }
          }
        });
        return broken;""", selector))


def assert_header_and_row_numbers_stay(browser: Any) -> None:
    """Scrolled down and to the right, the table's header row and its row numbers are still where they were."""
    header = css(browser, "#problem-table thead th")[0]
    number = css(browser, "#problem-table tbody th")[-1]
    box = css(browser, ".scroll")[0]
    top, left = header.rect["y"], number.rect["x"]
    browser.execute_script("arguments[0].scrollTop = 10000; arguments[0].scrollLeft = 10000;", box)
    assert browser.execute_script("return arguments[0].scrollLeft", box) > 0, "the table is not wider than its box"
    assert header.rect["y"] == pytest.approx(top, abs=1) and number.rect["x"] == pytest.approx(left, abs=1)
    browser.execute_script("arguments[0].scrollTop = 0; arguments[0].scrollLeft = 0;", box)


def assert_charts_render(browser: Any) -> None:
    """The report's charts are drawn: each has a size on the page, and bars with a size of their own."""
    for chart_id in ("outcomes", "issues"):
        chart = css(browser, f"svg#{chart_id}")
        assert chart, f"no chart {chart_id!r} in the report"
        assert chart[0].size["width"] > 100 and chart[0].size["height"] > 50, chart_id
        bars = [bar for bar in chart[0].find_elements("css selector", "rect") if bar.size["width"] > 1]
        assert len(bars) >= 2, chart_id


def test_the_report_of_a_real_run_draws_its_charts(browser: Any, shots: Shot, tmp_path: Path) -> None:
    finished = subprocess.run([sys.executable, "-m", "importer", "run", str(SAMPLE / "leads.csv"), "-m",
                               str(SAMPLE.parent / "mappings" / "example.yaml"), "--sandbox", "--rate", "200",
                               "--report-dir", str(tmp_path / "reports")],
                              capture_output=True, text=True, timeout=120, cwd=SAMPLE.parent)
    assert finished.returncode == 1, finished.stderr
    folder = Path(finished.stdout.strip().splitlines()[-1].removeprefix("report: "))
    browser.get((folder / "report.html").as_uri())
    assert_charts_render(browser)
    outcomes = css(browser, "svg#outcomes")[0].text
    assert "18" in outcomes and "succeeded" in outcomes
    # the run's requests: lines over time, and columns of how long the answers took
    for chart_id in ("requests", "latency"):
        lines = css(browser, f"svg#{chart_id} g.series")  # a line, or a dot per second for a short run
        assert lines and all(line.size["width"] > 0 and line.size["height"] > 0 for line in lines), chart_id
    assert any(bar.size["height"] > 1 for bar in css(browser, "svg#latency-histogram rect"))
    assert "sent (" in css(browser, "svg#requests")[0].text
    shots("10-report-of-a-cli-run")
    assert_accessible(browser, "report.html")


def _downloaded(folder: Path, name: str) -> Path | None:
    path = folder / name
    return path if path.is_file() and not (folder / f"{name}.crdownload").exists() else None


def test_a_dropped_sheet_with_hostile_cells_stays_text_in_the_browser(browser: Any, page_url: str,
                                                                     tmp_path: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    drop(browser, page_url, hostile_sheet(tmp_path / "hostile.csv"))
    run_to_report(browser, "dry-run")
    shown = by_id(browser, "problem-table").text
    assert HOSTILE_TEXTS[0] in shown and "<svg onload=alert(1)>" in shown
    assert css(browser, "#problem-table img, #problem-table script, #problem-table svg") == []
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 — no script of the sheet ran


def test_a_send_made_a_nightly_job_then_listed_in_the_history_and_undone(
        browser: Any, shots: Shot, page_url: str, ui_sandbox: SandboxServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    upload(browser, page_url, SAMPLE / "leads.csv")
    by_id(browser, "send").click()
    browser.switch_to.alert.accept()
    wait_for(lambda: "/runs/" in browser.current_url and by_id(browser, "counts"), what="the send's report")
    by_id(browser, "nightly-folder").send_keys("~/leads-sync")
    assert by_id(browser, "nightly-name").get_attribute("value") == "leads"
    by_id(browser, "make-nightly").click()
    written = wait_for(lambda: by_id(browser, "nightly-files"), what="the nightly job").text
    assert "~/leads-sync/leads.yaml written" in written and "~/leads-sync/secrets.env written" in written
    assert "sync leads.yaml --quiet" in css(browser, "pre.schedule-text")[0].text
    assert (tmp_path / "leads-sync" / "leads.mapping.yaml").is_file()
    size = browser.get_window_size()
    browser.set_window_size(size["width"], 560)  # the files and what to do next; the schedule lines name this
    shots("11-nightly-job")                      # machine's folders, so they stay out of the picture
    assert_accessible(browser, "nightly job")
    browser.set_window_size(size["width"], size["height"])
    browser.get(page_url + "/")
    by_id(browser, "history-link").click()
    run = wait_for(lambda: css(browser, "tr.history-run"), what="the history")
    assert len(run) == 1 and "24 rows: 18 succeeded, 3 failed, 1 skipped, 2 invalid" in run[0].text
    shots("12-history")
    assert_accessible(browser, "history")

    run[0].find_element("css selector", "button.undo-button").click()
    wait_for(lambda: "/runs/" in browser.current_url and by_id(browser, "undo-confirm"), what="undo's preview")
    assert ui_sandbox.lead("+918000000001")["lead_stage"] == "Contacted"
    asha = " ".join(line.text for line in css(browser, 'tr.undo-line[data-row="2"]'))
    assert "lead_stage_name would be put back" in asha and "before the run: New Lead" in asha
    shots("13-undo-preview")
    assert_accessible(browser, "undo preview")
    by_id(browser, "undo-confirm").click()
    browser.switch_to.alert.accept()
    wait_for(lambda: "/runs/" in browser.current_url and "What undo did" in by_id(browser, "undo-leads").text,
             what="the undo's report")
    assert ui_sandbox.lead("+918000000001")["lead_stage"] == "New Lead"
    assert counts(browser)["leads"] == 21
    shots("14-undone")
    assert_accessible(browser, "undone")


def _finished_send(browser: Any) -> dict[str, Any] | None:
    """The sending view's texts once it says done (None before), read in one script."""
    return browser.execute_script("""
        const text = id => { const e = document.getElementById(id); return e ? e.textContent.trim() : null; };
        if (text("state") !== "done" || text("done") !== text("total")) return null;
        const busy = document.getElementById("busy");
        const view = {busy: !!busy && busy.offsetParent !== null};
        for (const id of ["done", "total", "throttled", "retries", "phase", "eta", "slow-down"]) view[id] = text(id);
        return view;
    """)
