"""The command line: output, report folder and exit codes of validate / run, and one-line fatal errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from importer.cli.commands import main
from importer.run.context.options import NullProgress

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "leads.csv"
EXAMPLE = ROOT / "mappings" / "example.yaml"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def report_of(lines: list[str]) -> Path:
    assert lines[-1].startswith("report: "), lines
    return Path(lines[-1].removeprefix("report: "))


def summary_of(lines: list[str]) -> dict:
    return json.loads((report_of(lines) / "summary.json").read_text(encoding="utf-8"))


def test_validate_offline_reports_each_bad_row_and_exits_1(capsys, tmp_path: Path) -> None:
    code, lines, err = run_cli(capsys, "validate", str(SAMPLE), "-m", str(EXAMPLE), "--offline",
                               "--report-dir", str(tmp_path))
    assert code == 1 and err == ""
    assert lines[0] == "leads.csv: 24 rows: 22 valid, 2 invalid, 4 warnings (dry run, nothing sent)"
    assert lines[1] == "top errors: invalid-phone ×1, lossy-excel-number ×1"  # row 22's 1.5L is an amount
    summary = summary_of(lines)
    assert (summary["rows_total"], summary["valid"], summary["invalid"], summary["skipped"]) == (24, 22, 2, 1)
    assert summary["dry_run"] is True and summary["catalog_checked"] is False and summary["sent"] == 0
    folder = report_of(lines)
    issues = (folder / "issues.csv").read_text(encoding="utf-8-sig").splitlines()
    assert issues[0] == "_row,column,severity,code,message,value"
    assert any(line.startswith("7,Phone,error,invalid-phone,") for line in issues)
    payloads = [json.loads(line) for line in (folder / "payloads.jsonl").read_text().splitlines()]
    assert len(payloads) == 21  # 22 valid rows, one of them an earlier duplicate that is not sent
    assert payloads[0]["_row"] == 2 and payloads[0]["payload"]["customer_phone"] == "+918000000001"
    assert 3 not in {p["_row"] for p in payloads}


def test_validate_a_clean_sheet_exits_0(capsys, tmp_path: Path) -> None:
    sheet = tmp_path / "clean.csv"
    sheet.write_text("Phone,First Name\n98450 12345,Asha\n+91 99000 12345,Ravi\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("version: 1\nfields:\n  customer_phone: Phone\n  first_name: First Name\n")
    code, lines, _ = run_cli(capsys, "validate", str(sheet), "-m", str(mapping), "--offline",
                             "--report-dir", str(tmp_path / "r"))
    assert code == 0
    assert lines[0] == "clean.csv: 2 rows: 2 valid, 0 invalid, 0 warnings (dry run, nothing sent)"


def test_validate_against_the_account_checks_names(capsys, tmp_path: Path, fresh_sandbox, monkeypatch) -> None:
    monkeypatch.setenv("SF_API_KEY", fresh_sandbox.api_key)
    code, lines, _ = run_cli(capsys, "validate", str(SAMPLE), "-m", str(EXAMPLE), "--base-url",
                             fresh_sandbox.base_url, "--report-dir", str(tmp_path))
    assert code == 1
    summary = summary_of(lines)
    assert summary["catalog_checked"] is True
    # a stage or group the API would refuse is left out of its row (on_invalid: drop), with a warning
    assert summary["warnings_by_code"]["unknown-stage"] == 1 and summary["warnings_by_code"]["duplicate-group"] == 1
    assert summary["warnings_by_code"]["unknown-label"] == 1
    issues = (report_of(lines) / "issues.csv").read_text(encoding="utf-8-sig")
    assert "did you mean 'Proposal'?" in issues
    assert all(entry["method"] == "GET" for entry in fresh_sandbox.requests())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["validate", "missing.csv", "-m", str(EXAMPLE)], "missing.csv"),
        (["validate", str(SAMPLE), "-m", "missing.yaml"], "missing.yaml"),
        (["run", str(SAMPLE), "-m", str(EXAMPLE), "--rate", "0"], "--rate"),
        (["run", str(SAMPLE), "-m", str(EXAMPLE), "--on-duplicate", "newest"], "--on-duplicate"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(capsys, tmp_path: Path, monkeypatch, args, expected) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and expected in err
    assert "Traceback" not in err


def test_mapping_naming_a_missing_column_exits_2_with_a_suggestion(capsys, tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("version: 1\nfields:\n  customer_phone: Phone Number\n")
    code, lines, err = run_cli(capsys, "validate", str(SAMPLE), "-m", str(mapping), "--report-dir", str(tmp_path))
    assert code == 2 and lines == []
    assert "m.yaml:3" in err and "Phone Number" in err and "did you mean 'Phone'" in err
    assert not list(tmp_path.glob("*/summary.json"))


def test_real_run_without_a_key_exits_2_before_reading_anything(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SF_API_KEY", raising=False)
    code, lines, err = run_cli(capsys, "run", str(SAMPLE), "-m", str(EXAMPLE), "--report-dir", str(tmp_path))
    assert code == 2 and "SF_API_KEY is not set" in err and lines == []


def test_wrong_key_stops_after_the_first_request(capsys, tmp_path: Path, fresh_sandbox, monkeypatch) -> None:
    monkeypatch.setenv("SF_API_KEY", "wrong-key-canary")
    code, _, err = run_cli(capsys, "run", str(SAMPLE), "-m", str(EXAMPLE), "--base-url", fresh_sandbox.base_url,
                           "--report-dir", str(tmp_path))
    assert code == 2 and "UnAuthorized" in err and "wrong-key-canary" not in err
    assert len(fresh_sandbox.requests()) == 1


def test_a_key_revoked_mid_run_stops_and_prints_the_report_folder(capsys, tmp_path: Path, fresh_sandbox,
                                                                   monkeypatch) -> None:
    def revoke_when_sending_starts(self, phase: str, total: int | None) -> None:
        if phase == "sending":  # the catalog was read with the key; now the account revokes it
            state = fresh_sandbox._sandbox
            state.config = dataclasses.replace(state.config, api_key="revoked")

    monkeypatch.setattr(NullProgress, "start", revoke_when_sending_starts)
    monkeypatch.setenv("SF_API_KEY", fresh_sandbox.api_key)
    code, lines, err = run_cli(capsys, "run", str(SAMPLE), "-m", str(EXAMPLE), "--base-url", fresh_sandbox.base_url,
                               "--report-dir", str(tmp_path))
    assert code == 2 and err.startswith("superfone-import: error: UnAuthorized")
    summary = summary_of(lines)  # the last line names the run folder, whose summary says why it stopped
    # the run's first request is the read before the first write: refused, so nothing at all was sent
    assert summary["stopped"].startswith("UnAuthorized") and summary["sent"] == 0 and summary["failed"] == 1


def test_a_full_failures_workbook_is_reported(capsys, tmp_path: Path, fresh_sandbox, monkeypatch) -> None:
    monkeypatch.setattr("importer.report.writer.XLSX_MAX_ROWS", 2)  # a worksheet's limit, scaled down
    monkeypatch.setenv("SF_API_KEY", fresh_sandbox.api_key)
    code, lines, _ = run_cli(capsys, "run", str(SAMPLE.with_suffix(".xlsx")), "-m", str(EXAMPLE), "--base-url",
                             fresh_sandbox.base_url, "--report-dir", str(tmp_path))
    assert code == 1
    assert "note: failures.xlsx is full (a worksheet holds 1,048,575 rows): failures.csv has every failure" in lines
    assert summary_of(lines)["failures_xlsx_truncated"] is True
    failures = (report_of(lines) / "failures.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(failures) - 1 == 5  # 2 invalid and 3 refused rows, all in the CSV


def test_run_sandbox_shows_the_whole_journey(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    code, lines, _ = run_cli(capsys, "run", str(SAMPLE), "-m", str(EXAMPLE), "--sandbox", "--rate", "200",
                             "--report-dir", str(tmp_path))
    assert code == 1
    assert lines[1] == "leads.csv: 24 rows: 18 succeeded, 3 failed, 0 in doubt, 1 skipped, 2 invalid; 7 warnings"
    summary = summary_of(lines)
    assert summary["rows_total"] == sum(summary[k] for k in ("succeeded", "failed", "in_doubt", "skipped", "invalid"))
    failures = (report_of(lines) / "failures.csv").read_text(encoding="utf-8-sig")
    assert "Assignee user is not part of your team" in failures
    assert "Customer phone exists in multiple contact" in failures


def test_mapping_suggest_prints_a_loadable_mapping(capsys, tmp_path: Path) -> None:
    from importer.mapping import load_mapping

    code, lines, _ = run_cli(capsys, "mapping", "suggest", str(SAMPLE))
    assert code == 0
    path = tmp_path / "suggested.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.column_for("customer_phone") == "Phone"
