"""A remote kind whose extra is not installed says which extra to install, in one line (exit 2)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from tests.sources.locate.conftest import Outcome, one_error_line


@pytest.mark.parametrize(("source", "module", "extra"), [
    ("s3://leads/exports/leads.csv", "s3fs", "s3"),
    ("sftp://ops@sftp.example.com/drop/leads.csv", "sshfs", "sftp"),
    ("gsheets://1AbCdEf/Leads", "google.oauth2.service_account", "gsheets"),
])
def test_a_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch, cli: Callable[..., Outcome], source: str,
                                  module: str, extra: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed: importing it fails
    line = one_error_line(cli("validate", source))
    scheme = source.split("//", 1)[0] + "//"
    assert line == (f"superfone-import: error: {scheme} sources need the {extra} extra: "
                    f"pip install 'superfone-importer[{extra}]'")
