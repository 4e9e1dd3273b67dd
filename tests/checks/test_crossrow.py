"""Cross-row checks: duplicate customer phones (--on-duplicate) and phones claimed by two rows."""

from __future__ import annotations

import itertools
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.checks.crossrow import CrossRowIndex, PhoneClaims

A, B, C, D = "+919845012345", "+919845054321", "+919900012345", "+919740011223"


def index_of(rows: list[tuple[int, tuple[str, ...]]], on_duplicate: str = "last") -> CrossRowIndex:
    index = CrossRowIndex(on_duplicate, "Phone", "Mobile")  # type: ignore[arg-type]
    for row, phones in rows:
        index.add(row, phones)
    return index


def test_distinct_rows_raise_nothing() -> None:
    verdicts = index_of([(2, (A,)), (3, (B, C)), (4, (D,))]).finish()
    assert verdicts.skipped == set() and verdicts.invalid == set() and verdicts.issues == {}


@pytest.mark.parametrize(("policy", "kept", "skipped"), [("last", 7, {2, 5}), ("first", 2, {5, 7})])
def test_duplicates_keep_one_row_and_warn_on_every_row(policy: str, kept: int, skipped: set[int]) -> None:
    verdicts = index_of([(2, (A,)), (3, (B,)), (5, (A,)), (7, (A, C))], policy).finish()
    assert verdicts.skipped == skipped
    assert verdicts.invalid == set()
    assert sorted(verdicts.issues) == [2, 5, 7]
    for row in (2, 5, 7):
        (issue,) = verdicts.issues[row]
        assert issue.code == "duplicate-phone" and issue.severity == "warning" and issue.column == "Phone"
        assert "rows 2, 5, 7" in issue.message
    assert "this row is sent" in verdicts.issues[kept][0].message


def test_duplicates_with_error_policy_invalidate_every_row() -> None:
    verdicts = index_of([(2, (A,)), (3, (B,)), (4, (A,))], "error").finish()
    assert verdicts.invalid == {2, 4} and verdicts.skipped == set()
    assert all(verdicts.issues[r][0].severity == "error" for r in (2, 4))


def test_add_phone_owned_by_an_earlier_row_is_an_error_on_the_later_row() -> None:
    verdicts = index_of([(2, (A, B)), (3, (C, B))]).finish()
    assert verdicts.invalid == {3}
    (issue,) = verdicts.issues[3]
    assert issue.code == "phone-owned-by-other-row" and issue.column == "Mobile" and issue.value == B
    assert "row 2" in issue.message


def test_add_phone_equal_to_an_earlier_primary_is_an_error() -> None:
    verdicts = index_of([(2, (A,)), (3, (C, A))]).finish()
    assert verdicts.invalid == {3}


def test_primary_equal_to_an_earlier_add_phone_is_an_error() -> None:
    verdicts = index_of([(2, (A, B)), (3, (B,))]).finish()
    assert verdicts.invalid == {3}
    assert verdicts.issues[3][0].column == "Phone"


def test_rows_of_one_lead_may_share_add_phones() -> None:
    verdicts = index_of([(2, (A, B)), (3, (A, B))]).finish()
    assert verdicts.invalid == set() and verdicts.skipped == {2}


def test_invalid_rows_claim_no_phone() -> None:
    index = CrossRowIndex("last")
    index.add(2, (A,), valid=False)
    index.add(3, (A,))
    assert index.finish().issues == {}


@pytest.mark.parametrize("on_duplicate", ["last", "first", "error"])
def test_a_unit_fed_at_once_decides_as_rows_fed_one_by_one(on_duplicate: str) -> None:
    rows = [(2, (A,)), (3, (B, C)), (4, (A,)), (5, (C,)), (6, (D, B)), (8, (D,)), (9, (B,)), (10, (A, D)),
            (11, ("+919000000001", "+919000000002")), (12, ("+919000000002",)), (13, ("+919000000003", C))]
    one_by_one = index_of(rows, on_duplicate)
    at_once = CrossRowIndex(on_duplicate, "Phone", "Mobile")  # type: ignore[arg-type]
    at_once.add_claims(PhoneClaims.of([row for row, _ in rows[:3]], [phones for _, phones in rows[:3]]))
    at_once.add_claims(PhoneClaims.of([row for row, _ in rows[3:]], [phones for _, phones in rows[3:]]))
    assert at_once.finish() == one_by_one.finish()
    assert at_once.primaries() == one_by_one.primaries() == {A, B, D, "+919000000001"}


class _EveryPhone:
    """The rules the index follows, fed a row at a time with a dict of every phone: what the index must decide,
    however it gets there."""

    def __init__(self, on_duplicate: str) -> None:
        self.index = CrossRowIndex(on_duplicate, "Phone", "Mobile")  # type: ignore[arg-type]
        self.owner: dict[str, int] = {}

    def feed(self, row: int, phones: tuple[str, ...]) -> None:
        claim = self.index._claim
        self.index._owner = self.owner
        claim(row, phones)

    def verdicts(self) -> tuple[object, set[str]]:
        index = self.index
        for rows in index._duplicates.values():
            index._settle_duplicates(rows)
        return index._verdicts, {phone for phone, owner in self.owner.items() if owner > 0}


_PHONES = st.sampled_from([A, B, C, D, "+12025550123", "+919000000001", "+919000000002", "+4915112345678"])


@settings(max_examples=300, deadline=None)
@given(sheet=st.lists(st.lists(_PHONES, min_size=1, max_size=3).map(tuple), max_size=30),
       cuts=st.lists(st.integers(min_value=0, max_value=30), max_size=4),
       on_duplicate=st.sampled_from(["last", "first", "error"]))
def test_the_index_decides_as_a_dict_of_every_phone_fed_row_by_row(sheet: list[tuple[str, ...]], cuts: list[int],
                                                                  on_duplicate: str) -> None:
    rows = [(2 + 3 * position, phones) for position, phones in enumerate(sheet)]  # row numbers with gaps
    model = _EveryPhone(on_duplicate)
    for row, phones in rows:
        model.feed(row, phones)
    index = CrossRowIndex(on_duplicate, "Phone", "Mobile")  # type: ignore[arg-type]
    bounds = sorted({0, len(rows), *(cut for cut in cuts if cut < len(rows))})
    for start, stop in itertools.pairwise(bounds):
        unit = rows[start:stop]
        index.add_claims(PhoneClaims.of([row for row, _ in unit], [phones for _, phones in unit]))
    expected, primaries = model.verdicts()
    assert index.finish() == expected
    assert index.primaries() == primaries


def test_claims_carry_phones_as_integers_and_back() -> None:
    claims = PhoneClaims.of([2, 9], [(A, "+12025550123"), ("+4915112345678",)])
    assert list(claims.rows) == [2, 9] and list(claims.counts) == [2, 1]
    assert list(claims.phones) == [919845012345, 12025550123, 4915112345678]
    assert pickle.loads(pickle.dumps(claims)) == claims
