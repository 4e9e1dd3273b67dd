"""A date and time written ``23/03/2026 18:45``, read from its date and its time (:mod:`importer.mapping.dates`
reads every other shape)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

#: The day/month order of a column's two-number dates.
Order = Literal["dmy", "mdy"]

#: The parts of the most common shape of a date and time in a sheet, ``23/03/2026 18:45``.
_DAY_PART = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")

#: ``T06:30:00Z``: each minute of a day, as :func:`utc_text` ends.
_UTC_CLOCKS = tuple(f"T{minute // 60:02d}:{minute % 60:02d}:00Z" for minute in range(24 * 60))
_UNSEEN: object = object()


class DayAndTime:
    """Reads a ``23/03/2026 18:45`` of one column from its date and its time, each looked up in a small table of
    its own: what :meth:`~importer.mapping.dates.DateReader.convert` sends for it, or None for any other text (and
    for a day on which the time zone changes its offset): the caller then converts it as usual.

    A column of such values holds many more distinct texts than days or times, and remembering each text whole
    stops paying when they are many: a column of 581,472 distinct date-times over 1,000,000 rows (minutes of three
    years) cost a checking process 6.3 µs a row, each text parsed once and its memo full again and again; read so,
    1.0-1.5 µs. The 32,256 distinct values of ``benchmarks/bench_validate.py --dates``: 0.2-0.3 µs a row less
    (one process, the rows of its share, CPU). The tables hold the days and times seen (336 and 96 there);
    ``tests/mapping/test_dates.py`` holds this reading equal to :meth:`~importer.mapping.dates.DateReader._read`."""

    __slots__ = ("kind", "zone", "order", "_days", "_clocks")

    #: Most entries of a table (a full one starts again).
    TABLE_SIZE = 20_000

    def __init__(self, kind: str, zone: ZoneInfo, order: Order) -> None:
        self.kind = kind
        self.zone = zone
        self.order = order
        #: Date text → (the time zone's offset that whole day in minutes, the UTC dates of the day before, the
        #: day and the day after as text); None when it is not a date or the offset changes that day.
        self._days: dict[str, tuple[int, str | None, str, str | None] | None] = {}
        self._clocks: dict[str, int | None] = {}  # time text → minutes since midnight

    def read(self, text: str) -> str | None:
        day_text, space, clock_text = text.partition(" ")
        if not space:
            return None
        day = self._days.get(day_text, _UNSEEN)
        if day is _UNSEEN:
            day = self._day(day_text)
        minute = self._clocks.get(clock_text, _UNSEEN)
        if minute is _UNSEEN:
            minute = self._clock(clock_text)
        if day is None or minute is None:
            return None
        offset, before, same, after = day  # type: ignore[misc]
        if self.kind == "date":
            return same
        minute -= offset
        if minute < 0:
            return before + _UTC_CLOCKS[minute + 1440] if before is not None else None
        if minute >= 1440:
            return after + _UTC_CLOCKS[minute - 1440] if after is not None else None
        return same + _UTC_CLOCKS[minute]

    def _day(self, text: str) -> tuple[int, str | None, str, str | None] | None:
        if len(self._days) >= self.TABLE_SIZE:
            self._days.clear()
        found = _day_part(text, self.order)
        entry = None
        if found is not None and self.kind == "date":
            entry = (0, None, found.isoformat(), None)
        elif found is not None:
            offset = _fixed_offset(self.zone, found)
            if offset is not None:
                entry = (offset, _shifted(found, -1), found.isoformat(), _shifted(found, 1))
        self._days[text] = entry
        return entry

    def _clock(self, text: str) -> int | None:
        if len(self._clocks) >= self.TABLE_SIZE:
            self._clocks.clear()
        found = _clock_part(text)
        minute = self._clocks[text] = None if found is None else found[0] * 60 + found[1]
        return minute


def _fixed_offset(zone: ZoneInfo, day: date) -> int | None:
    """The offset from UTC of ``zone`` in whole minutes through all of ``day`` (None when it changes that day:
    summer time starts or ends, or the zone moved), looked at every half hour and at the day's edges."""
    try:
        start = datetime(day.year, day.month, day.day, tzinfo=zone)
        offsets = {(start + timedelta(minutes=minutes)).utcoffset()  # wall times: the day before's last minute, …
                   for minutes in (-1, *range(0, 24 * 60, 30), 24 * 60 - 1, 24 * 60)}
    except OverflowError:
        return None
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    seconds = int(offset.total_seconds()) if offset is not None else 0
    return seconds // 60 if seconds % 60 == 0 else None


def _shifted(day: date, days: int) -> str | None:
    try:
        return (day + timedelta(days=days)).isoformat()
    except OverflowError:
        return None


def _day_part(text: str, order: Order) -> date | None:
    """The date of ``03/04/2024`` in ``order``; None for any other text or a day that does not exist."""
    match = _DAY_PART.fullmatch(text)
    if match is None:
        return None
    first, second, year = int(match[1]), int(match[3]), int(match[4])
    day, month = (first, second) if order == "dmy" else (second, first)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _clock_part(text: str) -> tuple[int, int] | None:
    """(hours, minutes) of ``18:45``; None for any other text or a time that does not exist."""
    match = _CLOCK.fullmatch(text)
    if match is None:
        return None
    hours, minutes = int(match[1]), int(match[2])
    return (hours, minutes) if hours < 24 and minutes < 60 else None
