"""A new entry's first event, built directly as the event store keeps it.

Recording a new entry is append-only: nothing about the aggregate's state decides it.
So rather than construct the aggregate (or even its ``Recorded`` event object) and let the
library's mapper copy the event's attributes into a dict and encode them, the write path
builds that dict itself, in the same order, and encodes it with the application's own
transcoder (then its compressor and cipher, when configured), as the mapper would. The
stored bytes are the same (``tests/integration/test_entries.py`` pins them against the
aggregate's own event); on the bulk path the objects skipped cost more than the insert.

The receipts are made from the stored event and its position, without the library's
``Recording`` and ``Notification`` objects.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from ledger.domain.base import event_time
from ledger.domain.entries import Entry
from ledger.receipts import Receipt, leaf_hash_for
from ledger.texts import TextRow

#: The attributes every event has that the stored state leaves out (the library keeps
#: them in their own columns).
_COLUMNS = ("originator_id", "originator_version")


@dataclass(frozen=True)
class FirstEvent:
    """A new entry's ``Recorded`` event as it will be stored, and its texts."""

    entry_id: UUID
    stored: StoredEvent
    recorded_at: datetime
    texts: list[TextRow]

    def receipt(self, position: int) -> Receipt:
        """The receipt of this event stored at ``position``."""
        return Receipt(
            id=self.entry_id,
            position=position,
            version=self.stored.originator_version,
            recorded_at=self.recorded_at.isoformat(),
            leaf_hash=leaf_hash_for(self.stored, position),
        )


class FirstEventWriter:
    """Builds ``FirstEvent``s of one aggregate class with one application's mapper."""

    def __init__(self, aggregate: type[Entry], mapper: Mapper[UUID]) -> None:
        recorded = aggregate.Recorded  # type: ignore[attr-defined]  # made by @event("Recorded")
        self.topic = get_topic(recorded)
        self.aggregate_topic = get_topic(aggregate)
        self.version = aggregate.INITIAL_VERSION
        #: The event's own fields, in the order ``vars()`` of an instance lists them.
        self.fields = tuple(
            f.name
            for f in dataclasses.fields(recorded)
            if f.name not in (*_COLUMNS, "timestamp", "originator_topic")
        )
        self.class_version: int = getattr(recorded, "class_version", 1)
        self.encode = mapper.transcoder.encode
        self.compressor = mapper.compressor
        self.cipher = mapper.cipher

    def build(self, entry_id: UUID, values: dict[str, Any], texts: list[TextRow]) -> FirstEvent:
        """``values`` holds every field of the event (``actor``, ``content_hash`` and the
        entry's sealed fields); a missing or unexpected one is a ``TypeError``, as the
        event's constructor would raise."""
        if values.keys() != set(self.fields):
            missing = sorted(set(self.fields) - values.keys())
            unexpected = sorted(values.keys() - set(self.fields))
            raise TypeError(f"{self.topic}: missing {missing}, unexpected {unexpected}")
        at = event_time()
        state: dict[str, Any] = {"timestamp": at, "originator_topic": self.aggregate_topic}
        for name in self.fields:
            state[name] = values[name]
        if self.class_version > 1:
            state["class_version"] = self.class_version
        data = self.encode(state)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return FirstEvent(
            entry_id, StoredEvent(entry_id, self.version, self.topic, data), at, texts
        )
