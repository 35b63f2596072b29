"""4. Summary read latency over HTTP: ``GET /v1/stations/{code}/summary`` (rotating over the
five stations) and ``GET /v1/promises/stk-2021-2022/progress``, one client, sequential, with
a steering key; against the station summary's own GROUP BY run with the raw driver on the
live projection table (the database's floor). Compared across log sizes by the runner."""

from __future__ import annotations

import time
from typing import Any

import httpx

from api.demo import ALL
from api.runtime import Runtime
from benchmarks import data
from benchmarks.env import Config, Target, log, median, percentile
from benchmarks.server import server, wait_idle


def latencies(call: Any, n: int) -> list[float]:
    for _ in range(min(20, n)):
        call(0)
    out = []
    for i in range(n):
        start = time.perf_counter()
        call(i)
        out.append(time.perf_counter() - start)
    return out


def _stats(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": percentile(times, 50) * 1000,
        "p95_ms": percentile(times, 95) * 1000,
        "p99_ms": percentile(times, 99) * 1000,
    }


def run(t: Target, cfg: Config, system: Runtime, keys: data.Keys) -> dict[str, Any]:
    runs: dict[str, list[dict[str, float]]] = {"station": [], "promise": [], "raw": []}
    with (
        server(t) as srv,
        httpx.Client(
            base_url=srv.base, headers={"Authorization": f"Bearer {keys.steering}"}, timeout=60
        ) as client,
    ):
        wait_idle(system.engine, system.ledger.events_table, t.schema)

        def station(i: int) -> None:
            r = client.get(f"/v1/stations/{ALL[i % len(ALL)]}/summary")
            if r.status_code != 200:
                raise RuntimeError(f"summary failed: {r.status_code} {r.text[:300]}")

        def promise(_i: int) -> None:
            r = client.get(f"/v1/promises/{data.PROMISE}/progress")
            if r.status_code != 200:
                raise RuntimeError(f"progress failed: {r.status_code} {r.text[:300]}")

        raw = t.raw_connect()
        generation = raw.execute(
            "SELECT generation FROM trygg_projection_live WHERE name = 'activities'"
        ).fetchone()[0]
        daily = f"proj_activities_g{generation}_daily"
        daily_rows = raw.execute(f"SELECT count(*) FROM {daily}").fetchone()[0]
        mark = "?" if t.is_sqlite else "%s"
        sql = (
            "SELECT week, actor, kind, sum(entries), sum(minutes), sum(staff_minutes) "
            f"FROM {daily} WHERE station = {mark} GROUP BY week, actor, kind "
            "ORDER BY week, actor, kind"
        )

        def raw_summary(i: int) -> None:
            raw.execute(sql, (ALL[i % len(ALL)],)).fetchall()

        for _ in range(cfg.runs):
            runs["station"].append(_stats(latencies(station, cfg.read_requests)))
            runs["promise"].append(_stats(latencies(promise, cfg.read_requests)))
            runs["raw"].append(_stats(latencies(raw_summary, cfg.read_requests)))
            log(
                f"  reads: station summary p50 {runs['station'][-1]['p50_ms']:.2f} ms, "
                f"promise progress p50 {runs['promise'][-1]['p50_ms']:.2f} ms, "
                f"raw GROUP BY p50 {runs['raw'][-1]['p50_ms']:.2f} ms ({daily_rows} daily rows)"
            )
        raw.close()
    out: dict[str, Any] = {"daily_rows": daily_rows, "runs": cfg.runs}
    for name, stats in runs.items():
        out[name] = {k: median([s[k] for s in stats]) for k in stats[0]}
    return out
