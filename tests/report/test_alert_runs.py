"""Alerts of real runs of one job against the sandbox, as a loopback webhook and a local SMTP server receive them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from importer.cli.commands import main
from tests.report.conftest import Inbox, Webhook

MAPPING = ("version: 1\nfields:\n  customer_phone: Phone\n  first_name: Name\n"
           "  deal_value: {column: Deal, type: number}\n")


def write_sheet(path: Path, last_phone: str, rows: int = 9) -> None:
    lines = ["Phone,Name,Deal", *(f"+9198450130{i:02d},Lead {i},{i}.5L" for i in range(1, rows + 1)),
             f"{last_phone},Meena,45k"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def job(tmp_path: Path, fresh_sandbox, monkeypatch) -> tuple[Path, Path]:
    monkeypatch.setenv("SF_API_KEY", fresh_sandbox.api_key)
    monkeypatch.setenv("SF_BASE_URL", fresh_sandbox.base_url)
    mapping = tmp_path / "nightly.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return tmp_path / "leads.csv", mapping


def run(capsys, sheet: Path, mapping: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["run", str(sheet), "-m", str(mapping), "--report-dir", str(sheet.parent / "reports"), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def texts(webhook: Webhook, inbox: Inbox) -> tuple[list[str], list[tuple[str, str]]]:
    """What each server received since the last call: the webhook's texts, the e-mails' subjects and bodies."""
    posted = [json.loads(request["body"])["text"] for request in webhook.received]
    mails = [(message["Subject"], message.get_payload(decode=True).decode()) for _, message in inbox.messages]
    webhook.received.clear()
    inbox.messages.clear()
    return posted, mails


def test_three_runs_of_a_job_alert_once_stay_quiet_then_recover(capsys, job, webhook, inbox, monkeypatch) -> None:
    monkeypatch.setenv("SF_SMTP_URL", f"smtp://127.0.0.1:{inbox.port}?from=imports@example.com")
    sheet, mapping = job
    alerts = ["--notify", webhook.url, "--notify", "mailto:ops@example.com", "--alert-if", "invalid>0"]

    write_sheet(sheet, "98450 1234")  # one digit short: invalid
    code, out, err = run(capsys, sheet, mapping, *alerts)
    folder = out.splitlines()[-1].removeprefix("report: ")
    assert code == 1 and err == ""
    [posted], [(subject, body)] = texts(webhook, inbox)
    assert posted.splitlines()[1:] == ["alert: invalid>0", "new problems (1):", "  row 11: invalid-phone '98450 1234'",
                                       f"details: {folder}/report.html"]
    assert subject == "superfone-import: leads.csv: some rows failed or are invalid (exit 1)"
    assert body.splitlines()[:3] == posted.splitlines()[:3] and "row 11: invalid-phone '98450 1234'" in body

    code, out, err = run(capsys, sheet, mapping, *alerts)  # the same row again: a known problem
    assert code == 1 and err == "" and texts(webhook, inbox) == ([], [])
    assert json.loads((Path(out.splitlines()[-1].removeprefix("report: ")) / "alert.json").read_text()) == {
        "action": "quiet", "alerting": True, "rules": ["invalid>0"], "problems": [[11, "invalid-phone", "98450 1234"]]}

    write_sheet(sheet, "98450 12340")  # fixed
    code, out, err = run(capsys, sheet, mapping, *alerts)
    folder = out.splitlines()[-1].removeprefix("report: ")
    assert code == 0 and err == ""
    [posted], [(subject, body)] = texts(webhook, inbox)
    assert posted.splitlines()[1] == "recovered: no alert rule fired (invalid>0)"
    assert subject == "superfone-import: leads.csv: recovered (exit 0)" and "recovered: no alert rule fired" in body

    assert run(capsys, sheet, mapping, *alerts)[0] == 0 and texts(webhook, inbox) == ([], [])  # recovered once


def test_alert_on_known_sends_the_known_problem_again(capsys, job, webhook) -> None:
    sheet, mapping = job
    write_sheet(sheet, "98450 1234")
    alerts = ["--notify", webhook.url, "--alert-if", "invalid>0"]
    assert run(capsys, sheet, mapping, *alerts)[0] == 1 and len(webhook.received) == 1
    assert run(capsys, sheet, mapping, *alerts, "--alert-on-known")[0] == 1 and len(webhook.received) == 2
    text = json.loads(webhook.received[1]["body"])["text"]
    assert text.splitlines()[1] == "alert: invalid>0 (only problems the previous run had: --alert-on-known)"
    assert "new problems" not in text


def test_a_share_just_under_the_threshold_is_quiet_and_just_over_alerts(capsys, tmp_path, webhook) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(MAPPING.replace("type: number}", "type: number, on_invalid: reject}"), encoding="utf-8")
    for bad, expected in ((2, 0), (3, 1)):  # 2% of 100 rows is not over 2%; 3% is
        sheet = tmp_path / f"bad{bad}.csv"
        rows = [f"+9198451{i:05d},Lead {i},{'call' if i < bad - 1 else '1L'}" for i in range(100 - 1)]
        sheet.write_text("\n".join(["Phone,Name,Deal", *rows, "12345,Bad,1L"]) + "\n", encoding="utf-8")
        code = main(["validate", str(sheet), "-m", str(mapping), "--offline", "--report-dir", str(tmp_path / "r"),
                     "--notify", webhook.url, "--alert-if", "invalid>2%"])
        out = capsys.readouterr().out
        assert code == 1 and f"100 rows: {100 - bad} valid, {bad} invalid" in out
        assert len(webhook.received) == expected
    assert json.loads(webhook.received[0]["body"])["text"].splitlines()[1] == "alert: invalid>2%"


def test_a_guard_that_refuses_the_run_alerts_by_default(capsys, job, webhook) -> None:
    sheet, mapping = job
    write_sheet(sheet, "+919845099999")
    assert run(capsys, sheet, mapping, "--notify", webhook.url)[0] == 0 and webhook.received == []  # nothing fired
    write_sheet(sheet, "+919845099999", rows=2)  # 3 rows after 10: the shrink guard
    code, out, err = run(capsys, sheet, mapping, "--notify", webhook.url)
    assert code == 2 and "nothing sent" in err
    [request] = webhook.received
    assert json.loads(request["body"])["text"].splitlines()[1] == "alert: guard"


def test_an_apprise_json_url_reaches_a_loopback_server(capsys, job, webhook) -> None:
    sheet, mapping = job
    write_sheet(sheet, "+919845099999")
    target = webhook.url.replace("http://", "json://", 1)
    code, out, err = run(capsys, sheet, mapping, "--notify", target, "--notify-on", "always")
    folder = out.splitlines()[-1].removeprefix("report: ")
    assert code == 0 and err == ""
    [request] = webhook.received
    assert request["path"].startswith("/hook/")
    posted = json.loads(request["body"])
    assert posted["title"] == "superfone-import: leads.csv: all rows succeeded (exit 0)"
    assert posted["message"].splitlines() == [
        f"leads.csv: 10 rows: 10 succeeded, 0 failed, 0 in doubt, 0 skipped, 0 invalid; 0 warnings — exit 0 — "
        f"report: {folder}", "alert: any", f"details: {folder}/report.html"]


def test_an_apprise_url_that_fails_is_one_warning_and_the_exit_code_stays(capsys, job, webhook) -> None:
    sheet, mapping = job
    write_sheet(sheet, "+919845099999")
    webhook.status = 500
    code, _, err = run(capsys, sheet, mapping, "--notify", webhook.url.replace("http://", "json://", 1),
                       "--alert-if", "any")
    assert code == 0 and len(webhook.received) == 1
    [line] = err.splitlines()
    assert line.startswith("superfone-import: warning: notification to json://… failed: ") and "500" in line


def test_a_run_that_could_not_start_alerts_and_the_next_good_run_recovers(capsys, job, webhook) -> None:
    sheet, mapping = job
    write_sheet(sheet, "+919845099999")
    assert run(capsys, sheet, mapping, "--notify", webhook.url)[0] == 0 and webhook.received == []
    write_sheet(sheet, "+919845099999", rows=2)  # the shrink guard: exit 2, no report folder
    assert run(capsys, sheet, mapping, "--notify", webhook.url)[0] == 2
    write_sheet(sheet, "+919845099999")
    assert run(capsys, sheet, mapping, "--notify", webhook.url)[0] == 0
    assert [json.loads(request["body"])["alert"]["status"] for request in webhook.received] == ["alert", "recovered"]
    assert run(capsys, sheet, mapping, "--notify", webhook.url)[0] == 0
    assert len(webhook.received) == 2  # recovered once
