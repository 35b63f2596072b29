"""Batched ingest from several partners at once: N clients each post their own 1,000-item
batches to a server of 1 or 2 API processes, against the raw insert of the same rows in
the same run (one connection, as ``b_ingest``'s baseline). Batches from different
partners are independent, so this is how more cores can serve ingest.

    python -m benchmarks.ingest_parallel --db sqlite --db postgres --clients 2 --batches 10
"""

from __future__ import annotations

import argparse
import json
import threading
from typing import Any

import httpx

from api.runtime import Runtime
from benchmarks import data
from benchmarks.b_ingest import create_raw_table, post_batches, raw_batches, raw_insert
from benchmarks.env import DEFAULT_PG_URL, Stopwatch, log, median, target
from benchmarks.server import server


def run(kind: str, clients: int, batches: int, runs: int, pg_url: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with target(kind, "parallel", pg_url=pg_url) as t:
        system = Runtime(t.settings())
        try:
            data.setup_registry(system)
            keys = data.create_keys(system)
            raw = t.raw_connect()
            create_raw_table(raw, t.is_sqlite)
            headers = {
                "Authorization": f"Bearer {keys.partner}",
                "Content-Type": "application/json",
            }
            seed = [5000]

            def fresh() -> tuple[list[list[bytes]], list[list[tuple[Any, ...]]]]:
                per_client, rows = [], []
                for _ in range(clients):
                    seed[0] += 1
                    bodies = data.activity_batches(seed[0], batches, f"par-{seed[0]}")
                    per_client.append([json.dumps({"items": b}).encode() for b in bodies])
                    rows += raw_batches(system, bodies, t.is_sqlite)
                return per_client, rows

            for workers in (1, 2):
                ratios, rates = [], []
                with server(t, workers=workers, TRYGG_EMBEDDED_PROJECTIONS="false") as srv:
                    warm, _ = fresh()  # each process's imports and caches, before timing
                    with httpx.Client(base_url=srv.base, headers=headers, timeout=600) as client:
                        post_batches(client, [p for mine in warm for p in mine[:2]])
                    for run_no in range(runs):
                        payloads, rows = fresh()
                        raw_s = raw_insert(raw, t.is_sqlite, rows)
                        watch = Stopwatch()
                        threads = []
                        for mine in payloads:

                            def post(mine: list[bytes] = mine) -> None:
                                with httpx.Client(
                                    base_url=srv.base, headers=headers, timeout=600
                                ) as client:
                                    post_batches(client, mine)

                            threads.append(threading.Thread(target=post))
                        for thread in threads:
                            thread.start()
                        for thread in threads:
                            thread.join()
                        ledger_s = watch.elapsed
                        events = sum(len(batch) for batch in rows)
                        rates.append(events / ledger_s)
                        ratios.append(raw_s / ledger_s)
                        log(
                            f"  {kind} {workers} process(es), {clients} clients, run "
                            f"{run_no + 1}: ledger {events / ledger_s:,.0f} ev/s, raw "
                            f"{events / raw_s:,.0f} rows/s, ratio {raw_s / ledger_s:.2f}"
                        )
                out[f"workers_{workers}"] = {"eps": median(rates), "ratio": median(ratios)}
            raw.close()
        finally:
            system.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--batches", type=int, default=10, help="batches per client and run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args()
    results = {
        kind: run(kind, args.clients, args.batches, args.runs, args.pg_url)
        for kind in args.db or ["sqlite", "postgres"]
    }
    print("| database | API processes | clients | ledger events/s | ÷ raw |")
    print("|---|---|---|---|---|")
    for kind, rows in results.items():
        for name, r in rows.items():
            print(
                f"| {kind} | {name.split('_')[1]} | {args.clients} | {r['eps']:,.0f} "
                f"| {r['ratio']:.2f} |"
            )


if __name__ == "__main__":
    main()
