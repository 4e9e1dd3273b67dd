"""undo RUN_DIR against the sandbox: restores what nobody changed since, reports the rest, resumes, runs once."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from importer.cli.commands import main
from importer.report import restore
from importer.sandbox import SandboxServer
from tests.conftest import SandboxApi
from tests.run.test_apply import apply, make_plan, newest, posts, summary_of

L3, L4 = "+919811100010", "+919811100011"
ROWS = [
    ["Meera2", "+919000000002", "", "Won", "Inbound", "Hot", "Called"],  # 2: stage, group, name, label, note
    ["Asha2", "+918000000001", "", "Proposal", "Partners", "VIP", ""],  # 3: its stage is edited after the run
    ["New3", L3, "", "Contacted", "Outbound", "Cold", ""],  # 4: had no stage and no group
    ["Four", L4, "Goa", "", "", "", ""],  # 5: created by the run
]


def applied_run(server: SandboxServer, api: SandboxApi, folder: Path, monkeypatch: pytest.MonkeyPatch,
                rows: list[list[str]] = ROWS) -> Path:
    """Plan and apply ``rows``: a run folder with before.jsonl, as any real run leaves."""
    api.upsert({"customer_phone": L3, "first_name": "Old", "create_customer_if_customer_phone_not_found": True})
    plan = make_plan(server, folder, monkeypatch, rows)
    assert apply(plan, folder / "reports") == 0
    return newest(folder / "reports")


def undo(run: Path, reports: Path, *extra: str) -> int:
    return main(["undo", str(run), "--report-dir", str(reports), "--quiet", "--rate", "1000", *extra])


def undo_csv(folder: Path) -> list[dict[str, str]]:
    with open(folder / "undo.csv", encoding="utf-8-sig", newline="") as stream:
        return [{key: restore(value) for key, value in line.items()} for line in csv.DictReader(stream)]


def state(server: SandboxServer, phone: str) -> tuple:
    lead = server.lead(phone)
    assert lead is not None
    return lead["first_name"], lead["lead_stage"], lead["lead_group"], lead["labels"]


def test_undo_restores_what_nobody_changed_and_reports_the_rest(
        fresh_sandbox: SandboxServer, api: SandboxApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SF_BASE_URL", fresh_sandbox.base_url)
    run = applied_run(fresh_sandbox, api, tmp_path, monkeypatch)
    assert state(fresh_sandbox, "+918000000001") == ("Asha2", "Proposal", "Partners", ["Hot", "VIP"])
    api.upsert({"customer_phone": "+918000000001", "lead_stage_name": "Lost"})  # a salesperson's edit
    capsys.readouterr()

    fresh_sandbox.clear_requests()
    assert undo(run, tmp_path / "undo") == 0
    sent = [entry for entry in fresh_sandbox.requests() if "/enterprise/api/" in entry["path"]]

    assert state(fresh_sandbox, "+919000000002") == ("Meera", "Qualified", "Outbound", ["VIP", "Referral"])
    assert state(fresh_sandbox, "+918000000001") == ("Asha", "Lost", "Inbound", ["Hot"])  # the edit stays
    assert state(fresh_sandbox, L3) == ("Old", None, None, [])  # back to no stage and no group
    assert state(fresh_sandbox, L4) == ("Four", None, None, [])  # created: cannot be deleted
    assert fresh_sandbox.lead("+919000000002")["notes"] == ["Called"]

    folder = newest(tmp_path / "undo")
    lines = {(line["phone"], line["what"]): line for line in undo_csv(folder)}
    edited = lines[("+918000000001", "lead_stage_name")]
    assert (edited["outcome"], edited["run_wrote"], edited["now"], edited["before"]) == (
        "edited-since", "Proposal", "Lost", "New Lead")
    assert lines[("+918000000001", "lead_group_name")]["outcome"] == "restored"
    assert lines[("+919000000002", "customer_note")]["outcome"] == "not-removable"
    assert (lines[(L4, "lead")]["outcome"], lines[(L3, "lead_stage_name")]["before"]) == ("created", "")
    summary = summary_of(folder)
    assert (summary["rows_total"], summary["succeeded"], summary["unchanged"], summary["failed"]) == (4, 3, 1, 0)
    assert summary["fields"] == {"restored": 8, "label-removed": 3, "edited-since": 1, "not-removable": 1,
                                 "created": 1}
    requests = summary["requests"]  # the undo's own requests, as report.html charts them
    assert requests["total"] == len(sent) and (folder / "requests.csv").is_file()
    assert requests["by_kind"]["upsert"] == sum(entry["method"] == "POST" for entry in sent) > 0
    assert requests["by_kind"]["get-lead"] == sum(entry["method"] == "GET" and entry["path"].endswith("/lead")
                                                  for entry in sent) > 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"undo of {run}: 4 leads: 3 written, 0 failed, 1 nothing to write, 0 skipped",
                   "undo: 8 restored, 3 label-removed, 1 created, 1 edited-since, 1 not-removable",
                   f"report: {folder}"]

    fresh_sandbox.clear_requests()
    assert undo(run, tmp_path / "undo") == 0  # a second undo of the same run does nothing
    assert fresh_sandbox.requests() == []
    assert capsys.readouterr().out == f"undo: {run} was undone already, by {folder}: nothing to do\n"


def test_undo_tags_the_leads_the_run_created(fresh_sandbox: SandboxServer, api: SandboxApi, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SF_BASE_URL", fresh_sandbox.base_url)
    run = applied_run(fresh_sandbox, api, tmp_path, monkeypatch, ROWS[3:])
    fresh_sandbox.clear_requests()

    assert undo(run, tmp_path / "undo", "--label-created", "Imported by mistake") == 2
    assert capsys.readouterr().err.startswith("superfone-import: error: --label-created Imported by mistake: no "
                                              "such label in the account")
    assert posts(fresh_sandbox) == []

    assert undo(run, tmp_path / "undo", "--label-created", "Do Not Call") == 0
    assert fresh_sandbox.lead(L4)["labels"] == ["Do Not Call"]
    (created, labelled) = undo_csv(newest(tmp_path / "undo"))
    assert (created["what"], created["outcome"]) == ("lead", "created")
    assert (labelled["outcome"], labelled["before"]) == ("labelled", "Do Not Call")


def test_undo_dry_run_sends_nothing(fresh_sandbox: SandboxServer, api: SandboxApi, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SF_BASE_URL", raising=False)  # undo writes where the run wrote (its summary.json says)
    run = applied_run(fresh_sandbox, api, tmp_path, monkeypatch, ROWS[:1])
    assert undo(run, tmp_path / "undo", "--base-url", "http://127.0.0.1:9/superfone") == 2
    assert capsys.readouterr().err == (f"superfone-import: error: {run}: that run wrote to {fresh_sandbox.base_url}, "
                                       "not to http://127.0.0.1:9/superfone\n")
    fresh_sandbox.clear_requests()
    capsys.readouterr()

    assert undo(run, tmp_path / "undo", "--dry-run") == 0

    assert {entry["method"] for entry in fresh_sandbox.requests()} == {"GET"}
    assert state(fresh_sandbox, "+919000000002") == ("Meera2", "Won", "Inbound", ["VIP", "Referral", "Hot"])
    outcomes = [line["outcome"] for line in undo_csv(newest(tmp_path / "undo"))]
    assert outcomes == ["would-restored"] * 3 + ["would-label-removed", "not-removable"]
    assert capsys.readouterr().out.splitlines()[0] == (
        f"undo of {run} (dry run, nothing sent): 1 leads: 1 would be written, 0 nothing to write, 0 skipped")
    assert undo(run, tmp_path / "undo") == 0  # a dry run is not an undo: the real one still runs
    assert state(fresh_sandbox, "+919000000002") == ("Meera", "Qualified", "Outbound", ["VIP", "Referral"])


def test_undo_killed_with_kill_9_resumes_without_doing_anything_twice(
        fresh_sandbox: SandboxServer, api: SandboxApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    leads = [f"+9198111{n:05d}" for n in range(30)]
    for phone in leads:
        api.upsert({"customer_phone": phone, "city": "Before", "create_customer_if_customer_phone_not_found": True})
    run = applied_run(fresh_sandbox, api, tmp_path, monkeypatch,
                      [[f"Lead {n}", phone, "After", "", "", "", ""] for n, phone in enumerate(leads)])
    fresh_sandbox.clear_requests()
    fresh_sandbox.configure(latency_ms=40)
    command = [sys.executable, "-m", "importer", "undo", str(run), "--report-dir", str(tmp_path / "undo"),
               "--base-url", fresh_sandbox.base_url, "--rate", "1000", "--concurrency", "2", "--quiet"]
    env = {**os.environ, "SF_API_KEY": fresh_sandbox.api_key}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while len(posts(fresh_sandbox)) < 8 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
    finally:
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL
    fresh_sandbox.configure(latency_ms=0)
    first = {entry["customer_phone"] for entry in posts(fresh_sandbox) if entry["status"] == 200}
    assert 0 < len(first) < len(leads)  # killed part way

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    applied = [entry["customer_phone"] for entry in posts(fresh_sandbox) if entry["status"] == 200]
    assert len(applied) == len(set(applied)) == len(leads)  # every lead written once, over both undos
    assert all(fresh_sandbox.lead(phone)["city"] == "Before" for phone in leads)
    summary = summary_of(Path(done.stdout.splitlines()[-1].removeprefix("report: ")))
    assert summary["resumed"] >= len(first) - 2  # those the killed undo finished (two may have been in flight)
    assert summary["succeeded"] + summary["unchanged"] == len(leads) and summary["failed"] == 0


def test_undo_of_a_folder_without_before_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert undo(tmp_path, tmp_path / "undo") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{tmp_path}: no before.jsonl here" in err


def test_before_jsonl_of_apply_is_what_undo_reads(fresh_sandbox: SandboxServer, api: SandboxApi, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    run = applied_run(fresh_sandbox, api, tmp_path, monkeypatch, ROWS[2:3])
    (image,) = [json.loads(line) for line in (run / "before.jsonl").read_text(encoding="utf-8").splitlines()]
    assert image["before"] == {"first_name": "Old", "lead_stage_name": None, "lead_group_name": None}
    assert image["sent"]["add_labels"] == ["Cold"]


def test_undo_stopped_by_its_time_limit_exits_3_and_the_same_command_finishes(
        fresh_sandbox: SandboxServer, api: SandboxApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    leads = [f"+9198333{n:05d}" for n in range(12)]
    for phone in leads:
        api.upsert({"customer_phone": phone, "city": "Before", "create_customer_if_customer_phone_not_found": True})
    run = applied_run(fresh_sandbox, api, tmp_path, monkeypatch,
                      [[f"Lead {n}", phone, "After", "", "", "", ""] for n, phone in enumerate(leads)])
    fresh_sandbox.configure(latency_ms=100)
    capsys.readouterr()

    assert undo(run, tmp_path / "undo", "--concurrency", "1", "--time-limit", "1") == 3

    out = capsys.readouterr().out.splitlines()
    first = summary_of(Path(out[-1].removeprefix("report: ")))
    assert first["stopped"] == "time-limit" and 0 < first["rows_left"] < len(leads)
    assert any(line.startswith("stopped (time-limit): the time limit of 1s is spent;") for line in out)
    fresh_sandbox.configure(latency_ms=0)
    assert undo(run, tmp_path / "undo") == 0  # the same command again: the rest
    second = summary_of(Path(capsys.readouterr().out.splitlines()[-1].removeprefix("report: ")))
    assert second["resumed"] == len(leads) - first["rows_left"] and "stopped" not in second
    assert all(fresh_sandbox.lead(phone)["city"] == "Before" for phone in leads)
