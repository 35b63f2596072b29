"""5. Tamper evidence: sealing the log, ``trygg verify`` (``verify_ledger``, in a child process
for its peak RSS) against a raw scan of the event table (plain, and with the SHA-256 leaf
hash of every event: the least work any verifier must do), and inclusion / consistency proof
latency (``AuditService.inclusion`` / ``.consistency``) against one raw primary-key lookup
of a tree node."""

from __future__ import annotations

import random
import time
from typing import Any

from sqlalchemy import event, select

from api.runtime import Runtime
from benchmarks.env import Config, Stopwatch, Target, log, median, percentile, run_child
from benchmarks.server import summarize_profile
from ledger.audit.sealer import Sealer
from ledger.audit.store import leaves, metadata


def reseal(system: Runtime) -> float:
    """Drop the tree and seal the whole log again; returns seconds."""
    metadata.drop_all(system.engine)
    sealer = Sealer(system.ledger.recorder, system.engine, page_size=1000)
    system.audit.sealer = sealer
    watch = Stopwatch()
    sealer.seal()
    return watch.elapsed


class StatementCounter:
    def __init__(self, system: Runtime) -> None:
        self.engine = system.engine
        self.count = 0

    def _hit(self, *_: Any) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._hit)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._hit)


def proof_latencies(
    system: Runtime, t: Target, count: int, seed: int
) -> dict[str, dict[str, float]]:
    audit = system.audit
    size = audit.sealed_size()
    rng = random.Random(seed)
    indexes = sorted(rng.randrange(size) for _ in range(count))
    with system.engine.connect() as conn:
        positions = dict(
            conn.execute(
                select(leaves.c.leaf_index, leaves.c.position).where(
                    leaves.c.leaf_index.in_(indexes)
                )
            ).all()
        )
    rng.shuffle(indexes)
    out: dict[str, dict[str, float]] = {}

    def measure(name: str, calls: list[Any]) -> None:
        calls[0]()  # warm
        times = []
        with StatementCounter(system) as counter:
            for call in calls:
                start = time.perf_counter()
                call()
                times.append(time.perf_counter() - start)
        out[name] = {
            "p50_ms": percentile(times, 50) * 1000,
            "p95_ms": percentile(times, 95) * 1000,
            "p99_ms": percentile(times, 99) * 1000,
            "statements": counter.count / len(calls),
        }

    measure(
        "inclusion",
        [lambda i=i: audit.inclusion(positions[i], size) for i in indexes],
    )
    firsts = [rng.randint(1, size) for _ in range(count)]
    measure("consistency", [lambda f=f: audit.consistency(f, size) for f in firsts])

    raw = t.raw_connect()
    mark = "?" if t.is_sqlite else "%s"
    sql = f"SELECT hash FROM trygg_merkle_nodes WHERE level = {mark} AND idx = {mark}"
    times = []
    for i in indexes:
        start = time.perf_counter()
        raw.execute(sql, (0, i)).fetchone()
        times.append(time.perf_counter() - start)
    raw.close()
    out["raw_lookup"] = {
        "p50_ms": percentile(times, 50) * 1000,
        "p95_ms": percentile(times, 95) * 1000,
        "p99_ms": percentile(times, 99) * 1000,
        "statements": 1,
    }
    return out


def run(t: Target, cfg: Config, size: int, system: Runtime) -> dict[str, Any]:
    seal_s: list[float] = []
    verify: list[dict[str, Any]] = []
    scans: list[dict[str, Any]] = []
    hashed: list[dict[str, Any]] = []
    proofs: list[dict[str, dict[str, float]]] = []
    for run_no in range(cfg.runs):
        seal_s.append(reseal(system))
        system.audit.issue_checkpoint()
        scans.append(run_child(t, "scan"))
        hashed.append(run_child(t, "scan-hash"))
        verify.append(run_child(t, "verify"))
        proofs.append(proof_latencies(system, t, cfg.proofs, seed=run_no))
        v = verify[-1]
        log(
            f"  audit {size:,}: seal {size / seal_s[-1]:,.0f} ev/s, verify "
            f"{v['events'] / v['seconds']:,.0f} ev/s (peak RSS {v['rss_peak'] / 2**20:.0f} MB), "
            f"inclusion p50 {proofs[-1]['inclusion']['p50_ms']:.2f} ms"
        )
    profile: dict[str, Any] = {}
    if cfg.profile and size == max(cfg.sizes):
        out = cfg.profile_dir / f"verify-{t.kind}-{size}.txt"
        run_child(t, "verify", profile_out=out)
        profile = summarize_profile(out)
    events = verify[0]["events"]
    v_eps = [v["events"] / v["seconds"] for v in verify]
    s_eps = [s["events"] / s["seconds"] for s in scans]
    h_eps = [s["events"] / s["seconds"] for s in hashed]
    proof_summary = {
        name: {k: median([p[name][k] for p in proofs]) for k in proofs[0][name]}
        for name in proofs[0]
    }
    return {
        "events": events,
        "seal_eps": median([events / s for s in seal_s]),
        "verify_eps": median(v_eps),
        "verify_seconds": median([v["seconds"] for v in verify]),
        "raw_scan_eps": median(s_eps),
        "raw_hash_eps": median(h_eps),
        "ratio_scan": median([a / b for a, b in zip(v_eps, s_eps, strict=True)]),
        "ratio_hash": median([a / b for a, b in zip(v_eps, h_eps, strict=True)]),
        "verify_rss_peak": median([v["rss_peak"] for v in verify]),
        "proofs": proof_summary,
        "runs": len(verify),
        "profile": profile,
    }
