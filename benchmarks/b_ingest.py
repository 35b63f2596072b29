"""1. Batched ingest: 1,000-event ``POST /v1/activities/batch`` against a real uvicorn server,
against the same rows inserted with plain SQL ``executemany`` in equally sized transactions.

Layers measured in the same run, each paired with a raw run right before it:

* ``raw`` — plain SQL into a table shaped like the event store's (originator_id, version,
  topic, state; same primary key), the very bytes the ledger stores;
* ``record_entries`` — the ledger's bulk command in-process (validation, aggregates,
  the event store's insert), no HTTP;
* ``HTTP, API only`` — the server with ``TRYGG_EMBEDDED_PROJECTIONS=false`` (no projection
  runner or sealer threads in the API process);
* ``HTTP, default`` — the server as deployed by default, projecting and sealing in-process.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from api.runtime import Runtime
from benchmarks import data
from benchmarks.env import Config, Stopwatch, Target, log, median
from benchmarks.server import profiling, server, summarize_profile, wait_idle
from ledger.access import Principal, Role
from ledger.entry_service import ACTIVITY
from ledger.inputs import ActivityIn

RAW_TABLE = "bench_raw_events"


def create_raw_table(conn: Any, sqlite: bool) -> None:
    if sqlite:
        conn.execute(
            f"CREATE TABLE {RAW_TABLE} (originator_id TEXT, originator_version INTEGER, "
            "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
        )
    else:
        conn.execute(
            f"CREATE TABLE {RAW_TABLE} (originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, topic text, state bytea, "
            "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
        )
        conn.execute(f"CREATE UNIQUE INDEX {RAW_TABLE}_nid ON {RAW_TABLE} (notification_id)")


def raw_insert(conn: Any, sqlite: bool, batches: list[list[tuple[Any, ...]]]) -> float:
    """Insert each batch in its own transaction; returns seconds."""
    sql = f"INSERT INTO {RAW_TABLE} (originator_id, originator_version, topic, state) "
    if sqlite:
        sql += "VALUES (?, ?, ?, ?)"
        watch = Stopwatch()
        for rows in batches:
            conn.execute("BEGIN")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")
        return watch.elapsed
    sql += "VALUES (%s, %s, %s, %s)"
    watch = Stopwatch()
    for rows in batches:
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(sql, rows)
    return watch.elapsed


def raw_batches(
    system: Runtime, bodies: list[list[dict[str, Any]]], sqlite: bool
) -> list[list[tuple[Any, ...]]]:
    out = []
    for batch in bodies:
        rows = data.stored_rows(system, data.PARTNER, batch)
        # Fresh ids: the raw table must not collide with itself across runs.
        rows = [(uuid.uuid4(), *r[1:]) for r in rows]
        if sqlite:
            rows = [(r[0].hex, *r[1:]) for r in rows]
        out.append(rows)
    return out


def post_batches(client: httpx.Client, payloads: list[bytes]) -> float:
    watch = Stopwatch()
    for payload in payloads:
        response = client.post("/v1/activities/batch", content=payload)
        if response.status_code != 201 or response.json()["created"] != data.BATCH:
            raise RuntimeError(f"batch failed: {response.status_code} {response.text[:500]}")
    return watch.elapsed


def run(t: Target, cfg: Config) -> dict[str, Any]:
    system = Runtime(t.settings())
    try:
        data.setup_registry(system)
        keys = data.create_keys(system)
        raw = t.raw_connect()
        create_raw_table(raw, t.is_sqlite)
        nb = max(1, cfg.ingest_batches)
        events = nb * data.BATCH
        plans = [("http_default", {}), ("http_api_only", {"TRYGG_EMBEDDED_PROJECTIONS": "false"})]
        seed = 1000
        results: dict[str, list[dict[str, float]]] = {}

        def fresh(tag: str) -> tuple[list[bytes], list[list[tuple[Any, ...]]], list[Any]]:
            nonlocal seed
            seed += 1
            bodies = data.activity_batches(seed, nb, f"{tag}-{seed}")
            payloads = [json.dumps({"items": b}).encode() for b in bodies]
            return payloads, raw_batches(system, bodies, t.is_sqlite), bodies

        def pair(name: str, measure: Any) -> None:
            payloads, rows, bodies = fresh(name)
            raw_s = raw_insert(raw, t.is_sqlite, rows)
            ledger_s = measure(payloads, bodies)
            results.setdefault(name, []).append(
                {
                    "raw_eps": events / raw_s,
                    "ledger_eps": events / ledger_s,
                    "ratio": raw_s / ledger_s,
                }
            )
            log(
                f"  ingest {name}: ledger {events / ledger_s:,.0f} ev/s, "
                f"raw {events / raw_s:,.0f} ev/s, ratio {raw_s / ledger_s:.2f}"
            )

        who = Principal("bench", Role.partner, data.PARTNER)

        def in_process(_payloads: list[bytes], bodies: list[list[dict[str, Any]]]) -> float:
            watch = Stopwatch()
            for batch in bodies:
                entries = [ActivityIn.model_validate(b) for b in batch]
                system.entries.record_entries(ACTIVITY, who, entries)
            return watch.elapsed

        # Warm the raw path and the in-process ledger once (imports, caches, page cache).
        payloads, rows, bodies = fresh("warm")
        raw_insert(raw, t.is_sqlite, rows[:2])
        in_process(payloads[:2], bodies[:2])
        for _ in range(cfg.runs):
            pair("record_entries", in_process)

        headers = {
            "Authorization": f"Bearer {keys.partner}",
            "Content-Type": "application/json",
        }
        drain: list[float] = []
        profile: dict[str, Any] = {}
        for name, env in plans:
            with (
                server(t, **env) as srv,
                httpx.Client(base_url=srv.base, headers=headers, timeout=600) as client,
            ):
                embedded = not env
                post_batches(client, fresh("warm")[0][:2])  # warm the server
                if embedded:
                    wait_idle(system.engine, system.ledger.events_table, t.schema)
                for _ in range(cfg.runs):
                    pair(name, lambda p, _b: post_batches(client, p))
                    if embedded:
                        # The runner and sealer keep working after the last response;
                        # let them finish so the next raw run has the machine to itself.
                        drain.append(wait_idle(system.engine, system.ledger.events_table, t.schema))
                if cfg.profile and name == "http_default":
                    out = cfg.profile_dir / f"ingest-{t.kind}.txt"
                    with profiling(srv.pid, out):
                        post_batches(client, fresh("prof")[0])
                        wait_idle(system.engine, system.ledger.events_table, t.schema)
                    profile = summarize_profile(out)
        raw.close()
        summary: dict[str, Any] = {"events_per_run": events, "batch": data.BATCH, "rows": {}}
        for name, runs in results.items():
            summary["rows"][name] = {
                "ledger_eps": median([r["ledger_eps"] for r in runs]),
                "raw_eps": median([r["raw_eps"] for r in runs]),
                "ratio": median([r["ratio"] for r in runs]),
                "runs": len(runs),
            }
        summary["drain_seconds"] = median(drain) if drain else None
        summary["profile"] = profile
        return summary
    finally:
        system.close()
