"""Where an instant falls: the promise's local day, ISO week and month.

Stations are in Sweden, so days are Europe/Stockholm days: a shift that starts at
00:30 local time on a Saturday belongs to Saturday, whatever its UTC offset says.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/Stockholm")


def local_day(instant: datetime) -> date:
    return instant.astimezone(LOCAL).date()


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month(day: date) -> str:
    return f"{day:%Y-%m}"


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def minutes_between(start: datetime, end: datetime | None) -> int:
    if end is None:
        return 0
    return max(0, round((end - start).total_seconds() / 60))


def whole_periods(
    start: date | None, end: date | None, group: str
) -> tuple[date | None, date | None]:
    """``[start, end]`` widened to whole ISO weeks (``group="week"``) or calendar months
    (``"month"``); an open end stays open."""
    if group == "week":
        first = week_start(start) if start else None
        last = week_start(end) + timedelta(days=6) if end else None
    elif group == "month":
        first = start.replace(day=1) if start else None
        last = None
        if end:
            following = (end.replace(day=1) + timedelta(days=32)).replace(day=1)
            last = following - timedelta(days=1)
    else:
        return start, end
    return first, last


def last_whole_week_end(day: date) -> date:
    """The Sunday that ends the last complete ISO week on or before ``day``."""
    return day if day.weekday() == 6 else week_start(day) - timedelta(days=1)
