"""The value helpers the mapping (and ``mapping suggest``) rely on: numbers, booleans, e-mail, templates."""

from __future__ import annotations

import math
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.mapping.amounts import parse_number
from importer.mapping.values import OMIT, Template, ValueMap, fold, is_email, parse_bool


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,34,567", 1234567),
        ("1,234,567.5", 1234567.5),
        ("₹\u00a050,000", 50000),
        ("1\u202f234", 1234),
        ("INR 12", 12),
        ("€ 3.5", 3.5),
        (".5", 0.5),
        ("$-5", -5),
        ("1,50", None),
        ("1,5", None),
        (",000", None),
        ("--5", None),
        ("1e5,000", None),
        ("₹₹5", None),
        ("rs", None),
        ("", None),
        ("   ", None),
    ],
)
def test_parse_number(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_parse_number_reads_back_python_floats(value: float) -> None:
    assert parse_number(repr(value)) == value


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_parse_number_reads_grouped_integers(value: int) -> None:
    assert parse_number(f"{value:,}") == value
    assert parse_number(f"₹ {value:,}/-") == value


@given(st.text(max_size=20))
def test_parse_number_is_finite_or_none(text: str) -> None:
    result = parse_number(text)
    assert result is None or math.isfinite(result)


def test_parse_bool() -> None:
    assert [parse_bool(text) for text in ("TRUE", "Yes", "y", "1", "false", "NO", "n", "0", "maybe", "")] == [
        True, True, True, True, False, False, False, False, None, None,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("x.y+z@mail.example.co.in", True),
        ("a@b.com", True),
        ("a@b", False),
        ("a b@c.com", False),
        ("@b.com", False),
        ("a@@b.com", False),
        ("a@b..com", False),
        ("a@.b.com", False),
        ("a@b.com.", False),
        ("a@b.com\n", False),
    ],
)
def test_is_email(text: str, valid: bool) -> None:
    assert is_email(text) is valid


def test_template_columns_and_escapes() -> None:
    template = Template.parse("{{ {A} }} {B.c} {A}")
    assert template.columns == ("A", "B.c")
    assert template.render({"A": "1", "B.c": "2"}) == "{ 1 } 2 1"


def test_value_map_prefers_exact_keys() -> None:
    table = ValueMap({"New": "A", " Won ": None})
    assert table.get("New", OMIT) == "A"
    assert table.get("n e w", OMIT) == "A"
    assert table.get("WON", OMIT) is None
    assert table.get("Lost", OMIT) is OMIT
    assert ValueMap({"a": "x", "A": "x"}).conflicts() is None
    assert ValueMap({"a": "x", "A": "y"}).conflicts() == ("a", "A")


def test_fold_and_omit() -> None:
    assert fold(" Lead  Stage ") == "leadstage"
    assert pickle.loads(pickle.dumps(OMIT)) is OMIT
