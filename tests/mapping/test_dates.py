"""Dates and times in cells: every accepted form, the time zone rule, and round trips through every form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.mapping.dates import DateReader, Order, format_order, order_fits, read_date, utc_text

KOLKATA = ZoneInfo("Asia/Kolkata")


def as_datetime(text: str, order: Order | None = None, zone: ZoneInfo = KOLKATA) -> str | None:
    reader = DateReader("datetime", zone)
    if order is not None:
        reader.decide("c", order)
    return reader.convert(text, "c")[0]


def as_date(text: str, order: Order | None = None, zone: ZoneInfo = KOLKATA) -> str | None:
    reader = DateReader("date", zone)
    if order is not None:
        reader.decide("c", order)
    return reader.convert(text, "c")[0]


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        # ISO 8601: naive values are Kolkata wall times (UTC+5:30); an offset or Z is kept
        ("2024-01-20", None, "2024-01-19T18:30:00Z"),
        ("2024-01-20T14:30", None, "2024-01-20T09:00:00Z"),
        ("2024-01-20 14:30:00", None, "2024-01-20T09:00:00Z"),
        ("2024-01-20T14:30:00Z", None, "2024-01-20T14:30:00Z"),
        ("2024-01-20T14:30:00.250+01:00", None, "2024-01-20T13:30:00.250Z"),
        ("20240120T143000+0530", None, "2024-01-20T09:00:00Z"),
        ("20240120", None, "2024-01-19T18:30:00Z"),
        ("2024-01-20T09:30:00.000000001", None, "2024-01-20T04:00:00Z"),  # a pandas Timestamp's nanoseconds
        # Excel serial numbers (the 1900 date system): a fraction is the time of day
        ("45311", None, "2024-01-19T18:30:00Z"),
        ("45311.5", None, "2024-01-20T06:30:00Z"),
        ("45311.604166666664", None, "2024-01-20T09:00:00Z"),
        # two numbers and a year, in the column's order, with / - or .
        ("20/01/2024", "dmy", "2024-01-19T18:30:00Z"),
        ("01/20/2024", "mdy", "2024-01-19T18:30:00Z"),
        ("03-04-2024", "dmy", "2024-04-02T18:30:00Z"),
        ("03.04.2024", "mdy", "2024-03-03T18:30:00Z"),
        ("3/4/2024 2:30 PM", "dmy", "2024-04-03T09:00:00Z"),
        ("20.01.2024 09:05 am +02:00", "dmy", "2024-01-20T07:05:00Z"),
        ("20/01/2024 12:00 AM", "dmy", "2024-01-19T18:30:00Z"),
        ("20/01/2024, 12:15:30 p.m.", "dmy", "2024-01-20T06:45:30Z"),
        # year first is never ambiguous
        ("2024/01/20", None, "2024-01-19T18:30:00Z"),
        ("2024-1-5 10:00", None, "2024-01-05T04:30:00Z"),
        # named months
        ("20 Jan 2024", None, "2024-01-19T18:30:00Z"),
        ("Jan 20, 2024", None, "2024-01-19T18:30:00Z"),
        ("January 20, 2024", None, "2024-01-19T18:30:00Z"),
        ("20 January 2024", None, "2024-01-19T18:30:00Z"),
        ("20-Jan-2024", None, "2024-01-19T18:30:00Z"),
        ("20th Sept. 2024", None, "2024-09-19T18:30:00Z"),
        ("Sat, 20 Jan 2024 14:30 GMT", None, "2024-01-20T14:30:00Z"),
        ("jan 20 2024 at 2:30 pm", None, "2024-01-20T09:00:00Z"),
        ("  DECEMBER 31, 1999 23:59:59 ", None, "1999-12-31T18:29:59Z"),
    ],
)
def test_accepted_forms(text: str, order: Order | None, expected: str) -> None:
    assert as_datetime(text, order) == expected


@pytest.mark.parametrize(
    "text",
    ["junk", "2024", "12345678", "31/02/2024", "13/13/2024", "20/01/24", "2024-13-01", "45311,5", "99",
     "20 Jnu 2024", "25:00 20/01/2024", "20/01/2024 25:00", "20/01/2024 13:00 PM", "2024-01-20T10:00+25:00",
     "9999999"],
)
def test_what_is_not_a_date(text: str) -> None:
    assert as_datetime(text, "dmy") is None


def test_a_two_number_date_is_never_read_without_its_columns_order() -> None:
    assert read_date("25/01/2024", None) is None  # fits dd/mm only, but a cell never decides
    reader = DateReader("date", KOLKATA)
    assert reader.convert("25/01/2024", "c") == (None, "'25/01/2024': the day/month order of its column was "
                                                       "not decided")
    reader.decide("c", "mdy")
    assert reader.convert("25/01/2024", "c") == (None, "'25/01/2024' is not a date (the column is read as "
                                                       "mm/dd/yyyy)")


def test_a_new_order_is_not_answered_from_what_was_remembered() -> None:
    reader = DateReader("date", KOLKATA)
    reader.decide("c", "dmy")
    assert reader.convert("03/04/2024", "c") == ("2024-04-03", "")
    reader.decide("c", "mdy")
    assert reader.convert("03/04/2024", "c") == ("2024-03-04", "")
    assert reader.convert("03/04/2024", "d")[0] is None  # another column, undecided


@pytest.mark.parametrize(
    ("text", "expected"),
    [("20/01/2024", (True, False)), ("01/20/2024", (False, True)), ("03/04/2024", (True, True)),
     ("13/13/2024", (False, False)), ("3-4-2024 10:00", (True, True)), ("2024-01-20", None), ("45311", None),
     ("20 Jan 2024", None)],
)
def test_order_fits(text: str, expected: tuple[bool, bool] | None) -> None:
    assert order_fits(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2024-01-20", "2024-01-20"), ("2024-01-20T23:59", "2024-01-20"),  # a wall time keeps its day
     ("2024-01-20T20:00:00Z", "2024-01-21"),  # an instant is moved to the time zone first
     ("45311.99", "2024-01-20"), ("Jan 20, 2024 11 PM", None), ("Jan 20, 2024 11:00 PM", "2024-01-20")],
)
def test_date_fields(text: str, expected: str | None) -> None:
    assert as_date(text) == expected


def test_naive_values_take_the_time_zone() -> None:
    new_york = ZoneInfo("America/New_York")
    assert as_datetime("2024-07-04T09:00", zone=new_york) == "2024-07-04T13:00:00Z"  # EDT
    assert as_datetime("2024-01-04T09:00", zone=new_york) == "2024-01-04T14:00:00Z"  # EST
    assert as_datetime("2024-07-04T09:00+00:00", zone=new_york) == "2024-07-04T09:00:00Z"


def test_date_format_first_then_the_unambiguous_forms() -> None:
    reader = DateReader("datetime", KOLKATA, "%d/%m/%y %H.%M")
    assert reader.convert("20/01/24 14.30", "c") == ("2024-01-20T09:00:00Z", "")
    assert reader.convert("2024-01-20T14:30", "c") == ("2024-01-20T09:00:00Z", "")  # a workbook date cell
    assert reader.convert("03/04/2024", "c") == ("2024-04-02T18:30:00Z", "")  # the format's order: dd/mm
    assert reader.convert("20/13/24 14.30", "c") == (
        None, "'20/13/24 14.30' does not match date_format '%d/%m/%y %H.%M' and is not an ISO 8601 date")
    assert format_order("%m-%d-%Y") == "mdy" and format_order("%d %b %Y") is None


def test_utc_text() -> None:
    assert utc_text(datetime(2026, 5, 20, 9, 30)) == "2026-05-20T09:30:00Z"
    assert utc_text(datetime(2026, 5, 20, 9, 30, 0, 250_999)) == "2026-05-20T09:30:00.250Z"


# --- round trips --------------------------------------------------------------------------------------------

ZONES = [ZoneInfo(name) for name in ("Asia/Kolkata", "UTC", "America/New_York", "Europe/London",
                                     "Australia/Adelaide", "Asia/Kathmandu")]
EPOCH = datetime(1899, 12, 30)


def twelve_hour(wall: datetime) -> str:
    hour = wall.hour % 12 or 12
    return f"{hour}:{wall:%M:%S}.{wall.microsecond // 1000:03d} {'PM' if wall.hour >= 12 else 'AM'}"


def clock(wall: datetime) -> str:
    return f"{wall:%H:%M:%S}.{wall.microsecond // 1000:03d}"


def serial(wall: datetime) -> str:
    return f"{(wall - EPOCH) / timedelta(days=1):.10f}"


#: Every way a wall time (at the mapping's time zone) may be written, with the column order it needs.
WRITERS: dict[str, tuple[Callable[[datetime, ZoneInfo], str], Order | None]] = {
    "iso naive": (lambda w, z: w.isoformat(timespec="milliseconds"), None),
    "iso Z": (lambda w, z: w.replace(tzinfo=z).astimezone(UTC).isoformat(timespec="milliseconds")
              .replace("+00:00", "Z"), None),
    "iso offset": (lambda w, z: w.replace(tzinfo=z).isoformat(timespec="milliseconds"), None),
    "iso basic": (lambda w, z: f"{w:%Y%m%dT%H%M%S}.{w.microsecond // 1000:03d}", None),
    "excel serial": (lambda w, z: serial(w), None),
    "dd/mm/yyyy": (lambda w, z: f"{w:%d/%m/%Y} {clock(w)}", "dmy"),
    "d-m-yyyy": (lambda w, z: f"{w.day}-{w.month}-{w.year} {twelve_hour(w)}", "dmy"),
    "dd.mm.yyyy": (lambda w, z: f"{w:%d.%m.%Y} {clock(w)}", "dmy"),
    "mm/dd/yyyy": (lambda w, z: f"{w:%m/%d/%Y} {twelve_hour(w)}", "mdy"),
    "mm-dd-yyyy": (lambda w, z: f"{w:%m-%d-%Y} {clock(w)}", "mdy"),
    "yyyy/mm/dd": (lambda w, z: f"{w:%Y/%m/%d} {clock(w)}", None),
    "d Mon yyyy": (lambda w, z: f"{w.day} {w:%b %Y} {clock(w)}", None),
    "Month d, yyyy": (lambda w, z: f"{w:%B} {w.day}, {w.year} {twelve_hour(w)}", None),
    "Wkd, dd Month yyyy": (lambda w, z: f"{w:%a, %d %B %Y} {clock(w)}", None),
}

#: Wall times as a sheet writes them: to the millisecond, and with no fold (text never says which of a repeated
#: hour it means, so a skipped or repeated hour reads as its first, fold=0, the way ``zoneinfo`` places it).
walls = st.datetimes(min_value=datetime(1930, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda w: w.replace(microsecond=w.microsecond // 1000 * 1000, fold=0))


@settings(max_examples=300, deadline=None)
@given(wall=walls, zone=st.sampled_from(ZONES), form=st.sampled_from(sorted(WRITERS)))
def test_any_form_reads_back_as_the_same_instant(wall: datetime, zone: ZoneInfo, form: str) -> None:
    write, order = WRITERS[form]
    text = write(wall, zone)
    sent = as_datetime(text, order, zone)
    assert sent is not None, text
    expected = wall.replace(tzinfo=zone).astimezone(UTC)
    assert datetime.fromisoformat(sent) == expected, text
    assert as_datetime(sent, None, zone) == sent  # what is sent reads back as itself


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=date(1930, 1, 1), max_value=date(2099, 12, 31)), zone=st.sampled_from(ZONES),
       form=st.sampled_from(sorted(WRITERS)))
def test_any_form_of_a_day_reads_back_as_that_day(day: date, zone: ZoneInfo, form: str) -> None:
    write, order = WRITERS[form]
    wall = datetime(day.year, day.month, day.day, 12)
    text = write(wall, zone)
    assert as_date(text, order, zone) == day.isoformat(), text


#: Texts of the shape read by parts (``23/03/2026 18:45``) and near it: any day and month numbers, days that do
#: not exist, hours and minutes out of range, other separators and spacing.
near_day_and_time = st.builds(
    lambda day, sep, month, year, gap, hour, minute: f"{day}{sep}{month}{sep}{year}{gap}{hour}:{minute}",
    st.sampled_from(["1", "01", "9", "12", "13", "29", "30", "31", "32", "00", "123"]),
    st.sampled_from(["/", "-", ".", "/ "]),
    st.sampled_from(["1", "02", "2", "12", "13", "0"]),
    st.sampled_from(["2024", "2026", "1900", "0001", "9999", "26"]),
    st.sampled_from([" ", "  ", "T", ", ", " at "]),
    st.sampled_from(["0", "00", "9", "18", "23", "24", "123"]),
    st.sampled_from(["00", "45", "59", "60", "5", "30:15"]))


@settings(max_examples=400, deadline=None)
@given(texts=st.lists(near_day_and_time, min_size=1, max_size=6), kind=st.sampled_from(["date", "datetime"]),
       order=st.sampled_from(["dmy", "mdy", None]), zone=st.sampled_from(ZONES))
def test_a_date_and_time_read_by_its_parts_reads_as_the_whole_text(texts: list[str], kind: str,
                                                                    order: Order | None, zone: ZoneInfo) -> None:
    by_parts, whole = DateReader(kind, zone), DateReader(kind, zone)
    if order is not None:
        by_parts.decide("c", order)
        whole.decide("c", order)
    for text in texts * 2:  # the second time, from the remembered parts
        assert by_parts.convert(text, "c") == whole._read(text, "c"), text


def test_the_common_date_and_time_is_read_by_its_parts() -> None:
    reader = DateReader("datetime", KOLKATA)
    reader.decide("c", "dmy")
    assert reader._by_parts("23/03/2026 18:45", "c") == ("2026-03-23T13:15:00Z", "")
    assert reader._by_parts("31/02/2026 18:45", "c") is None  # no such day: read whole, which says why
    assert reader.convert("31/02/2026 18:45", "c")[0] is None
    assert reader._by_parts("23/03/2026 6:45 PM", "c") is None  # another shape: read whole
    assert reader.convert("23/03/2026 6:45 PM", "c") == ("2026-03-23T13:15:00Z", "")


@settings(max_examples=400, deadline=None)
@given(texts=st.lists(near_day_and_time | st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1))
                      .map(lambda moment: moment.strftime("%d/%m/%Y %H:%M")), min_size=1, max_size=8),
       kind=st.sampled_from(["date", "datetime"]), order=st.sampled_from(["dmy", "mdy"]),
       zone=st.sampled_from([*ZONES, ZoneInfo("Australia/Lord_Howe"), ZoneInfo("America/Santiago")]))
def test_a_date_and_time_read_from_its_tables_reads_as_the_whole_text(texts: list[str], kind: str, order: Order,
                                                                       zone: ZoneInfo) -> None:
    reader = DateReader(kind, zone)
    reader.decide("c", order)
    quick = reader.day_and_time("c")
    assert quick is not None
    for text in texts * 2:  # the second time, from its tables
        sent = quick.read(text)
        assert sent is None or sent == reader._read(text, "c")[0], text


@pytest.mark.parametrize(("zone", "text", "sent"), [
    ("Asia/Kolkata", "23/03/2026 18:45", "2026-03-23T13:15:00Z"),
    ("Asia/Kolkata", "01/01/2026 03:00", "2025-12-31T21:30:00Z"),   # the day before in UTC
    ("Pacific/Kiritimati", "31/12/2025 23:00", "2025-12-31T09:00:00Z"),
    ("America/New_York", "31/12/2025 22:00", "2026-01-01T03:00:00Z"),  # the day after in UTC
    ("America/New_York", "10/03/2024 02:30", None),  # the day summer time starts: read whole
    ("America/New_York", "03/11/2024 01:30", None),  # and ends
    ("Asia/Kolkata", "31/02/2026 18:45", None),  # no such day
    ("Asia/Kolkata", "23/03/2026 24:00", None),  # no such time
    ("Asia/Kolkata", "2026-03-23 18:45", None),  # another shape
])
def test_the_tables_read_the_common_date_and_time(zone: str, text: str, sent: str | None) -> None:
    reader = DateReader("datetime", ZoneInfo(zone))
    reader.decide("c", "dmy")
    quick = reader.day_and_time("c")
    assert quick is not None and quick.read(text) == sent
    assert reader.convert(text, "c")[0] == (sent or reader._read(text, "c")[0])
    assert DateReader("datetime", ZoneInfo(zone)).day_and_time("c") is None  # no order decided: no tables
