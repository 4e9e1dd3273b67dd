"""report.html: charts of every kind of run that add up to its rows, escaping, nothing loaded, print styles."""

from __future__ import annotations

import re
from datetime import timedelta, timezone
from typing import Any

import pytest

from importer.models import Issue
from importer.report.html import CHARTED_CODES, input_name, local_time, render_html
from tests.report.hostile import HOSTILE_TEXTS, markup_problems, page_text, shown_as
from tests.report.svg import bars, charts, number, title_and_desc

BASE: dict[str, Any] = {"input": "leads.csv", "mapping": "m.yaml", "started_at": "2026-01-02T03:04:05+00:00",
                        "duration_s": 1.5, "errors_by_code": {"invalid-phone": 2, "unknown-stage": 1},
                        "warnings_by_code": {"duplicate-phone": 4}}


def drawn(page: str, chart: str) -> list[tuple[str, float]]:
    seen = bars(charts(page)[chart])
    longest = max(seen, key=lambda bar: number(bar.value))
    per_unit = longest.length / number(longest.value)
    for bar in seen:  # drawn to one scale (coordinates have one decimal)
        assert bar.length == pytest.approx(number(bar.value) * per_unit, abs=0.06), bar
    return [(bar.label, number(bar.value)) for bar in seen]


def test_a_dry_run_shows_what_would_be_sent() -> None:
    summary = {**BASE, "dry_run": True, "rows_total": 24, "valid": 19, "invalid": 5, "skipped": 1}
    page = render_html(summary, [], 0)
    assert drawn(page, "outcomes") == [("would be sent", 18), ("skipped (duplicate)", 1), ("invalid", 5)]
    assert page.startswith("<!doctype html>") and "<title>dry run: leads.csv</title>" in page
    title, desc = title_and_desc(charts(page)["outcomes"])
    assert desc == "24 rows: 18 would be sent, 1 skipped (duplicate), 5 invalid."
    with_sync = render_html({**summary, "unchanged": 10}, [], 0)
    assert drawn(with_sync, "outcomes") == [("would be sent", 8), ("unchanged", 10), ("skipped (duplicate)", 1),
                                            ("invalid", 5)]


def test_a_real_run_shows_every_outcome_adding_up_to_the_rows() -> None:
    summary = {**BASE, "dry_run": False, "rows_total": 30, "valid": 25, "invalid": 5, "sent": 19, "succeeded": 15,
               "failed": 3, "in_doubt": 1, "skipped": 2, "unchanged": 4}
    page = render_html(summary, [], 0)
    outcomes = drawn(page, "outcomes")
    assert outcomes == [("succeeded", 15), ("failed", 3), ("in doubt", 1), ("skipped (duplicate)", 2),
                        ("invalid", 5), ("unchanged", 4)]
    assert sum(n for _, n in outcomes) == summary["rows_total"]
    stopped = render_html({**summary, "rows_total": 40, "stopped": "signal", "rows_left": 10}, [], 0)
    assert drawn(stopped, "outcomes")[-1] == ("not sent (stopped)", 10)


@pytest.mark.parametrize(("mode", "counts", "expected"), [
    ("plan", {"create": 15, "update": 2, "unchanged": 0, "conflict": 1, "would_fail": 3},
     [("create", 15), ("update", 2), ("unchanged", 0), ("conflict", 1)]),
    ("verify", {"ok": 12, "missing": 2, "different": 3, "failed": 1},
     [("ok", 12), ("missing", 2), ("different", 3), ("failed", 1)]),
])
def test_a_run_that_reads_leads_back_shows_its_own_counts(mode: str, counts: dict[str, int],
                                                          expected: list[tuple[str, int]]) -> None:
    summary = {**BASE, "dry_run": True, "rows_total": 24, "valid": 19, "invalid": 5, "skipped": 1, "mode": mode,
               mode: counts}
    page = render_html(summary, [], 0)
    outcomes = drawn(page, "outcomes")
    assert outcomes[:-2] == expected and outcomes[-2:] == [("skipped (duplicate)", 1), ("invalid", 5)]
    assert f"<title>{mode}: leads.csv</title>" in page
    if mode == "plan":  # would_fail is a part of create, not an outcome of its own
        assert sum(n for _, n in outcomes) == summary["rows_total"]
        synced = drawn(render_html({**summary, "rows_total": 30, "unchanged": 6}, [], 0), "outcomes")
        assert synced[-1] == ("unchanged since the last run", 6) and sum(n for _, n in synced) == 30


def test_issues_by_code_errors_first_then_warnings() -> None:
    page = render_html({**BASE, "dry_run": True, "rows_total": 3, "valid": 1, "invalid": 2}, [], 0)
    assert drawn(page, "issues") == [("invalid-phone (error)", 2), ("unknown-stage (error)", 1),
                                     ("duplicate-phone (warning)", 4)]
    assert '<td class="error">invalid-phone</td><td>error</td><td class="num">2</td>' in page
    none = render_html({**BASE, "errors_by_code": {}, "warnings_by_code": {}, "dry_run": True}, [], 0)
    assert "issues" not in charts(none) and "<h2>Issues by code</h2><p>None.</p>" in none


def test_many_codes_chart_the_most_frequent_and_table_every_one() -> None:
    codes = {f"code-{n}": 100 - n for n in range(CHARTED_CODES + 5)}
    page = render_html({**BASE, "errors_by_code": codes, "warnings_by_code": {}, "dry_run": True}, [], 0)
    assert len(bars(charts(page)["issues"])) == CHARTED_CODES
    assert f"The {CHARTED_CODES} most frequent codes of {CHARTED_CODES + 5}" in page
    assert all(f">{code}</td>" in page for code in codes)


def test_nothing_is_loaded_from_anywhere_and_printing_is_styled() -> None:
    summary = {**BASE, "dry_run": False, "rows_total": 3, "succeeded": 3}
    page = render_html(summary, [Issue(2, "Phone", "warning", "duplicate-phone", "twice", "+91")], 1,
                       files=["failures.csv", "summary.json"])
    assert markup_problems(page) == []
    for needle in ("<script", "<link", "<img", "<iframe", "@import", "src="):
        assert needle not in page.lower()
    assert re.findall(r'href="([^"]*)"', page) == ["failures.csv", "summary.json"]  # the folder's own files
    assert page.count("http") == page.count('xmlns="http://www.w3.org/2000/svg"')  # a namespace name, not a load
    style = page[page.index("<style>"):page.index("</style>")]
    assert "@media print" in style and "break-inside:avoid" in style and "print-color-adjust:exact" in style


def test_hostile_codes_messages_and_values_are_text() -> None:
    codes = {text: n for n, text in enumerate(HOSTILE_TEXTS, start=1)}
    summary = {"input": HOSTILE_TEXTS[0], "mapping": HOSTILE_TEXTS[1], "started_at": HOSTILE_TEXTS[2],
               "duration_s": HOSTILE_TEXTS[3], "dry_run": True, "rows_total": 9, "valid": 4, "invalid": 5,
               "errors_by_code": codes, "warnings_by_code": {HOSTILE_TEXTS[4]: 1}, "mode": HOSTILE_TEXTS[5],
               HOSTILE_TEXTS[5]: {text: 1 for text in HOSTILE_TEXTS}}
    issues = [Issue(2, text, "error", text, text, text) for text in HOSTILE_TEXTS]
    page = render_html(summary, issues, len(issues))
    assert markup_problems(page) == []
    shown = page_text(page)
    for text in HOSTILE_TEXTS:
        assert shown.count(shown_as(text)) >= 4  # in the issue table's column, code, message and value cells
    found = charts(page)  # still well-formed XML with every code in it
    assert [bar.tooltip for bar in bars(found["issues"])][:3] == [
        f"{shown_as(text).replace(chr(13), chr(10))} (error): {n}" for text, n in list(codes.items())[:3]]


@pytest.mark.parametrize(("extra", "title"), [
    ({"undo_of": "reports/20260101-000000-leads", "dry_run": False}, "undo"),
    ({"undo_of": "reports/20260101-000000-leads", "dry_run": True}, "undo (dry run)"),
    ({"plan_dir": "reports/20260101-000000-leads", "dry_run": False}, "apply"),
])
def test_apply_and_undo_are_named_as_such(extra: dict[str, Any], title: str) -> None:
    page = render_html({**BASE, "rows_total": 2, "valid": 2, "succeeded": 2, **extra}, [], 0)
    assert f"<title>{title}: leads.csv</title>" in page
    assert sum(n for _, n in drawn(page, "outcomes")) == 2


def test_counts_are_words_and_the_heading_is_the_inputs_own_name() -> None:
    summary = {**BASE, "input": "superfone-ui/imports/3f2a/leads.csv", "dry_run": False, "rows_total": 30,
               "valid": 25, "invalid": 5, "unchanged": 4, "sent": 19, "succeeded": 15, "failed": 3, "in_doubt": 1,
               "skipped": 2, "warnings": 6, "tasks": {"already_there": 2}}
    page = render_html(summary, [], 0)
    assert "<h1>import: leads.csv</h1>" in page and "imports/3f2a" not in page
    shown = re.findall(r"<tr><th>([^<]*)</th><td class=\"num\">", page)
    assert shown[:10] == ["Rows", "Valid", "Invalid", "Unchanged", "Sent", "Succeeded", "Failed", "In doubt",
                          "Skipped (duplicates)", "Warnings"]
    assert "Already there" in shown
    for key in ("rows_total", "in_doubt", "already_there"):
        assert key not in page_text(page)


@pytest.mark.parametrize(("text", "name"), [
    ("leads.csv", "leads.csv"), ("C:\\Users\\a\\leads.xlsx", "leads.xlsx"),
    ("https://example.com/exports/leads.csv?sig=abc", "leads.csv"), ("s3://bucket/2026/leads.jsonl", "leads.jsonl"),
])
def test_the_input_name_leaves_out_where_it_was_read_from(text: str, name: str) -> None:
    assert input_name(text) == name


def test_times_are_local_to_the_second() -> None:
    india = timezone(timedelta(hours=5, minutes=30), "IST")
    assert local_time("2026-01-02T03:04:05.123456+00:00", india) == "2026-01-02 08:34:05 IST"
    assert local_time("not a time") == "not a time"
    page = render_html({**BASE, "started_at": "2026-01-02T03:04:05.123456+00:00", "dry_run": True}, [], 0)
    facts = page[page.index("</h1><p>") + 8:]
    facts = facts[:facts.index("</p>")]
    assert re.fullmatch(r"mapping m\.yaml · started 2026-01-0[12] \d\d:\d\d:05 \S+ · took 1\.5 s", facts), facts
    assert ".123456" not in page and "+00:00" not in page


def test_each_file_of_the_folder_is_a_relative_link(tmp_path: Any) -> None:
    page = render_html({**BASE, "dry_run": True}, [], 0, files=["failures.csv", "issues.csv", "my file.csv"])
    assert '<li><a href="failures.csv">failures.csv</a>: the rows that did not succeed' in page
    assert '<a href="my%20file.csv">my file.csv</a>' in page
