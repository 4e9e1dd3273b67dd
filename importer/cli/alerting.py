"""Alerts after a run (``--notify``, ``--alert-if``, ``--alert-on-known``): the edge around importer.report.alerts.

It reads this run's problems from its report folder (issues.csv, failures.csv), finds the job's previous finished
run in the sync state (``SyncState.runs``) and reads that run's ``alert.json`` (its problems, and whether it fired
a rule) or, for a run older than alerts, its report files; decides; sends through importer.report.notify; and keeps
this run's ``alert.json`` in its folder for the next run. A failed notification is a warning line, never an error.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importer.report.alerts import DEFAULT_RULES, Decision, Event, Problem, Rule, alert_notice, decide, problems_of
from importer.report.notify import Target, notify, parse_target

__all__ = ["ALERT_FILE", "Alerting", "add_alert_arguments"]

ALERT_FILE = "alert.json"
logger = logging.getLogger(__name__)
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a failures.csv cell may hold a long note


def _rule(text: str) -> Rule:
    try:
        return Rule.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_alert_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--notify", action="append", default=[], metavar="TARGET",
                         help="where alerts go: an Apprise URL (slack://, msteams://, tgram://, discord://, "
                              "mailto://, json://, …), an https:// webhook or mailto:ADDRESS (SMTP server in env "
                              "SF_SMTP_URL); repeatable")
    command.add_argument("--alert-if", action="append", default=[], type=_rule, metavar="RULE",
                         help="when to alert: failed>0, invalid>0, invalid>2%%, in_doubt>0, unchanged<50%%, stopped, "
                              "guard, fatal, any; repeatable (default: failed>0 in_doubt>0 stopped guard fatal)")
    command.add_argument("--alert-on-known", action="store_true",
                         help="alert even when the job's previous run had the same problems")
    command.add_argument("--notify-on", choices=("failure", "always"), default="failure",
                         help="failure: the default rules; always: after every run (--alert-if any)")


@dataclass(frozen=True)
class Alerting:
    """The targets and rules of a run, checked before it starts."""

    targets: tuple[Target, ...]
    rules: tuple[Rule, ...]
    on_known: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace, smtp_url: str | None) -> Alerting:
        """ConfigError (before anything runs) for a target that cannot be used."""
        targets = tuple(parse_target(text, smtp_url) for text in args.notify)
        rules: list[Rule] = list(args.alert_if) or [Rule.parse(text) for text in DEFAULT_RULES]
        if args.notify_on == "always":
            rules.append(Rule.parse("any"))
        return cls(targets, tuple(dict.fromkeys(rules)), args.alert_on_known)

    def tell(self, exit_code: int, summary: Mapping[str, Any], folder: Path | None, event: Event, *,
             error: str | None = None, secrets: Sequence[str] = ()) -> Decision | None:
        """Decide, send what the decision says, and record it in ``folder``; None without targets."""
        if not self.targets:
            return None
        problems = _problems(folder) if folder is not None else frozenset()
        previous = _previous_run(summary, folder)
        known, was_alerting = _recorded(previous) if previous is not None else (None, False)
        marker = JobAlerts.of(summary)
        was_alerting = marker.alerting(default=was_alerting)  # a run that could not start alerts too
        decision = decide(self.rules, summary, event, problems, known, was_alerting, self.on_known)
        if folder is not None:
            _record(folder, decision, problems)
        marker.keep(decision.alerting)
        if decision.action != "quiet":
            notify(self.targets, alert_notice(decision, self.rules, summary, exit_code, folder, error),
                   secrets=secrets)
        else:
            logger.info("no alert: %s", "only known problems" if decision.alerting else "no rule fired")
        return decision


@dataclass(frozen=True)
class JobAlerts:
    """Whether a job's last run fired a rule, whatever became of it (a run that could not start has no report
    folder to keep alert.json in): ``<data folder>/alerts/<job>.json``, so the next run that fires none says it
    recovered. Kept per job name."""

    path: Path | None

    @classmethod
    def of(cls, summary: Mapping[str, Any]) -> JobAlerts:
        from importer.run.stores.home import state_home

        mapping = summary.get("mapping")
        job = summary.get("job") or (Path(str(mapping)).stem if mapping else None)
        if not job:
            return cls(None)
        name = "".join(char if char.isalnum() or char in "-_." else "_" for char in str(job))[:100]
        return cls(state_home().parent / "alerts" / f"{name}.json")

    def alerting(self, default: bool) -> bool:
        try:
            return bool(json.loads(self.path.read_text(encoding="utf-8"))["alerting"]) if self.path else default
        except (OSError, ValueError, KeyError, TypeError):
            return default

    def keep(self, alerting: bool) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.path.write_text(json.dumps({"alerting": alerting}) + "\n", encoding="utf-8")
        except OSError as exc:
            logger.warning("alerts: cannot write %s (%s)", self.path, exc.strerror or exc)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield from csv.DictReader(handle)
    except FileNotFoundError:
        return


def _problems(folder: Path) -> frozenset[Problem]:
    return problems_of(_rows(folder / "issues.csv"), _rows(folder / "failures.csv"))


def _previous_run(summary: Mapping[str, Any], folder: Path | None) -> Path | None:
    """The report folder of the job's last run before this one that went to the end (exit 0 or 1)."""
    from importer.errors import ImporterError
    from importer.run.stores.home import StateLocation, locate
    from importer.run.stores.state import SyncState

    state, job = summary.get("state"), summary.get("job")
    location: StateLocation | None = locate(str(state), "") if state else None
    if location is None or not job or not location.exists():
        return None
    here = folder.resolve() if folder is not None else None
    try:
        with SyncState(location) as store:
            runs = store.runs(str(job), 100)
    except ImporterError as exc:  # an unreadable state: nothing to compare with, said in the log
        logger.warning("alerts: cannot read the job's earlier runs (%s); every problem counts as new", exc)
        return None
    for run in runs:
        if run.exit_code in (0, 1) and run.finished_at and Path(run.report).resolve() != here:
            return Path(run.report)
    return None


def _recorded(folder: Path) -> tuple[frozenset[Problem], bool]:
    """(the problems, whether a rule fired) of an earlier run: its alert.json, else its report files."""
    try:
        record = json.loads((folder / ALERT_FILE).read_text(encoding="utf-8"))
        problems = frozenset(Problem(int(row), str(code), str(value)) for row, code, value in record["problems"])
        return problems, bool(record["alerting"])
    except (OSError, ValueError, KeyError, TypeError):
        return _problems(folder), False


def _record(folder: Path, decision: Decision, problems: frozenset[Problem]) -> None:
    """alert.json: what this run decided and its problems, for the next run to compare with."""
    record = {"action": decision.action, "alerting": decision.alerting,
              "rules": [rule.text for rule in decision.fired],
              "problems": [[problem.row, problem.code, problem.value] for problem in sorted(problems)]}
    try:
        (folder / ALERT_FILE).write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:  # the alert still goes out; the next run then sees every problem as new
        logger.warning("alerts: cannot write %s (%s)", folder / ALERT_FILE, exc.strerror or exc)
