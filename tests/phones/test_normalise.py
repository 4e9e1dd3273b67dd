"""Table tests for importer.phones.normalise: every shape people type, with exact E.164 and exact codes."""

from __future__ import annotations

import dataclasses

import pytest

from importer.phones.normalise import Phone, PhoneProblem, is_e164, normalise_phone

MOBILE = "+919876543210"


@pytest.mark.parametrize(
    "raw",
    [
        "+919876543210",
        "9876543210",
        "09876543210",
        "919876543210",
        "+91 98765 43210",
        "+91-98765-43210",
        "+91.98765.43210",
        "(+91) 98765 43210",
        "+91 (0) 98765 43210",
        "+9109876543210",
        "098765/43210",
        "[98765] 43210",
        "(987) 654-3210",
        "0091 98765 43210",
        "0091-9876543210",
        "tel:+91-98765-43210",
        "tel:9876543210",
        "TEL:+919876543210",
        "'09876543210",
        "'+919876543210",
        '="09876543210"',
        '="+91 98765 43210"',
        "=+919876543210",
        '"9876543210"',
        "９８７６５４３２１０",
        "＋９１ ９８７６５ ４３２１０",
        "٩٨٧٦٥٤٣٢١٠",
        "۹۸۷۶۵۴۳۲۱۰",
        "९८७६५४३२१०",
        "98765\u00a043210",
        "98765\u202f43210",
        "98765\u200943210",
        "\u200b9876543210\ufeff",
        "+91\u200d9876543210",
        "98765\u201343210",
        "  9876543210\t",
        "9876543210.0",
        "919876543210.0",
        "9.876543210E+09",
        "9,876543210E+09",
        "9.19876543210E+11",
        "9.876543210e9",
    ],
)
def test_indian_mobile_in_any_shape(raw: str) -> None:
    assert normalise_phone(raw, "IN") == Phone(MOBILE)


@pytest.mark.parametrize(
    ("raw", "extension"),
    [
        ("9876543210 x123", "123"),
        ("9876543210x123", "123"),
        ("9876543210 X 123", "123"),
        ("9876543210 ext. 123", "123"),
        ("9876543210 ext 123", "123"),
        ("9876543210 Ext: 45", "45"),
        ("9876543210 extension 7", "7"),
        ("+91 98765 43210 #123", "123"),
        ("9876543210#123", "123"),
        ("9876543210;ext=123", "123"),
        ("tel:+91-98765-43210;ext=42", "42"),
        ("+91 98765 43210, ext. 9", "9"),
    ],
)
def test_extension_is_kept_apart(raw: str, extension: str) -> None:
    assert normalise_phone(raw, "IN") == Phone(MOBILE, extension)


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("2015550123", "US", "+12015550123"),
        ("(201) 555-0123", "us", "+12015550123"),
        ("1-201-555-0123", "US", "+12015550123"),
        ("011 91 98765 43210", "US", MOBILE),
        ("0044 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 (0)20 7946 0958", "IN", "+442079460958"),
        ("07400 123456", "gb", "+447400123456"),
        ("0011 44 20 7946 0958", "AU", "+442079460958"),
        ("030 123456", "DE", "+4930123456"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("02 1234 5678", "IT", "+390212345678"),
        ("+39 02 1234 5678", "IN", "+390212345678"),
        ("8123 4567", "SG", "+6581234567"),
        ("tel:555-0123;phone-context=+1-201", "IN", "+12015550123"),
    ],
)
def test_other_regions(raw: str, region: str, e164: str) -> None:
    assert normalise_phone(raw, region) == Phone(e164)


def test_default_region_is_india() -> None:
    assert normalise_phone("9876543210") == Phone(MOBILE)


@pytest.mark.parametrize("raw", ["", "   ", "\u00a0", "\u200b", "'", '=""', "tel:", "-", "( )", "\t\n"])
def test_blank_after_cleaning_is_empty_phone(raw: str) -> None:
    result = normalise_phone(raw, "IN")
    assert isinstance(result, PhoneProblem)
    assert result.code == "empty-phone"


def test_none_is_empty_phone() -> None:
    assert isinstance(normalise_phone(None), PhoneProblem)
    assert normalise_phone(None).code == "empty-phone"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "raw",
    [
        "98765",
        "98765432",
        "987654321012",
        "0000000000",
        "+91987654321",
        "+9198765432101",
        "N/A",
        "n/a",
        "call me",
        "none",
        "98765 43210 call after 6",
        "+91 98765 4321O",
        "1-800-FLOWERS",
        "++919876543210",
        "9876543210+",
        "98765,43210",
        "+0919876543210",
        "+999 12345678",
        "9.8765432101E+09",
        "x123",
    ],
)
def test_not_a_valid_number_is_invalid_phone(raw: str) -> None:
    result = normalise_phone(raw, "IN")
    assert isinstance(result, PhoneProblem)
    assert result.code == "invalid-phone"
    assert repr(raw.strip()).strip("'\"") in result.message


def test_invalid_phone_message_names_the_region_for_national_numbers() -> None:
    assert normalise_phone("98765", "IN") == PhoneProblem(
        "invalid-phone", "'98765' is not a valid phone number for region IN"
    )
    assert normalise_phone("12345", "us") == PhoneProblem(
        "invalid-phone", "'12345' is not a valid phone number for region US"
    )


def test_invalid_phone_message_omits_the_region_when_a_country_code_was_given() -> None:
    assert normalise_phone("+91 98765", "IN") == PhoneProblem(
        "invalid-phone", "'+91 98765' is not a valid phone number"
    )


def test_possible_but_not_valid_is_invalid() -> None:
    # Both have the length of a North American number, but area codes 200 and 555 are not in use.
    for raw in ("+1 200 555 0123", "5555550123"):
        result = normalise_phone(raw, "US")
        assert isinstance(result, PhoneProblem) and result.code == "invalid-phone"


def test_long_raw_values_are_shortened_in_messages() -> None:
    raw = "call me " * 20
    result = normalise_phone(raw, "IN")
    assert isinstance(result, PhoneProblem)
    assert len(result.message) < 100
    assert result.message.startswith("'call me call me")


@pytest.mark.parametrize("raw", ["9.87654E+09", "9.87654e+09", "9,87654E+09", "9.8765432E+09", "9.19877E+11", "1E+10"])
def test_rounded_excel_number_is_lossy(raw: str) -> None:
    result = normalise_phone(raw, "IN")
    assert isinstance(result, PhoneProblem)
    assert result.code == "lossy-excel-number"
    assert raw in result.message
    assert "Excel" in result.message
    assert "as text" in result.message


def test_lossy_message_counts_the_significant_digits() -> None:
    result = normalise_phone("9.87654E+09", "IN")
    assert isinstance(result, PhoneProblem)
    assert "6 significant digits" in result.message


@pytest.mark.parametrize("region", ["XX", "India", "", "zz", "001", "I N", "ß"])
def test_unknown_region_is_invalid_region(region: str) -> None:
    result = normalise_phone("9876543210", region)
    assert isinstance(result, PhoneProblem)
    assert result.code == "invalid-region"
    assert repr(region).strip("'") in result.message


def test_non_string_region_is_invalid_region() -> None:
    result = normalise_phone("9876543210", None)  # type: ignore[arg-type]
    assert isinstance(result, PhoneProblem) and result.code == "invalid-region"


def test_region_is_case_insensitive_and_trimmed() -> None:
    assert normalise_phone("9876543210", "in") == normalise_phone("9876543210", " IN ") == Phone(MOBILE)


def test_country_code_without_plus_only_for_the_default_region() -> None:
    assert normalise_phone("919876543210", "IN") == Phone(MOBILE)
    assert normalise_phone("12015550123", "US") == Phone("+12015550123")
    result = normalise_phone("919876543210", "US")
    assert isinstance(result, PhoneProblem) and result.code == "invalid-phone"


@pytest.mark.parametrize(("raw", "e164"), [(9876543210, MOBILE), (9876543210.0, MOBILE), (919876543210, MOBILE)])
def test_numbers_from_spreadsheet_readers(raw: object, e164: str) -> None:
    assert normalise_phone(raw) == Phone(e164)


def test_results_are_frozen_slotted_dataclasses() -> None:
    phone = Phone(MOBILE)
    problem = PhoneProblem("invalid-phone", "x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        phone.e164 = "+12015550123"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.code = "empty-phone"  # type: ignore[misc]
    assert not hasattr(phone, "__dict__") and not hasattr(problem, "__dict__")
    assert phone.extension == ""


def test_repeated_values_come_from_the_cache() -> None:
    first = normalise_phone("098765 43210 ext. 12", "IN")  # not a plain lane's shape: the cached checks
    assert normalise_phone("098765 43210 ext. 12", "IN") is first
    assert normalise_phone("098765 43210", "IN") == Phone("+919876543210")  # the lane: made anew, as cheap


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+919876543210", True),
        ("+12015550123", True),
        ("+442079460958", True),
        ("919876543210", False),
        ("+91 98765 43210", False),
        ("+91-9876543210", False),
        ("+91987654321", False),
        ("+9198765432101", False),
        ("+9109876543210", False),
        ("+919876543210\n", False),
        (" +919876543210", False),
        ("+12005550123", False),
        ("", False),
        (None, False),
        (919876543210, False),
        ("+９１９８７６５４３２１０", False),
    ],
)
def test_is_e164_accepts_only_the_strict_canonical_form(value: object, expected: bool) -> None:
    assert is_e164(value) is expected


@pytest.mark.parametrize(
    "raw",
    ["\udc80", "\x00", b"9876543210", float("nan"), float("inf"), 1e300, "9" * 10_000, "+" + "9" * 300,
     "1E+999", "9.8E+99", "x" * 5000 + "9", "٩" * 50, "𝟘𝟙", "①②③", "9876543210;ext=", ";;;", "=", '"', "+",
     "00", "+0", "+00", "tel:+", "#", "ext 12", "9876543210 x 1 x 2", object()],
)  # fmt: skip
def test_odd_inputs_give_a_problem_not_an_exception(raw: object) -> None:
    result = normalise_phone(raw, "IN")
    assert isinstance(result, PhoneProblem)
    assert result.code in {"empty-phone", "invalid-phone"}


def test_cache_is_bounded() -> None:
    from importer.phones.normalise import _normalise_cached

    assert _normalise_cached.cache_info().maxsize == 1024
