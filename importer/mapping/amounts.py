"""Amounts as sales teams write them: ``1.5L``, ``2 Cr``, ``45k``, ``₹ 4,50,000``, ``Rs. 45,000/-``, ``1,20,000.50``.

    parse_number("1.5 lakh")        → 150000        (exact: Decimal arithmetic, never 149999.99…)
    parse_number("Rs. 45,000/-")    → 45000
    parse_number("2.5 crores")      → 25000000
    parse_number("1.234", "DE")     → 1234          (the locale says which mark groups digits)
    parse_number("1.5L-2L")         → None          (a range is not one number)

A currency sign (₹ $ € £ ¥) or code (Rs, Rs., INR, USD, EUR, GBP, AED) may lead or trail, an Indian ``/-`` may
trail, spaces anywhere are ignored. Digits are grouped in threes (``450,000``) or the Indian way (``4,50,000``,
``12,00,00,000``); a suffix multiplies: ``k``/``thousand`` 10³, ``L``/``lac``/``lakh`` 10⁵, ``Cr``/``crore`` 10⁷
(singular or plural, any case). ``number_locale`` (a mapping's ``defaults.number_locale``, default ``IN``) says
whether a comma or a full stop groups digits: ``IN`` reads ``1,234`` as 1234 and ``1.234`` as 1.234; a
comma-decimal locale such as ``DE`` reads them the other way round.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, DecimalException

__all__ = ["DEFAULT_NUMBER_LOCALE", "NUMBER_LOCALES", "parse_number"]

DEFAULT_NUMBER_LOCALE = "IN"
#: Locale → the mark that separates decimals. Every other locale a sheet may come from reads like one of these.
NUMBER_LOCALES: dict[str, str] = {
    **dict.fromkeys(("IN", "US", "GB", "AE", "SG", "AU", "CA"), "."),
    **dict.fromkeys(("DE", "FR", "ES", "IT", "NL", "BR", "ID", "EU"), ","),
}
_MULTIPLIERS: dict[str, int] = {
    **dict.fromkeys(("k", "thousand", "thousands"), 10**3),
    **dict.fromkeys(("l", "lac", "lacs", "lakh", "lakhs"), 10**5),
    **dict.fromkeys(("cr", "crs", "crore", "crores"), 10**7),
}
_CURRENCY = r"(?:₹|\$|€|£|¥|rs\.?|inr|usd|eur|gbp|aed)"
_SUFFIX = "|".join(sorted(_MULTIPLIERS, key=len, reverse=True))
#: The whole cell, once spaces are removed and letters folded: sign, currency, the digits, a suffix, currency, /-.
_AMOUNT = re.compile(
    rf"(?P<sign>[+-]?){_CURRENCY}?(?P<inner>[+-]?)(?P<digits>[0-9.,]+)(?P<exp>e[+-]?[0-9]+)?"
    rf"(?P<suffix>{_SUFFIX})?{_CURRENCY}?(?:/-)?"
)
#: Digits grouped in threes, or Indian (twos, then the last three), then decimals: after the locale's marks are
#: turned into ``,`` (grouping) and ``.`` (decimals).
_DIGITS = re.compile(r"(?:\d{1,3}(?:(?:,\d{2})*,\d{3}|(?:,\d{3})+)|\d+)(?:\.\d*)?|\.\d+")
_SWAP = str.maketrans(",.", ".,")
_FLOAT_LIMIT = 2**53  # whole numbers below this come back as int, so payloads read naturally


def parse_number(text: str, locale: str = DEFAULT_NUMBER_LOCALE) -> int | float | None:
    """The amount ``text`` writes, or None when it is not one number (``call``, ``1.5L-2L``, ``1,50``)."""
    decimal_mark = NUMBER_LOCALES.get(locale.upper())
    if decimal_mark is None:
        raise ValueError(f"unknown number locale {locale!r}; expected one of {', '.join(NUMBER_LOCALES)}")
    text = text.strip()
    if decimal_mark == "." and "," not in text:
        try:  # the common case, a plain number: float() reads it as Decimal would
            return _natural(float(text))
        except ValueError:
            pass
    value = _amount("".join(text.split()).casefold(), decimal_mark)
    return None if value is None else _natural(value)


def _amount(text: str, decimal_mark: str) -> Decimal | None:
    """The exact value of a folded, space-free cell; None when it is not one number."""
    match = _AMOUNT.fullmatch(text)
    if match is None or (match["sign"] and match["inner"]):
        return None
    digits = match["digits"] if decimal_mark == "." else match["digits"].translate(_SWAP)
    if _DIGITS.fullmatch(digits) is None or (match["exp"] and match["suffix"]):
        return None
    try:
        value = Decimal(digits.replace(",", "") + (match["exp"] or ""))
        value *= _MULTIPLIERS.get(match["suffix"] or "", 1)
    except DecimalException:
        return None
    return -value if "-" in (match["sign"], match["inner"]) else value


def _natural(value: float | Decimal) -> int | float | None:
    """An int for a whole number a float holds exactly, else a float; None when it is not finite."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        if abs(value) < _FLOAT_LIMIT and value == value.to_integral_value():
            return int(value)
        value = float(value)
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() and abs(value) < _FLOAT_LIMIT else value
