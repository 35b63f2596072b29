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
