"""Alert rules, what is new, and the notice: importer.report.alerts, without any server."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.report.alerts import DEFAULT_RULES, Problem, Rule, alert_notice, decide, parse_rules, problems_of

FINISHED = {"input": "leads.csv", "rows_total": 100, "succeeded": 90, "failed": 2, "in_doubt": 0, "skipped": 0,
            "invalid": 3, "unchanged": 5, "warnings": 0, "dry_run": False}


@pytest.mark.parametrize(
    ("rule", "counts", "fires"),
    [
        ("invalid>2%", {"invalid": 2}, False),  # 2.0% is not over 2%
        ("invalid>2%", {"invalid": 3}, True),
        ("invalid > 2.5 %", {"invalid": 3}, True),
        ("invalid>0", {"invalid": 0}, False),
        ("invalid>0", {"invalid": 1}, True),
        ("unchanged<50%", {"unchanged": 50}, False),
        ("unchanged<50%", {"unchanged": 49}, True),
        ("failed>=2", {"failed": 1}, False),
        ("failed>=2", {"failed": 2}, True),
        ("in_doubt>0", {"in_doubt": 1}, True),
    ],
)
def test_a_threshold_just_under_does_not_fire_and_just_over_does(rule: str, counts: dict, fires: bool) -> None:
    summary = {**FINISHED, "invalid": 0, "failed": 0, "unchanged": 0, **counts}
    assert Rule.parse(rule).fires(summary, "finished") is fires


def test_events_fire_on_their_own_kind_of_run_and_counts_only_on_a_finished_one() -> None:
    stopped, guard, fatal, every = (Rule.parse(text) for text in ("stopped", "guard", "FATAL", "any"))
    assert stopped.fires(FINISHED, "stopped") and not stopped.fires(FINISHED, "finished")
    assert guard.fires({}, "guard") and not guard.fires({}, "fatal")
    assert fatal.fires({}, "fatal") and fatal.text == "fatal"
    assert all(every.fires(FINISHED, event) for event in ("finished", "stopped", "guard", "fatal"))
    assert not Rule.parse("failed>0").fires(FINISHED, "stopped")
    assert [rule.text for rule in parse_rules([*DEFAULT_RULES, "failed > 0"])] == list(DEFAULT_RULES)


@pytest.mark.parametrize("text", ["failed", "errors>0", "invalid>150%", "invalid=>2", "stoped", "failed>-1", ""])
def test_a_rule_that_cannot_be_read_says_what_a_rule_may_be(text: str) -> None:
    with pytest.raises(ValueError, match="expected a rule such as failed>0|a share is at most 100%"):
        Rule.parse(text)


def test_problems_are_the_errors_and_the_rows_the_api_did_not_take() -> None:
    issues = [{"_row": "3", "severity": "warning", "code": "duplicate-phone", "value": ""},
              {"_row": "7", "severity": "error", "code": "invalid-phone", "value": "12345"},
              {"_row": "9", "severity": "error", "code": "invalid-number", "value": "'-5L-2L"}]
    failures = [{"_row": "7", "_error": "invalid-phone: '12345' is not a valid phone number"},
                {"_row": "9", "_error": "invalid-number: …"},
                {"_row": "11", "_error": "Assignee user is not part of your team"}]
    assert problems_of(issues, failures) == {Problem(7, "invalid-phone", "12345"),
                                             Problem(9, "invalid-number", "-5L-2L"),  # the cell as typed
                                             Problem(11, "failed", "Assignee user is not part of your team")}


RULES = parse_rules(["invalid>0", "failed>0"])
BAD = frozenset({Problem(7, "invalid-phone", "12345")})


def test_a_new_problem_alerts_the_same_again_does_not_and_its_fix_recovers_once() -> None:
    first = decide(RULES, FINISHED, "finished", BAD, frozenset(), False)
    assert (first.action, [rule.text for rule in first.fired], first.new) == ("alert", ["invalid>0", "failed>0"],
                                                                              tuple(BAD))
    second = decide(RULES, FINISHED, "finished", BAD, BAD, first.alerting)
    assert (second.action, second.alerting, second.known_only) == ("quiet", True, True)
    assert decide(RULES, FINISHED, "finished", BAD, BAD, True, on_known=True).action == "alert"
    clean = {**FINISHED, "invalid": 0, "failed": 0}
    third = decide(RULES, clean, "finished", frozenset(), BAD, second.alerting)
    assert (third.action, third.alerting) == ("recovered", False)
    assert decide(RULES, clean, "finished", frozenset(), frozenset(), third.alerting).action == "quiet"


def test_a_changed_value_is_a_new_problem_and_rules_not_about_rows_always_send() -> None:
    changed = frozenset({Problem(7, "invalid-phone", "123456")})
    assert decide(RULES, FINISHED, "finished", changed, BAD, True).action == "alert"
    assert decide(parse_rules(["unchanged<50%"]), FINISHED, "finished", BAD, BAD, True).action == "alert"
    assert decide(parse_rules(["fatal"]), {}, "fatal", frozenset(), None, False).action == "alert"
    only_failed = parse_rules(["failed>0"])  # a new invalid row does not make old failures new
    assert decide(only_failed, FINISHED, "finished", BAD | {Problem(9, "failed", "x")},
                  frozenset({Problem(9, "failed", "x")}), True).action == "quiet"


def test_the_alert_lists_twenty_new_problems_then_a_count_and_links_the_report() -> None:
    many = frozenset(Problem(row, "invalid-number", f"{row} lakh-ish") for row in range(2, 27))
    decision = decide(RULES, FINISHED, "finished", many, frozenset(), False)
    notice = alert_notice(decision, RULES, FINISHED, 1, Path("reports/run"))
    lines = notice.text.splitlines()
    assert lines[:4] == ["leads.csv: 100 rows: 90 succeeded, 2 failed, 0 in doubt, 0 skipped, 5 unchanged, 3 invalid; "
                         "0 warnings — exit 1 — report: reports/run", "alert: invalid>0, failed>0",
                         "new problems (25):", "  row 2: invalid-number '2 lakh-ish'"]
    assert lines[22:] == ["  row 21: invalid-number '21 lakh-ish'", "  … and 5 more",
                          f"details: {Path('reports/run/report.html')}"]
    assert notice.subject == "superfone-import: leads.csv: some rows failed or are invalid (exit 1)"
    assert notice.body["alert"]["new_problems_total"] == 25 and len(notice.body["alert"]["new_problems"]) == 20
    assert notice.body["exit_code"] == 1 and notice.body["report"] == "reports/run" and notice.body["failed"] == 2


def test_the_recovered_notice() -> None:
    clean = {**FINISHED, "invalid": 0, "failed": 0}
    decision = decide(RULES, clean, "finished", frozenset(), BAD, True)
    notice = alert_notice(decision, RULES, clean, 0, Path("r"))
    assert notice.subject == "superfone-import: leads.csv: recovered (exit 0)"
    assert notice.text.splitlines()[1] == "recovered: no alert rule fired (invalid>0, failed>0)"
    assert notice.body["alert"] == {"status": "recovered", "rules": [], "new_problems": [], "new_problems_total": 0}
