"""Headless Chromium for the browser tests: where it is, whether it is there, and a driver with a fresh profile.

Paths: ``/usr/bin/chromium`` and ``/usr/bin/chromedriver`` (Debian's ``chromium`` and ``chromium-driver``), or
env ``SF_TEST_CHROMIUM`` / ``SF_TEST_CHROMEDRIVER``. Without them the browser tests are left out, and the run says
so in one line (tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

BROWSER_TESTS = "tests/ui/test_browser.py"
#: Every module of browser tests (left out together without Chromium).
BROWSER_MODULES = (BROWSER_TESTS, "tests/ui/test_browser_wizard.py")
INSTALL = "apt-get install chromium chromium-driver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900")


def chromium() -> Path:
    return Path(os.environ.get("SF_TEST_CHROMIUM", "/usr/bin/chromium"))


def chromedriver() -> Path:
    return Path(os.environ.get("SF_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"))


def missing() -> str | None:
    """Why the browser tests cannot run here (one phrase), or None."""
    absent = [str(path) for path in (chromium(), chromedriver()) if not os.access(path, os.X_OK)]
    if absent:
        return f"{' and '.join(absent)} not found"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install -e '.[test]')"
    return None


def skipped_line() -> str | None:
    """The one line a test run prints when it leaves the browser tests out."""
    reason = missing()
    if reason is None:
        return None
    return f"skipped {BROWSER_TESTS} (the browser tests): {reason}; to run them: {INSTALL}"


def start_browser(profile: Path, downloads: Path) -> Any:
    """A headless Chromium with a fresh profile that saves downloads to ``downloads`` without asking."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium())
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "safebrowsing.enabled": False})
    service = Service(executable_path=str(chromedriver()))
    driver = webdriver.Chrome(options=options, service=service)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(90)
    return driver


def stop_browser(driver: Any, profile: Path) -> None:
    try:
        driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def in_scope(args: list[str], invoked_in: Path) -> bool:
    """Whether a test run given ``args`` (none: the configured test paths) would include the browser tests."""
    targets = [(Path(__file__).parents[2] / module).resolve() for module in BROWSER_MODULES]
    if not args:
        return True
    for arg in args:
        path = (invoked_in / arg.split("::", 1)[0]).resolve()
        if any(path == target or path in target.parents for target in targets):
            return True
    return False
