"""Compiled field plans: the per-row work of a mapping, decided once at load time.

A plan reads its source (a column, the first non-blank of several columns, every column of a list, or a
template), applies ``default``, ``split``, ``map`` / ``lookup`` and the value type, and writes the result
into the draft. Problems become :class:`Issue` records (codes in :mod:`importer.issues`); nothing here
raises on cell content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from importer.issues import issue
from importer.mapping.amounts import DEFAULT_NUMBER_LOCALE, parse_number
from importer.mapping.dates import DateReader
from importer.mapping.values import OMIT, Template, ValueMap, fold, is_email, parse_bool
from importer.models import Issue, Severity

_MISSING: Any = object()


class FieldPlan:
    """How one field of the draft is filled from a row. ``kind``: string, phone, number, bool, email, date or
    datetime (``dates`` then reads the cells). A cell that is not a valid value is an issue whose severity
    ``on_invalid`` decides (a task's times, and constants, always reject)."""

    __slots__ = (
        "key", "label", "columns", "template", "default", "split", "value_map", "lookup", "lookup_file",
        "strict", "kind", "as_is", "column", "dates", "locale", "on_invalid", "memo",
    )  # fmt: skip

    #: Most values remembered per plan (:attr:`memo`); a full memo starts again.
    MEMO_SIZE = 50_000

    def __init__(
        self,
        key: str,
        *,
        columns: tuple[str, ...] = (),
        template: Template | None = None,
        default: str = "",
        split: str | None = None,
        value_map: ValueMap | None = None,
        lookup: dict[str, str] | None = None,
        lookup_file: str = "",
        strict: bool = False,
        kind: str = "string",
        dates: DateReader | None = None,
        locale: str = DEFAULT_NUMBER_LOCALE,
        on_invalid: str = "reject",
    ) -> None:
        self.key = key
        self.label = columns[0] if columns else key
        self.columns = columns
        self.template = template
        self.default = default
        self.split = split
        self.value_map = value_map
        self.lookup = lookup
        self.lookup_file = lookup_file
        self.strict = strict
        self.kind = kind
        self.dates = dates
        #: How ``number`` cells are read (``defaults.number_locale``).
        self.locale = locale
        #: ``drop``: a bad cell is a warning and the field is left out; ``reject``: an error, the row is not sent.
        self.on_invalid = on_invalid
        #: True when a non-blank text is sent exactly as it is (no map, lookup or type conversion).
        self.as_is = value_map is None and lookup is None and kind in ("string", "phone")
        #: The one column read, when that is all there is to read (the common, fast case).
        self.column = columns[0] if len(columns) == 1 and template is None else None
        #: Text → the value it converts to without an issue, for a plan whose cells take work to read (a type,
        #: a map or a lookup, a split list) and repeat down a column: deal values, stages, tags, dates. Not for
        #: e-mail addresses (each is its own) nor text sent as it is. A hit is one dict lookup instead of the
        #: conversion's calls: a checking process of ``benchmarks/bench_validate.py`` spent 1.1 µs a row on its
        #: deal values and 0.8 on its tags before, 0.3 and 0.4 with it; the two date columns of ``--dates``
        #: cost 1.5 µs a row less.
        self.memo: dict[str, Any] | None = self._new_memo()

    def __getstate__(self) -> dict[str, Any]:
        """What a copy or a checking process gets: everything but the memo, which starts empty (a copy made to
        read dates in another order must not remember the old reading)."""
        return {name: getattr(self, name) for name in _slots(type(self)) if name != "memo"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self.memo = self._new_memo()

    def _new_memo(self) -> dict[str, Any] | None:
        return {} if (not self.as_is or self.split is not None) and self.kind != "email" else None

    def remember(self, text: str, value: Any) -> None:
        """Keep ``text``'s value in the memo (a full memo starts again)."""
        memo = self.memo
        if memo is not None:
            if len(memo) >= self.MEMO_SIZE:
                memo.clear()
            memo[text] = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r}, columns={self.columns!r}, kind={self.kind!r})"

    def fill(self, cells: Mapping[str, str], out: dict[str, Any], issues: list[Issue], number: int) -> None:
        """Write this field's value into ``out`` (or leave it out), appending any problems to ``issues``."""
        raise NotImplementedError

    def convert(self, text: str, column: str, issues: list[Issue], number: int) -> Any:
        """One non-blank cell text → the value to send, None (send null) or OMIT."""
        value_map = self.value_map
        if value_map is not None:
            target = value_map.exact.get(text, _MISSING)
            if target is _MISSING:
                target = value_map.loose.get(fold(text), _MISSING)
            if target is _MISSING:
                if self.strict:
                    message = f"{text!r} is not in the map (expected one of: {value_map.keys_text})"
                    severity, message = self.verdict(message)
                    issues.append(issue("unmapped-value", number, column, message, text, severity=severity))
                    return OMIT
            elif not target:
                return target if target is None else OMIT
            else:
                text = target
        elif self.lookup is not None:
            found = self.lookup.get(fold(text))
            if found is None:
                message = f"{text!r} is not in {self.lookup_file}"
                if self.strict:
                    severity, message = self.verdict(message)
                    issues.append(issue("unknown-lookup-value", number, column, message, text, severity=severity))
                else:
                    issues.append(issue("unknown-lookup-value", number, column, f"{message}; {self.key} left out",
                                        text))
                return OMIT
            if not found:
                return OMIT
            text = found
        return self._typed(text, column, issues, number)

    def _typed(self, text: str, column: str, issues: list[Issue], number: int) -> Any:
        """``text`` as the field's type; OMIT (and an issue) when it is not one."""
        kind = self.kind
        if kind == "string" or kind == "phone":
            return text
        if kind == "email":
            if is_email(text):
                return text
            severity, message = self.verdict(f"{text!r} is not an e-mail address")
            issues.append(issue("invalid-email", number, column, message, text, severity=severity))
            return OMIT
        dates = self.dates
        if dates is not None:
            sent, why = dates.convert(text, column)
            if sent is None:
                severity, message = self.verdict(why)
                issues.append(issue("invalid-date", number, column, message, text, severity=severity))
                return OMIT
            return sent
        if kind == "number":
            value = parse_number(text, self.locale)
            if value is None:
                severity, message = self.verdict(f"{text!r} is not a number")
                issues.append(issue("invalid-number", number, column, message, text, severity=severity))
                return OMIT
            return value
        flag = parse_bool(text)
        if flag is None:
            message = f"{text!r} is not true or false (expected true/false, yes/no, y/n, 1/0)"
            severity, message = self.verdict(message)
            issues.append(issue("invalid-bool", number, column, message, text, severity=severity))
            return OMIT
        return flag

    def verdict(self, message: str) -> tuple[Severity, str]:
        """A bad cell's severity and message: a warning that says the value was left out (``drop``), or an error
        (``reject``)."""
        if self.on_invalid == "drop":
            return "warning", f"{message}; it was left out"
        return "error", message


class ScalarPlan(FieldPlan):
    """A single-valued field: the first non-blank of its columns, or its template."""

    __slots__ = ()

    def fill(self, cells: Mapping[str, str], out: dict[str, Any], issues: list[Issue], number: int) -> None:
        column = self.column
        if column is not None:
            text = cells.get(column)
            text = text.strip() if text else ""
        else:
            column, text = self._read(cells)
        if not text:
            text = self.default
            if not text:
                return
        if self.as_is:
            out[self.key] = text
            return
        memo = self.memo
        if memo is not None:
            value = memo.get(text, _MISSING)
            if value is not _MISSING:
                if value is not OMIT:
                    out[self.key] = value
                return
            found = len(issues)
            value = self.convert(text, column, issues, number)
            if len(issues) == found and (self.column is not None or self.template is not None):
                self.remember(text, value)  # one source: its text alone decides (dates read per column)
        else:
            value = self.convert(text, column, issues, number)
        if value is not OMIT:
            out[self.key] = value

    def _read(self, cells: Mapping[str, str]) -> tuple[str, str]:
        if self.template is not None:
            return self.label, self.template.render(cells)
        for column in self.columns:
            text = cells.get(column, "").strip()
            if text:
                return column, text
        return self.label, ""


class ListPlan(FieldPlan):
    """A list field: every non-blank column (split on ``split``), mapped per item, duplicates dropped."""

    __slots__ = ()

    def fill(self, cells: Mapping[str, str], out: dict[str, Any], issues: list[Issue], number: int) -> None:
        values: list[Any] = []
        column = self.column
        if column is not None:
            text = cells.get(column)
            if text:
                self._add(text, column, values, issues, number)
        elif self.template is not None:
            self._add(self.template.render(cells), self.label, values, issues, number)
        else:
            for column in self.columns:
                text = cells.get(column)
                if text:
                    self._add(text, column, values, issues, number)
        if not values and self.default and not self._any_text(cells):
            self._add(self.default, self.label, values, issues, number)
        if values:
            out[self.key] = values

    def _any_text(self, cells: Mapping[str, str]) -> bool:
        if self.template is not None:
            return bool(self.template.render(cells))
        return any(cells.get(column, "").strip() for column in self.columns)

    def _add(self, text: str, column: str, values: list[Any], issues: list[Issue], number: int) -> None:
        """Split ``text`` and append its new, non-blank, converted items to ``values``."""
        memo = self.memo
        if memo is None:
            self._read_items(text, column, values, issues, number)
            return
        items = memo.get(text)
        if items is None:
            items, found = [], len(issues)
            self._read_items(text, column, items, issues, number)
            if len(issues) > found:  # not remembered: the issues name the cell's row and column
                values.extend(item for item in items if item not in values)
                return
            self.remember(text, items := tuple(items))
        if not values:
            values.extend(items)
        else:
            values.extend(item for item in items if item not in values)

    def _read_items(self, text: str, column: str, values: list[Any], issues: list[Issue], number: int) -> None:
        if self.split is None:
            item = text.strip()
            if item:
                value = item if self.as_is else self.convert(item, column, issues, number)
                if value is not OMIT and value is not None and value not in values:
                    values.append(value)
            return
        as_is = self.as_is
        for item in text.split(self.split):
            item = item.strip()
            if not item:
                continue
            value = item if as_is else self.convert(item, column, issues, number)
            if value is not OMIT and value is not None and value not in values:
                values.append(value)


def _slots(cls: type) -> list[str]:
    """Every slot of ``cls`` and its bases."""
    return [name for klass in cls.__mro__ for name in getattr(klass, "__slots__", ())]
