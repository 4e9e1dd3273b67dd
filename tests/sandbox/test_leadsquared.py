"""The sandbox's LeadSquared: RetrieveLeadByPhoneNumber as seed 003 documents it, its 25-in-5-s limit included."""

from __future__ import annotations

import time

import requests

PATH = "/v2/LeadManagement.svc/RetrieveLeadByPhoneNumber"
KEYS = {"accessKey": "demo-access-key", "secretKey": "demo-secret-key"}


def ask(server, phone: str | None, **keys: str) -> requests.Response:
    params = {**KEYS, **keys}
    if phone is not None:
        params["phone"] = phone
    return requests.get(server.leadsquared_url + PATH, params=params, timeout=10)


def test_a_phone_or_mobile_with_or_without_country_code_returns_the_documented_lead_list(fresh_sandbox) -> None:
    for phone in ("9845000000", "919845000000"):
        answer = ask(fresh_sandbox, phone)
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        [lead] = answer.json()
        assert (lead["ProspectID"], lead["FirstName"], lead["Phone"], lead["Mobile"]) == (
            "0b49fd7d-e834-4862-9d48-f2a330eb2cd7", "Varun", "9845000000", None)
        assert lead["EmailAddress"] is None and lead["Fax"] is None  # empty cells and undocumented columns: null
        assert all(value is None or isinstance(value, str) for value in lead.values())
    assert [lead["FirstName"] for lead in ask(fresh_sandbox, "7022107919").json()] == ["Meera"]  # by Mobile
    assert ask(fresh_sandbox, "919999999999").json() == []


def test_several_matches_come_most_recent_activity_first(fresh_sandbox) -> None:
    leads = ask(fresh_sandbox, "9845040012").json()
    assert len(leads) == 2
    assert leads[0]["ProspectActivityDate_Max"] > leads[1]["ProspectActivityDate_Max"]


def test_errors(fresh_sandbox) -> None:
    unauthorised = ask(fresh_sandbox, "9845000000", secretKey="wrong")
    assert unauthorised.status_code == 401
    assert unauthorised.json() == {"Status": "Error", "ExceptionType": "MXUnAuthorizedAccessException",
                                   "ExceptionMessage": "Invalid access key or secret key"}
    assert ask(fresh_sandbox, "98450-00000").status_code == 400
    assert ask(fresh_sandbox, "+919845000000").status_code == 400
    assert ask(fresh_sandbox, None).status_code == 400


def test_the_26th_call_in_5_seconds_is_a_429(fresh_sandbox) -> None:
    with requests.Session() as session:
        statuses = [session.get(fresh_sandbox.leadsquared_url + PATH, params={**KEYS, "phone": "9845000000"},
                                timeout=10).status_code for _ in range(26)]
        assert statuses == [200] * 25 + [429]
        refused = session.get(fresh_sandbox.leadsquared_url + PATH, params={**KEYS, "phone": "1"}, timeout=10)
    assert refused.json()["ExceptionMessage"] == "API calls exceeded the limit of 25 in 5 second(s)"
    fresh_sandbox.configure(leadsquared_window_s=0.2)
    time.sleep(0.25)
    assert ask(fresh_sandbox, "9845000000").status_code == 200  # a sliding window: calls age out


def test_the_log_and_the_knobs_never_show_the_keys(fresh_sandbox) -> None:
    ask(fresh_sandbox, "9845000000")
    assert fresh_sandbox.source_requests()["leadsquared"][0]["phone"] == "9845000000"
    shown = repr(fresh_sandbox.source_requests()) + repr(fresh_sandbox.config_now())
    assert "demo-access-key" not in shown and "demo-secret-key" not in shown and "sk-workspace_demo" not in shown
