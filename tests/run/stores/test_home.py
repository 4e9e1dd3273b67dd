"""Where an account's state lives: --state, SF_STATE, else a file per account in the per-user data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.run.stores.home import account_file, account_key, locate, redact_url, state_home

PROD = account_key("https://prod-api.superfone.co.in/superfone/", 42)


def test_the_default_is_a_file_per_account_in_the_data_folder(state_home: Path) -> None:
    place = locate(None, PROD)
    assert place.path == state_home / "states" / account_file(PROD) and place.chosen == "default"
    assert account_file(PROD).startswith("prod-api.superfone.co.in-org42-") and account_file(PROD).endswith(".sqlite")
    other = account_key("https://prod-api.superfone.co.in/superfone", 43)
    sandbox = account_key("http://127.0.0.1:8765/superfone", 42)
    assert len({account_file(PROD), account_file(other), account_file(sandbox)}) == 3
    assert account_file(sandbox).startswith("127.0.0.1_8765-org42-")
    assert all(char not in account_file(sandbox) for char in '<>:"/\\|?*')  # a name Windows accepts


def test_without_sf_home_the_platforms_own_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SF_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # what platformdirs reads on Linux
    from platformdirs import user_data_dir

    assert state_home() == Path(user_data_dir("superfone-importer", appauthor=False)) / "states"


def test_state_and_sf_state_choose_another_place(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SF_STATE", str(tmp_path / "team.sqlite"))
    assert (locate(None, PROD).path, locate(None, PROD).chosen) == (tmp_path / "team.sqlite", "SF_STATE")
    given = locate(tmp_path / "mine.sqlite", PROD)
    assert (given.path, given.chosen) == (tmp_path / "mine.sqlite", "--state")
    url = "postgresql://sales:s3cret-pw@db.internal:5432/crm"
    shared = locate(url, PROD)
    assert shared.is_postgres and shared.exists() and shared.where == "postgresql://sales:***@db.internal:5432/crm"
    assert redact_url("postgresql://sales@db/crm") == "postgresql://sales@db/crm"
