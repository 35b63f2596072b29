"""An independent recomputation of the daily views from the ledger's aggregates.

Used by the property tests: folding each entry's events into its current state
(the domain's own logic) and summing from scratch must give exactly what the
projections built incrementally.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ledger.application import Ledger
from projections.timebox import iso_week, local_day


def entry_ids(ledger: Ledger, aggregate: str) -> list[Any]:
    ids = []
    for n in ledger.recorder.select_notifications(start=1, limit=10_000_000):
        if n.topic.endswith(f":{aggregate}.Recorded"):
            ids.append(n.originator_id)
    return ids


def activity_daily(ledger: Ledger) -> dict[tuple[Any, ...], tuple[int, int, int]]:
    sums: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    for entry_id in entry_ids(ledger, "Activity"):
        a = ledger.repository.get(entry_id)
        if a.retracted:
            continue
        start = datetime.fromisoformat(a.started_at)
        minutes = 0
        if a.ended_at:
            minutes = round((datetime.fromisoformat(a.ended_at) - start).total_seconds() / 60)
        key = (a.station, local_day(start), a.actor, a.kind)
        s = sums[key]
        s[0] += 1
        s[1] += minutes
        s[2] += minutes * a.staff_count
    return {k: tuple(v) for k, v in sums.items()}


def activity_weekly(ledger: Ledger) -> dict[tuple[Any, ...], tuple[int, int, int]]:
    """The daily sums regrouped by ISO week."""
    sums: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    for (station, day, actor, kind), values in activity_daily(ledger).items():
        s = sums[(station, iso_week(day), actor, kind)]
        for i, v in enumerate(values):
            s[i] += v
    return {k: tuple(v) for k, v in sums.items()}


def observation_daily(ledger: Ledger) -> dict[tuple[Any, ...], tuple[int, int, int]]:
    sums: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    for entry_id in entry_ids(ledger, "Observation"):
        o = ledger.repository.get(entry_id)
        if o.retracted:
            continue
        key = (o.station, local_day(datetime.fromisoformat(o.observed_at)), o.category, o.actor)
        s = sums[key]
        s[0] += 1
        s[1] += o.count
        s[2] += 1 if o.severity == "high" else 0
    return {k: tuple(v) for k, v in sums.items()}


def table_rows(
    engine, table, key: list[str], values: list[str]
) -> dict[tuple[Any, ...], tuple[int, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(select(table)).mappings().all()
    return {tuple(r[k] for k in key): tuple(int(r[v]) for v in values) for r in rows}


def entry_states(engine, table) -> Counter[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(select(table)).mappings().all()
    return Counter(tuple(sorted((k, str(v)) for k, v in r.items())) for r in rows)
