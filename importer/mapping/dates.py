"""Dates and times in cells: what a ``type: date`` or ``type: datetime`` field accepts, and how it is sent.

Accepted, with an optional time (``14:30``, ``2:30 PM``, ``14:30:05.250``) and offset (``Z``, ``+05:30``):

- ISO 8601: ``2024-01-20``, ``2024-01-20T14:30:00Z``, ``20240120T143000+0530`` (workbook date cells arrive so);
- an Excel serial number: ``45311`` (2024-01-20), ``45311.5`` (noon); five digits or more, so a bare year or a
  small count is never read as a date in 1900;
- numbers with ``/``, ``-`` or ``.``: ``20/01/2024`` or ``01/20/2024`` (the column's day/month order decides, see
  :mod:`importer.mapping.profile`), and year first, ``2024/01/20``;
- named months: ``20 Jan 2024``, ``Jan 20, 2024``, ``20-January-2024``, ``Sat, 20 Jan 2024``.

A value without an offset is a wall time at the mapping's ``defaults.timezone``. A ``datetime`` is sent as
ISO 8601 UTC (``2024-01-20T09:00:00Z``; a date alone is midnight at that time zone); a ``date`` as ``2024-01-20``
(a value with an offset is first moved to the time zone). Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from importer.mapping.dayparts import DayAndTime, Order

ORDER_FORMATS: dict[Order, str] = {"dmy": "%d/%m/%Y", "mdy": "%m/%d/%Y"}
ORDER_NAMES: dict[Order, str] = {"dmy": "dd/mm/yyyy", "mdy": "mm/dd/yyyy"}

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
_MONTH = "(?P<month_name>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s*)?"
_TIME = (
    r"(?:(?:[ T]|,\s*|\s+at\s+)\s*(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?"
    r"\s*(?P<meridiem>[ap]\.?m\.?)?\s*(?P<offset>z|utc|gmt|[+-]\d{2}(?::?\d{2})?)?)?"
)
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
#: Two numbers and a four-digit year: day and month in the column's order.
_NUMERIC = re.compile(r"(?P<first>\d{1,2})(?P<sep>[/.-])(?P<second_part>\d{1,2})(?P=sep)(?P<year>\d{4})" + _TIME,
                      re.IGNORECASE)
_YEAR_FIRST = re.compile(r"(?P<year>\d{4})(?P<sep>[/.-])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})" + _TIME,
                         re.IGNORECASE)
_DAY_NAME = re.compile(_WEEKDAY + _DAY + r"[\s/.-]*" + _MONTH + r"[\s/.,-]*(?P<year>\d{4})" + _TIME, re.IGNORECASE)
_NAME_DAY = re.compile(_WEEKDAY + _MONTH + r"[\s/.-]*" + _DAY + r"[\s,/.-]*(?P<year>\d{4})" + _TIME, re.IGNORECASE)
_SERIAL = re.compile(r"\d{5,7}(?:\.\d+)?")
_EXCEL_EPOCH = datetime(1899, 12, 30)
_MAX_SERIAL = 2958466  # 9999-12-31 is 2958465


class DateValue:
    """A value read from a cell: a wall time (no offset: the mapping's time zone applies) or an instant."""

    __slots__ = ("moment",)

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def instant(self, zone: ZoneInfo) -> datetime:
        """The moment in UTC; a wall time is read at ``zone``."""
        moment = self.moment if self.moment.tzinfo else self.moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)

    def day(self, zone: ZoneInfo) -> date:
        """The calendar day: as written for a wall time; at ``zone`` for an instant."""
        return (self.moment.astimezone(zone) if self.moment.tzinfo else self.moment).date()


def order_fits(text: str) -> tuple[bool, bool] | None:
    """For a value written as two numbers and a year: (fits dd/mm, fits mm/dd). None for any other shape."""
    match = _NUMERIC.fullmatch(text.strip())
    if match is None:
        return None
    first, second, year = int(match["first"]), int(match["second_part"]), int(match["year"])
    return _valid(year, second, first), _valid(year, first, second)


def read_date(text: str, order: Order | None) -> DateValue | None:
    """The date (and time) ``text`` holds; None when it holds none. Two numbers and a year (``03/04/2024``) are
    read in ``order`` only (the column's, never guessed from the cell): without one they are None."""
    text = text.strip()
    if not text:
        return None
    if text[0].isdigit():
        value = _read_iso(text)
        if value is not None:
            return value
        if _SERIAL.fullmatch(text):
            return _read_serial(text)
        match = _NUMERIC.fullmatch(text)
        if match is not None:
            if order is None:
                return None
            first, second = int(match["first"]), int(match["second_part"])
            day, month = (first, second) if order == "dmy" else (second, first)
            return _build(int(match["year"]), month, day, match)
        match = _YEAR_FIRST.fullmatch(text)
        if match is not None:
            return _build(int(match["year"]), int(match["month"]), int(match["day"]), match)
    match = _DAY_NAME.fullmatch(text) or _NAME_DAY.fullmatch(text)
    if match is not None:
        return _build(int(match["year"]), _MONTHS[match["month_name"].casefold()], int(match["day"]), match)
    return None


def read_with_format(text: str, date_format: str) -> DateValue | None:
    """``text`` read with a strptime format; None when it does not match."""
    try:
        moment = datetime.strptime(text.strip(), date_format)
    except ValueError:
        return None
    return DateValue(moment)


def format_order(date_format: str) -> Order | None:
    """The day/month order a strptime format writes numbers in, if it has both ``%d`` and ``%m``."""
    day, month = date_format.find("%d"), date_format.find("%m")
    if day < 0 or month < 0:
        return None
    return "dmy" if day < month else "mdy"


class DateReader:
    """How one ``date`` / ``datetime`` field reads its cells. ``orders``: the day/month order of each column (or
    template) it reads, decided from the whole column before any row is mapped (:mod:`importer.mapping.profile`);
    change it through :meth:`decide`.

    Results are remembered per column (up to :data:`CACHE_SIZE` texts): a date column repeats its values, and a
    hit costs a dict lookup instead of a parse (1,000,000 rows with two date columns: ~7 s less to check).
    """

    __slots__ = ("kind", "zone", "date_format", "format_order", "orders", "_cache", "_tables")

    CACHE_SIZE = 50_000

    def __init__(self, kind: str, zone: ZoneInfo, date_format: str | None = None) -> None:
        self.kind = kind
        self.zone = zone
        self.date_format = date_format
        self.format_order = format_order(date_format) if date_format else None
        self.orders: dict[str, Order] = {}
        self._cache: dict[str, dict[str, tuple[str | None, str]]] = {}
        self._tables: dict[str, DayAndTime] = {}  # per column: its days and times (:meth:`day_and_time`)

    def __repr__(self) -> str:
        return f"DateReader({self.kind!r}, {self.zone.key!r}, date_format={self.date_format!r}, {self.orders!r})"

    def decide(self, column: str, order: Order | None) -> None:
        """Read ``column``'s two-number dates in ``order`` (None: not at all)."""
        if order is None:
            self.orders.pop(column, None)
        else:
            self.orders[column] = order
        self._cache.pop(column, None)
        self._tables.pop(column, None)

    def convert(self, text: str, column: str) -> tuple[str | None, str]:
        """(the text to send, "") or (None, why the cell is not a date)."""
        cache = self._cache.get(column)
        if cache is None:
            cache = self._cache[column] = {}
        found = cache.get(text)
        if found is None:
            if len(cache) >= self.CACHE_SIZE:
                cache.clear()
            found = cache[text] = self._convert(text, column)
        return found

    def _convert(self, text: str, column: str) -> tuple[str | None, str]:
        if self.date_format is None:
            found = self._by_parts(text, column)
            if found is not None:
                return found
        return self._read(text, column)

    def _by_parts(self, text: str, column: str) -> tuple[str, str] | None:
        """A date and time written ``23/03/2026 18:45`` read from its column's tables of days and times
        (:class:`~importer.mapping.dayparts.DayAndTime`, shared with the function made for the mapping); None for
        any other text, or one those tables leave to :meth:`_read`, which reads it whole and says why
        (``tests/mapping/test_dates.py`` holds the two readings equal)."""
        tables = self.day_and_time(column)
        found = tables.read(text) if tables is not None else None
        return (found, "") if found is not None else None

    def day_and_time(self, column: str) -> DayAndTime | None:
        """The reader of ``column``'s ``23/03/2026 18:45`` values in its decided order (None without one, or with a
        ``date_format``): what the function made for a mapping reads them with (:mod:`importer.mapping.rowcode`),
        and :meth:`convert` too."""
        tables = self._tables.get(column)
        if tables is None:
            order = self.orders.get(column)
            if order is None or self.date_format is not None:
                return None
            tables = self._tables[column] = DayAndTime(self.kind, self.zone, order)
        return tables

    def _read(self, text: str, column: str) -> tuple[str | None, str]:
        value = read_with_format(text, self.date_format) if self.date_format else None
        order = self.orders.get(column) or self.format_order
        if value is None:
            value = read_date(text, order)
        if value is not None:
            try:
                if self.kind == "date":
                    return value.day(self.zone).isoformat(), ""
                return utc_text(value.instant(self.zone)), ""
            except (OverflowError, ValueError):
                return None, f"{text!r} is out of the range of dates"
        return None, self._why(text, order)

    def _why(self, text: str, order: Order | None) -> str:
        if self.date_format:
            return f"{text!r} does not match date_format {self.date_format!r} and is not an ISO 8601 date"
        fits = order_fits(text)
        if fits is not None and order is not None:
            return f"{text!r} is not a date (the column is read as {ORDER_NAMES[order]})"
        if fits is not None and any(fits):
            return f"{text!r}: the day/month order of its column was not decided"
        return (f"{text!r} is not a date (expected e.g. 2024-01-20, 20/01/2024, 20 Jan 2024, Jan 20, 2024 "
                "or an Excel serial number)")


def utc_text(moment: datetime) -> str:
    """``2024-01-20T09:00:00Z`` for a UTC ``moment``; milliseconds only when there are some (``…:00.250Z``)."""
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text[:-6] + "Z" if moment.tzinfo is not None else text + "Z"


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _read_iso(text: str) -> DateValue | None:
    """ISO 8601 as :meth:`datetime.fromisoformat` reads it (3.11: offsets, ``Z``, basic format, any fraction)."""
    if len(text) < 8 or not (text[4] == "-" or text[:8].isdigit()):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return DateValue(moment)


def _read_serial(text: str) -> DateValue | None:
    serial = float(text)
    if not 10_000 <= serial < _MAX_SERIAL:
        return None
    milliseconds = round(serial * 86_400_000)
    moment = _EXCEL_EPOCH + timedelta(milliseconds=milliseconds)
    return DateValue(moment)


def _build(year: int, month: int, day: int, match: re.Match[str]) -> DateValue | None:
    """The date of a matched value plus its optional time and offset; None when any part is out of range."""
    try:
        if match["hour"] is None:
            return DateValue(datetime(year, month, day))
        hour = int(match["hour"])
        meridiem = match["meridiem"]
        if meridiem is not None:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if meridiem[0] in "pP" else 0)
        fraction = match["fraction"]
        micro = int(fraction.ljust(6, "0")[:6]) if fraction else 0
        offset = match["offset"]
        zone = _offset(offset) if offset is not None else None
        second = match["second"]
        moment = datetime(year, month, day, hour, int(match["minute"]), int(second) if second else 0, micro, zone)
    except ValueError:  # a part out of range, an offset of a day or more
        return None
    return DateValue(moment)


def _offset(text: str) -> timezone:
    if text[0] in "+-":
        digits = text[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        return timezone(-delta if text[0] == "-" else delta)
    return UTC


def date_format_problem(text: str) -> str | None:
    """Why ``text`` is not a usable ``date_format`` (a day, a month and a year, a strptime format), or None."""
    has = [any(code in text for code in codes) for codes in (("%d", "%j"), ("%m", "%b", "%B"), ("%Y", "%y"))]
    if not all(has):
        return (f"{text!r} needs a day (%d), a month (%m, %b or %B) and a year (%Y or %y); e.g. \"%d/%m/%Y\" or "
                "\"%m/%d/%Y %H:%M\"")
    sample = datetime(2024, 11, 28, 21, 45, 30)
    try:
        datetime.strptime(sample.strftime(text), text)
    except ValueError as exc:
        return f"{text!r} is not a strptime format ({exc})"
    return None
