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

from importer.errors import ConfigError
from importer.mapping.dates import ORDER_FORMATS, ORDER_NAMES, Order, order_fits
from importer.mapping.loader import Mapping
from importer.models import Row


class ColumnProfile:
    """What one column's two-number dates allow: the first values (with rows) of each kind seen (two different
    ones that fit both orders)."""

    __slots__ = ("both", "dmy", "mdy", "seen")

    def __init__(self) -> None:
        self.both: list[tuple[int, str]] = []
        self.dmy: tuple[int, str] | None = None
        self.mdy: tuple[int, str] | None = None
        #: Values already looked at: a column repeats its dates, and a repeat cannot change the outcome.
        self.seen: set[str] = set()

    def add(self, number: int, text: str) -> None:
        if text in self.seen:
            return
        if len(self.seen) < 100_000:
            self.seen.add(text)
        fits = order_fits(text)
        if fits is None:
            return
        dmy, mdy = fits
        if dmy and mdy:
            if len(self.both) < 2 and not (self.both and self.both[0][1] == text):
                self.both.append((number, text))
        elif dmy:
            self.dmy = self.dmy or (number, text)
        elif mdy:
            self.mdy = self.mdy or (number, text)

    @property
    def settled(self) -> bool:
        """Nothing more can change the outcome: both exclusive kinds have been seen."""
        return self.dmy is not None and self.mdy is not None

    def decide(self, where: str) -> Order | None:
        """The column's order, None when it has no two-number dates; ConfigError when no single order is right."""
        if self.dmy is not None and self.mdy is not None:
            raise ConfigError(f"{where}: its dates mix dd/mm/yyyy ({_example(self.dmy)}) and mm/dd/yyyy "
                              f"({_example(self.mdy)}); add {_hint()} to read them one way")
        if self.dmy is not None:
            return "dmy"
        if self.mdy is not None:
            return "mdy"
        if self.both:
            examples = " and ".join(_example(found) for found in self.both)
            raise ConfigError(f"{where}: its dates fit both dd/mm/yyyy and mm/dd/yyyy ({examples}); add {_hint()} "
                              "to say which")
        return None


def resolve_date_orders(mapping: Mapping, batches: Iterable[list[Row]], source: str) -> Mapping:
    """``mapping`` with the order of each date column of ``batches`` decided (the same mapping when it has none).

    Reads the batches to the end unless every column's outcome is settled sooner. Raises ConfigError (one line:
    mapping file, line, field, column of ``source``, two of its values) when a column cannot be read one way.
    """
    sources = mapping.date_sources
    if not sources:
        return mapping
    columns = list(dict.fromkeys(s.key for s in sources if s.template is None))
    templates = [(index, s.template) for index, s in enumerate(sources) if s.template is not None]
    profiles = {column: ColumnProfile() for column in columns}
    rendered = {index: ColumnProfile() for index, _ in templates}
    for batch in batches:
        for row in batch:
            cells, number = row.cells, row.number
            for column in columns:
                text = cells.get(column)
                if text:
                    text = text.strip()
                    if text and text[0].isdigit():
                        profiles[column].add(number, text)
            for index, template in templates:
                assert template is not None
                rendered[index].add(number, template.render(cells))
        if not templates and all(profile.settled for profile in profiles.values()):
            break
    orders: dict[int, Order] = {}
    for index, date_source in enumerate(sources):
        if date_source.template is None:
            where = f"{date_source.where}: column {date_source.key!r} of {source}"
            profile = profiles[date_source.key]
        else:
            where = f"{date_source.where}: the template's values in {source}"
            profile = rendered[index]
        order = profile.decide(where)
        if order is not None:
            orders[index] = order
    return mapping.with_date_orders(orders)


def _example(found: tuple[int, str]) -> str:
    return f"{found[1]!r} in row {found[0]}"


def _hint() -> str:
    return " or ".join(f'date_format: "{ORDER_FORMATS[order]}"' for order in ORDER_NAMES)
