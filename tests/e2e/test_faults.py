"""Faults: a killed server, a killed sealer, dropped database connections, a full disk.

Every 2xx-acknowledged event must be stored exactly once; retries with the same
external_id never duplicate; failures are clean 4xx/5xx JSON, never a 500.
"""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import suppress

import httpx
import psycopg
import pytest

from ledger.access import Principal, Role
from ledger.audit.verify import verify_ledger
from ledger.entry_service import ACTIVITY
from ledger.inputs import ActivityIn
from ledger.storage import pg_conninfo
from tests.conftest import PG_URL
from tests.e2e.live import free_port, server_process
from tests.factories import activity

HOSTS = Principal("k", Role.partner, "vasttrafik")


class Client(threading.Thread):
    """Posts its share of activities, retrying each until acknowledged (as partners must)."""

    def __init__(self, base: str, token: str, ids: list[int], deadline: float) -> None:
        super().__init__(daemon=True)
        self.base, self.token, self.ids, self.deadline = base, token, ids, deadline
        self.acked: dict[str, tuple[str, int]] = {}
        self.statuses: list[int] = []

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        for n in self.ids:
            body = activity(n)
            while time.monotonic() < self.deadline:
                try:
                    r = httpx.post(
                        f"{self.base}/v1/activities", json=body, headers=headers, timeout=5
                    )
                except httpx.TransportError:
                    time.sleep(0.05)  # the server is down: retry the same external_id
                    continue
                self.statuses.append(r.status_code)
                if r.status_code in (200, 201):
                    self.acked[body["external_id"]] = (r.json()["id"], r.json()["position"])
                    break
                time.sleep(0.05)


def stored_activity_ids(system) -> list[str]:
    return [
        str(n.originator_id)
        for n in system.ledger.recorder.select_notifications(start=1, limit=10**7)
        if n.topic.endswith("Activity.Recorded")
    ]


def test_kill_9_during_writes_loses_and_duplicates_nothing(registry, keys, cli_env):
    env = {**cli_env, "TRYGG_RATE_LIMIT_PER_SECOND": "0"}
    port = free_port()
    deadline = time.monotonic() + 90
    clients = [
        Client(f"http://127.0.0.1:{port}", keys.partner, list(range(k, 240, 4)), deadline)
        for k in range(4)
    ]
    with server_process(env, port) as (_, proc):
        for c in clients:
            c.start()
        time.sleep(1.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    with server_process(env, port):
        for c in clients:
            c.join(timeout=max(1, deadline - time.monotonic()))
    acked = {k: v for c in clients for k, v in c.acked.items()}
    assert len(acked) == 240, "every client finished its retries"
    stored = stored_activity_ids(registry)
    assert len(stored) == len(set(stored)) == 240  # exactly once, retries never duplicated
    assert {v[0] for v in acked.values()} == set(stored)
    assert all(s < 500 for c in clients for s in c.statuses)


def test_kill_9_of_the_sealer_inside_a_transaction_recovers_exactly(registry, cli_env):
    items = [ActivityIn.model_validate(activity(n)) for n in range(300)]
    registry.entries.record_entries(ACTIVITY, HOSTS, items)
    env = {**os.environ, **cli_env, "TRYGG_FAILPOINT": "seal.before_commit:1"}
    crashed = subprocess.run(
        [sys.executable, "-m", "api", "project"], env=env, timeout=60, capture_output=True
    )
    assert crashed.returncode == 137
    assert registry.audit.sealer.state()[1] == 0  # the interrupted page left no trace
    registry.audit.issue_checkpoint()
    assert registry.audit.sealer.state()[1] == registry.ledger.last_position()
    report = verify_ledger(
        registry.ledger.recorder, registry.engine, registry.audit.signer.verifier_key
    )
    assert report.ok, report.as_dict()


@pytest.mark.postgres
def test_dropped_database_connections_give_clean_errors_and_lose_nothing(pg_schema, tmp_path):
    if not PG_URL:
        pytest.skip("needs TRYGG_TEST_DATABASE_URL")
    from api.runtime import Runtime
    from ledger.access import SYSTEM
    from ledger.inputs import ActorIn, StationIn
    from ledger.settings import Settings

    settings = Settings(
        database_url=PG_URL, database_schema=pg_schema, signing_key_file=tmp_path / "k.pem"
    )
    system = Runtime(settings)
    try:
        system.registry.register_station(
            SYSTEM, StationIn(code="lerum", name="Lerum", municipality="Lerum")
        )
        system.registry.register_actor(
            SYSTEM, ActorIn.model_validate({"code": "vasttrafik", "name": "VT", "kind": "transit"})
        )
        token = system.create_key(Role.partner, "vasttrafik", None)[1]
        app_name = f"trygg-fault-{uuid.uuid4().hex[:8]}"
        env = {
            "TRYGG_DATABASE_URL": PG_URL,
            "TRYGG_DATABASE_SCHEMA": pg_schema,
            "TRYGG_SIGNING_KEY_FILE": str(tmp_path / "k.pem"),
            "TRYGG_RATE_LIMIT_PER_SECOND": "0",
            "PGAPPNAME": app_name,
        }
        port = free_port()
        deadline = time.monotonic() + 90
        clients = [
            Client(f"http://127.0.0.1:{port}", token, list(range(k, 160, 4)), deadline)
            for k in range(4)
        ]
        with server_process(env, port):
            for c in clients:
                c.start()
            with psycopg.connect(pg_conninfo(PG_URL), autocommit=True) as admin:
                for _ in range(6):
                    time.sleep(0.3)
                    admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                        (app_name,),
                    )
            for c in clients:
                c.join(timeout=max(1, deadline - time.monotonic()))
        statuses = [s for c in clients for s in c.statuses]
        assert all(s < 500 or s == 503 for s in statuses), sorted(set(statuses))
        acked = {k: v for c in clients for k, v in c.acked.items()}
        assert len(acked) == 160
        stored = stored_activity_ids(system)
        assert len(stored) == len(set(stored)) == 160
    finally:
        system.close()


def test_a_full_disk_gives_a_clean_error_and_reads_still_work(tmp_path, keys):
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        from api.runtime import Runtime
        from ledger.access import SYSTEM
        from ledger.inputs import ActorIn, StationIn
        from ledger.settings import Settings

        settings = Settings(
            database_url=f"sqlite:///{mount / 'trygg.db'}", signing_key_file=tmp_path / "k.pem"
        )
        system = Runtime(settings)
        system.registry.register_station(
            SYSTEM, StationIn(code="lerum", name="Lerum", municipality="Lerum")
        )
        system.registry.register_actor(
            SYSTEM, ActorIn.model_validate({"code": "vasttrafik", "name": "VT", "kind": "transit"})
        )
        token = system.create_key(Role.partner, "vasttrafik", None)[1]
        system.close()
        env = {
            "TRYGG_DATABASE_URL": settings.database_url,
            "TRYGG_SIGNING_KEY_FILE": str(tmp_path / "k.pem"),
            "TRYGG_RATE_LIMIT_PER_SECOND": "0",
        }
        headers = {"Authorization": f"Bearer {token}"}
        with server_process(env) as (base, _):
            statuses = []
            for start in range(0, 400_000, 1000):
                items = [activity(n, note="x" * 250) for n in range(start, start + 1000)]
                r = httpx.post(
                    f"{base}/v1/activities/batch",
                    json={"items": items},
                    headers=headers,
                    timeout=30,
                )
                statuses.append(r.status_code)
                if r.status_code >= 500:
                    break
            assert statuses[-1] == 507, statuses[-5:]
            assert r.json()["code"] == "storage_full"
            assert httpx.get(f"{base}/v1/stations", headers=headers).status_code == 200
    finally:
        with suppress(Exception):
            subprocess.run(["umount", "-l", str(mount)], check=False)
