"""One job's sync: find its file, skip one imported before, run it as ``run`` would, archive it.

    with the job's own lock (two syncs of one job never overlap):
        locate the file (a glob or folder: the newest settled one)     not settled yet → one line, exit 3
        a glob or folder, a file whose content the job imported before → one line, exit 0, no request at all
        run it (the caller's ``run``: the same run as ``superfone-import run`` with the job's flags)
        exit 0 or 1 → after: move_to (exit 2 or 3: the file stays, the next sync runs it again)

The run itself records the file as imported once it finished (``RunOptions.remember_file``), in the account's
state, beside the job's runs: per account and job, its content's SHA-256, where it was, when, which run. Which
account the job imports into is known without asking the API: the state names it, from the job's earlier runs.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from importer.errors import ConfigError, ImporterError, NoSourceFile, SourceNotReady
from importer.jobs.model import JobFile, expand_target
from importer.run.stores.home import candidates, state_home
from importer.run.stores.lock import RunLock, RunLocked
from importer.run.stores.state import ImportedFile, SyncState
from importer.sources.locate import SourceFile, locate_source, move_source

__all__ = ["EXIT_NOT_READY", "JobTarget", "imported_before", "job_lock", "run_namespace", "sync_job", "worst"]

#: A file still being written: nothing was sent; the next sync (or the same command later) reads it.
EXIT_NOT_READY = 3
#: How bad an exit code is, for the exit code of several jobs: could not run, stopped, rows failed, all ok.
_SEVERITY = {0: 0, 1: 1, 3: 2, 2: 3}
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")

#: Runs the job on a located file as ``run`` would; returns the exit code (fatal errors raise, as for ``run``).
RunFile = Callable[[SourceFile], int]
Say = Callable[[str], None]


@dataclass(frozen=True)
class JobTarget:
    """Where the job's runs go: the API's base URL, the state chosen (None: the account's own), whether its runs
    write (a dry run or a plan neither records nor moves a file)."""

    base_url: str
    state: str | Path | None
    writes: bool = True


def run_namespace(job: JobFile, parser: argparse.ArgumentParser, overrides: Mapping[str, Any]) -> argparse.Namespace:
    """What ``run`` would have parsed for the job: ``parser`` (the run command's) defaults, the job file's values,
    then ``overrides`` (the flags given on the command line, which win)."""
    mapping = job.mapping if isinstance(job.mapping, Path) else job.path
    namespace = parser.parse_args([job.source, "-m", str(mapping)])
    namespace.command, namespace.job = "run", job.name
    namespace.api_key_env = job.api_key_env
    namespace.remember_file = job.picks_among
    if not isinstance(job.mapping, Path):
        namespace.compiled_mapping = job.mapping
    if job.alerts.targets:
        namespace.notify = [expand_target(target, f"{job.path}: alerts.targets[{index}]")
                            for index, target in enumerate(job.alerts.targets)]
    for dest, value in {**job.flags, **overrides}.items():
        setattr(namespace, dest, value)
    return namespace


def worst(codes: list[int]) -> int:
    """The exit code of several jobs: 2 (one could not run) over 3 (one stopped) over 1 (rows failed) over 0."""
    return max(codes, key=lambda code: _SEVERITY.get(code, 4), default=0)


def sync_job(job: JobFile, target: JobTarget, run: RunFile, say: Say, *, again: bool = False) -> int:
    """Sync ``job`` once (see the module docstring); ``say`` prints a line; ``again``: import the newest file even
    if the job imported it before."""
    with job_lock(job):
        try:
            found = locate_source(job.source, pick=job.pick, settle=job.settle)
        except SourceNotReady as exc:
            say(f"{job.name}: {exc}; nothing sent: the next sync reads it")
            return EXIT_NOT_READY
        except NoSourceFile:
            last = imported_before(job, target) if job.picks_among else None
            if last is None:  # a glob that never matched is a mistake rather than a quiet night
                raise
            say(f"no new file for job {job.name} since {_when(last.imported_at)} ({job.source} is empty)")
            return 0
        with found:
            if job.picks_among and target.writes and not again:
                known = imported_before(job, target, found.digest)
                if known is not None:
                    say(f"no new file for job {job.name} since {_when(known.imported_at)} "
                        f"(newest: {found.location}, imported by run {known.run_id}; --again imports it anyway)")
                    return 0
            code = run(found)
            if code in (0, 1) and job.move_to and target.writes:
                _move(found, job.move_to, say)
            return code


def imported_before(job: JobFile, target: JobTarget, digest: str | None = None) -> ImportedFile | None:
    """The job's import of the file whose content has ``digest`` (None: its last import), into the account it last
    imported into; None when it never did. Reads the states only: no request to the API."""
    found: list[ImportedFile] = []
    for location in candidates(target.state, target.base_url):
        if not location.exists():
            continue
        with SyncState(location) as state:
            found.extend(state.imported_files(job.name, target.base_url))
    if not found:
        return None
    latest = max(found, key=lambda item: item.imported_at).account
    return next((item for item in sorted(found, key=lambda item: item.imported_at, reverse=True)
                 if item.account == latest and digest in (None, item.digest)), None)


def job_lock(job: JobFile) -> _JobLock:
    """One sync of a job file at a time (``<per-user data folder>/jobs/<name>-<digest>.lock``)."""
    where = str(job.path.resolve())
    name = _UNSAFE.sub("_", job.name)[:40] or "job"
    return _JobLock(job, state_home().parent / "jobs" / f"{name}-{hashlib.sha256(where.encode()).hexdigest()[:8]}")


class _JobLock:
    def __init__(self, job: JobFile, path: Path) -> None:
        self.job = job
        self.lock = RunLock(path)

    def __enter__(self) -> _JobLock:
        try:
            self.lock.acquire()
        except RunLocked as exc:
            who = str(exc).rpartition(": ")[2]
            raise ConfigError(f"{self.job.path}: job '{self.job.name}' is being synced already: {who}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def _move(found: SourceFile, folder: str, say: Say) -> None:
    try:
        say(f"moved {found.location} to {move_source(found, folder)}")
    except ImporterError as exc:  # the run is done and recorded: the file stays, the next sync skips it
        say(f"warning: {exc}")


def _when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S %z").strip()
    except ValueError:
        return iso
