"""Personal data at rest is its owner's: owner-only files whatever the umask, a group only when named, payloads kept
for a while, and a person forgotten on request — checked on the files themselves and in the sandbox."""

from __future__ import annotations

import grp
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.sandbox import SandboxServer
from tests.system.ledger_helpers import cli, notes_by_lead, phone, run_args, upserts, write_files

ROWS = 8
pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes and umask are POSIX's")


@pytest.fixture
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the usual server's: files -rw-r--r--, folders drwxr-xr-x
    yield
    os.umask(previous)


def modes(*tops: Path) -> dict[Path, int]:
    found = {}
    for top in tops:
        for path in [top, *top.rglob("*")]:
            found[path] = stat.S_IMODE(path.lstat().st_mode)
    return found


def test_nothing_the_tool_writes_can_be_read_by_others(keyed: SandboxServer, tmp_path: Path, state_home: Path,
                                                       usual_umask: None, capsys: pytest.CaptureFixture[str]) -> None:
    sheet, mapping = write_files(tmp_path / "files", ROWS)
    reports = tmp_path / "work" / "reports"
    for _ in range(2):
        assert cli(capsys, *run_args(sheet, mapping, keyed, "--report-dir", reports, "--log-file",
                                     tmp_path / "work" / "import.log"))[0] == 0
    assert cli(capsys, "validate", sheet, "-m", mapping, "--report-dir", reports, "--base-url", keyed.base_url)[0] == 0
    written = modes(tmp_path / "work", state_home / "states")
    assert len(written) > 20 and any(path.name == "before.jsonl" for path in written)
    readable = {str(path): oct(mode) for path, mode in written.items() if mode & 0o077}
    assert readable == {}
    assert (tmp_path / "files" / "leads.csv").stat().st_mode & 0o044  # the umask itself was the usual one


def test_another_account_of_the_machine_cannot_read_them(keyed: SandboxServer, usual_umask: None,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("creating another account of the machine needs root and useradd")
    subprocess.run(["useradd", "--no-create-home", "sf-other"], capture_output=True)  # exists already: fine
    base = Path(tempfile.mkdtemp(prefix="sf-privacy-"))  # a folder every account may enter, as /srv/leads is
    try:
        base.chmod(0o755)
        monkeypatch.setenv("SF_HOME", str(base / "home"))
        sheet, mapping = write_files(base / "files", ROWS)
        code, lines, _ = cli(capsys, *run_args(sheet, mapping, keyed, "--report-dir", base / "reports"))
        run_folder = Path(lines[-1].removeprefix("report: "))
        (state,) = (base / "home" / "states").glob("*.sqlite")
        for secret in (state, run_folder / "successes.csv", base / "reports" / "journal.sqlite"):
            other = subprocess.run(["runuser", "-u", "sf-other", "--", "cat", str(secret)], capture_output=True,
                                   text=True)
            assert other.returncode != 0 and "Permission denied" in other.stderr, secret
        readable = subprocess.run(["runuser", "-u", "sf-other", "--", "cat", str(sheet)], capture_output=True)
        assert readable.returncode == 0  # the same account reads a file the tool did not write
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_group_reads_the_reports_only_when_named(keyed: SandboxServer, tmp_path: Path, usual_umask: None,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    sheet, mapping = write_files(tmp_path / "files", ROWS)
    group = grp.getgrgid(os.getgid()).gr_name
    code, lines, _ = cli(capsys, *run_args(sheet, mapping, keyed, "--report-dir", tmp_path / "reports",
                                           "--shared-group", group))
    folder = Path(lines[-1].removeprefix("report: "))
    assert code == 0 and stat.S_IMODE(folder.stat().st_mode) == 0o750
    assert {oct(mode) for path, mode in modes(folder).items() if path != folder} == {"0o640"}
    code, _, err = cli(capsys, *run_args(sheet, mapping, keyed, "--shared-group", "no-such-group-here"))
    assert (code, err) == (2, "superfone-import: error: --shared-group no-such-group-here: no such group on this "
                              "machine\n")


def test_a_report_folder_others_can_read_gets_one_warning(keyed: SandboxServer, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    sheet, mapping = write_files(tmp_path / "files", ROWS)
    reports = tmp_path / "shared-reports"
    reports.mkdir(mode=0o755)
    reports.chmod(0o755)
    warnings = []
    for _ in range(2):
        code, _, err = cli(capsys, *run_args(sheet, mapping, keyed, "--report-dir", reports))
        warnings += [line for line in err.splitlines() if "can be read by other accounts" in line]
    assert warnings == [f"superfone-import: warning: {reports} can be read by other accounts of this machine "
                        f"(mode 755): the run folders "
                        f"inside are not, but `chmod o-rwx {reports}` keeps their names from them too"]


def test_payloads_are_kept_for_keep_payloads_days(keyed: SandboxServer, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    sheet, mapping = write_files(tmp_path / "files", ROWS)
    reports = tmp_path / "reports"
    checked = Path(cli(capsys, "validate", sheet, "-m", mapping, "--report-dir", reports, "--offline")[1][-1][8:])
    first = Path(cli(capsys, *run_args(sheet, mapping, keyed, "--report-dir", reports))[1][-1][8:])
    assert (checked / "payloads.jsonl").is_file() and (first / "before.jsonl").is_file()
    write_files(tmp_path / "files", ROWS, {1: "Agra"})
    code, lines, _ = cli(capsys, *run_args(sheet, mapping, keyed, "--report-dir", reports))
    assert code == 0 and (first / "before.jsonl").is_file()  # 30 days by default
    code, lines, _ = cli(capsys, *run_args(sheet, mapping, keyed, "--report-dir", reports, "--keep-payloads", "0",
                                           "--full"))
    third = Path(lines[-1][8:])
    assert code == 0 and not (first / "before.jsonl").exists() and not (checked / "payloads.jsonl").exists()
    assert (first / "successes.csv").is_file() and (checked / "issues.csv").is_file()
    assert (third / "before.jsonl").is_file()  # the run writing its report keeps its own
    assert json.loads((third / "summary.json").read_text(encoding="utf-8"))["payloads_removed"] == 3


def test_state_forget_removes_a_person_and_the_next_run_sends_them_afresh(
        keyed: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state_home: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    sheet, mapping = write_files(tmp_path / "files", ROWS)
    monkeypatch.chdir(tmp_path)
    gone, kept = phone(3), phone(4)
    assert cli(capsys, *run_args(sheet, mapping, keyed))[0] == 0
    code, lines, _ = cli(capsys, "state", "forget", "098450 00003", "--base-url", keyed.base_url)
    (state,) = (state_home / "states").glob("*.sqlite")
    assert code == 0 and lines[0] == f"forgotten in {state}: 1 lead record(s), 1 note(s) of the ledger"
    (backup,) = Path(f"{state}.backups").glob("*.sqlite")  # the backup made after the run forgets them too
    assert lines[1] == f"forgotten in {backup}: 1 lead record(s), 1 note(s) of the ledger"
    assert lines[2] == f"forgotten in {tmp_path / 'reports' / 'journal.sqlite'}: 1 before-image(s), 0 task record(s)"
    held = [line for line in lines if line.startswith("still held: ")]
    assert {Path(line.split(": ", 1)[1].rsplit(" (", 1)[0]).name for line in held} >= {"successes.csv",
                                                                                       "before.jsonl"}
    assert lines[-1] == ("1 phone(s) forgotten by this tool; not erased: the leads in Superfone itself (the "
                         "Enterprise API cannot delete a lead): delete them in the Superfone app")
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT count(*) FROM lead WHERE phone = ?", (gone,)).fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM lead WHERE phone = ?", (kept,)).fetchone()[0] == 1
    with sqlite3.connect(tmp_path / "reports" / "journal.sqlite") as db:
        assert db.execute("SELECT count(*) FROM before_image WHERE phone = ?", (gone,)).fetchone()[0] == 0
    assert gone.encode() not in state.read_bytes() + backup.read_bytes()  # wiped, not only unlinked from the index
    code, lines, _ = cli(capsys, "state", "forget", gone, "--purge-reports", "--base-url", keyed.base_url)
    rewritten = [Path(line.split(": ", 1)[1].rsplit(" (", 1)[0]) for line in lines if line.startswith("rewritten")]
    assert code == 0 and rewritten
    assert all(gone[3:] not in path.read_text(encoding="utf-8-sig") for path in rewritten)
    assert all(kept[3:] in path.read_text(encoding="utf-8-sig") for path in rewritten if path.suffix == ".csv")
    keyed.delete_lead(gone)  # as the person asked, in the Superfone app
    keyed.clear_requests()
    code, lines, _ = cli(capsys, *run_args(sheet, mapping, keyed))
    assert code == 0 and f"1 succeeded, 0 failed, 0 in doubt, 0 skipped, {ROWS - 1} unchanged" in lines[0]
    assert upserts(keyed) == 1 and notes_by_lead(keyed)[gone] == ["Imported: called on day 3"]


def test_state_forget_names_a_bad_phone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "state", "forget", "12345", "--state", tmp_path / "s.sqlite")
    assert (code, err) == (2, "superfone-import: error: state forget: '12345' is not a phone number ('12345' is not "
                              "a valid phone number for region IN)\n")


def test_the_pages_uploads_and_runs_are_their_owners(keyed: SandboxServer, tmp_path: Path, usual_umask: None) -> None:
    from importer.ui.server import UiServer
    from tests.ui.client import PageClient
    from tests.ui.conftest import page_settings

    sheet, mapping = write_files(tmp_path / "files", ROWS)
    with UiServer(page_settings(tmp_path / "work", keyed, state=None)) as server:
        page = PageClient(server)
        upload = page.upload(sheet)
        (tmp_path / "work" / "imports" / upload / "mapping.yaml").write_text(mapping.read_text(encoding="utf-8"),
                                                                             encoding="utf-8")
        assert page.run(upload, "send").status["state"] == "done"
        page.close()
    written = modes(tmp_path / "work")
    assert any(path.name == "leads.csv" for path in written) and any(path.name == "report.html" for path in written)
    assert {str(path): oct(mode) for path, mode in written.items()
            if mode & 0o077 and path.name != "mapping.yaml"} == {}  # the test wrote that one itself


def test_state_forget_takes_the_phones_of_a_sheet(keyed: SandboxServer, tmp_path: Path, state_home: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    sheet, mapping = write_files(tmp_path / "files", ROWS)
    monkeypatch.chdir(tmp_path)
    assert cli(capsys, *run_args(sheet, mapping, keyed))[0] == 0
    asked = tmp_path / "erase.csv"
    asked.write_text("Name,Mobile\nLead 1,+91 98450 00001\nLead 2,9845000002\n", encoding="utf-8")
    code, lines, _ = cli(capsys, "state", "forget", "--file", asked, "--base-url", keyed.base_url)
    assert code == 0 and lines[0].endswith(": 2 lead record(s), 2 note(s) of the ledger")
    assert lines[-1].startswith("2 phone(s) forgotten by this tool; ")
    code, _, err = cli(capsys, "state", "forget", "--file", asked, "--column", "Phone")
    assert (code, err) == (2, f"superfone-import: error: {asked}: no column 'Phone'\n")
