"""Single POSTs against the peer (``benchmarks.peer``: FastAPI + one library save per
request, no ledger guarantees) and the ledger with 1 and 2 API processes, on the same
database, with the same clients, interleaved run by run so that a noisy machine moves
both alike. Prints requests a second, p99 latency and ledger ÷ peer.

    python -m benchmarks.peer_compare --db sqlite --db postgres --seconds 8 --runs 3
"""

from __future__ import annotations

import argparse
import json
from contextlib import nullcontext
from typing import Any

from api.runtime import Runtime
from benchmarks import data
from benchmarks.b_single import Bodies, http_caller, load_loop
from benchmarks.env import DEFAULT_PG_URL, log, median, target
from benchmarks.server import projector, server, wait_idle
from ledger.storage import Database


def peer_env(t: Any) -> dict[str, str]:
    env = Database.from_settings(t.settings()).eventsourcing_env()
    env.pop("APPLICATION_RECORDER_TOPIC", None)  # the library's own recorder: no ledger code
    if t.is_sqlite:
        env["SQLITE_DBNAME"] = str(t.workdir / "peer.db")
    return env


def compare(
    kind: str,
    clients: list[int],
    seconds: float,
    runs: int,
    pg_url: str,
    ledger_env: dict[str, str] | None = None,
    production: bool = False,
) -> dict[str, Any]:
    """``production``: the ledger's API processes without embedded projections, and one
    ``trygg project`` beside them (on the same machine, so its work is paid for)."""
    if production:
        ledger_env = {**(ledger_env or {}), "TRYGG_EMBEDDED_PROJECTIONS": "false"}
    out: dict[str, Any] = {}
    with target(kind, "peer", pg_url=pg_url) as t:
        system = Runtime(t.settings())
        try:
            data.setup_registry(system)
            keys = data.create_keys(system)
            headers = {
                "Authorization": f"Bearer {keys.partner}",
                "Content-Type": "application/json",
            }
            plain = {"Content-Type": "application/json"}
            for n in clients:
                rows: dict[str, list[dict[str, float]]] = {
                    "peer": [],
                    "ledger_1": [],
                    "ledger_2": [],
                }
                for run in range(runs):
                    tag = f"{kind}-{n}-{run}"
                    with server(t, app="benchmarks.peer:app", factory=False, **peer_env(t)) as peer:
                        rows["peer"].append(
                            load_loop(n, seconds, http_caller(peer.base, plain, Bodies("p" + tag)))
                        )
                    for workers in (1, 2):
                        with (
                            projector(t) if production else nullcontext(),
                            server(t, workers=workers, **(ledger_env or {})) as srv,
                        ):
                            wait_idle(system.engine, system.ledger.events_table, t.schema)
                            got = load_loop(
                                n,
                                seconds,
                                http_caller(srv.base, headers, Bodies(f"l{workers}" + tag)),
                            )
                            rows[f"ledger_{workers}"].append(got)
                    log(
                        f"  {kind} {n:>2} clients run {run + 1}: peer {rows['peer'][-1]['rps']:,.0f}, "
                        f"ledger 1 worker {rows['ledger_1'][-1]['rps']:,.0f}, "
                        f"2 workers {rows['ledger_2'][-1]['rps']:,.0f} req/s"
                    )
                summary = {
                    name: {
                        "rps": median([r["rps"] for r in values]),
                        "p99_ms": median([r["p99_ms"] for r in values]),
                        "errors": sum(r["errors"] for r in values),
                    }
                    for name, values in rows.items()
                }
                for workers in (1, 2):
                    summary[f"ratio_{workers}"] = median(
                        [
                            a["rps"] / b["rps"]
                            for a, b in zip(rows[f"ledger_{workers}"], rows["peer"], strict=True)
                        ]
                    )
                out[str(n)] = summary
        finally:
            system.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--clients", type=int, action="append")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--ledger-env",
        action="append",
        default=[],
        help="KEY=VALUE for the ledger's servers, e.g. TRYGG_GROUP_COMMIT_MAX=1 (an A/B)",
    )
    parser.add_argument(
        "--production",
        action="store_true",
        help="the production layout: API processes with TRYGG_EMBEDDED_PROJECTIONS=false "
        "and one `trygg project` beside them",
    )
    args = parser.parse_args()
    ledger_env = dict(pair.split("=", 1) for pair in args.ledger_env)
    results = {
        kind: compare(
            kind,
            args.clients or [4, 16],
            args.seconds,
            args.runs,
            args.pg_url,
            ledger_env,
            production=args.production,
        )
        for kind in args.db or ["sqlite", "postgres"]
    }
    print(
        "| database | clients | peer req/s (p99 ms) | ledger, 1 process | ÷ peer | ledger, 2 processes | ÷ peer |"
    )
    print("|---|---|---|---|---|---|---|")
    for kind, rows in results.items():
        for n, r in rows.items():
            print(
                f"| {kind} | {n} | {r['peer']['rps']:,.0f} ({r['peer']['p99_ms']:.0f}) "
                f"| {r['ledger_1']['rps']:,.0f} ({r['ledger_1']['p99_ms']:.0f}) | {r['ratio_1']:.2f} "
                f"| {r['ledger_2']['rps']:,.0f} ({r['ledger_2']['p99_ms']:.0f}) | {r['ratio_2']:.2f} |"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
