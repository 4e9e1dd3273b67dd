"""Amounts as Indian sales teams write them: lakh and crore, their grouping, currency marks and the number locale."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.mapping.amounts import NUMBER_LOCALES, parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5L", 150000),
        ("1.5 lakh", 150000),
        ("15 lakhs", 1500000),
        ("2 Cr", 20000000),
        ("2 crore", 20000000),
        ("2.5 crores", 25000000),
        ("45k", 45000),
        ("45K", 45000),
        ("₹ 4,50,000", 450000),
        ("Rs. 45,000/-", 45000),
        ("INR 1,20,000", 120000),
        ("1,20,000.50", 120000.5),
        ("12,00,00,000", 120000000),
        ("4,50,000", 450000),
        ("450,000", 450000),
        ("450000", 450000),
        ("₹1.5L", 150000),
        ("Rs 2 Crs", 20000000),
        ("0.1L", 10000),  # exact: not 10000.000000000002
        ("1.1 Cr", 11000000),
        ("3 lac", 300000),
        ("-2.5k", -2500),
        ("1.234", 1.234),
        ("1,234", 1234),
        ("1.5L-2L", None),
        ("call", None),
        ("L", None),
        ("1.5 L L", None),
        ("1e3k", None),
        ("45,00", None),
        ("₹", None),
    ],
)
def test_amounts_as_people_write_them(text: str, expected: float | None) -> None:
    value = parse_number(text)
    assert value == expected
    assert type(value) is type(expected)


def test_the_number_locale_says_which_mark_groups_digits() -> None:
    assert parse_number("1.234", "IN") == 1.234 and parse_number("1,234", "IN") == 1234
    assert parse_number("1.234", "DE") == 1234 and parse_number("1,234", "DE") == 1.234
    assert parse_number("€ 1.234.567,5", "de") == 1234567.5
    assert parse_number("1,5 Cr", "DE") == 15000000
    with pytest.raises(ValueError, match="unknown number locale 'XX'"):
        parse_number("1", "XX")


def indian(value: int) -> str:
    """``value`` grouped the Indian way: the last three digits, then twos (12,34,56,789)."""
    digits = str(value)
    head, tail = digits[:-3], digits[-3:]
    groups = []
    while head:
        groups.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([*groups, tail])


@given(st.integers(min_value=0, max_value=10**15))
def test_lakh_and_crore_grouping_round_trips(value: int) -> None:
    assert parse_number(indian(value)) == value
    assert parse_number(f"₹ {indian(value)}/-") == value
    assert parse_number(f"Rs. {indian(value)}") == value
    assert parse_number(f"{value:,}") == value


SUFFIXES = {"k": 10**3, "K": 10**3, "L": 10**5, "lakh": 10**5, "lakhs": 10**5, "Lac": 10**5, "Cr": 10**7,
            "crore": 10**7, "Crores": 10**7}


@given(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False),
       st.sampled_from(sorted(SUFFIXES)), st.sampled_from(["", " "]), st.sampled_from(["", "₹ ", "Rs. ", "INR "]))
def test_suffixes_multiply_exactly(amount: Decimal, suffix: str, space: str, currency: str) -> None:
    expected = amount * SUFFIXES[suffix]
    value = parse_number(f"{currency}{amount}{space}{suffix}")
    assert value is not None and Decimal(str(value)) == expected
    assert isinstance(value, int) == (expected == expected.to_integral_value())


@given(st.sampled_from(sorted(NUMBER_LOCALES)), st.integers(min_value=1000, max_value=10**9))
def test_every_locale_reads_its_own_grouping(locale: str, value: int) -> None:
    grouped = f"{value:,}" if NUMBER_LOCALES[locale] == "." else f"{value:,}".replace(",", ".")
    assert parse_number(grouped, locale) == value
