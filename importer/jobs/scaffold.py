"""``superfone-import init``: a newcomer's first job, written from where the sheet lives.

    NAME.yaml            the job: source, mapping, account (the key's variable, never the key), reports, log
    NAME.mapping.yaml    ``mapping suggest`` on the sheet (a recognised preset, or one asked for), with the account's
                         real stage, group, label and product names as comments beside the fields that name them
    secrets.env          KEY=value lines (no ``export``: systemd's EnvironmentFile= reads them too), owner only

An existing file is never replaced: the job and its mapping are refused (ConfigError), an existing secrets.env
is kept as it is (several jobs of a folder share it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from importer.api.catalog import Catalog, NameSet
from importer.api.client import DEFAULT_BASE_URL, SuperfoneClient
from importer.errors import ConfigError
from importer.jobs.schedule import SECRETS_FILE, Schedule, executable
from importer.jobs.secrets import secret_in
from importer.sources import open_table
from importer.sources.locate import locate_source
from importer.suggest.render import wrap
from importer.suggest.suggester import Suggestion, suggest_mapping

__all__ = ["Created", "NewJob", "create_job", "secrets_template", "write_job"]

#: The fields whose values are the account's names, and which of the catalog's lists names them.
_NAMED = {"lead_stage_name": "stages", "lead_group_name": "groups", "add_labels": "labels",
          "remove_labels": "labels", "add_products": "products"}


@dataclass(frozen=True)
class NewJob:
    """What ``init`` was told (or asked): the job's name, where its sheet lives, a preset to start from."""

    name: str
    source: str
    folder: Path
    preset: str | None = None
    base_url: str | None = None
    api_key_env: str = "SF_API_KEY"
    #: The files' name (``<stem>.yaml``, ``<stem>.mapping.yaml``) when it is not the job's.
    stem: str | None = None
    #: The job's ``state:`` (default: none written, the account's own state).
    state: str | None = None

    @property
    def job_file(self) -> Path:
        return self.folder / f"{self.stem or self.name}.yaml"

    @property
    def mapping_file(self) -> Path:
        return self.folder / f"{self.stem or self.name}.mapping.yaml"


@dataclass
class Created:
    """What ``init`` wrote (and kept), the preset recognised, whether the account's names were read, the schedule."""

    written: list[Path]
    schedule: Schedule
    kept: list[Path] = field(default_factory=list)
    preset: str | None = None
    catalog: bool = False


def create_job(new: NewJob) -> Created:
    """Write the job, its mapping and secrets.env for ``new`` (see the module docstring)."""
    found = secret_in({"source": new.source})
    if found is not None:
        raise ConfigError(f"--source: {found[1]}")
    refuse_existing(new, "init never replaces a file (choose another NAME)")
    suggestion = _suggest(new)
    catalog = _catalog(new)
    created = write_job(new, with_names(suggestion.yaml, catalog) if catalog is not None else suggestion.yaml)
    created.preset, created.catalog = suggestion.preset, catalog is not None
    return created


def refuse_existing(new: NewJob, why: str = "a job's files are never replaced (choose another name)") -> None:
    for path in (new.job_file, new.mapping_file):
        if path.exists():
            raise ConfigError(f"{path} exists already: {why}")


def write_job(new: NewJob, mapping: str) -> Created:
    """Write the job file, ``mapping`` as its mapping file, and secrets.env unless the folder has one; and how to
    run it every night. What ``init`` and the page's "make this a nightly job" share."""
    refuse_existing(new)
    written = [_write(new.job_file, job_text(new)), _write(new.mapping_file, mapping)]
    kept = []
    secrets = new.folder / SECRETS_FILE
    if secrets.exists():
        kept.append(secrets)
    else:
        written.append(_write(secrets, secrets_template(new), private=True))
    schedule = Schedule(new.name, new.folder.resolve(), new.job_file.name, tuple(executable()))
    return Created(written, schedule, kept)


def _suggest(new: NewJob) -> Suggestion:
    with locate_source(_from(new.folder, new.source), settle=0) as found, open_table(found) as table:
        return suggest_mapping(table, preset=new.preset)


def _from(folder: Path, source: str) -> str:
    return source if "://" in source or os.path.isabs(source) else os.path.join(folder, source)


def _catalog(new: NewJob) -> Catalog | None:
    """The account's names, when its key is in the environment (else the mapping says how to see them)."""
    key = os.environ.get(new.api_key_env)
    if not key:
        return None
    with SuperfoneClient(new.base_url or DEFAULT_BASE_URL, key) as client:
        return Catalog.fetch(client)


def with_names(mapping: str, catalog: Catalog) -> str:
    """``mapping`` with a comment under each field that names stages, groups, labels or products: the account's."""
    lines = []
    for line in mapping.splitlines():
        lines.append(line)
        field_name = line[2:].split(":", 1)[0] if line.startswith("  ") and not line.startswith("   ") else ""
        if field_name in _NAMED:
            names: NameSet = getattr(catalog, _NAMED[field_name])
            listed = ", ".join(sorted(names.counts, key=str.casefold)) or "none yet"
            lines += [f"    # {text}" for text in wrap(f"the account's {_NAMED[field_name]}: {listed}", 100)]
    return "\n".join(lines) + "\n"


def job_text(new: NewJob) -> str:
    base_url = new.base_url or DEFAULT_BASE_URL
    return f"""# The sync job '{new.name}': superfone-import doctor {new.job_file.name}, then sync {new.job_file.name}
version: 1
name: {new.name}
source: {_yaml_text(new.source)}
pick: mtime          # a glob or folder: its newest file (name: the last by name)
settle: 60           # seconds that file must have stayed unchanged (an upload still running is not read)
mapping: {new.mapping_file.name}
account:
  base_url: {_yaml_text(base_url)}
  api_key_env: {new.api_key_env}   # the variable holding the key (in {SECRETS_FILE}), never the key itself
report_dir: reports{_state_line(new)}
log_file: logs/{new.name}.log
keep_runs: 30
options:
  rate: 10
# alerts:
#   targets: [mailto:sales-ops@example.com]    # e-mail needs SF_SMTP_URL in {SECRETS_FILE}
#   on: failure
# after:
#   move_to: done     # archive each file once its run finished (exit 0 or 1)
"""


def _state_line(new: NewJob) -> str:
    return "" if new.state is None else f"\nstate: {_yaml_text(new.state)}"


def secrets_template(new: NewJob) -> str:
    return f"""# Secrets of the sync jobs of this folder. KEY=value lines only (no export, no spaces around =): read by
#   a shell:  set -a; . ./{SECRETS_FILE}; set +a
#   systemd:  EnvironmentFile={new.folder.resolve() / SECRETS_FILE}
# Readable by its owner only; never commit it.
{new.api_key_env}=
# SF_SMTP_URL=smtps://alerts%40example.com:PASSWORD@smtp.example.com     # for mailto: alerts
# AWS_ACCESS_KEY_ID= and AWS_SECRET_ACCESS_KEY=                          # s3:// sources
# SF_SFTP_PASSWORD=  (or SF_SFTP_KEY=/path/to/key)                       # sftp:// sources
# GOOGLE_APPLICATION_CREDENTIALS=/path/to/service-account.json           # gsheets:// sources
"""


def _write(path: Path, text: str, private: bool = False) -> Path:
    """Create ``path`` (never replacing one); ``private``: readable and writable by its owner only (0600)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    except FileExistsError:
        raise ConfigError(f"{path} exists already: init never replaces a file") from None
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    if private and os.name == "posix":
        os.fchmod(descriptor, 0o600)  # whatever the umask
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as stream:
        stream.write(text)
    return path


def _yaml_text(text: str) -> str:
    import json

    return text if text.replace("/", "").replace(".", "").replace("-", "").replace("_", "").isalnum() \
        else json.dumps(text)
