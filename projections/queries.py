"""Read queries over one generation of the projection tables.

Every function takes a connection and the tables it reads, so the same code
answers from the live tables and from an "as of" replay.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Table, func, select

from ledger.progress import assess, elapsed_share, period_units, unit_end
from ledger.taxonomy import SITUATION_REPORT
from projections.base import Tables
from projections.results import (
    CommitmentProgress,
    EntryPage,
    ListedMeasure,
    Progress,
    Situation,
    SituationRow,
    StationProgress,
    Summary,
    SummaryRow,
    Totals,
)
from projections.timebox import iso_week, last_whole_week_end, week_start

GROUPS = {"day", "week", "month"}


def _hours(minutes: int | None) -> float:
    return round((minutes or 0) / 60, 2)


def activity_summary(
    conn: Connection,
    t: Tables,
    *,
    station: str | None = None,
    actor: str | None = None,
    start: date | None = None,
    end: date | None = None,
    group: str = "week",
    hidden_actors: frozenset[str] = frozenset(),
) -> Summary:
    """Activities, hours and staff-hours per period × (actor or station) × kind."""
    weekly = getattr(t, "weekly", None)
    whole_weeks = (start is None or start.weekday() == 0) and (end is None or end.weekday() == 6)
    d: Table
    if group == "week" and weekly is not None and whole_weeks:
        # Whole ISO weeks: the weekly totals hold the same sums in fewer rows.
        d = weekly
        period = d.c.week
        first = iso_week(start) if start is not None else None
        last = iso_week(end) if end is not None else None
    else:
        d = t.daily
        period = {"day": d.c.day, "week": d.c.week, "month": d.c.month}[group]
        first = last = None
    by = d.c.actor if station is not None else d.c.station
    query = select(
        period.label("period"),
        by.label("by"),
        d.c.kind,
        func.sum(d.c.entries).label("activities"),
        func.sum(d.c.minutes).label("minutes"),
        func.sum(d.c.staff_minutes).label("staff_minutes"),
    ).group_by(period, by, d.c.kind)
    # As of, a bucket emptied later is a snapshot row plus journal rows that cancel it out.
    query = query.having(func.sum(d.c.entries) != 0)
    if station is not None:
        query = query.where(d.c.station == station)
    if actor is not None:
        query = query.where(d.c.actor == actor)
    if d is weekly:
        # ISO week labels ("2021-W05") sort in time order.
        if first is not None:
            query = query.where(d.c.week >= first)
        if last is not None:
            query = query.where(d.c.week <= last)
    else:
        if start is not None:
            query = query.where(d.c.day >= start)
        if end is not None:
            query = query.where(d.c.day <= end)
    if hidden_actors:
        query = query.where(d.c.actor.not_in(hidden_actors))
    rows: list[SummaryRow] = []
    activities, minutes, staff_minutes = 0, 0, 0
    for r in conn.execute(query.order_by(period, by, d.c.kind)).mappings():
        row = SummaryRow(
            period=str(r["period"]),
            kind=r["kind"],
            activities=int(r["activities"]),
            hours=_hours(r["minutes"]),
            staff_hours=_hours(r["staff_minutes"]),
        )
        if station is not None:
            row["actor"] = r["by"]
        else:
            row["station"] = r["by"]
        rows.append(row)
        activities += int(r["activities"])
        minutes += r["minutes"] or 0
        staff_minutes += r["staff_minutes"] or 0
    totals = Totals(
        activities=activities,
        hours=round(minutes / 60, 2),
        staff_hours=round(staff_minutes / 60, 2),
    )
    return Summary(group=group, rows=rows, totals=totals)


def delivered(
    conn: Connection,
    t: Tables,
    *,
    actor: str,
    kind: str,
    start: date,
    end: date,
    per: str | None = None,
) -> dict[tuple[str, str], dict[str, int]]:
    """(station, unit) → entries, minutes and staff-minutes of one actor's kind in
    ``[start, end]``; the unit is the ISO week (``per="week"``), the month
    (``"month"``), or ``""`` for the whole range."""
    d = t.daily
    unit = {"week": d.c.week, "month": d.c.month}.get(per or "")
    keys = [d.c.station] if unit is None else [d.c.station, unit]
    query = (
        select(
            *keys,
            func.sum(d.c.entries),
            func.sum(d.c.minutes),
            func.sum(d.c.staff_minutes),
        )
        .where(d.c.actor == actor, d.c.kind == kind, d.c.day >= start, d.c.day <= end)
        .group_by(*keys)
        .having(func.sum(d.c.entries) != 0)
    )
    out: dict[tuple[str, str], dict[str, int]] = {}
    for row in conn.execute(query).all():
        station, label = (row[0], "") if unit is None else (row[0], str(row[1]))
        n, m, s = row[-3:]
        out[(station, label)] = {
            "activities": int(n),
            "minutes": int(m or 0),
            "staff_minutes": int(s or 0),
        }
    return out


def reports(
    conn: Connection,
    t: Tables,
    *,
    actor: str,
    start: date,
    end: date,
    per: str | None = None,
) -> dict[tuple[str, str], dict[str, int]]:
    """Like ``delivered``, for a commitment to the lägesbild: the observations ``actor``
    reported (retracted ones not counted), per station and unit, as ``activities``."""
    d = t.observations_daily
    unit = {"week": d.c.week, "month": d.c.month}.get(per or "")
    keys = [d.c.station] if unit is None else [d.c.station, unit]
    query = (
        select(*keys, func.sum(d.c.entries))
        .where(d.c.actor == actor, d.c.day >= start, d.c.day <= end)
        .group_by(*keys)
        .having(func.sum(d.c.entries) != 0)
    )
    out: dict[tuple[str, str], dict[str, int]] = {}
    for row in conn.execute(query).all():
        label = "" if unit is None else str(row[1])
        out[(row[0], label)] = {"activities": int(row[-1]), "minutes": 0, "staff_minutes": 0}
    return out


def _metric(figures: dict[str, int] | None, metric: str) -> float:
    if figures is None:
        return 0.0
    if metric == "hours":
        return figures["minutes"] / 60
    if metric == "staff_hours":
        return figures["staff_minutes"] / 60
    return float(figures["activities"])


def _unit_label(per: str, first: date) -> str:
    return iso_week(first) if per == "week" else f"{first:%Y-%m}"


def promise_progress(
    conn: Connection,
    t: Tables,
    promise: dict[str, Any],
    today: date,
    *,
    start: date | None = None,
    end: date | None = None,
    weekly_actors: frozenset[str] = frozenset(),
) -> Progress:
    """Per commitment and station, for the range ``[start, end]`` of the promise period
    (default: all of it) judged at the end of ``today``: the target for the range,
    what is due by today, what was delivered in the range, how many of its whole weeks
    (or months) reached the weekly (monthly) target, and the status (``ledger.progress``).
    ``weekly_actors`` are counted only up to the end of the last whole ISO week while
    the range runs, so that moving ``today`` a day never reveals one day's activity."""
    period_start = date.fromisoformat(promise["period_start"])
    period_end = date.fromisoformat(promise["period_end"])
    first = max(start or period_start, period_start)
    last = min(end or period_end, period_end)
    until = min(last, today)
    commitments: list[CommitmentProgress] = []
    for c in promise["commitments"]:
        target = c["target"]
        count, per, metric = target["count"], target["per"], target["metric"]
        due = date.fromisoformat(target["due"]) if target.get("due") else None
        counted_until = until
        if c["actor"] in weekly_actors and today < last:
            counted_until = last_whole_week_end(until)
        if c["kind"] == SITUATION_REPORT:
            count_of = functools.partial(reports, conn, t, actor=c["actor"])
        else:
            count_of = functools.partial(delivered, conn, t, actor=c["actor"], kind=c["kind"])
        got = count_of(start=first, end=counted_until)
        units = period_units(per, first, last) if per in ("week", "month") else []
        by_unit = count_of(start=first, end=counted_until, per=per) if units else {}
        stations: list[StationProgress] = []
        for station in c["stations"]:
            value = _metric(got.get((station, "")), metric)
            judged = assess(value, count, per, first, last, today, due)
            row = StationProgress(
                station=station,
                target=judged.target,
                expected_by_now=judged.due,
                delivered=round(value, 2),
                share_of_target=round(value / judged.target, 3) if judged.target else None,
                status=judged.status.value,
            )
            if units:
                ended = [u for u in units if unit_end(per, u) <= counted_until]
                met = sum(
                    1
                    for u in ended
                    if _metric(by_unit.get((station, _unit_label(per, u))), metric) >= count
                )
                row["weeks" if per == "week" else "months"] = len(units)
                row["weeks_met" if per == "week" else "months_met"] = met
            stations.append(row)
        commitments.append(
            CommitmentProgress(
                code=c["code"],
                actor=c["actor"],
                kind=c["kind"],
                description=c.get("description", ""),
                target=target,
                stations=stations,
            )
        )
    result: Progress = {
        "promise": {k: promise[k] for k in ("id", "code", "title", "period_start", "period_end")},
        "today": today.isoformat(),
        "elapsed_share": round(elapsed_share(period_start, period_end, today), 3),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "commitments": commitments,
    }
    return result


def situation(
    conn: Connection,
    t: Tables,
    *,
    station: str | None,
    start: date,
    end: date,
) -> Situation:
    """Observations per station, ISO week and category, with the change against the
    average of the previous four weeks."""
    d = t.daily
    first = week_start(start) - timedelta(weeks=4)
    query = (
        select(d.c.station, d.c.week, d.c.category, func.sum(d.c.entries), func.sum(d.c.count))
        .where(d.c.day >= first, d.c.day <= end)
        .group_by(d.c.station, d.c.week, d.c.category)
    )
    if station is not None:
        query = query.where(d.c.station == station)
    weekly: dict[tuple[str, str], dict[str, tuple[int, int]]] = defaultdict(dict)
    for st, week, category, reports, count in conn.execute(query).all():
        weekly[(st, category)][week] = (int(reports), int(count or 0))
    weeks = []
    monday = week_start(start)
    while monday <= end:
        weeks.append(monday)
        monday += timedelta(weeks=1)
    rows: list[SituationRow] = []
    for (st, category), by_week in sorted(weekly.items()):
        for monday in weeks:
            week = iso_week(monday)
            reports, count = by_week.get(week, (0, 0))
            previous = [
                by_week.get(iso_week(monday - timedelta(weeks=k)), (0, 0))[1] for k in range(1, 5)
            ]
            average = sum(previous) / 4
            if count == 0 and average == 0:
                continue
            rows.append(
                SituationRow(
                    station=st,
                    week=week,
                    category=category,
                    reports=reports,
                    count=count,
                    previous_4_weeks_avg=round(average, 2),
                    change=round(count - average, 2),
                )
            )
    return {"from": start.isoformat(), "to": end.isoformat(), "rows": rows}


def measures(
    conn: Connection,
    t: Tables,
    *,
    today: date,
    station: str | None = None,
    promise_id: str | None = None,
    status: str | None = None,
    overdue: bool | None = None,
) -> list[ListedMeasure]:
    m = t.measures
    query = select(m).order_by(m.c.station, m.c.due, m.c.code)
    if station:
        query = query.where(m.c.station == station)
    if promise_id:
        query = query.where(m.c.promise_id == promise_id)
    if status:
        query = query.where(m.c.status == status)
    links: dict[tuple[str, str], list[str]] = defaultdict(list)
    for plan_id, code, source in conn.execute(
        select(t.links.c.plan_id, t.links.c.code, t.links.c.source).order_by(t.links.c.source)
    ):
        links[(plan_id, code)].append(source)
    out: list[ListedMeasure] = []
    for r in conn.execute(query).mappings():
        is_overdue = r["due"] < today and r["status"] in {"planned", "started"}
        if overdue is not None and is_overdue != overdue:
            continue
        out.append(
            ListedMeasure(
                plan_id=r["plan_id"],
                station=r["station"],
                code=r["code"],
                title=r["title"],
                owner=r["owner"],
                due=r["due"].isoformat(),
                status=r["status"],
                overdue=is_overdue,
                updated_at=r["updated_at"],
                problem=r["problem"],
                place=r["place"],
                rationale=r["rationale"],
                links=links.get((r["plan_id"], r["code"]), []),
            )
        )
    return out


def entries_page(
    conn: Connection,
    t: Tables,
    *,
    filters: dict[str, Any],
    start: date | None,
    end: date | None,
    page: int,
    page_size: int,
    hidden_actors: frozenset[str] = frozenset(),
) -> EntryPage:
    e = t.entries
    conditions = [e.c[k] == v for k, v in filters.items() if v is not None]
    if hidden_actors:
        conditions.append(e.c.actor.not_in(hidden_actors))
    if start is not None:
        conditions.append(e.c.day >= start)
    if end is not None:
        conditions.append(e.c.day <= end)
    total = conn.execute(select(func.count()).select_from(e).where(*conditions)).scalar_one()
    time_column = e.c.started_at if "started_at" in e.c else e.c.observed_at
    rows = conn.execute(
        select(e)
        .where(*conditions)
        .order_by(e.c.day.desc(), time_column.desc(), e.c.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).mappings()
    items = []
    for r in rows:
        item = dict(r)
        item["day"] = r["day"].isoformat()
        if "details" in item:
            item["details"] = json.loads(item["details"])
        if "minutes" in item:
            item["hours"] = _hours(item.pop("minutes"))
            item["staff_hours"] = _hours(item.pop("staff_minutes"))
        items.append(item)
    return {"page": page, "page_size": page_size, "total": int(total), "items": items}
