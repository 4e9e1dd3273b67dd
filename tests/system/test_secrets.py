"""The API key never leaks: not to stdout, stderr, logs, report files, the journal, exception text or reprs,
whatever the run meets (success, faults, 401, an unreachable server, arguments swapped), and never to
another host through a redirect.

Every command runs in-process with debug logging on for every logger, the key set to a canary string.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from importer.api.client import SuperfoneClient
from importer.api.retry import RetryPolicy
from importer.cli.commands import main
from importer.errors import ApiError, ConfigError
from importer.run.context.options import RunOptions
from importer.run.journey.pipeline import Importer
from importer.sandbox import SandboxConfig, SandboxServer

CANARY = "sfk-CANARY-7f3e9c21d4b8a6"
SHEET = "Phone,Name,Stage\r\n+919700000001,Asha,New Lead\r\n+919700000002,Ravi,Nope\r\n+919700000003,Meera,Won\r\n"
MAPPING = ("version: 1\nfields:\n  customer_phone: Phone\n  first_name: Name\n"
           "  lead_stage_name: {column: Stage, on_invalid: reject}\n"
           "  customer_note: {template: 'note for {Name}'}\n")


@pytest.fixture(scope="module")
def canary_sandbox() -> Iterator[SandboxServer]:
    """A sandbox whose account key is the canary, so every command gets through to the real work."""
    with SandboxServer(SandboxConfig(api_key=CANARY), host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    sheet, mapping = tmp_path / "leads.csv", tmp_path / "mapping.yaml"
    sheet.write_text(SHEET, encoding="utf-8")
    mapping.write_text(MAPPING, encoding="utf-8")
    return sheet, mapping


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_nowhere(folder: Path, *texts: str) -> int:
    """The canary is in none of ``texts`` and in no file under ``folder`` (journal, WAL and reports included)."""
    for text in texts:
        assert CANARY not in text
    checked = 0
    for path in folder.rglob("*"):
        if path.is_file():
            checked += 1
            data = path.read_bytes()
            assert CANARY.encode() not in data, path
            assert CANARY.encode("utf-16-le") not in data, path
    return checked


def test_no_command_leaks_the_key(canary_sandbox, sandbox, files, tmp_path, monkeypatch, capsys, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("SF_API_KEY", CANARY)
    sheet, mapping = map(str, files)
    reports = str(tmp_path / "reports")
    good = ["--base-url", canary_sandbox.base_url]
    canary_sandbox.reset(config=True)
    codes = [
        main(["validate", sheet, "-m", mapping, *good, "--report-dir", reports]),
        main(["run", sheet, "-m", mapping, *good, "--report-dir", reports, "--rate", "100"]),
        main(["run", sheet, "-m", mapping, *good, "--report-dir", reports, "--plan"]),
        main(["verify", sheet, "-m", mapping, *good, "--report-dir", reports]),
        main(["catalog", *good]),
        main(["catalog", "--json", *good]),
        main(["mapping", "suggest", sheet]),
    ]
    canary_sandbox.configure(fail_before=0.3, fail_after=0.3, drop_after=0.3, fault_seed=3)
    codes.append(main(["run", sheet, "-m", mapping, *good, "--report-dir", reports, "--fresh", "--rate", "100"]))
    canary_sandbox.reset(config=True)
    fatal = [
        ["run", sheet, "-m", mapping, "--base-url", sandbox.base_url, "--report-dir", reports],  # 401
        ["run", sheet, "-m", mapping, "--base-url", f"http://127.0.0.1:{closed_port()}/x", "--report-dir", reports],
        ["catalog", "--base-url", sandbox.base_url],
        ["run", sheet, "-m", mapping, "--base-url", CANARY, "--report-dir", reports],  # key pasted as the URL
        ["run", sheet, "-m", mapping, "--base-url", f"https://{CANARY}@example.com", "--report-dir", reports],
        ["run", sheet, "-m", mapping, "--base-url", f"http://{CANARY}.example.com", "--report-dir", reports],
    ]
    fatal_codes = [main(argv) for argv in fatal]
    out, err = capsys.readouterr()
    assert codes == [1, 1, 1, 0, 0, 0, 0, 1] and fatal_codes == [2] * len(fatal)
    assert len(err.strip().splitlines()) == len(fatal)  # one line per fatal error
    assert "UnAuthorized" in err and "connection refused" in err
    assert any(record.levelno == logging.DEBUG for record in caplog.records)
    logged = "\n".join(f"{record.getMessage()} {record.args!r} {record.exc_text or ''}" for record in caplog.records)
    assert assert_nowhere(tmp_path / "reports", out, err, logged, caplog.text) > 10
    assert (tmp_path / "reports" / "journal.sqlite").is_file()


def test_library_errors_and_reprs_never_show_the_key(canary_sandbox, sandbox, files, tmp_path) -> None:
    sheet, mapping = files
    texts: list[str] = []
    for base_url in (sandbox.base_url, f"http://127.0.0.1:{closed_port()}/x", CANARY, f"ftp://{CANARY}/"):
        options = RunOptions(base_url=base_url, api_key=CANARY, report_dir=tmp_path / "lib",
                             retry=RetryPolicy(max_attempts=1))
        with pytest.raises((ApiError, ConfigError)) as caught:
            Importer(sheet, mapping, options).run()
        texts += [str(caught.value), repr(caught.value), repr(caught.value.args)]
    with SuperfoneClient(canary_sandbox.base_url, CANARY) as client:
        texts += [repr(client), repr(vars(client)), str(client._auth.__dict__.keys())]
    assert_nowhere(tmp_path / "lib", *texts)


def test_run_options_repr_hides_the_key() -> None:
    assert CANARY not in repr(RunOptions(api_key=CANARY))


# --- redirects ------------------------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    """The other host: records every request's headers."""

    seen: list[dict[str, str]] = []

    def _answer(self) -> None:
        type(self).seen.append({name.lower(): value for name, value in self.headers.items()})
        body = json.dumps({"data": {"rows": [], "total_pages": 1}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def _redirector(target: str, status: int) -> type[BaseHTTPRequestHandler]:
    class Redirector(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(status)
            self.send_header("Location", target + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Redirector


def _serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    return server


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_never_carries_the_key_to_another_host(status: int, tmp_path: Path, files, capsys,
                                                          monkeypatch) -> None:
    _Recorder.seen = []
    other = _serve(_Recorder)
    redirector = _serve(_redirector(f"http://127.0.0.1:{other.server_address[1]}", status))
    base_url = f"http://127.0.0.1:{redirector.server_address[1]}/superfone"
    try:
        with SuperfoneClient(base_url, CANARY) as client:
            calls = (client.list_labels, lambda: client.get_lead("+919700000001"),
                     lambda: client.upsert({"customer_phone": "+919700000001"}))
            for call in calls:
                with pytest.raises(ApiError, match=f"HTTP {status}: the API answered with a redirect"):
                    call()
        monkeypatch.setenv("SF_API_KEY", CANARY)
        sheet, mapping = map(str, files)
        assert main(["run", sheet, "-m", mapping, "--base-url", base_url, "--report-dir", str(tmp_path / "r")]) == 2
        assert "redirect" in capsys.readouterr().err
    finally:
        for server in (redirector, other):
            server.shutdown()
            server.server_close()
    assert _Recorder.seen == []  # the other host was never even asked, so it never saw x-api-key


# --- alert targets --------------------------------------------------------------------------------------


ALERT_PASSWORD = "pw-CANARY-5e1f"
ALERT_TOKEN = "hooktoken-CANARY-0c4d2b"


def test_no_alert_target_leaks_its_token_or_password(canary_sandbox, files, tmp_path, monkeypatch, capsys,
                                                     caplog) -> None:
    from tests.report.conftest import Webhook, serve_webhook

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("SF_API_KEY", CANARY)
    monkeypatch.setenv("SF_SMTP_URL", f"smtps://alerts:{ALERT_PASSWORD}@127.0.0.1:{closed_port()}")
    sheet, mapping = map(str, files)
    log = tmp_path / "alerts.log"
    hooks = serve_webhook(Webhook())
    hook = next(hooks)
    try:
        reachable = hook.url.split("/hook")[0].replace("http://", f"json://alerts:{ALERT_PASSWORD}@", 1)
        targets = [f"{reachable}/hook/{ALERT_TOKEN}", f"json://alerts:{ALERT_PASSWORD}@127.0.0.1:{closed_port()}/"
                   f"{ALERT_TOKEN}", f"{hook.url.split('/hook')[0]}/hook/{ALERT_TOKEN}", "mailto:ops@example.com"]
        argv = ["run", sheet, "-m", mapping, "--base-url", canary_sandbox.base_url, "--report-dir",
                str(tmp_path / "reports"), "--log-file", str(log), "-v", "--alert-if", "any"]
        code = main([*argv, *(arg for target in targets for arg in ("--notify", target))])
        refused = main([*argv, "--notify", f"tgram://{ALERT_TOKEN}"])
    finally:
        next(hooks, None)
    out, err = capsys.readouterr()
    assert code == 1 and refused == 2 and len(hook.received) == 2  # json:// and the summary webhook
    assert [line.split(" failed: ")[0] for line in err.splitlines() if "warning:" in line] == [
        "superfone-import: warning: notification to json://…",
        "superfone-import: warning: notification to mailto:ops@example.com"]
    assert err.splitlines()[-1].startswith("superfone-import: error: --notify: expected an Apprise URL")
    sent = "\n".join(request["body"].decode() + request["path"] for request in hook.received)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (ALERT_PASSWORD, ALERT_TOKEN):
        for text in (out, err, logged, caplog.text, log.read_text(encoding="utf-8"), sent.split("/hook/")[0]):
            assert secret not in text
        for path in (tmp_path / "reports").rglob("*"):
            assert not path.is_file() or secret.encode() not in path.read_bytes(), path
    assert assert_nowhere(tmp_path / "reports", out, err, logged, sent) > 5
