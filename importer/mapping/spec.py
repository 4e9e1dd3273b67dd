"""The mapping file's schema (contract v1) as pydantic models; pydantic errors turned into one clear line."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from importer.mapping.document import Document, KeyPath, did_you_mean

FieldType = Literal["string", "number", "phone", "email", "bool", "date", "datetime"]
#: How a field's value meets the lead's (see importer.run.rules.policy): write it, write it only where the lead has
#: nothing, or write it only to a lead the row creates.
Policy = Literal["overwrite", "fill_empty", "create_only"]
#: What a cell that is not a valid value does: leave the field out with a warning, or keep the row from being sent.
OnInvalid = Literal["drop", "reject"]

FIELD_SHAPE = (
    "expected a column name, a list of columns, or an object with one of column / columns / value / template"
)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LookupSpec(_Spec):
    """``lookup: {file: owners.csv, key: email, value: phone}``: translate a cell through a CSV table."""

    file: str
    key: str
    value: str


class FieldSpec(_Spec):
    """How one API field is filled: exactly one of column / columns / value / template (checked later)."""

    column: str | None = None
    columns: list[str] | None = None
    value: str | list[str] | None = None
    template: str | None = None
    split: str | None = None
    map: dict[str, str | None] | None = None
    default: str | None = None
    type: FieldType | None = None
    strict: bool = False
    lookup: LookupSpec | None = None
    date_format: str | None = None
    policy: Policy | None = None
    on_invalid: OnInvalid | None = None


class TaskSpec(_Spec):
    """One item of ``tasks:`` (see :mod:`importer.mapping.tasks`): ``type`` is a task type or a field spec."""

    type: str | FieldSpec
    due: FieldSpec
    notify_at: FieldSpec | None = None
    note: FieldSpec | None = None
    past_due: Literal["skip", "create"] = "skip"
    due_time: str | None = None


class DefaultsSpec(_Spec):
    region: str = "IN"
    region_column: str | None = None
    create_if_missing: bool = True
    timezone: str = "Asia/Kolkata"
    policy: Policy = "overwrite"
    on_invalid: OnInvalid | None = None
    number_locale: str = "IN"


class MappingSpec(_Spec):
    version: int
    description: str | None = None
    defaults: DefaultsSpec = DefaultsSpec()
    fields: dict[str, FieldSpec]
    tasks: list[TaskSpec] = []


_EXPECTED: dict[str, str] = {
    "version": "expected 1 (the only mapping format version)",
    "description": "expected text",
    "defaults": ("expected an object with region, region_column, create_if_missing, timezone, policy, on_invalid, "
                 "number_locale"),
    "fields": "expected an object of API field: column, e.g. customer_phone: Phone",
    "region": "expected a two-letter country code such as IN",
    "region_column": "expected a column name",
    "create_if_missing": "expected true or false",
    "timezone": "expected a time zone name such as Asia/Kolkata",
    "column": "expected a column name",
    "columns": "expected a list of column names",
    "value": "expected a constant: text, a number, true/false, a list, or null",
    "template": "expected text with {Column} placeholders",
    "split": 'expected a separator such as ";"',
    "map": "expected an object of cell value: replacement",
    "default": "expected a value to use when the cell is empty",
    "type": "expected one of string, number, phone, email, bool, date, datetime",
    "date_format": 'expected a strptime format such as "%d/%m/%Y"',
    "strict": "expected true or false",
    "lookup": "expected an object with file, key and value",
    "file": "expected a CSV file path, relative to the mapping file",
    "key": "expected a column name of the lookup file",
    "tasks": "expected a list of tasks, each {type, due, notify_at, note, past_due}",
    "due": "expected a column name, or {column: Follow-up, type: datetime}",
    "notify_at": "expected a column name, or {column: Remind At, type: datetime}",
    "note": "expected a column name, or {template: ...}",
    "past_due": "expected skip or create",
    "due_time": 'expected a time of day such as "10:00"',
    "policy": "expected one of overwrite, fill_empty, create_only",
    "on_invalid": "expected drop (leave the bad value out, send the row) or reject (do not send the row)",
    "number_locale": "expected a country code such as IN (1,234.5) or DE (1.234,5)",
}
_LOOKUP_VALUE = "expected a column name of the lookup file"
_MAP_ENTRY = "expected a replacement value (text or a number) or null"


def parse_spec(document: Document) -> MappingSpec:
    """Validate the plain data of ``document``; the first problem (by line) becomes a ConfigError."""
    data = document.data
    fields = data.get("fields")
    if isinstance(fields, dict):
        data = {
            **data,
            "fields": {name: _expand_shorthand(entry) for name, entry in fields.items()},
        }
    tasks = data.get("tasks")
    if isinstance(tasks, list):
        data = {**data, "tasks": [_expand_task(task) for task in tasks]}
    try:
        return MappingSpec.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(data, error) for error in exc.errors()]
    problems = [(document.written(path), message) for path, message in problems]
    # An unknown key often explains a missing one (``feilds:``), so missing keys are reported last.
    path, message = min(
        problems, key=lambda problem: (problem[1].startswith("required"), document.line_of(problem[0]))
    )
    raise document.error(path, message)


def _expand_shorthand(entry: Any) -> Any:
    """``Phone`` → ``{column: Phone}``; ``[A, B]`` → ``{columns: [A, B]}``; the rest is left to pydantic."""
    if isinstance(entry, str):
        return {"column": entry}
    if isinstance(entry, list):
        return {"columns": entry}
    return entry


def _expand_task(task: Any) -> Any:
    """A task's due, notify_at and note take the fields' shorthand; its ``type`` is a task type when it is text."""
    if not isinstance(task, dict):
        return task
    return {key: _expand_shorthand(value) if key in ("due", "notify_at", "note") else value
            for key, value in task.items()}


def _describe(data: Any, error: Any) -> tuple[KeyPath, str]:
    """The key path (union member names dropped) and a human message for one pydantic error."""
    path = _data_path(data, error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return path, _unknown_key(path)
    if len(path) == 2 and path[0] == "fields":
        return path, FIELD_SHAPE
    if len(path) == 2 and path[0] == "tasks":
        return path, "expected a task: an object with type, due and optionally notify_at, note, past_due"
    expected = _expected(path[:-1], str(path[-1]) if path else "")
    return path, f"required; {expected}" if kind == "missing" else expected


_UNION_MEMBERS = frozenset({"str", "list[str]", "none", "FieldSpec"})


def _data_path(data: Any, loc: tuple[Any, ...]) -> KeyPath:
    """The parts of a pydantic ``loc`` that name data, plus a missing key at the end if that is the issue."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part not in _UNION_MEMBERS:
            path.append(part)
            break
        else:
            continue
        path.append(part)
    return tuple(path)


def _expected(parent: KeyPath, key: str) -> str:
    if "map" in parent[2:3]:
        return _MAP_ENTRY
    if parent[2:3] == ("lookup",) and key == "value":
        return _LOOKUP_VALUE
    if len(parent) == 3 and parent[2] == "columns":
        return "expected a column name"
    if len(parent) == 3 and parent[2] == "value":
        return "expected a constant (text or a number) in the list"
    return _EXPECTED.get(key, "unexpected value")


def _allowed_keys(parent: KeyPath) -> list[str]:
    model: type[_Spec] = MappingSpec
    if parent == ("defaults",):
        model = DefaultsSpec
    elif len(parent) == 2 and parent[0] == "fields":
        model = FieldSpec
    elif len(parent) == 2 and parent[0] == "tasks":
        model = TaskSpec
    elif len(parent) == 3 and parent[0] == "tasks":
        model = FieldSpec
    elif len(parent) == 3 and parent[2] == "lookup":
        model = LookupSpec
    return list(model.model_fields)


def _unknown_key(path: KeyPath) -> str:
    key = str(path[-1])
    allowed = _allowed_keys(path[:-1])
    guess = did_you_mean(key, allowed)
    hint = f"did you mean {guess!r}?" if guess else f"expected one of: {', '.join(allowed)}"
    return f"unknown key {key!r}; {hint}"
