"""One ledger per account: the same command from two folders, the page then the command line, and a state an
earlier version kept in the report folder — each time nothing is sent twice, notes above all (counted in the
sandbox)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from importer.sandbox import SandboxServer
from importer.ui.server import UiServer
from tests.system.ledger_helpers import assert_each_note_once, cli, run_args, upserts, write_files
from tests.ui.client import PageClient
from tests.ui.conftest import page_settings

ROWS = 30


def test_the_same_command_from_two_folders_sends_nothing_twice(keyed: SandboxServer, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch, state_home: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    sheet, mapping = write_files(tmp_path / "files", ROWS)
    sent = {}
    for folder in ("cron", "desk"):
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        keyed.clear_requests()
        code, lines, err = cli(capsys, *run_args(sheet, mapping, keyed))
        assert (code, err) == (0, ""), lines
        sent[folder] = upserts(keyed)
        assert not (tmp_path / folder / "reports" / "state.sqlite").exists()
    assert sent == {"cron": ROWS, "desk": 0}
    assert lines[0] == f"leads.csv: {ROWS} rows: 0 succeeded, 0 failed, 0 in doubt, 0 skipped, {ROWS} unchanged, " \
                       "0 invalid; 0 warnings"
    assert_each_note_once(keyed, ROWS)
    states = list((state_home / "states").glob("*.sqlite"))
    assert [path.name.startswith("127.0.0.1_") for path in states] == [True]  # one state, named by its account


def test_a_sheet_sent_from_the_page_is_not_sent_again_from_the_command_line(
        keyed: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    sheet, mapping = write_files(tmp_path / "files", ROWS)
    with UiServer(page_settings(tmp_path / "work", keyed, state=None)) as server:
        page = PageClient(server)
        upload = page.upload(sheet)
        page_mapping = tmp_path / "work" / "imports" / upload / "mapping.yaml"
        page_mapping.write_text(mapping.read_text(encoding="utf-8"), encoding="utf-8")
        sent = page.run(upload, "send")
        listed = page.get("/").text  # the page's recent runs, by job name
        page.close()
    assert '<td>run</td><td>mapping</td><td>leads.csv</td>' in listed.replace("\n", "").replace("      ", "")
    assert sent.status["state"] == "done" and upserts(keyed) == ROWS
    keyed.clear_requests()
    (tmp_path / "terminal").mkdir()
    monkeypatch.chdir(tmp_path / "terminal")
    code, lines, _ = cli(capsys, *run_args(sheet, page_mapping, keyed))
    assert code == 0 and f"{ROWS} unchanged" in lines[0]
    assert upserts(keyed) == 0
    assert_each_note_once(keyed, ROWS)


def test_a_state_an_earlier_version_kept_in_the_report_folder_is_merged_once(
        keyed: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    sheet, mapping = write_files(tmp_path / "files", ROWS)
    monkeypatch.chdir(tmp_path)
    old = tmp_path / "reports" / "state.sqlite"  # where versions before the per-account state kept it
    assert cli(capsys, *run_args(sheet, mapping, keyed, "--state", old))[0] == 0
    keyed.clear_requests()
    code, lines, _ = cli(capsys, *run_args(sheet, mapping, keyed))
    assert code == 0
    assert lines[0].startswith(f"state: merged {old.resolve()} (kept by an earlier version) into ")
    assert lines[0].endswith(f": 1 job(s), {ROWS} lead(s), {ROWS} note(s), 1 run(s)")
    assert f"{ROWS} unchanged" in lines[1] and upserts(keyed) == 0
    summary = json.loads((Path(lines[-1].removeprefix("report: ")) / "summary.json").read_text(encoding="utf-8"))
    assert summary["state_merged"] == [lines[0]]
    code, lines, _ = cli(capsys, *run_args(sheet, write_files(tmp_path / "files", ROWS, {0: "Agra"})[1], keyed))
    assert code == 0 and not any(line.startswith("state: merged") for line in lines)  # once only
    assert upserts(keyed) == 1  # the edited row, without its note
    assert_each_note_once(keyed, ROWS)
    code, lines, _ = cli(capsys, "history", "--json")
    runs = json.loads("\n".join(lines))
    assert [(run["job"], run["unchanged"]) for run in runs] == [("nightly", ROWS - 1), ("nightly", ROWS),
                                                               ("nightly", 0)]


def test_keep_runs_removes_the_oldest_finished_run_folders_only(
        keyed: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    sheet, mapping = write_files(tmp_path / "files", 10)
    other, _ = write_files(tmp_path / "other", 60)
    reports = tmp_path / "reports"
    first = cli(capsys, *run_args(sheet, mapping, keyed, "--report-dir", reports))[1][-1].removeprefix("report: ")
    keyed.configure(quota_after=5, quota_retry_after=3600)  # the next run stops: its folder is still needed
    code, lines, _ = cli(capsys, *run_args(other, mapping, keyed, "--report-dir", reports, "--max-wait", "1",
                                           "--concurrency", "1"))
    stopped = lines[-1].removeprefix("report: ")
    assert code == 3
    keyed.configure(quota_after=None)
    folders = [cli(capsys, *run_args(sheet, mapping, keyed, "--report-dir", reports, "--keep-runs", "1"))[1][-1]
               .removeprefix("report: ") for _ in range(3)]
    left = sorted(str(path) for path in reports.iterdir() if path.is_dir())
    assert left == sorted([stopped, folders[-1]])
    assert not Path(first).exists() and (reports / "journal.sqlite").is_file()


def test_state_check_backup_and_export(keyed: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       state_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    summaries = []
    for edited in ({}, {1: "Delhi"}, {}, {}, {}):  # the last two nights change nothing
        sheet, mapping = write_files(tmp_path / "files", ROWS, edited)
        code, lines, _ = cli(capsys, *run_args(sheet, mapping, keyed))
        assert code == 0
        summaries.append(json.loads((Path(lines[-1].removeprefix("report: ")) / "summary.json").read_text()))
    code, lines, _ = cli(capsys, "state", "where", "--base-url", keyed.base_url)
    state = Path(lines[0].rpartition(": ")[2])
    assert code == 0 and state.parent == state_home / "states" and state.is_file()
    backups = sorted(Path(f"{state}.backups").glob("*.sqlite"))
    assert len(backups) == 3  # one after each run that changed the state
    kept = [(summary["state_backup"], summary.get("state_backup_kept", False)) for summary in summaries]
    assert [flag for _, flag in kept] == [False, False, False, True, True]
    assert kept[-1][0] == str(backups[-1]) and not Path(kept[2][0]).exists()  # renamed for the last run
    code, lines, _ = cli(capsys, "state", "check", "--base-url", keyed.base_url)
    assert code == 0 and lines[0] == (f"state {state}: ok (format version 1; integrity checked): 1 job(s), 5 run(s), "
                                      f"{ROWS} lead(s), {ROWS} note(s)")
    code, lines, _ = cli(capsys, "state", "backup", str(tmp_path / "copy.sqlite"), "--base-url", keyed.base_url)
    assert code == 0
    with sqlite3.connect(tmp_path / "copy.sqlite") as copy:
        assert copy.execute("SELECT count(*) FROM lead").fetchone()[0] == ROWS
    code, lines, _ = cli(capsys, "state", "export", "--state", str(tmp_path / "copy.sqlite"))
    kinds = [json.loads(line)["type"] for line in lines]
    assert code == 0 and kinds == ["job"] + ["run"] * 5 + ["lead"] * ROWS + ["note"] * ROWS
    assert json.loads(lines[6])["fields"]["city"] == "Pune"


def test_a_damaged_state_is_named_by_state_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    damaged = tmp_path / "state.sqlite"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x17" * 4000)
    code, lines, err = cli(capsys, "state", "check", "--state", str(damaged))
    assert code == 2 and lines == []
    assert err.startswith(f"superfone-import: error: {damaged}") and err.count("\n") == 1
    code, _, err = cli(capsys, "state", "check", "--state", str(tmp_path / "none.sqlite"))
    assert code == 2 and err == f"superfone-import: error: no sync state at {tmp_path / 'none.sqlite'}: no real " \
                                "run has written one yet\n"


def test_where_and_check_before_any_run(state_home: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SF_API_KEY", raising=False)
    code, lines, _ = cli(capsys, "state", "where")
    assert (code, lines) == (0, [f"no state yet in {state_home / 'states'}: the first real run of an account creates "
                                 "its own there (with SF_API_KEY set, this names the account's file)"])
    code, _, err = cli(capsys, "state", "check")
    assert (code, err) == (2, f"superfone-import: error: no sync state at {state_home / 'states'}: no real run has "
                              "written one yet\n")
