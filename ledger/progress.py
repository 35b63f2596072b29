"""How a commitment is judged: the target for a range, what is due by a day, and a status.

These are the steering group's rules, so they live with the domain, in one place
(``tests/unit/test_progress.py`` pins every threshold and edge):

* **Targets count whole periods.** A commitment of ``count`` per week has, for a range
  of days, a target of ``count × the whole ISO weeks (Monday–Sunday) inside the range``:
  a whole number, judged week by week. Per month likewise, with whole calendar months.
  A per-period target (``count`` during the promise, e.g. one public event per station)
  is ``count``, due on its ``due`` day (the end of the period unless the commitment
  names one).
* **Due by a day**: per week, ``count ×`` the whole weeks of the range that have ended by
  that day; per month likewise; per period, nothing before the due day and all of it
  from the day after.
* **Status**, while the range runs: ``met`` once delivered ≥ target; ``not_started``
  only while nothing is due yet and nothing delivered; ``on_track`` while delivered ≥
  90 % of what is due; otherwise ``behind`` (so a per-period commitment whose due day
  has passed undelivered is ``behind``). Once the range has ended, every commitment is
  ``met`` or ``missed``: there is no "on track" for work that can no longer be done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

ON_TRACK_TOLERANCE = 0.9


class Status(StrEnum):
    met = "met"
    on_track = "on_track"
    behind = "behind"
    not_started = "not_started"
    missed = "missed"


def whole_weeks(start: date, end: date) -> list[date]:
    """The Mondays of the ISO weeks that lie wholly inside ``[start, end]``."""
    monday = start + timedelta(days=(7 - start.weekday()) % 7)
    out = []
    while monday + timedelta(days=6) <= end:
        out.append(monday)
        monday += timedelta(weeks=1)
    return out


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def whole_months(start: date, end: date) -> list[date]:
    """The first days of the calendar months that lie wholly inside ``[start, end]``."""
    first = start if start.day == 1 else _next_month(start)
    out = []
    while _next_month(first) - timedelta(days=1) <= end:
        out.append(first)
        first = _next_month(first)
    return out


def period_units(per: str, start: date, end: date) -> list[date]:
    """The whole weeks or months of a range (their first days); one unit per period."""
    if per == "week":
        return whole_weeks(start, end)
    if per == "month":
        return whole_months(start, end)
    return [start]


def unit_end(per: str, first: date) -> date:
    if per == "week":
        return first + timedelta(days=6)
    if per == "month":
        return _next_month(first) - timedelta(days=1)
    raise ValueError(per)


def range_target(count: int, per: str, start: date, end: date) -> int:
    """The target for ``[start, end]``: ``count`` per whole week or month of it, or
    ``count`` for the period."""
    if per in ("week", "month"):
        return count * len(period_units(per, start, end))
    return count


def due_by(count: int, per: str, start: date, end: date, today: date, due: date | None) -> int:
    """How much of the range's target is due by the end of ``today``."""
    if per in ("week", "month"):
        ended = [u for u in period_units(per, start, end) if unit_end(per, u) <= today]
        return count * len(ended)
    return count if today > (due or end) else 0


@dataclass(frozen=True)
class Judgement:
    target: int
    due: int
    status: Status


def judge(delivered: float, target: int, due: int, *, ended: bool) -> Status:
    """A status from what was delivered, the target and what is due (see the module)."""
    if delivered >= target:
        return Status.met
    if ended:
        return Status.missed
    if due <= 0:
        return Status.not_started if delivered <= 0 else Status.on_track
    if delivered >= ON_TRACK_TOLERANCE * due:
        return Status.on_track
    return Status.behind


def assess(
    delivered: float,
    count: int,
    per: str,
    start: date,
    end: date,
    today: date,
    due: date | None = None,
) -> Judgement:
    """Target, due and status of one commitment at one station for the range
    ``[start, end]``, judged at the end of ``today``."""
    target = range_target(count, per, start, end)
    owed = due_by(count, per, start, end, today, due)
    return Judgement(target, owed, judge(delivered, target, owed, ended=today >= end))


def elapsed_share(start: date, end: date, today: date) -> float:
    """How much of ``[start, end]`` has passed by the end of ``today`` (0 to 1)."""
    if today < start:
        return 0.0
    if today >= end:
        return 1.0
    return ((today - start).days + 1) / ((end - start).days + 1)
