"""2. Single-event ``POST /v1/activities`` from 1, 4 and 16 concurrent clients (httpx, one
thread and one keep-alive connection per client) against one uvicorn worker, and the bare
library baseline: ``eventsourcing`` ``Application.save()`` of a comparable aggregate in a
loop (same number of threads) on the same database.

Also measured: the harness ceiling, ``GET /healthz`` with the same clients (what uvicorn and
the client threads manage with no ledger work at all)."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from api.runtime import Runtime
from benchmarks import data
from benchmarks.env import Config, Target, log, median, percentile
from benchmarks.peer import BenchActivity, BenchLibrary
from benchmarks.server import profiling, server, summarize_profile, wait_idle
from ledger.storage import Database


def library_app(t: Target) -> BenchLibrary:
    env = Database.from_settings(t.settings()).eventsourcing_env()
    if t.is_sqlite:
        # The library's SQLite table name is fixed; keep it out of the ledger's file.
        env["SQLITE_DBNAME"] = str(t.workdir / "bench-library.db")
    return BenchLibrary(env=env)


def load_loop(
    clients: int, seconds: float, make_call: Callable[[int], Callable[[], bool]]
) -> dict[str, float]:
    """Run ``clients`` threads, each calling its own ``call()`` until the deadline."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def worker(i: int) -> None:
        call = make_call(i)
        call()  # warm this client's connection
        barrier.wait()
        mine = latencies[i]
        while True:
            start = time.perf_counter()
            if start >= stop_at[0]:
                return
            ok = call()
            mine.append(time.perf_counter() - start)
            if not ok:
                errors[i] += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + 3600
    barrier.wait()
    begin = time.perf_counter()
    stop_at[0] = begin + seconds
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - begin
    flat = [x for lst in latencies for x in lst]
    return {
        "rps": len(flat) / elapsed,
        "p50_ms": percentile(flat, 50) * 1000,
        "p95_ms": percentile(flat, 95) * 1000,
        "p99_ms": percentile(flat, 99) * 1000,
        "requests": len(flat),
        "errors": sum(errors),
    }


class Bodies:
    """Deterministic single-activity bodies, unique external ids across every client."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def for_client(self, i: int) -> Callable[[], tuple[str, dict[str, Any]]]:
        rng = random.Random(f"{self.tag}-{i}")
        kinds = list(data.KIND_WEIGHTS)
        weights = [data.KIND_WEIGHTS[k] for k in kinds]
        n = [0]

        def next_body() -> tuple[str, dict[str, Any]]:
            n[0] += 1
            kind = rng.choices(kinds, weights)[0]
            return data.activity_body(rng, kind, f"{self.tag}-{i}-{n[0]}")

        return next_body


def http_caller(base: str, headers: dict[str, str], bodies: Bodies) -> Callable[[int], Any]:
    def make(i: int) -> Callable[[], bool]:
        client = httpx.Client(base_url=base, headers=headers, timeout=60)
        next_body = bodies.for_client(i)

        def call() -> bool:
            _, body = next_body()
            response = client.post("/v1/activities", content=json.dumps(body).encode())
            return response.status_code == 201

        return call

    return make


def healthz_caller(base: str) -> Callable[[int], Any]:
    def make(_i: int) -> Callable[[], bool]:
        client = httpx.Client(base_url=base, timeout=60)
        return lambda: client.get("/healthz").status_code == 200

    return make


def library_caller(app: BenchLibrary, bodies: Bodies) -> Callable[[int], Any]:
    def make(i: int) -> Callable[[], bool]:
        next_body = bodies.for_client(i)

        def call() -> bool:
            _, b = next_body()
            app.save(
                BenchActivity(
                    actor=data.PARTNER,
                    external_id=b["external_id"],
                    kind=b["kind"],
                    station=b["station"],
                    zone=b["zone"],
                    started_at=b["started_at"],
                    ended_at=b["ended_at"],
                    staff_count=b["staff_count"],
                    details=b["details"],
                    note=b.get("note"),
                    content_hash="0" * 64,
                )
            )
            return True

        return call

    return make


def run(t: Target, cfg: Config) -> dict[str, Any]:
    system = Runtime(t.settings())
    app = library_app(t)
    try:
        data.setup_registry(system)
        keys = data.create_keys(system)
        headers = {"Authorization": f"Bearer {keys.partner}", "Content-Type": "application/json"}
        results: dict[int, dict[str, list[dict[str, float]]]] = {}
        profile: dict[str, Any] = {}
        seconds = cfg.single_seconds
        with server(t) as srv:
            wait_idle(system.engine, system.ledger.events_table, t.schema)
            ceiling = load_loop(4, min(seconds, 3.0), healthz_caller(srv.base))
            log(f"  harness ceiling (GET /healthz, 4 clients): {ceiling['rps']:,.0f} req/s")
            for run_no in range(cfg.runs):
                for clients in cfg.single_clients:
                    tag = f"r{run_no}c{clients}"
                    lib = load_loop(clients, seconds, library_caller(app, Bodies("lib" + tag)))
                    led = load_loop(
                        clients, seconds, http_caller(srv.base, headers, Bodies("http" + tag))
                    )
                    drain = wait_idle(system.engine, system.ledger.events_table, t.schema)
                    led["drain_s"] = drain
                    slot = results.setdefault(clients, {"ledger": [], "library": []})
                    slot["ledger"].append(led)
                    slot["library"].append(lib)
                    log(
                        f"  single {clients:>2} clients: {led['rps']:,.0f} req/s "
                        f"(p50 {led['p50_ms']:.1f} p99 {led['p99_ms']:.1f} ms, "
                        f"{led['errors']} errors), library {lib['rps']:,.0f} saves/s"
                    )
            if cfg.profile:
                out = cfg.profile_dir / f"single-{t.kind}.txt"
                with profiling(srv.pid, out):
                    load_loop(4, seconds, http_caller(srv.base, headers, Bodies("prof")))
                profile = summarize_profile(out)
        summary: dict[str, Any] = {"seconds": seconds, "ceiling": ceiling, "rows": {}}
        for clients, slot in sorted(results.items()):
            led, lib = slot["ledger"], slot["library"]
            row = {k: median([r[k] for r in led]) for k in led[0]}
            row["library_rps"] = median([r["rps"] for r in lib])
            row["library_p99_ms"] = median([r["p99_ms"] for r in lib])
            row["ratio"] = median([a["rps"] / b["rps"] for a, b in zip(led, lib, strict=True)])
            row["runs"] = len(led)
            summary["rows"][str(clients)] = row
        summary["profile"] = profile
        return summary
    finally:
        app.close()
        system.close()
