"""``trygg serve --workers N``: several API processes on one database, exactly one of them
running the background jobs, and a clean hand-over when it dies."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import httpx

from api.runtime import Runtime
from ledger.access import Role
from ledger.settings import Settings
from tests.conftest import registered
from tests.e2e.live import server_process
from tests.factories import activity


def _roles(base: str, tries: int = 40) -> dict[int, str]:
    """pid → leader/standby, from /readyz on fresh connections (each may reach any worker)."""
    seen: dict[int, str] = {}
    for _ in range(tries):
        body = httpx.get(f"{base}/readyz", headers={"Connection": "close"}).json()
        seen[body["pid"]] = body["jobs"]
    return seen


def _wait(what: str, predicate: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting until {what}")


def _post_and_catch_up(base: str, token: str, first: int, n: int) -> None:
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
    last = 0
    for i in range(first, first + n):
        r = httpx.post(f"{base}/v1/activities", json=activity(i), headers=headers)
        assert r.status_code == 201, r.text
        last = r.json()["position"]
    # A read with min_position on any worker waits for the leader's runner.
    r = httpx.get(
        f"{base}/v1/activities", params={"min_position": last}, headers=headers, timeout=30
    )
    assert r.status_code == 200, r.text
    assert r.json()["total"] == first + n - 1


def test_two_workers_elect_one_leader_and_hand_over_when_it_dies(
    settings: Settings, cli_env: dict[str, str]
) -> None:
    setup = Runtime(settings)
    registered(setup)
    _, token = setup.create_key(Role.partner, "vasttrafik", None)
    setup.close()

    with server_process(cli_env, extra_args=("--workers", "2")) as (base, _proc):
        _wait("a worker leads", lambda: "leader" in _roles(base, 10).values())
        seen = _roles(base)
        assert sorted(seen.values()) == ["leader", "standby"], seen  # two workers, one leads

        # The lock is held: nobody else can take it, not even this test.
        lock_holder = Runtime(settings)
        try:
            lock = lock_holder.database.jobs_lock(lock_holder.engine)
            assert lock.acquire() is False
        finally:
            lock_holder.close()

        _post_and_catch_up(base, token, 1, 10)

        leader = next(pid for pid, role in seen.items() if role == "leader")
        os.kill(leader, signal.SIGKILL)
        _wait(
            "another process leads",
            lambda: any(
                role == "leader" and pid != leader for pid, role in _roles(base, 10).items()
            ),
        )
        _post_and_catch_up(base, token, 11, 10)  # the new leader projects what follows
