"""--max-wait and --time-limit on the command line: their parsing, and exit code 3 with its one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from importer.cli.commands import main
from tests.cli.test_commands import EXAMPLE, SAMPLE
from tests.run.test_apply import apply, make_plan


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--time-limit", "5x", "expected a duration like 6h, 45m, 90s or 1h30m, got '5x'"),
    ("--time-limit", "0", "a duration must be more than 0"),
    ("--max-wait", "-1", "must be 0 or more seconds, got -1"),
    ("--max-wait", "soon", "expected a number of seconds, got 'soon'"),
])
def test_bad_values_are_one_line_and_exit_2(capsys, tmp_path: Path, flag: str, value: str, message: str) -> None:
    code, lines, err = run_cli(capsys, "run", str(SAMPLE), "-m", str(EXAMPLE), "--report-dir", str(tmp_path),
                               flag, value)
    assert code == 2 and lines == []
    assert err.count("\n") == 1 and message in err and flag in err


def test_the_flags_are_on_every_command_that_talks_to_the_api(capsys) -> None:
    for command in ("run", "validate", "verify"):
        assert main([command, "--help"]) == 0
        out = capsys.readouterr().out
        assert "--max-wait SECONDS" in out and "--time-limit DURATION" in out


def test_a_quota_length_retry_after_stops_the_run_with_exit_3(capsys, fresh_sandbox, tmp_path: Path,
                                                              monkeypatch) -> None:
    fresh_sandbox.configure(throttle=1.0, throttle_retry_after=3600.0)
    monkeypatch.setenv("SF_API_KEY", fresh_sandbox.api_key)
    code, lines, err = run_cli(capsys, "run", str(SAMPLE), "-m", str(EXAMPLE), "--report-dir", str(tmp_path),
                               "--base-url", fresh_sandbox.base_url, "--max-wait", "60")
    assert code == 3, (lines, err)
    assert lines[-2] == ("stopped (quota): the API asked to wait 3600 s (Retry-After), more than --max-wait 60 s; "
                         "21 rows left unsent: run the same command again once that wait is over (or raise "
                         "--max-wait) to send the rest")
    summary = json.loads((Path(lines[-1].removeprefix("report: ")) / "summary.json").read_text(encoding="utf-8"))
    assert (summary["stopped"], summary["rows_left"], summary["sent"], summary["succeeded"]) == ("quota", 21, 0, 0)
    assert [e["status"] for e in fresh_sandbox.requests() if e["method"] == "POST"] == [429]


def test_a_time_limit_that_cannot_fit_is_warned_about_then_stops_the_run(capsys, fresh_sandbox, tmp_path: Path,
                                                                         monkeypatch) -> None:
    monkeypatch.setenv("SF_API_KEY", fresh_sandbox.api_key)
    code, lines, err = run_cli(capsys, "run", str(SAMPLE), "-m", str(EXAMPLE), "--report-dir", str(tmp_path),
                               "--base-url", fresh_sandbox.base_url, "--rate", "4", "--time-limit", "1.5s")
    assert code == 3, (lines, err)
    assert ("superfone-import: warning: 21 rows to send at 4 requests/s take about 5.25s, more than --time-limit "
            "1.5s: the run will stop before the end (run it again to send the rest)") in err
    assert lines[-2].startswith("stopped (time-limit): the time limit of 1.5s is spent; ")


def test_apply_takes_the_flags_and_a_spent_quota_stops_it_with_exit_3(capsys, fresh_sandbox, tmp_path: Path,
                                                                     monkeypatch) -> None:
    plan = make_plan(fresh_sandbox, tmp_path, monkeypatch)
    capsys.readouterr()
    fresh_sandbox.configure(quota_after=0)
    code = main(["apply", str(plan), "--report-dir", str(tmp_path / "reports"), "--quiet", "--rate", "1000",
                 "--max-wait", "1", "--time-limit", "10m"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 3, lines
    assert lines[-2].startswith("stopped (quota): the API asked to wait 3600 s (Retry-After), more than --max-wait 1 s")
    fresh_sandbox.configure(quota_after=None)
    assert apply(plan, tmp_path / "reports") == 1  # the rest goes out; the planned conflict fails, as planned
