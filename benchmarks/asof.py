""" "As of" against live: the same reads through ``Views``, live and at positions never asked
before, on logs of growing size; 20 as-of reads at once beside a health read; and what
the history costs in rows and in rebuild speed.

    python -m benchmarks.asof --db sqlite --db postgres --events 10000 --events 100000

Prints the median of each read and the ratio as-of ÷ live (the goal: ≤ 3 at 1M), and the
summary read's growth from the smallest log to each larger one (live must stay ≤ 1.5).
Measured in-process so that HTTP's fixed cost does not flatter the ratio.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from api.demo import ALL
from api.runtime import Runtime
from benchmarks import data
from benchmarks.b_reads import latencies
from benchmarks.env import DEFAULT_PG_URL, log, median, target
from ledger.access import Principal, Role
from projections.rebuild import rebuild
from projections.runner import ProjectionRunner
from projections.views import Views

STEERING = Principal("bench", Role.steering)


def _history_rows(runner: ProjectionRunner) -> dict[str, int]:
    tables = runner.live_tables("activities")
    with runner.engine.connect() as conn:
        return {
            name: int(
                conn.execute(select(func.count()).select_from(getattr(tables, name))).scalar()
            )
            for name in (
                "entries",
                "daily",
                "weekly",
                "journal",
                "daily_snap",
                "weekly_snap",
                "prior",
            )
        }


def measure(system: Runtime, reads: int, seed: int) -> dict[str, Any]:
    runner = system.runner
    views = Views(system.ledger, system.registry, runner, wait_seconds=60)
    head = system.ledger.last_position()
    rng = random.Random(seed)
    # Distinct positions never asked before, over the whole log: one per read, warm-up
    # reads (``latencies``) and the 20 read at once included.
    progress_reads = max(reads // 5, 10)
    needed = reads + min(20, reads) + progress_reads + min(20, progress_reads) + 20
    points = rng.sample(range(1, head + 1), min(needed, head))
    asked = iter(points)

    def live_summary(i: int) -> None:
        views.station_summary(STEERING, ALL[i % len(ALL)])

    def asof_summary(i: int) -> None:
        views.station_summary(STEERING, ALL[i % len(ALL)], as_of=next(asked))

    def live_progress(_i: int) -> None:
        views.promise_progress(STEERING, data.PROMISE)

    def asof_progress(_i: int) -> None:
        views.promise_progress(STEERING, data.PROMISE, as_of=next(asked))

    out: dict[str, Any] = {"events": head}
    for name, live, asof, n in (
        ("summary", live_summary, asof_summary, reads),
        ("progress", live_progress, asof_progress, progress_reads),
    ):
        live_ms = median(latencies(live, n)) * 1000
        asof_ms = median(latencies(asof, n)) * 1000
        out[name] = {"live_ms": live_ms, "as_of_ms": asof_ms, "ratio": asof_ms / live_ms}
        log(
            f"  {name}: live {live_ms:.2f} ms, as of {asof_ms:.2f} ms, ratio {asof_ms / live_ms:.2f}"
        )

    # 20 as-of reads at once at different points, while a health read runs beside them.
    crowd = [next(asked) for _ in range(20)]
    health: list[float] = []
    done = threading.Event()

    def healthy() -> None:
        while not done.is_set():
            start = time.perf_counter()
            system.ledger.last_position()
            health.append(time.perf_counter() - start)
            time.sleep(0.01)

    failures = 0
    watcher = threading.Thread(target=healthy)
    watcher.start()
    start = time.perf_counter()
    with ThreadPoolExecutor(20) as pool:
        futures = [
            pool.submit(views.station_summary, STEERING, ALL[i % len(ALL)], as_of=p)
            for i, p in enumerate(crowd)
        ]
        for f in futures:
            try:
                f.result()
            except Exception:  # counted and reported, not raised
                failures += 1
    crowd_s = time.perf_counter() - start
    done.set()
    watcher.join()
    out["crowd"] = {
        "reads": len(crowd),
        "failures": failures,
        "seconds": crowd_s,
        "health_max_ms": max(health) * 1000 if health else 0.0,
    }
    log(
        f"  20 as-of reads at once: {failures} failed, {crowd_s:.2f} s in all, "
        f"health read at most {out['crowd']['health_max_ms']:.1f} ms"
    )
    out["rows"] = _history_rows(runner)
    log(f"  rows: {out['rows']}")
    return out


def rebuild_rate(system: Runtime) -> float:
    start = time.perf_counter()
    rebuild(system.runner, "activities", grace_seconds=0)
    seconds = time.perf_counter() - start
    with system.engine.connect() as conn:
        tables = system.runner.live_tables("activities", conn)
        n = conn.execute(select(func.count()).select_from(tables.entries)).scalar() or 0
    return n / seconds


def run(kind: str, sizes: list[int], reads: int, pg_url: str, with_rebuild: bool) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with target(kind, "asof", pg_url=pg_url) as t:
        system = Runtime(t.settings())
        try:
            data.setup_registry(system)
            loaded = 0
            for size in sorted(sizes):
                log(f"{kind}: loading to {size:,} entries")
                data.load(system, size - loaded, seed=size, prefix=f"s{size}")
                loaded = size
                system.runner.catch_up_all()
                results[str(size)] = measure(system, reads, seed=size)
                if with_rebuild:
                    rate = rebuild_rate(system)
                    results[str(size)]["rebuild_activities_per_s"] = rate
                    log(f"  rebuild of the activities (with history): {rate:,.0f} entries/s")
        finally:
            system.close()
    smallest = results[str(min(sizes))]["summary"]["live_ms"]
    for r in results.values():
        r["summary"]["live_growth"] = r["summary"]["live_ms"] / smallest
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--events", action="append", type=int)
    parser.add_argument("--reads", type=int, default=100)
    parser.add_argument("--rebuild", action="store_true", help="also time a rebuild per size")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    out = {
        kind: run(kind, args.events or [10_000, 100_000], args.reads, args.pg_url, args.rebuild)
        for kind in args.db or ["sqlite"]
    }
    print(
        "| database | events | summary live ms | as of ms | ratio | progress live ms | as of ms | ratio | live ÷ smallest | 20 at once: failed, health max ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind, by_size in out.items():
        for size, r in by_size.items():
            s, p, c = r["summary"], r["progress"], r["crowd"]
            print(
                f"| {kind} | {int(size):,} | {s['live_ms']:.2f} | {s['as_of_ms']:.2f} | "
                f"{s['ratio']:.2f} | {p['live_ms']:.2f} | {p['as_of_ms']:.2f} | {p['ratio']:.2f} | "
                f"{s['live_growth']:.2f} | {c['failures']}, {c['health_max_ms']:.1f} |"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
