"""A careless or hostile partner system, over HTTP (issue #10): every bad request gets a
clear 4xx, stores nothing, and never stops anything for anyone else."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.live import free_port, server_process, trygg
from tests.factories import activity


def stored(client, keys) -> int:
    return client.get("/v1/activities", headers=keys.header("admin")).json()["total"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (activity(note="a\u0000b"), "note"),
        (activity(note="lodrät\u000btab"), "note"),
        (activity(note="\u202egnirts"), "note"),
        (activity(kind="public_event", details={"title": "Fika\u0000"}), "details.title"),
        (activity(details={"conver\u0000sations": 2}), "details.conver\u0000sations"),
        (activity(started_at="0001-01-01T10:00:00+01:00", ended_at=None), "started_at"),
        (activity(started_at="1900-06-01T10:00:00+01:00", ended_at=None), "started_at"),
    ],
)
def test_text_and_times_that_cannot_be_kept_are_refused_at_the_door(client, keys, body, field):
    r = client.post("/v1/activities", json=body, headers=keys.header("partner"))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_input"
    assert field in {e["field"] for e in r.json()["errors"]}
    assert stored(client, keys) == 0


def test_an_unpaired_surrogate_in_raw_json_is_refused(client, keys):
    raw = b'{"external_id":"vt-1","kind":"security_host_shift","station":"lerum",'
    raw += b'"started_at":"2021-10-01T16:00:00+02:00","note":"\\ud800"}'
    r = client.post(
        "/v1/activities",
        content=raw,
        headers={**keys.header("partner"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert "note" in {e["field"] for e in r.json()["errors"]}


def test_a_nul_after_it_was_refused_leaves_the_views_running(client, keys):
    """The bug that froze every view on PostgreSQL: now the note never gets in, and the
    next write is projected as usual."""
    h = keys.header("partner")
    assert (
        client.post("/v1/activities", json=activity(1, note="a\x00b"), headers=h).status_code == 422
    )
    ok = client.post("/v1/activities", json=activity(2, note="Lugnt"), headers=h).json()
    listed = client.get("/v1/activities", params={"min_position": ok["position"]}, headers=h)
    assert [i["note"] for i in listed.json()["items"]] == ["Lugnt"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"as_of": "²"}, "as_of"),
        ({"as_of": "٣"}, "as_of"),
        ({"as_of": "9999-12-31T23:59:59-01:00"}, "as_of"),
        ({"as_of": "0001-01-01T00:00:00+01:00"}, "as_of"),
        ({"as_of": "2022-03-01T12:00:00"}, "as_of"),
        ({"from": "0001-01-01"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"station": "ler\x00um"}, "station"),
    ],
)
def test_dates_positions_and_codes_the_api_cannot_use_get_a_4xx(client, keys, params, field):
    for path in ("/v1/stations/lerum/summary", "/v1/situation", "/v1/promises/x/progress"):
        r = client.get(path, params=params, headers=keys.header("steering"))
        if path.endswith("progress") and field in ("from", "to"):
            continue  # progress takes no range
        assert 400 <= r.status_code < 500, (path, params, r.text)
        assert field in {e["field"] for e in r.json().get("errors", [])} or r.status_code == 404


def test_a_control_character_in_the_path_is_refused(client, keys):
    r = client.get("/v1/stations/ler%00um/summary", headers=keys.header("steering"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "path"


def test_a_bad_key_with_a_bad_body_is_401(client, keys):
    r = client.post(
        "/v1/activities",
        content=b"{not json",
        headers={"Authorization": "Bearer tl_wrong", "Content-Type": "application/json"},
    )
    assert r.status_code == 401
    r = client.post("/v1/activities", content=b"{not json")
    assert r.status_code == 401


def test_a_chunked_body_over_the_cap_is_413(client, keys, registry):
    cap = registry.settings.max_body_bytes

    def chunks():
        yield b'{"items": ['
        for _ in range(cap // 1000 + 1):
            yield b" " * 1000

    r = client.post(
        "/v1/activities/batch",
        content=chunks(),
        headers={**keys.header("partner"), "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["code"] == "body_too_large"


def test_a_body_that_trickles_gets_408_and_others_are_served(tmp_path):
    env = {
        "TRYGG_DATABASE_URL": f"sqlite:///{tmp_path / 'trickle.db'}",
        "TRYGG_BODY_READ_TIMEOUT_SECONDS": "1",
    }
    token = trygg("keys", "create", "--role", "admin", env=env).stdout.strip().splitlines()[-1]
    with server_process(env, free_port()) as (base, _proc):
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(
                b"POST /v1/stations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer " + token.encode() + b"\r\nContent-Length: 100\r\n\r\n{"
            )
            started = time.monotonic()
            assert httpx.get(f"{base}/healthz").status_code == 200  # others are served meanwhile
            answer = b""
            while chunk := s.recv(4096):  # the server closes the connection after answering
                answer += chunk
            waited = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b'"code":"request_timeout"' in answer
        assert waited < 10


def test_many_as_of_reads_at_once_all_get_their_answers(client, keys, registry):
    """Issue #13: "as of" reads come from stored history, so twenty at different points at
    once all answer, each with what stood at its point, and the service stays healthy."""
    h = keys.header("partner")
    positions = [
        client.post("/v1/activities", json=activity(n), headers=h).json()["position"]
        for n in range(1, 25)
    ]
    steering = keys.header("steering")

    def read(position: int):
        return client.get(
            "/v1/stations/lerum/summary", params={"as_of": str(position)}, headers=steering
        )

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(read, positions))
        health = client.get("/healthz")
    assert [r.status_code for r in answers] == [200] * len(positions)
    for n, (position, r) in enumerate(zip(positions, answers, strict=True), start=1):
        assert r.json()["as_of_position"] == position
        assert r.json()["totals"]["activities"] == n  # the n activities recorded by then
    assert health.status_code == 200
