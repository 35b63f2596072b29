"""Follow-up the steering group can act on (issue #12): true statuses, real ranges, a report
per station, measures with their reasons."""

from __future__ import annotations

import pytest

from ledger.access import SYSTEM
from ledger.inputs import ActionPlanIn, PromiseIn
from tests.e2e.live import trygg
from tests.e2e.test_dashboard import sign_in
from tests.factories import activity

PROMISE = {
    "code": "q",
    "title": "Löfte",
    "period_start": "2022-01-03",  # a Monday
    "period_end": "2022-04-03",  # a Sunday: 13 whole weeks
    "stations": ["lerum"],
    "parties": ["vasttrafik", "trafikverket"],
    "commitments": [
        {
            "code": "hosts",
            "actor": "vasttrafik",
            "kind": "security_host_shift",
            "target": {"count": 2, "per": "week"},
        },
        {
            "code": "event",
            "actor": "vasttrafik",
            "kind": "public_event",
            "target": {"count": 1, "due": "2022-02-28"},
        },
    ],
}


def shift(n: int, day: str) -> dict:
    return activity(
        n, started_at=f"{day}T16:00:00+01:00", ended_at=f"{day}T20:00:00+01:00", staff_count=1
    )


@pytest.fixture
def promise(client, keys, registry):
    registry.registry.make_promise(SYSTEM, PromiseIn.model_validate(PROMISE))
    h = keys.header("partner")
    # January: two shifts in each of weeks 1 and 2, one in week 3; March: two in week 10.
    days = ["2022-01-04", "2022-01-06", "2022-01-11", "2022-01-13", "2022-01-18"]
    days += ["2022-03-08", "2022-03-10"]
    last = None
    for n, day in enumerate(days, start=1):
        last = client.post("/v1/activities", json=shift(n, day), headers=h).json()
    # Pages read the views as they stand: let them catch up first (the API's reads can
    # also pass min_position).
    registry.views.wait_for(last["position"], tuple(registry.runner.projections))
    return last["position"]


def progress(client, keys, position, **params):
    r = client.get(
        "/v1/promises/q/progress",
        params={"min_position": position, **params},
        headers=keys.header("steering"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    return body, {c["code"]: c["stations"][0] for c in body["commitments"]}


def test_a_quarter_is_judged_by_its_own_whole_weeks(client, keys, promise):
    body, by = progress(client, keys, promise, **{"from": "2022-01-01", "to": "2022-03-31"})
    assert (body["from"], body["to"]) == ("2022-01-03", "2022-03-31")  # clipped to the period
    hosts = by["hosts"]
    assert hosts["target"] == 2 * 12  # 12 whole weeks from 3 Jan to 27 Mar
    assert (hosts["weeks"], hosts["weeks_met"]) == (12, 3)  # weeks 1, 2 and 10
    assert hosts["delivered"] == 7
    assert hosts["status"] == "missed"  # the quarter has ended
    assert by["event"]["status"] == "missed"  # due 28 Feb, never held


def test_one_month_answers_what_was_delivered_then(client, keys, promise):
    _, by = progress(client, keys, promise, **{"from": "2022-03-01", "to": "2022-03-31"})
    assert by["hosts"]["delivered"] == 2
    assert by["hosts"]["target"] == 2 * 3  # the whole weeks from 7, 14 and 21 March
    assert (by["hosts"]["weeks"], by["hosts"]["weeks_met"]) == (3, 1)


def test_a_range_outside_the_period_is_refused(client, keys, promise):
    r = client.get(
        "/v1/promises/q/progress",
        params={"from": "2023-01-01", "to": "2023-02-01"},
        headers=keys.header("steering"),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "from"


def test_a_due_day_outside_the_period_is_refused(client, keys):
    bad = {**PROMISE, "code": "bad", "commitments": [{**PROMISE["commitments"][1]}]}
    bad["commitments"][0]["target"] = {"count": 1, "due": "2023-01-01"}
    r = client.post("/v1/promises", json=bad, headers=keys.header("admin"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "commitments.0.target.due"


def test_measures_carry_their_problem_place_and_rationale(client, keys, registry):
    registry.registry.make_promise(SYSTEM, PromiseIn.model_validate(PROMISE))
    plan = ActionPlanIn.model_validate(
        {
            "promise": "q",
            "station": "lerum",
            "measures": [
                {
                    "title": "Belysning i tunneln",
                    "owner": "trafikverket",
                    "due": "2022-03-01",
                    "problem": "Mörk tunnel",
                    "place": "tunnel",
                    "rationale": "Trygghetsvandringen pekade ut tunneln",
                }
            ],
        }
    )
    receipt = registry.registry.create_action_plan(SYSTEM, plan)
    got = client.get(f"/v1/action-plans/{receipt.id}", headers=keys.header("steering")).json()
    measure = got["measures"][0]
    assert (measure["problem"], measure["place"]) == ("Mörk tunnel", "tunnel")
    wrong = {"title": "X", "owner": "trafikverket", "due": "2022-03-01", "place": "harbour"}
    r = client.post(
        f"/v1/action-plans/{receipt.id}/measures", json=wrong, headers=keys.header("admin")
    )
    assert r.status_code == 422


def test_the_report_has_a_summary_a_section_per_station_and_page_numbers(
    client, keys, promise, cli_env, tmp_path
):
    sign_in(client, keys.steering)
    html = client.get("/report", params={"from": "2022-01-03", "to": "2022-04-03"}).text
    assert "av 2 åtaganden (per station)" in html  # the generated summary
    assert 'id="r-st-lerum"' in html  # one section per station
    assert "Vad parterna gjorde" in html
    assert "Trygghetsvärdar 7 aktiviteter" in html
    assert "Per part" in html
    css = client.get("/static/dashboard.css").text
    assert "counter(page)" in css  # page numbers when printed
    out = tmp_path / "lerum.html"
    trygg(
        "report",
        "--from",
        "2022-01-03",
        "--to",
        "2022-04-03",
        "--station",
        "lerum",
        "--out",
        str(out),
        env=cli_env,
    )
    assert 'id="r-st-lerum"' in out.read_text(encoding="utf-8")
