"""Deterministic generators of realistic lead sheets, for benchmarks and tests.

    python benchmarks/make_data.py csv out.csv --rows 1000000 [--seed 7]
    python benchmarks/make_data.py xlsx out.xlsx --rows 100000

Every sheet has the columns in :data:`COLUMNS`. Primary phones are unique Indian mobiles written in varied
formats (``+91 98xxx xxxxx``, ``098…``, ``98-…``, plain ten digits); about 40% of rows carry a second, also
unique, mobile. Stages come from the sandbox catalog, about 1% of them misspelt. The same ``seed`` and
``rows`` always give the same sheet.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Iterator
from pathlib import Path

COLUMNS: tuple[str, ...] = (
    "First Name",
    "Last Name",
    "Phone",
    "Mobile",
    "Email",
    "Company",
    "City",
    "Stage",
    "Tags",
    "Deal Value",
    "Source",
    "Notes",
)

STAGES = ("New Lead", "Contacted", "Qualified", "Proposal", "Won", "Lost")
FIRST_NAMES = (
    "Aarav", "Vivaan", "Aditya", "Ananya", "Diya", "Ishaan", "Kavya", "Meera", "Rohan", "Saanvi",
    "Arjun", "Priya", "Rahul", "Sneha", "Vikram", "Pooja", "Karan", "Neha", "Siddharth", "Zoya",
)  # fmt: skip
LAST_NAMES = (
    "Sharma", "Verma", "Iyer", "Reddy", "Nair", "Gupta", "Patel", "Khan", "Singh", "Das",
    "Mukherjee", "Menon", "Joshi", "Kulkarni", "Chopra", "Bose", "Pillai", "Rao", "Shah", "Mehta",
)  # fmt: skip
COMPANIES = (
    "Acme Traders", "Sharma & Sons", "Bluewave Tech", "Ganga Textiles", "Sunrise Foods",
    "Metro Motors", "Lotus Interiors", "Nimbus Labs", "Kaveri Exports", "", "",
)  # fmt: skip
CITIES = ("Bengaluru", "Mumbai", "Delhi", "Chennai", "Hyderabad", "Pune", "Kolkata", "Jaipur", "Kochi", "")
TAGS = ("Hot", "VIP", "Cold", "Follow-up", "Referral")
#: Tag cells: none, one, or two distinct tags in either order (the way people type them).
TAG_CELLS = ("", "", *TAGS, *(f"{a};{b}" for a in TAGS for b in TAGS if a != b))
SOURCES = ("Website", "Referral", "Trade Show", "Facebook", "Walk-in")
NOTES = (
    "",
    "",
    "Called twice, no answer",
    'Asked for a "premium" plan quote',
    "Interested, call back next week",
    "Wants a demo; prefers WhatsApp",
)

_PRIMARY_BASE, _MOBILE_BASE, _SPAN = 9_000_000_000, 8_000_000_000, 1_000_000_000


def _misspell(stage: str, rng: random.Random) -> str:
    """Drop one letter (never the first), the way people mistype a stage."""
    cut = rng.randrange(1, len(stage))
    return stage[:cut] + stage[cut + 1 :]


def _format_phone(digits: str, style: int) -> str:
    if style == 0:
        return f"+91 {digits[:5]} {digits[5:]}"
    if style == 1:
        return "0" + digits
    if style == 2:
        return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}"
    return digits


def _phone_digits(index: int, base: int, stride: int, seed: int) -> str:
    """A ten-digit mobile unique per ``index`` (``stride`` is prime, so the walk never repeats a number)."""
    return str(base + (index * stride + seed * 1_000_003) % _SPAN)


def lead_rows(rows: int, seed: int = 0) -> Iterator[dict[str, str]]:
    """Yield ``rows`` lead records as text, keyed by :data:`COLUMNS`."""
    for values in _lead_values(rows, seed):
        yield dict(zip(COLUMNS, values, strict=True))


def _lead_values(rows: int, seed: int) -> Iterator[tuple[str, ...]]:
    """Lead records as tuples in :data:`COLUMNS` order (the fast path behind both writers)."""
    rng = random.Random(seed)
    draw = rng.random

    def pick(options: tuple[str, ...]) -> str:
        return options[int(draw() * len(options))]

    for index in range(rows):
        first, last, stage = pick(FIRST_NAMES), pick(LAST_NAMES), pick(STAGES)
        if draw() < 0.01:
            stage = _misspell(stage, rng)
        mobile = ""
        if draw() < 0.4:
            mobile = _format_phone(_phone_digits(index, _MOBILE_BASE, 104_729, seed), int(draw() * 4))
        yield (
            first,
            last,
            _format_phone(_phone_digits(index, _PRIMARY_BASE, 7_919, seed), int(draw() * 4)),
            mobile,
            "" if draw() < 0.1 else f"{first.lower()}.{last.lower()}{index}@example.com",
            pick(COMPANIES),
            pick(CITIES),
            stage,
            pick(TAG_CELLS),
            "" if draw() < 0.3 else str((5 + int(draw() * 495)) * 500),
            pick(SOURCES),
            pick(NOTES),
        )


def make_csv(path: str | Path, rows: int, seed: int = 0) -> Path:
    """Write a UTF-8 CSV lead sheet with a header and ``rows`` data rows; return its path."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(_lead_values(rows, seed))
    return path


def make_xlsx(path: str | Path, rows: int, seed: int = 0) -> Path:
    """Write an XLSX lead sheet (sheet "Leads") the way Excel users keep one; return its path.

    Plain ten-digit phones and deal values are stored as numbers (so 098… stays text), the rest as text.
    """
    import xlsxwriter  # type: ignore[import-untyped]

    path = Path(path)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("Leads")
    sheet.write_row(0, 0, COLUMNS)
    numeric = {"Phone", "Mobile", "Deal Value"}
    numeric_columns = {COLUMNS.index(name) for name in numeric}
    for row_index, values in enumerate(_lead_values(rows, seed), start=1):
        for col_index, value in enumerate(values):
            if col_index in numeric_columns and value.isdigit() and not value.startswith("0"):
                sheet.write_number(row_index, col_index, int(value))
            elif value:
                sheet.write_string(row_index, col_index, value)
    workbook.close()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a deterministic lead sheet.")
    parser.add_argument("format", choices=("csv", "xlsx"))
    parser.add_argument("output", type=Path)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    writer = make_csv if args.format == "csv" else make_xlsx
    writer(args.output, args.rows, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
