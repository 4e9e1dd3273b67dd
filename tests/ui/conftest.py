"""The page served on a loopback port against a sandbox of its own (the page sends; other tests' sandbox stays
as they expect it)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from importer.sandbox import SandboxConfig, SandboxServer
from importer.ui.server import UiServer
from importer.ui.settings import Account, UiSettings
from tests.ui.browser import start_browser, stop_browser
from tests.ui.client import PageClient

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
#: Saves a screenshot of what the browser shows, under the name given (see ``shots``).
Shot = Callable[[str], None]


@pytest.fixture(scope="module")
def ui_sandbox() -> Iterator[SandboxServer]:
    """A sandbox with a key no page should ever show."""
    config = SandboxConfig(api_key="sk-" + secrets.token_hex(12))
    with SandboxServer(config, seed=SAMPLE / "catalog.yaml") as server:
        yield server


def page_settings(work_dir: Path, sandbox: SandboxServer | None, **changes: object) -> UiSettings:
    account = Account(sandbox.base_url, sandbox.api_key, "the sandbox's") if sandbox else Account()
    settings = UiSettings(work_dir, account, sandbox=sandbox is not None, rate=200.0, concurrency=8,
                          state=work_dir / "sandbox-state.sqlite")
    for name, value in changes.items():
        setattr(settings, name, value)
    return settings


@pytest.fixture
def page(tmp_path: Path, ui_sandbox: SandboxServer) -> Iterator[PageClient]:
    """The page against a fresh sandbox, with its key known (as ``ui --sandbox`` starts it)."""
    ui_sandbox.reset(config=True)
    with UiServer(page_settings(tmp_path / "work", ui_sandbox)) as server:
        client = PageClient(server)
        yield client
        client.close()


# The browser tests' fixtures: one headless Chromium per test module, its screenshots, a page of its own.

@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("browser")
    driver = start_browser(folder / "profile", folder / "downloads")
    driver.downloads = folder / "downloads"
    yield driver
    stop_browser(driver, folder / "profile")


@pytest.fixture(scope="module")
def shots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Shot:
    chosen = request.config.getoption("--screenshots")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {folder}")

    def shot(name: str) -> None:
        browser.save_screenshot(str(folder / f"{name}.png"))

    return shot


@pytest.fixture
def page_url(tmp_path: Path, ui_sandbox: SandboxServer) -> Iterator[str]:
    ui_sandbox.reset(config=True)
    with UiServer(page_settings(tmp_path / "work", ui_sandbox)) as server:
        yield server.url
