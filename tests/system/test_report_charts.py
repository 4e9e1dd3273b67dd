"""report.html's charts against what really happened: a real run into a sandbox that throttles (429), fails
(503, 500) and drops connections, then a plan and a verify of the same sheet, and a dry run. What each chart
draws — bars read off their labels and lengths, lines read off the y axis — must equal the run's own counts and
the sandbox's request log; nothing on the pages loads from anywhere; requests.csv adds up to summary.json."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

from importer.api.retry import RetryPolicy
from importer.report.charts import number as written
from importer.run.context.kind import RunKind
from importer.run.context.options import RunOptions
from importer.run.context.result import RunResult
from importer.run.journey.pipeline import Importer
from importer.run.kinds.dry import DryRun
from importer.run.kinds.plan import Plan
from importer.run.kinds.verify import Verify
from tests.report.hostile import markup_problems
from tests.report.svg import bars, charts, number, series, title_and_desc

MAPPING = """\
version: 1
fields:
  customer_phone: Phone
  first_name: Name
  lead_stage_name: {column: Stage, on_invalid: reject}
  customer_note: {template: "chart note for {Name}"}
"""
ROWS = 60


def write_sheet(folder: Path) -> Path:
    """60 rows: unique phones but for one duplicate (a warning), two invalid phones, one unknown stage."""
    sheet = folder / "charts.csv"
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["Phone", "Name", "Stage"])
        for i in range(ROWS):
            phone = {7: "12345", 19: "999"}.get(i, f"+9197{i:08d}")
            phone = "+919700000003" if i == 30 else phone
            out.writerow([phone, f"Lead {i}", "Propsal" if i == 11 else ("New Lead", "Won")[i % 2]])
    (folder / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    return sheet


def run(sandbox: Any, folder: Path, kind: RunKind | None = None) -> tuple[RunResult, str, dict[str, Any]]:
    options = RunOptions(base_url=sandbox.base_url, api_key=sandbox.api_key, rate=1000, concurrency=4,
                         report_dir=folder / "reports", workers=1,
                         retry=RetryPolicy(max_attempts=10, base=0.002, cap=0.01, random=random.Random(5)))
    result = Importer(folder / "charts.csv", folder / "mapping.yaml", options, kind=kind).run()
    page = (result.folder / "report.html").read_text(encoding="utf-8")
    assert markup_problems(page) == []
    assert "@media print" in page
    return result, page, charts(page)


def outcomes(found: dict, summary: dict[str, Any]) -> dict[str, float]:
    drawn = {bar.label: number(bar.value) for bar in bars(found["outcomes"])}
    assert sum(drawn.values()) == summary["rows_total"]
    return drawn


def issue_codes(found: dict) -> dict[str, float]:
    return {bar.label: number(bar.value) for bar in bars(found["issues"])}


def api_log(sandbox: Any) -> list[dict[str, Any]]:
    return [entry for entry in sandbox.requests() if "/enterprise/api/" in entry["path"]]


def drawn_totals(found: dict) -> dict[str, int]:
    return {name: round(sum(values)) for name, values in series(found["requests"]).items()}


def csv_totals(folder: Path) -> dict[str, int]:
    with (folder / "requests.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["second"]) for row in rows] == list(range(len(rows)))
    return {name: sum(int(row[name]) for row in rows) for name in
            ("sent", "retried", "ok", "throttled", "client_error", "server_error", "no_answer")}


def test_charts_of_a_real_run_with_faults_then_plan_verify_and_dry_run(fresh_sandbox, tmp_path: Path) -> None:
    write_sheet(tmp_path)
    fresh_sandbox.configure(throttle=0.12, throttle_retry_after=0.02, fail_before=0.12, fail_after=0.04,
                            drop_after=0.04, fault_seed=11)
    result, page, found = run(fresh_sandbox, tmp_path)
    summary = result.summary
    log = api_log(fresh_sandbox)

    # What became of the rows, and the issues by code: as counted in summary.json.
    assert outcomes(found, summary) == {
        "succeeded": summary["succeeded"], "failed": summary["failed"], "in doubt": summary["in_doubt"],
        "skipped (duplicate)": summary["skipped"], "invalid": summary["invalid"], "unchanged": 0}
    assert summary["in_doubt"] > 0 and summary["invalid"] == 3 and summary["skipped"] == 1
    assert issue_codes(found) == {"invalid-phone (error)": 2, "unknown-stage (error)": 1,
                                  "duplicate-phone (warning)": 2}

    # The requests: what the sandbox saw, told apart as the client saw it.
    posts = [entry for entry in log if entry["method"] == "POST"]
    dropped = sum(entry["fault"] == "drop_after" for entry in log)
    expected = {
        "sent": len(log),
        "retried": len(posts) - len({entry["customer_phone"] for entry in posts}),  # one job per phone
        "throttled": sum(entry["status"] == 429 for entry in log),
        "server_error": sum(entry["status"] in (500, 503) and entry["fault"] != "drop_after" for entry in log),
        "no_answer": dropped,
        "ok": sum(entry["status"] == 200 and entry["fault"] != "drop_after" for entry in log),
        "client_error": sum(400 <= entry["status"] < 500 and entry["status"] != 429 for entry in log),
    }
    assert expected["retried"] > 5 and expected["throttled"] > 2 and expected["server_error"] > 2 and dropped
    requests = summary["requests"]
    assert {name: requests["total" if name == "sent" else name] for name in expected} == expected
    assert requests["by_kind"]["upsert"] == len(posts) and requests["by_kind"]["list-lead-stage"] == 1
    assert requests["by_status"]["429"] == expected["throttled"]
    assert csv_totals(result.folder) == expected
    assert drawn_totals(found) == {"sent": expected["sent"], "retried": expected["retried"],
                                   "429": expected["throttled"]}
    assert sum(number(bar.value) for bar in bars(found["latency-histogram"])) == expected["sent"] - dropped
    latency = requests["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["max"]
    assert f"p50 {written(latency['p50'])} ms, p95 {written(latency['p95'])} ms" in title_and_desc(found["latency"])[0]
    assert "requests.csv" in page

    # A plan and a verify read the leads back: their own counts, and their get-lead requests.
    fresh_sandbox.configure(throttle=0.0, fail_before=0.0, fail_after=0.0, drop_after=0.0)
    for kind, key in ((Plan(), "plan"), (Verify(), "verify")):
        fresh_sandbox.clear_requests()
        result, page, found = run(fresh_sandbox, tmp_path, kind)
        drawn = outcomes(found, result.summary)
        assert {name: drawn[name.replace("_", " ")] for name in result.summary[key]
                if name != "would_fail"} == result.summary[key]
        log = api_log(fresh_sandbox)
        gets = sum(entry["method"] == "GET" and entry["path"].endswith("/enterprise/api/lead") for entry in log)
        assert result.summary["requests"]["by_kind"].get("get-lead", 0) == gets > 0
        assert drawn_totals(found) == {"sent": len(log), "retried": 0, "429": 0}
        assert f"<title>{key}: " in page

    # A dry run sends nothing: no requests section, no requests.csv. (It says what a sync run would send now: the
    # rows the real run confirmed are unchanged.)
    result, page, found = run(fresh_sandbox, tmp_path, DryRun())
    unchanged = result.summary["unchanged"]
    assert unchanged > 0 and outcomes(found, result.summary) == {
        "would be sent": ROWS - 4 - unchanged, "unchanged": unchanged, "skipped (duplicate)": 1, "invalid": 3}
    assert "requests" not in found and "requests" not in result.summary
    assert not (result.folder / "requests.csv").exists()
    assert json.loads((result.folder / "summary.json").read_text(encoding="utf-8"))["rows_total"] == ROWS
    codes = {f"{code} (error)": n for code, n in result.summary["errors_by_code"].items()}
    codes.update((f"{code} (warning)", n) for code, n in result.summary["warnings_by_code"].items())
    assert issue_codes(found) == codes and "note-in-doubt (warning)" in codes  # the real run's notes in doubt
