"""Turn a validated :class:`MappingSpec` into field plans, checking what pydantic cannot (names, options)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers

from importer.fields import CREATE_FLAG
from importer.mapping.amounts import DEFAULT_NUMBER_LOCALE, NUMBER_LOCALES
from importer.mapping.dates import DateReader, date_format_problem, order_fits, read_date
from importer.mapping.document import Document, KeyPath, did_you_mean, format_path
from importer.mapping.lookup import load_lookup
from importer.mapping.names import NamePlan
from importer.mapping.plans import FieldPlan, ListPlan, ScalarPlan
from importer.mapping.policies import field_on_invalid, field_policy
from importer.mapping.spec import FieldSpec, MappingSpec
from importer.mapping.tasks import TaskPlan, compile_tasks
from importer.mapping.values import OMIT, Template, ValueMap
from importer.models import ADDRESS_FIELDS, UPSERT_FIELDS

#: Not an API field: one name column split into first_name and last_name (importer.mapping.names).
FULL_NAME = "full_name"
_ADDRESS = "address."
_SOURCES = ("column", "columns", "value", "template")
#: The value types each JSON type of the API accepts; the first is the default.
_TYPES: dict[str, tuple[str, ...]] = {
    "phone": ("phone", "string"),
    "phone[]": ("phone", "string"),
    "string": ("string", "email", "date", "datetime"),
    "string[]": ("string", "email"),
    "number": ("number",),
    "bool": ("bool",),
}


def field_types() -> dict[str, str]:
    """Every key ``fields:`` accepts → its JSON type (``address`` appears as its sub-fields)."""
    names = {name: kind for name, kind in UPSERT_FIELDS.items() if name != "address"}
    names.update({_ADDRESS + name: kind for name, kind in ADDRESS_FIELDS.items()})
    return names


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """A sheet column the mapping reads, and where the mapping file names it."""

    column: str
    key_path: str
    line: int


@dataclass
class Compiled:
    """Everything :class:`Mapping` needs per row, plus what it reports about itself."""

    constants: dict[str, Any] = field(default_factory=dict)
    address_constants: dict[str, Any] = field(default_factory=dict)
    plain: list[tuple[str, str]] = field(default_factory=list)
    plans: list[FieldPlan] = field(default_factory=list)
    address_plans: list[FieldPlan] = field(default_factory=list)
    refs: list[ColumnRef] = field(default_factory=list)
    lookups: dict[str, dict[str, str]] = field(default_factory=dict)
    tasks: list[TaskPlan] = field(default_factory=list)
    #: Field (``address.text`` for an address part) → its policy, for the fields that are not overwrite.
    policies: dict[str, str] = field(default_factory=dict)
    #: What the day/month order must be decided for before rows are mapped (date fields without date_format).
    date_sources: list[DateSource] = field(default_factory=list)
    #: Field → ``drop`` or ``reject``: what a cell that is not a valid value does (``on_invalid``).
    on_invalid: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DateSource:
    """A column (or a template) a date field reads, whose day/month order is decided from all its values."""

    key: str  # the column, or the field's name for a template; the key of ``DateReader.orders``
    template: Template | None
    where: str  # "mapping.yaml:12: fields.x", for messages
    reader: DateReader


class Compiler:
    """Checks one mapping spec against the API's fields and builds its :class:`Compiled` form."""

    def __init__(self, document: Document, spec: MappingSpec) -> None:
        self.document = document
        self.spec = spec
        self.types = field_types()
        self.result = Compiled()
        self.zone = ZoneInfo("UTC")
        self.locale = DEFAULT_NUMBER_LOCALE

    def compile(self) -> Compiled:
        spec = self.spec
        if spec.version != 1:
            raise self.document.error(
                ("version",), f"expected 1 (the only mapping format version), got {spec.version}"
            )
        self._defaults()
        for name, entry in spec.fields.items():
            self._field(name, entry)
        if "customer_phone" not in spec.fields:
            raise self.document.error(
                ("fields",), "customer_phone is required (the column with each lead's phone)"
            )
        if CREATE_FLAG not in self.result.constants:
            self.result.constants[CREATE_FLAG] = spec.defaults.create_if_missing
        self.result.tasks = compile_tasks(self, spec.tasks)
        return self.result

    def _defaults(self) -> None:
        defaults = self.spec.defaults
        if defaults.region.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise self.document.error(
                ("defaults", "region"),
                f"{defaults.region!r} is not a country code; expected one such as IN, US, GB",
            )
        if defaults.region_column is not None:
            self._column(defaults.region_column, ("defaults", "region_column"))
        self.zone = self._timezone(defaults.timezone)
        self.locale = defaults.number_locale.strip().upper()
        if self.locale not in NUMBER_LOCALES:
            raise self.document.error(
                ("defaults", "number_locale"),
                f"unknown number locale {defaults.number_locale!r}; expected one of {', '.join(NUMBER_LOCALES)}",
            )

    def _timezone(self, name: str) -> ZoneInfo:
        try:
            return ZoneInfo(name.strip())
        except (ZoneInfoNotFoundError, ValueError):
            pass
        guess = did_you_mean(name, sorted(available_timezones()))
        hint = f"; did you mean {guess!r}?" if guess else " (an IANA name such as Asia/Kolkata or UTC)"
        raise self.document.error(("defaults", "timezone"), f"unknown time zone {name!r}{hint}")

    def _field(self, name: str, entry: FieldSpec) -> None:
        path: KeyPath = ("fields", name)
        self._policy(name, entry, path)
        on_invalid = self._on_invalid(name, entry, path)
        for target in ("first_name", "last_name") if name == FULL_NAME else (name,):
            self.result.on_invalid[target] = on_invalid
        if name == FULL_NAME:
            self.result.plans.append(self._full_name(entry, path))
            return
        json_type = self._json_type(name, path)
        if self._source(entry, path) == "value":
            kind = self._kind(entry, json_type, path)
            self._check_options(entry, json_type, path)
            self._constant(name, entry, json_type, kind, path)
            return
        plan = self.value_plan(name, entry, path, json_type)
        plan.on_invalid = on_invalid
        if isinstance(plan, ScalarPlan) and self._is_plain(plan) and not name.startswith(_ADDRESS):
            self.result.plain.append((name, plan.columns[0]))
        elif name.startswith(_ADDRESS):
            self.result.address_plans.append(plan)
        else:
            self.result.plans.append(plan)

    def value_plan(self, name: str, entry: FieldSpec, path: KeyPath, json_type: str = "string") -> FieldPlan:
        """The plan of a field read from the sheet (column / columns / template), its options checked. Also for
        values outside ``fields:`` (e.g. a task's due time: ``{column: Follow-up, type: datetime}``)."""
        if self._source(entry, path) == "value":
            raise self.document.error((*path, "value"), "expected a column, columns or a template here")
        if path[0] != "fields" and entry.on_invalid is not None:
            raise self.document.error((*path, "on_invalid"), "on_invalid is for fields: a task whose type or time "
                                                             "is not valid is never created")
        kind = self._kind(entry, json_type, path)
        self._check_options(entry, json_type, path)
        return self._plan(name, entry, json_type, kind, path)

    def _full_name(self, entry: FieldSpec, path: KeyPath) -> FieldPlan:
        """``full_name`` fills first_name and last_name, so it cannot be mapped beside either of them."""
        for name in ("first_name", "last_name"):
            if name in self.spec.fields:
                line = self.document.line_of(path)
                raise self.document.error(
                    ("fields", name), f"{name} is filled by full_name (line {line}); map either full_name or "
                                      "first_name / last_name")
        if self._source(entry, path) == "value":
            raise self.document.error((*path, "value"), "full_name reads a column, columns or a template")
        for option in ("split", "type", "date_format"):
            if getattr(entry, option) is not None:
                raise self.document.error((*path, option), f"{option} cannot be used with full_name (a name)")
        self._check_options(entry, "string", path)
        return self._plan(FULL_NAME, entry, "string", "string", path, NamePlan)

    def _source(self, entry: FieldSpec, path: KeyPath) -> str:
        given = [key for key in _SOURCES if key in entry.model_fields_set]
        if len(given) != 1:
            found = f"found {' and '.join(given)}" if given else "found none"
            raise self.document.error(
                path, f"expected exactly one of column / columns / value / template ({found})"
            )
        return given[0]

    def _json_type(self, name: str, path: KeyPath) -> str:
        if name in self.types:
            return self.types[name]
        if name == "address":
            subfields = ", ".join(key for key in self.types if key.startswith(_ADDRESS))
            raise self.document.error(path, f"set the address through its parts: {subfields}")
        known = [*self.types, FULL_NAME]
        guess = did_you_mean(name, known)
        hint = f"did you mean {guess!r}?" if guess else f"expected one of: {', '.join(known)}"
        raise self.document.error(path, f"unknown API field {name!r}; {hint}")

    def _kind(self, entry: FieldSpec, json_type: str, path: KeyPath) -> str:
        allowed = _TYPES[json_type]
        if entry.type is None:
            return "email" if path[-1] == "email" else allowed[0]
        if entry.type not in allowed:
            raise self.document.error(
                (*path, "type"),
                f"type {entry.type} does not fit {path[-1]} ({json_type}); expected {_one_of(allowed)}",
            )
        return entry.type

    def _check_options(self, entry: FieldSpec, json_type: str, path: KeyPath) -> None:
        is_list = json_type.endswith("[]")
        if entry.split is not None and not is_list:
            raise self.document.error((*path, "split"), f"split is only for list fields ({self._list_fields()})")
        if entry.split == "":
            raise self.document.error((*path, "split"), 'expected a separator such as ";"')
        if entry.map is not None and entry.lookup is not None:
            raise self.document.error((*path, "lookup"), "use either map or lookup, not both")
        if entry.strict and entry.map is None and entry.lookup is None:
            raise self.document.error((*path, "strict"), "strict needs a map or a lookup to check values against")
        if entry.date_format is not None:
            self._check_date_format(entry, path)
        if "value" in entry.model_fields_set:
            for option in ("split", "map", "lookup", "default"):
                if getattr(entry, option) is not None:
                    raise self.document.error((*path, option), f"{option} cannot be used with value (a constant)")

    def _check_date_format(self, entry: FieldSpec, path: KeyPath) -> None:
        where = (*path, "date_format")
        if entry.type not in ("date", "datetime"):
            raise self.document.error(where, "date_format is only for type: date or type: datetime")
        problem = date_format_problem(entry.date_format or "")
        if problem:
            raise self.document.error(where, problem)

    def _policy(self, name: str, entry: FieldSpec, path: KeyPath) -> None:
        """The field's policy (a full name's goes to first_name and last_name, the fields it fills)."""
        names = ("first_name", "last_name") if name == FULL_NAME else (name,)
        for target in names:
            try:
                policy = field_policy(target, entry.policy, self.spec.defaults.policy)
            except ValueError as exc:
                raise self.document.error((*path, "policy"), str(exc)) from None
            if policy != "overwrite":
                self.result.policies[target] = policy

    def _on_invalid(self, name: str, entry: FieldSpec, path: KeyPath) -> str:
        try:
            return field_on_invalid(name, entry.on_invalid, entry.strict, self.spec.defaults.on_invalid)
        except ValueError as exc:
            raise self.document.error((*path, "on_invalid"), str(exc)) from None

    def _list_fields(self) -> str:
        return ", ".join(name for name, kind in self.types.items() if kind.endswith("[]"))

    def _constant(self, name: str, entry: FieldSpec, json_type: str, kind: str, path: KeyPath) -> None:
        target = self.result.address_constants if name.startswith(_ADDRESS) else self.result.constants
        key = name.removeprefix(_ADDRESS)
        value = entry.value
        if value is None:
            if name == "customer_phone":
                raise self.document.error((*path, "value"), "customer_phone cannot be null")
            target[key] = None
            return
        if isinstance(value, list) and not json_type.endswith("[]"):
            raise self.document.error(
                (*path, "value"), f"expected a single value: {name} is not a list field"
            )
        plan = FieldPlan(key, kind=kind, dates=self._date_reader(entry, kind), locale=self.locale)
        items = value if isinstance(value, list) else [value]
        converted = []
        for index, item in enumerate(items):
            problems: list[Any] = []
            result = plan.convert(item.strip(), name, problems, 0) if item.strip() else OMIT
            item_path = (*path, "value", index) if isinstance(value, list) else (*path, "value")
            if problems:
                fits = order_fits(item) if plan.dates is not None else None
                if fits is not None and any(fits):
                    iso = read_date(item, "dmy" if fits[0] else "mdy")
                    example = iso.moment.date().isoformat() if iso else "2024-01-20"
                    raise self.document.error(item_path, f"expected a date such as {example} (ISO 8601): a "
                                                         "constant cannot be read day-first or month-first")
                raise self.document.error(item_path, problems[0].message)
            if result is not OMIT and result not in converted:
                converted.append(result)
        if not converted:
            raise self.document.error((*path, "value"), "expected a value; use null to clear the field")
        target[key] = converted if json_type.endswith("[]") else converted[0]

    def _plan(self, name: str, entry: FieldSpec, json_type: str, kind: str, path: KeyPath,
              plan_type: type[FieldPlan] | None = None) -> FieldPlan:
        columns: tuple[str, ...] = ()
        template = None
        if entry.column is not None:
            columns = (self._column(entry.column, (*path, "column")),)
        elif entry.columns is not None:
            if not entry.columns:
                raise self.document.error((*path, "columns"), "expected at least one column name")
            columns = tuple(
                self._column(column, (*path, "columns", i)) for i, column in enumerate(entry.columns)
            )
        else:
            template = self._template(entry.template or "", (*path, "template"))
        lookup = None
        if entry.lookup is not None:
            lookup = load_lookup(self.document, (*path, "lookup"), entry.lookup)
            self.result.lookups[format_path(path)] = lookup
        dates = self._date_reader(entry, kind)
        if dates is not None and entry.date_format is None:
            where = f"{self.document.path}:{self.document.line_of(self.document.written(path))}: {format_path(path)}"
            keys: list[tuple[str, Template | None]] = [(column, None) for column in columns]
            if template is not None:
                keys = [(name.removeprefix(_ADDRESS), template)]
            for key, source in keys:
                self.result.date_sources.append(DateSource(key, source, where, dates))
        if plan_type is None:
            plan_type = ListPlan if json_type.endswith("[]") else ScalarPlan
        return plan_type(
            name.removeprefix(_ADDRESS),
            columns=columns,
            template=template,
            default=(entry.default or "").strip(),
            split=entry.split,
            value_map=self._value_map(entry, path),
            lookup=lookup,
            lookup_file=entry.lookup.file if entry.lookup else "",
            strict=entry.strict,
            kind=kind,
            dates=dates,
            locale=self.locale,
        )

    def _date_reader(self, entry: FieldSpec, kind: str) -> DateReader | None:
        if kind not in ("date", "datetime"):
            return None
        return DateReader(kind, self.zone, entry.date_format)

    def _value_map(self, entry: FieldSpec, path: KeyPath) -> ValueMap | None:
        if entry.map is None:
            return None
        value_map = ValueMap(entry.map)
        clash = value_map.conflicts()
        if clash:
            raise self.document.error(
                (*path, "map", clash[1]),
                f"map keys {clash[0]!r} and {clash[1]!r} match the same cells (case and spaces are ignored)"
                " but map to different values",
            )
        return value_map

    def _template(self, text: str, path: KeyPath) -> Template:
        try:
            template = Template.parse(text)
        except ValueError as exc:
            raise self.document.error(path, f"{exc}") from None
        if not template.columns:
            raise self.document.error(path, "the template names no {Column}; use value: for a constant")
        for column in template.columns:
            self._column(column, path)
        return template

    def _column(self, column: str, path: KeyPath) -> str:
        name = column.strip()
        if not name:
            raise self.document.error(path, "expected a column name, got an empty one")
        if name.startswith("_"):
            raise self.document.error(
                path,
                f"column {name!r} starts with '_': such columns are written by the importer and never mapped",
            )
        written = self.document.written(path)
        self.result.refs.append(ColumnRef(name, format_path(written), self.document.line_of(written)))
        return name

    @staticmethod
    def _is_plain(plan: FieldPlan) -> bool:
        return (len(plan.columns) == 1 and plan.kind in ("string", "phone") and not plan.default
                and plan.value_map is None and plan.lookup is None)


def _one_of(names: tuple[str, ...]) -> str:
    """``("a", "b", "c")`` → ``a, b or c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
