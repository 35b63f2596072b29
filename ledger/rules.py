"""Rules on entry timestamps that need the clock (structure is checked in ``ledger.inputs``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger.errors import FieldError, InvalidInput
from ledger.taxonomy import MAX_DURATION_HOURS, ActivityKind


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
) -> None:
    errors: list[FieldError] = []
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


def check_observation_time(observed_at: datetime, now: datetime, skew: timedelta) -> None:
    errors: list[FieldError] = []
    check_not_future(errors, "observed_at", observed_at, now, skew)
    if errors:
        raise InvalidInput(errors)
