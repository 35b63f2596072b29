"""Every endpoint × every role: 401 without a valid key, 403 for a role that may not, else through.

The table below must name every route under /v1, so a new endpoint cannot ship
without deciding who may call it.
"""

import itertools

import pytest

from ledger.access import SYSTEM, Role
from ledger.inputs import PromiseIn
from tests.factories import activity, observation

ALL = {"partner", "steering", "auditor", "admin"}
ADMIN = {"admin"}
PARTNER = {"partner"}
AUDIT = {"auditor", "admin"}

ALLOWED = {
    ("POST", "/v1/stations"): ADMIN,
    ("GET", "/v1/stations"): ALL,
    ("GET", "/v1/stations/{code}"): ALL,
    ("POST", "/v1/actors"): ADMIN,
    ("GET", "/v1/actors"): ALL,
    ("GET", "/v1/actors/{code}"): ALL,
    ("POST", "/v1/promises"): ADMIN,
    ("GET", "/v1/promises"): ALL,
    ("GET", "/v1/promises/{promise}"): ALL,
    ("POST", "/v1/action-plans"): ADMIN,
    ("GET", "/v1/action-plans"): ALL,
    ("GET", "/v1/action-plans/{plan_id}"): ALL,
    ("POST", "/v1/action-plans/{plan_id}/measures"): ADMIN,
    ("POST", "/v1/action-plans/{plan_id}/measures/{measure}/status"): ADMIN,
    ("POST", "/v1/activities"): PARTNER,
    ("POST", "/v1/activities/batch"): PARTNER,
    ("GET", "/v1/activities/{entry_id}"): ALL,
    ("GET", "/v1/activities/{entry_id}/history"): ALL,
    ("POST", "/v1/activities/{entry_id}/corrections"): PARTNER,
    ("POST", "/v1/activities/{entry_id}/retraction"): PARTNER,
    ("POST", "/v1/observations"): PARTNER,
    ("POST", "/v1/observations/batch"): PARTNER,
    ("GET", "/v1/observations/{entry_id}"): ALL,
    ("GET", "/v1/observations/{entry_id}/history"): ALL,
    ("GET", "/v1/stations/{code}/summary"): ALL,
    ("GET", "/v1/actors/{code}/summary"): ALL,
    ("GET", "/v1/promises/{promise}/progress"): ALL,
    ("GET", "/v1/situation"): ALL,
    ("GET", "/v1/action-plans/measures"): ALL,
    ("GET", "/v1/activities"): ALL,
    ("GET", "/v1/observations"): ALL,
    ("GET", "/v1/projections"): ALL,
    ("GET", "/v1/feed"): ALL,
    ("GET", "/v1/audit/log"): AUDIT,
    ("GET", "/v1/audit/checkpoints/latest"): AUDIT,
    ("GET", "/v1/audit/checkpoints"): AUDIT,
    ("POST", "/v1/audit/checkpoints"): AUDIT,
    ("GET", "/v1/audit/public-key"): AUDIT,
    ("GET", "/v1/audit/witnesses"): AUDIT,
    ("GET", "/v1/audit/proofs/inclusion"): AUDIT,
    ("GET", "/v1/audit/proofs/consistency"): AUDIT,
    ("POST", "/v1/observations/{entry_id}/corrections"): PARTNER,
    ("POST", "/v1/observations/{entry_id}/retraction"): PARTNER,
    ("POST", "/v1/activities/{entry_id}/erasure"): ADMIN,
    ("POST", "/v1/observations/{entry_id}/erasure"): ADMIN,
    ("GET", "/v1/ideas"): ALL,
    ("GET", "/v1/ideas/{idea_id}"): ALL,
    ("POST", "/v1/ideas/{idea_id}/decision"): {"steering", "admin"},
    ("POST", "/v1/surveys"): ADMIN,  # and a municipality for its own stations
    ("POST", "/v1/surveys/import"): ADMIN,
    ("POST", "/v1/surveys/batch"): ADMIN,
    ("GET", "/v1/surveys"): ALL,
    ("GET", "/v1/stations/{code}/situation/compare"): ALL,
    ("GET", "/v1/situation/contributions"): ALL,
    ("POST", "/v1/activities/{entry_id}/findings"): {"partner", "admin"},  # the walker's own
    ("GET", "/v1/findings"): ALL,
    ("POST", "/v1/ideas/{idea_id}/erasure"): ADMIN,
}
PUBLIC = {
    "/healthz",
    "/readyz",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/v1/public/ideas",
    "/v1/public/progress",
    "/v1/public/audit/checkpoint",
    "/v1/public/audit/public-key",
    "/v1/public/audit/proofs/consistency",
}


def test_the_table_covers_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    routes = {(method.upper(), path) for path, ops in paths.items() for method in ops}
    assert {r for r in routes if r[1] not in PUBLIC} == set(ALLOWED)


@pytest.fixture
def world(client, keys, registry):
    """Things for the requests to point at: a promise, a plan, an activity, an observation."""
    registry.registry.make_promise(
        SYSTEM,
        PromiseIn.model_validate(
            {
                "code": "p1",
                "title": "Löfte",
                "period_start": "2021-09-01",
                "period_end": "2022-08-31",
                "stations": ["lerum", "herrljunga"],
                "parties": ["vasttrafik", "trafikverket"],
                "commitments": [
                    {
                        "code": "hosts",
                        "actor": "vasttrafik",
                        "kind": "security_host_shift",
                        "stations": ["lerum"],
                        "target": {"count": 1},
                    }
                ],
            }
        ),
    )
    idea = client.post(
        "/v1/public/ideas", json={"station": "lerum", "text": "Mer ljus i tunneln"}
    ).json()
    plan = client.post(
        "/v1/action-plans",
        json={
            "promise": "p1",
            "station": "lerum",
            "measures": [{"title": "Belysning", "owner": "vasttrafik", "due": "2022-01-31"}],
        },
        headers=keys.header("admin"),
    ).json()
    act = client.post(
        "/v1/activities", json=activity(999, note="Lugnt"), headers=keys.header("partner")
    ).json()
    walk = client.post(
        "/v1/activities",
        json=activity(998, kind="safety_walk", details={"participants": 6}),
        headers=keys.header("partner"),
    ).json()
    obs = client.post(
        "/v1/observations", json=observation(999, note="Klotter"), headers=keys.header("partner")
    ).json()
    client.post("/v1/audit/checkpoints", headers=keys.header("admin"))  # seal what is there
    return {
        "plan": plan["id"],
        "activity": act["id"],
        "observation": obs["id"],
        "position": obs["position"],
        "idea": idea["id"],
        "walk": walk["id"],
    }


def request_for(method, path, world, n):
    """A valid request for the route, so only the role decides the outcome."""
    code = "vasttrafik" if path.startswith("/v1/actors") else "lerum"
    url = (
        path.replace("{code}", code)
        .replace("{promise}", "p1")
        .replace("{plan_id}", world["plan"])
        .replace("{measure}", "m1")
        .replace("{idea_id}", world["idea"])
    )
    if path == "/v1/audit/proofs/inclusion":
        url += f"?position={world['position']}&tree_size={world['position']}"
    if path == "/v1/audit/proofs/consistency":
        url += "?first=1&second=2"
    if path.endswith("/findings"):
        url = url.replace("{entry_id}", world["walk"])
    if "/activities/{entry_id}" in path:
        url = url.replace("{entry_id}", world["activity"])
    url = url.replace("{entry_id}", world["observation"])
    bodies = {
        "/v1/stations": {"code": f"s{n}", "name": "Station", "municipality": "Kommun"},
        "/v1/actors": {"code": f"a{n}", "name": "Aktör", "kind": "contractor"},
        "/v1/promises": {
            "code": f"p{n}x",
            "title": "Löfte",
            "period_start": "2021-09-01",
            "period_end": "2022-08-31",
            "stations": ["lerum"],
            "parties": ["vasttrafik"],
        },
        "/v1/action-plans": {"promise": "p1", "station": "herrljunga"},
        "/v1/action-plans/{plan_id}/measures": {
            "title": "Röjning",
            "owner": "vasttrafik",
            "due": "2022-03-01",
        },
        "/v1/action-plans/{plan_id}/measures/{measure}/status": {"status": "started"},
        "/v1/activities": activity(n),
        "/v1/activities/batch": {"items": [activity(n + 10_000)]},
        "/v1/observations": observation(n),
        "/v1/observations/batch": {"items": [observation(n + 10_000)]},
        "/v1/activities/{entry_id}/corrections": {
            "changes": {"staff_count": 5},
            "reason": "recount",
            "expected_version": 1,
        },
        "/v1/observations/{entry_id}/corrections": {
            "changes": {"count": 5},
            "reason": "recount",
            "expected_version": 1,
        },
        "/v1/activities/{entry_id}/retraction": {"reason": "duplicate", "expected_version": 1},
        "/v1/observations/{entry_id}/retraction": {"reason": "duplicate", "expected_version": 1},
        "/v1/activities/{entry_id}/erasure": {"fields": ["note"], "reason": "begäran 17"},
        "/v1/observations/{entry_id}/erasure": {"fields": ["note"], "reason": "begäran 17"},
        "/v1/ideas/{idea_id}/erasure": {"fields": ["text"], "reason": "begäran 18"},
        "/v1/ideas/{idea_id}/decision": {"status": "considered", "reply": "Vi tittar på det."},
        "/v1/activities/{entry_id}/findings": {
            "findings": [{"zone": "tunnel", "problem": "Trasig lampa", "responsible": "vasttrafik"}]
        },
        "/v1/surveys/import": (
            f"station,year,question,share,respondents\nlerum,2022,Trygg i tunneln {n},0.4,40\n"
        ).encode(),
        "/v1/surveys/batch": {
            "items": [
                {
                    "station": "lerum",
                    "year": 2023,
                    "question": f"Trygg vid bussen {n}",
                    "share": 0.5,
                    "respondents": 50,
                }
            ]
        },
        "/v1/surveys": {
            "station": "lerum",
            "year": 2021,
            "question": f"Trygg på perrongen {n}",
            "share": 0.5,
            "respondents": 50,
        },
    }
    return url, bodies.get(path) if method == "POST" else None


def test_every_endpoint_for_every_role(client, keys, registry, world):
    revoked_key, revoked_token = registry.create_key(Role.admin, None, "old")
    registry.keys.revoke(revoked_key.id)
    failures = []
    counter = itertools.count()
    # Retractions last: they end what corrections can do.
    for (method, path), allowed in sorted(ALLOWED.items(), key=lambda kv: "retraction" in kv[0][1]):
        for role in ["anonymous", "revoked", "steering", "auditor", "admin", "partner"]:
            url, body = request_for(method, path, world, next(counter))
            headers = (
                {}
                if role == "anonymous"
                else (
                    {"Authorization": f"Bearer {revoked_token}"}
                    if role == "revoked"
                    else keys.header(role)
                )
            )
            if isinstance(body, bytes):  # a file upload (CSV)
                headers = {**headers, "Content-Type": "text/csv"}
                r = client.request(method, url, content=body, headers=headers)
            else:
                r = client.request(method, url, json=body, headers=headers)
            if role in {"anonymous", "revoked"}:
                expected_ok = r.status_code == 401 and r.json()["code"] == "unauthenticated"
            elif role in allowed:
                expected_ok = r.status_code < 400 or r.status_code == 409
            else:
                expected_ok = r.status_code == 403 and r.json()["code"] == "forbidden"
            if not expected_ok:
                failures.append((method, path, role, r.status_code, r.text[:200]))
    assert failures == []


def test_operational_and_public_endpoints_need_no_key(client):
    for path in ["/healthz", "/readyz", "/openapi.json", "/docs", "/v1/public/ideas"]:
        assert client.get(path).status_code == 200
