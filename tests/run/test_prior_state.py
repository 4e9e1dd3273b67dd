"""A nightly sync's requests per changed lead, against the sandbox: a lead whose changed fields this job wrote in
its last run is written without being read first (its before-image comes from the sync state), any other lead is
read; undo of such a run puts back exactly what the job had written, and leaves alone what was edited since."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from importer.cli.commands import main
from importer.report import restore
from importer.report.before import read_before_images
from importer.run.context.options import RunOptions
from importer.run.journey.pipeline import Importer

COLUMNS = ["Phone", "First", "City", "Stage", "Tags", "Note"]
MAPPING = """\
version: 1
defaults:
  create_if_missing: true
fields:
  customer_phone: Phone
  first_name: First
  city: City
  lead_stage_name: Stage
  add_labels: {column: Tags, split: ";"}
  customer_note: {template: "{Note}"}
"""
PHONES = [f"+9195{i:08d}" for i in range(6)]
CITY, NAME, TAGS, NOTE = PHONES[:4]  # the leads whose rows the second run changes (the last two: none)


def write_sheet(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        out = csv.DictWriter(stream, COLUMNS)
        out.writeheader()
        out.writerows(rows)
    return path


def first_rows() -> list[dict[str, str]]:
    return [{"Phone": phone, "First": f"Lead {i}", "City": "Pune", "Stage": "Contacted", "Tags": "Hot",
             "Note": "first call"} for i, phone in enumerate(PHONES)]


def edited(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The second night's sheet: a new city, a new name and stage, a new label, a new note; two rows as they were."""
    rows = [dict(row) for row in rows]
    rows[0]["City"] = "Nashik"
    rows[1].update(First="Asha", Stage="Qualified")
    rows[2]["Tags"] = "Hot;VIP"
    rows[3]["Note"] = "second call"
    return rows


def sync(server: Any, sheet: Path, mapping: Path, reports: Path, **options: Any) -> dict[str, Any]:
    opts = RunOptions(base_url=server.base_url, api_key=server.api_key, report_dir=reports, rate=1000.0, **options)
    result = Importer(sheet, mapping, opts).run()
    return result.summary | {"exit_code": result.exit_code, "folder": result.folder}


#: What every run asks first, whatever its rows: one list of each of the account's names.
CATALOG = {"GET label": 1, "GET lead-stage": 1, "GET lead-group": 1, "GET source-type": 1, "GET product": 1}


def lead_requests(server: Any) -> Counter[str]:
    """Every request the sandbox answered, by method and endpoint; the catalog's lists counted apart (each once),
    the lead endpoint's get-leads and upserts returned by method."""
    log = Counter(f"{entry['method']} {entry['path'].split('/api/', 1)[1]}" for entry in server.requests())
    assert {name: log.pop(name, 0) for name in CATALOG} == CATALOG
    assert set(log) <= {"GET lead", "POST lead"}, log
    return Counter({name.split()[0]: count for name, count in log.items()})


def fields(server: Any, phone: str) -> tuple[Any, ...]:
    lead = server.lead(phone)
    assert lead is not None
    return lead["first_name"], lead["city"], lead["lead_stage"], lead["labels"], lead["notes"]


@pytest.fixture
def nightly(fresh_sandbox: Any, tmp_path: Path) -> tuple[Any, Path, Path]:
    """The first night's run done: the sheet's path and the mapping's."""
    mapping = tmp_path / "nightly.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    sheet = write_sheet(tmp_path / "leads.csv", first_rows())
    fresh_sandbox.clear_requests()
    first = sync(fresh_sandbox, sheet, mapping, tmp_path / "r")
    assert (first["succeeded"], first["lookups"], first.get("before_from_state")) == (6, 6, None)
    assert lead_requests(fresh_sandbox) == {"GET": 6, "POST": 6}  # new leads: read, then written
    return fresh_sandbox, sheet, mapping


def test_a_lead_whose_changed_fields_this_job_wrote_costs_one_request(nightly, tmp_path: Path) -> None:
    server, sheet, mapping = nightly
    server.clear_requests()
    second = sync(server, write_sheet(sheet, edited(first_rows())), mapping, tmp_path / "r")
    assert (second["sent"], second["succeeded"], second["unchanged"]) == (4, 4, 2)
    # four changed leads: four upserts; only the new label needs the lead's labels read first
    assert lead_requests(server) == {"POST": 4, "GET": 1}
    assert (second["lookups"], second["before_from_state"], second["before_images"]) == (1, 3, 4)

    images = {image.phone: image for image in read_before_images(second["folder"])}
    assert [(images[phone].from_state, images[phone].existed, images[phone].lead_id is None)
            for phone in (CITY, NAME, TAGS, NOTE)] == [(True, True, True), (True, True, True),
                                                       (False, True, False), (True, True, True)]
    assert images[CITY].before == {"city": "Pune"} and images[CITY].sent == {"city": "Nashik"}
    assert images[NAME].before == {"first_name": "Lead 1", "lead_stage_name": "Contacted"}
    assert images[NOTE].before == {} and images[NOTE].sent == {"customer_note": True}
    assert images[TAGS].sent == {"add_labels": ["VIP"]}
    line = (second["folder"] / "before.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert '"before_from": "state"' in line


def test_undo_of_the_second_night_puts_back_what_the_job_wrote_before(nightly, api, tmp_path: Path, monkeypatch,
                                                                      capsys) -> None:
    server, sheet, mapping = nightly
    before = {phone: fields(server, phone) for phone in PHONES}
    second = sync(server, write_sheet(sheet, edited(first_rows())), mapping, tmp_path / "r")
    assert fields(server, NAME)[:3] == ("Asha", "Pune", "Qualified")
    assert server.lead(NAME)["notes"] == ["first call"] and server.lead(NOTE)["notes"] == ["first call", "second call"]
    assert api.upsert({"customer_phone": CITY, "city": "Goa"}).status_code == 200  # an edit since the second run
    monkeypatch.setenv("SF_API_KEY", server.api_key)
    monkeypatch.setenv("SF_BASE_URL", server.base_url)
    capsys.readouterr()
    assert main(["undo", str(second["folder"]), "--report-dir", str(tmp_path / "undo"), "--quiet"]) == 0

    assert fields(server, CITY) == ("Lead 0", "Goa", "Contacted", ["Hot"], ["first call"])  # the edit stays
    assert fields(server, NAME) == before[NAME]
    assert fields(server, TAGS) == before[TAGS]
    assert fields(server, NOTE)[:4] == before[NOTE][:4]  # a note cannot be removed
    (folder,) = (path for path in (tmp_path / "undo").iterdir() if path.is_dir())
    with open(folder / "undo.csv", encoding="utf-8-sig", newline="") as stream:
        restored = [{key: restore(value) for key, value in line.items()} for line in csv.DictReader(stream)]
    lines = {(line["phone"], line["what"]): line for line in restored}
    city = lines[(CITY, "city")]
    assert (city["outcome"], city["run_wrote"], city["now"], city["before"]) == ("edited-since", "Nashik", "Goa",
                                                                                 "Pune")
    name = lines[(NAME, "first_name")]
    assert (name["outcome"], name["before"]) == ("restored", "Lead 1")
    assert "sync state" in name["message"]
    assert lines[(NAME, "lead_stage_name")]["outcome"] == "restored"
    assert lines[(TAGS, "labels")]["outcome"] == "label-removed"
    assert lines[(NOTE, "customer_note")]["outcome"] == "not-removable"


def test_a_lead_deleted_since_the_last_night_is_created_again_and_imaged_as_created(nightly, tmp_path: Path,
                                                                                    monkeypatch) -> None:
    server, sheet, mapping = nightly
    assert server.delete_lead(CITY)
    server.clear_requests()
    second = sync(server, write_sheet(sheet, edited(first_rows())), mapping, tmp_path / "r")
    assert second["succeeded"] == 4 and server.lead(CITY)["city"] == "Nashik"
    # the changed city alone, refused (no such lead), then the whole row that creates it
    assert lead_requests(server) == {"POST": 5, "GET": 1}
    image = {image.phone: image for image in read_before_images(second["folder"])}[CITY]
    assert (image.existed, image.before, image.from_state, image.status) == (False, {}, False, "succeeded")
    monkeypatch.setenv("SF_API_KEY", server.api_key)
    monkeypatch.setenv("SF_BASE_URL", server.base_url)
    assert main(["undo", str(second["folder"]), "--report-dir", str(tmp_path / "undo"), "--quiet"]) == 0
    assert server.lead(CITY)["city"] == "Nashik"  # created by the run: undo cannot delete it


def test_a_policy_on_a_changed_field_still_reads_the_lead(nightly, tmp_path: Path) -> None:
    server, sheet, mapping = nightly
    mapping.write_text(MAPPING.replace("  city: City", "  city: {column: City, policy: fill_empty}"),
                       encoding="utf-8")
    rows = first_rows()
    rows[0]["City"] = "Nashik"
    server.clear_requests()
    second = sync(server, write_sheet(sheet, rows), mapping, tmp_path / "r")
    assert lead_requests(server) == {"GET": 1}  # fill_empty: the lead holds Pune, which it keeps
    assert (second["kept"], second.get("before_from_state")) == ({"city": 1}, None)
