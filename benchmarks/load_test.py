"""A bounded load test against a real server on 127.0.0.1: mixed partner writes (with
retries and corrections) and steering reads, then the checks that matter.

    python -m benchmarks.load_test --db postgres --minutes 3      # the documented long run
    python -m benchmarks.load_test --db sqlite --seconds 20       # a quick one

Afterwards it asserts: zero 5xx; every acknowledged activity stored exactly once; the
live views equal a fresh rebuild; ``trygg verify`` passes. Exit code 0 only if all hold.
Traffic goes only to 127.0.0.1; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import psycopg

from api.demo import populate
from api.runtime import Runtime
from ledger.access import Role
from ledger.audit.verify import verify_ledger
from ledger.settings import Settings
from ledger.storage import pg_conninfo
from projections.rebuild import rebuild
from projections.runner import ProjectionRunner
from tests.e2e.live import server_process

PG_URL = os.environ.get(
    "TRYGG_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PARTNERS = ["vasttrafik", "trafikverket", "polisen-alingsas"]
KINDS = {
    "vasttrafik": "security_host_shift",
    "trafikverket": "cleaning_round",
    "polisen-alingsas": "patrol",
}
STATIONS = ["herrljunga", "vargarda", "alingsas", "floda", "lerum"]


def activity_body(rng: random.Random, actor: str, external_id: str) -> dict:
    day = rng.randint(1, 28)
    hour = rng.randint(6, 18)
    return {
        "external_id": external_id,
        "kind": KINDS[actor],
        "station": rng.choice(STATIONS),
        "started_at": f"2022-05-{day:02d}T{hour:02d}:00:00+02:00",
        "ended_at": f"2022-05-{day:02d}T{hour + rng.randint(1, 4):02d}:30:00+02:00",
        "staff_count": rng.randint(1, 3),
    }


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: Counter[tuple[str, int]] = Counter()
        self.errors: Counter[str] = Counter()

    def record(self, op: str, status: int, seconds: float) -> None:
        self.latency[op].append(seconds * 1000)
        self.status[(op, status)] += 1


async def partner(
    client: httpx.AsyncClient,
    actor: str,
    token: str,
    stop: float,
    seed: int,
    stats: Stats,
    acked: dict,
) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    mine: list[str] = []
    n = 0
    while time.monotonic() < stop:
        roll = rng.random()
        started = time.monotonic()
        try:
            if roll < 0.6 or not mine:
                # A new activity, or (10 %) a retry of one already sent: must not duplicate.
                if mine and rng.random() < 0.1:
                    external_id = rng.choice(mine)
                    body = acked[(actor, external_id)][1]
                else:
                    n += 1
                    external_id = f"{actor}-{seed}-{n}"
                    body = activity_body(rng, actor, external_id)
                r = await client.post("/v1/activities", json=body, headers=headers)
                stats.record("post", r.status_code, time.monotonic() - started)
                if r.status_code in (200, 201):
                    acked[(actor, external_id)] = (r.json()["id"], body)
                    if external_id not in mine:
                        mine.append(external_id)
            elif roll < 0.75:
                items = []
                for _ in range(50):
                    n += 1
                    items.append(activity_body(rng, actor, f"{actor}-{seed}-{n}"))
                r = await client.post(
                    "/v1/activities/batch", json={"items": items}, headers=headers
                )
                stats.record("batch", r.status_code, time.monotonic() - started)
                if r.status_code in (200, 201):
                    for item, result in zip(items, r.json()["results"], strict=True):
                        acked[(actor, item["external_id"])] = (result["id"], item)
                        mine.append(item["external_id"])
            else:
                entry_id = acked[(actor, rng.choice(mine))][0]
                current = await client.get(f"/v1/activities/{entry_id}", headers=headers)
                stats.record("get", current.status_code, time.monotonic() - started)
                if current.status_code == 200 and current.json()["status"] == "active":
                    fix = {
                        "changes": {"staff_count": rng.randint(1, 4)},
                        "reason": "recount",
                        "expected_version": current.json()["version"],
                    }
                    started = time.monotonic()
                    r = await client.post(
                        f"/v1/activities/{entry_id}/corrections", json=fix, headers=headers
                    )
                    stats.record("correct", r.status_code, time.monotonic() - started)
        except httpx.HTTPError as error:
            stats.errors[type(error).__name__] += 1


async def steering(
    client: httpx.AsyncClient, token: str, stop: float, seed: int, stats: Stats
) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    paths = [
        lambda: f"/v1/stations/{rng.choice(STATIONS)}/summary?group=week",
        lambda: "/v1/promises/stk-2021-2022/progress",
        lambda: f"/v1/situation?station={rng.choice(STATIONS)}&from=2022-01-01&to=2022-06-30",
        lambda: f"/v1/activities?station={rng.choice(STATIONS)}&page_size=20",
        lambda: "/v1/action-plans/measures?overdue=true",
    ]
    while time.monotonic() < stop:
        started = time.monotonic()
        try:
            r = await client.get(rng.choice(paths)(), headers=headers)
            stats.record("read", r.status_code, time.monotonic() - started)
        except httpx.HTTPError as error:
            stats.errors[type(error).__name__] += 1
        await asyncio.sleep(0.02)


async def drive(base: str, tokens: dict, seconds: float, stats: Stats, acked: dict) -> None:
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        tasks = [
            partner(client, actor, tokens[actor], stop, seed, stats, acked)
            for seed, actor in enumerate(PARTNERS * 2)
        ]
        tasks += [steering(client, tokens["steering"], stop, 100 + i, stats) for i in range(2)]
        await asyncio.gather(*tasks)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--minutes", type=float, default=None)
    parser.add_argument("--seconds", type=float, default=180.0)
    args = parser.parse_args(argv)
    seconds = args.minutes * 60 if args.minutes is not None else args.seconds

    workdir = Path(tempfile.mkdtemp(prefix="trygg-load-"))
    schema = f"trygg_load_{uuid.uuid4().hex[:8]}"
    common = {"signing_key_file": workdir / "key.pem"}
    if args.db == "sqlite":
        settings = Settings(database_url=f"sqlite:///{workdir / 'load.db'}", **common)
    else:
        with psycopg.connect(_conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        settings = Settings(database_url=PG_URL, database_schema=schema, **common)
    system = Runtime(settings)
    try:
        populate(system, days=30)
        tokens = {actor: system.create_key(Role.partner, actor, "load")[1] for actor in PARTNERS}
        tokens["steering"] = system.create_key(Role.steering, None, "load")[1]
        env = {
            "TRYGG_DATABASE_URL": settings.database_url,
            "TRYGG_SIGNING_KEY_FILE": str(common["signing_key_file"]),
            "TRYGG_RATE_LIMIT_PER_SECOND": "0",
        }
        if args.db == "postgres":
            env["TRYGG_DATABASE_SCHEMA"] = schema
        stats = Stats()
        acked: dict = {}
        print(f"Load: {seconds:.0f} s on {args.db}, 6 partner clients and 2 steering readers …")
        with server_process(env, extra_args=("--no-access-log",)) as (base, _):
            asyncio.run(drive(base, tokens, seconds, stats, acked))
            # Let the embedded runner catch up before comparing views.
            deadline = time.monotonic() + 120
            headers = {"Authorization": f"Bearer {tokens['steering']}"}
            while time.monotonic() < deadline:
                try:
                    lag = httpx.get(f"{base}/v1/projections", headers=headers, timeout=30).json()
                except httpx.HTTPError as error:
                    print(f"waiting for the projections: {error!r}")
                    continue
                print("lag:", {p["name"]: p["lag"] for p in lag["items"]})
                if all(p["lag"] == 0 for p in lag["items"]):
                    break
                time.sleep(0.5)
        return report_and_check(system, stats, acked, seconds)
    finally:
        system.close()
        if args.db == "postgres":
            with psycopg.connect(_conninfo(), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def report_and_check(system: Runtime, stats: Stats, acked: dict, seconds: float) -> int:
    print(
        "\n| operation | requests | req/s | p50 ms | p95 ms | p99 ms | statuses |\n|---|---|---|---|---|---|---|"
    )
    for op, values in sorted(stats.latency.items()):
        statuses = ", ".join(f"{s}×{c}" for (o, s), c in sorted(stats.status.items()) if o == op)
        print(
            f"| {op} | {len(values)} | {len(values) / seconds:.1f} | {statistics.median(values):.1f} "
            f"| {percentile(values, 0.95):.1f} | {percentile(values, 0.99):.1f} | {statuses} |"
        )
    failures = []
    server_errors = sum(c for (_, s), c in stats.status.items() if s >= 500)
    if server_errors:
        failures.append(f"{server_errors} responses were 5xx")
    if stats.errors:
        failures.append(f"transport errors: {dict(stats.errors)}")
    recorded = Counter(
        str(n.originator_id)
        for n in system.ledger.recorder.select_notifications(start=1, limit=10**8)
        if n.topic.endswith("Activity.Recorded")
    )
    duplicates = [i for i, c in recorded.items() if c > 1]
    missing = [k for k, (i, _) in acked.items() if i not in recorded]
    if duplicates or missing:
        failures.append(
            f"{len(missing)} acknowledged activities missing, {len(duplicates)} duplicated"
        )
    runner = ProjectionRunner(system.ledger.recorder, system.engine)
    runner.catch_up_all()
    before = _snapshot(runner)
    for name in runner.projections:
        rebuild(runner, name, grace_seconds=0)
    if _snapshot(runner) != before:
        failures.append("the live views differ from a fresh rebuild")
    system.audit.issue_checkpoint()
    verified = verify_ledger(
        system.ledger.recorder, system.engine, system.audit.signer.verifier_key
    )
    if not verified.ok:
        failures.append(f"verify failed: {verified.first}")
    print(
        f"\nacknowledged activities: {len(acked)}; stored once each: {not duplicates and not missing}; "
        f"views equal a rebuild: {'the live views differ from a fresh rebuild' not in failures}; "
        f"verify: {'OK' if verified.ok else 'FAILED'} ({verified.leaves} leaves); 5xx: {server_errors}"
    )
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


def _snapshot(runner: ProjectionRunner) -> dict:
    from sqlalchemy import select

    out = {}
    with runner.engine.connect() as conn:
        for name in runner.projections:
            for short, table in vars(runner.live_tables(name, conn)).items():
                if short == "snapshots" or short.endswith("_snap"):
                    continue  # taken where pages happened to end: a rebuild's pages differ
                out[(name, short)] = sorted(
                    tuple(str(v) for k, v in row.items() if k not in {"position", "updated_at"})
                    for row in conn.execute(select(table)).mappings()
                )
    return out


def _conninfo() -> str:
    return pg_conninfo(PG_URL)


if __name__ == "__main__":
    sys.exit(main())
