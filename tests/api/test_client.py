"""SuperfoneClient against a scripted loopback HTTP server: status mapping, transport faults, safety."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import urllib3
from urllib3 import exceptions as pool_errors
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError, ProtocolError, ReadTimeoutError

from importer.api.answers import map_pool_exception
from importer.api.client import DEFAULT_BASE_URL, SuperfoneClient, check_base_url
from importer.errors import (
    ApiError,
    AuthError,
    ConfigError,
    CustomerNotFound,
    RejectedError,
    TransientError,
    UncertainError,
)

KEY = "canary-8f3a1c9e-SECRET"
UNAUTHORIZED = "UnAuthorized, Please Provide Valid API Key"

# What the scripted server does for one request: (status, headers, body) or a named misbehaviour.
Answer = tuple[int, dict[str, str], bytes] | str


def answer(status: int, body: Any = None, **headers: str) -> Answer:
    raw = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
    return (status, {k.replace("_", "-"): v for k, v in headers.items()}, raw)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client hanging up on a "hang" step is expected


class ScriptedServer:
    """A loopback HTTP/1.1 server answering from a queue of scripted answers; records what it got."""

    def __init__(self) -> None:
        self.script: list[Answer] = []
        self.default: Answer = answer(200, {"data": None, "message": "success"})
        self.received: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.received.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                        "port": self.client_address[1],
                    }
                )
                step = server.script.pop(0) if server.script else server.default
                if callable(step):
                    step = step(self)
                if step == "drop":  # close without a response
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if step == "truncate":  # status line and headers, then half the body
                    self.send_response(200)
                    self.send_header("Content-Length", "100")
                    self.end_headers()
                    self.wfile.write(b'{"data": nu')
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if step == "hang":
                    time.sleep(0.6)
                    step = server.default
                assert not isinstance(step, str)
                status, headers, raw = step
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/superfone"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def shared_server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


@pytest.fixture
def server(shared_server: ScriptedServer) -> ScriptedServer:
    shared_server.script, shared_server.received = [], []
    return shared_server


@pytest.fixture
def client(server: ScriptedServer) -> Iterator[SuperfoneClient]:
    with SuperfoneClient(server.url, KEY, timeout=(2.0, 0.3)) as api:
        yield api


def raised(call: Callable[[], Any]) -> ApiError:
    with pytest.raises(ApiError) as info:
        call()
    return info.value


LEAD = {"customer_phone": "+919800000001", "first_name": "Asha", "customer_note": "héllo"}


def test_upsert_sends_json_with_the_key_header(client: SuperfoneClient, server: ScriptedServer) -> None:
    assert client.upsert(LEAD) is None
    request = server.received[0]
    assert (request["method"], request["path"]) == ("POST", "/superfone/enterprise/api/lead")
    assert request["headers"]["x-api-key"] == KEY
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == LEAD


def test_connections_are_kept_alive(client: SuperfoneClient, server: ScriptedServer) -> None:
    for _ in range(5):
        client.upsert(LEAD)
    assert len({request["port"] for request in server.received}) == 1  # one TCP connection for all five


@pytest.mark.parametrize(
    ("step", "kind", "message"),
    [
        (answer(401, {"message": "UnAuthorized, Please Provide Valid API Key"}), AuthError, UNAUTHORIZED),
        (answer(400, {"message": "Customer not found."}), CustomerNotFound, "Customer not found."),
        (answer(404, {"message": "Lead stage name not found"}), RejectedError, "Lead stage name not found"),
        (answer(422, {"detail": "x"}), RejectedError, "HTTP 422"),
        (answer(429, {"message": "Too Many Requests"}), TransientError, "Too Many Requests"),
        (answer(502, b"<html>Bad Gateway</html>"), TransientError, "HTTP 502"),
        (answer(503, b""), TransientError, "HTTP 503"),
        (answer(504, b"oops"), TransientError, "HTTP 504"),
        (answer(500, b"Internal Server Error"), UncertainError, "HTTP 500"),
        (answer(500, {"message": "boom"}), UncertainError, "boom"),
        (answer(507, b""), UncertainError, "HTTP 507"),
    ],
)
def test_status_mapping(
    client: SuperfoneClient, server: ScriptedServer, step: Answer, kind: type[ApiError], message: str
) -> None:
    server.script = [step]
    error = raised(lambda: client.upsert(LEAD))
    assert type(error) is kind
    assert error.message == message
    assert error.status == int(step[0])


def test_redirects_are_not_followed(client: SuperfoneClient, server: ScriptedServer) -> None:
    with ScriptedServer() as elsewhere:
        server.script = [answer(302, b"", Location=elsewhere.url + "/enterprise/api/lead")]
        error = raised(lambda: client.upsert(LEAD))
        assert type(error) is ApiError and error.status == 302
        assert "HTTP 302" in error.message
        assert elsewhere.received == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), ("garbage", None), (None, None)],
)
def test_retry_after_seconds(
    client: SuperfoneClient, server: ScriptedServer, header: str | None, expected: float | None
) -> None:
    headers = {"Retry-After": header} if header is not None else {}
    server.script = [(429, headers, b"{}")]
    error = raised(lambda: client.upsert(LEAD))
    assert isinstance(error, TransientError) and error.retry_after == expected


def test_retry_after_http_date(client: SuperfoneClient, server: ScriptedServer) -> None:
    server.script = [answer(503, b"", Retry_After=formatdate(time.time() + 20, usegmt=True))]
    error = raised(lambda: client.upsert(LEAD))
    assert error.retry_after is not None and 17 <= error.retry_after <= 20


def test_dropped_connection_after_sending_is_uncertain(client: SuperfoneClient, server: ScriptedServer) -> None:
    for step in ("drop", "truncate"):
        server.script = [step]
        error = raised(lambda: client.upsert(LEAD))
        assert type(error) is UncertainError, step
        assert error.status is None
    client.upsert(LEAD)  # the pool recovers: the next request works
    assert len(server.received) == 3  # and urllib3 did not retry behind our back


def test_read_timeout_is_uncertain(client: SuperfoneClient, server: ScriptedServer) -> None:
    server.script = ["hang"]
    error = raised(lambda: client.upsert(LEAD))
    assert type(error) is UncertainError
    assert "may have been applied" in error.message


def test_refused_connection_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with SuperfoneClient(f"http://127.0.0.1:{port}/superfone", KEY) as api:
        error = raised(lambda: api.upsert(LEAD))
    assert type(error) is TransientError
    assert error.message == "could not connect to 127.0.0.1: connection refused"


def test_connect_timeout_is_transient() -> None:
    class TimingOut(requests.adapters.HTTPAdapter):
        def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
            raise requests.ConnectTimeout("timed out")

    session = requests.Session()
    session.mount("https://", TimingOut())
    with SuperfoneClient(DEFAULT_BASE_URL, KEY, session=session) as api:
        error = raised(lambda: api.upsert(LEAD))
    assert type(error) is TransientError and "timed out" in error.message


def test_get_lead_returns_data_or_none(client: SuperfoneClient, server: ScriptedServer) -> None:
    lead = {"id": 12345, "phones": [{"phone": "+919800000001", "customer_id": 12345}]}
    server.script = [
        answer(200, {"data": lead, "message": "success"}),
        answer(404, {"message": "Customer not found"}),
        answer(404, {"detail": "Not Found"}),
    ]
    assert client.get_lead("+919800000001") == lead
    assert parse_qs(urlsplit(server.received[0]["path"]).query) == {"phone": ["+919800000001"]}
    assert "%2B91" in server.received[0]["path"]
    assert client.get_lead("+919800000002") is None
    assert type(raised(lambda: client.get_lead("+919800000003"))) is RejectedError  # a wrong base URL


def page(rows: list[dict[str, Any]], current: int, total_pages: int) -> Answer:
    data = {"rows": rows, "total_pages": total_pages, "current_page": current, "page_size": 100}
    return answer(200, {"data": {**data, "total_items": 250}, "message": "success"})


def test_list_all_reads_every_page(client: SuperfoneClient, server: ScriptedServer) -> None:
    server.script = [
        page([{"id": n, "title": f"L{n}"} for n in range(100)], 1, 3),
        page([{"id": n, "title": f"L{n}"} for n in range(100, 200)], 2, 3),
        page([{"id": n, "title": f"L{n}"} for n in range(200, 250)], 3, 3),
    ]
    rows = client.list_labels()
    assert [row["id"] for row in rows] == list(range(250))
    queries = [parse_qs(urlsplit(r["path"]).query) for r in server.received]
    assert [q["page"] for q in queries] == [["1"], ["2"], ["3"]]
    assert all(r["path"].startswith("/superfone/enterprise/api/label?") for r in server.received)


def test_list_all_stops_on_an_empty_page_and_rejects_unknown_kinds(
    client: SuperfoneClient, server: ScriptedServer
) -> None:
    server.script = [page([{"id": 1, "title": "A"}], 1, 99), page([], 2, 99)]
    assert client.list_all("lead-stage") == [{"id": 1, "title": "A"}]
    with pytest.raises(ValueError):
        client.list_all("leads")
    server.script = [answer(200, {"data": None, "message": "success"})]
    assert "no rows" in raised(lambda: client.list_products()).message


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/superfone",
        "http://10.0.0.1/superfone",
        "http://localhost.example.com/x",
        "ftp://127.0.0.1/x",
        "prod-api.superfone.co.in/superfone",
        "https://user:pw@example.com/x",
    ],
)
def test_unsafe_base_urls_are_refused_before_any_connection(url: str) -> None:
    with pytest.raises(ConfigError):
        SuperfoneClient(url, KEY)


@pytest.mark.parametrize(
    "url",
    [
        "https://prod-api.superfone.co.in/superfone/",
        "http://127.0.0.1:8765",
        "http://127.9.9.9",
        "http://[::1]:80/x",
        "http://localhost:8765/superfone",
    ],
)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    assert check_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize("key", ["", "with space", "line\nbreak", "ключ"])
def test_bad_keys_are_refused_without_echoing_them(key: str) -> None:
    with pytest.raises(ConfigError) as info:
        SuperfoneClient(DEFAULT_BASE_URL, key)
    assert not key or key not in str(info.value)


def test_a_supplied_session_keeps_tls_verification_on() -> None:
    session = requests.Session()
    session.verify = False
    seen: list[Any] = []

    class Recording(requests.adapters.HTTPAdapter):
        def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
            seen.append(kwargs.get("verify"))
            raise requests.ConnectTimeout("stop here")

    session.mount("https://", Recording())
    api = SuperfoneClient(DEFAULT_BASE_URL, KEY, session=session)
    raised(lambda: api.upsert(LEAD))
    assert len(seen) == 1 and seen[0] not in (False, None)  # True, or the CA bundle from the environment
    api.close()
    assert session.adapters  # a supplied session is not closed by the client


def test_pool_grows_to_the_worker_count(client: SuperfoneClient) -> None:
    client.ensure_pool_size(64)
    adapter = client._session.get_adapter("https://prod-api.superfone.co.in")
    assert adapter._pool_maxsize == 64  # type: ignore[attr-defined]
    assert adapter.max_retries.total == 0  # type: ignore[attr-defined]


def test_the_key_never_leaks(server: ScriptedServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = answer(400, {"message": f"bad key {KEY} in header"})
    server.script = [
        answer(401, {"message": "UnAuthorized, Please Provide Valid API Key"}),
        echo,
        answer(429, b"", Retry_After="x"),
        answer(500, b""),
        answer(503, b""),
        "drop",
        "truncate",
        "hang",
        answer(302, b"", Location="http://a/"),
        answer(404, {"message": KEY}),
    ]
    api = SuperfoneClient(server.url, KEY, timeout=(2.0, 0.3))
    errors: list[BaseException] = []
    calls: list[Callable[[], Any]] = [lambda: api.upsert(LEAD)] * 9 + [lambda: api.get_lead("+919800000001")]
    for call in calls:
        errors.append(raised(call))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    errors.append(raised(lambda: SuperfoneClient(f"http://127.0.0.1:{port}", KEY).upsert(LEAD)))
    for bad in ("http://example.com", f"{KEY}://x"):
        with pytest.raises(ConfigError) as info:
            SuperfoneClient(bad, KEY)
        errors.append(info.value)
    assert len(errors) == 13
    texts = [repr(api), repr(api.__dict__), *(caplog.messages)]
    for error in errors:
        texts += [str(error), repr(error), repr(error.args), str(getattr(error, "message", ""))]
    assert not [text for text in texts if KEY in text]
    assert errors[1].message == "bad key *** in header"
    api.close()


def test_mask_key_masks_the_whole_key_only() -> None:
    from importer.api.answers import mask_key

    assert mask_key("the API key would travel", "k") == "the API key would travel"
    assert mask_key("refusing http://k1/x", "k1") == "refusing http://***/x"
    assert mask_key("echo: abc-123-xyz!", "abc-123-xyz") == "echo: ***!"


POOL = urllib3.HTTPConnectionPool("127.0.0.1", 9)
URL = "/superfone/enterprise/api/lead"


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (MaxRetryError(POOL, URL, ConnectTimeoutError(POOL, "timed out")), TransientError, "timed out"),
        (MaxRetryError(POOL, URL, NewConnectionError(POOL, "refused")), TransientError, "connection failed"),
        (MaxRetryError(POOL, URL, pool_errors.SSLError("bad certificate")), TransientError, "TLS handshake"),
        (pool_errors.SSLError("bad certificate"), TransientError, "TLS handshake"),
        (ReadTimeoutError(POOL, URL, "read timed out"), UncertainError, "may have been applied"),
        (ProtocolError("Connection aborted.", ConnectionResetError()), UncertainError, "lost after sending"),
        (pool_errors.ClosedPoolError(POOL, "closed"), UncertainError, "lost after sending"),
        (OSError("broken pipe"), UncertainError, "lost after sending"),
        (pool_errors.DecodeError("bad gzip"), UncertainError, "failed after sending"),
    ],
)
def test_pool_errors_mean_what_requests_errors_mean(error: Exception, kind: type[ApiError], words: str) -> None:
    """An upsert goes straight through urllib3's pool: its errors are told apart as requests' are (never sent:
    transient; perhaps applied: uncertain)."""
    mapped = map_pool_exception(error, "http://127.0.0.1:9/superfone")
    assert type(mapped) is kind and words in mapped.message and mapped.status is None


def test_a_proxy_sends_upserts_through_the_session(monkeypatch: pytest.MonkeyPatch, server: ScriptedServer) -> None:
    """With a proxy in the environment an upsert goes through the session (which knows the proxy), not the pool."""
    monkeypatch.setenv("HTTP_PROXY", server.url.rsplit("/", 1)[0])
    monkeypatch.setenv("NO_PROXY", "")
    with SuperfoneClient(server.url, KEY, timeout=(2.0, 0.3)) as api:
        sent: list[str] = []
        monkeypatch.setattr(api._session, "request", lambda *args, **kwargs: sent.append(args[0]) or _ok())
        api.upsert(LEAD)
    assert sent == ["POST"]


def _ok() -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = b"{}"
    return response
