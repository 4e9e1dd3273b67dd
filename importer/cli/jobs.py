"""``sync JOB.yaml …``, ``init [NAME]`` and ``doctor JOB.yaml``: parse, call :mod:`importer.jobs`, print, exit code.

A job's run is ``run`` itself: its namespace is the run parser's, filled from the job file and then from the flags
given to ``sync`` (which win), and handed to the same handler.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from importer.errors import ImporterError, StopRequested

EXIT_FATAL, EXIT_STOPPED = 2, 3

RunCommand = Callable[[argparse.Namespace], int]
AddRunArguments = Callable[..., None]


def add_commands(commands: Any, add_run_arguments: AddRunArguments, run_command: RunCommand,
                 run_parser: Callable[[], argparse.ArgumentParser]) -> None:
    sync = commands.add_parser("sync", help="run job files (each file of a glob or folder once)")
    sync.add_argument("job_files", nargs="+", type=Path, metavar="JOB.yaml", help="job files, run one after another")
    sync.add_argument("--again", action="store_true", help="import the newest file even if the job imported it")
    own = len(sync._actions)
    add_run_arguments(sync, "run", sheet=False)
    for action in sync._actions[own:]:  # the run flags: only those given on the command line override the file
        action.default, action.required = argparse.SUPPRESS, False
    sync.set_defaults(handler=partial(_sync, run_command=run_command, run_parser=run_parser))

    init = commands.add_parser("init", help="write a job, its mapping and a secrets.env template; print schedules")
    init.add_argument("name", nargs="?", metavar="NAME", help="the job's name (default: asked, else leads-sync)")
    init.add_argument("--source", metavar="SRC", help="where the sheet lives (anything run takes)")
    init.add_argument("--preset", metavar="NAME", help="start the mapping from this preset (leadsquared, hubspot, …)")
    init.add_argument("--non-interactive", action="store_true", help="ask nothing: take the flags and defaults")
    init.add_argument("--base-url", default=os.environ.get("SF_BASE_URL") or None, metavar="URL",
                      help="the API base URL written into the job (env SF_BASE_URL; default: the production URL)")
    init.set_defaults(handler=_init)

    doctor = commands.add_parser("doctor", help="check a job file before its first night: one line per check")
    doctor.add_argument("job_file", type=Path, metavar="JOB.yaml")
    doctor.add_argument("--send-test-alert", action="store_true", help="send a test message to each alert target")
    doctor.set_defaults(handler=partial(_doctor, run_parser=run_parser))


def _sync(args: argparse.Namespace, run_command: RunCommand,
          run_parser: Callable[[], argparse.ArgumentParser]) -> int:
    from importer.jobs import load_job, worst
    from importer.jobs.flags import RunFlags

    parser = run_parser()
    flags = RunFlags.of(parser)
    jobs = [load_job(path, flags) for path in args.job_files]  # every file checked before any job runs
    given = {flags.dest(key) for key in flags}
    overrides = {dest: value for dest, value in vars(args).items() if dest in given}
    codes = []
    for job in jobs:
        codes.append(_sync_one(job, parser, overrides, run_command, args.again))
    return worst(codes)


def _sync_one(job: Any, parser: argparse.ArgumentParser, overrides: dict[str, Any], run_command: RunCommand,
              again: bool) -> int:
    from importer.api.client import DEFAULT_BASE_URL
    from importer.jobs import JobTarget, run_namespace, sync_job
    from importer.sources.locate import needs_locating

    try:
        namespace = run_namespace(job, parser, overrides)
        job.name = namespace.job  # --job given to sync names the job its files are remembered by too
        target = JobTarget(namespace.base_url or DEFAULT_BASE_URL, namespace.state,
                           writes=not (namespace.dry_run or namespace.plan))

        def run(found: Any) -> int:
            namespace.found = found if needs_locating(job.source) else None  # a plain file: read as run reads it
            return run_command(namespace)

        return sync_job(job, target, run, print, again=again)
    except StopRequested as exc:
        print(f"superfone-import: stopped: {exc}: nothing was sent; run the same command again later", file=sys.stderr)
        return EXIT_STOPPED
    except ImporterError as exc:
        print(f"superfone-import: error: {exc}", file=sys.stderr)
        if exc.report_folder is not None:
            print(f"report: {exc.report_folder}")
        return EXIT_FATAL


def _init(args: argparse.Namespace) -> int:
    from importer.errors import ConfigError
    from importer.jobs.scaffold import NewJob, create_job

    ask = not args.non_interactive and sys.stdin.isatty()
    name = args.name or (_ask("Name of the job", "nightly") if ask else "nightly")
    source = args.source or (_ask("Where is the sheet (a path, glob, folder, https://, s3://, sftp://, gsheets://)")
                             if ask else "")
    if not source:
        raise ConfigError("init: say where the sheet is: --source SRC (a path, glob, folder or URI)")
    if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ConfigError(f"init: {name!r}: a job's name is letters, digits, '-', '_' and '.' (it names its files)")
    created = create_job(NewJob(name, source, Path(), args.preset, args.base_url))
    for line in init_lines(created):
        print(line)
    return 0


def _ask(question: str, default: str = "") -> str:
    try:
        answer = input(f"{question}{f' [{default}]' if default else ''}: ").strip()
    except EOFError:
        answer = ""
    return answer or default


def init_lines(created: Any) -> list[str]:
    from importer.jobs.schedule import SECRETS_FILE

    schedule, job = created.schedule, created.written[0].name
    lines = ["wrote " + ", ".join(str(path) + (" (readable by you only)" if path.name == SECRETS_FILE else "")
                                  for path in created.written)]
    lines += [f"kept {path} (it exists)" for path in created.kept]
    origin = f"started from the preset {created.preset!r}" if created.preset else "guessed from the headers"
    names = ("the account's names are comments beside its fields" if created.catalog else
             "set the key and run `superfone-import catalog` to see the account's names")
    lines.append(f"mapping: {origin}; {names}")
    lines += ["next: put the API key in secrets.env, then", f"  set -a; . ./{SECRETS_FILE}; set +a",
              f"  superfone-import doctor {job}", f"  superfone-import sync {job}",
              f"every night at {schedule.at}, with cron (crontab -e):", f"  {schedule.cron()}",
              "or with systemd:", *(f"  {line}" if line else "" for line in schedule.systemd()),
              "or with the Windows Task Scheduler (keep the key in your environment: setx SF_API_KEY …):",
              f"  {schedule.schtasks()}"]
    return lines


def _doctor(args: argparse.Namespace, run_parser: Callable[[], argparse.ArgumentParser]) -> int:
    """Exit 0 when every check passes, 1 otherwise (2: the job file itself is wrong)."""
    from dataclasses import replace

    from importer.jobs import Alerts, RunFlags, load_job, run_namespace
    from importer.jobs.doctor import Doctor

    parser = run_parser()
    job = load_job(args.job_file, RunFlags.of(parser))
    namespace = run_namespace(replace(job, alerts=Alerts(on=job.alerts.on, rules=job.alerts.rules)), parser, {})
    passed = True
    for check in Doctor(job, namespace, args.send_test_alert).checks():
        print(check.line(), flush=True)
        passed = passed and check.ok
    return 0 if passed else 1
