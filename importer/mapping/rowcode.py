"""A mapping's per-row work as one function made for it: :meth:`Mapping.apply` without a loop over its fields.

:meth:`Mapping.apply_plainly` walks the mapping's fields for every row: a call per plan, a loop over the plain
columns, the same attribute reads a million times. :func:`compile_apply` writes the same steps out once, for this
mapping's fields: each plain column read in place; the common plan shapes (one column, its value remembered by
the plan; one column of text sent as it is) reduced to a lookup in the plan's memo; any other plan called as
before. A miss, or anything unusual, goes to the plan's own ``fill``, which also remembers the value: the result is
exactly :meth:`Mapping.apply_plainly`'s (a property test holds the two together).

The generated source names nothing from the mapping file: every column name, field name, plan and memo is a
default argument of the function (``c0``, ``k0``, ``p0``...), so the text of a column can never become code.

It pays: a checking process of ``benchmarks/bench_validate.py`` maps a row in 2.0 µs instead of 3.6 µs (with the
``--dates`` columns: 2.6 instead of 5.1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from importer.mapping.plans import FieldPlan, ListPlan, ScalarPlan
from importer.mapping.values import OMIT, Template, is_email
from importer.models import Issue, Row

__all__ = ["ApplyRecord", "Fields", "compile_apply", "compile_apply_record"]

Apply = Callable[[Row], tuple[dict[str, Any], list[Issue]]]
#: :data:`Apply` of a record (the cells of a header's columns, by position) and its row number.
ApplyRecord = Callable[[Sequence[str], int], tuple[dict[str, Any], list[Issue]]]
_MISSING: Any = object()


class _Writer:
    """Source lines of the function and the values its default arguments bind. ``header``: the function reads a
    record (the cells of ``header``'s columns, by position) instead of a row's dict of cells."""

    def __init__(self, header: Sequence[str] | None = None) -> None:
        self.lines: list[str] = []
        self.bound: dict[str, Any] = {"OMIT": OMIT, "MISSING": _MISSING}
        self.positions = None if header is None else {name: index for index, name in enumerate(header)}
        self.header = None if header is None else tuple(header)

    def cell(self, column: str) -> str:
        """The expression of ``column``'s cell (None when the row has no such column)."""
        if self.positions is None:
            return f"get({self.bind('c', column)})"
        position = self.positions.get(column)
        return "None" if position is None else f"rec[{position}]"

    def fill(self, fill: Callable[..., None], into: str) -> list[str]:
        """The lines that call a plan's own ``fill`` (with the row's dict of cells, made once, when reading a
        record)."""
        call = f"{self.bind('p', fill)}(cells, {into}, issues, number)"
        if self.positions is None:
            return [call]
        return ["if cells is None:", f"    cells = {self.bind('cellsof', _cells_of(self.header))}(rec)", call]

    def bind(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.bound)}"
        self.bound[name] = value
        return name

    def add(self, indent: int, *lines: str) -> None:
        self.lines.extend("    " * indent + line for line in lines)

    def plan(self, plan: FieldPlan, into: str) -> None:
        """The steps of one plan, writing into the dict named ``into``."""
        column = plan.column
        shape = type(plan)
        if shape is ScalarPlan and column is not None and (plan.memo is not None or plan.as_is):
            # (as it is: the address's text fields; called, each made a dict of the record's cells: 1.1 µs a row of
            # benchmarks/bench_validate.py's sheet with its Since column sent as address.text)
            self._remembered_scalar(plan, column, into)
        elif (shape is ScalarPlan and column is None and plan.template is not None and self.positions is not None
              and (plan.as_is or plan.memo is not None) and template_by_position(plan.template, self.positions)):
            self._remembered_template(plan, plan.template, into)
        elif shape is ListPlan and column is not None and not plan.default:
            if plan.memo is not None:
                self._remembered_list(plan, column, into)
            elif plan.split is None and (plan.as_is or _plain_email(plan)):
                self._plain_list(plan, column, into)
            else:
                self._call(plan, into)
        else:
            self._call(plan, into)

    def _call(self, plan: FieldPlan, into: str) -> None:
        self.add(1, *self.fill(plan.fill, into))

    def _remembered_scalar(self, plan: FieldPlan, column: str, into: str) -> None:
        self.add(1, f"t = {self.cell(column)}", "if t:", "    t = t.strip()")
        self._converted(plan, into, 1)

    def _converted(self, plan: FieldPlan, into: str, indent: int) -> None:
        """The text ``t`` of a one-source plan (its default when blank) into ``into``: as it is, or the value its
        memo remembers for it (a miss goes to the plan's ``fill``, which converts and remembers it)."""
        k = self.bind("k", plan.key)
        if plan.default:
            self.add(indent, "if not t:", f"    t = {self.bind('d', plan.default)}")
        if plan.as_is:
            self.add(indent, "if t:", f"    {into}[{k}] = t")
            return
        self.add(indent, "if t:",
                 f"    v = {self.bind('m', plan.memo)}.get(t, MISSING)",
                 "    if v is MISSING:")
        quick = plan.dates.day_and_time(plan.column) if plan.dates is not None and plan.column is not None else None
        if quick is not None:  # a date and time read from its parts; other texts remembered whole
            self.add(indent + 2, f"v = {self.bind('dt', quick.read)}(t)", "if v is not None:",
                     f"    {into}[{k}] = v", "else:")
            self.add(indent + 3, *self.fill(plan.fill, into))
        else:
            self.add(indent + 2, *self.fill(plan.fill, into))
        self.add(indent, "    elif v is not OMIT:",
                 f"        {into}[{k}] = v")

    def _remembered_template(self, plan: FieldPlan, template: Template, into: str) -> None:
        """A template's text, looked up by the record's cells where the template remembers it (a miss goes to
        the plan's ``fill``, which renders and remembers it); then as :meth:`_remembered_scalar`."""
        assert self.positions is not None
        cells = [f"rec[{self.positions[name]}]" for name in template.columns]
        key = cells[0] if len(cells) == 1 else f"({', '.join(cells)},)"
        self.add(1, f"t = {self.bind('r', template.remembered)}.get({key})", "if t is None:")
        self.add(2, *self.fill(plan.fill, into))
        self.add(1, "else:")
        self._converted(plan, into, 2)

    def _remembered_list(self, plan: FieldPlan, column: str, into: str) -> None:
        k, memo = self.bind("k", plan.key), self.bind("m", plan.memo)
        self.add(1, f"t = {self.cell(column)}",
                 "if t:",
                 f"    v = {memo}.get(t)",
                 "    if v is None:")
        self.add(3, *self.fill(plan.fill, into))
        self.add(1, "    elif v:",
                 f"        {into}[{k}] = list(v)")

    def _plain_list(self, plan: FieldPlan, column: str, into: str) -> None:
        """One column, one item: its text as it is; an e-mail address when it looks like one (else the plan
        says why not)."""
        k = self.bind("k", plan.key)
        self.add(1, f"t = {self.cell(column)}", "if t:", "    t = t.strip()")
        if plan.as_is:
            self.add(1, "    if t:", f"        {into}[{k}] = [t]")
            return
        email = self.bind("email", is_email)
        self.add(1, "    if t:",
                 f"        if {email}(t):",
                 f"            {into}[{k}] = [t]",
                 "        else:")
        self.add(4, *self.fill(plan.fill, into))


def _cells_of(header: tuple[str, ...] | None) -> Callable[[Sequence[str]], dict[str, str]]:
    """A record's dict of cells, as the reader makes a row's (the last of two same-named columns wins)."""
    assert header is not None
    return lambda record: dict(zip(header, record, strict=True))


def template_by_position(template: Template, positions: dict[str, int]) -> bool:
    """A template of cells a record has (the template remembers its text by them)."""
    return bool(template.columns) and all(name in positions for name in template.columns)


def _plain_email(plan: FieldPlan) -> bool:
    """An e-mail address read as it is (no map, no lookup): a look at its shape is all its conversion does."""
    return plan.kind == "email" and plan.value_map is None and plan.lookup is None


@dataclass(frozen=True)
class Fields:
    """What a mapping fills a draft with, as :class:`~importer.mapping.loader.Mapping` holds it."""

    name: str  # the mapping file's name, for tracebacks
    constants: dict[str, Any]
    list_constants: Sequence[tuple[str, tuple[Any, ...]]]
    plain: Sequence[tuple[str, str]]  # (field, column) of text sent as it is
    plans: Sequence[FieldPlan]
    address_constants: dict[str, Any]
    address_plans: Sequence[FieldPlan]


def compile_apply(fields: Fields, header: Sequence[str] | None = None) -> Apply:
    """:meth:`Mapping.apply_plainly` for a mapping's ``fields``, as one function made for them; with ``header``, a
    function ``(record, number)`` of the cells of ``header``'s columns by position (:data:`ApplyRecord`)."""
    out = _Writer(header)
    constants = out.bind("const", fields.constants)
    if header is None:
        out.add(1, "cells = row.cells", "get = cells.get", "number = row.number")
    else:
        out.add(1, "cells = None")
    out.add(1, f"draft = {constants}.copy()")
    for key, items in fields.list_constants:
        out.add(1, f"draft[{out.bind('k', key)}] = list({out.bind('v', items)})")
    for key, column in fields.plain:
        k = out.bind("k", key)
        out.add(1, f"t = {out.cell(column)}", "if t:", "    t = t.strip()", "    if t:", f"        draft[{k}] = t")
    out.add(1, "issues = []")
    for plan in fields.plans:
        out.plan(plan, "draft")
    if fields.address_plans or fields.address_constants:
        out.add(1, f"address = {out.bind('const', fields.address_constants)}.copy()")
        for plan in fields.address_plans:
            out.plan(plan, "address")
        out.add(1, "if address:", "    draft['address'] = address")
    out.add(1, "return draft, issues")
    arguments = ", ".join(f"{name}={name}" for name in out.bound)
    parameters = "row" if header is None else "rec, number"
    source = f"def apply({parameters}, *, {arguments}):\n" + "\n".join(out.lines) + "\n"
    namespace = dict(out.bound)
    exec(compile(source, f"<mapping {fields.name}>", "exec"), namespace)  # names only: see the module text
    apply: Apply = namespace["apply"]
    return apply


def compile_apply_record(fields: Fields, header: Sequence[str]) -> ApplyRecord:
    """:func:`compile_apply` for records of ``header``'s columns."""
    return compile_apply(fields, header)  # type: ignore[return-value]  # the function of a record
