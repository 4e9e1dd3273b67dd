"""The two sources against the sandbox's copies of their APIs, and LeadSquared's pacing on a fake clock."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from importer.api.retry import Retrying, RetryPolicy
from importer.errors import ApiError, AuthError, ConfigError, RejectedError, UncertainError
from importer.pull.leadsquared import LeadSquaredAccount, LeadSquaredClient
from importer.pull.pollybot import PollyBotAccount, PollyBotClient
from importer.pull.sources import LeadSquaredSource, PollyBotSource
from importer.sandbox import SandboxServer
from tests.fakes import FakeClock

LSQ = {"access_key": "demo-access-key", "secret_key": "demo-secret-key"}


@pytest.fixture
def leadsquared(fresh_sandbox: SandboxServer) -> Iterator[LeadSquaredSource]:
    source = LeadSquaredSource(LeadSquaredClient(LeadSquaredAccount(fresh_sandbox.leadsquared_url, **LSQ)))
    yield source
    source.close()


@pytest.fixture
def pollybot(fresh_sandbox: SandboxServer) -> Iterator[PollyBotSource]:
    source = PollyBotSource(PollyBotClient(PollyBotAccount(fresh_sandbox.pollybot_url, "sk-workspace_demo")))
    yield source
    source.close()


def test_leadsquared_returns_the_lead_of_a_phone_or_mobile_with_or_without_country_code(leadsquared) -> None:
    for phone in ("9845000000", "919845000000"):
        fetched = leadsquared.fetch(phone)
        assert fetched.lead is not None and fetched.warning is None
        assert (fetched.lead["FirstName"], fetched.lead["Phone"]) == ("Varun", "9845000000")
    assert leadsquared.fetch("917022107919").lead["FirstName"] == "Meera"  # her Mobile
    assert leadsquared.fetch("919999999999").lead is None


def test_several_leadsquared_matches_keep_the_first_with_a_warning(leadsquared, fresh_sandbox) -> None:
    fetched = leadsquared.fetch("919845040012")
    assert fetched.lead is not None and fetched.matches == 2
    assert fetched.warning is not None and fetched.lead["ProspectID"] in fetched.warning
    assert [call["phone"] for call in fresh_sandbox.source_requests()["leadsquared"]] == ["919845040012"]


def test_leadsquared_refuses_a_phone_with_separators_and_wrong_keys(fresh_sandbox) -> None:
    with LeadSquaredClient(LeadSquaredAccount(fresh_sandbox.leadsquared_url, **LSQ)) as client:
        with pytest.raises(RejectedError, match="digits only"):
            client.leads_by_phone("98450-00000")
    wrong = LeadSquaredAccount(fresh_sandbox.leadsquared_url, "demo-access-key", "nope-secret")
    with LeadSquaredClient(wrong) as client, pytest.raises(AuthError, match="Invalid access key or secret key"):
        client.leads_by_phone("9845000000")


def test_pollybot_lead_miss_and_errors(pollybot, fresh_sandbox) -> None:
    lead = pollybot.fetch("lead_aa49d53c31e4598b").lead
    assert lead is not None and lead["name"] == "Pooja Menon" and "follow_up_date" in lead["metadata"]
    assert pollybot.fetch("lead_doesnotexist1").lead is None
    with pytest.raises(RejectedError, match=r"Invalid lead ID format \(INVALID_ID_FORMAT\)"):
        pollybot.client.lead("invalid-id")  # what the sandbox answers an id pull would never send
    with PollyBotClient(PollyBotAccount(fresh_sandbox.pollybot_url, "sk-wrong")) as client:
        with pytest.raises(AuthError, match="Unauthorized"):
            client.lead("lead_aa49d53c31e4598b")


def test_a_404_that_is_not_lead_not_found_is_an_error_not_a_miss(fresh_sandbox) -> None:
    account = PollyBotAccount(fresh_sandbox.pollybot_url + "/wrong-prefix", "sk-workspace_demo")
    with PollyBotClient(account) as client, pytest.raises(RejectedError, match="Not found"):
        client.lead("lead_aa49d53c31e4598b")


def test_leadsquared_pacing_never_exceeds_25_calls_in_any_5_seconds() -> None:
    clock = FakeClock()
    source = LeadSquaredSource.__new__(LeadSquaredSource)
    limiter = source.limiter(None, clock, clock.sleep)
    starts = []
    for _ in range(120):
        limiter.acquire()
        starts.append(clock.now)
    for index, start in enumerate(starts):
        assert sum(1 for other in starts[index:] if other < start + 5.0) <= 25
    assert starts[-1] == pytest.approx(119 * 5.1 / 25)  # and no slower than the documented limit needs
    assert source.limiter(100.0, clock, clock.sleep).rate == pytest.approx(25 / 5.1)  # --rate cannot raise it
    assert source.limiter(2.0, clock, clock.sleep).rate == 2.0


def test_a_late_call_never_puts_26_calls_in_5_seconds() -> None:
    """Paced by when calls were due, a call that starts late would share a window with 25 on-time ones: the
    window on the real start times holds the 26th back."""
    clock = FakeClock()
    source = LeadSquaredSource.__new__(LeadSquaredSource)
    limiter = source.limiter(None, clock, clock.sleep)
    window = source._window
    assert window is not None
    starts = []
    for index in range(60):
        limiter.acquire()
        if index == 0:
            clock.now += 0.4  # the first call starts 0.4 s late (a busy machine)
        window.admit()
        starts.append(clock.now)
    for index, start in enumerate(starts):
        assert sum(1 for other in starts[index:] if other < start + 5.0) <= 25


class _Flaky(BaseHTTPRequestHandler):
    """A LeadSquared that answers 503, then 500, then the lead."""

    answers: list[tuple[int, object]] = []

    def do_GET(self) -> None:
        status, body = type(self).answers.pop(0)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_5xx_answers_are_retried_through_retrying() -> None:
    _Flaky.answers = [(503, {"ExceptionMessage": "busy"}), (500, {"ExceptionMessage": "oops"}),
                      (200, [{"ProspectID": "p1", "Phone": "9845000000"}])]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    clock = FakeClock()
    try:
        account = LeadSquaredAccount(f"http://127.0.0.1:{server.server_address[1]}", "ak", "sk")
        with LeadSquaredClient(account) as client:
            source = LeadSquaredSource(client)
            retrying = Retrying(RetryPolicy(), source.limiter(None, clock, clock.sleep), clock, clock.sleep)
            errors: list[ApiError] = []
            fetched = retrying.call(lambda: source.fetch("919845000000"), on_error=lambda e, d: errors.append(e))
    finally:
        server.shutdown()
        server.server_close()
    assert fetched.lead == {"ProspectID": "p1", "Phone": "9845000000"}
    assert [(type(e), e.status, e.message) for e in errors] == [
        (type(errors[0]), 503, "busy"), (UncertainError, 500, "oops")]


@pytest.mark.parametrize(("env", "message"), [
    ({}, "LSQ_ACCESS_KEY is not set"),
    ({"LSQ_ACCESS_KEY": "a", "LSQ_SECRET_KEY": "s"}, "LSQ_HOST is not set"),
    ({"LSQ_ACCESS_KEY": "a", "LSQ_SECRET_KEY": "s", "LSQ_HOST": "http://api.example.com"}, "refusing plain http://"),
    ({"LSQ_ACCESS_KEY": "a b", "LSQ_SECRET_KEY": "s", "LSQ_HOST": "h"}, "LSQ_ACCESS_KEY contains spaces"),
])
def test_leadsquared_account_from_env_names_what_is_wrong(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        LeadSquaredAccount.from_env(env)


def test_accounts_from_env() -> None:
    account = LeadSquaredAccount.from_env({"LSQ_ACCESS_KEY": "a", "LSQ_SECRET_KEY": "s", "LSQ_HOST": "api.example.com"})
    assert account.base_url == "https://api.example.com" and "'a'" not in repr(account)
    polly = PollyBotAccount.from_env({"POLLYBOT_API_KEY": "k", "POLLYBOT_BASE_URL": "https://pb.example.com/"})
    assert polly.base_url == "https://pb.example.com" and "'k'" not in repr(polly)
