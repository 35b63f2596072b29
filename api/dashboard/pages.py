"""What each page shows, as plain data for its template. No HTTP here: the report
command builds the same models outside a request."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from api.dashboard import charts
from api.dashboard import tables as tb
from api.dashboard.context import Ctx
from api.dashboard.i18n import label, number, percent, smart, t
from ledger.progress import Status
from projections import followup
from projections.timebox import LOCAL

log = logging.getLogger("trygg.dashboard")

#: Every status a commitment can have, in the order the tiles show them.
STATUSES = tuple(Status)


def common(ctx: Ctx) -> dict[str, Any]:
    position = None
    if ctx.as_of is not None:
        position = ctx.memo("position", lambda: ctx.views.resolve(ctx.as_of)[0])
    return {
        "ctx": ctx,
        "promise": ctx.promise,
        "as_of_position": position,
        "parked": ctx.memo("parked", lambda: ctx.views.parked_count(ctx.who)),
    }


def _cell_title(ctx: Ctx, row: dict[str, Any]) -> str:
    return t(
        ctx.lang,
        "cell_title",
        commitment=row["commitment"],
        station=ctx.station_name(row["station"]),
        status=label(ctx.lang, "status", row["status"]),
        delivered=smart(row["delivered"], ctx.lang),
        target=smart(row["target"], ctx.lang),
        metric=label(ctx.lang, "metric", row["metric"]),
        share=percent(row["share"], ctx.lang),
        expected=smart(row["expected"], ctx.lang),
    )


def target_text(ctx: Ctx, row: dict[str, Any]) -> str:
    group = "metric_one" if row["count"] == 1 else "metric"
    return (
        f"{number(row['count'], ctx.lang)} {label(ctx.lang, group, row['metric'])} "
        f"{label(ctx.lang, 'per', row['per'])}"
    )


def _with_visuals(ctx: Ctx, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["title"] = _cell_title(ctx, row)
        row["bullet"] = charts.bullet(
            row["delivered"], row["target"], row["expected"], row["status"], title=row["title"]
        )
        row["target_text"] = target_text(ctx, row)
    return rows


def matrix(ctx: Ctx) -> dict[str, Any]:
    """Commitments (grouped by actor) × stations, each cell a status with its numbers."""
    rows = _with_visuals(ctx, tb.progress_rows(ctx))
    stations = [s for s in (ctx.promise.stations if ctx.promise else []) if s in ctx.stations]
    if ctx.filters.station:
        stations = [ctx.filters.station]
    by_commitment: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = by_commitment.setdefault(
            row["code"], {"first": row, "cells": dict.fromkeys(stations)}
        )
        entry["cells"][row["station"]] = row
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in by_commitment.values():
        groups[entry["first"]["actor"]].append(
            {
                **entry["first"],
                "cells": [entry["cells"][s] for s in stations],
            }
        )
    counts = Counter(r["status"] for r in rows)
    return {
        "stations": stations,
        "groups": list(groups.items()),
        "counts": [(s, counts.get(s, 0)) for s in STATUSES],
        "total": len(rows),
    }


def actor_colours(ctx: Ctx) -> dict[str, str]:
    """A stable colour per actor: one per kind of organisation, then the rest in turn."""
    by_kind = dict(charts.ACTOR_KIND_COLOURS)
    spare = iter(c for c in charts.SERIES_COLOURS if c not in by_kind.values())
    out: dict[str, str] = {}
    for code in sorted(ctx.actors):
        kind = ctx.actors[code].kind
        out[code] = by_kind.pop(kind, "") or next(spare, "#777777")
    return out


def _actor_series(ctx: Ctx, keys: list[str]) -> list[charts.Series]:
    colours = actor_colours(ctx)
    return [charts.Series(k, ctx.actor_name(k), colours.get(k, "#777777")) for k in keys]


def series_for(ctx: Ctx, by: str, keys: list[str]) -> list[charts.Series]:
    if by == "kind":
        return [
            charts.Series(k, label(ctx.lang, "kind", k), charts.KIND_COLOURS.get(k, "#777777"))
            for k in keys
        ]
    if by == "station":
        order = sorted(ctx.stations)
        colours = charts.SERIES_COLOURS
        return [
            charts.Series(k, ctx.station_name(k), colours[order.index(k) % len(colours)])
            for k in keys
        ]
    return _actor_series(ctx, keys)


def weekly_chart(ctx: Ctx, station: str | None, actor: str | None, title: str) -> dict[str, Any]:
    weeks, keys, values = tb.weekly_pivot(ctx, station, actor)
    by = tb.weekly_series_key(ctx, actor)
    series = series_for(ctx, by, keys)
    unit = label(ctx.lang, "metric", "activities")
    total = sum(values.values())
    desc = f"{t(ctx.lang, 'range_note', start=ctx.start, end=ctx.end)}: {number(total, ctx.lang)} {unit}."
    svg = charts.stacked_weeks(
        weeks, series, values, title=title, desc=desc, unit=unit, lang=ctx.lang
    )
    return {
        "svg": svg,
        "series": series,
        "table": tb.table_weekly(ctx, station, actor),
        "detail": tb.table_weekly_detail(ctx, station, actor),
        "by": by,
    }


def trend_matrix(ctx: Ctx) -> dict[str, Any]:
    found = tb.trends(ctx, ctx.filters.station)
    stations = sorted({tr.station for tr in found}, key=lambda s: list(ctx.stations).index(s))
    categories = sorted({tr.category for tr in found}, key=list(rm_categories()).index)
    cells = {(tr.category, tr.station): tr for tr in found}
    weeks = followup.last_complete_weeks(ctx.end)
    return {
        "stations": stations,
        "rows": [(c, [cells.get((c, s)) for s in stations]) for c in categories],
        "table": tb.table_trend(ctx, ctx.filters.station),
        "first": weeks[0].monday,
        "last": weeks[-1].sunday,
    }


def rm_categories() -> list[str]:
    from ledger.taxonomy import ObservationCategory

    return [c.value for c in ObservationCategory]


def overview(ctx: Ctx) -> dict[str, Any]:
    model = common(ctx)
    if ctx.promise is None:
        return model
    found = tb.progress(ctx)
    share = found["elapsed_share"]
    status_day = date.fromisoformat(found["today"])
    model.update(
        {
            "share": share,
            "status_day": status_day,
            "timeline": charts.timeline(
                ctx.promise.start,
                ctx.promise.end,
                status_day,
                title=t(ctx.lang, "elapsed", share=percent(share, ctx.lang), date=status_day),
                lang=ctx.lang,
            ),
            "matrix": matrix(ctx),
            "progress_table": tb.table_progress(ctx),
            "weekly": weekly_chart(ctx, ctx.filters.station, None, t(ctx.lang, "weekly_all_title")),
            "trend": trend_matrix(ctx),
            "overdue": tb.table_measures(ctx, ctx.filters.station, "overdue"),
        }
    )
    return model


def _markers(ctx: Ctx, station: str) -> list[charts.Marker]:
    items = tb._measures(ctx, station, "all")
    return [
        charts.Marker(m["updated"], m["title"])
        for m in items
        if m["status"] == "done" and ctx.start <= m["updated"] <= ctx.end
    ]


def situation_multiples(ctx: Ctx, station: str) -> dict[str, Any]:
    table = tb.table_situation(ctx, station)
    categories = [c.key[2:] for c in table.cols if c.key.startswith("c:")]
    weeks = followup.weeks_between(ctx.start, ctx.end)
    y_max = max((r[f"c:{c}"] for r in table.rows for c in categories), default=0)
    trends = {tr.category: tr for tr in tb.trends(ctx, station)}
    markers = _markers(ctx, station)
    totals = {c: sum(r[f"c:{c}"] for r in table.rows) for c in categories}
    unit = t(ctx.lang, "incidents")
    charts_ = []
    for c in sorted(categories, key=lambda c: -totals[c]):
        values = {r["week"]: r[f"c:{c}"] for r in table.rows}
        name = label(ctx.lang, "category", c)
        charts_.append(
            {
                "category": c,
                "name": name,
                "total": totals[c],
                "trend": trends.get(c),
                "svg": charts.small_weeks(
                    weeks,
                    values,
                    title=name,
                    unit=unit,
                    lang=ctx.lang,
                    y_max=y_max,
                    markers=markers,
                ),
            }
        )
    return {
        "charts": charts_,
        "table": table,
        "trend": tb.table_trend(ctx, station),
        "markers": markers,
        "effects": tb.table_effects(ctx, station),
    }


def station(ctx: Ctx, code: str) -> dict[str, Any]:
    tb._require_all(ctx)
    st = ctx.registry.get_station(ctx.who, code)
    model = common(ctx)
    commitments = []
    status_day = None
    if ctx.promise is not None and code in ctx.promise.stations:
        commitments = _with_visuals(ctx, [r for r in tb.progress_rows(ctx) if r["station"] == code])
        status_day = date.fromisoformat(tb.progress(ctx)["today"])
    by_actor_title = t(ctx.lang, "weekly_title")
    model.update(
        {
            "station": st,
            "commitments": commitments,
            "status_day": status_day,
            "weekly": weekly_chart(ctx, code, None, by_actor_title),
            "situation": situation_multiples(ctx, code),
            "measures": tb.table_measures(ctx, code),
            "latest": tb.table_activities(ctx, code),
            **_knowledge(ctx, code),
        }
    )
    return model


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _knowledge(ctx: Ctx, code: str) -> dict[str, Any]:
    """What the follow-up builds on at one station: the lägesbild for the quarter of the
    range's end against the quarter before, a year earlier and the survey baseline, and
    the safety walks' findings with the measures answering them."""
    if ctx.residents is None:
        return {"comparison": None, "findings": []}
    return {
        "comparison": ctx.residents.compare_situation(ctx.who, code, _quarter(ctx.end)),
        "findings": ctx.residents.findings(ctx.who, code)["items"],
    }


def actor(ctx: Ctx, code: str) -> dict[str, Any]:
    tb.require_own(ctx, code)
    found = ctx.registry.get_actor(ctx.who, code)
    model = common(ctx)
    groups: list[dict[str, Any]] = []
    table = None
    if ctx.promise is not None:
        table = tb.table_actor_progress(ctx, code)
        rows = _with_visuals(ctx, [dict(r) for r in table.rows])
        by_code: dict[str, dict[str, Any]] = {}
        for row in rows:
            by_code.setdefault(row["code"], {"first": row, "rows": []})["rows"].append(row)
        groups = list(by_code.values())
    model.update(
        {
            "actor": found,
            "groups": groups,
            "table": table,
            "weekly": weekly_chart(ctx, None, code, t(ctx.lang, "actor_weekly_title")),
            "contributions": _contributions(ctx, code),
        }
    )
    return model


def _contributions(ctx: Ctx, actor: str) -> dict[str, Any] | None:
    """The party's reports to the lägesbild: stations × months of the range."""
    if ctx.residents is None:
        return None
    found = ctx.residents.contributions(ctx.who, start=ctx.start, end=ctx.end, actor=actor)
    if not found["rows"]:
        return {"months": [], "stations": []}
    counts = {(r["station"], r["month"]): r["reports"] for r in found["rows"]}
    stations = sorted({r["station"] for r in found["rows"]}, key=ctx.station_name)
    return {
        "months": found["months"],
        "stations": [(st, [counts.get((st, m), 0) for m in found["months"]]) for st in stations],
    }


def audit(ctx: Ctx, runtime: Any) -> dict[str, Any]:
    tb.require_audit(ctx)
    model = common(ctx)
    service = getattr(runtime, "audit", None)
    summary: dict[str, Any] | None = None
    failed = False
    if service is not None:
        try:
            summary = service.summary()
        except Exception:  # the page must render even when the audit service misbehaves
            log.exception("audit summary failed")
            failed = True
    model.update(
        {
            "projections": tb.table_projections(ctx),
            "service": service is not None,
            "summary": summary,
            "failed": failed,
        }
    )
    return model


#: Detail figures worth telling the steering group, by activity kind, summed per party.
NOTABLE_SUMS = {
    "security_host_shift": ("conversations",),
    "guard_shift": ("interventions",),
    "enforcement": ("interventions",),
    "cleaning_round": ("litter_bags", "graffiti_removed_m2", "damage_found"),
    "volunteer_patrol": ("volunteers",),
}


def _station_work(ctx: Ctx, code: str) -> dict[str, Any]:
    """What each party did at one station in the range: counts and hours per kind, the
    detail figures summed, and the notable entries (events, safety walks, environment
    work). Single police entries are not read outside the police (the views' rule): the
    police's counts come from the weekly summary like everyone's."""
    summary = ctx.views.station_summary(
        ctx.who, code, start=ctx.start, end=ctx.end, group="month", as_of=ctx.as_of
    )
    by_party: dict[str, dict[str, Any]] = {}
    for row in summary["rows"]:
        party = by_party.setdefault(
            row.get("actor", ""), {"kinds": defaultdict(lambda: [0, 0.0]), "sums": Counter()}
        )
        party["kinds"][row["kind"]][0] += row["activities"]
        party["kinds"][row["kind"]][1] += row["hours"]
    notable: list[dict[str, Any]] = []
    if ctx.as_of is None:  # entries are read live; an "as of" report shows the figures only
        page = 1
        while True:
            found = ctx.views.entries(
                ctx.who,
                "activities",
                filters={"station": code, "status": "active"},
                start=ctx.start,
                end=ctx.end,
                page=page,
                page_size=500,
            )
            for item in found["items"]:
                details = item.get("details") or {}
                doer = by_party.get(item["actor"])
                if doer is not None:
                    for key in NOTABLE_SUMS.get(item["kind"], ()):
                        doer["sums"][key] += details.get(key) or 0
                if item["kind"] in ("public_event", "safety_walk", "environment_measure"):
                    notable.append({**item, "details": details})
            if len(found["items"]) < 500:
                break
            page += 1
    parties = [
        {
            "actor": actor,
            "kinds": sorted(
                ((k, n, round(h, 1)) for k, (n, h) in party["kinds"].items()),
                key=lambda x: -x[1],
            ),
            "sums": [(k, round(v, 1)) for k, v in party["sums"].items() if v],
        }
        for actor, party in sorted(by_party.items(), key=lambda kv: ctx.actor_name(kv[0]))
    ]
    notable.sort(key=lambda i: (i["day"], i.get("started_at") or ""))
    return {"parties": parties, "notable": notable}


def _situation_change(ctx: Ctx, code: str) -> list[dict[str, Any]]:
    """Incidents per category in the range against the period of the same length before."""
    days = (ctx.end - ctx.start).days + 1
    before_end = ctx.start - timedelta(days=1)
    before_start = before_end - timedelta(days=days - 1)

    def per_category(start: date, end: date) -> Counter[str]:
        found = ctx.views.situation(ctx.who, station=code, start=start, end=end, as_of=ctx.as_of)
        totals: Counter[str] = Counter()
        for row in found["rows"]:
            if start <= _monday(row["week"]) <= end:
                totals[row["category"]] += row["count"]
        return totals

    now, before = per_category(ctx.start, ctx.end), per_category(before_start, before_end)
    order = rm_categories()
    return [
        {"category": c, "now": now[c], "before": before[c], "change": now[c] - before[c]}
        for c in sorted(set(now) | set(before), key=order.index)
    ]


def _monday(week: str) -> date:
    return date.fromisocalendar(int(week[:4]), int(week.rsplit("W", 1)[1]), 1)


def summary_text(ctx: Ctx, counts: Counter[str], total: int, activities: int) -> str:
    """The report's opening paragraph, in the reader's language."""
    parts = {str(s): counts.get(s, 0) for s in STATUSES}
    return t(
        ctx.lang,
        "report_summary_text",
        total=number(total, ctx.lang),
        met=number(parts["met"], ctx.lang),
        on_track=number(parts["on_track"], ctx.lang),
        behind=number(parts["behind"], ctx.lang),
        missed=number(parts["missed"], ctx.lang),
        not_started=number(parts["not_started"], ctx.lang),
        activities=number(activities, ctx.lang),
        start=ctx.start,
        end=ctx.end,
    )


def report(ctx: Ctx, checkpoint: dict[str, Any] | None = None) -> dict[str, Any]:
    """The follow-up report for the range: a summary, one section per station (its
    commitments, what each party did, its action plan, its lägesbild against the period
    before), then one page per party."""
    tb._require_all(ctx)
    model = common(ctx)
    if ctx.promise is None:
        return model
    found = tb.progress(ctx)
    rows = _with_visuals(ctx, tb.progress_rows(ctx))
    by_actor: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
    for row in rows:
        by_actor[row["actor"]].setdefault(row["code"], []).append(row)
    stations = [s for s in ctx.promise.stations if s in ctx.stations]
    if ctx.filters.station:
        stations = [ctx.filters.station]
    measures = tb.table_measures(ctx, ctx.filters.station)
    sections = []
    activities = 0
    for code in stations:
        work = _station_work(ctx, code)
        activities += sum(n for p in work["parties"] for _, n, _ in p["kinds"])
        sections.append(
            {
                "station": code,
                "commitments": [r for r in rows if r["station"] == code],
                "work": work,
                "done": [
                    m for m in measures.rows if m["station"] == code and m["status"] == "done"
                ],
                "open": [
                    m
                    for m in measures.rows
                    if m["station"] == code and m["status"] in ("planned", "started")
                ],
                "situation": _situation_change(ctx, code),
                **_knowledge(ctx, code),
            }
        )
    counts = Counter(r["status"] for r in rows)
    model.update(
        {
            "found": found,
            "generated": datetime.now(LOCAL).strftime("%Y-%m-%d %H:%M"),
            "status_day": date.fromisoformat(found["today"]),
            "by_actor": sorted(by_actor.items(), key=lambda kv: ctx.actor_name(kv[0])),
            "counts": [(s, counts.get(s, 0)) for s in STATUSES],
            "total": len(rows),
            "summary": summary_text(ctx, counts, len(rows), activities),
            "sections": sections,
            "measure_cols": [c for c in measures.cols if c.key not in ("station", "updated")],
            "checkpoint": checkpoint,
            "position": ctx.views.ledger.last_position()
            if ctx.as_of is None
            else model["as_of_position"],
        }
    )
    return model
