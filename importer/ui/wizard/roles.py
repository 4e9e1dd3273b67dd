"""What each column becomes: the mapping's fields read column by column, and a column's new role written back.

A column's *role* is the field it fills (``customer_phone``, ``lead_stage_name``, …), ``full_name`` (split into
first and last name), :data:`REGION` (``defaults.region_column``) or :data:`IGNORE`. It is read from the fields
that name the column directly (``column`` / ``columns`` and their short forms); a column read by a template, a
lookup or a task keeps that use, shown beside its role. Changing a column's role takes it out of every field that
names it directly and puts it in the new one; every other part of the mapping stays as it was.

"Other phones" (``add_phones``) also stand in for the phone number when that one is blank (``customer_phone``'s
``columns``), as ``mapping suggest`` and the presets write it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from importer.mapping.compiler import FULL_NAME, field_types
from importer.mapping.values import Template

IGNORE = ""
REGION = "defaults.region_column"
PHONE, OTHER_PHONES = "customer_phone", "add_phones"
#: Fields whose cells hold several values, one per separator.
SPLIT_FIELDS = frozenset({"add_labels", "remove_labels", "add_products"})
#: The separators a list column is looked at for, in this order.
SEPARATORS = (";", "|", ",")
#: Fields whose value is an amount.
NUMBER_FIELDS = frozenset({"deal_value", "address.latitude", "address.longitude"})

WORDS: dict[str, str] = {
    IGNORE: "Don't import",
    PHONE: "Phone number",
    OTHER_PHONES: "Other phones",
    "first_name": "First name",
    "last_name": "Last name",
    FULL_NAME: "Full name (split)",
    "email": "Email",
    "business_name": "Company",
    "website": "Website",
    "city": "City",
    "address.text": "Address",
    "address.additional": "Address, second line",
    "address.initials": "Address initials",
    "address.latitude": "Latitude",
    "address.longitude": "Longitude",
    "source": "Source (where the lead came from)",
    "source_type": "Source type (CSV_UPLOAD, OTHERS, …)",
    "deal_value": "Deal value (an amount)",
    "lead_stage_name": "Stage",
    "lead_group_name": "Group",
    "add_labels": "Labels",
    "remove_labels": "Labels to remove",
    "add_products": "Products",
    "assignee_user_phone": "Assignee (the user's phone)",
    "additional_info": "Additional info",
    "customer_note": "Note",
    REGION: "Country of the phone (IN, US, …)",
}


def role_keys() -> list[str]:
    """Every role, in the order the dropdown lists them: the words above first, then any other field."""
    fields = [name for name in field_types() if name != "create_customer_if_customer_phone_not_found"]
    return [*WORDS, *(name for name in fields if name not in WORDS)]


def role_words(role: str, separator: str = ";") -> str:
    """The role in words; a list role says its separator ("Labels (one per ';')")."""
    words = WORDS.get(role, role)
    if role in SPLIT_FIELDS:
        return f"{words} (one per '{separator}')"
    return words


@dataclass
class Use:
    """One way a mapping reads a column: ``field`` and ``how`` (column, columns, template, lookup, task, region)."""

    field: str
    how: str


@dataclass
class ColumnRole:
    """A column as the wizard shows it: its role, its separator (list roles) and the uses it keeps whatever its
    role (templates, tasks)."""

    column: str
    role: str
    separator: str = ";"
    kept: list[Use] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)


def spec_columns(spec: Any) -> tuple[str, list[str]]:
    """How a field names columns directly (``column`` or ``columns``, short forms too) and which; ("", []) for a
    template, a constant or a shape the loader refuses."""
    if isinstance(spec, str):
        return "column", [spec]
    if isinstance(spec, list):
        return "columns", [str(item) for item in spec]
    if isinstance(spec, dict) and sum(key in spec for key in ("column", "columns", "value", "template")) == 1:
        if isinstance(spec.get("column"), str):
            return "column", [spec["column"]]
        if isinstance(spec.get("columns"), list):
            return "columns", [str(item) for item in spec["columns"]]
    return "", []


def template_columns(spec: Any) -> list[str]:
    """The columns a ``template`` names (none when it is not one, or cannot be read)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("template"), str):
        return []
    try:
        return list(Template.parse(spec["template"]).columns)
    except ValueError:
        return []


def column_uses(data: Mapping[str, Any]) -> dict[str, list[Use]]:
    """Every column the mapping reads → how, in file order."""
    uses: dict[str, list[Use]] = {}
    for name, spec in _fields(data).items():
        how, columns = spec_columns(spec)
        if how and isinstance(spec, dict) and "lookup" in spec:
            how = "lookup"
        for column in columns:
            uses.setdefault(column, []).append(Use(str(name), how))
        for column in template_columns(spec):
            uses.setdefault(column, []).append(Use(str(name), "template"))
    defaults = data.get("defaults")
    if isinstance(defaults, dict) and isinstance(defaults.get("region_column"), str):
        uses.setdefault(defaults["region_column"], []).append(Use(REGION, "region"))
    for index, task in enumerate(data.get("tasks") or []):
        for key, spec in (task.items() if isinstance(task, dict) else []):
            for column in spec_columns(spec)[1] + template_columns(spec):
                uses.setdefault(column, []).append(Use(f"tasks[{index}].{key}", "task"))
    return uses


def column_roles(data: Mapping[str, Any], columns: Sequence[str]) -> list[ColumnRole]:
    """The role of each of the sheet's ``columns`` (``_`` columns are never mapped and left out)."""
    uses = column_uses(data)
    fields = _fields(data)
    roles = []
    for column in columns:
        if column.startswith("_"):
            continue
        found = uses.get(column, [])
        direct = [use.field for use in found if use.how in ("column", "columns", "lookup", "region")]
        role = OTHER_PHONES if OTHER_PHONES in direct else direct[0] if direct else IGNORE
        spec = fields.get(role)
        separator = spec.get("split") if isinstance(spec, dict) and isinstance(spec.get("split"), str) else ";"
        kept = [use for use in found if use.how in ("template", "task")]
        roles.append(ColumnRole(column, role, separator or ";", kept))
    return roles


def with_roles(data: Mapping[str, Any], before: Sequence[ColumnRole], after: Mapping[str, str],
               separators: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``data`` with each column whose role in ``after`` differs from ``before`` moved to its new role (a copy;
    ``data`` itself when nothing changed). ``separators``: a list column's separator, when it becomes one."""
    changed = [role.column for role in before if after.get(role.column, role.role) != role.role]
    if not changed:
        return dict(data)
    result = copy.deepcopy(dict(data))
    fields = result.setdefault("fields", {})
    for column in changed:
        _take_out(result, fields, column)
    for column in changed:
        _put_in(result, fields, column, after[column], (separators or {}).get(column, ";"))
    return result


def _take_out(data: dict[str, Any], fields: dict[str, Any], column: str) -> None:
    """``column`` out of every field that names it directly (a field left with no column goes too)."""
    for name in list(fields):
        spec = fields[name]
        how, columns = spec_columns(spec)
        if column not in columns:
            continue
        rest = [item for item in columns if item != column]
        if not rest:
            del fields[name]
        elif isinstance(spec, list):
            fields[name] = rest
        elif how == "columns":
            spec["columns"] = rest
    defaults = data.get("defaults")
    if isinstance(defaults, dict) and defaults.get("region_column") == column:
        del defaults["region_column"]


def _put_in(data: dict[str, Any], fields: dict[str, Any], column: str, role: str, separator: str) -> None:
    if role == IGNORE:
        return
    if role == REGION:
        defaults = data.get("defaults")
        data["defaults"] = {**(defaults if isinstance(defaults, dict) else {}), "region_column": column}
        return
    if role == OTHER_PHONES:
        fields[OTHER_PHONES] = _joined(fields.get(OTHER_PHONES), column, force_list=True)
        if PHONE in fields and column not in spec_columns(fields[PHONE])[1]:
            fields[PHONE] = _joined(fields[PHONE], column)  # it stands in when the phone is blank
        return
    if role in fields:
        before = _fallbacks(fields) if role == PHONE else None
        fields[role] = _joined(fields[role], column, before)
        return
    fields[role] = _new_spec(role, column, separator)


def _fallbacks(fields: dict[str, Any]) -> str | None:
    """The first "other phone" standing in for the phone: a new phone column goes before it."""
    others = spec_columns(fields.get(OTHER_PHONES))[1]
    return next((column for column in spec_columns(fields[PHONE])[1] if column in others), None)


def _new_spec(role: str, column: str, separator: str) -> Any:
    if role in SPLIT_FIELDS:
        return {"column": column, "split": separator}
    if role in NUMBER_FIELDS:
        return {"column": column, "type": "number"}
    return column


def _joined(spec: Any, column: str, before: str | None = None, force_list: bool = False) -> Any:
    """``spec`` reading ``column`` too (first non-blank of its columns; every one for a list field)."""
    how, columns = spec_columns(spec)
    if not how:  # a template or a constant: the column replaces it
        return [column] if force_list else column
    at = columns.index(before) if before in columns else len(columns)
    joined = [*columns[:at], column, *columns[at:]]
    if not isinstance(spec, dict):
        return joined
    if how == "column":
        return {("columns" if key == "column" else key): (joined if key == "column" else value)
                for key, value in spec.items()}
    return {**spec, "columns": joined}


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    fields = data.get("fields")
    return fields if isinstance(fields, dict) else {}


def spec_object(spec: Any) -> dict[str, Any]:
    """A field in its long form: ``Phone`` → ``{column: Phone}``, ``[A, B]`` → ``{columns: [A, B]}``."""
    if isinstance(spec, str):
        return {"column": spec}
    if isinstance(spec, list):
        return {"columns": list(spec)}
    return dict(spec) if isinstance(spec, dict) else {}


def short_form(spec: dict[str, Any]) -> Any:
    """``{column: X}`` is written ``X``, ``{columns: [A, B]}`` ``[A, B]``, as people write them."""
    if list(spec) == ["column"]:
        return spec["column"]
    if list(spec) == ["columns"]:
        return spec["columns"]
    return spec
