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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier


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
