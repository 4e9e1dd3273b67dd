"""Phone numbers: E.164 checks (shared with the sandbox) and normalisation of what people type.

``normalise_phone(raw, region)`` turns a cell as typed ("098765 43210", "+91-98765-43210",
"tel:+91...", "'09876543210", full-width digits, "9.876543210E+09", ...) into a :class:`Phone` in
E.164, or explains in a :class:`PhoneProblem` why it cannot. It never guesses: a number is accepted
only when ``phonenumbers`` considers it valid (not merely possible).

Most cells are already clean ("+919876543210" or a bare national number), so those skip
``phonenumbers.parse`` and are checked directly against the same metadata (:mod:`importer.phones.rules`);
everything else takes the slow path (clean up, then ``parse`` + ``is_valid_number``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberFormat

from importer.phones.rules import fast_e164 as _fast_e164
from importer.phones.rules import plain_lane

__all__ = ["Phone", "PhoneProblem", "is_e164", "normalise_phone", "normalise_phone_text", "quick_e164"]

_E164 = re.compile(r"\+[1-9]\d{6,14}", re.ASCII)
#: The numbers remembered (the one cache of phone checks): a sheet repeats some numbers, an assignee's on every row,
#: and a hit costs 0.1 µs instead of a check (4-6 µs). A large cache costs every distinct number: a worker checking
#: the 1,000,000 distinct numbers of ``benchmarks/bench_validate.py`` spends 16.0 µs a row with 1,024 entries,
#: 19.5 µs with 65,536 and 15.3 µs with none (CPU, median of 5).
_CACHE_SIZE = 1024
_MAX_SHOWN = 40
_SUPPORTED_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)


@dataclass(frozen=True, slots=True)
class Phone:
    """A valid number in E.164 form; ``extension`` holds digits typed after it ("x123")."""

    e164: str
    extension: str = ""


@dataclass(frozen=True, slots=True)
class PhoneProblem:
    """Why a cell is not a usable phone number: a ``code`` declared in :mod:`importer.issues`, a message for people."""

    code: str
    message: str


def is_e164(value: object) -> bool:
    """True when ``value`` is a valid number written in strict E.164 form ("+919876543210").

    Strict means exactly the canonical form: no spaces, no trunk prefix after the country code, no
    trailing newline.
    """
    if not isinstance(value, str) or not _E164.fullmatch(value):
        return False
    return _e164_of(value, phonenumbers.UNKNOWN_REGION) == value  # the region plays no part after "+"


def normalise_phone(raw: object, region: str = "IN") -> Phone | PhoneProblem:
    """Normalise one cell to a :class:`Phone` (E.164) or a :class:`PhoneProblem`; never raises.

    ``region`` (ISO 3166 code, any case) is the country assumed for numbers written without a
    country code. Problem codes: ``empty-phone``, ``invalid-phone``, ``lossy-excel-number``,
    ``invalid-region``.
    """
    if not isinstance(region, str):
        return PhoneProblem("invalid-region", f"{region!r} is not a known region code")
    if raw is None:
        raw = ""
    elif not isinstance(raw, str):
        raw = str(raw)
    return normalise_phone_text(raw, region)


@lru_cache(maxsize=_CACHE_SIZE)
def _normalise_cached(raw: str, region: str) -> Phone | PhoneProblem:
    region_code = region.strip().upper()
    if region_code not in _SUPPORTED_REGIONS or not region.isascii():  # "ß".upper() is "SS"
        return PhoneProblem(
            "invalid-region", f"'{_shown(region)}' is not a known region code (use an ISO code such as IN)"
        )
    e164 = _fast_e164(raw, region_code)
    if not e164:
        plain = raw.translate(_PLAIN_SEPARATORS)  # "+91 98765-43210", "(987) 654 3210"
        e164 = _fast_e164(plain, region_code) if plain != raw else None
    if e164:
        return Phone(e164)
    return _normalise_slow(raw, region_code)


def normalise_phone_text(raw: str, region: str) -> Phone | PhoneProblem:
    """:func:`normalise_phone` for callers that already hold text and a region string (the per-row hot path):
    :func:`quick_e164` first, else the cached function, without the argument checks."""
    e164 = quick_e164(raw, region)
    if e164:
        return Phone(e164)
    return _normalise_cached(raw, region)


def quick_e164(raw: str, region: str) -> str | None:
    """The E.164 of a valid number typed the common way (bare national digits, the trunk prefix, "+" and the
    region's code; spaces, dashes and brackets between them), through the region's plain lane
    (:func:`importer.phones.rules.plain_lane`); None when it is not one of those: then ask
    :func:`normalise_phone_text`, which also explains the problems. Most numbers of a sheet take this way."""
    lane = _LANES.get(region)
    if lane is None:
        lane = _lane_of(region)
        if len(_LANES) < _MAX_LANES:
            _LANES[region] = lane
    if not lane:
        return None
    e164 = lane(raw)
    if e164 is None:
        plain = raw.translate(_PLAIN_SEPARATORS)  # "+91 98765-43210", "(987) 654 3210"
        if plain != raw:
            e164 = lane(plain)
    return e164


def quick_lane(region: str) -> Callable[[str], str | None]:
    """:func:`quick_e164` for one region, as a function of the text: a row's numbers are checked without looking
    their region up each time (0.17 µs a row of ``benchmarks/bench_validate.py``'s sheet less, 1.4 numbers)."""
    lane = _lane_of(region)
    if not callable(lane):
        return _no_lane

    def quick(raw: str) -> str | None:
        e164 = lane(raw)
        if e164 is None:
            plain = raw.translate(_PLAIN_SEPARATORS)
            if plain != raw:
                e164 = lane(plain)
        return e164

    return quick


def _no_lane(raw: str) -> None:
    return None


#: Region as given → its plain lane, or False when it has none (a region code that is not one, a region whose
#: numbers need parse's rules). Bounded: a sheet's region column could hold anything.
_LANES: dict[str, Callable[[str], str | None] | bool] = {}
_MAX_LANES = 1024


def _lane_of(region: str) -> Callable[[str], str | None] | bool:
    code = region.strip().upper()
    if not region.isascii() or code not in _SUPPORTED_REGIONS:
        return False
    return plain_lane(code) or False


# --- slow path: clean up what was typed, then ask phonenumbers ------------------------------------


@dataclass(frozen=True, slots=True)
class _Cleaned:
    number: str  # "+<digits>" or "<digits>"
    extension: str


def _normalise_slow(raw: str, region: str) -> Phone | PhoneProblem:
    cleaned = _clean(raw)
    if isinstance(cleaned, PhoneProblem):
        return cleaned
    if cleaned is None:
        return _invalid(raw, region, international=False)
    e164 = _resolve(cleaned.number, region)
    if e164 is None:
        return _invalid(raw, region, international=cleaned.number.startswith("+"))
    return Phone(e164, cleaned.extension)


def _resolve(number: str, region: str) -> str | None:
    """E.164 for a cleaned number, trying "00" as an international prefix when the region does not."""
    e164 = _e164_of(number, region)
    if e164 is None and number.startswith("00"):
        e164 = _e164_of("+" + number[2:], region)
    return e164


def _e164_of(number: str, region: str) -> str | None:
    """E.164 of a cleaned number when phonenumbers says it is valid; fast path first."""
    e164 = _fast_e164(number, region)
    if e164 is None:
        return _slow_e164(number, region)
    return e164 or None


def _slow_e164(number: str, region: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def _invalid(raw: str, region: str, *, international: bool) -> PhoneProblem:
    where = "" if international else f" for region {region}"
    return PhoneProblem("invalid-phone", f"'{_shown(raw)}' is not a valid phone number{where}")


def _shown(raw: str) -> str:
    text = raw.strip()
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


# --- cleaning -------------------------------------------------------------------------------------

_SEPARATORS = str.maketrans("", "", " \t-.()/[]")
_PLAIN_SEPARATORS = str.maketrans("", "", " -()")  # these alone never change what the digits mean
_DIALABLE = re.compile(r"\+?\d{1,20}", re.ASCII)
_TRAILING_FLOAT_ZERO = re.compile(r"(\+?\d+)\.0+", re.ASCII)
_SCIENTIFIC = re.compile(r"([1-9])(?:[.,](\d*))?[eE]\+?(\d{1,3})", re.ASCII)
_EXTENSION_MARK = r"(?:\s*,?\s*(?:e?xt(?:ension|n)?|x)\.?|\s*#)"  # "x", "ext.", "extension", "#"
_EXTENSION = re.compile(_EXTENSION_MARK + r"\s*[:.=-]?\s*(\d{1,10})\s*#?\s*$", re.IGNORECASE | re.ASCII)


def _clean(raw: str) -> _Cleaned | PhoneProblem | None:
    """Reduce a typed cell to "+digits"/"digits" and an extension; None when it is not a number."""
    text = raw if raw.isascii() else _fold_unicode(raw)
    text = _unwrap_excel(text.strip())
    if text[:4].lower() == "tel:":
        text = text[4:].strip()
    if not text:
        return PhoneProblem("empty-phone", "the phone number is blank")
    parts = _split_parameters(text)
    if parts is None:
        return None
    text, extension = parts
    if "." in text or "," in text or "e" in text or "E" in text:
        unfloated = _undo_float_formatting(raw, text)
        if not isinstance(unfloated, str):
            return unfloated
        text = unfloated
    number = text.translate(_SEPARATORS)
    if not number and not extension:
        return PhoneProblem("empty-phone", "the phone number is blank")
    if not _DIALABLE.fullmatch(number):
        return None
    return _Cleaned(number, extension)


def _unwrap_excel(text: str) -> str:
    """Undo spreadsheet text tricks: leading apostrophe, ="0987...", =+91..., and surrounding quotes."""
    if text.startswith("'"):
        text = text[1:]
    elif text.startswith("="):
        text = text[1:].strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text.strip()


def _split_parameters(text: str) -> tuple[str, str] | None:
    """Split off an extension ("x123", "ext. 123", "#123") and RFC 3966 parameters (";ext=123").

    A ``phone-context`` that is a global number prefix ("+1-914-555") is prepended to the local
    number, as RFC 3966 defines; other parameters (isub, domain contexts) do not change the number.
    """
    extension = ""
    if ";" in text:
        text, *params = text.split(";")
        for param in params:
            name, _, value = param.partition("=")
            name, value = name.strip().lower(), value.strip()
            if name == "ext":
                if not value.isdigit() or not value.isascii():
                    return None
                extension = value
            elif name == "phone-context" and value.startswith("+") and not text.startswith("+"):
                text = value + text
    match = _EXTENSION.search(text) if "x" in text or "X" in text or "#" in text else None
    if match:
        if extension:
            return None
        extension, text = match[1], text[: match.start()]
    return text.strip(), extension


def _undo_float_formatting(raw: str, text: str) -> str | PhoneProblem | None:
    """Digits of a number a spreadsheet wrote as a float: "9876543210.0" or "9.876543210E+09"."""
    scientific = _SCIENTIFIC.fullmatch(text)
    if scientific:
        return _expand_scientific(raw, scientific)
    float_zero = _TRAILING_FLOAT_ZERO.fullmatch(text)
    return float_zero[1] if float_zero else text


def _expand_scientific(raw: str, match: re.Match[str]) -> str | PhoneProblem | None:
    """Digits of an Excel number shown in scientific notation, or lossy-excel-number."""
    digits = match[1] + (match[2] or "")
    length = int(match[3]) + 1
    if length > 20:
        return None
    if len(digits) < length:
        return PhoneProblem(
            "lossy-excel-number",
            f"'{_shown(raw)}' is a number Excel rounded to {len(digits)} significant digits, so the phone "
            "number cannot be recovered; format the column as text and export the sheet again",
        )
    if digits[length:].strip("0"):
        return None
    return digits[:length]


class _UnicodeFold(dict[int, str]):
    """``str.translate`` table, filled on demand: any Unicode decimal digit → ASCII digit,
    spaces and control characters → " ", invisible format characters (zero-width space, BOM, marks)
    → removed, dashes → "-"."""

    def __missing__(self, codepoint: int) -> str:
        char = chr(codepoint)
        digit = unicodedata.decimal(char, None)
        category = unicodedata.category(char)
        if digit is not None:
            folded = str(digit)
        elif category in ("Zs", "Zl", "Zp", "Cc"):
            folded = " "
        elif category == "Cf":
            folded = ""
        elif category == "Pd" or char == "\u2212":
            folded = "-"
        else:
            folded = char
        if len(self) < 4096:
            self[codepoint] = folded
        return folded


_UNICODE_FOLD = _UnicodeFold()


def _fold_unicode(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_UNICODE_FOLD)
