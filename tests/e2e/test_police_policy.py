"""Who sees police activity, in one table: role × view × granularity (issue #10).

One rule (``ledger.access.may_see``) decides; this table pins what every role gets from
every view over HTTP, live and "as of": single police entries and day-level police
figures only for the police's own key, auditors and administrators; every other role
sees police activity in whole ISO weeks or months, with ranges widened to whole periods,
``403`` on police entries, and the same ``404`` as an unknown id for another actor's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.access import SYSTEM, Detail, Principal, Role, may_see
from ledger.inputs import PromiseIn
from projections.runner import ProjectionRunner
from projections.views import Views
from tests.factories import activity

ROLES = ("police", "partner", "steering", "auditor", "admin")

# Wednesday 2022-02-02: the police patrol; Västtrafik's shift two days later.
PATROL = activity(
    1,
    external_id="pol-1",
    kind="patrol",
    started_at="2022-02-02T10:00:00+01:00",
    ended_at="2022-02-02T12:00:00+01:00",
    details={"mode": "foot"},
)
SHIFT = activity(
    2,
    started_at="2022-02-04T16:00:00+01:00",
    ended_at="2022-02-04T20:00:00+01:00",
)
UNKNOWN = "00000000-0000-4000-8000-000000000000"
DAY = {"from": "2022-02-02", "to": "2022-02-02"}


@pytest.fixture
def world(client, keys, registry) -> dict[str, Any]:
    police_key = registry.create_key(Role.partner, "polisen-alingsas", None)[1]
    headers = {role: keys.header(role) for role in ROLES if role != "police"}
    headers["police"] = {"Authorization": f"Bearer {police_key}"}
    patrol = client.post("/v1/activities", json=PATROL, headers=headers["police"]).json()
    shift = client.post("/v1/activities", json=SHIFT, headers=headers["partner"]).json()
    registry.registry.make_promise(
        SYSTEM,
        PromiseIn.model_validate(
            {
                "code": "p",
                "title": "Löfte",
                "period_start": "2022-01-03",
                "period_end": "2022-03-31",
                "stations": ["lerum"],
                "parties": ["polisen-alingsas"],
                "commitments": [
                    {
                        "code": "c",
                        "actor": "polisen-alingsas",
                        "kind": "patrol",
                        "target": {"count": 1, "per": "week"},
                    }
                ],
            }
        ),
    )
    return {"headers": headers, "patrol": patrol, "shift": shift, "position": shift["position"]}


def police_rows(body: dict[str, Any], key: str = "rows") -> list[dict[str, Any]]:
    return [r for r in body.get(key, []) if r.get("actor") == "polisen-alingsas"]


def view(client, w, name: str, role: str):
    """GET one view as one role; returns the response."""
    h = w["headers"][role]
    at = {"min_position": w["position"]}
    patrol = w["patrol"]["id"]
    match name:
        case "entry":
            return client.get(f"/v1/activities/{patrol}", headers=h)
        case "history":
            return client.get(f"/v1/activities/{patrol}/history", headers=h)
        case "list_police":
            return client.get(
                "/v1/activities", params={"actor": "polisen-alingsas", **at}, headers=h
            )
        case "list_all":
            return client.get("/v1/activities", params=at, headers=h)
        case "feed":
            return client.get("/v1/feed", headers=h)
        case "station_day":
            params = {"group": "day", **DAY, **at}
            return client.get("/v1/stations/lerum/summary", params=params, headers=h)
        case "station_day_as_of":
            params = {"group": "day", **DAY, "as_of": str(w["position"])}
            return client.get("/v1/stations/lerum/summary", params=params, headers=h)
        case "station_week_of_one_day":
            params = {"group": "week", **DAY, **at}
            return client.get("/v1/stations/lerum/summary", params=params, headers=h)
        case "actor_day":
            params = {"group": "day", **DAY, **at}
            return client.get("/v1/actors/polisen-alingsas/summary", params=params, headers=h)
        case "actor_week_of_one_day":
            params = {"group": "week", **DAY, **at}
            return client.get("/v1/actors/polisen-alingsas/summary", params=params, headers=h)
        case "actor_month_of_one_day":
            params = {"group": "month", **DAY, **at}
            return client.get("/v1/actors/polisen-alingsas/summary", params=params, headers=h)
    raise AssertionError(name)


def sees_the_patrol(name: str, r) -> bool:
    """Did the answer show the patrol in detail (one entry, or its day)?"""
    body = r.json()
    match name:
        case "entry" | "history":
            return r.status_code == 200
        case "list_police" | "list_all":
            return r.status_code == 200 and bool(police_rows(body, "items"))
        case "feed":
            return any(e["actor"] == "polisen-alingsas" for e in body["events"])
        case "station_day" | "station_day_as_of" | "actor_day":
            return r.status_code == 200 and any(
                row["period"] == "2022-02-02" for row in body["rows"]
            )
        case "station_week_of_one_day" | "actor_week_of_one_day" | "actor_month_of_one_day":
            # Exactly the asked day (not widened) is detail; a whole week or month is not.
            return (
                body["from"] == "2022-02-02"
                and body["to"] == "2022-02-02"
                and bool(
                    police_rows(body) or (body.get("actor") == "polisen-alingsas" and body["rows"])
                )
            )
    raise AssertionError(name)


DETAIL_ROLES = {"police", "auditor", "admin"}

#: view → (status for roles that may see police detail, status for the others).
MATRIX: dict[str, tuple[int, int]] = {
    "entry": (200, 403),
    "history": (200, 403),
    "list_police": (200, 403),
    "list_all": (200, 200),
    "feed": (200, 200),
    "station_day": (200, 200),
    "station_day_as_of": (200, 200),
    "station_week_of_one_day": (200, 200),
    "actor_day": (200, 403),
    "actor_week_of_one_day": (200, 200),
    "actor_month_of_one_day": (200, 200),
}


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_police_detail_only_for_the_police_auditors_and_administrators(client, world, name):
    seen = {}
    for role in ROLES:
        r = view(client, world, name, role)
        allowed, refused = MATRIX[name]
        expected = allowed if role in DETAIL_ROLES else refused
        if role == "partner" and name in ("entry", "history"):
            expected = 404  # another actor's entry: as if it did not exist
        assert r.status_code == expected, (role, name, r.text)
        seen[role] = r.status_code == 200 and sees_the_patrol(name, r)
    assert seen == {role: role in DETAIL_ROLES for role in ROLES}, name


@pytest.mark.parametrize("role", ROLES)
def test_promise_progress_counts_police_in_whole_weeks_outside_the_police(
    client, world, registry, role
):
    """Judged on the evening of the patrol (a Wednesday), the progress would show that
    day's patrol; outside the police it counts police activity to the last whole week."""
    wednesday_evening = datetime(2022, 2, 2, 22, 0, tzinfo=UTC)
    runner = ProjectionRunner(registry.ledger.recorder, registry.engine)
    runner.catch_up_all()
    views = Views(registry.ledger, registry.registry, runner, clock=lambda: wednesday_evening)
    who = PRINCIPALS[role]
    progress = views.promise_progress(who, "p")
    delivered = progress["commitments"][0]["stations"][0]["delivered"]
    assert delivered == (1 if role in DETAIL_ROLES else 0)
    # The whole period, once it is over, counts every day for everyone.
    after = Views(
        registry.ledger, registry.registry, runner, clock=lambda: datetime(2022, 4, 1, tzinfo=UTC)
    )
    assert after.promise_progress(who, "p")["commitments"][0]["stations"][0]["delivered"] == 1


PRINCIPALS = {
    "police": Principal("k", Role.partner, "polisen-alingsas"),
    "partner": Principal("k", Role.partner, "vasttrafik"),
    "steering": Principal("k", Role.steering),
    "auditor": Principal("k", Role.auditor),
    "admin": Principal("k", Role.admin),
}


def test_another_actors_entry_and_an_unknown_id_answer_alike(client, world):
    h = world["headers"]["partner"]
    for path in ("", "/history"):
        mine_not = client.get(f"/v1/activities/{world['patrol']['id']}{path}", headers=h)
        unknown = client.get(f"/v1/activities/{UNKNOWN}{path}", headers=h)
        assert mine_not.status_code == unknown.status_code == 404
        assert mine_not.json()["code"] == unknown.json()["code"] == "not_found"


def test_a_widened_range_says_so_and_covers_whole_weeks(client, world):
    r = view(client, world, "station_week_of_one_day", "steering").json()
    assert (r["from"], r["to"]) == ("2022-01-31", "2022-02-06")
    assert "widened" in r
    assert {row["actor"] for row in r["rows"]} == {"polisen-alingsas", "vasttrafik"}


def test_other_actors_stay_exact_for_the_steering_group(client, world):
    h = world["headers"]["steering"]
    params = {"group": "day", **DAY, "min_position": world["position"]}
    r = client.get("/v1/actors/vasttrafik/summary", params=params, headers=h).json()
    assert (r["from"], r["to"], r["rows"]) == ("2022-02-02", "2022-02-02", [])
    assert "widened" not in r
    r = client.get(f"/v1/activities/{world['shift']['id']}", headers=h)
    assert r.status_code == 200


class _Actor:
    def __init__(self, code: str, kind: str) -> None:
        self.code, self.kind = code, kind


POLICE = _Actor("polisen-alingsas", "police")
TRANSIT = _Actor("vasttrafik", "transit")
E, D, W, M = Detail.entry, Detail.day, Detail.week, Detail.month


@pytest.mark.parametrize(
    ("who", "owner", "visible"),
    [
        # the police's own key: everything of its own
        (Principal("k", Role.partner, "polisen-alingsas"), POLICE, {E, D, W, M}),
        # another partner: police in weeks and months; a non-police actor per day, no entries
        (Principal("k", Role.partner, "trafikverket"), POLICE, {W, M}),
        (Principal("k", Role.partner, "trafikverket"), TRANSIT, {D, W, M}),
        # the steering group: every entry but police ones; police in weeks and months
        (Principal("k", Role.steering), POLICE, {W, M}),
        (Principal("k", Role.steering), TRANSIT, {E, D, W, M}),
        # auditors and administrators: everything
        (Principal("k", Role.auditor), POLICE, {E, D, W, M}),
        (Principal("k", Role.admin), POLICE, {E, D, W, M}),
    ],
)
def test_the_rule_itself(who, owner, visible):
    assert {d for d in Detail if may_see(who, owner, d)} == visible
