"""Per field, how its value meets a lead that exists (the field policies), and the day/month order of dates.

A policy is the field's own ``policy:`` when it has one, else what ``defaults.policy`` gives it
(:func:`importer.mapping.policies.field_policy`); a choice equal to that is written as no ``policy:`` at all.
A date column's order is decided from its values (:mod:`importer.mapping.profile`); saying otherwise writes the
field's ``date_format`` (``"%d/%m/%Y"`` or ``"%m/%d/%Y"``, which still reads ISO dates and times after the date).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from importer.errors import ConfigError
from importer.mapping.compiler import FULL_NAME
from importer.mapping.dates import ORDER_FORMATS, ORDER_NAMES, Order
from importer.mapping.policies import POLICIES, field_policy
from importer.mapping.profile import ColumnProfile
from importer.models import Row
from importer.ui.wizard.roles import WORDS, short_form, spec_columns, spec_object

POLICY_WORDS = {"overwrite": "overwrite", "fill_empty": "fill blanks only", "create_only": "only on new leads"}
ORDER_WORDS: dict[str, str] = {"dmy": "dd/mm/yyyy (day first)", "mdy": "mm/dd/yyyy (month first)"}
#: The task keys that hold a time.
TASK_TIMES = ("due", "notify_at")
DateWhere = tuple[str, int | str, str] | tuple[str, str]


@dataclass
class FieldPolicy:
    """A mapped field, its policy and the policies it can take."""

    field: str
    words: str
    policy: str
    allowed: list[str] = dataclasses.field(default_factory=list)


def field_policies(data: Mapping[str, Any]) -> list[FieldPolicy]:
    """The policy of each mapped field that can take more than one (the phone, which finds the lead, takes none)."""
    default = _default_policy(data)
    found = []
    for name, spec in _fields(data).items():
        target = "first_name" if name == FULL_NAME else str(name)
        allowed = [policy for policy in POLICIES if _allows(target, policy, default)]
        if len(allowed) < 2:
            continue
        own = spec.get("policy") if isinstance(spec, dict) else None
        current = own if own in allowed else field_policy(target, None, default)
        found.append(FieldPolicy(str(name), WORDS.get(str(name), str(name)), current, allowed))
    return found


def with_policies(data: Mapping[str, Any], before: list[FieldPolicy], posted: Mapping[str, str]) -> dict[str, Any]:
    """``data`` with each field's policy as ``posted`` (field → policy) where it differs; a copy."""
    changed = [(item, posted[item.field]) for item in before
               if posted.get(item.field) in item.allowed and posted[item.field] != item.policy]
    if not changed:
        return dict(data)
    result = copy.deepcopy(dict(data))
    default = _default_policy(data)
    for item, policy in changed:
        spec = spec_object(result["fields"][item.field])
        target = "first_name" if item.field == FULL_NAME else item.field
        if policy == field_policy(target, None, default):
            spec.pop("policy", None)
        else:
            spec["policy"] = policy
        result["fields"][item.field] = short_form(spec)
    return result


def _allows(target: str, policy: str, default: str) -> bool:
    try:
        field_policy(target, policy, default)
    except ValueError:
        return False
    return True


def _default_policy(data: Mapping[str, Any]) -> str:
    defaults = data.get("defaults") if isinstance(data.get("defaults"), dict) else {}
    policy = (defaults or {}).get("policy")
    return policy if policy in POLICIES else "overwrite"


@dataclass
class DateColumn:
    """A date field (or a task's time) read from columns: the order decided from the sheet and why, the order the
    mapping says (``chosen``: "" when it leaves it to the sheet) and a ``date_format`` the wizard cannot show."""

    where: DateWhere
    words: str
    columns: list[str]
    decided: str = ""
    why: str = ""
    chosen: str = ""
    other_format: str = ""

    @property
    def key(self) -> str:
        """The form's name for it: ``fields.x`` or ``tasks.0.due``."""
        return ".".join(str(part) for part in self.where)


def date_columns(data: Mapping[str, Any]) -> list[DateColumn]:
    """Every date field and task time the mapping reads from columns, with the order its ``date_format`` says."""
    found: list[DateColumn] = []
    for name, spec in _fields(data).items():
        if isinstance(spec, dict) and spec.get("type") in ("date", "datetime"):
            found += _date_column(("fields", str(name)), WORDS.get(str(name), str(name)), spec)
    for index, task in enumerate(data.get("tasks") or []):
        for key in TASK_TIMES if isinstance(task, dict) else ():
            if key in task:
                found += _date_column(("tasks", index, key), f"task {index + 1}: {key.replace('_', ' ')}",
                                      task[key])
    return found


def _date_column(where: DateWhere, words: str, spec: Any) -> list[DateColumn]:
    columns = spec_columns(spec)[1]
    if not columns:
        return []
    written = spec.get("date_format") if isinstance(spec, dict) else None
    chosen = next((order for order, text in ORDER_FORMATS.items() if text == written), "")
    other = str(written) if written and not chosen else ""
    return [DateColumn(where, words, columns, chosen=chosen, other_format=other)]


def decide_orders(found: list[DateColumn], rows: Iterable[list[Row]]) -> None:
    """Decide each date column's order from ``rows``, as a run would (its reason in words when it cannot)."""
    if not found:
        return
    profiles = {column: ColumnProfile() for item in found for column in item.columns}
    for batch in rows:
        for row in batch:
            for column, profile in profiles.items():
                text = (row.cells.get(column) or "").strip()
                if text[:1].isdigit():
                    profile.add(row.number, text)
    for item in found:
        orders: list[Order | None] = []
        for column in item.columns:
            try:
                orders.append(profiles[column].decide(f"column {column!r}"))
            except ConfigError as exc:
                item.why = str(exc).split("; add ", 1)[0]
                break
        decided: set[Order] = {order for order in orders if order}
        if not item.why and len(decided) == 1:
            decided_order = decided.pop()
            item.decided = decided_order
            item.why = f"its dates are written {ORDER_NAMES[decided_order]}"
        elif not item.why:
            item.why = "no date in it is written as two numbers and a year: nothing to decide"


def with_orders(data: Mapping[str, Any], before: list[DateColumn], posted: Mapping[str, str]) -> dict[str, Any]:
    """``data`` with ``date_format`` written or taken out where ``posted`` (key → "", dmy or mdy) changes it."""
    changed = [(item, posted[item.key]) for item in before if not item.other_format
               and posted.get(item.key) in ("", *ORDER_FORMATS) and posted[item.key] != item.chosen]
    if not changed:
        return dict(data)
    result = copy.deepcopy(dict(data))
    for item, order in changed:
        parent: Any = result
        for part in item.where[:-1]:
            parent = parent[part]
        spec = spec_object(parent[item.where[-1]])
        if order:
            spec["date_format"] = ORDER_FORMATS[order]  # type: ignore[index]
        else:
            spec.pop("date_format", None)
        parent[item.where[-1]] = short_form(spec)
    return result


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    fields = data.get("fields")
    return fields if isinstance(fields, dict) else {}
