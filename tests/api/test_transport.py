"""Transport safety: plain http:// leaves the machine never (refused before any socket is opened), and TLS
certificates are always verified, even when the caller hands in a session that turned verification off."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from importer.api.client import SuperfoneClient
from importer.cli.commands import main
from importer.errors import ConfigError, TransientError

KEY = "transport-test-key"
REMOTE_HTTP = [
    "http://prod-api.superfone.co.in/superfone",
    "http://10.0.0.7/superfone",
    "http://192.168.1.20:8080/superfone",
    "http://127.0.0.1.nip.io/superfone",
    "http://localhost.attacker.example/superfone",
    "http://[::ffff:10.0.0.7]/superfone",
    "http://[2001:db8::1]/superfone",
    "http://2130706433/superfone",
    "HTTP://API.EXAMPLE.COM/superfone",
]


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to resolve a name or open a connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a connection was attempted: {args!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.parametrize("base_url", REMOTE_HTTP)
def test_plain_http_to_another_host_is_refused_before_connecting(base_url: str, no_sockets: None) -> None:
    with pytest.raises(ConfigError, match="refusing plain http://"):
        SuperfoneClient(base_url, KEY)
    with pytest.raises(ConfigError, match="refusing plain http://"):
        SuperfoneClient(base_url, KEY, session=requests.Session())


def test_cli_refuses_plain_http_in_one_line(no_sockets: None, tmp_path: Path, monkeypatch, capsys) -> None:
    sheet, mapping = tmp_path / "s.csv", tmp_path / "m.yaml"
    sheet.write_text("Phone\r\n+919700000001\r\n", encoding="utf-8")
    mapping.write_text("version: 1\nfields:\n  customer_phone: Phone\n", encoding="utf-8")
    monkeypatch.setenv("SF_API_KEY", KEY)
    for argv in (["run", str(sheet), "-m", str(mapping)], ["validate", str(sheet), "-m", str(mapping)], ["catalog"]):
        assert main([*argv, "--base-url", "http://api.example.com/superfone", "--report-dir", str(tmp_path)]
                    if argv[0] != "catalog" else [*argv, "--base-url", "http://api.example.com/superfone"]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "refusing plain http:// to api.example.com" in err


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:9/x", "http://localhost:9/x", "http://[::1]:9/x",
                                      "http://127.8.9.10:9/x"])
def test_plain_http_on_loopback_is_allowed(base_url: str, no_sockets: None) -> None:
    SuperfoneClient(base_url, KEY).close()


# --- TLS --------------------------------------------------------------------------------------------------


class _Api(BaseHTTPRequestHandler):
    requests_seen = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).requests_seen += 1
        body = json.dumps({"data": {"rows": [{"id": 1, "title": "Hot"}], "total_pages": 1}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An HTTPS API on loopback with a self-signed certificate; yields (base URL, the certificate)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # failed handshakes
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}/superfone", cert
    server.shutdown()
    server.server_close()


def _session(verify: bool | str) -> requests.Session:
    session = requests.Session()
    session.verify = verify
    return session


def test_a_session_with_verification_off_still_verifies(tls_server: tuple[str, Path]) -> None:
    base_url, _ = tls_server
    _Api.requests_seen = 0
    for session in (_session(False), None):
        with SuperfoneClient(base_url, KEY, session=session) as client:
            with pytest.raises(TransientError, match="TLS handshake failed"):
                client.list_labels()
            with pytest.raises(TransientError, match="TLS handshake failed"):
                client.upsert({"customer_phone": "+919700000001"})
    assert _Api.requests_seen == 0  # no request (and no key) ever crossed the unverified connection


def test_environment_cannot_switch_verification_off(tls_server: tuple[str, Path], monkeypatch) -> None:
    base_url, _ = tls_server
    for name in ("CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("PYTHONHTTPSVERIFY", "0")
    with SuperfoneClient(base_url, KEY) as client:
        with pytest.raises(TransientError, match="TLS handshake failed"):
            client.list_labels()


def test_the_right_certificate_authority_is_accepted(tls_server: tuple[str, Path], monkeypatch) -> None:
    """The control: the server works, and a custom CA bundle (session or REQUESTS_CA_BUNDLE) is honoured.
    A session's own bundle wins over the environment's, which requests would otherwise put in its place."""
    base_url, cert = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ssl.get_default_verify_paths().openssl_cafile))
    with SuperfoneClient(base_url, KEY, session=_session(str(cert))) as client:
        assert client.list_labels() == [{"id": 1, "title": "Hot"}]
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    with SuperfoneClient(base_url, KEY) as client:
        assert client.list_labels() == [{"id": 1, "title": "Hot"}]
