"""Partner ingestion over HTTP: status codes, error bodies, idempotency, limits."""

import json

import pytest

from tests.factories import activity, in_future, observation


def log_position(client) -> int:
    return client.get("/readyz").json()["position"]


def test_posting_an_activity_returns_201_with_id_position_version(client, keys):
    r = client.post("/v1/activities", json=activity(), headers=keys.header("partner"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) >= {"id", "position", "version", "recorded_at"}
    assert body["version"] == 1


def test_a_retry_returns_200_and_the_original_id(client, keys):
    first = client.post("/v1/activities", json=activity(), headers=keys.header("partner")).json()
    r = client.post("/v1/activities", json=activity(), headers=keys.header("partner"))
    assert r.status_code == 200
    assert (r.json()["id"], r.json()["position"]) == (first["id"], first["position"])


def test_reusing_an_external_id_for_other_content_is_409(client, keys):
    client.post("/v1/activities", json=activity(), headers=keys.header("partner"))
    r = client.post("/v1/activities", json=activity(staff_count=4), headers=keys.header("partner"))
    assert r.status_code == 409
    assert r.json()["code"] == "external_id_conflict"


def test_a_body_naming_another_actor_is_403(client, keys):
    r = client.post(
        "/v1/activities", json=activity(actor="trafikverket"), headers=keys.header("partner")
    )
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


def test_the_current_state_is_one_flat_object_and_history_lists_every_event(client, keys):
    h = keys.header("partner")
    created = client.post("/v1/activities", json=activity(), headers=h).json()
    fix = {"changes": {"staff_count": 3}, "reason": "miscounted", "expected_version": 1}
    r = client.post(f"/v1/activities/{created['id']}/corrections", json=fix, headers=h)
    assert r.status_code == 200, r.text
    state = client.get(f"/v1/activities/{created['id']}", headers=h).json()
    assert state["staff_count"] == 3
    assert state["kind"] == "security_host_shift"
    assert state["version"] == 2
    history = client.get(f"/v1/activities/{created['id']}/history", headers=h).json()["events"]
    assert [e["type"] for e in history] == ["recorded", "corrected"]
    assert all("recorded_at" in e and "position" in e for e in history)
    assert history[0]["position"] < history[1]["position"]


def test_a_stale_expected_version_is_409_version_conflict(client, keys):
    h = keys.header("partner")
    created = client.post("/v1/activities", json=activity(), headers=h).json()
    retraction = {"reason": "logged twice", "expected_version": 1}
    assert (
        client.post(
            f"/v1/activities/{created['id']}/retraction", json=retraction, headers=h
        ).status_code
        == 200
    )
    r = client.post(f"/v1/activities/{created['id']}/retraction", json=retraction, headers=h)
    assert r.status_code == 409
    assert r.json()["code"] == "version_conflict"


def test_only_the_owning_actor_may_correct(client, keys):
    created = client.post("/v1/activities", json=activity(), headers=keys.header("partner")).json()
    fix = {"changes": {"staff_count": 3}, "reason": "not mine", "expected_version": 1}
    r = client.post(
        f"/v1/activities/{created['id']}/corrections",
        json=fix,
        headers=keys.header("other_partner"),
    )
    # Issue #10: another actor's entry answers exactly as an unknown id does.
    unknown = client.post(
        "/v1/activities/00000000-0000-4000-8000-000000000000/corrections",
        json=fix,
        headers=keys.header("other_partner"),
    )
    assert r.status_code == unknown.status_code == 404
    assert (
        r.json()["detail"].split(" with id ")[0] == unknown.json()["detail"].split(" with id ")[0]
    )


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (activity(station="goteborg"), "station", "invalid_input"),
        (activity(kind="parade"), "kind", "invalid_input"),
        (activity(ended_at="2021-10-01T10:00:00+02:00"), "ended_at", "invalid_input"),
        (activity(started_at=in_future(), ended_at=None), "started_at", "invalid_input"),
        (activity(staff_count="many"), "staff_count", "invalid_input"),
        ({k: v for k, v in activity().items() if k != "started_at"}, "started_at", "invalid_input"),
        (activity(note="ring 070-123 45 67"), "note", "personal_data"),
        (activity(note="mejla nagon@example.org"), "note", "personal_data"),
        (activity(note="pnr 850709-9805"), "note", "personal_data"),
        (activity(details={"bags": 1}), "details", "invalid_input"),
        (["not", "an", "object"], "body", "invalid_input"),
    ],
)
def test_bad_input_is_a_clear_4xx_naming_the_field_and_stores_nothing(
    client, keys, body, field, code
):
    before = log_position(client)
    r = client.post("/v1/activities", json=body, headers=keys.header("partner"))
    assert r.status_code == 422, r.text
    payload = r.json()
    assert payload["code"] == code
    assert field in {e["field"] for e in payload["errors"]}
    assert field in payload["detail"]
    assert log_position(client) == before


def test_malformed_json_is_422_invalid_json(client, keys):
    r = client.post(
        "/v1/activities",
        content=b'{"external_id": ',
        headers={**keys.header("partner"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_json"


def test_an_oversize_body_is_413(client, keys):
    huge = json.dumps({"items": [activity(n, note="x" * 200) for n in range(20_000)]})
    r = client.post(
        "/v1/activities/batch",
        content=huge.encode(),
        headers={**keys.header("partner"), "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["code"] == "body_too_large"


def test_a_batch_that_is_not_json_is_422_invalid_json_and_another_media_type_415(client, keys):
    h = keys.header("partner")
    for body in (b'{"items": [', b"\xff\xfe{}"):
        r = client.post(
            "/v1/activities/batch", content=body, headers={**h, "Content-Type": "application/json"}
        )
        assert (r.status_code, r.json()["code"]) == (422, "invalid_json")
        assert r.json()["errors"][0]["field"] == "body"
    r = client.post(
        "/v1/observations/batch", content=b"items", headers={**h, "Content-Type": "text/plain"}
    )
    assert (r.status_code, r.json()["code"]) == (415, "unsupported_media_type")
    r = client.post("/v1/activities/batch", content=b"[]", headers=h)  # no media type: JSON
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "body")
    # JSON that only Python's parser reads (a lone surrogate escape) is named where it is.
    lone = json.dumps({"items": [activity(1, note="x")]}).replace('"x"', '"\\ud800"')
    r = client.post("/v1/activities/batch", content=lone.encode(), headers=h)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "items.0.note")


def test_a_batch_returns_per_item_results(client, keys):
    h = keys.header("partner")
    client.post("/v1/activities", json=activity(0), headers=h)
    r = client.post(
        "/v1/activities/batch", json={"items": [activity(n) for n in range(3)]}, headers=h
    )
    assert r.status_code == 201
    body = r.json()
    assert (body["created"], body["duplicates"]) == (2, 1)
    assert [x["status"] for x in body["results"]] == ["duplicate", "created", "created"]


def test_a_batch_over_1000_items_is_refused(client, keys):
    before = log_position(client)
    items = [activity(n) for n in range(1001)]
    r = client.post("/v1/activities/batch", json={"items": items}, headers=keys.header("partner"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "items"
    assert log_position(client) == before


def test_a_batch_with_a_bad_item_names_it_and_stores_nothing(client, keys):
    before = log_position(client)
    items = [activity(n) for n in range(5)]
    items[3]["staff_count"] = -4
    r = client.post("/v1/activities/batch", json={"items": items}, headers=keys.header("partner"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "items.3.staff_count"
    assert log_position(client) == before


def test_observations_are_posted_read_and_batched(client, keys):
    h = keys.header("partner")
    r = client.post("/v1/observations", json=observation(), headers=h)
    assert r.status_code == 201, r.text
    state = client.get(f"/v1/observations/{r.json()['id']}", headers=h).json()
    assert (state["category"], state["count"]) == ("graffiti", 2)
    r = client.post(
        "/v1/observations/batch", json={"items": [observation(n) for n in range(2, 5)]}, headers=h
    )
    assert r.json()["created"] == 3


def test_unknown_routes_and_ids_are_json_404s(client, keys):
    r = client.get("/v1/nothing-here", headers=keys.header("admin"))
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    r = client.get(
        "/v1/activities/00000000-0000-0000-0000-000000000000", headers=keys.header("admin")
    )
    assert r.status_code == 404
    r = client.get("/v1/activities/not-a-uuid", headers=keys.header("admin"))
    assert r.status_code == 422


def test_health_readiness_and_openapi(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    assert client.get("/openapi.json").json()["info"]["title"] == "Trygg Ledger"
    assert client.get("/docs").status_code == 200


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(registry, keys):
    from fastapi.testclient import TestClient

    from api.app import create_app

    settings = registry.settings.model_copy(
        # A token every 100 s: none comes back while the test runs, however loaded the machine.
        update={"rate_limit_per_second": 0.01, "rate_limit_burst": 3}
    )
    with TestClient(create_app(settings, runtime=registry), raise_server_exceptions=False) as c:
        statuses = [
            c.get("/v1/stations", headers=keys.header("steering")).status_code for _ in range(5)
        ]
        other = c.get("/v1/stations", headers=keys.header("admin"))
        limited = c.get("/v1/stations", headers=keys.header("steering"))
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429]
    assert other.status_code == 200  # buckets are per key
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
