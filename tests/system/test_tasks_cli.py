"""The tasks transcript of docs/mapping.md, run for real: tests/data/tasks/followups.csv into an embedded sandbox,
and its dry run, through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from importer.cli.commands import main

DATA = Path(__file__).resolve().parents[1] / "data" / "tasks"
SHEET, MAPPING = DATA / "followups.csv", DATA / "followups.yaml"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_run_with_tasks_into_the_sandbox(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, lines, err = run_cli(capsys, "run", str(SHEET), "-m", str(MAPPING), "--sandbox", "--report-dir",
                               str(tmp_path), "--rate", "200")
    assert (code, err) == (1, "")
    assert lines[1:] == [
        "followups.csv: 5 rows: 4 succeeded, 0 failed, 0 in doubt, 0 skipped, 1 invalid; 2 warnings",
        "top errors: invalid-notify-at ×1",
        "top warnings: several-open-tasks ×1, task-past-due ×1",
        "tasks: 3 created, 0 already on their leads, 0 failed, 0 in doubt, 1 skipped (past due) (tasks.csv)",
        lines[-1]]
    folder = Path(lines[-1].removeprefix("report: "))
    tasks = (folder / "tasks.csv").read_text(encoding="utf-8-sig").splitlines()
    assert tasks[0] == "_row,customer_phone,lead_id,type,due_date,notify_at,status,message"
    assert sorted(line.split(",")[3:7] for line in tasks[1:]) == [
        ["FOLLOW_UP_CALL", "2031-05-20T09:30:00Z", "2031-05-20T09:00:00Z", "succeeded"],
        ["FOLLOW_UP_CALL", "2031-05-21T05:30:00Z", "", "succeeded"],
        ["SITE_VISIT", "2031-05-24T04:30:00Z", "", "succeeded"]]
    assert "<h2>Tasks</h2>" in (folder / "report.html").read_text(encoding="utf-8")


def test_validate_shows_the_task_requests(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, lines, _ = run_cli(capsys, "validate", str(SHEET), "-m", str(MAPPING), "--offline", "--report-dir",
                             str(tmp_path))
    assert code == 1
    assert "tasks: 3 to create, 1 skipped (past due)" in lines
    folder = Path(lines[-1].removeprefix("report: "))
    planned = [json.loads(line) for line in (folder / "tasks.jsonl").read_text(encoding="utf-8").splitlines()]
    assert planned[0] == {"_row": 2, "customer_phone": "+919845011001", "task": {
        "type": "FOLLOW_UP_CALL", "due_date": "2031-05-20T09:30:00Z", "notify_at": "2031-05-20T09:00:00Z",
        "customer_note": "Follow up on Starter Plan"}}
    assert [(item["_row"], item["task"]["type"]) for item in planned] == [
        (2, "FOLLOW_UP_CALL"), (3, "FOLLOW_UP_CALL"), (3, "SITE_VISIT")]
    assert json.loads((folder / "summary.json").read_text(encoding="utf-8"))["tasks"] == {"planned": 3,
                                                                                         "skipped": 1}
