"""full_name: one name column split into first_name and last_name."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.errors import ConfigError
from importer.mapping import Mapping, load_mapping
from importer.mapping.names import split_full_name
from importer.models import Row


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("Arjun Lakshmi Rao", "Arjun", "Lakshmi Rao"),
        ("Arjun Rao", "Arjun", "Rao"),
        ("Rao, Arjun", "Arjun", "Rao"),
        ("Rao,Arjun", "Arjun", "Rao"),
        ("Rao, Arjun Kumar", "Arjun", "Kumar Rao"),  # the same lead as "Arjun Kumar Rao"
        ("Meena", "Meena", ""),
        ("  Meena  ", "Meena", ""),
        ("Rao,", "Rao", ""),
        ("Mr Arjun Rao", "Arjun", "Rao"),
        ("Mr. Arjun Rao", "Arjun", "Rao"),
        ("MRS. Lakshmi Iyer", "Lakshmi", "Iyer"),
        ("ms priya", "priya", ""),
        ("Dr.Arjun Rao", "Arjun", "Rao"),
        ("Shri Arjun  Lakshmi   Rao", "Arjun", "Lakshmi Rao"),
        ("smt. Lakshmi", "Lakshmi", ""),
        ("Rao, Dr. Arjun", "Arjun", "Rao"),
        ("Dr. Mr. Arjun", "Arjun", ""),
        ("Mrinal Sen", "Mrinal", "Sen"),  # a name that starts like a title is a name
        ("Drishti Shah", "Drishti", "Shah"),
        ("Smita", "Smita", ""),
        ("Dr.", "Dr.", ""),  # nothing after the title: kept, not emptied
        ("", "", ""),
    ],
)
def test_split_full_name(text: str, first: str, last: str) -> None:
    assert split_full_name(text) == (first, last)


words = st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=8).filter(
    lambda word: split_full_name(word + " x")[0] == word)  # not a title


@given(first=words, rest=st.lists(words, min_size=1, max_size=3))
def test_last_first_with_a_comma_is_the_same_as_first_then_last(first: str, rest: list[str]) -> None:
    assert split_full_name(f"{' '.join(rest)}, {first}") == (first, " ".join(rest))
    assert split_full_name(f"{first} {' '.join(rest)}") == (first, " ".join(rest))


def load(tmp_path: Path, fields: str) -> Mapping:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nfields:\n  customer_phone: Phone\n" + fields, encoding="utf-8")
    return load_mapping(path)


def test_full_name_fills_first_and_last_name(tmp_path: Path) -> None:
    mapping = load(tmp_path, "  full_name: Name\n")
    draft, issues = mapping.apply(Row(2, {"Phone": "1", "Name": "Mrs. Lakshmi Iyer"}))
    assert (draft["first_name"], draft["last_name"], issues) == ("Lakshmi", "Iyer", [])
    draft, _ = mapping.apply(Row(3, {"Phone": "1", "Name": "Meena"}))
    assert draft["first_name"] == "Meena" and "last_name" not in draft
    draft, _ = mapping.apply(Row(4, {"Phone": "1", "Name": "  "}))
    assert "first_name" not in draft and "last_name" not in draft and "full_name" not in draft


def test_full_name_from_a_template_or_several_columns(tmp_path: Path) -> None:
    mapping = load(tmp_path, '  full_name: {template: "{Surname}, {Given}"}\n')
    assert mapping.apply(Row(2, {"Phone": "1", "Surname": "Rao", "Given": "Arjun"}))[0]["last_name"] == "Rao"
    mapping = load(tmp_path, "  full_name: {columns: [Name, Contact], default: Unknown}\n")
    assert mapping.apply(Row(2, {"Phone": "1", "Name": "", "Contact": "Ravi K"}))[0]["last_name"] == "K"
    assert mapping.apply(Row(2, {"Phone": "1", "Name": "", "Contact": ""}))[0]["first_name"] == "Unknown"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("  full_name: Name\n  first_name: First\n",
         "5: fields.first_name: first_name is filled by full_name (line 4); map either full_name or "
         "first_name / last_name"),
        ("  last_name: Last\n  full_name: Name\n",
         "4: fields.last_name: last_name is filled by full_name (line 5); map either full_name or "
         "first_name / last_name"),
        ("  full_name: {value: Arjun Rao}\n", "4: fields.full_name.value: full_name reads a column, columns or a "
                                              "template"),
        ("  full_name: {column: Name, type: date}\n",
         "4: fields.full_name.type: type cannot be used with full_name (a name)"),
        ("  full_name: {column: Name, split: ';'}\n",
         "4: fields.full_name.split: split cannot be used with full_name (a name)"),
        ("  fullname: Name\n", "4: fields.fullname: unknown API field 'fullname'; did you mean 'full_name'?"),
    ],
)
def test_full_name_mapping_errors(tmp_path: Path, fields: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, fields)
    assert str(caught.value) == f"{tmp_path / 'm.yaml'}:{message}"
