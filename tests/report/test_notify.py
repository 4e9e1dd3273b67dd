"""Notifications: a webhook and an e-mail after a run, each to a server the test starts on a loopback port
(tests/report/conftest.py).

The runs are real CLI runs against the sandbox (key ``demo-key``, the canary that must never leave the run).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from importer.cli.commands import main
from importer.errors import ConfigError
from importer.report.notify import Notice, SmtpServer, Target, notify, parse_target, scrub_url
from importer.report.outcome import outcome_text
from tests.report.conftest import SMTP_PASSWORD, SMTP_PASSWORD_URL, TOKEN, free_port

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "leads.csv"
EXAMPLE = ROOT / "mappings" / "example.yaml"


def run(capsys: pytest.CaptureFixture[str], sandbox, *extra: str, sheet: Path = SAMPLE,
        mapping: Path = EXAMPLE) -> tuple[int, str, str]:
    code = main(["run", str(sheet), "-m", str(mapping), "--base-url", sandbox.base_url, "--rate", "200", *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def key(fresh_sandbox, monkeypatch) -> str:
    monkeypatch.setenv("SF_API_KEY", fresh_sandbox.api_key)
    monkeypatch.delenv("SF_SMTP_URL", raising=False)
    return fresh_sandbox.api_key


# --- webhooks --------------------------------------------------------------------------------------------------


def test_a_webhook_gets_the_summary_and_a_text_line_without_the_key(capsys, tmp_path, fresh_sandbox, key,
                                                                     webhook) -> None:
    code, out, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path), "--notify", webhook.url)
    assert code == 1 and err == ""
    folder = out.splitlines()[-1].removeprefix("report: ")
    [request] = webhook.received
    body = json.loads(request["body"])
    summary = json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))
    assert {name: body[name] for name in summary} == summary
    assert body["text"].splitlines() == [
        "leads.csv: 24 rows: 18 succeeded, 3 failed, 0 in doubt, 1 skipped, 2 invalid; "
        f"7 warnings — exit 1 — report: {folder}",
        "alert: failed>0",  # the default rules; the two invalid rows alone would not alert
        "new problems (5):",
        "  row 7: invalid-phone '12345'",
        "  row 10: failed 'Phone number +918000000002 in add_phones is already present in different customer (lead "
        "id 12345)'",
        "  row 11: failed 'Assignee user is not part of your team'",
        "  row 14: lossy-excel-number '9.87654E+09'",
        "  row 16: failed 'Customer phone exists in multiple contact'",
        f"details: {folder}/report.html"]
    assert body["alert"] == {"status": "alert", "rules": ["failed>0"], "new_problems_total": 5, "new_problems": [
        {"row": 7, "code": "invalid-phone", "value": "12345"},
        {"row": 10, "code": "failed", "value": "Phone number +918000000002 in add_phones is already present in "
                                               "different customer (lead id 12345)"},
        {"row": 11, "code": "failed", "value": "Assignee user is not part of your team"},
        {"row": 14, "code": "lossy-excel-number", "value": "9.87654E+09"},
        {"row": 16, "code": "failed", "value": "Customer phone exists in multiple contact"}]}
    assert body["exit_code"] == 1 and body["report"] == folder
    assert request["headers"]["Content-Type"].startswith("application/json")
    assert key not in request["body"].decode() and key not in json.dumps(request["headers"])


def test_notify_on_failure_is_silent_after_a_clean_run_and_always_is_not(capsys, tmp_path, fresh_sandbox, key,
                                                                          webhook) -> None:
    sheet, mapping = tmp_path / "clean.csv", tmp_path / "m.yaml"
    sheet.write_text("Phone,First Name\n+919845012345,Asha\n+919900012345,Ravi\n", encoding="utf-8")
    mapping.write_text("version: 1\nfields:\n  customer_phone: Phone\n  first_name: First Name\n")
    reports = ["--report-dir", str(tmp_path / "r"), "--fresh", "--notify", webhook.url]
    assert run(capsys, fresh_sandbox, *reports, sheet=sheet, mapping=mapping)[0] == 0
    assert run(capsys, fresh_sandbox, *reports, "--notify-on", "failure", sheet=sheet, mapping=mapping)[0] == 0
    assert webhook.received == []
    assert run(capsys, fresh_sandbox, *reports, "--notify-on", "always", sheet=sheet, mapping=mapping)[0] == 0
    [request] = webhook.received
    text = json.loads(request["body"])["text"]
    assert text.startswith("clean.csv: 2 rows: ") and " — exit 0 — report: " in text


@pytest.mark.parametrize("status", [500, 302])
def test_a_webhook_that_fails_is_one_warning_and_the_exit_code_stays(capsys, tmp_path, fresh_sandbox, key, webhook,
                                                                      other_webhook, status) -> None:
    webhook.status, webhook.location = status, other_webhook.url
    code, out, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path), "--notify", webhook.url)
    assert code == 1 and out.splitlines()[-1].startswith("report: ")
    assert err.splitlines() == [f"superfone-import: warning: notification to {webhook.url.split('/hook')[0]}/… "
                                f"failed: HTTP {status}" + (" (a redirect, not followed)" if status == 302 else "")]
    assert len(webhook.received) == 1 and other_webhook.received == []  # a redirect is not followed
    assert TOKEN not in err


def test_a_closed_port_is_one_warning_and_the_next_target_is_still_told(capsys, tmp_path, fresh_sandbox, key,
                                                                        webhook) -> None:
    closed = f"http://127.0.0.1:{free_port()}/hook?token={TOKEN}"
    code, _, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path), "--notify", closed,
                       "--notify", webhook.url)
    assert code == 1 and "Traceback" not in err and TOKEN not in err
    assert err.splitlines() == [f"superfone-import: warning: notification to {scrub_url(closed)} failed: "
                                "connection refused"]
    assert len(webhook.received) == 1


def test_a_fatal_error_after_the_start_is_notified(capsys, tmp_path, fresh_sandbox, monkeypatch, webhook) -> None:
    monkeypatch.setenv("SF_API_KEY", "wrong-key-canary")
    code, out, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path), "--notify", webhook.url)
    assert code == 2 and out == "" and err.startswith("superfone-import: error: UnAuthorized")
    [request] = webhook.received
    body = json.loads(request["body"])
    assert body["exit_code"] == 2 and body["error"].startswith("UnAuthorized")
    assert body["text"].splitlines() == ["leads.csv: stopped: UnAuthorized, Please Provide Valid API Key — exit 2",
                                         "alert: fatal"]
    assert "wrong-key-canary" not in request["body"].decode()


@pytest.mark.parametrize(
    ("target", "smtp_url", "expected"),
    [
        ("ftp://example.com/x", None, "expected an Apprise URL"),
        ("tgram://not-a-bot-token", None, "got tgram://… (not a URL Apprise can use)"),
        ("hooks.example.com/x", None, "without a scheme"),
        (f"http://hooks.example.com/x?token={TOKEN}", None, "plain http:// is for loopback only"),
        (f"https://user:{TOKEN}@hooks.example.com/x", None, "user name or password"),
        ("mailto:ops@example.com", None, "SF_SMTP_URL"),
        ("mailto:ops@example.com", f"smtp://u:{SMTP_PASSWORD_URL}@mail.example.com:notaport", "SF_SMTP_URL must"),
        ("mailto:ops@example.com", f"imap://u:{SMTP_PASSWORD_URL}@mail.example.com", "SF_SMTP_URL must"),
        ("mailto:ops@example.com,boss@example.com", "smtp://mail.example.com", "one e-mail address"),
        ("mailto:ops", "smtp://mail.example.com", "one e-mail address"),
    ],
)
def test_a_bad_target_is_one_line_exit_2_and_nothing_runs(capsys, tmp_path, fresh_sandbox, key, monkeypatch,
                                                          target, smtp_url, expected) -> None:
    if smtp_url:
        monkeypatch.setenv("SF_SMTP_URL", smtp_url)
    code, out, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path), "--notify", target)
    assert code == 2 and out == "" and expected in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("superfone-import: error: --notify")
    assert TOKEN not in err and SMTP_PASSWORD_URL not in err and SMTP_PASSWORD not in err
    assert fresh_sandbox.requests() == [] and not list(tmp_path.iterdir())


def test_bad_notify_on_is_a_usage_error(capsys) -> None:
    assert main(["run", str(SAMPLE), "-m", str(EXAMPLE), "--notify-on", "never"]) == 2
    assert "--notify-on" in capsys.readouterr().err


# --- e-mail ----------------------------------------------------------------------------------------------------


def test_an_email_arrives_with_the_outcome_and_without_secrets(capsys, tmp_path, fresh_sandbox, key, monkeypatch,
                                                               inbox) -> None:
    monkeypatch.setenv("SF_SMTP_URL", f"smtp://127.0.0.1:{inbox.port}?from=imports@example.com")
    code, out, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path), "--notify", "mailto:ops@example.com")
    assert code == 1 and err == ""
    folder = out.splitlines()[-1].removeprefix("report: ")
    [(recipients, message)] = inbox.messages
    assert recipients == ["ops@example.com"] and message["From"] == "imports@example.com"
    assert " ".join(message["Subject"].split()) == \
        "superfone-import: leads.csv: some rows failed or are invalid (exit 1)"
    text = message.get_payload(decode=True).decode()
    assert text.splitlines()[0] == ("leads.csv: 24 rows: 18 succeeded, 3 failed, 0 in doubt, 1 skipped, 2 invalid; "
                                    f"7 warnings — exit 1 — report: {folder}")
    assert "alert: failed>0" in text and "row 11: failed 'Assignee user is not part of your team'" in text
    assert text.rstrip().splitlines()[-1] == f"details: {folder}/report.html"
    assert key not in message.as_string()


def test_an_email_through_a_server_with_a_login(capsys, tmp_path, fresh_sandbox, key, monkeypatch,
                                                auth_inbox) -> None:
    monkeypatch.setenv("SF_SMTP_URL", f"smtp://imports%40example.com:{SMTP_PASSWORD_URL}@127.0.0.1:{auth_inbox.port}")
    code, _, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path), "--notify", "mailto:ops@example.com")
    assert code == 1 and err == ""
    assert auth_inbox.logins == [(b"imports@example.com", SMTP_PASSWORD.encode())]  # URL-decoded
    [(_, message)] = auth_inbox.messages
    assert message["From"] == "imports@example.com"
    assert SMTP_PASSWORD not in message.as_string() and key not in message.as_string()


def test_a_refused_login_or_recipient_is_one_warning_without_the_password(capsys, tmp_path, fresh_sandbox, key,
                                                                          monkeypatch, auth_inbox) -> None:
    port = auth_inbox.port
    monkeypatch.setenv("SF_SMTP_URL", f"smtp://imports:wrong-{SMTP_PASSWORD_URL}@127.0.0.1:{port}")
    code, _, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path / "a"), "--notify", "mailto:a@example.com")
    assert code == 1 and "Traceback" not in err and SMTP_PASSWORD_URL not in err and SMTP_PASSWORD not in err
    assert err.splitlines() == ["superfone-import: warning: notification to mailto:a@example.com failed: "
                                'Connection error while submitting email to "127.0.0.1"']
    monkeypatch.setenv("SF_SMTP_URL", f"smtp://imports:{SMTP_PASSWORD_URL}@127.0.0.1:{port}")
    auth_inbox.refuse = True
    code, _, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path / "b"), "--notify", "mailto:a@example.com",
                       "--alert-on-known")  # the same rows failed in the run above: known problems alert only so
    assert code == 1 and err.splitlines() == ["superfone-import: warning: notification to mailto:a@example.com "
                                              'failed: Sending email to "a@example.com" failed.']
    assert auth_inbox.messages == []


def test_an_smtp_server_that_is_down_is_one_warning(capsys, tmp_path, fresh_sandbox, key, monkeypatch) -> None:
    monkeypatch.setenv("SF_SMTP_URL", f"smtp://u:{SMTP_PASSWORD_URL}@127.0.0.1:{free_port()}")
    code, _, err = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path), "--notify", "mailto:a@example.com")
    assert code == 1 and err.splitlines() == ["superfone-import: warning: notification to mailto:a@example.com "
                                              'failed: Connection error while submitting email to "127.0.0.1"']
    assert SMTP_PASSWORD_URL not in err and SMTP_PASSWORD not in err


# --- the library -----------------------------------------------------------------------------------------------


def test_targets_parse_and_show_no_secret() -> None:
    hook = parse_target(f"https://hooks.example.com/services/T0/B0/{TOKEN}")
    assert hook.smtp is None and hook.address is None and TOKEN in hook.secrets
    assert str(hook) == repr(hook)[8:-2] == "https://hooks.example.com/…"
    assert str(parse_target("http://localhost:8080/x")) == "http://localhost:8080/…"
    mail = parse_target("mailto:ops@example.com", f"smtps://bot:{SMTP_PASSWORD_URL}@mail.example.com")
    assert mail.address == "ops@example.com" and mail.secrets == (SMTP_PASSWORD,)
    assert mail.smtp == SmtpServer("mail.example.com", 465, True, "bot", SMTP_PASSWORD)
    assert SMTP_PASSWORD not in repr(mail) and str(mail.smtp) == "smtps://bot@mail.example.com:465"
    assert SmtpServer.parse("smtp://mail.example.com").port == 25
    with pytest.raises(ConfigError):
        parse_target("mailto:ops@example.com", "smtp://mail.example.com/path")


def test_scrub_url_keeps_only_scheme_host_and_port() -> None:
    assert scrub_url(f"https://u:{TOKEN}@hooks.example.com:8443/a/{TOKEN}?t={TOKEN}#f") == \
        "https://…@hooks.example.com:8443/…"
    assert scrub_url("https://hooks.example.com") == "https://hooks.example.com"
    assert scrub_url("http://[::1]:9/x") == "http://[::1]:9/…"


def test_notify_masks_the_secrets_it_is_given_and_reports_failures(webhook, caplog) -> None:
    caplog.set_level(logging.INFO, logger="importer")
    summary = {"input": "leads.csv", "rows_total": 1, "note": "echoed sfk-SECRET-1"}
    notice = Notice("subject", "leads.csv: 1 row — exit 1 — report: r/1 (sfk-SECRET-1)", {**summary, "exit_code": 1})
    closed = Target(f"http://127.0.0.1:{free_port()}/x?token={TOKEN}")
    failures = notify([closed, Target(webhook.url)], notice, secrets=["sfk-SECRET-1"])
    assert failures == [f"notification to {scrub_url(closed.url)} failed: connection refused"]
    body = json.loads(webhook.received[0]["body"])
    assert body["note"] == "echoed ***" and body["text"] == "leads.csv: 1 row — exit 1 — report: r/1 (***)"
    assert body["exit_code"] == 1
    assert caplog.messages[-2:] == [failures[0], f"notification sent to {scrub_url(webhook.url)}"]
    assert outcome_text({"input": "a/b.csv"}, 2, None, "boom") == "b.csv: stopped: boom — exit 2"


def test_a_run_stopped_mid_way_sends_its_summary_and_folder(capsys, tmp_path, fresh_sandbox, key, monkeypatch,
                                                            webhook) -> None:
    import dataclasses

    from importer.run.context.options import NullProgress

    def revoke_when_sending_starts(self, phase: str, total: int | None) -> None:
        if phase == "sending":
            state = fresh_sandbox._sandbox
            state.config = dataclasses.replace(state.config, api_key="revoked")

    monkeypatch.setattr(NullProgress, "start", revoke_when_sending_starts)
    code, out, _ = run(capsys, fresh_sandbox, "--report-dir", str(tmp_path), "--notify", webhook.url)
    folder = out.splitlines()[-1].removeprefix("report: ")
    body = json.loads(webhook.received[0]["body"])
    assert code == 2 and body["report"] == folder and body["stopped"].startswith("UnAuthorized")
    assert body["rows_total"] == 24 and body["text"].splitlines()[0].endswith(f"— exit 2 — report: {folder}")
