"""Nightly sync against the sandbox over HTTP: only what changed is sent, a note never twice, one run at a time,
guards, leads gone from the input, history."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from importer.cli.commands import main
from importer.errors import ConfigError
from importer.run.context.options import RunOptions
from importer.run.journey.pipeline import Importer

MAPPING = """\
version: 1
fields:
  customer_phone: Phone
  first_name: Name
  city: City
  add_labels: {column: Tags, split: ";"}
  customer_note: {template: "{Note}"}
"""


def write_sheet(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        out = csv.DictWriter(stream, ["Phone", "Name", "City", "Tags", "Note"])
        out.writeheader()
        out.writerows(rows)
    return path


def leads(count: int, note: str = "first call") -> list[dict[str, str]]:
    return [{"Phone": f"+9196{i:08d}", "Name": f"Lead {i}", "City": "Pune", "Tags": "Hot", "Note": f"{note} {i}"}
            for i in range(count)]


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "nightly.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def sync(server, sheet: Path, mapping: Path, reports: Path, **options) -> dict:
    opts = RunOptions(base_url=server.base_url, api_key=server.api_key, report_dir=reports, rate=1000.0, **options)
    result = Importer(sheet, mapping, opts).run()
    return result.summary | {"exit_code": result.exit_code, "folder": result.folder}


def posts(server) -> list[dict]:
    return [entry for entry in server.requests() if entry["method"] == "POST"]


def notes(server) -> dict[str, list[str]]:
    """The notes of the leads these tests create (the seed's own leads left out)."""
    return {lead["phones"][0]: lead["notes"] for lead in server.leads() if lead["phones"][0].startswith("+9196")}


def test_edited_rows_send_only_their_changed_fields(fresh_sandbox, tmp_path: Path, mapping: Path) -> None:
    rows = leads(30)
    sheet = write_sheet(tmp_path / "leads.csv", rows)
    first = sync(fresh_sandbox, sheet, mapping, tmp_path / "r")
    assert first["succeeded"] == 30 and first["unchanged"] == 0
    rows[3]["City"] = "Nashik"
    rows[7]["Tags"] = "Hot;VIP"
    rows[9]["Name"] = "Asha"
    fresh_sandbox.clear_requests()
    second = sync(fresh_sandbox, write_sheet(sheet, rows), mapping, tmp_path / "r")
    assert (second["sent"], second["succeeded"], second["unchanged"]) == (3, 3, 27)
    base = ["create_customer_if_customer_phone_not_found", "customer_phone"]
    assert sorted((entry["customer_phone"], entry["fields"]) for entry in posts(fresh_sandbox)) == [
        ("+919600000003", sorted([*base, "city"])), ("+919600000007", sorted([*base, "add_labels"])),
        ("+919600000009", sorted([*base, "first_name"]))]
    assert fresh_sandbox.lead("+919600000007")["labels"] == ["Hot", "VIP"]
    unchanged = (second["folder"] / "unchanged.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(unchanged) == 28 and unchanged[1] == "2,'+919600000000"
    fresh_sandbox.clear_requests()
    third = sync(fresh_sandbox, sheet, mapping, tmp_path / "r")  # the same sheet again: nothing to send
    assert third["sent"] == 0 and third["unchanged"] == 30 and posts(fresh_sandbox) == []
    assert third["rows_total"] == third["unchanged"] and third["exit_code"] == 0


def test_full_sends_every_row_whole_but_never_a_note_twice(fresh_sandbox, tmp_path: Path, mapping: Path) -> None:
    sheet = write_sheet(tmp_path / "leads.csv", leads(5))
    sync(fresh_sandbox, sheet, mapping, tmp_path / "r")
    fresh_sandbox.clear_requests()
    again = sync(fresh_sandbox, sheet, mapping, tmp_path / "r", full=True)
    assert again["sent"] == 5 and all("first_name" in entry["fields"] and "customer_note" not in entry["fields"]
                                      for entry in posts(fresh_sandbox))
    repeated = sync(fresh_sandbox, sheet, mapping, tmp_path / "r", full=True, repeat_notes=True)
    assert repeated["sent"] == 5 and [len(found) for found in notes(fresh_sandbox).values()] == [2] * 5


def test_a_note_never_reaches_a_lead_twice_across_files_mappings_and_jobs(fresh_sandbox, tmp_path: Path,
                                                                         mapping: Path) -> None:
    rows = leads(10)
    sync(fresh_sandbox, write_sheet(tmp_path / "monday.csv", rows), mapping, tmp_path / "r")
    other_mapping = tmp_path / "other.yaml"
    other_mapping.write_text(MAPPING.replace("  city: City\n", ""), encoding="utf-8")
    for index, name in enumerate(["tuesday.csv", "wednesday.csv"]):
        rows = [{**row, "City": f"City {index}"} for row in rows]
        sync(fresh_sandbox, write_sheet(tmp_path / name, rows), mapping, tmp_path / "r", job=f"job-{index}")
    sync(fresh_sandbox, write_sheet(tmp_path / "thursday.csv", rows), other_mapping, tmp_path / "r")
    found = notes(fresh_sandbox)
    assert all(found[f"+9196{i:08d}"] == [f"first call {i}"] for i in range(10))
    rows[0]["Note"] = "second call"
    summary = sync(fresh_sandbox, write_sheet(tmp_path / "friday.csv", rows), mapping, tmp_path / "r", job="job-1")
    assert summary["sent"] == 1 and notes(fresh_sandbox)["+919600000000"] == ["first call 0", "second call"]


def test_a_lead_deleted_between_runs_is_created_again_whole(fresh_sandbox, tmp_path: Path, mapping: Path) -> None:
    rows = leads(3)
    sheet = write_sheet(tmp_path / "leads.csv", rows)
    sync(fresh_sandbox, sheet, mapping, tmp_path / "r")
    assert fresh_sandbox.delete_lead("+919600000001")
    rows[1]["City"] = "Goa"
    fresh_sandbox.clear_requests()
    summary = sync(fresh_sandbox, write_sheet(sheet, rows), mapping, tmp_path / "r")
    assert summary["succeeded"] == 1 and summary["unchanged"] == 2
    tried = [(entry["status"], entry["fields"]) for entry in posts(fresh_sandbox)]
    assert tried[0] == (400, ["city", "create_customer_if_customer_phone_not_found", "customer_phone"])
    assert tried[1][0] == 200 and "first_name" in tried[1][1] and "customer_note" not in tried[1][1]
    lead = fresh_sandbox.lead("+919600000001")
    assert lead["city"] == "Goa" and lead["first_name"] == "Lead 1" and lead["labels"] == ["Hot"]


def test_failed_rows_are_retried_by_the_next_run(fresh_sandbox, tmp_path: Path, mapping: Path) -> None:
    sheet = write_sheet(tmp_path / "leads.csv", leads(4))
    fresh_sandbox.configure(fail_before=1.0)
    from importer.api.retry import RetryPolicy
    first = sync(fresh_sandbox, sheet, mapping, tmp_path / "r", retry=RetryPolicy(max_attempts=1))
    assert first["failed"] == 4
    fresh_sandbox.configure(fail_before=0.0)
    second = sync(fresh_sandbox, sheet, mapping, tmp_path / "r")
    assert second["succeeded"] == 4 and second["unchanged"] == 0
    assert [len(found) for found in notes(fresh_sandbox).values()] == [1] * 4


def test_guards_stop_a_broken_nightly_file(fresh_sandbox, tmp_path: Path, mapping: Path) -> None:
    rows = leads(20)
    sync(fresh_sandbox, write_sheet(tmp_path / "leads.csv", rows), mapping, tmp_path / "r")
    fresh_sandbox.clear_requests()
    with pytest.raises(ConfigError, match=r"9 rows, fewer than half of the 20 rows .*\(--allow-shrink"):
        sync(fresh_sandbox, write_sheet(tmp_path / "short.csv", rows[:9]), mapping, tmp_path / "r")
    broken = [{**row, "Phone": "12"} if index < 6 else row for index, row in enumerate(rows)]
    with pytest.raises(ConfigError, match=r"30% of the rows are invalid, against 0% .*\(--allow-invalid"):
        sync(fresh_sandbox, write_sheet(tmp_path / "broken.csv", broken), mapping, tmp_path / "r")
    assert posts(fresh_sandbox) == []
    assert sorted(path.name for path in (tmp_path / "r").iterdir() if path.is_dir()) == sorted(
        path.name for path in (tmp_path / "r").iterdir() if path.is_dir() and (path / "summary.json").exists())
    shrunk = sync(fresh_sandbox, tmp_path / "short.csv", mapping, tmp_path / "r", allow_shrink=True)
    assert shrunk["unchanged"] == 9
    allowed = sync(fresh_sandbox, tmp_path / "broken.csv", mapping, tmp_path / "r", allow_invalid=True)
    assert allowed["invalid"] == 6


def test_leads_gone_from_the_input_are_labelled_within_the_cap(fresh_sandbox, tmp_path: Path, mapping: Path) -> None:
    rows = leads(20)
    sync(fresh_sandbox, write_sheet(tmp_path / "leads.csv", rows), mapping, tmp_path / "r")
    with pytest.raises(ConfigError, match=r"3 of the job's 20 leads are not in fewer.csv: more than --max-missing 10%"):
        sync(fresh_sandbox, write_sheet(tmp_path / "fewer.csv", rows[3:]), mapping, tmp_path / "r",
             on_missing="label:Cold")
    fresh_sandbox.clear_requests()
    summary = sync(fresh_sandbox, write_sheet(tmp_path / "fewer.csv", rows[2:]), mapping, tmp_path / "r",
                   on_missing="label:Cold")
    assert summary["missing"] == {"leads": 2, "action": "label:Cold", "succeeded": 2}
    assert sorted(entry["customer_phone"] for entry in posts(fresh_sandbox)) == ["+919600000000", "+919600000001"]
    assert "Cold" in fresh_sandbox.lead("+919600000000")["labels"]
    assert "Cold" not in fresh_sandbox.lead("+919600000005")["labels"]
    with pytest.raises(ConfigError, match="no usable stage named 'Nowhere'"):
        sync(fresh_sandbox, tmp_path / "fewer.csv", mapping, tmp_path / "r", on_missing="stage:Nowhere")


RUN = """
import sys
from importer.cli.commands import main
sys.exit(main(sys.argv[1:]))
"""


def start_cli(server, sheet: Path, mapping: Path, reports: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "SF_API_KEY": server.api_key}
    return subprocess.Popen([sys.executable, "-c", RUN, "run", str(sheet), "-m", str(mapping), "--base-url",
                             server.base_url, "--report-dir", str(reports), "--rate", "200", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_two_runs_started_together_never_send_a_row_twice(fresh_sandbox, tmp_path: Path, mapping: Path) -> None:
    sheet = write_sheet(tmp_path / "leads.csv", leads(200))
    fresh_sandbox.configure(latency_ms=5)
    runs = [start_cli(fresh_sandbox, sheet, mapping, tmp_path / "r"),
            start_cli(fresh_sandbox, sheet, mapping, tmp_path / "r", "--full")]
    finished = [process.communicate(timeout=120) for process in runs]
    codes = sorted(process.returncode for process in runs)
    assert codes == [0, 2]
    refused = next(err for (_, err), process in zip(finished, runs, strict=True) if process.returncode == 2)
    assert refused.count("\n") == 1 and "another run is using" in refused and "pid " in refused
    assert len(posts(fresh_sandbox)) == 200
    assert [len(found) for found in notes(fresh_sandbox).values()] == [1] * 200


#: How long the sandbox holds an upsert it has applied before answering it, while the run is killed.
HELD_MS = 2000


def journal_rows(reports: Path) -> dict[int, tuple[str, bool]]:
    """The journal's rows: row number -> (status, has_note)."""
    with closing(sqlite3.connect(reports / "journal.sqlite")) as db:
        return {row: (status, bool(has_note))
                for row, status, has_note in db.execute("SELECT row, status, has_note FROM row_state")}


def test_a_killed_run_leaves_no_lock_and_the_next_finishes(fresh_sandbox, tmp_path: Path, mapping: Path) -> None:
    sheet = write_sheet(tmp_path / "leads.csv", leads(300))
    fresh_sandbox.configure(latency_ms=20)
    process = start_cli(fresh_sandbox, sheet, mapping, tmp_path / "r", "--concurrency", "2")
    deadline = time.monotonic() + 30
    while len(posts(fresh_sandbox)) < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    # From now on every upsert is applied, then held unanswered: both workers end up waiting on one, mid-send
    fresh_sandbox.configure(slow=1.0, slow_ms=HELD_MS)
    held: list[dict] = []
    while time.monotonic() < deadline and process.poll() is None:
        held = [entry for entry in posts(fresh_sandbox) if entry["fault"] == "slow"]
        if len(held) == 2 and all(fresh_sandbox.lead(entry["customer_phone"]) for entry in held):
            break
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    released = time.monotonic() + HELD_MS / 1000  # when the sandbox answers the held upserts (to nobody)
    process.communicate()
    assert process.returncode == -signal.SIGKILL
    # the kill came while sending: some upserts but not all had reached the sandbox, two of them still unanswered
    sent_before = posts(fresh_sandbox)
    assert 20 <= len(sent_before) < 300 and len(held) == 2
    assert all(entry["has_note"] for entry in sent_before)
    journal = journal_rows(tmp_path / "r")
    in_flight = sorted(row for row, (status, _) in journal.items() if status == "in_flight")
    finished = {row for row, (status, _) in journal.items() if status == "succeeded"}
    assert in_flight == sorted(int(entry["customer_phone"][-8:]) + 2 for entry in held)
    assert all(journal[row][1] for row in in_flight)  # each carried its note
    assert len(finished) + len(in_flight) == len(journal) and 18 <= len(finished) < 298
    assert len(sent_before) == len(finished) + len(in_flight)

    fresh_sandbox.configure(latency_ms=0, slow=0.0)
    fresh_sandbox.clear_requests()
    summary = sync(fresh_sandbox, sheet, mapping, tmp_path / "r")
    assert summary["rows_total"] == 300 and summary["failed"] == 0
    assert (summary["resumed"], summary["sent"], summary["in_doubt"]) == (len(finished), 300 - len(finished), 2)
    # the rerun sent every row the killed run had not finished, each once; the two held rows without their note
    resent = posts(fresh_sandbox)
    assert sorted(int(entry["customer_phone"][-8:]) + 2 for entry in resent) == sorted(
        set(range(2, 302)) - finished)
    assert sorted(int(entry["customer_phone"][-8:]) + 2 for entry in resent if not entry["has_note"]) == in_flight
    assert notes(fresh_sandbox) == {f"+9196{i:08d}": [f"first call {i}"] for i in range(300)}
    time.sleep(max(0.0, released - time.monotonic()))  # the held answers are gone before the sandbox is reset


def test_history_lists_the_runs_of_each_job(fresh_sandbox, tmp_path: Path, mapping: Path, capsys) -> None:
    sheet = write_sheet(tmp_path / "leads.csv", leads(5))
    sync(fresh_sandbox, sheet, mapping, tmp_path / "r")
    sync(fresh_sandbox, sheet, mapping, tmp_path / "r", job="other")
    sync(fresh_sandbox, sheet, mapping, tmp_path / "r")
    assert main(["history", "--report-dir", str(tmp_path / "r"), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [(run["job"], run["unchanged"], run["exit_code"]) for run in runs] == [
        ("nightly", 5, 0), ("other", 0, 0), ("nightly", 0, 0)]
    assert main(["history", "--report-dir", str(tmp_path / "r"), "--job", "nightly", "--limit", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "nightly  leads.csv: 5 rows: 0 succeeded" in lines[0] and "5 unchanged" in lines[0]


def test_a_dry_run_and_a_plan_say_what_a_run_would_send(fresh_sandbox, tmp_path: Path, mapping: Path) -> None:
    from importer.report import read_payloads
    from importer.run.kinds.plan import Plan

    rows = leads(10)
    sheet = write_sheet(tmp_path / "leads.csv", rows)
    sync(fresh_sandbox, sheet, mapping, tmp_path / "r")
    rows[2]["City"] = "Goa"
    write_sheet(sheet, rows)
    fresh_sandbox.clear_requests()
    dry = sync(fresh_sandbox, sheet, mapping, tmp_path / "r", dry_run=True)
    assert dry["unchanged"] == 9 and list(read_payloads(dry["folder"] / "payloads.jsonl")) == [
        (4, {"customer_phone": "+919600000002", "create_customer_if_customer_phone_not_found": False, "city": "Goa"})]
    options = RunOptions(base_url=fresh_sandbox.base_url, api_key=fresh_sandbox.api_key, rate=1000.0,
                         report_dir=tmp_path / "r")
    plan = Importer(sheet, mapping, options, kind=Plan()).run()
    assert plan.summary["unchanged"] == 9 and plan.summary["plan"]["update"] == 1 and plan.summary["lookups"] == 1
    planned = (plan.folder / "plan.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(planned) == 2 and 'city: ""Pune"" → ""Goa""' in planned[1]
    assert posts(fresh_sandbox) == []
