"""Every table the dashboard shows, defined once and used three ways: as HTML on a page,
as CSV and as XLSX (``/export/{name}.{csv|xlsx}``, same query parameters as the page).

A table is a list of typed columns and rows of raw values (codes, dates, numbers); the
column type decides how a value is shown (translated label, link, status badge) and how
it is exported (Swedish label, ISO date, a plain number).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup, escape

from api.dashboard.charts import icon
from api.dashboard.context import Ctx, PageError
from api.dashboard.i18n import label, number, percent, smart, t
from ledger.access import Permission, Role
from projections import followup
from projections.results import Progress, StationProgress

ENTRY_PAGE = 500
MAX_EXPORT_ROWS = 100_000


@dataclass(frozen=True)
class Col:
    key: str
    sv: str
    en: str
    type: str = "text"  # text|int|num|pct|date|bool|station|actor|status|measure|label:<group>

    def header(self, lang: str) -> str:
        return self.sv if lang == "sv" else self.en


@dataclass
class DataTable:
    name: str
    title: str
    cols: list[Col]
    rows: list[dict[str, Any]]
    query: dict[str, str] = field(default_factory=dict)
    caption: str = ""

    def href(self, fmt: str) -> str:
        q = urlencode(self.query)
        return f"/export/{quote(self.name)}.{fmt}" + (f"?{q}" if q else "")


# -- presentation of one cell ---------------------------------------------------------------


def export_value(col: Col, row: dict[str, Any], ctx: Ctx) -> Any:
    """The value as it goes into CSV/XLSX: labels in the reader's language, names, dates,
    plain numbers (formatted for the language by the writer)."""
    value = row.get(col.key)
    lang = ctx.lang
    if value is None:
        return None
    if col.type == "station":
        return ctx.station_name(value)
    if col.type == "actor":
        return ctx.actor_name(value)
    if col.type == "status":
        return label(lang, "status", value)
    if col.type == "measure":
        return label(lang, "measure", value)
    if col.type.startswith("label:"):
        return label(lang, col.type.split(":", 1)[1], value)
    if col.type == "trend":
        return label(lang, "trend", value) if value in ("up", "down", "flat", "new") else value
    if col.type == "bool":
        return ("Ja" if value else "Nej") if lang == "sv" else ("Yes" if value else "No")
    if col.type == "pct":
        base = row.get("target")
        if isinstance(base, int | float) and base < PERCENT_FROM:
            return None  # the counts stand in their own columns
        return round(value * 100, 1)
    if col.type == "num":
        return round(float(value), 2)
    return value


def status_badge(status: str, lang: str, title: str = "") -> Markup:
    tip = Markup(' title="{}"').format(title) if title else Markup("")
    return Markup('<span class="badge status-{}"{}>{}<span>{}</span></span>').format(
        status.replace("/", ""), tip, icon(status), label(lang, "status", status)
    )


def cell_html(col: Col, row: dict[str, Any], ctx: Ctx) -> Markup:
    value = row.get(col.key)
    lang = ctx.lang
    if value is None or value == "":
        return Markup("–")
    if col.type == "station":
        if not ctx.links or not ctx.who.can(Permission.read_all_entries):
            return escape(ctx.station_name(value))
        return Markup('<a href="/stations/{}">{}</a>').format(quote(value), ctx.station_name(value))
    if col.type == "actor":
        visible = ctx.links and (ctx.who.role is not Role.partner or ctx.who.actor == value)
        if not visible:
            return escape(ctx.actor_name(value))
        return Markup('<a href="/actors/{}">{}</a>').format(quote(value), ctx.actor_name(value))
    if col.type == "status":
        return status_badge(value, lang)
    if col.type == "measure":
        text = escape(label(lang, "measure", value))
        if row.get("overdue"):
            return Markup('{} <span class="badge status-overdue">{}<span>{}</span></span>').format(
                text, icon("overdue"), label(lang, "measure", "overdue")
            )
        return text
    if col.type.startswith("label:"):
        return escape(label(lang, col.type.split(":", 1)[1], value))
    if col.type == "bool":
        return escape(("Ja" if value else "Nej") if lang == "sv" else ("Yes" if value else "No"))
    if col.type == "int":
        return escape(number(value, lang))
    if col.type == "num":
        return escape(number(value, lang, 1))
    if col.type == "pct":
        base = row.get("target")
        if isinstance(base, int | float) and base < PERCENT_FROM:  # counts say more here
            return escape(f"{smart(row.get('delivered') or 0, lang)} / {smart(base, lang)}")
        return escape(percent(value, lang))
    if col.type == "trend":
        return trend_html(value, row, lang)
    return escape(str(value))


#: A change is given in per cent only when the incidents it is computed from are at least
#: this many; below it, "+600 %" says more about chance than about the station.
PERCENT_FROM = 10


def change_text(row: dict[str, Any], lang: str) -> str:
    """ " +25 %" when the base count is large enough, else the counts " (1 → 7)"."""
    relative, counts = row.get("relative"), row.get("counts")
    if counts is not None and min(counts) < PERCENT_FROM:
        before, now = counts
        return f" ({number(before, lang)} → {number(now, lang)})" if before != now else ""
    if relative:
        return f" {'+' if relative > 0 else ''}{percent(relative, lang)}"
    return ""


def trend_html(direction: str, row: dict[str, Any], lang: str) -> Markup:
    key = {"up": "trend_up", "down": "trend_down", "flat": "trend_flat", "new": "trend_new"}
    extra = change_text(row, lang)
    return Markup('<span class="trend trend-{}">{}<span>{}{}</span></span>').format(
        direction, icon(direction), t(lang, key[direction]), extra
    )


# -- the tables -------------------------------------------------------------------------------


def _require_promise(ctx: Ctx) -> None:
    if ctx.promise is None:
        raise PageError(404, t(ctx.lang, "no_promise"))


def _require_all(ctx: Ctx) -> None:
    """Tables beyond one actor's own page are for the steering roles."""
    if not ctx.who.can(Permission.read_all_entries):
        raise PageError(403, t(ctx.lang, "error_403_partner"))


def require_own(ctx: Ctx, actor: str) -> None:
    """A partner sees only its own actor's page."""
    if ctx.who.role is Role.partner and ctx.who.actor != actor:
        raise PageError(403, t(ctx.lang, "error_403_partner"))


def progress(ctx: Ctx) -> Progress:
    _require_promise(ctx)
    assert ctx.promise is not None
    code = ctx.promise.code
    return ctx.memo(
        "progress",
        lambda: followup.progress_between(ctx.views, ctx.who, code, ctx.start, ctx.end, ctx.as_of),
    )


PROGRESS_COLS = [
    Col("commitment", "Åtagande", "Commitment"),
    Col("actor", "Aktör", "Actor", "actor"),
    Col("kind", "Aktivitetstyp", "Activity kind", "label:kind"),
    Col("station", "Station", "Station", "station"),
    Col("metric", "Mått", "Measure", "label:metric"),
    Col("target", "Mål för intervallet", "Target for the range", "num"),
    Col("expected", "Förväntat hittills", "Due by now", "num"),
    Col("delivered", "Levererat", "Delivered", "num"),
    Col("share", "Andel av mål (%)", "Share of target (%)", "pct"),
    Col("units", "Veckor/månader uppfyllda", "Weeks/months met", "text"),
    Col("status", "Status", "Status", "status"),
]


def units_text(lang: str, row: StationProgress) -> str:
    """ "21 av 26 veckor" / "21 of 26 weeks" for per-week and per-month commitments."""
    if "weeks" in row:
        return t(lang, "weeks_met", met=row.get("weeks_met", 0), n=row["weeks"])
    if "months" in row:
        return t(lang, "months_met", met=row.get("months_met", 0), n=row["months"])
    return ""


def progress_rows(ctx: Ctx, actor: str | None = None) -> list[dict[str, Any]]:
    found = progress(ctx)
    commitments = [c for c in found["commitments"] if actor in (None, c["actor"])]
    rows = []
    for c in commitments:
        metric = c["target"]["metric"]
        for s in c["stations"]:
            if ctx.filters.station and s["station"] != ctx.filters.station:
                continue
            rows.append(
                {
                    "code": c["code"],
                    "commitment": c["description"] or c["code"],
                    "actor": c["actor"],
                    "kind": c["kind"],
                    "station": s["station"],
                    "metric": metric,
                    "per": c["target"]["per"],
                    "count": c["target"]["count"],
                    "target": s["target"],
                    "expected": s["expected_by_now"],
                    "delivered": s["delivered"],
                    "share": s["share_of_target"],
                    "units": units_text(ctx.lang, s),
                    "status": s["status"],
                }
            )
    return rows


def table_progress(ctx: Ctx) -> DataTable:
    _require_all(ctx)
    return DataTable(
        "progress",
        t(ctx.lang, "matrix_title"),
        PROGRESS_COLS,
        progress_rows(ctx),
        ctx.filters.query(to=ctx.end, **{"from": ctx.start}),
    )


def table_actor_progress(ctx: Ctx, actor: str) -> DataTable:
    require_own(ctx, actor)
    cols = [c for c in PROGRESS_COLS if c.key != "actor"]
    return DataTable(
        "actor-progress",
        t(ctx.lang, "report_commitments"),
        cols,
        progress_rows(ctx, actor),
        ctx.filters.query(actor=actor, to=ctx.end, **{"from": ctx.start}),
    )


def _weekly_rows(ctx: Ctx, station: str | None, actor: str | None) -> list[dict[str, Any]]:
    """(week, station, actor, kind) rows from the summaries, within the range."""

    def make() -> list[dict[str, Any]]:
        v, who = ctx.views, ctx.who
        start, end, as_of = ctx.start, ctx.end, ctx.as_of
        rows: list[dict[str, Any]] = []
        if station and not actor:
            found = v.station_summary(who, station, start=start, end=end, group="week", as_of=as_of)
            for r in found["rows"]:
                rows.append({**r, "station": station})
            return rows
        for a in [actor] if actor else sorted(ctx.actors):
            found = v.actor_summary(who, a, start=start, end=end, group="week", as_of=as_of)
            for r in found["rows"]:
                if station in (None, r["station"]):
                    rows.append({**r, "actor": a})
        return rows

    return ctx.memo(("weekly", station, actor), make)


def weekly_series_key(ctx: Ctx, actor: str | None) -> str:
    if actor:
        return "station" if ctx.filters.by == "actor" else "kind"
    return ctx.filters.by


def weekly_pivot(
    ctx: Ctx, station: str | None, actor: str | None
) -> tuple[list[followup.Week], list[str], dict[tuple[str, str], float]]:
    by = weekly_series_key(ctx, actor)
    values: dict[tuple[str, str], float] = defaultdict(float)
    for r in _weekly_rows(ctx, station, actor):
        values[(r["period"], r[by])] += r["activities"]
    keys = sorted({k for _, k in values})
    return followup.weeks_between(ctx.start, ctx.end), keys, dict(values)


def table_weekly(ctx: Ctx, station: str | None = None, actor: str | None = None) -> DataTable:
    if actor is None:
        _require_all(ctx)
    else:
        require_own(ctx, actor)
    weeks, keys, values = weekly_pivot(ctx, station, actor)
    by = weekly_series_key(ctx, actor)

    def header(key: str, lang: str) -> str:
        if by == "kind":
            return label(lang, "kind", key)
        return ctx.actor_name(key) if by == "actor" else ctx.station_name(key)

    cols = [Col("week", "Vecka", "Week"), Col("monday", "Veckan börjar", "Week starts", "date")]
    cols += [Col(f"s:{k}", header(k, "sv"), header(k, "en"), "int") for k in keys]
    cols.append(Col("total", "Totalt", "Total", "int"))
    rows = []
    for w in weeks:
        row: dict[str, Any] = {"week": w.key, "monday": w.monday}
        for k in keys:
            row[f"s:{k}"] = int(values.get((w.key, k), 0))
        row["total"] = sum(row[f"s:{k}"] for k in keys)
        rows.append(row)
    query = ctx.filters.query(station=station, actor=actor, **{"from": ctx.start, "to": ctx.end})
    return DataTable("weekly", t(ctx.lang, "weekly_title"), cols, rows, query)


def table_weekly_detail(
    ctx: Ctx, station: str | None = None, actor: str | None = None
) -> DataTable:
    base = table_weekly(ctx, station, actor)  # the same permission checks
    cols = [
        Col("period", "Vecka", "Week"),
        Col("station", "Station", "Station", "station"),
        Col("actor", "Aktör", "Actor", "actor"),
        Col("kind", "Aktivitetstyp", "Activity kind", "label:kind"),
        Col("activities", "Aktiviteter", "Activities", "int"),
        Col("hours", "Timmar", "Hours", "num"),
        Col("staff_hours", "Personaltimmar", "Staff hours", "num"),
    ]
    rows = _weekly_rows(ctx, station, actor)
    title = t(ctx.lang, "weekly_detail_title")
    return DataTable("weekly-detail", title, cols, rows, base.query)


def _observations(ctx: Ctx, station: str) -> dict[str, dict[str, int]]:
    return ctx.memo(
        ("situation", station),
        lambda: followup.weekly_observations(
            ctx.views, ctx.who, station=station, start=ctx.start, end=ctx.end, as_of=ctx.as_of
        ),
    )


def table_situation(ctx: Ctx, station: str) -> DataTable:
    _require_all(ctx)
    by_category = _observations(ctx, station)
    categories = sorted(by_category)
    cols = [Col("week", "Vecka", "Week"), Col("monday", "Veckan börjar", "Week starts", "date")]
    cols += [
        Col(f"c:{c}", label("sv", "category", c), label("en", "category", c), "int")
        for c in categories
    ]
    rows = []
    for w in followup.weeks_between(ctx.start, ctx.end):
        row: dict[str, Any] = {"week": w.key, "monday": w.monday}
        for c in categories:
            row[f"c:{c}"] = by_category[c].get(w.key, 0)
        rows.append(row)
    query = ctx.filters.query(station=station, **{"from": ctx.start, "to": ctx.end})
    return DataTable("situation", t(ctx.lang, "situation_title"), cols, rows, query)


EFFECT_WEEKS = 12
EFFECT_COLS = [
    Col("measure", "Åtgärd", "Measure"),
    Col("done", "Klar", "Done", "date"),
    Col("category", "Kategori", "Category", "label:category"),
    Col("before", "Snitt per vecka före", "Per week before", "num"),
    Col("after", "Snitt per vecka efter", "Per week after", "num"),
    Col("relative", "Förändring (%)", "Change (%)", "pct"),
    Col("weeks", "Veckor före / efter", "Weeks before / after"),
]


def table_effects(ctx: Ctx, station: str) -> DataTable:
    """Reports per week in the (up to) twelve weeks before and after each completed
    measure at the station: did the situation change when the measure was done?"""
    _require_all(ctx)
    by_category = _observations(ctx, station)
    weeks = followup.weeks_between(ctx.start, ctx.end)
    rows: list[dict[str, Any]] = []
    for m in _measures(ctx, station, "all"):
        if m["status"] != "done" or not ctx.start <= m["updated"] <= ctx.end:
            continue
        at = next(i for i, w in enumerate(weeks) if w.monday <= m["updated"] <= w.sunday)
        before = weeks[max(0, at - EFFECT_WEEKS) : at]
        after = weeks[at + 1 : at + 1 + EFFECT_WEEKS]
        if len(before) < 4 or len(after) < 4:
            continue
        found = []
        for category, counts in by_category.items():
            b = sum(counts.get(w.key, 0) for w in before) / len(before)
            a = sum(counts.get(w.key, 0) for w in after) / len(after)
            if a or b:
                found.append(
                    {
                        "measure": m["title"],
                        "done": m["updated"],
                        "category": category,
                        "before": round(b, 2),
                        "after": round(a, 2),
                        "relative": round((a - b) / b, 3) if b else None,
                        "weeks": f"{len(before)} / {len(after)}",
                    }
                )
        rows += sorted(found, key=lambda r: (r["relative"] is None, r["relative"] or 0))
    query = ctx.filters.query(station=station, **{"from": ctx.start, "to": ctx.end})
    return DataTable("effects", t(ctx.lang, "effects_title"), EFFECT_COLS, rows, query)


TREND_COLS = [
    Col("station", "Station", "Station", "station"),
    Col("category", "Kategori", "Category", "label:category"),
    Col("recent", "Snitt per vecka, senaste 4 veckorna", "Per week, last 4 weeks", "num"),
    Col("previous", "Snitt per vecka, 4 veckor innan", "Per week, 4 weeks before", "num"),
    Col("change", "Förändring per vecka", "Change per week", "num"),
    Col("direction", "Trend", "Trend", "trend"),
]


def trends(ctx: Ctx, station: str | None) -> list[followup.Trend]:
    return ctx.memo(
        ("trend", station),
        lambda: followup.situation_trend(
            ctx.views, ctx.who, station=station, end=ctx.end, as_of=ctx.as_of
        ),
    )


def table_trend(ctx: Ctx, station: str | None = None) -> DataTable:
    _require_all(ctx)
    rows = [
        {
            "station": tr.station,
            "category": tr.category,
            "recent": tr.recent,
            "previous": tr.previous,
            "change": tr.change,
            "direction": tr.direction,
            "relative": tr.relative,
            "counts": tr.totals,
        }
        for tr in trends(ctx, station)
    ]
    cols = TREND_COLS if station is None else TREND_COLS[1:]
    query = ctx.filters.query(station=station, to=ctx.end)
    weeks = followup.last_complete_weeks(ctx.end)
    caption = f"{weeks[0].monday} – {weeks[-1].sunday}"
    title = t(ctx.lang, "situation_summary_title")
    return DataTable("trend", title, cols, rows, query, caption)


MEASURE_COLS = [
    Col("station", "Station", "Station", "station"),
    Col("title", "Åtgärd", "Measure"),
    Col("owner", "Ansvarig", "Responsible", "actor"),
    Col("due", "Klart senast", "Due", "date"),
    Col("status", "Status", "Status", "measure"),
    Col("overdue", "Försenad", "Overdue", "bool"),
    Col("updated", "Senast ändrad", "Last changed", "date"),
    Col("problem", "Problem", "Problem"),
    Col("place", "Plats", "Place", "label:zone"),
    Col("rationale", "Motivering", "Rationale"),
]


def _measures(ctx: Ctx, station: str | None, which: str) -> list[dict[str, Any]]:
    code = ctx.promise.code if ctx.promise else None
    items = ctx.memo(
        ("measures", station),
        lambda: followup.measures_on(
            ctx.views, ctx.who, day=ctx.end, promise=code, station=station, as_of=ctx.as_of
        ),
    )
    rows = []
    for m in items:
        if which == "open" and m["status"] not in ("planned", "started"):
            continue
        if which == "overdue" and not m["overdue"]:
            continue
        rows.append(
            {
                **m,
                "due": date.fromisoformat(m["due"]),
                "updated": date.fromisoformat(m["updated_at"][:10]),
                "_class": "overdue" if m["overdue"] else "",
            }
        )
    return rows


def table_measures(ctx: Ctx, station: str | None = None, which: str = "all") -> DataTable:
    _require_all(ctx)
    names = {"all": "measures", "open": "open-measures", "overdue": "overdue"}
    titles = {"all": "plan_title", "open": "report_measures", "overdue": "overdue_title"}
    cols = MEASURE_COLS if station is None else MEASURE_COLS[1:]
    query = ctx.filters.query(station=station, to=ctx.end)
    rows = _measures(ctx, station, which)
    return DataTable(names[which], t(ctx.lang, titles[which]), cols, rows, query)


ACTIVITY_COLS = [
    Col("day", "Dag", "Day", "date"),
    Col("start", "Start", "Start"),
    Col("end", "Slut", "End"),
    Col("kind", "Aktivitetstyp", "Activity kind", "label:kind"),
    Col("actor", "Aktör", "Actor", "actor"),
    Col("zone", "Zon", "Zone", "label:zone"),
    Col("staff_count", "Personal", "Staff", "int"),
    Col("hours", "Timmar", "Hours", "num"),
    Col("state", "Status", "Status", "label:entry"),
    Col("note", "Anteckning", "Note"),
]


def _activity_row(item: dict[str, Any]) -> dict[str, Any]:
    state = "retracted" if item["status"] == "retracted" else "active"
    if state == "active" and item["version"] > 1:
        state = "corrected"
    return {
        "day": date.fromisoformat(item["day"]),
        "start": (item.get("started_at") or "")[11:16],
        "end": (item.get("ended_at") or "")[11:16] or None,
        "kind": item["kind"],
        "actor": item["actor"],
        "station": item["station"],
        "zone": item.get("zone"),
        "staff_count": item.get("staff_count"),
        "hours": item.get("hours"),
        "state": state,
        "note": item.get("note"),
        "_class": state,
    }


def table_activities(ctx: Ctx, station: str, *, limit: int | None = 20) -> DataTable:
    _require_all(ctx)
    end = min(ctx.end, ctx.today)
    rows: list[dict[str, Any]] = []
    page = 1
    size = limit or ENTRY_PAGE
    while True:
        found = ctx.views.entries(
            ctx.who,
            "activities",
            filters={"station": station},
            start=ctx.start,
            end=end,
            page=page,
            page_size=size,
        )
        rows.extend(_activity_row(i) for i in found["items"])
        if limit or len(found["items"]) < size or len(rows) >= MAX_EXPORT_ROWS:
            break
        page += 1
    query = ctx.filters.query(station=station, **{"from": ctx.start, "to": end})
    return DataTable("activities", t(ctx.lang, "latest_title"), ACTIVITY_COLS, rows, query)


PROJECTION_COLS = [
    Col("name", "Projektion", "Projection", "label:projection"),
    Col("generation", "Generation", "Generation", "int"),
    Col("state", "Tillstånd", "State", "label:state"),
    Col("position", "Position", "Position", "int"),
    Col("head", "Loggens längd", "Log length", "int"),
    Col("lag", "Eftersläpning", "Lag", "int"),
    Col("parked_positions", "Parkerade händelser (position)", "Parked events (position)"),
    Col("last_error", "Senaste fel", "Last error"),
    Col("updated_at", "Uppdaterad", "Updated"),
]


def require_audit(ctx: Ctx) -> None:
    if not ctx.who.can(Permission.audit):
        raise PageError(403, t(ctx.lang, "error_403_audit"))


def table_projections(ctx: Ctx) -> DataTable:
    require_audit(ctx)
    rows = [
        {
            **s,
            "updated_at": str(s["updated_at"])[:19].replace("T", " "),
            "parked_positions": ", ".join(map(str, s["parked"]))
            + (" …" if s["parked_count"] > len(s["parked"]) else ""),
        }
        for s in ctx.views.status(ctx.who)
    ]
    return DataTable("projections", t(ctx.lang, "projections_title"), PROJECTION_COLS, rows)


def _param(ctx: Ctx, params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise PageError(422, t(ctx.lang, "bad_param", field=name))
    return value


#: name → how to build it from the request's parameters (for /export/{name}.{fmt}).
EXPORTS: dict[str, Callable[[Ctx, dict[str, str]], DataTable]] = {
    "progress": lambda ctx, p: table_progress(ctx),
    "actor-progress": lambda ctx, p: table_actor_progress(ctx, _param(ctx, p, "actor")),
    "weekly": lambda ctx, p: table_weekly(ctx, p.get("station"), p.get("actor")),
    "weekly-detail": lambda ctx, p: table_weekly_detail(ctx, p.get("station"), p.get("actor")),
    "situation": lambda ctx, p: table_situation(ctx, _param(ctx, p, "station")),
    "trend": lambda ctx, p: table_trend(ctx, p.get("station")),
    "effects": lambda ctx, p: table_effects(ctx, _param(ctx, p, "station")),
    "measures": lambda ctx, p: table_measures(ctx, p.get("station")),
    "open-measures": lambda ctx, p: table_measures(ctx, p.get("station"), "open"),
    "overdue": lambda ctx, p: table_measures(ctx, p.get("station"), "overdue"),
    "activities": lambda ctx, p: table_activities(ctx, _param(ctx, p, "station"), limit=None),
    "projections": lambda ctx, p: table_projections(ctx),
}
