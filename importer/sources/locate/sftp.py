"""``sftp://user@host[:port]/path-or-glob`` sources, through sshfs and asyncssh (the ``sftp`` extra).

The path is absolute (``sftp://host/data/leads.csv``); ``/~/`` starts it in the user's home folder. The private
key comes from ``SF_SFTP_KEY`` (a path), else the SSH agent or the default keys (``~/.ssh/id_*``); a password only
from ``SF_SFTP_PASSWORD``. The server's host key must be in ``~/.ssh/known_hosts`` or in the file named by
``SF_SFTP_KNOWN_HOSTS``: an unknown host is refused, with the command that adds it (there is no way around it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from importer.errors import InputError
from importer.sources.locate.extras import require
from importer.sources.locate.remote import Remote
from importer.sources.locate.uri import Address

SECRET_VARIABLES = ("SF_SFTP_PASSWORD",)
DEFAULT_PORT = 22
#: Seconds to connect and log in.
CONNECT_TIMEOUT = 20


def known_hosts_file() -> Path:
    named = os.environ.get("SF_SFTP_KNOWN_HOSTS")
    return Path(named).expanduser() if named else Path.home() / ".ssh" / "known_hosts"


def sftp_remote(address: Address) -> Remote:
    where = address.display
    require("sftp", "sshfs", "asyncssh")
    if address.password:
        raise InputError(f"{where}: a password in the address is refused; put it in SF_SFTP_PASSWORD")
    if not address.host:
        raise InputError(f"{where}: no host; write sftp://user@host/path")
    path = address.path or "/"
    if path.startswith("/~/"):
        path = path[3:] or "."
    port = address.port or DEFAULT_PORT
    user = f"{address.user}@" if address.user else ""
    shown_port = f":{port}" if port != DEFAULT_PORT else ""
    options = _options(address, where)
    return Remote("sftp", where, path, "", connect=lambda: _connect(address.host, port, options, where),
                  location=lambda name: f"sftp://{user}{address.host}{shown_port}/{name.lstrip('/')}"
                  if name.startswith("/") else f"sftp://{user}{address.host}{shown_port}/~/{name}",
                  explain=explain, disconnect=_disconnect)


def _options(address: Address, where: str) -> dict[str, Any]:
    known_hosts = known_hosts_file()
    options: dict[str, Any] = {"port": address.port or DEFAULT_PORT, "known_hosts": str(known_hosts),
                               "connect_timeout": CONNECT_TIMEOUT, "login_timeout": CONNECT_TIMEOUT}
    if address.user:
        options["username"] = address.user
    key = os.environ.get("SF_SFTP_KEY")
    if key:
        key_path = Path(key).expanduser()
        if not key_path.is_file():
            raise InputError(f"{where}: SF_SFTP_KEY names {key_path}, which is not a file")
        options["client_keys"] = [str(key_path)]
    password = os.environ.get("SF_SFTP_PASSWORD")
    if password:
        options["password"] = password
    return options


def _connect(host: str, port: int, options: dict[str, Any], where: str) -> Any:
    import asyncssh
    from sshfs import SSHFileSystem

    known_hosts = Path(options["known_hosts"])
    if not known_hosts.is_file():
        raise InputError(f"{where}: cannot check the host key of {host}: {known_hosts} does not exist; "
                         f"{_add_it(host, port, known_hosts)}")
    try:
        return SSHFileSystem(host, skip_instance_cache=True, timeout=CONNECT_TIMEOUT * 2, **options)
    except asyncssh.HostKeyNotVerifiable:
        raise InputError(f"{where}: the host key of {host}:{port} is not in {known_hosts} (unknown host, or its "
                         f"key changed); {_add_it(host, port, known_hosts)}") from None
    except (PermissionError, asyncssh.PermissionDenied):
        raise InputError(f"{where}: the server refused the login (tried {_tried(options)})") from None
    except asyncssh.KeyImportError:
        raise InputError(f"{where}: SF_SFTP_KEY is not a private key file asyncssh can read "
                         "(or it needs a passphrase)") from None


def _disconnect(fs: Any) -> None:
    """Close the SSH connection now, on the file system's own event loop (sshfs closes it only when collected)."""
    from fsspec.asyn import sync

    async def close() -> None:
        fs.client.close()
        await fs.client.wait_closed()

    sync(fs.loop, close, timeout=CONNECT_TIMEOUT)


def _add_it(host: str, port: int, known_hosts: Path) -> str:
    scan = f"ssh-keyscan -p {port} {host}" if port != DEFAULT_PORT else f"ssh-keyscan {host}"
    return f"check the server's fingerprint with its owner, then add it: {scan} >> {known_hosts}"


def _tried(options: dict[str, Any]) -> str:
    tried = ["the key in SF_SFTP_KEY"] if "client_keys" in options else ["the SSH agent and the default keys"]
    if "password" in options:
        tried.append("the password in SF_SFTP_PASSWORD")
    return " and ".join(tried)


def explain(exc: BaseException) -> str | None:
    name = type(exc).__name__
    if name == "SFTPPermissionDenied":
        return "access denied by the server"
    if name in ("SFTPNoSuchFile", "SFTPNoSuchPath"):
        return "no such file or folder"
    if name in ("ConnectionLost", "DisconnectError"):
        return "the server closed the connection"
    return None
