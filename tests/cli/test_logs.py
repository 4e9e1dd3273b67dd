"""--log-file and -v: the lines an unattended run leaves, and never a secret among them."""

from __future__ import annotations

import logging
import re
import socket
from pathlib import Path

import pytest

from importer.api.retry import RetryPolicy
from importer.cli.commands import main
from importer.cli.logs import run_logging

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "leads.csv"
EXAMPLE = ROOT / "mappings" / "example.yaml"
SMTP_PASSWORD = "smtp-CANARY-pw-5c1d"
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"


def run(capsys: pytest.CaptureFixture[str], sandbox, *extra: str) -> tuple[int, str, str]:
    code = main(["run", str(SAMPLE), "-m", str(EXAMPLE), "--base-url", sandbox.base_url, "--rate", "200", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def key(fresh_sandbox, monkeypatch) -> str:
    monkeypatch.setenv("SF_API_KEY", fresh_sandbox.api_key)
    monkeypatch.delenv("SF_SMTP_URL", raising=False)
    return fresh_sandbox.api_key


def test_the_log_file_gets_start_and_end_lines_and_is_appended(capsys, tmp_path, fresh_sandbox, key) -> None:
    log = tmp_path / "logs" / "nightly.log"
    code, out, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path / "r"), "--log-file", str(log))
    assert code == 1 and err == ""
    folder = out.splitlines()[-1].removeprefix("report: ")
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[0] == lines[0][:29] + (f" INFO importer.cli: run start: input {SAMPLE}, mapping {EXAMPLE}, real run, "
                                        f"base URL {fresh_sandbox.base_url}")
    assert re.fullmatch(STAMP, lines[0][:29])
    assert lines[-1].endswith(" INFO importer.cli: run end: leads.csv: 24 rows: 18 succeeded, 3 failed, 0 in doubt, "
                              f"1 skipped, 2 invalid; 7 warnings — exit 1 — report: {folder}")
    assert not any(" DEBUG " in line for line in lines)
    assert run(capsys, fresh_sandbox, "--report-dir", str(tmp_path / "r"), "--log-file", str(log), "--dry-run")[0] == 1
    again = log.read_text(encoding="utf-8").splitlines()
    assert again[:len(lines)] == lines and ", dry run, base URL " in again[len(lines)]


def test_retries_and_429s_are_logged_with_row_attempt_reason_and_delay(capsys, tmp_path, fresh_sandbox, key,
                                                                       monkeypatch) -> None:
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.01)  # the 503s' jittered waits, shortened
    fresh_sandbox.configure(throttle=0.3, throttle_retry_after=0.01, fail_before=0.15, fault_seed=1)
    log = tmp_path / "run.log"
    code, _, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path), "--log-file", str(log))
    assert code == 1 and err == ""  # the terminal shows no retry line
    text = log.read_text(encoding="utf-8")
    throttled = re.findall(r" INFO importer\.api\.retry: row \d+: throttled \(429\) on attempt \d+ "
                           r"\(HTTP 429: Too many requests\); (retrying in 0\.01 s|giving up)$", text, re.M)
    failed = re.findall(r" INFO importer\.api\.retry: row \d+: attempt \d+ failed \(HTTP 503: Service temporarily "
                        r"unavailable\); (retrying in 0\.01 s|giving up)$", text, re.M)
    assert throttled and failed
    assert len([entry for entry in fresh_sandbox.requests() if entry["status"] in (429, 503)]) == \
        len(throttled) + len(failed)


def test_a_fatal_error_is_logged_without_the_key(capsys, tmp_path, fresh_sandbox, monkeypatch) -> None:
    monkeypatch.setenv("SF_API_KEY", "wrong-key-CANARY")
    log = tmp_path / "run.log"
    code, out, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path), "--log-file", str(log), "-v")
    assert code == 2 and out == ""
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[-1].endswith(" ERROR importer.cli: fatal: UnAuthorized, Please Provide Valid API Key")
    assert " DEBUG importer.api.client: GET /enterprise/api/label -> 401 in " in lines[-2]
    assert [line for line in err.splitlines() if not line.startswith("debug: ")] == [
        "superfone-import: error: UnAuthorized, Please Provide Valid API Key"]  # the terminal's one line, once
    assert "wrong-key-CANARY" not in log.read_text(encoding="utf-8") + err


def test_verbose_adds_debug_lines_on_stderr_and_in_the_file(capsys, tmp_path, fresh_sandbox, key) -> None:
    log = tmp_path / "run.log"
    code, out, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path), "--log-file", str(log), "-v")
    assert code == 1 and out.splitlines()[0].startswith("leads.csv: 24 rows: 18 succeeded")  # stdout as ever
    debug = re.compile(r"POST /enterprise/api/lead -> \d{3} in \d+ ms")
    assert any(line.startswith("debug: importer.api.client: ") and debug.search(line) for line in err.splitlines())
    assert any(" DEBUG importer.api.client: " in line and debug.search(line)
               for line in log.read_text(encoding="utf-8").splitlines())
    assert key not in err and key not in log.read_text(encoding="utf-8")


def test_verbose_without_a_log_file_is_debug_on_stderr_only(capsys, tmp_path, fresh_sandbox, key) -> None:
    code, out, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path), "-v")
    assert code == 1 and "debug: importer.api.client: GET " in err
    assert "run start" not in err and "run end" not in err  # those lines are the file's; stdout has the summary
    assert list(tmp_path.glob("*.log")) == []


def test_neither_the_key_nor_the_smtp_password_reaches_the_file(capsys, tmp_path, fresh_sandbox, key,
                                                               monkeypatch) -> None:
    monkeypatch.setenv("SF_SMTP_URL", f"smtp://alerts:{SMTP_PASSWORD}@127.0.0.1:{closed_port()}")
    log = tmp_path / "run.log"
    code, _, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path), "--log-file", str(log), "-v",
                       "--notify", "mailto:ops@example.com", "--notify-on", "always")
    assert code == 1
    assert err.splitlines()[-1] == ("superfone-import: warning: notification to mailto:ops@example.com failed: "
                                    'Connection error while submitting email to "127.0.0.1"')
    text = log.read_text(encoding="utf-8")
    assert " WARNING importer.report.notify: notification to mailto:ops@example.com failed" in text
    for secret in (key, SMTP_PASSWORD):
        assert secret not in text and secret not in err


def test_the_filter_masks_secrets_a_message_would_show(tmp_path) -> None:
    log = tmp_path / "run.log"
    with run_logging(log, secrets=["sfk-CANARY-1", None, SMTP_PASSWORD]):
        logging.getLogger("importer.run.engine.sending").info("echoed %s and %s", "sfk-CANARY-1", SMTP_PASSWORD)
        logging.getLogger("importer.api.client").debug("not kept without -v")
    line = log.read_text(encoding="utf-8").splitlines()
    assert len(line) == 1 and line[0].endswith(" INFO importer.run.engine.sending: echoed *** and ***")
    assert logging.getLogger("importer").handlers == []  # the block put everything back


def test_a_log_file_that_cannot_be_opened_is_one_line_exit_2(capsys, tmp_path, fresh_sandbox, key) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, out, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path), "--log-file", str(blocker / "x.log"))
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"superfone-import: error: --log-file {blocker / 'x.log'}: cannot open it")
    assert fresh_sandbox.requests() == []
