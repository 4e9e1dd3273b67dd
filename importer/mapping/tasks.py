"""The mapping's ``tasks:`` list: which tasks each row's lead gets (reference §4.1), compiled once.

    tasks:
      - type: FOLLOW_UP_CALL                       # a task type, or a field spec reading it from the sheet
        due: {column: Follow-up, type: datetime}   # required; a bare column name is read as a datetime
        notify_at: Remind At                       # optional; the API's default by type when left out
        note: {template: "Follow up on {Product}"} # optional; the task's customer_note
        past_due: skip                             # skip (default) or create a task whose due time has passed
        due_time: "10:00"                          # when due is a day (type: date): its local time (default 10:00)

``due``, ``notify_at`` and ``note`` are field specs, compiled by the same machinery as ``fields:`` (column,
columns, template; default, map, lookup; ``type: datetime`` with ``date_format``). A due day alone
(``type: date``, as exports often give follow-up dates) is due at ``due_time`` on that day in ``defaults.timezone``.
A row whose due value is blank gets no task. What a row's tasks become is checked against the time of the run in
:mod:`importer.checks.tasks`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from importer.issues import issue
from importer.mapping.document import Document, KeyPath, did_you_mean
from importer.mapping.plans import FieldPlan
from importer.mapping.spec import FieldSpec, TaskSpec
from importer.mapping.values import fold
from importer.models import TASK_TYPES, Issue


class Compiler(Protocol):
    """What compiling a task takes of the mapping's compiler (:class:`importer.mapping.compiler.Compiler`)."""

    document: Document
    zone: ZoneInfo

    def value_plan(self, name: str, entry: FieldSpec, path: KeyPath, json_type: str = "string") -> FieldPlan: ...

__all__ = ["TaskDraft", "TaskPlan", "compile_tasks", "task_type"]

_REQUEST_KEYS: tuple[str, ...] = ("type", "due_date", "notify_at", "customer_note")
DEFAULT_DUE_TIME = time(10, 0)
_TIME_OF_DAY = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_BY_FOLDED = {fold(name.replace("_", " ")): name for name in TASK_TYPES}


def task_type(text: str) -> str | None:
    """``FOLLOW_UP_CALL``, ``follow up call`` or ``Follow-up call`` → ``FOLLOW_UP_CALL``; None when it is none."""
    return _BY_FOLDED.get(fold(text.replace("_", " ").replace("-", " ")))


@dataclass(frozen=True, slots=True)
class TaskDraft:
    """One task of one row, as mapped: the create-task body, what to do when it is past due, and the columns
    its due and notify times come from (for issues)."""

    request: dict[str, Any]
    past_due: str
    due_column: str
    notify_column: str


class TaskPlan:
    """How one item of ``tasks:`` is filled from a row (pure; pickles with the mapping)."""

    __slots__ = ("constant_type", "type_plan", "due", "notify_at", "note", "past_due", "due_time", "zone")

    def __init__(self, constant_type: str | None, type_plan: FieldPlan | None, due: FieldPlan,
                 notify_at: FieldPlan | None, note: FieldPlan | None, past_due: str,
                 due_time: time | None = None, zone: ZoneInfo | None = None) -> None:
        """``due_time`` (with ``zone``): the due plan reads days (``type: date``), due at that local time."""
        self.constant_type = constant_type
        self.type_plan = type_plan
        self.due = due
        self.notify_at = notify_at
        self.note = note
        self.past_due = past_due
        self.due_time = due_time
        self.zone = zone

    def draft(self, cells: Mapping[str, str], issues: list[Issue], number: int) -> TaskDraft | None:
        """The row's task, or None when its due value is blank (or a value could not be read: see ``issues``)."""
        values: dict[str, Any] = {}
        self.due.fill(cells, values, issues, number)
        if "due_date" not in values:
            return None
        if self.due_time is not None:
            day = datetime.fromisoformat(str(values["due_date"])).date()
            due = datetime.combine(day, self.due_time, self.zone or UTC).astimezone(UTC)
            values["due_date"] = due.strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.constant_type is not None:
            values["type"] = self.constant_type
        elif self.type_plan is not None:
            self.type_plan.fill(cells, values, issues, number)
            if not self._known_type(values, issues, number):
                return None
        for plan in (self.notify_at, self.note):
            if plan is not None:
                plan.fill(cells, values, issues, number)
        request: dict[str, Any] = {key: values[key] for key in _REQUEST_KEYS if key in values}
        notify_column = self.notify_at.label if self.notify_at is not None else "notify_at"
        return TaskDraft(request, self.past_due, self.due.label, notify_column)

    def _known_type(self, values: dict[str, Any], issues: list[Issue], number: int) -> bool:
        assert self.type_plan is not None
        text = values.get("type")
        if not text:
            issues.append(issue("unknown-task-type", number, self.type_plan.label, "the task has no type"))
            return False
        known = task_type(str(text))
        if known is None:
            message = f"{text!r} is not a task type (expected one of {', '.join(TASK_TYPES)})"
            issues.append(issue("unknown-task-type", number, self.type_plan.label, message, str(text)))
            return False
        values["type"] = known
        return True


def compile_tasks(compiler: Compiler, tasks: list[TaskSpec]) -> list[TaskPlan]:
    """Check each item of ``tasks:`` and build its plan (a ConfigError names the file, line and key)."""
    return [_compile(compiler, spec, ("tasks", index)) for index, spec in enumerate(tasks)]


def _compile(compiler: Compiler, spec: TaskSpec, path: KeyPath) -> TaskPlan:
    constant_type = type_plan = None
    if isinstance(spec.type, str):
        constant_type = task_type(spec.type)
        if constant_type is None:
            guess = did_you_mean(spec.type, TASK_TYPES)
            hint = f"did you mean {guess!r}?" if guess else f"expected one of {', '.join(TASK_TYPES)}"
            raise compiler.document.error((*path, "type"), f"unknown task type {spec.type!r}; {hint}")
    else:
        type_plan = compiler.value_plan("type", spec.type, (*path, "type"))
    due = _time_plan(compiler, "due_date", spec.due, (*path, "due"), days=True)
    due_time = _due_time(compiler, spec, path) if due.kind == "date" else None
    if due.kind != "date" and spec.due_time is not None:
        raise compiler.document.error((*path, "due_time"), "due_time is for a due day: due: {column: …, type: date}")
    notify_at = _time_plan(compiler, "notify_at", spec.notify_at, (*path, "notify_at")) if spec.notify_at else None
    note = compiler.value_plan("customer_note", spec.note, (*path, "note")) if spec.note else None
    if note is not None and note.kind != "string":
        raise compiler.document.error((*path, "note", "type"), "a task's note is text: leave type out")
    return TaskPlan(constant_type, type_plan, due, notify_at, note, spec.past_due, due_time, compiler.zone)


def _time_plan(compiler: Compiler, key: str, entry: FieldSpec, path: KeyPath, days: bool = False) -> FieldPlan:
    """A due or notify time: ``type: datetime`` (the default); a due day (``type: date``) when ``days``."""
    if entry.type is None:
        entry = entry.model_copy(update={"type": "datetime"})
    if entry.type not in (("datetime", "date") if days else ("datetime",)):
        expected = "type: datetime, or type: date with due_time" if days else "type: datetime"
        raise compiler.document.error((*path, "type"), f"a task's {path[-1]} is a moment: expected {expected}")
    return compiler.value_plan(key, entry, path)


def _due_time(compiler: Compiler, spec: TaskSpec, path: KeyPath) -> time:
    if spec.due_time is None:
        return DEFAULT_DUE_TIME
    found = _TIME_OF_DAY.fullmatch(spec.due_time.strip())
    if found is None:
        raise compiler.document.error((*path, "due_time"), f'expected a time of day such as "10:00", got '
                                                           f"{spec.due_time!r}")
    return time(int(found.group(1)), int(found.group(2)))
