"""One running sandbox: catalogue, lead store, knobs, rate limiter, fault draws and request log together."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from importer.sandbox import leadsquared, pollybot
from importer.sandbox.catalog import Catalog
from importer.sandbox.knobs import FaultPicker, RequestLog, SandboxConfig, TokenBucket
from importer.sandbox.seed import Seed
from importer.sandbox.sheets import GoogleSheets
from importer.sandbox.store import Store


class Sandbox:
    """The server's whole state. The app and its middleware read it; admin endpoints change it."""

    def __init__(self, config: SandboxConfig, seed: Seed, db: str | Path | None = None) -> None:
        self.catalog = Catalog(seed)
        self.store = Store(seed, self.catalog, db)
        self.initial_config = config
        self.config = config
        self.log = RequestLog(config.log_limit)
        self.bucket = _bucket(config)
        self.faults = FaultPicker(config.fault_seed)
        self.generation = 0  # bumped by reset(): requests admitted before it must not write after it
        self.quota_used = 0  # faultable requests counted against ``quota_after`` since it was set
        # The source CRMs a migration leaves (read-only): LeadSquared's and PollyBot's get-lead APIs.
        self.leadsquared = leadsquared.LeadSquaredApi(leadsquared.load_leads())
        self.pollybot = pollybot.PollyBotApi(pollybot.load_leads())
        # Google Sheets, as a gsheets:// source reads them (service accounts, spreadsheets, tokens).
        self.google = GoogleSheets()

    @property
    def api_key(self) -> str:
        return self.config.api_key

    def configure(self, changes: dict[str, Any]) -> SandboxConfig:
        """Merge ``changes`` into the knobs (ConfigError if invalid). A new seed restarts the fault draws."""
        self._use(self.config.merged(changes), reseed="fault_seed" in changes)
        return self.config

    def reset(self, config: bool = False) -> None:
        """Seed state again and clear the log; ``config`` also restores the knobs the server started with."""
        self.generation += 1
        self.quota_used = 0
        self.store.reset()
        self.log.clear()
        self.leadsquared.reset()
        self.pollybot.reset()
        self.google.reset()
        if config:
            self._use(self.initial_config, reseed=True)

    def _use(self, config: SandboxConfig, reseed: bool) -> None:
        previous, self.config = self.config, config
        if config.quota_after != previous.quota_after:
            self.quota_used = 0
        if (config.rate, config.burst) != (previous.rate, previous.burst) or reseed:
            self.bucket = _bucket(config)
        if reseed:
            self.faults = FaultPicker(config.fault_seed)
        self.log.resize(config.log_limit)

    def close(self) -> None:
        self.store.close()


def _bucket(config: SandboxConfig) -> TokenBucket | None:
    if config.rate is None:
        return None
    return TokenBucket(config.rate, config.burst or max(1, math.ceil(config.rate)))
