"""The event store: the ``eventsourcing`` library's SQLite and PostgreSQL recorders, each
extended the same ways (selected by the library's own ``APPLICATION_RECORDER_TOPIC``
setting, see ``ledger.storage``). Every use of the library's internals lives in this
package; the rest of the ledger talks to a ``LedgerRecorder``:

* an entry's free text (``ledger.texts``) is written, and erased, in the same
  transaction as the events that refer to it: ``put(events, texts=[TextRow…],
  erase=[ref…])``, so an event never refers to a text that was not stored, and an
  erasure record is never without the erasure;
* the log is read as plain rows (``log_page``), a fraction of the cost of the library's
  ``Notification`` objects when a projection is rebuilt or the log verified;
* ``event_positions`` and ``first_events`` answer what the write side asks of the log
  that the library's API does not (where one aggregate's events sit; first events of
  many ids in one query);
* (PostgreSQL) a batch of events goes in as four binary arrays.

``tests/integration/test_eventstore.py`` is the contract both recorders pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent

#: One row of the notification log: (position, originator_id as the canonical hyphenated
#: lower-case UUID string, version, topic, stored state bytes).
LogRow = tuple[int, str, int, str, bytes]


@runtime_checkable
class LedgerRecorder(Protocol):
    """What the ledger needs of its event store beyond the library's recorder API."""

    @property
    def events_table(self) -> str: ...

    def head(self) -> int:
        """The newest position in the log (0 when empty)."""
        ...

    def log_page(
        self, after: int, limit: int, *, stop: int | None = None, topics: tuple[str, ...] = ()
    ) -> list[LogRow]:
        """Up to ``limit`` events after position ``after`` (exclusive) and up to ``stop``
        (inclusive), optionally of some topics only, in log order."""
        ...

    def event_positions(self, originator_id: UUID) -> dict[int, int]:
        """Each version of one aggregate → its position in the log."""
        ...

    def refresh_statistics(self) -> None:
        """Have the database's planner look at the log again (before reading all of it)."""
        ...

    def first_events(self, originator_ids: list[UUID]) -> dict[UUID, tuple[int, StoredEvent]]:
        """The first stored event (version 1) and its position for each id that has one."""
        ...


def ledger_recorder(recorder: ApplicationRecorder) -> LedgerRecorder:
    """The recorder as a ``LedgerRecorder`` (it is one, when ``ledger.storage`` set it up)."""
    if not isinstance(recorder, LedgerRecorder):
        raise TypeError(f"{type(recorder).__name__} is not one of the ledger's recorders")
    return recorder


def log_pages(
    recorder: LedgerRecorder,
    after: int,
    page_size: int,
    *,
    stop: int | None = None,
    topics: tuple[str, ...] = (),
) -> Iterator[list[LogRow]]:
    """Successive ``log_page`` pages after ``after`` up to ``stop``: memory holds one page
    at a time, whatever the length of the log."""
    while True:
        batch = recorder.log_page(after, page_size, stop=stop, topics=topics)
        if not batch:
            return
        yield batch
        if len(batch) < page_size:
            return
        after = batch[-1][0]
