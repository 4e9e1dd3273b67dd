"""Catalog names: verdicts (ok / unknown / duplicated) and suggestions."""

from __future__ import annotations

from importer.api.catalog import Catalog, NameSet, suggestion_text
from importer.models import SOURCE_TYPES
from tests.fakes import FakeClock


def test_verdicts_count_titles() -> None:
    names = NameSet.of("lead-stage", ["New Lead", "Follow-up", "Follow-up", "Won"])
    assert names.verdict("New Lead") == "ok"
    assert names.verdict("new lead") == "unknown"
    assert names.verdict("Follow-up") == "duplicated"
    assert names.duplicated() == ["Follow-up"]


def test_suggestions_prefer_case_and_spacing_then_edit_distance() -> None:
    names = NameSet.of("lead-stage", ["New Lead", "Qualified", "Proposal", "Follow Up"])
    assert names.suggest("new  lead") == ["New Lead"]
    assert names.suggest("FOLLOW-UP")[0] == "Follow Up"
    assert names.suggest("Qualifed") == ["Qualified"]
    assert names.suggest("zzz") == []


def test_suggestion_text() -> None:
    assert suggestion_text([]) == ""
    assert suggestion_text(["A", "B"]) == "; did you mean 'A' or 'B'?"


def test_offline_catalog_still_knows_the_fixed_source_types() -> None:
    catalog = Catalog.offline()
    assert all(catalog.source_types.verdict(t) == "ok" for t in SOURCE_TYPES)
    assert catalog.stages.verdict("New Lead") == "unknown"


def test_from_rows_reads_titles_per_kind() -> None:
    catalog = Catalog.from_rows({"label": [{"title": "Hot"}], "lead-group": [{"title": "Events"}] * 2})
    assert catalog.labels.verdict("Hot") == "ok"
    assert catalog.groups.verdict("Events") == "duplicated"


def test_disabled_items_are_not_usable_but_are_named() -> None:
    products = [{"title": "Starter Plan"}, {"title": "Legacy Plan", "status": "DISABLED"}]
    catalog = Catalog.from_rows({"product": products})
    assert catalog.products.verdict("Starter Plan") == "ok"
    assert catalog.products.verdict("Legacy Plan") == "unknown"
    assert catalog.products.disabled == {"Legacy Plan"}


def test_fetch_retries_transient_errors_and_gives_up_on_auth() -> None:
    import pytest

    from importer.api.retry import Retrying, RetryPolicy
    from importer.errors import AuthError, TransientError

    class Flaky:
        def __init__(self) -> None:
            self.calls: list[str] = []

        def list_all(self, kind: str) -> list[dict]:
            self.calls.append(kind)
            if self.calls.count(kind) == 1:
                raise TransientError("Too many requests", 429, retry_after=0.25)
            return [{"title": f"{kind}-1"}]

    clock = FakeClock()
    slept = clock.sleeps
    source = Flaky()
    catalog = Catalog.fetch(source, Retrying(RetryPolicy(max_attempts=3), clock=clock, sleep=clock.sleep))
    assert catalog.labels.verdict("label-1") == "ok" and len(source.calls) == 10
    assert slept == [0.25] * 5

    class Locked:
        def list_all(self, kind: str) -> list[dict]:
            raise AuthError("UnAuthorized, Please Provide Valid API Key", 401)

    with pytest.raises(AuthError):
        Catalog.fetch(Locked(), Retrying(RetryPolicy(), clock=clock, sleep=clock.sleep))
    assert len(slept) == 5
