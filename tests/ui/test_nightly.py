"""Make this a nightly job: a send from the page, its job file and mapping written, and the job run from the
command line in another folder sends nothing."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml

from importer.cli.commands import main
from importer.jobs.schedule import Schedule
from importer.sandbox import SandboxServer
from importer.ui.nightly import schedule_lines
from tests.ui.client import PageClient
from tests.ui.conftest import SAMPLE

#: Rows of sample_data/leads.csv (header = 1) that a send takes without a problem.
GOOD_ROWS = (2, 3, 4, 5, 6)


def upserts(sandbox: SandboxServer) -> int:
    return sum(1 for entry in sandbox.requests() if entry["method"] == "POST" and entry["path"].endswith("/lead"))


def notes(sandbox: SandboxServer) -> dict[str, list[str]]:
    return {lead["phones"][0]: lead["notes"] for lead in sandbox.leads()}


def test_a_send_made_a_nightly_job_sends_nothing_again_from_another_folder(
        page: PageClient, ui_sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "leads.csv"  # the sample's rows that go through (a clean sheet: every row succeeds)
    with (SAMPLE / "leads.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    with good.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([rows[0], *(rows[number - 1] for number in GOOD_ROWS)])
    upload = page.upload(good)
    sent = page.run(upload, "send")
    assert 'id="nightly-form"' in sent.page and 'id="nightly-name" size="20" required value="leads"' in sent.page
    assert re.search(r'<span class="number">0</span> <span class="label">failed</span>', sent.page)
    noted = notes(ui_sandbox)
    assert any(noted.values())

    answer = page.post(f"/runs/{sent.name}/nightly", {"folder": str(tmp_path / "jobs"), "file_name": "leads"})
    assert answer.status_code == 200, answer.text[:500]
    job_file = tmp_path / "jobs" / "leads.yaml"
    assert "leads.yaml</code> written" in answer.text and "leads.mapping.yaml</code> written" in answer.text
    assert re.search(r"\* \* \* cd .* sync leads.yaml --quiet", answer.text)
    assert "OnCalendar=*-*-* 01:30" in answer.text and "schtasks /Create" in answer.text
    assert ui_sandbox.api_key not in answer.text
    for written in (tmp_path / "jobs").iterdir():
        assert ui_sandbox.api_key not in written.read_text(encoding="utf-8")
    assert (tmp_path / "jobs" / "leads.mapping.yaml").read_text(encoding="utf-8") == \
        page.get(f"/imports/{upload}/mapping.yaml").text
    assert yaml.safe_load(job_file.read_text(encoding="utf-8"))["name"] == "mapping"  # the page's runs' job

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("SF_API_KEY", ui_sandbox.api_key)
    ui_sandbox.clear_requests()
    capsys.readouterr()
    code = main(["sync", str(job_file), "--rate", "1000"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{len(GOOD_ROWS)} unchanged" in out, out
    assert upserts(ui_sandbox) == 0
    assert notes(ui_sandbox) == noted  # no note twice
    assert (tmp_path / "jobs" / "reports").is_dir() and not (elsewhere / "reports").exists()


def test_a_nightly_job_needs_a_full_folder_and_a_plain_name(page: PageClient, tmp_path: Path) -> None:
    upload = page.upload(SAMPLE / "leads.csv")
    sent = page.run(upload, "send")
    relative = page.post(f"/runs/{sent.name}/nightly", {"folder": "jobs", "file_name": "leads"})
    assert relative.status_code == 400 and "type the folder&#39;s full path" in relative.text
    odd = page.post(f"/runs/{sent.name}/nightly", {"folder": str(tmp_path), "file_name": "../x"})
    assert odd.status_code == 400 and "letters, digits" in odd.text
    assert page.post(f"/runs/{sent.name}/nightly", {"folder": str(tmp_path), "file_name": "a"}).status_code == 200
    twice = page.post(f"/runs/{sent.name}/nightly", {"folder": str(tmp_path), "file_name": "a"})
    assert twice.status_code == 400 and "exists already" in twice.text
    dry = page.run(upload, "dry-run")
    assert 'id="nightly-form"' not in dry.page
    assert page.post(f"/runs/{dry.name}/nightly", {"folder": str(tmp_path), "file_name": "b"}).status_code == 404


def test_this_machine_s_schedule_comes_first() -> None:
    schedule = Schedule("leads", Path("/srv/leads").resolve(), "leads.yaml", ("superfone-import",))
    assert [here for _, _, here in schedule_lines(schedule, windows=True)] == [True, False, False]
    assert schedule_lines(schedule, windows=True)[0][0].startswith("Windows")
    assert [how.split()[0] for how, _, _ in schedule_lines(schedule, windows=False)] == ["crontab", "a", "Windows"]
