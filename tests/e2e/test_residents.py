"""The citizens' side through HTTP: ideas without sign-in, the steering group's answers,
the public follow-up, the survey baseline and the lägesbild's comparisons.

All texts are made up; none names a person."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from ledger.access import SYSTEM, Role
from ledger.inputs import ActorIn, PromiseIn
from tests import factories
from tests.conftest import Keys

IDEA = {
    "station": "lerum",
    "zone": "tunnel",
    "category": "lighting",
    "text": "Gångtunneln är mörk på kvällen. Fler lampor vore bra.",
}


@pytest.fixture
def promise(registry: Runtime) -> Runtime:
    """A municipality, a promise over both stations, and an action plan for Lerum."""
    registry.registry.register_actor(
        SYSTEM,
        ActorIn.model_validate(
            {"code": "lerums-kommun", "name": "Lerums kommun", "kind": "municipality"}
        ),
    )
    registry.registry.make_promise(
        SYSTEM,
        PromiseIn.model_validate(
            {
                "code": "ml-2021",
                "title": "Medborgarlöfte 2021",
                "period_start": "2021-09-01",
                "period_end": "2022-08-31",
                "stations": ["lerum", "herrljunga"],
                "parties": ["vasttrafik", "polisen-alingsas", "lerums-kommun"],
                "commitments": [
                    {
                        "code": "hosts",
                        "actor": "vasttrafik",
                        "kind": "security_host_shift",
                        "stations": ["lerum"],
                        "target": {"count": 2, "per": "week"},
                    },
                    {
                        "code": "patrols",
                        "actor": "polisen-alingsas",
                        "kind": "patrol",
                        "target": {"count": 4, "per": "week"},
                    },
                    {
                        "code": "walks",
                        "actor": "lerums-kommun",
                        "kind": "safety_walk",
                        "stations": ["lerum"],
                        "target": {"count": 1, "per": "period"},
                    },
                ],
            }
        ),
    )
    from ledger.inputs import ActionPlanIn

    registry.registry.create_action_plan(
        SYSTEM,
        ActionPlanIn.model_validate(
            {
                "promise": "ml-2021",
                "station": "lerum",
                "measures": [
                    {
                        "code": "m1",
                        "title": "Röj buskar vid perrongen",
                        "owner": "lerums-kommun",
                        "due": "2022-03-31",
                    }
                ],
            }
        ),
    )
    return registry


@pytest.fixture
def town(promise: Runtime, keys: Keys) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The API with the promise, and a key for the municipality besides the usual ones."""
    municipality = promise.create_key(Role.partner, "lerums-kommun", None)[1]
    app = create_app(promise.settings, runtime=promise)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, {"Authorization": f"Bearer {municipality}"}


def _settled(client: TestClient, keys: Keys, position: int) -> None:
    """Wait until every view has read up to ``position`` (as ``min_position`` does)."""
    runtime = client.app.state.runtime
    runtime.views.wait_for(position, tuple(runtime.runner.projections))


def _send(client: TestClient, **overrides: str) -> dict:
    r = client.post("/v1/public/ideas", json={**IDEA, **overrides})
    assert r.status_code == 201, r.text
    return r.json()


# -- ideas ---------------------------------------------------------------------------------


def test_a_resident_sends_an_idea_without_a_key_and_it_waits_for_the_steering_group(
    town, keys: Keys
) -> None:
    client, _ = town
    sent = _send(client)
    assert sent["status"] == "new"
    _settled(client, keys, sent["position"])

    listed = client.get("/v1/ideas", headers=keys.header("steering")).json()["items"]
    assert [(i["id"], i["text"], i["status"]) for i in listed] == [
        (sent["id"], IDEA["text"], "new")
    ]
    assert client.get("/v1/public/ideas").json()["items"] == []  # undecided: not published


def test_personal_data_in_an_idea_is_refused_with_an_explanation(town) -> None:
    client, _ = town
    r = client.post(
        "/v1/public/ideas", json={**IDEA, "text": "Ring mig på 070-123 45 67 om lamporna"}
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "personal_data"
    assert body["errors"][0]["field"] == "text"
    assert "personuppgifter" in body["explanation"]["sv"]
    assert "personal data" in body["explanation"]["en"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"station": "nowhere"}, "station"),
        ({"zone": "moon"}, "zone"),
        ({"text": "x" * 1001}, "text"),
        ({"text": "a\u202eb idé"}, "text"),
        ({"email": "x"}, "email"),  # nothing about the sender has a field to go in
    ],
)
def test_a_bad_idea_gets_a_422_naming_the_field(town, change, field) -> None:
    client, _ = town
    r = client.post("/v1/public/ideas", json={**IDEA, **change})
    assert r.status_code == 422, r.text
    assert any(e["field"].startswith(field) for e in r.json()["errors"])


def test_ideas_are_throttled_per_client_address(promise: Runtime) -> None:
    settings = promise.settings.model_copy(update={"ideas_per_hour": 2})
    with TestClient(create_app(settings, runtime=promise), raise_server_exceptions=False) as client:
        assert [client.post("/v1/public/ideas", json=IDEA).status_code for _ in range(2)] == [
            201,
            201,
        ]
        r = client.post("/v1/public/ideas", json=IDEA)
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0


def test_a_large_body_without_a_key_is_refused_early(town) -> None:
    client, _ = town
    r = client.post(
        "/v1/public/ideas",
        content=b'{"text": "' + b"a" * 20_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413


def test_the_steering_group_adopts_an_idea_as_a_new_measure_and_both_link_to_each_other(
    town, keys: Keys
) -> None:
    client, _ = town
    sent = _send(client)
    plan = client.get("/v1/action-plans?station=lerum", headers=keys.header("admin")).json()[
        "items"
    ][0]
    decision = {
        "status": "adopted",
        "reply": "Tack! Kommunen sätter upp ny belysning i tunneln under våren.",
        "measure": {
            "plan": plan["id"],
            "code": "m2",
            "title": "Ny belysning i gångtunneln",
            "owner": "lerums-kommun",
            "due": "2022-04-30",
        },
    }
    r = client.post(
        f"/v1/ideas/{sent['id']}/decision", json=decision, headers=keys.header("steering")
    )
    assert r.status_code == 200, r.text

    idea = client.get(f"/v1/ideas/{sent['id']}", headers=keys.header("steering")).json()
    assert idea["status"] == "adopted"
    assert idea["measure"] == {"plan": plan["id"], "code": "m2"}
    measures = client.get(f"/v1/action-plans/{plan['id']}", headers=keys.header("admin")).json()[
        "measures"
    ]
    assert {m["code"]: m["links"] for m in measures} == {"m1": [], "m2": [f"idea:{sent['id']}"]}

    # The measure is done: the public page shows it beside the answered idea.
    done = client.post(
        f"/v1/action-plans/{plan['id']}/measures/m2/status",
        json={"status": "done"},
        headers=keys.header("admin"),
    )
    assert done.status_code == 200, done.text
    _settled(client, keys, done.json()["position"])
    public = client.get("/v1/public/progress")
    assert public.status_code == 200
    assert public.headers["Cache-Control"] == "public, max-age=60"
    body = public.json()
    assert [(m["title"], m["from_idea"]) for m in body["completed_measures"]] == [
        ("Ny belysning i gångtunneln", True)
    ]
    assert [(i["text"], i["reply"]) for i in body["ideas"]] == [(IDEA["text"], decision["reply"])]


def test_an_idea_can_be_linked_to_an_existing_measure(town, keys: Keys) -> None:
    client, _ = town
    sent = _send(client)
    plan = client.get("/v1/action-plans?station=lerum", headers=keys.header("admin")).json()[
        "items"
    ][0]
    r = client.post(
        f"/v1/ideas/{sent['id']}/decision",
        json={
            "status": "adopted",
            "reply": "Det ingår i åtgärd m1.",
            "measure": {"plan": plan["id"], "code": "m1"},
        },
        headers=keys.header("admin"),
    )
    assert r.status_code == 200, r.text
    measures = client.get(f"/v1/action-plans/{plan['id']}", headers=keys.header("admin")).json()[
        "measures"
    ]
    assert measures[0]["links"] == [f"idea:{sent['id']}"]


@pytest.mark.parametrize(
    ("measure", "field"),
    [
        ({"code": "m9"}, "measure.title"),  # a new measure needs a title, owner and due date
        ({"code": "m1", "plan": "not-a-plan"}, "measure.plan"),
    ],
)
def test_a_decision_naming_a_measure_that_cannot_be_is_refused(
    town, keys: Keys, measure, field
) -> None:
    client, _ = town
    sent = _send(client)
    plan = client.get("/v1/action-plans?station=lerum", headers=keys.header("admin")).json()[
        "items"
    ][0]
    r = client.post(
        f"/v1/ideas/{sent['id']}/decision",
        json={"status": "adopted", "reply": "Ja.", "measure": {"plan": plan["id"], **measure}},
        headers=keys.header("steering"),
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field


def test_a_final_decision_stands_but_a_considered_idea_can_still_be_decided(
    town, keys: Keys
) -> None:
    client, _ = town
    sent = _send(client)
    url = f"/v1/ideas/{sent['id']}/decision"
    steering = keys.header("steering")
    assert (
        client.post(
            url, json={"status": "considered", "reply": "Vi tittar på det."}, headers=steering
        ).status_code
        == 200
    )
    assert (
        client.post(
            url, json={"status": "declined", "reply": "Det ryms inte i år."}, headers=steering
        ).status_code
        == 200
    )
    again = client.post(url, json={"status": "adopted", "reply": "Ändå ja."}, headers=steering)
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"


def test_partners_read_the_ideas_of_their_stations_but_do_not_decide(town, keys: Keys) -> None:
    client, _ = town
    lerum = _send(client)
    herrljunga = _send(client, station="herrljunga", zone="platform")
    _settled(client, keys, herrljunga["position"])

    seen = client.get("/v1/ideas", headers=keys.header("partner")).json()["items"]
    assert [i["id"] for i in seen] == [lerum["id"]]  # Västtrafik's commitment covers Lerum only
    assert (
        client.get(f"/v1/ideas/{herrljunga['id']}", headers=keys.header("partner")).status_code
        == 404
    )
    r = client.post(
        f"/v1/ideas/{lerum['id']}/decision",
        json={"status": "declined", "reply": "Nej tack."},
        headers=keys.header("partner"),
    )
    assert r.status_code == 403


# -- the public follow-up ---------------------------------------------------------------------


def test_the_public_follow_up_shows_police_work_by_month_only(town, keys: Keys) -> None:
    client, _ = town
    police = client.app.state.runtime.create_key(Role.partner, "polisen-alingsas", None)[1]
    r = client.post(
        "/v1/activities",
        json=factories.activity(1, kind="patrol", external_id="p-1"),
        headers={"Authorization": f"Bearer {police}"},
    )
    assert r.status_code == 201, r.text
    _settled(client, keys, r.json()["position"])
    body = client.get("/v1/public/progress").json()
    patrols = next(c for c in body["commitments"] if c["code"] == "patrols")
    for row in patrols["stations"]:
        assert set(row) <= {"station", "status", "delivered", "target", "months", "months_met"}
    assert body["up_to"] == "2022-08-31"  # the period has ended: counted to its end
    assert body["checkpoint"] is None or "how_to_verify" in body["checkpoint"]


# -- surveys and the lägesbild ----------------------------------------------------------------

SURVEY = {
    "station": "lerum",
    "year": 2020,
    "question": "Känner sig trygg vid stationen kvällstid",
    "share": 0.48,
    "respondents": 212,
}


def test_surveys_are_recorded_by_an_admin_or_the_stations_own_municipality(
    town, keys: Keys
) -> None:
    client, municipality = town
    assert client.post("/v1/surveys", json=SURVEY, headers=keys.header("admin")).status_code == 201
    own = client.post(
        "/v1/surveys", json={**SURVEY, "year": 2022, "share": 0.57}, headers=municipality
    )
    assert own.status_code == 201, own.text
    other = client.post(
        "/v1/surveys", json={**SURVEY, "station": "herrljunga"}, headers=municipality
    )
    assert other.status_code == 403  # not a station of its commitments
    transit = client.post(
        "/v1/surveys", json={**SURVEY, "year": 2021}, headers=keys.header("partner")
    )
    assert transit.status_code == 403  # only municipalities measure trygghet
    again = client.post("/v1/surveys", json=SURVEY, headers=keys.header("admin"))
    assert again.status_code == 409

    _settled(client, keys, own.json()["results"][0]["position"])
    listed = client.get("/v1/surveys?station=lerum", headers=keys.header("steering")).json()[
        "items"
    ]
    assert [(s["year"], s["share"], s["respondents"]) for s in listed] == [
        (2020, 0.48, 212),
        (2022, 0.57, 212),
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"respondents": 9}, "respondents"),  # too few: could point at a person
        ({"share": 62}, "share"),  # a share is a fraction
        ({"year": 1999}, "year"),
        ({"answers": [{"age": 40}]}, "answers"),  # nothing per person has a field
    ],
)
def test_a_survey_result_that_could_point_at_a_person_or_makes_no_sense_is_refused(
    town, keys: Keys, change, field
) -> None:
    client, _ = town
    r = client.post("/v1/surveys", json={**SURVEY, **change}, headers=keys.header("admin"))
    assert r.status_code == 422, r.text
    assert any(field in e["field"] for e in r.json()["errors"])


def test_surveys_import_from_a_swedish_csv(town, keys: Keys) -> None:
    client, _ = town
    csv = (
        "station;year;question;share;respondents\n"
        "lerum;2020;Trygg kvällstid;48,5 %;212\n"
        "herrljunga;2020;Trygg kvällstid;0,61;120\n"
    )
    r = client.post(
        "/v1/surveys/import",
        content=csv.encode(),
        headers={**keys.header("admin"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["created"] == 2
    bad = client.post(
        "/v1/surveys/import",
        content=b"station;year;question;share;respondents\nlerum;2021;Trygg;0,5;3\n",
        headers={**keys.header("admin"), "Content-Type": "text/csv"},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "row 2.respondents"
    for broken, field in [
        (b"station,year,question,share,respondents\nlerum,2021,Trygg,0.5,30,extra\n", "row 2"),
        (
            b'station,year,question,share,respondents\nlerum,2021,"'
            + b"x" * 140_000
            + b'",0.5,30\n',
            "row",
        ),
        (b"station,year\nlerum,2021\n", "header"),
        (b"\xff\xfe", "body"),
    ]:
        r = client.post(
            "/v1/surveys/import",
            content=broken,
            headers={**keys.header("admin"), "Content-Type": "text/csv"},
        )
        assert r.status_code in (413, 422), (field, r.status_code, r.text[:200])
        if r.status_code == 422:
            assert r.json()["errors"][0]["field"].startswith(field), r.text[:200]


def test_the_lagesbild_compares_quarters_and_the_baseline(town, keys: Keys) -> None:
    client, _ = town
    for n, (when, count) in enumerate(
        [
            ("2021-11-02T08:00:00+01:00", 3),
            ("2021-08-10T08:00:00+02:00", 5),
            ("2020-10-20T08:00:00+02:00", 7),
        ]
    ):
        r = client.post(
            "/v1/observations",
            json=factories.observation(n, observed_at=when, count=count),
            headers=keys.header("partner"),
        )
        assert r.status_code == 201, r.text
    client.post("/v1/surveys", json=SURVEY, headers=keys.header("admin"))
    last = client.post(
        "/v1/surveys", json={**SURVEY, "year": 2022, "share": 0.57}, headers=keys.header("admin")
    )
    _settled(client, keys, last.json()["results"][0]["position"])

    body = client.get(
        "/v1/stations/lerum/situation/compare?quarter=2021-Q4", headers=keys.header("steering")
    ).json()
    assert (body["quarter"], body["previous_quarter"], body["same_quarter_last_year"]) == (
        "2021-Q4",
        "2021-Q3",
        "2020-Q4",
    )
    assert body["rows"] == [
        {
            "category": "graffiti",
            "this_quarter": 3,
            "previous_quarter": 5,
            "same_quarter_last_year": 7,
        }
    ]
    assert body["baseline"] == [
        {
            "question": SURVEY["question"],
            "baseline_year": 2020,
            "baseline_share": 0.48,
            "latest_year": 2022,
            "latest_share": 0.57,
            "change": 0.09,
        }
    ]
    bad = client.get(
        "/v1/stations/lerum/situation/compare?quarter=2021-Q5", headers=keys.header("steering")
    )
    assert bad.status_code == 422


def test_every_partys_contribution_to_the_lagesbild_per_month(town, keys: Keys) -> None:
    client, _ = town
    for n, when in enumerate(
        ["2021-10-02T08:00:00+02:00", "2021-10-20T08:00:00+02:00", "2021-11-02T08:00:00+01:00"]
    ):
        r = client.post(
            "/v1/observations",
            json=factories.observation(n, observed_at=when),
            headers=keys.header("partner"),
        )
        assert r.status_code == 201
    _settled(client, keys, r.json()["position"])
    body = client.get(
        "/v1/situation/contributions?from=2021-10-01&to=2021-12-31", headers=keys.header("steering")
    ).json()
    assert body["rows"] == [
        {"actor": "vasttrafik", "station": "lerum", "month": "2021-10", "reports": 2},
        {"actor": "vasttrafik", "station": "lerum", "month": "2021-11", "reports": 1},
    ]


# -- the pages --------------------------------------------------------------------------------


def test_the_idea_form_works_without_javascript_and_keeps_the_text_on_a_problem(
    town, keys: Keys
) -> None:
    client, _ = town
    form = client.get("/ideas")
    assert form.status_code == 200
    assert '<form method="post" action="/ideas">' in form.text
    assert "<script" not in form.text

    refused = client.post("/ideas", data={**IDEA, "text": "Mejla mig: namn@example.se"})
    assert refused.status_code == 422
    assert "personuppgifter" in refused.text
    assert "namn@example.se</textarea>" in refused.text  # nothing typed is lost

    sent = client.post("/ideas", data=IDEA)
    assert sent.status_code == 201
    assert "Tack för din idé" in sent.text
    assert "set-cookie" not in {k.lower() for k in sent.headers}


def test_the_public_page_is_cacheable_and_in_english_on_request(town, keys: Keys) -> None:
    client, _ = town
    page = client.get("/public")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "public, max-age=60"
    assert "Medborgarlöfte 2021" in page.text
    english = client.get("/public?lang=en")
    assert "What the parties promised and did" in english.text


def test_verify_checks_the_texts_of_ideas_and_replies(town, keys: Keys) -> None:
    from sqlalchemy import text

    from ledger.audit.verify import verify_ledger
    from ledger.texts import TEXT_TABLE

    client, _ = town
    runtime = client.app.state.runtime
    sent = _send(client)
    client.post(
        f"/v1/ideas/{sent['id']}/decision",
        json={"status": "considered", "reply": "Vi tittar på belysningen."},
        headers=keys.header("steering"),
    )
    runtime.audit.issue_checkpoint()
    key = runtime.audit.signer.verifier_key
    report = verify_ledger(runtime.ledger.recorder, runtime.engine, key)
    assert report.ok, report.first
    assert report.texts == 2
    with runtime.engine.begin() as conn:
        conn.execute(
            text(f"UPDATE {TEXT_TABLE} SET text = 'Ändrat svar' WHERE text LIKE 'Vi tittar%'")
        )
    report = verify_ledger(runtime.ledger.recorder, runtime.engine, key)
    assert report.first.kind == "text_modified"


def test_taking_part_in_the_lagesbild_is_followed_up_like_any_commitment(town, keys: Keys) -> None:
    """A ``situation_report`` commitment counts the observations the party reported."""
    client, _ = town
    promise = {
        "code": "lagesbild",
        "title": "Lägesbild",
        "period_start": "2021-10-01",
        "period_end": "2021-11-30",
        "stations": ["lerum"],
        "parties": ["vasttrafik"],
        "commitments": [
            {
                "code": "vt-lagesbild",
                "actor": "vasttrafik",
                "kind": "situation_report",
                "target": {"count": 2, "per": "month"},
            }
        ],
    }
    r = client.post("/v1/promises", json=promise, headers=keys.header("admin"))
    assert r.status_code == 201, r.text
    for n, when in enumerate(
        ["2021-10-02T08:00:00+02:00", "2021-10-20T08:00:00+02:00", "2021-11-02T08:00:00+01:00"]
    ):
        r = client.post(
            "/v1/observations",
            json=factories.observation(n, observed_at=when),
            headers=keys.header("partner"),
        )
        assert r.status_code == 201
    progress = client.get(
        "/v1/promises/lagesbild/progress",
        params={"min_position": r.json()["position"]},
        headers=keys.header("steering"),
    ).json()
    (row,) = progress["commitments"][0]["stations"]
    assert (row["delivered"], row["target"], row["months"], row["months_met"], row["status"]) == (
        3,
        4,
        2,
        1,
        "missed",
    )
    hours = {**promise, "code": "x"}
    hours["commitments"] = [
        {**promise["commitments"][0], "target": {"count": 2, "metric": "hours"}}
    ]
    bad = client.post("/v1/promises", json=hours, headers=keys.header("admin"))
    assert bad.status_code == 422


# -- safety-walk findings ---------------------------------------------------------------------


def _walk(client: TestClient, keys: Keys, n: int = 1, **overrides) -> dict:
    body = factories.activity(
        n, kind="safety_walk", external_id=f"walk-{n}", details={"participants": 8}, **overrides
    )
    r = client.post("/v1/activities", json=body, headers=keys.header("partner"))
    assert r.status_code == 201, r.text
    return r.json()


def test_a_walks_findings_become_measures_and_lead_to_each_other(town, keys: Keys) -> None:
    client, _ = town
    walk = _walk(client, keys)
    findings = {
        "findings": [
            {
                "zone": "tunnel",
                "problem": "Två trasiga lampor i tunneln",
                "proposal": "Byt till LED",
                "responsible": "lerums-kommun",
            },
            {"zone": "platform", "problem": "Skymd sikt vid cykelstället"},
        ]
    }
    r = client.post(
        f"/v1/activities/{walk['id']}/findings", json=findings, headers=keys.header("partner")
    )
    assert r.status_code == 201, r.text
    more = client.post(
        f"/v1/activities/{walk['id']}/findings",
        json={"findings": [{"problem": "Nedskräpat vid busshållplatsen"}]},
        headers=keys.header("partner"),
    )
    assert more.status_code == 201, more.text

    plan = client.get("/v1/action-plans?station=lerum", headers=keys.header("admin")).json()[
        "items"
    ][0]
    measure = {
        "code": "m5",
        "title": "LED i tunneln",
        "owner": "lerums-kommun",
        "due": "2022-02-28",
        "finding": f"{walk['id']}/f1",
    }
    added = client.post(
        f"/v1/action-plans/{plan['id']}/measures", json=measure, headers=keys.header("admin")
    )
    assert added.status_code in (200, 201), added.text
    done = client.post(
        f"/v1/action-plans/{plan['id']}/measures/m5/status",
        json={"status": "done"},
        headers=keys.header("admin"),
    )

    listed = client.get(
        "/v1/findings",
        params={"station": "lerum", "min_position": done.json()["position"]},
        headers=keys.header("steering"),
    ).json()["items"]
    assert [(f["code"], f["problem"], [m["code"] for m in f["measures"]]) for f in listed] == [
        ("f1", "Två trasiga lampor i tunneln", ["m5"]),
        ("f2", "Skymd sikt vid cykelstället", []),
        ("f3", "Nedskräpat vid busshållplatsen", []),
    ]
    assert listed[0]["measures"][0]["status"] == "done"
    measures = client.get(f"/v1/action-plans/{plan['id']}", headers=keys.header("admin")).json()[
        "measures"
    ]
    assert next(m for m in measures if m["code"] == "m5")["links"] == [f"finding:{walk['id']}/f1"]


def test_findings_belong_to_the_walkers_own_safety_walks(town, keys: Keys) -> None:
    client, _ = town
    walk = _walk(client, keys)
    shift = client.post(
        "/v1/activities", json=factories.activity(7), headers=keys.header("partner")
    ).json()
    one = {"findings": [{"problem": "Trasig lampa"}]}
    assert (
        client.post(
            f"/v1/activities/{walk['id']}/findings", json=one, headers=keys.header("other_partner")
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/v1/activities/{walk['id']}/findings", json=one, headers=keys.header("steering")
        ).status_code
        == 403
    )
    not_a_walk = client.post(
        f"/v1/activities/{shift['id']}/findings", json=one, headers=keys.header("partner")
    )
    assert not_a_walk.status_code == 422
    personal = client.post(
        f"/v1/activities/{walk['id']}/findings",
        json={"findings": [{"problem": "Ring 070-123 45 67 om lampan"}]},
        headers=keys.header("partner"),
    )
    assert personal.status_code == 422
    assert personal.json()["code"] == "personal_data"


def test_a_measure_naming_a_finding_that_does_not_exist_is_refused(town, keys: Keys) -> None:
    client, _ = town
    walk = _walk(client, keys)
    plan = client.get("/v1/action-plans?station=lerum", headers=keys.header("admin")).json()[
        "items"
    ][0]
    measure = {
        "title": "LED",
        "owner": "lerums-kommun",
        "due": "2022-02-28",
        "finding": f"{walk['id']}/f9",
    }
    r = client.post(
        f"/v1/action-plans/{plan['id']}/measures", json=measure, headers=keys.header("admin")
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "finding"


def test_an_idea_text_that_should_never_have_been_written_can_be_erased(town, keys: Keys) -> None:
    from ledger.audit.verify import verify_ledger

    client, _ = town
    runtime = client.app.state.runtime
    sent = _send(client, text="Vakten med rött hår på perrongen är otrevlig")  # a person
    url = f"/v1/ideas/{sent['id']}/erasure"
    body = {"fields": ["text"], "reason": "Begäran 2022-17: pekar ut en person"}
    assert client.post(url, json=body, headers=keys.header("steering")).status_code == 403
    r = client.post(url, json=body, headers=keys.header("admin"))
    assert r.status_code == 200, r.text
    idea = client.get(f"/v1/ideas/{sent['id']}", headers=keys.header("admin")).json()
    assert idea["text"] == "[raderad]"
    assert client.post(url, json=body, headers=keys.header("admin")).status_code == 422
    runtime.audit.issue_checkpoint()
    report = verify_ledger(
        runtime.ledger.recorder, runtime.engine, runtime.audit.signer.verifier_key
    )
    assert report.ok, report.first


def test_the_servers_access_log_leaves_out_client_addresses() -> None:
    """``trygg serve`` logs requests without who sent them (residents are not recorded)."""
    import logging

    from uvicorn.logging import AccessFormatter

    from api.cli import log_config_without_addresses

    fmt = log_config_without_addresses()["formatters"]["access"]["fmt"]
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.9:50123", "POST", "/ideas", "1.1", 201),
        None,
    )
    line = AccessFormatter(fmt=fmt, use_colors=False).format(record)
    assert "POST /ideas" in line
    assert "203.0.113.9" not in line


def test_several_survey_results_are_stored_all_or_none(town, keys: Keys) -> None:
    client, _ = town
    good = {**SURVEY, "year": 2021}
    bad = {**SURVEY, "year": 2022, "respondents": 4}
    r = client.post("/v1/surveys/batch", json={"items": [good, bad]}, headers=keys.header("admin"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "items.1.respondents"
    r = client.post(
        "/v1/surveys/batch",
        json={"items": [good, {**bad, "respondents": 40}]},
        headers=keys.header("admin"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["created"] == 2


# -- anyone can check the history -------------------------------------------------------------


def test_a_saved_checkpoint_is_checked_against_the_latest_with_no_key(
    settings, cli_env, tmp_path
) -> None:
    """A resident saves the checkpoint from /public; later ``trygg check-saved`` (no account,
    no database) proves the ledger still extends it, and a note of another log fails."""
    from tests.conftest import registered
    from tests.e2e.live import server_process, trygg

    setup = Runtime(settings)
    registered(setup)
    _, partner = setup.create_key(Role.partner, "vasttrafik", None)
    _, auditor = setup.create_key(Role.auditor, None, None)
    setup.close()
    with server_process(cli_env) as (base, _proc):
        import httpx

        def post(n: int) -> None:
            r = httpx.post(
                f"{base}/v1/activities",
                json=factories.activity(n),
                headers={"Authorization": f"Bearer {partner}"},
            )
            assert r.status_code == 201, r.text

        def checkpoint() -> str:
            r = httpx.post(
                f"{base}/v1/audit/checkpoints", headers={"Authorization": f"Bearer {auditor}"}
            )
            assert r.status_code == 201, r.text
            note = httpx.get(f"{base}/v1/public/audit/checkpoint")
            assert note.status_code == 200
            assert note.headers["content-type"].startswith("text/plain")
            return note.text

        for n in range(1, 6):
            post(n)
        saved = tmp_path / "saved.txt"
        saved.write_text(checkpoint())
        for n in range(6, 12):
            post(n)
        checkpoint()
        ok = trygg("check-saved", "--saved", str(saved), "--url", base, env={}, check=False)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "extends the saved checkpoint" in ok.stdout

        # A checkpoint of another log (another key and origin) is not part of this history.
        from datetime import UTC, datetime

        from ledger.audit.checkpoint import Signer, sign_checkpoint

        other = Signer.generate("elsewhere.example/log")
        forged = tmp_path / "forged.txt"
        forged.write_text(
            sign_checkpoint("elsewhere.example/log", 3, b"\x00" * 32, datetime.now(UTC), other)
        )
        bad = trygg("check-saved", "--saved", str(forged), "--url", base, env={}, check=False)
        assert bad.returncode == 1, bad.stdout + bad.stderr
        assert "not signed by that key" in bad.stderr


def test_check_saved_fails_on_a_rewritten_history(registry: Runtime) -> None:
    """Same key, same origin, another history: the proof from the saved size fails."""
    from ledger.access import Principal
    from ledger.audit.checkpoint import parse_checkpoint, sign_checkpoint
    from ledger.audit.saved import check_saved
    from ledger.entry_service import ACTIVITY
    from ledger.inputs import ActivityIn

    partner = Principal("k", Role.partner, "vasttrafik")
    for n in range(1, 4):
        registry.entries.record_entry(
            ACTIVITY, partner, ActivityIn.model_validate(factories.activity(n))
        )
    saved_checkpoint = registry.audit.issue_checkpoint()
    saved = saved_checkpoint["note"]
    for n in range(4, 9):
        registry.entries.record_entry(
            ACTIVITY, partner, ActivityIn.model_validate(factories.activity(n))
        )
    latest = registry.audit.issue_checkpoint()
    key = registry.audit.signer.verifier_key
    sizes = saved_checkpoint["tree_size"], latest["tree_size"]
    proof = [bytes.fromhex(h) for h in registry.audit.consistency(*sizes)["proof"]]
    assert check_saved(saved, latest["note"], key, proof).ok
    # The host rewrites the tree and re-signs a checkpoint: the old proof cannot bridge it.
    body = parse_checkpoint(latest["note"])
    rewritten = sign_checkpoint(
        body.origin, body.size, b"\x11" * 32, body.time, registry.audit.signer
    )
    result = check_saved(saved, rewritten, key, proof)
    assert not result.ok
    assert "rewritten" in result.message


# -- police detail stays with the police ------------------------------------------------------


def _police(client: TestClient) -> dict[str, str]:
    token = client.app.state.runtime.create_key(Role.partner, "polisen-alingsas", None)[1]
    return {"Authorization": f"Bearer {token}"}


def test_police_reports_to_the_lagesbild_are_counted_in_whole_finished_months(
    town, keys: Keys
) -> None:
    from datetime import UTC, datetime, timedelta

    client, _ = town
    police = _police(client)
    now = datetime.now(UTC) - timedelta(minutes=5)
    for n, when in enumerate(
        ["2021-10-02T08:00:00+02:00", "2021-10-20T08:00:00+02:00", now.isoformat()]
    ):
        r = client.post(
            "/v1/observations", json=factories.observation(n, observed_at=when), headers=police
        )
        assert r.status_code == 201, r.text
    client.app.state.runtime.views.wait_for(r.json()["position"], ("observations",))

    one_day = {"from": "2021-10-02", "to": "2021-10-02", "actor": "polisen-alingsas"}
    for who in (keys.header("steering"), keys.header("partner")):
        rows = client.get("/v1/situation/contributions", params=one_day, headers=who).json()["rows"]
        assert [(r["month"], r["reports"]) for r in rows] == [
            ("2021-10", 2)
        ]  # the month, never the day
        running = client.get(
            "/v1/situation/contributions", params={"actor": "polisen-alingsas"}, headers=who
        ).json()["rows"]
        assert [r["month"] for r in running] == ["2021-10"]  # this month is not over yet
    own = client.get(
        "/v1/situation/contributions", params={"actor": "polisen-alingsas"}, headers=police
    )
    assert len(own.json()["rows"]) == 2  # the police see their own running month


def test_a_police_walks_findings_show_neither_the_walk_nor_its_day_outside_the_police(
    town, keys: Keys
) -> None:
    client, _ = town
    police = _police(client)
    walk = client.post(
        "/v1/activities",
        json=factories.activity(
            1, kind="safety_walk", external_id="pw-1", details={"participants": 5}
        ),
        headers=police,
    ).json()
    r = client.post(
        f"/v1/activities/{walk['id']}/findings",
        json={"findings": [{"problem": "Mörk gångväg"}]},
        headers=police,
    )
    assert r.status_code == 201, r.text
    params = {"min_position": r.json()["position"]}
    seen = client.get("/v1/findings", params=params, headers=keys.header("steering")).json()[
        "items"
    ]
    assert [(f["walk"], f["reference"], len(f["recorded_on"])) for f in seen] == [(None, None, 7)]
    assert seen[0]["problem"] == "Mörk gångväg"  # what was found is about a place: shown
    own = client.get("/v1/findings", params=params, headers=police).json()["items"]
    assert own[0]["walk"] == walk["id"]


def test_the_idea_list_comes_in_pages_and_says_where_the_next_starts(town, keys: Keys) -> None:
    client, _ = town
    sent = [_send(client, text=f"Idé nummer {n} om belysningen") for n in range(5)]
    h = keys.header("steering")
    first = client.get(
        "/v1/ideas", params={"limit": 3, "min_position": sent[-1]["position"]}, headers=h
    ).json()
    assert (len(first["items"]), first["next_offset"]) == (3, 3)
    rest = client.get("/v1/ideas", params={"limit": 3, "offset": 3}, headers=h).json()
    assert (len(rest["items"]), rest["next_offset"]) == (2, None)
    seen = {i["id"] for i in first["items"] + rest["items"]}
    assert seen == {s["id"] for s in sent}  # nothing lost, nothing twice
