"""sftp:// sources against an asyncssh SFTP server on a loopback port: a generated host key in a known_hosts file,
a client key (SF_SFTP_KEY) or a password (SF_SFTP_PASSWORD); the server serves a folder of the test's."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from importer.errors import SourceNotReady
from importer.sandbox import SandboxServer
from importer.sources import locate_source, move_source
from tests.sources.locate.conftest import Outcome, assert_nowhere, leads_of, one_error_line, sheet_text

USER = "ops"
PASSWORD = "pw-CANARY-sftp-3c9e1a"
HOUR = 3600.0


class _Accounts(asyncssh.SSHServer):
    connections: list[asyncssh.SSHServerConnection] = []

    def connection_made(self, connection: asyncssh.SSHServerConnection) -> None:
        type(self).connections.append(connection)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USER and password == PASSWORD


@dataclass
class Sftp:
    port: int
    root: Path
    host_key: asyncssh.SSHKey
    client_key: asyncssh.SSHKey

    def url(self, path: str) -> str:
        return f"sftp://{USER}@127.0.0.1:{self.port}{path}"

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_key.export_public_key().decode().strip()}\n"


@pytest.fixture(scope="module")
def sftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sftp]:
    """The server, in a thread with its own event loop, serving (chrooted) a folder the tests fill."""
    root = tmp_path_factory.mktemp("sftp-root")
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def listen() -> Any:
        return await asyncssh.listen(
            "127.0.0.1", 0, server_host_keys=[host_key], server_factory=_Accounts,
            authorized_client_keys=asyncssh.import_authorized_keys(client_key.export_public_key().decode()),
            sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=str(root).encode()))

    acceptor = asyncio.run_coroutine_threadsafe(listen(), loop).result(timeout=30)
    port = acceptor.sockets[0].getsockname()[1]
    yield Sftp(port, root, host_key, client_key)

    async def close() -> None:
        acceptor.close()
        await acceptor.wait_closed()
        for connection in _Accounts.connections:
            connection.close()
            await connection.wait_closed()

    asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=30)
    loop.close()


@pytest.fixture
def sftp(sftp_server: Sftp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A clean served folder; the host in a known_hosts file; the client key in SF_SFTP_KEY; no agent and no
    default keys (an empty home)."""
    for child in sftp_server.root.iterdir():
        _remove(child)
    home = tmp_path / "home"
    home.mkdir()
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(sftp_server.known_hosts_line(), encoding="utf-8")
    key_file = tmp_path / "id_ed25519"
    key_file.write_bytes(sftp_server.client_key.export_private_key())
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.setenv("SF_SFTP_KNOWN_HOSTS", str(known_hosts))
    monkeypatch.setenv("SF_SFTP_KEY", str(key_file))
    monkeypatch.delenv("SF_SFTP_PASSWORD", raising=False)
    key_lines = [line for line in key_file.read_text().splitlines() if line and not line.startswith("-----")]
    yield {"server": sftp_server, "known_hosts": known_hosts, "key_lines": key_lines}


def _remove(path: Path) -> None:
    if path.is_dir():
        for child in path.iterdir():
            _remove(child)
        path.rmdir()
    else:
        path.unlink()


def serve(server: Sftp, path: str, data: bytes, age: float = HOUR) -> Path:
    target = server.root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    stamp = time.time() - age
    os.utime(target, (stamp, stamp))
    return target


def test_a_glob_over_sftp_runs_its_newest_file_end_to_end(sftp: dict[str, Any], fresh_sandbox: SandboxServer,
                                                          cli: Callable[..., Outcome]) -> None:
    server = sftp["server"]
    serve(server, "/drop/leads-1.csv", sheet_text(("+919700000501",)).encode(), age=2 * HOUR)
    serve(server, "/drop/leads-2.csv.gz", gzip.compress(sheet_text(("+919700000502",)).encode()), age=HOUR)
    serve(server, "/drop/leads-3.csv", sheet_text(("+919700000503",)).encode(), age=3 * HOUR)
    outcome = cli("run", server.url("/drop/leads-*"), fresh_sandbox)
    assert outcome.code == 0, outcome.err
    leads = leads_of(fresh_sandbox)
    assert "+919700000502" in leads and not {"+919700000501", "+919700000503"} & leads.keys()
    summary = json.loads((outcome.report() / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"] == server.url("/drop/leads-*")
    assert summary["source"]["file"] == server.url("/drop/leads-2.csv.gz") and summary["source"]["kind"] == "sftp"
    assert assert_nowhere(sftp["key_lines"], outcome) >= 5


def test_a_password_from_the_environment_logs_in_and_never_shows(sftp: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                                                 cli: Callable[..., Outcome]) -> None:
    server = sftp["server"]
    serve(server, "/leads.csv", sheet_text().encode())
    monkeypatch.delenv("SF_SFTP_KEY")
    monkeypatch.setenv("SF_SFTP_PASSWORD", PASSWORD)
    accepted = cli("validate", server.url("/leads.csv"))
    assert accepted.code == 0, accepted.err
    monkeypatch.setenv("SF_SFTP_PASSWORD", "wrong-" + PASSWORD)
    refused = cli("validate", server.url("/leads.csv"))
    assert one_error_line(refused) == (f"superfone-import: error: {server.url('/leads.csv')}: the server refused the "
                                       "login (tried the SSH agent and the default keys and the password in "
                                       "SF_SFTP_PASSWORD)")
    for outcome in (accepted, refused):
        assert_nowhere([PASSWORD], outcome)


def test_an_unknown_host_is_refused_with_the_way_to_add_it(sftp: dict[str, Any], cli: Callable[..., Outcome]) -> None:
    server = sftp["server"]
    serve(server, "/leads.csv", sheet_text().encode())
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    sftp["known_hosts"].write_text(f"[127.0.0.1]:{server.port} {other}\nexample.com {other}\n", encoding="utf-8")
    line = one_error_line(cli("validate", server.url("/leads.csv")))
    assert line == (f"superfone-import: error: {server.url('/leads.csv')}: the host key of 127.0.0.1:{server.port} "
                    f"is not in {sftp['known_hosts']} (unknown host, or its key changed); check the server's "
                    f"fingerprint with its owner, then add it: ssh-keyscan -p {server.port} 127.0.0.1 >> "
                    f"{sftp['known_hosts']}")
    sftp["known_hosts"].unlink()
    line = one_error_line(cli("validate", server.url("/leads.csv")))
    assert f"cannot check the host key of 127.0.0.1: {sftp['known_hosts']} does not exist" in line


def test_settle_and_move_to_over_sftp(sftp: dict[str, Any]) -> None:
    server = sftp["server"]
    serve(server, "/drop/leads-1.csv", sheet_text().encode(), age=HOUR)
    fresh = serve(server, "/drop/leads-2.csv", sheet_text().encode(), age=0)
    with pytest.raises(SourceNotReady, match=r"leads-2.csv changed \d s ago and may still be being written"):
        locate_source(server.url("/drop/"), settle=60)
    with locate_source(server.url("/drop/"), settle=60, now=fresh.stat().st_mtime + 61) as found:
        assert found.location == server.url("/drop/leads-2.csv") and found.modified is not None
        assert move_source(found, "done") == server.url("/drop/done/leads-2.csv")
    with locate_source(server.url("/drop/leads-1.csv")) as found:
        assert move_source(found, "/archive") == server.url("/archive/leads-1.csv")
    assert (server.root / "drop" / "done" / "leads-2.csv").is_file()
    assert (server.root / "archive" / "leads-1.csv").is_file()
    assert not list((server.root / "drop").glob("*.csv"))


def test_a_missing_file_over_sftp_is_one_line(sftp: dict[str, Any], cli: Callable[..., Outcome]) -> None:
    server = sftp["server"]
    assert one_error_line(cli("validate", server.url("/nope.csv"))).endswith(": no such file or folder")
    assert one_error_line(cli("validate", server.url("/nope/*.csv"))).endswith(": no file matches")
