"""The PostgreSQL event store, with a faster insert of many events.

The library's recorder sends a batch as one array of a composite type, which psycopg
writes as text, escaping every byte of every event's state in Python (re.sub) and
PostgreSQL then parses back: on the bulk ingest path that cost more than the rest of
the ledger's work together (profile in ``benchmarks/NOTES.md``). This recorder sends four
plain arrays in binary instead. Everything else is the library's: the same table, the
same ``LOCK TABLE ... IN EXCLUSIVE MODE`` (commit order = position order, so readers
never pass a gap that fills in later), the same ``NOTIFY``, the same ``RETURNING
notification_id`` in insert order, the same errors. Selected by the library's
``APPLICATION_RECORDER_TOPIC`` setting (``ledger/storage.py``).

Like the SQLite recorder it writes an entry's texts, and erases them, in the events'
transaction (see ``ledger.eventstore``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from ledger.texts import TEXT_TABLE, TextRow


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._insert_arrays_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            id_type=Identifier(self.datastore.originator_id_type),
        )
        texts = Identifier(self.datastore.schema, TEXT_TABLE)
        self._insert_texts_statement = SQL(
            "INSERT INTO {} (ref, entry_id, salt, text) "
            "SELECT * FROM unnest(%s::text[], %s::text[], %b::bytea[], %s::text[])"
        ).format(texts)
        self._erase_texts_statement = SQL("DELETE FROM {} WHERE ref = ANY(%s)").format(texts)

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        # The library's hook for writing more in an insert's transaction.
        super()._insert_events(curs, stored_events, **kwargs)
        rows: list[TextRow] = kwargs.get("texts") or []
        if rows:
            curs.execute(
                self._insert_texts_statement,
                (
                    [r.ref for r in rows],
                    [r.entry_id for r in rows],
                    [r.salt for r in rows],
                    [r.text for r in rows],
                ),
            )
        erase: list[str] = kwargs.get("erase") or []
        if erase:
            curs.execute(self._erase_texts_statement, (erase,))

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self._insert_arrays_statement,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
            prepare=True,
        )
