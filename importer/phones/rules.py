"""The fast path of phone normalisation: digit strings read the way ``phonenumbers.parse`` reads them.

parse() spends most of its time on generic text handling; for a string of digits (with or without "+") the
decisions it takes are few and are mirrored here from the same metadata: international prefix, country code
without "+", trunk prefix, then validity (general pattern and one type pattern). Anything unusual (prefix
transform rules, shared country codes in doubt, leading zeros) returns None and goes through parse() itself.
A property test checks that the two agree. It pays: ``benchmarks/bench_phones.py`` normalises 246,000 numbers a
second on one core this way, 57,000 with ``phonenumbers.parse`` and ``is_valid_number`` alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber, PhoneNumberDesc

__all__ = ["NOT_VALID", "fast_e164", "plain_lane"]

_PLUS_DIGITS = re.compile(r"\+(\d{3,20})", re.ASCII)
_NATIONAL_DIGITS = re.compile(r"\d{2,20}", re.ASCII)
_MIN_NSN, _MAX_NSN = 2, 17
_CALLING_CODES = {str(code): code for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE}
NOT_VALID = ""  # the fast path's "parse would reject this", as opposed to None, "ask parse"
_TYPE_DESCS = (
    "mobile", "fixed_line", "toll_free", "premium_rate", "shared_cost",
    "voip", "personal_number", "pager", "uan", "voicemail",
)  # fmt: skip


_ANY_LENGTH = frozenset(range(_MAX_NSN + 1))


@dataclass(frozen=True, slots=True)
class _Desc:
    lengths: frozenset[int]  # {-1}: no number has this type
    fullmatch: Callable[[str], re.Match[str] | None]
    pattern: str


def _desc(number_desc: PhoneNumberDesc | None) -> _Desc | None:
    """Mirror of ``phonenumbers``' _is_number_matching_desc: no pattern never matches, no lengths
    means any length."""
    if number_desc is None or not number_desc.national_number_pattern:
        return None
    lengths = frozenset(number_desc.possible_length) or _ANY_LENGTH
    pattern = number_desc.national_number_pattern
    return _Desc(lengths, re.compile(pattern).fullmatch, pattern)


@dataclass(frozen=True, slots=True)
class _Validity:
    """``is_valid_number`` for one calling code; shared codes (+1, +44, +7...) ask phonenumbers."""

    code: int
    general: _Desc | None
    types: tuple[_Desc, ...]

    def is_valid(self, nsn: str) -> bool:
        general = self.general
        if general is None:
            return phonenumbers.is_valid_number(PhoneNumber(country_code=self.code, national_number=int(nsn)))
        size = len(nsn)
        if size not in general.lengths or general.fullmatch(nsn) is None:
            return False
        for desc in self.types:  # valid when any type matches (phonenumbers' type is not UNKNOWN)
            if size in desc.lengths and desc.fullmatch(nsn) is not None:
                return True
        return False


@cache
def _validity(code: int) -> _Validity:
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
    metadata = PhoneMetadata.metadata_for_region(regions[0])
    if len(regions) > 1 or metadata is None:
        return _Validity(code, None, ())
    types = tuple(desc for name in _TYPE_DESCS if (desc := _desc(getattr(metadata, name))) is not None)
    return _Validity(code, _desc(metadata.general_desc), types)


@dataclass(frozen=True, slots=True)
class _RegionRules:
    """The parts of one region's metadata that ``parse`` consults for a string of digits."""

    code: int
    is_main: bool  # the main region of its calling code (parse switches to that one's rules)
    general: re.Pattern[str] | None
    lengths: tuple[int, ...]
    local_lengths: tuple[int, ...]
    trunk: re.Pattern[str] | None  # national_prefix_for_parsing
    transforms: bool  # has a national_prefix_transform_rule: not mirrored
    idd: re.Pattern[str] | None

    def viable(self, number: str) -> bool:
        return self.general is not None and self.general.fullmatch(number) is not None

    def length_verdict(self, number: str) -> str:
        """Mirror of ``_test_number_length`` for the general description."""
        size = len(number)
        if size in self.local_lengths:
            return "local-only"
        if size == self.lengths[0]:
            return "possible"
        if size < self.lengths[0]:
            return "too-short"
        if size > self.lengths[-1]:
            return "too-long"
        return "possible" if size in self.lengths[1:] else "invalid-length"

    def strip_trunk(self, number: str) -> str:
        """Mirror of ``_maybe_strip_national_prefix_carrier_code`` without transform rules."""
        match = self.trunk.match(number) if self.trunk is not None and number else None
        if match is None:
            return number
        stripped = number[match.end() :]
        return number if self.viable(number) and not self.viable(stripped) else stripped

    def after_trunk(self, national: str) -> str:
        """The national number parse keeps: trunk prefix dropped when the rest has a possible length."""
        stripped = self.strip_trunk(national)
        if stripped is national:
            return national
        return stripped if self.length_verdict(stripped) in ("possible", "too-long") else national


def _pattern(pattern: str | None) -> re.Pattern[str] | None:
    return re.compile(pattern) if pattern else None


@cache
def _region_rules(region: str) -> _RegionRules | None:
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None or not metadata.country_code or not metadata.general_desc:
        return None
    general = metadata.general_desc
    return _RegionRules(
        code=metadata.country_code,
        is_main=phonenumbers.region_code_for_country_code(metadata.country_code) == region,
        general=_pattern(general.national_number_pattern),
        lengths=tuple(general.possible_length),
        local_lengths=tuple(general.possible_length_local_only),
        trunk=_pattern(metadata.national_prefix_for_parsing),
        transforms=bool(metadata.national_prefix_transform_rule),
        idd=_pattern(metadata.international_prefix),
    )


@cache
def _main_region_rules(code: int) -> _RegionRules | None:
    return _region_rules(phonenumbers.region_code_for_country_code(code))


def plain_lane(region: str) -> Callable[[str], str | None] | None:
    """The region's common cases in one step, or None when the region has no lane. ``region``: an upper-case
    region code. The lane returns the E.164 of a valid number written one of three ways, else None (the caller
    then takes the usual path, which finds the same answer or explains the problem):

    - bare national digits: no international prefix, no trunk prefix, no leading 0 ("9876543210");
    - the trunk prefix, then such digits ("09876543210"), when the trunk prefix is plain digits;
    - "+", the region's calling code, then such digits ("+919876543210").

    Each is what :func:`fast_e164` decides for such text, in fewer steps: the national number has one of the
    region's possible lengths (not a local-only one), and one pattern made of the general pattern and the type
    patterns of that length checks its validity in one fullmatch. A property test holds the lane to
    ``phonenumbers`` as it holds :func:`fast_e164`.

    It pays: a checking process of ``benchmarks/bench_validate.py`` spent 4.4 µs on each of its 1.4 numbers a row
    through :func:`fast_e164` and its checks one by one (3.1 µs of it there); the lane takes 0.4–0.6 µs."""
    return _plain_lane(region)


@cache
def _plain_lane(region: str) -> Callable[[str], str | None] | None:
    metadata = PhoneMetadata.metadata_for_region(region)
    rules = _region_rules(region)
    if metadata is None or rules is None or rules.transforms or not rules.is_main:
        return None
    validity = _validity(rules.code)
    if validity.general is None:
        return None
    general = metadata.general_desc.national_number_pattern
    trunk = metadata.national_prefix_for_parsing or ""
    # National digits: ASCII digits only (checked first, so the patterns' \d reads them alike either way), not
    # starting with the international prefix, the trunk prefix or 0; then the general pattern and the type
    # patterns of the length, all in one fullmatch (two before: ``benchmarks/bench_phones.py``'s sheet mix at
    # 475,370 numbers/s instead of 450,704).
    national = "(?=[0-9]+\\Z)" + "".join(f"(?!(?:{pattern}))" for pattern in
                                        (metadata.international_prefix or "", trunk, "0") if pattern)
    by_length: dict[int, Callable[[str], re.Match[str] | None]] = {}
    for size in validity.general.lengths & frozenset(rules.lengths):
        types = [desc.pattern for desc in validity.types if size in desc.lengths]
        if _MIN_NSN <= size <= _MAX_NSN and types and rules.length_verdict("1" * size) == "possible":
            either = "|".join(f"(?:{pattern})" for pattern in types)
            by_length[size] = re.compile(f"{national}(?=(?:{general})\\Z)(?:{either})").fullmatch
    code = str(rules.code)
    if not trunk.isdigit() or not trunk.isascii() or trunk.startswith(code) or code.startswith(trunk):
        trunk = ""  # a pattern, or one that reads like the calling code: no trunk lane
    idd = rules.idd.match if rules.idd is not None else None
    plus = f"+{code}"
    get = by_length.get

    def lane(text: str) -> str | None:
        if text[:1] == "+":
            digits = text[len(plus):] if text.startswith(plus) else ""
            e164 = text
        elif trunk and text.startswith(trunk):
            if idd is not None and idd(text) is not None:  # "01…" is Israel's international prefix
                return None
            digits = text[len(trunk):]
            e164 = plus + digits
        else:
            digits = text
            e164 = plus + text
        valid = get(len(digits))
        if valid is not None and valid(digits) is not None:
            return e164
        return None

    return lane


def fast_e164(text: str, region: str) -> str | None:
    """E.164 for "+<digits>" or bare digits, ``NOT_VALID`` when parse would certainly reject them,
    None when unsure (ask parse)."""
    if text[:1] == "+":
        match = _PLUS_DIGITS.fullmatch(text)
        return _fast_international(match[1]) if match else None
    return _fast_national(text, region) if _NATIONAL_DIGITS.fullmatch(text) else None


def _fast_international(digits: str) -> str | None:
    """Digits after "+" (or after an international prefix)."""
    for size in (1, 2, 3):
        code = _CALLING_CODES.get(digits[:size], 0)
        if code:
            break
    else:
        return None  # includes a leading 0: parse retries such numbers as national ones
    rules = _main_region_rules(code)
    nsn = digits[size:]
    if rules is None or rules.transforms or len(nsn) < _MIN_NSN:
        return None
    return _valid_e164(code, rules.after_trunk(nsn))


def _fast_national(number: str, region: str) -> str | None:
    rules = _region_rules(region)
    if rules is None or rules.transforms:
        return None
    idd = rules.idd.match(number) if rules.idd is not None else None
    if idd is not None:
        rest = number[idd.end() :]
        return _fast_international(rest) if len(rest) > _MIN_NSN and rest[0] != "0" else None
    national = number
    code = str(rules.code)
    if number.startswith(code):
        stripped = rules.strip_trunk(number[len(code) :])
        better = not rules.viable(number) and rules.viable(stripped)
        if better or rules.length_verdict(number) == "too-long":
            if not rules.is_main:
                return None
            national = stripped
    if len(national) < _MIN_NSN:
        return None
    return _valid_e164(rules.code, rules.after_trunk(national))


def _valid_e164(code: int, nsn: str) -> str | None:
    """E.164 or ``NOT_VALID`` for the national number parse settled on; None for leading zeros."""
    if not _MIN_NSN <= len(nsn) <= _MAX_NSN:
        return NOT_VALID  # parse raises "too short" / "too long"
    if nsn[0] == "0":
        return None  # parse keeps leading zeros apart ("Italian leading zero"): let it
    return f"+{code}{nsn}" if _validity(code).is_valid(nsn) else NOT_VALID
