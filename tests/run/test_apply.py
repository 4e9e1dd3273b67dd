"""apply PLAN_DIR against the sandbox: exactly the planned requests, stale leads, once only, digests checked."""

from __future__ import annotations

import csv
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from importer.cli.commands import main
from importer.models import LIST_KINDS
from importer.sandbox import SandboxServer
from tests import inputs
from tests.conftest import SandboxApi
from tests.inputs import newest

MAPPING = """\
version: 1
defaults:
  region: IN
  create_if_missing: true
fields:
  customer_phone: Phone
  first_name: First Name
  city: City
  lead_stage_name: Stage
  lead_group_name: Group
  add_labels: {column: Tags, split: ";"}
  customer_note: Notes
"""
HEADER = ["First Name", "Phone", "City", "Stage", "Group", "Tags", "Notes"]
ROWS = [
    ["Meera", "+919000000002", "Mumbai", "Won", "Inbound", "Hot", "Called"],  # 2 update
    ["Asha", "+918000000001", "Bengaluru", "New Lead", "Inbound", "Hot", ""],  # 3 unchanged
    ["Ravi", "+919811100001", "Pune", "", "", "", ""],  # 4 create
    ["Asha", "+918000000002", "", "", "", "", ""],  # 5 conflict: Asha's secondary phone
]


def write_inputs(folder: Path, rows: list[list[str]], mapping: str = MAPPING) -> tuple[Path, Path]:
    return inputs.write_inputs(folder, HEADER, rows, mapping)


def make_plan(server: SandboxServer, folder: Path, monkeypatch: pytest.MonkeyPatch,
              rows: list[list[str]] = ROWS) -> Path:
    monkeypatch.setenv("SF_API_KEY", server.api_key)
    sheet, mapping = write_inputs(folder, rows)
    reports = folder / "plans"
    main(["run", str(sheet), "-m", str(mapping), "--plan", "--base-url", server.base_url,
          "--report-dir", str(reports), "--quiet", "--rate", "1000"])
    return newest(reports)


def apply(plan: Path, reports: Path) -> int:
    return main(["apply", str(plan), "--report-dir", str(reports), "--quiet", "--rate", "1000"])


def summary_of(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def posts(server: SandboxServer) -> list[dict]:
    return [entry for entry in server.requests() if entry["method"] == "POST"]


def test_apply_sends_exactly_the_plan(fresh_sandbox: SandboxServer, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    plan = make_plan(fresh_sandbox, tmp_path, monkeypatch)
    planned = {row["_row"]: row for row in jsonl(plan / "plan.jsonl")[1:]}
    fresh_sandbox.clear_requests()

    code = apply(plan, tmp_path / "reports")

    assert code == 1  # the conflict row fails, unsent
    sent = posts(fresh_sandbox)
    assert sorted((entry["customer_phone"], entry["fields"]) for entry in sent) == sorted([
        (planned[2]["customer_phone"], sorted(planned[2]["requests"][0])),
        (planned[4]["customer_phone"], sorted(planned[4]["requests"][0]))])
    lookups = [entry for entry in fresh_sandbox.requests() if entry["path"].endswith("/api/lead")
               and entry["method"] == "GET"]
    assert len(lookups) == 2  # each lead read again just before its write
    meera = fresh_sandbox.lead("+919000000002")
    assert (meera["city"], meera["lead_stage"], meera["lead_group"], meera["labels"], meera["notes"]) == (
        "Mumbai", "Won", "Inbound", ["VIP", "Referral", "Hot"], ["Called"])
    assert fresh_sandbox.lead("+919811100001")["first_name"] == "Ravi"

    run = newest(tmp_path / "reports")
    summary = summary_of(run)
    assert (summary["sent"], summary["succeeded"], summary["failed"], summary["unchanged"], summary["stale"]) == (
        2, 2, 1, 1, 0)
    assert summary["plan_dir"] == str(plan)
    with open(run / "failures.csv", encoding="utf-8-sig", newline="") as stream:
        (failure,) = csv.DictReader(stream)
    assert failure["_row"] == "5" and failure["_error"].startswith("conflict in the plan: customer phone")
    assert capsys.readouterr().out.splitlines()[-1] == f"report: {run}"

    update, create = jsonl(run / "before.jsonl")
    assert update == {
        "_row": 2, "phone": "+919000000002", "lead_id": 12348, "existed": True,
        "before": {"first_name": "Meera", "city": "Chennai", "lead_stage_name": "Qualified",
                   "lead_group_name": "Outbound"},
        "sent": {"first_name": "Meera", "city": "Mumbai", "lead_stage_name": "Won", "lead_group_name": "Inbound",
                 "add_labels": ["Hot"], "customer_note": True},
        "status": "succeeded"}
    assert (create["_row"], create["existed"], create["lead_id"], create["before"]) == (
        4, False, None, {"first_name": None, "city": None})
    assert json.loads((plan / "applied.json").read_text(encoding="utf-8"))["run"] == str(run)


def test_a_lead_edited_after_the_plan_is_stale(fresh_sandbox: SandboxServer, api: SandboxApi, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    plan = make_plan(fresh_sandbox, tmp_path, monkeypatch)
    assert api.upsert({"customer_phone": "+919000000002", "lead_stage_name": "Proposal"}).status_code == 200
    fresh_sandbox.clear_requests()

    assert apply(plan, tmp_path / "reports") == 1

    assert [entry["customer_phone"] for entry in posts(fresh_sandbox)] == ["+919811100001"]  # Meera's lead not written
    assert fresh_sandbox.lead("+919000000002")["city"] == "Chennai"
    run = newest(tmp_path / "reports")
    assert summary_of(run)["stale"] == 1
    with open(run / "stale.csv", encoding="utf-8-sig", newline="") as stream:
        assert list(csv.reader(stream)) == [
            ["_row", "reason"],
            ["2", 'changed since the plan: lead_stage_name: plan read "Qualified", now "Proposal"']]
    assert [line["_row"] for line in jsonl(run / "before.jsonl")] == [4]  # only what was sent
    out = capsys.readouterr().out
    assert f"apply: the plan in {plan} is applied; 1 stale (changed since the plan: not sent, see stale.csv)" in out


def test_a_lead_created_after_the_plan_is_stale(fresh_sandbox: SandboxServer, api: SandboxApi, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    plan = make_plan(fresh_sandbox, tmp_path, monkeypatch, ROWS[2:3])
    api.upsert({"customer_phone": "+919811100001", "first_name": "Someone",
                "create_customer_if_customer_phone_not_found": True})

    assert apply(plan, tmp_path / "reports") == 1

    assert fresh_sandbox.lead("+919811100001")["first_name"] == "Someone"
    with open(newest(tmp_path / "reports") / "stale.csv", encoding="utf-8-sig", newline="") as stream:
        assert list(csv.reader(stream))[1][1].startswith("a lead with this phone appeared since the plan")


def test_a_plan_is_applied_once(fresh_sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    plan = make_plan(fresh_sandbox, tmp_path, monkeypatch, ROWS[:3])
    assert apply(plan, tmp_path / "reports") == 0
    first = newest(tmp_path / "reports")
    capsys.readouterr()
    fresh_sandbox.clear_requests()

    assert apply(plan, tmp_path / "reports") == 2

    assert capsys.readouterr().err == (f"superfone-import: error: {plan}: this plan was applied already, by the run "
                                       f"{first}\n")
    assert fresh_sandbox.requests() == []
    assert [folder for folder in (tmp_path / "reports").iterdir() if folder.is_dir()] == [first]


@pytest.mark.parametrize("changed", ["leads.csv", "mapping.yaml"])
def test_apply_refuses_an_input_or_mapping_changed_since_the_plan(
        fresh_sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], changed: str) -> None:
    plan = make_plan(fresh_sandbox, tmp_path, monkeypatch, ROWS[:3])
    with open(tmp_path / changed, "a", encoding="utf-8") as stream:
        stream.write("Kiran,+919811100009,Goa,,,,\n" if changed == "leads.csv" else "  last_name: {value: X}\n")
    fresh_sandbox.clear_requests()

    assert apply(plan, tmp_path / "reports") == 2

    assert capsys.readouterr().err == (f"superfone-import: error: {tmp_path / changed} changed since the plan in "
                                       f"{plan} was made: plan again\n")
    assert fresh_sandbox.requests() == []
    assert not (tmp_path / "reports").exists()


def test_apply_of_a_folder_without_a_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert apply(tmp_path, tmp_path / "reports") == 2
    assert capsys.readouterr().err == (f"superfone-import: error: {tmp_path}: no plan.jsonl here: not the folder "
                                       "of a `run --plan`\n")


def test_an_apply_killed_with_kill_9_resumes_then_counts_as_applied(
        fresh_sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    rows = [[f"Lead {n}", f"+9198222{n:05d}", "Pune", "", "", "", ""] for n in range(30)]
    plan = make_plan(fresh_sandbox, tmp_path, monkeypatch, rows)
    fresh_sandbox.clear_requests()
    fresh_sandbox.configure(latency_ms=40)
    command = [sys.executable, "-m", "importer", "apply", str(plan), "--report-dir", str(tmp_path / "reports"),
               "--rate", "1000", "--concurrency", "2", "--quiet"]
    env = {**os.environ, "SF_API_KEY": fresh_sandbox.api_key}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while len(posts(fresh_sandbox)) < 6 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
    finally:
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL
    fresh_sandbox.configure(latency_ms=0)
    assert 0 < len(posts(fresh_sandbox)) < len(rows)
    with closing(sqlite3.connect(tmp_path / "reports" / "journal.sqlite")) as db:
        done_rows = {row for (row,) in db.execute("SELECT row FROM row_state WHERE status = 'succeeded'")}
    assert 0 < len(done_rows) < len(rows)
    left = {rows[number - 2][1] for number in set(range(2, len(rows) + 2)) - done_rows}
    fresh_sandbox.clear_requests()

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    # the rerun wrote each lead the killed apply had not finished once, reading it just before, and nothing else
    log = fresh_sandbox.requests()
    assert sorted(entry["customer_phone"] for entry in log if entry["method"] == "POST") == sorted(left)
    lookups = [entry for entry in log if entry["method"] == "GET" and entry["path"].endswith("/api/lead")]
    catalog = sorted((entry["method"], entry["path"]) for entry in log if not entry["path"].endswith("/api/lead"))
    assert len(lookups) == len(left) and len(log) == 2 * len(left) + len(catalog)
    assert catalog == sorted(("GET", f"/superfone/enterprise/api/{kind}") for kind in LIST_KINDS)  # checked once
    run = Path(done.stdout.splitlines()[-1].removeprefix("report: "))
    summary = summary_of(run)
    assert (summary["resumed"], summary["sent"], summary["succeeded"]) == (len(done_rows), len(left), len(rows))
    assert all(fresh_sandbox.lead(row[1])["first_name"] == row[0] for row in rows)
    assert len(jsonl(run / "before.jsonl")) == len(rows)  # the killed apply's leads too
    fresh_sandbox.clear_requests()
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and f"applied already, by the run {run}" in again.stderr
    assert fresh_sandbox.requests() == []


def test_an_apply_stopped_by_its_time_limit_exits_3_and_is_not_applied_yet(
        fresh_sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [[f"Lead {n}", f"+9198444{n:05d}", "Pune", "", "", "", ""] for n in range(12)]
    plan = make_plan(fresh_sandbox, tmp_path, monkeypatch, rows)
    fresh_sandbox.configure(latency_ms=100)

    code = main(["apply", str(plan), "--report-dir", str(tmp_path / "reports"), "--quiet", "--rate", "1000",
                 "--concurrency", "1", "--time-limit", "1"])

    assert code == 3
    stopped = summary_of(newest(tmp_path / "reports"))
    assert stopped["stopped"] == "time-limit" and stopped["rows_left"] > 0
    fresh_sandbox.configure(latency_ms=0)
    assert apply(plan, tmp_path / "reports") == 0  # resumed, not refused
    assert all(fresh_sandbox.lead(row[1])["first_name"] == row[0] for row in rows)
