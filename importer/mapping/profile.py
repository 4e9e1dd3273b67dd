"""The day/month order of each date column, decided from all its values before any row is mapped.

``03/04/2024`` is the 3rd of April or the 4th of March: a single cell cannot say, and guessing per cell swaps
dates silently. A column can: one ``25/01/2024`` in it makes it dd/mm/yyyy. So the rows are read once, only the
date columns of fields without ``date_format:`` are looked at, and each column gets one order:

- values that fit only dd/mm (a first number above 12) and none that fit only mm/dd → dd/mm/yyyy, and the reverse;
- values that fit only dd/mm *and* values that fit only mm/dd → a ConfigError naming one of each (with rows);
- two-number values that all fit both orders → a ConfigError naming two of them, unless ``date_format:`` is given;
- no two-number values at all (ISO 8601, serial numbers, named months) → nothing to decide.

A value that fits neither order is left for the mapping to report as an ``invalid-date`` issue of its row.

    mapping = resolve_date_orders(mapping, table.batches(), "leads.csv")   # a copy; the original is untouched
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any

from importer.errors import ConfigError
from importer.mapping.dates import ORDER_FORMATS, ORDER_NAMES, Order, order_fits
from importer.mapping.loader import Mapping
from importer.models import Issue, Row


class ColumnProfile:
    """What one column's two-number dates allow: the first values (with rows) of each kind seen (two different
    ones that fit both orders)."""

    __slots__ = ("both", "dmy", "mdy")

    def __init__(self) -> None:
        self.both: list[tuple[int, str]] = []
        self.dmy: tuple[int, str] | None = None
        self.mdy: tuple[int, str] | None = None

    def add(self, number: int, text: str) -> None:
        fits = _FITS.get(text, _UNKNOWN)
        if fits is _UNKNOWN:
            fits = _fits(text)
        if fits is None:
            return
        dmy, mdy = fits
        if dmy and mdy:
            both = self.both
            if len(both) < 2 and not (both and both[0][1] == text):
                both.append((number, text))
        elif dmy:
            if self.dmy is None:
                self.dmy = (number, text)
        elif mdy and self.mdy is None:
            self.mdy = (number, text)

    def merge(self, later: ColumnProfile) -> None:
        """Add what the rows after these showed: the first values of each kind stay the first."""
        self.dmy = self.dmy or later.dmy
        self.mdy = self.mdy or later.mdy
        for found in later.both:
            if len(self.both) < 2 and all(found[1] != mine[1] for mine in self.both):
                self.both.append(found)

    @property
    def settled(self) -> bool:
        """Nothing more can change the outcome: both exclusive kinds have been seen."""
        return self.dmy is not None and self.mdy is not None

    def decide(self, where: str, final: bool = True) -> Order | None:
        """The column's order, None when it has no two-number dates; ConfigError when no single order is right.
        ``final=False``: more rows are to come, so dates that fit both orders may still be decided (None)."""
        if self.dmy is not None and self.mdy is not None:
            raise ConfigError(f"{where}: its dates mix dd/mm/yyyy ({_example(self.dmy)}) and mm/dd/yyyy "
                              f"({_example(self.mdy)}); add {_hint()} to read them one way")
        if self.dmy is not None:
            return "dmy"
        if self.mdy is not None:
            return "mdy"
        if self.both and final:
            examples = " and ".join(_example(found) for found in self.both)
            raise ConfigError(f"{where}: its dates fit both dd/mm/yyyy and mm/dd/yyyy ({examples}); add {_hint()} "
                              "to say which")
        return None


#: Text → :func:`order_fits`, remembered for every profile of this process: a date column repeats its values
#: in every unit of rows a checking process profiles (a unit's own memory of what it saw cost the 1,000,000-row
#: sheet of ``benchmarks/bench_validate.py --dates`` 4 µs a row, each unit seeing most values for the first time;
#: 1.3 µs with this one).
_FITS: dict[str, tuple[bool, bool] | None] = {}
_FITS_SIZE = 100_000
_SEEN_SIZE = 100_000  #: cells remembered a column (beyond, they are looked at every time)
_UNKNOWN: Any = object()


def _fits(text: str) -> tuple[bool, bool] | None:
    if len(_FITS) >= _FITS_SIZE:
        _FITS.clear()
    fits = _FITS[text] = order_fits(text)
    return fits


class DateProfiles:
    """The profiles of a mapping's date sources over some rows: of each column (by name) and each template (by
    its index in ``date_sources``). Profiles of consecutive runs of rows merge (:meth:`merge`, in sheet order)
    into the profile of all of them, so the rows can be looked at in several processes at once."""

    __slots__ = ("columns", "templates", "rows", "_seen", "_by_failures")

    def __init__(self, mapping: Mapping, seen: dict[str, set[str]] | None = None, *,
                 after_first_rows: bool = False) -> None:
        """``seen``: the cells (by column) that profiles made before this one, in this process and this pass over
        the input, looked at already; shared by them, so a repeated cell is skipped at once. Exact when each
        process looks at its units of rows in sheet order (as a pool hands them out): the first row holding a
        value is then always in a profile, and merging the profiles in sheet order finds every first row.
        A column of 32,000 dates over 1,000,000 rows: 0.5 µs a cell, 0.15 with it.

        ``after_first_rows``: these rows are checked with the orders the sheet's first rows decided, and the
        profile of those first rows comes before these in the merge. A column then needs only the cells that did
        not read as dates (:meth:`add_failures`):

        - read in its decided order, a cell that reads cannot change it, and a cell of the other order never reads
          (the first rows hold the first example of the decided order; the failures hold every one of the other);
        - left undecided by the first rows, none of its two-number dates reads (they wait for the order), so the
          failures hold every one of them, and only they count in a profile.

        ``benchmarks/bench_validate.py --dates``: 0.35 µs a row less for the decided column, 0.36 for the other
        (one checking process's share of the sheet, CPU)."""
        sources = mapping.date_sources
        self.rows = 0  #: rows looked at
        self.columns = {s.key: ColumnProfile() for s in sources if s.template is None}
        self.templates = {index: ColumnProfile() for index, s in enumerate(sources) if s.template is not None}
        self._seen = seen if seen is not None else {}
        self._by_failures = frozenset(s.key for s in sources if after_first_rows and s.template is None)

    def __getstate__(self) -> tuple[object, ...]:
        return self.columns, self.templates, self.rows  # what was seen stays in the process that saw it

    def __setstate__(self, state: tuple[object, ...]) -> None:
        self.columns, self.templates, self.rows = state  # type: ignore[assignment]
        self._seen, self._by_failures = {}, frozenset()

    def add_failures(self, issues: dict[int, tuple[Issue, ...]]) -> None:
        """The cells that did not read as dates (``invalid-date`` issues, by row, in order) of the columns profiled
        by them (``after_first_rows``)."""
        by_failures = self._by_failures
        if not by_failures or not issues:
            return
        for number, found in issues.items():
            for problem in found:
                if problem.code == "invalid-date" and problem.column in by_failures:
                    text = problem.value.strip()
                    if text and text[0].isdigit():
                        self.columns[problem.column].add(number, text)

    def add(self, batch: list[Row], mapping: Mapping) -> None:
        """Look at the date cells of ``batch`` (of columns not decided: see :meth:`add_failures`)."""
        self.rows += len(batch)
        numbers = [row.number for row in batch]
        for column, profile in self._undecided():
            self._add_cells(profile, column, numbers, [row.cells.get(column) for row in batch])
        for index, profile in self.templates.items():
            template = mapping.date_sources[index].template
            assert template is not None
            for row in batch:
                profile.add(row.number, template.render(row.cells))

    def add_records(self, numbers: list[int], records: list[list[str]], header: list[str],
                    mapping: Mapping) -> None:
        """:meth:`add` of records, the cells of ``header``'s columns by position."""
        self.rows += len(records)
        positions = {name: index for index, name in enumerate(header)}  # the last of two same-named ones
        for column, profile in self._undecided():
            at = positions.get(column)
            self._add_cells(profile, column, numbers,
                            list(map(itemgetter(at), records)) if at is not None else [None] * len(records))
        for index, profile in self.templates.items():
            template = mapping.date_sources[index].template
            assert template is not None
            for number, record in zip(numbers, records, strict=True):
                profile.add(number, template.render(dict(zip(header, record, strict=True))))

    def _undecided(self) -> list[tuple[str, ColumnProfile]]:
        return [(column, profile) for column, profile in self.columns.items() if column not in self._by_failures]

    def _add_cells(self, profile: ColumnProfile, column: str, numbers: list[int], cells: list[str | None]) -> None:
        """A column at a time: fewer lookups a cell."""
        add = profile.add
        seen = self._seen.setdefault(column, set())
        for number, cell in zip(numbers, cells, strict=True):
            if not cell or cell in seen:
                continue
            if len(seen) < _SEEN_SIZE:
                seen.add(cell)
            text = cell.strip()
            if text and text[0].isdigit():
                add(number, text)

    @property
    def settled(self) -> bool:
        """No further row can change the outcome (only known when there are no templates)."""
        return not self.templates and all(profile.settled for profile in self.columns.values())

    def merge(self, later: DateProfiles) -> None:
        """Add the profiles of the rows that come after these."""
        self.rows += later.rows
        for mine, theirs in [*zip(self.columns.values(), later.columns.values(), strict=True),
                             *zip(self.templates.values(), later.templates.values(), strict=True)]:
            mine.merge(theirs)


def profile_dates(mapping: Mapping, batches: Iterable[list[Row]]) -> DateProfiles:
    """The profiles of ``mapping``'s date sources over ``batches``; stops early once nothing can change them."""
    profiles = DateProfiles(mapping)
    for batch in batches:
        profiles.add(batch, mapping)
        if profiles.settled:
            break
    return profiles


def decide_date_orders(mapping: Mapping, profiles: DateProfiles, source: str) -> Mapping:
    """``mapping`` with the order of each date column decided from ``profiles`` (the rows of ``source``).

    Raises ConfigError (one line: mapping file, line, field, column of ``source``, two of its values) when a
    column cannot be read one way.
    """
    return mapping.with_date_orders(date_orders(mapping, profiles, source))


def date_orders(mapping: Mapping, profiles: DateProfiles, source: str, *, final: bool = True) -> dict[int, Order]:
    """The order of each of ``mapping``'s date sources (by index) that ``profiles`` decide: ConfigError as for
    :func:`decide_date_orders`. ``final=False``: the profiles are of the first rows only (see
    :meth:`ColumnProfile.decide`)."""
    orders: dict[int, Order] = {}
    for index, date_source in enumerate(mapping.date_sources):
        if date_source.template is None:
            where = f"{date_source.where}: column {date_source.key!r} of {source}"
            profile = profiles.columns[date_source.key]
        else:
            where = f"{date_source.where}: the template's values in {source}"
            profile = profiles.templates[index]
        order = profile.decide(where, final)
        if order is not None:
            orders[index] = order
    return orders


def resolve_date_orders(mapping: Mapping, batches: Iterable[list[Row]], source: str) -> Mapping:
    """``mapping`` with the order of each date column of ``batches`` decided (the same mapping when it has none).

    Reads the batches to the end unless every column's outcome is settled sooner. Raises ConfigError as
    :func:`decide_date_orders` does.
    """
    if not mapping.date_sources:
        return mapping
    return decide_date_orders(mapping, profile_dates(mapping, batches), source)


def _example(found: tuple[int, str]) -> str:
    return f"{found[1]!r} in row {found[0]}"


def _hint() -> str:
    return " or ".join(f'date_format: "{ORDER_FORMATS[order]}"' for order in ORDER_NAMES)
