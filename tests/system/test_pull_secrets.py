"""The source CRMs' keys never leak from pull: not to stdout, stderr, logs (debug included), the output, misses
and report files, nor exception text and reprs, whatever the pull meets (success, misses, 401, a server that
echoes the query string back, an unreachable host, a key pasted as the host)."""

from __future__ import annotations

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from importer.api.retry import RetryPolicy
from importer.cli.commands import main
from importer.errors import ImporterError
from importer.pull.leadsquared import LeadSquaredAccount, LeadSquaredClient
from importer.pull.pollybot import PollyBotAccount, PollyBotClient
from importer.pull.runner import Pull, PullOptions
from importer.pull.sources import LeadSquaredSource, PollyBotSource
from importer.sandbox import SandboxConfig, SandboxServer
from tests.system.test_secrets import assert_nowhere as assert_superfone_nowhere

ACCESS, SECRET, BEARER = "lsqa-CANARY-51c0ffee", "lsqs-CANARY-9d2b7e41", "sk-CANARY-77aa13bd"
CANARIES = (ACCESS, SECRET, BEARER)


def assert_nowhere(folder: Path, *texts: str) -> int:
    for text in texts:
        for canary in CANARIES:
            assert canary not in text
    checked = 0
    for path in folder.rglob("*"):
        if path.is_file():
            checked += 1
            data = path.read_bytes()
            for canary in CANARIES:
                assert canary.encode() not in data, path
    return checked + assert_superfone_nowhere(folder)


class _Echo(BaseHTTPRequestHandler):
    """A server that echoes the request line back in a 500, as a careless proxy might."""

    def do_GET(self) -> None:
        data = json.dumps({"ExceptionMessage": f"cannot serve {self.path}", "message": self.path}).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_no_pull_leaks_a_key(sandbox, tmp_path, monkeypatch, capsys, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)  # retries without the waits
    monkeypatch.setattr("importer.pull.sources.LEADSQUARED_RATE", 1000.0)  # pacing is not what this test is about
    config = SandboxConfig(leadsquared_access_key=ACCESS, leadsquared_secret_key=SECRET, pollybot_api_key=BEARER)
    echo = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=echo.serve_forever, args=(0.02,), daemon=True).start()
    phones, ids = tmp_path / "phones.csv", tmp_path / "ids.csv"
    phones.write_text("Phone\n9845000000\n9999999999\n98450 40012\n", encoding="utf-8")
    ids.write_text("id\nlead_aa49d53c31e4598b\nlead_nope1\nbad-id\n", encoding="utf-8")
    out, reports, log = tmp_path / "out", str(tmp_path / "out" / "reports"), str(tmp_path / "out" / "pull.log")
    monkeypatch.setenv("LSQ_ACCESS_KEY", ACCESS)
    monkeypatch.setenv("LSQ_SECRET_KEY", SECRET)
    monkeypatch.setenv("POLLYBOT_API_KEY", BEARER)
    lsq = ["pull", "leadsquared", "--phones", str(phones), "--report-dir", reports, "-v", "--log-file", log]
    polly = ["pull", "pollybot", "--ids", str(ids), "--report-dir", reports, "-v", "--log-file", log]
    codes, fatal = [], []
    try:
        with SandboxServer(config) as canary:
            monkeypatch.setenv("LSQ_HOST", canary.leadsquared_url)
            monkeypatch.setenv("POLLYBOT_BASE_URL", canary.pollybot_url)
            codes.append(main([*lsq, "--out", str(out / "lsq.jsonl")]))
            codes.append(main([*polly, "--out", str(out / "polly.jsonl")]))
        for host in (sandbox.leadsquared_url,  # 401: the session's sandbox has other keys
                     f"http://127.0.0.1:{echo.server_address[1]}",  # a 500 echoing the query string
                     f"http://127.0.0.1:{closed_port()}", f"http://{ACCESS}.example.com", SECRET):
            monkeypatch.setenv("LSQ_HOST", host)
            fatal.append(main([*lsq, "--out", str(out / "lsq2.jsonl")]))
        monkeypatch.setenv("POLLYBOT_BASE_URL", sandbox.pollybot_url)
        fatal.append(main([*polly, "--out", str(out / "polly2.jsonl")]))
    finally:
        echo.shutdown()
        echo.server_close()
    stdout, stderr = capsys.readouterr()
    assert codes == [1, 1]
    assert fatal == [2, 1, 2, 2, 2, 2]  # only the echoing server lets the pull finish (every phone failed)
    assert "Invalid access key or secret key" in stderr and "Unauthorized" in stderr
    assert (out / "lsq.jsonl").read_text(encoding="utf-8").count("\n") == 2
    assert "cannot serve /v2/LeadManagement.svc/RetrieveLeadByPhoneNumber?accessKey=***&secretKey=***" in \
        "\n".join(path.read_text(encoding="utf-8") for path in out.rglob("issues.csv"))
    assert any("urllib3" in record.name for record in caplog.records)  # the request lines were logged, masked
    logged = "\n".join(f"{record.getMessage()} {record.args!r} {record.exc_text or ''}" for record in caplog.records)
    assert assert_nowhere(out, stdout, stderr, logged, caplog.text) > 8


def test_library_errors_and_reprs_never_show_a_key(sandbox, tmp_path) -> None:
    phones, ids = tmp_path / "phones.csv", tmp_path / "ids.csv"
    phones.write_text("Phone\n9845000000\n", encoding="utf-8")
    ids.write_text("id\nlead_aa49d53c31e4598b\n", encoding="utf-8")
    texts: list[str] = []
    sources = [LeadSquaredSource(LeadSquaredClient(LeadSquaredAccount(sandbox.leadsquared_url, ACCESS, SECRET))),
               PollyBotSource(PollyBotClient(PollyBotAccount(sandbox.pollybot_url, BEARER)))]
    for source, sheet in zip(sources, (phones, ids), strict=True):
        options = PullOptions(sheet=sheet, out=tmp_path / "o" / f"{source.name}.jsonl", report_dir=tmp_path / "o")
        with pytest.raises(ImporterError) as caught:
            Pull(source, options).run()
        texts += [str(caught.value), repr(caught.value), repr(caught.value.args), repr(source.client),
                  repr(vars(source.client)), repr(vars(source))]
        source.close()
    texts += [repr(LeadSquaredAccount("https://h", ACCESS, SECRET)), repr(PollyBotAccount("https://h", BEARER)),
              repr(SandboxConfig(leadsquared_access_key=ACCESS, pollybot_api_key=BEARER)),
              str(SandboxConfig(leadsquared_secret_key=SECRET).public())]
    assert_nowhere(tmp_path / "o", *texts)
