"""Chaos soak: a large import into a sandbox that fails a fifth of the requests before applying them, throttles
some with 429 + Retry-After, and fails or drops some after applying them. Every row must end in exactly one
state, the summary must add up, no note may reach a lead twice, and no request may start while a Retry-After
announced by an earlier 429 is running."""

from __future__ import annotations

import bisect
import csv
import random
import time
from collections import Counter
from pathlib import Path

import pytest

from importer.api.retry import RetryPolicy
from importer.run.context.options import RunOptions
from importer.run.journey.pipeline import Importer

ROWS = 10_000
CONCURRENCY = 16
#: The rounding of the sandbox's time stamps (Unix seconds as floats: about 0.2 µs) with room to spare.
TOLERANCE = 0.001
MAPPING = """\
version: 1
fields:
  customer_phone: Phone
  first_name: Name
  lead_stage_name: Stage
  customer_note: {template: "soak note for {Name}"}
"""


def write_sheet(folder: Path, rows: int, seed: int) -> tuple[Path, set[int]]:
    """``rows`` leads with unique phones; about 1% have a phone that cannot be valid. Returns the sheet and
    the row numbers of those invalid rows."""
    rng = random.Random(seed)
    invalid: set[int] = set()
    sheet = folder / "soak.csv"
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["Phone", "Name", "Stage"])
        for i in range(rows):
            number = i + 2
            phone = f"+9198{i:08d}"
            if rng.random() < 0.01:
                phone, _ = "12345", invalid.add(number)
            out.writerow([phone, f"Lead {i}", rng.choice(["New Lead", "Contacted", "Won"])])
    return sheet, invalid


def rows_of(path: Path) -> list[int]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [int(row["_row"]) for row in csv.DictReader(handle)]


def retries_after_429s(log: list[dict]) -> list[tuple[dict, dict]]:
    """Pairs (429, the next request for the same lead): a 429's own row sent again."""
    pairs, waiting = [], {}
    for entry in sorted(log, key=lambda entry: entry["started"]):
        phone = entry["customer_phone"]
        if phone is None:
            continue
        if phone in waiting:
            pairs.append((waiting.pop(phone), entry))
        if entry["status"] == 429 and entry["retry_after"]:
            waiting[phone] = entry
    return pairs


def early_retries(pairs: list[tuple[dict, dict]]) -> list[tuple[dict, dict]]:
    """The pairs whose retry reached the sandbox before the 429's Retry-After had run out. No clock slack is
    needed: the 429 was written after the sandbox stamped its ``started``, the client read it after that and
    waited Retry-After from then, and the retry is stamped once it arrived, so an honest retry starts at least
    Retry-After after the 429 started (less only by the float rounding of the stamps: TOLERANCE)."""
    return [(throttled, retry) for throttled, retry in pairs
            if retry["started"] < throttled["started"] + throttled["retry_after"] - TOLERANCE]


def pause_overruns(pairs: list[tuple[dict, dict]], log: list[dict]) -> list[tuple[dict, list[dict]]]:
    """429s during whose Retry-After more requests reached the sandbox than the other workers can have had on
    the way when the client read it.

    The client read a 429 at some moment it knows and the sandbox does not, after the 429 ``started``, and waited
    Retry-After from then before sending its row again: so it read it no later than the retry's ``started`` less
    Retry-After. Between that bound and the 429's ``started`` plus Retry-After every worker is paused for sure. A
    request reaching the sandbox then was sent before the pause, and a worker has one request out at a time: at
    most one each for the CONCURRENCY - 1 other workers, however late the machine's load makes them arrive. More
    than that is a worker sending during the pause."""
    starts = sorted(entry["started"] for entry in log)
    overruns = []
    for throttled, retry in pairs:
        paused_from = retry["started"] - throttled["retry_after"] + TOLERANCE
        paused_to = throttled["started"] + throttled["retry_after"] - TOLERANCE
        inside = starts[bisect.bisect_right(starts, paused_from):bisect.bisect_left(starts, paused_to)]
        if len(inside) > CONCURRENCY - 1:
            overruns.append((throttled, [entry for entry in log if paused_from < entry["started"] < paused_to]))
    return overruns


@pytest.mark.slow
def test_chaos_soak(fresh_sandbox, tmp_path: Path) -> None:
    sheet, invalid = write_sheet(tmp_path, ROWS, seed=20)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    # 20% 503 before applying, 5% 429 with Retry-After (fractional, to keep the soak short), 2% dropped after
    # applying, 2% 500 after applying
    fresh_sandbox.configure(fail_before=0.20, fail_after=0.02, drop_after=0.02, throttle=0.05,
                            throttle_retry_after=0.02, fault_seed=20)
    options = RunOptions(base_url=fresh_sandbox.base_url, api_key=fresh_sandbox.api_key, rate=1000,
                         concurrency=CONCURRENCY, report_dir=tmp_path / "reports",
                         retry=RetryPolicy(max_attempts=8, base=0.005, cap=0.05, random=random.Random(20)))
    began = time.monotonic()
    result = Importer(sheet, mapping, options).run()
    elapsed = time.monotonic() - began
    summary, folder = result.summary, result.folder
    log = fresh_sandbox.requests()
    statuses = Counter(entry["status"] for entry in log if entry["method"] == "POST")
    faults = Counter(entry["fault"] for entry in log if entry["method"] == "POST")
    print(f"soak: {ROWS} rows in {elapsed:.1f} s; statuses {dict(statuses)}; faults {dict(faults)}; "
          f"summary {[summary[k] for k in ('succeeded', 'failed', 'in_doubt', 'invalid')]}")

    # every row ends in exactly one state
    assert summary["rows_total"] == ROWS
    assert ROWS == sum(summary[key] for key in ("succeeded", "failed", "in_doubt", "skipped", "invalid"))
    succeeded, failed = rows_of(folder / "successes.csv"), rows_of(folder / "failures.csv")
    assert len(succeeded) == len(set(succeeded)) == summary["succeeded"]
    assert len(failed) == len(set(failed)) == summary["failed"] + summary["in_doubt"] + summary["invalid"]
    assert set(succeeded).isdisjoint(failed) and set(succeeded) | set(failed) == set(range(2, ROWS + 2))
    assert summary["invalid"] == len(invalid) and invalid <= set(failed)

    # the faults really happened, and were answered honestly
    total = sum(statuses.values())
    assert faults["fail_before"] > 0.15 * total and faults["fail_after"] > 0 and faults["drop_after"] > 0
    assert 0.03 * total < statuses[429] < 0.07 * total
    assert summary["in_doubt"] >= 1

    # a note never twice; a lead for every row reported succeeded
    leads = {lead["phones"][0]: lead for lead in fresh_sandbox.leads() if lead["phones"]}
    assert all(len(lead["notes"]) <= 1 for lead in leads.values())
    for number in succeeded:
        assert leads[f"+9198{number - 2:08d}"]["first_name"] == f"Lead {number - 2}"

    # Retry-After is honoured: no row throttled is sent again before the 20 ms it was told to wait have passed
    # since its 429, and the other workers wait too
    pairs = retries_after_429s(log)
    assert len(pairs) >= 0.9 * statuses[429]
    assert early_retries(pairs) == []
    assert pause_overruns(pairs, log) == []


@pytest.mark.slow
def test_no_request_starts_inside_a_retry_after_window(fresh_sandbox, tmp_path: Path) -> None:
    """429s with a Retry-After of 0.4 s: every worker waits it out."""
    sheet, _ = write_sheet(tmp_path, 400, seed=3)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    fresh_sandbox.configure(throttle=0.05, throttle_retry_after=0.4, fault_seed=3)
    options = RunOptions(base_url=fresh_sandbox.base_url, api_key=fresh_sandbox.api_key, rate=1000,
                         concurrency=CONCURRENCY, report_dir=tmp_path / "reports",
                         retry=RetryPolicy(max_attempts=16, base=0.005, cap=0.05))
    result = Importer(sheet, mapping, options).run()
    log = fresh_sandbox.requests()
    throttled = [entry for entry in log if entry["status"] == 429]
    assert len(throttled) >= 5 and all(entry["retry_after"] == 0.4 for entry in throttled)
    assert result.summary["succeeded"] + result.summary["invalid"] == 400
    pairs = retries_after_429s(log)
    assert len(pairs) == len(throttled) and early_retries(pairs) == []
    assert pause_overruns(pairs, log) == []


def test_a_throttled_catalog_fetch_is_retried(fresh_sandbox, tmp_path: Path) -> None:
    """The five list calls before sending meet the same server as the sends: a 429 there must wait, not stop."""
    sheet, _ = write_sheet(tmp_path, 5, seed=1)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    fresh_sandbox.configure(rate=2, burst=2)  # the third list call is throttled
    options = RunOptions(base_url=fresh_sandbox.base_url, api_key=fresh_sandbox.api_key, rate=2,
                         report_dir=tmp_path / "reports", retry=RetryPolicy(max_attempts=8, base=0.01, cap=0.1))
    result = Importer(sheet, mapping, options).run()
    assert result.summary["rows_total"] == 5 and result.summary["catalog_checked"] is True
    assert any(entry["status"] == 429 and entry["method"] == "GET" for entry in fresh_sandbox.requests())
    assert result.summary["succeeded"] + result.summary["invalid"] == 5
