"""How the page was started, and the account it imports into (whose key it holds, and never shows)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.api.client import DEFAULT_BASE_URL
from importer.run.context.settings import DEFAULT_CONCURRENCY, DEFAULT_RATE, RunSettings
from importer.ui import DEFAULT_MAX_UPLOAD_MB

#: Room for the form around an upload's bytes (the request body is limited to the file's limit plus this).
FORM_OVERHEAD = 64 * 1024


class Account:
    """The target account: its base URL and API key. The key comes from the environment, the sandbox, or a form
    (typed once); it is read by the runs and never written into a page, a status answer or a repr."""

    def __init__(self, base_url: str = DEFAULT_BASE_URL, api_key: str | None = None, source: str = "") -> None:
        self._lock = threading.Lock()
        self.base_url = base_url
        self._key = api_key or None
        self.source = source if self._key else ""

    def __repr__(self) -> str:
        return f"Account(base_url={self.base_url!r}, key={'set' if self._key else 'not set'})"

    @property
    def api_key(self) -> str | None:
        with self._lock:
            return self._key

    @property
    def has_key(self) -> bool:
        return self.api_key is not None

    def set_key(self, key: str) -> None:
        with self._lock:
            self._key = key.strip() or None
            self.source = "typed on this page" if self._key else ""


@dataclass
class UiSettings:
    """``work_dir``: where uploads and run folders go. ``state``: the sync state file (the sandbox's own, so a
    sandbox started fresh is never taken for the account a previous session filled)."""

    work_dir: Path
    account: Account = field(default_factory=Account)
    sandbox: bool = False
    max_upload_bytes: int = int(DEFAULT_MAX_UPLOAD_MB * 1_000_000)
    rate: float = DEFAULT_RATE
    concurrency: int = DEFAULT_CONCURRENCY
    state: Path | None = None


#: The form fields of a run the page reads (the others keep their defaults).
FORM_SETTINGS = ("rate", "concurrency", "time_limit")


def run_settings(form: Mapping[str, Any], settings: UiSettings) -> RunSettings:
    """A run's settings from the page's form, read and checked as the command line and job files read them; an
    empty field is the page's own setting. A value that does not fit: one ConfigError naming the field."""
    values = {name: form.get(name) or None for name in FORM_SETTINGS}
    return RunSettings.read({"rate": settings.rate, "concurrency": settings.concurrency,
                             **{name: value for name, value in values.items() if value is not None}},
                            lambda name: f"{name.replace('_', ' ')}")
