"""When a run needs a person, and what to tell them. Pure: the caller reads the report files and sends.

    --alert-if failed>0      a count of rows: failed, invalid, in_doubt, unchanged, skipped, succeeded, warnings
    --alert-if invalid>2%    … or their share of the rows (rows_total); operators > < >= <=
    --alert-if stopped       the run stopped before the end (exit 3)
    --alert-if guard         a guard refused the run (shrunk input, jump in invalid rows, too many missing)
    --alert-if fatal         the run could not start or stopped on an error (exit 2)
    --alert-if any           every run

Default: ``failed>0``, ``in_doubt>0``, ``stopped``, ``guard``, ``fatal``. Only what is new alerts: a **problem** is
a row that failed (code ``failed``, the server's message as its value) or was invalid (each error's code and
value); one the job's previous finished run had too (same row, code and value) is known. A rule about rows
(``failed``, ``in_doubt``, ``invalid``) that fires only on known problems sends nothing (``--alert-on-known`` sends
it anyway); the other rules always send. A job whose previous finished run fired a rule and that now fires none
sends one "recovered" notice.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from importer.report.cells import restore
from importer.report.notify import Notice
from importer.report.outcome import OUTCOMES, input_name, outcome_text

__all__ = ["DEFAULT_RULES", "Decision", "Event", "Problem", "Rule", "alert_notice", "decide", "parse_rules",
           "problems_of"]

Event = Literal["finished", "stopped", "guard", "fatal"]
DEFAULT_RULES = ("failed>0", "in_doubt>0", "stopped", "guard", "fatal")
MAX_LISTED = 20
_COUNTS = ("failed", "invalid", "in_doubt", "unchanged", "skipped", "succeeded", "warnings")
_EVENTS = ("stopped", "guard", "fatal", "any")
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_RULE = re.compile(r"(?P<name>[a-z_]+)\s*(?P<op>>=|<=|>|<)\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<share>%?)")
#: The problems a rule about rows fires on: failed and in-doubt rows are listed as ``failed``.
_ABOUT = {"failed": "failed", "in_doubt": "failed", "invalid": "invalid"}


@dataclass(frozen=True)
class Rule:
    """One ``--alert-if`` rule: an event (``stopped``, ``guard``, ``fatal``, ``any``) or a comparison of a count
    (or its share of the rows, ``share``) with ``amount``."""

    text: str
    name: str
    op: str = ""
    amount: float = 0.0
    share: bool = False

    @classmethod
    def parse(cls, text: str) -> Rule:
        """``failed>0``, ``invalid>2%``, ``unchanged<50%``, ``stopped``…; ValueError saying what a rule may be."""
        folded = " ".join(text.split()).lower()
        if folded in _EVENTS:
            return cls(folded, folded)
        match = _RULE.fullmatch(folded)
        if match is None or match["name"] not in _COUNTS:
            raise ValueError(f"expected a rule such as failed>0, invalid>2%, unchanged<50%, or one of "
                             f"{', '.join(_EVENTS)} (counts: {', '.join(_COUNTS)}), got {text!r}")
        amount = float(match["amount"])
        if match["share"] and amount > 100:
            raise ValueError(f"a share is at most 100%, got {text!r}")
        return cls(folded.replace(" ", ""), match["name"], match["op"], amount, bool(match["share"]))

    @property
    def about(self) -> str | None:
        """The kind of problem rows the rule is about (``failed`` or ``invalid``), or None."""
        return _ABOUT.get(self.name) if self.op else None

    def fires(self, summary: Mapping[str, Any], event: Event) -> bool:
        if not self.op:
            return self.name == "any" or self.name == event
        if event != "finished":
            return False
        value = float(summary.get(self.name) or 0)
        if self.share:
            total = float(summary.get("rows_total") or 0)
            value = 100.0 * value / total if total else 0.0
        return _OPERATORS[self.op](value, self.amount)


def parse_rules(texts: Iterable[str]) -> tuple[Rule, ...]:
    """The rules, each once, in the order given."""
    return tuple(dict.fromkeys(Rule.parse(text) for text in texts))


@dataclass(frozen=True, order=True)
class Problem:
    """A row that failed or was invalid: its number, the issue code (``failed`` for the API's refusal or a row in
    doubt) and the value (the cell, or the server's message)."""

    row: int
    code: str
    value: str

    @property
    def kind(self) -> str:
        return "failed" if self.code == "failed" else "invalid"

    def __str__(self) -> str:
        return f"row {self.row}: {self.code} {self.value!r}"


def problems_of(issues: Iterable[Mapping[str, str]], failures: Iterable[Mapping[str, str]]) -> frozenset[Problem]:
    """The problems in a run's issues.csv (its errors) and failures.csv (its rows without an error: refused or in
    doubt), read as dicts of their columns."""
    found = {Problem(int(line["_row"]), line["code"], restore(line.get("value") or ""))
             for line in issues if line.get("severity") == "error" and (line.get("_row") or "").isdigit()}
    invalid = {problem.row for problem in found}
    for line in failures:
        row = line.get("_row") or ""
        if row.isdigit() and int(row) not in invalid:
            found.add(Problem(int(row), "failed", restore(line.get("_error") or "")))
    return frozenset(found)


@dataclass(frozen=True)
class Decision:
    """What to send: ``alert`` (``fired`` rules, ``new`` problems), ``recovered``, or nothing (``quiet``).
    ``alerting``: a rule fired, sent or not (the next run's recovery depends on it)."""

    action: Literal["alert", "recovered", "quiet"]
    fired: tuple[Rule, ...] = ()
    new: tuple[Problem, ...] = ()
    alerting: bool = False
    known_only: bool = False


def decide(rules: Sequence[Rule], summary: Mapping[str, Any], event: Event, problems: frozenset[Problem],
           known: frozenset[Problem] | None, was_alerting: bool, on_known: bool = False) -> Decision:
    """``known``: the problems of the job's previous finished run (None: it has none to compare with);
    ``was_alerting``: that run fired a rule."""
    fired = tuple(rule for rule in rules if rule.fires(summary, event))
    new = tuple(sorted(problems - (known or frozenset())))
    if fired:
        fresh = [rule for rule in fired if rule.about is None or any(p.kind == rule.about for p in new)]
        if fresh or on_known:
            return Decision("alert", fired, new, alerting=True, known_only=not fresh)
        return Decision("quiet", fired, new, alerting=True, known_only=True)
    if was_alerting and event == "finished":
        return Decision("recovered")
    return Decision("quiet")


def alert_notice(decision: Decision, rules: Sequence[Rule], summary: Mapping[str, Any], exit_code: int,
                 folder: Path | None, error: str | None = None) -> Notice:
    """The notice of an ``alert`` or ``recovered`` decision: a subject, the text (the outcome line, the rules
    that fired, the new problems: at most 20, then a count; where the report is) and the webhook's body."""
    name = input_name(summary)
    if decision.action == "recovered":
        lines = [outcome_text(summary, exit_code, folder, error),
                 f"recovered: no alert rule fired ({', '.join(rule.text for rule in rules)})"]
        subject = f"superfone-import: {name}: recovered (exit {exit_code})"
    else:
        known = " (only problems the previous run had: --alert-on-known)" if decision.known_only else ""
        lines = [outcome_text(summary, exit_code, folder, error),
                 f"alert: {', '.join(rule.text for rule in decision.fired)}{known}"]
        if decision.new:
            lines.append(f"new problems ({len(decision.new)}):")
            lines += [f"  {problem}" for problem in decision.new[:MAX_LISTED]]
            if len(decision.new) > MAX_LISTED:
                lines.append(f"  … and {len(decision.new) - MAX_LISTED} more")
        outcome = OUTCOMES.get(exit_code, f"exit {exit_code}")
        if exit_code == 0 and summary.get("dry_run"):
            outcome = "no row has an error (dry run)"
        subject = f"superfone-import: {name}: {outcome} (exit {exit_code})"
    if folder is not None:
        lines.append(f"details: {folder / 'report.html'}")
    body = {**summary, "exit_code": exit_code, "report": str(folder) if folder is not None else None,
            "alert": _alert_body(decision)}
    if error is not None:
        body["error"] = error
    return Notice(" ".join(subject.split()), "\n".join(lines), body)


def _alert_body(decision: Decision) -> dict[str, Any]:
    return {"status": decision.action, "rules": [rule.text for rule in decision.fired],
            "new_problems": [{"row": p.row, "code": p.code, "value": p.value} for p in decision.new[:MAX_LISTED]],
            "new_problems_total": len(decision.new)}
