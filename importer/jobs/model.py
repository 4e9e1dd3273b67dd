"""A job file: one nightly sync described once (YAML, ``version: 1``), checked like a mapping.

    version: 1
    name: nightly                      # the sync job (history shows runs by it); default: the file's stem
    source: exports/leads-*.csv        # anything `run` takes: a path, glob, folder, https://, s3://, sftp://, gsheets://
    pick: mtime                        # or name: the last by name
    settle: 60                         # seconds the newest file must have stayed unchanged
    mapping: nightly.mapping.yaml      # a path, or the mapping itself, inline
    account: {base_url: https://…, api_key_env: SF_API_KEY}
    report_dir: reports
    state: null                        # default: the account's own state in the per-user data folder
    log_file: logs/nightly.log
    keep_runs: 30
    shared_group: sales-ops             # a group that may read the run folders (default: their owner only)
    options: {rate: 10, on_missing: "label:Gone", no_undo: true}    # every run flag by its long name
    alerts: {targets: [mailto:ops@example.com, "${SLACK_WEBHOOK_URL}"], if: ["failed>0", "invalid>2%"]}
    after: {move_to: done}

Relative paths are relative to the job file's folder. Every problem is one ConfigError naming the file, the line
and the key; a secret anywhere in the file is refused (:mod:`importer.jobs.secrets`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importer.errors import ConfigError, ImporterError
from importer.jobs.flags import FlagError, RunFlags
from importer.jobs.secrets import API_KEY_ADVICE, secret_in
from importer.mapping.document import Document, did_you_mean, read_document
from importer.mapping.loader import Mapping, compile_mapping
from importer.sources.locate import DEFAULT_SETTLE, PICKS
from importer.sources.locate.pick import is_pattern
from importer.sources.locate.uri import kind_of

__all__ = ["JOB_KEYS", "Alerts", "JobFile", "expand_target", "load_job"]

JOB_KEYS = ("version", "name", "source", "pick", "settle", "mapping", "account", "report_dir", "state", "log_file",
            "keep_runs", "shared_group", "options", "alerts", "after")
_EXPECTED = "version, name, source, mapping and the job's other keys"
#: Top-level keys that set a run flag; under ``options:`` these flags are refused (they have their own key).
_TOP_FLAGS = {"report_dir": "report_dir", "state": "state", "log_file": "log_file", "keep_runs": "keep_runs",
              "shared_group": "shared_group"}
_OWN_KEYS = {"mapping": "mapping", "job": "name", "base_url": "account.base_url", "notify": "alerts.targets",
             "notify_on": "alerts.on", "alert_if": "alerts.if", **{key: key for key in _TOP_FLAGS}}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


@dataclass(frozen=True)
class Alerts:
    """Who hears of a run (``--notify`` targets, ``${NAME}`` read from the environment), when, and the ``if:``
    rules (``--alert-if``)."""

    targets: tuple[str, ...] = ()
    on: str | None = None
    rules: tuple[str, ...] = ()


@dataclass
class JobFile:
    """A loaded job file. ``flags``: run flag dest → value, as the command line would have parsed them."""

    path: Path
    name: str
    source: str
    mapping: Path | Mapping
    api_key_env: str = "SF_API_KEY"
    pick: str = "mtime"
    settle: float = DEFAULT_SETTLE
    move_to: str | None = None
    alerts: Alerts = field(default_factory=Alerts)
    flags: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def picks_among(self) -> bool:
        """A glob or a folder: the job picks its newest file, and imports each file once."""
        kind = kind_of(self.source)
        if kind in ("https", "gsheets"):
            return False
        if kind == "local":
            return is_pattern(self.source) or Path(os.path.expanduser(self.source)).is_dir() \
                or self.source.endswith(("/", os.sep))
        path = self.source.split("://", 1)[1].partition("/")[2]
        return is_pattern(path) or path.endswith("/") or path == ""

    @property
    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) or None


def load_job(path: str | Path, flags: RunFlags) -> JobFile:
    """Read and check the job file at ``path``; ``flags``: the run command's flags (:meth:`RunFlags.of`)."""
    document = read_document(Path(path), what="job file", expected=_EXPECTED)
    return _Reader(document, flags).job()


class _Reader:
    def __init__(self, document: Document, flags: RunFlags) -> None:
        self.doc = document
        self.data: dict[str, Any] = document.data
        self.flags = flags
        self.folder = document.path.parent

    def error(self, path: tuple[str | int, ...], message: str) -> ConfigError:
        return self.doc.error(path, message)

    def job(self) -> JobFile:
        self._secrets()
        self._keys(self.data, (), JOB_KEYS)
        if self.data.get("version") != "1":
            found = self.data.get("version")
            raise self.error(("version",), "required; expected version: 1" if found is None else
                             f"this importer reads job files of version 1, not {found!r}")
        job = JobFile(self.doc.path, self._text("name", default=self.doc.path.stem), self._source(),
                      self._mapping())
        job.pick = self._choice("pick", PICKS, "mtime")
        job.settle = self._number("settle", DEFAULT_SETTLE)
        self._account(job)
        self._alerts(job)
        self._after(job)
        self._options(job)
        return job

    # --- keys -----------------------------------------------------------------------------------------------

    def _secrets(self) -> None:
        account = self.data.get("account")
        if isinstance(account, dict) and "api_key" in account:
            env = account.get("api_key_env") if isinstance(account.get("api_key_env"), str) else "SF_API_KEY"
            raise self.error(("account", "api_key"), API_KEY_ADVICE.format(env=env))
        found = secret_in(self.data)
        if found is not None:
            raise self.error(found[0], found[1])

    def _keys(self, data: dict[str, Any], path: tuple[str, ...], allowed: tuple[str, ...]) -> None:
        for key in data:
            if key not in allowed:
                guess = did_you_mean(key, allowed)
                hint = f"did you mean {guess!r}? " if guess else ""
                raise self.error((*path, key), f"unknown key; {hint}expected one of: {', '.join(allowed)}")

    def _text(self, key: str, default: str | None = None, within: tuple[str, ...] = ()) -> str:
        value = self._value(within, key)
        if value is None:
            if default is None:
                raise self.error((*within, key), "required")
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.error((*within, key), "expected text")
        return value.strip()

    def _value(self, within: tuple[str, ...], key: str) -> Any:
        node: Any = self.data
        for part in within:
            node = node.get(part) if isinstance(node, dict) else None
        return node.get(key) if isinstance(node, dict) else None

    def _section(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error((key,), "expected keys and values (a YAML mapping)")
        return value

    def _choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self._text(key, default)
        if value not in choices:
            raise self.error((key,), f"expected one of {', '.join(choices)}, got {value!r}")
        return value

    def _number(self, key: str, default: float) -> float:
        value = self.data.get(key)
        if value is None:
            return default
        try:
            number = float(value) if isinstance(value, str) else -1.0
        except ValueError:
            number = -1.0
        if number < 0:
            raise self.error((key,), f"expected a number of seconds (0 or more), got {value!r}")
        return number

    # --- sections -------------------------------------------------------------------------------------------

    def _source(self) -> str:
        text = self._text("source")
        try:
            kind = kind_of(text)
        except ImporterError as exc:
            raise self.error(("source",), str(exc)) from None
        if kind == "local" and not os.path.isabs(os.path.expanduser(text)):
            return os.path.join(self.folder, text) if self.folder != Path() else text  # keeps a folder's "/"
        return text

    def _mapping(self) -> Path | Mapping:
        value = self.data.get("mapping")
        if isinstance(value, dict):
            return compile_mapping(self.doc.part("mapping"))
        path = Path(self._text("mapping")).expanduser()
        path = path if path.is_absolute() else self.folder / path
        if not path.is_file():
            raise self.error(("mapping",), f"mapping file {path} not found (a path relative to the job file's "
                                           "folder, or the mapping itself, inline)")
        return path

    def _account(self, job: JobFile) -> None:
        account = self._section("account")
        self._keys(account, ("account",), ("base_url", "api_key_env"))
        env = self._text("api_key_env", "SF_API_KEY", ("account",))
        if not _ENV_NAME.match(env):
            raise self.error(("account", "api_key_env"), "expected the NAME of the environment variable holding the "
                                                         "key (like SF_API_KEY), not the key itself")
        job.api_key_env = env
        if account.get("base_url") is not None:
            self._flag(job, "base_url", account["base_url"], ("account", "base_url"))

    def _alerts(self, job: JobFile) -> None:
        value = self.data.get("alerts")
        if isinstance(value, list):
            value = {"targets": value}
        if value is not None and not isinstance(value, dict):
            raise self.error(("alerts",), "expected a list of targets, or targets, on and if")
        alerts = value or {}
        self._keys(alerts, ("alerts",), ("targets", "on", "if"))
        targets = alerts.get("targets") or []
        targets = targets if isinstance(targets, list) else [targets]
        for index, target in enumerate(targets):
            if not isinstance(target, str) or not target.strip():
                raise self.error(("alerts", "targets", index), "expected a target (an Apprise URL, https://… "
                                                               "or mailto:ADDRESS, or ${NAME})")
        rules = alerts.get("if") or []
        rules = rules if isinstance(rules, list) else [rules]
        job.alerts = Alerts(tuple(str(target).strip() for target in targets), alerts.get("on"),
                            tuple(str(rule) for rule in rules))
        if job.alerts.on is not None:
            self._flag(job, "notify_on", job.alerts.on, ("alerts", "on"))
        if rules:
            self._flag(job, "alert_if", list(job.alerts.rules), ("alerts", "if"))

    def _after(self, job: JobFile) -> None:
        after = self._section("after")
        self._keys(after, ("after",), ("move_to",))
        if "move_to" in after:
            folder = self._text("move_to", within=("after",))
            local = kind_of(job.source) == "local" and not os.path.isabs(os.path.expanduser(folder))
            job.move_to = str(self.folder / folder) if local else folder
            if not job.picks_among and kind_of(job.source) in ("https", "gsheets"):
                raise self.error(("after", "move_to"), "only files are moved (a local path, sftp:// or s3://)")

    def _options(self, job: JobFile) -> None:
        for key, flag in _TOP_FLAGS.items():
            if self.data.get(key) is not None:
                self._flag(job, flag, self.data[key], (key,))
        options = self._section("options")
        for key, value in options.items():
            if key in _OWN_KEYS:
                raise self.error(("options", key), f"set it with the job's own key {_OWN_KEYS[key]}")
            if key not in self.flags:
                guess = did_you_mean(key, list(self.flags))
                hint = f"; did you mean {guess!r}?" if guess else ""
                raise self.error(("options", key), f"not a run flag{hint} (options take every run flag by its "
                                                   "long name, with _ for -)")
            self._flag(job, key, value, ("options", key))

    def _flag(self, job: JobFile, key: str, value: Any, path: tuple[str, ...]) -> None:
        if key == "state" and isinstance(value, str) and "://" not in value:
            value = str(self.folder / Path(value).expanduser())
        try:
            job.flags[self.flags.dest(key)] = self.flags.convert(key, value, self.folder)
        except FlagError as exc:
            raise self.error(path, str(exc)) from None


def expand_target(target: str, where: str) -> str:
    """An alert target, with ``${NAME}`` read from the environment (a webhook's token stays out of the file)."""
    match = _ENV_REF.match(target)
    if match is None:
        return target
    value = os.environ.get(match.group(1))
    if not value:
        raise ConfigError(f"{where}: {target} is not set: put {match.group(1)}=<the target> in secrets.env")
    return value
