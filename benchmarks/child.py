"""Work measured in a fresh process, so its peak RSS is its own.

``python -m benchmarks.child rebuild|scan|verify`` on the database in ``TRYGG_*``; prints
one JSON object: seconds, events, the RSS after start-up (before the work) and the peak
RSS during the work (``VmHWM``, reset just before the work where the kernel allows it;
otherwise the process's lifetime peak, which is then an upper bound)."""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any


def _status(field: str) -> int:
    """A ``/proc/self/status`` size field in bytes (0 when unavailable)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak() -> int:
    return _status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def rebuild() -> dict[str, Any]:
    from api.runtime import Runtime
    from ledger.settings import Settings
    from projections.rebuild import rebuild as rebuild_one
    from projections.runner import ProjectionRunner

    settings = Settings()
    system = Runtime(settings)
    runner = ProjectionRunner(
        system.ledger.recorder, system.engine, page_size=settings.projection_page_size
    )
    head = runner.head()
    per: dict[str, float] = {}
    baseline = _status("VmRSS")
    exact = _reset_peak()
    start = time.perf_counter()
    for name in runner.projections:
        began = time.perf_counter()
        rebuild_one(runner, name, grace_seconds=0)
        per[name] = time.perf_counter() - began
    seconds = time.perf_counter() - start
    peak = _peak()
    system.close()
    return {
        "seconds": seconds,
        "events": head,
        "per_projection": per,
        "rss_start": baseline,
        "rss_peak": peak,
        "peak_exact": exact,
    }


def _raw_pages(decode: str) -> dict[str, Any]:
    """A plain keyset scan of the event table in pages of 1,000 with the raw driver."""
    from benchmarks.env import Target

    target = Target.from_env()
    conn = target.raw_connect()
    table, column, mark = (
        ("stored_events", "rowid", "?")
        if target.is_sqlite
        else ("ledger_events", "notification_id", "%s")
    )
    sql = (
        f"SELECT {column}, originator_id, originator_version, topic, state FROM {table} "
        f"WHERE {column} > {mark} ORDER BY {column} LIMIT 1000"
    )
    baseline = _status("VmRSS")
    exact = _reset_peak()
    start = time.perf_counter()
    after, count, checksum = 0, 0, 0
    while True:
        rows = conn.execute(sql, (after,)).fetchall()
        if not rows:
            break
        for position, originator_id, version, topic, state in rows:
            if decode == "json":
                checksum += len(json.loads(state))
            elif decode == "hash":
                header = json.dumps(
                    [position, str(originator_id), version, topic], separators=(",", ":")
                ).encode()
                checksum ^= hashlib.sha256(b"\x00" + header + b"\n" + bytes(state)).digest()[0]
        count += len(rows)
        after = rows[-1][0]
        if len(rows) < 1000:
            break
    seconds = time.perf_counter() - start
    conn.close()
    return {
        "seconds": seconds,
        "events": count,
        "rss_start": baseline,
        "rss_peak": _peak(),
        "peak_exact": exact,
        "checksum": checksum,
    }


def verify() -> dict[str, Any]:
    from api.runtime import Runtime
    from ledger.audit.verify import verify_ledger
    from ledger.settings import Settings

    system = Runtime(Settings())
    key = system.audit.signer.verifier_key
    baseline = _status("VmRSS")
    exact = _reset_peak()
    start = time.perf_counter()
    report = verify_ledger(system.ledger.recorder, system.engine, key)
    seconds = time.perf_counter() - start
    peak = _peak()
    system.close()
    if not report.ok:
        raise SystemExit(f"verify failed: {report.as_dict()}")
    return {
        "seconds": seconds,
        "events": report.events,
        "checkpoints": report.checkpoints,
        "rss_start": baseline,
        "rss_peak": peak,
        "peak_exact": exact,
    }


COMMANDS = {
    "rebuild": rebuild,
    "verify": verify,
    "scan": lambda: _raw_pages("none"),
    "scan-json": lambda: _raw_pages("json"),
    "scan-hash": lambda: _raw_pages("hash"),
}


def main() -> None:
    result = COMMANDS[sys.argv[1]]()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
