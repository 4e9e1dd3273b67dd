"""Whole pulls against the sandbox's LeadSquared and PollyBot: misses, warnings, refused ids, 429s, resume, stop."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from importer.api.retry import RetryPolicy
from importer.errors import AuthError
from importer.pull.leadsquared import LeadSquaredAccount, LeadSquaredClient
from importer.pull.output import KEY_FIELD
from importer.pull.pollybot import PollyBotAccount, PollyBotClient
from importer.pull.runner import Pull, PullOptions, summary_lines
from importer.pull.sources import LeadSquaredSource, PollyBotSource
from importer.run.engine.stop import Stop
from importer.sandbox import SandboxServer
from tests.fakes import FakeClock

PHONES = "Phone\n9845000000\n+91 98450-07919\n98450 40012\n9999999999\nabc\n9845000000\n"
IDS = "id\nlead_aa49d53c31e4598b\nlead-bad-1\nlead_nope404\nlead_7a659b3697e91a96\n\nlead_61b28b5e5773842e\n"


def leadsquared(server: SandboxServer, secret: str = "demo-secret-key") -> LeadSquaredSource:
    return LeadSquaredSource(LeadSquaredClient(LeadSquaredAccount(server.leadsquared_url, "demo-access-key", secret)))


def pollybot(server: SandboxServer) -> PollyBotSource:
    return PollyBotSource(PollyBotClient(PollyBotAccount(server.pollybot_url, "sk-workspace_demo")))


def pull(source, tmp_path: Path, sheet_text: str, name: str = "phones.csv", stop=None) -> tuple:
    sheet = tmp_path / name
    sheet.write_text(sheet_text, encoding="utf-8")
    clock = FakeClock()  # the pacing is asserted on a fake clock; the sandbox sees the calls at once
    opts = PullOptions(sheet=sheet, out=tmp_path / "out.jsonl", report_dir=tmp_path / "reports")
    result = Pull(source, opts, stop=stop, clock=clock, sleep=clock.sleep).run()
    return result, clock


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_leadsquared_pull(fresh_sandbox, tmp_path) -> None:
    result, clock = pull(leadsquared(fresh_sandbox), tmp_path, PHONES)
    summary = result.summary
    assert {k: summary[k] for k in ("rows_total", "pulled", "missed", "failed", "refused", "repeated", "already",
                                    "rows_left", "warnings", "requests", "throttled", "stopped")} == {
        "rows_total": 6, "pulled": 3, "missed": 1, "failed": 0, "refused": 1, "repeated": 1, "already": 0,
        "rows_left": 0, "warnings": 1, "requests": 4, "throttled": 0, "stopped": None}
    leads = lines(tmp_path / "out.jsonl")
    assert [(lead["FirstName"], lead[KEY_FIELD]) for lead in leads] == [
        ("Varun", "919845000000"), ("Meera", "919845007919"), (leads[2]["FirstName"], "919845040012")]
    assert clock.now == pytest.approx(3 * 5.1 / 25)  # paced at the documented limit
    asked = [call["phone"] for call in fresh_sandbox.source_requests()["leadsquared"]]
    assert asked == ["919845000000", "919845007919", "919845040012", "919999999999"]  # no separators, once each
    with open(tmp_path / "out.misses.csv", encoding="utf-8", newline="") as stream:
        assert list(csv.reader(stream)) == [["_row", "key", "reason"],
                                            ["5", "919999999999", "no LeadSquared lead has this phone"]]
    issues = (result.folder / "issues.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[:4] for line in issues[1:]] == [["4", "Phone", "warning", "several-leads-match"],
                                                            ["6", "Phone", "error", "invalid-phone"]]
    assert json.loads((result.folder / "summary.json").read_text(encoding="utf-8")) == summary


def test_a_second_pull_appends_and_skips_what_the_files_hold(fresh_sandbox, tmp_path) -> None:
    pull(leadsquared(fresh_sandbox), tmp_path, "Phone\n9845000000\n9999999999\n")
    fresh_sandbox.reset()
    result, _ = pull(leadsquared(fresh_sandbox), tmp_path, "Phone\n9845000000\n9999999999\n+91 98450 07919\n")
    assert (result.summary["already"], result.summary["pulled"], result.summary["missed"]) == (2, 1, 0)
    assert [call["phone"] for call in fresh_sandbox.source_requests()["leadsquared"]] == ["919845007919"]
    assert [lead[KEY_FIELD] for lead in lines(tmp_path / "out.jsonl")] == ["919845000000", "919845007919"]


def test_429s_beyond_the_sources_limit_are_retried_until_every_phone_is_pulled(fresh_sandbox, tmp_path) -> None:
    fresh_sandbox.configure(leadsquared_limit=1, leadsquared_window_s=0.4)  # 2.5 calls/s
    sheet = tmp_path / "phones.csv"
    sheet.write_text("Phone\n9845000000\n9845007919\n9845015838\n9845040001\n9845040012\n", encoding="utf-8")
    options = PullOptions(sheet=sheet, out=tmp_path / "out.jsonl", report_dir=tmp_path / "r",
                          retry=RetryPolicy(max_attempts=30, base=0.05, cap=0.2))
    summary = Pull(leadsquared(fresh_sandbox), options).run().summary  # real clock: the window is real time
    assert (summary["pulled"], summary["failed"]) == (5, 0)
    statuses = [call["status"] for call in fresh_sandbox.source_requests()["leadsquared"]]
    assert statuses.count(429) == summary["throttled"] > 0 and statuses.count(200) == 5
    assert summary["requests"] == len(statuses)


def test_a_pollybot_pull_refuses_bad_ids_before_any_call(fresh_sandbox, tmp_path) -> None:
    result, _ = pull(pollybot(fresh_sandbox), tmp_path, IDS, name="ids.csv")
    summary = result.summary
    assert (summary["pulled"], summary["missed"], summary["refused"], summary["requests"]) == (3, 1, 1, 4)
    asked = [call["id"] for call in fresh_sandbox.source_requests()["pollybot"]]
    assert asked == ["lead_aa49d53c31e4598b", "lead_nope404", "lead_7a659b3697e91a96", "lead_61b28b5e5773842e"]
    assert [lead["id"] for lead in lines(tmp_path / "out.jsonl")] == [
        "lead_aa49d53c31e4598b", "lead_7a659b3697e91a96", "lead_61b28b5e5773842e"]
    assert "4,lead_nope404,no PollyBot lead has this id" in (tmp_path / "out.misses.csv").read_text(encoding="utf-8")
    assert "3,id,error,invalid-lead-id" in (result.folder / "issues.csv").read_text(encoding="utf-8")


def test_a_refused_sheet_of_ids_makes_no_call_at_all(fresh_sandbox, tmp_path) -> None:
    result, _ = pull(pollybot(fresh_sandbox), tmp_path, "id\nlead-1\nLEAD_2\n", name="ids.csv")
    assert (result.summary["refused"], result.summary["requests"]) == (2, 0)
    assert fresh_sandbox.source_requests()["pollybot"] == []


class _StoppingSource:
    """PollyBot, where a SIGTERM arrives (the stop is requested) once ``count`` ids have been asked."""

    def __init__(self, source: PollyBotSource, stop: Stop, count: int) -> None:
        self.source, self.stop, self.count, self.asked = source, stop, count, 0

    def __getattr__(self, name: str):
        return getattr(self.source, name)

    def fetch(self, key: str):
        fetched = self.source.fetch(key)
        self.asked += 1
        if self.asked == self.count:
            self.stop.request("signal", "SIGTERM received")
        return fetched


def test_a_stopped_pull_says_what_is_left_and_the_next_one_goes_on(fresh_sandbox, tmp_path) -> None:
    stop = Stop()
    result, _ = pull(_StoppingSource(pollybot(fresh_sandbox), stop, 2), tmp_path, IDS, name="ids.csv", stop=stop)
    summary = result.summary
    assert (summary["stopped"], summary["stopped_because"], summary["rows_left"], summary["pulled"]) == (
        "signal", "SIGTERM received", 2, 1)
    assert len(fresh_sandbox.source_requests()["pollybot"]) == 2  # nothing asked once the stop came
    assert "stopped (signal): SIGTERM received; 2 left: run the same command again to pull the rest" in \
        summary_lines(result)
    result, _ = pull(pollybot(fresh_sandbox), tmp_path, IDS, name="ids.csv")
    assert (result.summary["already"], result.summary["pulled"], result.summary["stopped"]) == (2, 2, None)
    assert len(lines(tmp_path / "out.jsonl")) == 3


def test_a_401_stops_the_pull_with_its_report(fresh_sandbox, tmp_path) -> None:
    with pytest.raises(AuthError, match="Invalid access key") as caught:
        pull(leadsquared(fresh_sandbox, secret="wrong"), tmp_path, PHONES)
    folder = caught.value.report_folder
    assert folder is not None
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert (summary["pulled"], summary["rows_left"]) == (0, 4)


def test_a_lead_reached_through_two_phones_is_written_once(fresh_sandbox, tmp_path) -> None:
    # 9845040046 is one lead's Phone and Nikhil's Mobile; Nikhil (the most recent activity) comes first for both.
    result, _ = pull(leadsquared(fresh_sandbox), tmp_path, "Phone\n9845040046\n9845040047\n")
    assert (result.summary["pulled"], result.summary["same_lead"], result.summary["warnings"]) == (1, 1, 1)
    assert [lead["FirstName"] for lead in lines(tmp_path / "out.jsonl")] == ["Nikhil"]
    result, _ = pull(leadsquared(fresh_sandbox), tmp_path, "Phone\n9845040046\n9845040047\n")
    assert (result.summary["already"], result.summary["same_lead"], result.summary["pulled"]) == (1, 1, 0)
