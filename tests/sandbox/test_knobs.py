"""Sandbox knobs: rate limit (429 + Retry-After), latency, and the faults fail_before, fail_after, drop_after
and slow, over real HTTP; the token bucket and the configuration checks on their own, with a fake clock.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest
import requests

from importer.errors import ConfigError
from importer.sandbox import FAULTS, SandboxConfig
from importer.sandbox.knobs import FaultPicker, TokenBucket, retry_after_seconds

if TYPE_CHECKING:
    from conftest import SandboxApi

ASHA = "+918000000001"


def note_body(text: str) -> dict[str, str]:
    return {"customer_phone": ASHA, "customer_note": text}


def notes(api: SandboxApi) -> list[str]:
    inspected = api.server.lead(ASHA)
    assert inspected is not None
    return inspected["notes"][1:]  # after the seed's own note


class TestRateLimit:
    def test_burst_then_429_with_retry_after(self, api: SandboxApi) -> None:
        api.server.configure(rate=0.1, burst=3)  # a token every 10 s: the wait is whole seconds however slow we are
        statuses = [api.get("label").status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        response = api.get("label")
        assert response.json() == {"message": "Too many requests"}
        assert 1 <= int(response.headers["Retry-After"]) <= 10
        log = api.server.requests()
        waits = [entry["retry_after"] for entry in log]
        assert waits[:3] == [None, None, None] and all(1 <= wait <= 10 for wait in waits[3:])
        assert [entry["status"] for entry in log][-1] == 429

    def test_throttled_upsert_is_not_applied(self, api: SandboxApi) -> None:
        api.server.configure(rate=0.1, burst=1)
        assert api.upsert(note_body("one")).status_code == 200
        assert api.upsert(note_body("two")).status_code == 429
        assert notes(api) == ["one"]

    def test_admin_endpoints_are_not_limited(self, api: SandboxApi) -> None:
        api.server.configure(rate=0.1, burst=1)
        for _ in range(5):
            api.server.leads()

    def test_tokens_refill(self, api: SandboxApi) -> None:
        api.server.configure(rate=50, burst=1)
        assert api.get("label").status_code == 200
        time.sleep(0.05)
        assert api.get("label").status_code == 200


class TestFaults:
    def test_fail_before_is_503_and_applies_nothing(self, api: SandboxApi) -> None:
        api.server.configure(fail_before=1.0)
        response = api.upsert(note_body("lost"))
        assert response.status_code == 503
        assert response.json() == {"message": "Service temporarily unavailable"}
        assert notes(api) == []
        assert api.server.requests()[-1]["fault"] == "fail_before"

    def test_fail_after_is_500_but_applied(self, api: SandboxApi) -> None:
        api.server.configure(fail_after=1.0)
        response = api.upsert(note_body("applied"))
        assert (response.status_code, response.json()) == (500, {"message": "Internal server error"})
        assert notes(api) == ["applied"]

    def test_drop_after_cuts_the_connection_but_applies(self, api: SandboxApi) -> None:
        api.server.configure(drop_after=1.0)
        with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            api.upsert(note_body("dropped"))
        assert notes(api) == ["dropped"]
        entry = api.server.requests()[-1]
        assert (entry["fault"], entry["customer_phone"], entry["has_note"]) == ("drop_after", ASHA, True)
        assert entry["fields"] == ["customer_note", "customer_phone"]
        api.server.configure(drop_after=0.0)
        assert api.upsert(note_body("next")).status_code == 200  # the client recovers on a new connection

    def test_slow_answers_late_after_applying(self, api: SandboxApi) -> None:
        api.server.configure(slow=1.0, slow_ms=300)
        started = time.monotonic()
        assert api.upsert(note_body("slow")).status_code == 200
        assert time.monotonic() - started >= 0.3
        with pytest.raises(requests.exceptions.ReadTimeout):
            api.session.post(api.url("lead"), json=note_body("timed out"), headers=api.headers, timeout=0.1)
        time.sleep(0.35)
        assert notes(api) == ["slow", "timed out"]

    def test_faults_spare_reads_unless_asked(self, api: SandboxApi) -> None:
        api.server.configure(fail_before=1.0)
        assert api.get_lead(ASHA).status_code == 200
        api.server.configure(fault_reads=True)
        assert api.get_lead(ASHA).status_code == 503
        assert api.get("label").status_code == 503

    def test_fault_seed_makes_sequences_reproducible(self, api: SandboxApi) -> None:
        def sequence() -> list[int]:
            api.server.configure(fault_seed=7, fail_before=0.3, fail_after=0.3)
            return [api.upsert({"customer_phone": ASHA}).status_code for _ in range(30)]

        first = sequence()
        assert sequence() == first
        assert {200, 500, 503} <= set(first)

    def test_unauthorised_requests_draw_no_fault(self, api: SandboxApi) -> None:
        api.server.configure(fail_before=1.0)
        assert api.upsert(note_body("x"), headers={"x-api-key": "bad"}).status_code == 401


def test_latency_is_added_to_api_requests(api: SandboxApi) -> None:
    api.server.configure(latency_ms=150)
    started = time.monotonic()
    assert api.get("source-type").status_code == 200
    elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < 1.5
    entry = api.server.requests()[-1]
    assert entry["finished"] - entry["started"] >= 0.15


class TestTokenBucket:
    def test_burst_then_wait_for_next_token(self) -> None:
        now = [100.0]
        bucket = TokenBucket(rate=2.0, burst=2, clock=lambda: now[0])
        assert [bucket.take(), bucket.take()] == [0.0, 0.0]
        assert bucket.take() == pytest.approx(0.5)
        now[0] += 0.25
        assert bucket.take() == pytest.approx(0.25)
        now[0] += 0.25
        assert bucket.take() == 0.0

    def test_never_stores_more_than_burst(self) -> None:
        now = [0.0]
        bucket = TokenBucket(rate=10.0, burst=3, clock=lambda: now[0])
        now[0] += 60
        assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
        assert bucket.take() > 0

    @pytest.mark.parametrize(("wait", "header"), [(0.01, 1), (1.0, 1), (1.2, 2), (9.99, 10)])
    def test_retry_after_is_whole_seconds_rounded_up(self, wait: float, header: int) -> None:
        assert retry_after_seconds(wait) == header


class TestConfig:
    @pytest.mark.parametrize("name", FAULTS)
    @pytest.mark.parametrize("value", [-0.1, 1.5])
    def test_probability_outside_0_1_names_the_flag(self, name: str, value: float) -> None:
        with pytest.raises(ConfigError, match=f"--{name.replace('_', '-')} must be a probability"):
            SandboxConfig(**{name: value})

    @pytest.mark.parametrize(
        ("knobs", "flag"),
        [
            ({"rate": 0}, "--rate"),
            ({"burst": 0}, "--burst"),
            ({"latency_ms": -1}, "--latency-ms"),
            ({"api_key": ""}, "--api-key"),
        ],
    )
    def test_other_bad_values(self, knobs: dict, flag: str) -> None:
        with pytest.raises(ConfigError, match=flag):
            SandboxConfig(**knobs)

    def test_api_key_stays_out_of_repr_and_public_view(self) -> None:
        config = SandboxConfig(api_key="very-secret-key")
        assert "very-secret-key" not in repr(config)
        assert "very-secret-key" not in str(config.public())

    def test_merge_rejects_unknown_and_ill_typed_knobs(self) -> None:
        config = SandboxConfig()
        assert config.merged({"rate": 5, "burst": 2}).rate == 5
        for changes in (
            {"colour": 1},
            {"rate": "fast"},
            {"fault_reads": 1},
            {"api_key": "x"},
            {"burst": 1.5},
        ):
            with pytest.raises(ConfigError):
                config.merged(changes)

    def test_fault_picker_draws_each_fault_with_its_probability(self) -> None:
        config = SandboxConfig(fail_before=0.1, fail_after=0.2, drop_after=0.3, slow=0.4)
        picker = FaultPicker(seed=1)
        draws = [picker.draw(config) for _ in range(20000)]
        share = {name: draws.count(name) / len(draws) for name in FAULTS}
        assert share["fail_before"] == pytest.approx(0.1, abs=0.01)
        assert share["fail_after"] == pytest.approx(0.9 * 0.2, abs=0.015)
        replay = FaultPicker(seed=1)
        assert [replay.draw(config) for _ in range(200)] == draws[:200]
        other = FaultPicker(seed=2)
        assert [other.draw(config) for _ in range(200)] != draws[:200]


def test_request_waiting_across_a_reset_writes_nothing(api: SandboxApi) -> None:
    api.server.configure(latency_ms=400)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(api.upsert, note_body("stale"))
        deadline = time.monotonic() + 5  # wait until the request is logged: it is then inside the added latency
        while not any(e["method"] == "POST" for e in api.server.requests()) and time.monotonic() < deadline:
            time.sleep(0.01)
        api.server.reset()
        response = pending.result()
    assert response.status_code == 503
    assert notes(api) == []


def test_throttle_answers_429_with_the_configured_retry_after(api) -> None:
    """``throttle`` makes a share of writes 429 with a (possibly fractional) Retry-After; nothing is applied."""
    api.server.configure(throttle=1.0, throttle_retry_after=0.05)
    response = api.upsert({"customer_phone": "+919700000001", "create_customer_if_customer_phone_not_found": True})
    assert (response.status_code, response.headers["retry-after"]) == (429, "0.05")
    assert response.json() == {"message": "Too many requests"}
    (entry,) = [r for r in api.server.requests() if r["method"] == "POST"]
    assert (entry["fault"], entry["retry_after"]) == ("throttle", 0.05)
    assert api.server.lead("+919700000001") is None
    api.server.configure(throttle=0.3, throttle_retry_after=2, fault_seed=5)
    statuses = [api.upsert({"customer_phone": "+919700000002",
                            "create_customer_if_customer_phone_not_found": True}).status_code for _ in range(60)]
    assert 5 < statuses.count(429) < 35 and set(statuses) == {200, 429}


def test_a_spent_quota_answers_every_write_after_n_with_429_and_its_retry_after(api) -> None:
    """``quota_after``: the first N writes go through, every later one is a 429 with ``quota_retry_after``."""
    api.server.configure(quota_after=2)
    bodies = [{"customer_phone": f"+91970000001{i}", "create_customer_if_customer_phone_not_found": True}
              for i in range(4)]
    answers = [api.upsert(body) for body in bodies]
    assert [a.status_code for a in answers] == [200, 200, 429, 429]
    assert answers[2].headers["retry-after"] == "3600"
    assert api.get("label").status_code == 200  # reads are not counted (unless fault_reads)
    assert [e["fault"] for e in api.server.requests() if e["method"] == "POST"] == [None, None, "quota", "quota"]
    assert api.server.lead(bodies[2]["customer_phone"]) is None
    api.server.configure(quota_after=1, quota_retry_after=5)  # a new quota: counted from zero
    assert [api.upsert(body).status_code for body in bodies[2:]] == [200, 429]
    with pytest.raises(ConfigError, match="--quota-after must be 0 or more"):
        SandboxConfig(quota_after=-1)


def test_a_black_hole_accepts_requests_and_never_answers(api) -> None:
    api.server.configure(black_hole=True)
    began = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.session.get(api.url("label"), headers=api.headers, timeout=(1, 0.3))
    assert time.monotonic() - began < 2
    assert api.server.requests()[-1]["fault"] == "black_hole"
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(api.upsert, note_body("held"))
        time.sleep(0.2)
        api.server.configure(black_hole=False)  # held requests are let go with a 503, never applied
        assert pending.result().status_code == 503
    assert notes(api) == []
    assert api.upsert(note_body("after")).status_code == 200
