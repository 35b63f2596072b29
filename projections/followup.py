"""Follow-up reads on top of ``Views``: a promise's status on a chosen day, measures
overdue on a day, deliveries in a date range, the lägesbild's trend, and the weeks of a range.

The dashboard and the follow-up report use them. Each is built on the views and queries,
so the rules stay where they are (``ledger.progress`` judges a commitment,
``projections.queries`` counts); nothing here reads the event log.

* ``progress_between`` — ``Views.promise_progress`` for the chosen range;
* ``measures_on`` — ``Views.measures`` with overdue judged on a given day;
* ``situation_trend`` — the last four complete weeks against the four before, from
  ``Views.situation``; ``weekly_observations`` — one station's counts per category and week.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.access import Principal
from projections.asof import AsOf
from projections.results import ListedMeasure, Progress
from projections.timebox import iso_week, week_start
from projections.views import Views

#: A change smaller than this (incidents per week, or share) reads as "unchanged".
FLAT_PER_WEEK = 0.25
FLAT_SHARE = 0.1


@dataclass(frozen=True)
class Week:
    key: str  # ISO week, "2021-W35"
    monday: date

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def number(self) -> int:
        return int(self.key.rsplit("W", 1)[1])


def weeks_between(start: date, end: date) -> list[Week]:
    out = []
    monday = week_start(start)
    while monday <= end:
        out.append(Week(iso_week(monday), monday))
        monday += timedelta(weeks=1)
    return out


def progress_between(
    views: Views, who: Principal, promise: str, start: date, end: date, as_of: AsOf = None
) -> Progress:
    """Promised vs delivered for every commitment and station in ``[start, end]``."""
    return views.promise_progress(who, promise, start=start, end=end, as_of=as_of)


def measures_on(
    views: Views,
    who: Principal,
    *,
    day: date,
    promise: str | None = None,
    station: str | None = None,
    as_of: AsOf = None,
) -> list[ListedMeasure]:
    """Every measure, with ``overdue`` judged on ``day`` (or the "as of" day if earlier)."""
    found = views.measures(who, station=station, promise=promise, as_of=as_of, on=day)
    return list(found["items"])


@dataclass(frozen=True)
class Trend:
    station: str
    category: str
    recent: float  # incidents per week, last four complete weeks
    previous: float  # incidents per week, the four weeks before
    weeks: tuple[Week, ...]

    @property
    def change(self) -> float:
        return round(self.recent - self.previous, 2)

    @property
    def direction(self) -> str:
        if self.previous == 0 and self.recent > 0:
            return "new"
        if abs(self.change) < FLAT_PER_WEEK or abs(self.change) < FLAT_SHARE * self.previous:
            return "flat"
        return "up" if self.change > 0 else "down"

    @property
    def relative(self) -> float | None:
        return self.change / self.previous if self.previous else None

    @property
    def totals(self) -> tuple[int, int]:
        """Incidents behind the averages: (the four weeks before, the last four)."""
        n = len(self.weeks) or 4
        return round(self.previous * n), round(self.recent * n)


def last_complete_weeks(end: date, n: int = 4) -> list[Week]:
    last_monday = week_start(end) if end.weekday() == 6 else week_start(end) - timedelta(weeks=1)
    return [
        Week(iso_week(last_monday - timedelta(weeks=k)), last_monday - timedelta(weeks=k))
        for k in reversed(range(n))
    ]


def situation_trend(
    views: Views, who: Principal, *, station: str | None, end: date, as_of: AsOf = None
) -> list[Trend]:
    """Per station and category: the last four complete weeks up to ``end`` against the
    four weeks before them (the view's ``previous_4_weeks_avg`` of the first week)."""
    weeks = last_complete_weeks(end)
    found = views.situation(
        who, station=station, start=weeks[0].monday, end=weeks[-1].sunday, as_of=as_of
    )
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    previous: dict[tuple[str, str], float] = {}
    for row in found["rows"]:
        key = (row["station"], row["category"])
        counts[key][row["week"]] = row["count"]
        if row["week"] == weeks[0].key:
            previous[key] = row["previous_4_weeks_avg"]
    return [
        Trend(
            station=st,
            category=category,
            recent=round(sum(by_week.values()) / len(weeks), 2),
            previous=previous.get((st, category), 0.0),
            weeks=tuple(weeks),
        )
        for (st, category), by_week in sorted(counts.items())
    ]


def weekly_observations(
    views: Views, who: Principal, *, station: str, start: date, end: date, as_of: AsOf = None
) -> dict[str, dict[str, int]]:
    """category → ISO week → reported count, at one station."""
    found = views.situation(who, station=station, start=start, end=end, as_of=as_of)
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for row in found["rows"]:
        if row["count"]:
            out[row["category"]][row["week"]] = row["count"]
    return dict(out)
