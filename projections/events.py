"""The ledger's notification log, decoded for projections.

Projections read the stored JSON directly instead of rebuilding domain event
objects: they need a handful of fields, and skipping the object mapping is what
lets catch-up run at tens of thousands of events per second.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification

PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class LogEvent:
    position: int
    originator_id: UUID
    version: int
    aggregate: str  # "Activity", "Observation", "ActionPlan", …
    name: str  # "Recorded", "Corrected", "Retracted", …
    data: dict[str, Any]

    @property
    def recorded_at(self) -> str:
        stamp = self.data.get("timestamp")
        return stamp["_data_"] if isinstance(stamp, dict) else str(stamp)


def decode(notification: Notification) -> LogEvent:
    qualname = notification.topic.rsplit(":", 1)[-1]
    aggregate, _, name = qualname.rpartition(".")
    return LogEvent(
        position=notification.id,
        originator_id=notification.originator_id,  # type: ignore[arg-type]
        version=notification.originator_version,
        aggregate=aggregate,
        name=name,
        data=json.loads(notification.state),
    )


def read_pages(
    recorder: ApplicationRecorder,
    after: int,
    *,
    stop: int | None = None,
    page_size: int = PAGE_SIZE,
    topics: tuple[str, ...] = (),
) -> Iterator[list[LogEvent]]:
    """Pages of events after ``after`` (exclusive) up to ``stop`` (inclusive), in log order.

    Memory holds one page at a time, whatever the length of the log.
    """
    while True:
        batch = recorder.select_notifications(
            start=after, limit=page_size, stop=stop, topics=topics, inclusive_of_start=False
        )
        if not batch:
            return
        yield [decode(n) for n in batch]
        after = batch[-1].id
        if len(batch) < page_size:
            return
