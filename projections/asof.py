""" "As of": what the views said at a past point in the log.

An "as of" answer replays the log from the start up to a position into a private
in-memory database, with the same projection code as the live tables, and runs
the same queries on it. A point in time is turned into the position of the last
event recorded at or before it (binary search over the log: O(log n) reads).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from ledger.errors import InvalidInput, Unavailable
from ledger.rules import FIRST_YEAR, LAST_YEAR, year_in_range
from projections.events import decode
from projections.rebuild import REBUILD_PAGE_SIZE
from projections.runner import ProjectionRunner

AsOf = int | datetime | None
MAX_POSITION = 2**62
BUSY_RETRY_SECONDS = 5


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


class AsOfReplays:
    """Replayed views, keyed by log position: a few kept, a few built at once.

    Building a replay reads the log from the start, so at most ``max_building`` are
    built at a time in a process; a request beyond that is told to come back
    (``Unavailable``, 503 with Retry-After) rather than queueing behind the others and
    stalling every request. Requests for a point being built wait for that build. A
    replay evicted from the cache is never closed under a reader: it is dropped, and
    closed once nobody holds it."""

    def __init__(self, recorder: ApplicationRecorder, keep: int = 3, max_building: int = 2) -> None:
        self.recorder = recorder
        self.keep = keep
        self._cache: OrderedDict[int, ProjectionRunner] = OrderedDict()
        self._building: dict[int, threading.Event] = {}
        self._slots = threading.BoundedSemaphore(max_building)
        self._lock = threading.Lock()

    def at(self, position: int) -> ProjectionRunner:
        while True:
            with self._lock:
                runner = self._cache.get(position)
                if runner is not None:
                    self._cache.move_to_end(position)
                    return runner
                pending = self._building.get(position)
                if pending is None:
                    if not self._slots.acquire(blocking=False):
                        raise Unavailable(
                            "too many as-of reads are being prepared right now; retry shortly",
                            retry_after=BUSY_RETRY_SECONDS,
                        )
                    done = self._building[position] = threading.Event()
                    break
            pending.wait()  # someone else builds this point: wait for it, then look again
        try:
            runner = self._build(position)
            with self._lock:
                self._cache[position] = runner
                while len(self._cache) > self.keep:
                    self._cache.popitem(last=False)
            return runner
        finally:
            with self._lock:
                del self._building[position]
            self._slots.release()
            done.set()

    def _build(self, position: int) -> ProjectionRunner:
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        runner = ProjectionRunner(self.recorder, engine)
        runner.exclusive = threading.Lock()
        for name in runner.projections:
            runner.catch_up(name, stop=position, page_size=REBUILD_PAGE_SIZE)
        return runner
