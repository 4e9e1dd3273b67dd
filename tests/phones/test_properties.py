"""Property tests for importer.phones.normalise: formatting noise never changes the number, nothing raises,
and the fast path never disagrees with phonenumbers.parse."""

from __future__ import annotations

import random
import re

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from importer.phones.normalise import (
    Phone,
    PhoneProblem,
    _fast_e164,
    _normalise_slow,
    _slow_e164,
    is_e164,
    normalise_phone,
    normalise_phone_text,
    quick_e164,
)
from importer.phones.rules import plain_lane

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Regions whose international prefix is "00", so "00<country code>..." means what it says.
NOISE_REGIONS = ("IN", "GB", "DE", "FR", "SG", "AE", "ZA", "NG", "BR", "ES", "NL", "AU", "US", "JP")
NOISE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE)


def _examples() -> list[tuple[str, phonenumbers.PhoneNumber]]:
    found = []
    for region in NOISE_REGIONS:
        for number_type in NOISE_TYPES:
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is not None and phonenumbers.is_valid_number(example):
                found.append((region, example))
    return found


EXAMPLES = _examples()
DIGIT_SCRIPTS = ("0123456789", "０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "০১২৩৪৫৬৭৮৯")
SEPARATORS = (" ", "-", ".", "/", "\u00a0", "\u202f", "\u2009", "\u200b", "\u2013", "  ")


@st.composite
def indian_mobiles(draw: st.DrawFn) -> tuple[str, phonenumbers.PhoneNumber]:
    national = draw(st.integers(6_000_000_000, 9_999_999_999))
    number = phonenumbers.PhoneNumber(country_code=91, national_number=national)
    assume(phonenumbers.is_valid_number(number))
    return "IN", number


def _written(draw: st.DrawFn, region: str, number: phonenumbers.PhoneNumber) -> str:
    """The number as digits someone would type: international, national, or with 00 / bare country code."""
    cc, nsn = str(number.country_code), phonenumbers.national_significant_number(number)
    home = phonenumbers.region_code_for_number(number) == region
    forms = ["+" + cc + nsn, "+" + cc + " " + nsn]
    if home:
        national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        forms += [national, phonenumbers.normalize_digits_only(national)]
    if region not in ("US", "JP", "AU"):  # "00" is their international prefix only in the others
        forms.append("00" + cc + nsn)
    if home and region == "IN":
        forms.append(cc + nsn)
    return draw(st.sampled_from(forms))


def _add_separators(draw: st.DrawFn, text: str) -> str:
    out = []
    for index, char in enumerate(text):
        out.append(char)
        if char.isdigit() and index < len(text) - 1 and draw(st.booleans()):
            out.append(draw(st.sampled_from(SEPARATORS)))
    written = "".join(out)
    # "06000.000000" reads as a number a spreadsheet wrote with decimals ("9876543210.0"): not noise
    assume(not re.search(r"\.[0\s\u00a0\u202f\u2009\u200b\u2013-]*$", written))
    return written


def _bracket_a_group(draw: st.DrawFn, text: str) -> str:
    parts = text.split(" ")
    if len(parts) < 2:
        return text
    index = draw(st.integers(0, len(parts) - 2))
    parts[index] = f"({parts[index]})"
    return " ".join(parts)


def _wrap(draw: st.DrawFn, text: str) -> str:
    plain_digits = text.lstrip("+").isdigit() and text.isascii()
    wrappers = ["{}", " {} ", "tel:{}", "'{}", '="{}"', "\u200b{}\ufeff"]
    if text.startswith("+"):
        wrappers.append("={}")
    if plain_digits:
        wrappers.append("{}.0")
    return draw(st.sampled_from(wrappers)).format(text)


@st.composite
def noisy_numbers(draw: st.DrawFn) -> tuple[str, str, str]:
    """(region, expected E.164, text a person or a spreadsheet might have produced)."""
    region, number = draw(st.one_of(st.sampled_from(EXAMPLES), indian_mobiles()))
    text = _written(draw, region, number)
    if draw(st.booleans()):
        text = _bracket_a_group(draw, text)
    if draw(st.booleans()):
        text = _add_separators(draw, text)
    if draw(st.booleans()):
        text = text.translate(str.maketrans("0123456789", draw(st.sampled_from(DIGIT_SCRIPTS))))
    return region, phonenumbers.format_number(number, PhoneNumberFormat.E164), _wrap(draw, text)


@PROPERTY_SETTINGS
@given(noisy_numbers())
def test_formatting_noise_never_changes_the_number(case: tuple[str, str, str]) -> None:
    region, e164, text = case
    assert normalise_phone(text, region) == Phone(e164)


@PROPERTY_SETTINGS
@given(st.text(), st.sampled_from(["IN", "us", "GB", "XX", "", " in "]))
def test_never_raises_on_arbitrary_text(raw: str, region: str) -> None:
    result = normalise_phone(raw, region)
    assert isinstance(result, Phone | PhoneProblem)
    if isinstance(result, Phone):
        assert is_e164(result.e164)
        assert normalise_phone(result.e164, region) == Phone(result.e164)
    else:
        assert result.code in {"empty-phone", "invalid-phone", "lossy-excel-number", "invalid-region"}


@PROPERTY_SETTINGS
@given(st.text(alphabet="0123456789+-.() xX#;=extEe'\"\u00a0", max_size=30), st.sampled_from(["IN", "US"]))
def test_never_raises_on_phone_like_text(raw: str, region: str) -> None:
    result = normalise_phone(raw, region)
    if isinstance(result, Phone):
        assert is_e164(result.e164)
    else:
        assert result.code in {"empty-phone", "invalid-phone", "lossy-excel-number"}


# --- fast path against parse ---------------------------------------------------------------------

ALL_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
PREFIXES = ("", "0", "00", "000", "1", "8", "9", "01", "011", "0011", "810", "+", "+0")


@st.composite
def digit_strings(draw: st.DrawFn) -> tuple[str, str]:
    """(region, "digits" or "+digits") built from country codes, prefixes and example numbers."""
    region = draw(st.sampled_from(ALL_REGIONS))
    cc = str(phonenumbers.country_code_for_region(region))
    example = phonenumbers.example_number_for_type(region, draw(st.sampled_from(NOISE_TYPES)))
    body = draw(
        st.one_of(
            st.text(alphabet="0123456789", min_size=1, max_size=17),
            st.just(phonenumbers.national_significant_number(example) if example else "12345"),
        )
    )
    if draw(st.booleans()) and len(body) > 3:
        position = draw(st.integers(0, len(body) - 1))
        body = body[:position] + draw(st.sampled_from("0123456789")) + body[position + 1 :]
    prefix = draw(st.sampled_from(PREFIXES + (cc, "0" + cc, "+" + cc, "00" + cc, "+" + cc + "0")))
    return region, prefix + body


@settings(max_examples=500, deadline=None)
@given(digit_strings())
def test_fast_path_agrees_with_parse(case: tuple[str, str]) -> None:
    region, text = case
    fast = _fast_e164(text, region)
    if fast is not None:
        assert (fast or None) == _slow_e164(text, region)


@pytest.mark.parametrize("region", ALL_REGIONS)
def test_fast_path_agrees_with_parse_on_every_example_number(region: str) -> None:
    cc = str(phonenumbers.country_code_for_region(region))
    for number_type in phonenumbers.PhoneNumberType.values():
        example = phonenumbers.example_number_for_type(region, number_type)
        if example is None:
            continue
        nsn = phonenumbers.national_significant_number(example)
        national = phonenumbers.normalize_digits_only(phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL))
        shapes = [nsn, national, "0" + nsn, cc + nsn, cc + "0" + nsn, "00" + cc + nsn, "011" + cc + nsn]
        shapes += ["+" + cc + nsn, "+" + cc + "0" + nsn, "+" + cc + national, nsn[:-1], nsn + "1"]
        for text in shapes:
            fast = _fast_e164(text, region)
            if fast is not None:
                assert (fast or None) == _slow_e164(text, region), text


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("+919876543210", "IN"),
        ("9876543210", "IN"),
        ("09876543210", "IN"),
        ("919876543210", "IN"),
        ("00919876543210", "IN"),
        ("+12015550123", "IN"),
        ("2015550123", "US"),
        ("+442079460958", "IN"),
        ("02079460958", "GB"),
    ],
)
def test_common_shapes_take_the_fast_path(text: str, region: str) -> None:
    assert _fast_e164(text, region) == _slow_e164(text, region) is not None


def test_fast_path_agrees_with_parse_on_mutated_examples() -> None:
    """Seeded sweep: every region, example numbers with a digit changed, written in five ways."""
    rng = random.Random(20240601)
    fast_answers = 0
    for region in ALL_REGIONS:
        cc = str(phonenumbers.country_code_for_region(region))
        example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        if example is None:
            continue
        nsn = phonenumbers.national_significant_number(example)
        for _ in range(10):
            position = rng.randrange(len(nsn))
            body = nsn[:position] + rng.choice("0123456789") + nsn[position + 1 :]
            for text in (body, "0" + body, cc + body, "00" + cc + body, "+" + cc + body):
                fast = _fast_e164(text, region)
                if fast:
                    fast_answers += 1
                if fast is not None:
                    assert (fast or None) == _slow_e164(text, region), (region, text)
    assert fast_answers > 2000  # the fast path does answer most of these


@PROPERTY_SETTINGS
@given(
    st.text(alphabet="0123456789+-() .", min_size=1, max_size=20)
    | st.from_regex(r"\+?9?1? ?[6-9]\d{4}[ -]?\d{5}", fullmatch=True),
    st.sampled_from(["IN", "US", "GB", "DE", "JP"]),
)
def test_shortcuts_agree_with_the_full_clean_up(raw: str, region: str) -> None:
    slow = _normalise_slow(raw, region)
    assert normalise_phone(raw, region) == slow == normalise_phone_text(raw, region)
    if quick_e164(raw, region) is not None:
        assert Phone(quick_e164(raw, region)) == slow  # type: ignore[arg-type]


def test_fast_path_reads_only_ascii_digits() -> None:
    for text in ("٩٨٧٦٥٤٣٢١٠", "+٩١٩٨٧٦٥٤٣٢١٠", "９８７６５４３２１０", "+91９８７６５４３２１０"):
        assert _fast_e164(text, "IN") is None


# --- the plain lane against parse -----------------------------------------------------------------


def _lane_agrees(region: str, text: str) -> bool:
    """The region's lane answers ``text`` as parse does (or does not answer); True when it answered."""
    lane = plain_lane(region)
    answer = lane(text) if lane is not None else None
    if answer is not None:
        assert answer == _slow_e164(text, region), (region, text)
    return answer is not None


@settings(max_examples=500, deadline=None)
@given(digit_strings())
def test_the_plain_lane_agrees_with_parse(case: tuple[str, str]) -> None:
    _lane_agrees(*case)


def test_the_plain_lane_agrees_with_parse_on_every_region() -> None:
    """Every region, its example numbers of every type and mutated mobiles, written in the shapes the lane takes
    and in others it must leave to the usual path."""
    rng = random.Random(20261206)
    answered = 0
    for region in ALL_REGIONS:
        cc = str(phonenumbers.country_code_for_region(region))
        bodies = []
        for number_type in phonenumbers.PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is not None:
                bodies.append(phonenumbers.national_significant_number(example))
        for nsn in list(bodies):
            for _ in range(5):
                position = rng.randrange(len(nsn))
                bodies.append(nsn[:position] + rng.choice("0123456789") + nsn[position + 1 :])
        for body in bodies:
            for text in (body, "0" + body, "1" + body, "8" + body, cc + body, "00" + cc + body, "+" + cc + body,
                         "+" + cc + "0" + body, body[:-1], body + "1"):
                answered += _lane_agrees(region, text)
    assert answered > 3000  # the lane does answer most regions' common shapes


@pytest.mark.parametrize(
    ("text", "region", "e164"),
    [
        ("9876543210", "IN", "+919876543210"),
        ("09876543210", "IN", "+919876543210"),
        ("+919876543210", "IN", "+919876543210"),
        ("+91 98765 43210", "IN", "+919876543210"),
        ("98765-43210", "IN", "+919876543210"),
        ("9198765432", "IN", "+919198765432"),  # starts with the calling code, yet a national number
        ("0 98765 43210", "IN", "+919876543210"),
        ("(0) 98765 43210", "IN", "+919876543210"),
    ],
)
def test_the_common_shapes_take_the_lane(text: str, region: str, e164: str) -> None:
    assert quick_e164(text, region) == e164 == _normalise_slow(text, region).e164  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("919876543210", "IN"),  # the calling code without "+": parse's rules decide
        ("00919876543210", "IN"),  # the international prefix
        ("+12015550123", "IN"),  # another country
        ("98765", "IN"),  # too short
        ("5234567890", "IN"),  # not a valid number: the usual path explains why
        ("02079460958", "GB"),  # GB's trunk prefix is a pattern: no trunk lane
        ("2015550123", "US"),  # +1 is shared by many regions: no lane
        ("9876543210", "XX"),  # not a region
        ("9876543210 x12", "IN"),  # an extension
    ],
)
def test_other_shapes_leave_the_lane_and_get_the_same_answer(text: str, region: str) -> None:
    assert quick_e164(text, region) is None
    assert normalise_phone_text(text, region) == normalise_phone(text, region)


def test_regions_remembered_are_bounded(monkeypatch) -> None:
    from importer.phones import normalise

    monkeypatch.setattr(normalise, "_LANES", {})
    monkeypatch.setattr(normalise, "_MAX_LANES", 3)
    expected = {"IN": "+919876543210", "in": "+919876543210", " IN": "+919876543210", "XX": None,
                "DE": "+499876543210", "GB": None}
    for region, e164 in expected.items():
        assert quick_e164("9876543210", region) == e164
    assert len(normalise._LANES) == 3
    assert quick_e164("9876543210", "in ") == "+919876543210"  # beyond the bound: found, not remembered
    assert len(normalise._LANES) == 3
