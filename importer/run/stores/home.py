"""Where an account's sync state lives: one state per account, whatever folder a run starts in.

    --state FILE|postgresql://…     the run's own choice (a job's ``state:`` too)
    SF_STATE                        the same, for every run of the environment
    otherwise                       <the per-user data folder>/states/<account>.sqlite

The per-user data folder is platformdirs' (``~/.local/share/superfone-importer`` on Linux,
``%LOCALAPPDATA%\\superfone-importer`` on Windows, ``~/Library/Application Support/superfone-importer`` on macOS);
``SF_HOME`` replaces it (a container's volume, a test's folder). The account is the API's base URL and the
account's ``org_id`` (never the key), so the same sheet synced from a cron job, a terminal and the page meets one
ledger: "unchanged" and "already delivered" do not depend on the working folder.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = ["ENV_HOME", "ENV_STATE", "POSTGRES_SCHEMES", "StateLocation", "account_key", "candidates", "locate",
           "redact_url", "state_home"]

ENV_STATE = "SF_STATE"
ENV_HOME = "SF_HOME"
APP_NAME = "superfone-importer"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def account_key(base_url: str, org_id: int | None) -> str:
    """The target account: the API's base URL and the account's id (never the API key)."""
    return f"{base_url.rstrip('/')}#org={org_id if org_id is not None else 'unknown'}"


def state_home() -> Path:
    """The folder of the per-account states: ``SF_HOME``, else the per-user data folder's ``states``."""
    chosen = os.environ.get(ENV_HOME)
    if chosen:
        return Path(chosen).expanduser() / "states"
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "states"


def account_file(account: str) -> str:
    """A file name for an account that every OS accepts: its host, port and org id, and a digest of the whole key
    (two base URLs on one host stay apart)."""
    base_url, _, org = account.partition("#org=")
    digest = hashlib.sha256(account.encode("utf-8")).hexdigest()[:8]
    return f"{_host_part(base_url)}-org{_UNSAFE.sub('_', org)[:20]}-{digest}.sqlite"


def _host_part(base_url: str) -> str:
    parts = urlsplit(base_url)
    host = _UNSAFE.sub("_", parts.hostname or "account").strip("._") or "account"
    return f"{host}_{parts.port}" if parts.port else host


def candidates(state: str | Path | None, base_url: str) -> list[StateLocation]:
    """The states that may hold runs into accounts at ``base_url``, found without asking the API which account its
    key opens: the chosen state (``state``, ``SF_STATE``), else the existing files of that host in
    :func:`state_home` (the state's queries tell the base URLs apart)."""
    if (state is not None and str(state)) or os.environ.get(ENV_STATE):
        return [locate(state, account_key(base_url, None))]
    home = state_home()
    return [StateLocation(path=path) for path in sorted(home.glob(f"{_host_part(base_url)}-org*.sqlite"))
            if path.is_file()]


def redact_url(url: str) -> str:
    """A database URL without its password: ``postgresql://user:***@host/db``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))


@dataclass(frozen=True, slots=True)
class StateLocation:
    """A state: a file (``path``) or a PostgreSQL database (``url``); ``chosen`` says who chose it."""

    path: Path | None = None
    url: str | None = None
    chosen: str = "default"

    @property
    def is_postgres(self) -> bool:
        return self.url is not None

    @property
    def where(self) -> str:
        """What a person is shown: the file, or the database URL without its password."""
        return redact_url(self.url) if self.url is not None else str(self.path)

    def exists(self) -> bool:
        """A database is always there to ask; a file only once a run has written it."""
        return self.url is not None or (self.path is not None and self.path.is_file())


def locate(state: str | Path | None, account: str) -> StateLocation:
    """The state of ``account``: ``state`` (--state, a job's ``state:``), else ``SF_STATE``, else its own file in
    :func:`state_home`."""
    if state is not None and str(state):
        return _given(str(state), "--state")
    env = os.environ.get(ENV_STATE)
    if env:
        return _given(env, ENV_STATE)
    return StateLocation(path=state_home() / account_file(account))


def _given(text: str, chosen: str) -> StateLocation:
    if text.startswith(POSTGRES_SCHEMES):
        return StateLocation(url=text, chosen=chosen)
    return StateLocation(path=Path(text).expanduser(), chosen=chosen)
