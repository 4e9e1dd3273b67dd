"""The :class:`Mapping` object: load a mapping file once, then turn each row into an API draft plus issues."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from importer.errors import ConfigError
from importer.mapping.compiler import ColumnRef, Compiled, Compiler, DateSource
from importer.mapping.dates import Order
from importer.mapping.document import Document, did_you_mean, read_document
from importer.mapping.rowcode import Apply, ApplyRecord, Fields, compile_apply, compile_apply_record
from importer.mapping.spec import MappingSpec, parse_spec
from importer.mapping.tasks import TaskDraft
from importer.models import Issue, Row


def load_mapping(path: str | Path) -> Mapping:
    """Read, validate and compile the mapping at ``path``. Any problem is a one-line :class:`ConfigError`."""
    return compile_mapping(read_document(Path(path)))


def compile_mapping(document: Document) -> Mapping:
    """Validate and compile a mapping read as ``document`` (a file, or a part of a job file)."""
    spec = parse_spec(document)
    compiled = Compiler(document, spec).compile()
    return Mapping(document.path, spec, compiled)


class Mapping:
    """A compiled mapping. :meth:`apply` is pure and cheap; the object pickles (for worker processes)."""

    def __init__(self, path: Path, spec: MappingSpec, compiled: Compiled) -> None:
        defaults = spec.defaults
        self.path = path
        self.region = defaults.region.upper()
        self.region_column = defaults.region_column.strip() if defaults.region_column else None
        self.create_if_missing = defaults.create_if_missing
        self.timezone = defaults.timezone.strip()
        self.digest = _digest(spec, compiled)
        self.columns = frozenset(ref.column for ref in compiled.refs)
        self.fields = tuple(spec.fields)
        #: Field → write policy, for the fields that are not ``overwrite`` (importer.mapping.policies).
        self.policies: dict[str, str] = dict(compiled.policies)
        #: Field → ``drop`` or ``reject``: what a cell that is not a valid value does (``on_invalid``).
        self.on_invalid: dict[str, str] = dict(compiled.on_invalid)
        self._refs = tuple(compiled.refs)
        self._constants = {k: v for k, v in compiled.constants.items() if not isinstance(v, list)}
        self._list_constants = tuple(
            (k, tuple(v)) for k, v in compiled.constants.items() if isinstance(v, list)
        )
        self._address_constants = compiled.address_constants
        self._plain = tuple(compiled.plain)
        self._plans = tuple(compiled.plans)
        self._address_plans = tuple(compiled.address_plans)
        self._has_address = bool(self._address_plans or self._address_constants)
        #: Columns (and templates) of date fields whose day/month order is decided per input (see ``profile``).
        self.date_sources: tuple[DateSource, ...] = tuple(compiled.date_sources)
        self._tasks = tuple(compiled.tasks)
        self._compiled: Apply | None = None
        self._by_position: dict[tuple[str, ...], ApplyRecord] = {}

    def __repr__(self) -> str:
        return f"Mapping(path={str(self.path)!r}, fields={list(self.fields)!r})"

    def apply(self, row: Row) -> tuple[dict[str, Any], list[Issue]]:
        """The API draft for ``row`` (field name → value; blank cells left out) and the row's issues: what
        :meth:`apply_plainly` returns, through the function made for this mapping (:mod:`importer.mapping.rowcode`),
        made on first use in each process."""
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = compile_apply(self._fields())
        return compiled(row)

    def record_apply(self, header: Sequence[str]) -> ApplyRecord:
        """:meth:`apply` of a record, the cells of ``header``'s columns by position: a checking process maps a
        CSV file's records with no dict a row (:mod:`importer.mapping.rowcode`)."""
        key = tuple(header)
        compiled = self._by_position.get(key)
        if compiled is None:
            compiled = self._by_position[key] = compile_apply_record(self._fields(), key)
        return compiled

    def _fields(self) -> Fields:
        return Fields(self.path.name, self._constants, self._list_constants, self._plain, self._plans,
                      self._address_constants, self._address_plans)

    def __getstate__(self) -> dict[str, Any]:
        """A copy (a checking process, other date orders) makes its own functions, for its own plans."""
        return {**self.__dict__, "_compiled": None, "_by_position": {}}

    def apply_plainly(self, row: Row) -> tuple[dict[str, Any], list[Issue]]:
        """The API draft for ``row`` (field name → value; blank cells left out) and the row's issues, field by
        field."""
        cells = row.cells
        draft = self._constants.copy()
        for key, items in self._list_constants:
            draft[key] = list(items)
        for key, column in self._plain:
            text = cells.get(column)
            if text:
                text = text.strip()
                if text:
                    draft[key] = text
        issues: list[Issue] = []
        number = row.number
        for plan in self._plans:
            plan.fill(cells, draft, issues, number)
        if self._has_address:
            address = self._address_constants.copy()
            for plan in self._address_plans:
                plan.fill(cells, address, issues, number)
            if address:
                draft["address"] = address
        return draft, issues

    def with_date_orders(self, orders: dict[int, Order]) -> Mapping:
        """A copy whose date fields read two-number dates in the order decided for each of
        :attr:`date_sources` (by index); this mapping is left as it was, so it can be used for another input."""
        resolved = copy.deepcopy(self)
        for index, source in enumerate(resolved.date_sources):
            source.reader.decide(source.key, orders.get(index))
        return resolved

    @property
    def has_tasks(self) -> bool:
        """The mapping has a ``tasks:`` list."""
        return bool(self._tasks)

    def task_drafts(self, row: Row, issues: list[Issue]) -> list[TaskDraft]:
        """The row's tasks (``tasks:``) as mapped, blank due times left out; problems are added to ``issues``."""
        if not self._tasks:
            return []
        drafts = [plan.draft(row.cells, issues, row.number) for plan in self._tasks]
        return [draft for draft in drafts if draft is not None]

    def rejects(self, field: str) -> bool:
        """A bad value of ``field`` keeps its row from being sent (``on_invalid: reject``); else it is left out."""
        return field == "customer_phone" or self.on_invalid.get(field, "drop") == "reject"

    def column_for(self, field: str) -> str:
        """The (first) sheet column an API field is read from, for issue reports; else the field name."""
        for ref in self._refs:
            if ref.key_path == f"fields.{field}" or ref.key_path.startswith(
                (f"fields.{field}.", f"fields.{field}[")
            ):
                return ref.column
        return field

    def check_columns(self, available: Sequence[str], source: str) -> None:
        """Raise ConfigError naming the first mapped column (in file order) that ``available`` lacks."""
        present = set(available)
        for ref in self._refs:
            if ref.column not in present:
                raise ConfigError(_missing_column_message(self.path, ref, available, source))


def _missing_column_message(path: Path, ref: ColumnRef, available: Sequence[str], source: str) -> str:
    real = [column for column in available if not column.startswith("_")]
    guess = did_you_mean(ref.column, real)
    hint = f"; did you mean {guess!r}?" if guess else ""
    listed = ", ".join(repr(column) for column in real[:40]) + (", …" if len(real) > 40 else "")
    return (
        f"{path}:{ref.line}: {ref.key_path}: column {ref.column!r} is not in {source}{hint} "
        f"(its columns: {listed or 'none'})"
    )


#: Mapping keys added after journals and plans began to record the digest, with their value when not written.
_LATER_KEYS: dict[str, Any] = {"on_invalid": None, "number_locale": "IN"}


def _digest(spec: MappingSpec, compiled: Compiled) -> str:
    dumped = spec.model_dump(mode="json", exclude_unset=False)
    for key, unset in _LATER_KEYS.items():  # keys added later: a mapping without them keeps its digest
        if dumped["defaults"].get(key) == unset:
            del dumped["defaults"][key]
        for entry in dumped["fields"].values():
            if entry.get(key, unset) == unset:
                entry.pop(key, None)
    canonical = {
        "mapping": dumped,
        "value_set": {name: sorted(entry.model_fields_set) for name, entry in spec.fields.items()},
        "lookups": {path: sorted(table.items()) for path, table in compiled.lookups.items()},
    }
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
