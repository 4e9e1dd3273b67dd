"""Job files whose sheet lives elsewhere: S3 (moto's server) and SFTP (asyncssh), picked, imported once and archived
there; https on loopback and Google Sheets (the sandbox's endpoints), synced night after night."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from importer.sandbox import SandboxServer
from tests.jobs.conftest import Result, job_text, serve, sheet
from tests.sources.locate.test_gsheets import SHEET_ID, secrets_of
from tests.sources.locate.test_s3 import BUCKET, KEY_ID, SECRET, keys, put
from tests.sources.locate.test_sftp import PASSWORD

PHONES = ("+919700000601", "+919700000602")


def everything(workdir: Path, *results: Result) -> str:
    texts = [result.out + result.err for result in results]
    texts += [path.read_text(encoding="utf-8", errors="replace") for path in workdir.rglob("*") if path.is_file()]
    return "\n".join(texts)


def test_an_s3_job_end_to_end(s3: Any, workdir: Path, fresh_sandbox: SandboxServer,
                              cli: Callable[..., Result]) -> None:
    put(s3, "exports/leads-1.csv", sheet(*PHONES).encode())
    (workdir / "nightly.yaml").write_text(job_text(fresh_sandbox, f"s3://{BUCKET}/exports/", settle="0",
                                                   after="{move_to: done}", log_file="sync.log"), encoding="utf-8")
    first = cli("sync", "nightly.yaml")
    assert first.code == 0, first.err
    assert first.lines[0].startswith("leads-1.csv: 2 rows: 2 succeeded")
    assert first.lines[-1] == f"moved s3://{BUCKET}/exports/leads-1.csv to s3://{BUCKET}/exports/done/leads-1.csv"
    assert keys(s3) == {"exports/done/leads-1.csv"}
    put(s3, "exports/leads-2.csv", sheet(*PHONES).encode())  # the same content again, under another name
    fresh_sandbox.clear_requests()
    second = cli("sync", "nightly.yaml")
    assert second.code == 0 and second.lines[0].startswith("no new file for job nightly since ")
    assert fresh_sandbox.requests() == [] and "exports/leads-2.csv" in keys(s3)
    text = everything(workdir, first, second)
    assert SECRET not in text and KEY_ID not in text


def test_an_sftp_job_end_to_end(sftp: dict[str, Any], workdir: Path, fresh_sandbox: SandboxServer,
                                cli: Callable[..., Result], monkeypatch: Any) -> None:
    server = sftp["server"]
    serve(server, "/drop/leads-1.csv", sheet(PHONES[0]).encode(), age=7200)
    serve(server, "/drop/leads-2.csv", sheet(*PHONES).encode(), age=3600)
    monkeypatch.setenv("SF_SFTP_PASSWORD", PASSWORD)  # offered to the server after the key: never shown
    (workdir / "nightly.yaml").write_text(job_text(fresh_sandbox, server.url("/drop/leads-*.csv"),
                                                   after="{move_to: /archive}", log_file="sync.log"),
                                          encoding="utf-8")
    first = cli("sync", "nightly.yaml")
    assert first.code == 0, first.err
    assert first.lines[0].startswith("leads-2.csv: 2 rows: 2 succeeded")
    assert (server.root / "archive" / "leads-2.csv").is_file() and not (server.root / "drop/leads-2.csv").exists()
    fresh_sandbox.clear_requests()
    second = cli("sync", "nightly.yaml")  # leads-1.csv is the newest now: a file not imported yet
    assert second.code == 0 and second.lines[0].startswith("leads-1.csv: 1 rows: 0 succeeded")
    fresh_sandbox.clear_requests()
    third = cli("sync", "nightly.yaml")
    assert third.code == 0 and third.lines[0].startswith("no new file for job nightly since ")
    assert fresh_sandbox.requests() == []
    text = everything(workdir, first, second, third)
    assert PASSWORD not in text and not any(line in text for line in sftp["key_lines"])


def posts(server: SandboxServer) -> int:
    return sum(1 for entry in server.requests() if entry["method"] == "POST")


def test_an_https_job_end_to_end(files: str, workdir: Path, fresh_sandbox: SandboxServer,
                                 cli: Callable[..., Result]) -> None:
    (workdir / "nightly.yaml").write_text(job_text(fresh_sandbox, f"{files}/files/leads.csv.gz"), encoding="utf-8")
    first = cli("sync", "nightly.yaml")
    assert first.code == 0 and first.lines[0].startswith("leads.csv.gz: 2 rows: 2 succeeded"), first.out + first.err
    fresh_sandbox.clear_requests()
    second = cli("sync", "nightly.yaml")  # the same export the next night: read again, nothing changed
    assert second.code == 0 and "2 unchanged" in second.lines[0] and posts(fresh_sandbox) == 0


def test_a_google_sheets_job_end_to_end(google: dict[str, Any], workdir: Path, cli: Callable[..., Result]) -> None:
    server = google["server"]
    (workdir / "nightly.yaml").write_text(job_text(server, f"gsheets://{SHEET_ID}/Leads"), encoding="utf-8")
    first = cli("sync", "nightly.yaml")
    assert first.code == 0 and first.lines[0].startswith("Leads: 2 rows: 2 succeeded"), first.out + first.err
    server.clear_requests()
    second = cli("sync", "nightly.yaml")
    assert second.code == 0 and "2 unchanged" in second.lines[0] and posts(server) == 0
    text = everything(workdir, first, second)
    assert not any(secret in text for secret in secrets_of(google))
