"""Rules on timestamps: the years anything can be computed with, and what the clock allows.

Two windows. Structurally (``sane_instant``, ``sane_date``, checked while a command or a
query is parsed) a timestamp or a date lies in the years 1900–2999: beyond them, moving
an instant to UTC or a day by a few weeks overflows Python's datetime, and no record of
this work can lie there. Then (``check_activity_times``, ``check_observation_time``) an
entry's time lies between the ledger's earliest date (``TRYGG_EARLIEST_DATE``, default
2000-01-01) and now plus the allowed clock skew.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pydantic_core import PydanticCustomError

from ledger.errors import FieldError, InvalidInput
from ledger.taxonomy import MAX_DURATION_HOURS, ActivityKind

FIRST_YEAR = 1900
LAST_YEAR = 2999
OUT_OF_RANGE = f"must lie in the years {FIRST_YEAR}–{LAST_YEAR}"


def year_in_range(value: date | datetime) -> bool:
    return FIRST_YEAR <= value.year <= LAST_YEAR


def sane_instant(value: datetime) -> datetime:
    """A pydantic after-validator for partner timestamps (see the module docstring)."""
    if not year_in_range(value):
        raise PydanticCustomError("out_of_range", OUT_OF_RANGE)
    return value


def sane_date(value: date) -> date:
    """A pydantic after-validator for dates (see the module docstring)."""
    if not year_in_range(value):
        raise PydanticCustomError("out_of_range", OUT_OF_RANGE)
    return value


def earliest_instant(earliest: date) -> datetime:
    return datetime.combine(earliest, time.min, UTC)


def check_not_too_early(
    errors: list[FieldError], field: str, value: datetime | None, earliest: date
) -> None:
    if value is not None and value < earliest_instant(earliest):
        errors.append(
            FieldError(
                field,
                f"is before {earliest.isoformat()}, the earliest date this ledger accepts "
                "(TRYGG_EARLIEST_DATE); check the year",
            )
        )


def check_not_future(
    errors: list[FieldError], field: str, value: datetime | None, now: datetime, skew: timedelta
) -> None:
    if value is not None and value > now + skew:
        errors.append(
            FieldError(
                field,
                f"is in the future ({value.isoformat()} is after the server's time "
                f"{now.isoformat(timespec='seconds')} plus {int(skew.total_seconds())} s skew)",
            )
        )


def check_activity_times(
    kind: ActivityKind,
    started_at: datetime,
    ended_at: datetime | None,
    now: datetime,
    skew: timedelta,
    earliest: date = date(2000, 1, 1),
) -> None:
    errors: list[FieldError] = []
    check_not_too_early(errors, "started_at", started_at, earliest)
    check_not_future(errors, "started_at", started_at, now, skew)
    check_not_future(errors, "ended_at", ended_at, now, skew)
    if ended_at is not None:
        if ended_at <= started_at:
            errors.append(FieldError("ended_at", "must be after started_at"))
        limit = MAX_DURATION_HOURS[kind]
        if limit is not None and ended_at - started_at > timedelta(hours=limit):
            errors.append(
                FieldError(
                    "ended_at", f"a {kind.value} lasts at most {limit} hours; check the date"
                )
            )
    if errors:
        raise InvalidInput(errors)


def check_observation_time(
    observed_at: datetime, now: datetime, skew: timedelta, earliest: date = date(2000, 1, 1)
) -> None:
    errors: list[FieldError] = []
    check_not_too_early(errors, "observed_at", observed_at, earliest)
    check_not_future(errors, "observed_at", observed_at, now, skew)
    if errors:
        raise InvalidInput(errors)
