"""The read side over HTTP: read-your-writes, as-of, filters, and who sees what."""

import json

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from ledger.access import Role
from tests.e2e.live import trygg
from tests.factories import activity, observation


def test_a_read_with_min_position_sees_the_write(client, keys):
    h = keys.header("partner")
    receipt = client.post("/v1/activities", json=activity(), headers=h).json()
    r = client.get(
        "/v1/stations/lerum/summary",
        params={"min_position": receipt["position"], "group": "day"},
        headers=keys.header("steering"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == [
        {
            "period": "2021-10-01",
            "actor": "vasttrafik",
            "kind": "security_host_shift",
            "activities": 1,
            "hours": 6.0,
            "staff_hours": 12.0,
        }
    ]
    listed = client.get(
        "/v1/activities", params={"min_position": receipt["position"]}, headers=h
    ).json()
    assert [i["external_id"] for i in listed["items"]] == ["vt-1"]


def test_a_read_that_cannot_catch_up_is_503_with_retry_after(registry, keys):
    settings = registry.settings.model_copy(
        update={"embedded_projections": False, "read_wait_seconds": 0.2}
    )
    runtime = Runtime(settings)  # the same database, no projection runner in this process
    with TestClient(create_app(settings, runtime=runtime), raise_server_exceptions=False) as c:
        receipt = c.post("/v1/activities", json=activity(), headers=keys.header("partner")).json()
        r = c.get(
            "/v1/stations/lerum/summary",
            params={"min_position": receipt["position"]},
            headers=keys.header("steering"),
        )
    runtime.close()
    assert r.status_code == 503
    assert r.json()["code"] == "not_caught_up"
    assert r.headers["Retry-After"] == "1"


def test_a_min_position_beyond_the_log_is_422(client, keys):
    r = client.get("/v1/situation", params={"min_position": 10**9}, headers=keys.header("steering"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "min_position"


def test_as_of_a_position_over_http(client, keys):
    h = keys.header("partner")
    first = client.post("/v1/activities", json=activity(1), headers=h).json()
    client.post("/v1/activities", json=activity(2), headers=h)
    r = client.get("/v1/stations/lerum/summary", params={"as_of": first["position"]}, headers=h)
    assert r.status_code == 200
    assert r.json()["totals"]["activities"] == 1
    assert r.json()["as_of_position"] == first["position"]


@pytest.mark.parametrize("bad", ["yesterday", "2022-03-01T12:00:00", "-5"])
def test_a_bad_as_of_is_422(client, keys, bad):
    r = client.get(
        "/v1/stations/lerum/summary", params={"as_of": bad}, headers=keys.header("steering")
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "as_of"


def test_a_reversed_date_range_is_422(client, keys):
    r = client.get(
        "/v1/situation",
        params={"from": "2021-10-10", "to": "2021-10-01"},
        headers=keys.header("steering"),
    )
    assert r.status_code == 422


def test_partners_list_only_their_own_entries(client, keys):
    client.post("/v1/activities", json=activity(1), headers=keys.header("partner"))
    r = client.get(
        "/v1/activities",
        params={"actor": "vasttrafik", "min_position": 1},
        headers=keys.header("other_partner"),
    )
    assert r.status_code == 403
    r = client.get("/v1/activities", headers=keys.header("other_partner"))
    assert r.json()["items"] == []


def test_police_activity_is_not_shown_day_by_day_outside_the_police(client, keys, registry):
    police = registry.create_key(Role.partner, "polisen-alingsas", None)[1]
    receipt = client.post(
        "/v1/activities",
        json=activity(kind="patrol", staff_count=2),
        headers={"Authorization": f"Bearer {police}"},
    ).json()
    params = {"group": "day", "min_position": receipt["position"]}
    as_partner = client.get(
        "/v1/stations/lerum/summary", params=params, headers=keys.header("partner")
    ).json()
    assert as_partner["rows"] == []
    assert "withheld" in as_partner
    weekly = client.get(
        "/v1/stations/lerum/summary", params={"group": "week"}, headers=keys.header("partner")
    ).json()
    assert weekly["rows"][0]["actor"] == "polisen-alingsas"
    # Issue #10: the steering group, too, sees police activity per week or month only.
    as_steering = client.get(
        "/v1/stations/lerum/summary", params=params, headers=keys.header("steering")
    ).json()
    assert as_steering["rows"] == []
    assert "withheld" in as_steering
    as_auditor = client.get(
        "/v1/stations/lerum/summary", params=params, headers=keys.header("auditor")
    ).json()
    assert as_auditor["rows"][0]["actor"] == "polisen-alingsas"


def test_situation_and_projection_status(client, keys):
    receipt = client.post(
        "/v1/observations", json=observation(), headers=keys.header("partner")
    ).json()
    r = client.get(
        "/v1/situation",
        params={
            "station": "lerum",
            "from": "2021-09-27",
            "to": "2021-10-03",
            "min_position": receipt["position"],
        },
        headers=keys.header("steering"),
    )
    assert r.json()["rows"][0]["count"] == 2
    status = client.get("/v1/projections", headers=keys.header("auditor")).json()["items"]
    assert {s["name"] for s in status} == {
        "activities",
        "observations",
        "action_plans",
        "ideas",
        "surveys",
        "findings",
    }
    assert all(s["lag"] >= 0 and s["state"] in {"live", "building"} for s in status)


def test_cli_replay_answers_from_the_views_history_even_when_they_lag(registry, cli_env, tmp_path):
    """No server runs: the views have not seen the entries yet. `trygg replay` brings them
    up to date, then answers as of the first entry from their stored history."""
    from ledger.access import Principal
    from ledger.entry_service import ACTIVITY
    from ledger.inputs import ActivityIn

    hosts = Principal("k", Role.partner, "vasttrafik")
    first = registry.entries.record_entry(ACTIVITY, hosts, ActivityIn.model_validate(activity(1)))
    registry.entries.record_entry(ACTIVITY, hosts, ActivityIn.model_validate(activity(2)))
    assert registry.runner.live_positions().get("activities", 0) < first.position
    target = tmp_path / "replay.json"
    trygg("replay", "--as-of", str(first.position), "--out", str(target), env=cli_env)
    report = json.loads(target.read_text())
    assert report["stations"]["lerum"]["as_of_position"] == first.position
    assert report["stations"]["lerum"]["totals"]["activities"] == 1


def test_cli_status_rebuild_and_replay(registry, keys, cli_env, tmp_path):
    from ledger.access import Principal
    from ledger.entry_service import ACTIVITY
    from ledger.inputs import ActivityIn

    registry.entries.record_entry(
        ACTIVITY, Principal("k", Role.partner, "vasttrafik"), ActivityIn.model_validate(activity())
    )
    out = trygg("projections", "rebuild", env=cli_env).stdout
    assert "generation 2" in out
    status = trygg("projections", "status", env=cli_env).stdout
    assert "activities" in status
    assert "live" in status
    target = tmp_path / "replay.json"
    trygg("replay", "--as-of", "2100-01-01T00:00:00+00:00", "--out", str(target), env=cli_env)
    report = json.loads(target.read_text())
    assert report["stations"]["lerum"]["totals"]["activities"] == 1
    bad = trygg("projections", "rebuild", "nonsense", env=cli_env, check=False)
    assert bad.returncode == 2
    assert "no projection" in bad.stderr


def test_metrics_expose_requests_and_ledger_health(client, keys):
    client.post("/v1/activities", json=activity(), headers=keys.header("partner"))
    client.get("/v1/activities/00000000-0000-0000-0000-000000000000", headers=keys.header("admin"))
    body = client.get("/metrics").text
    assert 'trygg_http_requests_total{method="POST",route="/v1/activities",status="201"} 1' in body
    assert 'route="/v1/activities/{entry_id}",status="404"' in body
    assert 'trygg_projection_lag{projection="activities"}' in body
    assert "trygg_log_head_position " in body
    assert "trygg_seal_lag " in body
    assert "trygg_group_commit_writes_total 1" in body  # the one single POST


def test_the_feed_follows_accepted_events_in_order(client, keys):
    mine = client.post("/v1/activities", json=activity(1), headers=keys.header("partner")).json()
    client.post("/v1/activities", json=activity(2), headers=keys.header("other_partner"))
    fix = {"changes": {"staff_count": 3}, "reason": "recount", "expected_version": 1}
    client.post(
        f"/v1/activities/{mine['id']}/corrections", json=fix, headers=keys.header("partner")
    )
    own = client.get("/v1/feed", headers=keys.header("partner")).json()
    assert [(e["type"], e["id"]) for e in own["events"]] == [
        ("recorded", mine["id"]),
        ("corrected", mine["id"]),
    ]
    assert all(e["actor"] == "vasttrafik" for e in own["events"])
    everything = client.get("/v1/feed", params={"limit": 2}, headers=keys.header("steering")).json()
    assert len(everything["events"]) == 2
    rest = client.get(
        "/v1/feed", params={"after": everything["next"]}, headers=keys.header("steering")
    ).json()
    assert [e["type"] for e in rest["events"]] == ["corrected"]
    assert (
        client.get(
            "/v1/feed", params={"after": rest["next"]}, headers=keys.header("steering")
        ).json()["events"]
        == []
    )
