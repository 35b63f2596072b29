"""The ledger's event-sourced application: where aggregates are saved and read.

The commands live beside it, composed on top (``RegistryCommands``, ``EntryCommands``):
every command is one method that checks the caller, validates, and ends in one
``save`` (one transaction). Nothing here knows HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from ledger.eventstore import LedgerRecorder, ledger_recorder
from ledger.settings import Settings
from ledger.storage import Database
from ledger.texts import TextRow, TextStore


def utc_now() -> datetime:
    return datetime.now(UTC)


class Ledger(Application[Any]):
    # The PostgreSQL event table is named after the application: "ledger_events".
    name = "Ledger"

    def __init__(
        self,
        settings: Settings,
        *,
        texts: TextStore,
        clock: Callable[[], datetime] = utc_now,
        database: Database | None = None,
    ) -> None:
        self.settings = settings
        self.texts = texts
        self.database = database or Database.from_settings(settings)
        self.clock = clock
        self.clock_skew_seconds = settings.clock_skew_seconds
        self.max_batch_items = settings.max_batch_items
        self._listeners: list[Callable[[], None]] = []
        super().__init__(env=self.database.eventsourcing_env())

    def on_saved(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every save (e.g. to wake an in-process projection runner)."""
        self._listeners.append(listener)

    def _notify(self, recordings: list[Any]) -> None:
        super()._notify(recordings)
        for listener in self._listeners:
            listener()

    def put_new(self, events: Sequence[StoredEvent], texts: list[TextRow]) -> list[int]:
        """Store already-mapped first events and their texts in one transaction, tell the
        listeners, and return the events' positions in order.

        What ``save`` does for new aggregates, minus collecting their pending events and
        mapping each (``ledger.first_events`` builds the stored events directly). Raises
        the library's ``IntegrityError`` when any id already has a first event."""
        positions = self.recorder.insert_events(list(events), texts=texts)
        if positions is None or len(positions) != len(events):  # pragma: no cover - the
            # ledger's recorders return every position (tests/integration/test_eventstore.py)
            raise RuntimeError("the event store did not return the events' positions")
        self._notify([])
        return list(positions)

    @property
    def store(self) -> LedgerRecorder:
        """The event store, with what the ledger asks of it beyond the library's API."""
        return ledger_recorder(self.recorder)

    @property
    def events_table(self) -> str:
        return self.store.events_table

    def last_position(self) -> int:
        """The position of the newest event in the log (0 when empty)."""
        return self.store.head()
