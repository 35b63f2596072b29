"""Dashboard page render time at a small and a large log (issue: "pages read pre-computed
views: the ratio should stay near 1; target under 100 ms server time per page").

    python -m benchmarks.dashboard_pages                 # 10k vs 100k events, SQLite
    python -m benchmarks.dashboard_pages --large 1000000 --db postgres

Each size gets a fresh database filled through the ledger's bulk path, projected, and
served in-process (FastAPI's TestClient: the time measured is the server's work plus a
negligible in-process transport). A signed-in steering session requests each page
repeatedly; the table gives the median and p95 per page and the large/small ratio.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from benchmarks import data
from benchmarks.env import machine, target
from ledger.settings import Settings
from projections.runner import ProjectionRunner

PAGES = [
    "/",
    "/stations/alingsas",
    "/actors/vasttrafik",
    "/report?from=2021-09-01&to=2022-08-31",
    "/export/weekly.xlsx",
]


def measure(kind: str, events: int, repeats: int) -> dict[str, list[float]]:
    with target(kind, f"dash{events}") as t:
        settings = Settings(
            database_url=t.url,
            database_schema=t.schema,
            signing_key_file=t.workdir / "key.pem",
            embedded_projections=False,
            rate_limit_per_second=0,
        )
        system = Runtime(settings)
        data.setup_registry(system)
        data.load(system, events)
        ProjectionRunner(system.ledger.recorder, system.engine).catch_up_all()
        keys = data.create_keys(system)
        out: dict[str, list[float]] = {}
        with TestClient(create_app(settings, runtime=system)) as client:
            page = client.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            client.post("/login", data={"token": keys.steering, "csrf": csrf, "next": "/"})
            for path in PAGES:
                client.get(path)  # warm caches (templates, station and actor lookups)
                times = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    r = client.get(path)
                    times.append((time.perf_counter() - started) * 1000)
                    if r.status_code != 200:
                        raise SystemExit(f"{path}: {r.status_code} {r.text[:200]}")
                out[path] = times
        system.close()
        return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    info = machine()
    small = measure(args.db, args.small, args.repeats)
    large = measure(args.db, args.large, args.repeats)
    print(
        f"\n### Dashboard pages ({args.db}; {info.get('cpu', '?')}, {info.get('cores', '?')} cores)\n"
    )
    print(
        f"| page | p50 ms at {args.small:,} | p50 ms at {args.large:,} | p95 ms at {args.large:,} | ratio |"
    )
    print("|---|---|---|---|---|")
    for path in PAGES:
        a, b = statistics.median(small[path]), statistics.median(large[path])
        p95 = sorted(large[path])[int(0.95 * (len(large[path]) - 1))]
        print(f"| `{path}` | {a:.1f} | {b:.1f} | {p95:.1f} | **{b / a:.2f}** |")


if __name__ == "__main__":
    main()
