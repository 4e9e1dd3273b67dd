"""https:// sources (plain http:// on loopback): a real server on a loopback port serves the files."""

from __future__ import annotations

import base64
import gzip
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from importer.errors import InputError
from importer.sandbox import SandboxServer
from importer.sources import locate_source
from tests.loopback import QuietHandler, serving
from tests.sources.locate.conftest import Outcome, assert_nowhere, leads_of, one_error_line, sheet_text

TOKEN = "tok-CANARY-a81f3c"
PASSWORD = "pw-CANARY-5e02b7"
CSV = sheet_text(("+919700000301", "+919700000302")).encode()


def _zip(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


class Files(QuietHandler):
    """What the file server answers, by path."""

    def do_GET(self) -> None:  # noqa: N802 (the handler's own name)
        parts = urlsplit(self.path)
        token = parse_qs(parts.query).get("token", [""])[0]
        routes: dict[str, tuple[int, dict[str, str], bytes]] = {
            "/files/leads.csv": (200, {"Content-Type": "application/octet-stream",
                                       "Last-Modified": "Wed, 01 May 2024 02:00:00 GMT"}, CSV),
            "/export": (200, {"Content-Type": "text/csv; charset=utf-8"}, CSV) if token == TOKEN
            else (403, {}, b"forbidden"),
            "/files/leads.csv.gz": (200, {"Content-Type": "application/gzip"}, gzip.compress(CSV)),
            "/download": (200, {"Content-Type": "application/octet-stream",
                                "Content-Disposition": 'attachment; filename="export.zip"'}, _zip("leads.csv", CSV)),
            "/files/big.csv.gz": (200, {}, gzip.compress(CSV * 2000)),
            "/page": (200, {"Content-Type": "text/html"}, b"<html></html>"),
            "/away": (302, {"Location": "http://files.example.com/leads.csv"}, b""),
            "/hop": (302, {"Location": "/files/leads.csv"}, b""),
        }
        if parts.path == "/private/leads.csv":
            expected = "Basic " + base64.b64encode(f"ops:{PASSWORD}".encode()).decode()
            routes[parts.path] = (200, {}, CSV) if self.headers.get("Authorization") == expected else (401, {}, b"")
        self.reply(*routes.get(parts.path, (404, {}, b"not found")))


@pytest.fixture(scope="module")
def files() -> Iterator[str]:
    with serving(Files) as url:
        yield url


def test_a_url_with_a_token_runs_end_to_end(files: str, fresh_sandbox: SandboxServer,
                                            cli: Callable[..., Outcome]) -> None:
    outcome = cli("run", f"{files}/export?token={TOKEN}", fresh_sandbox)
    assert outcome.code == 0, outcome.err
    assert {"+919700000301", "+919700000302"} <= leads_of(fresh_sandbox).keys()
    summary = json.loads((outcome.report() / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"] == f"{files}/export?token=***" and summary["source"]["kind"] == "https"
    assert outcome.report().name.endswith("-export")  # the reader was chosen by Content-Type: text/csv
    assert assert_nowhere([TOKEN], outcome) >= 5


def test_a_password_in_the_url_is_sent_and_never_shown(files: str, cli: Callable[..., Outcome]) -> None:
    outcome = cli("validate", f"http://ops:{PASSWORD}@127.0.0.1:{files.rsplit(':', 1)[1]}/private/leads.csv")
    assert outcome.code == 0, outcome.err
    refused = cli("validate", f"http://ops:wrong@127.0.0.1:{files.rsplit(':', 1)[1]}/private/leads.csv")
    assert one_error_line(refused).endswith("/private/leads.csv: the server answered 401 Unauthorized")
    assert "ops@127.0.0.1" in refused.err
    assert_nowhere([PASSWORD, "wrong@"], outcome)
    assert_nowhere([PASSWORD, "wrong@"], refused)


@pytest.mark.parametrize(("path", "name", "modified"), [
    ("/files/leads.csv", "leads.csv", "2024-05-01T02:00:00+00:00"),
    ("/files/leads.csv.gz", "leads.csv", None),
    ("/download", "leads.csv", None),  # Content-Disposition names the zip; its one member is read
    ("/hop", "leads.csv", "2024-05-01T02:00:00+00:00"),  # a redirect on the same server is followed
])
def test_the_reader_follows_the_name_or_the_content_type(files: str, path: str, name: str,
                                                         modified: str | None) -> None:
    with locate_source(files + path) as found:
        assert found.path.name == name and found.path.read_bytes() == CSV
        assert (found.modified.isoformat() if found.modified else None) == modified
        copy = found.path
    assert not copy.exists()


@pytest.mark.parametrize(("path", "expected"), [
    ("/missing.csv", "the server answered 404 Not Found"),
    ("/export?token=wrong", "the server answered 403 Forbidden"),
    ("/page", "cannot tell what kind of file it is (Content-Type text/html); use a URL ending in the file's name, "
              "such as …/leads.csv"),
    ("/away", "http:// is accepted for loopback addresses only; use https://"),
])
def test_what_stops_a_download_is_one_line(files: str, cli: Callable[..., Outcome], path: str,
                                           expected: str) -> None:
    outcome = cli("validate", files + path)
    shown = files + path.replace("=wrong", "=***")
    assert one_error_line(outcome) == f"superfone-import: error: {shown}: {expected}"


def test_downloads_are_limited_in_size(files: str) -> None:
    with pytest.raises(InputError, match=r"the file is 52 bytes, above the 10-byte limit$"):
        locate_source(f"{files}/files/leads.csv", max_bytes=10)
    with pytest.raises(InputError, match=r"big.csv.gz: unpacks to more than 5,000 bytes, the limit$"):
        locate_source(f"{files}/files/big.csv.gz", max_bytes=5000)  # a small download, a large sheet


def test_an_unreachable_server_is_one_line(cli: Callable[..., Outcome]) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = one_error_line(cli("validate", f"http://127.0.0.1:{port}/leads.csv?token={TOKEN}"))
    assert line == (f"superfone-import: error: http://127.0.0.1:{port}/leads.csv?token=***: cannot reach the server "
                    "(ConnectionError)")
