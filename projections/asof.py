""" "As of": which point in the log a reader asks about.

The views answer "as of" a position from the history each projection keeps beside its
live tables (``projections.history``), with the same queries as the live read. A point in
time is turned into the position of the last event recorded at or before it (binary
search over the log: O(log n) reads).
"""

from __future__ import annotations

from datetime import datetime

from eventsourcing.persistence import ApplicationRecorder

from ledger.errors import InvalidInput
from ledger.rules import FIRST_YEAR, LAST_YEAR, year_in_range
from projections.events import decode

AsOf = int | datetime | None
MAX_POSITION = 2**62


def parse_as_of(value: str | None) -> AsOf:
    """``as_of`` as a reader writes it: a log position (ASCII digits) or an ISO 8601
    timestamp with a UTC offset, in the years the ledger can compute with."""
    if value is None or value == "":
        return None
    if value.isascii() and value.isdigit():
        position = int(value)
        if position >= MAX_POSITION:
            raise InvalidInput.one("as_of", "a position must be below 2**62")
        return position
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput.one(
            "as_of", "expected an ISO 8601 timestamp or a log position"
        ) from None
    if parsed.tzinfo is None:
        raise InvalidInput.one(
            "as_of", "a timestamp needs a UTC offset, e.g. 2022-03-01T12:00:00+01:00"
        )
    if not year_in_range(parsed):
        raise InvalidInput.one("as_of", f"must lie in the years {FIRST_YEAR}–{LAST_YEAR}")
    return parsed


def position_at(recorder: ApplicationRecorder, instant: datetime) -> int:
    """The position of the last event recorded at or before ``instant`` (0 if none).

    Relies on recording times growing with positions, which holds because every
    event is stamped by the server as it is written, in log order.
    """
    lo, hi = 0, recorder.max_notification_id() or 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        found = recorder.select_notifications(start=mid, limit=1)
        if not found:
            hi = mid - 1
            continue
        event = decode(found[0])
        if datetime.fromisoformat(event.recorded_at) <= instant:
            lo = found[0].id
        else:
            hi = mid - 1
    return lo
