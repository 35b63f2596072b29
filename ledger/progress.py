"""How a commitment is judged: target over the period, expected by now, and a status.

These are the steering group's rules, so they live with the domain:

* a commitment of ``count`` per week (or month) at a station has a period target of
  ``count × weeks`` (or months) in the promise period; ``per period`` targets are as given;
* ``expected by now`` is the target times the share of the period that has elapsed;
* status: ``met`` once delivered ≥ target; ``not_started`` while nothing is delivered;
  ``on_track`` while delivered ≥ 90 % of expected by now; otherwise ``behind``.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

ON_TRACK_TOLERANCE = 0.9
DAYS_PER_MONTH = 365.25 / 12


class Status(StrEnum):
    met = "met"
    on_track = "on_track"
    behind = "behind"
    not_started = "not_started"


def period_days(start: date, end: date) -> int:
    return (end - start).days + 1


def period_target(count: int, per: str, start: date, end: date) -> float:
    days = period_days(start, end)
    if per == "week":
        return count * days / 7
    if per == "month":
        return count * days / DAYS_PER_MONTH
    return float(count)


def elapsed_share(start: date, end: date, today: date) -> float:
    if today < start:
        return 0.0
    if today >= end:
        return 1.0
    return ((today - start).days + 1) / period_days(start, end)


def classify(delivered: float, target: float, share: float) -> Status:
    if delivered >= target:
        return Status.met
    if delivered <= 0:
        return Status.not_started
    if delivered >= ON_TRACK_TOLERANCE * target * share:
        return Status.on_track
    return Status.behind
