"""The read before a write, against the sandbox: field policies on leads with empty and filled fields, labels and
products only added, the values kept counted per field, the sync's rules, before-images and ``--no-undo``."""

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
from typing import Any

from importer.cli.commands import main
from importer.report.before import read_before_images
from importer.run.context.options import RunOptions
from importer.run.journey.pipeline import Importer

FILLED = "+919700000001"  # a lead with every field filled
EMPTY = "+919700000002"  # a lead with nothing but its phone
NEW = "+919700000003"  # no lead yet
COLUMNS = ["Phone", "First", "City", "Stage", "Email", "Tags", "Products", "Group"]


def mapping(tmp_path: Path, fields: str, defaults: str = "") -> Path:
    path = tmp_path / "policies.yaml"
    path.write_text(f"version: 1\n{defaults}fields:\n  customer_phone: Phone\n{fields}", encoding="utf-8")
    return path


POLICY_FIELDS = """\
  first_name: {column: First, policy: create_only}
  city: {column: City, policy: fill_empty}
  lead_stage_name: {column: Stage, policy: fill_empty}
  email: {column: Email, policy: overwrite}
  add_labels: {column: Tags, split: ";"}
  add_products: {column: Products, split: ";"}
"""


def sheet(tmp_path: Path, rows: list[dict[str, str]], name: str = "leads.csv") -> Path:
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as stream:
        out = csv.DictWriter(stream, COLUMNS, restval="")
        out.writeheader()
        out.writerows(rows)
    return path


def row(phone: str, **cells: str) -> dict[str, str]:
    return {"Phone": phone, "First": "Sheet", "City": "Goa", "Stage": "Qualified", "Email": "sheet@example.com",
            "Tags": "Hot;VIP", "Products": "Starter Plan", **cells}


def seed(api: Any) -> None:
    """FILLED holds a name, a city, a stage, an e-mail and the label Hot; EMPTY only its phone."""
    answers = [
        api.upsert({"customer_phone": FILLED, "create_customer_if_customer_phone_not_found": True,
                    "first_name": "Asha", "city": "Pune", "lead_stage_name": "Contacted", "email": ["asha@x.in"],
                    "add_labels": ["Hot"]}),
        api.upsert({"customer_phone": EMPTY, "create_customer_if_customer_phone_not_found": True}),
    ]
    assert [answer.status_code for answer in answers] == [200, 200]


def run(server: Any, source: Path, mapping_path: Path, reports: Path, **options: Any) -> dict[str, Any]:
    opts = RunOptions(base_url=server.base_url, api_key=server.api_key, report_dir=reports, rate=1000.0, **options)
    result = Importer(source, mapping_path, opts).run()
    return result.summary | {"exit_code": result.exit_code, "folder": result.folder}


def methods(server: Any) -> list[str]:
    """The method of each lead request (get-lead or upsert; the catalog's lists left out), in order."""
    return [entry["method"] for entry in server.requests() if entry["path"].endswith("/enterprise/api/lead")]


def images(folder: Path) -> dict[str, Any]:
    return {image.phone: image for image in read_before_images(folder)}


def test_each_policy_on_filled_empty_and_new_leads(api, tmp_path: Path) -> None:
    seed(api)
    server = api.server
    server.clear_requests()
    # one row at a time, so the log's order is each lead's own: read, then write
    summary = run(server, sheet(tmp_path, [row(FILLED), row(EMPTY), row(NEW)]), mapping(tmp_path, POLICY_FIELDS),
                  tmp_path / "r", concurrency=1)
    assert (summary["succeeded"], summary["exit_code"]) == (3, 0)
    filled, empty, new = (server.lead(phone) for phone in (FILLED, EMPTY, NEW))
    assert (filled["first_name"], filled["city"], filled["lead_stage"], filled["email"]) == (
        "Asha", "Pune", "Contacted", ["sheet@example.com"])  # create_only and fill_empty kept; overwrite wrote
    assert (empty["first_name"], empty["city"], empty["lead_stage"], empty["email"]) == (
        None, "Goa", "Qualified", ["sheet@example.com"])  # fill_empty filled; create_only kept
    assert (new["first_name"], new["city"], new["lead_stage"]) == ("Sheet", "Goa", "Qualified")
    assert summary["kept"] == {"first_name": 2, "city": 1, "lead_stage_name": 1}
    assert summary["policies"] == {"first_name": "create_only", "city": "fill_empty", "lead_stage_name": "fill_empty"}
    assert methods(server) == ["GET", "POST"] * 3
    assert [entry["customer_phone"] for entry in server.requests() if entry["method"] == "POST"] == [
        FILLED, EMPTY, NEW]
    assert summary["lookups"] == 3


def test_labels_and_products_are_only_added(api, tmp_path: Path) -> None:
    seed(api)
    server = api.server
    summary = run(server, sheet(tmp_path, [row(FILLED), row(NEW, Tags="VIP")]), mapping(tmp_path, POLICY_FIELDS),
                  tmp_path / "r")
    assert summary["succeeded"] == 2
    assert server.lead(FILLED)["labels"] == ["Hot", "VIP"] and server.lead(FILLED)["products"] == ["Starter Plan"]
    sent = {phone: image.sent for phone, image in images(summary["folder"]).items()}
    assert sent[FILLED]["add_labels"] == ["VIP"]  # Hot was on the lead already
    assert sent[FILLED]["add_products"] == ["Starter Plan"] and sent[NEW]["add_labels"] == ["VIP"]
    # create_only for every field: an existing lead gets no label, product or anything else
    everything = mapping(tmp_path, "  city: City\n  lead_stage_name: Stage\n  add_labels: Tags\n"
                         "  add_products: Products\n", "defaults: {policy: create_only}\n")
    server.clear_requests()
    again = run(server, sheet(tmp_path, [row(EMPTY, Tags="Cold")], "cold.csv"), everything, tmp_path / "r2")
    assert again["succeeded"] == 1 and methods(server) == ["GET"]
    assert server.lead(EMPTY)["labels"] == [] and server.lead(EMPTY)["city"] is None
    assert again["kept"] == {"city": 1, "lead_stage_name": 1, "add_labels": 1, "add_products": 1}
    outcome = (again["folder"] / "successes.csv").read_text(encoding="utf-8-sig")
    assert EMPTY in outcome


def test_before_images_of_updates_and_creates(api, tmp_path: Path) -> None:
    seed(api)
    server = api.server
    summary = run(server, sheet(tmp_path, [row(FILLED), row(EMPTY), row(NEW)]), mapping(tmp_path, POLICY_FIELDS),
                  tmp_path / "r")
    found = images(summary["folder"])
    assert summary["before_images"] == 3 and list(found) == [FILLED, EMPTY, NEW]
    filled, empty, new = found[FILLED], found[EMPTY], found[NEW]
    assert (filled.row, filled.existed, filled.status) == (2, True, "succeeded")
    assert filled.lead_id == server.lead(FILLED)["id"]
    assert filled.sent == {"email": ["sheet@example.com"], "add_labels": ["VIP"], "add_products": ["Starter Plan"]}
    assert filled.before == {"email": ["asha@x.in"]}
    assert empty.before == {"city": None, "lead_stage_name": None, "email": None}
    assert empty.sent["city"] == "Goa" and "first_name" not in empty.sent
    assert (new.existed, new.lead_id) == (False, None)
    assert new.before == {"first_name": None, "city": None, "lead_stage_name": None, "email": None}
    assert new.sent["first_name"] == "Sheet"


def test_a_failed_write_is_imaged_as_failed(api, tmp_path: Path) -> None:
    path = mapping(tmp_path, "  city: City\n  assignee_user_phone: {value: '+919876543213'}\n")  # an inactive user
    summary = run(api.server, sheet(tmp_path, [row(NEW)]), path, tmp_path / "r")
    [image] = read_before_images(summary["folder"])
    assert (image.status, image.existed, image.before) == ("failed", False, {"city": None,
                                                                            "assignee_user_phone": None})


def test_the_sync_sends_only_what_changed_and_policies_keep_the_rest(api, tmp_path: Path) -> None:
    seed(api)
    server = api.server
    path = mapping(tmp_path, POLICY_FIELDS)
    rows = [row(FILLED), row(EMPTY)]
    run(server, sheet(tmp_path, rows), path, tmp_path / "r")
    rows[0]["City"] = "Mumbai"  # fill_empty: FILLED keeps Pune
    rows[1]["City"] = "Agra"  # fill_empty: EMPTY holds Goa now, from the first run
    server.clear_requests()
    second = run(server, sheet(tmp_path, rows), path, tmp_path / "r")
    assert (second["succeeded"], second["unchanged"], second["kept"]) == (2, 0, {"city": 2})
    assert methods(server) == ["GET", "GET"]  # only city changed, and both leads keep theirs: no write at all
    assert (server.lead(FILLED)["city"], server.lead(EMPTY)["city"]) == ("Pune", "Goa")
    server.clear_requests()
    third = run(server, sheet(tmp_path, rows), path, tmp_path / "r")  # nothing changed: no read, no write
    assert (third["unchanged"], third["kept"], methods(server)) == (2, {}, [])


def test_no_undo_skips_the_read_unless_a_policy_needs_it(api, tmp_path: Path) -> None:
    seed(api)
    server = api.server
    plain = mapping(tmp_path, "  city: City\n  first_name: First\n")
    rows = [row(FILLED), row(EMPTY), row(NEW)]
    server.clear_requests()
    summary = run(server, sheet(tmp_path, rows), plain, tmp_path / "r", no_undo=True, full=True)
    assert methods(server) == ["POST"] * 3 and summary["no_undo"] is True
    assert [(image.existed, image.before) for image in read_before_images(summary["folder"])] == [(None, {})] * 3
    server.clear_requests()
    run(server, sheet(tmp_path, rows), plain, tmp_path / "r2", full=True)
    assert sorted(methods(server)) == ["GET"] * 3 + ["POST"] * 3
    only_city = mapping(tmp_path, "  city: {column: City, policy: fill_empty}\n  first_name: First\n")
    server.clear_requests()
    policy = run(server, sheet(tmp_path, [row(FILLED, City="Agra"), row(EMPTY, City="")]), only_city, tmp_path / "r3",
                 no_undo=True, state=tmp_path / "r3" / "state.sqlite")  # a job that never ran
    assert sorted(methods(server)) == ["GET", "POST", "POST"] and policy["kept"] == {"city": 1}


def test_the_command_line_says_what_was_kept(api, tmp_path: Path, capsys) -> None:
    seed(api)
    server = api.server
    os.environ["SF_API_KEY"] = server.api_key
    try:
        code = main(["run", str(sheet(tmp_path, [row(FILLED), row(NEW)])), "-m", str(mapping(tmp_path, POLICY_FIELDS)),
                     "--base-url", server.base_url, "--report-dir", str(tmp_path / "r"), "--quiet", "--no-undo"])
    finally:
        del os.environ["SF_API_KEY"]
    out = capsys.readouterr().out
    assert code == 0
    assert ("kept by policy: first_name ×1 (create_only), city ×1 (fill_empty), lead_stage_name ×1 (fill_empty): "
            "the leads' own values were not overwritten") in out.splitlines()


RESUME_ROWS = 240
RUN = "import sys\nfrom importer.cli.commands import main\nsys.exit(main(sys.argv[1:]))\n"


def test_before_images_survive_kill_9_and_resume(api, tmp_path: Path) -> None:
    """Every write the killed run made had its image in the journal first; the resumed run's before.jsonl holds
    what each lead held before the *first* write, even for the rows written twice."""
    server = api.server
    phones = [f"+9197100{i:05d}" for i in range(RESUME_ROWS)]
    for phone in phones:
        api.upsert({"customer_phone": phone, "create_customer_if_customer_phone_not_found": True, "city": "Old"})
    source = sheet(tmp_path, [row(phone, City="New") for phone in phones])
    path = mapping(tmp_path, "  city: City\n  first_name: First\n")
    server.configure(latency_ms=15)
    server.clear_requests()
    command = [sys.executable, "-c", RUN, "run", str(source), "-m", str(path), "--base-url", server.base_url,
               "--report-dir", str(tmp_path / "r"), "--rate", "1000", "--concurrency", "8", "--quiet"]
    env = {**os.environ, "SF_API_KEY": server.api_key}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while sum(entry["method"] == "POST" for entry in server.requests()) < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL
    written = {entry["customer_phone"] for entry in server.requests() if entry["method"] == "POST"}
    assert 40 <= len(written) < RESUME_ROWS
    with closing(sqlite3.connect(tmp_path / "r" / "journal.sqlite")) as db:
        imaged = dict(db.execute("SELECT phone, before FROM before_image").fetchall())
    assert written <= set(imaged) and all(json.loads(imaged[phone]) == {"city": "Old", "first_name": None}
                                          for phone in written)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip().splitlines()[-1].removeprefix("report: "))
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["resumed"] > 0 and summary["before_images"] == RESUME_ROWS
    found = list(read_before_images(folder))
    assert [image.phone for image in found] == phones
    assert all(image.before == {"city": "Old", "first_name": None} and image.existed for image in found)
    assert all(image.status == "succeeded" for image in found)
    assert all(lead["city"] == "New" for lead in server.leads() if lead["phones"][0] in phones)


def test_a_dry_run_says_it_cannot_apply_policies(tmp_path: Path, capsys) -> None:
    code = main(["validate", str(sheet(tmp_path, [row(FILLED)])), "-m", str(mapping(tmp_path, POLICY_FIELDS)),
                 "--offline", "--report-dir", str(tmp_path / "r"), "--quiet"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[-2] == ("policies: first_name (create_only), city (fill_empty), lead_stage_name (fill_empty) are "
                         "applied per lead when sent; a dry run reads no lead, so payloads.jsonl shows these fields "
                         "as the sheet has them (run --plan shows what each lead would keep)")
    (folder,) = (tmp_path / "r").iterdir()
    assert '"city":"Goa"' in (folder / "payloads.jsonl").read_text(encoding="utf-8")
    assert json.loads((folder / "summary.json").read_text(encoding="utf-8"))["policies"]["city"] == "fill_empty"


def test_undo_restores_a_plain_run_from_its_before_images(api, tmp_path: Path, monkeypatch, capsys) -> None:
    """A run (not an apply) that changed names, stages, groups and labels; one lead edited since: undo puts the
    others back from the run's own before.jsonl and leaves the edit alone."""
    server = api.server
    monkeypatch.setenv("SF_API_KEY", server.api_key)
    monkeypatch.setenv("SF_BASE_URL", server.base_url)
    path = mapping(tmp_path, "  first_name: First\n  lead_stage_name: Stage\n  lead_group_name: Group\n"
                   "  add_labels: Tags\n")
    meera, asha = "+919000000002", "+918000000001"
    rows = [{"Phone": meera, "First": "Meera2", "Stage": "Won", "Group": "Inbound", "Tags": "Hot"},
            {"Phone": asha, "First": "Asha2", "Stage": "Proposal", "Group": "Partners", "Tags": "VIP"}]
    summary = run(server, sheet(tmp_path, rows), path, tmp_path / "r")
    assert summary["succeeded"] == 2
    api.upsert({"customer_phone": asha, "lead_stage_name": "Lost"})  # a salesperson's edit since the run
    capsys.readouterr()
    assert main(["undo", str(summary["folder"]), "--report-dir", str(tmp_path / "undo"), "--quiet"]) == 0
    state = {phone: (lead["first_name"], lead["lead_stage"], lead["lead_group"], lead["labels"])
             for phone in (meera, asha) if (lead := server.lead(phone))}
    assert state == {meera: ("Meera", "Qualified", "Outbound", ["VIP", "Referral"]),
                     asha: ("Asha", "Lost", "Inbound", ["Hot"])}
    assert "1 edited-since" in capsys.readouterr().out
