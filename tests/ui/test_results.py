"""What the page reads from a run folder: the plan's changes, and live progress."""

from __future__ import annotations

from importer.ui.progress import LiveProgress
from importer.ui.results import Change, parse_changes
from tests.fakes import FakeClock


def test_plan_changes_read_back_with_separators_inside_their_values() -> None:
    text = 'city: "Pune; East" → "Mumbai → West"; deal_value: 50000 → 75000; labels: + "Hot"; labels: - "Cold"'
    assert parse_changes(text) == [Change("city", '"Pune; East"', '"Mumbai → West"'),
                                   Change("deal_value", "50000", "75000"), Change("labels", "", '"Hot"', "+"),
                                   Change("labels", "", '"Cold"', "-")]
    assert parse_changes(r'first_name: "say \"hi\"; x" → none') == [Change("first_name", r'"say \"hi\"; x"', "none")]
    assert parse_changes("") == []


def test_live_progress_tells_rows_per_second_and_time_left() -> None:
    clock = FakeClock()
    progress = LiveProgress(clock)
    progress.start("sending", 100)
    clock.sleep(2.0)
    progress.advance(20)
    progress.advance(1, failed=1)
    progress.count_retry(throttled=True)
    progress.count_retry(throttled=False)
    shown = progress.snapshot()
    assert (shown["done"], shown["failed"], shown["rate"], shown["eta_s"]) == (21, 1, 10.5, 7.5)
    assert (shown["retries"], shown["throttled"], shown["phase_text"]) == (2, 1, "sending")
    progress.start("checking", None)
    assert progress.snapshot()["eta_s"] is None

