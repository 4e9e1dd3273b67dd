"""Tasks from the sheet, end to end against the sandbox: created once across runs, past-due and notify_at rules,
the API's auto-completion seen through list tasks, failures counted, dry runs and plans, and a resume after kill -9
that neither loses nor duplicates a task."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from importer.api.client import SuperfoneClient
from importer.run.context.options import RunOptions
from importer.run.journey.pipeline import Importer
from importer.run.kinds.plan import Plan
from importer.sandbox import SandboxServer

MAPPING = """\
version: 1
defaults: {timezone: Asia/Kolkata}
fields:
  customer_phone: Phone
  first_name: Name
tasks:
  - type: FOLLOW_UP_CALL
    due: {column: Follow-up, type: datetime}
    notify_at: Remind At
    note: {template: "Call {Name} back"}
  - type: reminder
    due: Reminder
    past_due: create
"""
COLUMNS = ["Phone", "Name", "Follow-up", "Remind At", "Reminder"]
FUTURE = "2031-05-20 15:00"  # Asia/Kolkata: 09:30 UTC
FUTURE_UTC = "2031-05-20T09:30:00.000Z"


def row(index: int, follow_up: str = FUTURE, remind: str = "", reminder: str = "") -> dict[str, str]:
    return {"Phone": f"+9197{index:08d}", "Name": f"Lead {index}", "Follow-up": follow_up, "Remind At": remind,
            "Reminder": reminder}


def write(folder: Path, rows: list[dict[str, str]], mapping: str = MAPPING) -> tuple[Path, Path]:
    sheet, path = folder / "leads.csv", folder / "tasks.yaml"
    with sheet.open("w", newline="", encoding="utf-8") as stream:
        out = csv.DictWriter(stream, COLUMNS)
        out.writeheader()
        out.writerows(rows)
    path.write_text(mapping, encoding="utf-8")
    return sheet, path


def run(server: SandboxServer, sheet: Path, mapping: Path, reports: Path, kind: Any = None, **options: Any) -> dict:
    opts = RunOptions(base_url=server.base_url, api_key=server.api_key, report_dir=reports, rate=1000.0, **options)
    result = Importer(sheet, mapping, opts, kind=kind).run()
    return result.summary | {"exit_code": result.exit_code, "folder": result.folder}


def tasks_of(server: SandboxServer, phone: str) -> list[tuple[str, str, str]]:
    with SuperfoneClient(server.base_url, server.api_key) as client:
        lead = client.get_lead(phone)
        assert lead is not None
        return [(task["type"], task["due_date"], task["task_status"]) for task in client.list_tasks(lead["id"])]


def lead_requests(server: SandboxServer) -> list[dict]:
    """Requests about leads (upserts, get-lead, tasks): all but the catalog's lists."""
    return [entry for entry in server.requests()
            if entry["path"].endswith("/api/lead") or "/api/lead/" in entry["path"]]


def task_posts(server: SandboxServer) -> list[dict]:
    return [entry for entry in server.requests() if entry["method"] == "POST" and entry["path"].endswith("/task")]


def test_tasks_are_created_once_across_runs(fresh_sandbox: SandboxServer, tmp_path: Path) -> None:
    rows = [row(1), row(2, follow_up=""), row(3, follow_up="2020-01-06 10:00"), row(4, reminder="2031-05-21 09:00")]
    sheet, mapping = write(tmp_path, rows)
    first = run(fresh_sandbox, sheet, mapping, tmp_path / "reports")
    assert (first["exit_code"], first["succeeded"]) == (0, 4)
    assert first["tasks"] == {"succeeded": 3, "skipped": 1}
    assert first["warnings_by_code"] == {"task-past-due": 1}
    assert tasks_of(fresh_sandbox, "+919700000001") == [("FOLLOW_UP_CALL", FUTURE_UTC, "PENDING")]
    assert tasks_of(fresh_sandbox, "+919700000002") == []  # a blank due: no task
    assert tasks_of(fresh_sandbox, "+919700000003") == []  # past due, skipped
    assert tasks_of(fresh_sandbox, "+919700000004") == [("REMINDER", "2031-05-21T03:30:00.000Z", "PENDING"),
                                                        ("FOLLOW_UP_CALL", FUTURE_UTC, "PENDING")]
    assert "Call Lead 1 back" in fresh_sandbox.lead("+919700000001")["notes"]  # type: ignore[index]
    with (first["folder"] / "tasks.csv").open(encoding="utf-8-sig") as stream:
        listed = list(csv.DictReader(stream))
    assert sorted((item["_row"], item["type"], item["status"]) for item in listed) == [
        ("2", "FOLLOW_UP_CALL", "succeeded"), ("5", "FOLLOW_UP_CALL", "succeeded"), ("5", "REMINDER", "succeeded")]

    fresh_sandbox.clear_requests()
    again = run(fresh_sandbox, sheet, mapping, tmp_path / "reports", full=True)  # every row sent again, whole
    assert again["tasks"] == {"existing": 3, "skipped": 1} and task_posts(fresh_sandbox) == []
    fresh_sandbox.clear_requests()
    nightly = run(fresh_sandbox, sheet, mapping, tmp_path / "reports")  # a sync: nothing changed, nothing sent
    assert (nightly["unchanged"], nightly["tasks"]) == (4, {"skipped": 1}) and lead_requests(fresh_sandbox) == []
    assert len(tasks_of(fresh_sandbox, "+919700000004")) == 2


def test_a_new_due_time_sends_the_task_alone_and_the_api_completes_the_old_one(
        fresh_sandbox: SandboxServer, tmp_path: Path) -> None:
    sheet, mapping = write(tmp_path, [row(1), row(2)])
    run(fresh_sandbox, sheet, mapping, tmp_path / "reports")
    write(tmp_path, [row(1, follow_up="2031-06-01 11:00"), row(2)])
    for kind, options in ((None, {"dry_run": True}), (Plan(), {})):  # say so first, under the sync's rules
        said = run(fresh_sandbox, sheet, mapping, tmp_path / "reports", kind=kind, **options)
        assert (said["unchanged"], said["tasks"]) == (2, {"planned": 1, "skipped": 0})
        assert '"due_date": "2031-06-01T05:30:00Z"' in (said["folder"] / "tasks.jsonl").read_text(encoding="utf-8")
    fresh_sandbox.clear_requests()
    second = run(fresh_sandbox, sheet, mapping, tmp_path / "reports")
    assert (second["succeeded"], second["unchanged"], second["sent"], second["tasks"]) == (0, 2, 0, {"succeeded": 1})
    assert [entry["path"].rsplit("/", 1)[-1] for entry in fresh_sandbox.requests() if entry["method"] == "POST"] \
        == ["task"]  # no upsert: the lead did not change
    assert tasks_of(fresh_sandbox, "+919700000001") == [("FOLLOW_UP_CALL", "2031-06-01T05:30:00.000Z", "PENDING"),
                                                        ("FOLLOW_UP_CALL", FUTURE_UTC, "COMPLETE")]
    fresh_sandbox.clear_requests()
    assert run(fresh_sandbox, sheet, mapping, tmp_path / "reports")["unchanged"] == 2
    assert lead_requests(fresh_sandbox) == []  # the task-only send was confirmed


def test_notify_at_rules_and_past_due_create(fresh_sandbox: SandboxServer, tmp_path: Path) -> None:
    rows = [row(1, remind="2031-05-20 15:00"), row(2, remind="2031-05-20 15:01"), row(3, remind="2020-01-01 10:00"),
            row(4, follow_up="", reminder="2020-01-06 10:00")]
    sheet, mapping = write(tmp_path, rows)
    summary = run(fresh_sandbox, sheet, mapping, tmp_path / "reports")
    assert (summary["succeeded"], summary["invalid"], summary["exit_code"]) == (2, 2, 1)
    assert summary["errors_by_code"] == {"invalid-notify-at": 2}
    assert tasks_of(fresh_sandbox, "+919700000001") == [("FOLLOW_UP_CALL", FUTURE_UTC, "PENDING")]
    assert tasks_of(fresh_sandbox, "+919700000004") == [("REMINDER", "2020-01-06T04:30:00.000Z", "PENDING")]
    with (summary["folder"] / "issues.csv").open(encoding="utf-8-sig") as stream:
        issues = [(item["_row"], item["column"], item["code"]) for item in csv.DictReader(stream)]
    assert issues == [("3", "Remind At", "invalid-notify-at"), ("4", "Remind At", "invalid-notify-at")]


def test_a_failed_task_is_counted_and_the_exit_code_says_so(fresh_sandbox: SandboxServer, tmp_path: Path) -> None:
    from importer.api.retry import RetryPolicy

    sheet, mapping = write(tmp_path, [row(1), row(2, follow_up="")])
    fresh_sandbox.configure(fail_before=1.0, fault_tasks=True, fault_upserts=False)
    summary = run(fresh_sandbox, sheet, mapping, tmp_path / "reports", retry=RetryPolicy(max_attempts=2, base=0.001))
    assert (summary["succeeded"], summary["tasks"], summary["exit_code"]) == (2, {"failed": 1}, 1)
    with (summary["folder"] / "tasks.csv").open(encoding="utf-8-sig") as stream:
        assert [item["message"] for item in csv.DictReader(stream)] == ["Service temporarily unavailable"]
    fresh_sandbox.configure(fail_before=0.0)
    retried = run(fresh_sandbox, sheet, mapping, tmp_path / "reports")  # the sync did not confirm that row
    assert (retried["tasks"], retried["unchanged"]) == ({"succeeded": 1}, 2)


def test_dry_run_and_plan_show_the_task_requests(fresh_sandbox: SandboxServer, tmp_path: Path) -> None:
    sheet, mapping = write(tmp_path, [row(1, remind="2031-05-20 14:00"), row(2, follow_up="2020-01-06 10:00")])
    dry = run(fresh_sandbox, sheet, mapping, tmp_path / "reports", dry_run=True)
    assert dry["tasks"] == {"planned": 1, "skipped": 1}
    lines = [json.loads(line) for line in (dry["folder"] / "tasks.jsonl").read_text(encoding="utf-8").splitlines()]
    assert lines == [{"_row": 2, "customer_phone": "+919700000001", "task": {
        "type": "FOLLOW_UP_CALL", "due_date": "2031-05-20T09:30:00Z", "notify_at": "2031-05-20T08:30:00Z",
        "customer_note": "Call Lead 1 back"}}]
    plan = run(fresh_sandbox, sheet, mapping, tmp_path / "reports", kind=Plan())
    assert plan["tasks"] == {"planned": 1, "skipped": 1}
    assert (plan["folder"] / "tasks.jsonl").read_text(encoding="utf-8").count("\n") == 1
    assert task_posts(fresh_sandbox) == []


def test_apply_creates_the_planned_tasks_and_counts_them(fresh_sandbox: SandboxServer, tmp_path: Path) -> None:
    from importer.api.retry import RetryPolicy
    from importer.run.kinds.apply import Apply

    sheet, mapping = write(tmp_path, [row(1), row(2)])
    plan = run(fresh_sandbox, sheet, mapping, tmp_path / "plans", kind=Plan())
    assert plan["tasks"] == {"planned": 2, "skipped": 0}
    fresh_sandbox.configure(fail_before=1.0, fault_tasks=True, fault_upserts=False)
    applied = run(fresh_sandbox, sheet, mapping, tmp_path / "reports", kind=Apply(plan["folder"]),
                  retry=RetryPolicy(max_attempts=2, base=0.001))
    assert (applied["succeeded"], applied["tasks"], applied["exit_code"]) == (2, {"failed": 2}, 1)
    assert tasks_of(fresh_sandbox, "+919700000001") == []


@pytest.mark.slow
def test_kill_9_then_resume_neither_loses_nor_duplicates_a_task(fresh_sandbox: SandboxServer, tmp_path: Path) -> None:
    count = 60
    sheet, mapping = write(tmp_path, [row(i, reminder="2031-05-21 09:00") for i in range(count)])
    fresh_sandbox.configure(latency_ms=15)
    command = [sys.executable, "-m", "importer", "run", str(sheet), "-m", str(mapping), "--base-url",
               fresh_sandbox.base_url, "--report-dir", str(tmp_path / "reports"), "--rate", "1000",
               "--concurrency", "4", "--quiet"]
    env = {**os.environ, "SF_API_KEY": fresh_sandbox.api_key}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(task_posts(fresh_sandbox)) < 20 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
    finally:
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL, "the run finished before it could be killed"
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    folder = Path(done.stdout.strip().splitlines()[-1].removeprefix("report: "))
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["resumed"] > 0
    tasks = summary["tasks"]
    assert tasks.get("failed", 0) == tasks.get("in_doubt", 0) == 0
    assert tasks["succeeded"] + tasks.get("existing", 0) == 2 * count  # each row's two tasks, all accounted for
    for i in range(count):
        assert sorted(tasks_of(fresh_sandbox, f"+9197{i:08d}")) == [
            ("FOLLOW_UP_CALL", FUTURE_UTC, "PENDING"), ("REMINDER", "2031-05-21T03:30:00.000Z", "PENDING")]
