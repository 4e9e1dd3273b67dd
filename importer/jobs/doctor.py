"""``superfone-import doctor JOB.yaml``: what would go wrong tonight, found now, one line per check.

    key       the key is accepted (one list call) and which account it opens (org_id)
    source    the sheet is reachable and its header has every column the mapping reads
    names     every stage, group, label and product name the mapping can produce exists in the account
    state     the state can be written and no run holds its lock (nor the job's)
    command   the command the printed schedules run is an absolute path that exists
    alerts    the alert targets are valid (``--send-test-alert`` sends each a test message)
    time      how long a full run takes at the job's rate (before-images: ~2 requests per changed row)

Each check is ``ok`` with what it found, or the problem and its fix. Nothing is written to the account.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.api.catalog import Catalog, suggestion_text
from importer.api.client import DEFAULT_BASE_URL, SuperfoneClient
from importer.errors import AuthError, ConfigError, ImporterError
from importer.jobs.model import JobFile, expand_target
from importer.jobs.runner import job_lock
from importer.jobs.schedule import SECRETS_FILE, executable
from importer.mapping.document import read_document
from importer.mapping.loader import Mapping, load_mapping
from importer.models import LIST_KINDS
from importer.run.context.room import check_writable
from importer.run.stores.home import account_key, locate
from importer.run.stores.lock import RunLock
from importer.run.stores.state import SyncState
from importer.sources import open_table
from importer.sources.locate import locate_source

__all__ = ["CATALOG_REQUESTS", "Check", "Doctor"]

#: Requests a run makes before its rows: one list call per catalog kind.
CATALOG_REQUESTS = len(LIST_KINDS)
_NAMED = {"lead_stage_name": "stage", "lead_group_name": "group", "add_labels": "label", "remove_labels": "label",
          "add_products": "product"}


@dataclass(frozen=True)
class Check:
    """One check's line: ``name: ok (found)`` or ``name: problem``."""

    name: str
    problem: str | None = None
    found: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None

    def line(self) -> str:
        if self.problem is not None:
            return f"{self.name}: {self.problem}"
        return f"{self.name}: ok" + (f" — {self.found}" if self.found else "")


@dataclass
class Doctor:
    """The checks of ``job`` whose runs would use ``run`` (the run command's namespace built from the job)."""

    job: JobFile
    run: argparse.Namespace
    send_test_alert: bool = False
    org_id: int | None = None
    catalog: Catalog | None = None
    rows: int | None = None
    produced: dict[str, set[str]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return str(self.run.base_url or DEFAULT_BASE_URL)

    def checks(self) -> Iterator[Check]:
        for check in (self.key, self.source, self.names, self.state, self.command, self.alerts, self.time):
            yield check()

    # --- the account ----------------------------------------------------------------------------------------

    def key(self) -> Check:
        env = self.job.api_key_env
        if not self.job.api_key:
            return Check("key", f"{env} is not set: put {env}=<the account's API key> in {SECRETS_FILE}, then "
                                f"set -a; . ./{SECRETS_FILE}; set +a")
        try:
            with SuperfoneClient(self.base_url, self.job.api_key) as client:
                stages = client.list_all("lead-stage")
                self.org_id = next((row["org_id"] for row in stages if isinstance(row.get("org_id"), int)), None)
                self.catalog = Catalog.fetch(client)
        except AuthError:
            return Check("key", f"the API refused the key in {env} (401): copy the account's API key into "
                                f"{SECRETS_FILE} as {env}=…")
        except ImporterError as exc:
            return Check("key", f"{exc}: check account.base_url ({self.base_url}) and the network")
        return Check("key", found=f"account org_id {self.org_id} at {self.base_url}")

    # --- the sheet ------------------------------------------------------------------------------------------

    def source(self) -> Check:
        try:
            mapping = self.job.mapping if isinstance(self.job.mapping, Mapping) else load_mapping(self.job.mapping)
            with locate_source(self.job.source, pick=self.job.pick, settle=0) as found, \
                    open_table(found, self.run.sheet_name) as table:
                mapping.check_columns(table.columns, source=found.name)
                self.rows = self._produce(mapping, table)
                where = found.location
        except ImporterError as exc:
            return Check("source", f"{exc} — fix the job's source (or the mapping's columns), then run doctor again")
        return Check("source", found=f"{where}: {self.rows} rows; the header has every column the mapping reads")

    def _produce(self, mapping: Mapping, table: Any) -> int:
        """Apply the mapping to every row: count them, and collect the names it produces."""
        rows = 0
        for batch in table.batches():
            for row in batch:
                rows += 1
                draft, _ = mapping.apply(row)
                for key in _NAMED:
                    value = draft.get(key)
                    for name in value if isinstance(value, list) else [value] if value else []:
                        self.produced.setdefault(key, set()).add(str(name))
        return rows

    def names(self) -> Check:
        if self.catalog is None:
            return Check("names", "not checked: the key is not accepted (see above)")
        for key, names in self._written_names().items():
            self.produced.setdefault(key, set()).update(names)
        wrong = [self._verdict(key, name) for key, names in sorted(self.produced.items()) for name in sorted(names)]
        wrong += self._on_missing()
        wrong = [text for text in wrong if text]
        if wrong:
            shown = "; ".join(wrong[:5]) + (f"; and {len(wrong) - 5} more" if len(wrong) > 5 else "")
            return Check("names", f"{shown} — map them to the account's names in the mapping (superfone-import "
                                  "catalog lists them), or add them in Superfone")
        count = sum(len(names) for names in self.produced.values())
        return Check("names", found=f"{count} stage, group, label and product names, all in the account")

    def _verdict(self, key: str, name: str) -> str:
        assert self.catalog is not None
        noun = _NAMED[key]
        names = {"stage": self.catalog.stages, "group": self.catalog.groups, "label": self.catalog.labels,
                 "product": self.catalog.products}[noun]
        verdict = names.verdict(name)
        if verdict == "ok" or (verdict == "duplicated" and noun in ("label", "product")):
            return ""
        hint = suggestion_text(names.suggest(name)).removeprefix("; ")
        return f"{verdict} {noun} {name!r}" + (f" ({hint})" if hint else "")

    def _written_names(self) -> dict[str, set[str]]:
        """The names the mapping file itself writes: map targets, constants and defaults."""
        if not isinstance(self.job.mapping, Path):
            return {}
        fields = read_document(self.job.mapping).data.get("fields") or {}
        found: dict[str, set[str]] = {}
        for key in _NAMED:
            spec = fields.get(key)
            if isinstance(spec, dict):
                values = [*(spec.get("map") or {}).values(), spec.get("default"),
                          *(spec["value"] if isinstance(spec.get("value"), list) else [spec.get("value")])]
                found[key] = {str(value) for value in values if isinstance(value, str) and value}
        return found

    def _on_missing(self) -> list[str]:
        kind, _, name = str(self.run.on_missing).partition(":")
        key = {"label": "add_labels", "stage": "lead_stage_name"}.get(kind)
        return [self._verdict(key, name) + " (options.on_missing)"] if key and self._verdict(key, name) else []

    # --- this machine ---------------------------------------------------------------------------------------

    def state(self) -> Check:
        chosen = self.run.state or os.environ.get("SF_STATE")
        if self.org_id is None and not chosen:
            return Check("state", "not checked: which account (and so which state) the key opens is not known")
        location = locate(self.run.state, account_key(self.base_url, self.org_id))
        try:
            with job_lock(self.job):
                if location.path is not None:
                    check_writable(location.path, "the sync state")
                    with RunLock(location.path):
                        pass
                else:
                    with SyncState(location) as state, state.run_lock(account_key(self.base_url, self.org_id)):
                        pass
        except ConfigError as exc:
            return Check("state", f"{exc} — wait for that run to end (superfone-import history shows the runs), "
                                  "or fix the folder's permissions")
        return Check("state", found=f"{location.where}: writable, no run holds it")

    def command(self) -> Check:
        command = executable()
        program = Path(command[0])
        if not program.is_absolute() or not program.exists():
            return Check("command", f"{command[0]} is not an absolute path to a program: install the tool in a "
                                    "virtual environment and write its full path in the schedule")
        return Check("command", found=" ".join(command) + ": an absolute path, as cron and systemd need")

    def alerts(self) -> Check:
        from importer.report.notify import Notice, notify, parse_target

        texts = self.job.alerts.targets
        if not texts:
            return Check("alerts", found="no targets: nobody is told of a failed night (add alerts: to the job file)")
        try:
            targets = [parse_target(expand_target(text, f"alerts.targets[{index}]"),
                                    os.environ.get("SF_SMTP_URL") or None) for index, text in enumerate(texts)]
        except ConfigError as exc:
            return Check("alerts", f"{exc} — fix the job's alerts (or {SECRETS_FILE})")
        if self.send_test_alert:
            text = f"test alert of job {self.job.name} (superfone-import doctor): alerts reach this place"
            notice = Notice(f"superfone-import: {text}", text, {"text": text, "job": self.job.name, "test": True})
            failed = notify(targets, notice, secrets=[self.job.api_key or ""])
            if failed:
                return Check("alerts", "; ".join(failed))
        sent = "; a test message sent to each" if self.send_test_alert else ""
        return Check("alerts", found=f"{len(targets)} target(s): {', '.join(map(str, targets))}{sent}")

    def time(self) -> Check:
        if self.rows is None:
            return Check("time", "not estimated: the source could not be read (see above)")
        per_row = 1 if self.run.no_undo else 2
        seconds = (self.rows * per_row + CATALOG_REQUESTS) / float(self.run.rate)
        how = "no before-images" if self.run.no_undo else "a read for the before-image, then the write"
        found = (f"a full run of {self.rows} rows takes about {duration(seconds)} at {self.run.rate:g} requests/s: "
                 f"{per_row} request(s) per changed row ({how}); an unchanged row costs none")
        limit = self.run.time_limit
        if limit is not None and seconds > limit:
            return Check("time", f"{found}: more than the time limit of {duration(limit)}: raise options.rate (if "
                                 "the account allows) or options.time_limit")
        return Check("time", found=found)


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
