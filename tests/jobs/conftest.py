"""What the job tests share: a folder with a mapping and a drop folder, job files written into it, and the
command line run in-process from that folder."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from importer.cli.commands import main
from importer.sandbox import SandboxServer

MAPPING = "version: 1\ndefaults:\n  region: IN\nfields:\n  customer_phone: Phone\n  first_name: Name\n"
KEY_ENV = "ACME_SF_KEY"


def sheet(*phones: str, name: str = "Asha") -> str:
    return "Phone,Name\r\n" + "".join(f"{phone},{name}\r\n" for phone in phones)


def drop(folder: Path, name: str, text: str, age: float = 3600.0) -> Path:
    """A file written ``age`` seconds ago (settled, unless age is small)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.strip().splitlines()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A job folder (the working folder too) holding ``nightly.mapping.yaml`` and an empty ``exports/``."""
    folder = tmp_path / "leads"
    (folder / "exports").mkdir(parents=True)
    (folder / "nightly.mapping.yaml").write_text(MAPPING, encoding="utf-8")
    monkeypatch.chdir(folder)
    return folder


def job_text(server: SandboxServer | None, source: str = "exports/", extra: str = "", **entries: str) -> str:
    lines = ["version: 1", f"source: {source}", "mapping: nightly.mapping.yaml"]
    if server is not None:
        lines.append(f"account: {{base_url: {server.base_url}, api_key_env: {KEY_ENV}}}")
    lines += [f"{key}: {value}" for key, value in entries.items()]
    return "\n".join(lines) + "\n" + extra


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        sandbox: SandboxServer) -> Callable[..., Result]:
    """``cli(*argv)``: the command line in-process, the sandbox's key in the job's variable."""
    monkeypatch.setenv(KEY_ENV, sandbox.api_key)
    monkeypatch.delenv("SF_API_KEY", raising=False)

    def run(*argv: str) -> Result:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def writes(server: SandboxServer) -> list[dict[str, object]]:
    """The sandbox's requests since its log was last cleared."""
    return server.requests()


# The S3 and SFTP servers of the source tests (moto's server mode; asyncssh with a generated host key).
from tests.sources.locate.test_gsheets import google, keys  # noqa: E402, F401
from tests.sources.locate.test_s3 import moto_endpoint, s3  # noqa: E402, F401
from tests.sources.locate.test_sftp import serve, sftp, sftp_server  # noqa: E402, F401
from tests.sources.locate.test_web import files  # noqa: E402, F401
