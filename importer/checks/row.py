"""Row checks: turn a mapped draft into the exact request(s) to send, plus the row's issues. Pure: no I/O.

What is checked, and why it is an error or a warning:

- phones (customer_phone, add_phones, assignee_user_phone) are normalised to E.164; one bad number fails the whole
  request at the API, so a bad customer_phone is an error, and a bad phone of another field is left out;
- lead_stage_name / lead_group_name must name exactly one catalog item (the API answers 404 or 400), and
  source_type must be one of the account's source types: otherwise the field is left out;
- add_labels / remove_labels / add_products names the account lacks are silently dropped by the API: warning;
- a field left out is a warning that says so; with the field's ``on_invalid: reject`` the problem is an error and
  the row is not sent;
- add_labels with remove_labels in one row becomes two requests (the API refuses both in one): never an error;
- the row's tasks, against the time of the run (:mod:`importer.checks.tasks`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from importer.api.catalog import Catalog, NameSet, suggestion_text
from importer.checks.tasks import check_tasks
from importer.issues import issue
from importer.models import Issue, Row, Severity
from importer.phones.normalise import Phone, PhoneProblem, normalise_phone_text, quick_e164, quick_lane
from importer.report.cells import restore
from importer.sources.table import row_factory

_PHONE_FIELDS = ("customer_phone", "add_phones", "assignee_user_phone")
_CHECKED_FIELDS = (*_PHONE_FIELDS, "source_type", "lead_stage_name", "lead_group_name", "add_labels",
                   "remove_labels", "add_products")


#: What :meth:`RowChecker.check_with_tasks` returns: the requests to send, the row's phones (primary first), its
#: issues and the create-task bodies of its tasks.
Checked = tuple[tuple[dict[str, Any], ...], tuple[str, ...], tuple[Issue, ...], tuple[dict[str, Any], ...]]
#: :meth:`RowChecker.check_with_tasks` of a record and its row number (:meth:`RowChecker.record_check`).
CheckRecord = Callable[[Sequence[str], int], Checked]


class MappingLike(Protocol):
    region: str
    region_column: str | None

    def apply(self, row: Row) -> tuple[dict[str, Any], list[Issue]]: ...

    def task_drafts(self, row: Row, issues: list[Issue]) -> list[Any]: ...

    def column_for(self, field: str) -> str: ...

    def rejects(self, field: str) -> bool: ...


class RowChecker:
    """Maps and checks one row at a time. ``catalog=None`` means offline: names are not checked."""

    def __init__(self, mapping: MappingLike, catalog: Catalog | None, *, restore_cells: bool = False,
                 now: datetime | None = None) -> None:
        """``restore_cells``: the input is one of our own report files (failures.csv): undo the apostrophe that
        kept spreadsheets from running cells such as ``=1+2`` or ``-Ravi`` as formulas. ``now``: the time tasks
        are checked against (default: when the checker is made, i.e. the start of the run)."""
        self.mapping = mapping
        self.now = now if now is not None else datetime.now(UTC)
        self.catalog = catalog
        self.source_types = (catalog or Catalog.offline()).source_types
        self.restore_cells = restore_cells
        self._column: dict[str, str] = {field: mapping.column_for(field) for field in _CHECKED_FIELDS}
        usable = self.source_types
        self._usable_source_types = frozenset(t for t in usable.counts if usable.verdict(t) == "ok")
        self._unknown_messages: dict[tuple[str, str], str] = {}
        self._record_checks: dict[tuple[str, ...], CheckRecord] = {}

    def check(self, row: Row) -> tuple[tuple[dict[str, Any], ...], tuple[str, ...], tuple[Issue, ...]]:
        """(requests to send, the row's phones with the primary first, issues); no requests when the row has an
        error. A plain tuple: this runs once per row, a million times in a large dry run."""
        requests, phones, issues, _ = self.check_with_tasks(row)
        return requests, phones, issues

    def check_with_tasks(self, row: Row) -> Checked:
        """:meth:`check`, and the create-task bodies of the row's tasks (none when the row has an error)."""
        if self.restore_cells:
            row = Row(row.number, {key: restore(value) for key, value in row.cells.items()})
        draft, issues = self.mapping.apply(row)
        drafts = self.mapping.task_drafts(row, issues)
        tasks = check_tasks(drafts, self.now, row.number, issues) if drafts else ()
        region = self.mapping.region
        if self.mapping.region_column:
            region = row.cells.get(self.mapping.region_column, "").strip() or region
        phones = self._phones(draft, region, row.number, issues)
        source_type = draft.get("source_type")
        if source_type is not None and source_type not in self._usable_source_types:
            unknown = self._unknown(self.source_types, "source-type", source_type)
            severity, message = self._verdict("source_type", unknown)
            problem = issue("unknown-source-type", row.number, self._column["source_type"], message, source_type,
                            severity=severity)
            self._bad(draft, "source_type", problem, issues)
        if self.catalog is not None:
            self._names(draft, row.number, issues)
        if not phones or (issues and any(found.severity == "error" for found in issues)):
            return (), phones, tuple(issues), ()
        if "remove_labels" in draft and "add_labels" in draft:
            return split_labels(draft), phones, tuple(issues), tasks
        return (draft,), phones, tuple(issues), tasks

    def record_check(self, header: Sequence[str]) -> CheckRecord:
        """:meth:`check_with_tasks` of a record, the cells of ``header``'s columns by position (a CSV file's checking
        processes read records): ``check(record, number)``.

        A row whose mapping and checks find nothing to say (no issue, every phone typed a common way, a usable
        source type) is checked here with no dict of its cells, by the mapping's function of a record; any other
        row is checked as a :class:`Row` by :meth:`check_with_tasks`, from the start: the result is exactly
        :meth:`check_with_tasks`'s (a property test holds the two together). A checking process of
        ``benchmarks/bench_validate.py`` reads, maps, checks and spills a row in 8.8 µs instead of 11.0 (CPU, best
        of 5, a 100,000-row unit of its sheet).
        """
        key = tuple(header)
        check = self._record_checks.get(key)
        if check is None:
            check = self._record_checks[key] = self._record_check(key)
        return check

    def _record_check(self, header: tuple[str, ...]) -> CheckRecord:
        make_row = row_factory(header)
        by_row = self.check_with_tasks
        record_apply = getattr(self.mapping, "record_apply", None)
        if self.restore_cells or record_apply is None or getattr(self.mapping, "has_tasks", True):
            return lambda record, number: by_row(make_row(number, record))
        apply = record_apply(header)
        default_region = self.mapping.region
        region_at = _position(header, self.mapping.region_column)
        lanes: dict[str, Callable[[str], str | None]] = {}  # region → quick_e164 of it (a region column's)
        default_lane = quick_lane(default_region)
        usable = self._usable_source_types
        names = self._names if self.catalog is not None else None

        def check(record: Sequence[str], number: int) -> Checked:
            draft, issues = apply(record, number)
            if issues:
                return by_row(make_row(number, record))
            if region_at is None:
                quick = default_lane
            else:
                region = record[region_at].strip() or default_region
                quick = lanes.get(region) or _lane(lanes, region)
            raw = draft.get("customer_phone")
            primary = quick(raw) if raw is not None else None
            if not primary:
                return by_row(make_row(number, record))
            draft["customer_phone"] = primary
            phones: tuple[str, ...] = (primary,)
            values = draft.get("add_phones")
            if values is not None:
                extra: list[str] = []
                for value in values:
                    phone = quick(value)
                    if not phone:
                        return by_row(make_row(number, record))
                    if phone != primary and phone not in extra:
                        extra.append(phone)
                if extra:
                    draft["add_phones"] = extra
                    phones = (primary, *extra)
                else:
                    del draft["add_phones"]
            assignee = draft.get("assignee_user_phone")
            if assignee is not None:
                phone = quick(assignee)
                if not phone:
                    return by_row(make_row(number, record))
                draft["assignee_user_phone"] = phone
            source_type = draft.get("source_type")
            if source_type is not None and source_type not in usable:
                return by_row(make_row(number, record))
            if names is not None:
                names(draft, number, issues)
                if issues and any(found.severity == "error" for found in issues):
                    return (), phones, tuple(issues), ()
            if "remove_labels" in draft and "add_labels" in draft:
                return split_labels(draft), phones, tuple(issues), ()
            return (draft,), phones, tuple(issues), ()

        return check

    # --- phones -------------------------------------------------------------------------------------------

    def _phones(self, draft: dict[str, Any], region: str, number: int, issues: list[Issue]) -> tuple[str, ...]:
        """Normalise every phone field in place; return the row's phones (primary first) for cross-row checks."""
        raw = draft.get("customer_phone")
        if raw is None:
            column = self._column["customer_phone"]
            issues.append(issue("missing-phone", number, column, "no customer phone in this row"))
            return ()
        primary = self._phone("customer_phone", raw, region, number, issues)
        if primary is None:
            return ()
        draft["customer_phone"] = primary
        if "add_phones" in draft:
            extra: list[str] = []
            for value in draft["add_phones"]:
                phone = self._phone("add_phones", value, region, number, issues)
                if phone is not None and phone != primary and phone not in extra:
                    extra.append(phone)
            if extra:
                draft["add_phones"] = extra
            else:
                del draft["add_phones"]
        else:
            extra = []
        assignee = draft.get("assignee_user_phone")
        if assignee is not None:
            phone = self._phone("assignee_user_phone", assignee, region, number, issues)
            if phone is None:
                del draft["assignee_user_phone"]
            else:
                draft["assignee_user_phone"] = phone
        return (primary, *extra) if extra else (primary,)

    def _phone(self, field: str, raw: str, region: str, number: int, issues: list[Issue]) -> str | None:
        e164 = quick_e164(raw, region)  # most numbers: no Phone made, no cache consulted
        if e164:
            return e164
        result = normalise_phone_text(raw, region)
        if type(result) is Phone:
            if result.extension:
                message = f"extension {result.extension} dropped: the API stores E.164 numbers only"
                issues.append(issue("phone-extension-dropped", number, self._column[field], message, raw))
            return result.e164
        assert isinstance(result, PhoneProblem)
        severity, message = self._verdict(field, result.message)  # customer_phone always rejects
        issues.append(issue(result.code, number, self._column[field], message, raw, severity=severity))
        return None

    def _bad(self, draft: dict[str, Any], field: str, problem: Issue, issues: list[Issue]) -> None:
        """A value the API would refuse: an error (``on_invalid: reject``), or a warning and the field left out."""
        issues.append(problem)
        if problem.severity == "warning":
            del draft[field]

    def _verdict(self, field: str, message: str) -> tuple[Severity, str]:
        """The severity of a bad ``field`` value, and its message (saying it was left out, when it is)."""
        if self.mapping.rejects(field):
            return "error", message
        return "warning", _left_out(message)

    # --- names --------------------------------------------------------------------------------------------

    def _names(self, draft: dict[str, Any], number: int, issues: list[Issue]) -> None:
        """Stage, group, label and product names against the catalog."""
        catalog = self.catalog
        assert catalog is not None
        stage = draft.get("lead_stage_name")
        if stage is not None and (verdict := catalog.stages.verdict(stage)) != "ok":
            column = self._column["lead_stage_name"]
            if verdict == "unknown":
                severity, message = self._verdict("lead_stage_name", self._unknown(catalog.stages, "stage", stage))
                problem = issue("unknown-stage", number, column, message, stage, severity=severity)
            else:
                severity, message = self._verdict("lead_stage_name", _duplicated(catalog.stages, "stage", stage))
                problem = issue("duplicate-stage", number, column, message, stage, severity=severity)
            self._bad(draft, "lead_stage_name", problem, issues)
        group = draft.get("lead_group_name")
        if group is not None and (verdict := catalog.groups.verdict(group)) != "ok":
            column = self._column["lead_group_name"]
            if verdict == "unknown":
                severity, message = self._verdict("lead_group_name", self._unknown(catalog.groups, "group", group))
                problem = issue("unknown-group", number, column, message, group, severity=severity)
            else:
                severity, message = self._verdict("lead_group_name", _duplicated(catalog.groups, "group", group))
                problem = issue("duplicate-group", number, column, message, group, severity=severity)
            self._bad(draft, "lead_group_name", problem, issues)
        for field in ("add_labels", "remove_labels"):
            for name in draft.get(field) or ():
                if catalog.labels.verdict(name) == "unknown":
                    message = self._unknown(catalog.labels, "label", name, ignored=True)
                    issues.append(issue("unknown-label", number, self._column[field], message, name))
        for name in draft.get("add_products") or ():
            if catalog.products.verdict(name) == "unknown":
                message = self._unknown(catalog.products, "product", name, ignored=True)
                issues.append(issue("unknown-product", number, self._column["add_products"], message, name))


    def _unknown(self, names: NameSet, noun: str, name: str, *, ignored: bool = False) -> str:
        """:func:`_unknown`, remembered per noun and name: a sheet repeats its few unknown names on many rows, and
        finding the close matches costs 0.3 ms a name (the 100,000-row sync of ``benchmarks/bench_sync.py``, 1,000
        misspelt stages and 33,000 unknown tags: 13.3 s of its 36.7 s of checking, profiled)."""
        key = (noun, name)
        message = self._unknown_messages.get(key)
        if message is None:
            if len(self._unknown_messages) >= _MESSAGES_KEPT:
                self._unknown_messages.clear()
            message = self._unknown_messages[key] = _unknown(names, noun, name, ignored=ignored)
        return message


_MESSAGES_KEPT = 10_000


def _lane(lanes: dict[str, Callable[[str], str | None]], region: str) -> Callable[[str], str | None]:
    """The quick lane of ``region``, remembered in ``lanes`` (at most 1,024: a region column could hold anything)."""
    lane = quick_lane(region)
    if len(lanes) < 1024:
        lanes[region] = lane
    return lane


def _position(header: Sequence[str], column: str | None) -> int | None:
    """Where ``column`` is in ``header`` (the last of two same-named ones, as in a row's dict), or None."""
    if column is None or column not in header:
        return None
    return len(header) - 1 - list(reversed(header)).index(column)


def _left_out(message: str) -> str:
    return f"{message} It was left out." if message.endswith("?") else f"{message}; it was left out"


def _unknown(names: NameSet, noun: str, name: str, *, ignored: bool = False) -> str:
    """``ignored``: the API would drop the name silently (labels, products) rather than refuse the request."""
    hint = suggestion_text(names.suggest(name))
    if name in names.disabled:
        hint = f" (it is disabled){hint}"
    if ignored:
        return f"the account has no {noun} named '{name}': the API would silently ignore it{hint}"
    return f"the account has no {noun} named '{name}'{hint}"


def _duplicated(names: NameSet, noun: str, name: str) -> str:
    return (f"{names.counts[name]} {noun}s in the account are named '{name}': "
            f"the API refuses ambiguous {noun} names; rename one in the dashboard")


def split_labels(draft: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """One request, or two when labels are both added and removed (the API refuses both in one request).

    The first request carries everything else (and the note); the second only removes labels from the same lead.
    """
    if not (draft.get("add_labels") and draft.get("remove_labels")):
        return (draft,)
    first = {key: value for key, value in draft.items() if key != "remove_labels"}
    second = {"customer_phone": draft["customer_phone"], "remove_labels": draft["remove_labels"]}
    return (first, second)
