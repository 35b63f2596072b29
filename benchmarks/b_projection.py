"""3. Projection catch-up: ``projections.rebuild.rebuild`` of every projection from position 0
(each in a fresh child process, so its peak RSS is its own), against a plain SQL scan of the
event table in pages of 1,000 (with and without ``json.loads`` of each event's state).

Rate = events in the log / seconds to rebuild all projections (each projection reads only
its own topics; the three together cover the log)."""

from __future__ import annotations

from typing import Any

from benchmarks.env import Config, Target, log, median, run_child
from benchmarks.server import summarize_profile

GOAL_EPS = 20_000
GOAL_RSS = 300 * 1024 * 1024


def run(t: Target, cfg: Config, size: int) -> dict[str, Any]:
    rebuilds: list[dict[str, Any]] = []
    scans: list[dict[str, Any]] = []
    decoded: list[dict[str, Any]] = []
    for _ in range(cfg.runs):
        scans.append(run_child(t, "scan"))
        decoded.append(run_child(t, "scan-json"))
        rebuilds.append(run_child(t, "rebuild"))
        r, s = rebuilds[-1], scans[-1]
        log(
            f"  projection rebuild {size:,}: {r['events'] / r['seconds']:,.0f} ev/s, "
            f"peak RSS {r['rss_peak'] / 2**20:.0f} MB; raw scan {s['events'] / s['seconds']:,.0f} ev/s"
        )
    profile: dict[str, Any] = {}
    if cfg.profile and size == max(cfg.sizes):
        out = cfg.profile_dir / f"rebuild-{t.kind}-{size}.txt"
        run_child(t, "rebuild", profile_out=out)
        profile = summarize_profile(out)
    eps = [r["events"] / r["seconds"] for r in rebuilds]
    raw_eps = [s["events"] / s["seconds"] for s in scans]
    json_eps = [s["events"] / s["seconds"] for s in decoded]
    return {
        "events": rebuilds[0]["events"],
        "eps": median(eps),
        "raw_eps": median(raw_eps),
        "raw_json_eps": median(json_eps),
        "ratio": median([a / b for a, b in zip(eps, raw_eps, strict=True)]),
        "ratio_json": median([a / b for a, b in zip(eps, json_eps, strict=True)]),
        "rss_start": median([r["rss_start"] for r in rebuilds]),
        "rss_peak": median([r["rss_peak"] for r in rebuilds]),
        "raw_rss_peak": median([s["rss_peak"] for s in scans]),
        "peak_exact": all(r["peak_exact"] for r in rebuilds),
        "per_projection": {
            name: median([r["per_projection"][name] for r in rebuilds])
            for name in rebuilds[0]["per_projection"]
        },
        "runs": len(rebuilds),
        "profile": profile,
    }
