"""The benchmark suite's command line: run the chosen benchmarks on the chosen databases,
keep the raw figures in ``results.json`` and render ``RESULTS.md`` from them.

A later run of some benchmarks on one database replaces just those figures; the rest stay,
each labelled with the date and commit it was measured at."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from api.runtime import Runtime
from benchmarks import asof, b_audit, b_ingest, b_projection, b_reads, b_single, data, peer_compare
from benchmarks.env import (
    REPO,
    Config,
    Stopwatch,
    log,
    machine,
    postgres_version,
    target,
)
from benchmarks.report import render

BENCHMARKS = ("ingest", "single", "peer", "projection", "reads", "asof", "audit")
HERE = REPO / "benchmarks"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Trygg Ledger benchmarks: medians, with ratios against a raw-database "
        "baseline measured in the same run. Writes benchmarks/RESULTS.md.",
    )
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 10k/50k events, short runs (about two minutes per database)",
    )
    p.add_argument(
        "--size",
        type=int,
        action="append",
        dest="sizes",
        help="log size for the projection, reads and audit benchmarks (repeatable; "
        "default 10000, 100000 and 1000000; --quick: 10000 and 50000)",
    )
    p.add_argument("--runs", type=int, help="repetitions per figure (default 3)")
    p.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated subset of {', '.join(BENCHMARKS)}",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="also record py-spy profiles (extra passes, not timed) and list their top frames",
    )
    p.add_argument(
        "--pg-url",
        default=None,
        help="PostgreSQL URL (default: $TRYGG_BENCH_PG_URL "
        "or postgresql+psycopg://postgres@127.0.0.1:5432/test)",
    )
    p.add_argument(
        "--render-only",
        action="store_true",
        help="run nothing: re-render the report from results.json (e.g. after editing NOTES.md)",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="Markdown report (default benchmarks/RESULTS.md; "
        "--quick: benchmarks/RESULTS-quick.md)",
    )
    return p.parse_args(argv)


def config_from(args: argparse.Namespace) -> Config:
    import os

    cfg = Config()
    if args.quick:
        cfg = Config(
            quick=True,
            runs=3,
            sizes=(10_000, 50_000),
            ingest_batches=4,
            single_seconds=1.0,
            read_requests=60,
            proofs=50,
        )
    if args.sizes:
        cfg.sizes = tuple(sorted(set(args.sizes)))
    if args.runs:
        cfg.runs = args.runs
    cfg.profile = args.profile
    cfg.pg_url = args.pg_url or os.environ.get("TRYGG_BENCH_PG_URL") or cfg.pg_url
    return cfg


def stamp(result: dict[str, Any], info: dict[str, str], seconds: float) -> dict[str, Any]:
    result["measured"] = {
        "command": _paths.get("command", "python -m benchmarks"),
        "date": info["date"],
        "commit": info["commit"],
        "load": info["load"],
        "seconds": round(seconds, 1),
    }
    return result


def run_database(kind: str, cfg: Config, only: set[str], store: dict[str, Any]) -> None:
    info = machine()
    db = store.setdefault(kind, {})
    db["machine"] = info
    if kind == "postgres":
        info["postgres"] = postgres_version(cfg.pg_url)
    log(f"== {kind}: {', '.join(b for b in BENCHMARKS if b in only)}")

    if "ingest" in only:
        watch = Stopwatch()
        with target(kind, "ingest", pg_url=cfg.pg_url) as t:
            db["ingest"] = stamp(b_ingest.run(t, cfg), machine(), watch.elapsed)
        checkpoint(store)
    if "single" in only:
        watch = Stopwatch()
        with target(kind, "single", pg_url=cfg.pg_url) as t:
            db["single"] = stamp(b_single.run(t, cfg), machine(), watch.elapsed)
        checkpoint(store)
    if "peer" in only:
        watch = Stopwatch()
        clients = [c for c in cfg.single_clients if c > 1]
        peer = peer_compare.compare(kind, clients, cfg.single_seconds, cfg.runs, cfg.pg_url)
        db["peer"] = stamp({"seconds": cfg.single_seconds, "rows": peer}, machine(), watch.elapsed)
        checkpoint(store)
    if not only & {"projection", "reads", "asof", "audit"}:
        return
    datasets = db.setdefault("datasets", {})
    for size in cfg.sizes:
        with target(kind, f"d{size}", pg_url=cfg.pg_url) as t:
            entry = datasets.setdefault(str(size), {})
            system = Runtime(t.settings())
            try:
                data.setup_registry(system)
                keys = data.create_keys(system)
                log(f"-- {kind}: loading {size:,} events through record_entries")
                watch = Stopwatch()
                stored = data.load(system, size, progress=Progress(size))
                load_s = watch.elapsed
                entry["load"] = stamp(
                    {
                        "events": stored,
                        "eps": stored / load_s,
                        "db_bytes": t.size_bytes(),
                    },
                    machine(),
                    load_s,
                )
                log(f"   loaded {stored:,} in {load_s:.0f} s ({stored / load_s:,.0f} ev/s)")
                if "projection" in only:
                    watch = Stopwatch()
                    entry["projection"] = stamp(
                        b_projection.run(t, cfg, size), machine(), watch.elapsed
                    )
                    checkpoint(store)
                if "audit" in only:
                    watch = Stopwatch()
                    entry["audit"] = stamp(
                        b_audit.run(t, cfg, size, system), machine(), watch.elapsed
                    )
                    checkpoint(store)
                if "reads" in only:
                    watch = Stopwatch()
                    entry["reads"] = stamp(
                        b_reads.run(t, cfg, system, keys), machine(), watch.elapsed
                    )
                    checkpoint(store)
                if "asof" in only:
                    watch = Stopwatch()
                    system.runner.catch_up_all()
                    entry["asof"] = stamp(
                        asof.measure(system, max(cfg.read_requests // 3, 20), seed=size),
                        machine(),
                        watch.elapsed,
                    )
                    checkpoint(store)
            finally:
                system.close()


class Progress:
    """Log loading progress every 30 seconds."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.last = time.monotonic()

    def __call__(self, done: int) -> None:
        if time.monotonic() - self.last > 30:
            self.last = time.monotonic()
            log(f"   … {done:,} / {self.total:,}")


_paths: dict[str, Path] = {}


def checkpoint(store: dict[str, Any]) -> None:
    """Save the figures so far (a long run that dies keeps what it measured)."""
    _paths["json"].write_text(json.dumps(store, indent=1, sort_keys=True, default=str))
    _paths["md"].write_text(render(store))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # Each throw-away database generates its own signing key; that warning is noise here.
    logging.getLogger("trygg.audit").setLevel(logging.ERROR)
    cfg = config_from(args)
    only = {b.strip() for b in args.only.split(",") if b.strip()}
    unknown = only - set(BENCHMARKS)
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    suffix = "-quick" if cfg.quick else ""
    _paths["md"] = args.out or HERE / f"RESULTS{suffix}.md"
    _paths["json"] = _paths["md"].with_name(f"results{suffix}.json")
    _paths["command"] = " ".join(["python -m benchmarks", *(argv or sys.argv[1:])])
    if args.render_only:
        _paths["command"] = "python -m benchmarks --render-only"
    store: dict[str, Any] = {}
    if _paths["json"].exists():
        store = json.loads(_paths["json"].read_text())
    if args.render_only:
        _paths["md"].write_text(render(store))
        log(f"re-rendered {_paths['md']} from {_paths['json']}")
        return
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    watch = Stopwatch()
    for kind in kinds:
        run_database(kind, cfg, only, store)
        checkpoint(store)
    log(f"done in {watch.elapsed:.0f} s; wrote {_paths['md']}")
