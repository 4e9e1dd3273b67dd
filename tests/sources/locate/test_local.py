"""Local sources: globs and folders (newest file, settle), .gz and .zip, moving a picked file; how sources are
shown (no secrets) and what a bad one says."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from importer import Importer, RunOptions
from importer.errors import InputError, SourceNotReady
from importer.sandbox import SandboxServer
from importer.sources import locate_source, move_source, open_table
from importer.sources.locate import display_name, source_secrets
from tests.sources.locate.conftest import Outcome, leads_of, one_error_line, sheet_text

HOUR = 3600.0


def write(path: Path, text: str, age: float = HOUR) -> Path:
    """``path`` with ``text``, last modified ``age`` seconds ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    """Three exports: b is the newest by time, c the last by name; a note and a partial download beside them."""
    folder = tmp_path / "exports"
    write(folder / "leads-a.csv", sheet_text(("+919700000111",)), age=3 * HOUR)
    write(folder / "leads-b.csv", sheet_text(("+919700000112",)), age=1 * HOUR)
    write(folder / "leads-c.csv", sheet_text(("+919700000113",)), age=2 * HOUR)
    write(folder / "README.md", "not a sheet", age=60)
    write(folder / ".leads-d.csv", sheet_text(("+919700000114",)), age=60)
    return folder


def test_a_glob_runs_its_newest_file_end_to_end(exports: Path, fresh_sandbox: SandboxServer,
                                                cli: Callable[..., Outcome]) -> None:
    outcome = cli("run", str(exports / "leads-*.csv"), fresh_sandbox)
    assert outcome.code == 0, outcome.err
    assert "+919700000112" in leads_of(fresh_sandbox)
    assert not {"+919700000111", "+919700000113"} & leads_of(fresh_sandbox).keys()
    summary = json.loads((outcome.report() / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"] == str(exports / "leads-*.csv")  # as written: a glob stays a glob
    assert summary["source"]["file"] == str(exports / "leads-b.csv") and summary["source"]["kind"] == "local"
    assert outcome.report().name.endswith("-leads-b")


@pytest.mark.parametrize(("pattern", "pick", "expected"), [
    ("leads-*.csv", "mtime", "leads-b.csv"), ("leads-*.csv", "name", "leads-c.csv"),
    ("", "mtime", "leads-b.csv"),  # a folder: its newest sheet, hidden files and non-sheets aside
    ("", "name", "leads-c.csv"),
])
def test_pick_newest_or_last_by_name(exports: Path, pattern: str, pick: str, expected: str) -> None:
    source = str(exports / pattern) if pattern else str(exports)
    with locate_source(source, pick=pick, settle=60) as found:
        assert Path(found.location).name == expected and found.path == exports / expected
        assert found.kind == "local" and found.size == (exports / expected).stat().st_size
        assert found.modified is not None and abs(found.modified.timestamp() - (exports / expected).stat().st_mtime) < 1
        assert len(found.digest) == 64


def test_the_library_takes_pick_and_settle(exports: Path, fresh_sandbox: SandboxServer, tmp_path: Path,
                                           mapping: Path) -> None:
    options = RunOptions(base_url=fresh_sandbox.base_url, api_key=fresh_sandbox.api_key, report_dir=tmp_path / "r")
    result = Importer(str(exports / "leads-*.csv"), mapping, options, pick="name", settle=1).run()
    assert result.exit_code == 0 and result.summary["source"]["file"].endswith("leads-c.csv")
    assert "+919700000113" in leads_of(fresh_sandbox)


def test_a_located_file_runs_then_moves(tmp_path: Path, fresh_sandbox: SandboxServer, mapping: Path) -> None:
    """As a job runs it: locate, check the digest, run, then archive the file the run read."""
    packed = tmp_path / "drop" / "leads.csv.gz"
    packed.parent.mkdir()
    packed.write_bytes(gzip.compress(sheet_text(("+919700000131",)).encode()))
    options = RunOptions(base_url=fresh_sandbox.base_url, api_key=fresh_sandbox.api_key, report_dir=tmp_path / "r")
    with locate_source(tmp_path / "drop", settle=0) as found:
        result = Importer(found, mapping, options).run()
        assert found.path.is_file()  # the run did not remove the copy it was handed
        assert result.summary["source"]["digest"] == found.digest == hashlib.sha256(
            sheet_text(("+919700000131",)).encode()).hexdigest()  # the digest of what was read, unpacked
        assert result.summary["input"] == str(tmp_path / "drop")
        moved = move_source(found, tmp_path / "done")
    assert "+919700000131" in leads_of(fresh_sandbox)
    assert Path(moved) == tmp_path / "done" / "leads.csv.gz" and not packed.exists() and not found.path.exists()


def test_a_file_still_being_written_is_not_picked_yet(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    old = write(tmp_path / "drop" / "leads-1.csv", sheet_text(), age=HOUR)
    fresh = write(tmp_path / "drop" / "leads-2.csv", sheet_text(), age=0)
    with pytest.raises(SourceNotReady) as caught:
        locate_source(tmp_path / "drop", settle=1)
    assert 0 < caught.value.wait <= 1
    assert "leads-2.csv changed 0 s ago and may still be being written" in str(caught.value)
    line = one_error_line(cli("validate", str(tmp_path / "drop" / "*.csv")))  # the command line's settle: 60 s
    assert line.endswith("it is read once it has not changed for 60 s")
    time.sleep(1.1)
    with locate_source(tmp_path / "drop", settle=1) as found:
        assert found.path == fresh
    with locate_source(tmp_path / "drop", settle=60, now=fresh.stat().st_mtime + 61) as found:
        assert found.path == fresh and old.exists()
    with locate_source(fresh, settle=60) as found:  # a file named as it is: no settle
        assert found.path == fresh


def test_gz_and_zip_are_read_through(tmp_path: Path, fresh_sandbox: SandboxServer,
                                     cli: Callable[..., Outcome]) -> None:
    packed = tmp_path / "leads.csv.gz"
    packed.write_bytes(gzip.compress(sheet_text(("+919700000121",)).encode()))
    outcome = cli("run", str(packed), fresh_sandbox)
    assert outcome.code == 0, outcome.err
    assert "+919700000121" in leads_of(fresh_sandbox) and outcome.report().name.endswith("-leads")
    zipped = tmp_path / "export.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("__MACOSX/._leads.xlsx", b"resource fork")
        archive.writestr("leads.csv", sheet_text(("+919700000122",)))
    with open_table(zipped) as table:
        assert [row.cells["Phone"] for row in table.rows()] == ["+919700000122"]
        assert table.origin is not None and table.origin.location == str(zipped)
        unpacked = table.path
        assert unpacked.name == "leads.csv" and unpacked.exists()
    assert not unpacked.exists()


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("two.zip", None, "a .zip must hold exactly one sheet; two.zip holds 2 files (a.csv, b.csv)"),
    ("cut.csv.gz", gzip.compress(sheet_text(tuple(f"+9197{n:08}" for n in range(500))).encode(), mtime=0)[:900],
     "cut.csv.gz is not a valid gzip file (damaged or cut short)"),
    ("plain.csv.gz", b"Phone\n+919700000123\n", "plain.csv.gz is not a valid gzip file (damaged or cut short)"),
], ids=["zip-of-two", "gzip-cut-short", "not-gzip"])
def test_a_bad_archive_is_one_line(tmp_path: Path, cli: Callable[..., Outcome], name: str, content: bytes | None,
                                   expected: str) -> None:
    path = tmp_path / name
    if content is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("a.csv", "Phone\n1\n")
            archive.writestr("b.csv", "Phone\n2\n")
    else:
        path.write_bytes(content)
    assert one_error_line(cli("validate", str(path))) == f"superfone-import: error: {path}: {expected}"


def test_move_to_archives_the_picked_file(exports: Path, tmp_path: Path) -> None:
    with locate_source(exports / "leads-*.csv") as found:
        moved = move_source(found, tmp_path / "done")
    assert moved == str(tmp_path / "done" / "leads-b.csv") and Path(moved).is_file()
    assert not (exports / "leads-b.csv").exists()
    write(exports / "leads-b.csv", sheet_text(), age=HOUR)  # tomorrow's file, under the same name
    with locate_source(exports / "leads-*.csv") as found:
        again = move_source(found, tmp_path / "done")
    assert Path(again).parent == tmp_path / "done" and Path(again).name.startswith("leads-b-")
    assert Path(again).name.endswith(".csv") and len(list((tmp_path / "done").iterdir())) == 2


@pytest.mark.parametrize(("source", "shown", "hidden"), [
    ("https://user:pa55-CANARY@files.example.com/leads.csv?token=tok-CANARY&x=1#top",
     "https://user@files.example.com/leads.csv?token=***&x=***", ["pa55-CANARY", "tok-CANARY", "1"]),
    ("sftp://ops@sftp.example.com:2222/drop/*.csv", "sftp://ops@sftp.example.com:2222/drop/*.csv", []),
    ("s3://Leads-Bucket/exports/leads-*.csv", "s3://Leads-Bucket/exports/leads-*.csv", []),
    ("gsheets://1AbC/My%20Leads", "gsheets://1AbC/My%20Leads", []),
    ("exports/leads-*.csv", "exports/leads-*.csv", []),
    ("https://h/x.csv?sig=a%2Bb", "https://h/x.csv?sig=***", ["a%2Bb", "a+b"]),
])
def test_sources_are_shown_without_their_secrets(source: str, shown: str, hidden: list[str]) -> None:
    assert display_name(source) == shown
    assert set(hidden) <= set(source_secrets(source))
    for secret in hidden:
        if len(secret) > 3:
            assert secret not in shown


@pytest.mark.parametrize(("source", "expected"), [
    ("ftp://files.example.com/leads.csv", "ftp://files.example.com/leads.csv: unknown kind of source 'ftp://'; "
                                          "use a path, a glob, a folder, https://…, s3://bucket/key, "
                                          "sftp://user@host/path or gsheets://SPREADSHEET_ID"),
    ("nowhere/leads-*.csv", "nowhere/leads-*.csv: no file matches"),
    ("http://files.example.com/leads.csv", "http://files.example.com/leads.csv: http:// is accepted for loopback "
                                           "addresses only; use https://"),
    ("sftp://ops:secret-CANARY@sftp.example.com/leads.csv",
     "sftp://ops@sftp.example.com/leads.csv: a password in the address is refused; put it in SF_SFTP_PASSWORD"),
    ("s3://", "s3://: no bucket; write s3://BUCKET/KEY"),
    ("https://files.example.com:99999/leads.csv", "https://files.example.com:99999/leads.csv: not a valid address "
                                                  "(bad port)"),
])
def test_a_bad_source_is_one_line_naming_it(cli: Callable[..., Outcome], source: str, expected: str) -> None:
    outcome = cli("validate", source)
    assert one_error_line(outcome) == f"superfone-import: error: {expected}"
    assert "CANARY" not in outcome.err + outcome.out + outcome.logged


def test_a_missing_local_file_keeps_its_message(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^missing.csv.gz: file not found$"):
        locate_source("missing.csv.gz")
