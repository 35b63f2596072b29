"""The base of every aggregate here: events are stamped by the ledger's recording clock.

An event's ``timestamp`` is its ``recorded_at``: server time when it was written.
The one exception is the demo, which replays a year of history and stamps each
event with the moment it would have been reported (``recording_time``), so that
"as of" questions about the demo have meaningful answers. Production code never
sets it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from eventsourcing.domain import Aggregate

_recording_time: ContextVar[datetime | None] = ContextVar("recording_time", default=None)


def event_time() -> datetime:
    return _recording_time.get() or datetime.now(UTC)


@contextmanager
def recording_time(at: datetime) -> Iterator[None]:
    """Stamp events created inside this block with ``at`` (demo data only)."""
    if at.tzinfo is None:
        raise ValueError("recording_time needs an aware datetime")
    token = _recording_time.set(at.astimezone(UTC))
    try:
        yield
    finally:
        _recording_time.reset(token)


class LedgerAggregate(Aggregate):
    class Event(Aggregate.Event):
        @staticmethod
        def create_timestamp() -> datetime:
            return event_time()

    class Created(Event, Aggregate.Created):
        pass
