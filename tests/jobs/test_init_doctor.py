"""``init`` on a fresh folder, then ``doctor``, then ``sync``; each doctor check failing on purpose."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from importer.jobs.schedule import Schedule
from importer.sandbox import SandboxServer
from tests.jobs.conftest import KEY_ENV, Result, drop, job_text

EXPORT = ("Phone,First Name,Stage,Tags\r\n+919700000701,Asha,Contacted,Hot\r\n+919700000702,Ravi,Won,VIP\r\n"
          "+919700000703,Meera,New Lead,Hot\r\n")


def lines(result: Result) -> dict[str, str]:
    """A doctor's lines by check name."""
    return {line.split(":", 1)[0]: line for line in result.lines}


def test_init_then_doctor_then_sync_on_a_fresh_folder(workdir: Path, fresh_sandbox: SandboxServer,
                                                      cli: Callable[..., Result],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    drop(workdir / "exports", "leads-1.csv", EXPORT)
    monkeypatch.setenv("SF_API_KEY", fresh_sandbox.api_key)  # the account's names become comments
    made = cli("init", "crm", "--source", "exports/", "--base-url", fresh_sandbox.base_url, "--non-interactive")
    assert made.code == 0, made.err
    assert made.lines[0] == "wrote crm.yaml, crm.mapping.yaml, secrets.env (readable by you only)"
    assert made.lines[1] == ("mapping: guessed from the headers; the account's names are comments beside its "
                             "fields")
    mapping = (workdir / "crm.mapping.yaml").read_text(encoding="utf-8")
    assert "    # the account's stages: Contacted, Follow-up, Lost, New Lead, Proposal, Qualified, Won" in mapping
    labels = "Cold, Demo Requested, Do Not Call, Follow Up, Hot, Referral, VIP, Warm"
    assert f"    # the account's labels: {labels}" in mapping
    cron = next(line for line in made.lines if " * * * " in line).strip()
    program = cron.split(" && ")[-1].split(" sync ")[0]
    assert cron.startswith(f"30 1 * * * cd {workdir} && set -a && . ./secrets.env && set +a && ")
    assert Path(program.split(" ")[0]).is_absolute() and cron.endswith(" sync crm.yaml --quiet")
    assert any(line.strip() == f"EnvironmentFile={workdir / 'secrets.env'}" for line in made.lines)
    task = 'schtasks /Create /TN "superfone crm" /SC DAILY /ST 01:30'
    assert any(line.strip().startswith(task) for line in made.lines)
    secrets = workdir / "secrets.env"
    if os.name == "posix":
        assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    text = secrets.read_text(encoding="utf-8")
    assert "SF_API_KEY=\n" in text and "export" not in text.replace("# ", "").split("\n", 4)[-1]
    secrets.write_text(text.replace("SF_API_KEY=\n", f"SF_API_KEY={fresh_sandbox.api_key}\n"), encoding="utf-8")
    if os.name == "posix":  # what cron's sh does with it
        shown = subprocess.run(["sh", "-c", "set -a; . ./secrets.env; set +a; sh -c 'echo $SF_API_KEY'"],
                               cwd=workdir, capture_output=True, text=True, check=True).stdout.strip()
        assert shown == fresh_sandbox.api_key
    checked = cli("doctor", "crm.yaml")
    assert checked.code == 0, checked.out
    assert [line.split(":")[0] for line in checked.lines] == ["key", "source", "names", "state", "command", "alerts",
                                                              "time"]
    assert lines(checked)["key"] == f"key: ok — account org_id 42 at {fresh_sandbox.base_url}"
    assert lines(checked)["source"].startswith("source: ok — exports/leads-1.csv: 3 rows;")
    synced = cli("sync", "crm.yaml")
    assert synced.code == 0 and synced.lines[0].startswith("leads-1.csv: 3 rows: 3 succeeded"), synced.out
    fresh_sandbox.clear_requests()
    again = cli("sync", "crm.yaml")
    assert again.code == 0 and again.lines[0].startswith("no new file for job crm since ")
    assert fresh_sandbox.requests() == []


def test_init_never_replaces_a_file(workdir: Path, cli: Callable[..., Result]) -> None:
    drop(workdir / "exports", "leads-1.csv", EXPORT)
    assert cli("init", "crm", "--source", "exports/leads-1.csv", "--non-interactive").code == 0
    before = (workdir / "crm.yaml").read_bytes()
    again = cli("init", "crm", "--source", "exports/leads-1.csv", "--non-interactive")
    assert again.code == 2 and again.out == ""
    assert again.err == f"superfone-import: error: {Path('crm.yaml')} exists already: init never replaces a file " \
                        "(choose another NAME)\n"
    assert (workdir / "crm.yaml").read_bytes() == before
    other = cli("init", "crm2", "--source", "exports/leads-1.csv", "--non-interactive", "--preset", "hubspot")
    assert other.code == 0 and other.lines[2].startswith("mapping: started from the preset 'hubspot'")
    assert "kept secrets.env (it exists)" in other.lines
    assert cli("init", "x", "--source", "sftp://ops:pw@host/drop/", "--non-interactive").err.startswith(
        "superfone-import: error: --source: a URL with a password")


def test_init_asks_what_it_is_not_told(workdir: Path, cli: Callable[..., Result],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    drop(workdir / "exports", "leads-1.csv", EXPORT)
    (workdir / "nightly.mapping.yaml").unlink()
    answers = iter(["", "exports/"])
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or next(answers))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    made = cli("init")
    assert made.code == 0 and (workdir / "nightly.yaml").is_file() and (workdir / "nightly.mapping.yaml").is_file()
    assert asked[0] == "Name of the job [nightly]: " and asked[1].startswith("Where is the sheet")


def test_the_schedules_name_the_program_by_its_absolute_path() -> None:
    schedule = Schedule("night ly", Path("/srv/leads"), "night ly.yaml", ("/opt/venv/bin/superfone-import",), "02:05")
    assert schedule.cron() == ("5 2 * * * cd /srv/leads && set -a && . ./secrets.env && set +a && "
                               "/opt/venv/bin/superfone-import sync 'night ly.yaml' --quiet")
    assert "OnCalendar=*-*-* 02:05" in schedule.systemd() and "EnvironmentFile=/srv/leads/secrets.env" in \
        schedule.systemd()


# --- each doctor check failing on purpose -------------------------------------------------------------------


@pytest.fixture
def job(workdir: Path, fresh_sandbox: SandboxServer) -> Path:
    """A job that passes every check: a mapping with stages and labels the account has."""
    drop(workdir / "exports", "leads-1.csv", EXPORT)
    (workdir / "nightly.mapping.yaml").write_text(
        "version: 1\nfields:\n  customer_phone: Phone\n  first_name: First Name\n"
        "  lead_stage_name: {column: Stage, map: {Contacted: Contacted, Won: Won, New Lead: New Lead}}\n"
        "  add_labels: {column: Tags, split: ';'}\n", encoding="utf-8")
    path = workdir / "nightly.yaml"
    path.write_text(job_text(fresh_sandbox), encoding="utf-8")
    return path


def doctor(cli: Callable[..., Result], *extra: str) -> tuple[int, dict[str, str]]:
    result = cli("doctor", "nightly.yaml", *extra)
    assert "Traceback" not in result.out + result.err
    return result.code, lines(result)


def test_every_check_passes(job: Path, cli: Callable[..., Result]) -> None:
    code, found = doctor(cli)
    assert code == 0 and all(": ok" in line for line in found.values()), found
    assert found["names"] == "names: ok — 5 stage, group, label and product names, all in the account"
    assert found["time"].startswith("time: ok — a full run of 3 rows takes about 1 s at 10 requests/s: 2 request(s)")


def test_a_key_the_api_refuses(job: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "not-the-key")
    code, found = doctor(cli)
    assert code == 1
    assert found["key"] == (f"key: the API refused the key in {KEY_ENV} (401): copy the account's API key into "
                            f"secrets.env as {KEY_ENV}=…")
    assert found["names"] == "names: not checked: the key is not accepted (see above)"
    monkeypatch.delenv(KEY_ENV)
    assert doctor(cli)[1]["key"].startswith(f"key: {KEY_ENV} is not set: put {KEY_ENV}=<the account's API key> in")


def test_a_source_out_of_reach(job: Path, cli: Callable[..., Result]) -> None:
    job.write_text(job.read_text(encoding="utf-8").replace("source: exports/", "source: imports/"), encoding="utf-8")
    code, found = doctor(cli)
    assert code == 1 and found["source"].startswith("source: imports/: file not found — fix the job's source")
    assert found["time"] == "time: not estimated: the source could not be read (see above)"


def test_a_header_that_does_not_fit_the_mapping(job: Path, cli: Callable[..., Result]) -> None:
    drop(job.parent / "exports", "leads-2.csv", EXPORT.replace("First Name", "Given Name"), age=60)
    code, found = doctor(cli)
    assert code == 1 and "fields.first_name: column 'First Name' is not in leads-2.csv" in found["source"]


def test_a_stage_the_account_lacks(job: Path, cli: Callable[..., Result]) -> None:
    mapping = job.parent / "nightly.mapping.yaml"
    mapping.write_text(mapping.read_text(encoding="utf-8").replace("Won: Won", "Won: Wonn"), encoding="utf-8")
    code, found = doctor(cli)
    assert code == 1 and found["names"].startswith("names: unknown stage 'Wonn' (did you mean 'Won'?) — map ")


def test_a_state_another_run_holds(job: Path, cli: Callable[..., Result], fresh_sandbox: SandboxServer) -> None:
    from importer.run.stores.home import account_key, locate
    from importer.run.stores.lock import RunLock

    location = locate(None, account_key(fresh_sandbox.base_url, 42))
    assert location.path is not None
    with RunLock(location.path):
        code, found = doctor(cli)
    assert code == 1 and found["state"].startswith(f"state: another run is using {location.path}: pid {os.getpid()}")


def test_alert_targets_are_checked_and_a_test_alert_sent(job: Path, cli: Callable[..., Result],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    text = job.read_text(encoding="utf-8")
    job.write_text(text + "alerts: ['ftp://example.com/hook']\n", encoding="utf-8")
    code, found = doctor(cli)
    assert code == 1 and found["alerts"].startswith("alerts: ") and "— fix the job's alerts" in found["alerts"]
    with webhook() as (url, received):
        monkeypatch.setenv("HOOK_URL", url)
        job.write_text(text + "alerts: {targets: ['${HOOK_URL}'], on: always}\n", encoding="utf-8")
        code, found = doctor(cli, "--send-test-alert")
    assert code == 0, found
    assert found["alerts"].endswith("; a test message sent to each")
    assert len(received) == 1 and "test alert of job nightly" in received[0]["text"]


@contextmanager
def webhook() -> Iterator[tuple[str, list[dict[str, str]]]]:
    received: list[dict[str, str]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()
        server.server_close()
