"""The account's names (its catalog: stages, groups, labels, products), read through the same client and catalog
as a run, kept a minute so the wizard's steps do not read them again at each click."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from importer.api.catalog import Catalog
from importer.errors import ImporterError
from importer.ui.settings import Account

#: Seconds the names read are used before they are read again.
KEEP_FOR = 60.0


class AccountNames:
    """The catalog of the page's account, or why it cannot be read (no key, the server's answer)."""

    def __init__(self, account: Account, clock: Callable[[], float] = time.monotonic) -> None:
        self.account = account
        self.clock = clock
        self._lock = threading.Lock()
        self._kept: tuple[str, float, Catalog] | None = None

    def get(self) -> tuple[Catalog | None, str | None]:
        """(the catalog, None), or (None, why not in one line)."""
        key = self.account.api_key
        if not key:
            return None, "type the account's API key at the top to choose among its names"
        seen = hashlib.sha256(f"{self.account.base_url} {key}".encode()).hexdigest()
        with self._lock:
            if self._kept and self._kept[0] == seen and self.clock() - self._kept[1] < KEEP_FOR:
                return self._kept[2], None
        try:
            catalog = _fetch(self.account.base_url, key)
        except ImporterError as exc:
            return None, f"the account's names could not be read: {exc}"
        with self._lock:
            self._kept = (seen, self.clock(), catalog)
        return catalog, None


def _fetch(base_url: str, api_key: str) -> Catalog:
    from importer.api.client import SuperfoneClient

    with SuperfoneClient(base_url, api_key) as client:
        return Catalog.fetch(client)
